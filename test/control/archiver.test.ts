/**
 * The WAL archiver against real Wal objects and a DirectoryObjectStore: which entries it
 * archives (truncations across segments), the archive pin, idempotence, verification
 * (holes, damaged objects, replicas that disagree) and reading entries back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wal, segmentFileName, type WalStats } from '../../src/storage/wal.js';
import { DirectoryObjectStore } from '../../src/control/object-store.js';
import {
  ArchiveHoleError, ArchiveService, WalArchiver, manifestKey, readArchivedEntries, verifyArchive, type ArchiveManifest, type ArchiverNode,
} from '../../src/control/archiver.js';
import { groupRec, SHAPE_SN } from '../storage/helpers.js';
import { seededRandom } from '../../src/model/prng.js';

const dirs: string[] = [];
const wals: Wal[] = [];
afterEach(async () => {
  for (const w of wals.splice(0)) await w.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'shardbox-archiver-'));
  dirs.push(d);
  return d;
}
function openWal(dir: string): Wal {
  const stats: WalStats = { walCommits: 0, walBytes: 0, walEntries: 0, walChecksumFailures: 0 };
  const w = new Wal(join(dir, 'wal'), 'async', stats, { archive: true });
  wals.push(w);
  return w;
}
const TABLE = 5;
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A node of the archiver's view over a Wal; `applied` plays the node's applied indexes. */
function walNode(node: number, wal: Wal, applied: Record<number, number> = {}, marks = true): ArchiverNode {
  return {
    node,
    view: async (seal) => ({ ...wal.archiveView(seal), applied: { ...applied } }),
    markArchived: async (segment) => {
      if (marks) wal.markArchived(segment);
    },
  };
}

async function manifest(store: DirectoryObjectStore, group: number, node: number): Promise<ArchiveManifest> {
  return JSON.parse(text((await store.get(manifestKey(TABLE, group, node)))!)) as ArchiveManifest;
}

/** Three replicas' WALs of group 1 with the same entries 1..n, in passes of `per`. */
async function threeReplicas(store: DirectoryObjectStore, n: number, per: number, data = (i: number, node: number) => bytes(`v${i}`)): Promise<void> {
  const archiver = new WalArchiver(store);
  for (let node = 0; node < 3; node++) {
    const w = openWal(tempDir());
    w.saveGroup(groupRec(1, TABLE, SHAPE_SN));
    for (let i = 1; i <= n; i++) {
      w.persist([{ group: 1, entries: [{ index: i, term: 1, data: data(i, node) }], hardState: { term: 1, vote: 0, commit: i } }]);
      if (i % per === 0) await archiver.archiveNode(walNode(node, w), true);
    }
    await archiver.archiveNode(walNode(node, w), true);
  }
}

describe('WalArchiver', () => {
  it('forgets what retention no longer needs: ranges through an index, and archiving goes on after them', async () => {
    const store = new DirectoryObjectStore(tempDir());
    const w = openWal(tempDir());
    w.saveGroup(groupRec(1, TABLE, SHAPE_SN));
    const archiver = new WalArchiver(store);
    for (let i = 1; i <= 9; i++) {
      w.persist([{ group: 1, entries: [{ index: i, term: 1, data: bytes(`v${i}`) }], hardState: { term: 1, vote: 0, commit: i } }]);
      if (i % 3 === 0) await archiver.archiveNode(walNode(0, w), true);
    }
    expect((await manifest(store, 1, 0)).ranges.map((r) => [r.from, r.to])).toEqual([[1, 3], [4, 6], [7, 9]]);
    // A range that reaches past the index stays whole.
    expect(await archiver.forgetThrough(TABLE, 1, 5)).toBe(1);
    expect((await manifest(store, 1, 0)).ranges.map((r) => [r.from, r.to])).toEqual([[4, 6], [7, 9]]);
    await expect(readArchivedEntries(store, TABLE, 1, 1, 3)).rejects.toThrow(ArchiveHoleError);
    // Every range: none left, and the next pass continues after the last one forgotten.
    expect(await archiver.forgetThrough(TABLE, 1, 9)).toBe(2);
    expect(await manifest(store, 1, 0)).toMatchObject({ ranges: [], forgotten: 9 });
    expect(await store.list('wal/')).toEqual([manifestKey(TABLE, 1, 0)]);
    w.persist([{ group: 1, entries: [{ index: 10, term: 1, data: bytes('v10') }], hardState: { term: 1, vote: 0, commit: 10 } }]);
    await archiver.archiveNode(walNode(0, w), true);
    expect((await manifest(store, 1, 0)).ranges.map((r) => [r.from, r.to])).toEqual([[10, 10]]);
    expect((await readArchivedEntries(store, TABLE, 1, 10, 10)).map((e) => text(e.data))).toEqual(['v10']);
    const verified = await verifyArchive(store);
    expect(verified.ok).toBe(true);
    expect(verified.coverage).toEqual([{ tableId: TABLE, group: 1, from: 10, to: 10, nodes: [0] }]);
  });

  it('archives only entries that ended up in the log, across a truncation in a later segment', async () => {
    const store = new DirectoryObjectStore(tempDir());
    const w = openWal(tempDir());
    w.saveGroup(groupRec(1, TABLE, SHAPE_SN));
    w.persist([{ group: 1, entries: [1, 2, 3].map((i) => ({ index: i, term: 1, data: bytes(`old${i}`) })), hardState: { term: 1, vote: 0, commit: 1 } }]);
    const sealedFirst = w.archiveView(true).segments[0].segment;
    // A later leader overwrites 2..3 in the next segment.
    w.persist([{ group: 1, truncateFrom: 2, entries: [2, 3].map((i) => ({ index: i, term: 2, data: bytes(`new${i}`) })), hardState: { term: 2, vote: 1, commit: 3 } }]);
    const archiver = new WalArchiver(store);
    // Without sealing only the first segment is read: 2..3 are not final there.
    let pass = await archiver.archiveNode(walNode(0, w), false);
    expect(pass.entries).toBe(1);
    expect(pass.archivedThrough).toBe(0); // 2..3 of that segment are undecided: it stays
    w.compact(1, 3);
    expect(w.segmentNumbers()).toContain(sealedFirst);
    pass = await archiver.archiveNode(walNode(0, w), true);
    expect(pass.entries).toBe(2);
    expect(pass.archivedThrough).toBeGreaterThan(sealedFirst);
    expect(w.segmentNumbers()).not.toContain(sealedFirst);
    const got = await readArchivedEntries(store, TABLE, 1, 1, 3);
    expect(got.map((e) => [e.index, e.term, text(e.data)])).toEqual([[1, 1, 'old1'], [2, 2, 'new2'], [3, 2, 'new3']]);
    expect((await manifest(store, 1, 0)).ranges.map((r) => [r.from, r.to])).toEqual([[1, 1], [2, 3]]);
    expect((await verifyArchive(store)).ok).toBe(true);
  });

  it('an ENTRY over an uncommitted one, with no TRUNCATE record, replaces it', async () => {
    const store = new DirectoryObjectStore(tempDir());
    const w = openWal(tempDir());
    w.saveGroup(groupRec(1, TABLE, SHAPE_SN));
    w.persist([{ group: 1, entries: [{ index: 1, term: 1, data: bytes('a') }, { index: 2, term: 1, data: bytes('lost') }] }]);
    w.archiveView(true);
    w.persist([{ group: 1, entries: [{ index: 2, term: 3, data: bytes('kept') }], hardState: { term: 3, vote: 1, commit: 2 } }]);
    await new WalArchiver(store).archiveNode(walNode(0, w), true);
    expect((await readArchivedEntries(store, TABLE, 1, 1, 2)).map((e) => text(e.data))).toEqual(['a', 'kept']);
  });

  it('uses the applied index only after a sealing pass, and keeps uncommitted entries pending', async () => {
    const store = new DirectoryObjectStore(tempDir());
    const w = openWal(tempDir());
    w.saveGroup(groupRec(1, TABLE, SHAPE_SN));
    w.persist([{ group: 1, entries: [1, 2, 3, 4].map((i) => ({ index: i, term: 1, data: bytes(`v${i}`) })), hardState: { term: 1, vote: 0, commit: 1 } }]);
    const archiver = new WalArchiver(store);
    // Applied 3: entries 1..3 are final; 4 is not (no commit covers it).
    const pass = await archiver.archiveNode(walNode(0, w, { 1: 3 }), true);
    expect(pass.entries).toBe(3);
    expect(pass.archivedThrough).toBe(0);
    await expect(readArchivedEntries(store, TABLE, 1, 1, 4)).rejects.toThrow(ArchiveHoleError);
    w.persist([{ group: 1, entries: [], hardState: { term: 1, vote: 0, commit: 4 } }]);
    const again = await archiver.archiveNode(walNode(0, w), true);
    expect(again.entries).toBe(1);
    expect(again.archivedThrough).toBeGreaterThan(0);
    expect((await readArchivedEntries(store, TABLE, 1, 1, 4)).map((e) => e.index)).toEqual([1, 2, 3, 4]);
  });

  it('is idempotent: a crash between archiving and marking re-reads the segment and adds nothing', async () => {
    const store = new DirectoryObjectStore(tempDir());
    const dir = tempDir();
    const w = openWal(dir);
    w.saveGroup(groupRec(1, TABLE, SHAPE_SN));
    w.persist([{ group: 1, entries: [{ index: 1, term: 1, data: bytes('x') }], hardState: { term: 1, vote: 0, commit: 1 } }]);
    await new WalArchiver(store).archiveNode(walNode(0, w, {}, false), true);
    expect(w.archiveView(false).archivedThrough).toBe(0);
    // A fresh archiver (as after a restart) reads the same segment again.
    const pass = await new WalArchiver(store).archiveNode(walNode(0, w), true);
    expect(pass.entries).toBe(0);
    expect(pass.archivedThrough).toBeGreaterThan(0);
    expect((await manifest(store, 1, 0)).ranges.length).toBe(1);
  });

  it('a log that restarts after a snapshot (logStart) starts a range that says so; the gap is a hole of this replica', async () => {
    const store = new DirectoryObjectStore(tempDir());
    const w = openWal(tempDir());
    w.saveGroup(groupRec(1, TABLE, SHAPE_SN));
    w.persist([{ group: 1, entries: [{ index: 1, term: 1, data: bytes('a') }], hardState: { term: 1, vote: 0, commit: 1 } }]);
    const archiver = new WalArchiver(store);
    await archiver.archiveNode(walNode(0, w), true);
    // A log replica's restart: its log continues after index 10 (a snapshot's).
    w.persist([{ group: 1, logStart: { index: 10, term: 2 }, entries: [{ index: 11, term: 2, data: bytes('b') }], hardState: { term: 2, vote: 1, commit: 11 } }]);
    await archiver.archiveNode(walNode(0, w), true);
    const ranges = (await manifest(store, 1, 0)).ranges;
    expect(ranges.map((r) => [r.from, r.to, r.afterSnapshot?.index])).toEqual([[1, 1, undefined], [11, 11, 10]]);
    expect((await verifyArchive(store)).holes).toEqual([{ tableId: TABLE, group: 1, from: 2, to: 10 }]);
  });

  it('a group dropped after its entries became final still gets them archived, and pins nothing', async () => {
    const store = new DirectoryObjectStore(tempDir());
    const w = openWal(tempDir());
    w.saveGroup(groupRec(1, TABLE, SHAPE_SN));
    w.persist([{ group: 1, entries: [1, 2, 3].map((i) => ({ index: i, term: 1, data: bytes(`v${i}`) })), hardState: { term: 1, vote: 0, commit: 2 } }]);
    w.archiveView(true);
    w.dropGroup(1);
    const pass = await new WalArchiver(store).archiveNode(walNode(0, w), true);
    expect(pass.entries).toBe(2); // 3 never committed here
    expect(pass.archivedThrough).toBe(w.segmentNumbers().at(-1)! - 1);
    expect((await readArchivedEntries(store, TABLE, 1, 1, 2)).map((e) => text(e.data))).toEqual(['v1', 'v2']);
  });

  it('reports a damaged sealed segment and archives nothing from it on', async () => {
    const store = new DirectoryObjectStore(tempDir());
    const w = openWal(tempDir());
    w.saveGroup(groupRec(1, TABLE, SHAPE_SN));
    w.persist([{ group: 1, entries: [{ index: 1, term: 1, data: bytes('payload') }], hardState: { term: 1, vote: 0, commit: 1 } }]);
    const seg = w.archiveView(true).segments[0];
    const buf = readFileSync(seg.file);
    buf[buf.length - 3] ^= 0x40;
    writeFileSync(seg.file, buf);
    const archiver = new WalArchiver(store);
    const pass = await archiver.archiveNode(walNode(0, w, { 1: 1 }), true);
    expect(pass.error).toMatch(/CRC32C/);
    expect(pass.entries).toBe(0);
    expect(pass.archivedThrough).toBe(0);
    expect(archiver.counters.errors).toBe(1);
    expect(existsSync(join(w.path, segmentFileName(seg.segment)))).toBe(true);
  });
});

describe('verifyArchive', () => {
  it('three replicas that archived the same log verify clean', async () => {
    const store = new DirectoryObjectStore(tempDir());
    await threeReplicas(store, 12, 4);
    const v = await verifyArchive(store);
    expect(v).toMatchObject({ partitions: 1, holes: [], mismatches: [], ok: true });
    expect(v.entries).toBe(36);
    expect((await readArchivedEntries(store, TABLE, 1, 3, 9)).map((e) => text(e.data))).toEqual(['v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9']);
  });

  it('an object deleted from every replica is a hole (and each a missing object); one replica\'s copy is enough to read', async () => {
    const store = new DirectoryObjectStore(tempDir());
    await threeReplicas(store, 12, 4);
    const objects = (await store.list('wal/')).filter((k) => k.startsWith(`wal/${TABLE}/1/5-8.`));
    expect(objects.length).toBe(3);
    await store.delete(objects[0]);
    await store.delete(objects[1]);
    let v = await verifyArchive(store);
    expect(v.holes).toEqual([]);
    expect(v.mismatches.filter((m) => m.kind === 'missingObject').length).toBe(2);
    expect((await readArchivedEntries(store, TABLE, 1, 1, 12)).length).toBe(12);
    await store.delete(objects[2]);
    v = await verifyArchive(store);
    expect(v.holes).toEqual([{ tableId: TABLE, group: 1, from: 5, to: 8 }]);
    expect(v.ok).toBe(false);
    await expect(readArchivedEntries(store, TABLE, 1, 1, 12)).rejects.toThrow(/entry 5 \(a hole/);
    expect((await readArchivedEntries(store, TABLE, 1, 9, 12)).length).toBe(4);
  });

  it('a flipped byte in an object is a checksum mismatch, and reads use another replica\'s copy', async () => {
    const store = new DirectoryObjectStore(tempDir());
    await threeReplicas(store, 8, 4);
    const key = (await store.list(`wal/${TABLE}/1/`)).find((k) => k.endsWith('.n1.seg'))!;
    const file = join(store.root, ...key.split('/'));
    const buf = readFileSync(file);
    buf[30] ^= 0x01;
    writeFileSync(file, buf);
    const v = await verifyArchive(store);
    expect(v.mismatches).toEqual([expect.objectContaining({ kind: 'checksum', node: 1, object: key })]);
    expect(v.holes).toEqual([]);
    expect((await readArchivedEntries(store, TABLE, 1, 1, 8)).map((e) => text(e.data))).toEqual(['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8']);
  });

  it('replicas that archived different entries at the same index disagree', async () => {
    const store = new DirectoryObjectStore(tempDir());
    await threeReplicas(store, 8, 4, (i, node) => bytes(node === 2 && (i === 3 || i === 4) ? `bad${i}` : `v${i}`));
    const v = await verifyArchive(store);
    expect(v.mismatches).toEqual([{ kind: 'disagreement', tableId: TABLE, group: 1, nodes: [0, 2], from: 3, to: 4 }]);
    expect(v.ok).toBe(false);
  });

  it('randomized: what is archived and read back equals the WAL\'s final log (seeded)', async () => {
    const seed = Number(process.env.SHARDBOX_SEED ?? Date.now() % 1e9);
    const rnd = seededRandom(seed);
    const store = new DirectoryObjectStore(tempDir());
    const w = openWal(tempDir());
    w.saveGroup(groupRec(1, TABLE, SHAPE_SN));
    const archiver = new WalArchiver(store);
    const log: Array<{ term: number; data: string }> = [];
    let term = 1;
    let commit = 0;
    for (let step = 0; step < 60; step++) {
      const r = rnd();
      if (r < 0.15 && log.length > commit) {
        // A new leader overwrites some uncommitted tail.
        term++;
        const from = commit + 1 + Math.floor(rnd() * (log.length - commit));
        log.length = from - 1;
        const entries = [{ index: from, term, data: bytes(`t${term}i${from}`) }];
        log.push({ term, data: `t${term}i${from}` });
        w.persist([{ group: 1, truncateFrom: from, entries }]);
      } else if (r < 0.7) {
        const index = log.length + 1;
        log.push({ term, data: `t${term}i${index}` });
        w.persist([{ group: 1, entries: [{ index, term, data: bytes(`t${term}i${index}`) }] }]);
      } else if (r < 0.85) {
        commit = log.length;
        w.persist([{ group: 1, entries: [], hardState: { term, vote: 0, commit } }]);
      } else {
        await archiver.archiveNode(walNode(0, w), rnd() < 0.5);
      }
    }
    commit = log.length;
    w.persist([{ group: 1, entries: [], hardState: { term, vote: 0, commit } }]);
    await archiver.archiveNode(walNode(0, w), true);
    if (commit === 0) return;
    const got = await readArchivedEntries(store, TABLE, 1, 1, commit);
    expect(got.map((e) => ({ term: e.term, data: text(e.data) })), `seed ${seed}`).toEqual(log);
    expect((await verifyArchive(store)).ok, `seed ${seed}`).toBe(true);
  });
});

describe('ArchiveService', () => {
  it('runs passes every intervalMs through node requests, flushes on demand, and stop waits for the pass under way', async () => {
    const store = new DirectoryObjectStore(tempDir());
    const w = openWal(tempDir());
    w.saveGroup(groupRec(1, TABLE, SHAPE_SN));
    w.persist([{ group: 1, entries: [{ index: 1, term: 1, data: bytes('a') }], hardState: { term: 1, vote: 0, commit: 1 } }]);
    const asked: string[] = [];
    const service = new ArchiveService({
      archiver: new WalArchiver(store),
      nodes: 2,
      isAlive: (node) => node === 0,
      control: async (node, body) => {
        asked.push(`${node}:${body.t}`);
        if (body.t === 'walArchive') return { ...w.archiveView(body.seal), applied: {} };
        if (body.t === 'walArchived') {
          w.markArchived(body.segment);
          return { archived: body.segment };
        }
        throw new Error(`unexpected ${body.t}`);
      },
      intervalMs: 5,
    });
    service.start();
    for (let i = 0; i < 200 && service.counters.turns < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(service.counters.turns).toBeGreaterThanOrEqual(2);
    expect(asked.every((a) => a.startsWith('0:'))).toBe(true); // node 1 is dead: not asked
    const passes = await service.flush();
    expect(passes).toEqual([expect.objectContaining({ node: 0, entries: 1 })]);
    await service.stop();
    const turns = service.counters.turns;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(service.counters.turns).toBe(turns);
    await expect(service.flush()).rejects.toThrow(/closed/);
  });

  it('a node that answers { off: true } is skipped; one that answers { error } gets a pass with the error', async () => {
    const store = new DirectoryObjectStore(tempDir());
    let reply: unknown = { off: true };
    const service = new ArchiveService({
      archiver: new WalArchiver(store), nodes: 1, isAlive: () => true, control: async () => reply, intervalMs: 0,
    });
    expect(await service.flush()).toEqual([expect.objectContaining({ node: 0, segmentsRead: 0 })]);
    reply = { error: 'WAL failed' };
    const [pass] = await service.flush();
    expect(pass.error).toMatch(/node 0 could not list its WAL segments: WAL failed/);
    expect(service.archiver.counters.errors).toBe(1);
  });
});
