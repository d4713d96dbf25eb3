/**
 * Replication messages on the wire, per format version (transport/protocol.ts). Version 1
 * sends them as they are (msgpack maps). Version 2 sends positional tuples with a type
 * code and no field names:
 *
 *   [type, group, from, to, term, ...fields of the type]
 *   append       prevIndex, prevTerm, commit, sentTick, compactable, [term, data, term, data, ...],
 *                logStart, commitOnly (entry i has index prevIndex + 1 + i: appends carry
 *                consecutive entries; commitOnly is left out when false, and a node that
 *                does not know it answers the append, as before)
 *   appendReply  success, matchIndex, sentTick, rejectedIndex | null
 *   preVote      lastIndex, lastTerm
 *   preVoteReply granted
 *   vote         lastIndex, lastTerm, transfer
 *   voteReply    granted
 *   timeoutNow   —
 *
 * A heartbeat shrinks from ~110 bytes to ~15, and each entry loses its index and field
 * names (measured in test/deploy/format-version.test.ts).
 */
import type { LogEntry, ReplicaMessage } from '../replication/types.js';
import { WireFormatError, type FormatVersion } from '../transport/protocol.js';

const TYPES = ['append', 'appendReply', 'preVote', 'preVoteReply', 'vote', 'voteReply', 'timeoutNow'] as const;

export function raftToWire(m: ReplicaMessage, version: FormatVersion): unknown {
  if (version === 1) return m;
  const head = [TYPES.indexOf(m.type), m.group, m.from, m.to, m.term];
  switch (m.type) {
    case 'append': {
      const flat: unknown[] = new Array(m.entries.length * 2);
      for (let i = 0; i < m.entries.length; i++) {
        const entry = m.entries[i];
        if (entry.index !== m.prevIndex + 1 + i) throw new Error(`append to ${m.to} of group ${m.group}: entry ${entry.index} is not at ${m.prevIndex + 1 + i}`);
        flat[2 * i] = entry.term;
        flat[2 * i + 1] = entry.data;
      }
      const tuple = [...head, m.prevIndex, m.prevTerm, m.commit, m.sentTick, m.compactable, flat, m.logStart === true];
      if (m.commitOnly === true) tuple.push(true);
      return tuple;
    }
    case 'appendReply':
      return [...head, m.success, m.matchIndex, m.sentTick, m.rejectedIndex ?? null];
    case 'preVote':
      return [...head, m.lastIndex, m.lastTerm];
    case 'preVoteReply':
    case 'voteReply':
      return [...head, m.granted];
    case 'vote':
      return [...head, m.lastIndex, m.lastTerm, m.transfer === true];
    case 'timeoutNow':
      return head;
  }
}

/** @throws WireFormatError for a tuple that is not a replication message. */
export function raftFromWire(raw: unknown, version: FormatVersion): ReplicaMessage {
  if (version === 1) {
    if (raw === null || typeof raw !== 'object' || !TYPES.includes((raw as ReplicaMessage).type)) throw new WireFormatError(1, 'not a replication message');
    return raw as ReplicaMessage;
  }
  if (!Array.isArray(raw) || raw.length < 5) throw new WireFormatError(version, 'replication message is not a tuple');
  for (let i = 1; i < 5; i++) if (typeof raw[i] !== 'number') throw new WireFormatError(version, 'replication message header');
  const [code, group, from, to, term] = raw as number[];
  const type = TYPES[code];
  switch (type) {
    case 'append': {
      const [prevIndex, prevTerm, commit, sentTick, compactable, flat] = raw.slice(5) as [number, number, number, number, number, unknown[]];
      if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new WireFormatError(version, 'append entries');
      const entries: LogEntry[] = new Array(flat.length / 2);
      for (let i = 0; i < entries.length; i++) {
        const data = flat[2 * i + 1];
        if (!(data instanceof Uint8Array)) throw new WireFormatError(version, 'append entry data');
        entries[i] = { term: flat[2 * i] as number, index: prevIndex + 1 + i, data };
      }
      const m: ReplicaMessage = { type, group, from, to, term, prevIndex, prevTerm, entries, commit, sentTick, compactable };
      if (raw[11] === true) m.logStart = true;
      if (raw[12] === true) m.commitOnly = true;
      return m;
    }
    case 'appendReply': {
      const m: ReplicaMessage = { type, group, from, to, term, success: raw[5] as boolean, matchIndex: raw[6] as number, sentTick: raw[7] as number };
      if (typeof raw[8] === 'number') m.rejectedIndex = raw[8];
      return m;
    }
    case 'preVote':
      return { type, group, from, to, term, lastIndex: raw[5] as number, lastTerm: raw[6] as number };
    case 'preVoteReply':
    case 'voteReply':
      return { type, group, from, to, term, granted: raw[5] as boolean };
    case 'vote': {
      const m: ReplicaMessage = { type, group, from, to, term, lastIndex: raw[5] as number, lastTerm: raw[6] as number };
      if (raw[7] === true) m.transfer = true;
      return m;
    }
    case 'timeoutNow':
      return { type, group, from, to, term };
    default:
      throw new WireFormatError(version, `unknown replication message type ${String(code)}`);
  }
}
