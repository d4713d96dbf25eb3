/**
 * Splitting a partition by a log entry. The parent's leader proposes a split entry (the
 * hash where the upper child begins and the two child group ids the control plane
 * allocated); every replica that applies it stops serving the parent and creates the two
 * children locally, with the parent's membership as of that entry. A child's state is the
 * rows already in the node's B-tree within its range (items are keyed by table + hash, so
 * nothing is copied), recorded as applied at the split entry's (index, term): its log
 * continues after that entry, and a replica added to it later is brought up by a
 * snapshot, never by replaying the parent's log.
 *
 * Entries after the split entry in the parent's log are never applied (on any replica:
 * the cut is at the same index everywhere), so the writes they carry are answered
 * `wrongPartition` and the router sends them to the child that holds their key now.
 */
import { hashToHex, hexToHash } from '../model/hash.js';
import type { LogEntry } from '../replication/types.js';
import type { GroupRecord } from '../storage/wal.js';

/** First byte of a split entry's data: not a write op's format version (1, 2), not a
 *  replication control entry (0xC1), not an index control entry (0xD1). */
export const SPLIT_ENTRY_MARK = 0xc5;

export interface SplitSpec {
  /** 16 hex digits: the first hash of the upper child. */
  at: string;
  /** [lower child's group, upper child's group]. */
  children: [number, number];
}

/** What a parent's record says once this node applied its split. */
export interface SplitDone extends SplitSpec {
  index: number;
  term: number;
  /** The children were created here (after which a missing one was dropped since). */
  adopted?: boolean;
}

export function encodeSplitEntry(spec: SplitSpec): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ at: spec.at, children: spec.children }));
  const out = new Uint8Array(1 + json.length);
  out[0] = SPLIT_ENTRY_MARK;
  out.set(json, 1);
  return out;
}

export function isSplitEntry(data: Uint8Array): boolean {
  return data.byteLength > 1 && data[0] === SPLIT_ENTRY_MARK;
}

export function decodeSplitEntry(data: Uint8Array): SplitSpec {
  const spec = JSON.parse(new TextDecoder().decode(data.subarray(1))) as SplitSpec;
  return { at: spec.at, children: [spec.children[0], spec.children[1]] };
}

/** Why `at` cannot split the range [hashStart, hashEnd]; undefined when it can (each
 *  child gets at least one hash). */
export function splitPointProblem(rec: Pick<GroupRecord, 'hashStart' | 'hashEnd'>, at: string): string | undefined {
  let h: bigint;
  try {
    h = hexToHash(at);
  } catch (error) {
    return (error as Error).message;
  }
  const lo = hexToHash(rec.hashStart);
  const hi = hexToHash(rec.hashEnd);
  if (h <= lo || h > hi) return `split point ${at} is not inside (${rec.hashStart}, ${rec.hashEnd}]`;
  return undefined;
}

/** The middle of a hash range: the default split point. */
export function middleOf(hashStart: string, hashEnd: string): string {
  const lo = hexToHash(hashStart);
  const hi = hexToHash(hashEnd);
  return hashToHex(lo + (hi - lo + 1n) / 2n);
}

/** The two children's records, as of the parent's record at the split entry. */
export function childRecords(parent: GroupRecord, split: SplitDone): [GroupRecord, GroupRecord] {
  const { split: _done, splitFrom: _from, ...base } = parent;
  void _done;
  void _from;
  const from = { group: parent.group, index: split.index, term: split.term };
  const at = hexToHash(split.at);
  return [
    { ...base, group: split.children[0], hashEnd: hashToHex(at - 1n), splitFrom: from },
    { ...base, group: split.children[1], hashStart: split.at, splitFrom: from },
  ];
}

/**
 * Where a parent's committed entries stop being applied: the index of its split entry, if
 * one is among `entries` or the record says it split already (a replay after a restart).
 */
export function findSplit(rec: GroupRecord | undefined, entries: readonly LogEntry[]): { index: number; entry?: LogEntry } | undefined {
  const limit = rec?.split?.index ?? Infinity;
  for (const entry of entries) {
    if (entry.index > limit) break;
    if (isSplitEntry(entry.data)) return { index: entry.index, entry };
  }
  return rec?.split !== undefined ? { index: rec.split.index } : undefined;
}
