import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { createHashTable, openCluster, prng, seedFromEnv } from './helpers.js';

let db: ShardBox | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await db?.close();
  db = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-test-'));
  dirs.push(dir);
  return dir;
}

/** Runs `count` tasks with at most `concurrency` in flight. */
async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await task(next++);
  }));
}

/** Waits until every live replica of every partition has applied the same index. */
async function quiesce(cluster: ShardBox, table: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const digests = await cluster.replicaDigests(table);
    const settled = digests.every(({ replicas }) => {
      const live = replicas.filter((r) => r !== undefined);
      return live.every((r) => r!.applied === live[0]!.applied);
    });
    if (settled) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('replicas did not converge');
}

async function expectReplicasIdentical(cluster: ShardBox, table: string): Promise<void> {
  await quiesce(cluster, table);
  for (const { partition, replicas } of await cluster.replicaDigests(table)) {
    const live = replicas.filter((r) => r !== undefined);
    expect(live.length, `group ${partition.group}`).toBeGreaterThanOrEqual(2);
    for (const replica of live) {
      expect({ items: replica!.items, crc: replica!.crc }, `group ${partition.group}`).toEqual({ items: live[0]!.items, crc: live[0]!.crc });
    }
  }
}

describe('replication on real threads', () => {
  it('10,000 random writes, then strong reads return exactly what was written', async () => {
    const seed = seedFromEnv(20261123);
    const random = prng(seed);
    // admission: false: up to 2,000 writes in flight can outrun a partition's 1,000 WCU.
    db = await openCluster({ durability: 'sync', admission: false });
    await createHashTable(db, 'random');
    const expected = new Map<string, string | undefined>();
    const keys = Array.from({ length: 2000 }, (_, i) => `key-${i}`);
    // Writes to one key are issued in order (one in flight per key) so the last write wins.
    const perKey = new Map<string, Promise<void>>();
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 10_000; i++) {
      const key = keys[Math.floor(random() * keys.length)];
      const roll = random();
      const value = `v${i}-${'x'.repeat(Math.floor(random() * 200))}`;
      const previous = perKey.get(key) ?? Promise.resolve();
      const cluster = db;
      const write = previous.then(async () => {
        if (roll < 0.1) {
          await cluster.deleteItem({ TableName: 'random', Key: { id: { S: key } } });
        } else if (roll < 0.4) {
          await cluster.updateItem({ TableName: 'random', Key: { id: { S: key } }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { S: value } } });
        } else {
          await cluster.putItem({ TableName: 'random', Item: { id: { S: key }, v: { S: value } } });
        }
      });
      expected.set(key, roll < 0.1 ? undefined : value);
      perKey.set(key, write);
      writes.push(write);
      if (writes.length % 256 === 0) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
    for (const [key, value] of expected) {
      const { Item } = await db.getItem({ TableName: 'random', Key: { id: { S: key } }, ConsistentRead: true });
      expect(Item?.v, `seed ${seed} key ${key}`).toEqual(value === undefined ? undefined : { S: value });
    }
    await expectReplicasIdentical(db, 'random');
  });

  it('killing a node under load loses no acknowledged write, re-elects, and keeps serving', async () => {
    db = await openCluster({ durability: 'sync', partitions: 6 });
    const cluster = db;
    await createHashTable(cluster, 'load');
    const acknowledged = new Set<number>();
    let failed = 0;
    let stop = false;
    let next = 0;
    let ackedAfterKill = 0;
    let killed = false;
    const writers = Array.from({ length: 32 }, async () => {
      while (!stop) {
        const i = next++;
        try {
          await cluster.putItem({ TableName: 'load', Item: { id: { S: `w${i}` }, n: { N: String(i) } } });
          acknowledged.add(i);
          if (killed) ackedAfterKill++;
        } catch {
          failed++;
          // Never a busy loop of at-once rejections (a closed database after a failure).
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = await cluster.replicaStatus('load');
    const victim = 0;
    const ledByVictim = before.filter(({ replicas, partition }) => replicas[partition.replicas.indexOf(victim)]?.role === 'leader').map(({ partition }) => partition.group);
    await cluster.faults.kill(victim);
    killed = true;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    stop = true;
    await Promise.all(writers);

    expect(ackedAfterKill, 'service continues after the kill').toBeGreaterThan(100);
    const after = await cluster.replicaStatus('load');
    for (const { partition, replicas } of after) {
      const leaders = replicas.filter((r) => r?.role === 'leader');
      expect(leaders.length, `group ${partition.group} has a leader`).toBe(1);
      if (ledByVictim.includes(partition.group)) expect(leaders[0]!.id).not.toBe(victim);
    }
    for (const i of acknowledged) {
      const { Item } = await cluster.getItem({ TableName: 'load', Key: { id: { S: `w${i}` } }, ConsistentRead: true });
      expect(Item, `acknowledged write w${i} (of ${acknowledged.size}, ${failed} failed)`).toEqual({ id: { S: `w${i}` }, n: { N: String(i) } });
    }
    await expectReplicasIdentical(cluster, 'load');

    // The killed node restarts from its own files, catches up, and holds the same data.
    await cluster.faults.restart(victim);
    await cluster.putItem({ TableName: 'load', Item: { id: { S: 'after-restart' } } });
    for (let attempt = 0; attempt < 100; attempt++) {
      const digests = await cluster.replicaDigests('load');
      if (digests.every(({ replicas }) => replicas.every((r) => r !== undefined && r.applied === replicas[0]!.applied))) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const { partition, replicas } of await cluster.replicaDigests('load')) {
      for (const replica of replicas) expect({ items: replica!.items, crc: replica!.crc }, `group ${partition.group}`).toEqual({ items: replicas[0]!.items, crc: replicas[0]!.crc });
    }
  });

  it('closing and reopening a directory finds every acknowledged item', async () => {
    const dir = tempDir();
    db = await openCluster({ dir, durability: 'sync' });
    await createHashTable(db, 'durable');
    await Promise.all(Array.from({ length: 500 }, (_, i) => db!.putItem({ TableName: 'durable', Item: { id: { S: `d${i}` }, i: { N: String(i) } } })));
    await db.updateItem({ TableName: 'durable', Key: { id: { S: 'd7' } }, UpdateExpression: 'SET extra = :x', ExpressionAttributeValues: { ':x': { BOOL: true } } });
    await db.deleteItem({ TableName: 'durable', Key: { id: { S: 'd8' } } });
    await db.close();

    db = await openCluster({ dir, durability: 'sync' });
    expect((await db.listTables()).TableNames).toEqual(['durable']);
    for (let i = 0; i < 500; i++) {
      const { Item } = await db.getItem({ TableName: 'durable', Key: { id: { S: `d${i}` } }, ConsistentRead: true });
      if (i === 8) expect(Item).toBeUndefined();
      else if (i === 7) expect(Item).toEqual({ id: { S: 'd7' }, i: { N: '7' }, extra: { BOOL: true } });
      else expect(Item).toEqual({ id: { S: `d${i}` }, i: { N: String(i) } });
    }
    const scan = await db.scan({ TableName: 'durable', Select: 'COUNT', ConsistentRead: true });
    expect(scan.Count).toBe(499);
  });

  it('drops ring records whose checksum fails, and the protocol recovers them', async () => {
    db = await openCluster({ durability: 'async' });
    const cluster = db;
    await createHashTable(cluster, 'corrupt');
    for (let from = 0; from < 3; from++) {
      for (let to = 0; to < 3; to++) if (from !== to) await cluster.faults.corrupt(from, to, 0.05, 100 + from * 3 + to);
    }
    await inParallel(3000, 32, async (i) => {
      await cluster.putItem({ TableName: 'corrupt', Item: { id: { S: `c${i}` }, n: { N: String(i) } } });
    });
    for (let from = 0; from < 3; from++) {
      for (let to = 0; to < 3; to++) if (from !== to) await cluster.faults.corrupt(from, to, 0);
    }
    const stats = await cluster.nodeStats();
    const corrupt = stats.reduce((sum, node) => sum + Object.values(node!.inboundRings).reduce((s, ring) => s + ring.corruptRecords, 0), 0);
    expect(corrupt, 'records dropped for a bad checksum').toBeGreaterThan(0);
    for (let i = 0; i < 3000; i += 97) {
      const { Item } = await cluster.getItem({ TableName: 'corrupt', Key: { id: { S: `c${i}` } }, ConsistentRead: true });
      expect(Item).toEqual({ id: { S: `c${i}` }, n: { N: String(i) } });
    }
    await expectReplicasIdentical(cluster, 'corrupt');
  });

  it('eventually consistent reads are served by any replica', async () => {
    db = await openCluster();
    await createHashTable(db, 'eventual');
    await db.putItem({ TableName: 'eventual', Item: { id: { S: 'e' }, v: { N: '1' } } });
    await quiesce(db, 'eventual');
    const reads = await Promise.all(Array.from({ length: 30 }, () => db!.getItem({ TableName: 'eventual', Key: { id: { S: 'e' } } })));
    for (const read of reads) expect(read.Item).toEqual({ id: { S: 'e' }, v: { N: '1' } });
  });
});
