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
 *
 * Repair (the paper's: a log replica restores durability at once, a full replica is
 * rebuilt later): when C stays away longer than the control plane waits
 * (`awaitedTooLong`), L's node becomes a home replica in C's place (`replaceHome`, a
 * metadata change), the log replica there is removed, and a full replica is added on
 * that node, built from a snapshot of the leader's data. Moving a replica (`moveReplica`
 * in the control plane) is the same last part: the new home node gets a full replica,
 * and once the home replicas are caught up, the member no longer at home leaves (after
 * handing leadership over, if it leads).
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
  /** An awaited home replica has been away longer than the control plane waits before
   *  building a full replica elsewhere. Default: never. */
  awaitedTooLong?: (node: number) => boolean;
}

export type LogReplicaAction =
  | { kind: 'addLogReplica'; node: number; next: Membership }
  | { kind: 'removeMember'; node: number; next: Membership }
  | { kind: 'addBack'; node: number; next: Membership }
  | { kind: 'removeLogReplica'; node: number; next: Membership }
  /** Not a membership change: `node`'s home place goes to `by` (the metadata's). */
  | { kind: 'replaceHome'; node: number; by: number }
  /** A full replica on a home node that has none (built from a snapshot). */
  | { kind: 'addReplica'; node: number; next: Membership }
  /** The leader is a member no longer at home: it hands leadership to `to` first. */
  | { kind: 'handOver'; node: number; to: number };

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
    // Only a home replica is awaited back: a log replica restarts its log, a replica
    // moved away is not wanted.
    const awaitedBack = !m.logReplicas.includes(node) && view.home.includes(node);
    const match = progress[node]?.match ?? 0;
    return {
      kind: 'removeMember', node,
      next: {
        voters: m.voters.filter((v) => v !== node),
        logReplicas: m.logReplicas.filter((v) => v !== node),
        awaited: awaitedBack ? [...m.awaited.filter((a) => a.id !== node), { id: node, from: match + 1 }] : m.awaited.filter((a) => a.id !== node),
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
  // Repair: a home replica away too long gives its place to a log replica's node.
  const gone = m.awaited.find((a) => view.home.includes(a.id) && !view.reachable(a.id) && view.awaitedTooLong?.(a.id) === true);
  if (gone !== undefined && m.logReplicas.length > 0) return { kind: 'replaceHome', node: gone.id, by: m.logReplicas[0] };
  // A home node whose member is a log replica: that one goes (a full one follows), and
  // the awaited replicas no longer at home with it.
  const homeLog = m.logReplicas.find((n) => view.home.includes(n));
  if (homeLog !== undefined) {
    return {
      kind: 'removeLogReplica', node: homeLog,
      next: { voters: m.voters.filter((v) => v !== homeLog), logReplicas: m.logReplicas.filter((v) => v !== homeLog), awaited: m.awaited.filter((a) => view.home.includes(a.id)) },
    };
  }
  // A home node with no member (a repair's, or a move's target): a full replica there.
  const unhosted = view.home.find((h) => !m.voters.includes(h) && !m.awaited.some((a) => a.id === h) && view.reachable(h));
  if (unhosted !== undefined) {
    return { kind: 'addReplica', node: unhosted, next: { voters: [...m.voters, unhosted], logReplicas: m.logReplicas, awaited: m.awaited.filter((a) => view.home.includes(a.id)) } };
  }
  const homeCaughtUp = view.home.every((h) => h === s.id || (m.voters.includes(h) && !silent(h)
    && progress[h].state === 'replicate' && !progress[h].needsSnapshot && progress[h].match + CAUGHT_UP_ENTRIES >= s.commit));
  // A full member no longer at home (a move's source) leaves once the home replicas are
  // caught up; a leader cannot remove itself, so it hands over first.
  const away = m.voters.find((v) => !view.home.includes(v) && !m.logReplicas.includes(v));
  if (away !== undefined && homeCaughtUp) {
    if (away === s.id) return { kind: 'handOver', node: away, to: view.home.find((h) => h !== s.id)! };
    return {
      kind: 'removeMember', node: away,
      next: { voters: m.voters.filter((v) => v !== away), logReplicas: m.logReplicas, awaited: m.awaited.filter((a) => a.id !== away) },
    };
  }
  if (m.logReplicas.length > 0) {
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
