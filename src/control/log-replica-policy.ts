/**
 * When to add and remove log replicas (DESIGN, "Failure"): a pure decision over one
 * group's leader status, so the same policy drives the simulator (test/replication) and
 * the control plane on real threads (autoadmin.ts).
 *
 * The goal is a write quorum of three healthy members. Steps, one membership change at a
 * time (each waits until the previous one committed):
 *  1. fewer than three healthy members and a free node: add a log replica there;
 *  2. three healthy members and a member silent past the threshold: remove it (a full
 *     replica stays awaited: the group keeps the WAL it needs to come back);
 *  3. a home replica that was removed is reachable again: add it back (full);
 *  4. every home replica is a healthy, caught-up member: remove the log replicas.
 * With nodes i, i+1, i+2 hosting a group and a 4th node free, one failure costs two
 * changes (add L, remove C) and the group survives a second failure (A + L of {A, B, L});
 * C's return costs two more (add C, remove L).
 */
import type { Membership } from '../replication/membership.js';
import type { ReplicaStatus } from '../replication/types.js';

/** Healthy members a group wants: a quorum of 2 that tolerates one more failure. */
export const TARGET_HEALTHY_MEMBERS = 3;
/** A home replica within this many entries of the leader's commit index counts as caught
 *  up (writes keep coming while it catches up; the last few need not wait). */
export const CAUGHT_UP_ENTRIES = 64;

export interface GroupView {
  /** The status of the group's leader (role 'leader'). */
  leader: ReplicaStatus;
  /** The group's home replicas: the full replicas it was placed on. */
  home: readonly number[];
  /** Every storage node of the cluster. */
  nodes: readonly number[];
  /** The control plane believes the node's thread is up (not killed or stopped). */
  reachable: (node: number) => boolean;
  /** Leader ticks without hearing from a member before it counts as failed. */
  silentThresholdTicks: number;
}

export type LogReplicaAction =
  | { kind: 'addLogReplica'; node: number; next: Membership }
  | { kind: 'removeMember'; node: number; next: Membership }
  | { kind: 'addBack'; node: number; next: Membership }
  | { kind: 'removeLogReplica'; node: number; next: Membership };

/** The next membership change the group needs, or undefined. */
export function nextLogReplicaAction(view: GroupView): LogReplicaAction | undefined {
  const s = view.leader;
  if (s.role !== 'leader' || s.progress === undefined) return undefined;
  if (s.membershipIndex > s.commit) return undefined; // the previous change has not committed
  const m = s.membership;
  const progress = s.progress;
  const silent = (id: number) => id !== s.id && (progress[id] === undefined || progress[id].silentTicks >= view.silentThresholdTicks);
  const silentMembers = m.voters.filter(silent);
  const healthy = m.voters.length - silentMembers.length;

  if (healthy < TARGET_HEALTHY_MEMBERS) {
    const awaited = new Set(m.awaited.map((a) => a.id));
    // A node that is neither a member, nor awaited, nor a home replica of this group.
    const free = view.nodes.find((n) => !m.voters.includes(n) && !awaited.has(n) && !view.home.includes(n) && view.reachable(n));
    if (free !== undefined) {
      return {
        kind: 'addLogReplica', node: free,
        next: { voters: [...m.voters, free], logReplicas: [...m.logReplicas, free], awaited: m.awaited },
      };
    }
  }
  if (healthy >= TARGET_HEALTHY_MEMBERS && silentMembers.length > 0) {
    const node = silentMembers[0];
    const isLog = m.logReplicas.includes(node);
    const match = progress[node]?.match ?? 0;
    return {
      kind: 'removeMember', node,
      next: {
        voters: m.voters.filter((v) => v !== node),
        logReplicas: m.logReplicas.filter((v) => v !== node),
        awaited: isLog ? m.awaited : [...m.awaited.filter((a) => a.id !== node), { id: node, from: match + 1 }],
      },
    };
  }
  const returning = m.awaited.find((a) => view.home.includes(a.id) && view.reachable(a.id));
  if (returning !== undefined) {
    return {
      kind: 'addBack', node: returning.id,
      next: { voters: [...m.voters, returning.id], logReplicas: m.logReplicas, awaited: m.awaited.filter((a) => a.id !== returning.id) },
    };
  }
  if (m.logReplicas.length > 0) {
    const homeCaughtUp = view.home.every((h) => h === s.id || (m.voters.includes(h) && !silent(h)
      && progress[h].state === 'replicate' && progress[h].match + CAUGHT_UP_ENTRIES >= s.commit));
    if (homeCaughtUp) {
      const node = m.logReplicas[0];
      return {
        kind: 'removeLogReplica', node,
        next: { voters: m.voters.filter((v) => v !== node), logReplicas: m.logReplicas.filter((v) => v !== node), awaited: m.awaited },
      };
    }
  }
  return undefined;
}
