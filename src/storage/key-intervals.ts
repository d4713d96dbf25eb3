/**
 * The B-tree key intervals a partition (replication group) owns: its items, local-index
 * entries and item-collection sizes in its hash range, its global-index outbox and its
 * index configuration (a snapshot holds exactly these). Pure key arithmetic, without the
 * store: the background thread's rebuilds use it too, and must not load LMDB.
 */
import { hashPrefix, tablePrefix } from '../model/key-encoding.js';
import { hexToHash } from '../model/hash.js';
import { compareBytes, keySuccessor, prefixEnd } from './codec.js';
import { indexConfigKey, itemCollectionInterval, outboxKey, type GroupIndexes } from './indexes.js';
import type { GroupRecord } from './wal.js';

/** A group record with its bounds parsed once. */
export interface GroupRange {
  rec: GroupRecord;
  hashStart: bigint;
  hashEnd: bigint;
}

export function groupRange(rec: GroupRecord): GroupRange {
  const hashStart = hexToHash(rec.hashStart);
  const hashEnd = hexToHash(rec.hashEnd);
  if (hashStart > hashEnd) throw new Error(`group ${rec.group}: hashStart ${rec.hashStart} > hashEnd ${rec.hashEnd}`);
  return { rec, hashStart, hashEnd };
}

const MAX_HASH = 0xffff_ffff_ffff_ffffn;

/** [lo, hi) item-key bounds of a table's hash interval [h0, h1] (inclusive). */
export function hashIntervalBounds(tableId: number, h0: bigint, h1: bigint): { lo: Uint8Array; hi: Uint8Array } {
  const lo = hashPrefix(tableId, h0);
  const hi = h1 === MAX_HASH ? prefixEnd(tablePrefix(tableId)) ?? new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]) : hashPrefix(tableId, h1 + 1n);
  return { lo, hi };
}

/** Keys [lo, hi) of the B-tree. */
export interface KeyInterval {
  lo: Uint8Array;
  hi: Uint8Array;
}

/** Key intervals of a group's local-index entries in hash range [h0, h1], and of its
 *  item collections' size rows. */
export function localIndexIntervals(indexes: GroupIndexes | undefined, h0: bigint, h1: bigint): KeyInterval[] {
  if (indexes === undefined || indexes.local.length === 0) return [];
  return [...indexes.local.map((spec) => hashIntervalBounds(spec.id, h0, h1)), itemCollectionInterval(indexes, h0, h1)];
}

/** Key intervals of a group's outbox and index-config row. */
export function groupIndexRows(group: number): KeyInterval[] {
  const outboxStart = outboxKey(group, 0);
  const config = indexConfigKey(group);
  return [{ lo: outboxStart, hi: prefixEnd(outboxStart.subarray(0, 8))! }, { lo: config, hi: keySuccessor(config) }];
}

/** Every key interval a group owns, with the indexes it maintains: its items, local-index
 *  entries and collection sizes in its hash range, its outbox and its index configuration
 *  (what a snapshot of it holds), in key order: a snapshot's rows come out ascending, as
 *  scrub's Merkle trees take them. */
export function groupKeyIntervals(range: GroupRange, indexes: GroupIndexes | undefined): KeyInterval[] {
  const { rec, hashStart, hashEnd } = range;
  return [hashIntervalBounds(rec.tableId, hashStart, hashEnd), ...localIndexIntervals(indexes, hashStart, hashEnd), ...groupIndexRows(rec.group)]
    .sort((a, b) => compareBytes(a.lo, b.lo));
}
