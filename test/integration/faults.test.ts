/**
 * Real-thread fault injection: `faults.pause` (alive but silent), `faults.cut`/`heal`
 * (lost messages, both ways or one way, between nodes or between a router and a node).
 * Each test finds the group's leader, injects the fault, and checks what the cluster does
 * about it: a new leader, writes that continue, no stale read, identical replicas after.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ShardBoxClient, type ShardBox } from '../../src/index.js';
import { createHashTable, expectDynamoError, openCluster, waitFor } from './helpers.js';

let db: ShardBox | undefined;
const clients: ShardBoxClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await db?.close();
  db = undefined;
});


/** Short router timeouts: a request to a silent node is given up on quickly. */
const FAST_ROUTER = { attemptTimeoutMs: 300, deadlineMs: 8000 };

/** The node leading the table's only group, once there is exactly one (all nodes asked:
 *  none may be paused). */
async function leaderOf(cluster: ShardBox, table: string, not?: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const [{ replicas }] = await cluster.replicaStatus(table);
    const leaders = replicas.filter((r) => r?.role === 'leader');
    if (leaders.length === 1 && leaders[0]!.id !== not && leaders[0]!.leaseTicksLeft > 0) return leaders[0]!.id;
    await sleep(25);
  }
  throw new Error(`no single leader${not === undefined ? '' : ` other than ${not}`}`);
}

/** A write retried while its outcome is unknown or no leader serves (it is idempotent). */
async function putRetrying(cluster: ShardBox, table: string, id: string, v: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await cluster.putItem({ TableName: table, Item: { id: { S: id }, v: { S: v } } });
      return;
    } catch (error) {
      const name = (error as Error).name;
      if (attempt >= 50 || (name !== 'InternalServerError' && name !== 'ServiceUnavailable')) throw error;
    }
  }
}

async function strongValue(reader: ShardBox | ShardBoxClient, table: string, id: string): Promise<string | undefined> {
  const { Item } = await reader.getItem({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true });
  return Item?.v?.S;
}

/** Waits until all three replicas applied the same index, then compares their data. */
async function expectReplicasIdentical(cluster: ShardBox, table: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const [{ replicas }] = await cluster.replicaDigests(table);
    if (replicas.every((r) => r !== undefined && r.applied === replicas[0]!.applied)) {
      for (const r of replicas) expect({ items: r!.items, crc: r!.crc }).toEqual({ items: replicas[0]!.items, crc: replicas[0]!.crc });
      return;
    }
    await sleep(25);
  }
  throw new Error('replicas did not converge');
}

describe('fault injection on real threads', () => {
  it('validates its arguments with errors that name them', async () => {
    db = await openCluster({ partitions: 1 });
    const cluster = db;
    await expect(cluster.faults.pause(3, 100)).rejects.toThrow(/^faults\.pause: node must be an integer from 0 to 2 \(got 3\)$/);
    await expect(cluster.faults.pause(0, 0)).rejects.toThrow(/^faults\.pause: ms must be an integer from 1 to 3600000 \(got 0\)$/);
    await expect(cluster.faults.pause(0, 1.5)).rejects.toThrow(RangeError);
    expect(() => cluster.faults.cut(0, 0)).toThrow(/^faults\.cut: a and b must be different endpoints$/);
    expect(() => cluster.faults.cut(-1, 1)).toThrow(/^faults\.cut: a must be a node from 0 to 2 or \{ router: i \} with i from 0 to 0 \(got -1\)$/);
    expect(() => cluster.faults.cut(0, { router: 1 })).toThrow(/^faults\.cut: b must be .*\(got \{ router: 1 \}\)$/);
    expect(() => cluster.faults.cut(0, 1, { oneWay: 'yes' as unknown as boolean })).toThrow(/^faults\.cut: options\.oneWay must be a boolean/);
    expect(() => cluster.faults.heal(undefined, 1)).toThrow(/^faults\.heal: give a when giving b$/);
    expect(cluster.faults.cuts()).toEqual([]);
    cluster.faults.cut(0, 1, { oneWay: true });
    cluster.faults.cut(2, { router: 0 });
    expect(cluster.faults.cuts()).toEqual([[0, 1], [2, { router: 0 }], [{ router: 0 }, 2]]);
    cluster.faults.heal(2);
    expect(cluster.faults.cuts()).toEqual([[0, 1]]);
    cluster.faults.heal();
    expect(cluster.faults.cuts()).toEqual([]);
    await cluster.faults.kill(1);
    await expect(cluster.faults.pause(1, 100)).rejects.toThrow(/^faults\.pause: node 1 is not running/);
  });

  it('a paused node can be killed, restarted and closed at once, not after its pause', async () => {
    db = await openCluster({ partitions: 1, router: FAST_ROUTER });
    const cluster = db;
    await createHashTable(cluster, 'stop');
    await cluster.faults.pause(1, 60_000);
    const started = performance.now();
    await cluster.faults.kill(1);
    expect(cluster.isNodeAlive(1)).toBe(false);
    await cluster.faults.restart(1);
    await putRetrying(cluster, 'stop', 'k', 'v');
    await cluster.faults.pause(2, 60_000);
    await cluster.faults.restart(2); // a graceful stop wakes the paused thread
    await cluster.faults.pause(0, 60_000);
    await cluster.close();
    db = undefined;
    expect(performance.now() - started, 'no 60 s pause was waited out').toBeLessThan(20_000);
  });

  it('a node that dies of an error is started again and catches up; a crash (kill) is not restarted', async () => {
    db = await openCluster({ partitions: 1 });
    const cluster = db;
    await createHashTable(cluster, 'failing');
    const leader = await leaderOf(cluster, 'failing');
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      await cluster.faults.fail(leader);
      expect(cluster.isNodeAlive(leader)).toBe(false);
      // Written while it is down (a new leader takes over), then it comes back by itself.
      for (let i = 0; i < 50; i++) await putRetrying(cluster, 'failing', `k${i}`, 'while down');
      await waitFor('the failed node to run again', 10_000, async () => (cluster.isNodeAlive(leader) ? true : undefined));
      await expectReplicasIdentical(cluster, 'failing');
      expect(await strongValue(cluster, 'failing', 'k49')).toBe('while down');
      expect(warnings.some((w) => w.includes(`storage node ${leader} started again after dying of an error`))).toBe(true);
      // A crash is a test's own doing: it stays down until restarted.
      await cluster.faults.kill(leader);
      await sleep(1500);
      expect(cluster.isNodeAlive(leader)).toBe(false);
    } finally {
      process.off('warning', onWarning);
    }
  }, 60_000);

  it('a leader cut from both followers loses its group to a new leader; writes go on; heal restores', async () => {
    db = await openCluster({ partitions: 1, router: FAST_ROUTER });
    const cluster = db;
    await createHashTable(cluster, 'cut');
    await putRetrying(cluster, 'cut', 'k', 'before');
    const old = await leaderOf(cluster, 'cut');
    const followers = [0, 1, 2].filter((n) => n !== old);
    for (const f of followers) cluster.faults.cut(old, f);

    // The router still reaches the old leader, which steps down once no quorum answers it.
    for (let i = 0; i < 20; i++) await putRetrying(cluster, 'cut', `during-${i}`, `d${i}`);
    const fresh = await leaderOf(cluster, 'cut', old);
    expect(followers).toContain(fresh);
    expect(await strongValue(cluster, 'cut', 'during-19')).toBe('d19');

    cluster.faults.heal();
    await putRetrying(cluster, 'cut', 'after', 'a');
    await expectReplicasIdentical(cluster, 'cut');
    const [{ replicas }] = await cluster.replicaStatus('cut');
    expect(replicas.filter((r) => r!.role === 'leader').length).toBe(1);
  });

  it('a leader paused past the election timeout is replaced, and when it resumes it serves no stale read', async () => {
    db = await openCluster({ partitions: 1, routers: 1, router: FAST_ROUTER });
    const cluster = db;
    await createHashTable(cluster, 'pause');
    await putRetrying(cluster, 'pause', 'x', 'old');
    const old = await leaderOf(cluster, 'pause');
    // A second router that learns the old leader now, and keeps believing in it: its next
    // strong read goes to the old leader, and waits there until the pause ends.
    const client = ShardBoxClient.connect({ ...cluster.routerPort(1), router: { attemptTimeoutMs: 20_000, deadlineMs: 30_000 } });
    clients.push(client);
    expect(await strongValue(client, 'pause', 'x')).toBe('old');

    const pauseMs = 5000;
    const pausedAt = performance.now();
    await cluster.faults.pause(old, pauseMs);
    // While it is silent, the others elect a leader and take writes: the router stops
    // sending new writes to the silent node once one attempt went unanswered.
    await putRetrying(cluster, 'pause', 'x', 'new');
    expect(await strongValue(cluster, 'pause', 'x')).toBe('new');
    const writtenWithinMs = performance.now() - pausedAt;
    expect(writtenWithinMs, 'the write was served by a new leader during the pause').toBeLessThan(pauseMs - 500);
    // The old leader wakes up, delivers the ticks it slept through (its lease is over),
    // then finds this read in its ring: it must redirect it, never answer 'old'.
    expect(await strongValue(client, 'pause', 'x')).toBe('new');
    await sleep(Math.max(0, pauseMs - (performance.now() - pausedAt)));
    const leader = await leaderOf(cluster, 'pause');
    const [{ replicas }] = await cluster.replicaStatus('pause');
    expect(replicas.find((r) => r!.id === old)!.role).not.toBe('leader');
    expect(leader).not.toBe(old);
    await expectReplicasIdentical(cluster, 'pause');
  });

  it('a paused follower catches up; a short pause of a busy leader changes nothing but latency', async () => {
    db = await openCluster({ partitions: 1, router: FAST_ROUTER });
    const cluster = db;
    await createHashTable(cluster, 'catchup');
    const leader = await leaderOf(cluster, 'catchup');
    const follower = [0, 1, 2].find((n) => n !== leader)!;
    await cluster.faults.pause(follower, 1500);
    for (let i = 0; i < 200; i++) await putRetrying(cluster, 'catchup', `f${i}`, String(i));
    // Every node answers (the follower's pause is over) with one leader: the term and the
    // elections so far, to compare with after the leader's pause.
    expect(await leaderOf(cluster, 'catchup')).toBe(leader);
    const [{ replicas: before }] = await cluster.replicaStatus('catchup');
    // The leader is busy with writes when it is paused for less than the election timeout.
    const writes = Array.from({ length: 200 }, (_, i) => putRetrying(cluster, 'catchup', `l${i}`, String(i)));
    await cluster.faults.pause(leader, 100);
    await Promise.all(writes);
    await sleep(1500);
    await expectReplicasIdentical(cluster, 'catchup');
    const [{ replicas }] = await cluster.replicaStatus('catchup');
    expect(replicas.find((r) => r!.id === follower)!.applied).toBe(replicas.find((r) => r!.id === leader)!.applied);
    // Nothing but latency: no election was started, the term did not move, the leader leads.
    const elections = (status: typeof replicas) => status.map((r) => ({ id: r!.id, term: r!.term, electionsStarted: r!.electionsStarted, leader: r!.leader }));
    expect(elections(replicas)).toEqual(elections(before));
    expect(replicas.find((r) => r!.id === leader)!.role).toBe('leader');
    const stats = await cluster.nodeStats();
    expect(stats.every((s) => s !== undefined)).toBe(true);
  });

  it('a one-way cut from the leader to a follower loses nothing; the follower catches up once healed', async () => {
    db = await openCluster({ partitions: 1, router: FAST_ROUTER });
    const cluster = db;
    await createHashTable(cluster, 'oneway');
    const leader = await leaderOf(cluster, 'oneway');
    const deaf = [0, 1, 2].find((n) => n !== leader)!;
    cluster.faults.cut(leader, deaf, { oneWay: true });
    for (let i = 0; i < 50; i++) await putRetrying(cluster, 'oneway', `o${i}`, String(i));
    // The cut outlives a restart of the follower (its counters start again from 0).
    await cluster.faults.restart(deaf);
    for (let i = 50; i < 100; i++) await putRetrying(cluster, 'oneway', `o${i}`, String(i));
    const stats = await cluster.nodeStats();
    expect(stats[deaf]!.recordsCut, 'the deaf follower discarded what the leader sent').toBeGreaterThan(0);
    cluster.faults.heal(leader, deaf);
    await putRetrying(cluster, 'oneway', 'after', 'a');
    await expectReplicasIdentical(cluster, 'oneway');
    for (let i = 0; i < 100; i += 11) expect(await strongValue(cluster, 'oneway', `o${i}`)).toBe(String(i));
  });

  it('a router cut from the leader gets retryable errors, never a hang, and is served again once healed', async () => {
    db = await openCluster({ partitions: 1, router: { attemptTimeoutMs: 200, deadlineMs: 1500 } });
    const cluster = db;
    await createHashTable(cluster, 'router');
    await putRetrying(cluster, 'router', 'r', '1');
    const leader = await leaderOf(cluster, 'router');
    cluster.faults.cut({ router: 0 }, leader);
    const started = performance.now();
    // The followers still hear the leader (no election); this router cannot reach it.
    await expectDynamoError(cluster.putItem({ TableName: 'router', Item: { id: { S: 'r' }, v: { S: '2' } } }), 'InternalServerError', /outcome of the write is unknown/);
    await expectDynamoError(cluster.getItem({ TableName: 'router', Key: { id: { S: 'r' } }, ConsistentRead: true }), 'ServiceUnavailable');
    expect(performance.now() - started).toBeLessThan(5000);
    // Eventually consistent reads still find a replica.
    const { Item } = await cluster.getItem({ TableName: 'router', Key: { id: { S: 'r' } } });
    expect(Item?.v?.S).toMatch(/^[12]$/);
    cluster.faults.heal({ router: 0 });
    await putRetrying(cluster, 'router', 'r', '3');
    expect(await strongValue(cluster, 'router', 'r')).toBe('3');
  });
});
