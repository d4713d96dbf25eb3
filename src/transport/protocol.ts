/**
 * What travels on the rings, as plain data (msgpack-encoded by the codec). One ring
 * record carries one envelope, and an envelope carries a batch: a node drains its inbox,
 * steps every core, and sends each peer one record per round, so the cost of a record
 * (CRC, doorbell) is paid per batch, not per message.
 *
 * Bodies stay `unknown` here: transport moves bytes and owns none of the rooms whose
 * types they are (replication messages, storage requests).
 */
import { messageCodec } from './codec.js';
import type { Ring } from './ring.js';

/** Why a node did not serve a request; the router reacts (re-route, wait, refresh map). */
export type Redirect =
  /** This replica is not the leader; `leader` is its best guess. Safe to retry. */
  | 'notLeader'
  /** The leader is elected but not serving yet (waiting out the old lease). Retry soon. */
  | 'notReady'
  /** This node hosts no such group (stale partition map). Refresh the map and retry. */
  | 'noGroup'
  /** Too many writes in flight on this group. Retry after a short wait. */
  | 'busy'
  /** This group no longer holds the key's partition (it split): refresh the partition map
   *  and send the request to the partition that holds it now. Never applied here. */
  | 'wrongPartition';

export interface RequestMessage {
  id: number;
  group: number;
  body: unknown;
}

export interface ReplyMessage {
  id: number;
  /** Present when served (an error from the data, such as ConditionalCheckFailed, is a body too). */
  body?: unknown;
  redirect?: Redirect;
  /** Leader hint with `notLeader`/`notReady`. */
  leader?: number;
  /** The node could not serve the request at all (DynamoDB-shaped, see model/errors). */
  error?: { name: string; message: string };
  /** When the node reached each stage of the request (see `ReplyTrace`), for latency
   *  attribution. Absent when the cluster does not attribute (latencyAttribution). */
  trace?: number[];
}

/**
 * Stage stamps of a reply's `trace`. RECEIVED is an absolute time in ms (`performance.
 * timeOrigin + performance.now()`, one clock for every thread of the process; the
 * simulator's time in simulation); every other stage is whole µs after it. Small integers
 * travel in a byte or three and decode without allocating, where six doubles cost about
 * 450 ns a reply (`npm run bench:micro -- attribution`). A read has no commit or sync: its
 * COMMITTED equals STARTED, and its SYNCED is NOT_SYNCED.
 */
export const ReplyTrace = {
  /** The node's round read the request from its ring. */
  RECEIVED: 0,
  /** A write was proposed; a read began to be served (a strong read waits for the
   *  round's apply first). */
  STARTED: 1,
  /** The write's entry committed (a quorum has it durably). */
  COMMITTED: 2,
  /** The write was applied to the B-tree; the read was done. */
  APPLIED: 3,
  /** The reply was written to the router's ring. */
  REPLIED: 4,
  /** The leader's own WAL sync of the write's batch completed (overlaps replication). */
  SYNCED: 5,
  LENGTH: 6,
  /** SYNCED of a request with no WAL sync of its own (a read). */
  NOT_SYNCED: -1,
} as const;

/** A trace for a request the node read from its ring at `receivedAtMs`. */
export function newTrace(receivedAtMs: number): number[] {
  return [receivedAtMs, 0, 0, 0, 0, ReplyTrace.NOT_SYNCED];
}

/** Stamps `stage` of `trace` at `atMs` (the same clock as RECEIVED): whole µs after it. */
export function stampTrace(trace: number[], stage: number, atMs: number): void {
  trace[stage] = Math.max(0, Math.round((atMs - trace[ReplyTrace.RECEIVED]) * 1000));
}

export type Envelope =
  | { k: 'raft'; msgs: unknown[] }
  | { k: 'req'; from: number; reqs: RequestMessage[] }
  | { k: 'rep'; reps: ReplyMessage[] }
  /** Snapshot transfer between nodes (chunks and their acknowledgements). */
  | { k: 'snap'; msgs: unknown[] };

/**
 * Format versions on the wire (the version byte of every ring record, see ring.ts). Every
 * build reads both; what an endpoint sends is its own setting (fabric.ts `sendVersion`),
 * so a cluster upgrades by first running a build that reads version 2 everywhere, then
 * switching senders one by one, and rolls back the same way (the paper's read-write
 * deployment).
 *
 *  - Version 1: an envelope is a msgpack map, `{ k: 'raft', msgs }`, `{ k: 'snap', msgs }`, `{ k: 'req', from,
 *    reqs: [{ id, group, body }] }`, `{ k: 'rep', reps: [{ id, body?, redirect?, leader?,
 *    error? }] }`, raft messages as objects.
 *  - Version 2: positional tuples with no field names: `[0, msgs]`, `[1, from, reqs]`,
 *    `[2, reps]`, `[3, snapshot msgs]`, a request `[id, group, body]`, a reply `[id, body, redirect code, leader,
 *    error, trace]` (trace added later; older readers ignore it), and raft messages as tuples too (src/node/raft-wire.ts). A version-1 reader
 *    finds arrays where it expects maps. Request and reply bodies are the same in both.
 */
export type FormatVersion = 1 | 2;
export const FORMAT_VERSIONS: readonly FormatVersion[] = [1, 2];

export function isFormatVersion(value: unknown): value is FormatVersion {
  return value === 1 || value === 2;
}

/** A record that passed its checksum but is not a well-formed envelope of its version. */
export class WireFormatError extends Error {
  constructor(version: number, what: string) {
    super(`malformed version-${version} envelope: ${what}`);
    this.name = 'WireFormatError';
  }
}

const ENVELOPE_KINDS = ['raft', 'req', 'rep', 'snap'] as const;
const REDIRECTS: ReadonlyArray<Redirect | undefined> = [undefined, 'notLeader', 'notReady', 'noGroup', 'busy', 'wrongPartition'];

/** The message to pack for `envelope` in format `version`. */
export function envelopeToWire(envelope: Envelope, version: FormatVersion): unknown {
  if (version === 1) return envelope;
  switch (envelope.k) {
    case 'raft':
      return [0, envelope.msgs];
    case 'req':
      return [1, envelope.from, envelope.reqs.map((r) => [r.id, r.group, r.body])];
    case 'rep':
      return [2, envelope.reps.map((r) => [r.id, r.body, r.redirect === undefined ? 0 : REDIRECTS.indexOf(r.redirect), r.leader, r.error, r.trace])];
    case 'snap':
      return [3, envelope.msgs];
  }
}

/** The envelope a record of format `version` holds. @throws WireFormatError */
export function envelopeFromWire(raw: unknown, version: number): Envelope {
  if (version === 1) {
    const e = raw as Envelope;
    if (e === null || typeof e !== 'object' || !ENVELOPE_KINDS.includes(e.k)) throw new WireFormatError(1, 'not an envelope map');
    return e;
  }
  if (!Array.isArray(raw)) throw new WireFormatError(version, 'not a tuple');
  switch (raw[0]) {
    case 0:
      if (!Array.isArray(raw[1])) throw new WireFormatError(version, 'raft messages are not a list');
      return { k: 'raft', msgs: raw[1] };
    case 1: {
      if (typeof raw[1] !== 'number' || !Array.isArray(raw[2])) throw new WireFormatError(version, 'bad request envelope');
      const reqs: RequestMessage[] = (raw[2] as unknown[]).map((t) => {
        if (!Array.isArray(t) || typeof t[0] !== 'number' || typeof t[1] !== 'number') throw new WireFormatError(version, 'bad request');
        return { id: t[0], group: t[1], body: t[2] };
      });
      return { k: 'req', from: raw[1], reqs };
    }
    case 2: {
      if (!Array.isArray(raw[1])) throw new WireFormatError(version, 'bad reply envelope');
      const reps: ReplyMessage[] = (raw[1] as unknown[]).map((t) => {
        if (!Array.isArray(t) || typeof t[0] !== 'number') throw new WireFormatError(version, 'bad reply');
        const reply: ReplyMessage = { id: t[0] };
        if (t[1] !== undefined) reply.body = t[1];
        const redirect = REDIRECTS[t[2] as number];
        if (t[2] !== 0 && redirect === undefined) throw new WireFormatError(version, `unknown redirect code ${String(t[2])}`);
        if (redirect !== undefined) reply.redirect = redirect;
        if (typeof t[3] === 'number') reply.leader = t[3];
        if (t[4] !== undefined && t[4] !== null) reply.error = t[4] as ReplyMessage['error'];
        if (Array.isArray(t[5])) reply.trace = t[5] as number[];
        return reply;
      });
      return { k: 'rep', reps };
    }
    case 3:
      if (!Array.isArray(raw[1])) throw new WireFormatError(version, 'snapshot messages are not a list');
      return { k: 'snap', msgs: raw[1] };
    default:
      throw new WireFormatError(version, `unknown envelope kind ${String(raw[0])}`);
  }
}

/**
 * Delivers the envelopes available in `ring`, whatever readable version each record has;
 * a record that is not a well-formed envelope is dropped and counted as a decode error.
 * `visit` also gets the record's version (a raft message's own wire form depends on it).
 */
export function readEnvelopes(ring: Ring, visit: (envelope: Envelope, version: FormatVersion) => void): number {
  const codec = messageCodec();
  return codec.read(ring, (raw, version) => {
    let envelope: Envelope;
    try {
      envelope = envelopeFromWire(raw, version);
    } catch (error) {
      if (!(error instanceof WireFormatError)) throw error;
      codec.decodeErrors++;
      return;
    }
    visit(envelope, version as FormatVersion);
  });
}
