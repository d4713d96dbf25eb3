/**
 * Crash recovery of one node: `worker.terminate()` at an arbitrary instant under load,
 * then a restart that must recover term, vote, WAL and applied index from the node's own
 * files (checked against what those files hold, with no peer to learn from), and rejoin.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { NodeStore } from '../../src/storage/index.js';
import { createHashTable, openCluster, prng, seedFromEnv } from '../integration/helpers.js';
import { checkLoad, expectConverged, runLoad } from './load.js';

let db: ShardBox | undefined;
let dir: string | undefined;

afterEach(async () => {
  try {
    await db?.close();
  } finally {
    db = undefined;
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  }
});

interface Persisted { term: number; vote: number; commit: number; lastIndex: number; applied: number }

/** What node `node`'s files hold per group, read with the node's thread down. */
async function readPersisted(clusterDir: string, node: number): Promise<Map<number, Persisted>> {
  const store = NodeStore.open({ dir: path.join(clusterDir, `node-${node}`), durability: 'sync' });
  try {
    const out = new Map<number, Persisted>();
    for (const rec of store.groups()) {
      const hs = store.hardState(rec.group);
      out.set(rec.group, { ...hs, lastIndex: store.logReader(rec.group).lastIndex(), applied: store.appliedIndex(rec.group) });
    }
    return out;
  } finally {
    await store.close();
  }
}

describe('crash recovery of a node', () => {
  it('a node terminated under load recovers term, vote, WAL and applied index from its files and rejoins', async () => {
    const seed = seedFromEnv(Date.now() % 1_000_000);
    const random = prng(seed);
    const context = `seed ${seed} (SHARDBOX_SEED=${seed} to replay)`;
    dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-terminate-'));
    db = await openCluster({ dir, durability: 'sync', partitions: 3, seed });
    const cluster = db;
    await createHashTable(cluster, 'crash');
    let stop = false;
    const load = runLoad(cluster, { table: 'crash', chains: 24, putters: 8, readers: 2 }, () => stop);
    const victim = 1;
    await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(random() * 700)));
    const before = await cluster.replicaStatus('crash');
    await cluster.faults.kill(victim);
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop = true;
    await load.done;

    // Take the other nodes down so that the victim, restarted alone, cannot be caught up
    // by a peer: what it shows is what it recovered from its own files, plus at most what
    // the peers had sent it before they died (records left in its inbound rings).
    const peers = await cluster.replicaStatus('crash');
    await cluster.faults.kill(0);
    await cluster.faults.kill(2);
    const persisted = await readPersisted(dir, victim);
    await cluster.faults.restart(victim);
    // Let it replay its committed WAL entries into the B-tree (its first rounds; on a busy
    // machine they can take a while, so wait for them rather than for a fixed time).
    const replayed = (statuses: Awaited<ReturnType<ShardBox['replicaStatus']>>) => statuses.every(({ partition, replicas }) => {
      const disk = persisted.get(partition.group)!;
      return (replicas[partition.replicas.indexOf(victim)]?.applied ?? -1) >= Math.min(disk.commit, disk.lastIndex);
    });
    let alone = await cluster.replicaStatus('crash');
    for (let waited = 0; !replayed(alone) && waited < 10_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      alone = await cluster.replicaStatus('crash');
    }
    for (const { partition, replicas } of alone) {
      const at = partition.replicas.indexOf(victim);
      const status = replicas[at]!;
      const disk = persisted.get(partition.group)!;
      const was = before.find((b) => b.partition.group === partition.group)!.replicas[at]!;
      const others = peers.find((b) => b.partition.group === partition.group)!.replicas.filter((r, i) => i !== at && r !== undefined);
      const where = `${context}, group ${partition.group}`;
      expect(disk.term, `${where}: the term on disk is at least the one it ran with`).toBeGreaterThanOrEqual(was.term);
      expect(status.term, where).toBeGreaterThanOrEqual(disk.term);
      expect(status.term, where).toBeLessThanOrEqual(Math.max(disk.term, ...others.map((r) => r!.term)));
      expect(disk.vote === -1 || partition.replicas.includes(disk.vote), where).toBe(true);
      // A replica applies only entries it holds durably: its WAL reaches what it had applied.
      expect(disk.lastIndex, `${where}: the WAL holds what was applied before the kill`).toBeGreaterThanOrEqual(was.applied);
      expect(status.lastIndex, where).toBeGreaterThanOrEqual(disk.lastIndex);
      expect(status.lastIndex, where).toBeLessThanOrEqual(Math.max(disk.lastIndex, ...others.map((r) => r!.lastIndex)));
      // Applied: the B-tree's index, then the committed WAL entries replayed above it.
      expect(disk.applied, where).toBeLessThanOrEqual(disk.lastIndex);
      expect(status.applied, where).toBeGreaterThanOrEqual(Math.max(disk.applied, Math.min(disk.commit, disk.lastIndex), was.applied));
      expect(status.role, `${where}: alone it cannot be elected`).not.toBe('leader');
    }

    // The peers come back from their own files; the victim rejoins and catches up.
    await cluster.faults.restart(0);
    await cluster.faults.restart(2);
    await cluster.putItem({ TableName: 'crash', Item: { id: { S: 'after' } } });
    await checkLoad(cluster, 'crash', load.result, context);
    await expectConverged(cluster, 'crash', context);
    const after = await cluster.replicaStatus('crash');
    for (const { partition, replicas } of after) {
      expect(replicas.filter((r) => r?.role === 'leader').length, `${context}, group ${partition.group}`).toBe(1);
    }
    expect(load.result.ops, context).toBeGreaterThan(50);
  });
});
