/**
 * The control plane's durable metadata: tables, their partitions and where the replicas
 * live, in an LMDB environment of its own (`<dir>/control`, synced on every change: it
 * changes rarely and must never be lost). It publishes the partition map that routers read.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { HASH_SPACE, hashToHex } from '../model/hash.js';
import type { AttributeDefinition, KeySchemaElement, KeyShape } from '../model/types.js';
import type { PartitionInfo, PartitionMap, PartitionMapBoard } from '../router/partition-map.js';

export type TableStatus = 'CREATING' | 'ACTIVE' | 'DELETING';
export type BillingMode = 'PROVISIONED' | 'PAY_PER_REQUEST';

export interface TableTag { Key: string; Value: string }

/** A secondary index's projection, as CreateTable gives it. */
export interface IndexProjection {
  ProjectionType: 'ALL' | 'INCLUDE' | 'KEYS_ONLY';
  /** With INCLUDE only. */
  NonKeyAttributes?: string[];
}

/** A local secondary index as declared (CreateTable's LocalSecondaryIndexes, validated). */
export interface LocalIndexDefinition {
  IndexName: string;
  KeySchema: KeySchemaElement[];
  Projection: IndexProjection;
}

/** A global secondary index as declared; ProvisionedThroughput on PROVISIONED tables only. */
export interface GlobalIndexDefinition extends LocalIndexDefinition {
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
}

/** UpdateTimeToLive's setting. */
export interface TimeToLiveSetting {
  enabled: boolean;
  attributeName: string;
}

export interface TableMeta {
  name: string;
  tableId: number;
  /** DynamoDB's TableId: a UUID. */
  uuid: string;
  status: TableStatus;
  keySchema: KeySchemaElement[];
  attributeDefinitions: AttributeDefinition[];
  keyShape: KeyShape;
  billingMode: BillingMode;
  readCapacityUnits: number;
  writeCapacityUnits: number;
  createdAtMs: number;
  partitions: PartitionInfo[];
  // Fields added after the first release are optional: records written before them read
  // as their defaults (see the accessors below), so old data directories stay readable.
  /** Tags (CreateTable's Tags, TagResource), in key order. Default: none. */
  tags?: TableTag[];
  /** When the table last became PAY_PER_REQUEST by UpdateTable. Default: never (a table
   *  created PAY_PER_REQUEST reports its creation time). */
  lastUpdateToPayPerRequestMs?: number;
  /** Last provisioned-throughput increase / decrease (UpdateTable). Default: never. */
  lastIncreaseMs?: number;
  lastDecreaseMs?: number;
  /** Provisioned-throughput decreases made on the UTC day `decreasesDay` (YYYY-MM-DD). */
  decreasesDay?: string;
  decreasesOnDay?: number;
  /** Secondary indexes as declared. Default: none. */
  localIndexes?: LocalIndexDefinition[];
  globalIndexes?: GlobalIndexDefinition[];
  /** UpdateTimeToLive's setting. Default: disabled. */
  timeToLive?: TimeToLiveSetting;
}

export type NewTable = Pick<TableMeta, 'name' | 'keySchema' | 'attributeDefinitions' | 'keyShape' | 'billingMode' | 'readCapacityUnits' | 'writeCapacityUnits' | 'tags' | 'localIndexes' | 'globalIndexes'>;

/** The UTC day of `ms` as YYYY-MM-DD (DynamoDB counts throughput decreases per UTC day). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Throughput decreases a table has made on the UTC day of `nowMs`. */
export function decreasesToday(meta: TableMeta, nowMs: number): number {
  return meta.decreasesDay === utcDay(nowMs) ? meta.decreasesOnDay ?? 0 : 0;
}

/** A table's tags (none for a record written before tags existed). */
export function tableTags(meta: TableMeta): TableTag[] {
  return meta.tags ?? [];
}

/** What UpdateTable, TagResource and UntagResource may change in a table's record. */
export type TableChanges = Partial<Pick<TableMeta,
  'billingMode' | 'readCapacityUnits' | 'writeCapacityUnits' | 'tags' | 'lastUpdateToPayPerRequestMs'
  | 'lastIncreaseMs' | 'lastDecreaseMs' | 'decreasesDay' | 'decreasesOnDay' | 'globalIndexes' | 'timeToLive'
  | 'attributeDefinitions'>>;

interface Counters {
  nextTableId: number;
  nextGroup: number;
}

interface ClusterRecord {
  nodes: number;
}

/** Splits the 64-bit hash space into `count` contiguous, inclusive ranges. */
export function splitHashSpace(count: number): Array<{ hashStart: string; hashEnd: string }> {
  const ranges: Array<{ hashStart: string; hashEnd: string }> = [];
  for (let i = 0; i < count; i++) {
    const start = (HASH_SPACE * BigInt(i)) / BigInt(count);
    const end = (HASH_SPACE * BigInt(i + 1)) / BigInt(count) - 1n;
    ranges.push({ hashStart: hashToHex(start), hashEnd: hashToHex(end) });
  }
  return ranges;
}

/** Replicas of partition i go to nodes i, i+1, i+2 (mod nodes): three distinct nodes, with
 *  first leaders spread round-robin. */
export function placeReplicas(partitionIndex: number, nodes: number, tableId: number): number[] {
  const first = (partitionIndex + tableId) % nodes;
  return [first, (first + 1) % nodes, (first + 2) % nodes];
}

export class Metadata {
  private readonly env: RootDatabase;
  private readonly tablesDb: Database<TableMeta, string>;
  private readonly countersDb: Database<Counters, string>;
  private readonly clusterDb: Database<ClusterRecord, string>;

  constructor(dir: string, private readonly board: PartitionMapBoard) {
    this.env = open({ path: path.join(dir, 'control'), noSync: false });
    this.tablesDb = this.env.openDB<TableMeta, string>({ name: 'tables' });
    this.countersDb = this.env.openDB<Counters, string>({ name: 'counters' });
    this.clusterDb = this.env.openDB<ClusterRecord, string>({ name: 'cluster' });
  }

  /** Replicas were placed for a node count: a directory reopens with the same count. */
  checkNodeCount(nodes: number): void {
    const cluster = this.clusterDb.get('cluster');
    if (cluster === undefined) this.clusterDb.putSync('cluster', { nodes });
    else if (cluster.nodes !== nodes) {
      throw new RangeError(`options.nodes (${nodes}) differs from the ${cluster.nodes} nodes this directory was created with; open it with nodes: ${cluster.nodes}`);
    }
  }

  tables(): TableMeta[] {
    return [...this.tablesDb.getRange({})].map((entry) => entry.value).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  table(name: string): TableMeta | undefined {
    return this.tablesDb.get(name);
  }

  /** Allocates ids and placement for a new table and records it as CREATING. */
  addTable(spec: NewTable, partitionCount: number, nodes: number): TableMeta {
    const counters = this.countersDb.get('counters') ?? { nextTableId: 1, nextGroup: 1 };
    const tableId = counters.nextTableId;
    const partitions = splitHashSpace(partitionCount).map((range, i) => ({
      group: counters.nextGroup + i,
      ...range,
      replicas: placeReplicas(i, nodes, tableId),
    }));
    const meta: TableMeta = {
      ...spec,
      tableId,
      uuid: randomUUID(),
      status: 'CREATING',
      createdAtMs: Date.now(),
      partitions,
    };
    this.env.transactionSync(() => {
      this.countersDb.putSync('counters', { nextTableId: tableId + 1, nextGroup: counters.nextGroup + partitionCount });
      this.tablesDb.putSync(spec.name, meta);
    });
    return meta;
  }

  setStatus(name: string, status: TableStatus): TableMeta {
    const meta = this.tablesDb.get(name);
    if (meta === undefined) throw new Error(`no table ${name} in metadata`);
    const next = { ...meta, status };
    this.tablesDb.putSync(name, next);
    this.publish();
    return next;
  }

  /** Applies `changes` to an existing table's record, durably; returns the new record. */
  updateTable(name: string, changes: TableChanges): TableMeta {
    const meta = this.tablesDb.get(name);
    if (meta === undefined) throw new Error(`no table ${name} in metadata`);
    const next: TableMeta = { ...meta, ...changes };
    this.tablesDb.putSync(name, next);
    return next;
  }

  /** Records (durably) and publishes the log replicas of one partition. */
  setLogReplicas(name: string, group: number, logReplicas: number[]): TableMeta {
    const meta = this.tablesDb.get(name);
    if (meta === undefined) throw new Error(`no table ${name} in metadata`);
    const partitions = meta.partitions.map((p) => {
      if (p.group !== group) return p;
      const { logReplicas: _, ...rest } = p;
      return logReplicas.length > 0 ? { ...rest, logReplicas: [...logReplicas] } : rest;
    });
    const next = { ...meta, partitions };
    this.tablesDb.putSync(name, next);
    this.publish();
    return next;
  }

  removeTable(name: string): void {
    this.tablesDb.removeSync(name);
    this.publish();
  }

  /** Routers see ACTIVE tables only: CREATING ones are not ready, DELETING ones are gone. */
  publish(): void {
    const map: PartitionMap = { version: Date.now(), tables: {} };
    for (const meta of this.tables()) {
      if (meta.status !== 'ACTIVE') continue;
      map.tables[meta.name] = { name: meta.name, tableId: meta.tableId, keyShape: meta.keyShape, partitions: meta.partitions };
    }
    this.board.publish(map);
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}
