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
import type { IndexKeySpec, IndexProjection, IndexSpec } from '../model/index-spec.js';
import type { GroupIndexes } from '../storage/indexes.js';
import type { PartitionInfo, PartitionMap, PartitionMapBoard, RouteIndex, TableRoute } from '../router/partition-map.js';

export type TableStatus = 'CREATING' | 'ACTIVE' | 'DELETING';
export type BillingMode = 'PROVISIONED' | 'PAY_PER_REQUEST';

export interface TableTag { Key: string; Value: string }

export type IndexStatus = 'CREATING' | 'UPDATING' | 'DELETING' | 'ACTIVE';

/** A local secondary index: declared at CreateTable, kept by the table's own partitions. */
export interface LocalIndexMeta {
  spec: IndexSpec;
  keySchema: KeySchemaElement[];
}

/** A global secondary index: a hidden table of its own (partitions, replication groups,
 *  capacity), filled from the base table's outbox (control/global-indexes.ts). */
export interface GlobalIndexMeta {
  spec: IndexSpec;
  keySchema: KeySchemaElement[];
  status: IndexStatus;
  /** Added to a table that had items: true until every base partition was scanned into it. */
  backfilling: boolean;
  /** Base partitions (groups) whose backfill scan is complete. */
  backfilled: number[];
  partitions: PartitionInfo[];
  readCapacityUnits: number;
  writeCapacityUnits: number;
  lastIncreaseMs?: number;
  lastDecreaseMs?: number;
  decreasesDay?: string;
  decreasesOnDay?: number;
}

/** An index of a new table, or one UpdateTable adds (ids and partitions come from addTable
 *  and addGlobalIndex). */
export interface NewIndex {
  name: string;
  keySchema: KeySchemaElement[];
  key: IndexKeySpec;
  projection: IndexProjection;
  readCapacityUnits?: number;
  writeCapacityUnits?: number;
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
  /** Secondary indexes. Default: none. */
  localIndexes?: LocalIndexMeta[];
  globalIndexes?: GlobalIndexMeta[];
  /** UpdateTimeToLive's setting. Default: disabled. */
  timeToLive?: TimeToLiveSetting;
  /** A table restored from a backup: where from, and whether its items are still being
   *  written (it stays CREATING until they all are; an open resumes an interrupted one). */
  restore?: RestoreRecord;
  /** Point-in-time recovery (UpdateContinuousBackups). Default: disabled. */
  pointInTimeRecovery?: PointInTimeRecoverySetting;
  /** Splits asked for and not yet in `partitions` (control/splits.ts): the parent group,
   *  the split point and the children's groups. An open finishes them. Default: none. */
  splitting?: Array<{ group: number; at: string; children: [number, number] }>;
  /** Split parents (their partition as it was, and the split entry's index) still hosted
   *  on some replica: dropped there once every replica applied the split. Default: none. */
  splitParents?: SplitParent[];
  /** The splits of the table's partitions, within DynamoDB's longest recovery window: what
   *  a point-in-time restore or a scrub needs to rebuild a child from its parent's archive
   *  (control/partition-lineage.ts). Default: none. */
  splitHistory?: SplitRecord[];
}

/** A split that completed: the parent's range, its split entry, when, and its children. */
export interface SplitRecord {
  group: number;
  hashStart: string;
  hashEnd: string;
  /** The split entry's index: the parent's log ends there, its children's continue after it. */
  index: number;
  /** When the new partition map was published (ms since the epoch): the parent applied no
   *  write after it, and neither child one before it. */
  atMs: number;
  /** [lower child's group, upper child's group]. */
  children: [number, number];
}

/** How long a split is remembered: DynamoDB's longest point-in-time recovery window (a
 *  scrub has archived a snapshot of each child long before). */
const SPLIT_HISTORY_MS = 35 * 86_400_000;

/** A split parent not yet dropped everywhere (control/splits.ts). */
export interface SplitParent extends PartitionInfo {
  /** The split entry's index: nothing after it applies. */
  splitIndex: number;
  /** Its outbox was propagated to the global indexes to the end (control/global-indexes.ts). */
  outboxDrained?: boolean;
}

export interface PointInTimeRecoverySetting {
  enabled: boolean;
  /** RecoveryPeriodInDays: how far back a restore may go (1 to 35). */
  recoveryPeriodDays: number;
  /** The earliest time a restore may ask for: when every partition's base snapshot in
   *  the archive was taken (ms since the epoch); later enablings move it. */
  earliestMs: number;
}

/** What DescribeTable's RestoreSummary says of a restored table. */
export interface RestoreRecord {
  /** Absent for a point-in-time restore. */
  sourceBackupArn?: string;
  /** A point-in-time restore: the items it writes, kept as an internal backup (resumed
   *  from at the next open if a close cuts it off, removed once written). */
  internalBackupId?: string;
  sourceTableArn: string;
  restoredAtMs: number;
  inProgress: boolean;
}

export type NewTable = Pick<TableMeta, 'name' | 'keySchema' | 'attributeDefinitions' | 'keyShape' | 'billingMode' | 'readCapacityUnits' | 'writeCapacityUnits' | 'tags' | 'restore'>
  & { localIndexes?: NewIndex[]; globalIndexes?: NewIndex[] };

/** The route name of a global index's own table: '/' never appears in a table name. */
export function globalIndexRouteName(table: string, index: string): string {
  return `${table}/index/${index}`;
}

/** What a table's partitions maintain: its local indexes, and the global indexes whose
 *  outbox records they write (every GSI not being deleted). */
export function groupIndexesOf(meta: TableMeta): GroupIndexes {
  return {
    local: (meta.localIndexes ?? []).map((l) => l.spec),
    global: (meta.globalIndexes ?? []).filter((g) => g.status !== 'DELETING').map((g) => g.spec),
  };
}

/** A key shape standing for an index key in a route (its first hash and range attribute). */
export function indexKeyShape(key: IndexKeySpec): KeyShape {
  const [h] = key.hash;
  const r = key.range[0];
  return { hashName: h.name, hashType: h.type, ...(r !== undefined ? { rangeName: r.name, rangeType: r.type } : {}) };
}

/** The UTC day of `ms` as YYYY-MM-DD (DynamoDB counts throughput decreases per UTC day). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Throughput decreases a table has made on the UTC day of `nowMs`. */
export function decreasesToday(meta: Pick<TableMeta, 'decreasesDay' | 'decreasesOnDay'>, nowMs: number): number {
  return meta.decreasesDay === utcDay(nowMs) ? meta.decreasesOnDay ?? 0 : 0;
}

/** A table's tags (none for a record written before tags existed). */
export function tableTags(meta: TableMeta): TableTag[] {
  return meta.tags ?? [];
}

/** What UpdateTable, TagResource and UntagResource may change in a table's record. */
export type TableChanges = Partial<Pick<TableMeta,
  'billingMode' | 'readCapacityUnits' | 'writeCapacityUnits' | 'tags' | 'lastUpdateToPayPerRequestMs' | 'attributeDefinitions'
  | 'lastIncreaseMs' | 'lastDecreaseMs' | 'decreasesDay' | 'decreasesOnDay' | 'timeToLive' | 'restore' | 'pointInTimeRecovery'>>;

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
  /** The last published map's version: strictly increasing (a clock reading alone can
   *  repeat within a millisecond or step back). */
  private mapVersion = 0;
  private readonly env: RootDatabase;
  private readonly tablesDb: Database<TableMeta, string>;
  private readonly countersDb: Database<Counters, string>;
  private readonly clusterDb: Database<ClusterRecord, string>;

  /** Called after every change to the tables' records (global admission control follows
   *  their capacities). */
  onChange: (() => void) | undefined;

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

  /** Allocates ids and placement for a new table (and its indexes: ids, and partitions
   *  for each global index) and records it as CREATING. */
  addTable(spec: NewTable, partitionCount: number, nodes: number): TableMeta {
    const counters = this.countersDb.get('counters') ?? { nextTableId: 1, nextGroup: 1 };
    const tableId = counters.nextTableId++;
    const partitions = this.allocatePartitions(counters, partitionCount, nodes, tableId);
    const { localIndexes, globalIndexes, ...table } = spec;
    const meta: TableMeta = {
      ...table,
      tableId,
      uuid: randomUUID(),
      status: 'CREATING',
      createdAtMs: Date.now(),
      partitions,
    };
    if (localIndexes !== undefined && localIndexes.length > 0) {
      meta.localIndexes = localIndexes.map((l) => ({ spec: { id: counters.nextTableId++, name: l.name, key: l.key, projection: l.projection }, keySchema: l.keySchema }));
    }
    if (globalIndexes !== undefined && globalIndexes.length > 0) {
      // Created with the table: empty, so nothing to backfill.
      meta.globalIndexes = globalIndexes.map((g) => this.newGlobalIndex(counters, g, partitionCount, nodes, false));
    }
    this.env.transactionSync(() => {
      this.countersDb.putSync('counters', counters);
      this.tablesDb.putSync(spec.name, meta);
    });
    return meta;
  }

  private allocatePartitions(counters: Counters, partitionCount: number, nodes: number, tableId: number): PartitionInfo[] {
    const partitions = splitHashSpace(partitionCount).map((range, i) => ({
      group: counters.nextGroup + i,
      ...range,
      replicas: placeReplicas(i, nodes, tableId),
    }));
    counters.nextGroup += partitionCount;
    return partitions;
  }

  private newGlobalIndex(counters: Counters, index: NewIndex, partitionCount: number, nodes: number, backfilling: boolean): GlobalIndexMeta {
    const id = counters.nextTableId++;
    return {
      spec: { id, name: index.name, key: index.key, projection: index.projection },
      keySchema: index.keySchema,
      status: 'CREATING',
      backfilling,
      backfilled: [],
      partitions: this.allocatePartitions(counters, partitionCount, nodes, id),
      readCapacityUnits: index.readCapacityUnits ?? 0,
      writeCapacityUnits: index.writeCapacityUnits ?? 0,
    };
  }

  /** Records a global index UpdateTable adds to a table (CREATING, backfilling). */
  addGlobalIndex(name: string, index: NewIndex, partitionCount: number, nodes: number): GlobalIndexMeta {
    const meta = this.tablesDb.get(name);
    if (meta === undefined) throw new Error(`no table ${name} in metadata`);
    const counters = this.countersDb.get('counters') ?? { nextTableId: 1, nextGroup: 1 };
    const gsi = this.newGlobalIndex(counters, index, partitionCount, nodes, true);
    this.env.transactionSync(() => {
      this.countersDb.putSync('counters', counters);
      this.tablesDb.putSync(name, { ...meta, globalIndexes: [...(meta.globalIndexes ?? []), gsi] });
    });
    return gsi;
  }

  /** Changes a global index's record durably (status, backfill progress, throughput). */
  updateGlobalIndex(name: string, index: string, changes: Partial<Omit<GlobalIndexMeta, 'spec' | 'keySchema' | 'partitions'>>): TableMeta {
    return this.change(name, (meta) => ({ ...meta, globalIndexes: (meta.globalIndexes ?? []).map((g) => (g.spec.name === index ? { ...g, ...changes } : g)) }));
  }

  removeGlobalIndex(name: string, index: string): TableMeta {
    return this.change(name, (meta) => ({ ...meta, globalIndexes: (meta.globalIndexes ?? []).filter((g) => g.spec.name !== index) }));
  }

  /** Replaces a table's record with `next(record)`, durably, and publishes the map. */
  private change(name: string, next: (meta: TableMeta) => TableMeta): TableMeta {
    const meta = this.tablesDb.get(name);
    if (meta === undefined) throw new Error(`no table ${name} in metadata`);
    const changed = next(meta);
    this.tablesDb.putSync(name, changed);
    this.publish();
    return changed;
  }

  setStatus(name: string, status: TableStatus): TableMeta {
    return this.change(name, (meta) => ({ ...meta, status }));
  }

  /** Applies `changes` to an existing table's record, durably; returns the new record. */
  updateTable(name: string, changes: TableChanges): TableMeta {
    const meta = this.tablesDb.get(name);
    if (meta === undefined) throw new Error(`no table ${name} in metadata`);
    const next: TableMeta = { ...meta, ...changes };
    this.tablesDb.putSync(name, next);
    this.onChange?.();
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

  /**
   * Records (durably) and publishes that `node`'s home place in a partition goes to `by`:
   * the control plane builds a full replica there, and drops the group on `node` once it
   * has left the membership (PartitionInfo.retired).
   */
  replaceHome(name: string, group: number, node: number, by: number): TableMeta {
    return this.changePartition(name, group, (p) => {
      if (!p.replicas.includes(node) || p.replicas.includes(by)) throw new Error(`partition ${group} of ${name}: cannot give ${node}'s place to ${by} (home ${p.replicas.join(',')})`);
      return { ...p, replicas: p.replicas.map((n) => (n === node ? by : n)), retired: [...new Set([...(p.retired ?? []), node])] };
    });
  }

  /** `node` no longer hosts the group (it was dropped there). */
  clearRetired(name: string, group: number, node: number): TableMeta {
    return this.changePartition(name, group, (p) => {
      const { retired, ...rest } = p;
      const left = (retired ?? []).filter((n) => n !== node);
      return left.length > 0 ? { ...rest, retired: left } : rest;
    });
  }

  private changePartition(name: string, group: number, change: (p: PartitionInfo) => PartitionInfo): TableMeta {
    const meta = this.tablesDb.get(name);
    if (meta === undefined) throw new Error(`no table ${name} in metadata`);
    const next = { ...meta, partitions: meta.partitions.map((p) => (p.group === group ? change(p) : p)) };
    this.tablesDb.putSync(name, next);
    this.publish();
    return next;
  }

  /** Records (durably) a split about to be proposed, with two new group ids for its
   *  children; the same split asked again gets the ids it was given. */
  beginSplit(name: string, group: number, at: string): { group: number; at: string; children: [number, number] } {
    const meta = this.tablesDb.get(name);
    if (meta === undefined) throw new Error(`no table ${name} in metadata`);
    const pending = (meta.splitting ?? []).find((s) => s.group === group);
    if (pending !== undefined) return pending;
    const counters = this.countersDb.get('counters') ?? { nextTableId: 1, nextGroup: 1 };
    const split = { group, at, children: [counters.nextGroup, counters.nextGroup + 1] as [number, number] };
    counters.nextGroup += 2;
    this.env.transactionSync(() => {
      this.countersDb.putSync('counters', counters);
      this.tablesDb.putSync(name, { ...meta, splitting: [...(meta.splitting ?? []), split] });
    });
    return split;
  }

  /** The split committed: the parent's partition is replaced by its two children (same
   *  replicas), remembered among the parents to drop and in the split history (as of
   *  `atMs`, now), and the new map published. */
  finishSplit(name: string, group: number, done: { index: number; at: string; children: [number, number] }, atMs: number): TableMeta {
    const meta = this.tablesDb.get(name);
    if (meta === undefined) throw new Error(`no table ${name} in metadata`);
    const splitting = (meta.splitting ?? []).filter((s) => s.group !== group);
    const parent = meta.partitions.find((p) => p.group === group);
    let next: TableMeta = { ...meta, splitting };
    if (parent !== undefined) {
      const at = BigInt(`0x${done.at}`);
      const { retired: _retired, ...home } = parent;
      const lower: PartitionInfo = { ...home, group: done.children[0], hashEnd: hashToHex(at - 1n) };
      const upper: PartitionInfo = { ...home, group: done.children[1], hashStart: done.at };
      next = {
        ...next,
        partitions: meta.partitions.flatMap((p) => (p.group === group ? [lower, upper] : [p])),
        splitParents: [...(meta.splitParents ?? []), { ...parent, splitIndex: done.index }],
        splitHistory: [
          ...(meta.splitHistory ?? []).filter((r) => r.atMs > atMs - SPLIT_HISTORY_MS),
          { group, hashStart: parent.hashStart, hashEnd: parent.hashEnd, index: done.index, atMs, children: done.children },
        ],
      };
    }
    if (next.splitting?.length === 0) delete next.splitting;
    this.tablesDb.putSync(name, next);
    this.publish();
    return next;
  }

  /** The split parent's outbox is propagated to its table's global indexes to the end. */
  splitParentDrained(name: string, group: number): void {
    const meta = this.tablesDb.get(name);
    if (meta === undefined) return;
    this.tablesDb.putSync(name, { ...meta, splitParents: (meta.splitParents ?? []).map((p) => (p.group === group ? { ...p, outboxDrained: true } : p)) });
  }

  /** A split parent is gone from every node that hosted it. */
  forgetSplitParent(name: string, group: number): void {
    const meta = this.tablesDb.get(name);
    if (meta === undefined) return;
    const left = (meta.splitParents ?? []).filter((p) => p.group !== group);
    const next: TableMeta = { ...meta, splitParents: left };
    if (left.length === 0) delete next.splitParents;
    this.tablesDb.putSync(name, next);
  }

  removeTable(name: string): void {
    this.tablesDb.removeSync(name);
    this.publish();
  }

  /** Routers see ACTIVE tables only: CREATING ones are not ready, DELETING ones are gone. */
  publish(): void {
    this.mapVersion = Math.max(this.mapVersion + 1, Date.now());
    const map: PartitionMap = { version: this.mapVersion, tables: {} };
    for (const meta of this.tables()) {
      if (meta.status !== 'ACTIVE') continue;
      const route: TableRoute = { name: meta.name, tableId: meta.tableId, keyShape: meta.keyShape, partitions: meta.partitions };
      const indexes: RouteIndex[] = [
        ...(meta.localIndexes ?? []).map((l) => ({ name: l.spec.name, global: false, spec: l.spec, status: 'ACTIVE' as const })),
        ...(meta.globalIndexes ?? []).map((g) => ({ name: g.spec.name, global: true, spec: g.spec, status: g.status, backfilling: g.backfilling })),
      ];
      if (indexes.length > 0) route.indexes = indexes;
      map.tables[meta.name] = route;
      for (const g of meta.globalIndexes ?? []) {
        const hidden = globalIndexRouteName(meta.name, g.spec.name);
        map.tables[hidden] = { name: hidden, tableId: g.spec.id, keyShape: indexKeyShape(g.spec.key), partitions: g.partitions };
      }
    }
    this.board.publish(map);
    this.onChange?.();
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}
