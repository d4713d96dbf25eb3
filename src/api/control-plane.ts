/** The control plane as the API's operations see it: durable metadata, the node threads,
 *  control requests to replicas, and the checks every cluster-level call makes. */
import { Metadata, type TableMeta } from '../control/metadata.js';
import { Supervisor } from '../control/supervisor.js';
import { DynamoDBError } from '../model/errors.js';
import { validateTableName } from '../model/validate.js';
import type { NodeRequestBody } from '../node/requests.js';
import { type PartitionInfo } from '../router/partition-map.js';
import { Router } from '../router/router.js';
import { ResolvedOptions } from './options.js';

export class ControlPlane {
  closed = false;

  constructor(
    readonly router: Router,
    readonly options: ResolvedOptions,
    readonly metadata: Metadata,
    readonly supervisor: Supervisor,
  ) {}

  /** Finishes what a crash interrupted (tables half created or half deleted), publishes
   *  the partition map, and waits until every partition has a serving leader. */
  async recover(): Promise<void> {
    for (const meta of this.metadata.tables()) {
      if (meta.status === 'CREATING') await this.createGroups(meta);
      if (meta.status === 'DELETING') await this.dropGroups(meta);
    }
    this.metadata.publish();
    await Promise.all(this.metadata.tables().flatMap((meta) => meta.partitions.map((p) => this.waitServing(p))));
  }

  control(node: number, group: number, body: NodeRequestBody): Promise<unknown> {
    return this.router.request({ mode: 'node', node, group }, body, true);
  }

  async createGroups(meta: TableMeta): Promise<void> {
    await Promise.all(meta.partitions.flatMap((partition) => partition.replicas.map((node) => this.control(node, partition.group, {
      t: 'createGroup',
      campaign: node === partition.replicas[0],
      rec: {
        group: partition.group, tableId: meta.tableId, tableName: meta.name, keyShape: meta.keyShape,
        hashStart: partition.hashStart, hashEnd: partition.hashEnd, voters: partition.replicas,
      },
    }))));
    await Promise.all(meta.partitions.map((p) => this.waitServing(p)));
    this.metadata.setStatus(meta.name, 'ACTIVE');
  }

  async dropGroups(meta: TableMeta): Promise<void> {
    await Promise.all(meta.partitions.flatMap((partition) => [...partition.replicas, ...(partition.logReplicas ?? [])]
      .map((node) => this.control(node, partition.group, { t: 'dropGroup' }))));
    this.metadata.removeTable(meta.name);
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
