import { afterEach, describe, expect, it } from 'vitest';
import { TempDirs, SHAPE_SN, groupRec } from './helpers.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WalChecksumError } from '../../src/storage/wal.js';
import { findEntryRecord, flipByte } from './wal-files.js';
import type { LogEntry } from '../../src/replication/types.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

function raw(index: number, term: number, size = 16): LogEntry {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (index * 31 + i) & 0xff;
  return { term, index, data };
}

function range(lo: number, hi: number, term: number, size = 16): LogEntry[] {
  const out: LogEntry[] = [];
  for (let i = lo; i <= hi; i++) out.push(raw(i, term, size));
  return out;
}

describe('WAL', () => {
  it('starts empty with a new hard state', () => {
    const s = tmp.open(tmp.make());
    s.saveGroup(groupRec(1, 7, SHAPE_SN));
    expect(s.hardState(1)).toEqual({ term: 0, vote: -1, commit: 0 });
    const log = s.logReader(1);
    expect([log.firstIndex(), log.lastIndex(), log.term(0), log.term(1)]).toEqual([1, 0, 0, undefined]);
  });

  it('persists entries and hard states of several groups in one commit, and reads them back after reopen', async () => {
    const dir = tmp.make();
    let s = tmp.open(dir, 'sync');
    s.saveGroup(groupRec(1, 7, SHAPE_SN));
    s.saveGroup(groupRec(2, 7, SHAPE_SN, '8000000000000000'));
    const commits = s.stats.walCommits;
    s.persist([
      { group: 1, entries: range(1, 5, 1), hardState: { term: 1, vote: 0, commit: 3 } },
      { group: 2, entries: [...range(1, 2, 1), ...range(3, 4, 2)], hardState: { term: 2, vote: 2, commit: 0 } },
    ]);
    expect(s.stats.walCommits).toBe(commits + 1);
    expect(s.stats.walEntries).toBe(9);
    await s.close();

    s = tmp.open(dir, 'async');
    expect(s.groups().map((g) => g.group)).toEqual([1, 2]);
    expect(s.groups()[1]).toEqual(groupRec(2, 7, SHAPE_SN, '8000000000000000'));
    expect(s.hardState(1)).toEqual({ term: 1, vote: 0, commit: 3 });
    expect(s.hardState(2)).toEqual({ term: 2, vote: 2, commit: 0 });
    const l1 = s.logReader(1);
    const l2 = s.logReader(2);
    expect([l1.firstIndex(), l1.lastIndex(), l2.firstIndex(), l2.lastIndex()]).toEqual([1, 5, 1, 4]);
    expect([1, 2, 3, 4, 5].map((i) => l2.term(i))).toEqual([1, 1, 2, 2, undefined]);
    expect(l1.entries(1, 6, 1 << 20)).toEqual(range(1, 5, 1));
    expect(l2.entries(2, 4, 1 << 20)).toEqual([raw(2, 1), raw(3, 2)]);
  });

  it('entries() stops at maxBytes but returns at least one', () => {
    const s = tmp.open(tmp.make());
    s.saveGroup(groupRec(1, 7, SHAPE_SN));
    s.persist([{ group: 1, entries: range(1, 10, 1, 100) }]);
    const log = s.logReader(1);
    expect(log.entries(1, 11, 10).map((e) => e.index)).toEqual([1]);
    expect(log.entries(1, 11, 250).map((e) => e.index)).toEqual([1, 2]);
    expect(log.entries(4, 11, 300).map((e) => e.index)).toEqual([4, 5, 6]);
    expect(log.entries(9, 100, 1 << 20).map((e) => e.index)).toEqual([9, 10]);
  });

  it('truncates from truncateFrom (and on overwrite) before appending', async () => {
    const dir = tmp.make();
    let s = tmp.open(dir);
    s.saveGroup(groupRec(1, 7, SHAPE_SN));
    s.persist([{ group: 1, entries: range(1, 10, 1) }]);
    s.persist([{ group: 1, truncateFrom: 6, entries: range(6, 7, 2) }]);
    let log = s.logReader(1);
    expect(log.lastIndex()).toBe(7);
    expect([5, 6, 7, 8].map((i) => log.term(i))).toEqual([1, 2, 2, undefined]);
    // Overwrite without truncateFrom: appending at index 4 replaces 4.. .
    s.persist([{ group: 1, entries: range(4, 4, 3) }]);
    expect(log.lastIndex()).toBe(4);
    expect(log.term(4)).toBe(3);
    // Truncate only.
    s.persist([{ group: 1, truncateFrom: 3, entries: [] }]);
    expect(log.lastIndex()).toBe(2);
    await s.close();
    s = tmp.open(dir);
    log = s.logReader(1);
    expect([log.firstIndex(), log.lastIndex(), log.term(2), log.term(3)]).toEqual([1, 2, 1, undefined]);
    expect(log.entries(1, 3, 1 << 20)).toEqual(range(1, 2, 1));
  });

  it('rejects holes and leaves the log unchanged', () => {
    const s = tmp.open(tmp.make());
    s.saveGroup(groupRec(1, 7, SHAPE_SN));
    s.persist([{ group: 1, entries: range(1, 3, 1) }]);
    expect(() => s.persist([{ group: 1, entries: range(5, 6, 1) }])).toThrow(/no holes/);
    expect(() => s.persist([{ group: 9, entries: range(1, 1, 1) }])).toThrow(/not hosted/);
    expect(s.logReader(1).lastIndex()).toBe(3);
  });

  it('compacts, keeping the boundary term, and an emptied log keeps its last index across reopen', async () => {
    const dir = tmp.make();
    let s = tmp.open(dir);
    s.saveGroup(groupRec(1, 7, SHAPE_SN));
    s.persist([{ group: 1, entries: [...range(1, 5, 1), ...range(6, 8, 2)] }]);
    s.compactWal(1, 6);
    let log = s.logReader(1);
    expect([log.firstIndex(), log.lastIndex(), log.term(5), log.term(6), log.term(7)]).toEqual([7, 8, undefined, 2, 2]);
    expect(() => log.entries(5, 9, 1 << 20)).toThrow(/compacted/);
    expect(() => s.persist([{ group: 1, truncateFrom: 6, entries: [] }])).toThrow(/compacted/);
    await s.close();
    s = tmp.open(dir);
    log = s.logReader(1);
    expect([log.firstIndex(), log.lastIndex(), log.term(6), log.term(7)]).toEqual([7, 8, 2, 2]);
    s.compactWal(1, 100);
    expect([log.firstIndex(), log.lastIndex(), log.term(8)]).toEqual([9, 8, 2]);
    await s.close();
    s = tmp.open(dir);
    log = s.logReader(1);
    expect([log.firstIndex(), log.lastIndex(), log.term(8)]).toEqual([9, 8, 2]);
    s.persist([{ group: 1, entries: range(9, 9, 3) }]);
    expect([log.firstIndex(), log.lastIndex(), log.term(9)]).toEqual([9, 9, 3]);
  });

  it('detects a corrupted record, counts it, and never returns it', async () => {
    const dir = tmp.make();
    let s = tmp.open(dir);
    s.saveGroup(groupRec(1, 7, SHAPE_SN));
    s.persist([{ group: 1, entries: range(1, 5, 1) }]);
    s.persist([{ group: 1, entries: range(6, 6, 1) }]);
    // Flip one data byte of entry 3, keeping the stored CRC.
    const seg = join(s.walDir, `segment-${s.walSegments().at(-1)}.log`);
    const at = findEntryRecord(readFileSync(seg), 1, 3);
    flipByte(seg, at + 12 + 16 + 5);
    const log = s.logReader(1);
    // A read stops before it (what precedes comes back), a read starting at it throws.
    expect(log.entries(1, 6, 1 << 20).map((e) => e.index)).toEqual([1, 2]);
    expect(s.stats.walChecksumFailures).toBe(1);
    expect(() => log.entries(3, 6, 1 << 20)).toThrow(WalChecksumError);
    expect(s.stats.walChecksumFailures).toBe(2);
    expect(log.entries(4, 6, 1 << 20).map((e) => e.index)).toEqual([4, 5]);
    await s.close();
    // On reopen the scan finds it (counted once), never applies it, and reads of it throw.
    s = tmp.open(dir);
    expect(s.stats.walChecksumFailures).toBe(1);
    expect(() => s.logReader(1).term(3)).toThrow(/checksum mismatch: group 1 index 3/);
    expect(() => s.logReader(1).entries(3, 4, 1 << 20)).toThrow(WalChecksumError);
    expect(s.logReader(1).term(2)).toBe(1);
    expect([s.logReader(1).firstIndex(), s.logReader(1).lastIndex()]).toEqual([1, 6]);
    expect(s.logReader(1).entries(4, 7, 1 << 20)).toEqual(range(4, 6, 1));
    // A leader overwriting the bad entry heals it.
    s.persist([{ group: 1, entries: range(3, 3, 2) }]);
    expect(s.logReader(1).entries(1, 4, 1 << 20)).toEqual([raw(1, 1), raw(2, 1), raw(3, 2)]);
  });

  it('dropGroup removes the WAL and hard state of that group only', async () => {
    const dir = tmp.make();
    let s = tmp.open(dir);
    s.saveGroup(groupRec(1, 7, SHAPE_SN, FULL_HALF_LO, FULL_HALF_HI));
    s.saveGroup(groupRec(2, 7, SHAPE_SN, '8000000000000000'));
    s.persist([
      { group: 1, entries: range(1, 3, 1), hardState: { term: 1, vote: 1, commit: 1 } },
      { group: 2, entries: range(1, 4, 1), hardState: { term: 1, vote: 2, commit: 2 } },
    ]);
    s.dropGroup(1);
    expect(s.groups().map((g) => g.group)).toEqual([2]);
    await s.close();
    s = tmp.open(dir);
    expect(s.groups().map((g) => g.group)).toEqual([2]);
    expect(s.logReader(2).lastIndex()).toBe(4);
    expect(s.hardState(2)).toEqual({ term: 1, vote: 2, commit: 2 });
    s.saveGroup(groupRec(1, 7, SHAPE_SN, FULL_HALF_LO, FULL_HALF_HI));
    expect(s.hardState(1)).toEqual({ term: 0, vote: -1, commit: 0 });
    expect(s.logReader(1).lastIndex()).toBe(0);
  });
});

const FULL_HALF_LO = '0000000000000000';
const FULL_HALF_HI = '7fffffffffffffff';
