/** The control plane as the API's operations see it: durable metadata, the node threads,
 *  control requests to replicas, and the checks every cluster-level call makes. */
import { performance } from 'node:perf_hooks';
import { GlobalIndexes } from '../control/global-indexes.js';
import { Metadata, groupIndexesOf, type TableMeta } from '../control/metadata.js';
import { hasIndexes, ITEM_COLLECTION_LIMIT_BYTES } from '../storage/indexes.js';
import type { GroupRecord } from '../storage/wal.js';
import { Supervisor } from '../control/supervisor.js';
import { resumeSplits, splitPartition, type SplitDeps, type SplitResult } from '../control/splits.js';
import { DynamoDBError } from '../model/errors.js';
import { validateTableName } from '../model/validate.js';
import type { DigestReply, ExportReply, NodeRequestBody } from '../node/requests.js';
import { checkedRowCount, packRows, type PackedSnapshotPiece } from '../storage/snapshot.js';
import { type PartitionInfo } from '../router/partition-map.js';
import { Router } from '../router/router.js';
import { ResolvedOptions } from './options.js';

/** A table's item count and size as last counted, and when. */
export interface TableStats { items: number; bytes: number; countedAtMs: number }

/** How long a table's counted ItemCount and TableSizeBytes are served before DescribeTable
 *  counts again (DynamoDB refreshes them about every six hours; counting is a pass over
 *  the table's items, so it is not done for every poll of a waiter). */
export const TABLE_STATS_REFRESH_MS = 1000;

/** Bytes of rows per export piece (each is one read on the node's thread). */
const EXPORT_PIECE_BYTES = 64 * 1024;

export interface ExportOptions {
  maxBytes?: number;
  /** Read from this replica instead of the leader (scrub). */
  node?: number;
  /** Hand damaged rows out with an empty value instead of failing (scrub). */
  keepDamaged?: boolean;
}

/**
 * Keeps every export together under `bytesPerSec`: each piece read is paid for in turn, so
 * a backup's or scrub's partitions read at once share the pace instead of each having it
 * (four partitions read four times as fast, and took a core from foreground requests).
 * Idle time earns no credit: a job starting after a quiet spell is paced from its start.
 */
class SharedPace {
  /** When the bytes spent so far are paid for (performance.now() ms). */
  private paidAtMs = 0;

  constructor(private readonly bytesPerSec: number) {}

  async spent(bytes: number): Promise<void> {
    const nowMs = performance.now();
    this.paidAtMs = Math.max(this.paidAtMs, nowMs) + (bytes / this.bytesPerSec) * 1000;
    const dueMs = this.paidAtMs - nowMs;
    if (dueMs > 1) await new Promise((resolve) => setTimeout(resolve, dueMs));
  }
}

export class ControlPlane {
  closed = false;
  /** Global secondary indexes: propagation from the outboxes, backfills, lag. */
  readonly globalIndexes: GlobalIndexes;
  /** Index additions and deletions running in the background (UpdateTable answers first). */
  private readonly indexJobs = new Set<Promise<void>>();
  /** Pending status changes (CREATING → ACTIVE, DELETING → gone, UPDATING → ACTIVE). */
  private readonly statusTimers = new Set<NodeJS.Timeout>();
  /** Tables with an UpdateTable still being applied: the change, applied when it completes. */
  readonly updating = new Map<string, () => void>();
  private readonly stats = new Map<string, TableStats>();
  /** What every export (backups, scrubs, archived snapshots) reads out of the nodes. */
  private readonly exportPace: SharedPace;

  constructor(
    readonly router: Router,
    readonly options: ResolvedOptions,
    readonly metadata: Metadata,
    readonly supervisor: Supervisor,
  ) {
    this.exportPace = new SharedPace(options.snapshotBytesPerSec);
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
      // A table being restored stays CREATING: its items are written again (backups.ts).
      if (meta.status === 'CREATING') await this.createGroups(meta, meta.restore?.inProgress !== true);
      if (meta.status === 'DELETING') await this.dropGroups(meta);
    }
    this.metadata.publish();
    await Promise.all(this.metadata.tables().flatMap((meta) => [
      ...meta.partitions,
      ...(meta.globalIndexes ?? []).filter((g) => g.status !== 'CREATING').flatMap((g) => g.partitions),
    ].map((p) => this.waitServing(p))));
    for (const meta of this.metadata.tables()) {
      if (meta.status !== 'ACTIVE' || (meta.splitting === undefined && meta.splitParents === undefined)) continue;
      for (const drop of await resumeSplits(this.splitDeps(), meta)) this.trackSplitDrop(drop);
    }
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

  /** Splits a partition of a table (control/splits.ts); resolves once the new map is
   *  published and both children serve. The parent is dropped in the background. */
  async splitPartition(tableName: string, group: number, atHex?: string): Promise<SplitResult> {
    this.checkOpen();
    const { drop, ...result } = await splitPartition(this.splitDeps(), tableName, group, atHex);
    this.trackSplitDrop(drop);
    return result;
  }

  /** Split parents being dropped (close waits for none: an open resumes them). */
  readonly splitDrops = new Set<Promise<void>>();

  private trackSplitDrop(drop: Promise<void>): void {
    const tracked = drop.catch((error: unknown) => {
      if (!this.closed) process.emitWarning(`shardbox: dropping a split partition failed: ${(error as Error).message}`, 'ShardBoxSplit');
    }).finally(() => this.splitDrops.delete(tracked));
    this.splitDrops.add(tracked);
  }

  private splitDeps(): SplitDeps {
    return {
      metadata: this.metadata,
      request: (target, body, idempotent) => this.router.request(target, body, idempotent),
      control: (node, group, body) => this.control(node, group, body),
      isAlive: (node) => this.supervisor.isAlive(node),
      waitServing: (partition) => this.waitServing(partition),
      closed: () => this.closed,
      outboxDrained: (tableName, group) => this.globalIndexes.whenSplitParentDrained(tableName, group),
    };
  }

  control(node: number, group: number, body: NodeRequestBody): Promise<unknown> {
    return this.router.request({ mode: 'node', node, group }, body, true);
  }

  /** Creates a new table's groups (and those of the global indexes it was created with),
   *  and marks it ACTIVE once every one serves (unless `activate` is false: the caller
   *  does, after options.tableStatusDelayMs). */
  async createGroups(meta: TableMeta, activate = true): Promise<void> {
    const indexes = groupIndexesOf(meta);
    await this.createPartitionGroups(meta.partitions, (partition) => ({
      group: partition.group, tableId: meta.tableId, tableName: meta.name, keyShape: meta.keyShape,
      hashStart: partition.hashStart, hashEnd: partition.hashEnd, voters: partition.replicas,
      ...(hasIndexes(indexes) ? { indexes } : {}),
      ...(indexes.local.length > 0 && this.options.itemCollectionLimitBytes !== ITEM_COLLECTION_LIMIT_BYTES
        ? { itemCollectionLimitBytes: this.options.itemCollectionLimitBytes } : {}),
    }));
    for (const index of meta.globalIndexes ?? []) {
      await this.createPartitionGroups(index.partitions, (p) => GlobalIndexes.indexGroupRecord(meta, index, p));
      this.metadata.updateGlobalIndex(meta.name, index.spec.name, { status: 'ACTIVE' });
    }
    if (activate) this.metadata.setStatus(meta.name, 'ACTIVE');
  }

  /** Runs `change` after options.tableStatusDelayMs (at once when 0); see
   *  settleStatusChanges for what close() does with one still pending. */
  afterStatusDelay(change: () => void | Promise<void>): Promise<void> | undefined {
    const delayMs = this.options.tableStatusDelayMs;
    if (delayMs === 0) return Promise.resolve(change());
    const timer = setTimeout(() => {
      this.statusTimers.delete(timer);
      if (this.closed) return;
      Promise.resolve(change()).catch((error: unknown) => {
        if (!this.closed) process.stderr.write(`shardbox: a table status change failed: ${String(error)}\n`);
      });
    }, delayMs);
    this.statusTimers.add(timer);
    return undefined;
  }

  /** At close: table updates already answered are recorded now (a CREATING or DELETING
   *  table is finished by recover() at the next open). */
  settleStatusChanges(): void {
    for (const timer of this.statusTimers) clearTimeout(timer);
    this.statusTimers.clear();
    for (const apply of [...this.updating.values()]) apply();
    this.updating.clear();
  }

  /** ItemCount and TableSizeBytes of an ACTIVE table: counted by each partition's leader
   *  at most every TABLE_STATS_REFRESH_MS. */
  async tableStats(meta: TableMeta): Promise<TableStats> {
    const cached = this.stats.get(meta.name);
    const now = Date.now();
    if (cached !== undefined && now - cached.countedAtMs < TABLE_STATS_REFRESH_MS) return cached;
    const replies = await Promise.all(meta.partitions.map((p) => this.router.request(
      { mode: 'leader', group: p.group, replicas: p.replicas }, { t: 'digest' }, true) as Promise<DigestReply>));
    const counted: TableStats = {
      items: replies.reduce((n, r) => n + r.items, 0),
      bytes: replies.reduce((n, r) => n + (r.bytes ?? 0), 0),
      countedAtMs: now,
    };
    this.stats.set(meta.name, counted);
    return counted;
  }

  /** The last counted stats (none for a table not counted yet or created anew). */
  cachedStats(name: string): TableStats | undefined {
    return this.stats.get(name);
  }

  forgetStats(name: string): void {
    this.stats.delete(name);
  }

  async createPartitionGroups(partitions: PartitionInfo[], rec: (partition: PartitionInfo) => GroupRecord): Promise<void> {
    await Promise.all(partitions.flatMap((partition) => partition.replicas.map((node) => this.control(node, partition.group, {
      t: 'createGroup',
      campaign: node === partition.replicas[0],
      rec: rec(partition),
    }))));
    await Promise.all(partitions.map((p) => this.waitServing(p)));
  }

  /**
   * A consistent snapshot of one partition's data (every row its group owns, as of one
   * applied index), read from its leader a piece at a time, each piece's rows still packed
   * with their CRC32C, checked before it is handed out. A session lost midway (the node
   * restarted) starts over. Backups and scrub open the pieces on the background thread;
   * archived snapshots store them as they are.
   */
  async *exportPieces(partition: PartitionInfo, options: ExportOptions = {}): AsyncGenerator<PackedSnapshotPiece> {
    // Small pieces, paced as snapshot transfers are: each piece is read on the node's
    // thread between its rounds, so a backup or a scrub takes longer, not requests.
    const maxBytes = options.maxBytes ?? EXPORT_PIECE_BYTES;
    const pace = this.exportPace;
    const keepDamaged = options.keepDamaged === true ? { keepDamaged: true } : {};
    for (let attempt = 0; ; attempt++) {
      // From the leader, or (scrub) from one given replica, damaged rows included.
      const open: NodeRequestBody = { t: 'exportSnapshot', maxBytes, ...keepDamaged };
      const first = await (options.node !== undefined
        ? this.control(options.node, partition.group, open)
        : this.router.request({ mode: 'leader', group: partition.group, replicas: partition.replicas }, open, true)) as ExportReply;
      const rec = first.rec!;
      let piece = first;
      let started = false;
      try {
        for (;;) {
          if (checkedRowCount(piece.payload, piece.crc) > 0) {
            started = true;
            yield { index: piece.index, term: piece.term, rec, payload: piece.payload, crc: piece.crc };
          }
          if (piece.done) {
            if (!started) yield { index: piece.index, term: piece.term, rec, ...packRows([]) };
            return;
          }
          await pace.spent(piece.payload.length);
          piece = await this.control(piece.node, partition.group, { t: 'exportSnapshot', session: piece.session, maxBytes, ...keepDamaged }) as ExportReply;
        }
      } catch (error) {
        // Rows already handed out cannot be taken back: only a session lost before any is retried.
        if (started || attempt >= 3) throw error;
      }
    }
  }

  async dropGroups(meta: TableMeta): Promise<void> {
    await this.dropPartitionGroups([...meta.partitions, ...(meta.globalIndexes ?? []).flatMap((g) => g.partitions)]);
    this.metadata.removeTable(meta.name);
    this.forgetStats(meta.name);
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
