/**
 * Membership changes and log replicas in the deterministic simulator, driven by the same
 * policy the control plane runs on real threads (src/control/log-replica-policy.ts).
 *
 * Scenario names follow DESIGN's "Failure" path: a home replica (C = node 2) of group
 * {0, 1, 2} stays silent, the leader adds a log replica on the spare node 3 and removes C
 * (keeping the WAL C needs), a second failure is survived, C returns and the log replica
 * goes.
 */
import { describe, expect, it } from 'vitest';
import { nextLogReplicaAction, type LogReplicaAction } from '../../src/control/log-replica-policy.js';
import { Cluster } from './harness.js';

const HOME = [0, 1, 2];
const THRESHOLD_TICKS = 30;

/** A 4-node cluster whose group lives on nodes 0-2, node 0 elected and serving. */
function group(seed: number, extra: Partial<ConstructorParameters<typeof Cluster>[0]> = {}): Cluster {
  const c = new Cluster({ n: 4, members: 3, seed, ...extra });
  c.campaign(0);
  c.tick(10);
  expect(c.core(0).checkStrongRead()).toBeUndefined();
  return c;
}

/** One turn of the control plane: ask the leader's status, carry out the next change. */
function policyTurn(c: Cluster): LogReplicaAction | undefined {
  const l = c.leader();
  if (l === undefined) return undefined;
  const action = nextLogReplicaAction({
    leader: c.core(l).status(),
    home: HOME,
    nodes: c.nodes.map((n) => n.id),
    // A spare hosts nothing (no core) but its node is up.
    reachable: (n) => c.nodes[n].alive || c.nodes[n].record === undefined,
    silentThresholdTicks: THRESHOLD_TICKS,
  });
  if (action === undefined) return undefined;
  const r = c.changeMembership(l, action.next);
  if ('reason' in r) return undefined;
  // A removed log replica's node drops the group (the control plane's dropGroup).
  if (action.kind === 'removeLogReplica') c.dropReplica(action.node);
  return action;
}

/** Ticks (running the policy every tick unless `policy` is false) until `done`; returns
 *  the ticks taken. */
function runUntil(c: Cluster, done: () => boolean, maxTicks: number, policy = true): number {
  for (let t = 1; t <= maxTicks; t++) {
    c.tick(1);
    if (policy) policyTurn(c);
    if (done()) return t;
  }
  return c.fail(`condition not reached in ${maxTicks} ticks`);
}

const voters = (c: Cluster, i: number) => c.core(i).membership.voters;
const committedAt = (c: Cluster, i: number) => c.core(i).status().membershipIndex <= c.core(i).commit;

describe('log replicas keep a write quorum of three', () => {
  it('a replica silent past the threshold is replaced by a log replica; a second failure is survived', () => {
    const c = group(1);
    for (let i = 0; i < 20; i++) c.propose(0, `before-${i}`);
    c.tick(2);
    c.crash(2);
    // Below the threshold nothing changes.
    for (let t = 0; t < THRESHOLD_TICKS - 5; t++) {
      c.tick(1);
      expect(policyTurn(c)).toBeUndefined();
    }
    const ticks = runUntil(c, () => voters(c, 0).join() === '0,1,3' && committedAt(c, 0), 100);
    expect(ticks).toBeLessThan(20);
    const status = c.core(0).status();
    expect(status.membership).toEqual({ voters: [0, 1, 3], logReplicas: [3], awaited: [{ id: 2, from: expect.any(Number) }] });
    expect(c.core(3).isLogReplica).toBe(true);
    // The log replica started at the leader's commit index: it never held the old entries.
    expect(c.nodes[3].storage.first).toBeGreaterThan(20);
    expect(c.appliedData(3)).toEqual([]);

    // Second failure: node 1 dies too. Leader 0 and log replica 3 are 2 of 3.
    c.crash(1);
    const p = c.propose(0, 'after-second-failure');
    expect(p).toHaveProperty('index');
    c.tick(3);
    expect(c.appliedData(0)).toContain('after-second-failure');
    expect(c.nodes[3].storage.lastIndex()).toBeGreaterThanOrEqual((p as { index: number }).index);
  });

  it('the replica returns: it is added back, catches up from the kept WAL, and the log replica is removed', () => {
    const c = group(2);
    c.crash(2);
    runUntil(c, () => voters(c, 0).join() === '0,1,3' && committedAt(c, 0), THRESHOLD_TICKS + 50);
    // Writes while C is away; the group compacts its WALs as far as it may.
    for (let i = 0; i < 50; i++) c.propose(0, `away-${i}`);
    c.tick(3);
    for (const id of [0, 1, 3]) {
      const core = c.core(id);
      const upTo = Math.min(core.compactableIndex(), core.applied);
      if (upTo >= c.nodes[id].storage.first) {
        core.compacted(upTo + 1);
        c.nodes[id].storage.compact(upTo + 1);
      }
    }
    // C is awaited: nothing C needs was dropped.
    const awaitedFrom = c.core(0).membership.awaited[0].from;
    expect(c.nodes[0].storage.first).toBeLessThanOrEqual(awaitedFrom);

    c.restart(2);
    runUntil(c, () => voters(c, 0).join() === '0,1,2' && committedAt(c, 0), 100);
    expect(c.core(0).membership).toEqual({ voters: [0, 1, 2], logReplicas: [], awaited: [] });
    expect(c.nodes[3].alive).toBe(false); // dropped by the control plane
    c.tick(5);
    expect(c.appliedData(2)).toEqual(c.appliedData(0));
    expect(c.appliedData(2)).toContain('away-49');
  });

  it('when the leader itself dies, the new leader replaces it with a log replica', () => {
    const c = group(9);
    c.crash(0);
    runUntil(c, () => {
      const l = c.leader();
      return l !== undefined && voters(c, l).join() === '1,2,3' && committedAt(c, l);
    }, THRESHOLD_TICKS + 100);
    const l = c.leader()!;
    expect(c.core(l).membership.awaited.map((a) => a.id)).toEqual([0]);
    // ...and a second failure is survived.
    c.crash(l === 1 ? 2 : 1);
    expect(c.propose(l, 'after')).toHaveProperty('index');
    c.tick(3);
    expect(c.appliedData(l)).toContain('after');
  });

  it('a log replica never becomes leader, whatever fails', () => {
    const c = group(3);
    c.crash(2);
    runUntil(c, () => voters(c, 0).join() === '0,1,3' && committedAt(c, 0), THRESHOLD_TICKS + 50);
    // The leader asks the log replica to take over: ignored, it keeps leading.
    c.transfer(0, 3);
    c.tick(30);
    expect(c.leader()).toBe(0);
    // The leader dies: 1 and 3 are a quorum, and only 1 may lead it.
    c.crash(0);
    c.tick(200);
    expect(c.leader()).toBe(1);
    expect(c.core(3).role).toBe('follower');
    expect(c.core(3).status().electionsStarted).toBe(0);
    // Node 1 is cut off as well: the log replica alone never stands.
    c.isolate(1);
    c.tick(200);
    expect(c.core(3).status().electionsStarted).toBe(0);
    expect(c.core(3).role).toBe('follower');
  });

  it('a log replica that fell behind the compacted log restarts at the commit index instead of needing a snapshot', () => {
    const c = group(4);
    // C is removed for good (not awaited), so nothing holds the WALs back.
    c.addMember(0, 3, true);
    c.settle();
    c.removeMember(0, 2);
    c.settle();
    expect(c.core(0).membership).toEqual({ voters: [0, 1, 3], logReplicas: [3], awaited: [] });
    c.crash(3);
    for (let i = 0; i < 40; i++) c.propose(0, `while-3-down-${i}`);
    c.tick(3);
    const leader = c.core(0);
    const upTo = Math.min(leader.compactableIndex(), leader.applied);
    leader.compacted(upTo + 1);
    c.nodes[0].storage.compact(upTo + 1);
    expect(c.nodes[0].storage.first).toBeGreaterThan(c.nodes[3].storage.lastIndex() + 1);
    c.restart(3);
    c.propose(0, 'after');
    c.tick(10);
    const pr = c.core(0).status().progress![3];
    expect(pr.needsSnapshot).toBe(false);
    expect(pr.match).toBe(c.core(0).lastIndex);
  });
});

describe('membership changes', () => {
  it('one change at a time, one member at a time', () => {
    const c = group(5);
    expect(c.addMember(0, 3, true)).toHaveProperty('index');
    expect(c.removeMember(0, 2)).toMatchObject({ reason: 'changePending' });
    c.tick(3);
    const m = c.core(0).membership;
    expect(c.changeMembership(0, { voters: [0, 4], logReplicas: [], awaited: [] })).toMatchObject({ reason: 'invalidChange' });
    expect(c.changeMembership(0, { ...m, logReplicas: [] })).toMatchObject({ reason: 'invalidChange', detail: expect.stringMatching(/cannot change between log replica and full/) });
    expect(c.core(1).propose(new Uint8Array([1]))).toMatchObject({ reason: 'notLeader' });
  });

  it('a membership entry that is truncated away reverts the membership', () => {
    const c = group(6);
    c.isolate(0);
    expect(c.addMember(0, 3, true)).toHaveProperty('index');
    expect(c.core(0).membership.voters).toEqual([0, 1, 2, 3]);
    c.tick(60);
    const l = c.leader();
    expect(l === 1 || l === 2).toBe(true);
    c.heal();
    c.tick(20);
    expect(c.core(0).role).toBe('follower');
    expect(c.core(0).membership.voters).toEqual([0, 1, 2]);
    // The stray log replica's messages are ignored by the members.
    c.tick(40);
    expect(c.core(l!).membership.voters).toEqual([0, 1, 2]);
  });

  it('a leader cannot remove itself: it transfers leadership first, then the new leader removes it', () => {
    const c = group(7);
    expect(c.removeMember(0, 0)).toMatchObject({ reason: 'invalidChange', detail: expect.stringMatching(/transfer leadership first/) });
    c.transfer(0, 1);
    c.tick(20);
    expect(c.leader()).toBe(1);
    expect(c.removeMember(1, 0)).toHaveProperty('index');
    const term = c.core(1).term;
    c.tick(100);
    // The removed replica stops hearing the leader (which no longer sends to it) and
    // asks for pre-votes, which the members ignore: no disruption.
    expect(c.leader()).toBe(1);
    expect(c.core(1).term).toBe(term);
    expect(c.core(1).membership.voters).toEqual([1, 2]);
    expect(c.propose(1, 'two-member group')).toHaveProperty('index');
    c.tick(3);
    expect(c.appliedData(2)).toContain('two-member group');
  });

  it('memberships survive a restart: found again in the WAL above the applied index', () => {
    const c = group(8);
    c.addMember(0, 3, true);
    c.tick(3);
    for (const i of [0, 1, 3]) {
      c.crash(i);
      c.restart(i);
    }
    expect(c.core(0).membership.voters).toEqual([0, 1, 2, 3]);
    expect(c.core(3).isLogReplica).toBe(true);
    c.tick(100);
    expect(c.leader()).not.toBe(3);
    expect(c.leader()).toBeDefined();
  });
});

describe('time to restore a write quorum of three (simulation, ticks)', () => {
  // A bounded link (64 KiB per tick) makes catch-up cost visible in ticks. 4000 writes of
  // 1 KiB before the failure; C (node 2) dies; restoring = from the failure until the
  // group again has three healthy members with the change committed.
  const WRITES = 4000;
  const value = 'x'.repeat(1024);
  function loaded(seed: number): Cluster {
    const c = new Cluster({ n: 4, members: 3, seed, linkBytesPerTick: 64 * 1024, maxAppendBytes: 32 * 1024, check: false });
    c.campaign(0);
    c.tick(10);
    for (let i = 0; i < WRITES; i++) {
      c.propose(0, `${i}:${value}`);
      if (i % 50 === 49) c.tick(1);
    }
    c.settle(400);
    return c;
  }

  it('log replica vs full rebuild (a new full replica replaying the whole log)', () => {
    const a = loaded(11);
    a.crash(2);
    const logTicks = runUntil(a, () => voters(a, 0).join() === '0,1,3' && committedAt(a, 0), 1000);

    // Full rebuild: node 3 joins as a full replica with an empty store; without snapshots
    // it replays the whole log (the leader kept it all), then C is removed.
    const b = loaded(11);
    b.crash(2);
    let ticks = 0;
    for (; ticks < THRESHOLD_TICKS; ticks++) b.tick(1); // the same detection delay
    expect(b.addMember(0, 3, false)).toHaveProperty('index');
    ticks += runUntil(b, () => {
      const pr = b.core(0).status().progress![3];
      return pr.match >= b.core(0).commit;
    }, 5000, false);
    const match = b.core(0).status().progress![2].match;
    expect(b.removeMember(0, 2, match + 1)).toHaveProperty('index');
    ticks += runUntil(b, () => voters(b, 0).join() === '0,1,3' && committedAt(b, 0), 100, false);
    b.tick(2);
    expect(b.core(3).applied).toBe(b.core(0).applied);
    expect(b.appliedData(3).length).toBe(WRITES + 2); // the writes and two memberships
    console.log(`[sim] restore a write quorum of three after a failure (threshold ${THRESHOLD_TICKS} ticks, ${WRITES} x 1 KiB entries, 64 KiB/tick links): `
      + `log replica ${logTicks} ticks (${logTicks - THRESHOLD_TICKS} after detection), full rebuild ${ticks} ticks (${ticks - THRESHOLD_TICKS} after detection)`);
    expect(logTicks).toBeLessThan(THRESHOLD_TICKS + 20);
    expect(ticks).toBeGreaterThan(THRESHOLD_TICKS + 50);
  });
});
