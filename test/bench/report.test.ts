import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  flatnessRatio,
  formatEngineRatios,
  formatLatency,
  formatLevelHeading,
  formatLevelReport,
  formatSummary,
  javaDouble,
} from '../../bench/ycsb/report.js';
import { readResults } from '../../bench/ycsb/result-files.js';
import type { RunResult } from '../../bench/ycsb/results.js';
import { makePercentiles, makeResult, writeResults } from './fixtures.js';

/** A workload A result whose 100% level has exact, hand-written numbers. */
function exactResult(): RunResult {
  const r = makeResult({ workload: 'a', notSustained: [1] });
  const top = r.levels[3];
  top.durationMs = 10_019.4;
  top.achievedOpsPerSec = 9_600;
  top.operations = {
    READ: {
      count: 48_091,
      errors: 0,
      outcomes: { OK: 48_091 },
      intended: { count: 48_091, min: 663, mean: 2509.9655, p50: 2139, p95: 5668, p99: 8556, p999: 16256, max: 40213 },
      actual: { count: 48_091, min: 617, mean: 2334.2715, p50: 1989, p95: 4660, p99: 6845, p999: 13005, max: 32171 },
    },
    UPDATE: {
      count: 48_091,
      errors: 120,
      outcomes: { OK: 47_971, THROTTLED: 100, TIMEOUT: 20 },
      intended: { count: 47_971, min: 1936, mean: 7327.5, p50: 6244, p95: 14575, p99: 21390, p999: 40641, max: 100533 },
      actual: { count: 47_971, min: 1800, mean: 6814.4485, p50: 5807, p95: 12025, p99: 17112, p999: 32513, max: 80426 },
      failed: { count: 120, min: 19893, mean: 75297.1405, p50: 64170, p95: 122993, p99: 171120, p999: 325128, max: 804264 },
      intendedFailed: { count: 120, min: 20893, mean: 80297.1405, p50: 66170, p95: 132993, p99: 181120, p999: 425128, max: 1804264 },
    },
  };
  return r;
}

describe('javaDouble (YCSB prints Java doubles)', () => {
  it('formats like Double.toString', () => {
    expect(javaDouble(1234.5678)).toBe('1234.5678');
    expect(javaDouble(9600)).toBe('9600.0');
    expect(javaDouble(0)).toBe('0.0');
    expect(javaDouble(0.5)).toBe('0.5');
    expect(javaDouble(12_345_678.9)).toBe('1.23456789E7');
    expect(javaDouble(1e7)).toBe('1.0E7');
    expect(javaDouble(0.0001)).toBe('1.0E-4');
    expect(javaDouble(0.001)).toBe('0.001');
    expect(javaDouble(Number.NaN)).toBe('NaN');
  });
});

describe('formatLevelReport', () => {
  const result = exactResult();
  const report = formatLevelReport(result, result.levels[3]);
  const lines = report.trimEnd().split('\n');

  it('starts with the OVERALL lines', () => {
    expect(lines[0]).toBe('[OVERALL], RunTime(ms), 10019');
    expect(lines[1]).toBe('[OVERALL], Throughput(ops/sec), 9600.0');
  });

  it('prints the op measurement from actual, with every outcome as a Return line', () => {
    expect(lines.slice(2, 11)).toEqual([
      '[READ], Operations, 48091',
      '[READ], AverageLatency(us), 2334.2715',
      '[READ], MinLatency(us), 617',
      '[READ], MaxLatency(us), 32171',
      '[READ], 50thPercentileLatency(us), 1989',
      '[READ], 95thPercentileLatency(us), 4660',
      '[READ], 99thPercentileLatency(us), 6845',
      '[READ], 99.9thPercentileLatency(us), 13005',
      '[READ], Return=OK, 48091',
    ]);
    expect(lines).toContain('[UPDATE], Operations, 47971');
    expect(lines).toContain('[UPDATE], Return=OK, 47971');
    expect(lines).toContain('[UPDATE], Return=THROTTLED, 100');
    expect(lines).toContain('[UPDATE], Return=TIMEOUT, 20');
  });

  it('prints failed operations as OP-FAILED and intended latency as Intended-OP', () => {
    expect(lines).toContain('[UPDATE-FAILED], Operations, 120');
    expect(lines).toContain('[UPDATE-FAILED], AverageLatency(us), 75297.1405');
    expect(lines).toContain('[UPDATE-FAILED], 99thPercentileLatency(us), 171120');
    expect(lines).toContain('[Intended-READ], Operations, 48091');
    expect(lines).toContain('[Intended-READ], AverageLatency(us), 2509.9655');
    expect(lines).toContain('[Intended-READ], 50thPercentileLatency(us), 2139');
    expect(lines).toContain('[Intended-UPDATE], AverageLatency(us), 7327.5');
    expect(lines).toContain('[Intended-UPDATE], 99.9thPercentileLatency(us), 40641');
    // Failed ones from their intended start too, as YCSB's Intended-OP-FAILED.
    expect(lines).toContain('[Intended-UPDATE-FAILED], Operations, 120');
    expect(lines).toContain('[Intended-UPDATE-FAILED], 99thPercentileLatency(us), 181120');
    expect(lines.some((l) => l.startsWith('[Intended-READ-FAILED]'))).toBe(false);
    // YCSB counts statuses on the op measurement only when measurement.interval=both.
    expect(lines.some((l) => l.startsWith('[Intended-') && l.includes('Return='))).toBe(false);
    expect(lines.some((l) => l.startsWith('[UPDATE-FAILED], Return='))).toBe(false);
  });

  it('puts every op measurement before the intended ones, as YCSB exports them', () => {
    const firstIntended = lines.findIndex((l) => l.startsWith('[Intended-'));
    const lastOp = lines.map((l) => /^\[(READ|UPDATE)(-FAILED)?\]/.test(l)).lastIndexOf(true);
    expect(lastOp).toBeLessThan(firstIntended);
    expect(lines.every((l) => /^\[[A-Za-z-]+\], [^,]+, -?[0-9.E-]+$/.test(l))).toBe(true);
    expect(lines).toHaveLength(2 + (8 + 1) + (8 + 3) + 8 + 8 + 8 + 8);
  });

  it('leaves out a FAILED block when nothing failed', () => {
    const r = makeResult({ workload: 'b' });
    const text = formatLevelReport(r, r.levels[0]);
    expect(text).not.toContain('-FAILED]');
    expect(text).toContain('[Intended-UPDATE], Operations, ');
  });
});

describe('formatLevelHeading', () => {
  it('names workload, engine, fraction, target, achieved and NOT SUSTAINED', () => {
    const r = exactResult();
    const heading = formatLevelHeading(r, r.levels[3]);
    expect(heading).toContain('workload A');
    expect(heading).toContain('shardbox');
    expect(heading).toContain('100%');
    expect(heading).toContain('target 12,000 ops/s');
    expect(heading).toContain('achieved 9,600 ops/s');
    expect(heading).toContain('100 failed (THROTTLED 100), 20 timed out: 0.12% of operations');
    expect(heading).toContain('NOT SUSTAINED (80.0% of target, 0.12% failed)');
    expect(formatLevelHeading(r, r.levels[0])).not.toContain('NOT SUSTAINED');
  });
});

describe('formatSummary', () => {
  const failing = makeResult({
    workload: 'a',
    notSustained: [1],
    errors: [
      { fraction: 1, operation: 'UPDATE', outcome: 'THROTTLED', count: 120 },
      { fraction: 0.5, operation: 'READ', outcome: 'TIMEOUT', count: 3 },
    ],
  });
  const fine = makeResult({ workload: 'b', topRate: 15_000, seed: 2 });
  const summary = formatSummary([failing, fine]);

  it('has a table per (workload, engine) with the four latency columns', () => {
    expect(summary).toContain('== YCSB workload A on shardbox (durability sync) ==');
    expect(summary).toContain('== YCSB workload B on shardbox (durability sync) ==');
    expect(summary).toMatch(/level +target ops\/s +achieved ops\/s +failed +throttled +read p50 +read p99 +write p50 +write p99/);
    expect(summary).toContain('achieved and latencies: successful operations only');
    expect(summary).toContain('read = READ, write = UPDATE');
    const row10 = summary.split('\n').find((l) => l.trimStart().startsWith('10%'))!;
    expect(row10).toContain('1,200');
    expect(row10).toContain('310 µs');
    expect(row10).toContain('1.24 ms');
    expect(row10).toContain('905 µs');
    expect(row10).toContain('3.10 ms');
  });

  it('shows levels not sustained and every error, beside the latencies they are not in', () => {
    const row100 = summary.split('\n').find((l) => l.trimStart().startsWith('100%') && l.includes('9,600'))!;
    expect(row100).toContain('9,600 !');
    // failed and throttled, each with its share of the level's operations
    expect(row100).toMatch(/ 120 \(0\.\d\d%\) +120 \(0\.\d\d%\) /);
    expect(summary.replace(/\n +/g, ' ')).toContain('NOT SUSTAINED at 100%; sustained means: achieved (successful operations per second) ≥ 95% of the target, and at most 1%');
    expect(summary).toMatch(/100%: not in p50\/p99: 120 failed \(THROTTLED 120\) — UPDATE: THROTTLED 120, from intended start p99 [0-9.]+ ms,\s+max [0-9.]+ ms/);
    expect(summary).toContain('50%: not in p50/p99: 3 timed out — READ: TIMEOUT 3, from intended start p99');
    expect(summary).not.toContain('10%: not in p50/p99');
  });

  it('says what an engine leaves out', () => {
    const lmdb = formatSummary([makeResult({ engine: 'lmdb' })]);
    expect(lmdb).toMatch(/leaves out\s+request\s+validation, routing, the thread hop, replication and the WAL/);
    expect(formatSummary([makeResult({ engine: 'noop' })])).toMatch(/engine: answers every operation at once/);
  });

  it('reads a result file written before failures were counted apart', () => {
    const legacy = makeResult({ legacy: true, notSustained: [1], errors: [{ fraction: 1, operation: 'UPDATE', outcome: 'ERROR', count: 7 }] });
    const text = formatSummary([legacy]);
    expect(text).toContain('NOT SUSTAINED at 100%; sustained means: achieved within 5% of the target');
    expect(text).toContain('100%: not in p50/p99: 7 failed (ERROR 7) — UPDATE: ERROR 7');
  });

  it('shows max throughput, top rate and its rule, client CPU', () => {
    expect(summary).toContain('max throughput (closed loop): 15,720 ops/s');
    expect(summary).toContain('top rate (100% level): 12,000 ops/s, chosen by: open-loop probes');
    expect(summary).toContain('client CPU: client threads 1.42 cores (8.9% of 16 cores), whole process 2.10 cores');
  });

  it('keeps lines under 110 characters', () => {
    for (const line of summary.split('\n')) expect(line.length).toBeLessThanOrEqual(110);
  });

  it('names the write operation of other workloads', () => {
    expect(formatSummary([makeResult({ workload: 'd' })])).toContain('write = INSERT');
    expect(formatSummary([makeResult({ workload: 'f' })])).toContain('write = READ-MODIFY-WRITE');
    expect(formatSummary([makeResult({ workload: 'c' })])).toContain('write = none');
  });
});

describe('flatness ratio', () => {
  it('is p at the top level ÷ p at the lowest level', () => {
    const r = makeResult({ workload: 'a', growth: 1.15 });
    const low = r.levels[0].operations.READ!.intended;
    const top = r.levels[3].operations.READ!.intended;
    expect(flatnessRatio(r, 'READ', 'p99')).toBeCloseTo(top.p99 / low.p99, 10);
    expect(flatnessRatio(r, 'UPDATE', 'p50')).toBeCloseTo(r.levels[3].operations.UPDATE!.intended.p50 / r.levels[0].operations.UPDATE!.intended.p50, 10);
  });

  it('uses the fractions, not the order the levels are stored in', () => {
    const r = makeResult({ workload: 'a' });
    r.levels[0].operations.READ!.intended = makePercentiles(1000, 200, 1000);
    r.levels[3].operations.READ!.intended = makePercentiles(1000, 300, 2500);
    r.levels.reverse();
    expect(flatnessRatio(r, 'READ', 'p99')).toBe(2.5);
    expect(flatnessRatio(r, 'READ', 'p50')).toBe(1.5);
    expect(formatSummary([r])).toMatch(/flatness \(100% ÷ 10%, 1\.00× = flat\): read p50 1\.50×, read p99 2\.50×/);
  });

  it('is NaN without two levels or without the operation', () => {
    expect(flatnessRatio(makeResult({ fractions: [1] }), 'READ', 'p99')).toBeNaN();
    expect(flatnessRatio(makeResult({ workload: 'c' }), 'UPDATE', 'p99')).toBeNaN();
  });
});

describe('formatEngineRatios', () => {
  it('compares every engine to the first, per workload', () => {
    const results = [
      makeResult({ workload: 'a', engine: 'shardbox' }),
      makeResult({ workload: 'a', engine: 'lmdb', latencyScale: 0.25, topRate: 48_000 }),
    ];
    const text = formatEngineRatios(results);
    expect(text).toContain('workload A: engines against shardbox');
    expect(text).toContain('62,880 (4.00×)'); // max throughput 48,000 × 1.31 against 12,000 × 1.31
    expect(text).toMatch(/lmdb +[0-9,]+ +0 +78 µs \(0\.25×\)/);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(110);
  });

  it('puts the noop engine (the harness alone) in the table like any other, with failures beside throughput', () => {
    const results = [
      makeResult({ workload: 'a', engine: 'shardbox', errors: [{ fraction: 1, operation: 'READ', outcome: 'THROTTLED', count: 40 }] }),
      makeResult({ workload: 'a', engine: 'noop', durability: 'none', latencyScale: 0.1 }),
    ];
    const text = formatEngineRatios(results);
    expect(text).toMatch(/noop +[0-9,]+ \(1\.00×\) +[0-9,]+ \(1\.00×\) +none/);
    expect(text).toMatch(/100% +shardbox +[0-9,]+ +40 \(0\.\d\d%\) /);
    expect(text).toMatch(/noop +[0-9,]+ +0 +31 µs \(0\.10×\)/);
  });

  it('is empty for one engine', () => {
    expect(formatEngineRatios([makeResult()])).toBe('');
  });
});

describe('formatLatency', () => {
  it('picks µs or ms', () => {
    expect(formatLatency(310)).toBe('310 µs');
    expect(formatLatency(1240)).toBe('1.24 ms');
    expect(formatLatency(21_390)).toBe('21.4 ms');
    expect(formatLatency(250_000)).toBe('250 ms');
    expect(formatLatency(12_500_000)).toBe('12.50 s');
  });
});

describe('readResults', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a directory of result files and a single file', () => {
    dir = mkdtempSync(join(tmpdir(), 'shardbox-report-'));
    const files = writeResults(dir, [makeResult({ workload: 'a' }), makeResult({ workload: 'b' })]);
    writeFileSync(join(dir, 'other.json'), '{}');
    expect(readResults(dir).map((r) => r.workload)).toEqual(['a', 'b']);
    expect(readResults(files[1])[0].workload).toBe('b');
  });

  it('names the file and the problem', () => {
    dir = mkdtempSync(join(tmpdir(), 'shardbox-report-'));
    const bad = join(dir, 'ycsb-a-shardbox.json');
    writeFileSync(bad, '{ not json');
    expect(() => readResults(bad)).toThrow(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
    writeFileSync(bad, JSON.stringify({ ...makeResult(), schema: 'other/2' }));
    expect(() => readResults(bad)).toThrow(/ycsb-a-shardbox\.json: schema is "other\/2", expected "shardbox\.ycsb\/1"/);
    const broken = makeResult() as unknown as { levels: { operations: { READ: { intended: { p99: unknown } } } }[] };
    broken.levels[2].operations.READ.intended.p99 = 'fast';
    writeFileSync(bad, JSON.stringify(broken));
    expect(() => readResults(dir)).toThrow(/ycsb-a-shardbox\.json: levels\[2\]\.operations\.READ\.intended\.p99 should be a number, is a string/);
    const noLevels = { ...makeResult() } as Partial<RunResult>;
    delete noLevels.levels;
    writeFileSync(bad, JSON.stringify(noLevels));
    expect(() => readResults(dir)).toThrow(/levels should be an array, is missing/);
  });

  it('says when a directory holds no result files or a path does not exist', () => {
    dir = mkdtempSync(join(tmpdir(), 'shardbox-report-'));
    mkdirSync(join(dir, 'empty'));
    expect(() => readResults(join(dir, 'empty'))).toThrow(/no result files \(ycsb-\*\.json\)/);
    expect(() => readResults(join(dir, 'nope'))).toThrow(/nope: cannot read: ENOENT/);
  });
});
