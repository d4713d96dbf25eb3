/**
 * The partitions a table had at a past moment, from its split history: each of today's,
 * or the ancestor it was part of then, with the index the ancestor's log ends at.
 */
import { describe, expect, it } from 'vitest';
import { partitionsAsOf } from '../../src/control/partition-lineage.js';
import type { SplitRecord } from '../../src/control/metadata.js';

const range = (group: number, hashStart: string, hashEnd: string) => ({ group, hashStart, hashEnd, replicas: [0, 1, 2] });

describe('partitionsAsOf', () => {
  // Group 1 (the whole space) split at t=100 into 2 and 3; 3 split at t=200 into 4 and 5.
  const splitHistory: SplitRecord[] = [
    { group: 1, hashStart: '0000000000000000', hashEnd: 'ffffffffffffffff', index: 40, atMs: 100, children: [2, 3] },
    { group: 3, hashStart: '8000000000000000', hashEnd: 'ffffffffffffffff', index: 70, atMs: 200, children: [4, 5] },
  ];
  const partitions = [range(2, '0000000000000000', '7fffffffffffffff'), range(4, '8000000000000000', 'bfffffffffffffff'), range(5, 'c000000000000000', 'ffffffffffffffff')];
  const meta = { partitions, splitHistory };

  it('gives today\'s partitions for a moment after every split (the split\'s own moment included)', () => {
    expect(partitionsAsOf(meta, 200).map((p) => p.group)).toEqual([2, 4, 5]);
    expect(partitionsAsOf(meta, 5_000).every((p) => p.end === undefined)).toBe(true);
  });

  it('undoes the splits later than the moment, once per ancestor, with the index its log ends at', () => {
    expect(partitionsAsOf(meta, 199)).toEqual([
      { group: 2, hashStart: '0000000000000000', hashEnd: '7fffffffffffffff' },
      { group: 3, hashStart: '8000000000000000', hashEnd: 'ffffffffffffffff', end: 70 },
    ]);
    expect(partitionsAsOf(meta, 99)).toEqual([{ group: 1, hashStart: '0000000000000000', hashEnd: 'ffffffffffffffff', end: 40 }]);
  });

  it('is today\'s partitions for a table that never split', () => {
    expect(partitionsAsOf({ partitions }, 0).map((p) => p.group)).toEqual([2, 4, 5]);
  });
});
