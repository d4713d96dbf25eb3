/**
 * WAL archiving end to end: a cluster opened with `archive` writes items, flushes its
 * archive, verifies it clean across the three replicas, and reads back log entries that
 * hold exactly the writes made.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardBox } from '../../src/index.js';
import { decodeWriteOp } from '../../src/storage/codec.js';
import { createHashTable } from './helpers.js';

const dirs: string[] = [];
const dbs: ShardBox[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(options: Parameters<typeof ShardBox.open>[0]): Promise<ShardBox> {
  const db = await ShardBox.open({ durability: 'async', ...options });
  dbs.push(db);
  return db;
}

describe('WAL archiving (ShardBox archive option)', () => {
  it('is off by default, and says so', async () => {
    const db = await open({});
    expect(db.archive.enabled).toBe(false);
    await expect(db.archive.flush()).rejects.toThrow(/without the archive option/);
  });

  it('rejects bad archive options, naming them', async () => {
    await expect(ShardBox.open({ archive: { intervalMs: -1 } })).rejects.toThrow(/options\.archive\.intervalMs/);
    await expect(ShardBox.open({ archive: { bucket: 'x' } as never })).rejects.toThrow(/options\.archive\.bucket/);
    await expect(ShardBox.open({ archive: 'yes' as never })).rejects.toThrow(/options\.archive must be/);
  });

  it('archives every replica\'s writes; verify is clean; entries read back are the writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardbox-archive-'));
    dirs.push(dir);
    const db = await open({ dir, partitions: 2, archive: { intervalMs: 0 } });
    expect(db.archive.enabled).toBe(true);
    await createHashTable(db, 'arc');
    const written = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      await db.putItem({ TableName: 'arc', Item: { id: { S: `k${i}` }, v: { S: `value-${i}` } } });
      written.set(`k${i}`, `value-${i}`);
    }
    const passes = await db.archive.flush();
    expect(passes.length).toBe(3);
    for (const p of passes) expect(p.error).toBeUndefined();
    const v = await db.archive.verify({ table: 'arc' });
    expect(v.holes).toEqual([]);
    expect(v.mismatches).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.partitions).toBe(2);
    // Every replica of each partition archived it.
    for (const c of v.coverage) expect(c.nodes).toEqual([0, 1, 2]);

    const found = new Map<string, string>();
    for (const c of v.coverage) {
      const entries = await db.archive.readEntries('arc', c.group, c.from, c.to);
      expect(entries.map((e) => e.index)).toEqual(Array.from({ length: c.to - c.from + 1 }, (_, i) => c.from + i));
      for (const e of entries) {
        let op: ReturnType<typeof decodeWriteOp>;
        try {
          op = decodeWriteOp(e.data);
        } catch {
          continue; // a leader's no-op or a membership entry
        }
        if (op.type !== 'put') continue;
        const item = op.item!;
        found.set((item.id as { S: string }).S, (item.v as { S: string }).S);
      }
    }
    expect(found).toEqual(written);

    // More writes, another flush: the archive continues without holes or overlaps.
    await db.putItem({ TableName: 'arc', Item: { id: { S: 'late' }, v: { S: 'x' } } });
    await db.archive.flush();
    const again = await db.archive.verify();
    expect(again.ok).toBe(true);
    expect(again.entries).toBeGreaterThan(v.entries);
  });

  it('a replica that crashed and restarted keeps archiving: its pinned segments are archived after the restart, with no gap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardbox-archive-'));
    dirs.push(dir);
    const db = await open({ dir, partitions: 1, archive: { intervalMs: 0 } });
    await createHashTable(db, 'arc');
    const put = (i: number) => db.putItem({ TableName: 'arc', Item: { id: { S: `k${i}` }, v: { N: String(i) } } });
    for (let i = 0; i < 10; i++) await put(i);
    await db.archive.flush();
    await db.faults.kill(2);
    for (let i = 10; i < 20; i++) await put(i);
    await db.faults.restart(2);
    for (let i = 20; i < 30; i++) await put(i);
    // Let the restarted replica catch up, then archive everything.
    for (let tries = 0; tries < 100; tries++) {
      const [{ replicas }] = await db.replicaStatus('arc');
      if (replicas.every((r) => r !== undefined && r.applied === replicas[0]!.applied)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const passes = await db.archive.flush();
    for (const p of passes) expect(p.error).toBeUndefined();
    const v = await db.archive.verify();
    expect(v.mismatches).toEqual([]);
    expect(v.holes).toEqual([]);
    const [c] = v.coverage;
    expect(c.nodes).toEqual([0, 1, 2]);
    const store = db.archive.store!;
    for (const node of [0, 1, 2]) {
      const key = (await store.list(`wal/`)).find((k) => k.endsWith(`/manifest.n${node}.json`))!;
      const manifest = JSON.parse(new TextDecoder().decode(await store.get(key))) as { ranges: Array<{ from: number; to: number }> };
      for (let r = 1; r < manifest.ranges.length; r++) expect(manifest.ranges[r].from, `node ${node}`).toBe(manifest.ranges[r - 1].to + 1);
      expect(manifest.ranges[0].from, `node ${node}`).toBe(1);
    }
    const keys = new Set<string>();
    for (const e of await db.archive.readEntries('arc', c.group, c.from, c.to)) {
      try {
        const op = decodeWriteOp(e.data);
        if (op.type === 'put') keys.add((op.item!.id as { S: string }).S);
      } catch {
        // not a write
      }
    }
    expect(keys.size).toBe(30);
  });
});
