import { describe, expect, it } from 'vitest';
import {
  buildMerkleTree, compareBytes, diffKeys, diffMerkleTrees, keyInLeafRanges, leafOfKey, type KeyValuePair,
} from '../../src/checksum/merkle.js';
import { mulberry32, testSeed } from '../transport/prng.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function sorted(map: Map<string, string>): KeyValuePair[] {
  return [...map.entries()].map(([k, v]) => [bytes(k), bytes(v)] as const).sort((x, y) => compareBytes(x[0], y[0]));
}

describe('merkle trees over key ranges', () => {
  it('equal pair sets give equal trees and no differences', () => {
    const m = new Map([['a', '1'], ['b', '2'], ['c', '3']]);
    const a = buildMerkleTree(sorted(m), 4);
    const b = buildMerkleTree(sorted(new Map(m)), 4);
    expect(diffMerkleTrees(a, b)).toEqual([]);
    expect(a.counts[1]).toBe(3);
  });

  it('finds a changed value, a missing key and an extra key, and only those', () => {
    const base = new Map<string, string>();
    for (let i = 0; i < 500; i++) base.set(`key-${i}`, `value-${i}`);
    const other = new Map(base);
    other.set('key-17', 'CHANGED');
    other.delete('key-300');
    other.set('key-new', 'x');
    const bits = 6;
    const ranges = diffMerkleTrees(buildMerkleTree(sorted(base), bits), buildMerkleTree(sorted(other), bits));
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges.reduce((n, r) => n + r.to - r.from + 1, 0)).toBeLessThanOrEqual(3);
    for (const k of ['key-17', 'key-300', 'key-new']) expect(keyInLeafRanges(bytes(k), bits, ranges)).toBe(true);
    const d = diffKeys(sorted(base), sorted(other), bits, ranges);
    expect(d.changed.map(text)).toEqual(['key-17']);
    expect(d.onlyA.map(text)).toEqual(['key-300']);
    expect(d.onlyB.map(text)).toEqual(['key-new']);
  });

  it('a key and its value cannot trade bytes unnoticed (lengths are in the digest)', () => {
    const a = buildMerkleTree([[bytes('ab'), bytes('c')]], 0);
    const b = buildMerkleTree([[bytes('a'), bytes('bc')]], 0);
    expect(diffMerkleTrees(a, b)).toEqual([{ from: 0, to: 0 }]);
  });

  it('rejects unsorted input, repeated keys and mismatched shapes', () => {
    expect(() => buildMerkleTree([[bytes('b'), bytes('')], [bytes('a'), bytes('')]])).toThrow(/ascending/);
    expect(() => buildMerkleTree([[bytes('a'), bytes('')], [bytes('a'), bytes('')]])).toThrow(/ascending/);
    expect(() => buildMerkleTree([], 21)).toThrow(RangeError);
    expect(() => diffMerkleTrees(buildMerkleTree([], 2), buildMerkleTree([], 3))).toThrow(/leaf bits/);
  });

  it('leaves bucket by key content: a shared key is in the same leaf whatever else is there', () => {
    const k = bytes('shared');
    expect(leafOfKey(k, 8)).toBe(leafOfKey(Uint8Array.from(k), 8));
    expect(leafOfKey(k, 0)).toBe(0);
    expect(leafOfKey(k, 8)).toBeLessThan(256);
  });

  it('randomized: diffKeys over the differing leaves equals a brute-force comparison (seeded)', () => {
    const seed = testSeed();
    const rnd = mulberry32(seed);
    for (let round = 0; round < 40; round++) {
      const bits = Math.floor(rnd() * 9);
      const a = new Map<string, string>();
      const n = Math.floor(rnd() * 400);
      for (let i = 0; i < n; i++) a.set(`k${Math.floor(rnd() * 5000)}`, `v${Math.floor(rnd() * 4)}`);
      const b = new Map(a);
      const edits = Math.floor(rnd() * 6);
      for (let e = 0; e < edits; e++) {
        const r = rnd();
        const key = `k${Math.floor(rnd() * 5000)}`;
        if (r < 0.33) b.delete(key);
        else if (r < 0.66) b.set(key, `v${Math.floor(rnd() * 4)}`);
        else a.set(key, `w${Math.floor(rnd() * 4)}`);
      }
      const expected = { onlyA: [] as string[], onlyB: [] as string[], changed: [] as string[] };
      for (const [k, v] of a) {
        if (!b.has(k)) expected.onlyA.push(k);
        else if (b.get(k) !== v) expected.changed.push(k);
      }
      for (const k of b.keys()) if (!a.has(k)) expected.onlyB.push(k);
      for (const list of Object.values(expected)) list.sort((x, y) => compareBytes(bytes(x), bytes(y)));
      const ranges = diffMerkleTrees(buildMerkleTree(sorted(a), bits), buildMerkleTree(sorted(b), bits));
      const got = diffKeys(sorted(a), sorted(b), bits, ranges);
      const msg = `seed ${seed} round ${round}`;
      expect({ onlyA: got.onlyA.map(text), onlyB: got.onlyB.map(text), changed: got.changed.map(text) }, msg).toEqual(expected);
      const differs = expected.onlyA.length + expected.onlyB.length + expected.changed.length > 0;
      expect(ranges.length > 0, msg).toBe(differs);
    }
  });
});
