/**
 * Long item keys in the B-tree: stored keys are unique, short keys stay as they are, and a
 * range read over stored keys, put through inKeyOrder, returns exactly the full keys in
 * [lo, hi) in full-key order, forwards and backwards, whatever prefixes the keys share.
 */
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/storage/codec.js';
import {
  inKeyOrder, isTruncated, STORED_PREFIX_BYTES, storedKey, storedLowerBound, storedUpperBound, type StoredRow,
} from '../../src/storage/stored-key.js';
import { seededRandom } from '../../src/model/prng.js';

const P = STORED_PREFIX_BYTES;

/** Keys built from a few shared stems so that many long keys share their stored prefix. */
function randomKeys(rand: () => number, count: number): Uint8Array[] {
  const stems = Array.from({ length: 3 }, () => Uint8Array.from({ length: P + 40 }, () => Math.floor(rand() * 4)));
  const keys = new Map<string, Uint8Array>();
  while (keys.size < count) {
    const stem = stems[Math.floor(rand() * stems.length)];
    const cut = [10, P - 5, P, P + 1, P + 20, P + 40][Math.floor(rand() * 6)];
    const tail = Uint8Array.from({ length: Math.floor(rand() * 50) }, () => Math.floor(rand() * 4));
    const key = new Uint8Array(cut + tail.length);
    key.set(stem.subarray(0, cut), 0);
    key.set(tail, cut);
    keys.set(Buffer.from(key).toString('hex'), key);
  }
  return [...keys.values()];
}

/** What the B-tree would hold: rows keyed by stored key, in stored-key order. */
function btree(keys: Uint8Array[]): Array<StoredRow<Uint8Array>> {
  return keys.map((full) => ({ key: storedKey(full), value: full })).sort((a, b) => compareBytes(a.key, b.key));
}

function rangeRead(rows: Array<StoredRow<Uint8Array>>, lo: Uint8Array, hi: Uint8Array | undefined, reverse: boolean): Uint8Array[] {
  const slo = storedLowerBound(lo);
  const shi = hi === undefined ? undefined : storedUpperBound(hi);
  let read = rows.filter((r) => compareBytes(r.key, slo) >= 0 && (shi === undefined || compareBytes(r.key, shi) < 0));
  if (reverse) read = read.reverse();
  return [...inKeyOrder(read, (row) => row.value, lo, hi, reverse)].map((r) => r.value);
}

describe('stored keys', () => {
  it('keeps short keys as they are and makes long ones unique and storable', () => {
    const short = new Uint8Array(P).fill(7);
    expect(storedKey(short)).toBe(short);
    expect(isTruncated(storedKey(short))).toBe(false);
    const a = new Uint8Array(P + 100).fill(7);
    const b = a.slice();
    b[P + 50] = 8;
    expect(storedKey(a).length).toBeLessThanOrEqual(1977);
    expect(isTruncated(storedKey(a))).toBe(true);
    expect(compareBytes(storedKey(a), storedKey(b))).not.toBe(0);
    expect(compareBytes(storedKey(a), storedKey(a.slice()))).toBe(0);
  });

  it('range reads return exactly the full keys in [lo, hi), in order, both ways (seeded)', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rand = seededRandom(seed);
      const keys = randomKeys(rand, 80);
      const rows = btree(keys);
      const sorted = [...keys].sort(compareBytes);
      for (let q = 0; q < 20; q++) {
        const x = sorted[Math.floor(rand() * sorted.length)];
        const y = sorted[Math.floor(rand() * sorted.length)];
        let [lo, hi] = compareBytes(x, y) <= 0 ? [x, y] : [y, x];
        // Bounds that are not keys: a proper prefix, or one byte more.
        if (rand() < 0.3) lo = lo.slice(0, Math.floor(rand() * lo.length));
        if (rand() < 0.3) hi = Uint8Array.from([...hi, 0]);
        const open = rand() < 0.2;
        const expected = sorted.filter((k) => compareBytes(k, lo) >= 0 && (open || compareBytes(k, hi) < 0));
        const hiBound = open ? undefined : hi;
        const where = `seed ${seed} query ${q}`;
        expect(rangeRead(rows, lo, hiBound, false).map(hex), where).toEqual(expected.map(hex));
        expect(rangeRead(rows, lo, hiBound, true).map(hex), where).toEqual(expected.reverse().map(hex));
      }
    }
  });
});

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
