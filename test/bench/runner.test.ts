/**
 * The YCSB harness end to end, small: every engine loads, finds its maximum, chooses a
 * top rate and runs open-loop levels, and what it writes is complete and self-consistent
 * (counts, outcomes, intended ≥ actual latency, interval logs that HdrHistogram reads).
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { HistogramLogReader } from 'hdr-histogram-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadWorkload } from '../../bench/ycsb/properties.js';
import { runBench, type BenchOptions } from '../../bench/ycsb/runner.js';
import { MAX_ERROR_RATE, outcomeRates, SUSTAINED_RULE, type OperationName, type RunResult } from '../../bench/ycsb/results.js';
import type { EngineName } from '../../bench/ycsb/engines.js';

let out: string;
beforeEach(() => {
  out = mkdtempSync(path.join(os.tmpdir(), 'shardbox-ycsb-test-'));
});
afterEach(() => {
  rmSync(out, { recursive: true, force: true });
});

function options(engine: EngineName, workloads: string[], { endpointUrl, ...extra }: Partial<BenchOptions> & { endpointUrl?: string } = {}): BenchOptions {
  return {
    engines: [{ name: engine, kind: engine, ...(endpointUrl !== undefined ? { endpoint: endpointUrl } : {}) }],
    workloads: workloads.map((name) => {
      const w = loadWorkload(name);
      return { name: w.name, properties: { ...w.properties, recordcount: '2000', fieldcount: '10', fieldlength: '90', requestdistribution: 'uniform', threadcount: '2' } };
    }),
    durability: 'async',
    nodes: 3,
    partitions: 2,
    quick: true,
    repeat: 1,
    levels: [0.1, 0.25, 0.5, 1],
    times: { maxWarmup: 0.2, maxMeasure: 0.5, probeWarmup: 0.2, probeMeasure: 0.5, levelWarmup: 0.2, levelMeasure: 1 },
    out,
    seed: 7,
    region: 'us-east-1',
    print: () => {},
    progressBar: false,
    ...extra,
  };
}

/** What must hold of any result, whatever the engine. */
function checkResult(result: RunResult, expectedOps: OperationName[]): void {
  const where = `${result.workload}/${result.engine}`;
  expect(result.loadPhase.records, where).toBe(2000);
  expect(result.loadPhase.errors, where).toBe(0);
  expect(result.maxThroughput.opsPerSec, where).toBeGreaterThan(0);
  expect(result.topRate.opsPerSec, where).toBeGreaterThan(0);
  expect(result.levels.map((l) => l.fraction)).toEqual([0.1, 0.25, 0.5, 1]);
  for (const level of result.levels) {
    expect(level.targetOpsPerSec).toBe(Math.max(1, Math.round(result.topRate.opsPerSec * level.fraction)));
    const rates = outcomeRates(level);
    expect(level.errorRate).toBe(rates.errorRate);
    expect(level.throttleRate).toBe(rates.throttleRate);
    expect(level.sustained).toBe(level.achievedOpsPerSec >= 0.95 * level.targetOpsPerSec && rates.errorRate <= MAX_ERROR_RATE);
    expect(Object.keys(level.operations).sort()).toEqual([...expectedOps].sort());
    for (const op of expectedOps) {
      const r = level.operations[op]!;
      const outcomes = Object.values(r.outcomes).reduce((a, b) => a + (b ?? 0), 0);
      expect(outcomes, `${where} ${op}: outcomes add up to count`).toBe(r.count);
      expect(r.errors).toBe(r.count - (r.outcomes.OK ?? 0));
      expect(r.intended.count, `${where} ${op}: the OK ones have latencies`).toBe(r.outcomes.OK ?? 0);
      expect(r.actual.count).toBe(r.outcomes.OK ?? 0);
      // ... and every other one has its latency from its intended start beside them.
      expect(r.intendedFailed?.count ?? 0, `${where} ${op}: the others have latencies`).toBe(r.errors);
      // Measured from the intended start, never shorter than from the actual start.
      expect(r.intended.p50).toBeGreaterThanOrEqual(r.actual.p50);
      expect(r.intended.max).toBeGreaterThanOrEqual(r.actual.max);
      expect(r.intended.p99).toBeGreaterThanOrEqual(r.intended.p50);
    }
    // Every operation of the level is in the window: about target × seconds of them.
    const total = Object.values(level.operations).reduce((a, r) => a + r!.count, 0);
    expect(total).toBeGreaterThanOrEqual(Math.floor(level.targetOpsPerSec * (level.durationMs / 1000)) - 2);
    expect(level.timeline.length).toBeGreaterThanOrEqual(1);
    const hlog = readFileSync(path.join(out, level.hlog), 'utf8');
    const reader = new HistogramLogReader(hlog);
    let intervals = 0;
    const tags = new Set<string>();
    for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
      intervals++;
      tags.add(h.tag);
    }
    expect(intervals).toBeGreaterThan(0);
    for (const op of expectedOps) expect(tags.has(`Intended-${op}`), `${level.hlog} has Intended-${op}`).toBe(true);
  }
  expect(result.sustainedRule).toBe(SUSTAINED_RULE);
  const file = JSON.parse(readFileSync(path.join(out, `ycsb-${result.workload}-${result.engine}.json`), 'utf8')) as RunResult;
  expect(file).toEqual(JSON.parse(JSON.stringify(result)));
}

describe('YCSB runner', () => {
  it('runs workloads A and B on the embedded cluster from client threads with their own routers', async () => {
    const results = await runBench(options('shardbox', ['a', 'b']));
    expect(results.map((r) => r.workload)).toEqual(['a', 'b']);
    checkResult(results[0], ['READ', 'UPDATE']);
    checkResult(results[1], ['READ', 'UPDATE']);
    expect(results[0].config.threadcount).toBe(2);
    expect(results[0].clientCpu.clientCores).toBeGreaterThan(0);
  });

  it('runs inserts, scans and read-modify-writes (workloads D, E, F) on raw LMDB', async () => {
    const results = await runBench(options('lmdb', ['d', 'e', 'f']));
    checkResult(results[0], ['READ', 'INSERT']);
    checkResult(results[1], ['SCAN', 'INSERT']);
    checkResult(results[2], ['READ', 'READ-MODIFY-WRITE']);
    for (const r of results) expect(r.levels.every((l) => Object.values(l.operations).every((o) => o!.errors === 0))).toBe(true);
  });

  it('drives a DynamoDB-compatible HTTP endpoint through the AWS SDK (dynalite here)', async () => {
    const dynalite = createRequire(import.meta.url)('dynalite') as (o: object) => import('node:http').Server;
    const server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const results = await runBench(options('dynamodb', ['a'], { endpointUrl: endpoint, levels: [0.5, 1] }));
      expect(results[0].config.endpoint).toBe(endpoint);
      // dynalite on a busy 2-core machine may do only tens of operations a second, so one
      // short level can miss an operation type: count over both levels.
      const ok = (op: 'READ' | 'UPDATE'): number => results[0].levels.reduce((n, l) => n + (l.operations[op]?.outcomes.OK ?? 0), 0);
      expect(ok('READ')).toBeGreaterThan(0);
      expect(ok('UPDATE')).toBeGreaterThan(0);
      expect(existsSync(path.join(out, 'ycsb-a-dynamodb.json'))).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fixes the top rate with -p target and counts operations that cannot finish as TIMEOUT, not dropping them', async () => {
    // A target far beyond what raw LMDB does from two JS threads: the engine falls behind.
    const o = options('lmdb', ['a']);
    o.workloads[0].properties.target = '1000000';
    o.levels = [1];
    o.times = { ...o.times, levelMeasure: 0.5 };
    const [result] = await runBench(o);
    expect(result.topRate.probes).toEqual([]);
    const level = result.levels[0];
    expect(level.targetOpsPerSec).toBe(1_000_000);
    expect(level.sustained).toBe(false);
    const total = Object.values(level.operations).reduce((a, r) => a + r!.count, 0);
    // Every operation due in the window is accounted for, finished or not, and each one
    // that did not succeed has a latency from its intended start.
    expect(total).toBeGreaterThanOrEqual(1_000_000 * (level.durationMs / 1000) - 2);
    for (const r of Object.values(level.operations)) {
      expect(r!.intended.count + (r!.intendedFailed?.count ?? 0)).toBe(r!.count);
    }
  });

  it('runs the noop engine through the same threads, pacing and recording, at the load of the engine before it', async () => {
    const o = options('noop', ['a'], { levels: [0.5, 1] });
    o.engines = [{ name: 'lmdb', kind: 'lmdb' }, { name: 'noop', kind: 'noop' }];
    const results = await runBench(o);
    expect(results.map((r) => r.engine)).toEqual(['lmdb', 'noop']);
    const noop = results[1];
    expect(noop.topRate).toMatchObject({ opsPerSec: results[0].topRate.opsPerSec, probes: [] });
    expect(noop.topRate.rule).toContain('the top rate of lmdb in this run');
    expect(noop.levels.map((l) => l.targetOpsPerSec)).toEqual(results[0].levels.map((l) => l.targetOpsPerSec));
    expect(noop.environment.durability).toBe('none');
    expect(noop.loadPhase).toMatchObject({ records: 2000, errors: 0 });
    expect(noop.maxThroughput.errorRate).toBe(0);
    for (const level of noop.levels) {
      expect(level.sustained).toBe(true);
      expect(level.errorRate).toBe(0);
      for (const op of ['READ', 'UPDATE'] as const) {
        const r = level.operations[op]!;
        expect(r.outcomes).toEqual({ OK: r.count });
        expect(r.intended.count).toBe(r.count);
      }
    }
    expect(existsSync(path.join(out, 'ycsb-a-noop.json'))).toBe(true);
    expect(existsSync(path.join(out, 'ycsb-a-noop-100pct.hlog'))).toBe(true);
  });
});
