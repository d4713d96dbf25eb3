/** The harness's latency attribution: stages of one operation, a level's stages in the
 *  results file, and the report's stage table and slowest list. */
import { describe, expect, it } from 'vitest';
import { formatSlowest, stageBreakdown } from '../../bench/ycsb/report.js';
import { levelStagesOf, operationTiming, OVERLAPPING_STAGES, STAGE_ORDER } from '../../bench/ycsb/stages.js';
import { LatencyTracker, type RequestTiming } from '../../src/index.js';
import { msToUs, stagesOf } from '../../src/router/latency.js';
import { newTrace, ReplyTrace, stampTrace } from '../../src/transport/protocol.js';
import { seededRandom } from '../../src/model/prng.js';
import { makeResult } from './fixtures.js';
import { withStages } from './stage-fixtures.js';

/** The stages that add up to the total (walSync overlaps replicate). */
function sumOfStages(timing: RequestTiming): number {
  return Object.entries(timing.stages)
    .filter(([name]) => !(OVERLAPPING_STAGES as readonly string[]).includes(name))
    .reduce((sum, [, us]) => sum + (us ?? 0), 0);
}

/** A time on today's clock (ms since the epoch), where a double holds ~0.25 µs. */
const T = 1_796_319_236_518;

/** A node's trace from its stamps on the shared clock (ms), as StorageNode writes it. */
function nodeTrace(received: number, started: number, committed: number, applied: number, replied: number, synced?: number): number[] {
  const trace = newTrace(received);
  stampTrace(trace, ReplyTrace.STARTED, started);
  stampTrace(trace, ReplyTrace.COMMITTED, committed);
  stampTrace(trace, ReplyTrace.APPLIED, applied);
  stampTrace(trace, ReplyTrace.REPLIED, replied);
  if (synced !== undefined) stampTrace(trace, ReplyTrace.SYNCED, synced);
  return trace;
}

describe('operationTiming', () => {
  it('without a router timing: pacing and engine', () => {
    const timing = operationTiming('READ', 1000, 1000.25, 1001.5, undefined);
    expect(timing).toEqual({ kind: 'READ', totalUs: 1500, acceptedAtMs: 1000, stages: { pacing: 250, engine: 1250 } });
  });

  it("with a router timing: pacing, client, the router's stages and the residue, adding up to the total", () => {
    const router = stagesOf(
      'write',
      { acceptedAtMs: T + 0.3619, queuedAtMs: T + 0.3619, sentAtMs: T + 0.4108, receivedAtMs: T + 0.9588 },
      nodeTrace(T + 0.4459, T + 0.4611, T + 0.9032, T + 0.9098, T + 0.9231, T + 0.7049),
    )!;
    expect(router.totalUs).toBe(597);
    expect(router.stages).toEqual({ retry: 0, queue: 49, transit: 35, leader: 15, replicate: 443, apply: 6, reply: 13, return: 36, walSync: 244 });
    expect(sumOfStages(router)).toBe(597);

    const timing = operationTiming('UPDATE', T + 0.1001, T + 0.3502, T + 1.0129, router);
    expect(timing.kind).toBe('UPDATE');
    expect(timing.acceptedAtMs).toBe(T + 0.1001);
    expect(timing.totalUs).toBe(913);
    expect(timing.stages).toEqual({
      pacing: 250, client: 12, retry: 0, queue: 49, transit: 35, leader: 15, replicate: 443, apply: 6, reply: 13, return: 36, residue: 54, walSync: 244,
    });
    expect(sumOfStages(timing)).toBe(913);
  });

  it('adds up exactly for any stamps, never below zero, even when threads read the clock µs apart', () => {
    const random = seededRandom(42);
    let skewed = 0;
    for (let i = 0; i < 5000; i++) {
      // Consecutive boundaries 0-300 µs apart, each read up to 20 µs early or late.
      let at = T + random() * 1000;
      const next = () => (at += random() * 0.3) + (random() - 0.5) * 0.04;
      const [intended, actual, accepted, queued, sent, ...rest] = Array.from({ length: 12 }, next);
      const [nodeReceived, started, committed, applied, replied, routerReceived, end] = rest;
      const kind = i % 2 === 0 ? 'write' : 'read';
      const router = stagesOf(
        kind,
        { acceptedAtMs: accepted, queuedAtMs: queued, sentAtMs: sent, receivedAtMs: routerReceived },
        nodeTrace(nodeReceived, started, committed, applied, replied, kind === 'write' ? (started + committed) / 2 : undefined),
      )!;
      expect(sumOfStages(router)).toBe(router.totalUs);
      const timing = operationTiming(kind === 'write' ? 'UPDATE' : 'READ', intended, actual, end, router);
      expect(sumOfStages(timing)).toBe(timing.totalUs);
      for (const us of Object.values(timing.stages)) expect(us).toBeGreaterThanOrEqual(0);
      const inOrder = msToUs(intended) <= msToUs(actual) && msToUs(actual) <= msToUs(accepted) && msToUs(accepted) + router.totalUs <= msToUs(end);
      if (inOrder) {
        expect(timing.totalUs).toBe(msToUs(end) - msToUs(intended));
      } else {
        skewed++;
      }
      const plain = operationTiming('READ', intended, actual, end, undefined);
      expect(plain.stages.pacing! + plain.stages.engine!).toBe(plain.totalUs);
    }
    expect(skewed).toBeGreaterThan(0);
  });

  it("keeps the router's stages whole when its clock ran past the client's end: no residue, a longer total", () => {
    const router: RequestTiming = { kind: 'read', totalUs: 300, acceptedAtMs: 10.05, stages: { retry: 0, queue: 50, transit: 100, leader: 20, read: 30, reply: 40, return: 60 } };
    const timing = operationTiming('READ', 10, 10.04, 10.345, router);
    expect(timing.stages.residue).toBe(0);
    expect(timing.stages.client).toBe(10);
    expect(timing.totalUs).toBe(40 + 10 + 300);
  });
});

describe('levelStagesOf', () => {
  const read = (totalUs: number, acceptedAtMs: number, k: number): RequestTiming => ({
    kind: 'read', totalUs, acceptedAtMs, stages: { retry: 0, queue: 50 * k, transit: 100 * k, leader: 20 * k, read: 30 * k, reply: 40 * k, return: 60 * k },
  });
  const write: RequestTiming = {
    kind: 'write', totalUs: 500, acceptedAtMs: 30.52,
    stages: { retry: 0, queue: 10, transit: 40, leader: 10, replicate: 380, apply: 20, reply: 10, return: 30, walSync: 200 },
  };

  it('gives mean and percentiles per operation and stage, in display order, walSync after the stages and the total last', () => {
    const tracker = new LatencyTracker();
    tracker.record(operationTiming('READ', 10, 10.04, 10.4, read(300, 10.05, 1)));
    tracker.record(operationTiming('READ', 20, 20.08, 20.8, read(600, 20.1, 2)));
    tracker.record(operationTiming('UPDATE', 30, 30.5, 31.1, write));
    const stages = levelStagesOf(tracker);
    expect(Object.keys(stages).sort()).toEqual(['READ', 'UPDATE']);
    expect(Object.keys(stages.READ!)).toEqual(['pacing', 'client', 'retry', 'queue', 'transit', 'leader', 'read', 'reply', 'return', 'residue', 'total']);
    expect(Object.keys(stages.UPDATE!)).toEqual([
      'pacing', 'client', 'retry', 'queue', 'transit', 'leader', 'replicate', 'apply', 'reply', 'return', 'residue', 'walSync', 'total',
    ]);
    expect(stages.READ!.pacing).toEqual({ mean: 60, p50: 40, p99: 80, p999: 80, max: 80 });
    expect(stages.READ!.residue).toEqual({ mean: 75, p50: 50, p99: 100, p999: 100, max: 100 });
    expect(stages.READ!.retry).toEqual({ mean: 0, p50: 0, p99: 0, p999: 0, max: 0 });
    expect(stages.READ!.total).toEqual({ mean: 600, p50: 400, p99: 800, p999: 800, max: 800 });
    expect(stages.UPDATE!.walSync).toEqual({ mean: 200, p50: 200, p99: 200, p999: 200, max: 200 });
    expect(stages.UPDATE!.total.max).toBe(1100);
    // Means add up to the total's.
    for (const op of ['READ', 'UPDATE'] as const) {
      const s = stages[op]!;
      const sum = STAGE_ORDER.reduce((n, name) => n + (s[name]?.mean ?? 0), 0);
      expect(sum).toBe(s.total.mean);
    }
  });

  it('has pacing and engine for an engine without stages, and leaves out operations with no samples', () => {
    const tracker = new LatencyTracker();
    tracker.record(operationTiming('UPDATE', 30, 30.5, 31.7, undefined));
    expect(levelStagesOf(tracker)).toEqual({
      UPDATE: {
        pacing: { mean: 500, p50: 500, p99: 500, p999: 500, max: 500 },
        engine: { mean: 1200, p50: 1200, p99: 1200, p999: 1200, max: 1200 },
        total: { mean: 1700, p50: 1700, p99: 1700, p999: 1700, max: 1700 },
      },
    });
    tracker.reset();
    expect(levelStagesOf(tracker)).toEqual({});
  });
});

describe('stageBreakdown', () => {
  /** A table line's cells (columns are 2+ spaces apart; cells hold single spaces only). */
  const cells = (line: string) => line.trim().split(/ {2,}/);

  it('has a row per stage in display order and a column per level with stages', () => {
    const result = withStages(makeResult({ workload: 'a' }), [0.1, 0.5]);
    delete result.levels[2].stages!.UPDATE!.retry;
    const lines = stageBreakdown(result.levels, 'UPDATE');
    expect(lines[0]).toBe("UPDATE stages, p50 / p99 (mean) from the intended start; means add up to the total's, (walSync) overlaps replicate:");
    expect(cells(lines[1])).toEqual(['stage', '10%', '50%']);
    expect(lines.slice(2).map((l) => cells(l)[0])).toEqual([
      'pacing', 'client', 'retry', 'queue', 'transit', 'leader', 'replicate', 'apply', 'reply', 'return', 'residue', '(walSync)', 'total',
    ]);
    const row = (name: string) => cells(lines.find((l) => cells(l)[0] === name)!);
    // replicate: mean 420 µs at 10%, × 1.8 at 50%; p50 = 0.8 × mean, p99 = 4 × mean.
    expect(row('replicate')).toEqual(['replicate', '336 µs / 1.68 ms (420 µs)', '605 µs / 3.02 ms (756 µs)']);
    expect(row('retry')).toEqual(['retry', '2 µs / 8 µs (2 µs)', '—']);
    // Right-aligned level columns.
    expect(lines[1].length).toBe(Math.max(...lines.slice(1).map((l) => l.length)));
  });

  it('has reads without replication, and nothing for an operation or results without stages', () => {
    const result = withStages(makeResult({ workload: 'a' }));
    const lines = stageBreakdown(result.levels, 'READ');
    expect(cells(lines[1])).toEqual(['stage', '10%', '25%', '50%', '100%']);
    expect(lines.slice(2).map((l) => cells(l)[0])).toEqual(['pacing', 'client', 'retry', 'queue', 'transit', 'leader', 'read', 'reply', 'return', 'residue', 'total']);
    expect(stageBreakdown(result.levels, 'INSERT')).toEqual([]);
    expect(stageBreakdown(makeResult().levels, 'READ')).toEqual([]);
  });
});

describe('formatSlowest', () => {
  const level = makeResult().levels[0];
  const slow = (totalUs: number): RequestTiming => ({
    kind: 'UPDATE', totalUs, acceptedAtMs: 0,
    stages: { pacing: 500, client: 20, retry: 0, queue: 10, transit: 40, leader: 10, replicate: totalUs - 700, apply: 20, reply: 10, return: 30, residue: 60, walSync: 200 },
  });

  it('lists the N slowest with their non-zero stages in display order, walSync last', () => {
    const lines = formatSlowest({ ...level, slowest: [slow(9000), slow(4000), slow(1500)] }, 2);
    expect(lines).toEqual([
      'slowest 2 at 10% (1,200 ops/s):',
      'UPDATE 9.00 ms: pacing 500 µs, client 20 µs, queue 10 µs, transit 40 µs, leader 10 µs, replicate 8.30 ms,',
      '    apply 20 µs, reply 10 µs, return 30 µs, residue 60 µs, walSync 200 µs',
      'UPDATE 4.00 ms: pacing 500 µs, client 20 µs, queue 10 µs, transit 40 µs, leader 10 µs, replicate 3.30 ms,',
      '    apply 20 µs, reply 10 µs, return 30 µs, residue 60 µs, walSync 200 µs',
    ]);
  });

  it('prints nothing without slowest operations', () => {
    expect(formatSlowest(level, 5)).toEqual([]);
    expect(formatSlowest({ ...level, slowest: [] }, 5)).toEqual([]);
    expect(formatSlowest({ ...level, slowest: [slow(2000)] }, 0)).toEqual([]);
  });
});
