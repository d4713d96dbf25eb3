/**
 * Snapshot transfer between storage nodes (DESIGN, "Failure" and "Durability"): how a
 * leader catches up a full replica that needs entries its WAL no longer holds (down too
 * long, a new replica, a partition moved), and how that replica installs it.
 *
 * Sender (the leader's node): reads a consistent view of the group's rows at its applied
 * index (storage/snapshot.ts) and sends it in chunks of CHUNK_BYTES, each with its
 * CRC32C, at most WINDOW chunks unacknowledged, paced by a byte budget per second shared
 * by every transfer of the node, so that foreground requests keep their latency.
 *
 * Receiver (the follower's node): stages each chunk's rows aside (the group keeps its old
 * data, and serves no reads meanwhile), and after the last one replaces the group's data,
 * INSTALL_STEP_ROWS rows a round (one long transaction would hold every group of the node
 * up; a crash midway is finished when the store opens). Before the replica's log may drop
 * what it held (the WAL's log restart, Ready.logStart), the new data must be durable: the
 * receiver waits for a checkpoint that started after the install, then tells its core
 * (ReplicaCore.installSnapshot) and the leader (`installed`), whose core resumes
 * replication after the snapshot's index.
 *
 * Repair: a follower whose stored data failed a checksum (the node marks its group
 * damaged) asks its leader for a snapshot (`want`), and installs it while keeping its
 * log: the snapshot's entry is in its log, so it applies its log again after it.
 *
 * A chunk that fails its checksum is asked for again; a transfer that stops hearing
 * from its peer is abandoned and retried later from a fresh view. Sans-I/O like the
 * node: time comes in as `nowMs`, messages go out through `send`.
 */
import type { ReplicaCore } from '../replication/replica-core.js';
import type { Membership } from '../replication/types.js';
import { ReadAheadSource, rowCount, SnapshotChecksumError, unpackRows, type PackedRows, type SnapshotRow } from '../storage/snapshot.js';
import { ItemChecksumError } from '../storage/checked-values.js';
import type { NodeStorage } from './ports.js';
import type { ExportReply } from './requests.js';
import type { GroupRecord } from '../storage/wal.js';

/** Bytes of rows per chunk. */
export const CHUNK_BYTES = 64 * 1024;
/** Rows a receiver removes or installs per round (one transaction of well under 1 ms). */
const INSTALL_STEP_ROWS = 64;
/** Chunks a sender has out before it waits for an acknowledgement. */
const WINDOW = 4;
/** Default pace of all of a node's outgoing snapshots (bytes per second). */
export const SNAPSHOT_BYTES_PER_SEC = 4 * 1024 * 1024;
/** Snapshots a node sends at once. */
const MAX_SENDERS = 2;
/** A transfer that hears nothing from its peer for this long is abandoned (ms): the peer
 *  restarted, or lost the transfer; a fresh one starts after RETRY_AFTER_MS. Every chunk
 *  is acknowledged, so a live peer is heard far more often. */
const SILENCE_MS = 1000;
/** Unacknowledged chunks are sent again (from the oldest) after this long (ms): a ring
 *  record can be lost (a full ring, a damaged record) and the receiver takes chunks only
 *  in order. */
const RESEND_AFTER_MS = 300;
/** An export session unused this long is closed (its read transaction with it) (ms). */
const EXPORT_IDLE_MS = 10_000;
/** Most bytes of rows in one export piece (a reply must fit its ring record). */
const EXPORT_MAX_BYTES = 1024 * 1024;
/** Bytes of snapshot rows a node reads ahead at a time (ReadAheadSource), about half a
 *  millisecond of its thread, and how often (ms): its exports and outgoing snapshots are
 *  read out of their transactions at up to 8 MiB/s, not at the paced readers' 4 MiB/s
 *  shared by every node. During a scrub's exports (8 s at that pace) the held
 *  transactions made every checkpoint flush 2.6 times the data (disk writes 26 → 68
 *  MB/s), and each flush stalled every node's WAL sync for ~20 ms. Reading ahead in every
 *  round instead put all of a node's exports in one burst of its thread; every 2 ms,
 *  backups and snapshot transfers gained nothing. */
const READ_AHEAD_BYTES = 64 * 1024;
const READ_AHEAD_EVERY_MS = 8;
/** Most bytes of rows a node holds read ahead; past it, sources read on demand (a
 *  partition too large to hold keeps its transaction until it is read out). */
const READ_AHEAD_LIMIT_BYTES = 64 * 1024 * 1024;
/** How often a node looks for replicas that need a snapshot (ms). */
const SCAN_EVERY_MS = 50;
/** After an abandoned or refused transfer, the next one to that peer waits this long (ms). */
const RETRY_AFTER_MS = 200;

export type SnapshotMessage =
  | {
    t: 'chunk'; group: number; from: number; to: number;
    /** The sender's transfer id (unique per sending node). */
    id: number;
    /** The applied index the rows reflect, its entry's term, the membership in effect. */
    index: number; term: number; membership: Membership;
    seq: number; last: boolean; payload: Uint8Array; crc: number;
    /** Sent because the receiver asked (`want`): it may be repairing damaged data. */
    repair?: boolean;
  }
  /** A follower with damaged data asks its leader for a snapshot. */
  | { t: 'want'; group: number; from: number; to: number }
  | {
    t: 'ack'; group: number; from: number; to: number; id: number; seq: number;
    /** ok: chunk `seq` staged; resend: chunk `seq` failed its checksum; installed: the
     *  snapshot is durable and the replica continues after it; refused: not wanted (a
     *  leader, a log replica, or already past it). */
    status: 'ok' | 'resend' | 'installed' | 'refused';
  };

type Chunk = Extract<SnapshotMessage, { t: 'chunk' }>;
type Ack = Extract<SnapshotMessage, { t: 'ack' }>;

export interface SnapshotCounters {
  snapshotsSent: number;
  snapshotsInstalled: number;
  snapshotBytesSent: number;
  snapshotsAbandoned: number;
  snapshotChunkChecksumFailures: number;
}

interface Sender {
  group: number;
  peer: number;
  id: number;
  /** The leader's term: the transfer ends if it changes. */
  term: number;
  source: ReadAheadSource;
  /** The term of the entry at the snapshot's index, and the membership in effect there. */
  entryTerm: number;
  /** The peer asked for it (a repair). */
  repair: boolean;
  membership: Membership;
  nextSeq: number;
  done: boolean;
  /** Sent and not yet acknowledged, by seq (resent on request or after RESEND_AFTER_MS). */
  unacked: Map<number, Chunk>;
  /** When the oldest unacknowledged chunk was (last) sent. */
  sentAtMs: number;
  /** To (re)send before anything new, in order. */
  queue: Chunk[];
  heardAtMs: number;
}

interface Receiver {
  leader: number;
  id: number;
  index: number;
  term: number;
  membership: Membership;
  nextSeq: number;
  heardAtMs: number;
  /** Every chunk is in and the store is installing them (a step per round); the last
   *  chunk is acknowledged when it is done. Nothing stops an install once begun. */
  installing?: { lastSeq: number };
  /** Installed in the store; waits for a checkpoint started after `installedGeneration`. */
  installedGeneration?: number;
  /** Durable: waits to tell its core (a repair waits for no Ready to be outstanding). */
  durable?: boolean;
  /** Replaces damaged data and keeps the log (ReplicaCore.canRepairAt). */
  repair: boolean;
}

/** What the transfers need of their node. */
export interface SnapshotHost {
  readonly id: number;
  readonly store: NodeStorage;
  core(group: number): ReplicaCore | undefined;
  cores(): Iterable<[group: number, core: ReplicaCore]>;
  send(peer: number, message: SnapshotMessage): void;
  /** Groups whose stored data failed a checksum and await repair. */
  damagedGroups(): Iterable<number>;
  isDamaged(group: number): boolean;
  /** The group's data was replaced from a healthy replica: it is whole again. */
  repaired(group: number): void;
  /** A damaged group this node leads: hand leadership over (repairs come from a leader). */
  handOff(group: number): void;
  /** Reading a snapshot met a value that failed its checksum: the group needs repair. */
  markDamaged(group: number, reason: string): void;
}

export class SnapshotTransfers {
  readonly counters: SnapshotCounters = {
    snapshotsSent: 0, snapshotsInstalled: 0, snapshotBytesSent: 0, snapshotsAbandoned: 0, snapshotChunkChecksumFailures: 0,
  };
  private readonly senders = new Map<string, Sender>();
  private readonly retryAt = new Map<string, number>();
  /** Leaders: "group/peer" pairs whose follower asked for a snapshot (repair). */
  private readonly wanted = new Set<string>();
  /** Followers: when each damaged group last asked its leader (ms). */
  private readonly askedAt = new Map<number, number>();
  private readonly receivers = new Map<number, Receiver>();
  private nextId = 1;
  /** Snapshots being read out by the control plane (exportSnapshot requests). */
  private readonly exports = new Map<number, { group: number; source: ReadAheadSource; term: number; usedAtMs: number }>();
  private scannedAtMs = -Infinity;
  private readAheadAtMs = -Infinity;
  private budget = 0;
  private budgetAtMs: number;
  /** Checkpoints started (a receiver waits for one started after its install). */
  private checkpointsStarted = 0;

  constructor(private readonly host: SnapshotHost, private readonly bytesPerSec: number, nowMs: number, private readonly installStepRows = INSTALL_STEP_ROWS) {
    this.budgetAtMs = nowMs;
  }

  /** The group is taking a snapshot in: it serves no reads, and applies nothing of its
   *  own log meanwhile (what it would apply is older than the snapshot). */
  receiving(group: number): boolean {
    return this.receivers.has(group);
  }

  /** A receiver waits for a checkpoint that has not started yet. */
  get wantsCheckpoint(): boolean {
    for (const r of this.receivers.values()) {
      if (r.installedGeneration !== undefined && this.checkpointsStarted <= r.installedGeneration) return true;
    }
    return false;
  }

  checkpointStarted(): void {
    this.checkpointsStarted++;
  }

  /** A checkpoint succeeded (one runs at a time: the last started): snapshots installed
   *  before it started are durable now. */
  checkpointCompleted(): void {
    for (const r of this.receivers.values()) {
      if (r.installedGeneration !== undefined && this.checkpointsStarted > r.installedGeneration) r.durable = true;
    }
    this.finishInstalls();
  }

  /**
   * Installs made durable are handed to their cores, and reported to their leaders. The
   * store holds the snapshot's data at its index now, so the core must apply from there:
   * a core that is behind restarts its log after it (installSnapshot); one whose log
   * holds the snapshot's entry (a repair, or a follower that kept receiving meanwhile,
   * its applies skipped) applies its log again after it (repairedAt). Until one of them
   * can (a Ready is outstanding; a leader first hands over), the group stays as it is:
   * receiving, applying nothing.
   */
  private finishInstalls(): void {
    for (const [group, r] of this.receivers) {
      if (r.durable !== true) continue;
      const core = this.host.core(group);
      if (core === undefined) {
        this.receivers.delete(group);
        continue;
      }
      const installed = (!r.repair && core.installSnapshot(r.index, r.term, r.membership)) || core.repairedAt(r.index, r.term);
      if (!installed) {
        if (core.role === 'leader') this.host.handOff(group);
        continue;
      }
      this.receivers.delete(group);
      // All of its data came from the leader: whatever was damaged is gone.
      if (this.host.isDamaged(group)) this.host.repaired(group);
      this.counters.snapshotsInstalled++;
      this.host.send(r.leader, { t: 'ack', group, from: this.host.id, to: r.leader, id: r.id, seq: r.nextSeq, status: 'installed' });
    }
  }

  /**
   * The next piece of an exported snapshot of `group` (a new one without `session`), or
   * undefined when the session is unknown (expired, or this node restarted): the caller
   * starts over. Served by a full replica whose data is whole.
   */
  exportPiece(group: number, session: number | undefined, maxBytes: number, nowMs: number, keepDamaged = false): ExportReply | undefined {
    let e = session === undefined ? undefined : this.exports.get(session);
    if (session !== undefined && (e === undefined || e.group !== group)) return undefined;
    let rec: GroupRecord | undefined;
    if (e === undefined) {
      const core = this.host.core(group);
      rec = this.host.store.group(group);
      if (core === undefined || rec === undefined) return undefined;
      // Pieces of the size the session was opened with.
      const source = new ReadAheadSource(this.host.store.openSnapshot(group, { keepDamaged }), Math.max(1, Math.min(maxBytes, EXPORT_MAX_BYTES)));
      const term = core.termAt(source.index) ?? 0;
      session = this.nextId++;
      e = { group, source, term, usedAtMs: nowMs };
      this.exports.set(session, e);
    }
    e.usedAtMs = nowMs;
    const packed = this.readPacked(e.group, e.source);
    if (packed === undefined) {
      this.exports.delete(session!);
      return undefined;
    }
    const { payload, crc } = packed;
    const done = rowCount(payload) === 0;
    if (done) {
      e.source.close();
      this.exports.delete(session!);
    }
    return { node: this.host.id, session: session!, index: e.source.index, term: e.term, ...(rec !== undefined ? { rec } : {}), payload, crc, done };
  }

  /** The group left this node: its transfers end. */
  dropped(group: number): void {
    for (const [id, e] of this.exports) {
      if (e.group !== group) continue;
      e.source.close();
      this.exports.delete(id);
    }
    this.receivers.delete(group);
    this.askedAt.delete(group);
    for (const [key, s] of this.senders) if (s.group === group) this.close(key, s);
  }

  /** Leaders: starts transfers their cores ask for, sends what the pace allows, and
   *  abandons transfers whose peer went silent. Receivers: a step of each install under
   *  way. Exports and senders: a slice read ahead when one is due. Returns whether an
   *  install step ran or a slice was read (the node has more work at once). */
  pump(nowMs: number): boolean {
    let stepped = false;
    for (const [group, r] of this.receivers) {
      if (r.installing === undefined) continue;
      stepped = true;
      if (this.host.store.continueInstall(group, this.installStepRows)) this.installDone(group, r);
    }
    this.refill(nowMs);
    for (const [id, e] of this.exports) {
      if (nowMs - e.usedAtMs < EXPORT_IDLE_MS) continue;
      e.source.close();
      this.exports.delete(id);
    }
    if (this.readAhead(nowMs)) stepped = true;
    if (this.receivers.size > 0) this.finishInstalls();
    for (const [key, s] of this.senders) {
      const core = this.host.core(s.group);
      if (core === undefined || core.role !== 'leader' || core.term !== s.term || nowMs - s.heardAtMs > SILENCE_MS) {
        this.counters.snapshotsAbandoned++;
        this.close(key, s);
        this.retryAt.set(key, nowMs + RETRY_AFTER_MS);
      }
    }
    for (const [group, r] of this.receivers) {
      // The leader gave up on this transfer (it restarts with a new id if it still needs
      // one), or this replica was elected meanwhile and must apply its own log.
      if (r.installedGeneration === undefined && r.installing === undefined && (nowMs - r.heardAtMs > SILENCE_MS || this.host.core(group)?.role === 'leader')) {
        this.receivers.delete(group);
        this.host.store.discardStagedSnapshot(group);
      }
    }
    // Looking for replicas that need one costs a pass over the cores: once a scan period.
    if (nowMs - this.scannedAtMs >= SCAN_EVERY_MS) {
      this.scannedAtMs = nowMs;
      this.askForRepairs(nowMs);
      if (this.senders.size < MAX_SENDERS) this.startSenders(nowMs);
    }
    for (const s of this.senders.values()) {
      if (s.unacked.size > 0 && s.queue.length === 0 && nowMs - s.sentAtMs > RESEND_AFTER_MS) this.resendFrom(s, -1);
      this.sendChunks(s, nowMs);
    }
    return stepped;
  }

  /** About READ_AHEAD_BYTES of the first export or outgoing snapshot with rows left to
   *  read ahead, when due; returns whether it read. */
  private readAhead(nowMs: number): boolean {
    if ((this.exports.size === 0 && this.senders.size === 0) || nowMs - this.readAheadAtMs < READ_AHEAD_EVERY_MS) return false;
    const sources = [...this.exports.values(), ...this.senders.values()].map((t) => t.source);
    const next = sources.find((source) => source.reading);
    if (next === undefined || sources.reduce((n, source) => n + source.buffered, 0) >= READ_AHEAD_LIMIT_BYTES) return false;
    for (let bytes = 0; bytes < READ_AHEAD_BYTES && next.reading;) bytes += next.readAhead();
    this.readAheadAtMs = nowMs;
    return true;
  }

  /** Go back: every unacknowledged chunk from `seq` on is sent again, in order. */
  private resendFrom(s: Sender, seq: number): void {
    const again = [...s.unacked.values()].filter((c) => c.seq >= seq).sort((a, b) => a.seq - b.seq);
    for (const c of again) s.unacked.delete(c.seq);
    s.queue = again;
  }

  onMessage(m: SnapshotMessage, nowMs: number): void {
    if (m.t === 'chunk') this.onChunk(m, nowMs);
    else if (m.t === 'ack') this.onAck(m, nowMs);
    else if (this.host.core(m.group)?.role === 'leader') this.wanted.add(`${m.group}/${m.from}`);
  }

  /** Followers with damaged data ask their leader for a snapshot, every RETRY_AFTER_MS
   *  until one is on its way. */
  private askForRepairs(nowMs: number): void {
    for (const group of this.host.damagedGroups()) {
      const core = this.host.core(group);
      if (core?.role === 'leader') this.host.handOff(group);
      if (core === undefined || core.role !== 'follower' || core.leader === undefined || this.receivers.has(group)) continue;
      if (nowMs - (this.askedAt.get(group) ?? -Infinity) < RETRY_AFTER_MS) continue;
      this.askedAt.set(group, nowMs);
      this.host.send(core.leader, { t: 'want', group, from: this.host.id, to: core.leader });
    }
  }

  private startSenders(nowMs: number): void {
    const wanted = [...this.wanted].map((key) => key.split('/').map(Number) as [number, number]);
    this.wanted.clear();
    const targets: Array<[group: number, peer: number, repair: boolean]> = wanted.map(([g, p]) => [g, p, true]);
    for (const [group, core] of this.host.cores()) {
      if (core.role !== 'leader') continue;
      for (const peer of core.snapshotTargets()) targets.push([group, peer, false]);
    }
    for (const [group, peer, repair] of targets) {
      const core = this.host.core(group);
      if (core === undefined || core.role !== 'leader') continue;
      {
        const key = `${group}/${peer}`;
        if (this.senders.has(key) || (this.retryAt.get(key) ?? 0) > nowMs) continue;
        const rec = this.host.store.group(group);
        // A split parent's rows hold its children's later writes: never a snapshot of it.
        if (rec === undefined || rec.split !== undefined) continue;
        const source = new ReadAheadSource(this.host.store.openSnapshot(group), CHUNK_BYTES);
        const term = core.termAt(source.index);
        if (term === undefined) {
          source.close();
          continue;
        }
        this.senders.set(key, {
          group, peer, id: this.nextId++, term: core.term, source, entryTerm: term, repair, nextSeq: 0, done: false, unacked: new Map(), queue: [], heardAtMs: nowMs, sentAtMs: nowMs,
          membership: { voters: rec.voters, logReplicas: rec.logReplicas ?? [], awaited: rec.awaited ?? [] },
        });
        core.snapshotSending(peer, source.index);
        if (this.senders.size >= MAX_SENDERS) return;
      }
    }
  }

  private sendChunks(s: Sender, nowMs: number): void {
    while (s.unacked.size < WINDOW && this.budget > 0) {
      let chunk = s.queue.shift();
      if (chunk === undefined) {
        if (s.done) return;
        const packed = this.readPacked(s.group, s.source);
        if (packed === undefined) {
          this.counters.snapshotsAbandoned++;
          this.close(`${s.group}/${s.peer}`, s);
          return;
        }
        const { payload, crc } = packed;
        s.done = rowCount(payload) === 0 || payload.length < CHUNK_BYTES;
        chunk = {
          t: 'chunk', group: s.group, from: this.host.id, to: s.peer, id: s.id,
          index: s.source.index, term: s.entryTerm, membership: s.membership,
          seq: s.nextSeq++, last: s.done, payload, crc,
        };
        if (s.repair) chunk.repair = true;
        if (s.done) s.source.close();
      }
      if (s.unacked.size === 0) s.sentAtMs = nowMs;
      s.unacked.set(chunk.seq, chunk);
      this.budget -= chunk.payload.length;
      this.counters.snapshotBytesSent += chunk.payload.length;
      this.host.send(s.peer, chunk);
    }
  }

  /** The next rows of a snapshot being read, packed, or undefined (and the source closed)
   *  when a value failed its checksum: this replica's group is damaged and sends no
   *  snapshot. */
  private readPacked(group: number, source: ReadAheadSource): PackedRows | undefined {
    try {
      return source.next();
    } catch (error) {
      if (!(error instanceof ItemChecksumError)) throw error;
      source.close();
      this.host.markDamaged(group, `${error.message} (while reading a snapshot)`);
      return undefined;
    }
  }

  private onAck(m: Extract<SnapshotMessage, { t: 'ack' }>, nowMs: number): void {
    const key = `${m.group}/${m.from}`;
    const s = this.senders.get(key);
    if (s === undefined || s.id !== m.id) return;
    s.heardAtMs = nowMs;
    switch (m.status) {
      case 'ok':
        // Acknowledgements are cumulative: chunks are taken in order.
        for (const seq of [...s.unacked.keys()]) if (seq <= m.seq) s.unacked.delete(seq);
        s.sentAtMs = nowMs;
        return;
      case 'resend':
        this.resendFrom(s, m.seq);
        return;
      case 'installed':
        this.counters.snapshotsSent++;
        this.close(key, s);
        this.host.core(m.group)?.snapshotInstalled(m.from, s.source.index);
        return;
      case 'refused':
        this.close(key, s);
        this.retryAt.set(key, nowMs + RETRY_AFTER_MS);
        return;
    }
  }

  private onChunk(m: Chunk, nowMs: number): void {
    const core = this.host.core(m.group);
    if (core === undefined) return;
    const ack = (seq: number, status: Ack['status']): void =>
      this.host.send(m.from, { t: 'ack', group: m.group, from: this.host.id, to: m.from, id: m.id, seq, status });
    let r = this.receivers.get(m.group);
    // Installing, or installed and waiting for its checkpoint: a resent last chunk is answered then.
    if (r !== undefined && (r.installing !== undefined || r.installedGeneration !== undefined)) return;
    if (r === undefined || r.leader !== m.from || r.id !== m.id) {
      if (m.seq !== 0) return; // the middle of a transfer this node is not (or no longer) part of
      // Damaged data, and the snapshot's entry is in this replica's log: a repair.
      const repair = m.repair === true && this.host.isDamaged(m.group) && m.index >= this.host.store.appliedIndex(m.group) && core.canRepairAt(m.index, m.term);
      if (!repair) {
        // Applied (so durable) up to the snapshot already: the leader may go on from there.
        if (!core.isLogReplica && core.role !== 'leader' && m.index <= core.applied) return ack(0, 'installed');
        if (core.role === 'leader' || core.isLogReplica || m.index < core.commit) return ack(0, 'refused');
      }
      if (r !== undefined) this.host.store.discardStagedSnapshot(m.group);
      r = { leader: m.from, id: m.id, index: m.index, term: m.term, membership: m.membership, nextSeq: 0, heardAtMs: nowMs, repair };
      this.receivers.set(m.group, r);
    }
    r.heardAtMs = nowMs;
    if (m.seq < r.nextSeq) return ack(m.seq, 'ok'); // a resend that crossed our ack
    if (m.seq > r.nextSeq) return; // after a chunk we asked for again: it follows
    let rows;
    try {
      rows = unpackRows(m.payload, m.crc);
    } catch (error) {
      if (!(error instanceof SnapshotChecksumError)) throw error;
      this.counters.snapshotChunkChecksumFailures++;
      return ack(m.seq, 'resend');
    }
    this.host.store.stageSnapshotRows(m.group, rows);
    r.nextSeq++;
    if (!m.last) return ack(m.seq, 'ok');
    this.host.store.beginInstall(m.group, { index: m.index, term: m.term });
    r.installing = { lastSeq: m.seq };
  }

  /** The store holds the snapshot: the group takes the snapshot's membership, waits for a
   *  checkpoint, and the leader hears that the last chunk is in. */
  private installDone(group: number, r: Receiver): void {
    const rec = this.host.store.group(group);
    if (rec !== undefined && !r.repair) {
      this.host.store.saveGroup({ ...rec, voters: r.membership.voters, logReplicas: r.membership.logReplicas, awaited: r.membership.awaited });
    }
    r.installedGeneration = this.checkpointsStarted;
    this.host.send(r.leader, { t: 'ack', group, from: this.host.id, to: r.leader, id: r.id, seq: r.installing!.lastSeq, status: 'ok' });
    r.installing = undefined;
  }

  private refill(nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.budgetAtMs);
    this.budgetAtMs = nowMs;
    // At most a window's worth saved up: the pace holds over any second.
    this.budget = Math.min(this.budget + (elapsed * this.bytesPerSec) / 1000, WINDOW * CHUNK_BYTES);
  }

  private close(key: string, s: Sender): void {
    s.source.close();
    this.senders.delete(key);
  }
}
