/**
 * Partition splits on real threads (node/split.ts, control/splits.ts): a partition splits
 * online while a writer and readers run; every acknowledged write is readable afterwards,
 * Query and Scan are complete and in order across the split, DescribeTable still counts
 * every item, and a close and open keeps it all.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ShardBox } from '../../src/index.js';
import type { Metadata } from '../../src/control/metadata.js';
import { createRangeTable, openCluster, waitFor } from './helpers.js';

let db: ShardBox | undefined;
let dir: string | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const PKS = 12;

/** Puts (p{i mod PKS}, i) until stopped; remembers the acknowledged ones. */
function writer(cluster: ShardBox, table: string): { acked: number[]; failed: string[]; stop: () => Promise<void> } {
  const acked: number[] = [];
  const failed: string[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      try {
        await cluster.putItem({ TableName: table, Item: { pk: { S: `p${i % PKS}` }, sk: { S: String(i).padStart(6, '0') }, v: { S: 'x'.repeat(200) } } });
        acked.push(i);
      } catch (error) {
        failed.push(`${(error as Error).name}: ${(error as Error).message}`);
        await sleep(5);
      }
    }
  })();
  return { acked, failed, stop: async () => { running = false; await loop; } };
}

/** Reads acknowledged items back (strongly) while the split runs: each must be there. */
function reader(cluster: ShardBox, table: string, acked: number[]): { missing: number[]; errors: string[]; reads: () => number; stop: () => Promise<void> } {
  const missing: number[] = [];
  const errors: string[] = [];
  let reads = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      if (acked.length === 0) {
        await sleep(2);
        continue;
      }
      const i = acked[Math.floor(Math.random() * acked.length)];
      let got;
      try {
        got = await cluster.getItem({ TableName: table, Key: { pk: { S: `p${i % PKS}` }, sk: { S: String(i).padStart(6, '0') } }, ConsistentRead: true });
      } catch (error) {
        errors.push(`${(error as Error).name}: ${(error as Error).message}`);
        continue;
      }
      if (got.Item === undefined) missing.push(i);
      reads++;
    }
  })();
  return { missing, errors, reads: () => reads, stop: async () => { running = false; await loop; } };
}

async function expectAllThere(cluster: ShardBox, table: string, acked: number[]): Promise<void> {
  const want = new Set(acked.map((i) => `p${i % PKS}/${String(i).padStart(6, '0')}`));
  // Scan: every acknowledged item once (pages across the partitions, the children included).
  const seen: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await cluster.scan({ TableName: table, ConsistentRead: true, Limit: 97, ...(start !== undefined ? { ExclusiveStartKey: start as never } : {}) });
    for (const item of page.Items ?? []) seen.push(`${item.pk.S}/${item.sk.S}`);
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  expect(new Set(seen).size).toBe(seen.length);
  for (const key of want) expect(seen.includes(key), `${key} missing from the Scan`).toBe(true);
  // Query: each partition key's items complete and in sort-key order.
  for (let p = 0; p < PKS; p++) {
    const out = await cluster.query({
      TableName: table, ConsistentRead: true, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: `p${p}` } },
    });
    const sks = (out.Items ?? []).map((item) => item.sk.S!);
    expect(sks).toEqual([...sks].sort());
    for (const i of acked.filter((k) => k % PKS === p)) expect(sks).toContain(String(i).padStart(6, '0'));
  }
}

describe('partition splits', () => {
  it('splits a partition online under writes and reads, loses no acknowledged write, and keeps it across a restart', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-split-'));
    db = await openCluster({ dir, nodes: 3 });
    await createRangeTable(db, 'splits');
    const w = writer(db, 'splits');
    const r = reader(db, 'splits', w.acked);
    await waitFor('some writes', 10_000, async () => (w.acked.length >= 200 ? true : undefined));

    const before = (await db.replicaStatus('splits')).map((s) => s.partition);
    const parent = before[1];
    const t0 = Date.now();
    const result = await db.splitPartition('splits', parent.group);
    console.log('split', Date.now() - t0, 'ms');
    expect(result.parent).toBe(parent.group);
    const after = (await db.replicaStatus('splits')).map((s) => s.partition);
    expect(after).toHaveLength(before.length + 1);
    expect(after.map((p) => p.group)).not.toContain(parent.group);
    const [lower, upper] = result.children.map((g) => after.find((p) => p.group === g)!);
    expect(lower.hashStart).toBe(parent.hashStart);
    expect(upper.hashEnd).toBe(parent.hashEnd);
    expect(BigInt(`0x${lower.hashEnd}`) + 1n).toBe(BigInt(`0x${upper.hashStart}`));

    // Keep writing and reading through the new map, then split a child again.
    const ackedAtSplit = w.acked.length;
    await waitFor('writes after the split', 10_000, async () => (w.acked.length >= ackedAtSplit + 200 ? true : undefined));
    await db.splitPartition('splits', result.children[1]);
    await waitFor('writes after the second split', 10_000, async () => (w.acked.length >= ackedAtSplit + 400 ? true : undefined));
    await w.stop();
    await r.stop();
    expect(r.missing, 'acknowledged items a strong read did not find').toEqual([]);
    expect(r.reads()).toBeGreaterThan(0);
    expect(r.errors, 'strong reads that failed').toEqual([]);
    // Only retryable refusals, at most a handful (a leader election of a child).
    for (const f of w.failed) expect(f).toMatch(/ServiceUnavailable|InternalServerError|Throttling/);

    await expectAllThere(db, 'splits', w.acked);
    // DescribeTable counts every item (its count is refreshed at most once a second).
    await sleep(1100);
    const described = await db.describeTable({ TableName: 'splits' });
    expect(described.Table?.TableStatus).toBe('ACTIVE');
    expect(described.Table?.ItemCount).toBe(w.acked.length);

    const final = (await db.replicaStatus('splits')).map((s) => s.partition.group);
    expect(final).toHaveLength(before.length + 2);

    await db.close();
    db = await openCluster({ dir, nodes: 3 });
    expect((await db.replicaStatus('splits')).map((s) => s.partition.group)).toEqual(final);
    await expectAllThere(db, 'splits', w.acked);
  }, 120_000);

  it('splits a table with a local and a global index: the global index gets every change of the parent before its children\'s, and the parent is dropped', async () => {
    db = await openCluster({ nodes: 3 });
    await db.createTable({
      TableName: 'indexed',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' },
        { AttributeName: 'ls', AttributeType: 'N' }, { AttributeName: 'g', AttributeType: 'S' },
      ],
      LocalSecondaryIndexes: [{ IndexName: 'byLs', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'ls', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }],
      GlobalSecondaryIndexes: [{ IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    // Each item's g changes again and again: a GSI that applied a parent's record after a
    // child's would keep a stale entry.
    let running = true;
    let writes = 0;
    const loop = (async () => {
      for (let i = 0; running; i++) {
        await db!.putItem({ TableName: 'indexed', Item: { pk: { S: `p${i % 40}` }, sk: { N: String(i % 3) }, ls: { N: String(i) }, g: { S: `g${i % 7}` } } }).catch(() => undefined);
        writes++;
      }
    })();
    await waitFor('writes', 10_000, async () => (writes >= 300 ? true : undefined));
    const [first] = (await db.replicaStatus('indexed')).map((s) => s.partition);
    const { children } = await db.splitPartition('indexed', first.group);
    await waitFor('writes after the split', 10_000, async () => (writes >= 600 ? true : undefined));
    running = false;
    await loop;
    await waitFor('indexes equal to the table', 30_000, async () => {
      const checks = await db!.verifyIndexes('indexed').catch(() => undefined);
      if (checks === undefined) return undefined;
      return Object.values(checks).every((c) => c.missing.length + c.extra.length + c.different.length === 0 && c.expected === c.actual) ? true : undefined;
    });
    const metadata = (db as unknown as { metadata: Metadata }).metadata;
    await waitFor('the parent dropped everywhere', 30_000, async () => (metadata.table('indexed')?.splitParents === undefined ? true : undefined));
    expect((await db.replicaStatus('indexed')).map((s) => s.partition.group)).toEqual(expect.arrayContaining(children));
  }, 120_000);

  it('splits a partition whose dead replica was replaced by a log replica; the dead one comes back behind the split and ends up with the same data in the children', async () => {
    db = await openCluster({ nodes: 4, partitions: 1, logReplicaAfterMs: 300 });
    const cluster = db;
    await createRangeTable(cluster, 'behind');
    const w = writer(cluster, 'behind');
    await waitFor('writes', 10_000, async () => (w.acked.length >= 100 ? true : undefined));
    const [{ partition, replicas }] = await cluster.replicaStatus('behind');
    const leader = replicas.find((r) => r?.role === 'leader')!;
    const dead = partition.replicas.find((n) => n !== leader.id)!;
    await cluster.faults.kill(dead);
    await waitFor('a log replica in its place', 10_000, async () => {
      const [{ partition: now }] = await cluster.replicaStatus('behind');
      return (now.logReplicas ?? []).length > 0 ? true : undefined;
    });
    const { children } = await cluster.splitPartition('behind', partition.group);
    const ackedAtSplit = w.acked.length;
    await waitFor('writes to the children', 10_000, async () => (w.acked.length >= ackedAtSplit + 100 ? true : undefined));
    await cluster.faults.restart(dead);
    // The returning node is behind the split: its children come from snapshots, and every
    // home replica of each child ends with the same data.
    await waitFor('the returning node to serve the children with the same data', 60_000, async () => {
      const digests = await cluster.replicaDigests('behind').catch(() => undefined);
      if (digests === undefined) return undefined;
      const ok = children.every((g) => {
        const d = digests.find((x) => x.partition.group === g);
        return d !== undefined && d.partition.replicas.includes(dead) && d.replicas.every((r) => r !== undefined && r.applied === d.replicas[0]!.applied && r.crc === d.replicas[0]!.crc);
      });
      return ok ? true : undefined;
    }, 200);
    await w.stop();
    await expectAllThere(cluster, 'behind', w.acked);
    const metadata = (cluster as unknown as { metadata: Metadata }).metadata;
    await waitFor('the parent dropped everywhere', 30_000, async () => (metadata.table('behind')?.splitParents === undefined ? true : undefined));
  }, 180_000);

  it('refuses a split of an unknown table or group, or at a point outside the range, with DynamoDB-shaped errors', async () => {
    db = await openCluster({ nodes: 3, partitions: 2 });
    await createRangeTable(db, 'refusals');
    const [first, second] = (await db.replicaStatus('refusals')).map((s) => s.partition);
    await expect(db.splitPartition('nope', first.group)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(db.splitPartition('refusals', 999)).rejects.toMatchObject({ name: 'ValidationException', message: 'Table refusals has no partition group 999' });
    await expect(db.splitPartition('refusals', first.group, first.hashStart)).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/is not inside/) });
    await expect(db.splitPartition('refusals', first.group, second.hashStart)).rejects.toMatchObject({ name: 'ValidationException' });
    // Nothing changed: the same two partitions serve.
    expect((await db.replicaStatus('refusals')).map((s) => s.partition.group)).toEqual([first.group, second.group]);
  }, 60_000);
});
