/**
 * A deterministic simulation of a whole shardbox cluster in one thread, from one seed
 * (FoundationDB / TigerBeetle VOPR style). What runs is the real code: `ReplicaCore` for
 * consensus, `encodeWriteOp` + src/expressions for the requests, and src/storage/apply.ts
 * over an in-memory store for the state machine. What is simulated: time, the network
 * (between nodes, and between routers and nodes), disks, the node shell (modelled on
 * src/node/storage-node.ts) and the routers (modelled on src/router/router.ts).
 *
 * Time is an integer count of microseconds; events run in (time, sequence) order from a
 * heap, so a seed replays exactly. Faults: message loss, duplication (node↔node only:
 * rings never duplicate a request), delay and reordering; symmetric and one-way cuts
 * between nodes and between routers and nodes; full rings (a send is dropped and the core
 * told, as the shell does); pauses (a node alive but silent, that then takes every tick
 * it missed at once, as storage-node does); crashes that lose whatever a node had not
 * persisted (its in-memory items, its in-flight WAL batch unless the disk kept it) and
 * restarts from the last checkpoint plus the WAL; tick skew between nodes. Knobs are drawn per seed
 * (BUGGIFY): sizes of groups, election/lease/heartbeat ticks, append batch bytes,
 * in-flight limits, ring capacity, disk and network latencies, fault rates.
 *
 * Tick skew bound: node i's tick period is tickUs·(1+δi) with |δi| ≤ σ. A lease dated from
 * leader tick s ends by t(s) + leaseTicks·pL; a voter that heard that append (after t(s))
 * refuses to vote for at least (electionTicks−1)·pV after it heard it (its ticks are
 * discrete). So leases are safe when leaseTicks·pL ≤ (electionTicks−1)·pV for every pair,
 * i.e. (1+σ)/(1−σ) ≤ (electionTicks−1)/leaseTicks. σ is drawn up to that bound (some seeds
 * sit on it).
 */
import { ReplicaCore } from '../../src/replication/replica-core.js';
import type { NotServing, Ready, ReplicaMessage, LogEntry } from '../../src/replication/types.js';
import { applyWriteOp, getItem, type ApplyStats, type ApplyTarget } from '../../src/storage/apply.js';
import { decodeRawWriteOp, encodeWriteOp } from '../../src/storage/codec.js';
import type { GetRequest, GetResult, WriteOp, WriteResult } from '../../src/storage/operations.js';
import { newContext, parseCondition, parseUpdate } from '../../src/expressions/index.js';
import { encodeItemKeyWithHash } from '../../src/model/key-encoding.js';
import { partitionHash } from '../../src/model/hash.js';
import type { Item, KeyShape } from '../../src/model/types.js';
import { seededRandom } from '../../src/node/prng.js';
import { MemItems, MemLog, type PersistRecord } from './storage.js';
import { checkHistory, describeOp, type HistoryOp, type RegisterInput, type RegisterOutput, type RegisterState } from './linearizability.js';

// ------------------------------------------------------------------ options and knobs

/** Deliberate bugs in the simulated shell (never in ReplicaCore), to show the checkers
 *  catch them. */
export type InjectedBug =
  /** A node answers a strong read whenever its core is leader, without the lease. */
  | 'strongReadWithoutLease'
  /** Any replica answers a strong read from its own state (no leader check at all). */
  | 'strongReadAnyReplica'
  /** A leader acknowledges a write as soon as it is proposed, before quorum commit. */
  | 'ackBeforeCommit';

export interface SimOptions {
  seed: number;
  /** Client operations in the run (default 2000). */
  ops?: number;
  /** ReplicaConfig.preVote for every replica (default true). */
  preVote?: boolean;
  bug?: InjectedBug;
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
  /** Messages in flight on one node→node link before sends are dropped (a full ring). */
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
  roundDelayUs: number;
  checkpointEveryUs: number;
  /** Chance a crashed node's in-flight WAL record reached the disk anyway. */
  tornKeepRate: number;
  clients: number;
  keys: number;
  ecReadRate: number;
  thinkMaxUs: number;
  attemptTimeoutUs: number;
  deadlineUs: number;
  /** Mean time between faults. */
  faultEveryUs: number;
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
  return {
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
  };
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
  maxKeySearchSteps: number;
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

// ------------------------------------------------------------------ wire messages

type RequestBody =
  /** `tag`: the write's unique value (simulator bookkeeping, to learn whether it ever applied). */
  | { t: 'write'; entry: Uint8Array; tag: string }
  | { t: 'get'; consistent: boolean; req: GetRequest };

interface Request {
  router: number;
  id: number;
  attempt: number;
  group: number;
  body: RequestBody;
}

type Redirect = 'notLeader' | 'notReady' | 'busy';

interface Reply {
  id: number;
  attempt: number;
  body?: WriteResult | GetResult;
  redirect?: Redirect;
  leader?: number;
  /** Simulator bookkeeping: the log position of an acknowledged write. */
  acked?: { group: number; index: number; term: number };
}

type Packet =
  | { k: 'raft'; msg: ReplicaMessage }
  | { k: 'req'; req: Request }
  | { k: 'rep'; rep: Reply };

// ------------------------------------------------------------------ nodes

interface PendingWrite {
  router: number;
  id: number;
  attempt: number;
  term: number;
}

interface Replica {
  group: number;
  core: ReplicaCore;
  pending: Map<number, PendingWrite>;
  /** Ticks this incarnation of the core has seen (its logical clock). */
  ticks: number;
  /** The last append it accepted from a leader, on its own clock (spurious-election bookkeeping). */
  heard: { leader: number; term: number; tick: number } | undefined;
}

type Readies = Array<[Replica, Ready]>;

interface Checkpoint {
  items: Map<string, Uint8Array>;
  applied: Map<number, number>;
}

class SimNode {
  alive = true;
  /** Incremented by every crash: events of an earlier life find a different epoch and stop. */
  epoch = 0;
  readonly wal = new Map<number, MemLog>();
  checkpoint: Checkpoint = { items: new Map(), applied: new Map() };
  // Volatile state (lost by a crash).
  items = new MemItems();
  /** Per group, the last index applied to `items` (kept with the items, as ItemStore
   *  records it in the same transaction; the core's applied index lags until advance). */
  applied = new Map<number, number>();
  replicas = new Map<number, Replica>();
  strongReads: Request[] = [];
  unsynced: { readies: Readies; records: PersistRecord[] } | undefined;
  roundScheduled = false;
  checkpointRunning = false;
  /** A paused node (a GC pause, a descheduled thread: alive but silent) does nothing
   *  before this time; then it takes every tick it missed at once, then its messages. */
  pausedUntil = 0;
  /** Due time of the next tick; the tick chain stalls while paused. */
  nextTickDue = 0;
  tickStalled = false;
  tick: () => void = () => {};
  constructor(readonly id: number, readonly tickUs: number) {}
}

interface GroupInfo {
  group: number;
  replicas: number[];
  target: ApplyTarget;
  hashStart: bigint;
}

// ------------------------------------------------------------------ routers and clients

interface Outstanding {
  id: number;
  group: number;
  replicas: number[];
  mode: 'leader' | 'any';
  body: RequestBody;
  idempotent: boolean;
  attempts: number;
  node: number;
  deadlineAt: number;
  inFlight: boolean;
  done: (outcome: Outcome) => void;
}

type Outcome =
  | { kind: 'ok'; body: WriteResult | GetResult; acked?: Reply['acked'] }
  /** A write that timed out after it was sent: it may or may not apply. */
  | { kind: 'unknown' }
  /** Nothing was applied (only redirects until the deadline). */
  | { kind: 'unavailable' };

const RETRY_MIN_US = 1000;
const RETRY_MAX_US = 50_000;

class SimRouter {
  readonly leaders = new Map<number, number>();
  readonly outstanding = new Map<number, Outstanding>();
  private nextId = 1;
  private anyCursor = 0;
  constructor(readonly id: number, private readonly sim: Simulation) {}

  request(group: GroupInfo, mode: 'leader' | 'any', body: RequestBody, idempotent: boolean, done: (o: Outcome) => void): void {
    const req: Outstanding = {
      id: this.nextId++, group: group.group, replicas: group.replicas, mode, body, idempotent, attempts: 0,
      node: -1, deadlineAt: this.sim.now + this.sim.knobs.deadlineUs, inFlight: false, done,
    };
    req.node = this.choose(req, 0);
    this.outstanding.set(req.id, req);
    this.send(req);
  }

  private choose(req: Outstanding, attempt: number): number {
    if (req.mode === 'any') return req.replicas[(this.anyCursor++ + attempt) % req.replicas.length];
    return this.leaders.get(req.group) ?? req.replicas[attempt % req.replicas.length];
  }

  private send(req: Outstanding): void {
    req.attempts++;
    req.inFlight = true;
    const attempt = req.attempts;
    this.sim.sendPacket(this.id, req.node, { k: 'req', req: { router: this.id, id: req.id, attempt, group: req.group, body: req.body } });
    this.sim.at(this.sim.now + this.sim.knobs.attemptTimeoutUs, () => {
      if (this.outstanding.get(req.id) === req && req.inFlight && req.attempts === attempt) this.lost(req);
    });
  }

  onReply(rep: Reply): void {
    const req = this.outstanding.get(rep.id);
    if (req === undefined || !req.inFlight || req.attempts !== rep.attempt) return; // stale
    req.inFlight = false;
    if (rep.redirect === undefined) {
      if (req.mode === 'leader') this.leaders.set(req.group, req.node);
      this.outstanding.delete(req.id);
      req.done({ kind: 'ok', body: rep.body!, acked: rep.acked });
      return;
    }
    if (rep.redirect === 'notLeader') {
      if (rep.leader !== undefined && rep.leader !== req.node) {
        this.leaders.set(req.group, rep.leader);
        return this.retry(req, req.attempts > 3 ? this.backoff(req) : 0, rep.leader);
      }
      this.leaders.delete(req.group);
      return this.retry(req, this.backoff(req), undefined);
    }
    return this.retry(req, this.backoff(req), req.node);
  }

  private backoff(req: Outstanding): number {
    return Math.min(RETRY_MAX_US, RETRY_MIN_US * 2 ** Math.min(req.attempts, 10));
  }

  private retry(req: Outstanding, delayUs: number, node: number | undefined): void {
    if (this.sim.now + delayUs >= req.deadlineAt) {
      this.outstanding.delete(req.id);
      req.done({ kind: 'unavailable' });
      return;
    }
    req.node = node ?? this.choose(req, req.attempts);
    this.sim.at(this.sim.now + delayUs, () => {
      if (this.outstanding.get(req.id) === req) this.send(req);
    });
  }

  /** No reply in time: reads are retried elsewhere; a write's outcome is unknown. */
  private lost(req: Outstanding): void {
    req.inFlight = false;
    if (req.mode === 'leader') this.leaders.delete(req.group);
    if (req.idempotent) return this.retry(req, 0, this.choose(req, req.attempts));
    this.outstanding.delete(req.id);
    req.done({ kind: 'unknown' });
  }
}

// ------------------------------------------------------------------ the simulation

const TABLE_ID = 1;
const SHAPE: KeyShape = { hashName: 'pk', hashType: 'S' };
const ROUTER_BASE = 1000;

export class Simulation {
  readonly seed: number;
  readonly knobs: Knobs;
  readonly rand: () => number;
  now = 0;
  private readonly queue = new EventQueue();
  readonly nodes: SimNode[] = [];
  readonly groups: GroupInfo[] = [];
  private readonly routers: SimRouter[] = [];
  private readonly blocked = new Set<number>();
  private readonly linkInFlight = new Map<number, number>();
  private readonly preVote: boolean;
  private readonly bug: InjectedBug | undefined;
  private readonly applyStats: ApplyStats = { applyTxns: 0, appliedEntries: 0, applyInternalErrors: 0 };
  /** (group, index) → what the first replica to apply it applied. */
  private readonly appliedAt = new Map<number, Map<number, { term: number; data: Uint8Array }>>();
  private readonly acked: Array<{ group: number; index: number; term: number; what: string }> = [];
  readonly history: HistoryOp[] = [];
  private readonly ecReads: Array<{ key: string; seen: RegisterState; client: number; at: number }> = [];
  /** val → ver of every write ever sent (increments: ver unknown, -1). */
  private readonly written = new Map<string, number>();
  private readonly failures: string[] = [];
  /** Write tags whose request packets are still in the network. */
  private readonly requestsInFlight = new Map<string, number>();
  /** "group:index:term" of each proposal → its write's tag. */
  private readonly proposals = new Map<string, string>();
  /** Tags of writes applied by some replica. */
  private readonly appliedTags = new Set<string>();
  private faultsOn = true;
  private clientsDone = 0;
  private lossyNetwork = true;
  private hash = 0x811c9dc5;
  private eventSeq = 0;
  readonly stats: SimStats = {
    simulatedMs: 0, events: 0, ticks: 0, messages: 0, dropped: 0, crashes: 0, pauses: 0, faultWindowEnded: 0, opsOk: 0, opsUnknown: 0, opsUnavailable: 0, unknownNeverApplied: 0,
    strongReads: 0, ecReads: 0, elections: 0, spuriousElections: 0, appliedEntries: 0, checkpoints: 0, maxKeySearchSteps: 0,
  };

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.knobs = drawKnobs(options.seed);
    this.rand = seededRandom((options.seed * 2654435761) >>> 0);
    this.preVote = options.preVote ?? true;
    this.bug = options.bug;
    const k = this.knobs;
    for (let i = 0; i < k.nodes; i++) this.nodes.push(new SimNode(i, Math.round(k.tickUs * (1 + k.skew[i]))));
    const space = 1n << 64n;
    for (let g = 0; g < k.groups; g++) {
      const replicas = this.shuffled([...Array(k.nodes).keys()]).slice(0, k.replicasPerGroup).sort((a, b) => a - b);
      const group = g + 1;
      this.groups.push({ group, replicas, target: { group, tableId: TABLE_ID, keyShape: SHAPE }, hashStart: (space * BigInt(g)) / BigInt(k.groups) });
      this.appliedAt.set(group, new Map());
      for (const n of replicas) this.nodes[n].wal.set(group, new MemLog());
    }
    for (const node of this.nodes) this.startNode(node);
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

  private groupOfHash(h: bigint): GroupInfo {
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

  sendPacket(from: number, to: number, packet: Packet): void {
    const k = this.knobs;
    const raft = packet.k === 'raft';
    if (raft) {
      // A full ring drops the send at once; the shell tells the core (storage-node flushRaft).
      const lk = this.linkKey(from, to);
      const inFlight = this.linkInFlight.get(lk) ?? 0;
      if (inFlight >= k.ringCapacity) {
        this.stats.dropped++;
        this.nodes[from].replicas.get(packet.msg.group)?.core.reportUnreachable(to);
        return;
      }
      this.linkInFlight.set(lk, inFlight + 1);
    }
    this.stats.messages++;
    if (packet.k === 'req' && packet.req.body.t === 'write') {
      const tag = packet.req.body.tag;
      this.requestsInFlight.set(tag, (this.requestsInFlight.get(tag) ?? 0) + 1);
    }
    const copies = raft && this.lossyNetwork && this.rand() < k.dupRate ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      let delay = this.randInt(k.delayMinUs, k.delayMaxUs);
      if (this.lossyNetwork && this.rand() < k.slowRate) delay += this.randInt(0, 3 * k.tickUs);
      const epoch = to < ROUTER_BASE ? this.nodes[to].epoch : 0;
      this.at(this.now + delay, () => this.deliver(from, to, packet, c === 0, epoch));
    }
  }

  private deliver(from: number, to: number, packet: Packet, original: boolean, epoch: number): void {
    if (packet.k === 'raft' && original) {
      const lk = this.linkKey(from, to);
      this.linkInFlight.set(lk, (this.linkInFlight.get(lk) ?? 1) - 1);
    }
    if (packet.k === 'req' && packet.req.body.t === 'write') {
      const tag = packet.req.body.tag;
      this.requestsInFlight.set(tag, this.requestsInFlight.get(tag)! - 1);
    }
    const lossRate = packet.k === 'raft' ? this.knobs.dropRate : this.knobs.clientDropRate;
    if (this.blocked.has(this.linkKey(from, to)) || (this.lossyNetwork && this.rand() < lossRate)) {
      this.stats.dropped++;
      return;
    }
    if (packet.k === 'rep') {
      this.routers[to - ROUTER_BASE].onReply(packet.rep);
      return;
    }
    const node = this.nodes[to];
    // A ring does not outlive its node: what was sent to an earlier life is gone.
    if (!node.alive || node.epoch !== epoch) {
      this.stats.dropped++;
      return;
    }
    this.onNode(node, epoch, () => {
      if (packet.k === 'raft') this.stepRaft(node, packet.msg);
      else this.handleRequest(node, packet.req as Request);
    })();
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
    this.at(node.pausedUntil, this.onNode(node, node.epoch, () => {
      // Like storage-node's round: every elapsed tick first, then what arrived.
      if (!node.tickStalled) return;
      node.tickStalled = false;
      while (node.nextTickDue <= this.now) {
        this.tickNode(node);
        node.nextTickDue += node.tickUs;
      }
      this.at(node.nextTickDue, node.tick);
    }));
  }

  // -------------------------------------------------------------- node lifecycle

  private startNode(node: SimNode): void {
    const k = this.knobs;
    node.alive = true;
    node.items = new MemItems(node.checkpoint.items);
    node.applied = new Map(node.checkpoint.applied);
    node.replicas = new Map();
    node.strongReads = [];
    node.unsynced = undefined;
    node.roundScheduled = false;
    node.checkpointRunning = false;
    node.pausedUntil = 0;
    for (const [group, wal] of node.wal) {
      const info = this.groups[group - 1];
      let core: ReplicaCore;
      try {
        core = new ReplicaCore({
          group, id: node.id, voters: info.replicas,
          electionTicks: k.electionTicks, heartbeatTicks: k.heartbeatTicks, leaseTicks: k.leaseTicks,
          maxAppendBytes: k.maxAppendBytes, maxInflightAppends: k.maxInflightAppends,
          random: seededRandom((this.seed ^ Math.imul(group + 1, 0x9e3779b1) ^ Math.imul(node.id + 1, 0x85ebca6b) ^ node.epoch) >>> 0),
          preVote: this.preVote,
          log: wal,
          hardState: { ...wal.hardState },
          applied: node.checkpoint.applied.get(group) ?? 0,
        });
      } catch (e) {
        this.fail(`node ${node.id} cannot restart group ${group}: ${(e as Error).message}`);
      }
      node.replicas.set(group, { group, core, pending: new Map(), ticks: 0, heard: undefined });
    }
    const epoch = node.epoch;
    node.tickStalled = false;
    node.tick = () => {
      if (node.epoch !== epoch) return;
      if (this.now < node.pausedUntil) {
        node.tickStalled = true;
        return;
      }
      this.tickNode(node);
      node.nextTickDue += node.tickUs;
      this.at(node.nextTickDue, node.tick);
    };
    // Nodes do not start in phase.
    node.nextTickDue = this.now + this.randInt(1, node.tickUs);
    this.at(node.nextTickDue, node.tick);
    const checkpoint = () => {
      if (node.epoch !== epoch) return;
      if (this.now >= node.pausedUntil) this.startCheckpoint(node);
      this.at(this.now + k.checkpointEveryUs, checkpoint);
    };
    this.at(this.now + this.randInt(1, k.checkpointEveryUs), checkpoint);
    // A new cluster: the lowest replica of each group is its designated first leader.
    if (this.now === 0) {
      for (const replica of node.replicas.values()) {
        if (this.groups[replica.group - 1].replicas[0] === node.id) replica.core.campaign();
      }
    }
    this.scheduleRound(node);
  }

  crash(node: SimNode): void {
    if (!node.alive) return;
    this.stats.crashes++;
    node.alive = false;
    node.epoch++;
    // The WAL batch being synced: each group's record reached the disk or it did not.
    if (node.unsynced !== undefined) {
      for (const rec of node.unsynced.records) {
        if (this.rand() < this.knobs.tornKeepRate) node.wal.get(rec.group)!.persist(rec);
      }
    }
    node.replicas = new Map();
    node.items = new MemItems();
    node.applied = new Map();
    node.strongReads = [];
    node.unsynced = undefined;
  }

  restart(node: SimNode): void {
    if (node.alive) return;
    node.epoch++;
    this.startNode(node);
  }

  /** The B-tree made durable (noSync env + sync): the items and applied indexes as they
   *  are now become the restart point once the sync completes; then WALs are compacted. */
  private startCheckpoint(node: SimNode): void {
    if (node.checkpointRunning || !node.alive) return;
    node.checkpointRunning = true;
    const snapshot: Checkpoint = { items: new Map(node.items.map), applied: new Map() };
    for (const [group, index] of node.applied) snapshot.applied.set(group, index);
    const epoch = node.epoch;
    this.at(this.now + this.randInt(this.knobs.diskMinUs, this.knobs.diskMaxUs) * 4, this.onNode(node, epoch, () => {
      node.checkpointRunning = false;
      node.checkpoint = snapshot;
      this.stats.checkpoints++;
      for (const [group, replica] of node.replicas) {
        const wal = node.wal.get(group)!;
        const upTo = Math.min(snapshot.applied.get(group) ?? 0, replica.core.compactableIndex());
        if (upTo < wal.firstIndex()) continue;
        replica.core.compacted(upTo + 1);
        wal.compact(upTo + 1);
      }
    }));
  }

  // -------------------------------------------------------------- node shell

  private tickNode(node: SimNode): void {
    this.stats.ticks++;
    for (const replica of node.replicas.values()) {
      const term = replica.core.term;
      replica.ticks++;
      replica.core.tick();
      this.noteElection(replica, term);
    }
    this.scheduleRound(node);
  }

  private stepRaft(node: SimNode, msg: ReplicaMessage): void {
    const replica = node.replicas.get(msg.group);
    if (replica === undefined) return;
    const term = replica.core.term;
    replica.core.step(msg);
    if (msg.type === 'append' && replica.core.leader === msg.from && replica.core.term === msg.term) {
      replica.heard = { leader: msg.from, term: msg.term, tick: replica.ticks };
    }
    this.noteElection(replica, term);
    this.scheduleRound(node);
  }

  /**
   * Counts an election (a replica became candidate) and whether it was spurious: the group
   * had a working leader, i.e. a live replica in the leader role whose appends a quorum of
   * the group (the leader included) had accepted in its term within the last electionTicks
   * of their own clocks. (The candidate's own term does not matter: a replica whose term an
   * earlier failed campaign inflated disrupts the same healthy leader.) With pre-vote on,
   * the rare spurious one is a race: a pre-vote passed just before a concurrent election
   * finished, and the late candidate's term equals the new leader's.
   */
  private noteElection(replica: Replica, termBefore: number): void {
    const core = replica.core;
    if (core.role !== 'candidate' || core.term <= termBefore) return;
    this.stats.elections++;
    const info = this.groups[replica.group - 1];
    let leader: { id: number; term: number } | undefined;
    for (const id of info.replicas) {
      const other = this.nodes[id].alive ? this.nodes[id].replicas.get(replica.group) : undefined;
      if (other?.core.role === 'leader' && (leader === undefined || other.core.term > leader.term)) {
        leader = { id, term: other.core.term };
      }
    }
    if (leader === undefined) return;
    let hearing = 0;
    for (const id of info.replicas) {
      if (id === leader.id) {
        hearing++;
        continue;
      }
      const r = this.nodes[id].alive ? this.nodes[id].replicas.get(replica.group) : undefined;
      const h = r?.heard;
      if (h !== undefined && h.leader === leader.id && h.term === leader.term && r!.ticks - h.tick < this.knobs.electionTicks) hearing++;
    }
    if (hearing >= Math.floor(info.replicas.length / 2) + 1) this.stats.spuriousElections++;
  }

  private scheduleRound(node: SimNode): void {
    if (node.roundScheduled || !node.alive) return;
    node.roundScheduled = true;
    const epoch = node.epoch;
    this.at(this.now + this.knobs.roundDelayUs, this.onNode(node, epoch, () => {
      node.roundScheduled = false;
      this.round(node);
    }));
  }

  /** storage-node.ts processReadies + strong reads, one round. */
  private round(node: SimNode): void {
    if (node.unsynced === undefined) {
      const readies: Readies = [];
      for (const replica of node.replicas.values()) if (replica.core.hasReady()) readies.push([replica, replica.core.ready()]);
      if (readies.length > 0) {
        for (const [, ready] of readies) for (const m of ready.send) this.sendPacket(node.id, m.to, { k: 'raft', msg: m });
        const records: PersistRecord[] = [];
        for (const [replica, ready] of readies) {
          if (ready.entries.length === 0 && ready.hardState === undefined && ready.truncateFrom === undefined) continue;
          records.push({ group: replica.group, truncateFrom: ready.truncateFrom, entries: ready.entries, hardState: ready.hardState });
        }
        if (records.length > 0) {
          // Group commit: one WAL write, synced after a disk latency. Like the real shell, what
          // had already committed is applied meanwhile; acks and votes wait for the sync.
          node.unsynced = { readies, records };
          const epoch = node.epoch;
          this.at(this.now + this.randInt(this.knobs.diskMinUs, this.knobs.diskMaxUs), this.onNode(node, epoch, () => {
            for (const rec of node.unsynced!.records) node.wal.get(rec.group)!.persist(rec);
            const synced = node.unsynced!.readies;
            node.unsynced = undefined;
            this.finishReadies(node, synced);
            this.scheduleRound(node);
          }));
          this.applyCommitted(node, readies);
        } else {
          this.applyCommitted(node, readies);
          this.finishReadies(node, readies);
        }
        this.scheduleRound(node);
      }
    }
    if (node.strongReads.length > 0) {
      const reads = node.strongReads;
      node.strongReads = [];
      for (const req of reads) this.serveRead(node, req, true);
    }
  }

  private finishReadies(node: SimNode, readies: Readies): void {
    for (const [, ready] of readies) for (const m of ready.sendAfterPersist) this.sendPacket(node.id, m.to, { k: 'raft', msg: m });
    for (const [replica, ready] of readies) replica.core.advance(ready);
  }

  private applyCommitted(node: SimNode, readies: Readies): void {
    for (const [replica, ready] of readies) {
      if (ready.committed.length === 0) continue;
      const info = this.groups[replica.group - 1];
      const global = this.appliedAt.get(replica.group)!;
      for (const entry of ready.committed) {
        const expected = (node.applied.get(replica.group) ?? 0) + 1;
        if (entry.index !== expected) this.fail(`node ${node.id} group ${replica.group}: applying index ${entry.index}, expected ${expected}`);
        node.applied.set(replica.group, entry.index);
        this.checkApplied(node, replica.group, global, entry);
        const result = entry.data.length === 0 ? undefined : applyWriteOp(node.items, info.target, decodeRawWriteOp(entry.data), this.applyStats);
        this.stats.appliedEntries++;
        const waiter = replica.pending.get(entry.index);
        if (waiter === undefined) continue;
        replica.pending.delete(entry.index);
        if (waiter.term === entry.term) {
          this.reply(node, waiter.router, { id: waiter.id, attempt: waiter.attempt, body: result, acked: { group: replica.group, index: entry.index, term: entry.term } });
        } else {
          // Another leader's entry took this index: ours never applied, a retry is safe.
          this.reply(node, waiter.router, { id: waiter.id, attempt: waiter.attempt, redirect: 'notLeader' });
        }
      }
    }
  }

  /** Checker 1, online: no two replicas apply different entries at one index. */
  private checkApplied(node: SimNode, group: number, global: Map<number, { term: number; data: Uint8Array }>, e: LogEntry): void {
    const seen = global.get(e.index);
    if (seen === undefined) {
      global.set(e.index, { term: e.term, data: e.data });
      const tag = this.proposals.get(`${group}:${e.index}:${e.term}`);
      if (tag !== undefined) this.appliedTags.add(tag);
      this.mix(e.index);
      this.mix(e.term);
      return;
    }
    if (seen.term !== e.term || Buffer.compare(seen.data, e.data) !== 0) {
      this.fail(`node ${node.id} applied group ${group} index ${e.index} term ${e.term}, another replica applied term ${seen.term} there (different entries at one index)`);
    }
  }

  private reply(node: SimNode, router: number, rep: Reply): void {
    this.sendPacket(node.id, router, { k: 'rep', rep });
  }

  private redirect(node: SimNode, req: Request, refusal: NotServing): void {
    const rep: Reply = { id: req.id, attempt: req.attempt };
    if (refusal.reason === 'notLeader') {
      rep.redirect = 'notLeader';
      if (refusal.leaderHint !== undefined) rep.leader = refusal.leaderHint;
    } else if (refusal.reason === 'leaseNotReady') {
      rep.redirect = 'notReady';
      rep.leader = refusal.leaderHint;
    } else {
      rep.redirect = 'busy';
    }
    this.reply(node, req.router, rep);
  }

  private handleRequest(node: SimNode, req: Request): void {
    const replica = node.replicas.get(req.group)!;
    const body = req.body;
    if (body.t === 'write') {
      const proposal = replica.core.propose(body.entry);
      if ('reason' in proposal) return this.redirect(node, req, proposal);
      this.proposals.set(`${req.group}:${proposal.index}:${proposal.term}`, body.tag);
      if (this.bug === 'ackBeforeCommit') {
        this.reply(node, req.router, { id: req.id, attempt: req.attempt, body: { ok: true }, acked: { group: req.group, index: proposal.index, term: proposal.term } });
      } else {
        replica.pending.set(proposal.index, { router: req.router, id: req.id, attempt: req.attempt, term: proposal.term });
      }
      this.scheduleRound(node);
      return;
    }
    if (!body.consistent || this.bug === 'strongReadAnyReplica') return this.serveRead(node, req, false);
    const refusal = this.strongReadRefusal(replica);
    if (refusal !== undefined) return this.redirect(node, req, refusal);
    node.strongReads.push(req);
    this.scheduleRound(node);
  }

  private strongReadRefusal(replica: Replica): NotServing | undefined {
    if (this.bug === 'strongReadWithoutLease') {
      return replica.core.role === 'leader' ? undefined : { reason: 'notLeader', leaderHint: replica.core.leader };
    }
    return replica.core.checkStrongRead();
  }

  private serveRead(node: SimNode, req: Request, consistent: boolean): void {
    const replica = node.replicas.get(req.group)!;
    if (consistent) {
      // Queued for after the apply: the lease may have run out meanwhile.
      const refusal = this.strongReadRefusal(replica);
      if (refusal !== undefined) return this.redirect(node, req, refusal);
    }
    const body = req.body as Extract<RequestBody, { t: 'get' }>;
    const result = getItem(node.items, this.groups[req.group - 1].target, body.req);
    this.reply(node, req.router, { id: req.id, attempt: req.attempt, body: result });
  }

  // -------------------------------------------------------------- clients

  private startClients(totalOps: number): void {
    const k = this.knobs;
    let issued = 0;
    for (let c = 0; c < k.clients; c++) {
      const router = new SimRouter(ROUTER_BASE + c, this);
      this.routers.push(router);
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
      });
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
      });
      return;
    }
    const op = buildWriteOp(input, keyItem, group);
    if (input.kind === 'put' || input.kind === 'cas') this.written.set(input.val, input.ver);
    else if (input.kind === 'increment') this.written.set(input.val, -1);
    router.request(group, 'leader', { t: 'write', entry: encodeWriteOp(op), tag: val }, false, (o) => {
      if (o.kind === 'ok') {
        const result = o.body as WriteResult;
        let output: RegisterOutput;
        if (result.ok) output = 'ok';
        else if ((input.kind === 'cas' && result.error.name === 'ConditionalCheckFailedException') ||
          (input.kind === 'increment' && result.error.name === 'ValidationException')) output = 'failed';
        else this.fail(`client ${client}: ${describeOp({ client, key, call, ret: Infinity, input, output: undefined })} got ${result.error.name}: ${result.error.message}`);
        record(this.seqNo(), output);
        this.stats.opsOk++;
        if (o.acked) this.acked.push({ ...o.acked, what: `${key} ${input.kind} ${val}` });
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
    });
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
      const r = this.nodes[id].alive ? this.nodes[id].replicas.get(info.group) : undefined;
      if (r?.core.role === 'leader' && (best === undefined || r.core.term > best.term)) best = { id, term: r.core.term };
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
      const router = ROUTER_BASE + this.randInt(0, k.clients - 1);
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
    } else {
      // A quick crash-restart of a random node (loses only what it had not persisted).
      this.crash(node);
      this.at(this.now + this.randInt(1, 2 * k.tickUs), () => this.restart(node));
    }
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
      const leader = this.nodes[leaderId].replicas.get(info.group)!.core;
      if (leader.checkStrongRead() !== undefined) return false;
      for (const id of info.replicas) {
        const r = this.nodes[id].replicas.get(info.group);
        if (r === undefined || r.core.applied !== leader.commit || r.core.commit !== leader.commit) return false;
      }
    }
    return true;
  }

  run(totalOps: number): SimReport {
    const k = this.knobs;
    try {
      this.startClients(totalOps);
      this.scheduleFault();
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
        if (applied === appliedBefore && !stalled) {
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
      if (this.applyStats.applyInternalErrors > 0) this.fail(`${this.applyStats.applyInternalErrors} internal errors while applying`);
    } catch (e) {
      if (e instanceof SimFailure) this.failures.push(e.message);
      else this.failures.push(`[seed ${this.seed}, t=${(this.now / 1000).toFixed(3)} ms] crashed: ${(e as Error).stack ?? String(e)}`);
    }
    this.stats.simulatedMs = Math.round(this.now / 1000);
    this.mix(this.stats.events);
    this.mix(Math.floor(this.rand() * 0xffffffff));
    return { seed: this.seed, knobs: this.knobs, failures: this.failures, digest: this.hash.toString(16).padStart(8, '0'), stats: this.stats };
  }

  private appliedSum(): number {
    let sum = 0;
    for (const node of this.nodes) for (const replica of node.replicas.values()) sum += replica.core.applied;
    return sum;
  }

  /** Faults off for good: heal every cut, restart every node, a clean network. */
  private quiesce(): void {
    this.faultsOn = false;
    this.lossyNetwork = false;
    this.healAll();
    for (const node of this.nodes) this.restart(node);
  }

  private groupStates(): string {
    return this.groups.map((info) => `group ${info.group}: ` + info.replicas.map((id) => {
      const r = this.nodes[id].replicas.get(info.group);
      return r === undefined ? `${id}=down` : `${id}=${r.core.role}@${r.core.term} commit ${r.core.commit} applied ${r.core.applied}`;
    }).join(', ')).join('; ');
  }

  /** A strong read of every key by a fresh client: acknowledged writes must show. */
  private finalReads(): void {
    const router = new SimRouter(ROUTER_BASE + this.routers.length, this);
    this.routers.push(router);
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
      });
    }
    if (!this.runUntil(() => pending === 0, 100 * this.knobs.electionTicks * this.knobs.tickUs)) this.fail('final reads did not complete');
  }

  /** Checker 2: every acknowledged write is in the log every replica applied. */
  private checkAcknowledged(): void {
    for (const a of this.acked) {
      const seen = this.appliedAt.get(a.group)!.get(a.index);
      if (seen === undefined || seen.term !== a.term) {
        this.fail(`acknowledged write lost: ${a.what} at group ${a.group} index ${a.index} term ${a.term}; the group applied ${seen === undefined ? 'nothing' : `term ${seen.term}`} there`);
      }
      for (const id of this.groups[a.group - 1].replicas) {
        const applied = this.nodes[id].replicas.get(a.group)!.core.applied;
        if (applied < a.index) this.fail(`acknowledged write ${a.what} (group ${a.group} index ${a.index}) not applied on node ${id} (applied ${applied})`);
      }
    }
  }

  /** Replicas that applied the same log hold the same items (compared per group). */
  private checkReplicasIdentical(): void {
    for (const info of this.groups) {
      const digests = info.replicas.map((id) => {
        const node = this.nodes[id];
        return { id, d: digestWhere(node.items, (key) => this.groupOfHash(hashOfStored(key)) === info) };
      });
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
