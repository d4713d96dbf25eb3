/**
 * Regression verdicts between two sets of YCSB results (a baseline and a current run):
 * intended-start latency per (workload, engine, level, operation, percentile), judged
 * against a threshold and, when both runs were repeated (`--repeat N`), against the noise
 * the repeats show (a percentile too few operations lie beyond is shown, not judged); plus per level the successful operations (achieved throughput and
 * sustained status) and the shares of operations that failed and were throttled, so a run
 * whose operations fail fast cannot pass for a faster one.
 */
import { parseArgs } from 'node:util';
import { readResults } from './result-files.js';
import {
  OPERATION_NAMES,
  outcomeRates,
  type LevelResult,
  type OperationName,
  type OperationResult,
  type RunResult,
} from './results.js';
import { formatChange, formatFraction, formatInt, formatLatency, workloadLabel } from './report.js';

export type PercentileName = 'p50' | 'p95' | 'p99' | 'p999';
export const COMPARED_PERCENTILES: readonly PercentileName[] = ['p50', 'p95', 'p99', 'p999'];
export type LevelMetric = 'throughput' | 'errorRate' | 'throttleRate';

/** A level whose share of failed (or of throttled) operations rose by more than this, in
 *  absolute terms (0.001 = 0.1 percentage points), regressed: from 0 failures a relative
 *  threshold would flag the first one, and at a few percent it would let many more by. */
export const ERROR_RATE_TOLERANCE = 0.001;

export interface ComparisonRow {
  workload: string;
  engine: string;
  fraction: number;
  baselineTarget: number;
  currentTarget: number;
  /** An operation's latency, or 'OVERALL' for the level's throughput and failures. */
  operation: OperationName | 'OVERALL';
  /** A latency percentile (µs), or for the 'OVERALL' rows: 'throughput' (successful ops/s),
   *  'errorRate' (share of operations not successful, throttles and timeouts included) or
   *  'throttleRate' (share throttled). */
  percentile: PercentileName | LevelMetric;
  baseline: number;
  current: number;
  /** (current - baseline) / baseline; for the rates, current - baseline. */
  change: number;
  /** Relative noise judged from repeats, 0 when none. */
  noise: number;
  verdict: 'ok' | 'better' | 'worse' | 'regression';
  /** Why the verdict is what it is, in a few words (e.g. "within noise 12.0%"). */
  reason: string;
}

export interface Comparison {
  rows: ComparisonRow[];
  regressions: ComparisonRow[];
  unmatched: string[];
  notes: string[];
}

/** "10%" → 0.1, "0.1" → 0.1. Throws on anything else (a bare number above 1 is taken as a mistake). */
export function parseThreshold(text: string): number {
  const t = text.trim();
  const pct = /^(\d+(?:\.\d+)?|\.\d+)\s*%$/.exec(t);
  if (pct) return Number(pct[1]) / 100;
  if (/^(\d+(?:\.\d+)?|\.\d+)$/.test(t)) {
    const x = Number(t);
    if (x > 1) throw new Error(`threshold '${text}' is ambiguous: write ${t}% or ${x / 100}`);
    return x;
  }
  throw new Error(`threshold '${text}' is not a percentage ('10%') or a fraction ('0.1')`);
}

const key = (r: RunResult) => `${r.workload}\u0000${r.engine}`;
const sameFraction = (a: number, b: number) => Math.abs(a - b) < 1e-9;
const where = (r: RunResult) => `workload ${workloadLabel(r.workload)}, engine ${r.engine}`;

/** A percentile is judged only where at least this many operations lie beyond it, in each
 *  run and in each of its repeats: an estimate from fewer is one or two stalls, and moves by
 *  itself between runs of the same code (the p999 of 600 operations is their maximum). Ten
 *  beyond it means p99 needs 1,000 operations and p999 10,000. */
export const MIN_OPERATIONS_BEYOND = 10;
const QUANTILES: Record<PercentileName, number> = { p50: 0.5, p95: 0.95, p99: 0.99, p999: 0.999 };

/** How many operations lie beyond `percentile` in the run's smallest sample (a repeat's, or
 *  the whole run's without repeats). */
export function operationsBeyond(op: OperationResult, percentile: PercentileName): number {
  const counts = op.repeats && op.repeats.length >= 2 ? op.repeats.map((r) => r.intended.count) : [op.intended.count];
  return Math.floor(Math.min(...counts) * (1 - QUANTILES[percentile]) + 1e-9);
}

/** Relative spread (max - min) / median of a percentile across repeats; undefined without repeats. */
export function repeatSpread(op: OperationResult, percentile: PercentileName): number | undefined {
  const values = repeatValues(op, percentile);
  if (values === undefined) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  if (median <= 0) return 0;
  return (sorted[sorted.length - 1] - sorted[0]) / median;
}

function repeatValues(op: OperationResult, percentile: PercentileName): number[] | undefined {
  if (!op.repeats || op.repeats.length < 2) return undefined;
  return op.repeats.map((r) => r.intended[percentile]);
}

function relativeChange(baseline: number, current: number): number {
  if (baseline === 0) return current === 0 ? 0 : Number.POSITIVE_INFINITY;
  return (current - baseline) / baseline;
}

function latencyRow(
  result: RunResult,
  base: LevelResult,
  cur: LevelResult,
  operation: OperationName,
  percentile: PercentileName,
  threshold: number,
): ComparisonRow {
  const b = base.operations[operation]!;
  const c = cur.operations[operation]!;
  const baseline = b.intended[percentile];
  const current = c.intended[percentile];
  const change = relativeChange(baseline, current);
  const baseRepeats = repeatValues(b, percentile);
  const curRepeats = repeatValues(c, percentile);
  const judged = baseRepeats !== undefined && curRepeats !== undefined;
  const noise = judged ? Math.max(repeatSpread(b, percentile)!, repeatSpread(c, percentile)!) : 0;
  const beyond = Math.min(operationsBeyond(b, percentile), operationsBeyond(c, percentile));
  let verdict: ComparisonRow['verdict'];
  let reason: string;
  if (beyond < MIN_OPERATIONS_BEYOND) {
    verdict = change > 0 ? 'worse' : 'ok';
    reason = `too few operations beyond ${percentile} to judge (${beyond} < ${MIN_OPERATIONS_BEYOND})`;
  } else if (change > threshold) {
    const beyondNoise = change > noise;
    const separated = !judged || Math.min(...curRepeats) > Math.max(...baseRepeats);
    if (beyondNoise && separated) {
      verdict = 'regression';
      reason = judged ? 'beyond threshold and noise, repeats do not overlap' : 'beyond threshold';
    } else {
      verdict = 'worse';
      reason = !beyondNoise ? `within noise ${(noise * 100).toFixed(1)}%` : 'repeats overlap';
    }
  } else if (change < -threshold && -change > noise) {
    verdict = 'better';
    reason = 'improved beyond threshold';
  } else if (change > 0) {
    verdict = 'worse';
    reason = 'within threshold';
  } else {
    verdict = 'ok';
    reason = change < 0 ? 'improved within threshold or noise' : 'unchanged';
  }
  return { ...levelOf(result, base, cur), operation, percentile, baseline, current, change, noise, verdict, reason };
}

/** What identifies a row: workload, engine, level and its targets on both sides. */
function levelOf(result: RunResult, base: LevelResult, cur: LevelResult): Pick<ComparisonRow, 'workload' | 'engine' | 'fraction' | 'baselineTarget' | 'currentTarget'> {
  return { workload: result.workload, engine: result.engine, fraction: base.fraction, baselineTarget: base.targetOpsPerSec, currentTarget: cur.targetOpsPerSec };
}

/** Successful operations per second as a share of the level's target. */
function achievedShare(level: LevelResult): number {
  return level.targetOpsPerSec > 0 ? level.achievedOpsPerSec / level.targetOpsPerSec : 0;
}

const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;

function throughputRow(result: RunResult, base: LevelResult, cur: LevelResult, threshold: number): ComparisonRow {
  const change = relativeChange(base.achievedOpsPerSec, cur.achievedOpsPerSec);
  // Measured against each side's target, so a lower top rate alone (chosen by the run's
  // probes) is not taken for operations that failed to succeed.
  const baseShare = achievedShare(base);
  const curShare = achievedShare(cur);
  let verdict: ComparisonRow['verdict'];
  let reason: string;
  if (base.sustained && !cur.sustained) {
    verdict = 'regression';
    reason = 'sustained in baseline, NOT SUSTAINED now';
  } else if (curShare < baseShare * (1 - threshold)) {
    verdict = 'regression';
    reason = `fewer successful operations: ${percent(curShare)} of the target, was ${percent(baseShare)}`;
  } else if (!base.sustained && cur.sustained) {
    verdict = 'better';
    reason = 'sustained now, not in baseline';
  } else if (!cur.sustained) {
    verdict = change < -threshold ? 'worse' : 'ok';
    reason = 'not sustained in either';
  } else if (change < -threshold) {
    verdict = 'worse';
    reason = 'lower target rate';
  } else if (change > threshold) {
    verdict = 'better';
    reason = 'higher target rate';
  } else {
    verdict = 'ok';
    reason = 'sustained in both';
  }
  return {
    ...levelOf(result, base, cur),
    operation: 'OVERALL',
    percentile: 'throughput',
    baseline: base.achievedOpsPerSec,
    current: cur.achievedOpsPerSec,
    change,
    noise: 0,
    verdict,
    reason,
  };
}

/** The share of a level's operations that failed (or were throttled): a regression when it
 *  rose by more than ERROR_RATE_TOLERANCE. Older files without the stored rates give them
 *  from their operations' outcomes. */
function failureRow(result: RunResult, base: LevelResult, cur: LevelResult, metric: 'errorRate' | 'throttleRate'): ComparisonRow {
  const baseline = base[metric] ?? outcomeRates(base)[metric];
  const current = cur[metric] ?? outcomeRates(cur)[metric];
  const change = current - baseline;
  const what = metric === 'errorRate' ? 'failed' : 'throttled';
  let verdict: ComparisonRow['verdict'];
  let reason: string;
  if (change > ERROR_RATE_TOLERANCE) {
    verdict = 'regression';
    reason = `more operations ${what}, beyond ${formatPoints(ERROR_RATE_TOLERANCE)}`;
  } else if (change < -ERROR_RATE_TOLERANCE) {
    verdict = 'better';
    reason = `fewer operations ${what}`;
  } else if (change > 0) {
    verdict = 'worse';
    reason = `within ${formatPoints(ERROR_RATE_TOLERANCE)}`;
  } else {
    verdict = 'ok';
    reason = change < 0 ? `fewer ${what}, within ${formatPoints(ERROR_RATE_TOLERANCE)}` : 'unchanged';
  }
  return { ...levelOf(result, base, cur), operation: 'OVERALL', percentile: metric, baseline, current, change, noise: 0, verdict, reason };
}

/** A difference of two shares in percentage points: "+0.10 pp". */
function formatPoints(difference: number): string {
  return `${difference >= 0 ? '+' : ''}${(difference * 100).toFixed(2)} pp`;
}

/** Matches baseline and current results and judges every intended-start latency percentile,
 *  and per level its successful throughput and its shares of failed and throttled operations. */
export function compareResults(baseline: RunResult[], current: RunResult[], options: { threshold: number }): Comparison {
  const { threshold } = options;
  const rows: ComparisonRow[] = [];
  const unmatched: string[] = [];
  const notes: string[] = [];
  const currentByKey = new Map(current.map((r) => [key(r), r]));
  const baselineKeys = new Set(baseline.map(key));
  let judgedRows = 0;
  let unjudgedRows = 0;
  let thinRows = 0;

  for (const b of baseline) {
    const c = currentByKey.get(key(b));
    if (!c) {
      unmatched.push(`${where(b)}: only in baseline`);
      continue;
    }
    const maxChange = relativeChange(b.maxThroughput.opsPerSec, c.maxThroughput.opsPerSec);
    if (Math.abs(maxChange) > threshold) {
      notes.push(
        `${where(b)}: closed-loop max throughput ${formatInt(b.maxThroughput.opsPerSec)} → ` +
          `${formatInt(c.maxThroughput.opsPerSec)} ops/s (${formatChange(maxChange)})`,
      );
    }
    const maxFailed = (r: RunResult): number => r.maxThroughput.errorRate ?? 0;
    if (maxFailed(c) - maxFailed(b) > ERROR_RATE_TOLERANCE) {
      notes.push(`${where(b)}: closed loop: ${(maxFailed(c) * 100).toFixed(2)}% of operations failed, was ${(maxFailed(b) * 100).toFixed(2)}%`);
    }
    if (Math.abs(relativeChange(b.topRate.opsPerSec, c.topRate.opsPerSec)) > 0.01) {
      notes.push(
        `${where(b)}: top rate ${formatInt(b.topRate.opsPerSec)} → ${formatInt(c.topRate.opsPerSec)} ops/s, ` +
          'so a level compares latency at different absolute loads',
      );
    }
    if (b.environment.durability !== c.environment.durability || b.environment.cpuModel !== c.environment.cpuModel) {
      notes.push(
        `${where(b)}: different setup: durability ${b.environment.durability} → ${c.environment.durability}, ` +
          `machine ${b.environment.cpuModel} (${b.environment.cores} cores) → ${c.environment.cpuModel} (${c.environment.cores} cores)`,
      );
    }
    for (const bl of [...b.levels].sort((x, y) => x.fraction - y.fraction)) {
      const cl = c.levels.find((l) => sameFraction(l.fraction, bl.fraction));
      if (!cl) {
        unmatched.push(`${where(b)}, level ${formatFraction(bl.fraction)}: only in baseline`);
        continue;
      }
      rows.push(throughputRow(b, bl, cl, threshold));
      rows.push(failureRow(b, bl, cl, 'errorRate'));
      rows.push(failureRow(b, bl, cl, 'throttleRate'));
      for (const op of OPERATION_NAMES) {
        const bo = bl.operations[op];
        const co = cl.operations[op];
        if (!bo && !co) continue;
        const at = `${where(b)}, level ${formatFraction(bl.fraction)}, ${op}`;
        if (!bo || !co) {
          unmatched.push(`${at}: only in ${bo ? 'baseline' : 'current'}`);
          continue;
        }
        if (bo.intended.count === 0 || co.intended.count === 0) {
          // Not a latency to compare; the level's failed share judges it.
          unmatched.push(`${at}: no successful operations in ${bo.intended.count === 0 ? 'baseline' : 'current'} (latency not compared)`);
          continue;
        }
        for (const p of COMPARED_PERCENTILES) {
          const row = latencyRow(b, bl, cl, op, p, threshold);
          if (Math.min(operationsBeyond(bo, p), operationsBeyond(co, p)) < MIN_OPERATIONS_BEYOND) thinRows++;
          else if (repeatValues(bo, p) && repeatValues(co, p)) judgedRows++;
          else unjudgedRows++;
          rows.push(row);
        }
      }
    }
    for (const cl of c.levels) {
      if (!b.levels.some((l) => sameFraction(l.fraction, cl.fraction))) {
        unmatched.push(`${where(b)}, level ${formatFraction(cl.fraction)}: only in current`);
      }
    }
  }
  for (const c of current) if (!baselineKeys.has(key(c))) unmatched.push(`${where(c)}: only in current`);

  if (thinRows > 0) {
    notes.push(
      `${thinRows} latency rows not judged: fewer than ${MIN_OPERATIONS_BEYOND} operations lie beyond their percentile ` +
        '(longer levels, -p maxexecutiontime=S, or a higher rate give them enough)',
    );
  }
  if (judgedRows === 0 && unjudgedRows > 0) {
    notes.push('no repeats on both sides (run with --repeat N to judge noise): only the threshold applied');
  } else if (unjudgedRows > 0) {
    notes.push(`${unjudgedRows} latency rows lacked repeats on one side: only the threshold applied to them`);
  }
  const regressions = rows.filter((r) => r.verdict === 'regression');
  return { rows, regressions, unmatched, notes };
}

// ---------------------------------------------------------------------------------------
// Markdown.

function formatValue(row: ComparisonRow, value: number): string {
  switch (row.percentile) {
    case 'throughput':
      return `${formatInt(value)} ops/s`;
    case 'errorRate':
    case 'throttleRate':
      return `${(value * 100).toFixed(2)}%`;
    default:
      return formatLatency(value);
  }
}

function formatRowChange(row: ComparisonRow): string {
  return row.percentile === 'errorRate' || row.percentile === 'throttleRate' ? formatPoints(row.change) : formatChange(row.change);
}

const METRIC_NAMES: Record<LevelMetric, string> = { throughput: 'achieved ops/s', errorRate: 'failed share', throttleRate: 'throttled share' };

function metricName(row: ComparisonRow): string {
  return row.operation === 'OVERALL' ? METRIC_NAMES[row.percentile as LevelMetric] : `${row.operation} ${row.percentile}`;
}

function formatTarget(row: ComparisonRow): string {
  return row.baselineTarget === row.currentTarget
    ? formatInt(row.baselineTarget)
    : `${formatInt(row.baselineTarget)} → ${formatInt(row.currentTarget)}`;
}

const VERDICT_CELL: Record<ComparisonRow['verdict'], string> = {
  ok: 'ok',
  better: 'better',
  worse: 'worse',
  regression: '**REGRESSION**',
};

/** Escapes a markdown table cell. */
function md(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A GitHub-flavoured markdown table of the rows, how noise was judged, and the regressions. */
export function formatComparison(comparison: Comparison, options: { threshold: number }): string {
  const pct = `${Number((options.threshold * 100).toFixed(2))}%`;
  const out: string[] = [];
  out.push('| workload | engine | level | target ops/s | metric | baseline | current | change | noise | verdict |');
  out.push('|---|---|---:|---:|---|---:|---:|---:|---:|---|');
  for (const r of comparison.rows) {
    out.push(
      `| ${md(workloadLabel(r.workload))} | ${md(r.engine)} | ${formatFraction(r.fraction)} | ${formatTarget(r)} | ${metricName(r)} | ` +
        `${formatValue(r, r.baseline)} | ${formatValue(r, r.current)} | ${formatRowChange(r)} | ` +
        `${r.noise > 0 ? `±${(r.noise * 100).toFixed(1)}%` : '—'} | ${VERDICT_CELL[r.verdict]} |`,
    );
  }
  out.push('');
  out.push(
    `Latency is measured from each operation's intended start (coordinated omission corrected), per level ` +
      `(fraction of the top rate). A latency row is a regression when it grew by more than the threshold (${pct}) ` +
      `and, where both runs carry repeats (--repeat N), also by more than the noise — the larger of the two runs' ` +
      `relative spread (max − min) / median across repeats — with the best current repeat still worse than the ` +
      `worst baseline repeat; without repeats on both sides only the threshold applies. A percentile that fewer than ` +
      `${MIN_OPERATIONS_BEYOND} operations lie beyond (in a run, or in any of its repeats) is shown but not judged: ` +
      `it rests on one or two stalls. "worse" is a change for the ` +
      `worse within the threshold or the noise; "better" is an improvement beyond both. Latency is of successful ` +
      `operations only, so failures are judged apart: an "achieved ops/s" row (successful operations per second) is ` +
      `a regression when the level was sustained in the baseline but not now, or its successful operations fell, as a ` +
      `share of its target, by more than the threshold; a "failed share" row (operations not successful, throttled ` +
      `and timed out included) or a "throttled share" row is a regression when it rose by more than ` +
      `${(ERROR_RATE_TOLERANCE * 100).toFixed(1)} percentage points.`,
  );
  if (comparison.notes.length > 0) {
    out.push('');
    out.push('Notes:');
    for (const n of comparison.notes) out.push(`- ${n}`);
  }
  if (comparison.unmatched.length > 0) {
    out.push('');
    out.push('Unmatched (present on one side only, not compared):');
    for (const u of comparison.unmatched) out.push(`- ${u}`);
  }
  out.push('');
  if (comparison.regressions.length === 0) {
    out.push(`No regressions (threshold ${pct}).`);
  } else {
    out.push(`Regressions (${comparison.regressions.length}, threshold ${pct}):`);
    for (const r of comparison.regressions) {
      const metric = r.percentile === 'throughput' ? 'achieved throughput' : metricName(r);
      out.push(
        `- workload ${workloadLabel(r.workload)}, ${r.engine}, level ${formatFraction(r.fraction)}: ${metric} ` +
          `${formatValue(r, r.baseline)} → ${formatValue(r, r.current)} (${formatRowChange(r)}; ${r.reason})`,
      );
    }
  }
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------
// `shardbox compare`.

const COMPARE_USAGE = `usage: shardbox compare BASELINE CURRENT [--threshold 10%]
  BASELINE, CURRENT   a result file (ycsb-<workload>-<engine>.json) or a directory of them
  --threshold T       a change beyond T is a regression: "10%" or "0.1" (default 10%)
a level also regresses when it lost its sustained status, its successful operations fell
(as a share of its target) beyond T, or its share of failed or of throttled operations
rose by more than ${(ERROR_RATE_TOLERANCE * 100).toFixed(1)} percentage points
exit status: 0 no regression, 1 a regression, 2 bad usage or unreadable results
`;

/** `shardbox compare BASELINE CURRENT [--threshold 10%]`: prints markdown; 1 on a regression. */
export async function compareMain(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { threshold: { type: 'string', default: '10%' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`shardbox compare: ${(err as Error).message}\n\n${COMPARE_USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(COMPARE_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 2) {
    process.stderr.write(`shardbox compare: expected BASELINE and CURRENT, got ${parsed.positionals.length} paths\n\n${COMPARE_USAGE}`);
    return 2;
  }
  let threshold: number;
  try {
    threshold = parseThreshold(parsed.values.threshold ?? '10%');
  } catch (err) {
    process.stderr.write(`shardbox compare: ${(err as Error).message}\n\n${COMPARE_USAGE}`);
    return 2;
  }
  const [baselinePath, currentPath] = parsed.positionals;
  let baseline: RunResult[];
  let current: RunResult[];
  try {
    baseline = readResults(baselinePath);
    current = readResults(currentPath);
  } catch (err) {
    process.stderr.write(`shardbox compare: ${(err as Error).message}\n`);
    return 2;
  }
  const comparison = compareResults(baseline, current, { threshold });
  if (comparison.rows.length === 0) {
    process.stderr.write(
      `shardbox compare: nothing to compare: no (workload, engine, level) is in both ${baselinePath} and ${currentPath}\n` +
        comparison.unmatched.map((u) => `  ${u}\n`).join(''),
    );
    return 2;
  }
  process.stdout.write(formatComparison(comparison, { threshold }));
  return comparison.regressions.length > 0 ? 1 : 0;
}
