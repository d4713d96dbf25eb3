/**
 * A storage node's admission control, the last line of defence: a token bucket per
 * partition (replication group) and kind (read, write), and one per node capping what it
 * accepts in all, so that one partition cannot starve its neighbours on the node.
 *
 * A partition's bucket runs at its share of its table's capacity (the table's rate times
 * the fraction of the hash space the partition holds), with the table's burst credit.
 * With global admission on, the routers already hold a table to its capacity, so a
 * partition may take more than its share: its bucket runs at the table's rate. Either
 * way a partition never takes more than DynamoDB's per-partition caps (3,000 RCU, 1,000
 * WCU: a bucket of its own, with one second of burst), nor the node more than its own cap.
 *
 * Capacities come from the control plane on the AdmissionBoard (re-read when its seq
 * moves: a table created or updated, partitions changed). Only requests that carry an
 * estimate (`u`, set by the api's routers) are subject to admission: the control plane's
 * own reads and writes (index propagation, restores) are not throttled.
 */
import {
  MODE_NONE, MODE_ON_DEMAND, READ, throttleErrorShape, WRITE, type AdmissionBoard, type AdmissionMode, type CapacityKind,
} from '../model/admission-board.js';
import type { ErrorShape } from '../model/errors.js';
import { HASH_SPACE } from '../model/hash.js';
import { TokenBucket } from '../model/token-bucket.js';

/** The node bucket and the per-partition cap buckets keep one second of burst. */
const CAP_BURST_SECONDS = 1;

/** A partition's admission, as the node's `admission` request reports it (per second:
 *  the last whole second). */
export interface PartitionAdmissionStats {
  group: number;
  tableId: number;
  /** Units per second its buckets run at, read and write. */
  rate: [number, number];
  /** Burst credit: units its buckets hold now. */
  credit: [number, number];
  consumedPerSec: [number, number];
  throttledPerSec: [number, number];
  consumed: [number, number];
  throttled: [number, number];
}

interface GroupBuckets {
  group: number;
  tableId: number;
  /** The partition's fraction of its table's hash space. */
  fraction: number;
  slot: number;
  mode: AdmissionMode;
  share: [TokenBucket, TokenBucket];
  cap: [TokenBucket, TokenBucket];
  consumed: [number, number];
  throttled: [number, number];
  secondStartMs: number;
  consumedThisSecond: [number, number];
  throttledThisSecond: [number, number];
  consumedLastSecond: [number, number];
  throttledLastSecond: [number, number];
}

export interface GroupRange { tableId: number; hashStart: string; hashEnd: string }

export class NodeAdmission {
  private readonly groups = new Map<number, GroupBuckets>();
  private readonly node: [TokenBucket, TokenBucket];
  private seq = -1;

  /** `rangeOf`: the group's table and hash range (its record on this node). */
  constructor(private readonly board: AdmissionBoard, private readonly rangeOf: (group: number) => GroupRange | undefined, nowMs: number) {
    this.node = [
      new TokenBucket(board.nodeRate(READ), CAP_BURST_SECONDS, nowMs),
      new TokenBucket(board.nodeRate(WRITE), CAP_BURST_SECONDS, nowMs),
    ];
  }

  /**
   * Admits a request of group `group` estimated at `units` of `kind`, taking them from
   * the node's and the partition's buckets; returns the error to answer when throttled
   * (the request is then neither proposed nor served).
   */
  admit(group: number, kind: CapacityKind, units: number, nowMs: number): ErrorShape | undefined {
    if (!this.board.enabled) return undefined;
    if (this.board.seq !== this.seq) this.reconfigure(nowMs);
    const buckets = this.bucketsOf(group, nowMs);
    if (buckets === undefined || buckets.mode === MODE_NONE) return undefined;
    this.roll(buckets, nowMs);
    const node = this.node[kind];
    const cap = buckets.cap[kind];
    const share = buckets.share[kind];
    if (!node.canAdmit(units, nowMs) || !cap.canAdmit(units, nowMs) || !share.canAdmit(units, nowMs)) {
      buckets.throttled[kind]++;
      buckets.throttledThisSecond[kind]++;
      return throttleErrorShape(buckets.mode);
    }
    node.tokens -= units;
    cap.tokens -= units;
    share.tokens -= units;
    buckets.consumed[kind] += units;
    buckets.consumedThisSecond[kind] += units;
    return undefined;
  }

  /** A request admitted on an estimate cost `units` more (a Query or Scan page, known
   *  once read): its buckets pay it, into debt if need be. Negative gives back (a write
   *  admitted, then refused by its replica: it will be sent again). */
  charge(group: number, kind: CapacityKind, units: number): void {
    const buckets = this.groups.get(group);
    if (units === 0 || buckets === undefined || buckets.mode === MODE_NONE) return;
    this.node[kind].charge(units);
    buckets.cap[kind].charge(units);
    buckets.share[kind].charge(units);
    buckets.consumed[kind] += units;
    buckets.consumedThisSecond[kind] += units;
  }

  /** The group is gone from this node. */
  drop(group: number): void {
    this.groups.delete(group);
  }

  stats(nowMs: number): PartitionAdmissionStats[] {
    if (this.board.seq !== this.seq) this.reconfigure(nowMs);
    const out: PartitionAdmissionStats[] = [];
    for (const b of this.groups.values()) {
      if (b.mode === MODE_NONE) continue;
      this.roll(b, nowMs);
      for (const bucket of b.share) bucket.refill(nowMs);
      out.push({
        group: b.group, tableId: b.tableId,
        rate: [b.share[READ].ratePerSec, b.share[WRITE].ratePerSec],
        credit: [b.share[READ].tokens, b.share[WRITE].tokens],
        consumedPerSec: [...b.consumedLastSecond], throttledPerSec: [...b.throttledLastSecond],
        consumed: [...b.consumed], throttled: [...b.throttled],
      });
    }
    return out;
  }

  /** Per-second windows: what the current second counted becomes the last second's. */
  private roll(b: GroupBuckets, nowMs: number): void {
    if (nowMs - b.secondStartMs < 1000) return;
    const whole = nowMs - b.secondStartMs < 2000;
    for (const kind of [READ, WRITE] as const) {
      b.consumedLastSecond[kind] = whole ? b.consumedThisSecond[kind] : 0;
      b.throttledLastSecond[kind] = whole ? b.throttledThisSecond[kind] : 0;
      b.consumedThisSecond[kind] = 0;
      b.throttledThisSecond[kind] = 0;
    }
    b.secondStartMs = nowMs - ((nowMs - b.secondStartMs) % 1000);
  }

  private bucketsOf(group: number, nowMs: number): GroupBuckets | undefined {
    const known = this.groups.get(group);
    if (known !== undefined) return known;
    const range = this.rangeOf(group);
    if (range === undefined) return undefined;
    const fraction = fractionOf(range);
    const zero = (): [TokenBucket, TokenBucket] => [new TokenBucket(0, 1, nowMs), new TokenBucket(0, 1, nowMs)];
    const buckets: GroupBuckets = {
      group, tableId: range.tableId, fraction, slot: -1, mode: MODE_NONE, share: zero(), cap: zero(),
      consumed: [0, 0], throttled: [0, 0], secondStartMs: nowMs,
      consumedThisSecond: [0, 0], throttledThisSecond: [0, 0], consumedLastSecond: [0, 0], throttledLastSecond: [0, 0],
    };
    this.configure(buckets, nowMs, true);
    this.groups.set(group, buckets);
    return buckets;
  }

  private reconfigure(nowMs: number): void {
    this.seq = this.board.seq;
    for (const [kind, bucket] of this.node.entries()) bucket.setRate(this.board.nodeRate(kind as CapacityKind), CAP_BURST_SECONDS, nowMs);
    for (const buckets of this.groups.values()) {
      // A split may have changed the group's range, and with it its share.
      const range = this.rangeOf(buckets.group);
      if (range !== undefined) buckets.fraction = fractionOf(range);
      this.configure(buckets, nowMs, false);
    }
  }

  /** Sets a partition's rates from its table's slot. A partition whose table just got
   *  admission starts with full buckets, as a new table does. */
  private configure(b: GroupBuckets, nowMs: number, fresh: boolean): void {
    const slot = this.board.findSlot(b.tableId);
    const mode = slot < 0 ? MODE_NONE : this.board.mode(slot);
    const refill = fresh || b.mode === MODE_NONE;
    b.slot = slot;
    b.mode = mode;
    if (mode === MODE_NONE) return;
    // On demand there is no burst credit to keep: what it may take at once is its rate.
    const burstSeconds = mode === MODE_ON_DEMAND ? CAP_BURST_SECONDS : this.board.slotBurstSeconds(slot);
    for (const kind of [READ, WRITE] as const) {
      const hardCap = this.board.partitionCap(kind);
      const tableRate = this.board.rate(slot, kind);
      const rate = Math.min(hardCap, this.board.globalAdmission ? tableRate : tableRate * b.fraction);
      for (const [bucket, r, burst] of [[b.share[kind], rate, burstSeconds], [b.cap[kind], hardCap, CAP_BURST_SECONDS]] as const) {
        bucket.setRate(r, burst, nowMs);
        if (refill) bucket.tokens = bucket.maxTokens;
      }
    }
  }
}

/** The fraction of its table's hash space a partition holds. */
function fractionOf(range: GroupRange): number {
  const width = BigInt('0x' + range.hashEnd) - BigInt('0x' + range.hashStart) + 1n;
  return Number(width) / Number(HASH_SPACE);
}
