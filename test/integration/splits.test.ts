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
});
