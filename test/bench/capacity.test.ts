/**
 * Issue 12 in the benchmark: a shardbox run whose table has a capacity records, per level,
 * the table's consumed and provisioned capacity, burst credit and throttled requests (and
 * per partition), stores them in the result file and prints them; a run without one
 * records and prints nothing of it. Both runs are tiny: one level of a second.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { levelCapacity, type CapacitySample } from '../../bench/ycsb/capacity.js';
import { compareMain } from '../../bench/ycsb/compare.js';
import { loadWorkload } from '../../bench/ycsb/properties.js';
import { formatSummary } from '../../bench/ycsb/report.js';
import { readResults } from '../../bench/ycsb/result-files.js';
import { runBench, type BenchOptions } from '../../bench/ycsb/runner.js';
import { captureOutput, makeResult, writeResults } from './fixtures.js';

let out: string;
beforeEach(() => {
  out = mkdtempSync(path.join(os.tmpdir(), 'shardbox-ycsb-capacity-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(out, { recursive: true, force: true });
});

/** Workload A on shardbox at a fixed 400 ops/s (no probes), one level of a second. */
function options(dir: string, capacity: Record<string, string>): BenchOptions {
  mkdirSync(dir, { recursive: true });
  const a = loadWorkload('a');
  return {
    engines: [{ name: 'shardbox', kind: 'shardbox' }],
    workloads: [{
      name: a.name,
      properties: { ...a.properties, recordcount: '100', fieldcount: '10', fieldlength: '90', requestdistribution: 'uniform', threadcount: '2', target: '400', ...capacity },
    }],
    durability: 'async',
    nodes: 3,
    partitions: 2,
    quick: true,
    repeat: 1,
    levels: [1],
    times: { maxWarmup: 0.2, maxMeasure: 0.5, probeWarmup: 0.2, probeMeasure: 0.5, levelWarmup: 0.2, levelMeasure: 1 },
    out: dir,
    seed: 12,
    region: 'us-east-1',
    print: () => {},
    progressBar: false,
  };
}

describe('YCSB capacity figures per level', () => {
  it('a provisioned table low enough to throttle: each level stores and prints consumed, provisioned, throttled and burst credit', async () => {
    // 1 unit a second, with 300 s of burst credit: the load takes 100 write units, and the
    // level's updates alone (200 a second for 1.2 s) ask for more than what is left, so the
    // level is throttled however slowly the closed-loop maximum ran before it.
    const dir = path.join(out, 'provisioned');
    const [result] = await runBench(options(dir, { billingmode: 'PROVISIONED', readcapacity: '1', writecapacity: '1' }));
    const [stored] = readResults(path.join(dir, 'ycsb-a-shardbox.json'));
    expect(stored.levels).toHaveLength(1);
    const capacity = stored.levels[0].capacity;
    expect(capacity, 'the level carries the table capacity').toBeDefined();
    expect(capacity).toMatchObject({ billingMode: 'PROVISIONED', readCapacityUnits: 1, writeCapacityUnits: 1 });
    expect(capacity!.durationMs).toBeGreaterThan(500);
    expect(capacity!.consumedReadUnits + capacity!.consumedWriteUnits).toBeGreaterThan(0);
    expect(capacity!.consumedWriteUnitsPerSec).toBeCloseTo((capacity!.consumedWriteUnits * 1000) / capacity!.durationMs, 0);
    expect(capacity!.throttledReads + capacity!.throttledWrites).toBeGreaterThan(0);
    expect(capacity!.throttledReadsPerSec + capacity!.throttledWritesPerSec).toBeGreaterThan(0);
    expect(capacity!.partitions.length).toBeGreaterThanOrEqual(2);
    const partitionConsumed = capacity!.partitions.reduce((sum, p) => sum + p.consumedReadUnitsPerSec + p.consumedWriteUnitsPerSec, 0);
    expect(partitionConsumed, 'the partitions consumed something too').toBeGreaterThan(0);
    // The harness saw throttles in the level too.
    expect(stored.levels[0].throttleRate).toBeGreaterThan(0);

    const summary = formatSummary([result]);
    expect(summary).toContain('capacity (PROVISIONED, units/s;');
    expect(summary).toMatch(/consumed RCU\/s +consumed WCU\/s +throttled\/s r \/ w/);
    const row = summary.split('\n').find((line) => /^ *100% +400 +1\.0 +1\.0 /.test(line));
    expect(row, summary).toBeDefined();

    // compare reads results with and without capacity alike (a baseline without, here).
    const baseline = path.join(out, 'baseline');
    writeResults(baseline, [makeResult({ workload: 'a', engine: 'shardbox', fractions: [1] })]);
    const output = captureOutput();
    expect(await compareMain([baseline, dir])).not.toBe(2);
    expect(await compareMain([dir, baseline])).not.toBe(2);
    expect(output.err).toBe('');
    expect(output.out).toContain('shardbox');
  }, 60_000);

  it('a table without capacity (admission off): no capacity in the levels, no capacity table', async () => {
    const [result] = await runBench(options(out, {}));
    const [stored] = readResults(path.join(out, 'ycsb-a-shardbox.json'));
    for (const level of [...result.levels, ...stored.levels]) expect(level).not.toHaveProperty('capacity');
    expect(formatSummary([result])).not.toContain('capacity (');
  }, 60_000);
});

describe('levelCapacity', () => {
  const figures = { readCapacityUnits: 100, writeCapacityUnits: 50, readBurstCredit: 0, writeBurstCredit: 0, consumedReadUnitsPerSec: 0, consumedWriteUnitsPerSec: 0, throttledReadsPerSec: 0, throttledWritesPerSec: 0 };
  /** A reading at `atMs` with the table's and each partition's running totals [read units, write units, throttled reads, throttled writes]. */
  function sample(atMs: number, totals: number[], partitions: Record<number, number[]>, credit = 0): CapacitySample {
    const running = (t: number[]) => ({ consumedReadUnits: t[0], consumedWriteUnits: t[1], throttledReads: t[2], throttledWrites: t[3] });
    return {
      atMs,
      table: {
        table: 'usertable', billingMode: 'PROVISIONED', ...figures, ...running(totals), readBurstCredit: credit, writeBurstCredit: credit / 2,
        partitions: Object.entries(partitions).map(([group, t]) => ({ group: Number(group), hashStart: `start${group}`, hashEnd: `end${group}`, ...figures, ...running(t) })),
      },
    };
  }

  it('adds up the growth of the running totals over every window and divides by their time', () => {
    const c = levelCapacity([
      { start: sample(1_000, [10, 10, 0, 0], { 1: [5, 5, 0, 0] }), end: sample(3_000, [210, 110, 4, 2], { 1: [105, 55, 2, 1] }) },
      // Between the repeats group 1 split into 2 and 3: the children count from zero.
      { start: sample(10_000, [300, 200, 4, 2], { 2: [0, 0, 0, 0] }), end: sample(12_000, [500, 300, 8, 2], { 2: [100, 40, 0, 0], 3: [100, 60, 4, 0] }, 42) },
    ]);
    expect(c).toMatchObject({
      billingMode: 'PROVISIONED', readCapacityUnits: 100, writeCapacityUnits: 50, durationMs: 4_000,
      consumedReadUnits: 400, consumedWriteUnits: 200, consumedReadUnitsPerSec: 100, consumedWriteUnitsPerSec: 50,
      throttledReads: 8, throttledWrites: 2, throttledReadsPerSec: 2, throttledWritesPerSec: 0.5,
      readBurstCredit: 42, writeBurstCredit: 21,
    });
    expect(c.partitions.map((p) => [p.group, p.consumedReadUnitsPerSec, p.consumedWriteUnitsPerSec, p.throttledReadsPerSec])).toEqual([[2, 25, 10, 0], [3, 25, 15, 1]]);
  });

  it('never counts a running total that started over (a restarted node) as negative', () => {
    const c = levelCapacity([{ start: sample(0, [50, 50, 3, 3], { 1: [50, 50, 3, 3] }), end: sample(1_000, [60, 50, 3, 3], { 1: [10, 0, 0, 0] }) }]);
    expect(c.consumedReadUnits).toBe(10);
    expect(c.partitions[0]).toMatchObject({ consumedReadUnitsPerSec: 0, consumedWriteUnitsPerSec: 0, throttledReadsPerSec: 0 });
  });
});
