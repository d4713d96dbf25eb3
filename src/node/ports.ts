/**
 * The storage node's I/O boundaries (STYLE.md: every I/O boundary is an interface with a
 * real and a simulated implementation). `StorageNode` reaches its peers only through a
 * `NodeTransport` and its disk only through a `NodeStorage`, reads no clock (time comes in
 * as `nowMs`) and never waits: the WAL sync and the checkpoint, the two slow disk
 * operations, are asked of its driver (`NodeDiskJobs`), and their completion comes back
 * as an input (`syncCompleted`, `checkpointCompleted`).
 *
 * Real implementations: `EndpointTransport` (SAB rings, doorbells), `NodeStore` (WAL
 * files, LMDB), and the worker thread's jobs (worker.ts: the sync on the node's own thread,
 * the checkpoint on libuv's pool). Simulated ones: test/sim.
 */
import type { HardState, LogEntry, LogReader } from '../replication/types.js';
import type { GroupRecord, PersistRecord } from '../storage/wal.js';
import type { InstalledSnapshot, SnapshotRow, SnapshotSource } from '../storage/snapshot.js';
import type { ApplyBatchResults, GetRequest, GetResult, OutboxRecord, PageResult, QueryRequest, ScanRequest } from '../storage/operations.js';
import type { RottedItem } from '../storage/items.js';
import type { NodeWalArchiveView } from '../storage/node-store.js';
import type { Envelope, FormatVersion } from '../transport/protocol.js';

export interface InboundLinkStats {
  records: number;
  corruptRecords: number;
  resyncs: number;
}

export interface NodeTransport {
  /** This node's endpoint id. */
  readonly id: number;
  /** Endpoints (nodes and routers) this node has links with. */
  readonly peers: readonly number[];
  /** The format version this node writes now (the control plane may change it). */
  readonly sendVersion: FormatVersion;
  /** Inbound records dropped because their format version is not one this build reads,
   *  and the last such version (for the node's warning). */
  readonly versionRejected: number;
  readonly lastRejectedVersion: number;
  /** Delivers every envelope that has arrived from `peer`, with its record's format
   *  version; returns how many records were read. */
  receive(peer: number, visit: (envelope: Envelope, version: FormatVersion) => void): number;
  /**
   * Writes `items` to `peer` in as few records as fit, each record's message built by
   * `wrap(batch)` in format `version`, at most `maxBatch` items a record. Never blocks:
   * returns how many items (from the front) were written; the caller keeps or drops the
   * rest. An item too large for any record is handed to `onTooLarge` and counted written.
   */
  send<T>(peer: number, items: readonly T[], wrap: (batch: T[]) => unknown, maxBatch: number, onTooLarge: (item: T) => void, version: FormatVersion): number;
  /** Wakes `peer` after writing to it. */
  wake(peer: number): void;
  /** Fault injection: damage this fraction of the records written to `peer` (0 heals). */
  corruptWrites(peer: number, rate: number, seed: number): void;
  /** A raft message inside a well-formed record did not decode. */
  noteDecodeError(): void;
  /** Counters of the inbound links and the decoder. */
  stats(): TransportStats;
}

export interface TransportStats {
  formatVersionRejected: number;
  decodeErrors: number;
  recordsByVersion: Record<FormatVersion, number>;
  inboundRings: Record<number, InboundLinkStats>;
}

/** Links cut by fault injection (LinkCuts in a cluster; the simulator cuts its network). */
export interface CutLinks {
  isCut(from: number, to: number): boolean;
}

/**
 * What the node shell does on its disk, synchronously. The two slow operations are not
 * here but in `NodeDiskJobs`.
 */
export interface NodeStorage {
  /** Whether a persisted batch must be synced before it counts (durability 'sync'). */
  readonly syncs: boolean;
  readonly stats: Readonly<Record<string, number>>;

  groups(): GroupRecord[];
  group(group: number): GroupRecord | undefined;
  /** Durably records (or replaces) a group this node hosts. */
  saveGroup(rec: GroupRecord): void;
  /** Removes the group's WAL, hard state, applied index and items (not those another
   *  hosted group of its table covers: a split parent's rows are its children's). */
  dropGroup(group: number): void;
  /** Hosts a child of a split applied here, idempotently: its record, a log beginning
   *  after `base`, and (full replicas) the rows already stored in its range as its data,
   *  applied at `base` (NodeStore.adoptSplitChild). */
  adoptSplitChild(child: GroupRecord, base: { index: number; term: number }): void;

  hardState(group: number): HardState;
  logReader(group: number): LogReader;
  /** One WAL batch for every group's records (group commit); with `deferSync` it is
   *  durable only once the driver's sync completes, else durable on return. */
  persist(batch: PersistRecord[], deferSync?: boolean): void;
  /** Drops WAL entries <= upTo. */
  compactWal(group: number, upTo: number): void;

  /** Applies committed entries (one transaction for the batch); results parallel the
   *  entries, undefined for no-op entries. A group whose apply met a damaged stored value
   *  stops at that entry (nothing of it applied) and is named in `damaged`. */
  applyCommitted(batch: Array<{ group: number; entries: LogEntry[] }>): ApplyBatchResults;
  appliedIndex(group: number): number;
  /** The applied index known durable (0 before the first checkpoint). */
  checkpointedIndex(group: number): number;

  get(group: number, req: GetRequest): GetResult;
  query(group: number, req: QueryRequest): PageResult;
  scan(group: number, req: ScanRequest): PageResult;
  /** Entries and bytes of key space `spaceId` in the group's hash range (an index's size). */
  spaceStats(group: number, spaceId: number): { items: number; bytes: number };
  /** The group's outbox records (global-index changes) after log index `after`, at most `max`. */
  outbox(group: number, after: number, max: number): OutboxRecord[];
  /** Order-dependent CRC32C over every (key, value) of the group's range, and the count. */
  groupDigest(group: number): { items: number; crc: number; bytes?: number };

  /** A consistent view of the group's rows at its applied index, read in pieces. With
   *  keepDamaged, a row whose value fails its checksum comes with an empty value instead
   *  of ending the read (what scrub compares). */
  openSnapshot(group: number, options?: { keepDamaged?: boolean }): SnapshotSource;
  /** Keeps a received snapshot chunk's rows aside (not the group's data yet). */
  stageSnapshotRows(group: number, rows: readonly SnapshotRow[]): void;
  discardStagedSnapshot(group: number): void;
  /** Starts replacing the group's data with the staged rows, applied at `snapshot.index`:
   *  from here on the install is finished even across a crash. */
  beginInstall(group: number, snapshot: InstalledSnapshot): void;
  /** One step of the install, at most `maxRows` rows (the node's thread serves between
   *  steps); true once it is finished (durable at the next checkpoint). */
  continueInstall(group: number, maxRows: number): boolean;
  /** Fault injection: flips a byte at rest in `count` distinct stored items (drawn from
   *  `seed`), checksums left as they were; none when fewer are stored (`available`). */
  rot(count: number, seed: number): { damaged: RottedItem[]; available: number };
  /** WAL archiving (control/archiver.ts): the segments to archive, sealing the current
   *  one first with `seal`; undefined when this store does not archive. */
  walArchiveView(seal: boolean): NodeWalArchiveView | undefined;
  /** Segments <= `segment` are archived and may be deleted by compaction. */
  markWalArchived(segment: number): void;
}

/**
 * The slow disk work, asked for by the node and done by its driver; each start is
 * answered once by `StorageNode.syncCompleted` or `checkpointCompleted`. A sync may be
 * answered from inside `startSync` (the worker syncs on the node's own thread) or later
 * (the simulator's disk); a checkpoint is answered later, never from inside the start
 * call. At most one of each runs.
 */
export interface NodeDiskJobs {
  /** Make everything persisted so far durable (after a `persist(batch, true)`). */
  startSync(): void;
  /** Make the items store durable as it is now, applied indexes included (a checkpoint). */
  startCheckpoint(): void;
}

/**
 * Test-only: one known bug, switched on at the exact decision point in StorageNode where
 * it would live, so the simulator can show its checkers catch it (test/sim/mutations.test.ts).
 * Never set in production (the worker passes none).
 */
export type NodeMutation =
  /** A strong read is served whenever the core is leader, without checking its lease. */
  | 'strongReadWithoutLease'
  /** Any replica serves a strong read from its own state (no leader check at all). */
  | 'strongReadAnyReplica'
  /** Acks and votes (sendAfterPersist) leave with the batch, before its WAL sync completes. */
  | 'ackBeforeSync'
  /** A write is answered `ok` when its entry commits, before it is applied (and so
   *  whatever its condition would have said). */
  | 'answerBeforeApply'
  /** A failed WAL sync tells the node to stop (it cannot know what is durable); with this
   *  bug it carries on as if the sync had succeeded, acknowledging and replying. */
  | 'replyAfterStop';

export const NODE_MUTATIONS: readonly NodeMutation[] = ['strongReadWithoutLease', 'strongReadAnyReplica', 'ackBeforeSync', 'answerBeforeApply', 'replyAfterStop'];
