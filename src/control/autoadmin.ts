/**
 * Autoadmin: the control plane's failure handling on real threads (DESIGN, "Failure").
 * Every `intervalMs` it asks each live node for the statuses of the replicas it leads
 * (one request per node), and for each partition runs the log-replica policy
 * (log-replica-policy.ts) on its leader's status: it creates a log replica on a free node
 * and asks the leader to add it, removes a replica silent past the threshold, adds a
 * returning home replica back, removes the log replica once the home replicas are caught
 * up, and finally drops the removed log replica's group on its node. The partition map
 * records the log replicas (durably) so the routers never send them requests.
 *
 * One change per partition per turn; the leader refuses a change while the previous one
 * has not committed, so a slow turn cannot stack changes.
 */
import type { NodeRequestBody } from '../node/requests.js';
import type { ReplicaStatus } from '../replication/types.js';
import type { GroupRecord } from '../storage/wal.js';
import type { PartitionInfo } from '../router/partition-map.js';
import { nextLogReplicaAction, type LogReplicaAction } from './log-replica-policy.js';
import type { Metadata, TableMeta } from './metadata.js';

export interface AutoAdminDeps {
  /** What autoadmin reads and records of the metadata (a fake in unit tests). */
  metadata: Pick<Metadata, 'tables' | 'setLogReplicas' | 'replaceHome' | 'clearRetired'>;
  /** A control request to one node (the main router; follows notLeader hints). */
  control: (node: number, group: number, body: NodeRequestBody) => Promise<unknown>;
  isAlive: (node: number) => boolean;
  nodes: number;
  /** Leader ticks of silence after which a replica counts as failed. */
  silentThresholdTicks: number;
  /** Time between turns (ms). */
  intervalMs: number;
  /** How long a home replica removed from its group (and awaited back) may stay away
   *  before a full replica is built on the log replica's node in its place (ms); 0: never. */
  replaceAfterMs: number;
  /** Default: performance.now(). */
  nowMs?: () => number;
}

/** One membership change autoadmin made, for tests and tools (the last MAX_EVENTS). */
export interface AutoAdminEvent {
  atMs: number;
  table: string;
  group: number;
  kind: LogReplicaAction['kind'] | 'dropLogReplica' | 'dropRetired';
  node: number;
}

const MAX_EVENTS = 1000;
/** A turn waits no longer than this for one answer (a node that dies mid-request would
 *  otherwise hold the turn until the router's deadline); the next turn asks again. */
const REQUEST_TIMEOUT_MS = 300;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`autoadmin: no answer to ${what} within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class AutoAdmin {
  readonly events: AutoAdminEvent[] = [];
  readonly counters = { turns: 0, changes: 0, failedTurns: 0 };
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = false;
  /** Since when (ms) each awaited home replica ("group/node") has been seen away. */
  private readonly awaitedSince = new Map<string, number>();

  constructor(private readonly deps: AutoAdminDeps) {}

  start(): void {
    this.schedule();
  }

  /** Stops after the turn in progress, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.current;
  }

  private schedule(): void {
    if (this.stopped) return;
    // Unref'd: a pending turn must not keep the process alive.
    this.timer = setTimeout(() => {
      this.current = this.turn().catch(() => {
        // A turn that failed (a node died mid-request, the database is closing) is simply
        // retried by the next one: every step is idempotent or refused by the leader.
        this.counters.failedTurns++;
      }).finally(() => {
        this.current = undefined;
        this.schedule();
      });
    }, this.deps.intervalMs);
    this.timer.unref();
  }

  /** One pass over every partition (also callable directly, e.g. from a test). */
  async turn(): Promise<void> {
    this.counters.turns++;
    const { deps } = this;
    const alive = Array.from({ length: deps.nodes }, (_, n) => n).filter((n) => deps.isAlive(n));
    const answers = await Promise.all(alive.map((n) =>
      withTimeout(deps.control(n, 0, { t: 'leaders' }) as Promise<ReplicaStatus[]>, `node ${n}'s leaders`).catch(() => [])));
    // The leader of each group: the one of the highest term (a deposed one may not know yet).
    const leaders = new Map<number, ReplicaStatus>();
    for (const statuses of answers) {
      for (const s of statuses) {
        const known = leaders.get(s.group);
        if (known === undefined || s.term > known.term) leaders.set(s.group, s);
      }
    }
    for (const meta of deps.metadata.tables()) {
      if (meta.status !== 'ACTIVE') continue;
      for (const partition of meta.partitions) {
        if (this.stopped) return;
        const leader = leaders.get(partition.group);
        if (leader !== undefined) await this.tend(meta, partition, leader);
      }
    }
  }

  private async tend(meta: TableMeta, partition: PartitionInfo, leader: ReplicaStatus): Promise<void> {
    const { deps } = this;
    const m = leader.membership;
    const committed = leader.membershipIndex <= leader.commit;
    // A log replica the committed membership no longer has: drop its group on its node.
    const logReplicas = partition.logReplicas ?? [];
    const gone = committed ? logReplicas.filter((n) => !m.voters.includes(n) && deps.isAlive(n)) : [];
    if (gone.length > 0) {
      for (const node of gone) {
        await withTimeout(deps.control(node, partition.group, { t: 'dropGroup' }), `dropGroup on node ${node}`);
        this.record(meta.name, partition.group, 'dropLogReplica', node);
      }
      deps.metadata.setLogReplicas(meta.name, partition.group, logReplicas.filter((n) => !gone.includes(n)));
      return;
    }
    // A former home node out of the committed membership: drop the group it still hosts.
    const retired = committed ? (partition.retired ?? []).filter((n) => !m.voters.includes(n) && deps.isAlive(n)) : [];
    if (retired.length > 0) {
      for (const node of retired) {
        await withTimeout(deps.control(node, partition.group, { t: 'dropGroup' }), `dropGroup on node ${node}`);
        deps.metadata.clearRetired(meta.name, partition.group, node);
        this.record(meta.name, partition.group, 'dropRetired', node);
      }
      return;
    }
    const action = nextLogReplicaAction({
      leader,
      home: partition.replicas,
      nodes: Array.from({ length: deps.nodes }, (_, n) => n),
      reachable: deps.isAlive,
      silentThresholdTicks: deps.silentThresholdTicks,
      awaitedTooLong: (node) => this.awayTooLong(partition.group, node, m.awaited.map((a) => a.id)),
    });
    if (action === undefined) return;
    if (action.kind === 'replaceHome') {
      deps.metadata.replaceHome(meta.name, partition.group, action.node, action.by);
      this.record(meta.name, partition.group, action.kind, action.node);
      return;
    }
    if (action.kind === 'handOver') {
      await withTimeout(deps.control(leader.id, partition.group, { t: 'transferLeadership', to: action.to }), `transferLeadership at node ${leader.id}`);
      this.record(meta.name, partition.group, action.kind, action.node);
      return;
    }
    if (action.kind === 'addReplica') {
      // The leader's record of the group (its table, range and indexes), with the new
      // membership: the replica starts empty and is caught up from a snapshot.
      const rec = await withTimeout(deps.control(leader.id, partition.group, { t: 'groupRecord' }) as Promise<GroupRecord | undefined>, `groupRecord at node ${leader.id}`);
      if (rec === undefined) return;
      await withTimeout(deps.control(action.node, partition.group, {
        t: 'createGroup',
        campaign: false,
        votedFor: { term: leader.term, vote: leader.id },
        rec: { ...rec, voters: action.next.voters, logReplicas: action.next.logReplicas, awaited: action.next.awaited, logReplica: false },
      }), `createGroup on node ${action.node}`);
    }
    if (action.kind === 'addLogReplica') {
      // Recorded before it exists, so a crash in between leaves a replica to drop, never
      // an unknown one; the routers never send it requests either way.
      if (!logReplicas.includes(action.node)) deps.metadata.setLogReplicas(meta.name, partition.group, [...logReplicas, action.node]);
      await withTimeout(deps.control(action.node, partition.group, {
        t: 'createGroup',
        campaign: false,
        votedFor: { term: leader.term, vote: leader.id },
        rec: {
          group: partition.group, tableId: meta.tableId, tableName: meta.name, keyShape: meta.keyShape,
          hashStart: partition.hashStart, hashEnd: partition.hashEnd,
          voters: action.next.voters, logReplicas: action.next.logReplicas, awaited: action.next.awaited, logReplica: true,
        },
      }), `createGroup on node ${action.node}`);
    }
    const result = await withTimeout(deps.control(leader.id, partition.group, { t: 'changeMembership', next: action.next }),
      `changeMembership at node ${leader.id}`) as { index?: number };
    if (result.index !== undefined) this.record(meta.name, partition.group, action.kind, action.node);
  }

  /** Whether `node`, awaited back by the group, has been away longer than replaceAfterMs. */
  private awayTooLong(group: number, node: number, awaited: number[]): boolean {
    const now = this.deps.nowMs?.() ?? performance.now();
    for (const key of this.awaitedSince.keys()) {
      const [g, n] = key.split('/').map(Number);
      if (g === group && !awaited.includes(n)) this.awaitedSince.delete(key);
    }
    if (this.deps.replaceAfterMs <= 0 || this.deps.isAlive(node)) {
      this.awaitedSince.delete(`${group}/${node}`);
      return false;
    }
    const key = `${group}/${node}`;
    const since = this.awaitedSince.get(key) ?? now;
    this.awaitedSince.set(key, since);
    return now - since >= this.deps.replaceAfterMs;
  }

  private record(table: string, group: number, kind: AutoAdminEvent['kind'], node: number): void {
    this.counters.changes++;
    this.events.push({ atMs: Date.now(), table, group, kind, node });
    if (this.events.length > MAX_EVENTS) this.events.shift();
  }
}
