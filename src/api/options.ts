/** ShardBox.open's options: their meaning, defaults, limits and checks. */
import { DEFAULT_TIMING, type NodeTiming } from '../node/constants.js';
import type { Durability } from '../node/worker-data.js';
import { DEFAULT_ROUTER_OPTIONS, type RouterOptions } from '../router/router.js';
import { isFormatVersion, type FormatVersion } from '../transport/protocol.js';
import { ITEM_COLLECTION_LIMIT_BYTES } from '../storage/indexes.js';
import { DEFAULT_SEGMENT_BYTES } from '../storage/wal.js';
import { SNAPSHOT_BYTES_PER_SEC } from '../node/snapshot-transfer.js';

export interface ShardBoxOptions {
  /** Storage nodes, one worker thread each. Default 3; at least 3 (a group has 3 replicas). */
  nodes?: number;
  /** Where the nodes keep their data (`<dir>/node-<i>`) and the control plane its
   *  metadata. Default: a temporary directory removed by `close()`. */
  dir?: string;
  /** 'sync' (default): a WAL record counts toward a quorum once fdatasync'd; survives power
   *  loss. 'async': no sync; survives a thread or process crash, not a power loss. */
  durability?: Durability;
  /** Partitions a new table starts with. Default 4. */
  partitions?: number;
  /** Request routers for other threads (benchmark client threads), besides the main
   *  thread's. Default 0. Each gets its own rings to every node: see `routerPort()`. */
  routers?: number;
  /** Bytes of each node→node ring (power of two). Default 4 MiB. */
  nodeRingBytes?: number;
  /** Bytes of each router↔node ring (power of two). Default 4 MiB: a 1 MB Query page
   *  must fit in one record. */
  routerRingBytes?: number;
  /** Logical time of the replication protocol (ms per tick, election, heartbeat, lease). */
  timing?: Partial<NodeTiming>;
  /** Seed of the replicas' election-timeout randomness. Default: random. */
  seed?: number;
  /** Router timeouts: per attempt and overall (ms). */
  router?: Partial<RouterOptions>;
  /** How long a replica may stay silent before the control plane replaces it with a log
   *  replica (WAL only) on a node outside the group, so writes keep a quorum that
   *  tolerates another failure; it is removed again once the replica is back and caught
   *  up (ms). Needs a node beyond a group's three (nodes >= 4). Default 1000; 0 turns
   *  log replicas off. */
  logReplicaAfterMs?: number;
  /** How long a replica replaced by a log replica may stay away before the control plane
   *  builds a full replica from a snapshot on the log replica's node, in its place, and
   *  the group has three full replicas again (the paper's repair) (ms). Default 300000;
   *  0 waits for the replica forever. Needs log replicas (nodes >= 4). */
  replaceReplicaAfterMs?: number;
  /** Ring-message format version every node and router sends at open: 1 (default) or 2
   *  (tuples, smaller). Every build reads both; change it live with
   *  `db.deploy.setFormatVersion`. */
  formatVersion?: FormatVersion;
  /** How long a new table stays CREATING and a deleted one DELETING before it is ACTIVE
   *  or gone, as DynamoDB's tables take a moment (what the AWS SDKs' table waiters poll
   *  for) (ms). Default 0: ACTIVE once CreateTable returns, gone once DeleteTable returns. */
  tableStatusDelayMs?: number;
  /** For tests: the largest item collection (the items of one partition-key value and
   *  their local-index entries) a write may grow on a table with local secondary indexes,
   *  so that ItemCollectionSizeLimitExceededException can be reached without writing
   *  10 GB (bytes). Default DynamoDB's 10 GiB; applies to tables created after open. */
  itemCollectionLimitBytes?: number;
  /** The most WAL entries a group keeps for a replica that lags behind (down, slow, or
   *  awaited back): beyond them the WAL is truncated, and that replica is caught up from a
   *  snapshot of a healthy replica's data instead. Default 100000. */
  walRetainEntries?: number;
  /** Size at which a node's WAL segment is closed (bytes). The WAL frees space a segment
   *  at a time, so its size on disk stays under about walRetainEntries' worth of entries
   *  plus two segments. Default 64 MiB. */
  walSegmentBytes?: number;
  /** Pace of the snapshots one node sends (bytes per second), so that catching a replica
   *  up leaves foreground requests their latency. Default 4 MiB/s. */
  snapshotBytesPerSec?: number;
  /** WAL archiving: every node copies its sealed WAL segments, per partition, into an
   *  object store (a directory), and `db.archive` flushes, verifies and reads them back.
   *  While on, a node keeps each WAL segment until it is archived (more disk, and the
   *  main thread reads each segment once more). `true` or `{}`: on, into `<dir>/archive`;
   *  `dir`: another directory; `intervalMs`: time between the archiver's passes
   *  (default 10000; 0: only `db.archive.flush()` archives); `scrubEveryMs`: time between
   *  scheduled scrubs (`db.scrub()`; default 3600000, 0: none). Default: off. */
  archive?: boolean | ArchiveOptions;
  /** For tests: play back power failures (`db.faults.powerOff`). Each node tells how far
   *  its WAL is synced and keeps a copy of its B-tree as each checkpoint made it durable,
   *  so that a power-off can leave its disk as a power failure would. Needs durability
   *  'sync'. Default false. */
  emulatePowerLoss?: boolean;
  /** Admission control (DynamoDB's capacity, the paper's §4): provisioned tables are held
   *  to their ProvisionedThroughput (with up to `burstSeconds` of unused capacity kept as
   *  burst credit), on-demand tables to twice their previous peak; what is over is refused
   *  with ProvisionedThroughputExceededException or ThrottlingException (retryable, never
   *  applied). `true` or `{}`: on with the defaults; `false`: nothing is throttled (the
   *  YCSB harness's default, so the engine is measured, not the capacity). Default: on.
   *  See AdmissionOptions. */
  admission?: boolean | AdmissionOptions;
  /** Latency attribution: storage nodes stamp each reply with when it reached each stage,
   *  and routers split every request's latency into stages (`db.latency()`, `onTiming`).
   *  false: replies carry no stamps and nothing is recorded. Its cost is measured by
   *  `npm run bench:micro -- attribution`. Default true. */
  latencyAttribution?: boolean;
}

export interface AdmissionOptions {
  /** Request routers lease tokens from a table-level bucket (GAC), so a skewed workload
   *  gets its table's capacity, and a partition may use more than its share (up to
   *  DynamoDB's 3,000 RCU / 1,000 WCU per partition). false: partition buckets at their
   *  share only. Default true. */
  globalAdmission?: boolean;
  /** Seconds of unused provisioned capacity kept as burst credit (1 to 300). Default 300,
   *  as DynamoDB; a smaller value makes throttling reachable in short tests. */
  burstSeconds?: number;
  /** What one storage node accepts per second in all, read and write units, so that one
   *  partition cannot starve its neighbours. Default 30000 and 10000. */
  nodeReadCapacityUnits?: number;
  nodeWriteCapacityUnits?: number;
  /** Partitions split by themselves: above `splitSizeBytes`, and when their leader serves
   *  at least `splitConsumptionShare` of its node's capacity (the larger of the read and
   *  write shares) for `splitSustainSeconds`, at the point that halves their observed
   *  load (not for one hot key or a sequential range); an on-demand table above twice its
   *  peak splits its busiest partition at once. Default true. */
  splits?: boolean;
  /** Default 10 GiB, as DynamoDB. */
  splitSizeBytes?: number;
  /** 0 to 1. Default 0.5. */
  splitConsumptionShare?: number;
  /** 1 to 120. Default 10. */
  splitSustainSeconds?: number;
  /** A storage node that consumes at least `splitConsumptionShare` of its write capacity
   *  in units per second, and twice the mean of the others, for three passes (about 6 s)
   *  in a row, hands a busy replica to a cooler node online (`db.moveReplica`; needs
   *  nodes >= 4 and log replicas on). Default true. */
  moveHotReplicas?: boolean;
}

export interface ResolvedAdmissionOptions {
  globalAdmission: boolean;
  burstSeconds: number;
  nodeReadCapacityUnits: number;
  nodeWriteCapacityUnits: number;
  splits: boolean;
  splitSizeBytes: number;
  splitConsumptionShare: number;
  splitSustainSeconds: number;
  moveHotReplicas: boolean;
}

const ADMISSION_KEYS = [
  'globalAdmission', 'burstSeconds', 'nodeReadCapacityUnits', 'nodeWriteCapacityUnits',
  'splits', 'splitSizeBytes', 'splitConsumptionShare', 'splitSustainSeconds', 'moveHotReplicas',
];

function resolveAdmission(value: unknown): ResolvedAdmissionOptions | undefined {
  if (value === false) return undefined;
  const given = value === undefined || value === true ? {} : value;
  if (typeof given !== 'object' || given === null) throw new TypeError(`options.admission must be a boolean or an object (got ${String(value)})`);
  for (const key of Object.keys(given)) {
    if (!ADMISSION_KEYS.includes(key)) throw new TypeError(`options.admission.${key} is not an admission option (${ADMISSION_KEYS.join(', ')})`);
  }
  const o = given as AdmissionOptions;
  for (const key of ['globalAdmission', 'splits', 'moveHotReplicas'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') throw new TypeError(`options.admission.${key} must be a boolean (got ${String(o[key])})`);
  }
  const share = o.splitConsumptionShare;
  if (share !== undefined && (typeof share !== 'number' || !(share > 0 && share <= 1))) {
    throw new RangeError(`options.admission.splitConsumptionShare must be a number above 0 and at most 1 (got ${String(share)})`);
  }
  return {
    globalAdmission: o.globalAdmission ?? true,
    burstSeconds: integerOption('admission.burstSeconds', o.burstSeconds, 300, 1, 300),
    nodeReadCapacityUnits: integerOption('admission.nodeReadCapacityUnits', o.nodeReadCapacityUnits, 30_000, 1, 10_000_000),
    nodeWriteCapacityUnits: integerOption('admission.nodeWriteCapacityUnits', o.nodeWriteCapacityUnits, 10_000, 1, 10_000_000),
    splits: o.splits ?? true,
    splitSizeBytes: integerOption('admission.splitSizeBytes', o.splitSizeBytes, 10 * 1024 ** 3, 1024, Number.MAX_SAFE_INTEGER),
    splitConsumptionShare: share ?? 0.5,
    splitSustainSeconds: integerOption('admission.splitSustainSeconds', o.splitSustainSeconds, 10, 1, 120),
    moveHotReplicas: o.moveHotReplicas ?? true,
  };
}

export interface ArchiveOptions {
  dir?: string;
  intervalMs?: number;
  scrubEveryMs?: number;
}

export interface ResolvedArchiveOptions {
  /** Undefined: `<dir>/archive`. */
  dir: string | undefined;
  intervalMs: number;
  scrubEveryMs: number;
}

export const DEFAULT_ARCHIVE_INTERVAL_MS = 10_000;
export const DEFAULT_SCRUB_EVERY_MS = 3_600_000;

function resolveArchive(value: unknown): ResolvedArchiveOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { dir: undefined, intervalMs: DEFAULT_ARCHIVE_INTERVAL_MS, scrubEveryMs: DEFAULT_SCRUB_EVERY_MS };
  if (typeof value !== 'object' || value === null) throw new TypeError(`options.archive must be a boolean or an object (got ${String(value)})`);
  for (const key of Object.keys(value)) {
    if (key !== 'dir' && key !== 'intervalMs' && key !== 'scrubEveryMs') throw new TypeError(`options.archive.${key} is not an archive option (dir, intervalMs, scrubEveryMs)`);
  }
  const { dir, intervalMs, scrubEveryMs } = value as ArchiveOptions;
  if (dir !== undefined && (typeof dir !== 'string' || dir === '')) throw new TypeError('options.archive.dir must be a non-empty string (a directory path)');
  return {
    dir,
    intervalMs: integerOption('archive.intervalMs', intervalMs, DEFAULT_ARCHIVE_INTERVAL_MS, 0, 86_400_000),
    scrubEveryMs: integerOption('archive.scrubEveryMs', scrubEveryMs, DEFAULT_SCRUB_EVERY_MS, 0, 30 * 86_400_000),
  };
}

export interface ResolvedOptions {
  nodes: number;
  dir: string | undefined;
  durability: Durability;
  partitions: number;
  routers: number;
  nodeRingBytes: number;
  routerRingBytes: number;
  timing: NodeTiming;
  seed: number;
  router: Partial<RouterOptions>;
  logReplicaAfterMs: number;
  replaceReplicaAfterMs: number;
  formatVersion: FormatVersion;
  tableStatusDelayMs: number;
  itemCollectionLimitBytes: number;
  walRetainEntries: number;
  walSegmentBytes: number;
  snapshotBytesPerSec: number;
  archive: ResolvedArchiveOptions | undefined;
  emulatePowerLoss: boolean;
  /** Undefined: admission control off. */
  admission: ResolvedAdmissionOptions | undefined;
  latencyAttribution: boolean;
}

export const MAX_NODES = 64;
export const MAX_PARTITIONS = 1024;
export const MAX_ROUTERS = 256;

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export function integerOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`options.${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}

export function resolveOptions(options: ShardBoxOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const known = new Set(['nodes', 'dir', 'durability', 'partitions', 'routers', 'nodeRingBytes', 'routerRingBytes', 'timing', 'seed', 'router', 'logReplicaAfterMs', 'replaceReplicaAfterMs', 'formatVersion', 'tableStatusDelayMs', 'itemCollectionLimitBytes', 'walRetainEntries', 'walSegmentBytes', 'snapshotBytesPerSec', 'archive', 'emulatePowerLoss', 'admission', 'latencyAttribution']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new TypeError(`options.${key} is not an option of ShardBox.open (known: ${[...known].join(', ')})`);
  }
  if (options.dir !== undefined && (typeof options.dir !== 'string' || options.dir === '')) {
    throw new TypeError('options.dir must be a non-empty string (a directory path)');
  }
  if (options.durability !== undefined && options.durability !== 'sync' && options.durability !== 'async') {
    throw new TypeError(`options.durability must be 'sync' or 'async' (got ${String(options.durability)})`);
  }
  for (const name of ['nodeRingBytes', 'routerRingBytes'] as const) {
    const value = options[name];
    if (value !== undefined && (!isPowerOfTwo(value) || value < 64 * 1024 || value > 1 << 30)) {
      throw new RangeError(`options.${name} must be a power of two from 65536 to 1073741824 (got ${String(value)})`);
    }
  }
  const timing: NodeTiming = { ...DEFAULT_TIMING };
  if (options.timing !== undefined) {
    for (const [key, value] of Object.entries(options.timing)) {
      if (!(key in DEFAULT_TIMING)) throw new TypeError(`options.timing.${key} is not a timing option`);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        throw new RangeError(`options.timing.${key} must be a positive integer (got ${String(value)})`);
      }
      timing[key as keyof NodeTiming] = value;
    }
  }
  if (options.router !== undefined) {
    if (typeof options.router !== 'object' || options.router === null) throw new TypeError(`options.router must be an object (got ${String(options.router)})`);
    for (const [key, value] of Object.entries(options.router)) {
      if (!(key in DEFAULT_ROUTER_OPTIONS)) throw new TypeError(`options.router.${key} is not a router option (attemptTimeoutMs, deadlineMs)`);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 3_600_000) {
        throw new RangeError(`options.router.${key} must be an integer from 1 to 3600000 ms (got ${String(value)})`);
      }
    }
  }
  if (options.latencyAttribution !== undefined && typeof options.latencyAttribution !== 'boolean') {
    throw new TypeError(`options.latencyAttribution must be a boolean (got ${String(options.latencyAttribution)})`);
  }
  if (!(timing.heartbeatTicks < timing.leaseTicks && timing.leaseTicks < timing.electionTicks)) {
    throw new RangeError('options.timing must keep heartbeatTicks < leaseTicks < electionTicks (a lease must expire before anyone may be elected)');
  }
  return {
    nodes: integerOption('nodes', options.nodes, 3, 3, MAX_NODES),
    dir: options.dir,
    durability: options.durability ?? 'sync',
    partitions: integerOption('partitions', options.partitions, 4, 1, MAX_PARTITIONS),
    routers: integerOption('routers', options.routers, 0, 0, MAX_ROUTERS),
    nodeRingBytes: options.nodeRingBytes ?? 4 * 1024 * 1024,
    routerRingBytes: options.routerRingBytes ?? 4 * 1024 * 1024,
    timing,
    seed: integerOption('seed', options.seed, Math.floor(Math.random() * 0x7fffffff), 0, 0xffffffff),
    router: options.router ?? {},
    logReplicaAfterMs: integerOption('logReplicaAfterMs', options.logReplicaAfterMs, 1000, 0, 3_600_000),
    replaceReplicaAfterMs: integerOption('replaceReplicaAfterMs', options.replaceReplicaAfterMs, 300_000, 0, 86_400_000),
    formatVersion: checkFormatVersion('options.formatVersion', options.formatVersion ?? 1),
    tableStatusDelayMs: integerOption('tableStatusDelayMs', options.tableStatusDelayMs, 0, 0, 3_600_000),
    itemCollectionLimitBytes: integerOption('itemCollectionLimitBytes', options.itemCollectionLimitBytes, ITEM_COLLECTION_LIMIT_BYTES, 1, ITEM_COLLECTION_LIMIT_BYTES),
    walRetainEntries: integerOption('walRetainEntries', options.walRetainEntries, 100_000, 100, 1_000_000_000),
    walSegmentBytes: integerOption('walSegmentBytes', options.walSegmentBytes, DEFAULT_SEGMENT_BYTES, 64 * 1024, 1 << 30),
    snapshotBytesPerSec: integerOption('snapshotBytesPerSec', options.snapshotBytesPerSec, SNAPSHOT_BYTES_PER_SEC, 64 * 1024, 1 << 30),
    archive: resolveArchive(options.archive),
    emulatePowerLoss: emulatePowerLoss(options),
    admission: resolveAdmission(options.admission),
    latencyAttribution: options.latencyAttribution ?? true,
  };
}

function emulatePowerLoss(options: ShardBoxOptions): boolean {
  const value = options.emulatePowerLoss;
  if (value === undefined || value === false) return false;
  if (value !== true) throw new TypeError(`options.emulatePowerLoss must be a boolean (got ${String(value)})`);
  if (options.durability === 'async') throw new RangeError('options.emulatePowerLoss needs durability \'sync\' (with \'async\' nothing is synced for a power failure to keep)');
  return true;
}

export function checkFormatVersion(name: string, value: unknown): FormatVersion {
  if (!isFormatVersion(value)) throw new RangeError(`${name} must be 1 or 2 (the ring-message format versions this build reads; got ${String(value)})`);
  return value;
}
