/**
 * Ring-message format versions 1 and 2: every envelope and replication message reads back
 * the same from either, version 2 is not readable as version 1, and it is smaller.
 */
import { describe, expect, it } from 'vitest';
import { raftFromWire, raftToWire } from '../../src/node/raft-wire.js';
import type { ReplicaMessage } from '../../src/replication/types.js';
import { MessageCodec, messageCodec, writeBatched } from '../../src/transport/codec.js';
import {
  envelopeFromWire, envelopeToWire, readEnvelopes, WireFormatError, type Envelope, type FormatVersion,
} from '../../src/transport/protocol.js';
import { Ring } from '../../src/transport/ring.js';

const data = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

const RAFT: ReplicaMessage[] = [
  {
    type: 'append', group: 7, from: 0, to: 2, term: 3, prevIndex: 41, prevTerm: 2,
    entries: [{ term: 2, index: 42, data: data(100, 1) }, { term: 3, index: 43, data: new Uint8Array(0) }, { term: 3, index: 44, data: data(900, 9) }],
    commit: 40, sentTick: 1234, compactable: 30,
  },
  { type: 'append', group: 7, from: 0, to: 1, term: 3, prevIndex: 44, prevTerm: 3, entries: [], commit: 44, sentTick: 1240, compactable: 44 },
  // To a log replica: restart the log after the committed (prevIndex, prevTerm).
  { type: 'append', group: 7, from: 0, to: 3, term: 3, prevIndex: 44, prevTerm: 3, entries: [], commit: 44, sentTick: 1240, compactable: 44, logStart: true },
  // Only tells the commit index (not answered once accepted).
  { type: 'append', group: 7, from: 0, to: 1, term: 3, prevIndex: 44, prevTerm: 3, entries: [], commit: 45, sentTick: 1241, compactable: 44, commitOnly: true },
  { type: 'appendReply', group: 7, from: 1, to: 0, term: 3, success: true, matchIndex: 44, sentTick: 1240 },
  { type: 'appendReply', group: 7, from: 1, to: 0, term: 3, success: false, matchIndex: 12, sentTick: 1240, rejectedIndex: 41 },
  { type: 'preVote', group: 1, from: 2, to: 0, term: 5, lastIndex: 9, lastTerm: 4 },
  { type: 'preVoteReply', group: 1, from: 0, to: 2, term: 5, granted: false },
  { type: 'vote', group: 1, from: 2, to: 0, term: 5, lastIndex: 9, lastTerm: 4 },
  { type: 'vote', group: 1, from: 2, to: 0, term: 6, lastIndex: 9, lastTerm: 4, transfer: true },
  { type: 'voteReply', group: 1, from: 0, to: 2, term: 6, granted: true },
  { type: 'timeoutNow', group: 1, from: 0, to: 2, term: 6 },
];

const ENVELOPES: Envelope[] = [
  { k: 'req', from: 3, reqs: [{ id: 1, group: 4, body: { t: 'get', consistent: true, req: { tableId: 1, key: data(8, 2) } } }, { id: 2, group: 5, body: { t: 'status' } }] },
  {
    k: 'rep', reps: [
      { id: 1, body: { item: { a: 1 } } },
      { id: 2, redirect: 'notLeader', leader: 2 },
      { id: 3, redirect: 'notLeader' },
      { id: 4, redirect: 'notReady', leader: 0 },
      { id: 5, redirect: 'noGroup' },
      { id: 6, redirect: 'busy' },
      { id: 7, error: { name: 'ValidationException', message: 'too large' } },
      { id: 8 },
    ],
  },
];

/** Bytes as plain arrays (msgpackr hands Uint8Arrays back as Buffers). */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const original = this[key];
    return original instanceof Uint8Array ? [...original] : v;
  }));
}

function roundTrip(envelope: Envelope, version: FormatVersion): Envelope {
  const codec = new MessageCodec();
  const ring = new Ring(Ring.allocate(64 * 1024));
  expect(codec.write(ring, envelopeToWire(envelope, version), 0, version)).toBe(true);
  let got: Envelope | undefined;
  codec.read(ring, (raw, v) => { got = envelopeFromWire(raw, v); });
  return got!;
}

describe('ring-message format versions', () => {
  it.each([1, 2] as const)('version %i carries every envelope and replication message unchanged', (version) => {
    for (const envelope of ENVELOPES) {
      const back = roundTrip(envelope, version);
      expect(plain(back)).toEqual(plain(envelope));
      if (back.k === 'rep') expect(back.reps.map((r) => Object.keys(r).sort())).toEqual((envelope as typeof back).reps.map((r) => Object.keys(r).sort()));
    }
    const raft = roundTrip({ k: 'raft', msgs: RAFT.map((m) => raftToWire(m, version)) }, version) as { k: 'raft'; msgs: unknown[] };
    const back = raft.msgs.map((m) => raftFromWire(m, version));
    expect(plain(back)).toEqual(plain(RAFT));
    expect(back.map((m) => Object.keys(m).sort())).toEqual(RAFT.map((m) => Object.keys(m).sort()));
  });

  it('version 2 is not readable as version 1, and is smaller', () => {
    const codec = new MessageCodec();
    for (const envelope of ENVELOPES) {
      const v2 = codec.decode(codec.encode(envelopeToWire(envelope, 2)));
      expect(() => envelopeFromWire(v2, 1)).toThrow(WireFormatError);
    }
    for (const m of RAFT) expect(() => raftFromWire(codec.decode(codec.encode(raftToWire(m, 2))), 1), m.type).toThrow(WireFormatError);
    const size = (version: FormatVersion, msgs: ReplicaMessage[]): number => codec.encode(envelopeToWire({ k: 'raft', msgs: msgs.map((m) => raftToWire(m, version)) }, version)).length;
    const heartbeat = [RAFT[1]];
    const append = [RAFT[0]];
    const replies = [RAFT[2]];
    console.log(`raft envelope bytes v1 → v2: heartbeat ${size(1, heartbeat)} → ${size(2, heartbeat)}, `
      + `append of 3 entries (1000 data bytes) ${size(1, append)} → ${size(2, append)}, ack ${size(1, replies)} → ${size(2, replies)}`);
    expect(size(2, heartbeat)).toBeLessThan(size(1, heartbeat) / 3);
    expect(size(2, append)).toBeLessThan(size(1, append) - 100);
    expect(size(2, replies)).toBeLessThan(size(1, replies) / 3);
  });

  it('an append whose entries are not consecutive is refused at encode (version 2 implies indexes)', () => {
    const bad = { ...RAFT[0], entries: [{ term: 2, index: 50, data: data(1, 1) }] } as ReplicaMessage;
    expect(() => raftToWire(bad, 2)).toThrow(/not at 42/);
  });

  it('drops and counts malformed envelopes and unknown versions, and delivers the rest', () => {
    const codec = messageCodec();
    const ring = new Ring(Ring.allocate(64 * 1024));
    const before = { rejected: codec.versionRejected, decode: codec.decodeErrors };
    writeBatched(ring, [{ id: 1, body: 'one' }], (reps) => envelopeToWire({ k: 'rep', reps }, 2), 10, () => {}, 2);
    codec.write(ring, [9, 'no such kind'], 0, 2);
    codec.write(ring, { k: 'nope' }, 0, 1);
    codec.write(ring, [0, []], 0, 3); // a version this build does not read
    writeBatched(ring, [{ id: 2, body: 'two' }], (reps) => envelopeToWire({ k: 'rep', reps }, 1), 10, () => {}, 1);
    const got: Array<[Envelope, number]> = [];
    expect(readEnvelopes(ring, (e, v) => got.push([e, v]))).toBe(5);
    expect(got).toEqual([[{ k: 'rep', reps: [{ id: 1, body: 'one' }] }, 2], [{ k: 'rep', reps: [{ id: 2, body: 'two' }] }, 1]]);
    expect(codec.versionRejected - before.rejected).toBe(1);
    expect(codec.lastRejectedVersion).toBe(3);
    expect(codec.decodeErrors - before.decode).toBe(2);
  });
});
