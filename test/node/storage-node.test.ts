/**
 * The production StorageNode driven by hand through fake ports: one node hosting a
 * one-replica group, a router endpoint, a disk whose syncs complete when the test says,
 * and a clock that moves only when the test moves it. Checks the stage stamps a reply
 * carries and a few request answers, deterministically.
 */
import { describe, expect, it } from 'vitest';
import { encodeItemKeyWithHash } from '../../src/model/key-encoding.js';
import { partitionHash } from '../../src/model/hash.js';
import type { NodeTransport, TransportStats } from '../../src/node/ports.js';
import { leastRecentlyTakenFirst } from '../../src/node/storage-node.js';
import { encodeWriteOp } from '../../src/storage/codec.js';
import type { GroupRecord } from '../../src/storage/wal.js';
import { ReplyTrace, type Envelope, type FormatVersion, type ReplyMessage, type RequestMessage } from '../../src/transport/protocol.js';
import { nodeOver, noTransportStats, putEntry, SHAPE } from './fixtures.js';

const NODE = 0;
const ROUTER = 7;

class FakeTransport implements NodeTransport {
  readonly id = NODE;
  readonly peers = [ROUTER];
  readonly sendVersion: FormatVersion = 1;
  readonly versionRejected = 0;
  readonly lastRejectedVersion = 0;
  inbox: Envelope[] = [];
  replies: ReplyMessage[] = [];

  receive(_peer: number, visit: (envelope: Envelope, version: FormatVersion) => void): number {
    const envelopes = this.inbox;
    this.inbox = [];
    for (const e of envelopes) visit(structuredClone(e), 1);
    return envelopes.length;
  }

  send<T>(peer: number, items: readonly T[], wrap: (batch: T[]) => unknown): number {
    // Encode now, as a ring does: what the node changes afterwards is not in the record.
    const envelope = structuredClone(wrap(items.slice())) as Envelope;
    if (peer === ROUTER && envelope.k === 'rep') this.replies.push(...envelope.reps);
    return items.length;
  }

  wake(): void {}
  corruptWrites(): void {}
  noteDecodeError(): void {}
  stats(): TransportStats {
    return noTransportStats();
  }
}

function setup(warn: (message: string) => void = (message) => { throw new Error(message); }) {
  let clockMs = 1000;
  let roundMs = 0;
  const transport = new FakeTransport();
  let syncsStarted = 0;
  const { node, store } = nodeOver(transport, () => { syncsStarted++; }, { warn, traceClock: () => clockMs });
  let nextId = 1;
  const send = (group: number, body: unknown): number => {
    const request: RequestMessage = { id: nextId++, group, body };
    transport.inbox.push({ k: 'req', from: ROUTER, reqs: [request] });
    return request.id;
  };
  const finishSync = (): void => {
    store.makeDurable(store.takeUnsynced());
    node.syncCompleted();
  };
  return {
    node, transport, send, finishSync, store,
    get syncsStarted() { return syncsStarted; },
    advance: (ms: number) => { clockMs += ms; },
    now: () => clockMs,
    /** One round, `stepMs` after the last on the node's own clock. */
    round: (stepMs: number) => { roundMs += stepMs; return node.round(roundMs); },
  };
}

const rec: GroupRecord = { group: 1, tableId: 1, tableName: 't', keyShape: SHAPE, hashStart: '0000000000000000', hashEnd: 'ffffffffffffffff', voters: [NODE] };

/** Runs rounds (finishing syncs as they start) until `id` is answered. */
function until(h: ReturnType<typeof setup>, id: number, roundMs: number, beforeSync?: () => void): ReplyMessage {
  for (let i = 0; i < 200; i++) {
    const synced = h.syncsStarted;
    h.round(roundMs);
    if (h.syncsStarted > synced) {
      beforeSync?.();
      h.finishSync();
    }
    const reply = h.transport.replies.find((r) => r.id === id);
    if (reply !== undefined) return reply;
    h.advance(roundMs / 2);
  }
  throw new Error(`request ${id} was never answered`);
}

/** A one-replica group, elected leader and serving. */
function leaderNode(warn?: (message: string) => void): ReturnType<typeof setup> {
  const h = setup(warn);
  const created = h.send(1, { t: 'createGroup', rec, campaign: true });
  until(h, created, 10);
  // The first write also waits out the new leader's lease (notReady): retry until served.
  for (let i = 0; i < 50; i++) {
    const id = h.send(1, { t: 'write', entry: putEntry('warm') });
    const reply = until(h, id, 10);
    if (reply.redirect === undefined) return h;
  }
  throw new Error('the group never served a write');
}

describe('StorageNode reply traces', () => {
  it('stamps a write: received, proposed, synced, committed, applied, replied, in order on the trace clock', () => {
    const h = leaderNode();
    h.transport.replies = [];
    const receivedAt = h.now();
    const id = h.send(1, { t: 'write', entry: putEntry('a') });
    // The sync takes 3 ms of the trace clock.
    const reply = until(h, id, 10, () => h.advance(3));
    expect(reply.redirect).toBeUndefined();
    expect(reply.body).toMatchObject({ ok: true });
    const t = reply.trace!;
    expect(t).toHaveLength(ReplyTrace.LENGTH);
    expect(t[ReplyTrace.RECEIVED]).toBe(receivedAt);
    // Every later stage: whole µs after RECEIVED.
    for (let stage = ReplyTrace.STARTED; stage < ReplyTrace.LENGTH; stage++) expect(Number.isInteger(t[stage])).toBe(true);
    expect(t[ReplyTrace.STARTED]).toBeGreaterThanOrEqual(0);
    expect(t[ReplyTrace.SYNCED]).toBeGreaterThanOrEqual(t[ReplyTrace.STARTED] + 3000);
    expect(t[ReplyTrace.COMMITTED]).toBeGreaterThanOrEqual(t[ReplyTrace.SYNCED]);
    expect(t[ReplyTrace.APPLIED]).toBeGreaterThanOrEqual(t[ReplyTrace.COMMITTED]);
    expect(t[ReplyTrace.REPLIED]).toBeGreaterThanOrEqual(t[ReplyTrace.APPLIED]);
    expect(t[ReplyTrace.REPLIED]).toBeGreaterThan(0);
  });

  it('stamps a read: no commit, no sync', () => {
    const h = leaderNode();
    const key = { pk: { S: 'warm' } };
    const id = h.send(1, { t: 'get', consistent: false, req: { tableId: 1, key } });
    const reply = until(h, id, 10);
    expect(reply.body).toMatchObject({ item: { pk: { S: 'warm' }, v: { S: 'x' } } });
    const t = reply.trace!;
    expect(t[ReplyTrace.COMMITTED]).toBe(t[ReplyTrace.STARTED]);
    expect(t[ReplyTrace.SYNCED]).toBe(ReplyTrace.NOT_SYNCED);
    expect(t[ReplyTrace.APPLIED]).toBeGreaterThanOrEqual(t[ReplyTrace.STARTED]);
    expect(t[ReplyTrace.REPLIED]).toBeGreaterThanOrEqual(t[ReplyTrace.APPLIED]);
  });

  it('sends no trace with a redirect', () => {
    const h = leaderNode();
    const id = h.send(99, { t: 'get', consistent: true, req: { tableId: 1, key: { pk: { S: 'warm' } } } });
    const reply = until(h, id, 10);
    expect(reply.redirect).toBe('noGroup');
    expect(reply.trace).toBeUndefined();
  });
});

describe('StorageNode requests', () => {
  it('answers dropGroup for a group it does not host as dropped (the control plane must not retry it forever)', () => {
    const h = setup();
    const id = h.send(42, { t: 'dropGroup' });
    const reply = until(h, id, 10);
    expect(reply).toEqual({ id, body: { dropped: true } });
  });

  it('redirects any other request for a group it does not host with noGroup', () => {
    const h = setup();
    const id = h.send(42, { t: 'write', entry: putEntry('a') });
    expect(until(h, id, 10)).toEqual({ id, redirect: 'noGroup' });
  });
});

describe('StorageNode with a damaged stored item', () => {
  /** A leader holding items a and b, with a's stored value damaged (a byte flipped, its
   *  checksum left as it was). */
  function damaged() {
    const warnings: string[] = [];
    const h = leaderNode((message) => warnings.push(message));
    for (const pk of ['a', 'b']) expect(until(h, h.send(1, { t: 'write', entry: putEntry(pk) }), 10).body).toEqual({ ok: true });
    const stored = Buffer.from(encodeItemKeyWithHash(1, partitionHash({ S: 'a' }), SHAPE, { pk: { S: 'a' } })).toString('latin1');
    h.store.items.map.get(stored)![6] ^= 0xff;
    return { h, warnings };
  }
  const get = (pk: string, consistent: boolean) => ({ t: 'get', consistent, req: { tableId: 1, key: { pk: { S: pk } } } });

  it('never answers a read with it: an eventually consistent read goes to another replica, a strong one fails retryably', () => {
    const { h, warnings } = damaged();
    const eventual = until(h, h.send(1, get('a', false)), 10);
    expect(eventual.body).toBeUndefined();
    expect(eventual.redirect).toBe('notLeader');
    expect(eventual.leader).toBeUndefined(); // it leads itself: the router tries the next replica
    const strong = until(h, h.send(1, get('a', true)), 10);
    expect(strong.body).toBeUndefined();
    expect(strong.error?.name).toBe('InternalServerError');
    // Its other items are served: each is checked on its own.
    expect(until(h, h.send(1, get('b', true)), 10).body).toEqual({ item: { pk: { S: 'b' }, v: { S: 'x' } } });
    const stats = h.node.stats();
    expect(stats.itemChecksumErrors).toBe(2);
    expect(stats.groupsMarkedDamaged).toBe(1);
    expect(stats.damagedGroups).toEqual([1]);
    expect(stats.store.itemChecksumFailures).toBe(2);
    expect(warnings).toHaveLength(1);
  });

  it('a write that reads it stops the group before that entry: no wrong answer, no later apply, no stale read', () => {
    const { h } = damaged();
    const appliedBefore = h.store.appliedIndex(1);
    const key = { pk: { S: 'a' } };
    const conditional = encodeWriteOp({
      type: 'put', tableId: 1, key, item: { ...key, v: { S: 'y' } }, returnValues: 'NONE', condition: { kind: 'attribute_exists', path: ['pk'] },
      itemKey: encodeItemKeyWithHash(1, partitionHash(key.pk), SHAPE, key),
    });
    const reply = until(h, h.send(1, { t: 'write', entry: conditional }), 10);
    expect(reply.body).toBeUndefined();
    expect(reply.error?.name).toBe('InternalServerError');
    expect(h.store.appliedIndex(1)).toBe(appliedBefore);
    // Later writes commit but are not applied here: answered as of unknown outcome.
    expect(until(h, h.send(1, { t: 'write', entry: putEntry('c') }), 10).error?.name).toBe('InternalServerError');
    expect(h.store.appliedIndex(1)).toBe(appliedBefore);
    // Its state is behind its log: not even intact items are served.
    expect(until(h, h.send(1, get('b', false)), 10).redirect).toBe('notLeader');
    expect(until(h, h.send(1, get('b', true)), 10).error?.name).toBe('InternalServerError');
    expect(h.node.stats().damagedGroups).toEqual([1]);
    expect(h.node.stats().itemChecksumErrors).toBe(1);
  });
});

describe('leastRecentlyTakenFirst (a full ring must not refuse the same groups every time)', () => {
  const message = (group: number, n: number) => ({ type: 'append', group, n }) as unknown as Parameters<typeof leastRecentlyTakenFirst>[0][number];
  const order = (messages: ReturnType<typeof message>[]) => messages.map((m) => `${m.group}.${(m as unknown as { n: number }).n}`);

  it('puts the groups taken least lately first, never-taken ones before all, each group in its own order', () => {
    const messages = [message(1, 1), message(2, 1), message(1, 2), message(3, 1), message(2, 2)];
    leastRecentlyTakenFirst(messages, new Map([[1, 7], [2, 3]]));
    expect(order(messages)).toEqual(['3.1', '2.1', '2.2', '1.1', '1.2']);
  });

  it('lets every group through a ring that takes one message a flush', () => {
    const taken = new Map<number, number>();
    const through = new Set<number>();
    for (let flush = 1; flush <= 3; flush++) {
      // Every group has a message in every flush, in the same order (as cores are visited).
      const messages = [message(1, flush), message(2, flush), message(3, flush)];
      leastRecentlyTakenFirst(messages, taken);
      taken.set(messages[0].group, flush);
      through.add(messages[0].group);
    }
    expect([...through].sort()).toEqual([1, 2, 3]);
  });
});
