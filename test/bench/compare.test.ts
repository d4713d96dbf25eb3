import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  compareMain, compareResults, ERROR_RATE_TOLERANCE, formatComparison, MIN_OPERATIONS_BEYOND, operationsBeyond, parseThreshold, type ComparisonRow,
} from '../../bench/ycsb/compare.js';
import type { RunResult } from '../../bench/ycsb/results.js';
import { captureOutput, makeResult, writeResults } from './fixtures.js';

const threshold = 0.1;

function row(rows: ComparisonRow[], fraction: number, operation: string, percentile: string): ComparisonRow {
  const found = rows.find((r) => r.fraction === fraction && r.operation === operation && r.percentile === percentile);
  if (!found) throw new Error(`no row ${fraction} ${operation} ${percentile}`);
  return found;
}

describe('compareResults', () => {
  it('finds nothing between a run and itself', () => {
    const base = [makeResult({ workload: 'a' }), makeResult({ workload: 'b' })];
    const c = compareResults(base, base, { threshold });
    expect(c.regressions).toEqual([]);
    expect(c.unmatched).toEqual([]);
    // 2 workloads × 4 levels × (2 operations × 4 percentiles + throughput, failed and throttled rows)
    expect(c.rows).toHaveLength(2 * 4 * 11);
    expect(c.rows.every((r) => r.verdict === 'ok' && r.change === 0)).toBe(true);
  });

  it('flags latency that grew beyond the threshold (no repeats: the threshold alone)', () => {
    // 20 s levels: even the 10% level's p999 has operations enough beyond it to be judged.
    const c = compareResults([makeResult({ levelSeconds: 20 })], [makeResult({ levelSeconds: 20, latencyScale: 1.3 })], { threshold });
    const p99 = row(c.rows, 0.5, 'UPDATE', 'p99');
    expect(p99.verdict).toBe('regression');
    expect(p99.change).toBeCloseTo(0.3, 2);
    expect(p99.noise).toBe(0);
    expect(p99.baseline).toBe(makeResult({ levelSeconds: 20 }).levels[2].operations.UPDATE!.intended.p99);
    expect(c.regressions).toContain(p99);
    expect(c.regressions).toHaveLength(4 * 2 * 4);
    expect(c.notes.join('\n')).toContain('no repeats on both sides');
  });

  it('does not judge a percentile that too few operations lie beyond, in a run or in a repeat', () => {
    // 10% level of 1,200 ops/s for 10 s: ~5,970 reads, so 5 lie beyond p999 and 59 beyond p99.
    const c = compareResults([makeResult()], [makeResult({ latencyScale: 1.3 })], { threshold });
    expect(operationsBeyond(makeResult().levels[0].operations.READ!, 'p999')).toBe(5);
    const p999 = row(c.rows, 0.1, 'READ', 'p999');
    expect(p999.change).toBeCloseTo(0.3, 2);
    expect(p999.verdict).toBe('worse');
    expect(p999.reason).toBe(`too few operations beyond p999 to judge (5 < ${MIN_OPERATIONS_BEYOND})`);
    expect(row(c.rows, 0.1, 'READ', 'p99').verdict).toBe('regression');
    expect(row(c.rows, 0.25, 'READ', 'p999').verdict).toBe('regression');
    expect(c.regressions).not.toContain(p999);
    expect(c.notes.join('\n')).toContain('2 latency rows not judged: fewer than 10 operations lie beyond their percentile');
    // With repeats, each repeat must have enough: 20 s levels give each repeat ~12,000 reads at
    // the 10% level (11 beyond p999), until one repeat of the current run holds only 3,000.
    const base = makeResult({ repeats: 3, levelSeconds: 20 });
    const cur = makeResult({ repeats: 3, levelSeconds: 20, latencyScale: 1.3 });
    expect(row(compareResults([base], [cur], { threshold }).rows, 0.1, 'READ', 'p999').verdict).toBe('regression');
    cur.levels[0].operations.READ!.repeats![1].intended.count = 3000;
    const r = compareResults([base], [cur], { threshold });
    expect(row(r.rows, 0.1, 'READ', 'p999').reason).toBe(`too few operations beyond p999 to judge (3 < ${MIN_OPERATIONS_BEYOND})`);
    expect(row(r.rows, 0.1, 'READ', 'p99').verdict).toBe('regression');
    // A better figure resting on too few operations is not "better" either.
    expect(row(compareResults([makeResult()], [makeResult({ latencyScale: 0.7 })], { threshold }).rows, 0.1, 'READ', 'p999').verdict).toBe('ok');
  });

  it('calls a change within the threshold worse, not a regression', () => {
    const c = compareResults([makeResult()], [makeResult({ latencyScale: 1.05 })], { threshold });
    expect(row(c.rows, 1, 'READ', 'p99').verdict).toBe('worse');
    expect(c.regressions).toEqual([]);
  });

  it('calls an improvement beyond the threshold better', () => {
    const c = compareResults([makeResult()], [makeResult({ latencyScale: 0.8 })], { threshold });
    const r = row(c.rows, 0.25, 'READ', 'p50');
    expect(r.verdict).toBe('better');
    expect(r.change).toBeCloseTo(-0.2, 2);
    expect(c.regressions).toEqual([]);
  });

  it('suppresses a change within the noise that repeats show', () => {
    // Repeats spread by 40% of the median; latency 15% higher: beyond the threshold, not the noise.
    const base = makeResult({ repeats: 3, repeatSpread: 0.4 });
    const cur = makeResult({ repeats: 3, repeatSpread: 0.4, latencyScale: 1.15 });
    const c = compareResults([base], [cur], { threshold });
    const r = row(c.rows, 1, 'UPDATE', 'p99');
    expect(r.change).toBeGreaterThan(threshold);
    expect(r.noise).toBeCloseTo(0.4, 2);
    expect(r.verdict).toBe('worse');
    expect(r.reason).toContain('within noise');
    expect(c.regressions).toEqual([]);
  });

  it('still flags a change beyond the noise when the repeats do not overlap', () => {
    const base = makeResult({ repeats: 3, repeatSpread: 0.04 });
    const cur = makeResult({ repeats: 3, repeatSpread: 0.04, latencyScale: 1.3 });
    const c = compareResults([base], [cur], { threshold });
    const r = row(c.rows, 0.5, 'READ', 'p99');
    expect(r.noise).toBeGreaterThan(0);
    expect(r.verdict).toBe('regression');
    expect(r.reason).toContain('repeats do not overlap');
  });

  it('does not flag when the repeats overlap even beyond the noise band', () => {
    const base = makeResult({ repeats: 2 });
    const cur = makeResult({ repeats: 2 });
    const b = base.levels[0].operations.READ!;
    const c0 = cur.levels[0].operations.READ!;
    // Baseline repeats 1000 and 1100 (spread ~9.5%), current 1050 and 1300 (spread ~21%):
    // overall +25% beyond threshold and noise, but the best current repeat beats the worst baseline one.
    b.intended.p99 = 1000;
    c0.intended.p99 = 1250;
    b.repeats![0].intended.p99 = 1000;
    b.repeats![1].intended.p99 = 1100;
    c0.repeats![0].intended.p99 = 1050;
    c0.repeats![1].intended.p99 = 1300;
    const r = row(compareResults([base], [cur], { threshold }).rows, 0.1, 'READ', 'p99');
    expect(r.change).toBeCloseTo(0.25, 5);
    expect(r.noise).toBeLessThan(0.25);
    expect(r.verdict).toBe('worse');
    expect(r.reason).toBe('repeats overlap');
  });

  it('reports a level sustained in baseline but not now as a regression', () => {
    const c = compareResults([makeResult()], [makeResult({ notSustained: [1] })], { threshold });
    const t = row(c.rows, 1, 'OVERALL', 'throughput');
    expect(t.verdict).toBe('regression');
    expect(t.reason).toContain('NOT SUSTAINED');
    expect(c.regressions).toContain(t);
    expect(row(c.rows, 0.5, 'OVERALL', 'throughput').verdict).toBe('ok');
  });

  it('catches a run whose operations all failed, however fast they failed', () => {
    const c = compareResults([makeResult()], [makeResult({ allFailed: 'ERROR' })], { threshold });
    for (const fraction of [0.1, 0.25, 0.5, 1]) {
      const throughput = row(c.rows, fraction, 'OVERALL', 'throughput');
      expect(throughput.verdict).toBe('regression');
      expect(throughput.current).toBe(0);
      const failed = row(c.rows, fraction, 'OVERALL', 'errorRate');
      expect(failed.baseline).toBe(0);
      expect(failed.current).toBe(1);
      expect(failed.verdict).toBe('regression');
      expect(row(c.rows, fraction, 'OVERALL', 'throttleRate').verdict).toBe('ok');
    }
    // No latency of a successful operation to compare: said so, not passed off as equal.
    expect(c.unmatched).toContain('workload A, engine shardbox, level 10%, READ: no successful operations in current (latency not compared)');
    expect(c.rows.filter((r) => r.operation !== 'OVERALL')).toEqual([]);
  });

  it('catches failures a harness counted as throughput (a file whose levels claim to be sustained)', () => {
    // What the harness wrote before throughput counted successes only: every operation
    // failed fast, yet the level "achieved" its target and was "sustained".
    const base = makeResult({ legacy: true });
    const cur = makeResult({ legacy: true, allFailed: 'TIMEOUT' });
    cur.levels.forEach((level, i) => {
      level.achievedOpsPerSec = base.levels[i].achievedOpsPerSec;
      level.sustained = true;
    });
    const c = compareResults([base], [cur], { threshold });
    expect(row(c.rows, 0.5, 'OVERALL', 'throughput').verdict).toBe('ok');
    // The failed share comes from the operations' outcomes when the file does not store it.
    const failed = row(c.rows, 0.5, 'OVERALL', 'errorRate');
    expect(failed.current).toBe(1);
    expect(failed.verdict).toBe('regression');
  });

  it('flags a throttle or error share that rose beyond the tolerance, not one within it', () => {
    const count = makeResult().levels[3].operations.UPDATE!.count;
    // The level has as many READs as UPDATEs: n throttled UPDATEs are a share n / (2 × count).
    const within = Math.floor(count * ERROR_RATE_TOLERANCE); // half the tolerance
    const beyond = Math.ceil(count * ERROR_RATE_TOLERANCE * 6); // three times it
    const throttled = (n: number) => makeResult({ errors: [{ fraction: 1, operation: 'UPDATE', outcome: 'THROTTLED', count: n }] });
    const small = compareResults([makeResult()], [throttled(within)], { threshold });
    expect(row(small.rows, 1, 'OVERALL', 'throttleRate').verdict).toBe('worse');
    expect(row(small.rows, 1, 'OVERALL', 'errorRate').verdict).toBe('worse');
    expect(small.regressions).toEqual([]);
    const large = compareResults([makeResult()], [throttled(beyond)], { threshold });
    const t = row(large.rows, 1, 'OVERALL', 'throttleRate');
    expect(t.verdict).toBe('regression');
    expect(t.change).toBeGreaterThan(ERROR_RATE_TOLERANCE);
    expect(row(large.rows, 1, 'OVERALL', 'errorRate').verdict).toBe('regression');
    // The other levels did not change.
    expect(row(large.rows, 0.5, 'OVERALL', 'throttleRate').verdict).toBe('ok');
    // And the other way round it is better.
    expect(row(compareResults([throttled(beyond)], [makeResult()], { threshold }).rows, 1, 'OVERALL', 'errorRate').verdict).toBe('better');
  });

  it('flags fewer successful operations against the target even when neither run sustained the level', () => {
    const base = makeResult({ notSustained: [1] });
    const cur = makeResult({ notSustained: [1] });
    cur.levels[3].achievedOpsPerSec = base.levels[3].achievedOpsPerSec * 0.5;
    const t = row(compareResults([base], [cur], { threshold }).rows, 1, 'OVERALL', 'throughput');
    expect(t.verdict).toBe('regression');
    expect(t.reason).toBe('fewer successful operations: 40.0% of the target, was 80.0%');
    // A lower top rate alone is not fewer successful operations: each level kept up with its own target.
    expect(row(compareResults([makeResult()], [makeResult({ topRate: 9_000 })], { threshold }).rows, 1, 'OVERALL', 'throughput').verdict).toBe('worse');
  });

  it('lists levels, operations and results present on one side only', () => {
    const base = [makeResult({ workload: 'a' }), makeResult({ workload: 'b', engine: 'lmdb' })];
    const cur = [makeResult({ workload: 'a', fractions: [0.1, 0.5, 0.75, 1] }), makeResult({ workload: 'c' })];
    delete cur[0].levels[0].operations.UPDATE;
    const c = compareResults(base, cur, { threshold });
    expect(c.unmatched).toEqual([
      'workload A, engine shardbox, level 10%, UPDATE: only in baseline',
      'workload A, engine shardbox, level 25%: only in baseline',
      'workload A, engine shardbox, level 75%: only in current',
      'workload B, engine lmdb: only in baseline',
      'workload C, engine shardbox: only in current',
    ]);
    expect(c.rows.some((r) => r.fraction === 0.25 || r.fraction === 0.75)).toBe(false);
  });

  it('notes a different top rate and max throughput', () => {
    const c = compareResults([makeResult()], [makeResult({ topRate: 9_000 })], { threshold });
    expect(c.notes.join('\n')).toContain('top rate 12,000 → 9,000 ops/s');
    expect(c.notes.join('\n')).toContain('closed-loop max throughput 15,720 → 11,790 ops/s (-25.0%)');
    expect(row(c.rows, 1, 'OVERALL', 'throughput').currentTarget).toBe(9_000);
  });
});

describe('formatComparison', () => {
  it('is a markdown table with verdicts, an explanation and the regressions', () => {
    const c = compareResults([makeResult()], [makeResult({ latencyScale: 1.3, notSustained: [1] })], { threshold });
    const md = formatComparison(c, { threshold });
    const lines = md.split('\n');
    expect(lines[0]).toBe('| workload | engine | level | target ops/s | metric | baseline | current | change | noise | verdict |');
    expect(lines[1]).toMatch(/^\|(---:?\|)+$/);
    expect(md).toContain('| A | shardbox | 10% | 1,200 | READ p50 | 310 µs | 403 µs | +30.0% | — | **REGRESSION** |');
    expect(md).toContain('| achieved ops/s |');
    expect(md).toContain('threshold (10%)');
    expect(md).toContain('(max − min) / median');
    expect(md).toMatch(/Regressions \(\d+, threshold 10%\):/);
    expect(md).toMatch(/- workload A, shardbox, level 100%: achieved throughput 11,9\d\d ops\/s → 9,600 ops\/s \(-19\.\d%; sustained in baseline, NOT SUSTAINED now\)/);
  });

  it('says so when there is no regression', () => {
    const c = compareResults([makeResult()], [makeResult()], { threshold: 0.05 });
    expect(formatComparison(c, { threshold: 0.05 })).toContain('No regressions (threshold 5%).');
  });
});

describe('parseThreshold', () => {
  it('accepts a percentage or a fraction', () => {
    expect(parseThreshold('10%')).toBeCloseTo(0.1, 12);
    expect(parseThreshold('2.5%')).toBeCloseTo(0.025, 12);
    expect(parseThreshold('0.1')).toBe(0.1);
    expect(parseThreshold('.2')).toBe(0.2);
    expect(parseThreshold(' 15 % ')).toBeCloseTo(0.15, 12);
  });

  it('rejects anything else', () => {
    expect(() => parseThreshold('10')).toThrow(/ambiguous: write 10% or 0.1/);
    expect(() => parseThreshold('ten')).toThrow(/not a percentage/);
    expect(() => parseThreshold('-5%')).toThrow();
    expect(() => parseThreshold('')).toThrow();
  });
});

describe('compareMain', () => {
  let dir: string;
  let output: { out: string; err: string };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shardbox-compare-'));
    output = captureOutput();
  });

  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, results: RunResult[]) => {
    const d = join(dir, name);
    writeResults(d, results);
    return d;
  };

  it('returns 0 without a regression and prints markdown', async () => {
    const base = write('base', [makeResult({ workload: 'a' }), makeResult({ workload: 'b' })]);
    const cur = write('cur', [makeResult({ workload: 'a', latencyScale: 1.05 }), makeResult({ workload: 'b' })]);
    expect(await compareMain([base, cur])).toBe(0);
    expect(output.out).toContain('| workload | engine |');
    expect(output.out).toContain('No regressions (threshold 10%).');
  });

  it('returns 1 on a regression, honouring --threshold', async () => {
    const base = write('base', [makeResult()]);
    const cur = write('cur', [makeResult({ latencyScale: 1.05 })]);
    expect(await compareMain([base, cur, '--threshold', '3%'])).toBe(1);
    expect(output.out).toContain('**REGRESSION**');
    output.out = '';
    expect(await compareMain([base, cur, '--threshold=0.1'])).toBe(0);
  });

  it('returns 1 when every operation of the current run failed (it used to say "No regressions")', async () => {
    const base = write('base', [makeResult({ workload: 'a' }), makeResult({ workload: 'b' })]);
    const cur = write('cur', [makeResult({ workload: 'a', allFailed: 'ERROR' }), makeResult({ workload: 'b', allFailed: 'THROTTLED' })]);
    expect(await compareMain([base, cur])).toBe(1);
    expect(output.out).not.toContain('No regressions');
    expect(output.out).toContain('| A | shardbox | 10% | 1,200 | failed share | 0.00% | 100.00% | +100.00 pp | — | **REGRESSION** |');
    expect(output.out).toMatch(/- workload B, shardbox, level 100%: throttled share 0\.00% → 100\.00% \(\+100\.00 pp; more operations throttled/);
    expect(output.out).toMatch(/- workload A, shardbox, level 100%: achieved throughput [0-9,]+ ops\/s → 0 ops\/s/);
  });

  it('reads a baseline written before failures were counted apart, and judges against it', async () => {
    const base = write('base', [makeResult({ legacy: true })]);
    expect(await compareMain([base, write('same', [makeResult()])])).toBe(0);
    expect(await compareMain([base, write('failing', [makeResult({ allFailed: 'ERROR' })])])).toBe(1);
  });

  it('compares single files too', async () => {
    const [baseFile] = writeResults(join(dir, 'b'), [makeResult()]);
    const [curFile] = writeResults(join(dir, 'c'), [makeResult({ notSustained: [0.5] })]);
    expect(await compareMain([baseFile, curFile])).toBe(1);
    expect(output.out).toContain('level 50%: achieved throughput');
  });

  it('returns 2 for bad usage or unreadable results, with a message on stderr', async () => {
    const base = write('base', [makeResult()]);
    expect(await compareMain([base])).toBe(2);
    expect(output.err).toContain('expected BASELINE and CURRENT');
    output.err = '';
    expect(await compareMain([base, base, '--threshold', 'lots'])).toBe(2);
    expect(output.err).toContain("threshold 'lots'");
    output.err = '';
    expect(await compareMain([base, join(dir, 'missing')])).toBe(2);
    expect(output.err).toMatch(/missing: cannot read: ENOENT/);
    output.err = '';
    const broken = join(dir, 'broken');
    writeResults(broken, [makeResult()]);
    writeFileSync(join(broken, 'ycsb-a-shardbox.json'), '{"schema": "shardbox.ycsb/0"}');
    expect(await compareMain([base, broken])).toBe(2);
    expect(output.err).toContain('ycsb-a-shardbox.json: schema is "shardbox.ycsb/0"');
    output.err = '';
    expect(await compareMain([base, base, '--bogus'])).toBe(2);
    expect(output.err).toContain('usage: shardbox compare');
  });

  it('returns 2 when the two sides have nothing in common', async () => {
    const base = write('base', [makeResult({ workload: 'a' })]);
    const cur = write('cur', [makeResult({ workload: 'b' })]);
    expect(await compareMain([base, cur])).toBe(2);
    expect(output.err).toContain('nothing to compare');
    expect(output.err).toContain('workload A, engine shardbox: only in baseline');
  });
});
