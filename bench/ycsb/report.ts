/**
 * Text reports of YCSB result files: YCSB's own report lines per level, the paper-shaped
 * summary (latency per throughput level, Figures 5 and 6 of the DynamoDB paper as a table)
 * and engine-to-engine ratios. Latencies in result files are microseconds.
 */
import { parseArgs } from 'node:util';
import { readResults } from './result-files.js';
import { OVERLAPPING_STAGES, STAGE_ORDER } from './stages.js';
import {
  ENGINE_DESCRIPTIONS,
  ENGINE_NAMES,
  OPERATION_NAMES,
  OUTCOMES,
  outcomeRates,
  type EngineName,
  type Outcome,
  type LevelResult,
  type OperationName,
  type OperationResult,
  type Percentiles,
  type RunResult,
} from './results.js';

// ---------------------------------------------------------------------------------------
// Number formatting shared by the report, chart and compare modules.

/** A number as Java's `Double.toString` prints it (what YCSB's text exporter writes for doubles):
 *  always a decimal point ("12.0"), shortest digits that round-trip, and computerized scientific
 *  notation ("1.2345E7", "1.0E-4") outside [1e-3, 1e7). */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x); // shortest round-trip digits; plain notation in this range
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exponent] = x.toExponential().split('e');
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${m}E${Number(exponent)}`;
}

/** A Java long/int as YCSB prints it: an integer. */
function javaLong(x: number): string {
  return String(Math.round(x));
}

/** Latency in µs with a unit: "850 µs", "1.23 ms", "45.6 ms", "1.25 s". */
export function formatLatency(us: number): string {
  if (!Number.isFinite(us)) return String(us);
  if (us < 999.5) return `${Math.round(us)} µs`;
  const ms = us / 1000;
  if (ms < 9.995) return `${ms.toFixed(2)} ms`;
  if (ms < 99.95) return `${ms.toFixed(1)} ms`;
  if (ms < 9999.5) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** An integer with thousands separators: "12,345". */
export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A rate in short form: "850", "1.2k", "12k", "1.5M". */
export function formatRateShort(n: number): string {
  const abs = Math.abs(n);
  const trim = (s: string) => s.replace(/\.0$/, '');
  if (abs < 999.5) return String(Math.round(n));
  if (abs < 9_950) return `${trim((n / 1e3).toFixed(1))}k`;
  if (abs < 999_500) return `${Math.round(n / 1e3)}k`;
  if (abs < 9_950_000) return `${trim((n / 1e6).toFixed(1))}M`;
  return `${Math.round(n / 1e6)}M`;
}

/** A level fraction as a percentage: 0.1 → "10%", 0.025 → "2.5%". */
export function formatFraction(fraction: number): string {
  return `${Number((fraction * 100).toFixed(1))}%`;
}

/** A ratio: "1.05×". */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return 'n/a';
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** A signed percentage change: "+12.3%", "-4.0%". */
export function formatChange(change: number): string {
  if (!Number.isFinite(change)) return change > 0 ? '+∞' : 'n/a';
  const pct = change * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/** 'a' → 'A' (YCSB's workload letters); other names as given. */
export function workloadLabel(workload: string): string {
  return /^[a-z]$/.test(workload) ? workload.toUpperCase() : workload;
}

// ---------------------------------------------------------------------------------------
// Which operation is "read" and which is "write" in the paper's figures.

/** The operation plotted as "write": UPDATE when present, else INSERT, else READ-MODIFY-WRITE. */
export function writeOperationOf(results: RunResult | RunResult[]): OperationName | undefined {
  return firstPresent(results, ['UPDATE', 'INSERT', 'READ-MODIFY-WRITE']);
}

/** The operation plotted as "read": READ when present, else SCAN. */
export function readOperationOf(results: RunResult | RunResult[]): OperationName | undefined {
  return firstPresent(results, ['READ', 'SCAN']);
}

function firstPresent(results: RunResult | RunResult[], candidates: OperationName[]): OperationName | undefined {
  const list = Array.isArray(results) ? results : [results];
  return candidates.find((op) => list.some((r) => r.levels.some((l) => (l.operations[op]?.count ?? 0) > 0)));
}

/** Intended-start latency of one operation at one level, or undefined when it has none. */
export function intendedOf(level: LevelResult, op: OperationName | undefined): Percentiles | undefined {
  if (op === undefined) return undefined;
  const o = level.operations[op];
  return o && o.intended.count > 0 ? o.intended : undefined;
}

/** The levels of a result from the lowest fraction to the highest. */
export function levelsByFraction(result: RunResult): LevelResult[] {
  return [...result.levels].sort((a, b) => a.fraction - b.fraction);
}

/** Engines in order of first appearance. */
export function enginesOf(results: RunResult[]): string[] {
  return [...new Set(results.map((r) => r.engine))];
}

/** Workloads in order of first appearance. */
export function workloadsOf(results: RunResult[]): string[] {
  return [...new Set(results.map((r) => r.workload))];
}

/** The non-OK outcomes of one operation type ("THROTTLED 10, TIMEOUT 2"), or of a whole
 *  level; an older file's errors without outcomes read "errors N". */
function outcomeCounts(ops: OperationResult[]): Array<[Outcome | 'errors', number]> {
  const counts = new Map<Outcome | 'errors', number>();
  for (const o of ops) {
    for (const outcome of OUTCOMES) {
      const n = o.outcomes[outcome];
      if (outcome !== 'OK' && n) counts.set(outcome, (counts.get(outcome) ?? 0) + n);
    }
    if (o.errors > 0 && !OUTCOMES.some((k) => k !== 'OK' && o.outcomes[k])) counts.set('errors', (counts.get('errors') ?? 0) + o.errors);
  }
  return [...counts];
}

function operationsOf(level: LevelResult): OperationResult[] {
  return OPERATION_NAMES.map((op) => level.operations[op]).filter((o): o is OperationResult => o !== undefined);
}

/** Why operations of a level are not in its latencies, which are of successful ones only:
 *  "12 failed (ERROR 10, THROTTLED 2), 3 timed out", or "none". */
export function outsideLatencies(level: LevelResult): string {
  const counts = outcomeCounts(operationsOf(level));
  const failed = counts.filter(([outcome]) => outcome !== 'TIMEOUT');
  const failedCount = failed.reduce((sum, [, n]) => sum + n, 0);
  const timedOut = counts.find(([outcome]) => outcome === 'TIMEOUT')?.[1] ?? 0;
  const parts: string[] = [];
  if (failedCount > 0) parts.push(`${formatInt(failedCount)} failed (${failed.map(([o, n]) => `${o} ${formatInt(n)}`).join(', ')})`);
  if (timedOut > 0) parts.push(`${formatInt(timedOut)} timed out`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** "15 (0.05%)" of a level's operations, or "0". */
function countAndShare(n: number, count: number): string {
  return n === 0 ? '0' : `${formatInt(n)} (${((100 * n) / Math.max(1, count)).toFixed(2)}%)`;
}

/** The rule a level was judged by (older files did not store it). */
function sustainedRuleOf(result: RunResult): string {
  return result.sustainedRule ?? 'achieved within 5% of the target';
}

/** What an engine measures and leaves out, when the name is one of ours. */
export function engineDescription(engine: string): string | undefined {
  const kind = (ENGINE_NAMES as readonly string[]).includes(engine) ? (engine as EngineName) : engine.startsWith('dynamodb-') ? 'dynamodb' : undefined;
  return kind === undefined ? undefined : ENGINE_DESCRIPTIONS[kind];
}

// ---------------------------------------------------------------------------------------
// YCSB's report lines.

function exportLine(metric: string, measurement: string, value: string): string {
  return `[${metric}], ${measurement}, ${value}`;
}

/** YCSB's OneMeasurementHdrHistogram.exportMeasurements for one histogram (percentiles
 *  50, 95, 99 and 99.9, as with `-p hdrhistogram.percentiles=50,95,99,99.9`). */
function histogramLines(name: string, p: Percentiles): string[] {
  return [
    exportLine(name, 'Operations', javaLong(p.count)),
    exportLine(name, 'AverageLatency(us)', javaDouble(p.mean)),
    exportLine(name, 'MinLatency(us)', javaLong(p.min)),
    exportLine(name, 'MaxLatency(us)', javaLong(p.max)),
    exportLine(name, '50thPercentileLatency(us)', javaLong(p.p50)),
    exportLine(name, '95thPercentileLatency(us)', javaLong(p.p95)),
    exportLine(name, '99thPercentileLatency(us)', javaLong(p.p99)),
    // YCSB's ordinal() prints "99.9PercentileLatency(us)" (no suffix for a non-integer);
    // we write "99.9th" as the other lines do, so one pattern finds every percentile line.
    exportLine(name, '99.9thPercentileLatency(us)', javaLong(p.p999)),
  ];
}

function returnLines(name: string, op: OperationResult): string[] {
  const lines: string[] = [];
  for (const outcome of OUTCOMES) {
    const n = op.outcomes[outcome];
    if (n !== undefined && n > 0) lines.push(exportLine(name, `Return=${outcome}`, javaLong(n)));
  }
  return lines;
}

/**
 * YCSB's report lines for one level, as YCSB prints them with `measurement.interval=both`:
 * `[OVERALL]` run time and throughput; then the `op` measurements — per operation `[READ]`
 * (from `actual`, OK operations only) with its `Return=` counts (YCSB counts every outcome on
 * the plain operation's measurement), and `[READ-FAILED]` (from `failed`) when some failed;
 * then the `intended` measurements `[Intended-READ]` and `[Intended-READ-FAILED]` (no Return
 * lines: YCSB reports statuses only on the op measurement when the interval is `both`).
 * Throughput counts successful operations only. Operations in YCSB's order READ,
 * UPDATE, INSERT, SCAN, READ-MODIFY-WRITE. The 99.9th percentile line reads
 * `99.9thPercentileLatency(us)` (YCSB itself prints `99.9PercentileLatency(us)`).
 */
export function formatLevelReport(result: RunResult, level: LevelResult): string {
  const lines = [
    exportLine('OVERALL', 'RunTime(ms)', javaLong(level.durationMs)),
    exportLine('OVERALL', 'Throughput(ops/sec)', javaDouble(level.achievedOpsPerSec)),
  ];
  const present = OPERATION_NAMES.filter((op) => level.operations[op] !== undefined);
  for (const op of present) {
    const o = level.operations[op]!;
    lines.push(...histogramLines(op, o.actual), ...returnLines(op, o));
    if (o.failed && o.failed.count > 0) lines.push(...histogramLines(`${op}-FAILED`, o.failed));
  }
  for (const op of present) {
    const o = level.operations[op]!;
    lines.push(...histogramLines(`Intended-${op}`, o.intended));
    if (o.intendedFailed && o.intendedFailed.count > 0) lines.push(...histogramLines(`Intended-${op}-FAILED`, o.intendedFailed));
  }
  return lines.join('\n') + '\n';
}

/** A heading line for a level: workload, engine, fraction, target, achieved, NOT SUSTAINED. */
export function formatLevelHeading(result: RunResult, level: LevelResult): string {
  const parts = [
    `YCSB workload ${workloadLabel(result.workload)}`,
    `engine ${result.engine}`,
    `level ${formatFraction(level.fraction)}`,
    `target ${formatInt(level.targetOpsPerSec)} ops/s`,
    `achieved ${formatInt(level.achievedOpsPerSec)} ops/s`,
  ];
  const rates = outcomeRates(level);
  if (rates.errors > 0) parts.push(`${outsideLatencies(level)}: ${(rates.errorRate * 100).toFixed(2)}% of operations`);
  if (!level.sustained) {
    const pct = level.targetOpsPerSec > 0 ? (100 * level.achievedOpsPerSec) / level.targetOpsPerSec : 0;
    const failed = rates.errors > 0 ? `, ${(rates.errorRate * 100).toFixed(2)}% failed` : '';
    parts.push(`NOT SUSTAINED (${pct.toFixed(1)}% of target${failed})`);
  }
  return `=== ${parts.join(' · ')} ===`;
}

// ---------------------------------------------------------------------------------------
// The paper-shaped summary.

const LINE_WIDTH = 108;

/** Word-wraps `text` to `width`, continuation lines indented by `indent` spaces. */
export function wrapText(text: string, width = LINE_WIDTH, indent = 2): string[] {
  const lead = /^ */.exec(text)![0];
  const words = text.slice(lead.length).split(/ +/);
  const lines: string[] = [];
  let line = lead;
  for (const word of words) {
    const candidate = line.trim() === '' ? `${line}${word}` : `${line} ${word}`;
    if (candidate.length > width && line.trim() !== '') {
      lines.push(line);
      line = `${' '.repeat(indent)}${word}`;
    } else {
      line = candidate;
    }
  }
  if (line.trim() !== '') lines.push(line);
  return lines;
}

/** Lays out rows of cells in columns; `align` per column: 'l' or 'r'. */
export function table(header: string[], rows: string[][], align: ('l' | 'r')[], gap = 2): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const cell = (s: string, i: number) => (align[i] === 'r' ? s.padStart(widths[i]) : s.padEnd(widths[i]));
  const render = (r: string[]) => r.map((s, i) => cell(s ?? '', i)).join(' '.repeat(gap)).trimEnd();
  return [render(header), ...rows.map(render)];
}

/** p(top level) ÷ p(lowest level); NaN when either is missing or the lowest is 0. */
export function flatnessRatio(result: RunResult, op: OperationName | undefined, percentile: 'p50' | 'p99'): number {
  const levels = levelsByFraction(result);
  if (levels.length < 2) return Number.NaN;
  const low = intendedOf(levels[0], op);
  const top = intendedOf(levels[levels.length - 1], op);
  if (!low || !top || low[percentile] <= 0) return Number.NaN;
  return top[percentile] / low[percentile];
}

function summaryOfOne(result: RunResult): string[] {
  const env = result.environment;
  const cfg = result.config;
  const readOp = readOperationOf(result);
  const writeOp = writeOperationOf(result);
  const out: string[] = [];
  out.push(`== YCSB workload ${workloadLabel(result.workload)} on ${result.engine} (durability ${env.durability}) ==`);
  const described = engineDescription(result.engine);
  if (described !== undefined) out.push(...wrapText(`engine: ${described}`));
  out.push(
    ...wrapText(
      `machine: ${env.cpuModel}, ${env.cores} cores, ${(env.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB · ` +
        `node ${env.node} ${env.platform}/${env.arch} · shardbox ${env.shardboxVersion} · started ${result.startedAt}`,
    ),
  );
  const setup = [
    cfg.nodes > 0 ? `${cfg.nodes} nodes` : undefined,
    cfg.partitions > 0 ? `${cfg.partitions} partitions` : undefined,
    `${cfg.threadcount} client threads`,
    `levels of ${cfg.levelSeconds} s after ${cfg.warmupSeconds} s warm-up`,
    cfg.repeat > 1 ? `${cfg.repeat} repeats` : undefined,
    `seed ${cfg.seed}`,
    cfg.quick ? 'QUICK run' : undefined,
    cfg.endpoint ? `endpoint ${cfg.endpoint}` : undefined,
  ].filter((s) => s !== undefined);
  out.push(...wrapText(`setup: ${setup.join(', ')}`));
  const load = result.loadPhase;
  out.push(
    `load: ${formatInt(load.records)} records in ${(load.durationMs / 1000).toFixed(1)} s ` +
      `(${formatInt(load.opsPerSec)} ops/s, ${formatInt(load.errors)} errors)`,
  );
  const max = result.maxThroughput;
  // Older files counted every completed operation and stored no failures.
  const maxFailed = max.failedOpsPerSec === undefined ? '' : ` successful, ${formatInt(max.failedOpsPerSec)} failed/s (${((max.errorRate ?? 0) * 100).toFixed(2)}%)`;
  out.push(
    `max throughput (closed loop): ${formatInt(max.opsPerSec)} ops/s${maxFailed} ` +
      `(${max.inFlightPerThread} in flight per thread, ${(max.durationMs / 1000).toFixed(1)} s)`,
  );
  out.push(...wrapText(`top rate (100% level): ${formatInt(result.topRate.opsPerSec)} ops/s, chosen by: ${result.topRate.rule}`));
  if (result.topRate.probes.length > 0) {
    const probes = result.topRate.probes.map(
      (p) => `${formatRateShort(p.targetOpsPerSec)} ${p.keptUp ? 'kept up' : 'fell behind'} (${formatRateShort(p.achievedOpsPerSec)}, backlog ${formatInt(p.backlog)})`,
    );
    out.push(...wrapText(`  probes: ${probes.join(' · ')}`, LINE_WIDTH, 4));
  }
  const cpu = result.clientCpu;
  out.push(
    `client CPU: client threads ${cpu.clientCores.toFixed(2)} cores (${(cpu.fractionOfMachine * 100).toFixed(1)}% of ` +
      `${env.cores} cores), whole process ${cpu.processCores.toFixed(2)} cores`,
  );
  if (cpu.generatorCores !== undefined) {
    out.push(`  of which the load generator (operations, values, recording): ${cpu.generatorCores.toFixed(2)} cores; the rest is the threads' request routers`);
  }
  out.push(
    `latency from intended start (coordinated omission corrected); read = ${readOp ?? 'none'}, write = ${writeOp ?? 'none'}`,
  );
  out.push('achieved and latencies: successful operations only; failed: the others (throttled and timed out included)');
  out.push('');

  const levels = levelsByFraction(result);
  const lat = (level: LevelResult, op: OperationName | undefined, p: 'p50' | 'p99') => {
    const s = intendedOf(level, op);
    return s ? formatLatency(s[p]) : '—';
  };
  const rows = levels.map((level) => {
    const rates = outcomeRates(level);
    return [
      formatFraction(level.fraction),
      formatInt(level.targetOpsPerSec),
      formatInt(level.achievedOpsPerSec) + (level.sustained ? '  ' : ' !'),
      countAndShare(rates.errors, rates.count),
      countAndShare(rates.throttled, rates.count),
      lat(level, readOp, 'p50'),
      lat(level, readOp, 'p99'),
      lat(level, writeOp, 'p50'),
      lat(level, writeOp, 'p99'),
    ];
  });
  out.push(
    ...table(
      ['level', 'target ops/s', 'achieved ops/s', 'failed', 'throttled', 'read p50', 'read p99', 'write p50', 'write p99'],
      rows,
      ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  // Beside the headline: what its percentiles leave out, why, and how long those took.
  for (const level of levels) {
    if (outcomeRates(level).errors === 0) continue;
    const perOperation = OPERATION_NAMES.filter((op) => (level.operations[op]?.errors ?? 0) > 0).map((op) => {
      const o = level.operations[op]!;
      const why = outcomeCounts([o]).map(([outcome, n]) => `${outcome} ${formatInt(n)}`).join(', ');
      const p = o.intendedFailed;
      return p && p.count > 0 ? `${op}: ${why}, from intended start p99 ${formatLatency(p.p99)}, max ${formatLatency(p.max)}` : `${op}: ${why}`;
    });
    out.push(...wrapText(`${formatFraction(level.fraction)}: not in p50/p99: ${outsideLatencies(level)} — ${perOperation.join('; ')}`, LINE_WIDTH, 4));
  }
  if (levels.some((l) => !l.sustained)) {
    const names = levels.filter((l) => !l.sustained).map((l) => formatFraction(l.fraction));
    out.push(...wrapText(`! NOT SUSTAINED at ${names.join(', ')}; sustained means: ${sustainedRuleOf(result)}`));
  }
  if (levels.length >= 2) {
    const lo = formatFraction(levels[0].fraction);
    const hi = formatFraction(levels[levels.length - 1].fraction);
    const parts = [
      `read p50 ${formatRatio(flatnessRatio(result, readOp, 'p50'))}`,
      `read p99 ${formatRatio(flatnessRatio(result, readOp, 'p99'))}`,
      `write p50 ${formatRatio(flatnessRatio(result, writeOp, 'p50'))}`,
      `write p99 ${formatRatio(flatnessRatio(result, writeOp, 'p99'))}`,
    ];
    out.push(`flatness (${hi} ÷ ${lo}, 1.00× = flat): ${parts.join(', ')}`);
  }
  const capacity = capacityTable(levels);
  if (capacity.length > 0) out.push('', ...capacity);
  for (const op of [readOp, writeOp]) {
    if (op === undefined) continue;
    const breakdown = stageBreakdown(levels, op);
    if (breakdown.length > 0) out.push('', ...breakdown);
  }
  return out;
}

/** Capacity units: one decimal below 10 (eventually consistent reads cost half a unit). */
function formatUnits(n: number): string {
  return Math.abs(n) < 9.95 ? n.toFixed(1) : formatInt(n);
}

/**
 * The table's capacity per level (levels that recorded one: shardbox with a table
 * capacity), one row each: capacity units per second (provisioned, or on demand the
 * allowance), consumed and throttled per second over the level, burst credit at its end,
 * and the partition that consumed the most write units. Empty when no level has one.
 */
export function capacityTable(levels: LevelResult[]): string[] {
  const withCapacity = levels.filter((l) => l.capacity !== undefined);
  if (withCapacity.length === 0) return [];
  const rows = withCapacity.map((level) => {
    const c = level.capacity!;
    const busiest = c.partitions.reduce<(typeof c.partitions)[number] | undefined>(
      (top, p) => (top === undefined || p.consumedWriteUnitsPerSec > top.consumedWriteUnitsPerSec ? p : top), undefined);
    return [
      formatFraction(level.fraction),
      formatInt(level.targetOpsPerSec),
      formatUnits(c.readCapacityUnits),
      formatUnits(c.writeCapacityUnits),
      formatUnits(c.consumedReadUnitsPerSec),
      formatUnits(c.consumedWriteUnitsPerSec),
      `${formatUnits(c.throttledReadsPerSec)} / ${formatUnits(c.throttledWritesPerSec)}`,
      `${formatUnits(c.readBurstCredit)} / ${formatUnits(c.writeBurstCredit)}`,
      busiest === undefined ? '—' : `${formatUnits(busiest.consumedWriteUnitsPerSec)} (group ${busiest.group} of ${c.partitions.length})`,
    ];
  });
  const modes = [...new Set(withCapacity.map((l) => l.capacity!.billingMode))].join(', ');
  return [
    ...wrapText(`capacity (${modes}, units/s; consumed and throttled: mean over the level; burst credit: at its end):`),
    ...table(
      ['level', 'target ops/s', 'RCU', 'WCU', 'consumed RCU/s', 'consumed WCU/s', 'throttled/s r / w', 'burst credit r / w', 'busiest partition WCU/s'],
      rows,
      ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  ];
}

/**
 * Where `op`'s time went at each level: p50 / p99 of each stage (stages.ts), and the mean,
 * which adds up across stages to the mean latency from the intended start. Percentiles of
 * stages do not add up: a request slow in one stage is rarely slow in all.
 */
export function stageBreakdown(levels: LevelResult[], op: OperationName): string[] {
  const withStages = levels.filter((l) => l.stages?.[op] !== undefined);
  if (withStages.length === 0) return [];
  const names = [...STAGE_ORDER, ...OVERLAPPING_STAGES, 'total'].filter((name) => withStages.some((l) => l.stages![op]![name] !== undefined));
  const cell = (level: LevelResult, name: string): string => {
    const s = level.stages![op]![name];
    return s === undefined ? '—' : `${formatLatency(s.p50)} / ${formatLatency(s.p99)} (${formatLatency(s.mean)})`;
  };
  const rows = names.map((name) => [
    (OVERLAPPING_STAGES as readonly string[]).includes(name) ? `(${name})` : name,
    ...withStages.map((level) => cell(level, name)),
  ]);
  return [
    `${op} stages, p50 / p99 (mean) from the intended start; means add up to the total's, (walSync) overlaps replicate:`,
    ...table(['stage', ...withStages.map((l) => formatFraction(l.fraction))], rows, ['l', ...withStages.map((): 'r' => 'r')]),
  ];
}

/** The slowest successful operations of a level, with their stages (--slowest N). */
export function formatSlowest(level: LevelResult, n: number): string[] {
  const slowest = (level.slowest ?? []).slice(0, n);
  if (slowest.length === 0) return [];
  const out = [`slowest ${slowest.length} at ${formatFraction(level.fraction)} (${formatInt(level.targetOpsPerSec)} ops/s):`];
  for (const t of slowest) {
    const stages = [...STAGE_ORDER, ...OVERLAPPING_STAGES]
      .filter((name) => (t.stages[name] ?? 0) > 0)
      .map((name) => `${name} ${formatLatency(t.stages[name]!)}`);
    out.push(...wrapText(`${t.kind} ${formatLatency(t.totalUs)}: ${stages.join(', ')}`, LINE_WIDTH, 4));
  }
  return out;
}

/** The paper-shaped summary for a set of results, one block per (workload, engine). */
export function formatSummary(results: RunResult[]): string {
  if (results.length === 0) return 'no results\n';
  return results.map((r) => summaryOfOne(r).join('\n')).join('\n\n') + '\n';
}

// ---------------------------------------------------------------------------------------
// Engine ratios.

/** "1.23 ms (2.50×)" — a value and its ratio to the baseline engine's. */
function withRatio(value: number | undefined, base: number | undefined, format: (x: number) => string, isBase: boolean): string {
  if (value === undefined) return '—';
  if (isBase || base === undefined || base <= 0) return format(value);
  return `${format(value)} (${formatRatio(value / base)})`;
}

/** When results hold more than one engine: per workload, each engine against the first engine. */
export function formatEngineRatios(results: RunResult[]): string {
  const engines = enginesOf(results);
  if (engines.length < 2) return '';
  const out: string[] = [];
  for (const workload of workloadsOf(results)) {
    const byEngine = engines
      .map((engine) => results.find((r) => r.workload === workload && r.engine === engine))
      .filter((r): r is RunResult => r !== undefined);
    if (byEngine.length < 2) continue;
    const base = byEngine[0];
    const forWorkload = results.filter((r) => r.workload === workload);
    const readOp = readOperationOf(forWorkload);
    const writeOp = writeOperationOf(forWorkload);
    if (out.length > 0) out.push('');
    out.push(`== YCSB workload ${workloadLabel(workload)}: engines against ${base.engine} (ratio = engine ÷ ${base.engine}) ==`);
    out.push(`intended-start latency; read = ${readOp ?? 'none'}, write = ${writeOp ?? 'none'}`);
    out.push(
      ...table(
        ['engine', 'max ops/s', 'top rate ops/s', 'durability'],
        byEngine.map((r, i) => [
          r.engine,
          withRatio(r.maxThroughput.opsPerSec, base.maxThroughput.opsPerSec, formatInt, i === 0),
          withRatio(r.topRate.opsPerSec, base.topRate.opsPerSec, formatInt, i === 0),
          r.environment.durability,
        ]),
        ['l', 'r', 'r', 'l'],
      ),
    );
    out.push('');
    const fractions = [...new Set(byEngine.flatMap((r) => r.levels.map((l) => l.fraction)))].sort((a, b) => a - b);
    const rows: string[][] = [];
    for (const fraction of fractions) {
      const baseLevel = base.levels.find((l) => l.fraction === fraction);
      byEngine.forEach((r, i) => {
        const level = r.levels.find((l) => l.fraction === fraction);
        const cell = (op: OperationName | undefined, p: 'p50' | 'p99') => {
          const v = level ? intendedOf(level, op)?.[p] : undefined;
          const b = baseLevel ? intendedOf(baseLevel, op)?.[p] : undefined;
          return withRatio(v, b, formatLatency, i === 0);
        };
        const rates = level ? outcomeRates(level) : undefined;
        rows.push([
          i === 0 ? formatFraction(fraction) : '',
          r.engine,
          level ? formatInt(level.achievedOpsPerSec) + (level.sustained ? '  ' : ' !') : '—',
          rates ? countAndShare(rates.errors, rates.count) : '—',
          cell(readOp, 'p50'),
          cell(readOp, 'p99'),
          cell(writeOp, 'p50'),
          cell(writeOp, 'p99'),
        ]);
      });
    }
    out.push(
      ...table(
        ['level', 'engine', 'achieved ops/s', 'failed', 'read p50', 'read p99', 'write p50', 'write p99'],
        rows,
        ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
    if (byEngine.some((r) => r.levels.some((l) => !l.sustained))) out.push(...wrapText(`! not sustained; sustained means: ${sustainedRuleOf(base)}`));
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------
// `shardbox report`.

const REPORT_USAGE = `usage: shardbox report RESULTS... [--ycsb]
  RESULTS   result files (ycsb-<workload>-<engine>.json) or directories holding them
  --ycsb    also print YCSB's report lines for every level
`;

/** `shardbox report RESULTS... [--ycsb]`: prints the summary (and engine ratios). */
export async function reportMain(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ycsb: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  } catch (err) {
    process.stderr.write(`shardbox report: ${(err as Error).message}\n\n${REPORT_USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(REPORT_USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    process.stderr.write(`shardbox report: no results given\n\n${REPORT_USAGE}`);
    return 2;
  }
  let results: RunResult[];
  try {
    results = parsed.positionals.flatMap((p) => readResults(p));
  } catch (err) {
    process.stderr.write(`shardbox report: ${(err as Error).message}\n`);
    return 2;
  }
  const parts = [formatSummary(results)];
  const ratios = formatEngineRatios(results);
  if (ratios) parts.push(ratios);
  if (parsed.values.ycsb) {
    for (const r of results) for (const l of r.levels) parts.push(`${formatLevelHeading(r, l)}\n${formatLevelReport(r, l)}`);
  }
  process.stdout.write(parts.join('\n'));
  return 0;
}
