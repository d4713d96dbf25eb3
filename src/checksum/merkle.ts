/**
 * Merkle trees over a partition's (key, value) pairs, so that scrub can tell WHICH keys
 * of two copies of a partition differ (one rebuilt from the archive, one live replica)
 * while comparing a few hundred digests instead of every item.
 *
 * Leaves are buckets of the key space by key content: a pair goes to leaf
 * `crc32c(key) >>> (32 - leafBits)`. Two copies with different item sets still put every
 * key they share in the same leaf (bucketing by position in key order would shift every
 * later bucket after one missing key). A leaf's digest chains CRC32C over its pairs in the
 * order they arrive, which is key order (the input must be sorted), as
 * `key length u32 | key | value length u32 | value`; an internal node's digest is the CRC32C
 * of its children's (digest, count). A leaf also counts its pairs, so a missing pair whose
 * bytes happen to leave the CRC unchanged still shows.
 *
 * 32 bits per digest: two differing leaves look equal with probability ~2^-32 each; fine
 * for finding differences to repair, not a cryptographic proof.
 */
import { crc32c } from './crc32c.js';

export type KeyValuePair = readonly [key: Uint8Array, value: Uint8Array];

/** Leaves [from, to] (inclusive leaf numbers) whose digests differ. */
export interface LeafRange {
  from: number;
  to: number;
}

export interface MerkleTree {
  readonly leafBits: number;
  /** Heap layout: node 1 is the root, node i has children 2i and 2i+1; leaves are nodes
   *  [2^leafBits, 2^(leafBits+1)). Index 0 is unused. */
  readonly digests: Uint32Array;
  readonly counts: Float64Array;
}

export const DEFAULT_LEAF_BITS = 10;
export const MAX_LEAF_BITS = 20;

function checkLeafBits(leafBits: number): void {
  if (!Number.isInteger(leafBits) || leafBits < 0 || leafBits > MAX_LEAF_BITS) {
    throw new RangeError(`merkle: leafBits must be an integer from 0 to ${MAX_LEAF_BITS} (got ${String(leafBits)})`);
  }
}

/** The leaf a key belongs to in a tree of 2^leafBits leaves. */
export function leafOfKey(key: Uint8Array, leafBits: number): number {
  return leafBits === 0 ? 0 : crc32c(key) >>> (32 - leafBits);
}

/** -1, 0 or 1 as `a` sorts before, equal to or after `b` (bytewise, shorter first on a tie). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

const lengthBytes = new Uint8Array(4);
const lengthView = new DataView(lengthBytes.buffer);

function chainLength(n: number, seed: number): number {
  lengthView.setUint32(0, n, true);
  return crc32c(lengthBytes, 0, 4, seed);
}

/**
 * Builds the tree from pairs in ascending key order (bytewise); throws on a key out of
 * order or repeated, since the digests would then depend on the order of arrival.
 */
export function buildMerkleTree(pairs: Iterable<KeyValuePair>, leafBits = DEFAULT_LEAF_BITS): MerkleTree {
  checkLeafBits(leafBits);
  const leaves = 1 << leafBits;
  const digests = new Uint32Array(2 * leaves);
  const counts = new Float64Array(2 * leaves);
  let previous: Uint8Array | undefined;
  for (const [key, value] of pairs) {
    if (previous !== undefined && compareBytes(previous, key) >= 0) {
      throw new Error('merkle: pairs must come in strictly ascending key order');
    }
    previous = key;
    const node = leaves + leafOfKey(key, leafBits);
    let c = chainLength(key.length, digests[node]);
    c = crc32c(key, 0, key.length, c);
    c = chainLength(value.length, c);
    digests[node] = crc32c(value, 0, value.length, c);
    counts[node]++;
  }
  const pair = new Uint8Array(16);
  const pairView = new DataView(pair.buffer);
  for (let node = leaves - 1; node >= 1; node--) {
    const l = 2 * node;
    const r = l + 1;
    pairView.setUint32(0, digests[l], true);
    pairView.setUint32(4, counts[l] >>> 0, true);
    pairView.setUint32(8, digests[r], true);
    pairView.setUint32(12, counts[r] >>> 0, true);
    digests[node] = crc32c(pair);
    counts[node] = counts[l] + counts[r];
  }
  return { leafBits, digests, counts };
}

function sameNode(a: MerkleTree, b: MerkleTree, node: number): boolean {
  return a.digests[node] === b.digests[node] && a.counts[node] === b.counts[node];
}

/**
 * The leaves whose digests differ, as ascending ranges of adjacent leaves. Visits only the
 * subtrees whose roots differ. Both trees must have the same leafBits.
 */
export function diffMerkleTrees(a: MerkleTree, b: MerkleTree): LeafRange[] {
  if (a.leafBits !== b.leafBits) {
    throw new Error(`merkle: cannot compare trees of ${a.leafBits} and ${b.leafBits} leaf bits`);
  }
  const leaves = 1 << a.leafBits;
  const out: LeafRange[] = [];
  // Depth first, left child first: leaves come out in ascending order.
  const stack = [1];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (sameNode(a, b, node)) continue;
    if (node >= leaves) {
      const leaf = node - leaves;
      const last = out[out.length - 1];
      if (last !== undefined && last.to === leaf - 1) last.to = leaf;
      else out.push({ from: leaf, to: leaf });
      continue;
    }
    stack.push(2 * node + 1, 2 * node);
  }
  return out;
}

/** Whether the key's leaf is in one of `ranges` (ascending, as diffMerkleTrees returns). */
export function keyInLeafRanges(key: Uint8Array, leafBits: number, ranges: readonly LeafRange[]): boolean {
  const leaf = leafOfKey(key, leafBits);
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid].to < leaf) lo = mid + 1;
    else if (ranges[mid].from > leaf) hi = mid - 1;
    else return true;
  }
  return false;
}

export interface KeyDifferences {
  /** Keys present in `a` only. */
  onlyA: Uint8Array[];
  /** Keys present in `b` only. */
  onlyB: Uint8Array[];
  /** Keys present in both with different values. */
  changed: Uint8Array[];
}

/**
 * The keys whose pairs differ between two sorted pair streams, looking only at keys in
 * the leaves of `ranges` (pass the result of diffMerkleTrees; pairs of other leaves are
 * skipped unread beyond their key's CRC). Each list is in ascending key order.
 */
export function diffKeys(a: Iterable<KeyValuePair>, b: Iterable<KeyValuePair>, leafBits: number, ranges: readonly LeafRange[]): KeyDifferences {
  checkLeafBits(leafBits);
  const out: KeyDifferences = { onlyA: [], onlyB: [], changed: [] };
  if (ranges.length === 0) return out;
  const itA = filtered(a, leafBits, ranges);
  const itB = filtered(b, leafBits, ranges);
  let x = itA.next();
  let y = itB.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && compareBytes(x.value[0], y.value[0]) < 0)) {
      out.onlyA.push(x.value![0]);
      x = itA.next();
    } else if (x.done || compareBytes(x.value[0], y.value[0]) > 0) {
      out.onlyB.push(y.value[0]);
      y = itB.next();
    } else {
      if (compareBytes(x.value[1], y.value[1]) !== 0) out.changed.push(x.value[0]);
      x = itA.next();
      y = itB.next();
    }
  }
  return out;
}

function* filtered(pairs: Iterable<KeyValuePair>, leafBits: number, ranges: readonly LeafRange[]): Iterator<KeyValuePair> {
  let previous: Uint8Array | undefined;
  for (const pair of pairs) {
    if (previous !== undefined && compareBytes(previous, pair[0]) >= 0) {
      throw new Error('merkle: pairs must come in strictly ascending key order');
    }
    previous = pair[0];
    if (keyInLeafRanges(pair[0], leafBits, ranges)) yield pair;
  }
}
