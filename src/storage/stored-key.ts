/**
 * Item keys as a node's B-tree stores them. lmdb-js keys are at most 1978 bytes, but
 * DynamoDB's key limits (a 2048-byte partition key and a 1024-byte sort key) encode to up
 * to about 6 KB. A key longer than STORED_PREFIX_BYTES is stored as its first
 * STORED_PREFIX_BYTES bytes followed by a 16-byte digest of the whole key (so stored keys
 * stay unique). Stored order is then the order of full keys except among long keys that
 * share their whole stored prefix, whose digests order them arbitrarily: `inKeyOrder` puts
 * such runs back in order from the full keys, which the items themselves carry.
 *
 * Short keys (almost all) are stored as they are: the fast path costs one length check.
 */
import { createHash } from 'node:crypto';
import { compareBytes, prefixEnd } from './codec.js';

/** Bytes of a long key kept in front of its digest. A stored key is then at most 1976
 *  bytes, and the successor a range read seeks to (one byte longer) still fits. */
export const STORED_PREFIX_BYTES = 1960;
const DIGEST_BYTES = 16;

/** The B-tree key of an item whose full (encoded) key is `full`. */
export function storedKey(full: Uint8Array): Uint8Array {
  if (full.length <= STORED_PREFIX_BYTES) return full;
  const out = new Uint8Array(STORED_PREFIX_BYTES + DIGEST_BYTES);
  out.set(full.subarray(0, STORED_PREFIX_BYTES), 0);
  out.set(createHash('md5').update(full).digest(), STORED_PREFIX_BYTES);
  return out;
}

/** Whether a stored key stands for a longer full key (the row's item tells which). */
export function isTruncated(stored: Uint8Array): boolean {
  return stored.length > STORED_PREFIX_BYTES;
}

/** A stored key at or below the stored key of every full key >= `lo`. */
export function storedLowerBound(lo: Uint8Array): Uint8Array {
  return lo.length <= STORED_PREFIX_BYTES ? lo : lo.slice(0, STORED_PREFIX_BYTES);
}

/** A stored key above the stored key of every full key < `hi`; undefined: no bound. */
export function storedUpperBound(hi: Uint8Array): Uint8Array | undefined {
  return hi.length <= STORED_PREFIX_BYTES ? hi : prefixEnd(hi.subarray(0, STORED_PREFIX_BYTES));
}

export interface StoredRow<V> {
  key: Uint8Array;
  value: V;
}

/**
 * The rows of a stored range read over [storedLowerBound(lo), storedUpperBound(hi)) (in
 * `reverse` order when asked), as the rows with full keys in [lo, hi) in full-key order.
 * `fullKey` recovers a truncated row's full key from its value; it is called only for
 * those. Rows whose full keys fall outside [lo, hi) (a truncated bound reads a little
 * more) are skipped.
 */
export function* inKeyOrder<V>(
  rows: Iterable<StoredRow<V>>,
  fullKey: (row: StoredRow<V>) => Uint8Array,
  lo: Uint8Array,
  hi: Uint8Array | undefined,
  reverse: boolean,
): Generator<StoredRow<V>> {
  const bounded = lo.length > STORED_PREFIX_BYTES || (hi !== undefined && hi.length > STORED_PREFIX_BYTES);
  const inRange = (key: Uint8Array): boolean =>
    !bounded || (compareBytes(key, lo) >= 0 && (hi === undefined || compareBytes(key, hi) < 0));
  // A run of truncated rows sharing one stored prefix, with their full keys.
  let run: Array<{ row: StoredRow<V>; full: Uint8Array }> = [];
  function* flush(): Generator<StoredRow<V>> {
    if (run.length > 1) run.sort((a, b) => (reverse ? -1 : 1) * compareBytes(a.full, b.full));
    for (const { row, full } of run) if (inRange(full)) yield row;
    run = [];
  }
  for (const row of rows) {
    if (!isTruncated(row.key)) {
      if (run.length > 0) yield* flush();
      if (inRange(row.key)) yield row;
      continue;
    }
    if (run.length > 0 && !samePrefix(run[0].row.key, row.key)) yield* flush();
    // The row's key bytes may be a volatile view into LMDB's read buffer: keep a copy.
    run.push({ row: { key: row.key.slice(), value: row.value }, full: fullKey(row) });
  }
  if (run.length > 0) yield* flush();
}

function samePrefix(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a.subarray(0, STORED_PREFIX_BYTES), b.subarray(0, STORED_PREFIX_BYTES)) === 0;
}
