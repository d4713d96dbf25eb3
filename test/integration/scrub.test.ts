/**
 * Scrub on real threads: every partition rebuilt from the archive (snapshot + archived
 * WAL, applied by the replicas' own code) must equal every live replica byte for byte,
 * local-index entries and bookkeeping rows included; items damaged at rest on one node
 * are found by key, that node is repaired from a healthy replica, and a second scrub
 * finds nothing.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { createHashTable, openCluster, seedFromEnv } from './helpers.js';

let db: ShardBox | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function createIndexedTable(cluster: ShardBox, name: string): Promise<void> {
  await cluster.createTable({
    TableName: name,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' }, { AttributeName: 'v', AttributeType: 'S' },
    ],
    LocalSecondaryIndexes: [{ IndexName: 'byV', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'v', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }],
    // Its writes leave outbox records in the partitions (rows of their own, compared too).
    GlobalSecondaryIndexes: [{ IndexName: 'onV', KeySchema: [{ AttributeName: 'v', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
    BillingMode: 'PAY_PER_REQUEST',
  });
}

describe('scrub', () => {
  it('finds every replica equal to the partition rebuilt from the archive, then finds and repairs items damaged at rest', async () => {
    db = await openCluster({ archive: { intervalMs: 0, scrubEveryMs: 0 }, seed: seedFromEnv(20261207) });
    const cluster = db;
    await createHashTable(cluster, 'plain');
    await createIndexedTable(cluster, 'indexed');
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(Array.from({ length: 50 }, async (_, j) => {
        const n = i + j;
        await cluster.putItem({ TableName: 'plain', Item: { id: { S: `k${n}` }, n: { N: String(n) } } });
        await cluster.putItem({ TableName: 'indexed', Item: { pk: { S: `p${n % 7}` }, sk: { N: String(n) }, v: { S: `v${n}` } } });
      }));
    }
    // Updates, conditional failures and deletes: the rebuild applies them as the replicas did.
    for (let n = 0; n < 300; n += 3) {
      await cluster.updateItem({ TableName: 'plain', Key: { id: { S: `k${n}` } }, UpdateExpression: 'SET n = n + :one', ExpressionAttributeValues: { ':one': { N: '1' } } });
      await cluster.putItem({ TableName: 'plain', Item: { id: { S: `k${n}` } }, ConditionExpression: 'attribute_not_exists(id)' }).catch(() => undefined);
      await cluster.deleteItem({ TableName: 'indexed', Key: { pk: { S: `p${n % 7}` }, sk: { N: String(n) } } });
    }

    const clean = await cluster.scrub();
    const partitions = 2 * 4;
    expect(clean).toMatchObject({ partitions, compared: partitions * 3, mismatches: [], repaired: 0, skipped: [] });

    const damaged = await cluster.faults.rot(2, 5, 3);
    const found = await cluster.scrub();
    const reported = found.mismatches.flatMap((m) => m.keys.map((k) => ({ node: m.node, table: m.table, key: k })));
    expect(reported.every((r) => r.node === 2)).toBe(true);
    expect(reported.map((r) => JSON.stringify({ table: r.table, key: r.key })).sort())
      .toEqual(damaged.map((d) => JSON.stringify({ table: d.tableName, key: d.key })).sort());
    expect(found.repaired).toBe(found.mismatches.length);
    expect(found.mismatches.every((m) => m.repaired)).toBe(true);

    const again = await cluster.scrub();
    expect(again.mismatches).toEqual([]);
    expect(again.compared).toBe(partitions * 3);
  }, 120_000);

  it('reports the replicas of a partition whose archived snapshot is damaged as not compared, compares the rest, and replaces that snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardbox-scrub-'));
    try {
      db = await openCluster({ dir, archive: { intervalMs: 0, scrubEveryMs: 0 } });
      const cluster = db;
      await createHashTable(cluster, 'plain');
      await Promise.all(Array.from({ length: 100 }, (_, n) => cluster.putItem({ TableName: 'plain', Item: { id: { S: `k${n}` } } })));
      // The first scrub archives a snapshot of every partition; the next starts from them.
      expect(await cluster.scrub()).toMatchObject({ partitions: 4, compared: 12, mismatches: [], skipped: [] });
      const snapshots = readdirSync(join(dir, 'archive'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.snap'));
      expect(snapshots).toHaveLength(4);
      const file = join(dir, 'archive', snapshots[0]!);
      const bytes = readFileSync(file);
      bytes[bytes.length >> 1]! ^= 0x01;
      writeFileSync(file, bytes);

      const report = await cluster.scrub();
      expect(report).toMatchObject({ partitions: 4, compared: 9, mismatches: [], repaired: 0 });
      expect(report.skipped).toHaveLength(3);
      for (const skipped of report.skipped) expect(skipped.reason).toMatch(/the archive cannot rebuild it: archived snapshot snap\/.*\.snap: fails its CRC32C/);
      expect(new Set(report.skipped.map((s) => s.node))).toEqual(new Set([0, 1, 2]));
      // The damaged snapshot went, and one of the leader's data took its place: the next
      // scrub compares every replica again.
      expect(await cluster.scrub()).toMatchObject({ partitions: 4, compared: 12, mismatches: [], skipped: [] });
    } finally {
      await db?.close();
      db = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
  it('keeps only what the archive still needs: after a scrub, what lies before the snapshot it must keep goes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardbox-retention-'));
    const files = (ext: string): string[] => readdirSync(join(dir, 'archive'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(ext)).sort();
    try {
      db = await openCluster({ dir, partitions: 1, archive: { intervalMs: 0, scrubEveryMs: 0 }, seed: seedFromEnv(20261209) });
      const cluster = db;
      await createHashTable(cluster, 'kept');
      const put = (n: number, v: string) => cluster.putItem({ TableName: 'kept', Item: { id: { S: `k${n}` }, v: { S: v } } });
      const pitr = (on: boolean) => cluster.updateContinuousBackups({ TableName: 'kept', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: on } });
      // Two snapshots in the archive (each enabling of recovery takes one), WAL before,
      // between and after them, in ranges of their own (each flush seals).
      for (let round = 0; round < 3; round++) {
        for (let n = 0; n < 100; n++) await put(n, `round${round}`);
        await cluster.archive.flush();
        if (round < 2) {
          await pitr(true);
          await pitr(false);
        }
      }
      const taken = files('.snap');
      expect(taken).toHaveLength(2);
      const walBefore = files('.seg').length;

      // Recovery off: the scrub starts from the newest snapshot, and what lies before it goes.
      expect(await cluster.scrub()).toMatchObject({ compared: 3, mismatches: [], skipped: [] });
      expect(files('.snap')).toEqual([taken[1]]);
      const walAfter = files('.seg').length;
      console.log(`archived WAL objects: ${walBefore} before the scrub, ${walAfter} after`);
      expect(walAfter).toBeLessThan(walBefore);
      const verified = await cluster.archive.verify({ table: 'kept' });
      expect(verified.ok).toBe(true);
      expect(verified.coverage[0]!.from).toBeGreaterThan(1);
      expect(await cluster.scrub()).toMatchObject({ compared: 3, mismatches: [], skipped: [] });

      // Recovery on (a 35-day window, younger than every snapshot): nothing more goes.
      await pitr(true);
      for (let n = 0; n < 100; n++) await put(n, 'round3');
      await cluster.archive.flush();
      const snapshots = files('.snap');
      expect(await cluster.scrub()).toMatchObject({ compared: 3, mismatches: [], skipped: [] });
      expect(files('.snap')).toEqual(snapshots);
      expect(files('.seg').length).toBeGreaterThanOrEqual(walAfter);

      // A snapshot newer than everything archived before it: those ranges go (a clock mark
      // proposed after the snapshot may leave one a node), and archiving goes on after
      // them (the next scrub rebuilds the writes that follow).
      await pitr(false);
      await pitr(true);
      await pitr(false);
      expect(await cluster.scrub()).toMatchObject({ compared: 3, mismatches: [], skipped: [] });
      expect(files('.seg').length).toBeLessThanOrEqual(3);
      for (let n = 0; n < 100; n++) await put(n, 'round4');
      expect(await cluster.scrub()).toMatchObject({ compared: 3, mismatches: [], skipped: [] });
      expect((await cluster.archive.verify({ table: 'kept' })).ok).toBe(true);
    } finally {
      await db?.close();
      db = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('needs the archive', async () => {
    db = await openCluster({});
    await expect(db.scrub()).rejects.toThrow(/archive: true/);
  });
});
