/**
 * Log replicas on real threads (DESIGN, "Failure"): a 4-node cluster, one partition on
 * three nodes, writes running throughout. A home replica is killed; after the threshold
 * the control plane adds a log replica on the 4th node and removes the dead replica, so a
 * second home replica can die and writes still commit. Both come back: they are added
 * back, catch up from the kept WAL, the log replica is removed and its group dropped, and
 * the full replicas hold identical data. Prints the time to restore a write quorum of
 * three, and how long the returning replica took to catch up by replaying the WAL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Item, ShardBox } from '../../src/index.js';
import type { ReplicaStatus } from '../../src/replication/types.js';
import { createHashTable, openCluster, seedFromEnv, waitFor } from './helpers.js';

let db: ShardBox | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const AFTER_MS = 500;

async function leaderStatus(cluster: ShardBox): Promise<ReplicaStatus | undefined> {
  const [{ replicas }] = await cluster.replicaStatus('logrep');
  let best: ReplicaStatus | undefined;
  for (const s of replicas) if (s?.role === 'leader' && (best === undefined || s.term > best.term)) best = s;
  return best;
}

/** The leader's membership once committed, as "voters/logReplicas". */
async function committedMembership(cluster: ShardBox): Promise<string | undefined> {
  const s = await leaderStatus(cluster);
  if (s === undefined || s.membershipIndex > s.commit) return undefined;
  return `${s.membership.voters.join(',')}/${s.membership.logReplicas.join(',')}`;
}

describe('log replicas on real threads', () => {
  it('a dead replica is replaced by a log replica, a second failure is survived, and all is undone when they return', async () => {
    const seed = seedFromEnv(20261124);
    db = await openCluster({ nodes: 4, partitions: 1, logReplicaAfterMs: AFTER_MS, seed });
    const cluster = db;
    await createHashTable(cluster, 'logrep');
    const [{ partition }] = await cluster.replicaStatus('logrep');
    const home = partition.replicas;
    const spare = [0, 1, 2, 3].find((n) => !home.includes(n))!;

    // A writer that keeps going through failures; what it was told succeeded must survive.
    const acked: number[] = [];
    let failures = 0;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        try {
          await cluster.putItem({ TableName: 'logrep', Item: { id: { S: `k${i}` }, n: { N: String(i) } } });
          acked.push(i);
        } catch {
          failures++; // retryable (no leader yet, outcome unknown): the next write goes on
        }
      }
    })();
    await waitFor('first writes', 5000, async () => (acked.length >= 50 ? true : undefined));

    const first = (await leaderStatus(cluster))!;
    const [c, b] = home.filter((n) => n !== first.id);
    const killedAt = performance.now();
    await cluster.faults.kill(c);
    const restored = await waitFor('the log replica to replace the dead one', 10_000, async () =>
      (await committedMembership(cluster)) === `${home.filter((n) => n !== c).concat(spare).sort().join(',')}/${spare}` ? true : undefined);
    const restoreMs = performance.now() - killedAt;
    const [{ partition: withLog }] = await cluster.replicaStatus('logrep');
    expect(withLog.logReplicas).toEqual([spare]);
    expect(withLog.replicas).toEqual(home); // routers never send the log replica requests
    expect(restored).toBe(true);

    // The second failure: the leader and the log replica are 2 of 3.
    const leader = (await leaderStatus(cluster))!;
    const second = leader.id === b ? home.find((n) => n !== c && n !== b)! : b;
    await cluster.faults.kill(second);
    const before = acked.length;
    await waitFor('writes to commit after the second failure', 10_000, async () => (acked.length >= before + 50 ? true : undefined));

    // Both come back: added back, caught up, the log replica removed and dropped.
    const beforeReturn = (await leaderStatus(cluster))!;
    const behind = beforeReturn.commit;
    const missed = behind - beforeReturn.membership.awaited.find((a) => a.id === c)!.from + 1;
    const returnedAt = performance.now();
    await cluster.faults.restart(c);
    let caughtUpMs = 0;
    let caughtUpAtMs = 0;
    await waitFor('the returning replica to catch up', 15_000, async () => {
      const s = await leaderStatus(cluster);
      const pr = s?.progress?.[c];
      if (pr === undefined || pr.match < behind) return undefined;
      caughtUpMs = performance.now() - returnedAt;
      caughtUpAtMs = Date.now();
      return true;
    });
    const addedBackAtMs = cluster.membershipEvents().find((e) => e.kind === 'addBack' && e.node === c)!.atMs;
    // With C back the group has three healthy members again: the second dead replica goes
    // (awaited), and comes back in turn.
    const rest = home.filter((n) => n !== second);
    await waitFor('the second dead replica to be removed', 10_000, async () =>
      (await committedMembership(cluster)) === `${rest.concat(spare).sort().join(',')}/${spare}` ? true : undefined);
    await cluster.faults.restart(second);
    await waitFor('the home replicas to be the group again', 15_000, async () =>
      (await committedMembership(cluster)) === `${[...home].sort().join(',')}/` ? true : undefined);
    await waitFor('the log replica to be dropped', 5000, async () =>
      ((await cluster.replicaStatus('logrep'))[0].partition.logReplicas === undefined ? true : undefined));
    const kinds = cluster.membershipEvents().map((e) => `${e.kind}:${e.node}`);
    expect(kinds).toEqual([
      `addLogReplica:${spare}`, `removeMember:${c}`, `addBack:${c}`, `removeMember:${second}`, `addBack:${second}`,
      `removeLogReplica:${spare}`, `dropLogReplica:${spare}`,
    ]);

    writing = false;
    await writer;
    // Every acknowledged write is there (one consistent scan, page by page), and the full
    // replicas hold identical data.
    const stored = new Map<string, string | undefined>();
    let start: Item | undefined;
    do {
      const page = await cluster.scan({ TableName: 'logrep', ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) });
      for (const item of page.Items ?? []) stored.set(item.id!.S!, item.n?.N);
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    const missing = acked.filter((i) => stored.get(`k${i}`) !== String(i));
    expect(missing, `acknowledged writes missing or wrong of ${acked.length} (seed ${seed})`).toEqual([]);
    await waitFor('replicas to converge', 10_000, async () => {
      const [{ replicas }] = await cluster.replicaDigests('logrep');
      const ok = replicas.every((r) => r !== undefined && r.applied === replicas[0]!.applied);
      return ok ? replicas : undefined;
    }).then((replicas) => {
      for (const r of replicas) expect({ items: r!.items, crc: r!.crc }).toEqual({ items: replicas[0]!.items, crc: replicas[0]!.crc });
      expect(replicas[0]!.items).toBeGreaterThanOrEqual(new Set(acked).size);
    });
    console.log(`[threads] restore a write quorum of three: log replica ${restoreMs.toFixed(0)} ms after the kill `
      + `(threshold ${AFTER_MS} ms); the returning full replica, ${missed} entries behind, caught up ${caughtUpMs.toFixed(0)} ms `
      + `after its restart began (${caughtUpAtMs - addedBackAtMs} ms after it was added back, +-10 ms polling); `
      + `writes acknowledged ${acked.length}, failed ${failures} (seed ${seed})`);
  }, 60_000);
});
