/**
 * The control plane's side of a partition split (the mechanism is node/split.ts): it
 * allocates the children's groups, has the parent's leader propose the split entry,
 * publishes the new partition map once that entry applied (the parent replaced by its two
 * children: routers with the old map get `wrongPartition` and refresh), and then drops
 * the parent on every node: where the split applied, once it did everywhere it can (a
 * lagging replica catches up from the parent's log until then); where it cannot (a
 * replica that stayed behind), the parent is dropped and the children are created empty,
 * so that their leaders bring them up by snapshot. A parent snapshot is never sent after
 * the split: it would not be consistent with the children's later writes.
 */
import { DynamoDBError, validationError } from '../model/errors.js';
import { middleOf, splitPointProblem, type SplitDone } from '../node/split.js';
import type { NodeRequestBody } from '../node/requests.js';
import type { ReplicaStatus } from '../replication/types.js';
import type { PartitionInfo } from '../router/partition-map.js';
import type { Target } from '../router/router-core.js';
import type { GroupRecord } from '../storage/wal.js';
import type { Metadata, TableMeta } from './metadata.js';

export interface SplitDeps {
  metadata: Metadata;
  request: (target: Target, body: NodeRequestBody, idempotent: boolean) => Promise<unknown>;
  control: (node: number, group: number, body: NodeRequestBody) => Promise<unknown>;
  isAlive: (node: number) => boolean;
  /** Resolves once the partition's leader serves. */
  waitServing: (partition: PartitionInfo) => Promise<void>;
  closed: () => boolean;
  /** Resolves once the parent's outbox reached its table's global indexes to the end
   *  (GlobalIndexes.whenSplitParentDrained): its records are lost with it otherwise. */
  outboxDrained: (tableName: string, group: number) => Promise<void>;
}

/** How long the parent waits for a replica to apply the split before that replica's
 *  children are built by snapshot instead. */
export const SPLIT_CATCH_UP_MS = 10_000;
const POLL_MS = 50;

export interface SplitResult {
  parent: number;
  children: [number, number];
  /** The first hash of the upper child. */
  at: string;
}

/**
 * Splits partition `group` of table `tableName` at hash `atHex` (16 hex digits: the first
 * hash of the upper child; default the middle of its range). Resolves once the new map is
 * published and both children serve; the parent is dropped in the background (`drops`).
 */
export async function splitPartition(deps: SplitDeps, tableName: string, group: number, atHex?: string): Promise<SplitResult & { drop: Promise<void> }> {
  const meta = deps.metadata.table(tableName);
  if (meta === undefined || meta.status !== 'ACTIVE') {
    throw new DynamoDBError('ResourceNotFoundException', `Requested resource not found: Table: ${tableName} not found`);
  }
  const partition = meta.partitions.find((p) => p.group === group);
  const pending = (meta.splitting ?? []).find((s) => s.group === group);
  if (partition === undefined) throw validationError(`Table ${tableName} has no partition group ${group}`);
  // A backfill scans the table's partitions by group: it would not follow a split.
  const busy = (meta.globalIndexes ?? []).find((g) => g.status !== 'ACTIVE' || g.backfilling);
  if (busy !== undefined && pending === undefined) throw validationError(`Cannot split a partition of ${tableName} while its global index ${busy.spec.name} is ${busy.status === 'ACTIVE' ? 'backfilling' : busy.status}; retry when it is ACTIVE`);
  const at = pending?.at ?? (atHex ?? middleOf(partition.hashStart, partition.hashEnd)).toLowerCase().padStart(16, '0');
  const problem = splitPointProblem(partition, at);
  if (problem !== undefined) throw validationError(`Cannot split partition group ${group}: ${problem}`);
  const split = deps.metadata.beginSplit(tableName, group, at);
  return finishSplit(deps, tableName, partition, split);
}

/** Proposes (again: it is idempotent) a recorded split and completes it. */
async function finishSplit(deps: SplitDeps, tableName: string, partition: PartitionInfo, split: { at: string; children: [number, number] }): Promise<SplitResult & { drop: Promise<void> }> {
  const target: Target = { mode: 'leader', group: partition.group, replicas: partition.replicas };
  let done: SplitDone | undefined;
  // The first answer may be the apply of our entry (no body); asking again answers `split`.
  while (done === undefined) {
    const reply = await deps.request(target, { t: 'split', at: split.at, children: split.children }, true) as { split?: SplitDone } | undefined;
    done = reply?.split;
  }
  const meta = deps.metadata.finishSplit(tableName, partition.group, done, Date.now());
  const children = meta.partitions.filter((p) => p.group === done!.children[0] || p.group === done!.children[1]);
  await Promise.all(children.map((p) => deps.waitServing(p)));
  const parent = (meta.splitParents ?? []).find((p) => p.group === partition.group);
  const drop = parent === undefined ? Promise.resolve() : dropSplitParent(deps, tableName, parent, done);
  return { parent: partition.group, children: done.children, at: done.at, drop };
}

/** Finishes what a close or crash interrupted: recorded splits, parents not yet dropped.
 *  The drops run in the background (returned). */
export async function resumeSplits(deps: SplitDeps, meta: TableMeta): Promise<Array<Promise<void>>> {
  const drops: Array<Promise<void>> = [];
  for (const split of meta.splitting ?? []) {
    const partition = meta.partitions.find((p) => p.group === split.group);
    if (partition !== undefined) drops.push((await finishSplit(deps, meta.name, partition, split)).drop);
  }
  const now = deps.metadata.table(meta.name);
  for (const parent of now?.splitParents ?? []) {
    const children = splitChildrenOf(now!, parent);
    drops.push(dropSplitParent(deps, meta.name, parent, { index: parent.splitIndex, term: 0, at: children[1].hashStart, children: [children[0].group, children[1].group] }));
  }
  return drops;
}

/** The two partitions that took `parent`'s range (by range: they may have split since). */
function splitChildrenOf(meta: TableMeta, parent: PartitionInfo): [PartitionInfo, PartitionInfo] {
  const lower = meta.partitions.find((p) => p.hashStart === parent.hashStart)!;
  const upper = meta.partitions.find((p) => p.hashEnd === parent.hashEnd)!;
  return [lower, upper];
}

/**
 * Drops the split parent on every node that hosts it. A replica that applied the split
 * is dropped once every live replica did (until then a lagging one still catches up from
 * the parent's log); one that has not within SPLIT_CATCH_UP_MS gets the children empty
 * instead, to be filled by snapshots. Dead nodes are retried until they are back (or the
 * next open).
 */
async function dropSplitParent(deps: SplitDeps, tableName: string, parent: PartitionInfo & { splitIndex: number }, done: SplitDone): Promise<void> {
  await deps.outboxDrained(tableName, parent.group);
  const nodes = [...new Set([...parent.replicas, ...(parent.logReplicas ?? []), ...(parent.retired ?? [])])];
  const startedAt = Date.now();
  const applied = new Set<number>();
  const gone = new Set<number>();
  while (gone.size < nodes.length && !deps.closed()) {
    for (const node of nodes) {
      if (gone.has(node) || applied.has(node) || !deps.isAlive(node)) continue;
      const status = await deps.control(node, parent.group, { t: 'status' }).catch(() => undefined) as ReplicaStatus | undefined;
      if (status === undefined || status.applied >= parent.splitIndex || status.logReplica) applied.add(node);
    }
    const waiting = nodes.filter((n) => !gone.has(n) && !applied.has(n));
    const late = Date.now() - startedAt > SPLIT_CATCH_UP_MS;
    if (waiting.length === 0 || late) {
      for (const node of nodes) {
        if (gone.has(node) || !deps.isAlive(node)) continue;
        if (!applied.has(node)) {
          // Behind the split for too long: its parent replica goes, the children come empty.
          const built = await buildChildrenEmpty(deps, tableName, parent, done, node).catch(() => false);
          if (!built) continue;
          gone.add(node);
          continue;
        }
        const reply = await deps.control(node, parent.group, { t: 'dropGroup' }).catch(() => undefined) as { dropped?: boolean } | undefined;
        if (reply?.dropped === true) gone.add(node);
      }
    }
    if (gone.size < nodes.length) await new Promise((resolve) => setTimeout(resolve, POLL_MS * (late ? 10 : 1)));
  }
  if (gone.size === nodes.length) deps.metadata.forgetSplitParent(tableName, parent.group);
}

/** A replica that never applied the split: drop its parent, create both children empty
 *  (each child's leader sends it a snapshot). */
async function buildChildrenEmpty(deps: SplitDeps, tableName: string, parent: PartitionInfo, done: SplitDone, node: number): Promise<boolean> {
  const meta = deps.metadata.table(tableName);
  if (meta === undefined) return true;
  const status = await deps.control(node, parent.group, { t: 'status' }).catch(() => undefined) as ReplicaStatus | undefined;
  if (status !== undefined && status.applied >= done.index) return false; // applied meanwhile: dropped the usual way
  for (const childGroup of done.children) {
    const child = meta.partitions.find((p) => p.group === childGroup);
    if (child === undefined) continue;
    const rec = await deps.request({ mode: 'leader', group: child.group, replicas: child.replicas }, { t: 'groupRecord' }, true) as GroupRecord | undefined;
    if (rec === undefined) return false;
    const { splitFrom: _from, split: _split, logReplica: _lr, ...base } = rec;
    const logReplica = (rec.logReplicas ?? []).includes(node);
    // Not while the node still hosts the parent (it would split it itself on catching up).
    const dropped = await deps.control(node, parent.group, { t: 'dropGroup' }) as { dropped?: boolean } | undefined;
    if (dropped?.dropped !== true) return false;
    await deps.control(node, child.group, { t: 'createGroup', rec: { ...base, ...(logReplica ? { logReplica } : {}) }, campaign: false });
  }
  return true;
}
