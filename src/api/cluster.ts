/**
 * The embedded API. `ShardBox.open()` starts a cluster in this process: one worker thread
 * per storage node, the rings between them, the control plane and the main thread's
 * request router. Requests and responses have DynamoDB's shapes (see api-types.ts).
 *
 * Every request is validated and its expressions parsed before anything is sent: bad input
 * gets DynamoDB's error and changes nothing. Writes then travel as plain data to their
 * partition's leader and are evaluated when their log entry is applied. Each concern lives
 * in its own file (tables.ts, items.ts, query-scan.ts, batches.ts, faults.ts, ...); this
 * file is the cluster's lifecycle and the public face of the rest.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  CreateTableInput, DeleteTableInput, DescribeEndpointsOutput, DescribeLimitsOutput, DescribeTableInput,
  ListTablesInput, ListTablesOutput, ListTagsOfResourceInput, ListTagsOfResourceOutput, TableDescription,
  TagResourceInput, UntagResourceInput, UpdateTableInput, UpdateTableOutput,
  DescribeTimeToLiveInput, DescribeTimeToLiveOutput, UpdateTimeToLiveInput, UpdateTimeToLiveOutput,
  CreateBackupInput, CreateBackupOutput, DeleteBackupInput, DeleteBackupOutput, DescribeBackupInput, DescribeBackupOutput,
  ListBackupsInput, ListBackupsOutput, RestoreTableFromBackupInput, RestoreTableFromBackupOutput,
  DescribeContinuousBackupsInput, DescribeContinuousBackupsOutput, UpdateContinuousBackupsInput, UpdateContinuousBackupsOutput,
  RestoreTableToPointInTimeInput, RestoreTableToPointInTimeOutput,
} from '../api-types.js';
import { DirectoryObjectStore } from '../control/object-store.js';
import { Metadata } from '../control/metadata.js';
import { DynamoDBError } from '../model/errors.js';
import { Supervisor } from '../control/supervisor.js';
import { AutoAdmin } from '../control/autoadmin.js';
import { LinkCuts } from '../node/links.js';
import type { DigestReply, NodeRequestBody } from '../node/requests.js';
import type { NodeStats } from '../node/storage-node.js';
import type { ReplicaStatus } from '../replication/types.js';
import { PartitionMapBoard, PartitionMapCache, type PartitionInfo } from '../router/partition-map.js';
import { Router, type RouterOptions } from '../router/router.js';
import { sdkHandler, type SdkHandler } from '../server/sdk-handler.js';
import { allocateFabric, Endpoint, type FabricBuffers } from '../transport/fabric.js';
import { Backups } from './backups.js';
import { ControlPlane } from './control-plane.js';
import type { IndexLag } from '../control/global-indexes.js';
import { verifyIndexes, type IndexCheck } from './indexes.js';
import { deploymentsOf } from './deployments.js';
import { faultsOf } from './faults.js';
import { archiveOf, type ArchiveApi } from './archive.js';
import { ArchiveService, WalArchiver } from '../control/archiver.js';
import { Scrubber, type ScrubReport } from '../control/scrub.js';
import { PointInTime } from '../control/point-in-time.js';
import { BackgroundPool } from '../control/background-pool.js';
import { ItemOperations } from './item-operations.js';
import { AdmissionBoard } from '../model/admission-board.js';
import { GlobalAdmission } from '../control/gac.js';
import { PartitionManager, type PartitionEvent } from '../control/partition-manager.js';
import { DEFAULT_SPLIT_POLICY } from '../control/split-policy.js';
import { DEFAULT_HOT_NODE_POLICY } from '../control/hot-node-policy.js';
import { RouterAdmission } from '../router/admission.js';
import type { PartitionAdmissionStats } from '../node/admission.js';
import { nowMs } from '../router/router.js';
import { partitionCapacities, PARTITION_MAX_READ_UNITS, PARTITION_MAX_WRITE_UNITS, type CapacityReport } from './capacity.js';
import { ResolvedOptions, ShardBoxOptions, resolveOptions } from './options.js';
import {
  createTable, deleteTable, describeEndpoints, describeLimits, describeTable, listTables, listTagsOfResource,
  describeTimeToLive, tagResource, untagResource, updateTable, updateTimeToLive,
} from './tables.js';

/** What another thread needs to run its own request router: plain shared memory, handed
 *  over once (in workerData), never per request. */
export interface RouterPort {
  fabric: FabricBuffers;
  board: SharedArrayBuffer;
  /** The admission board (GAC's table buckets); absent when admission control is off. */
  admission?: SharedArrayBuffer;
  endpoint: number;
  router: Partial<RouterOptions>;
}


/** A router in another thread (a benchmark client thread): item operations only. */
export class ShardBoxClient extends ItemOperations {
  static connect(port: RouterPort): ShardBoxClient {
    const router = new Router(new Endpoint(port.fabric, port.endpoint), port.router);
    const admission = port.admission === undefined ? undefined : new RouterAdmission(new AdmissionBoard(port.admission));
    return new ShardBoxClient(router, new PartitionMapCache(new PartitionMapBoard(port.board)), admission);
  }

  /** Blocks this (worker) thread until a reply may have arrived or `timeoutMs` passes:
   *  for load generators that pace requests more finely than timers allow. True when a
   *  reply may have arrived: let the event loop turn so it is processed. */
  waitForReplies(timeoutMs: number): boolean {
    return this.router.waitForReplies(timeoutMs);
  }

  close(): void {
    this.router.close();
  }
}

/** How often the control plane looks at every group's leader (ms). */
const AUTOADMIN_INTERVAL_MS = 100;
/** A node that died of an error is started again after 1 s, then 2 s, then 4 s: that many
 *  times within the window, then it is left stopped (its disk, or a bug, may be at
 *  fault: the control plane's replica management takes over where it can). */
const FAILED_NODE_RESTARTS = 3;
const FAILED_NODE_WINDOW_MS = 10 * 60_000;
/** How often partition management looks at every partition (splits, hot-node moves). */
const PARTITION_PASS_MS = 2000;
/** The longest a read of a global index waits for it to catch up with earlier writes (ms):
 *  a few times the usual lag, so an unavailable base partition delays reads only this much. */
const INDEX_CATCH_UP_WAIT_MS = 200;

export class ShardBox extends ItemOperations {
  private autoadmin: AutoAdmin | undefined;
  /** Per node, when it was last restarted after dying of an error (within the window). */
  private readonly failedRestarts = new Map<number, number[]>();
  /** Restarts waiting for their pause (close cancels them) and under way (close waits). */
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readonly restarting = new Set<Promise<void>>();
  private partitionManager: PartitionManager | undefined;
  private readonly controlPlane: ControlPlane;
  /** Fault injection, for tests and experiments (faults.ts). */
  readonly faults: ReturnType<typeof faultsOf>;
  /** Deployments: rolling restarts and format switches (deployments.ts). */
  readonly deploy: ReturnType<typeof deploymentsOf>;
  /** WAL archiving (the `archive` option): flush, verify, read entries back (archive.ts). */
  readonly archive: ArchiveApi;
  private readonly archiveService: ArchiveService | undefined;
  private readonly scrubber: Scrubber | undefined;
  private readonly pointInTime: PointInTime | undefined;
  /** The background thread jobs' heavy work runs on (scrub's and restores' rebuilds, backup chunks). */
  private readonly background = new BackgroundPool();
  private scrubTimer: NodeJS.Timeout | undefined;
  private scrubbing: Promise<ScrubReport> | undefined;
  /** The reports of scrubs run on their schedule (`archive.scrubEveryMs`), newest last. */
  readonly scrubReports: ScrubReport[] = [];
  /** On-demand backups, kept under `<dir>/backups` (backups.ts). */
  private readonly backups: Backups;

  private constructor(
    router: Router,
    routes: PartitionMapCache,
    private readonly options: ResolvedOptions,
    readonly dir: string,
    private readonly temporary: boolean,
    private readonly fabric: FabricBuffers,
    private readonly board: PartitionMapBoard,
    private readonly metadata: Metadata,
    private readonly supervisor: Supervisor,
    links: LinkCuts,
    private readonly gac: GlobalAdmission | undefined,
  ) {
    super(router, routes, gac === undefined ? undefined : new RouterAdmission(gac.board));
    this.controlPlane = new ControlPlane(router, options, metadata, supervisor);
    this.data.awaitIndexCatchUp = (tableName) => this.controlPlane.globalIndexes.waitCaughtUp(tableName, INDEX_CATCH_UP_WAIT_MS);
    this.faults = faultsOf(this.controlPlane, links);
    this.deploy = deploymentsOf(this.controlPlane, fabric);
    if (options.archive !== undefined) {
      this.archiveService = new ArchiveService({
        archiver: new WalArchiver(new DirectoryObjectStore(options.archive.dir ?? path.join(dir, 'archive'))),
        nodes: options.nodes,
        isAlive: (node) => supervisor.isAlive(node),
        control: (node, body) => this.controlPlane.control(node, 0, body),
        intervalMs: options.archive.intervalMs,
      });
    }
    this.archive = archiveOf(this.controlPlane, this.archiveService);
    if (this.archiveService !== undefined) {
      const service = this.archiveService;
      this.scrubber = new Scrubber({
        metadata,
        exportPieces: (partition, o) => this.controlPlane.exportPieces(partition, o),
        control: (node, group, body) => this.controlPlane.control(node, group, body),
        isAlive: (node) => supervisor.isAlive(node),
        archive: {
          store: service.archiver.store,
          flush: () => service.flush(),
          forgetThrough: (tableId, group, through) => service.archiver.forgetThrough(tableId, group, through),
        },
        background: this.background,
      });
      this.pointInTime = new PointInTime({
        metadata,
        store: service.archiver.store,
        propose: (partition, entry) => router.request({ mode: 'leader', group: partition.group, replicas: partition.replicas }, { t: 'write', entry }, false),
        exportPieces: (partition) => this.controlPlane.exportPieces(partition),
        flush: () => service.flush(),
      });
    }
    this.backups = new Backups(this.controlPlane, new DirectoryObjectStore(path.join(dir, 'backups')), this.background, this.pointInTime);
  }

  /**
   * Scrub (needs the `archive` option): rebuilds every partition from the archive (its
   * archived snapshot and WAL) on a background thread, compares it with each live replica
   * through Merkle trees over its key space, repairs the replicas that differ from it
   * (from a healthy replica), and resolves to what it found. Also runs every
   * `archive.scrubEveryMs`; one scrub at a time.
   */
  scrub(options: { table?: string } = {}): Promise<ScrubReport> {
    this.controlPlane.checkOpen();
    if (this.scrubber === undefined) {
      return Promise.reject(new Error('scrub needs the archive: open with ShardBox.open({ archive: true })'));
    }
    if (options.table !== undefined) this.controlPlane.meta(options.table);
    const previous = this.scrubbing ?? Promise.resolve(undefined);
    const run = previous.catch(() => undefined).then(() => this.scrubber!.scrub(options));
    this.scrubbing = run;
    return run;
  }

  private scheduleScrub(): void {
    const every = this.options.archive?.scrubEveryMs ?? 0;
    if (this.scrubber === undefined || every === 0 || this.controlPlane.closed) return;
    this.scrubTimer = setTimeout(() => {
      this.scrub().then((report) => {
        this.scrubReports.push(report);
        if (this.scrubReports.length > 100) this.scrubReports.shift();
      }, () => undefined).finally(() => this.scheduleScrub());
    }, every);
    this.scrubTimer.unref();
  }

  static async open(options: ShardBoxOptions = {}): Promise<ShardBox> {
    const resolved = resolveOptions(options);
    const temporary = resolved.dir === undefined;
    const dir = resolved.dir ?? mkdtempSync(path.join(os.tmpdir(), 'shardbox-'));
    mkdirSync(dir, { recursive: true });
    const fabric = allocateFabric({
      nodes: resolved.nodes,
      routers: 1 + resolved.routers,
      nodeRingBytes: resolved.nodeRingBytes,
      routerRingBytes: resolved.routerRingBytes,
    }, resolved.formatVersion);
    const board = new PartitionMapBoard(PartitionMapBoard.allocate());
    let metadata: Metadata | undefined;
    let supervisor: Supervisor | undefined;
    const endpoints = resolved.nodes + 1 + resolved.routers;
    const links = new LinkCuts(LinkCuts.allocate(endpoints), endpoints);
    // The admission settings are on the board before any node thread reads it.
    const gac = resolved.admission === undefined ? undefined : new GlobalAdmission(new AdmissionBoard(AdmissionBoard.allocate()), {
      enabled: true, ...resolved.admission, nodeReadUnits: resolved.admission.nodeReadCapacityUnits, nodeWriteUnits: resolved.admission.nodeWriteCapacityUnits,
      partitionReadUnits: PARTITION_MAX_READ_UNITS, partitionWriteUnits: PARTITION_MAX_WRITE_UNITS,
    }, nowMs);
    try {
      metadata = new Metadata(dir, board);
      if (gac !== undefined) {
        const tables = metadata;
        tables.onChange = () => gac.sync(tables.tables());
        gac.sync(tables.tables());
        gac.start();
      }
      metadata.checkNodeCount(resolved.nodes);
      supervisor = new Supervisor({
        dir, durability: resolved.durability, archiveWal: resolved.archive !== undefined, emulatePowerLoss: resolved.emulatePowerLoss, latencyAttribution: resolved.latencyAttribution, fabric, timing: resolved.timing, seed: resolved.seed, links: links.buffer,
        ...(gac === undefined ? {} : { admission: gac.board.buffer }),
        log: { walRetainEntries: resolved.walRetainEntries, walSegmentBytes: resolved.walSegmentBytes, snapshotBytesPerSec: resolved.snapshotBytesPerSec },
      });
      const router = new Router(new Endpoint(fabric, resolved.nodes), resolved.router);
      supervisor.onExit = (node) => router.nodeDown(node);
      supervisor.onStart = (node) => router.nodeUp(node);
      const nodes = Array.from({ length: resolved.nodes }, (_, i) => i);
      await Promise.all(nodes.map((node) => supervisor!.start(node)));
      const db = new ShardBox(router, new PartitionMapCache(board), resolved, dir, temporary, fabric, board, metadata, supervisor, links, gac);
      supervisor.onExit = (node, error) => {
        router.nodeDown(node);
        if (error !== undefined) db.restartFailedNode(node);
      };
      await db.controlPlane.recover();
      await db.backups.open();
      db.startAutoAdmin();
      db.startPartitionManager();
      db.archiveService?.start();
      db.scheduleScrub();
      db.pointInTime?.start();
      return db;
    } catch (error) {
      gac?.stop();
      await supervisor?.stopAll();
      await metadata?.close();
      if (temporary) rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * A storage node's thread died of an error (a bug, a storage engine's failed commit):
   * like a crashed machine's process, it is started again, from its own files, after a
   * pause, and catches up; a node that keeps dying is left stopped, said loudly.
   */
  private restartFailedNode(node: number): void {
    if (this.controlPlane.closed) return;
    const now = Date.now();
    const recent = (this.failedRestarts.get(node) ?? []).filter((at) => now - at < FAILED_NODE_WINDOW_MS);
    if (recent.length >= FAILED_NODE_RESTARTS) {
      process.emitWarning(`storage node ${node} died of an error ${recent.length + 1} times within ${FAILED_NODE_WINDOW_MS / 60_000} minutes: left stopped`, 'ShardBoxNodeFailure');
      return;
    }
    recent.push(now);
    this.failedRestarts.set(node, recent);
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.controlPlane.closed || this.supervisor.isAlive(node)) return;
      const restart = this.supervisor.start(node)
        .then(() => process.emitWarning(`storage node ${node} started again after dying of an error`, 'ShardBoxNodeFailure'))
        .catch((error: unknown) => process.emitWarning(`storage node ${node} could not be started again: ${(error as Error).message}`, 'ShardBoxNodeFailure'))
        .finally(() => this.restarting.delete(restart));
      this.restarting.add(restart);
    }, 1000 * 2 ** (recent.length - 1));
    timer.unref();
    this.restartTimers.add(timer);
  }

  private startAutoAdmin(): void {
    // With three nodes no node is free to host a log replica: nothing to watch for.
    if (this.options.logReplicaAfterMs === 0 || this.options.nodes < 4) return;
    this.autoadmin = new AutoAdmin({
      metadata: this.metadata,
      control: (node, group, body) => this.controlPlane.control(node, group, body),
      isAlive: (node) => this.supervisor.isAlive(node),
      nodes: this.options.nodes,
      silentThresholdTicks: Math.ceil(this.options.logReplicaAfterMs / this.options.timing.tickMs),
      intervalMs: AUTOADMIN_INTERVAL_MS,
      replaceAfterMs: this.options.replaceReplicaAfterMs,
    });
    this.autoadmin.start();
  }

  private startPartitionManager(): void {
    const admission = this.options.admission;
    const gac = this.gac;
    if (admission === undefined || gac === undefined || (!admission.splits && !admission.moveHotReplicas)) return;
    const ask = (partition: PartitionInfo, mode: 'leader' | 'any', body: NodeRequestBody): Promise<unknown> =>
      this.controlPlane.router.request({ mode, group: partition.group, replicas: partition.replicas }, body, true);
    const manager = new PartitionManager({
      tables: () => this.metadata.tables(),
      ask,
      admission: (node) => this.controlPlane.control(node, 0, { t: 'admission' }) as Promise<PartitionAdmissionStats[]>,
      nodes: this.options.nodes,
      isAlive: (node) => this.supervisor.isAlive(node),
      split: (table, group, at) => this.splitPartition(table, group, at),
      move: this.autoadmin === undefined ? undefined : async (table, group, from, to) => {
        const wasLeader = (await this.controlPlane.control(from, group, { t: 'status' }).catch(() => undefined) as ReplicaStatus | undefined)?.role === 'leader';
        await this.moveReplica(table, group, from, to);
        // The load a leader serves moves with its leadership: the new replica takes it.
        const partition = this.metadata.table(table)?.partitions.find((p) => p.group === group);
        if (wasLeader && partition !== undefined) await ask(partition, 'leader', { t: 'transferLeadership', to }).catch(() => undefined);
      },
      nowMs,
    }, {
      intervalMs: PARTITION_PASS_MS,
      splits: admission.splits,
      split: {
        ...DEFAULT_SPLIT_POLICY,
        splitSizeBytes: admission.splitSizeBytes,
        nodeReadUnitsPerSec: admission.nodeReadCapacityUnits,
        nodeWriteUnitsPerSec: admission.nodeWriteCapacityUnits,
        consumptionShare: admission.splitConsumptionShare,
        sustainSeconds: admission.splitSustainSeconds,
      },
      hotNode: admission.moveHotReplicas
        ? { ...DEFAULT_HOT_NODE_POLICY, minUnitsPerSec: admission.splitConsumptionShare * admission.nodeWriteCapacityUnits }
        : undefined,
      hotPasses: 3,
      moveCooldownMs: 60_000,
    });
    gac.onDemandThrottled = (table) => manager.onDemandThrottled(table);
    manager.start();
    this.partitionManager = manager;
  }

  /** What partition management did (splits and replica moves, with the policy's reasons),
   *  oldest first. */
  partitionEvents(): ReadonlyArray<PartitionEvent> {
    return this.partitionManager?.events ?? [];
  }

  /** Membership changes the control plane made (log replicas added and removed, replicas
   *  removed and added back), oldest first, for tests and tools. */
  membershipEvents(): ReadonlyArray<{ atMs: number; table: string; group: number; kind: string; node: number }> {
    return this.autoadmin?.events ?? [];
  }
  /**
   * How far behind their tables the global secondary indexes are: per index
   * (`<table>/index/<name>`), percentiles of the time from a base write's apply on its
   * leader to the index write's acknowledgement (ms), since the last reset.
   */
  indexLag(options: { reset?: boolean } = {}): Record<string, IndexLag> {
    return this.controlPlane.globalIndexes.lag(options);
  }

  /** Recomputes every index of a table from its items and compares (see IndexCheck). */
  verifyIndexes(tableName: string): Promise<Record<string, IndexCheck>> {
    this.controlPlane.checkOpen();
    return verifyIndexes(this.controlPlane, tableName);
  }

  createTable(input: CreateTableInput): Promise<{ TableDescription: TableDescription }> {
    return createTable(this.controlPlane, input);
  }

  describeTable(input: DescribeTableInput): Promise<{ Table: TableDescription }> {
    return describeTable(this.controlPlane, input);
  }

  listTables(input: ListTablesInput = {}): Promise<ListTablesOutput> {
    return listTables(this.controlPlane, input);
  }

  /** DeleteTable. A table with point-in-time recovery leaves a SYSTEM backup of itself as
   *  it was just before (`<table>$DeletedTableBackup`, kept 35 days), as DynamoDB does. */
  deleteTable(input: DeleteTableInput): Promise<{ TableDescription: TableDescription }> {
    return deleteTable(this.controlPlane, input, async (meta) => {
      if (meta.pointInTimeRecovery?.enabled === true) await this.backups.createSystemBackup(meta);
    });
  }

  updateTable(input: UpdateTableInput): Promise<UpdateTableOutput> {
    return updateTable(this.controlPlane, input);
  }

  tagResource(input: TagResourceInput): Promise<Record<string, never>> {
    return tagResource(this.controlPlane, input);
  }

  untagResource(input: UntagResourceInput): Promise<Record<string, never>> {
    return untagResource(this.controlPlane, input);
  }

  listTagsOfResource(input: ListTagsOfResourceInput): Promise<ListTagsOfResourceOutput> {
    return listTagsOfResource(this.controlPlane, input);
  }

  describeTimeToLive(input: DescribeTimeToLiveInput): Promise<DescribeTimeToLiveOutput> {
    return describeTimeToLive(this.controlPlane, input);
  }

  /** Records the table's time-to-live setting (items are not expired yet). */
  updateTimeToLive(input: UpdateTimeToLiveInput): Promise<UpdateTimeToLiveOutput> {
    return updateTimeToLive(this.controlPlane, input);
  }

  /** DescribeEndpoints: where to send requests (`address`: the HTTP server's host[:port]). */
  describeEndpoints(input: Record<string, unknown> = {}, address?: string): Promise<DescribeEndpointsOutput> {
    return describeEndpoints(this.controlPlane, input, address);
  }

  describeLimits(input: Record<string, unknown> = {}): Promise<DescribeLimitsOutput> {
    return describeLimits(this.controlPlane, input);
  }

  /** CreateBackup: answers CREATING once every partition's snapshot is fixed (the backup
   *  holds every write acknowledged before the call, none made after it answered); the
   *  backup turns AVAILABLE once written out. `TableName` may be the table's ARN. */
  createBackup(input: CreateBackupInput): Promise<CreateBackupOutput> {
    return this.backups.createBackup(input);
  }

  describeBackup(input: DescribeBackupInput): Promise<DescribeBackupOutput> {
    return this.backups.describeBackup(input);
  }

  /** ListBackups: backups in creation order, Limit (1-100) a page; `BackupType` USER (the
   *  default), SYSTEM (those of deleted tables that had point-in-time recovery) or ALL. */
  listBackups(input: ListBackupsInput = {}): Promise<ListBackupsOutput> {
    return this.backups.listBackups(input);
  }

  deleteBackup(input: DeleteBackupInput): Promise<DeleteBackupOutput> {
    return this.backups.deleteBackup(input);
  }

  /** DescribeContinuousBackups: whether point-in-time recovery is on, and the window a
   *  restore may ask for. */
  async describeContinuousBackups(input: DescribeContinuousBackupsInput): Promise<DescribeContinuousBackupsOutput> {
    const continuous = this.backups.continuous;
    if (continuous !== undefined) return continuous.describeContinuousBackups(input);
    // Without the archive recovery cannot be on: every table says DISABLED.
    const name = (input as { TableName?: unknown } | undefined)?.TableName;
    if (typeof name === 'string' && !name.startsWith('arn:') && this.metadata.table(name) === undefined) {
      throw new DynamoDBError('TableNotFoundException', `Table not found: ${name}`);
    }
    return { ContinuousBackupsDescription: { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' } } };
  }

  /** UpdateContinuousBackups: turns point-in-time recovery on (needs the `archive`
   *  option) or off. */
  updateContinuousBackups(input: UpdateContinuousBackupsInput): Promise<UpdateContinuousBackupsOutput> {
    const continuous = this.backups.continuous;
    if (continuous === undefined) {
      return Promise.reject(new DynamoDBError('ContinuousBackupsUnavailableException',
        'Point in time recovery needs the WAL archive: open the database with ShardBox.open({ archive: true }) (or `shardbox serve --archive`)'));
    }
    return continuous.updateContinuousBackups(input);
  }

  /** RestoreTableToPointInTime: a new table holding the source table's items as of a time
   *  in its restorable window (answered CREATING; ACTIVE once written). */
  restoreTableToPointInTime(input: RestoreTableToPointInTimeInput): Promise<RestoreTableToPointInTimeOutput> {
    const continuous = this.backups.continuous;
    if (continuous === undefined) {
      return Promise.reject(new DynamoDBError('PointInTimeRecoveryUnavailableException', 'Point in time recovery is not enabled: this database runs without the WAL archive (ShardBox.open({ archive: true }))'));
    }
    return continuous.restoreTableToPointInTime(input);
  }

  /** RestoreTableFromBackup: creates the table (CREATING) and answers; it turns ACTIVE once
   *  the backup's items are written into it (DescribeTable's RestoreSummary says more). */
  restoreTableFromBackup(input: RestoreTableFromBackupInput): Promise<RestoreTableFromBackupOutput> {
    return this.backups.restoreTableFromBackup(input);
  }

  isNodeAlive(node: number): boolean {
    return this.controlPlane.isNodeAlive(node);
  }

  /**
   * An AWS SDK v3 request handler that talks to this database in-process, with no socket:
   * `new DynamoDBClient({ requestHandler: db.sdkHandler(), region: 'local', credentials })`,
   * and `DynamoDBDocumentClient.from(client)` over it.
   */
  sdkHandler(): SdkHandler {
    return sdkHandler(this);
  }

  /** For a thread that will run its own router (`ShardBoxClient.connect(port)`), i from 1
   *  to `options.routers`. */
  routerPort(i: number): RouterPort {
    if (!Number.isInteger(i) || i < 1 || i > this.options.routers) {
      throw new RangeError(`routerPort(${i}): this cluster was opened with options.routers = ${this.options.routers}; ports are 1..${this.options.routers}`);
    }
    return {
      fabric: this.fabric, board: this.board.buffer, endpoint: this.options.nodes + i, router: this.options.router,
      ...(this.gac === undefined ? {} : { admission: this.gac.board.buffer }),
    };
  }

  /**
   * Admission control, per table and per partition: capacity (units per second), burst
   * credit, and per second (the last whole second) the units consumed and the requests
   * throttled, with running totals. `tableName`: that table only. Empty `tables` when
   * admission is off (`admission: false`).
   */
  async capacity(tableName?: string): Promise<CapacityReport> {
    this.controlPlane.checkOpen();
    if (tableName !== undefined) this.controlPlane.meta(tableName);
    const gac = this.gac;
    if (gac === undefined) return { admission: false, globalAdmission: false, tables: [] };
    this.data.admission?.report(nowMs());
    const tables = gac.capacity(nowMs(), tableName);
    const reports = await Promise.all(Array.from({ length: this.options.nodes }, (_, node) => this.supervisor.isAlive(node)
      ? (this.controlPlane.control(node, 0, { t: 'admission' }) as Promise<PartitionAdmissionStats[]>).catch(() => [])
      : Promise.resolve([] as PartitionAdmissionStats[])));
    return {
      admission: true,
      globalAdmission: gac.board.globalAdmission,
      tables: tables.map((t) => ({ ...t, partitions: partitionCapacities(this.partitionsOf(t.table), reports.flat()) })),
    };
  }

  /** The partitions of a table, or of a global index by its route name (`<table>/index/<index>`). */
  private partitionsOf(name: string): PartitionInfo[] {
    const at = name.indexOf('/index/');
    if (at < 0) return this.controlPlane.meta(name).partitions;
    const index = name.slice(at + '/index/'.length);
    return this.controlPlane.meta(name.slice(0, at)).globalIndexes?.find((g) => g.spec.name === index)?.partitions ?? [];
  }

  /** Replication state of every replica of a table's partitions, for tests and tools. */
  replicaStatus(tableName: string): Promise<Array<{ partition: PartitionInfo; replicas: Array<ReplicaStatus | undefined> }>> {
    return this.controlPlane.askReplicas<ReplicaStatus>(tableName, { t: 'status' });
  }

  /** Per replica: applied index, item count and checksum of a partition's data, to show
   *  that replicas that applied the same log hold the same data. */
  replicaDigests(tableName: string): Promise<Array<{ partition: PartitionInfo; replicas: Array<DigestReply | undefined> }>> {
    return this.controlPlane.askReplicas<DigestReply>(tableName, { t: 'digest' });
  }

  /** Counters of every live storage node: rounds, group commits, store and ring statistics. */
  async nodeStats(): Promise<Array<NodeStats | undefined>> {
    return Promise.all(Array.from({ length: this.options.nodes }, (_, node) => this.supervisor.isAlive(node)
      ? (this.controlPlane.control(node, 0, { t: 'stats' }) as Promise<NodeStats>)
      : Promise.resolve(undefined)));
  }

  /**
   * Moves the replica of one partition (`group`, as `replicaStatus` lists them) from node
   * `from` to node `to`, online: a full replica is built on `to` from a snapshot of the
   * leader's data, and once it has caught up, the replica on `from` leaves the group
   * (handing leadership over first if it leads) and its data there is dropped. Resolves
   * when `to` serves as a home replica and `from` hosts nothing of the group. Needs the
   * control plane's replica management (nodes >= 4, logReplicaAfterMs > 0).
   */
  async moveReplica(tableName: string, group: number, from: number, to: number, options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.autoadmin === undefined) {
      throw new RangeError('moveReplica needs the control plane\'s replica management: open with nodes >= 4 and logReplicaAfterMs > 0');
    }
    const partition = this.controlPlane.meta(tableName).partitions.find((p) => p.group === group);
    if (partition === undefined) throw new RangeError(`moveReplica: table ${tableName} has no partition group ${group}`);
    if (!partition.replicas.includes(from)) throw new RangeError(`moveReplica: node ${from} holds no replica of group ${group} (home ${partition.replicas.join(', ')})`);
    if (!Number.isInteger(to) || to < 0 || to >= this.options.nodes || partition.replicas.includes(to) || (partition.logReplicas ?? []).includes(to)) {
      throw new RangeError(`moveReplica: node ${to} must be another storage node of the cluster, not one of group ${group}'s (${[...partition.replicas, ...(partition.logReplicas ?? [])].join(', ')})`);
    }
    if (!this.supervisor.isAlive(to)) throw new RangeError(`moveReplica: node ${to} is not running`);
    this.metadata.replaceHome(tableName, group, from, to);
    const home = partition.replicas.map((n) => (n === from ? to : n)).sort((a, b) => a - b);
    const deadline = performance.now() + (options.timeoutMs ?? 120_000);
    for (;;) {
      const now = this.controlPlane.meta(tableName).partitions.find((p) => p.group === group)!;
      const statuses = await this.controlPlane.askReplicas<ReplicaStatus>(tableName, { t: 'status' });
      const leader = statuses.find((s) => s.partition.group === group)?.replicas.find((r) => r?.role === 'leader');
      const done = leader !== undefined && leader.membershipIndex <= leader.commit && (now.retired ?? []).length === 0
        && [...leader.membership.voters].sort((a, b) => a - b).join() === home.join() && leader.membership.logReplicas.length === 0;
      if (done) return;
      if (performance.now() > deadline) throw new Error(`moveReplica: group ${group} of ${tableName} did not finish moving from node ${from} to node ${to} in time`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Splits partition `group` of `tableName` online into two partitions at hash `atHex`
   * (16 hex digits, the first hash of the upper one; default the middle of its range):
   * the parent's replicas split it by a log entry, the partition map gets a new version,
   * and requests routed with the old map are answered `wrongPartition` and re-routed.
   * Resolves once both new partitions serve, with their groups; the parent's data is
   * dropped in the background.
   */
  async splitPartition(tableName: string, group: number, atHex?: string): Promise<{ parent: number; children: [number, number]; at: string }> {
    const result = await this.controlPlane.splitPartition(tableName, group, atHex);
    const meta = this.metadata.table(tableName);
    const pitr = meta?.pointInTimeRecovery;
    if (meta !== undefined && pitr?.enabled === true && this.pointInTime !== undefined) {
      // A base snapshot of each child, so that restores and scrubs start from it instead
      // of rebuilding the parent first (control/partition-lineage.ts); the restorable
      // window stays as it was.
      const children = meta.partitions.filter((p) => result.children.includes(p.group));
      await this.pointInTime.enable({ ...meta, partitions: children });
    }
    return result;
  }

  get nodeCount(): number {
    return this.options.nodes;
  }

  /** Stops every node thread and releases everything; a temporary directory is removed. */
  async close(): Promise<void> {
    if (this.controlPlane.closed) return;
    await this.backups.close();
    this.controlPlane.settleStatusChanges();
    await this.partitionManager?.stop();
    this.controlPlane.closed = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    await Promise.all(this.restarting);
    await this.autoadmin?.stop();
    if (this.scrubTimer !== undefined) clearTimeout(this.scrubTimer);
    await this.scrubbing?.catch(() => undefined);
    this.pointInTime?.stop();
    await this.background.close();
    await this.archiveService?.stop();
    await this.controlPlane.stopIndexes();
    this.gac?.stop();
    this.router.close();
    await this.supervisor.stopAll();
    await this.metadata.close();
    if (this.temporary) rmSync(this.dir, { recursive: true, force: true });
  }
}
