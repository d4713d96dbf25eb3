/**
 * Time to restore a write quorum of three after a replica fails, on real threads:
 *
 *  - log replica: a 4-node cluster with `logReplicaAfterMs`; a table of one partition is
 *    loaded with N items, then a home replica is killed; measured from the kill until the
 *    group's committed membership is {the two live home replicas, the log replica}.
 *  - full rebuild without snapshots: log replicas off; a home replica is killed before
 *    the load (so the group keeps the whole log for it), N items are written, the replica
 *    restarts; measured from its restart until it holds (match) everything committed,
 *    having replayed the N entries from the leader's WAL into its B-tree. A brand-new full
 *    replica would replay the same log (it cannot start empty: shardbox has no snapshots
 *    and the WAL is compacted), so this is the rebuild's catch-up cost, minus its start.
 *
 * Usage: npm run build && node dist/bench/log-replicas.js [items=20000] [afterMs=300]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ShardBox } from '../src/index.js';
import type { ReplicaStatus } from '../src/replication/types.js';

const items = Number(process.argv[2] ?? 20000);
const afterMs = Number(process.argv[3] ?? 300);

async function leader(db: ShardBox): Promise<ReplicaStatus> {
  for (;;) {
    const [{ replicas }] = await db.replicaStatus('restore');
    const l = replicas.filter((s): s is ReplicaStatus => s?.role === 'leader').sort((a, b) => b.term - a.term)[0];
    if (l !== undefined) return l;
    await sleep(5);
  }
}

async function open(logReplicaAfterMs: number): Promise<ShardBox> {
  const db = await ShardBox.open({ nodes: 4, partitions: 1, logReplicaAfterMs, seed: 7 });
  await db.createTable({
    TableName: 'restore', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST',
  });
  return db;
}

async function load(db: ShardBox, n: number): Promise<void> {
  const value = 'v'.repeat(900);
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < n) {
      const i = next++;
      await db.putItem({ TableName: 'restore', Item: { id: { S: `k${i}` }, v: { S: value } } });
    }
  }));
}

async function logReplicaRun(): Promise<number> {
  const db = await open(afterMs);
  try {
    await load(db, items);
    const l = await leader(db);
    const [{ partition }] = await db.replicaStatus('restore');
    const victim = partition.replicas.find((n) => n !== l.id)!;
    const killedAt = performance.now();
    await db.faults.kill(victim);
    for (;;) {
      const s = await leader(db);
      if (s.membershipIndex <= s.commit && s.membership.logReplicas.length === 1 && !s.membership.voters.includes(victim)) break;
      await sleep(2);
    }
    return performance.now() - killedAt;
  } finally {
    await db.close();
  }
}

async function fullRebuildRun(): Promise<{ ms: number; entries: number }> {
  const db = await open(0);
  try {
    const l = await leader(db);
    const [{ partition }] = await db.replicaStatus('restore');
    const victim = partition.replicas.find((n) => n !== l.id)!;
    await db.faults.kill(victim);
    await load(db, items);
    const before = await leader(db);
    const from = before.progress![victim].match;
    const restartedAt = performance.now();
    await db.faults.restart(victim);
    for (;;) {
      const s = await leader(db);
      if (s.progress![victim].match >= before.commit) break;
      await sleep(2);
    }
    return { ms: performance.now() - restartedAt, entries: before.commit - from };
  } finally {
    await db.close();
  }
}

const log = await logReplicaRun();
const full = await fullRebuildRun();
console.log(`items ${items} (900-byte values), durability sync, threshold ${afterMs} ms`);
console.log(`log replica:  write quorum of three restored ${log.toFixed(0)} ms after the kill (threshold included)`);
console.log(`full rebuild: ${full.entries} entries replayed, caught up ${full.ms.toFixed(0)} ms after the restart began (+ the same threshold to notice the failure)`);
