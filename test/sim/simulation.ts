/**
 * A deterministic simulation of a whole shardbox cluster in one thread, from one seed
 * (FoundationDB / TigerBeetle VOPR style). What runs is the production code: each node is
 * the real `StorageNode` (src/node/storage-node.ts: draining links, stepping its
 * `ReplicaCore`s, group commit, acks after the sync, apply, replies, checkpoints and WAL
 * compaction), each request router is the real `RouterCore` (src/router/router-core.ts:
 * leader cache, queues and windows per node, redirects, retries, timeouts), requests are
 * built by `encodeWriteOp` + src/expressions, and the state machine is
 * src/storage/apply.ts. What is simulated: time, the network (between nodes, and between
 * routers and nodes, rings included), and the disks (behind the node's ports,
 * src/node/ports.ts).
 *
 * Time is an integer count of microseconds; events run in (time, sequence) order from a
 * heap, so a seed replays exactly. Faults: message loss, duplication (node↔node only:
 * rings never duplicate a request), delay and reordering; symmetric and one-way cuts
 * between nodes and between routers and nodes; full rings (a node's inbound ring from a
 * node or a router holds `ringCapacity` messages until the node drains it: a node's write
 * that does not fit fails, and the node tells its core; a router keeps what does not fit
 * queued); pauses (a node alive but silent, that then takes every tick it
 * missed at once); crashes that lose whatever a node had not made durable (its in-memory
 * items, its in-flight WAL batch unless the disk kept it) and restarts from the last
 * checkpoint plus the WAL; planned restarts (the node hands its leaderships over, then
 * stops cleanly, as a deployment does); failed WAL syncs (the node must stop:
 * fsyncgate); tick skew between nodes. Knobs are drawn per seed (BUGGIFY): sizes of groups, election/lease/
 * heartbeat ticks, append batch bytes, in-flight limits, ring capacity, disk and network
 * latencies, checkpoint interval, wire format version, fault rates.
 *
 * Tick skew bound: node i's clock runs at 1/(1+δi) of simulated time, so its tick period
 * is tickUs·(1+δi) with |δi| ≤ σ. A lease dated from leader tick s ends by t(s) +
 * leaseTicks·pL; a voter that heard that append (after t(s)) refuses to vote for at least
 * (electionTicks−1)·pV after it heard it (its ticks are discrete). So leases are safe when
 * leaseTicks·pL ≤ (electionTicks−1)·pV for every pair, i.e. (1+σ)/(1−σ) ≤
 * (electionTicks−1)/leaseTicks. σ is drawn up to that bound (some seeds sit on it).
 */
import { StorageNode } from '../../src/node/storage-node.js';
import { NODE_MUTATIONS, type NodeMutation, type NodeTransport, type TransportStats } from '../../src/node/ports.js';
import { RouterCore, type RouterMutation, type RouterTransport } from '../../src/router/router-core.js';
import type { DynamoDBError } from '../../src/model/errors.js';
import type { NodeRequestBody } from '../../src/node/requests.js';
import type { LogEntry, ReplicaMessage } from '../../src/replication/types.js';
import { encodeWriteOp } from '../../src/storage/codec.js';
import type { GetRequest, GetResult, WriteOp, WriteResult } from '../../src/storage/operations.js';
import type { GroupRecord, PersistRecord } from '../../src/storage/wal.js';
import { INDEX_CONFIG_SPACE_ID, ITEM_COLLECTION_SPACE_ID, OUTBOX_SPACE_ID, type GroupIndexes } from '../../src/storage/indexes.js';
import { newContext, parseCondition, parseUpdate } from '../../src/expressions/index.js';
import { encodeItemKeyWithHash } from '../../src/model/key-encoding.js';
import { partitionHash } from '../../src/model/hash.js';
import type { Item, KeyShape } from '../../src/model/types.js';
import { seededRandom } from '../../src/model/prng.js';
import {
  envelopeFromWire, envelopeToWire, WireFormatError, type Envelope, type FormatVersion, type RequestMessage,
} from '../../src/transport/protocol.js';
import { MemItems, SimNodeStore } from './storage.js';
import { checkHistory, describeOp, type HistoryOp, type RegisterInput, type RegisterOutput, type RegisterState } from './linearizability.js';

// ------------------------------------------------------------------ options and knobs

export interface SimOptions {
  seed: number;
  /** Client operations in the run (default 2000). */
  ops?: number;
  /** ReplicaConfig.preVote for every replica (default true). */
  preVote?: boolean;
  /** A known bug switched on in every node's real StorageNode or every router's real
   *  RouterCore (the mutation checks). */
  bug?: NodeMutation | RouterMutation;
}

export interface Knobs {
  nodes: number;
  groups: number;
  replicasPerGroup: number;
  electionTicks: number;
  heartbeatTicks: number;
  leaseTicks: number;
  maxAppendBytes: number;
  maxInflightAppends: number;
  /** Messages a node→node ring holds until its reader drains them; a write to a full
   *  ring fails. */
  ringCapacity: number;
  tickUs: number;
  /** Per node: tick period factor − 1. */
  skew: number[];
  skewBound: number;
  dropRate: number;
  dupRate: number;
  clientDropRate: number;
  delayMinUs: number;
  delayMaxUs: number;
  /** Chance a message takes a slow path (up to a few ticks). */
  slowRate: number;
  diskMinUs: number;
  diskMaxUs: number;
  /** From a node's wake-up (a delivery, a tick, a finished sync) to its round. */
  roundDelayUs: number;
  /** The node's checkpoint interval (its own clock). */
  checkpointEveryUs: number;
  /** ReplicaConfig.logRetainEntries (0: no bound): small ones make lagging and restarted
   *  replicas catch up by snapshot. */
  logRetainEntries: number;
  /** Chance a crashed node's in-flight WAL record reached the disk anyway. */
  tornKeepRate: number;
  clients: number;
  /** Request routers the clients share (client c uses router c mod routers), as the
   *  threads of a process share theirs: a router then has several requests outstanding. */
  routers: number;
  keys: number;
  ecReadRate: number;
  thinkMaxUs: number;
  attemptTimeoutUs: number;
  deadlineUs: number;
  /** Mean time between faults. */
  faultEveryUs: number;
  /** The wire format every endpoint writes (messages go through its envelope codec). */
  formatVersion: FormatVersion;
  /** Chance a WAL sync fails while faults are on (the node then stops and restarts). */
  syncFailRate: number;
  /** Partition splits during the run (node/split.ts), at random times, under the faults. */
  splits: number;
  /** Chance a WAL sync is done before `startSync` returns, as the worker does it (on the
   *  node's thread); the others complete after a disk latency, the node going on meanwhile. */
  syncOnThreadRate: number;
}

export function drawKnobs(seed: number): Knobs {
  const r = seededRandom((seed ^ 0x6b6e6f62) >>> 0);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const nodes = r() < 0.75 ? 3 : 5;
  const electionTicks = int(6, 30);
  const heartbeatTicks = int(1, Math.max(1, Math.min(5, Math.floor(electionTicks / 3))));
  const leaseTicks = int(Math.max(1, Math.ceil(electionTicks / 3)), electionTicks - 2);
  const ratio = (electionTicks - 1) / leaseTicks;
  const skewBound = (ratio - 1) / (ratio + 1);
  const sigma = r() < 0.3 ? skewBound : r() * skewBound;
  const skew: number[] = [];
  for (let i = 0; i < nodes; i++) skew.push((2 * r() - 1) * sigma);
  const tickUs = 10_000;
  const lossy = r() < 0.7;
  const knobs: Knobs = {
    nodes,
    groups: int(1, 4),
    replicasPerGroup: nodes === 5 && r() < 0.4 ? 5 : 3,
    electionTicks,
    heartbeatTicks,
    leaseTicks,
    maxAppendBytes: pick([64, 512, 4096, 256 * 1024]),
    maxInflightAppends: pick([1, 2, 4, 16, 64]),
    ringCapacity: pick([4, 16, 64, 1024]),
    tickUs,
    skew,
    skewBound,
    dropRate: lossy ? r() * 0.1 : 0,
    dupRate: lossy ? r() * 0.05 : 0,
    clientDropRate: lossy ? r() * 0.02 : 0,
    delayMinUs: int(20, 200),
    delayMaxUs: int(300, 3000),
    slowRate: r() * 0.05,
    diskMinUs: int(50, 200),
    diskMaxUs: pick([300, 1000, 5000, 20_000]),
    roundDelayUs: pick([0, 50, 200]),
    checkpointEveryUs: pick([5, 20, 100]) * tickUs,
    tornKeepRate: pick([0, 0.5]),
    clients: int(2, 8),
    keys: int(3, 16),
    ecReadRate: r() * 0.3,
    thinkMaxUs: pick([100, 2000, 10_000]),
    attemptTimeoutUs: int(3, 6) * electionTicks * tickUs,
    deadlineUs: 30 * electionTicks * tickUs,
    faultEveryUs: int(1, 6) * electionTicks * tickUs,
    formatVersion: r() < 0.5 ? 1 : 2,
    syncFailRate: pick([0, 0, 0.001, 0.01]),
    routers: 0,
    logRetainEntries: 0,
    splits: 0,
    syncOnThreadRate: 0,
  };
  // Drawn last, so that adding them left every other knob of a seed as it was.
  knobs.routers = int(1, knobs.clients);
  knobs.logRetainEntries = pick([0, 0, 8, 40]);
  knobs.splits = pick([0, 1, 2, 3]);
  knobs.syncOnThreadRate = pick([0, 0.5, 1]);
  return knobs;
}

// ------------------------------------------------------------------ results

export interface SimStats {
  simulatedMs: number;
  events: number;
  ticks: number;
  messages: number;
  dropped: number;
  crashes: number;
  pauses: number;
  /** WAL syncs that failed (each stopped its node, which restarted). */
  syncFailures: number;
  /** Planned restarts (hand over, clean stop, start). */
  plannedStops: number;
  /** Elections a leader handing over asked for (TimeoutNow): counted in `elections`. */
  transfers: number;
  /** 1 when the faults had to stop before the clients finished (dense faults). */
  faultWindowEnded: number;
  opsOk: number;
  opsUnknown: number;
  opsUnavailable: number;
  /** Writes with unknown outcome that provably never applied (left out of the check). */
  unknownNeverApplied: number;
  strongReads: number;
  ecReads: number;
  elections: number;
  /** Elections started while the group had a working leader (see noteElection). */
  spuriousElections: number;
  appliedEntries: number;
  checkpoints: number;
  /** Snapshots installed by replicas that fell behind the WAL's bound (logRetainEntries). */
  snapshotsInstalled: number;
  maxKeySearchSteps: number;
  /** Partition splits completed (published), and replicas of a split parent rebuilt as
   *  empty children because they never applied the split. */
  splits: number;
  splitRepairs: number;
}

export interface SimReport {
  seed: number;
  knobs: Knobs;
  failures: string[];
  digest: string;
  stats: SimStats;
}

export class SimFailure extends Error {}

// ------------------------------------------------------------------ event queue

interface SimEvent {
  at: number;
  seq: number;
  run: () => void;
}

class EventQueue {
  private heap: SimEvent[] = [];
  private seq = 0;
  push(at: number, run: () => void): void {
    const e: SimEvent = { at, seq: this.seq++, run };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
  get size(): number {
    return this.heap.length;
  }
}

function less(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

// ------------------------------------------------------------------ the network

/** One ring record in flight: the message its sender's wrap built, in its format. */
interface Packet {
  kind: 'raft' | 'req' | 'rep';
  raw: unknown;
  version: FormatVersion;
  /** A node→node or router→node original (a duplicate is not): it holds a slot of the
   *  link's ring until its reader drains it, or until it is lost. */
  holdsSlot: boolean;
  /** Damaged on the way (corruptWrites): the reader's checksum drops it. */
  corrupt: boolean;
  /** A write request's tag (which writes may still arrive somewhere). */
  tag?: string;
  /** A raft packet's message as sent (the election bookkeeping reads appends). */
  message?: ReplicaMessage;
  /** A raft packet's doorbell, shared with its duplicate: rung when the sender woke the
   *  receiver after writing it. One never rung (a node that wrote and then crashed, or
   *  forgot the wake) waits in the inbox for the receiver's next round, as a record in a
   *  ring waits for a sleeping thread: a lost wake-up shows as a stall, not hidden. */
  bell?: { rung: boolean };
}

const TABLE_ID = 1;
const SHAPE: KeyShape = { hashName: 'pk', hashType: 'S' };
/** The simulated table's indexes, so that crashes and replays also exercise their upkeep
 *  in apply: a local index on ver (kept beside the items) and a global one on val (whose
 *  changes go to each group's outbox; no propagator runs here). */
const INDEXES: GroupIndexes = {
  local: [{ id: 2, name: 'byVer', key: { hash: [{ name: 'pk', type: 'S' }], range: [{ name: 'ver', type: 'N' }] }, projection: { type: 'INCLUDE', nonKeyAttributes: ['val'] } }],
  global: [{ id: 3, name: 'byVal', key: { hash: [{ name: 'val', type: 'S' }], range: [] }, projection: { type: 'KEYS_ONLY' } }],
};
const ROUTER_BASE = 1000;
/** The control plane's endpoint: it creates every group on its replicas at the start. */
const CONTROL_ENDPOINT = 999;
/** The node's tick period on its own clock (the simulator skews each node's clock). */
const TICK_MS = 10;

/**
 * One incarnation of a node's links, behind the node's transport port: a queue per peer
 * of the packets delivered and not yet read (the inbound rings), and sends that go on the
 * simulated network, one packet per message so that each is lost, delayed and reordered
 * on its own.
 */
class SimTransport implements NodeTransport {
  readonly inbox = new Map<number, Packet[]>();
  versionRejected = 0;
  lastRejectedVersion = 0;
  private decodeErrors = 0;
  private readonly recordsByVersion: Record<FormatVersion, number> = { 1: 0, 2: 0 };
  private readonly inbound = new Map<number, { records: number; corruptRecords: number; resyncs: number }>();
  readonly corrupting = new Map<number, { rate: number; random: () => number }>();
  /** Appends and TimeoutNows read since the simulator last looked (its election
   *  bookkeeping). */
  appendsRead: ReplicaMessage[] = [];
  timeoutNowsRead: ReplicaMessage[] = [];

  constructor(readonly id: number, readonly peers: readonly number[], private readonly sim: Simulation) {
    for (const peer of peers) {
      this.inbox.set(peer, []);
      this.inbound.set(peer, { records: 0, corruptRecords: 0, resyncs: 0 });
    }
  }

  get sendVersion(): FormatVersion {
    return this.sim.knobs.formatVersion;
  }

  receive(peer: number, visit: (envelope: Envelope, version: FormatVersion) => void): number {
    const queue = this.inbox.get(peer)!;
    if (queue.length === 0) return 0;
    this.inbox.set(peer, []);
    const counts = this.inbound.get(peer)!;
    for (const packet of queue) {
      this.sim.packetGone(peer, this.id, packet);
      counts.records++;
      if (packet.corrupt) {
        counts.corruptRecords++;
        continue;
      }
      this.recordsByVersion[packet.version]++;
      let envelope: Envelope;
      try {
        envelope = envelopeFromWire(packet.raw, packet.version);
      } catch (error) {
        if (!(error instanceof WireFormatError)) throw error;
        this.decodeErrors++;
        continue;
      }
      if (packet.message?.type === 'append') this.appendsRead.push(packet.message);
      else if (packet.message?.type === 'timeoutNow') this.timeoutNowsRead.push(packet.message);
      visit(envelope, packet.version);
    }
    return queue.length;
  }

  /** One record per item, so batching does not apply, and a simulated record has no size
   *  limit, so no item is ever too large. */
  send<T>(peer: number, items: readonly T[], wrap: (batch: T[]) => unknown, _maxBatch: number, _onTooLarge: (item: T) => void, version: FormatVersion): number {
    return this.sim.sendRecords(this, peer, items, wrap, version);
  }

  /** The doorbells of the packets written to each peer since it was last woken. */
  readonly unrung = new Map<number, Array<{ rung: boolean }>>();

  /** Rings the doorbells of what was written to `peer` since: their deliveries schedule
   *  its round. */
  wake(peer: number): void {
    const bells = this.unrung.get(peer);
    if (bells === undefined) return;
    for (const bell of bells) bell.rung = true;
    bells.length = 0;
  }

  corruptWrites(peer: number, rate: number, seed: number): void {
    if (rate === 0) this.corrupting.delete(peer);
    else this.corrupting.set(peer, { rate, random: seededRandom(seed) });
  }

  noteDecodeError(): void {
    this.decodeErrors++;
  }

  stats(): TransportStats {
    return {
      formatVersionRejected: this.versionRejected, decodeErrors: this.decodeErrors, recordsByVersion: { ...this.recordsByVersion },
      inboundRings: Object.fromEntries([...this.inbound].map(([peer, s]) => [peer, { ...s }])),
    };
  }
}

// ------------------------------------------------------------------ nodes

/** What the simulator watches of a replica between rounds (election bookkeeping). */
interface ReplicaWatch {
  term: number;
  /** The last append it accepted from a leader, on its node's clock (ticks). */
  heard: { leader: number; term: number; tick: number } | undefined;
}

class SimNode {
  alive = false;
  /** Incremented by every crash and restart: events of an earlier life find a different
   *  epoch and stop. */
  epoch = 0;
  /** The disk: survives crashes (its volatile part is reset by one). */
  readonly store: SimNodeStore;
  /** The running incarnation (the production StorageNode) and its links. */
  shell: StorageNode | undefined;
  transport: SimTransport | undefined;
  /** The WAL batch being synced, not yet on disk. */
  syncing: PersistRecord[] | undefined;
  /** The error the node was told its last sync ended with: its next round throws it. */
  syncError: Error | undefined;
  roundScheduled = false;
  /** When the pending tick wake-up is due (-1: none). */
  tickWakeAt = -1;
  /** A planned stop: the node hands its leaderships over until it is done or this time
   *  passes, then stops cleanly (closing: no more rounds). */
  handOverUntil: number | undefined;
  closing = false;
  roundEvent: () => void = () => {};
  tickEvent: () => void = () => {};
  /** A paused node (a GC pause, a descheduled thread: alive but silent) runs no round
   *  before this time; then it takes every tick it missed at once, then its messages. */
  pausedUntil = 0;
  /** The node's clock (ms) when this incarnation started. */
  startMs = 0;
  watches = new Map<number, ReplicaWatch>();
  /** The groups this node hosts. */
  readonly hosted: number[] = [];
  /** Simulated µs per ms of this node's clock: 1000·(1+skew). */
  readonly usPerMs: number;

  constructor(readonly id: number, skew: number, onApply: (group: number, entry: LogEntry, expectedIndex: number) => void) {
    this.usPerMs = 1000 * (1 + skew);
    this.store = new SimNodeStore(onApply);
  }

  /** This node's clock at simulated time `nowUs`. */
  clockMs(nowUs: number): number {
    return nowUs / this.usPerMs;
  }

  /** The first simulated µs at which this node's clock reads `ms` or more. */
  timeOf(ms: number): number {
    let t = Math.ceil(ms * this.usPerMs);
    while (this.clockMs(t) < ms) t++;
    return t;
  }

  /** Ticks this incarnation's clock has counted by `nowUs` (its logical clock). */
  ticksAt(nowUs: number): number {
    return Math.floor((this.clockMs(nowUs) - this.startMs) / TICK_MS);
  }
}

interface GroupInfo {
  group: number;
  replicas: number[];
  hashStart: bigint;
  rec: GroupRecord;
  /** A split parent: when the split finished (µs), and its children. */
  splitAtUs?: number;
  children?: [number, number];
}

// ------------------------------------------------------------------ routers and clients

type Outcome =
  | { kind: 'ok'; body: WriteResult | GetResult }
  /** A write that got no answer after it was sent: it may or may not apply. */
  | { kind: 'unknown' }
  /** Certainly not applied: redirected until the deadline, or refused by the router. */
  | { kind: 'unavailable' };

/** While a queue waits for ring space, the router looks again this often (ms): as the real
 *  driver's pump does (src/router/router.ts RING_FULL_RETRY_MS). */
const RING_FULL_RETRY_MS = 1;

/**
 * A request router: the production `RouterCore` (retries, leader cache, per-node queues
 * and windows, timers) on the simulated clock, its writes going out as packets on the
 * simulated network. It is driven as router.ts drives it: replies and requests are fed in,
 * then `flush`; one wake-up is kept pending for its next timer (`tick`, then `flush`).
 */
class SimRouter implements RouterTransport {
  readonly core: RouterCore;
  /** When the pending timer wake-up is due (µs; -1: none). */
  private wakeAt = -1;
  private readonly wakeEvent = (): void => {
    // A wake-up superseded by an earlier one does nothing.
    if (this.wakeAt !== this.sim.now) return;
    this.wakeAt = -1;
    this.core.tick(this.nowMs);
    this.core.flush(this.nowMs);
    this.scheduleWake();
  };

  constructor(readonly id: number, private readonly sim: Simulation, mutation: RouterMutation | undefined) {
    const k = sim.knobs;
    this.core = new RouterCore(this, { attemptTimeoutMs: k.attemptTimeoutUs / 1000, deadlineMs: k.deadlineUs / 1000 }, mutation);
  }

  private get nowMs(): number {
    return this.sim.now / 1000;
  }

  request(group: GroupInfo, mode: 'leader' | 'any', body: NodeRequestBody, idempotent: boolean, done: (o: Outcome) => void, hash?: bigint): void {
    const reroute = hash === undefined ? undefined : () => {
      const now = this.sim.groupOfHash(hash);
      return { group: now.group, replicas: now.replicas };
    };
    this.core.request({ mode, group: group.group, replicas: group.replicas, ...(reroute !== undefined ? { reroute } : {}) }, body, idempotent, this.nowMs, {
      resolve: (value) => done({ kind: 'ok', body: value as WriteResult | GetResult }),
      reject: (error) => done(this.outcomeOf(error)),
    });
    this.core.flush(this.nowMs);
    this.scheduleWake();
  }

  /** What a client learns from a rejection; an error the workload never causes fails the run. */
  private outcomeOf(error: DynamoDBError): Outcome {
    if (error.name === 'InternalServerError' && /outcome of the write is unknown/.test(error.message)) return { kind: 'unknown' };
    if (error.name === 'ServiceUnavailable' || error.name === 'ThrottlingException' || error.name === 'RequestLimitExceeded') return { kind: 'unavailable' };
    this.sim.fail(`router ${this.id}: a request failed with ${error.name}: ${error.message}`);
  }

  onRecord(packet: Packet): void {
    const envelope = envelopeFromWire(packet.raw, packet.version);
    if (envelope.k !== 'rep') this.sim.fail(`router ${this.id} got a '${envelope.k}' record`);
    for (const reply of envelope.reps) this.core.onReply(reply, this.nowMs);
    this.core.flush(this.nowMs);
    this.scheduleWake();
  }

  /** The control plane saw `node`'s thread end: what waits on it is moved or failed now. */
  nodeDown(node: number): void {
    this.core.nodeDown(node, this.nowMs);
    this.core.flush(this.nowMs);
    this.scheduleWake();
  }

  nodeUp(node: number): void {
    this.core.nodeUp(node);
  }

  /** Keeps one wake-up pending, for the core's next timer (sooner while a queue waits for
   *  ring space). */
  private scheduleWake(): void {
    let atMs = this.core.nextTimerAt();
    if (this.core.queuedTotal > 0) atMs = Math.min(atMs, this.nowMs + RING_FULL_RETRY_MS);
    if (!Number.isFinite(atMs)) return;
    // Whole µs, and later than now: a timer due within rounding of now fires next µs.
    const due = Math.max(Math.ceil(atMs * 1000), this.sim.now + 1);
    if (this.wakeAt !== -1 && this.wakeAt <= due) return;
    this.wakeAt = due;
    this.sim.at(due, this.wakeEvent);
  }

  write(node: number, requests: readonly RequestMessage[]): number {
    return this.sim.sendRequests(this.id, node, requests);
  }

  /** Nothing to do: a delivery schedules its node's round (the doorbell's job). */
  wake(): void {}

  /** A node in a planned restart (handing over, or stopped for it) gets nothing new, as the
   *  supervisor's draining flag says to every router. */
  isDraining(node: number): boolean {
    return this.sim.nodes[node].handOverUntil !== undefined;
  }
}

// ------------------------------------------------------------------ the simulation

export class Simulation {
  readonly seed: number;
  readonly knobs: Knobs;
  readonly rand: () => number;
  now = 0;
  private readonly queue = new EventQueue();
  readonly nodes: SimNode[] = [];
  /** The partitions now, in hash order (a split replaces one by its two children). */
  readonly groups: GroupInfo[] = [];
  /** Every group ever, split parents included, by group id. */
  private readonly allGroups = new Map<number, GroupInfo>();
  private nextGroup = 0;
  private readonly splitRand: () => number;
  private readonly routers: SimRouter[] = [];
  private readonly blocked = new Set<number>();
  private readonly linkInFlight = new Map<number, number>();
  private readonly preVote: boolean;
  private readonly nodeBug: NodeMutation | undefined;
  /** (group, index) → what the first replica to apply it applied. */
  private readonly appliedAt = new Map<number, Map<number, { term: number; data: Uint8Array }>>();
  private readonly acked: Array<{ tag: string; what: string }> = [];
  readonly history: HistoryOp[] = [];
  private readonly ecReads: Array<{ key: string; seen: RegisterState; client: number; at: number }> = [];
  /** val → ver of every write ever sent (increments: ver unknown, -1). */
  private readonly written = new Map<string, number>();
  private readonly failures: string[] = [];
  /** Write tags whose request packets are still in the network or an unread inbox. */
  private readonly requestsInFlight = new Map<string, number>();
  /** A write's log entry data (the very bytes the node proposes and replicates) → its tag. */
  private readonly tagOfEntry = new Map<Uint8Array, string>();
  /** Tag of each write some replica applied → where it was applied first. */
  private readonly appliedTags = new Map<string, { group: number; index: number }>();
  private faultsOn = true;
  private clientsDone = 0;
  private lossyNetwork = true;
  private hash = 0x811c9dc5;
  private eventSeq = 0;
  readonly stats: SimStats = {
    simulatedMs: 0, events: 0, ticks: 0, messages: 0, dropped: 0, crashes: 0, pauses: 0, syncFailures: 0, plannedStops: 0, transfers: 0, faultWindowEnded: 0,
    opsOk: 0, opsUnknown: 0, opsUnavailable: 0, unknownNeverApplied: 0,
    strongReads: 0, ecReads: 0, elections: 0, spuriousElections: 0, appliedEntries: 0, checkpoints: 0, snapshotsInstalled: 0, maxKeySearchSteps: 0,
    splits: 0, splitRepairs: 0,
  };

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.knobs = drawKnobs(options.seed);
    this.rand = seededRandom((options.seed * 2654435761) >>> 0);
    this.preVote = options.preVote ?? true;
    const bug = options.bug;
    this.nodeBug = NODE_MUTATIONS.includes(bug as NodeMutation) ? bug as NodeMutation : undefined;
    const routerBug = this.nodeBug === undefined ? bug as RouterMutation | undefined : undefined;
    const k = this.knobs;
    for (let i = 0; i < k.nodes; i++) {
      const node: SimNode = new SimNode(i, k.skew[i], (group, entry, expected) => this.checkApplied(node, group, entry, expected));
      this.nodes.push(node);
    }
    const space = 1n << 64n;
    for (let g = 0; g < k.groups; g++) {
      const replicas = this.shuffled([...Array(k.nodes).keys()]).slice(0, k.replicasPerGroup).sort((a, b) => a - b);
      const group = g + 1;
      const hashStart = (space * BigInt(g)) / BigInt(k.groups);
      const hashEnd = (space * BigInt(g + 1)) / BigInt(k.groups) - 1n;
      const rec: GroupRecord = {
        group, tableId: TABLE_ID, tableName: 'sim', keyShape: SHAPE, hashStart: hex16(hashStart), hashEnd: hex16(hashEnd), voters: replicas, indexes: INDEXES,
      };
      const info: GroupInfo = { group, replicas, hashStart, rec };
      this.groups.push(info);
      this.allGroups.set(group, info);
      for (const id of replicas) this.nodes[id].hosted.push(group);
      this.appliedAt.set(group, new Map());
    }
    this.nextGroup = k.groups + 1;
    // Its own stream: drawing split times leaves every other draw of a seed as it was.
    this.splitRand = seededRandom((options.seed ^ 0x53504c54) >>> 0);
    // The clients' routers, and the final reader's.
    for (let c = 0; c <= k.routers; c++) this.routers.push(new SimRouter(ROUTER_BASE + c, this, routerBug));
    // Nodes do not start in phase.
    for (const node of this.nodes) this.at(this.randInt(0, k.tickUs - 1), () => this.startNode(node));
  }

  // -------------------------------------------------------------- basics

  at(time: number, run: () => void): void {
    this.queue.push(Math.max(time, this.now), run);
  }

  fail(message: string): never {
    throw new SimFailure(this.formatFailure(message));
  }

  private formatFailure(message: string): string {
    return `[seed ${this.seed}, t=${(this.now / 1000).toFixed(3)} ms] ${message}`;
  }

  /** A global sequence number: the order of history events. */
  private seqNo(): number {
    return ++this.eventSeq;
  }

  private mix(x: number): void {
    this.hash = Math.imul(this.hash ^ (x | 0), 0x01000193) >>> 0;
  }

  private mixString(s: string): void {
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
  }

  private shuffled<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }

  private randInt(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }

  groupOfKey(pk: string): GroupInfo {
    return this.groupOfHash(partitionHash({ S: pk }));
  }

  groupOfHash(h: bigint): GroupInfo {
    let g = this.groups[0];
    for (const info of this.groups) if (info.hashStart <= h) g = info;
    return g;
  }

  // -------------------------------------------------------------- network

  private linkKey(from: number, to: number): number {
    return from * 4096 + to;
  }

  cutOneWay(from: number, to: number): void {
    this.blocked.add(this.linkKey(from, to));
  }

  cut(a: number, b: number): void {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
  }

  healAll(): void {
    this.blocked.clear();
  }

  /** A node's write of `items` to `to`: one packet per item. Node→node rings hold
   *  `ringCapacity` unread messages: the write stops at the first that does not fit. */
  sendRecords<T>(from: SimTransport, to: number, items: readonly T[], wrap: (batch: T[]) => unknown, version: FormatVersion): number {
    const corrupting = from.corrupting.get(to);
    const corrupt = () => corrupting !== undefined && corrupting.random() < corrupting.rate;
    if (to >= this.knobs.nodes) {
      // Replies: a router drains its ring at once, so it never fills.
      for (const item of items) this.transmit(from.id, to, { kind: 'rep', raw: wrap([item]), version, holdsSlot: false, corrupt: corrupt() });
      return items.length;
    }
    const sent = this.takeRingSlots(from.id, to, items.length);
    this.stats.dropped += items.length - sent;
    let bells = from.unrung.get(to);
    if (bells === undefined) from.unrung.set(to, (bells = []));
    for (let i = 0; i < sent; i++) {
      const bell = { rung: false };
      bells.push(bell);
      this.transmit(from.id, to, { kind: 'raft', raw: wrap([items[i]]), version, holdsSlot: true, corrupt: corrupt(), message: items[i] as ReplicaMessage, bell });
    }
    return sent;
  }

  /** A router's write of `requests` to node `to`: one packet per request (rings never
   *  duplicate one). The node's ring from the router holds `ringCapacity` unread requests,
   *  like a node→node ring: the write stops at the first that does not fit, and the router
   *  keeps the rest queued. */
  sendRequests(router: number, to: number, requests: readonly RequestMessage[]): number {
    const version = this.knobs.formatVersion;
    const sent = this.takeRingSlots(router, to, requests.length);
    for (let i = 0; i < sent; i++) {
      const request = requests[i];
      const body = request.body as NodeRequestBody;
      // A write's tag, whichever attempt (wire id) carries it: the entry is the one the client built.
      const tag = body.t === 'write' ? this.tagOfEntry.get(body.entry) : undefined;
      const raw = envelopeToWire({ k: 'req', from: router, reqs: [request] }, version);
      this.transmit(router, to, { kind: 'req', raw, version, holdsSlot: true, corrupt: false, tag });
    }
    return sent;
  }

  /** Takes up to `wanted` slots of the link's ring (freed by `packetGone`); returns how many. */
  private takeRingSlots(from: number, to: number, wanted: number): number {
    const lk = this.linkKey(from, to);
    const inFlight = this.linkInFlight.get(lk) ?? 0;
    const taken = Math.max(0, Math.min(wanted, this.knobs.ringCapacity - inFlight));
    this.linkInFlight.set(lk, inFlight + taken);
    return taken;
  }

  private transmit(from: number, to: number, packet: Packet): void {
    const k = this.knobs;
    this.stats.messages++;
    if (packet.tag !== undefined) this.requestsInFlight.set(packet.tag, (this.requestsInFlight.get(packet.tag) ?? 0) + 1);
    const copies = packet.kind === 'raft' && this.lossyNetwork && this.rand() < k.dupRate ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      let delay = this.randInt(k.delayMinUs, k.delayMaxUs);
      if (this.lossyNetwork && this.rand() < k.slowRate) delay += this.randInt(0, 3 * k.tickUs);
      const epoch = to < k.nodes ? this.nodes[to].epoch : 0;
      const copy = c === 0 ? packet : { ...packet, holdsSlot: false, tag: undefined };
      this.at(this.now + delay, () => this.deliver(from, to, copy, epoch));
    }
  }

  /** A packet read by its node, or lost: its ring slot is free, its request arrived. */
  packetGone(from: number, to: number, packet: Packet): void {
    if (packet.holdsSlot) {
      const lk = this.linkKey(from, to);
      this.linkInFlight.set(lk, this.linkInFlight.get(lk)! - 1);
    }
    if (packet.tag !== undefined) this.requestsInFlight.set(packet.tag, this.requestsInFlight.get(packet.tag)! - 1);
  }

  private deliver(from: number, to: number, packet: Packet, epoch: number): void {
    const lossRate = packet.kind === 'raft' ? this.knobs.dropRate : this.knobs.clientDropRate;
    if (this.blocked.has(this.linkKey(from, to)) || (this.lossyNetwork && this.rand() < lossRate)) {
      this.stats.dropped++;
      this.packetGone(from, to, packet);
      return;
    }
    if (to >= ROUTER_BASE) {
      if (!packet.corrupt) this.routers[to - ROUTER_BASE].onRecord(packet);
      return;
    }
    if (to === CONTROL_ENDPOINT) return; // createGroup's answers: the groups exist from the start
    const node = this.nodes[to];
    // A ring does not outlive its node: what was sent to an earlier life is gone.
    if (!node.alive || node.epoch !== epoch) {
      this.stats.dropped++;
      this.packetGone(from, to, packet);
      return;
    }
    node.transport!.inbox.get(from)!.push(packet);
    if (packet.bell === undefined || packet.bell.rung) this.scheduleRound(node);
  }

  /** Runs `fn` on the node's thread: not at all if the node died since (another epoch),
   *  later if it is paused. */
  private onNode(node: SimNode, epoch: number, fn: () => void): () => void {
    const run = () => {
      if (node.epoch !== epoch) return;
      if (this.now < node.pausedUntil) return this.at(node.pausedUntil, run);
      fn();
    };
    return run;
  }

  pause(node: SimNode, durationUs: number): void {
    if (!node.alive || this.now < node.pausedUntil) return;
    this.stats.pauses++;
    node.pausedUntil = this.now + durationUs;
  }

  // -------------------------------------------------------------- node lifecycle

  private peersOf(id: number): number[] {
    const peers: number[] = [];
    for (const node of this.nodes) if (node.id !== id) peers.push(node.id);
    peers.push(CONTROL_ENDPOINT);
    for (const router of this.routers) peers.push(router.id);
    return peers;
  }

  /** A node process starts: the production StorageNode over the node's disk, restarting
   *  every group it hosts from the last checkpoint and the WAL. */
  private startNode(node: SimNode): void {
    const k = this.knobs;
    const firstStart = node.epoch === 0;
    node.alive = true;
    this.mainRouter.nodeUp(node.id);
    node.epoch++;
    node.pausedUntil = 0;
    node.roundScheduled = false;
    node.tickWakeAt = -1;
    node.handOverUntil = undefined;
    node.closing = false;
    // This life's two recurring events (one closure each, not one per event).
    const epoch = node.epoch;
    node.roundEvent = this.onNode(node, epoch, () => {
      node.roundScheduled = false;
      if (!node.closing) this.round(node);
    });
    node.tickEvent = () => {
      // A wake-up superseded by a later one (the node ticked meanwhile) does nothing.
      if (node.epoch !== epoch || node.tickWakeAt !== this.now) return;
      node.tickWakeAt = -1;
      this.scheduleRound(node);
    };
    node.syncing = undefined;
    node.syncError = undefined;
    node.watches = new Map();
    node.transport = new SimTransport(node.id, this.peersOf(node.id), this);
    node.startMs = node.clockMs(this.now);
    try {
      node.shell = new StorageNode({
        transport: node.transport,
        storage: node.store,
        jobs: { startSync: () => this.startSync(node), startCheckpoint: () => this.startCheckpoint(node) },
        timing: { tickMs: TICK_MS, electionTicks: k.electionTicks, heartbeatTicks: k.heartbeatTicks, leaseTicks: k.leaseTicks },
        seed: (this.seed ^ Math.imul(node.id + 1, 0x85ebca6b) ^ Math.imul(node.epoch, 0xc2b2ae35)) >>> 0,
        nowMs: node.startMs,
        warn: (message) => this.fail(`node ${node.id} warned: ${message}`),
        tuning: {
          maxAppendBytes: k.maxAppendBytes, maxInflightAppends: k.maxInflightAppends, preVote: this.preVote,
          checkpointIntervalMs: k.checkpointEveryUs / 1000,
          ...(k.logRetainEntries > 0 ? { logRetainEntries: k.logRetainEntries } : {}),
          // A few rows a round: an install spans rounds, crashes and elections.
          snapshotInstallStepRows: 3,
        },
        mutation: this.nodeBug,
        // Reply traces on the simulated clock: the stamping code runs in every simulation.
        traceClock: () => this.now / 1000,
      });
    } catch (e) {
      this.fail(`node ${node.id} cannot restart: ${(e as Error).message}`);
    }
    if (firstStart) {
      // The control plane creates each group on its replicas; the lowest replica is its
      // designated first leader.
      const reqs: RequestMessage[] = [];
      for (const info of this.groups) {
        if (!info.replicas.includes(node.id)) continue;
        const body: NodeRequestBody = { t: 'createGroup', rec: info.rec, campaign: info.replicas[0] === node.id };
        reqs.push({ id: info.group, group: info.group, body });
      }
      const version = k.formatVersion;
      node.transport.inbox.get(CONTROL_ENDPOINT)!.push({
        kind: 'req', raw: envelopeToWire({ k: 'req', from: CONTROL_ENDPOINT, reqs }, version), version, holdsSlot: false, corrupt: false,
      });
    }
    this.scheduleRound(node);
  }

  /** The process dies: what was not durable is lost, and so is what its rings held. */
  crash(node: SimNode): void {
    if (!node.alive) return;
    this.stats.crashes++;
    this.stop(node);
  }

  private stop(node: SimNode): void {
    node.alive = false;
    node.epoch++;
    // The WAL batch being synced: each group's record reached the disk or it did not.
    if (node.syncing !== undefined) node.store.makeDurable(node.syncing.filter(() => this.rand() < this.knobs.tornKeepRate));
    node.syncing = undefined;
    node.store.crash();
    for (const [peer, queue] of node.transport!.inbox) for (const packet of queue) this.packetGone(peer, node.id, packet);
    node.shell = undefined;
    node.transport = undefined;
    this.mainRouter.nodeDown(node.id);
  }

  /** The router the supervisor tells when a node's thread exits or starts: in a process,
   *  the main thread's (src/api/); the other threads' routers learn only by timeouts. */
  private get mainRouter(): SimRouter {
    return this.routers[0];
  }

  restart(node: SimNode): void {
    if (node.alive) return;
    this.startNode(node);
  }

  /** A planned restart: hand over, stop cleanly, start again a little later. */
  private plannedStop(node: SimNode): void {
    if (!node.alive || node.handOverUntil !== undefined) return;
    this.stats.plannedStops++;
    node.handOverUntil = this.now + 3 * this.knobs.electionTicks * this.knobs.tickUs;
    this.scheduleRound(node);
  }

  /** The worker's clean close: wait for the sync in flight, checkpoint unless one runs
   *  (then compact), and stop; the node comes back after a short while. */
  private closeNode(node: SimNode): void {
    node.closing = true;
    if (node.syncing !== undefined) return; // called again when the sync completes
    const epoch = node.epoch;
    const down = () => {
      if (node.epoch !== epoch) return;
      this.stop(node);
      this.at(this.now + this.randInt(1, 4 * this.knobs.tickUs), () => this.restart(node));
    };
    if (node.shell!.checkpointRunning) return down();
    const snapshot = node.store.snapshot();
    this.at(this.now + this.randInt(this.knobs.diskMinUs, this.knobs.diskMaxUs) * 4, () => {
      if (node.epoch !== epoch) return;
      node.store.checkpointDone(snapshot);
      this.stats.checkpoints++;
      node.shell!.compactAfterCheckpoint();
      down();
    });
  }

  // -------------------------------------------------------------- driving the node

  private scheduleRound(node: SimNode): void {
    if (node.roundScheduled || !node.alive || node.closing) return;
    node.roundScheduled = true;
    this.at(this.now + this.knobs.roundDelayUs, node.roundEvent);
  }

  /** One round of the real node on its own clock. */
  private round(node: SimNode): void {
    const shell = node.shell!;
    const nextTickBefore = shell.nextTickAt;
    let worked: boolean;
    try {
      // A planned stop, as the worker does it: hand over before each round; once handed
      // over (or given up), one last round answers what arrived, then a clean close.
      const stopNow = node.handOverUntil !== undefined && (shell.handOver(node.clockMs(this.now)) || this.now >= node.handOverUntil);
      worked = shell.round(node.clockMs(this.now));
      if (stopNow) return this.closeNode(node);
    } catch (e) {
      if (e === undefined || e !== node.syncError) throw e;
      // Told by its disk to stop (fsyncgate): the thread dies, and the node restarts.
      this.stop(node);
      this.at(this.now + this.randInt(1, 2 * this.knobs.tickUs), () => this.restart(node));
      return;
    }
    this.stats.ticks += Math.round((shell.nextTickAt - nextTickBefore) / TICK_MS);
    if (worked) {
      this.watchReplicas(node);
      this.scheduleRound(node);
    } else {
      this.scheduleTickWake(node);
    }
  }

  /** An idle node wakes for its next tick. */
  private scheduleTickWake(node: SimNode): void {
    const due = node.timeOf(node.shell!.nextTickAt);
    if (node.tickWakeAt === due) return;
    node.tickWakeAt = due;
    this.at(due, node.tickEvent);
  }

  /** Group commit's sync: the batch is on disk at once (a sync on the node's thread) or
   *  after a disk latency, or (rarely, while faults are on) the sync fails and the disk
   *  kept any part of it. */
  private startSync(node: SimNode): void {
    const k = this.knobs;
    const records = node.store.takeUnsynced();
    if (k.syncOnThreadRate === 1 || (k.syncOnThreadRate > 0 && this.rand() < k.syncOnThreadRate)) {
      this.endSync(node, records);
      return;
    }
    node.syncing = records;
    const epoch = node.epoch;
    this.at(this.now + this.randInt(k.diskMinUs, k.diskMaxUs), () => {
      if (node.epoch !== epoch) return;
      node.syncing = undefined;
      if (node.closing) this.at(this.now, () => this.closeNode(node));
      this.endSync(node, records);
      this.scheduleRound(node);
    });
  }

  private endSync(node: SimNode, records: PersistRecord[]): void {
    const k = this.knobs;
    if (this.faultsOn && this.rand() < k.syncFailRate) {
      this.stats.syncFailures++;
      node.store.makeDurable(records.filter(() => this.rand() < k.tornKeepRate));
      node.syncError = new Error(`simulated WAL sync failure on node ${node.id}`);
      node.shell!.syncCompleted(node.syncError);
    } else {
      node.store.makeDurable(records);
      node.shell!.syncCompleted();
    }
  }

  /** The items store made durable: as it is now, once the (slower) sync completes. */
  private startCheckpoint(node: SimNode): void {
    const snapshot = node.store.snapshot();
    const epoch = node.epoch;
    this.at(this.now + this.randInt(this.knobs.diskMinUs, this.knobs.diskMaxUs) * 4, () => {
      if (node.epoch !== epoch) return;
      node.store.checkpointDone(snapshot);
      this.stats.checkpoints++;
      node.shell!.checkpointCompleted();
      this.scheduleRound(node);
    });
  }

  /** After a round: elections started, and appends accepted from a leader. */
  private watchReplicas(node: SimNode): void {
    const shell = node.shell!;
    const transport = node.transport!;
    const ticks = node.ticksAt(this.now);
    for (const m of transport.appendsRead) {
      const core = shell.replica(m.group);
      if (core !== undefined && core.leader === m.from && core.term === m.term) this.watchOf(node, m.group).heard = { leader: m.from, term: m.term, tick: ticks };
    }
    transport.appendsRead = [];
    for (const group of node.hosted) {
      const core = shell.replica(group);
      if (core === undefined) continue;
      const watch = this.watchOf(node, group);
      if (core.role === 'candidate' && core.term > watch.term) {
        // A leader handing over told this replica to stand (TimeoutNow): not spurious.
        const transfer = transport.timeoutNowsRead.some((m) => m.group === group);
        this.noteElection(group, transfer);
      }
      watch.term = core.term;
    }
    transport.timeoutNowsRead = [];
  }

  private watchOf(node: SimNode, group: number): ReplicaWatch {
    let watch = node.watches.get(group);
    if (watch === undefined) {
      watch = { term: node.shell!.replica(group)?.term ?? 0, heard: undefined };
      node.watches.set(group, watch);
    }
    return watch;
  }

  /**
   * Counts an election (a replica became candidate) and whether it was spurious: the group
   * had a working leader, i.e. a live replica in the leader role whose appends a quorum of
   * the group (the leader included) had accepted in its term within the last electionTicks
   * of their own clocks. (The candidate's own term does not matter: a replica whose term an
   * earlier failed campaign inflated disrupts the same healthy leader.) With pre-vote on,
   * the rare spurious one is a race: a pre-vote passed just before a concurrent election
   * finished, and the late candidate's term equals the new leader's. An election a leader
   * asked for while handing over (TimeoutNow) is a transfer, never spurious.
   */
  private noteElection(group: number, transfer: boolean): void {
    this.stats.elections++;
    if (transfer) {
      this.stats.transfers++;
      return;
    }
    // A split's child elects before the control plane published it: nothing to compare.
    const info = this.allGroups.get(group);
    if (info === undefined) return;
    let leader: { id: number; term: number } | undefined;
    for (const id of info.replicas) {
      const other = this.replicaOf(id, group);
      if (other?.role === 'leader' && (leader === undefined || other.term > leader.term)) leader = { id, term: other.term };
    }
    if (leader === undefined) return;
    let hearing = 0;
    for (const id of info.replicas) {
      if (id === leader.id) {
        hearing++;
        continue;
      }
      const node = this.nodes[id];
      const h = node.alive ? node.watches.get(group)?.heard : undefined;
      if (h !== undefined && h.leader === leader.id && h.term === leader.term && node.ticksAt(this.now) - h.tick < this.knobs.electionTicks) hearing++;
    }
    if (hearing >= Math.floor(info.replicas.length / 2) + 1) this.stats.spuriousElections++;
  }

  /** The replica of `group` on node `id`, while that node is up. */
  private replicaOf(id: number, group: number): ReturnType<StorageNode['replica']> {
    return this.nodes[id].shell?.replica(group);
  }

  /** Checker 1, online (every entry any store applies): entries apply in index order, and
   *  no two replicas apply different entries at one index, nor one write twice. */
  private checkApplied(node: SimNode, group: number, e: LogEntry, expectedIndex: number): void {
    if (e.index !== expectedIndex) this.fail(`node ${node.id} group ${group}: applying index ${e.index}, expected ${expectedIndex}`);
    this.stats.appliedEntries++;
    // A split's children apply before the control plane publishes them.
    let global = this.appliedAt.get(group);
    if (global === undefined) this.appliedAt.set(group, (global = new Map()));
    const seen = global.get(e.index);
    if (seen === undefined) {
      global.set(e.index, { term: e.term, data: e.data });
      const tag = this.tagOfEntry.get(e.data);
      if (tag !== undefined) {
        const first = this.appliedTags.get(tag);
        if (first !== undefined) this.fail(`write ${tag} applied twice: group ${first.group} index ${first.index}, and group ${group} index ${e.index}`);
        this.appliedTags.set(tag, { group, index: e.index });
      }
      this.mix(e.index);
      this.mix(e.term);
      return;
    }
    if (seen.term !== e.term || Buffer.compare(seen.data, e.data) !== 0) {
      this.fail(`node ${node.id} applied group ${group} index ${e.index} term ${e.term}, another replica applied term ${seen.term} there (different entries at one index)`);
    }
  }

  // -------------------------------------------------------------- clients

  private startClients(totalOps: number): void {
    const k = this.knobs;
    let issued = 0;
    for (let c = 0; c < k.clients; c++) {
      const router = this.routers[c % k.routers];
      let counter = 0;
      const lastVer = new Map<string, number | null>();
      const next = () => {
        if (issued >= totalOps) {
          this.clientsDone++;
          return;
        }
        issued++;
        this.issueOp(c, router, `c${c}-${counter++}`, lastVer, () => this.at(this.now + this.randInt(0, k.thinkMaxUs), next));
      };
      this.at(this.randInt(0, k.thinkMaxUs), next);
    }
  }

  private issueOp(client: number, router: SimRouter, val: string, lastVer: Map<string, number | null>, then: () => void): void {
    const k = this.knobs;
    const key = `k${this.randInt(0, k.keys - 1)}`;
    const group = this.groupOfKey(key);
    const hash = partitionHash({ S: key });
    const keyItem: Item = { pk: { S: key } };
    const x = this.rand();
    const known = lastVer.get(key);
    let input: RegisterInput;
    if (x < k.ecReadRate) {
      this.stats.ecReads++;
      const req: GetRequest = { tableId: TABLE_ID, key: keyItem };
      router.request(group, 'any', { t: 'get', consistent: false, req }, true, (o) => {
        if (o.kind === 'ok') {
          const seen = registerOf((o.body as GetResult).item);
          if (seen !== null) this.ecReads.push({ key, seen, client, at: this.now });
          this.mix(seen === null ? 0 : seen.ver);
        }
        then();
      }, hash);
      return;
    }
    const y = this.rand();
    if (y < 0.35) {
      input = { kind: 'read' };
    } else if (y < 0.55) {
      input = { kind: 'put', ver: (known ?? 0) + 1, val };
    } else if (y < 0.85) {
      const expectVer = known === undefined ? (this.rand() < 0.5 ? null : 1) : known;
      input = { kind: 'cas', expectVer, ver: (expectVer ?? 0) + 1, val };
    } else if (y < 0.95) {
      input = { kind: 'increment', val };
    } else {
      input = { kind: 'delete' };
    }
    const call = this.seqNo();
    const record = (ret: number, output: RegisterOutput | undefined) => {
      this.history.push({ client, key, call, ret, input, output, tag: val });
    };
    if (input.kind === 'read') {
      this.stats.strongReads++;
      const req: GetRequest = { tableId: TABLE_ID, key: keyItem };
      router.request(group, 'leader', { t: 'get', consistent: true, req }, true, (o) => {
        if (o.kind === 'ok') {
          const seen = registerOf((o.body as GetResult).item);
          record(this.seqNo(), seen);
          lastVer.set(key, seen === null ? null : seen.ver);
          this.stats.opsOk++;
          this.mix(seen === null ? 0 : seen.ver);
        } else {
          this.stats.opsUnavailable++;
        }
        then();
      }, hash);
      return;
    }
    const op = buildWriteOp(input, keyItem, group);
    if (input.kind === 'put' || input.kind === 'cas') this.written.set(input.val, input.ver);
    else if (input.kind === 'increment') this.written.set(input.val, -1);
    const entry = encodeWriteOp(op);
    this.tagOfEntry.set(entry, val);
    router.request(group, 'leader', { t: 'write', entry }, false, (o) => {
      if (o.kind === 'ok') {
        const result = o.body as WriteResult;
        let output: RegisterOutput;
        if (result.ok) output = 'ok';
        else if ((input.kind === 'cas' && result.error.name === 'ConditionalCheckFailedException') ||
          (input.kind === 'increment' && result.error.name === 'ValidationException')) output = 'failed';
        else this.fail(`client ${client}: ${describeOp({ client, key, call, ret: Infinity, input, output: undefined })} got ${result.error.name}: ${result.error.message}`);
        record(this.seqNo(), output);
        this.stats.opsOk++;
        this.acked.push({ tag: val, what: `${key} ${input.kind} ${val}` });
        if (input.kind === 'increment') lastVer.delete(key);
        else if (output === 'ok') lastVer.set(key, input.kind === 'delete' ? null : input.ver);
        this.mix(output === 'ok' ? 1 : 2);
      } else if (o.kind === 'unknown') {
        record(Infinity, undefined);
        this.stats.opsUnknown++;
        lastVer.delete(key);
      } else {
        this.stats.opsUnavailable++;
      }
      then();
    }, hash);
  }

  // -------------------------------------------------------------- faults (the nemesis)

  private scheduleFault(): void {
    const k = this.knobs;
    const delay = this.randInt(k.faultEveryUs / 2, (3 * k.faultEveryUs) / 2);
    this.at(this.now + delay, () => {
      if (!this.faultsOn) return;
      this.injectFault();
      this.scheduleFault();
    });
  }

  private leaderOf(info: GroupInfo): number | undefined {
    let best: { id: number; term: number } | undefined;
    for (const id of info.replicas) {
      const r = this.replicaOf(id, info.group);
      if (r?.role === 'leader' && (best === undefined || r.term > best.term)) best = { id, term: r.term };
    }
    return best?.id;
  }

  private healLater(links: Array<[number, number]>): void {
    const k = this.knobs;
    this.at(this.now + this.randInt(2, 30) * k.electionTicks * k.tickUs, () => {
      for (const [a, b] of links) this.blocked.delete(this.linkKey(a, b));
    });
  }

  private injectFault(): void {
    const k = this.knobs;
    const x = this.rand();
    const info = this.groups[this.randInt(0, this.groups.length - 1)];
    const leader = this.leaderOf(info) ?? info.replicas[0];
    const follower = info.replicas.find((r) => r !== leader)!;
    const node = this.nodes[this.randInt(0, this.nodes.length - 1)];
    if (x < 0.2) {
      // Crash, and restart after a while (often the leader).
      const victim = this.rand() < 0.5 ? this.nodes[leader] : node;
      this.crash(victim);
      this.at(this.now + this.randInt(1, 40) * k.electionTicks * k.tickUs / 4, () => this.restart(victim));
    } else if (x < 0.35) {
      // The leader cannot reach one follower (the follower stops hearing it).
      this.cutOneWay(leader, follower);
      this.healLater([[leader, follower]]);
    } else if (x < 0.45) {
      // The leader can send to a follower but hears nothing back from it.
      this.cutOneWay(follower, leader);
      this.healLater([[follower, leader]]);
    } else if (x < 0.6) {
      const other = this.nodes[(node.id + 1 + this.randInt(0, this.nodes.length - 2)) % this.nodes.length];
      this.cut(node.id, other.id);
      this.healLater([[node.id, other.id], [other.id, node.id]]);
    } else if (x < 0.7) {
      // Isolate a node.
      const links: Array<[number, number]> = [];
      for (const other of this.nodes) {
        if (other === node) continue;
        this.cut(node.id, other.id);
        links.push([node.id, other.id], [other.id, node.id]);
      }
      this.healLater(links);
    } else if (x < 0.85) {
      // A router that cannot reach a leader the followers still hear (one or both ways).
      const router = ROUTER_BASE + this.randInt(0, k.routers - 1);
      const links: Array<[number, number]> = [[router, leader]];
      this.cutOneWay(router, leader);
      if (this.rand() < 0.5) {
        this.cutOneWay(leader, router);
        links.push([leader, router]);
      }
      this.healLater(links);
    } else if (x < 0.88) {
      this.healAll();
    } else if (x < 0.95) {
      // Alive but silent for a while (often the leader), longer than a lease at times.
      const victim = this.rand() < 0.6 ? this.nodes[leader] : node;
      this.pause(victim, this.randInt(1, 3 * k.electionTicks) * k.tickUs);
    } else if (x < 0.975) {
      // A quick crash-restart of a random node (loses only what it had not persisted).
      this.crash(node);
      this.at(this.now + this.randInt(1, 2 * k.tickUs), () => this.restart(node));
    } else {
      // A planned restart (a deployment), often of a leader: it hands over first.
      this.plannedStop(this.rand() < 0.6 ? this.nodes[leader] : node);
    }
  }

  // -------------------------------------------------------------- splits (the control plane's part)

  /** `knobs.splits` splits at random times while the clients run, each of a random
   *  current partition, at a random point of its range. */
  private scheduleSplits(totalOps: number): void {
    const k = this.knobs;
    const spanUs = Math.max(1, totalOps * k.thinkMaxUs / Math.max(1, k.clients));
    for (let i = 0; i < k.splits; i++) {
      this.at(this.now + Math.floor(this.splitRand() * spanUs) + k.electionTicks * k.tickUs, () => {
        const info = this.groups[Math.floor(this.splitRand() * this.groups.length)];
        this.split(info);
      });
    }
    if (k.splits > 0) this.at(this.now + this.splitRepairEveryUs(), () => this.repairSplits());
  }

  /** How long after a split a replica that has not applied it is left to catch up by
   *  itself, and how often the repair looks (repairSplits). */
  private splitRepairLateUs(): number {
    return 20 * this.knobs.electionTicks * this.knobs.tickUs;
  }

  private splitRepairEveryUs(): number {
    return 5 * this.knobs.electionTicks * this.knobs.tickUs;
  }

  /** A split recent enough that a replica that missed it may still be waiting for its
   *  repair (which comes by design only splitRepairLateUs after the split): a quiet
   *  stretch then is that wait, not a stall. */
  private splitRepairMayBeDue(): boolean {
    for (const parent of this.allGroups.values()) {
      if (parent.splitAtUs !== undefined && this.now - parent.splitAtUs < this.splitRepairLateUs() + 2 * this.splitRepairEveryUs()) return true;
    }
    return false;
  }

  /** Asks the parent's leader to split (again until it answers with the split: the
   *  request is idempotent), then publishes the new map (this.groups). */
  private split(info: GroupInfo): void {
    if (!this.groups.includes(info) || info.children !== undefined) return;
    const lo = info.hashStart;
    const hi = BigInt(`0x${info.rec.hashEnd}`);
    if (hi - lo < 2n) return;
    const at = lo + 1n + BigInt(Math.floor(this.splitRand() * 1_000_000)) * (hi - lo - 1n) / 1_000_000n;
    const children: [number, number] = [this.nextGroup, this.nextGroup + 1];
    this.nextGroup += 2;
    info.children = children;
    const ask = (): void => {
      this.mainRouter.request(info, 'leader', { t: 'split', at: hex16(at), children }, true, (o) => {
        const done = o.kind === 'ok' ? (o.body as { split?: { at: string; children: [number, number] } } | undefined)?.split : undefined;
        if (done === undefined) {
          this.at(this.now + (o.kind === 'ok' ? 1 : this.knobs.electionTicks * this.knobs.tickUs), ask);
          return;
        }
        this.publishSplit(info, BigInt(`0x${done.at}`), done.children);
      });
    };
    ask();
  }

  private publishSplit(parent: GroupInfo, at: bigint, children: [number, number]): void {
    const lower: GroupInfo = { group: children[0], replicas: parent.replicas, hashStart: parent.hashStart, rec: { ...parent.rec, group: children[0], hashEnd: hex16(at - 1n) } };
    const upper: GroupInfo = { group: children[1], replicas: parent.replicas, hashStart: at, rec: { ...parent.rec, group: children[1], hashStart: hex16(at) } };
    for (const child of [lower, upper]) {
      this.allGroups.set(child.group, child);
      if (!this.appliedAt.has(child.group)) this.appliedAt.set(child.group, new Map());
    }
    this.groups.splice(this.groups.indexOf(parent), 1, lower, upper);
    parent.splitAtUs = this.now;
    this.stats.splits++;
  }

  /**
   * A replica of a split parent that has not applied the split long after it finished (it
   * lags behind the log the parent's leader keeps, or needs a snapshot, which a split
   * parent never sends): its parent replica is dropped and the children are created empty
   * there, to be brought up by snapshots (control/splits.ts does the same).
   */
  private repairSplits(): void {
    const lateUs = this.splitRepairLateUs();
    for (const parent of this.allGroups.values()) {
      if (parent.splitAtUs === undefined || this.now - parent.splitAtUs < lateUs) continue;
      for (const id of parent.replicas) {
        const node = this.nodes[id];
        if (!node.alive) continue;
        if (node.store.group(parent.group) === undefined) {
          const reqs: RequestMessage[] = [];
          // Dropped here by an earlier repair: the children, if not yet there.
          for (const c of parent.children!) {
            // A child split since is rebuilt as its own children (its repair, here).
            if (node.store.group(c) !== undefined || this.allGroups.get(c)!.children !== undefined) continue;
            reqs.push({ id: 0, group: c, body: { t: 'createGroup', rec: this.allGroups.get(c)!.rec, campaign: false } satisfies NodeRequestBody });
          }
          if (reqs.length > 0) this.sendControl(node, reqs);
          continue;
        }
        // It applied the split (its children are here, or were and moved on): nothing to do.
        if (parent.children!.some((c) => node.store.group(c) !== undefined) || node.store.group(parent.group)!.split !== undefined) continue;
        // First the parent goes (the node may refuse: ask again next time), then the children
        // come, empty: never both at once, or a node that still hosts the parent could split
        // it itself later.
        this.stats.splitRepairs++;
        this.sendControl(node, [{ id: 0, group: parent.group, body: { t: 'dropGroup' } satisfies NodeRequestBody }]);
      }
    }
    this.at(this.now + this.splitRepairEveryUs(), () => this.repairSplits());
  }

  /** Control requests from the control plane's endpoint (their answers are not read). */
  private sendControl(node: SimNode, reqs: RequestMessage[]): void {
    const version = this.knobs.formatVersion;
    node.transport!.inbox.get(CONTROL_ENDPOINT)!.push({
      kind: 'req', raw: envelopeToWire({ k: 'req', from: CONTROL_ENDPOINT, reqs }, version), version, holdsSlot: false, corrupt: false,
    });
    this.scheduleRound(node);
  }

  // -------------------------------------------------------------- running

  private runUntil(done: () => boolean, limitUs: number): boolean {
    const end = this.now + limitUs;
    while (!done()) {
      const e = this.queue.pop();
      if (e === undefined) return done();
      if (e.at > end) {
        this.queue.push(e.at, e.run);
        return false;
      }
      this.now = e.at;
      this.stats.events++;
      this.mix(e.at);
      e.run();
    }
    return true;
  }

  /** Every group has a serving leader and all its replicas applied its commit. */
  private converged(): boolean {
    for (const info of this.groups) {
      const leaderId = this.leaderOf(info);
      if (leaderId === undefined) return false;
      const leader = this.replicaOf(leaderId, info.group)!;
      if (leader.checkStrongRead() !== undefined) return false;
      for (const id of info.replicas) {
        const r = this.replicaOf(id, info.group);
        if (r === undefined || r.applied !== leader.commit || r.commit !== leader.commit) return false;
      }
    }
    return true;
  }

  run(totalOps: number): SimReport {
    const k = this.knobs;
    try {
      this.startClients(totalOps);
      this.scheduleFault();
      this.scheduleSplits(totalOps);
      // The workload, with faults for a while (dense faults can slow the clients a lot);
      // then the faults stop and the clients must finish within a bound (liveness).
      const finished = () => this.clientsDone === k.clients;
      const faultWindowUs = totalOps * 10 * k.tickUs + 1000 * k.electionTicks * k.tickUs;
      if (!this.runUntil(finished, faultWindowUs)) {
        this.stats.faultWindowEnded = 1;
        this.quiesce();
        const boundUs = 2 * k.deadlineUs + totalOps * k.tickUs;
        if (!this.runUntil(finished, boundUs)) {
          this.fail(`the clients did not finish ${totalOps} operations within ${boundUs / 1000} simulated ms after the faults stopped (liveness): ${this.groupStates()}`);
        }
      }
      // No more faults; every node up; the cluster must converge within a bound.
      this.quiesce();
      // A lagging replica may catch up slowly (one entry per append, one append in flight, a
      // slow disk): what must not happen is a stretch of 10 election timeouts in which no
      // replica applies anything.
      // A stall is reported, and the run goes on (up to a cap) so the safety checkers still run.
      const sliceUs = 10 * k.electionTicks * k.tickUs;
      let appliedBefore = this.appliedSum();
      let stalled = false;
      for (let slice = 1; !this.runUntil(() => this.converged(), sliceUs); slice++) {
        const applied = this.appliedSum();
        if (applied === appliedBefore && !stalled && !this.splitRepairMayBeDue()) {
          stalled = true;
          this.failures.push(this.formatFailure(`the healed cluster stalled: no replica applied anything for ${sliceUs / 1000} simulated ms (liveness): ${this.groupStates()}`));
        }
        if (slice >= 1000) this.fail(`the healed cluster did not converge within ${slice} × ${sliceUs / 1000} simulated ms (liveness): ${this.groupStates()}`);
        appliedBefore = applied;
      }
      this.finalReads();
      this.checkAcknowledged();
      this.checkReplicasIdentical();
      this.checkLinearizable();
      this.checkEventualReads();
      const internalErrors = this.nodes.reduce((sum, node) => sum + node.store.stats.applyInternalErrors, 0);
      if (internalErrors > 0) this.fail(`${internalErrors} internal errors while applying`);
    } catch (e) {
      if (e instanceof SimFailure) this.failures.push(e.message);
      else this.failures.push(`[seed ${this.seed}, t=${(this.now / 1000).toFixed(3)} ms] crashed: ${(e as Error).stack ?? String(e)}`);
    }
    this.stats.simulatedMs = Math.round(this.now / 1000);
    this.stats.snapshotsInstalled = this.nodes.reduce((sum, node) => sum + node.store.stats.snapshotsInstalled, 0);
    this.mix(this.stats.events);
    this.mix(Math.floor(this.rand() * 0xffffffff));
    return { seed: this.seed, knobs: this.knobs, failures: this.failures, digest: this.hash.toString(16).padStart(8, '0'), stats: this.stats };
  }

  private appliedSum(): number {
    let sum = 0;
    for (const info of this.groups) for (const id of info.replicas) sum += this.replicaOf(id, info.group)?.applied ?? 0;
    return sum;
  }

  /** Faults off for good: heal every cut, restart every node, a clean network. */
  private quiesce(): void {
    this.faultsOn = false;
    this.lossyNetwork = false;
    this.healAll();
    for (const node of this.nodes) {
      if (!node.closing) node.handOverUntil = undefined; // a deployment called off
      this.restart(node);
    }
  }

  private groupStates(): string {
    return this.groups.map((info) => `group ${info.group}: ` + info.replicas.map((id) => {
      const r = this.replicaOf(id, info.group);
      return r === undefined ? `${id}=down` : `${id}=${r.role}@${r.term} commit ${r.commit} applied ${r.applied}`;
    }).join(', ')).join('; ');
  }

  /** A strong read of every key by a fresh client: acknowledged writes must show. */
  private finalReads(): void {
    const router = this.routers[this.knobs.routers];
    let pending = 0;
    for (let i = 0; i < this.knobs.keys; i++) {
      const key = `k${i}`;
      const call = this.seqNo();
      pending++;
      router.request(this.groupOfKey(key), 'leader', { t: 'get', consistent: true, req: { tableId: TABLE_ID, key: { pk: { S: key } } } }, true, (o) => {
        pending--;
        if (o.kind !== 'ok') this.fail(`final strong read of ${key} failed on a healed cluster`);
        const seen = registerOf((o.body as GetResult).item);
        this.history.push({ client: -1, key, call, ret: this.seqNo(), input: { kind: 'read' }, output: seen });
        this.mixString(seen === null ? '-' : seen.val);
      }, partitionHash({ S: key }));
    }
    if (!this.runUntil(() => pending === 0, 100 * this.knobs.electionTicks * this.knobs.tickUs)) this.fail('final reads did not complete');
  }

  /** Checker 2: every acknowledged write is in the log every replica applied (checker 1
   *  makes sure no replica applied anything else at its index). */
  private checkAcknowledged(): void {
    for (const a of this.acked) {
      const at = this.appliedTags.get(a.tag);
      if (at === undefined) this.fail(`acknowledged write lost: ${a.what} was applied by no replica`);
      const info = this.allGroups.get(at.group)!;
      for (const id of info.replicas) {
        // A split parent dropped where it never applied the split (its children came by snapshot).
        if (info.children !== undefined && this.nodes[id].store.group(at.group) === undefined) continue;
        const applied = this.replicaOf(id, at.group)!.applied;
        if (applied < at.index) {
          const rec = this.nodes[id].store.group(at.group);
          const split = info.children === undefined ? '' : `; group ${at.group} split into ${info.children.join(', ')} (on node ${id}: ${JSON.stringify(rec?.split)}, children hosted: ${info.children.map((c) => this.nodes[id].store.group(c) !== undefined).join(', ')})`;
          this.fail(`acknowledged write ${a.what} (group ${at.group} index ${at.index}) not applied on node ${id} (applied ${applied})${split}`);
        }
      }
    }
  }

  /** Replicas that applied the same log hold the same items, local-index entries, item
   *  collection sizes and outbox records (compared per group). */
  private checkReplicasIdentical(): void {
    for (const info of this.groups) {
      const holds = (key: string): boolean => {
        const space = Buffer.from(key.slice(0, 4), 'latin1').readUInt32BE(0);
        if (space === OUTBOX_SPACE_ID) return Buffer.from(key.slice(4, 8), 'latin1').readUInt32BE(0) === info.group;
        // A collection's size row: space | local index id | hash | pk.
        if (space === ITEM_COLLECTION_SPACE_ID) return this.groupOfHash(Buffer.from(key.slice(8, 16), 'latin1').readBigUInt64BE(0)) === info;
        return space !== INDEX_CONFIG_SPACE_ID && this.groupOfHash(hashOfStored(key)) === info;
      };
      const digests = info.replicas.map((id) => ({ id, d: digestWhere(this.nodes[id].store.items, holds) }));
      for (const { id, d } of digests) {
        if (d !== digests[0].d) this.fail(`group ${info.group}: node ${id} holds different items (${d}) from node ${digests[0].id} (${digests[0].d})`);
      }
      this.mixString(digests[0].d);
    }
  }

  /** Checker 3: per key, strong reads and writes are linearizable. A write with unknown
   *  outcome that no replica ever applied, and whose requests have all left the network,
   *  never took effect: it is left out (each one pending forever would multiply the
   *  search). */
  private checkLinearizable(): void {
    const history = this.history.filter((o) => {
      if (Number.isFinite(o.ret) || o.input.kind === 'read') return true;
      const tag = o.tag!;
      const never = !this.appliedTags.has(tag) && (this.requestsInFlight.get(tag) ?? 0) === 0;
      if (never) this.stats.unknownNeverApplied++;
      return !never;
    });
    for (const v of checkHistory(history, 2_000_000)) {
      this.stats.maxKeySearchSteps = Math.max(this.stats.maxKeySearchSteps, v.steps);
      if (v.ok) continue;
      if (v.inconclusive) this.fail(`key ${v.key}: linearizability search gave up after ${v.steps} steps (${v.ops} operations)`);
      // Show where the search got stuck: the end of the longest order it found, then the
      // operations it could not place.
      const ordered = v.longestLinearized ?? [];
      const placed = new Set(ordered);
      const rest = history.filter((o) => o.key === v.key && !placed.has(o)).sort((a, b) => a.call - b.call);
      const lines = [...ordered.slice(-12).map((o) => `  ${describeOp(o)}`), '  -- could not order:', ...rest.slice(0, 24).map((o) => `  ${describeOp(o)}`)];
      this.fail(`key ${v.key}: history is not linearizable (${v.ops} operations; ordered ${ordered.length} before getting stuck):\n  ${lines.join('\n  ')}`);
    }
  }

  /** Checker 4: eventually consistent reads return only values that were written. */
  private checkEventualReads(): void {
    for (const r of this.ecReads) {
      const ver = this.written.get(r.seen.val);
      if (ver === undefined || (ver !== -1 && ver !== r.seen.ver)) {
        this.fail(`client ${r.client}: eventually consistent read of ${r.key} returned ${r.seen.ver}:${r.seen.val}, which no one wrote`);
      }
    }
  }
}

// ------------------------------------------------------------------ helpers

function registerOf(item: Item | undefined): RegisterState | null {
  if (item === undefined) return null;
  const ver = item.ver;
  const val = item.val;
  if (ver === undefined || !('N' in ver) || val === undefined || !('S' in val)) throw new SimFailure(`an item without ver/val: ${JSON.stringify(item)}`);
  return { ver: Number(ver.N), val: val.S };
}

/** The WriteOp a client sends for a register operation, built as the api builds it. */
function buildWriteOp(input: RegisterInput, key: Item, group: GroupInfo): WriteOp {
  const itemKey = encodeItemKeyWithHash(TABLE_ID, partitionHash(key.pk), SHAPE, key);
  switch (input.kind) {
    case 'put':
      return { type: 'put', tableId: TABLE_ID, key, item: { ...key, ver: { N: String(input.ver) }, val: { S: input.val } }, returnValues: 'NONE', itemKey };
    case 'cas': {
      const condition = input.expectVer === null
        ? parseCondition('attribute_not_exists(pk)', newContext())
        : parseCondition('ver = :expected', newContext(undefined, { ':expected': { N: String(input.expectVer) } }));
      return { type: 'put', tableId: TABLE_ID, key, item: { ...key, ver: { N: String(input.ver) }, val: { S: input.val } }, returnValues: 'NONE', condition, itemKey };
    }
    case 'increment': {
      const update = parseUpdate('SET ver = ver + :one, val = :val', newContext(undefined, { ':one': { N: '1' }, ':val': { S: input.val } }));
      return { type: 'update', tableId: TABLE_ID, key, update, returnValues: 'NONE', itemKey };
    }
    case 'delete':
      return { type: 'delete', tableId: TABLE_ID, key, returnValues: 'NONE', itemKey };
    case 'read':
      throw new Error(`buildWriteOp: a read is not a write (group ${group.group})`);
  }
}

/** The partition hash inside a stored item key: tableId (4 bytes) | hash (8 bytes) | ... */
function hashOfStored(stored: string): bigint {
  return Buffer.from(stored.slice(4, 12), 'latin1').readBigUInt64BE(0);
}

function hex16(hash: bigint): string {
  return hash.toString(16).padStart(16, '0');
}

function digestWhere(items: MemItems, keep: (key: string) => boolean): string {
  const keys = [...items.map.keys()].filter(keep).sort();
  let h = 0x811c9dc5;
  for (const k of keys) {
    const v = items.map.get(k)!;
    for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193) >>> 0;
    for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v[i], 0x01000193) >>> 0;
  }
  return `${keys.length}/${h.toString(16)}`;
}

export function runSimulation(options: SimOptions): SimReport {
  const sim = new Simulation(options);
  return sim.run(options.ops ?? 2000);
}
