/**
 * The WAL's side of archiving: reading a segment file back from outside the Wal object,
 * and the archive pin that keeps sealed segments until the archiver marked them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSegmentRecords, segmentFileName, Wal, WalSegmentError, type WalOptions, type WalStats } from '../../src/storage/wal.js';
import { TempDirs, SHAPE_SN, groupRec } from './helpers.js';
import { findEntryRecord, fileBytes, flipByte } from './wal-files.js';

const tmp = new TempDirs();
const wals: Wal[] = [];
afterEach(async () => {
  for (const w of wals.splice(0)) await w.close();
  await tmp.cleanup();
});

function openWal(dir: string, opts: WalOptions = {}): Wal {
  const stats: WalStats = { walCommits: 0, walBytes: 0, walEntries: 0, walChecksumFailures: 0 };
  const w = new Wal(join(dir, 'wal'), 'async', stats, opts);
  wals.push(w);
  return w;
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe('WAL segments read back for the archiver', () => {
  it('readSegmentRecords returns every record in order, with truncations and hard states', () => {
    const w = openWal(tmp.make(), { archive: true });
    w.saveGroup(groupRec(7, 1, SHAPE_SN));
    w.persist([{ group: 7, entries: [{ index: 1, term: 1, data: bytes('a') }, { index: 2, term: 1, data: bytes('b') }] }]);
    w.persist([{ group: 7, truncateFrom: 2, entries: [{ index: 2, term: 2, data: bytes('B') }], hardState: { term: 2, vote: 0, commit: 2 } }]);
    const view = w.archiveView(true);
    const sealed = view.segments.filter((s) => s.sealed);
    expect(sealed.length).toBe(1);
    const recs = readSegmentRecords(sealed[0].file).filter((r) => r.type !== 'group' && r.type !== 'segment' && r.type !== 'meta');
    expect(recs.map((r) => r.type)).toEqual(['entry', 'entry', 'truncate', 'entry', 'hardState']);
    const last = recs[3];
    expect(last.type === 'entry' && last.index === 2 && last.term === 2 && new TextDecoder().decode(last.data)).toBe('B');
    // The current segment, read up to its stated length, is whole too.
    const current = view.segments.find((s) => !s.sealed)!;
    expect(readSegmentRecords(current.file, current.bytes).some((r) => r.type === 'group')).toBe(true);
  });

  it('a flipped byte in a sealed segment throws WalSegmentError', () => {
    const w = openWal(tmp.make(), { archive: true });
    w.saveGroup(groupRec(7, 1, SHAPE_SN));
    w.persist([{ group: 7, entries: [{ index: 1, term: 1, data: bytes('hello') }] }]);
    const file = w.archiveView(true).segments[0].file;
    const at = findEntryRecord(fileBytes(file), 7, 1);
    flipByte(file, at + 12 + 16); // a data byte
    expect(() => readSegmentRecords(file)).toThrow(WalSegmentError);
  });

  it('sealing with nothing new written makes no empty segment', () => {
    const w = openWal(tmp.make(), { archive: true });
    w.saveGroup(groupRec(7, 1, SHAPE_SN));
    w.archiveView(true);
    const n = w.segmentNumbers().length;
    w.archiveView(true);
    expect(w.segmentNumbers().length).toBe(n);
  });

  it('with archiving on, compaction keeps a sealed segment until it is marked archived, across a restart', async () => {
    const dir = tmp.make();
    let w = openWal(dir, { archive: true });
    w.saveGroup(groupRec(7, 1, SHAPE_SN));
    w.persist([{ group: 7, entries: [{ index: 1, term: 1, data: bytes('a') }] }]);
    const first = w.archiveView(true).segments[0].segment;
    w.compact(7, 1);
    expect(w.segmentNumbers()).toContain(first);
    // A restart keeps the pin: the archived mark is on disk, and nothing is marked yet.
    wals.splice(wals.indexOf(w), 1);
    await w.close();
    w = openWal(dir, { archive: true });
    expect(w.segmentNumbers()).toContain(first);
    expect(w.archiveView(false).archivedThrough).toBe(0);
    expect(() => w.markArchived(w.segmentNumbers().at(-1)!)).toThrow(/not sealed/);
    w.markArchived(first);
    expect(existsSync(join(dir, 'wal', segmentFileName(first)))).toBe(false);
    wals.splice(wals.indexOf(w), 1);
    await w.close();
    w = openWal(dir, { archive: true });
    expect(w.archiveView(false).archivedThrough).toBe(first);
    expect(w.archiveView(false).segments.every((s) => s.segment > first)).toBe(true);
  });

  it('with archiving off, the same compaction deletes the segment (and archiveView refuses)', () => {
    const w = openWal(tmp.make());
    w.saveGroup(groupRec(7, 1, SHAPE_SN));
    w.persist([{ group: 7, entries: [{ index: 1, term: 1, data: bytes('a') }] }]);
    expect(() => w.archiveView(true)).toThrow(/archiving is off/);
    const before = w.segmentNumbers()[0];
    // Fill past a segment so the first one is sealed.
    const big = new Wal(join(tmp.make(), 'wal'), 'async', { walCommits: 0, walBytes: 0, walEntries: 0, walChecksumFailures: 0 }, { segmentBytes: 4096 });
    wals.push(big);
    big.saveGroup(groupRec(7, 1, SHAPE_SN));
    for (let i = 1; i <= 20; i++) big.persist([{ group: 7, entries: [{ index: i, term: 1, data: new Uint8Array(500) }] }]);
    const segs = big.segmentNumbers();
    expect(segs.length).toBeGreaterThan(1);
    big.compact(7, 20);
    expect(big.segmentNumbers()).toEqual([segs.at(-1)]);
    expect(before).toBe(w.segmentNumbers()[0]);
  });
});

