/**
 * The order in which a leader's round lets a write's answer and its followers' commit
 * notice go: the notice first, in the follower's ring before the reply is in the router's
 * (so a follower that the router then sends an eventually consistent read already knows
 * the commit: read-after-write), and the notice alone wakes no follower (its apply serves
 * only its reads, and would take the cores the router needs to read the reply).
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

/** The leader's node over `transport`, one round at a time: each round's WAL sync finishes
 *  at once, and the follower answers what the round sent it. Returns the round's events. */
function leaderRounds(transport: RecordingTransport): (nowMs: number) => Event[] {
  let syncs = 0;
  const { node, store } = nodeOver(transport, () => { syncs++; });
  return (nowMs) => {
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
}

describe('StorageNode: a write\'s reply and its commit notice to the followers', () => {
  it('the notice is written first, the reply next, and the router is woken after both', () => {
    const transport = new RecordingTransport();
    const leaderRound = leaderRounds(transport);
    let nowMs = 0;
    let nextId = 1;
    const round = (): Event[] => leaderRound((nowMs += 5));
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
    expect(noticeAt, 'the round that answered the write sent the follower its commit').toBeGreaterThanOrEqual(0);
    expect(noticeAt).toBeLessThan(replyAt);
    const wokenRouter = events.findIndex((e, i) => i > replyAt && e.kind === 'wake' && e.peer === ROUTER);
    expect(wokenRouter, 'the router is woken after its reply is written').toBeGreaterThan(replyAt);
  });

  it('a record of commit notices alone wakes no follower; any other record to it does', () => {
    const transport = new RecordingTransport();
    const leaderRound = leaderRounds(transport);
    transport.inbox.get(ROUTER)!.push({ k: 'req', from: ROUTER, reqs: [{ id: 1, group: 1, body: { t: 'createGroup', rec, campaign: true } }] });
    const records: Array<{ noticesOnly: boolean; woken: boolean }> = [];
    for (let r = 0; r < 300; r++) {
      if (r % 3 === 0) transport.inbox.get(ROUTER)!.push({ k: 'req', from: ROUTER, reqs: [{ id: 100 + r, group: 1, body: { t: 'write', entry: putEntry(`k${r}`) } }] });
      const events = leaderRound(r + 1);
      events.forEach((e, i) => {
        if (e.kind !== 'send' || e.peer !== FOLLOWER || e.envelope.k !== 'raft') return;
        const next = events.findIndex((x, j) => j > i && x.kind === 'send' && x.peer === FOLLOWER);
        const woken = events.some((w, j) => j > i && (next < 0 || j < next) && w.kind === 'wake' && w.peer === FOLLOWER);
        const noticesOnly = (e.envelope.msgs as ReplicaMessage[]).every((m) => m.type === 'append' && m.commitOnly === true);
        records.push({ noticesOnly, woken });
      });
    }
    const notices = records.filter((x) => x.noticesOnly);
    const others = records.filter((x) => !x.noticesOnly);
    expect(notices.length, 'records of commit notices alone were sent').toBeGreaterThan(10);
    expect(others.length, 'votes, entries and heartbeats were sent').toBeGreaterThan(10);
    expect(notices.filter((x) => x.woken), 'the commit notice alone wakes no follower').toEqual([]);
    expect(others.filter((x) => !x.woken), 'every other record wakes the follower').toEqual([]);
  });
});
