/**
 * RouterCore, driven by hand: a fake transport whose rings hold a set number of requests,
 * and a clock that moves only when the test says. Every timer, redirect, retry and the
 * backpressure rule is checked without threads or sleeps.
 */
import { describe, expect, it } from 'vitest';
import { DynamoDBError } from '../../src/model/errors.js';
import {
  MAX_BATCH, MAX_IN_FLIGHT_BYTES_PER_NODE, MAX_IN_FLIGHT_PER_NODE, MAX_QUEUED_PER_NODE, RouterCore, type RouterTransport, type Target,
} from '../../src/router/router-core.js';
import type { RequestMessage } from '../../src/transport/protocol.js';

class FakeTransport implements RouterTransport {
  readonly id = 100;
  /** Requests each node's ring has room for; Infinity by default. */
  readonly room = new Map<number, number>();
  readonly rings = new Map<number, RequestMessage[]>();
  readonly draining = new Set<number>();
  wakes = 0;
  /** Bodies that are "too large for any record". */
  readonly tooLarge = new Set<unknown>();

  write(node: number, requests: readonly RequestMessage[], onTooLarge: (request: RequestMessage) => void): number {
    const ring = this.rings.get(node) ?? [];
    this.rings.set(node, ring);
    let written = 0;
    for (const request of requests) {
      if (this.tooLarge.has(request.body)) {
        onTooLarge(request);
        written++;
        continue;
      }
      const room = this.room.get(node) ?? Infinity;
      if (room <= 0) break;
      this.room.set(node, room - 1);
      ring.push(request);
      written++;
    }
    return written;
  }

  wake(): void {
    this.wakes++;
  }

  isDraining(node: number): boolean {
    return this.draining.has(node);
  }

  /** Takes what `node` received so far. */
  take(node: number): RequestMessage[] {
    return this.rings.get(node)?.splice(0) ?? [];
  }
}

interface Result {
  value?: unknown;
  error?: DynamoDBError;
}

function setup(options: { attemptTimeoutMs?: number; deadlineMs?: number } = {}) {
  const transport = new FakeTransport();
  const core = new RouterCore(transport, { attemptTimeoutMs: 100, deadlineMs: 1000, ...options });
  const send = (target: Target, body: unknown, idempotent: boolean, nowMs: number): Result => {
    const result: Result = {};
    core.request(target, body, idempotent, nowMs, {
      resolve: (value) => { result.value = value; },
      reject: (error) => { result.error = error; },
    });
    return result;
  };
  return { transport, core, send };
}

const leaderOf = (group: number): Target => ({ mode: 'leader', group, replicas: [0, 1, 2] });

describe('RouterCore', () => {
  it('queues a request until flush, then sends it to the first replica and resolves it with the reply', () => {
    const { transport, core, send } = setup();
    const r = send(leaderOf(7), { t: 'get' }, true, 0);
    expect(transport.take(0)).toEqual([]);
    expect(core.queuedFor(0)).toBe(1);
    core.flush(0);
    const [sent] = transport.take(0);
    expect(sent).toMatchObject({ group: 7, body: { t: 'get' } });
    expect(transport.wakes).toBe(1);
    expect(core.inFlightTo(0)).toBe(1);
    core.onReply({ id: sent.id, body: { item: 1 } }, 1);
    expect(r).toEqual({ value: { item: 1 } });
    expect(core.outstandingCount).toBe(0);
    expect(core.leaderOf(7)).toBe(0);
  });

  it('writes a full batch at once, without waiting for flush', () => {
    const { transport, core, send } = setup();
    for (let i = 0; i < MAX_BATCH; i++) send(leaderOf(1), i, false, 0);
    expect(transport.take(0)).toHaveLength(MAX_BATCH);
    expect(core.queuedFor(0)).toBe(0);
  });

  it('turns a node error into a rejection with its DynamoDB name', () => {
    const { transport, core, send } = setup();
    const r = send(leaderOf(1), 'w', false, 0);
    core.flush(0);
    core.onReply({ id: transport.take(0)[0].id, error: { name: 'ValidationException', message: 'bad' } }, 1);
    expect(r.error).toBeInstanceOf(DynamoDBError);
    expect(r.error?.name).toBe('ValidationException');
    expect(r.error?.message).toBe('bad');
  });

  it('follows a notLeader hint at once and remembers the leader', () => {
    const { transport, core, send } = setup();
    const r = send(leaderOf(3), 'w', false, 0);
    core.flush(0);
    core.onReply({ id: transport.take(0)[0].id, redirect: 'notLeader', leader: 2 }, 1);
    core.flush(1);
    const [again] = transport.take(2);
    expect(again.body).toBe('w');
    expect(core.leaderOf(3)).toBe(2);
    core.onReply({ id: again.id, body: 'ok' }, 2);
    expect(r.value).toBe('ok');
    expect(core.counters).toMatchObject({ redirects: 1, retries: 1 });
    // The next request goes straight to the leader it learned.
    send(leaderOf(3), 'w2', false, 3);
    core.flush(3);
    expect(transport.take(2).map((m) => m.body)).toEqual(['w2']);
  });

  it('a request routed with a stale map gets wrongPartition, follows the map once it moved the key, and succeeds there', () => {
    const { transport, core, send } = setup();
    // The router's map: group 3 on nodes 0-2 until the split is published, then group 9 on 3-5.
    let map = { group: 3, replicas: [0, 1, 2] };
    let asked = 0;
    const target: Target = { mode: 'leader', group: 3, replicas: [0, 1, 2], reroute: () => { asked++; return map; } };
    const r = send(target, 'w', false, 0);
    core.flush(0);
    // Split applied on the leader, map not yet published: wait (back off), same group.
    core.onReply({ id: transport.take(0)[0].id, redirect: 'wrongPartition' }, 1);
    core.flush(1);
    expect(asked).toBe(1);
    expect([0, 1, 2].flatMap((n) => transport.take(n))).toEqual([]);
    core.tick(1000 / 2);
    core.flush(1000 / 2);
    const [again] = [0, 1, 2].flatMap((n) => transport.take(n));
    expect(again.group).toBe(3);
    // Published: the next wrongPartition goes to the new group at once, on its nodes.
    map = { group: 9, replicas: [3, 4, 5] };
    core.onReply({ id: again.id, redirect: 'wrongPartition' }, 501);
    core.flush(501);
    const [moved] = [3, 4, 5].flatMap((n) => transport.take(n));
    expect(moved).toMatchObject({ group: 9, body: 'w' });
    core.onReply({ id: moved.id, body: 'ok' }, 502);
    expect(r.value).toBe('ok');
    expect(r.error).toBeUndefined();
  });

  it('without a way to re-route, wrongPartition is retried until the deadline and fails retryably', () => {
    const { transport, core, send } = setup({ deadlineMs: 300 });
    const r = send(leaderOf(3), 'w', false, 0);
    for (let now = 0; now <= 400 && r.error === undefined; now += 10) {
      core.tick(now);
      core.flush(now);
      for (const n of [0, 1, 2]) for (const m of transport.take(n)) core.onReply({ id: m.id, redirect: 'wrongPartition' }, now);
    }
    expect(r.error?.name).toBe('ServiceUnavailable');
  });

  it('backs off after busy and notReady, doubling, then re-sends to the same node', () => {
    const { transport, core, send } = setup();
    send(leaderOf(1), 'w', false, 0);
    core.flush(0);
    core.onReply({ id: transport.take(0)[0].id, redirect: 'busy' }, 10);
    // attempts = 1: back-off 2 ms.
    expect(core.nextTimerAt()).toBe(12);
    core.tick(11.9);
    core.flush(11.9);
    expect(transport.take(0)).toEqual([]);
    core.tick(12);
    core.flush(12);
    const [second] = transport.take(0);
    core.onReply({ id: second.id, redirect: 'notReady', leader: 0 }, 20);
    // attempts = 2: back-off 4 ms.
    expect(core.nextTimerAt()).toBe(24);
  });

  it('fails a request that keeps being redirected at its deadline, as retryable and unapplied', () => {
    const { transport, core, send } = setup({ deadlineMs: 50 });
    const r = send(leaderOf(1), 'w', false, 0);
    let now = 0;
    core.flush(now);
    for (let i = 0; i < 20 && r.error === undefined; i++) {
      const sent = [0, 1, 2].flatMap((n) => transport.take(n));
      for (const m of sent) core.onReply({ id: m.id, redirect: 'notLeader' }, now);
      now = core.nextTimerAt();
      if (!Number.isFinite(now)) break;
      core.tick(now);
      core.flush(now);
    }
    expect(r.error?.name).toBe('ServiceUnavailable');
    expect(r.error?.retryable).toBe(true);
    expect(core.outstandingCount).toBe(0);
  });

  it('fails a request its node keeps refusing as busy with a ThrottlingException at the deadline', () => {
    const { transport, core, send } = setup({ deadlineMs: 50 });
    const r = send(leaderOf(1), 'w', false, 0);
    let now = 0;
    core.flush(now);
    for (let i = 0; i < 20 && r.error === undefined; i++) {
      for (const m of transport.take(0)) core.onReply({ id: m.id, redirect: 'busy' }, now);
      now = core.nextTimerAt();
      if (!Number.isFinite(now)) break;
      core.tick(now);
      core.flush(now);
    }
    expect(r.error?.name).toBe('ThrottlingException');
    expect(r.error?.message).toMatch(/not applied/);
    expect(core.counters.throttled).toBe(1);
  });

  it('starts the attempt timer when the request enters the ring, not when it is queued', () => {
    const { transport, core, send } = setup({ attemptTimeoutMs: 100 });
    transport.room.set(0, 0); // node 0's ring is full
    const r = send(leaderOf(1), 'w', false, 0);
    core.flush(0);
    core.tick(60);
    transport.room.set(0, 10); // the node drained its ring
    core.flush(60);
    expect(transport.take(0)).toHaveLength(1);
    core.tick(159); // 159 ms since queued, 99 ms since written: still waiting
    expect(r).toEqual({});
    core.tick(160);
    expect(r.error?.name).toBe('InternalServerError');
    expect(r.error?.message).toMatch(/outcome of the write is unknown/);
  });

  it('retries a lost read on another replica, and fails a lost write as an unknown outcome', () => {
    const { transport, core, send } = setup({ attemptTimeoutMs: 100 });
    const read = send(leaderOf(1), 'r', true, 0);
    const write = send(leaderOf(2), 'w', false, 0);
    core.flush(0);
    expect(transport.take(0).map((m) => m.body)).toEqual(['r', 'w']);
    core.tick(100);
    core.flush(100);
    expect(write.error?.name).toBe('InternalServerError');
    expect(read).toEqual({});
    const [retried] = transport.take(1);
    expect(retried.body).toBe('r');
    core.onReply({ id: retried.id, body: 'value' }, 101);
    expect(read.value).toBe('value');
    expect(core.counters.timeouts).toBe(2);
  });

  it('ignores a reply to an attempt it gave up on', () => {
    const { transport, core, send } = setup({ attemptTimeoutMs: 100 });
    const r = send(leaderOf(1), 'w', false, 0);
    core.flush(0);
    const [sent] = transport.take(0);
    core.tick(100);
    expect(r.error?.name).toBe('InternalServerError');
    core.onReply({ id: sent.id, body: 'late' }, 150);
    expect(r.value).toBeUndefined();
  });

  it('takes only the reply of the current attempt: a late answer to an earlier one is stale', () => {
    const { transport, core, send } = setup({ attemptTimeoutMs: 100 });
    const r = send(leaderOf(1), 'r', true, 0);
    core.flush(0);
    const [first] = transport.take(0);
    core.tick(100); // lost: retried on another replica
    core.flush(100);
    const [second] = transport.take(1);
    expect(second.id).not.toBe(first.id);
    core.onReply({ id: first.id, redirect: 'notLeader' }, 101);
    expect(core.counters.redirects).toBe(0);
    core.onReply({ id: second.id, body: 'fresh' }, 102);
    expect(r.value).toBe('fresh');
  });

  it('throttles a request when its node already has a full queue, and never sends it', () => {
    const { transport, core, send } = setup();
    transport.room.set(0, 0);
    const queued: Result[] = [];
    // Batches are written as they fill; none fits, so all of them stay queued.
    for (let i = 0; i < MAX_QUEUED_PER_NODE; i++) queued.push(send(leaderOf(1), i, false, 0));
    const refused = send(leaderOf(1), 'one too many', false, 0);
    expect(refused.error?.name).toBe('ThrottlingException');
    expect(refused.error?.retryable).toBe(true);
    expect(refused.error?.message).toMatch(/not applied/);
    expect(core.counters.throttled).toBe(1);
    expect(core.queuedFor(0)).toBe(MAX_QUEUED_PER_NODE);
    // Another group's leader on another node is not affected.
    const other = send({ mode: 'leader', group: 2, replicas: [1, 2, 0] }, 'x', false, 0);
    expect(other.error).toBeUndefined();
    // Once the ring has room, the queue drains in order, a window at a time, and the
    // refused one is not in it.
    transport.room.set(0, Infinity);
    core.flush(1);
    const first = transport.take(0);
    expect(first).toHaveLength(MAX_IN_FLIGHT_PER_NODE);
    expect(core.inFlightTo(0)).toBe(MAX_IN_FLIGHT_PER_NODE);
    core.flush(1);
    expect(transport.take(0)).toEqual([]);
    for (const m of first) core.onReply({ id: m.id, body: 'ok' }, 2);
    core.flush(2);
    const bodies = [...first, ...transport.take(0)].map((m) => m.body);
    expect(bodies).toEqual(Array.from({ length: MAX_QUEUED_PER_NODE }, (_, i) => i));
    expect(queued.every((r) => r.error === undefined)).toBe(true);
  });

  it('moves requests stuck behind a ring that stays full to another replica, writes included', () => {
    const { transport, core, send } = setup({ attemptTimeoutMs: 100 });
    transport.room.set(0, 0); // node 0 stopped reading its ring
    const w = send(leaderOf(1), 'w', false, 0);
    core.flush(0);
    core.tick(99);
    core.flush(99);
    expect(transport.take(1)).toEqual([]);
    core.tick(100);
    core.flush(100);
    const [moved] = transport.take(1);
    expect(moved.body).toBe('w');
    core.onReply({ id: moved.id, body: 'done' }, 101);
    expect(w.value).toBe('done');
  });

  it('re-routes what was queued for a node that died, and fails what was in its ring as unknown', () => {
    const { transport, core, send } = setup();
    const inRing = send(leaderOf(1), 'sent', false, 0);
    core.flush(0);
    expect(transport.take(0).map((m) => m.body)).toEqual(['sent']);
    transport.room.set(0, 0);
    const queued = send(leaderOf(1), 'queued', false, 1);
    core.flush(1);
    core.nodeDown(0, 2);
    core.flush(2);
    expect(inRing.error?.name).toBe('InternalServerError');
    expect(queued).toEqual({});
    expect([...transport.take(1), ...transport.take(2)].map((m) => m.body)).toEqual(['queued']);
    // While it is down, new requests avoid it.
    send(leaderOf(5), 'new', true, 3);
    core.flush(3);
    expect(transport.take(0)).toEqual([]);
    core.nodeUp(0);
    transport.room.set(0, Infinity);
    send(leaderOf(6), 'after', true, 4);
    core.flush(4);
    expect(transport.take(0).map((m) => m.body)).toEqual(['after']);
  });

  it('sends nothing new to a draining node while another replica can serve', () => {
    const { transport, core, send } = setup();
    transport.draining.add(0);
    send(leaderOf(1), 'w', false, 0);
    send({ mode: 'any', group: 1, replicas: [0, 1, 2] }, 'r1', true, 0);
    send({ mode: 'any', group: 1, replicas: [0, 1, 2] }, 'r2', true, 0);
    core.flush(0);
    expect(transport.take(0)).toEqual([]);
    expect([...transport.take(1), ...transport.take(2)].map((m) => m.body).sort()).toEqual(['r1', 'r2', 'w']);
  });

  it('keeps at most a window of requests in flight to one node; the rest wait for replies, not for a timeout', () => {
    const { transport, core, send } = setup({ attemptTimeoutMs: 100 });
    const results = Array.from({ length: MAX_IN_FLIGHT_PER_NODE + 10 }, (_, i) => send(leaderOf(1), i, false, 0));
    core.flush(0);
    const first = transport.take(0);
    expect(first).toHaveLength(MAX_IN_FLIGHT_PER_NODE);
    expect(core.queuedFor(0)).toBe(10);
    // Each answer lets one more in, in order; nothing is moved or timed out.
    for (let t = 5; t <= 50; t += 5) {
      core.onReply({ id: first.shift()!.id, body: 'ok' }, t);
      core.tick(t);
      core.flush(t);
    }
    expect(transport.take(0).map((m) => m.body)).toEqual(Array.from({ length: 10 }, (_, i) => MAX_IN_FLIGHT_PER_NODE + i));
    expect(transport.take(1)).toEqual([]);
    expect(results.filter((r) => r.error !== undefined)).toEqual([]);
  });

  it('bounds the bytes in flight to one node too: fewer large writes go at once, and one always goes', () => {
    const { transport, core } = setup();
    const big = MAX_IN_FLIGHT_BYTES_PER_NODE / 4;
    for (let i = 0; i < 6; i++) core.request(leaderOf(1), i, false, 0, { resolve: () => {}, reject: () => {} }, big);
    core.flush(0);
    const first = transport.take(0);
    expect(first.map((m) => m.body)).toEqual([0, 1, 2, 3]);
    core.onReply({ id: first[0].id, body: 'ok' }, 1);
    core.flush(1);
    expect(transport.take(0).map((m) => m.body)).toEqual([4]);
    // A single request larger than the whole window still goes when nothing is in flight.
    const { transport: t2, core: c2 } = setup();
    c2.request(leaderOf(1), 'huge', false, 0, { resolve: () => {}, reject: () => {} }, 2 * MAX_IN_FLIGHT_BYTES_PER_NODE);
    c2.flush(0);
    expect(t2.take(0).map((m) => m.body)).toEqual(['huge']);
  });

  it('fails a request too large for the transport with a ValidationException', () => {
    const { transport, core, send } = setup();
    transport.tooLarge.add('huge');
    const r = send(leaderOf(1), 'huge', false, 0);
    const ok = send(leaderOf(1), 'fine', false, 0);
    core.flush(0);
    expect(r.error?.name).toBe('ValidationException');
    expect(transport.take(0).map((m) => m.body)).toEqual(['fine']);
    expect(ok.error).toBeUndefined();
    expect(core.outstandingCount).toBe(1);
  });

  it('rejects everything outstanding on close, and new requests at once', () => {
    const { core, send } = setup();
    const a = send(leaderOf(1), 'a', false, 0);
    core.flush(0);
    const b = send(leaderOf(2), 'b', false, 0);
    core.close();
    expect(a.error?.name).toBe('ServiceUnavailable');
    expect(b.error?.name).toBe('ServiceUnavailable');
    const c = send(leaderOf(1), 'c', false, 1);
    expect(c.error?.name).toBe('ServiceUnavailable');
    expect(core.outstandingCount).toBe(0);
  });
});
