/** Latency attribution: stage arithmetic, the slowest-requests list, and merging trackers. */
import { describe, expect, it } from 'vitest';
import { LatencyTracker, READ_STAGES, stagesOf, WRITE_STAGES, type RequestTiming } from '../../src/router/latency.js';
import { RouterCore, type RouterTransport } from '../../src/router/router-core.js';
import { ReplyTrace, type RequestMessage } from '../../src/transport/protocol.js';

/** A write's node stamps (ms): received 10.1, proposed 10.15, synced 10.4, committed 10.6,
 *  applied 10.65, replied 10.7. */
/** Received at 10.1 ms; then µs after it: started, committed, applied, replied, synced. */
const WRITE_TRACE = [10.1, 50, 500, 550, 600, 300];

describe('stagesOf', () => {
  it('splits a write into consecutive stages that add up to its total', () => {
    const timing = stagesOf('write', { acceptedAtMs: 9.9, queuedAtMs: 9.95, sentAtMs: 10, receivedAtMs: 10.75 }, WRITE_TRACE)!;
    expect(timing.totalUs).toBe(850);
    expect(timing.stages).toEqual({
      retry: 50, queue: 50, transit: 100, leader: 50, replicate: 450, apply: 50, reply: 50, return: 50, walSync: 250,
    });
    const sum = WRITE_STAGES.reduce((total, stage) => total + (timing.stages[stage] ?? 0), 0);
    expect(sum).toBe(timing.totalUs);
  });

  it('gives a read its own stages, without replication', () => {
    const trace = [1.2, 300, 300, 303, 400, ReplyTrace.NOT_SYNCED];
    const timing = stagesOf('read', { acceptedAtMs: 1, queuedAtMs: 1, sentAtMs: 1.1, receivedAtMs: 1.7 }, trace)!;
    expect(timing.stages).toEqual({ retry: 0, queue: 100, transit: 100, leader: 300, read: 3, reply: 97, return: 100 });
    expect(READ_STAGES.reduce((total, stage) => total + (timing.stages[stage] ?? 0), 0)).toBe(timing.totalUs);
  });

  it('has nothing to say without a trace (a node of an older build)', () => {
    expect(stagesOf('read', { acceptedAtMs: 0, queuedAtMs: 0, sentAtMs: 0, receivedAtMs: 1 }, undefined)).toBeUndefined();
    expect(stagesOf('read', { acceptedAtMs: 0, queuedAtMs: 0, sentAtMs: 0, receivedAtMs: 1 }, [1, 2])).toBeUndefined();
  });
});

function timing(totalUs: number, kind: RequestTiming['kind'] = 'read'): RequestTiming {
  return { kind, totalUs, acceptedAtMs: 0, stages: kind === 'read' ? { transit: totalUs } : { replicate: totalUs } };
}

describe('LatencyTracker', () => {
  it('keeps per-kind stage percentiles and the slowest requests, slowest first', () => {
    const tracker = new LatencyTracker(3);
    for (const us of [5, 50, 7, 900, 60, 8]) tracker.record(timing(us));
    tracker.record(timing(2000, 'write'));
    const snap = tracker.snapshot();
    expect(snap.read.count).toBe(6);
    expect(snap.read.total.max).toBe(900);
    expect(snap.read.stages.transit?.count).toBe(6);
    expect(snap.write.stages.replicate?.p50).toBe(2000);
    expect(snap.slowest.map((t) => t.totalUs)).toEqual([2000, 900, 60]);
    tracker.reset();
    expect(tracker.snapshot().read.count).toBe(0);
    expect(tracker.snapshot().slowest).toEqual([]);
  });

  it('adds up trackers from several threads', () => {
    const a = new LatencyTracker(2);
    const b = new LatencyTracker(2);
    for (let i = 1; i <= 100; i++) a.record(timing(i));
    for (let i = 101; i <= 200; i++) b.record(timing(i));
    const sum = new LatencyTracker(2);
    sum.add(a.encode());
    sum.add(b.encode());
    const snap = sum.snapshot();
    expect(snap.read.count).toBe(200);
    expect(snap.read.total.max).toBe(200);
    expect(snap.read.total.p50).toBe(100);
    expect(snap.slowest.map((t) => t.totalUs)).toEqual([200, 199]);
  });
});

describe('RouterCore records stages of answered requests', () => {
  it('from the reply trace and its own stamps', () => {
    let ring: RequestMessage[] = [];
    const transport: RouterTransport = { id: 9, write: (_n, reqs) => { ring.push(...reqs); return reqs.length; }, wake: () => {}, isDraining: () => false };
    const core = new RouterCore(transport);
    core.request({ mode: 'leader', group: 1, replicas: [0] }, 'w', false, 9.9, { resolve: () => {}, reject: () => {} });
    core.flush(10);
    const [sent] = ring;
    ring = [];
    core.onReply({ id: sent.id, body: {}, trace: WRITE_TRACE }, 10.75);
    const snap = core.latency.snapshot();
    expect(snap.write.count).toBe(1);
    expect(snap.write.stages.queue?.max).toBe(100);
    expect(snap.write.stages.replicate?.max).toBe(450);
    expect(snap.slowest[0].totalUs).toBe(850);
    expect(ReplyTrace.LENGTH).toBe(WRITE_TRACE.length);
  });
});
