/**
 * The segment-file WAL on its own: reopen fidelity, torn tails, corruption, segment
 * roll-over and deletion, and crash images cut at random bytes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wal, WalChecksumError, type WalStats, type WalOptions, type PersistRecord } from '../../src/storage/wal.js';
import type { HardState, LogEntry } from '../../src/replication/types.js';
import { TempDirs, SHAPE_SN, groupRec, prng } from './helpers.js';
import { fileRecords, flipByte } from './wal-files.js';
import { RecordType } from '../../src/storage/wal.js';

const tmp = new TempDirs();
const wals: Wal[] = [];
afterEach(async () => {
  for (const w of wals.splice(0)) await w.close();
  await tmp.cleanup();
});

function newStats(): WalStats {
  return { walCommits: 0, walBytes: 0, walEntries: 0, walChecksumFailures: 0 };
}

function openWal(dir: string, opts: WalOptions = {}, durability: 'sync' | 'async' = 'async', stats = newStats()): Wal {
  const w = new Wal(join(dir, 'wal'), durability, stats, opts);
  wals.push(w);
  return w;
}

async function closeWal(w: Wal): Promise<void> {
  wals.splice(wals.indexOf(w), 1);
  await w.close();
}

function data(index: number, term: number, size: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i++) d[i] = (index * 131 + term * 7 + i) & 0xff;
  return d;
}

interface GroupDump {
  group: number;
  first: number;
  last: number;
  hard: HardState;
  meta: { compactedIndex: number; compactedTerm: number; checkpointed: number };
  terms: Array<number | undefined>;
  entries: Array<{ index: number; term: number; data: number[] }>;
}

/** Everything a reader can see of the WAL. */
function dump(w: Wal, only?: number[]): { groups: GroupDump[]; dropped: number[] } {
  const groups = w.groups().filter((rec) => only === undefined || only.includes(rec.group)).map((rec) => {
    const log = w.logReader(rec.group);
    const first = log.firstIndex();
    const last = log.lastIndex();
    const terms: Array<number | undefined> = [];
    for (let i = first - 1; i <= last + 1; i++) terms.push(log.term(i));
    const entries: GroupDump['entries'] = [];
    for (let lo = first; lo <= last; ) {
      const got = log.entries(lo, last + 1, 4096);
      for (const e of got) entries.push({ index: e.index, term: e.term, data: [...e.data] });
      lo += got.length;
    }
    return { group: rec.group, first, last, hard: w.hardState(rec.group), meta: w.logMeta(rec.group), terms, entries };
  });
  return { groups, dropped: w.droppedGroups().map((g) => g.group) };
}

/** A random workload over a few groups: appends, overwrites, truncations, hard states,
 *  compactions, checkpoints, a drop and a re-add. Calls `after` after every step. */
function workload(w: Wal, seed: number, steps: number, after: (step: number) => void): void {
  const rnd = prng(seed);
  const G = [1, 2, 3];
  for (const g of G) w.saveGroup(groupRec(g, 7, SHAPE_SN));
  after(-1);
  const terms = new Map<number, number>(G.map((g) => [g, 1]));
  for (let step = 0; step < steps; step++) {
    const r = rnd();
    if (r < 0.08) {
      const hosted = G.filter((g) => w.group(g) !== undefined);
      const g = hosted[Math.floor(rnd() * hosted.length)];
      const log = w.logReader(g);
      const upTo = log.firstIndex() - 1 + Math.floor(rnd() * (log.lastIndex() - log.firstIndex() + 2));
      if (upTo >= log.firstIndex()) w.compact(g, upTo);
      else w.setCheckpointed(new Map([[g, log.lastIndex()]]));
    } else if (r < 0.09 && step > steps / 2 && w.group(3) !== undefined) {
      w.dropGroup(3);
    } else if (r < 0.1 && w.group(3) === undefined) {
      w.saveGroup(groupRec(3, 7, SHAPE_SN));
      terms.set(3, 1);
    } else {
      const batch: PersistRecord[] = [];
      for (const g of G) {
        if (w.group(g) === undefined || rnd() < 0.3) continue;
        const log = w.logReader(g);
        let next = log.lastIndex() + 1;
        let truncateFrom: number | undefined;
        const q = rnd();
        if (q < 0.1 && log.lastIndex() >= log.firstIndex()) {
          // A new term overwrites a suffix.
          next = log.firstIndex() + Math.floor(rnd() * (log.lastIndex() - log.firstIndex() + 1));
          terms.set(g, terms.get(g)! + 1);
        } else if (q < 0.15 && log.lastIndex() >= log.firstIndex()) {
          truncateFrom = log.firstIndex() + Math.floor(rnd() * (log.lastIndex() - log.firstIndex() + 1));
          next = truncateFrom;
          terms.set(g, terms.get(g)! + 1);
        }
        const n = Math.floor(rnd() * 12);
        const entries: LogEntry[] = [];
        for (let i = 0; i < n; i++) entries.push({ index: next + i, term: terms.get(g)!, data: data(next + i, terms.get(g)!, Math.floor(rnd() * 600)) });
        const hardState = rnd() < 0.7 ? { term: terms.get(g)!, vote: Math.floor(rnd() * 3), commit: Math.floor(rnd() * 1000) } : undefined;
        batch.push({ group: g, entries, ...(truncateFrom !== undefined ? { truncateFrom } : {}), ...(hardState ? { hardState } : {}) });
      }
      if (batch.length > 0) w.persist(batch);
    }
    after(step);
  }
}

describe('segment-file WAL', () => {
  it('reopens to exactly the same entries, terms, hard states and metadata after a random workload', async () => {
    for (const [seed, opts] of [
      [1, { segmentBytes: 32 * 1024, preallocateBytes: 0 }],
      [2, { segmentBytes: 32 * 1024, preallocateBytes: 8 * 1024 }],
      [3, {}],
    ] as Array<[number, WalOptions]>) {
      const dir = tmp.make();
      let w = openWal(dir, opts);
      workload(w, seed, 400, () => {});
      const before = dump(w);
      const stats = newStats();
      await closeWal(w);
      w = openWal(dir, opts, 'async', stats);
      expect(dump(w)).toEqual(before);
      expect(stats.walChecksumFailures).toBe(0);
      // And again after more work on the reopened log.
      workload(w, seed + 100, 100, () => {});
      const again = dump(w);
      await closeWal(w);
      w = openWal(dir, opts);
      expect(dump(w)).toEqual(again);
      await closeWal(w);
    }
  });

  it('rolls over to new segments and deletes old ones once compaction frees them', async () => {
    const dir = tmp.make();
    const opts = { segmentBytes: 16 * 1024 };
    let w = openWal(dir, opts, 'sync');
    w.saveGroup(groupRec(1, 7, SHAPE_SN));
    w.saveGroup(groupRec(2, 7, SHAPE_SN));
    w.persist([{ group: 2, entries: [{ index: 1, term: 1, data: data(1, 1, 100) }], hardState: { term: 1, vote: 2, commit: 1 } }]);
    for (let i = 1; i <= 200; i++) w.persist([{ group: 1, entries: [{ index: i, term: 1, data: data(i, 1, 500) }], hardState: { term: 1, vote: 0, commit: i } }]);
    const segs = w.segmentNumbers();
    expect(segs.length).toBeGreaterThan(5);
    expect(readdirSync(join(dir, 'wal')).sort()).toEqual(segs.map((n) => `segment-${n}.log`).sort());
    // Group 2's entry 1 pins the first segment: nothing goes.
    w.compact(1, 150);
    expect(w.segmentNumbers()).toEqual(segs);
    // Once group 2 compacts too, everything up to the segment holding entry 151 goes.
    w.compact(2, 1);
    const left = w.segmentNumbers();
    expect(left.length).toBeLessThan(segs.length);
    expect(left[0]).toBeGreaterThan(segs[0]);
    expect(existsSync(join(dir, 'wal', `segment-${segs[0]}.log`))).toBe(false);
    expect(w.logReader(1).entries(151, 152, 1 << 20)[0].data).toEqual(data(151, 1, 500));
    const before = dump(w);
    await closeWal(w);
    w = openWal(dir, opts);
    expect(dump(w)).toEqual(before);
    expect(w.hardState(2)).toEqual({ term: 1, vote: 2, commit: 1 }); // restated in later segments
    // Compacting everything leaves only the newest segment(s).
    w.compact(1, 200);
    expect(w.segmentNumbers().length).toBe(1);
    const after = dump(w);
    await closeWal(w);
    w = openWal(dir, opts);
    expect(dump(w)).toEqual(after);
    expect([w.logReader(1).firstIndex(), w.logReader(1).lastIndex(), w.logReader(1).term(200)]).toEqual([201, 200, 1]);
  });

  it('cuts a torn record at the end of the last segment and carries on', async () => {
    for (const preallocateBytes of [0, 64 * 1024]) {
      const dir = tmp.make();
      let w = openWal(dir, { preallocateBytes });
      w.saveGroup(groupRec(1, 7, SHAPE_SN));
      for (let i = 1; i <= 10; i++) w.persist([{ group: 1, entries: [{ index: i, term: 1, data: data(i, 1, 300) }], hardState: { term: 1, vote: 0, commit: i } }]);
      const seg = join(dir, 'wal', `segment-${w.segmentNumbers().at(-1)}.log`);
      const pos = w.writePosition().offset;
      const lastBatch = fileRecords(readFileSync(seg)).at(-1)!.batch;
      await closeWal(w);
      // Cut in the middle of the last batch's entry, as a crash mid-write leaves it.
      truncateSync(seg, lastBatch + 100);
      if (preallocateBytes > 0) {
        // ... or with the preallocated zeros still behind it.
        const buf = Buffer.alloc(pos + 5000);
        readFileSync(seg).copy(buf);
        writeFileSync(seg, buf);
      }
      const stats = newStats();
      w = openWal(dir, { preallocateBytes }, 'async', stats);
      expect(stats.walChecksumFailures).toBe(0);
      expect(w.logReader(1).lastIndex()).toBe(9);
      expect(w.hardState(1)).toEqual({ term: 1, vote: 0, commit: 9 });
      expect(statSync(seg).size).toBe(lastBatch);
      w.persist([{ group: 1, entries: [{ index: 10, term: 2, data: data(10, 2, 10) }] }]);
      await closeWal(w);
      w = openWal(dir, { preallocateBytes }, 'async', stats);
      expect(stats.walChecksumFailures).toBe(0);
      expect(w.logReader(1).entries(9, 11, 1 << 20).map((e) => [e.index, e.term])).toEqual([[9, 1], [10, 2]]);
    }
  });

  it('counts a corrupted record in an older segment, applies the rest, and reads of it throw', async () => {
    const dir = tmp.make();
    const opts = { segmentBytes: 8 * 1024 };
    let w = openWal(dir, opts);
    w.saveGroup(groupRec(1, 7, SHAPE_SN));
    w.saveGroup(groupRec(2, 7, SHAPE_SN));
    for (let i = 1; i <= 60; i++) {
      w.persist([
        { group: 1, entries: [{ index: i, term: 1, data: data(i, 1, 400) }] },
        { group: 2, entries: [{ index: i, term: 1, data: data(i, 1, 50) }] },
      ]);
    }
    const first = join(dir, 'wal', `segment-${w.segmentNumbers()[0]}.log`);
    const buf = readFileSync(first);
    const rec = fileRecords(buf).find((r) => r.type === RecordType.ENTRY && r.group === 1 && r.index === 5)!;
    const before = dump(w);
    await closeWal(w);
    flipByte(first, rec.at + 40);
    const stats = newStats();
    w = openWal(dir, opts, 'async', stats);
    expect(stats.walChecksumFailures).toBe(1);
    const log = w.logReader(1);
    expect([log.firstIndex(), log.lastIndex()]).toEqual([1, 60]);
    expect(() => log.term(5)).toThrow(WalChecksumError);
    expect(() => log.entries(5, 6, 1 << 20)).toThrow(WalChecksumError);
    expect(log.entries(1, 10, 1 << 20).map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(log.entries(6, 61, 1 << 30).length).toBe(55);
    // The other group of the same batch is intact.
    expect(dump(w, [2]).groups).toEqual(before.groups.filter((g) => g.group === 2));
    // A corrupt batch header is found as well (the rest of that segment is still used).
    await closeWal(w);
    const hdrAt = fileRecords(buf).find((r) => r.type === RecordType.ENTRY && r.group === 1 && r.index === 7)!.batch;
    flipByte(first, hdrAt + 13);
    const stats2 = newStats();
    w = openWal(dir, opts, 'async', stats2);
    expect(stats2.walChecksumFailures).toBe(2);
    expect(() => w.logReader(1).entries(7, 8, 1 << 20)).toThrow(WalChecksumError);
    expect(() => w.logReader(2).term(7)).toThrow(WalChecksumError);
    expect(w.logReader(1).entries(8, 9, 1 << 20).map((e) => e.index)).toEqual([8]);
    expect(w.logReader(2).lastIndex()).toBe(60);
  });

  it('a crash image cut at any byte recovers a prefix of the batches: all fully written ones, nothing half-applied', async () => {
    for (const [seed, opts] of [
      [11, { segmentBytes: 24 * 1024, preallocateBytes: 0 }],
      [12, { segmentBytes: 24 * 1024, preallocateBytes: 4096 }],
    ] as Array<[number, WalOptions]>) {
      const dir = tmp.make();
      const w = openWal(dir, opts);
      const dumps: Array<ReturnType<typeof dump>> = [];
      const ends: Array<{ segment: number; offset: number }> = [];
      const images: Array<{ step: number; dir: string; synced: number }> = [];
      const rnd = prng(seed);
      workload(w, seed, 250, (step) => {
        dumps.push(dump(w));
        ends.push(w.writePosition());
        if (step >= 0 && rnd() < 0.12) {
          // "Copy the files mid-way": a process crash right after this step.
          const img = tmp.make();
          cpSync(join(dir, 'wal'), join(img, 'wal'), { recursive: true });
          images.push({ step: dumps.length - 1, dir: img, synced: w.writePosition().synced });
        }
      });
      expect(images.length).toBeGreaterThan(10);
      for (const { step, dir: img, synced } of images) {
        const walDir = join(img, 'wal');
        const segs = readdirSync(walDir).map((n) => Number(/\d+/.exec(n)![0])).sort((a, b) => a - b);
        const lastSeg = segs[segs.length - 1];
        const path = join(walDir, `segment-${lastSeg}.log`);
        const size = statSync(path).size;
        // A crash tears only what was not synced yet (segment deletion syncs first).
        const cut = synced + Math.floor(rnd() * (size - synced + 1));
        truncateSync(path, cut);
        const stats = newStats();
        const r = openWal(img, opts, 'async', stats);
        const got = dump(r);
        // Every step whose batch ended at or before the cut must be there.
        let minStep = 0;
        for (let k = 0; k <= step; k++) {
          if (ends[k].segment < lastSeg || (ends[k].segment === lastSeg && ends[k].offset <= cut)) minStep = k;
        }
        let match = -1;
        for (let k = step; k >= minStep; k--) {
          if (JSON.stringify(dumps[k]) === JSON.stringify(got)) {
            match = k;
            break;
          }
        }
        expect(match, `image of step ${step} cut at ${cut}/${size}: expected the state of a step in [${minStep}, ${step}]`).toBeGreaterThanOrEqual(minStep);
        expect(stats.walChecksumFailures).toBe(0);
        await closeWal(r);
      }
    }
  });

  it('a dropped group stays dropped (with its tombstone) across segments and reopen; re-adding starts empty', async () => {
    const dir = tmp.make();
    const opts = { segmentBytes: 4 * 1024 };
    let w = openWal(dir, opts);
    w.saveGroup(groupRec(1, 7, SHAPE_SN));
    w.saveGroup(groupRec(2, 7, SHAPE_SN));
    for (let i = 1; i <= 20; i++) w.persist([{ group: 1, entries: [{ index: i, term: 1, data: data(i, 1, 300) }], hardState: { term: 1, vote: 1, commit: i } }]);
    w.dropGroup(1);
    for (let i = 1; i <= 20; i++) w.persist([{ group: 2, entries: [{ index: i, term: 1, data: data(i, 1, 300) }] }]);
    expect(w.droppedGroups().map((g) => g.group)).toEqual([1]);
    await closeWal(w);
    w = openWal(dir, opts);
    expect(w.groups().map((g) => g.group)).toEqual([2]);
    expect(w.droppedGroups().map((g) => g.group)).toEqual([1]);
    w.clearDropped([1]);
    w.saveGroup(groupRec(1, 7, SHAPE_SN));
    expect([w.logReader(1).lastIndex(), w.hardState(1).term]).toEqual([0, 0]);
    await closeWal(w);
    w = openWal(dir, opts);
    expect(w.droppedGroups()).toEqual([]);
    expect([w.logReader(1).lastIndex(), w.hardState(1).term, w.logReader(2).lastIndex()]).toEqual([0, 0, 20]);
    // Group 1's old entries no longer pin any segment.
    w.compact(2, 20);
    expect(w.segmentNumbers().length).toBe(1);
  });
});

