/**
 * Partition management on real threads (control/partition-manager.ts): a partition whose
 * leader serves more than its share of the node's capacity, for long enough, splits by
 * itself at the point that halves its observed load; one hot key does not split; a node
 * that stays hot hands a busy replica to a cooler node. Node capacities are made small so
 * that a test reaches them; every acknowledged write is readable afterwards.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { createHashTable, openCluster, seedFromEnv, waitFor } from './helpers.js';

let db: ShardBox | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

/** About `perSec` writes a second to keys `key(i)` until stopped; remembers the
 *  acknowledged keys (throttled ones are simply not counted). */
function pacedWriter(cluster: ShardBox, table: string, perSec: number, key: (i: number) => string): { acked: Set<string>; stop: () => Promise<void> } {
  const acked = new Set<string>();
  let running = true;
  const loop = (async () => {
    const start = performance.now();
    for (let i = 0; running; i++) {
      const due = start + (i * 1000) / perSec;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const id = key(i);
      cluster.putItem({ TableName: table, Item: { id: { S: id }, v: { S: 'x'.repeat(300) } } }).then(() => acked.add(id), () => undefined);
    }
  })();
  return { acked, stop: async () => { running = false; await loop; await sleep(200); } };
}

async function expectReadable(cluster: ShardBox, table: string, keys: Iterable<string>): Promise<void> {
  for (const id of keys) {
    const { Item } = await cluster.getItem({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true });
    expect(Item?.id?.S, `acknowledged write ${id}`).toBe(id);
  }
}

const SMALL_NODES = { nodeWriteCapacityUnits: 200, splitConsumptionShare: 0.5, splitSustainSeconds: 2 };

describe('partition management', () => {
  it('splits a busy partition at its observed load point, and not for one hot key', async () => {
    db = await openCluster({ partitions: 1, seed: seedFromEnv(20261204), admission: { ...SMALL_NODES, moveHotReplicas: false } });
    const cluster = db;
    await createHashTable(cluster, 'hotkey');
    await createHashTable(cluster, 'busy');

    // One key at 150 writes/s (above half the node's 200 WCU): splitting cannot help.
    const one = pacedWriter(cluster, 'hotkey', 150, () => 'the-key');
    await sleep(6000);
    await one.stop();
    // Busy enough, but one key: the verdict is recorded, and nothing splits.
    expect(cluster.partitionEvents().map((e) => [e.kind, e.table, e.detail.split(':')[0]])).toEqual([['no-split', 'hotkey', 'hot-key']]);
    expect(await cluster.replicaStatus('hotkey')).toHaveLength(1);

    // 40 keys at 150 writes/s: the partition splits where half of the load is on each side.
    const many = pacedWriter(cluster, 'busy', 150, (i) => `k${i % 40}`);
    const event = await waitFor('a consumption split of busy', 20_000, async () => cluster.partitionEvents().find((e) => e.table === 'busy' && e.kind === 'split'));
    await many.stop();
    expect(event.kind).toBe('split');
    expect(event.detail).toMatch(/^consumption at [0-9a-f]{16}/);
    const partitions = (await cluster.replicaStatus('busy')).map((s) => s.partition);
    expect(partitions).toHaveLength(2);
    const at = event.detail.slice('consumption at '.length, 'consumption at '.length + 16);
    expect(partitions[1].hashStart).toBe(at);
    // Not the middle of the range: where the keys' load is halved. Each side holds some.
    const digests = await cluster.replicaDigests('busy');
    const items = digests.map((d) => d.replicas.find((r) => r !== undefined)?.items ?? 0);
    expect(Math.min(...items), `items per child ${items.join(', ')}`).toBeGreaterThanOrEqual(8);
    await expectReadable(cluster, 'busy', many.acked);
    await expectReadable(cluster, 'hotkey', one.acked);
  }, 60_000);

  it('splits a partition that grew above the split size', async () => {
    db = await openCluster({ partitions: 1, seed: seedFromEnv(20261206), admission: { splitSizeBytes: 64 * 1024, moveHotReplicas: false } });
    const cluster = db;
    await createHashTable(cluster, 'grown');
    const ids = Array.from({ length: 100 }, (_, i) => `g${i}`);
    for (const id of ids) await cluster.putItem({ TableName: 'grown', Item: { id: { S: id }, v: { S: 'x'.repeat(1000) } } });
    const event = await waitFor('a size split', 20_000, async () => cluster.partitionEvents().find((e) => e.kind === 'split'));
    expect(event.detail).toMatch(/^size at the middle of its range: \d+ bytes > 65536/);
    expect(await cluster.replicaStatus('grown')).toHaveLength(2);
    await expectReadable(cluster, 'grown', ids);
  }, 60_000);

  it('moves a replica off a node that stays hot, and its leadership with it', async () => {
    db = await openCluster({ nodes: 4, partitions: 2, seed: seedFromEnv(20261205), admission: { ...SMALL_NODES, splits: false } });
    const cluster = db;
    await createHashTable(cluster, 'hot');
    // Both partitions led from one node (two groups of three on four nodes share two).
    const groups = (await cluster.replicaStatus('hot')).map((s) => s.partition);
    const hot = groups[0].replicas.find((n) => groups[1].replicas.includes(n))!;
    const control = (cluster as unknown as { controlPlane: { control(node: number, group: number, body: unknown): Promise<unknown> } }).controlPlane;
    for (const group of groups) {
      await waitFor(`node ${hot} to lead group ${group.group}`, 10_000, async () => {
        const statuses = (await cluster.replicaStatus('hot')).find((s) => s.partition.group === group.group)!.replicas;
        const leader = statuses.find((r) => r?.role === 'leader');
        if (leader?.id === hot) return true;
        if (leader !== undefined) await control.control(leader.id, group.group, { t: 'transferLeadership', to: hot }).catch(() => undefined);
        return undefined;
      }, 200);
    }
    const writes = pacedWriter(cluster, 'hot', 150, (i) => `w${i}`);
    const event = await waitFor('a hot-node move', 30_000, async () => cluster.partitionEvents().find((e) => e.kind === 'move'));
    await writes.stop();
    const moved = groups.find((g) => g.group === event.group)!;
    const free = [0, 1, 2, 3].find((n) => !moved.replicas.includes(n))!;
    expect(event.detail).toMatch(new RegExp(`^node ${hot} to node ${free}:`));
    const home = (await cluster.replicaStatus('hot')).find((s) => s.partition.group === event.group)!.partition.replicas;
    expect([...home].sort()).toEqual([...moved.replicas.filter((n) => n !== hot), free].sort());
    // The load it served went with it: the new replica leads.
    await waitFor('the moved replica to lead', 10_000, async () => {
      const statuses = (await cluster.replicaStatus('hot')).find((s) => s.partition.group === event.group)!.replicas;
      return statuses.find((r) => r?.role === 'leader')?.id === free ? true : undefined;
    });
    expect(cluster.partitionEvents().filter((e) => e.kind === 'move')).toHaveLength(1);
    await expectReadable(cluster, 'hot', writes.acked);
  }, 60_000);
});
