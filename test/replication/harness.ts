/**
 * A deterministic simulator for ReplicaCore groups (test only). One seed drives everything:
 * election timeouts, delivery order, drops, duplication, crashes. Every failure message
 * carries the seed so a run can be replayed exactly.
 *
 *   const c = new Cluster({ n: 3, seed: 7 });
 *   c.campaign(0); c.tick(10);
 *   c.cutOneWay(0, 1);            // 0's messages to 1 are lost
 *   c.crash(2); c.restart(2);     // loses what 2 had not persisted
 *
 * Membership: `members` of the `n` nodes start in the group; the others are spares that
 * host nothing until a leader adds them (`addMember`), which starts them with the new
 * membership and an empty log, as the control plane does on real threads.
 */
import { ReplicaCore, type MembershipChangeResult } from '../../src/replication/replica-core.js';
import { decodeMembership, isMembershipEntry, type Membership } from '../../src/replication/membership.js';
import type {
  HardState,
  LogEntry,
  LogReader,
  Ready,
  ReplicaConfig,
  ReplicaMessage,
} from '../../src/replication/types.js';
import { seededRandom as mulberry32 } from '../../src/model/prng.js';
import { MemLog } from '../sim/storage.js';

export { MemLog };

/** The project's seeded PRNG (mulberry32): small, fast, good enough for schedules. */
export { mulberry32 };


const enc = new TextEncoder();
const dec = new TextDecoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);
export const text = (b: Uint8Array): string => dec.decode(b);

export interface ClusterOptions {
  n?: number;
  /** Nodes 0..members-1 start as the group's (full) members; default all n. */
  members?: number;
  seed: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  leaseTicks?: number;
  /** The group's creation term, as a storage node gives it (default 0; -1: unknown, so
   *  that even the first leader waits out a lease). */
  firstTerm?: number;
  maxAppendBytes?: number;
  maxInflightAppends?: number;
  /** Deliver queued messages in random order (default: FIFO). */
  reorder?: boolean;
  /** Chance each delivery is lost / duplicated. */
  dropRate?: number;
  dupRate?: number;
  /** Chance a Ready stays half-done (sent, not yet persisted) until a later step. */
  delayPersistRate?: number;
  /** Run safety checks after every event (default true). */
  check?: boolean;
  /** Bytes of entries one directed link carries per tick (default unbounded): with a
   *  bound, catching up N bytes takes about N / linkBytesPerTick ticks, so catch-up
   *  times can be compared in ticks. Messages past it wait for the next tick, in order. */
  linkBytesPerTick?: number;
}

interface Envelope {
  msg: ReplicaMessage;
}

export class SimNode {
  storage = new MemLog();
  core: ReplicaCore | undefined;
  /** The state machine: data of applied entries, by index-1 (rebuilt after restart). */
  applied: LogEntry[] = [];
  /** Index just before applied[0]. */
  appliedBase = 0;
  /** A Ready whose `send` went out but that is not yet persisted (lost on crash). */
  pending: Ready | undefined;
  /** Proposals this node made and their (index, term), to tell acknowledged writes. */
  proposals = new Map<number, number>();
  /** Durable, like the shell's group record: the last committed membership it applied.
   *  undefined while the node hosts no replica of the group. */
  record: Membership | undefined;
  /** Created as a log replica (fixed until the node drops the group). */
  logReplica = false;
  constructor(readonly id: number) {}
  get alive(): boolean {
    return this.core !== undefined;
  }
}

export class SafetyError extends Error {}

export class Cluster {
  readonly seed: number;
  readonly rand: () => number;
  readonly nodes: SimNode[];
  readonly opts: Required<Omit<ClusterOptions, 'seed'>>;
  queue: Envelope[] = [];
  private blocked = new Set<string>();
  /** Global record of what was applied at each index (safety: one entry per index). */
  readonly appliedAt = new Map<number, { term: number; data: string }>();
  /** Highest index acknowledged to a client (applied by its proposer, same term). */
  maxAckedIndex = 0;
  readonly leaderOfTerm = new Map<number, number>();
  private knownLeaders = new Set<string>();
  now = 0;
  delivered = 0;
  dropped = 0;
  /** Membership changes proposed successfully, and log restarts of log replicas. */
  membershipChanges = 0;
  logRestarts = 0;

  constructor(options: ClusterOptions) {
    this.seed = options.seed;
    this.rand = mulberry32(options.seed);
    this.opts = {
      n: options.n ?? 3,
      members: options.members ?? options.n ?? 3,
      electionTicks: options.electionTicks ?? 10,
      heartbeatTicks: options.heartbeatTicks ?? 2,
      leaseTicks: options.leaseTicks ?? 8,
      firstTerm: options.firstTerm ?? 0,
      maxAppendBytes: options.maxAppendBytes ?? 64 * 1024,
      maxInflightAppends: options.maxInflightAppends ?? 4,
      reorder: options.reorder ?? false,
      dropRate: options.dropRate ?? 0,
      dupRate: options.dupRate ?? 0,
      delayPersistRate: options.delayPersistRate ?? 0,
      check: options.check ?? true,
      linkBytesPerTick: options.linkBytesPerTick ?? Infinity,
    };
    this.nodes = [];
    const initial: Membership = { voters: [...Array(this.opts.members).keys()], logReplicas: [], awaited: [] };
    for (let i = 0; i < this.opts.n; i++) {
      const node = new SimNode(i);
      this.nodes.push(node);
      if (i >= this.opts.members) continue; // a spare: hosts nothing yet
      node.record = initial;
      this.start(node);
    }
  }

  fail(message: string): never {
    throw new SafetyError(`[seed ${this.seed}, tick ${this.now}] ${message}`);
  }

  // ------------------------------------------------------------ access

  core(i: number): ReplicaCore {
    const c = this.nodes[i].core;
    if (c === undefined) this.fail(`node ${i} is down`);
    return c;
  }
  leaders(): number[] {
    return this.nodes.filter((n) => n.core?.role === 'leader').map((n) => n.id);
  }
  /** The one leader of the highest term, if any. */
  leader(): number | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes) {
      if (n.core?.role === 'leader' && (best === undefined || n.core.term > best.core!.term)) best = n;
    }
    return best?.id;
  }
  electionsStarted(): number {
    let sum = 0;
    for (const n of this.nodes) sum += n.core?.status().electionsStarted ?? 0;
    return sum;
  }
  appliedData(i: number): string[] {
    return this.nodes[i].applied.filter((e) => e.data.byteLength > 0).map((e) => text(e.data));
  }

  // ------------------------------------------------------------ faults

  cut(a: number, b: number): void {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
  }
  cutOneWay(from: number, to: number): void {
    this.blocked.add(`${from}>${to}`);
  }
  isolate(i: number): void {
    for (const n of this.nodes) if (n.id !== i) this.cut(i, n.id);
  }
  heal(): void {
    this.blocked.clear();
  }
  isCut(from: number, to: number): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  /** Stops node i: what it had not persisted (a half-done Ready) is lost. */
  crash(i: number): void {
    const node = this.nodes[i];
    node.core = undefined;
    node.pending = undefined;
    node.applied = [];
    node.proposals.clear();
  }

  restart(i: number): void {
    const node = this.nodes[i];
    if (node.alive) this.fail(`restart of running node ${i}`);
    if (node.record === undefined) return; // hosts nothing
    this.start(node);
  }

  // ------------------------------------------------------------ membership

  /** Leader `l` proposes `next`; a node it adds that hosts nothing yet starts with `next`
   *  and an empty log (the control plane creating the replica). */
  changeMembership(l: number, next: Membership): MembershipChangeResult {
    const leader = this.core(l);
    const r = leader.proposeMembership(next);
    if (!('reason' in r)) {
      this.membershipChanges++;
      for (const id of next.voters) {
        const node = this.nodes[id];
        if (node.record !== undefined) continue;
        node.record = next;
        node.logReplica = next.logReplicas.includes(id);
        // Born having voted for this term's leader: a replica id that hosted the group
        // before (and was dropped) must not vote twice in a term it may have voted in.
        node.storage.hardState = { term: leader.term, vote: l, commit: 0 };
        this.start(node);
      }
    }
    this.process(l);
    return r;
  }

  /** The node stops hosting the group and forgets it (the control plane's dropGroup of a
   *  removed replica): a later addMember starts it afresh. */
  dropReplica(id: number): void {
    this.crash(id);
    const node = this.nodes[id];
    node.record = undefined;
    node.logReplica = false;
    this.logRestarts += node.storage.logRestarts;
    node.storage = new MemLog();
  }

  /** Leader `l` adds node `id` (a log replica when `logReplica`). */
  addMember(l: number, id: number, logReplica: boolean): MembershipChangeResult {
    const m = this.core(l).membership;
    return this.changeMembership(l, {
      voters: [...m.voters, id],
      logReplicas: logReplica ? [...m.logReplicas, id] : m.logReplicas,
      awaited: m.awaited.filter((a) => a.id !== id),
    });
  }

  /** Leader `l` removes node `id`; with `awaitedFrom` the group's WALs keep the log from
   *  there for its return. */
  removeMember(l: number, id: number, awaitedFrom?: number): MembershipChangeResult {
    const m = this.core(l).membership;
    return this.changeMembership(l, {
      voters: m.voters.filter((v) => v !== id),
      logReplicas: m.logReplicas.filter((v) => v !== id),
      awaited: awaitedFrom === undefined ? m.awaited : [...m.awaited.filter((a) => a.id !== id), { id, from: awaitedFrom }],
    });
  }

  /** Ticks until every entry up to the leader's last index committed (or `maxTicks`). */
  settle(maxTicks = 50): void {
    for (let t = 0; t < maxTicks; t++) {
      const l = this.leader();
      if (l !== undefined && this.core(l).commit === this.core(l).lastIndex && !this.core(l).hasReady()) return;
      this.tick(1);
    }
  }

  private start(node: SimNode): void {
    const o = this.opts;
    const record = node.record!;
    const config: ReplicaConfig = {
      group: 1,
      id: node.id,
      voters: record.voters,
      logReplicas: record.logReplicas,
      awaited: record.awaited,
      logReplica: node.logReplica,
      electionTicks: o.electionTicks,
      heartbeatTicks: o.heartbeatTicks,
      leaseTicks: o.leaseTicks,
      ...(o.firstTerm >= 0 ? { firstTerm: o.firstTerm } : {}),
      maxAppendBytes: o.maxAppendBytes,
      maxInflightAppends: o.maxInflightAppends,
      random: mulberry32((this.seed * 31 + node.id * 1000003 + this.now) >>> 0),
      log: node.storage,
      hardState: { ...node.storage.hardState },
      // The state machine is in memory here: it is rebuilt from the WAL after a restart.
      applied: node.storage.first - 1,
    };
    node.core = new ReplicaCore(config);
    node.applied = [];
    node.appliedBase = config.applied;
  }

  // ------------------------------------------------------------ driving

  campaign(i: number): void {
    this.core(i).campaign();
    this.process(i);
  }

  propose(i: number, data: string): ReturnType<ReplicaCore['propose']> {
    const r = this.core(i).propose(bytes(data));
    if (!('reason' in r)) this.nodes[i].proposals.set(r.index, r.term);
    this.process(i);
    return r;
  }

  transfer(from: number, to: number): void {
    this.core(from).transferLeadership(to);
    this.process(from);
  }

  /** `count` ticks; after each, every live node ticks and (unless `deliver` is false)
   *  queued messages are delivered until the network is quiet. */
  tick(count = 1, deliver = true): void {
    for (let t = 0; t < count; t++) {
      this.tickOnce();
      if (deliver) this.deliverAll();
    }
  }

  tickOnce(): void {
    this.now++;
    this.linkBytesUsed.clear();
    for (const n of this.nodes) {
      if (!n.core) continue;
      n.core.tick();
      this.process(n.id);
    }
    if (this.opts.check) this.checkLeases();
  }

  deliverAll(maxMessages = 100_000): void {
    let k = 0;
    if (this.opts.linkBytesPerTick !== Infinity) {
      while (this.deliverWithinBudget()) if (++k > maxMessages) this.fail('network does not quiesce');
      return;
    }
    while (this.queue.length > 0) {
      if (++k > maxMessages) this.fail('network does not quiesce');
      this.deliverOne();
    }
  }

  /** Bytes of entries each link (`from>to`) carried this tick. */
  private readonly linkBytesUsed = new Map<string, number>();

  /** Delivers the first queued message whose link has budget left this tick (a link that
   *  must hold one message back holds back everything after it: links are FIFO). */
  private deliverWithinBudget(): boolean {
    const full = new Set<string>();
    for (let k = 0; k < this.queue.length; k++) {
      const m = this.queue[k].msg;
      const link = `${m.from}>${m.to}`;
      if (full.has(link)) continue;
      const size = m.type === 'append' ? m.entries.reduce((sum, e) => sum + e.data.byteLength, 0) : 0;
      const used = this.linkBytesUsed.get(link) ?? 0;
      // One message always fits an unused link, however large.
      if (used > 0 && used + size > this.opts.linkBytesPerTick) {
        full.add(link);
        continue;
      }
      this.linkBytesUsed.set(link, used + size);
      this.deliverAt(k);
      return true;
    }
    return false;
  }

  /** Delivers one queued message (random pick when reordering). */
  deliverOne(): boolean {
    if (this.queue.length === 0) return false;
    this.deliverAt(this.opts.reorder ? Math.floor(this.rand() * this.queue.length) : 0);
    return true;
  }

  private deliverAt(k: number): void {
    const [env] = k === 0 ? [this.queue.shift()!] : this.queue.splice(k, 1);
    const m = env.msg;
    const target = this.nodes[m.to];
    if (!target.core || this.isCut(m.from, m.to) || this.rand() < this.opts.dropRate) {
      this.dropped++;
      return;
    }
    if (this.rand() < this.opts.dupRate) this.queue.push({ msg: m });
    this.delivered++;
    target.core.step(m);
    this.process(m.to);
  }

  /** Finishes every half-done Ready. */
  persistAll(): void {
    for (const n of this.nodes) if (n.pending) this.finishReady(n);
    for (const n of this.nodes) this.process(n.id);
  }

  /** Runs node i's Ready loop: send, persist, send-after-persist, apply, advance. */
  process(i: number): void {
    const node = this.nodes[i];
    if (node.pending && this.rand() >= this.opts.delayPersistRate) this.finishReady(node);
    while (!node.pending && node.core?.hasReady()) {
      const r = node.core.ready();
      for (const m of r.send) this.queue.push({ msg: m });
      node.pending = r;
      if (this.opts.delayPersistRate > 0 && this.rand() < this.opts.delayPersistRate) break;
      this.finishReady(node);
    }
    if (this.opts.check) this.checkLeaders();
  }

  private finishReady(node: SimNode): void {
    const r = node.pending!;
    const core = node.core!;
    node.pending = undefined;
    node.storage.persist(r);
    for (const m of r.sendAfterPersist) this.queue.push({ msg: m });
    for (const e of r.committed) this.apply(node, e);
    core.advance(r);
  }

  private apply(node: SimNode, e: LogEntry): void {
    // Like the shell: a committed membership becomes the node's durable record.
    if (isMembershipEntry(e.data)) node.record = decodeMembership(e.data);
    if (node.core!.isLogReplica) {
      // A log replica applies nothing (and may skip indexes after a log restart), but
      // what it holds as committed must match what full replicas applied.
      const seen = this.appliedAt.get(e.index);
      if (seen !== undefined && (seen.term !== e.term || seen.data !== text(e.data))) {
        this.fail(`log replica ${node.id} committed ${e.index}@${e.term}, a replica applied ${e.index}@${seen.term}`);
      }
      return;
    }
    const expected = node.appliedBase + node.applied.length + 1;
    if (e.index !== expected) this.fail(`node ${node.id} applied index ${e.index}, expected ${expected} (status ${JSON.stringify(node.core!.status())}, record ${JSON.stringify(node.record)}, first ${node.storage.first})`);
    if (node.storage.term(e.index) !== e.term) {
      this.fail(`node ${node.id} applied ${e.index}@${e.term} which is not durable in its WAL`);
    }
    node.applied.push(e);
    const data = text(e.data);
    const seen = this.appliedAt.get(e.index);
    if (seen === undefined) this.appliedAt.set(e.index, { term: e.term, data });
    else if (seen.term !== e.term || seen.data !== data) {
      this.fail(`node ${node.id} applied ${e.index}@${e.term} "${data}", another replica applied ${e.index}@${seen.term} "${seen.data}"`);
    }
    if (e.data.byteLength > 0 && node.proposals.get(e.index) === e.term) {
      this.maxAckedIndex = Math.max(this.maxAckedIndex, e.index);
    }
  }

  // ------------------------------------------------------------ safety checks

  /** At most one leader per term; a new leader holds every entry anyone applied. */
  checkLeaders(): void {
    for (const n of this.nodes) {
      const c = n.core;
      if (c?.role !== 'leader') continue;
      if (c.isLogReplica) this.fail(`log replica ${n.id} became leader in term ${c.term}`);
      const prev = this.leaderOfTerm.get(c.term);
      if (prev !== undefined && prev !== n.id) this.fail(`two leaders in term ${c.term}: ${prev} and ${n.id}`);
      const key = `${c.term}/${n.id}`;
      if (this.knownLeaders.has(key)) continue;
      this.leaderOfTerm.set(c.term, n.id);
      this.knownLeaders.add(key);
      for (const [index, entry] of this.appliedAt) {
        if (index < n.storage.first) continue;
        if (c.termAt(index) !== entry.term) {
          this.fail(`leader ${n.id} of term ${c.term} lacks committed entry ${index}@${entry.term} (has ${c.termAt(index)})`);
        }
      }
    }
  }

  /** Ticks are in lockstep here, so leases must never overlap, and a replica serving
   *  strong reads must have committed every write acknowledged anywhere. */
  checkLeases(): void {
    let serving: number | undefined;
    for (const n of this.nodes) {
      const c = n.core;
      if (!c || c.checkStrongRead() !== undefined) continue;
      if (serving !== undefined) this.fail(`both ${serving} and ${n.id} hold a valid lease`);
      serving = n.id;
      if (c.commit < this.maxAckedIndex) {
        this.fail(`${n.id} serves strong reads at commit ${c.commit} but write ${this.maxAckedIndex} was acknowledged`);
      }
    }
  }

  /** Every live replica applied the same prefix (compare data at shared indexes). */
  checkConverged(): void {
    const live = this.nodes.filter((n) => n.alive && !n.core!.isLogReplica);
    const commit = Math.max(...live.map((n) => n.core!.commit));
    for (const n of live) {
      if (n.core!.applied !== commit) this.fail(`node ${n.id} applied ${n.core!.applied}, group commit is ${commit}`);
    }
  }
}
