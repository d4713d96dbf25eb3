/**
 * The order in which a leader's round lets a write's answer and its followers' commit
 * notice go: the reply first (so the followers' applies do not take the cores the router
 * needs to read it), the notice before any peer is woken (so a follower that the router
 * then sends an eventually consistent read already knows the commit: read-after-write).
 * The production StorageNode over fake ports; the test plays the follower (node 1).
 */
import { describe, expect, it } from 'vitest';
import type { NodeTransport, TransportStats } from '../../src/node/ports.js';
import type { ReplicaMessage } from '../../src/replication/types.js';
import type { GroupRecord } from '../../src/storage/wal.js';
import type { Envelope, FormatVersion, RequestMessage } from '../../src/transport/protocol.js';
import { nodeOver, noTransportStats, putEntry, SHAPE } from './fixtures.js';

const LEADER = 0;
const FOLLOWER = 1;
const ROUTER = 7;
const rec: GroupRecord = { group: 1, tableId: 1, tableName: 't', keyShape: SHAPE, hashStart: '0000000000000000', hashEnd: 'ffffffffffffffff', voters: [LEADER, FOLLOWER] };

type Event = { kind: 'send'; peer: number; envelope: Envelope } | { kind: 'wake'; peer: number };

class RecordingTransport implements NodeTransport {
  readonly id = LEADER;
  readonly peers = [FOLLOWER, ROUTER];
  readonly sendVersion: FormatVersion = 1;
  readonly versionRejected = 0;
  readonly lastRejectedVersion = 0;
  readonly inbox = new Map<number, Envelope[]>([[FOLLOWER, []], [ROUTER, []]]);
  events: Event[] = [];

  receive(peer: number, visit: (envelope: Envelope, version: FormatVersion) => void): number {
    const envelopes = this.inbox.get(peer)!;
    this.inbox.set(peer, []);
    for (const e of envelopes) visit(structuredClone(e), 1);
    return envelopes.length;
  }

  send<T>(peer: number, items: readonly T[], wrap: (batch: T[]) => unknown): number {
    this.events.push({ kind: 'send', peer, envelope: structuredClone(wrap(items.slice())) as Envelope });
    return items.length;
  }

  wake(peer: number): void {
    this.events.push({ kind: 'wake', peer });
  }

  corruptWrites(): void {}
  noteDecodeError(): void {}
  stats(): TransportStats {
    return noTransportStats();
  }
}

/** What the follower answers to each message the leader sent it: grants, and acks. */
function followerAnswers(events: Event[]): ReplicaMessage[] {
  const answers: ReplicaMessage[] = [];
  for (const event of events) {
    if (event.kind !== 'send' || event.peer !== FOLLOWER || event.envelope.k !== 'raft') continue;
    for (const raw of event.envelope.msgs) {
      const m = raw as ReplicaMessage;
      const base = { group: m.group, from: FOLLOWER, to: LEADER, term: m.term };
      if (m.type === 'preVote') answers.push({ ...base, type: 'preVoteReply', granted: true });
      else if (m.type === 'vote') answers.push({ ...base, type: 'voteReply', granted: true });
      else if (m.type === 'append') answers.push({ ...base, type: 'appendReply', success: true, matchIndex: m.prevIndex + m.entries.length, sentTick: m.sentTick });
    }
  }
  return answers;
}

describe('StorageNode: a write\'s reply and its commit notice to the followers', () => {
  it('the reply is written first, the notice next, and peers are woken only after both', () => {
    const transport = new RecordingTransport();
    let syncs = 0;
    const { node, store } = nodeOver(transport, () => { syncs++; });
    let nowMs = 0;
    let nextId = 1;
    /** One round (finishing its WAL sync at once); the follower answers what it got. */
    const round = (): Event[] => {
      nowMs += 5;
      transport.events = [];
      const before = syncs;
      node.round(nowMs);
      if (syncs > before) {
        store.makeDurable(store.takeUnsynced());
        node.syncCompleted();
      }
      const events = transport.events;
      const answers = followerAnswers(events);
      if (answers.length > 0) transport.inbox.get(FOLLOWER)!.push({ k: 'raft', msgs: answers });
      return events;
    };
    const request = (body: unknown): number => {
      const r: RequestMessage = { id: nextId++, group: 1, body };
      transport.inbox.get(ROUTER)!.push({ k: 'req', from: ROUTER, reqs: [r] });
      return r.id;
    };
    const replyIn = (events: Event[], id: number) => events.some((e) => e.kind === 'send' && e.peer === ROUTER && e.envelope.k === 'rep' && e.envelope.reps.some((r) => r.id === id));

    request({ t: 'createGroup', rec, campaign: true });
    // Elected, and its lease ready: a write is answered, not redirected.
    let served: { events: Event[]; id: number } | undefined;
    for (let attempt = 0; attempt < 100 && served === undefined; attempt++) {
      const id = request({ t: 'write', entry: putEntry(`k${attempt}`) });
      for (let r = 0; r < 20; r++) {
        const events = round();
        if (!replyIn(events, id)) continue;
        const rep = events.find((e) => e.kind === 'send' && e.peer === ROUTER && e.envelope.k === 'rep' && e.envelope.reps.some((x) => x.id === id))!;
        const answer = (rep as { envelope: Extract<Envelope, { k: 'rep' }> }).envelope.reps.find((x) => x.id === id)!;
        if (answer.redirect === undefined) served = { events, id };
        break;
      }
    }
    expect(served, 'the leader never served a write').toBeDefined();
    const { events, id } = served!;
    const replyAt = events.findIndex((e) => e.kind === 'send' && e.peer === ROUTER && e.envelope.k === 'rep' && e.envelope.reps.some((r) => r.id === id));
    const noticeAt = events.findIndex((e) => e.kind === 'send' && e.peer === FOLLOWER && e.envelope.k === 'raft'
      && e.envelope.msgs.some((m) => (m as ReplicaMessage).type === 'append' && (m as { entries: unknown[] }).entries.length === 0));
    const wakes = events.map((e, i) => (e.kind === 'wake' ? i : -1)).filter((i) => i >= 0);
    expect(noticeAt, 'the round that answered the write sent the follower its commit').toBeGreaterThanOrEqual(0);
    expect(replyAt).toBeLessThan(noticeAt);
    const wokenFollower = events.findIndex((e, i) => i > replyAt && e.kind === 'wake' && e.peer === FOLLOWER);
    const wokenRouter = events.findIndex((e, i) => i > replyAt && e.kind === 'wake' && e.peer === ROUTER);
    expect(wokenRouter).toBeGreaterThan(noticeAt);
    expect(wokenFollower).toBeGreaterThan(noticeAt);
    expect(wakes.length).toBeGreaterThan(0);
  });
});
