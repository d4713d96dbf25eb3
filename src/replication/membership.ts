/**
 * Membership of a replication group, and the log entries that change it (Raft's
 * single-server changes, Ongaro's thesis §4.1). A configuration takes effect on a replica
 * as soon as its entry is in that replica's log (and reverts if the entry is truncated);
 * a leader proposes a new one only once the previous one committed, and each differs from
 * the one before by at most one member. Any two majorities of consecutive configurations
 * then overlap, which is all the commit, vote and lease arguments need.
 *
 * A membership entry's data is 0xC1 followed by the configuration as JSON. 0xC1 is a byte
 * msgpack never emits and no write-op format version uses (storage/codec.ts), so no write
 * can be mistaken for one.
 */

/** Who is in a group. Every member counts towards commit and election quorums; log
 *  replicas keep only the WAL (DynamoDB's log replicas): they never campaign, never lead,
 *  apply nothing to a B-tree and serve no reads. */
export interface Membership {
  /** Every member, log replicas included, ascending. */
  voters: number[];
  /** The members that are log replicas (a subset of `voters`), ascending. */
  logReplicas: number[];
  /** Replicas removed while they are expected back, with the first index each will need:
   *  every WAL of the group keeps the log from there (no snapshots exist to catch them up
   *  otherwise). A replica leaves this list when it is added back, or when the control
   *  plane gives up on it. */
  awaited: Array<{ id: number; from: number }>;
}

export const MEMBERSHIP_ENTRY_MARK = 0xc1;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The first byte of a membership entry's JSON. */
const JSON_OBJECT = 0x7b;
/** The second byte of a clock mark (0xC1 0x01 f64). */
const CLOCK_MARK = 0x01;

/** Entries of the replication layer, not writes: a membership or a clock mark. The
 *  shell applies them to the items store as no-ops. */
export function isControlEntry(data: Uint8Array): boolean {
  return data.byteLength > 1 && data[0] === MEMBERSHIP_ENTRY_MARK;
}

export function isMembershipEntry(data: Uint8Array): boolean {
  return data.byteLength > 1 && data[0] === MEMBERSHIP_ENTRY_MARK && data[1] === JSON_OBJECT;
}

/**
 * A clock mark: an entry that says when (ms since the epoch) its leader proposed it. The
 * control plane has one proposed every second in each partition of a table with point-in-
 * time recovery, so the log, and the archive that keeps it, tell which entries came before
 * a given second: 0xC1 0x01 | f64 ms (little endian).
 */
export function encodeClockMark(atMs: number): Uint8Array {
  const out = new Uint8Array(10);
  out[0] = MEMBERSHIP_ENTRY_MARK;
  out[1] = CLOCK_MARK;
  new DataView(out.buffer).setFloat64(2, atMs, true);
  return out;
}

/** The time of a clock mark, or undefined for any other entry. */
export function clockMarkTime(data: Uint8Array): number | undefined {
  if (data.byteLength !== 10 || data[0] !== MEMBERSHIP_ENTRY_MARK || data[1] !== CLOCK_MARK) return undefined;
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat64(2, true);
}

export function encodeMembership(m: Membership): Uint8Array {
  const json = encoder.encode(JSON.stringify(normalizeMembership(m)));
  const out = new Uint8Array(1 + json.byteLength);
  out[0] = MEMBERSHIP_ENTRY_MARK;
  out.set(json, 1);
  return out;
}

export function decodeMembership(data: Uint8Array): Membership {
  if (!isMembershipEntry(data)) throw new Error('decodeMembership: not a membership entry');
  const m = JSON.parse(decoder.decode(data.subarray(1))) as Membership;
  const problem = membershipProblem(m);
  if (problem !== undefined) throw new Error(`decodeMembership: ${problem}`);
  return m;
}

/** Sorted copies; `awaited` by id. */
export function normalizeMembership(m: Membership): Membership {
  return {
    voters: [...m.voters].sort((a, b) => a - b),
    logReplicas: [...m.logReplicas].sort((a, b) => a - b),
    awaited: m.awaited.map((a) => ({ id: a.id, from: a.from })).sort((a, b) => a.id - b.id),
  };
}

export function fullVoters(m: Membership): number[] {
  return m.voters.filter((v) => !m.logReplicas.includes(v));
}

/** What is wrong with `m` on its own, or undefined. */
export function membershipProblem(m: Membership): string | undefined {
  if (m === null || typeof m !== 'object' || !Array.isArray(m.voters) || !Array.isArray(m.logReplicas) || !Array.isArray(m.awaited)) {
    return 'a membership needs voters, logReplicas and awaited arrays';
  }
  const ids = (xs: unknown[]) => xs.every((x) => Number.isInteger(x) && (x as number) >= 0);
  if (!ids(m.voters) || !ids(m.logReplicas)) return 'member ids must be non-negative integers';
  if (new Set(m.voters).size !== m.voters.length) return `voters has duplicates: ${m.voters.join(',')}`;
  if (m.logReplicas.some((l) => !m.voters.includes(l))) return `log replicas ${m.logReplicas.join(',')} must be voters (${m.voters.join(',')})`;
  if (new Set(m.logReplicas).size !== m.logReplicas.length) return 'logReplicas has duplicates';
  if (fullVoters(m).length === 0) return 'a group needs at least one full replica (log replicas cannot lead)';
  for (const a of m.awaited) {
    if (!Number.isInteger(a?.id) || !Number.isInteger(a?.from) || a.from < 1) return 'awaited entries need an id and a first index >= 1';
    if (m.voters.includes(a.id)) return `awaited replica ${a.id} is a member`;
  }
  return undefined;
}

/** Why `next` may not follow `current` (undefined when it may): at most one member added
 *  or removed, and no member changes kind (a log replica never becomes a full one). */
export function membershipChangeProblem(current: Membership, next: Membership): string | undefined {
  const own = membershipProblem(next);
  if (own !== undefined) return own;
  const added = next.voters.filter((v) => !current.voters.includes(v));
  const removed = current.voters.filter((v) => !next.voters.includes(v));
  if (added.length + removed.length > 1) {
    return `one member at a time: adding ${added.join(',') || 'none'} and removing ${removed.join(',') || 'none'}`;
  }
  for (const v of next.voters) {
    if (current.voters.includes(v) && current.logReplicas.includes(v) !== next.logReplicas.includes(v)) {
      return `member ${v} cannot change between log replica and full replica`;
    }
  }
  return undefined;
}

export function sameMembership(a: Membership, b: Membership): boolean {
  return JSON.stringify(normalizeMembership(a)) === JSON.stringify(normalizeMembership(b));
}
