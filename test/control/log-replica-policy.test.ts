import { describe, expect, it } from 'vitest';
import { nextLogReplicaAction, type GroupView } from '../../src/control/log-replica-policy.js';
import type { Membership, ReplicaStatus } from '../../src/replication/types.js';

/** A leader (node 0) of a group placed on 0, 1, 2 in a 4-node cluster; `silent` lists
 *  members the leader has not heard from for 100 ticks. */
function view(membership: Membership, silent: number[] = [], extra: Partial<ReplicaStatus> = {}, down: number[] = []): GroupView {
  const progress: NonNullable<ReplicaStatus['progress']> = {};
  for (const v of membership.voters) {
    if (v === 0) continue;
    progress[v] = { match: 50, next: 51, state: 'replicate', needsSnapshot: false, silentTicks: silent.includes(v) ? 100 : 1 };
  }
  return {
    leader: {
      group: 1, id: 0, role: 'leader', term: 3, leader: 0, commit: 50, applied: 50, lastIndex: 50, leaseTicksLeft: 5,
      membership, membershipIndex: 10, logReplica: false, electionsStarted: 1, preVotesFailed: 0, progress, ...extra,
    },
    home: [0, 1, 2],
    nodes: [0, 1, 2, 3],
    reachable: (n) => !down.includes(n),
    silentThresholdTicks: 30,
  };
}

const m = (voters: number[], logReplicas: number[] = [], awaited: Membership['awaited'] = []): Membership => ({ voters, logReplicas, awaited });

describe('log-replica policy', () => {
  it('a healthy group needs nothing', () => {
    expect(nextLogReplicaAction(view(m([0, 1, 2])))).toBeUndefined();
  });

  it('a silent home replica: add a log replica on the free node, then remove it (awaited from its match)', () => {
    expect(nextLogReplicaAction(view(m([0, 1, 2]), [2], {}, [2]))).toMatchObject({ kind: 'addLogReplica', node: 3, next: m([0, 1, 2, 3], [3]) });
    expect(nextLogReplicaAction(view(m([0, 1, 2, 3], [3]), [2], {}, [2])))
      .toMatchObject({ kind: 'removeMember', node: 2, next: m([0, 1, 3], [3], [{ id: 2, from: 51 }]) });
  });

  it('nothing while the previous change has not committed', () => {
    expect(nextLogReplicaAction(view(m([0, 1, 2]), [2], { membershipIndex: 60 }, [2]))).toBeUndefined();
  });

  it('no free node: nothing to add, and a group of two healthy members removes nobody', () => {
    expect(nextLogReplicaAction(view(m([0, 1, 3], [3], [{ id: 2, from: 9 }]), [1], {}, [1, 2]))).toBeUndefined();
  });

  it('an awaited home replica that is back is added back; then the log replica goes once all are caught up', () => {
    expect(nextLogReplicaAction(view(m([0, 1, 3], [3], [{ id: 2, from: 9 }]))))
      .toMatchObject({ kind: 'addBack', node: 2, next: m([0, 1, 3, 2], [3], []) });
    const back = view(m([0, 1, 2, 3], [3]), [], { commit: 500 });
    back.leader.progress![1].match = 500;
    back.leader.progress![2].match = 300; // still catching up
    expect(nextLogReplicaAction(back)).toBeUndefined();
    expect(nextLogReplicaAction(view(m([0, 1, 2, 3], [3])))).toMatchObject({ kind: 'removeLogReplica', node: 3, next: m([0, 1, 2]) });
  });

  it('a silent log replica is removed without being awaited', () => {
    expect(nextLogReplicaAction(view(m([0, 1, 2, 3], [3]), [3], {}, [3]))).toMatchObject({ kind: 'removeMember', node: 3, next: m([0, 1, 2]) });
  });
});
