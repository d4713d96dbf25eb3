/** The control plane as the API's operations see it: durable metadata, the node threads,
 *  control requests to replicas, and the checks every cluster-level call makes. */
import { performance } from 'node:perf_hooks';
import { GlobalIndexes } from '../control/global-indexes.js';
import { Metadata, groupIndexesOf, type TableMeta } from '../control/metadata.js';
import { hasIndexes } from '../storage/indexes.js';
import type { GroupRecord } from '../storage/wal.js';
import { Supervisor } from '../control/supervisor.js';
import { DynamoDBError } from '../model/errors.js';
import { validateTableName } from '../model/validate.js';
import type { NodeRequestBody } from '../node/requests.js';
import { type PartitionInfo } from '../router/partition-map.js';
import { Router } from '../router/router.js';
import { ResolvedOptions } from './options.js';

export class ControlPlane {
  closed = false;
  /** Global secondary indexes: propagation from the outboxes, backfills, lag. */
  readonly globalIndexes: GlobalIndexes;
  /** Index additions and deletions running in the background (UpdateTable answers first). */
  private readonly indexJobs = new Set<Promise<void>>();

  constructor(
    readonly router: Router,
    readonly options: ResolvedOptions,
    readonly metadata: Metadata,
    readonly supervisor: Supervisor,
  ) {
    this.globalIndexes = new GlobalIndexes({
      metadata,
      request: (target, body, idempotent) => router.request(target, body, idempotent),
      createGroups: (partitions, rec) => this.createPartitionGroups(partitions, rec),
      dropGroups: (partitions) => this.dropPartitionGroups(partitions),
      clock: () => performance.timeOrigin + performance.now(),
    });
  }

  /** Finishes what a crash interrupted (tables half created or half deleted, global
   *  indexes half added or half deleted), publishes the partition map, and waits until
   *  every partition has a serving leader. */
  async recover(): Promise<void> {
    for (const meta of this.metadata.tables()) {
      if (meta.status === 'CREATING') await this.createGroups(meta);
      if (meta.status === 'DELETING') await this.dropGroups(meta);
    }
    this.metadata.publish();
    await Promise.all(this.metadata.tables().flatMap((meta) => [
      ...meta.partitions,
      ...(meta.globalIndexes ?? []).filter((g) => g.status !== 'CREATING').flatMap((g) => g.partitions),
    ].map((p) => this.waitServing(p))));
    this.globalIndexes.start();
    for (const meta of this.metadata.tables()) {
      for (const g of meta.globalIndexes ?? []) {
        if (g.status === 'CREATING') this.inBackground(this.globalIndexes.addIndex(meta.name, g.spec.name));
        if (g.status === 'DELETING') this.inBackground(this.globalIndexes.deleteIndex(meta.name, g.spec.name));
      }
    }
  }

  /** Runs an index job after the request that asked for it was answered; a job a
   *  close interrupted is finished by the next open's recover. */
  inBackground(job: Promise<void>): void {
    const tracked = job.catch((error: unknown) => {
      if (!this.closed) process.emitWarning(`shardbox: a global index job failed: ${(error as Error).message}`, 'ShardBoxIndex');
    }).finally(() => this.indexJobs.delete(tracked));
    this.indexJobs.add(tracked);
  }

  /** Stops the index propagator (before the router closes). */
  async stopIndexes(): Promise<void> {
    await this.globalIndexes.stop();
  }

  control(node: number, group: number, body: NodeRequestBody): Promise<unknown> {
    return this.router.request({ mode: 'node', node, group }, body, true);
  }

  /** Creates a new table's groups (and those of the global indexes it was created with),
   *  and marks it ACTIVE once every one serves. */
  async createGroups(meta: TableMeta): Promise<void> {
    const indexes = groupIndexesOf(meta);
    await this.createPartitionGroups(meta.partitions, (partition) => ({
      group: partition.group, tableId: meta.tableId, tableName: meta.name, keyShape: meta.keyShape,
      hashStart: partition.hashStart, hashEnd: partition.hashEnd, voters: partition.replicas,
      ...(hasIndexes(indexes) ? { indexes } : {}),
    }));
    for (const index of meta.globalIndexes ?? []) {
      await this.createPartitionGroups(index.partitions, (p) => GlobalIndexes.indexGroupRecord(meta, index, p));
      this.metadata.updateGlobalIndex(meta.name, index.spec.name, { status: 'ACTIVE' });
    }
    this.metadata.setStatus(meta.name, 'ACTIVE');
  }

  async createPartitionGroups(partitions: PartitionInfo[], rec: (partition: PartitionInfo) => GroupRecord): Promise<void> {
    await Promise.all(partitions.flatMap((partition) => partition.replicas.map((node) => this.control(node, partition.group, {
      t: 'createGroup',
      campaign: node === partition.replicas[0],
      rec: rec(partition),
    }))));
    await Promise.all(partitions.map((p) => this.waitServing(p)));
  }

  async dropGroups(meta: TableMeta): Promise<void> {
    await this.dropPartitionGroups([...meta.partitions, ...(meta.globalIndexes ?? []).flatMap((g) => g.partitions)]);
    this.metadata.removeTable(meta.name);
  }

  async dropPartitionGroups(partitions: PartitionInfo[]): Promise<void> {
    await Promise.all(partitions.flatMap((partition) => [...partition.replicas, ...(partition.logReplicas ?? [])]
      .map((node) => this.control(node, partition.group, { t: 'dropGroup' }))));
  }

  /** Resolves once the partition's leader serves (elected, old lease out, no-op applied). */
  async waitServing(partition: PartitionInfo): Promise<void> {
    await this.router.request({ mode: 'leader', group: partition.group, replicas: partition.replicas }, { t: 'serving' }, true);
  }

  meta(name: unknown): TableMeta {
    validateTableName(name);
    const meta = this.metadata.table(name);
    if (meta === undefined || meta.status === 'DELETING') {
      throw new DynamoDBError('ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`);
    }
    return meta;
  }

  /** Asks every live replica of every partition of a table; undefined for a dead node. */
  async askReplicas<T>(tableName: string, body: NodeRequestBody): Promise<Array<{ partition: PartitionInfo; replicas: Array<T | undefined> }>> {
    const meta = this.meta(tableName);
    return Promise.all(meta.partitions.map(async (partition) => ({
      partition,
      replicas: await Promise.all(partition.replicas.map((node) => this.supervisor.isAlive(node)
        ? (this.control(node, partition.group, body) as Promise<T>)
        : Promise.resolve(undefined))),
    })));
  }

  isNodeAlive(node: number): boolean {
    return this.supervisor.isAlive(node);
  }

  checkNode(node: number, what = 'node'): void {
    if (!Number.isInteger(node) || node < 0 || node >= this.options.nodes) {
      throw new RangeError(`${what} must be an integer from 0 to ${this.options.nodes - 1} (got ${node})`);
    }
  }

  checkOpen(): void {
    if (this.closed) throw new DynamoDBError('ServiceUnavailable', 'The database is closed.');
  }
}
