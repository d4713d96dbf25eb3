/**
 * Full replicas built from snapshots on real threads (DESIGN, "Failure"): a replica moved
 * to another node online, and the paper's repair, where a replica that stays away is
 * replaced by a full replica on the log replica's node. Writes run throughout; every
 * acknowledged one survives, and the new home replicas hold identical data.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import type { ReplicaStatus } from '../../src/replication/types.js';
import { createHashTable, openCluster, seedFromEnv, waitFor } from './helpers.js';

let db: ShardBox | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

/** Writes keys w0, w1, ... until stopped; remembers the acknowledged ones. */
function writer(cluster: ShardBox, table: string): { acked: number[]; stop: () => Promise<void> } {
  const acked: number[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      try {
        await cluster.putItem({ TableName: table, Item: { id: { S: `w${i}` }, v: { S: 'x'.repeat(500) } } });
        acked.push(i);
      } catch {
        await sleep(5); // a leader change: the key is simply not counted
      }
    }
  })();
  return { acked, stop: async () => { running = false; await loop; } };
}

async function homeAgrees(cluster: ShardBox, table: string): Promise<boolean> {
  const [{ replicas }] = await cluster.replicaDigests(table);
  return replicas.every((r) => r !== undefined && r.applied === replicas[0]!.applied && r.crc === replicas[0]!.crc);
}

async function leaderOf(cluster: ShardBox, table: string): Promise<ReplicaStatus | undefined> {
  const [{ replicas }] = await cluster.replicaStatus(table);
  return replicas.find((r) => r?.role === 'leader');
}

async function expectAllReadable(cluster: ShardBox, table: string, acked: number[]): Promise<void> {
  for (const i of acked) {
    const { Item } = await cluster.getItem({ TableName: table, Key: { id: { S: `w${i}` } }, ConsistentRead: true });
    expect(Item?.id?.S, `acknowledged write w${i}`).toBe(`w${i}`);
  }
}

describe('full replicas built from snapshots', () => {
  it('moves a replica to another node online', async () => {
    db = await openCluster({ nodes: 4, partitions: 1, walRetainEntries: 100, seed: seedFromEnv(20261204) });
    const cluster = db;
    await createHashTable(cluster, 'moving');
    const [{ partition }] = await cluster.replicaStatus('moving');
    const from = partition.replicas[0];
    const to = [0, 1, 2, 3].find((n) => !partition.replicas.includes(n))!;
    for (let i = 0; i < 1000; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => cluster.putItem({ TableName: 'moving', Item: { id: { S: `p${i + j}` } } })));
    }
    // A checkpoint (every 2 s) lets the WAL drop the start of the log.
    await waitFor('the leader\'s WAL to drop the start of the log', 10_000, async () => ((await leaderOf(cluster, 'moving'))?.firstIndex ?? 0) > 1 ? true : undefined);
    await expect(cluster.moveReplica('moving', partition.group, to, from)).rejects.toThrow(/holds no replica/);
    await expect(cluster.moveReplica('moving', partition.group, from, partition.replicas[1])).rejects.toThrow(/must be another storage node/);

    const w = writer(cluster, 'moving');
    await cluster.moveReplica('moving', partition.group, from, to);
    await w.stop();
    const [{ partition: after }] = await cluster.replicaStatus('moving');
    expect([...after.replicas].sort()).toEqual(partition.replicas.map((n) => (n === from ? to : n)).sort());
    expect(after.retired ?? []).toEqual([]);
    // The WAL had dropped the start of the log: the new replica came from a snapshot.
    expect((await cluster.nodeStats())[to]!.snapshotsInstalled).toBeGreaterThanOrEqual(1);
    await waitFor('the new home replicas to agree', 10_000, async () => ((await homeAgrees(cluster, 'moving')) ? true : undefined));
    const kinds = cluster.membershipEvents().map((e) => e.kind);
    expect(kinds).toContain('addReplica');
    expect(kinds).toContain('dropRetired');
    await expectAllReadable(cluster, 'moving', w.acked);
    console.log(`moved group ${partition.group} from node ${from} to node ${to} with ${w.acked.length} writes acknowledged meanwhile; events: ${kinds.join(', ')}`);
  }, 120_000);

  it('a replica away past replaceReplicaAfterMs is replaced by a full replica on the log replica\'s node', async () => {
    db = await openCluster({ nodes: 4, partitions: 1, logReplicaAfterMs: 300, replaceReplicaAfterMs: 1500, walRetainEntries: 100, seed: seedFromEnv(20261205) });
    const cluster = db;
    await createHashTable(cluster, 'repair');
    const [{ partition }] = await cluster.replicaStatus('repair');
    const spare = [0, 1, 2, 3].find((n) => !partition.replicas.includes(n))!;
    const victim = partition.replicas[2];
    const w = writer(cluster, 'repair');
    // A checkpoint (every 2 s) lets the WAL drop the start of the log: the new replica
    // will need a snapshot.
    await waitFor('the leader\'s WAL to drop the start of the log', 10_000, async () => ((await leaderOf(cluster, 'repair'))?.firstIndex ?? 0) > 1 ? true : undefined);
    await cluster.faults.kill(victim);
    const newHome = partition.replicas.map((n) => (n === victim ? spare : n)).sort();
    await waitFor('three full replicas again, on the new home', 30_000, async () => {
      const leader = await leaderOf(cluster, 'repair');
      if (leader === undefined || leader.membershipIndex > leader.commit) return undefined;
      const m = leader.membership;
      return m.logReplicas.length === 0 && [...m.voters].sort().join() === newHome.join() ? true : undefined;
    });
    await sleep(200);
    await w.stop();
    const kinds = cluster.membershipEvents().map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['addLogReplica', 'removeMember', 'replaceHome', 'removeLogReplica', 'dropLogReplica', 'addReplica']));
    // The new full replica starts empty, past what the leader's WAL still holds.
    await waitFor('the new replica\'s snapshot', 20_000, async () => ((await cluster.nodeStats())[spare]!.snapshotsInstalled >= 1 ? true : undefined));
    await waitFor('the new home replicas to agree', 10_000, async () => ((await homeAgrees(cluster, 'repair')) ? true : undefined));
    await expectAllReadable(cluster, 'repair', w.acked);

    // The old replica comes back: it is no longer at home, and its group there is dropped.
    await cluster.faults.restart(victim);
    await waitFor('the returned node to drop the group', 10_000, async () =>
      (cluster.membershipEvents().some((e) => e.kind === 'dropRetired' && e.node === victim) ? true : undefined));
    console.log(`repair: ${w.acked.length} writes acknowledged; events: ${cluster.membershipEvents().map((e) => `${e.kind}(${e.node})`).join(', ')}`);
  }, 120_000);
});
