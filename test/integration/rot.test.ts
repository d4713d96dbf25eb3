/**
 * Checksums at rest through the whole stack: `db.faults.rot` damages stored items on one
 * node; that node never returns them as data (it counts them and marks their groups
 * damaged), eventually consistent reads of every item, damaged ones included, are
 * answered with the right data by the healthy replicas, and the damaged groups are
 * repaired from a healthy replica (a snapshot from their leader): in the end every
 * replica holds the same data again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { createHashTable, openCluster } from './helpers.js';

let db: ShardBox | undefined;

afterEach(async () => {
  await db?.close();
  db = undefined;
});

const ITEMS = 60;
const ROTTEN = 2;

const valueOf = (i: number): string => `value-${i}-`.padEnd(200, String.fromCharCode(97 + (i % 26)));

/** Waits until every replica of every group of `table` applied the same index and holds the same data. */
async function replicasAgree(cluster: ShardBox, table: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const groups = await cluster.replicaDigests(table);
    const agree = groups.every(({ replicas }) => replicas.every((r) => r !== undefined && r.applied === replicas[0]!.applied && r.crc === replicas[0]!.crc));
    if (agree) return;
    await sleep(25);
  }
  throw new Error('the replicas never agreed');
}

/** Waits until node `node` has no damaged group left: a repair's snapshot is installed
 *  (its data agrees) a checkpoint before the node counts it repaired. Returns its stats. */
async function repairsDone(cluster: ShardBox, node: number): Promise<Awaited<ReturnType<ShardBox['nodeStats']>>> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const stats = await cluster.nodeStats();
    if (stats[node]!.damagedGroups.length === 0) return stats;
    await sleep(25);
  }
  throw new Error(`node ${node} never finished repairing its damaged groups`);
}

describe('faults.rot', () => {
  it('damaged items on one node are never returned; eventually consistent reads are served by healthy replicas', async () => {
    db = await openCluster({ nodes: 3 });
    await createHashTable(db, 'rotting');
    for (let i = 0; i < ITEMS; i++) await db.putItem({ TableName: 'rotting', Item: { id: { S: `k${i}` }, v: { S: valueOf(i) } } });
    await replicasAgree(db, 'rotting');

    const damaged = await db.faults.rot(ROTTEN, 5);
    expect(damaged).toHaveLength(5);
    expect(new Set(damaged.map((d) => d.key.id.S)).size).toBe(5);
    for (const d of damaged) expect(d.tableName).toBe('rotting');

    // Three reads in a row cover every replica (the router's any-replica cursor), so each
    // damaged item is asked of the rotten node at least once.
    for (let i = 0; i < ITEMS; i++) {
      const reads = damaged.some((d) => d.key.id.S === `k${i}`) ? 3 : 1;
      for (let r = 0; r < reads; r++) {
        const { Item } = await db.getItem({ TableName: 'rotting', Key: { id: { S: `k${i}` } } });
        expect(Item, `k${i}`).toEqual({ id: { S: `k${i}` }, v: { S: valueOf(i) } });
      }
    }
    // A Scan, three times, sees every item once and intact.
    for (let r = 0; r < 3; r++) {
      const seen = new Map<string, string>();
      let start: Record<string, { S: string }> | undefined;
      do {
        const page = await db.scan({ TableName: 'rotting', ...(start !== undefined ? { ExclusiveStartKey: start } : {}) });
        for (const item of page.Items ?? []) seen.set(item.id.S!, item.v.S!);
        start = page.LastEvaluatedKey as typeof start;
      } while (start !== undefined);
      expect(seen.size).toBe(ITEMS);
      for (let i = 0; i < ITEMS; i++) expect(seen.get(`k${i}`)).toBe(valueOf(i));
    }
    // A strong read of a damaged item is right or fails retryably, never wrong.
    for (const d of damaged) {
      try {
        const { Item } = await db.getItem({ TableName: 'rotting', Key: d.key, ConsistentRead: true });
        expect(Item?.v?.S).toBe(valueOf(Number(d.key.id.S!.slice(1))));
      } catch (error) {
        expect((error as Error).name).toBe('InternalServerError');
      }
    }

    await replicasAgree(db, 'rotting');
    const stats = await repairsDone(db, ROTTEN);
    const rotten = stats[ROTTEN]!;
    const groups = new Set(damaged.map((d) => d.group)).size;
    // Every damaged group was found by a read on node 2. Its other damaged items may not be:
    // the group's repair can come before a read of them reaches node 2.
    expect(rotten.itemChecksumErrors).toBeGreaterThanOrEqual(groups);
    expect(rotten.store.itemChecksumFailures).toBeGreaterThanOrEqual(rotten.itemChecksumErrors);
    expect(rotten.groupsMarkedDamaged).toBe(groups);
    expect(rotten.groupsRepaired).toBe(groups);
    expect(rotten.damagedGroups).toEqual([]);
    // Repaired: node 2 serves every item right again (a strong read goes to the leader,
    // wherever it is; a digest above showed node 2's data equals its peers').
    for (const d of damaged) {
      const { Item } = await db.getItem({ TableName: 'rotting', Key: d.key, ConsistentRead: true });
      expect(Item?.v?.S).toBe(valueOf(Number(d.key.id.S!.slice(1))));
    }
    for (const [node, s] of stats.entries()) {
      if (node === ROTTEN) continue;
      expect(s!.store.itemChecksumFailures, `node ${node}`).toBe(0);
      expect(s!.damagedGroups, `node ${node}`).toEqual([]);
    }
  });

  it('a write that reads a damaged item stops that node applying its group until it is repaired; reads go on being right elsewhere', async () => {
    db = await openCluster({ nodes: 3 });
    await createHashTable(db, 'stalled');
    for (let i = 0; i < ITEMS; i++) await db.putItem({ TableName: 'stalled', Item: { id: { S: `k${i}` }, v: { S: valueOf(i) } } });
    await replicasAgree(db, 'stalled');
    const damaged = await db.faults.rot(ROTTEN, 3, 11);
    // UpdateItem reads the old item: on the rotten node its apply stops there. Where that
    // node led, the write's outcome is unknown to it (InternalServerError) and it hands its
    // leadership over; the update is idempotent, so it is retried.
    const retrying = async (write: () => Promise<unknown>): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        try {
          await write();
          return;
        } catch (error) {
          const name = (error as Error).name;
          if (attempt >= 50 || (name !== 'InternalServerError' && name !== 'ServiceUnavailable')) throw error;
        }
      }
    };
    for (const d of damaged) {
      await retrying(() => db!.updateItem({ TableName: 'stalled', Key: d.key, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { S: `updated ${d.key.id.S}` } } }));
    }
    // Then every other item changes: the stalled node does not apply them.
    const isDamaged = (i: number): boolean => damaged.some((d) => d.key.id.S === `k${i}`);
    for (let i = 0; i < ITEMS; i++) {
      if (!isDamaged(i)) await retrying(() => db!.putItem({ TableName: 'stalled', Item: { id: { S: `k${i}` }, v: { S: `second ${i}` } } }));
    }
    // Every item, read three times (every replica), is as last written: the stalled node
    // serves nothing of its stalled groups, not even what it still holds intact (stale).
    const expected = (i: number): string => (isDamaged(i) ? `updated k${i}` : `second ${i}`);
    for (let i = 0; i < ITEMS; i++) {
      for (let r = 0; r < 3; r++) {
        const { Item } = await db.getItem({ TableName: 'stalled', Key: { id: { S: `k${i}` } } });
        expect(Item?.v?.S, `k${i}`).toBe(expected(i));
      }
    }
    // The stopped groups are repaired from their leaders and apply again: all agree.
    await replicasAgree(db, 'stalled');
    const rotten = (await repairsDone(db, ROTTEN))[ROTTEN]!;
    expect(rotten.damagedGroups).toEqual([]);
    expect(rotten.groupsRepaired).toBe(rotten.groupsMarkedDamaged);
    expect(rotten.store.itemChecksumFailures).toBeGreaterThanOrEqual(1);
  });

  it('checks its arguments, and damages nothing when the node holds fewer items than asked', async () => {
    db = await openCluster({ nodes: 3 });
    await createHashTable(db, 'few');
    for (let i = 0; i < 3; i++) await db.putItem({ TableName: 'few', Item: { id: { S: `k${i}` } } });
    await replicasAgree(db, 'few');
    await expect(db.faults.rot(3, 1)).rejects.toThrow(RangeError);
    await expect(db.faults.rot(-1, 1)).rejects.toThrow(RangeError);
    await expect(db.faults.rot(0, 0)).rejects.toThrow(/count must be an integer from 1/);
    await expect(db.faults.rot(0, 1.5)).rejects.toThrow(RangeError);
    await expect(db.faults.rot(0, 1, -1)).rejects.toThrow(/seed must be an integer/);
    await expect(db.faults.rot(0, 4)).rejects.toThrow(/holds 3 item\(s\), fewer than count 4; nothing was damaged/);
    const stats = await db.nodeStats();
    for (let i = 0; i < 3; i++) {
      const { Item } = await db.getItem({ TableName: 'few', Key: { id: { S: `k${i}` } } });
      expect(Item).toEqual({ id: { S: `k${i}` } });
    }
    expect((await db.nodeStats()).map((s) => s!.store.itemChecksumFailures)).toEqual(stats.map(() => 0));
  });
});
