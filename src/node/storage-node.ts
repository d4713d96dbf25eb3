/**
 * The storage node's shell around its ReplicaCores: one round drains every inbound link,
 * steps the cores, persists what they produced in ONE WAL batch (group commit), sends,
 * applies what committed in ONE items transaction, answers, and advances. It owns no
 * protocol logic: elections, leases, commit and catch-up are the cores'; conditions and
 * updates are the store's apply.
 *
 * Order within a round is the durability argument: `send` may leave before the commit
 * (a leader's appends), `sendAfterPersist` (acks, votes) only after the batch is synced.
 *
 * Sans-I/O, like ReplicaCore: it reaches peers and disk only through its ports
 * (ports.ts), time comes in as `nowMs`, and the slow disk work (WAL sync, checkpoint) is
 * asked for in a round's result and reported back by the driver. The worker thread
 * (worker.ts) drives it over rings and LMDB; the simulator (test/sim) drives this same
 * class over a simulated network and disk.
 */
import { ReplicaCore } from '../replication/replica-core.js';
import { decodeMembership, isControlEntry, isMembershipEntry } from '../replication/membership.js';
import type { LogEntry, NotServing, Ready, ReplicaMessage, ReplicaStatus } from '../replication/types.js';
import type { GroupRecord, PersistRecord } from '../storage/wal.js';
import type { ApplyBatchResults, OutboxRecord, PageResult, WriteResult } from '../storage/operations.js';
import { readCapacityUnits } from '../model/capacity.js';
import { ItemChecksumError } from '../storage/checked-values.js';
import {
  envelopeToWire, newTrace, ReplyTrace, stampTrace, type Envelope, WireFormatError, type FormatVersion, type ReplyMessage, type RequestMessage,
} from '../transport/protocol.js';
import { raftFromWire, raftToWire } from './raft-wire.js';
import {
  CHECKPOINT_ENTRIES, CHECKPOINT_INTERVAL_MS, MAX_APPEND_BYTES, MAX_INFLIGHT_APPENDS, MAX_QUEUED_REPLIES, MAX_REPLIES_PER_RECORD, type NodeTiming,
} from './constants.js';
import type { CutLinks, NodeDiskJobs, NodeMutation, NodeStorage, NodeTransport } from './ports.js';
import { seededRandom } from '../model/prng.js';
import { SNAPSHOT_BYTES_PER_SEC, SnapshotTransfers, type SnapshotCounters, type SnapshotMessage } from './snapshot-transfer.js';
import type { DigestReply, NodeRequestBody, RotReply } from './requests.js';
import { NodeAdmission } from './admission.js';
import { AdmissionBoard, READ, WRITE } from '../model/admission-board.js';
import { PartitionLoadSampler, type LoadObservation } from './load-sampler.js';
import { childRecords, decodeSplitEntry, encodeSplitEntry, findSplit, isSplitEntry, splitPointProblem, type SplitDone } from './split.js';

/** Requests a split parent refuses with `wrongPartition`: its keys live in its children. */
const REFUSED_AFTER_SPLIT = new Set<NodeRequestBody['t']>(['write', 'get', 'query', 'scan', 'spaceStats', 'exportSnapshot', 'serving', 'split', 'load']);

interface PendingWrite {
  router: number;
  id: number;
  /** Term the entry was proposed in: if the entry applied at its index has another term,
   *  the proposal was overwritten by a new leader and never applied. */
  term: number;
  /** Stage stamps for the reply (ReplyTrace); undefined without a trace clock. */
  trace: number[] | undefined;
}

type Readies = Array<[group: number, core: ReplicaCore, ready: Ready]>;

/** What others may read of a replica (it is changed only by its node's rounds). */
export type ReplicaView = Pick<ReplicaCore, 'role' | 'term' | 'leader' | 'commit' | 'applied' | 'lastIndex' | 'isLogReplica' | 'checkStrongRead' | 'status'>;

const NO_OP = new Uint8Array(0);
/** Longest an outbox read waits for records (ms): well under a router's attempt timeout. */
const MAX_OUTBOX_WAIT_MS = 100;
/** Apply-time runs kept per group for the outbox's lag stamps (one per applied batch). */
const MAX_APPLY_TIMES = 4096;

/** A WAL batch written and being synced, and the Readies that wait for it. */
interface Unsynced {
  readies: Readies;
  synced: boolean;
}

interface QueuedRead {
  router: number;
  request: RequestMessage;
  consistent: boolean;
  /** An eventually consistent read waits until its replica applied this index. */
  appliedAtLeast: number;
  /** When its envelope was read (trace clock), or 0. */
  receivedAtMs: number;
}

export interface StorageNodeCounters {
  rounds: number;
  walCommits: number;
  entriesPersisted: number;
  entriesApplied: number;
  requests: number;
  raftMessagesIn: number;
  raftSendsDropped: number;
  repliesDropped: number;
  walCompactions: number;
  checkpointFailures: number;
  /** Ring records discarded or replies dropped on a cut link (fault injection). */
  recordsCut: number;
  /** Reads and applies that met a stored value failing its checksum (ItemChecksumError). */
  itemChecksumErrors: number;
  /** Groups recorded as damaged (markDamaged), each counted once. */
  groupsMarkedDamaged: number;
  /** Damaged groups whose data was replaced from a healthy replica (a snapshot). */
  groupsRepaired: number;
}

export interface NodeStats extends StorageNodeCounters, SnapshotCounters {
  node: number;
  /** The format version this node writes; inbound records dropped because their version
   *  is not one it reads, or because they did not decode. */
  sendVersion: FormatVersion;
  formatVersionRejected: number;
  decodeErrors: number;
  /** Inbound records read per format version. */
  recordsByVersion: Record<FormatVersion, number>;
  store: Record<string, number>;
  /** Groups with a damaged stored value, waiting for repair (markDamaged). */
  damagedGroups: number[];
  inboundRings: Record<number, { records: number; corruptRecords: number; resyncs: number }>;
}

export interface StorageNodeOptions {
  transport: NodeTransport;
  storage: NodeStorage;
  /** Starts the WAL sync and the checkpoint; their ends come back as inputs. */
  jobs: NodeDiskJobs;
  timing: NodeTiming;
  /** Seeds each core's randomized election timeouts. */
  seed: number;
  /** The driver's clock when the node starts (ms; any origin, as long as it is the one
   *  every later `nowMs` uses). */
  nowMs: number;
  /** Links cut by fault injection; none when absent. */
  links?: CutLinks;
  /** Said loudly and rarely (a peer writing a format this build cannot read, a failed
   *  checkpoint): the worker passes process.emitWarning. */
  warn: (message: string, type?: string) => void;
  /** Limits and intervals other than the constants (the simulator draws them per seed). */
  tuning?: {
    maxAppendBytes?: number; maxInflightAppends?: number; preVote?: boolean; checkpointIntervalMs?: number;
    /** ReplicaConfig.logRetainEntries: past it, a lagging replica gets a snapshot. */
    logRetainEntries?: number;
    /** Pace of this node's outgoing snapshots (bytes per second). */
    snapshotBytesPerSec?: number;
    /** Rows a snapshot install removes or moves per round (the simulator makes every
     *  install take many rounds). */
    snapshotInstallStepRows?: number;
  };
  /** Test-only: a known bug to switch on (ports.ts NodeMutation). Undefined in production. */
  mutation?: NodeMutation;
  /** The clock of reply traces (ms): the one every router of the process uses
   *  (performance.timeOrigin + performance.now() on threads), so that a request's stages
   *  can be subtracted across threads. Without it, replies carry no trace. */
  traceClock?: () => number;
  /** The control plane's admission board (capacities); without it nothing is throttled. */
  admission?: SharedArrayBuffer;
}

export class StorageNode {
  readonly counters: StorageNodeCounters = {
    rounds: 0, walCommits: 0, entriesPersisted: 0, entriesApplied: 0, requests: 0,
    raftMessagesIn: 0, raftSendsDropped: 0, repliesDropped: 0, walCompactions: 0, checkpointFailures: 0, recordsCut: 0,
    itemChecksumErrors: 0, groupsMarkedDamaged: 0, groupsRepaired: 0,
  };
  private readonly cores = new Map<number, ReplicaCore>();
  private readonly pendingWrites = new Map<number, Map<number, PendingWrite>>();
  /** Reads served after a round's apply: strong reads (the next), and eventually
   *  consistent ones that arrived while their replica knew of committed entries it had not
   *  applied (once it has: its own WAL sync of them may still be running). */
  private readsAfterApply: QueuedRead[] = [];
  /** Outgoing per peer endpoint, flushed once per round in as few ring records as fit. */
  private readonly raftOut = new Map<number, ReplicaMessage[]>();
  private readonly snapOut = new Map<number, SnapshotMessage[]>();
  private readonly snapshots: SnapshotTransfers;
  private readonly replyOut = new Map<number, ReplyMessage[]>();
  private readonly touched = new Set<number>();
  private readonly tooLargeReplies: ReplyMessage[] = [];
  private nextTickAtMs: number;
  private appliedSinceCheckpoint = 0;
  private lastCheckpointMs: number;
  private checkpoint: 'idle' | 'running' | 'done' = 'idle';
  private unsynced: Unsynced | undefined;
  /** Groups whose leadership this node is handing over, and when it asked (ms). */
  private readonly handingOver = new Map<number, number>();
  private versionRejectedWarned = 0;
  private lastVersionWarningMs = -Infinity;
  /** Outbox reads (long polls) waiting for the group's next apply, per group. */
  private readonly outboxReads = new Map<number, Array<{ router: number; request: RequestMessage; untilMs: number }>>();
  /** Per group: (last index of an applied batch, when) runs, oldest first (noteApplyTimes). */
  private readonly applyTimes = new Map<number, Array<[index: number, atMs: number]>>();
  /** The `nowMs` of the current round. */
  private roundAtMs = 0;
  /** Per peer: when (in flushes) its ring last took a message of each group. */
  private readonly raftTaken = new Map<number, Map<number, number>>();
  private raftFlushes = 0;
  /** Appends without entries of this round's Readies, sent after its replies. */
  private readonly afterReplies: ReplicaMessage[] = [];
  /** A failed WAL sync: the node cannot know what is durable, so it stops (fsyncgate). */
  private failure: Error | undefined;
  /** Groups holding a stored value that failed its checksum (markDamaged), for repair. */
  private readonly damaged = new Set<number>();
  /** Damaged groups whose apply stopped, and the first entry they did not apply: their
   *  state is behind their log, so they serve no read and answer no write until repaired. */
  private readonly applyStopped = new Map<number, number>();

  private readonly transport: NodeTransport;
  private readonly store: NodeStorage;
  private readonly jobs: NodeDiskJobs;
  private readonly timing: NodeTiming;
  private readonly seed: number;
  private readonly links: CutLinks | undefined;
  private readonly warn: (message: string, type?: string) => void;
  private readonly tuning: NonNullable<StorageNodeOptions['tuning']>;
  private readonly mutation: NodeMutation | undefined;
  private readonly traceClock: (() => number) | undefined;
  private readonly admission: NodeAdmission | undefined;
  /** Per group this node leads (or led): the traffic it served, for the control plane's
   *  split decisions (`load` requests). */
  private readonly loads = new Map<number, PartitionLoadSampler>();
  private readonly receiveEnvelope = (envelope: Envelope, version: FormatVersion): void => this.receive(envelope, version);
  private readonly discardEnvelope = (): void => {
    this.counters.recordsCut++;
  };

  constructor(options: StorageNodeOptions) {
    this.transport = options.transport;
    this.store = options.storage;
    this.jobs = options.jobs;
    this.timing = options.timing;
    this.seed = options.seed;
    this.links = options.links;
    this.warn = options.warn;
    this.tuning = options.tuning ?? {};
    this.mutation = options.mutation;
    this.traceClock = options.traceClock;
    this.admission = options.admission === undefined ? undefined
      : new NodeAdmission(new AdmissionBoard(options.admission), (group) => this.store.group(group), options.nowMs);
    this.nextTickAtMs = options.nowMs + this.timing.tickMs;
    // Nodes started together would flush their B-trees together, every interval, and a
    // flush slows the WAL syncs around it on a shared disk: a write then waited on slow
    // syncs on both of its quorum's nodes at once. A third of an interval apart, two of a
    // group's three nodes are never flushing together (B's write replicate p99 at 400
    // ops/s: 3.5-4.0 ms in step, 1.7-2.9 ms apart; bench --quick, three runs each).
    const checkpointMs = this.tuning.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS;
    this.lastCheckpointMs = options.nowMs - ((this.transport.id % 3) * checkpointMs) / 3;
    this.snapshots = new SnapshotTransfers({
      id: this.transport.id,
      store: this.store,
      core: (group) => this.cores.get(group),
      cores: () => this.cores,
      damagedGroups: () => this.damaged,
      isDamaged: (group) => this.damaged.has(group),
      repaired: (group) => {
        this.damaged.delete(group);
        this.applyStopped.delete(group);
        this.counters.groupsRepaired++;
      },
      markDamaged: (group, reason) => this.markDamaged(group, reason),
      handOff: (group) => {
        const core = this.cores.get(group);
        if (core !== undefined) this.leaveLeadership(group, core);
      },
      send: (peer, message) => this.queueSnapshotMessage(peer, message),
    }, this.tuning.snapshotBytesPerSec ?? SNAPSHOT_BYTES_PER_SEC, options.nowMs, this.tuning.snapshotInstallStepRows);
    this.resumeSplits();
    for (const rec of this.store.groups()) if (!this.splitChildWaits(rec)) this.startCore(rec);
  }

  /** A split whose parent record was saved before a crash let its children be created:
   *  creates them now (idempotent), unless the parent's replay will (its B-tree is behind
   *  the split entry). */
  private resumeSplits(): void {
    for (const rec of this.store.groups()) {
      if (rec.split === undefined || rec.split.adopted === true) continue;
      if (rec.logReplica !== true && this.store.appliedIndex(rec.group) < rec.split.index) continue;
      for (const child of childRecords(rec, rec.split)) this.store.adoptSplitChild(child, rec.split);
      this.store.saveGroup({ ...rec, split: { ...rec.split, adopted: true } });
    }
  }

  /** A split child whose data is not there yet (a crash took the parent's B-tree back
   *  before the split entry): the parent's replay of that entry starts it. */
  private splitChildWaits(rec: GroupRecord): boolean {
    const from = rec.splitFrom;
    if (from === undefined || rec.logReplica === true || this.store.appliedIndex(rec.group) >= from.index) return false;
    const parent = this.store.group(from.group);
    return parent !== undefined && this.store.appliedIndex(from.group) < from.index;
  }

  get id(): number {
    return this.transport.id;
  }

  /** A checkpoint was asked for and has not been reported complete. */
  get checkpointRunning(): boolean {
    return this.checkpoint === 'running';
  }

  /** Read-only views of this node's replicas (status, tests and the simulator's checkers). */
  replica(group: number): ReplicaView | undefined {
    return this.cores.get(group);
  }

  /** When the next tick is due (the shell sleeps no longer than this). */
  get nextTickAt(): number {
    return this.nextTickAtMs;
  }

  /** One round of work; returns whether anything happened. */
  round(nowMs: number): boolean {
    this.counters.rounds++;
    this.roundAtMs = nowMs;
    let worked = false;
    // Every elapsed tick is delivered, even after a long pause (GC, a paused thread): a
    // lease counts ticks, and a leader that skipped some would believe its lease lasts
    // longer in real time than it does.
    while (nowMs >= this.nextTickAtMs) {
      for (const core of this.cores.values()) core.tick();
      this.nextTickAtMs += this.timing.tickMs;
      worked = true;
    }

    for (const peer of this.transport.peers) {
      // A cut link loses what it carries: read (so the sender's ring drains) and forget.
      const n = this.transport.receive(peer, this.links?.isCut(peer, this.id) ? this.discardEnvelope : this.receiveEnvelope);
      if (n > 0) worked = true;
    }
    this.warnUnreadableVersions(nowMs);
    // What the drain answered at once (eventually consistent reads, redirects) leaves now,
    // not behind this round's WAL write, sync start and apply.
    this.flushReplies();
    this.wakePeers();

    if (this.processReadies()) worked = true;
    if (this.readsAfterApply.length > 0) {
      const reads = this.readsAfterApply;
      this.readsAfterApply = [];
      for (const read of reads) {
        const applied = this.cores.get(read.request.group)?.applied;
        if (!read.consistent && applied !== undefined && applied < read.appliedAtLeast) {
          this.readsAfterApply.push(read); // not work: it waits for the apply after its entries' sync
        } else {
          this.serveRead(read.router, read.request, read.consistent, read.receivedAtMs);
          worked = true;
        }
      }
    }
    if (this.outboxReads.size > 0) this.wakeOutboxReads(undefined, nowMs);
    this.sendReplies();
    // Snapshot work (reading a chunk out, a step of an install) after this round's replies
    // and peers are on their way: they do not wait behind it.
    if (this.snapshots.pump(nowMs)) worked = true;
    this.flushSnapshotMessages();
    this.wakePeers();
    this.maybeCheckpoint(nowMs);
    return worked;
  }

  /** The replies so far, and the commit indexes that go with them, leave; their
   *  receivers are woken. */
  private sendReplies(): void {
    this.flushReplies();
    if (this.afterReplies.length > 0) {
      // In the followers' rings before any router is woken: a router that reads a write's
      // reply and sends an eventually consistent read to a follower finds it knowing the
      // commit (read-after-write).
      for (const message of this.afterReplies) this.queueRaft(message);
      this.afterReplies.length = 0;
      this.flushRaft();
    }
    this.wakePeers();
  }

  /**
   * The driver's report that the WAL sync the node started for its last batch ended.
   * A failure tells the node to stop: it cannot know what is durable (fsyncgate), so its
   * next round throws the error rather than acknowledge anything.
   */
  syncCompleted(error?: Error): void {
    if (this.unsynced === undefined || this.unsynced.synced) throw new Error(`node ${this.id}: syncCompleted without a sync in flight`);
    // Test-only mutation: the bug of carrying on after being told to stop.
    if (error === undefined || this.mutation === 'replyAfterStop') {
      this.unsynced.synced = true;
      this.stampSynced(this.unsynced.readies);
    } else {
      this.failure = error;
    }
  }

  /** The leader's own WAL sync of these writes is done (ReplyTrace.SYNCED). */
  private stampSynced(readies: Readies): void {
    if (this.traceClock === undefined) return;
    const now = this.traceClock();
    for (const [group, , ready] of readies) {
      const pending = this.pendingWrites.get(group);
      if (pending === undefined || pending.size === 0) continue;
      for (const entry of ready.entries) {
        const trace = pending.get(entry.index)?.trace;
        if (trace !== undefined) stampTrace(trace, ReplyTrace.SYNCED, now);
      }
    }
  }

  /**
   * Checkpoints run beside the rounds: the driver makes the items store durable (on a
   * libuv thread in the worker) while the node keeps replicating, and says when it is.
   * Then each group's WAL drops what every replica holds and the checkpoint covers, so a
   * restart replays only the WAL above the checkpoint. A failed checkpoint loses nothing:
   * the WAL keeps everything until one succeeds.
   */
  checkpointCompleted(error?: Error): void {
    if (error !== undefined) {
      this.counters.checkpointFailures++;
      this.checkpoint = 'idle';
      this.warn(`node ${this.id}: checkpoint failed: ${error.message}`);
      return;
    }
    // Compacted by the next round, as every other change to the cores is made in a round.
    this.checkpoint = 'done';
  }

  private queueSnapshotMessage(peer: number, message: SnapshotMessage): void {
    let queue = this.snapOut.get(peer);
    if (queue === undefined) this.snapOut.set(peer, (queue = []));
    queue.push(message);
  }

  /** Snapshot chunks and acks; what a full ring does not take waits for the next round
   *  (a transfer's window keeps this small). */
  private flushSnapshotMessages(): void {
    for (const [peer, queue] of this.snapOut) {
      if (queue.length === 0) continue;
      if (this.links?.isCut(this.id, peer)) {
        this.counters.recordsCut += queue.length;
        queue.length = 0;
        continue;
      }
      const version = this.transport.sendVersion;
      const sent = this.transport.send(peer, queue, (msgs) => envelopeToWire({ k: 'snap', msgs }, version), 4, () => this.counters.raftSendsDropped++, version);
      if (sent > 0) {
        queue.splice(0, sent);
        this.touched.add(peer);
      }
    }
  }

  private maybeCheckpoint(nowMs: number): void {
    if (this.checkpoint === 'done') {
      this.checkpoint = 'idle';
      this.snapshots.checkpointCompleted();
      this.compactWal();
    }
    if (this.checkpoint !== 'idle') return;
    // An installed snapshot waits for one: start it at once.
    if (!this.snapshots.wantsCheckpoint) {
      if (this.appliedSinceCheckpoint === 0) return;
      if (this.appliedSinceCheckpoint < CHECKPOINT_ENTRIES && nowMs - this.lastCheckpointMs < (this.tuning.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS)) return;
    }
    this.snapshots.checkpointStarted();
    this.checkpoint = 'running';
    this.appliedSinceCheckpoint = 0;
    this.lastCheckpointMs = nowMs;
    this.jobs.startCheckpoint();
  }

  /** After a checkpoint the driver made outside the rounds (a clean stop), compacts now. */
  compactAfterCheckpoint(): void {
    this.checkpoint = 'idle';
    this.compactWal();
  }

  /** Counters of snapshot transfers (also in `stats()`). */
  get snapshotCounters(): Readonly<SnapshotCounters> {
    return this.snapshots.counters;
  }

  private compactWal(): void {
    for (const [group, core] of this.cores) {
      // A log replica has no B-tree to checkpoint: what the group holds may go.
      const compactable = core.compactableIndex();
      const upTo = core.isLogReplica ? compactable : Math.min(this.store.checkpointedIndex(group), compactable);
      if (upTo < this.store.logReader(group).firstIndex()) continue;
      core.compacted(upTo + 1);
      this.store.compactWal(group, upTo);
      this.counters.walCompactions++;
    }
  }

  /** Records of a version this build does not read come from a peer running a newer (or
   *  much older) build: they are dropped, counted, and said loudly, at most every 10 s. */
  private warnUnreadableVersions(nowMs: number): void {
    const rejected = this.transport.versionRejected;
    if (rejected === this.versionRejectedWarned || nowMs - this.lastVersionWarningMs < 10_000) return;
    this.warn(`storage node ${this.id} dropped ${rejected - this.versionRejectedWarned} ring record(s) of format version `
      + `${this.transport.lastRejectedVersion}; this build reads versions 1 and 2. A sender runs a build this one cannot read: roll it back, `
      + 'or deploy a build that reads its version everywhere before any node sends it.', 'ShardBoxFormatVersion');
    this.versionRejectedWarned = rejected;
    this.lastVersionWarningMs = nowMs;
  }

  /** Counters of this node, its store and its inbound links. */
  stats(): NodeStats {
    return {
      node: this.id, sendVersion: this.transport.sendVersion, ...this.transport.stats(), ...this.counters, ...this.snapshots.counters, store: { ...this.store.stats },
      damagedGroups: [...this.damaged].sort((a, b) => a - b),
    };
  }

  /**
   * Before a planned stop: every group this node leads hands leadership to its most
   * up-to-date follower (the core stops serving, catches it up, sends TimeoutNow; the
   * router follows the `notLeader` hints). A transfer the core gave up on (the target did
   * not take over within an election timeout) is tried again. True once the node leads
   * nothing and every write it accepted has been answered: then it may stop without
   * failing a request.
   */
  handOver(nowMs: number): boolean {
    let done = true;
    for (const [group, core] of this.cores) {
      if ((this.pendingWrites.get(group)?.size ?? 0) > 0) done = false;
      if (core.role !== 'leader') {
        this.handingOver.delete(group);
        continue;
      }
      done = false;
      const since = this.handingOver.get(group);
      if (since !== undefined && nowMs - since < this.timing.tickMs * this.timing.electionTicks * 1.5) continue;
      const target = handOverTarget(core.status());
      if (target === undefined) continue;
      core.transferLeadership(target);
      this.handingOver.set(group, nowMs);
    }
    return done && this.readsAfterApply.length === 0;
  }

  private startCore(rec: GroupRecord): ReplicaCore {
    const core = new ReplicaCore({
      group: rec.group,
      id: this.id,
      voters: rec.voters,
      logReplicas: rec.logReplicas ?? [],
      awaited: rec.awaited ?? [],
      logReplica: rec.logReplica === true,
      firstTerm: rec.splitFrom?.term ?? 0,
      electionTicks: this.timing.electionTicks,
      heartbeatTicks: this.timing.heartbeatTicks,
      leaseTicks: this.timing.leaseTicks,
      maxAppendBytes: this.tuning.maxAppendBytes ?? MAX_APPEND_BYTES,
      maxInflightAppends: this.tuning.maxInflightAppends ?? MAX_INFLIGHT_APPENDS,
      ...(this.tuning.preVote === undefined ? {} : { preVote: this.tuning.preVote }),
      ...(this.tuning.logRetainEntries === undefined ? {} : { logRetainEntries: this.tuning.logRetainEntries }),
      random: seededRandom((this.seed ^ Math.imul(rec.group + 1, 0x9e3779b1) ^ this.id) >>> 0),
      log: this.store.logReader(rec.group),
      hardState: this.store.hardState(rec.group),
      applied: this.store.appliedIndex(rec.group),
    });
    this.cores.set(rec.group, core);
    this.pendingWrites.set(rec.group, new Map());
    return core;
  }

  private receive(envelope: Envelope, version: FormatVersion): void {
    switch (envelope.k) {
      case 'raft':
        for (const raw of envelope.msgs) {
          let message: ReplicaMessage;
          try {
            message = raftFromWire(raw, version);
          } catch (error) {
            if (!(error instanceof WireFormatError)) throw error;
            this.transport.noteDecodeError();
            continue;
          }
          this.counters.raftMessagesIn++;
          // A message for a group this node no longer (or not yet) hosts is stale: drop it.
          this.cores.get(message.group)?.step(message);
        }
        return;
      case 'req': {
        const receivedAtMs = this.traceClock?.() ?? 0;
        for (const request of envelope.reqs) {
          this.counters.requests++;
          this.handleRequest(envelope.from, request, receivedAtMs);
        }
        return;
      }
      case 'rep':
        return; // nodes send no requests, so they expect no replies
      case 'snap':
        for (const message of envelope.msgs) this.snapshots.onMessage(message as SnapshotMessage, this.roundAtMs);
        return;
    }
  }

  private handleRequest(router: number, request: RequestMessage, receivedAtMs: number): void {
    const body = request.body as NodeRequestBody;
    if (body.t === 'createGroup') return this.createGroup(router, request, body.rec, body.campaign, body.votedFor);
    if (body.t === 'leaders') return this.reply(router, { id: request.id, body: this.leaderStatuses() });
    if (body.t === 'ping') return this.reply(router, { id: request.id, body: { node: this.id } });
    if (body.t === 'stats') return this.reply(router, { id: request.id, body: this.stats() });
    if (body.t === 'admission') return this.reply(router, { id: request.id, body: this.admission?.stats(this.roundAtMs) ?? [] });
    if (body.t === 'walArchive' || body.t === 'walArchived') return this.walArchiveRequest(router, request.id, body);
    if (body.t === 'corruptLink') {
      this.transport.corruptWrites(body.peer, body.rate, body.seed);
      return this.reply(router, { id: request.id, body: { corrupting: body.rate } });
    }
    if (body.t === 'rot') {
      let rotted: RotReply;
      try {
        rotted = this.store.rot(body.count, body.seed);
      } catch (error) {
        // A bad argument (the api checks them first) must not stop the node.
        if (!(error instanceof RangeError)) throw error;
        return this.reply(router, { id: request.id, error: { name: 'ValidationException', message: error.message } });
      }
      return this.reply(router, { id: request.id, body: rotted });
    }
    const core = this.cores.get(request.group);
    // Dropping a group this node does not host is done already (the control plane may have
    // recorded a replica whose createGroup never arrived): say so, or it retries forever.
    if (core === undefined && body.t === 'dropGroup') return this.reply(router, { id: request.id, body: { dropped: true } });
    if (core === undefined) return this.reply(router, { id: request.id, redirect: 'noGroup' });
    const split = this.store.group(request.group)?.split;
    if (split !== undefined && body.t === 'split') return this.reply(router, { id: request.id, body: { split } });
    if (split !== undefined && REFUSED_AFTER_SPLIT.has(body.t)) return this.reply(router, { id: request.id, redirect: 'wrongPartition' });
    switch (body.t) {
      case 'split':
        return this.proposeSplit(router, request, core, body);
      case 'write': {
        // Throttled requests are refused before they are proposed: never applied.
        const throttled = body.u !== undefined && core.role === 'leader' ? this.admission?.admit(request.group, WRITE, body.u, this.roundAtMs) : undefined;
        if (throttled !== undefined) return this.reply(router, { id: request.id, error: throttled });
        const proposal = core.propose(body.entry);
        if ('reason' in proposal) {
          if (body.u !== undefined) this.admission?.charge(request.group, WRITE, -body.u); // not taken: sent again
          return this.redirect(router, request.id, proposal);
        }
        if (body.u !== undefined) this.loadOf(request.group).recordWriteEntry(this.roundAtMs, body.entry, body.u);
        let trace: number[] | undefined;
        if (this.traceClock !== undefined) {
          trace = newTrace(receivedAtMs);
          stampTrace(trace, ReplyTrace.STARTED, this.traceClock());
        }
        this.pendingWrites.get(request.group)!.set(proposal.index, { router, id: request.id, term: proposal.term, trace });
        return;
      }
      case 'get':
      case 'query':
      case 'scan':
      case 'outbox': {
        // A log replica has no data: the router never sends it reads, but be sure. A
        // replica taking in a snapshot has old data (or a part of the new): elsewhere.
        if (core.isLogReplica || this.snapshots.receiving(request.group)) return this.reply(router, { id: request.id, redirect: 'notLeader', leader: core.leader });
        if (body.t !== 'outbox' && body.u !== undefined && (!body.consistent || core.role === 'leader')) {
          const throttled = this.admission?.admit(request.group, READ, body.u, this.roundAtMs);
          if (throttled !== undefined) return this.reply(router, { id: request.id, error: throttled });
          // What the leader's node serves of the partition is what a split would share out.
          if (body.t !== 'scan' && body.h !== undefined && core.role === 'leader') this.loadOf(request.group).record(this.roundAtMs, body.h[0], body.h[1], body.u, 0);
        }
        if ((body.t !== 'outbox' && !body.consistent) || this.mutation === 'strongReadAnyReplica') {
          // At once, unless this replica knows of committed entries it has not applied
          // yet: then once it has (this round's apply, or after its own WAL sync of them),
          // so that a read right after a write's acknowledgement sees it.
          if (core.commit <= core.applied) return this.serveRead(router, request, false, receivedAtMs);
          this.readsAfterApply.push({ router, request, consistent: false, appliedAtLeast: core.commit, receivedAtMs });
          return;
        }
        const refusal = this.strongReadRefusal(core);
        if (refusal !== undefined) return this.redirect(router, request.id, refusal);
        // Served after this round's apply, from the leader's applied state.
        this.readsAfterApply.push({ router, request, consistent: true, appliedAtLeast: 0, receivedAtMs });
        return;
      }
      case 'dropGroup': {
        // A split parent's rows are its children's data: not until the B-tree holds the
        // split durably (a crash could take it back before the split, parent gone).
        const waitingChild = this.store.groups().some((r) => r.splitFrom?.group === request.group && !this.cores.has(r.group));
        if (waitingChild || (split !== undefined && !core.isLogReplica && this.store.checkpointedIndex(request.group) < split.index)) {
          return this.reply(router, { id: request.id, body: { dropped: false } });
        }
        this.cores.delete(request.group);
        this.admission?.drop(request.group);
        this.loads.delete(request.group);
        for (const taken of this.raftTaken.values()) taken.delete(request.group);
        this.snapshots.dropped(request.group);
        for (const pending of this.pendingWrites.get(request.group)!.values()) {
          this.reply(pending.router, { id: pending.id, redirect: 'noGroup' });
        }
        this.pendingWrites.delete(request.group);
        this.applyTimes.delete(request.group);
        // The archiver archives a dropped group's log up to the last commit its WAL holds,
        // and commits are persisted lazily: this one, so that a split parent's archive
        // reaches its split entry (restores rebuild the children from it).
        const hardState = this.store.hardState(request.group);
        const { commit } = core.status();
        if (commit > hardState.commit) this.store.persist([{ group: request.group, entries: [], hardState: { ...hardState, commit } }]);
        this.store.dropGroup(request.group);
        return this.reply(router, { id: request.id, body: { dropped: true } });
      }
      case 'status':
        return this.reply(router, { id: request.id, body: core.status() });
      case 'load': {
        // The leader sees the partition's writes and its strong reads: its window of them.
        if (core.role !== 'leader') return this.reply(router, { id: request.id, redirect: 'notLeader', leader: core.leader });
        const observation: LoadObservation | undefined = this.loads.get(request.group)?.observe(this.roundAtMs);
        return this.reply(router, { id: request.id, body: { observation } });
      }
      case 'exportSnapshot': {
        // A whole replica's data only (a log replica has none, one being replaced a part),
        // unless damage is what the reader looks for (scrub).
        const damaged = this.damaged.has(request.group) || this.applyStopped.has(request.group);
        if (core.isLogReplica || this.snapshots.receiving(request.group) || (damaged && body.keepDamaged !== true)) {
          return this.reply(router, { id: request.id, redirect: 'notLeader', leader: core.leader });
        }
        const piece = this.snapshots.exportPiece(request.group, body.session, body.maxBytes, this.roundAtMs, body.keepDamaged === true);
        if (piece === undefined) return this.reply(router, { id: request.id, error: { name: 'InternalServerError', message: `snapshot export session ${String(body.session)} of group ${request.group} is gone (expired, or node ${this.id} restarted): start over` } });
        return this.reply(router, { id: request.id, body: piece });
      }
      case 'repairGroup':
        this.markDamaged(request.group, body.reason);
        return this.reply(router, { id: request.id, body: { repairing: true } });
      case 'groupRecord':
        return this.reply(router, { id: request.id, body: this.store.group(request.group) });
      case 'transferLeadership': {
        const refusal = core.transferLeadership(body.to);
        if (refusal !== undefined) return this.redirect(router, request.id, refusal);
        return this.reply(router, { id: request.id, body: { transferring: body.to } });
      }
      case 'changeMembership': {
        const result = core.proposeMembership(body.next);
        if ('reason' in result && (result.reason === 'notLeader' || result.reason === 'leaseNotReady' || result.reason === 'tooManyInflight')) {
          return this.redirect(router, request.id, result);
        }
        return this.reply(router, { id: request.id, body: result });
      }
      case 'serving': {
        const refusal = core.checkStrongRead();
        if (refusal !== undefined) return this.redirect(router, request.id, refusal);
        return this.reply(router, { id: request.id, body: { serving: true } });
      }
      case 'spaceStats': {
        if (core.isLogReplica || this.applyStopped.has(request.group)) return this.reply(router, { id: request.id, redirect: 'notLeader', leader: core.leader });
        let stats: { items: number; bytes: number };
        try {
          stats = this.store.spaceStats(request.group, body.spaceId);
        } catch (error) {
          return this.refuseDamagedRead(router, request, false, error);
        }
        return this.reply(router, { id: request.id, body: stats });
      }
      case 'digest': {
        let digest: { items: number; crc: number; bytes?: number };
        try {
          digest = this.store.groupDigest(request.group);
        } catch (error) {
          return this.refuseDamagedRead(router, request, true, error);
        }
        const reply: DigestReply = { applied: core.applied, items: digest.items, crc: digest.crc, bytes: digest.bytes };
        return this.reply(router, { id: request.id, body: reply });
      }
    }
  }

  /** The archiver's requests (control/archiver.ts). A failure (a bad segment number, a
   *  WAL that failed) is answered as `{ error }`: the archiver's problem to report. */
  private walArchiveRequest(router: number, id: number, body: Extract<NodeRequestBody, { t: 'walArchive' | 'walArchived' }>): void {
    let reply: unknown;
    try {
      if (body.t === 'walArchive') reply = this.store.walArchiveView(body.seal) ?? { off: true };
      else {
        this.store.markWalArchived(body.segment);
        reply = { archived: body.segment };
      }
    } catch (error) {
      reply = { error: (error as Error).message };
    }
    this.reply(router, { id, body: reply });
  }

  /** Statuses of this node's leaders (one request per node for the control plane). */
  private leaderStatuses(): ReplicaStatus[] {
    const out: ReplicaStatus[] = [];
    for (const core of this.cores.values()) if (core.role === 'leader') out.push(core.status());
    return out;
  }

  private createGroup(router: number, request: RequestMessage, rec: GroupRecord, campaign: boolean, votedFor?: { term: number; vote: number }): void {
    let core = this.cores.get(rec.group);
    // A split child waiting for its parent's replay (splitChildWaits) is hosted already.
    if (core === undefined && this.store.group(rec.group) !== undefined) return this.reply(router, { id: request.id, body: { created: true } });
    if (core === undefined) {
      this.store.saveGroup(rec);
      // A replica added to a running group is born having voted for the leader of the
      // current term: if this node hosted the group before (and dropped it), it must not
      // vote twice in a term it may have voted in.
      if (votedFor !== undefined && this.store.hardState(rec.group).term < votedFor.term) {
        this.store.persist([{ group: rec.group, entries: [], hardState: { term: votedFor.term, vote: votedFor.vote, commit: 0 } }]);
      }
      core = this.startCore(rec);
      if (campaign) core.campaign();
    }
    this.reply(router, { id: request.id, body: { created: true } });
  }

  private serveRead(router: number, request: RequestMessage, consistent: boolean, receivedAtMs: number): void {
    const body = request.body as NodeRequestBody;
    // Queued before this round's apply of a split: the keys live in the children now.
    if (body.t !== 'outbox' && this.store.group(request.group)?.split !== undefined) return this.reply(router, { id: request.id, redirect: 'wrongPartition' });
    // A strong read queued for after the apply re-checks: the lease may have run out.
    if (consistent) {
      const core = this.cores.get(request.group);
      if (core === undefined) return this.reply(router, { id: request.id, redirect: 'noGroup' });
      const refusal = this.strongReadRefusal(core);
      if (refusal !== undefined) return this.redirect(router, request.id, refusal);
    }
    const leaderOnly = consistent || body.t === 'outbox';
    // Its state is behind its log: nothing it holds may be served.
    if (this.applyStopped.has(request.group)) return this.refuseDamagedRead(router, request, leaderOnly, undefined);
    const startedAtMs = this.traceClock?.() ?? 0;
    let result: unknown;
    try {
      if (body.t === 'get') result = this.store.get(request.group, body.req);
      else if (body.t === 'query') result = this.store.query(request.group, body.req);
      else if (body.t === 'scan') result = this.store.scan(request.group, body.req);
      else if (body.t === 'outbox') {
        const records = this.outbox(request.group, body.after, body.max);
        // A long poll: nothing yet, so answer once an apply brings records, or when it expires.
        if (records.length === 0 && (body.waitMs ?? 0) > 0) return this.parkOutboxRead(router, request, body.waitMs!);
        result = records;
      } else throw new Error(`serveRead got a ${body.t} request`);
    } catch (error) {
      return this.refuseDamagedRead(router, request, leaderOnly, error);
    }
    // A page's real cost is known now: its buckets pay what its estimate did not.
    if ((body.t === 'query' || body.t === 'scan') && body.u !== undefined) {
      this.admission?.charge(request.group, READ, readCapacityUnits((result as PageResult).bytesRead, body.consistent) - body.u);
    }
    if (this.traceClock === undefined) return this.reply(router, { id: request.id, body: result });
    const doneAtMs = this.traceClock();
    // A read has no commit or sync: COMMITTED = STARTED, SYNCED stays NOT_SYNCED.
    const trace = newTrace(receivedAtMs);
    stampTrace(trace, ReplyTrace.STARTED, startedAtMs);
    stampTrace(trace, ReplyTrace.COMMITTED, startedAtMs);
    stampTrace(trace, ReplyTrace.APPLIED, doneAtMs);
    this.reply(router, { id: request.id, body: result, trace });
  }

  /** Parks an outbox read until the group applies records or `waitMs` pass. */
  private parkOutboxRead(router: number, request: RequestMessage, waitMs: number): void {
    let waiting = this.outboxReads.get(request.group);
    if (waiting === undefined) {
      waiting = [];
      this.outboxReads.set(request.group, waiting);
    }
    waiting.push({ router, request, untilMs: this.roundAtMs + Math.min(waitMs, MAX_OUTBOX_WAIT_MS) });
  }

  /** Answers the parked outbox reads that have records now (of groups in `applied`), and
   *  those whose wait is over (empty); the rest keep waiting. */
  private wakeOutboxReads(applied: ReadonlySet<number> | undefined, nowMs: number): void {
    for (const [group, waiting] of this.outboxReads) {
      const keep: typeof waiting = [];
      for (const w of waiting) {
        const body = w.request.body as Extract<NodeRequestBody, { t: 'outbox' }>;
        const core = this.cores.get(group);
        if (core === undefined) {
          this.reply(w.router, { id: w.request.id, redirect: 'noGroup' });
          continue;
        }
        // A replica that stopped leading (or whose lease ran out) redirects, as for a strong read.
        const refusal = this.strongReadRefusal(core);
        if (refusal !== undefined) {
          this.redirect(w.router, w.request.id, refusal);
          continue;
        }
        let records: OutboxRecord[];
        try {
          records = applied?.has(group) === true && !this.applyStopped.has(group) ? this.outbox(group, body.after, body.max) : [];
        } catch (error) {
          this.refuseDamagedRead(w.router, w.request, true, error);
          continue;
        }
        if (records.length > 0 || w.untilMs <= nowMs) this.reply(w.router, { id: w.request.id, body: records });
        else keep.push(w);
      }
      if (keep.length > 0) this.outboxReads.set(group, keep);
      else this.outboxReads.delete(group);
    }
  }

  /** Outbox records with when this node applied them (for the index lag), forgetting
   *  the apply times of what the reader has consumed. */
  private outbox(group: number, after: number, max: number): OutboxRecord[] {
    const records = this.store.outbox(group, after, max);
    const times = this.applyTimes.get(group);
    if (times === undefined) return records;
    let consumed = 0;
    while (consumed < times.length && times[consumed][0] <= after) consumed++;
    if (consumed > 0) times.splice(0, consumed);
    let t = 0;
    for (const record of records) {
      while (t < times.length && times[t][0] < record.index) t++;
      if (t < times.length) record.appliedAtMs = times[t][1];
    }
    return records;
  }

  /** Why this replica may not serve a strong read now (lease and leadership: the core's). */
  private strongReadRefusal(core: ReplicaCore): NotServing | undefined {
    if (this.mutation === 'strongReadWithoutLease') return core.role === 'leader' ? undefined : { reason: 'notLeader', leaderHint: core.leader };
    return core.checkStrongRead();
  }

  private loadOf(group: number): PartitionLoadSampler {
    let sampler = this.loads.get(group);
    if (sampler === undefined) this.loads.set(group, (sampler = new PartitionLoadSampler({ seed: group })));
    return sampler;
  }

  private redirect(router: number, id: number, refusal: NotServing): void {
    switch (refusal.reason) {
      case 'notLeader':
        return this.reply(router, { id, redirect: 'notLeader', leader: refusal.leaderHint });
      case 'leaseNotReady':
        return this.reply(router, { id, redirect: 'notReady', leader: refusal.leaderHint });
      case 'tooManyInflight':
        return this.reply(router, { id, redirect: 'busy' });
    }
  }

  /**
   * A read that met a damaged stored value (`error`, an ItemChecksumError; anything else
   * is rethrown), or one of a group whose apply stopped (`error` undefined): never
   * answered with data. The group is marked damaged. A read any replica may serve is sent
   * to another (the leader's hint, else the router's next replica, as after a redirect
   * from a follower); a leader-only read fails with a retryable InternalServerError.
   */
  private refuseDamagedRead(router: number, request: RequestMessage, leaderOnly: boolean, error: unknown): void {
    if (error !== undefined) {
      if (!(error instanceof ItemChecksumError)) throw error;
      this.counters.itemChecksumErrors++;
      this.markDamaged(request.group, error.message);
    }
    const core = this.cores.get(request.group);
    if (core !== undefined && this.applyStopped.has(request.group)) this.leaveLeadership(request.group, core);
    if (leaderOnly) {
      return this.reply(router, {
        id: request.id,
        error: { name: 'InternalServerError', message: `A stored item of partition group ${request.group} on node ${this.id} is damaged (checksum mismatch) and awaits repair; the read was not served. Retry.` },
      });
    }
    const hint = core?.leader;
    this.reply(router, { id: request.id, redirect: 'notLeader', ...(hint !== undefined && hint !== this.id ? { leader: hint } : {}) });
  }

  /**
   * Records that `group` holds a stored value that failed its checksum, so that it can be
   * repaired from a healthy replica (the lead's snapshot repair will take it from here).
   * Said loudly once per group.
   */
  private markDamaged(group: number, reason: string): void {
    if (this.damaged.has(group)) return;
    this.damaged.add(group);
    this.counters.groupsMarkedDamaged++;
    this.warn(`storage node ${this.id}: partition group ${group} is damaged: ${reason}`, 'ShardBoxItemChecksum');
  }

  /** A replica whose apply stopped can answer no write and no strong read: while it
   *  leads, it hands leadership to its most caught-up follower (retried as handOver). */
  private leaveLeadership(group: number, core: ReplicaCore): void {
    if (core.role !== 'leader') return;
    const since = this.handingOver.get(group);
    if (since !== undefined && this.roundAtMs - since < this.timing.tickMs * this.timing.electionTicks * 1.5) return;
    const target = handOverTarget(core.status());
    if (target === undefined) return;
    core.transferLeadership(target);
    this.handingOver.set(group, this.roundAtMs);
  }

  /**
   * Steps 1–5 of the Ready contract for every core with work, batched across cores.
   *
   * With durability 'sync' the WAL batch is written here and synced by the driver. The
   * worker syncs on this thread, before `startSync` returns, so what must not wait for it
   * goes first: the appends to followers (woken at once), and the apply and replies of
   * what committed (durable in earlier batches) in the groups this node leads. The acks
   * and votes leave as soon as the sync returns, before the followers' apply. A driver
   * whose sync completes later (the simulator's disk) lets the node go on meanwhile: it
   * applies what had committed, keeps draining links and stepping cores, and sends the
   * acks and votes when the sync completes. The cores take no new Ready meanwhile, so
   * what arrives in between joins the next, larger batch.
   */
  private processReadies(): boolean {
    if (this.failure !== undefined) throw this.failure;
    if (this.unsynced !== undefined) {
      if (!this.unsynced.synced) return false;
      const { readies } = this.unsynced;
      this.unsynced = undefined;
      this.finishReadies(readies, true);
      return true;
    }
    const readies: Readies = [];
    for (const [group, core] of this.cores) if (core.hasReady()) readies.push([group, core, core.ready()]);
    if (readies.length === 0) return false;

    for (const [, , ready] of readies) {
      for (const message of ready.send) {
        // An append without entries only tells a follower the commit index (or is a
        // heartbeat): it goes out with this round's replies, at its end. Sent here, it
        // woke both followers to apply while the leader applied and before the router
        // could read its reply: three busy threads on two cores.
        if (message.type === 'append' && message.entries.length === 0) this.afterReplies.push(message);
        else this.queueRaft(message);
      }
    }
    // The followers start on the new entries now, not after this node's own sync.
    this.flushRaft();
    this.wakePeers();

    const persist: PersistRecord[] = [];
    for (const [group, , ready] of readies) {
      if (ready.entries.length === 0 && ready.hardState === undefined && ready.truncateFrom === undefined && ready.logStart === undefined) continue;
      persist.push({
        group,
        logStart: ready.logStart,
        truncateFrom: ready.truncateFrom,
        entries: ready.entries,
        hardState: ready.hardState,
      });
      this.counters.entriesPersisted += ready.entries.length;
    }
    // What committed is durable already (step 4 below). A leader's writes are answered by
    // their apply: those go first, not behind this batch's sync. A follower's apply only
    // serves its own reads: it comes after the acks the leaders wait for.
    const leading: Readies = [];
    const following: Readies = [];
    for (const r of readies) (r[1].role === 'leader' ? leading : following).push(r);
    if (leading.length > 0) {
      this.applyCommitted(leading);
      if (persist.length > 0) this.sendReplies();
    }
    let synced = false;
    if (persist.length > 0) {
      this.counters.walCommits++;
      if (this.store.syncs) {
        this.store.persist(persist, true);
        const unsynced = { readies, synced: false };
        this.unsynced = unsynced;
        this.jobs.startSync();
        if (this.mutation === 'ackBeforeSync') this.sendAfterPersist(readies);
        if (!unsynced.synced) {
          this.applyCommitted(following);
          return true;
        }
        this.unsynced = undefined;
        synced = true;
      } else {
        this.store.persist(persist);
      }
    }
    this.finishReadies(readies, synced);
    this.applyCommitted(following);
    return true;
  }

  /** Step 4: what committed is durable here already (a core hands out only entries made
   *  durable by an earlier, advanced Ready), so it is applied even while a sync runs. */
  private applyCommitted(readies: Readies): void {
    const apply: Array<{ group: number; entries: LogEntry[] }> = [];
    const splits: Array<[group: number, core: ReplicaCore, entry: LogEntry]> = [];
    for (const [group, core, ready] of readies) {
      if (ready.committed.length === 0) continue;
      // Taking in a snapshot: what the old log commits is older than it (the snapshot
      // replaces it all), and its membership entries too.
      if (this.snapshots.receiving(group)) continue;
      let committed = ready.committed;
      const cut = findSplit(this.store.group(group), committed);
      if (cut !== undefined) {
        // Nothing after a split entry is ever applied, on any replica (split.ts).
        this.refuseAfterSplit(group, committed.filter((e) => e.index > cut.index));
        committed = committed.filter((e) => e.index <= cut.index);
        if (cut.entry !== undefined && (core.isLogReplica || !this.applyStopped.has(group))) {
          // Durable before the apply of the split entry can be: a parent whose B-tree holds
          // the split must never apply what follows it, after any crash.
          const rec = this.store.group(group)!;
          if (rec.split === undefined) this.store.saveGroup({ ...rec, split: { ...decodeSplitEntry(cut.entry.data), index: cut.entry.index, term: cut.entry.term } });
          splits.push([group, core, cut.entry]);
        }
        if (committed.length === 0) continue;
      }
      this.saveMemberships(group, committed);
      // A log replica applies nothing (it has no B-tree); its WAL still compacts after
      // checkpoints, so it counts towards the next one.
      if (core.isLogReplica) this.appliedSinceCheckpoint += committed.length;
      else if (this.applyStopped.has(group)) this.stoppedApplying(group, core, committed);
      else apply.push({ group, entries: committed });
    }
    if (apply.length > 0) this.applyToStore(apply);
    for (const [group, core, entry] of splits) if (core.isLogReplica || !this.applyStopped.has(group)) this.finishSplit(group, core, entry);
  }

  /** The store's part of step 4: one apply transaction for every group's entries. */
  private applyToStore(apply: Array<{ group: number; entries: LogEntry[] }>): void {
    // The store applies the replication layer's entries (memberships, clock marks) as no-ops.
    const forStore = apply.map(({ group, entries }) => ({
      group,
      entries: entries.some((e) => isShellEntry(e.data)) ? entries.map((e) => (isShellEntry(e.data) ? { ...e, data: NO_OP } : e)) : entries,
    }));
    // Test-only mutation: the writes are answered before the store applies them.
    if (this.mutation === 'answerBeforeApply') for (const { group, entries } of apply) this.answerWrites(group, entries, entries.map(() => ({ ok: true })));
    const committedAtMs = this.traceClock?.() ?? 0;
    const results = this.store.applyCommitted(forStore);
    const appliedAtMs = this.traceClock?.() ?? 0;
    if (results.damaged !== undefined) this.noteApplyDamage(results);
    this.noteApplyTimes(apply, appliedAtMs || this.roundAtMs);
    if (this.outboxReads.size > 0) this.wakeOutboxReads(new Set(apply.map((a) => a.group)), this.roundAtMs);
    for (const { entries } of apply) {
      this.appliedSinceCheckpoint += entries.length;
      this.counters.entriesApplied += entries.length;
    }
    for (let i = 0; i < apply.length; i++) this.answerWrites(apply[i].group, apply[i].entries, results[i], committedAtMs, appliedAtMs);
  }

  /** Leader: proposes the split entry; answered once it applied here (answerWrites). */
  private proposeSplit(router: number, request: RequestMessage, core: ReplicaCore, body: Extract<NodeRequestBody, { t: 'split' }>): void {
    const rec = this.store.group(request.group)!;
    const problem = splitPointProblem(rec, body.at)
      ?? (body.children[0] === body.children[1] || body.children.some((g) => this.store.group(g) !== undefined || g === rec.group)
        ? `split children ${body.children.join(', ')} must be two new groups` : undefined);
    if (problem !== undefined) return this.reply(router, { id: request.id, error: { name: 'ValidationException', message: `Cannot split partition group ${rec.group}: ${problem}` } });
    const proposal = core.propose(encodeSplitEntry({ at: body.at, children: body.children }));
    if ('reason' in proposal) return this.redirect(router, request.id, proposal);
    this.pendingWrites.get(request.group)!.set(proposal.index, { router, id: request.id, term: proposal.term, trace: undefined });
  }

  /**
   * The split entry `entry` of `parent` applied here (its rows up to it are in the
   * B-tree; its record said so before, durably: it serves nothing and applies nothing
   * more): each child is hosted with those rows as its data and its core started, and the
   * parent's leader stands for leader of both at once. Then the record says the children
   * were made (`adopted`).
   */
  private finishSplit(parent: number, core: ReplicaCore, entry: LogEntry): void {
    const rec = this.store.group(parent);
    if (rec === undefined) return;
    const done: SplitDone = rec.split ?? { ...decodeSplitEntry(entry.data), index: entry.index, term: entry.term };
    for (const child of childRecords(rec, done)) {
      // Once created here, a child that is gone was dropped since (split again, moved):
      // a replay of the parent's split entry after a crash must not bring it back.
      if (done.adopted === true && this.store.group(child.group) === undefined) continue;
      this.store.adoptSplitChild(child, done);
      if (this.cores.has(child.group)) continue;
      const childCore = this.startCore(this.store.group(child.group)!);
      if (core.role === 'leader') childCore.campaign();
    }
    if (done.adopted !== true) this.store.saveGroup({ ...rec, split: { ...done, adopted: true } });
  }

  /** Entries of a split parent after its split entry: never applied; their writes are
   *  answered `wrongPartition` (the router sends them to the child that holds the key). */
  private refuseAfterSplit(group: number, entries: LogEntry[]): void {
    const pending = this.pendingWrites.get(group);
    if (pending === undefined || pending.size === 0) return;
    for (const entry of entries) {
      const waiter = pending.get(entry.index);
      if (waiter === undefined) continue;
      pending.delete(entry.index);
      this.reply(waiter.router, { id: waiter.id, redirect: 'wrongPartition' });
    }
  }

  /** Groups whose apply met a damaged value stopped before that entry (the store applied
   *  none of it): they apply nothing more until repaired (their entries stay in the WAL:
   *  the store's applied index, which checkpoints record, stays where it stopped). */
  private noteApplyDamage(results: ApplyBatchResults): void {
    for (const { group, index, error } of results.damaged ?? []) {
      this.counters.itemChecksumErrors++;
      this.applyStopped.set(group, index);
      this.markDamaged(group, `${error.message} (its apply stopped before entry ${index})`);
      const core = this.cores.get(group);
      if (core !== undefined) this.leaveLeadership(group, core);
    }
  }

  /** Committed entries of a group whose apply stopped: not applied here; their writes
   *  (applied by the healthy replicas) are answered as of unknown outcome. */
  private stoppedApplying(group: number, core: ReplicaCore, entries: LogEntry[]): void {
    this.answerWrites(group, entries, []);
    this.leaveLeadership(group, core);
  }

  /** When each group's entries applied, as (last index of a batch, ms) runs, bounded: the
   *  outbox reply carries them so the propagator can measure a global index's lag. */
  private noteApplyTimes(apply: Array<{ group: number; entries: LogEntry[] }>, atMs: number): void {
    for (const { group, entries } of apply) {
      let times = this.applyTimes.get(group);
      if (times === undefined) {
        times = [];
        this.applyTimes.set(group, times);
      }
      times.push([entries[entries.length - 1].index, atMs]);
      if (times.length > MAX_APPLY_TIMES) times.splice(0, times.length - MAX_APPLY_TIMES);
    }
  }

  /** A committed membership becomes the group's durable record, which a restarted core
   *  starts from (it finds later ones in the WAL above its applied index). */
  private saveMemberships(group: number, entries: LogEntry[]): void {
    for (let i = entries.length - 1; i >= 0; i--) {
      if (!isMembershipEntry(entries[i].data)) continue;
      const rec = this.store.group(group);
      if (rec === undefined) return;
      const m = decodeMembership(entries[i].data);
      this.store.saveGroup({ ...rec, voters: m.voters, logReplicas: m.logReplicas, awaited: m.awaited });
      return;
    }
  }

  /** Steps 3 and 5, once the batch is durable: acks and votes leave (their receivers are
   *  woken now, not after the apply), the cores advance. */
  private finishReadies(readies: Readies, synced: boolean): void {
    // Test-only mutation: after a sync these already left with the batch, before it.
    if (!synced || this.mutation !== 'ackBeforeSync') this.sendAfterPersist(readies);
    this.wakePeers();
    for (const [, core, ready] of readies) core.advance(ready);
  }

  private sendAfterPersist(readies: Readies): void {
    for (const [, , ready] of readies) for (const message of ready.sendAfterPersist) this.queueRaft(message);
    this.flushRaft();
  }

  private answerWrites(group: number, entries: LogEntry[], results: Array<WriteResult | undefined>, committedAtMs = 0, appliedAtMs = 0): void {
    const pending = this.pendingWrites.get(group);
    if (pending === undefined || pending.size === 0) return;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const waiter = pending.get(entry.index);
      if (waiter === undefined) continue;
      pending.delete(entry.index);
      if (waiter.term === entry.term && i >= results.length) {
        // Committed, but this replica's apply stopped before it (a damaged stored value):
        // what it would answer (a condition's outcome, old values) is unknown here.
        this.reply(waiter.router, {
          id: waiter.id,
          error: { name: 'InternalServerError', message: `The write was committed, but node ${this.id} could not apply it (a stored item of partition group ${group} is damaged and awaits repair), so its outcome is unknown here. Retry if the write is idempotent.` },
        });
      } else if (waiter.term === entry.term) {
        const trace = waiter.trace;
        if (trace === undefined) {
          this.reply(waiter.router, { id: waiter.id, body: results[i] });
        } else {
          // Applied in this round; what began it was the commit the core handed out.
          stampTrace(trace, ReplyTrace.COMMITTED, committedAtMs);
          stampTrace(trace, ReplyTrace.APPLIED, appliedAtMs);
          this.reply(waiter.router, { id: waiter.id, body: results[i], trace });
        }
      }
      // Another leader's entry took this index: ours was never applied, so a retry is safe.
      else this.reply(waiter.router, { id: waiter.id, redirect: 'notLeader' });
    }
  }

  private queueRaft(message: ReplicaMessage): void {
    let queue = this.raftOut.get(message.to);
    if (queue === undefined) {
      queue = [];
      this.raftOut.set(message.to, queue);
    }
    queue.push(message);
  }

  /** As few records per peer as fit. A full ring never blocks: what does not fit is
   *  dropped and the cores told, so they resend from the WAL later (invariant 5). */
  private flushRaft(): void {
    for (const [peer, messages] of this.raftOut) {
      if (messages.length === 0) continue;
      // A ring that takes a flush only in part must not refuse the same groups each time:
      // the groups come in the same order every round, and a group whose votes were always
      // the part refused stayed leaderless for good (simulator, seeds 3282 and 3290 of
      // 8cb9855, rings of 4 messages). The groups this peer took least lately go first.
      let taken = this.raftTaken.get(peer);
      if (taken === undefined) this.raftTaken.set(peer, (taken = new Map()));
      leastRecentlyTakenFirst(messages, taken);
      const unsent = new Set<number>();
      const version = this.transport.sendVersion;
      const wrap = (msgs: ReplicaMessage[]): unknown => envelopeToWire({ k: 'raft', msgs: version === 1 ? msgs : msgs.map((m) => raftToWire(m, version)) }, version);
      const sent = this.transport.send(peer, messages, wrap, messages.length, (tooLarge) => unsent.add(tooLarge.group), version);
      if (sent > 0) this.touched.add(peer);
      this.raftFlushes++;
      for (let i = 0; i < sent; i++) taken.set(messages[i].group, this.raftFlushes);
      for (let i = sent; i < messages.length; i++) unsent.add(messages[i].group);
      this.counters.raftSendsDropped += messages.length - sent + unsent.size;
      for (const group of unsent) this.cores.get(group)?.reportUnreachable(peer);
      messages.length = 0;
    }
  }

  private reply(router: number, reply: ReplyMessage): void {
    let queue = this.replyOut.get(router);
    if (queue === undefined) {
      queue = [];
      this.replyOut.set(router, queue);
    }
    if (queue.length >= MAX_QUEUED_REPLIES) {
      queue.shift();
      this.counters.repliesDropped++;
    }
    queue.push(reply);
  }

  /** Replies wait in their queue while a router's ring is full (the router drains fast). */
  private flushReplies(): void {
    for (const [router, queue] of this.replyOut) {
      if (queue.length === 0) continue;
      if (this.links?.isCut(this.id, router)) {
        // Lost on the way: the router times out and retries (or reports an unknown outcome).
        this.counters.recordsCut += queue.length;
        queue.length = 0;
        continue;
      }
      const version = this.transport.sendVersion;
      this.stampReplied(queue);
      const sent = this.transport.send(router, queue, (reps) => envelopeToWire({ k: 'rep', reps }, version), MAX_REPLIES_PER_RECORD,
        // One reply that does not fit a record never will: answer with an error instead.
        (tooLarge) => this.tooLargeReplies.push({ id: tooLarge.id, error: { name: 'ValidationException', message: 'The response is larger than the transport can carry; ask for less (Limit, ProjectionExpression).' } }),
        version);
      if (sent > 0) {
        queue.splice(0, sent);
        this.touched.add(router);
      }
      if (this.tooLargeReplies.length > 0) queue.unshift(...this.tooLargeReplies.splice(0));
    }
  }

  /** Being written to the router's ring now (ReplyTrace.REPLIED); a reply that does not
   *  fit waits and is stamped again on the next try. */
  private stampReplied(replies: ReplyMessage[]): void {
    if (this.traceClock === undefined) return;
    const now = this.traceClock();
    for (const reply of replies) if (reply.trace !== undefined) stampTrace(reply.trace, ReplyTrace.REPLIED, now);
  }

  private wakePeers(): void {
    for (const peer of this.touched) this.transport.wake(peer);
    this.touched.clear();
  }
}

/** Entries the shell acts on that the store applies as no-ops: memberships, clock marks,
 *  splits. */
function isShellEntry(data: Uint8Array): boolean {
  return isControlEntry(data) || isSplitEntry(data);
}

/** The follower to hand leadership to: the most caught-up full replica (a log replica
 *  never leads), preferring followers the leader is streaming to (replicate) over ones it
 *  is still probing. */
function handOverTarget(status: ReplicaStatus): number | undefined {
  let best: { id: number; match: number; replicating: boolean } | undefined;
  for (const [id, pr] of Object.entries(status.progress ?? {})) {
    if (pr.needsSnapshot === true || status.membership.logReplicas.includes(Number(id))) continue;
    const candidate = { id: Number(id), match: pr.match, replicating: pr.state === 'replicate' };
    if (best === undefined || (candidate.replicating && !best.replicating)
      || (candidate.replicating === best.replicating && candidate.match > best.match)) best = candidate;
  }
  return best?.id;
}

/** Orders a peer's messages so that the groups its ring took a message of least lately
 *  (`taken`: group → when) come first; a group's own messages keep their order. */
export function leastRecentlyTakenFirst(messages: ReplicaMessage[], taken: ReadonlyMap<number, number>): void {
  if (messages.length > 1) messages.sort((a, b) => (taken.get(a.group) ?? -1) - (taken.get(b.group) ?? -1));
}
