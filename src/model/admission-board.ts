/**
 * The admission board: shared memory through which the global admission control service
 * (GAC, control/gac.ts, on the main thread) hands out capacity to every request router
 * (any thread) and tells every storage node (its own thread) each table's capacity.
 *
 * It holds the cluster's admission settings, and one slot per table with admission: the
 * table's id, its mode (provisioned or on-demand), its read and write rates, and GAC's
 * token bucket for it (the table-level bucket of the paper). A router leases tokens from
 * a slot in small batches (`lease`, under the slot's lock) and reports what it consumed
 * and throttled at the same time; nodes only read the rates, again when `seq` moved.
 *
 * Lives in model because both the router and the node rooms read it and it imports
 * nothing outside model.
 */

import type { ErrorShape } from './errors.js';
import { refilledTokens, tokensAtNewRate } from './token-bucket.js';

export const READ = 0;
export const WRITE = 1;
export type CapacityKind = typeof READ | typeof WRITE;

export const MODE_NONE = 0;
export const MODE_PROVISIONED = 1;
export const MODE_ON_DEMAND = 2;
export type AdmissionMode = typeof MODE_NONE | typeof MODE_PROVISIONED | typeof MODE_ON_DEMAND;

// Header words (Int32).
const H_SEQ = 0;
const H_ENABLED = 1;
const H_GAC = 2;
const HEADER_INTS = 4;
// Header numbers (Float64).
const H_BURST_SECONDS = 0;
const H_NODE_RATE = 1; // + kind
const H_PARTITION_CAP = 3; // + kind
const HEADER_FLOATS = 5;
// Slot words (Int32).
const S_LOCK = 0;
const S_TABLE_ID = 1;
const S_MODE = 2;
const SLOT_INTS = 4;
// Slot numbers (Float64).
const S_RATE = 0; // + kind
const S_BURST_SECONDS = 2;
const S_TOKENS = 3; // + kind
const S_REFILLED_AT_MS = 5;
const S_CONSUMED = 6; // + kind
const S_THROTTLED = 8; // + kind
const SLOT_FLOATS = 10;

/** Spins on a slot's lock before the waiter sleeps, and how long it sleeps (ms). */
const LOCK_SPINS = 100;
const LOCK_SLEEP_MS = 0.05;

/** Tables with admission at once (base tables; a slot is freed when its table goes). */
export const DEFAULT_ADMISSION_SLOTS = 1024;

export interface AdmissionSettings {
  enabled: boolean;
  globalAdmission: boolean;
  burstSeconds: number;
  /** Each storage node's cap on what it accepts per second, read and write units. */
  nodeReadUnits: number;
  nodeWriteUnits: number;
  /** DynamoDB's per-partition hard caps. */
  partitionReadUnits: number;
  partitionWriteUnits: number;
}

export class AdmissionBoard {
  private readonly headerInts: Int32Array;
  private readonly headerFloats: Float64Array;
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;
  readonly slots: number;

  static allocate(slots = DEFAULT_ADMISSION_SLOTS): SharedArrayBuffer {
    return new SharedArrayBuffer(HEADER_INTS * 4 + HEADER_FLOATS * 8 + slots * (SLOT_INTS * 4 + SLOT_FLOATS * 8));
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    const slotBytes = SLOT_INTS * 4 + SLOT_FLOATS * 8;
    this.slots = Math.floor((buffer.byteLength - HEADER_INTS * 4 - HEADER_FLOATS * 8) / slotBytes);
    let at = 0;
    this.headerInts = new Int32Array(buffer, at, HEADER_INTS);
    at += HEADER_INTS * 4;
    this.headerFloats = new Float64Array(buffer, at, HEADER_FLOATS);
    at += HEADER_FLOATS * 8;
    this.floats = new Float64Array(buffer, at, this.slots * SLOT_FLOATS);
    at += this.slots * SLOT_FLOATS * 8;
    this.ints = new Int32Array(buffer, at, this.slots * SLOT_INTS);
  }

  /** Moves whenever a setting or a slot's configuration changes: readers re-read then. */
  get seq(): number {
    return Atomics.load(this.headerInts, H_SEQ);
  }

  get enabled(): boolean {
    return Atomics.load(this.headerInts, H_ENABLED) === 1;
  }

  get globalAdmission(): boolean {
    return Atomics.load(this.headerInts, H_GAC) === 1;
  }

  get burstSeconds(): number {
    return this.headerFloats[H_BURST_SECONDS];
  }

  nodeRate(kind: CapacityKind): number {
    return this.headerFloats[H_NODE_RATE + kind];
  }

  partitionCap(kind: CapacityKind): number {
    return this.headerFloats[H_PARTITION_CAP + kind];
  }

  setSettings(settings: AdmissionSettings): void {
    this.headerFloats[H_BURST_SECONDS] = settings.burstSeconds;
    this.headerFloats[H_NODE_RATE + READ] = settings.nodeReadUnits;
    this.headerFloats[H_NODE_RATE + WRITE] = settings.nodeWriteUnits;
    this.headerFloats[H_PARTITION_CAP + READ] = settings.partitionReadUnits;
    this.headerFloats[H_PARTITION_CAP + WRITE] = settings.partitionWriteUnits;
    Atomics.store(this.headerInts, H_GAC, settings.globalAdmission ? 1 : 0);
    Atomics.store(this.headerInts, H_ENABLED, settings.enabled ? 1 : 0);
    Atomics.add(this.headerInts, H_SEQ, 1);
  }

  /** The slot of table `tableId`, or -1 (no admission for it). A scan: callers cache it. */
  findSlot(tableId: number): number {
    for (let slot = 0; slot < this.slots; slot++) {
      if (Atomics.load(this.ints, slot * SLOT_INTS + S_TABLE_ID) === tableId && this.mode(slot) !== MODE_NONE) return slot;
    }
    return -1;
  }

  tableIdOf(slot: number): number {
    return Atomics.load(this.ints, slot * SLOT_INTS + S_TABLE_ID);
  }

  mode(slot: number): AdmissionMode {
    return Atomics.load(this.ints, slot * SLOT_INTS + S_MODE) as AdmissionMode;
  }

  rate(slot: number, kind: CapacityKind): number {
    return this.floats[slot * SLOT_FLOATS + S_RATE + kind];
  }

  slotBurstSeconds(slot: number): number {
    return this.floats[slot * SLOT_FLOATS + S_BURST_SECONDS];
  }

  /** GAC: a free slot, or -1. */
  freeSlot(): number {
    for (let slot = 0; slot < this.slots; slot++) if (this.mode(slot) === MODE_NONE) return slot;
    return -1;
  }

  /**
   * GAC: sets a slot's table, mode and rates. `fresh`: a new table, whose bucket starts
   * full (DynamoDB's new tables have their burst credit); otherwise what it holds stays,
   * up to the new cap.
   */
  configure(slot: number, tableId: number, mode: AdmissionMode, readRate: number, writeRate: number, burstSeconds: number, nowMs: number, fresh: boolean): void {
    this.withLock(slot, () => {
      const f = slot * SLOT_FLOATS;
      if (!fresh) this.refillLocked(slot, nowMs);
      const rates = [readRate, writeRate];
      for (const kind of [READ, WRITE] as const) {
        if (fresh) {
          this.floats[f + S_TOKENS + kind] = rates[kind] * burstSeconds;
          this.floats[f + S_CONSUMED + kind] = 0;
          this.floats[f + S_THROTTLED + kind] = 0;
        } else {
          this.floats[f + S_TOKENS + kind] = tokensAtNewRate(this.floats[f + S_TOKENS + kind], this.floats[f + S_RATE + kind], rates[kind], burstSeconds);
        }
      }
      Atomics.store(this.ints, slot * SLOT_INTS + S_TABLE_ID, tableId);
      Atomics.store(this.ints, slot * SLOT_INTS + S_MODE, mode);
      this.floats[f + S_RATE + READ] = readRate;
      this.floats[f + S_RATE + WRITE] = writeRate;
      this.floats[f + S_BURST_SECONDS] = burstSeconds;
      this.floats[f + S_REFILLED_AT_MS] = nowMs;
    });
    Atomics.add(this.headerInts, H_SEQ, 1);
  }

  /** GAC: something nodes derive from the board changed (a table's partitions): they
   *  look again. */
  touch(): void {
    Atomics.add(this.headerInts, H_SEQ, 1);
  }

  /** GAC: the table is gone; its slot may be given to another. */
  release(slot: number): void {
    this.withLock(slot, () => Atomics.store(this.ints, slot * SLOT_INTS + S_MODE, MODE_NONE));
    Atomics.add(this.headerInts, H_SEQ, 1);
  }

  /**
   * A router takes up to `want` tokens of `kind` from table `tableId`'s bucket (fewer when
   * it holds fewer; none when it is empty or in debt), and adds what it consumed and
   * throttled since its last lease (arrays indexed by kind, zeroed here). -1 when the slot
   * no longer belongs to that table (the router looks it up again).
   */
  lease(slot: number, tableId: number, kind: CapacityKind, want: number, nowMs: number, consumed: Float64Array, throttled: Float64Array): number {
    return this.withLock(slot, () => {
      if (Atomics.load(this.ints, slot * SLOT_INTS + S_TABLE_ID) !== tableId || this.mode(slot) === MODE_NONE) return -1;
      const f = slot * SLOT_FLOATS;
      this.refillLocked(slot, nowMs);
      for (const k of [READ, WRITE] as const) {
        this.floats[f + S_CONSUMED + k] += consumed[k];
        this.floats[f + S_THROTTLED + k] += throttled[k];
        consumed[k] = 0;
        throttled[k] = 0;
      }
      const tokens = this.floats[f + S_TOKENS + kind];
      if (want <= 0 || tokens <= 0) return 0;
      const granted = want < tokens ? want : tokens;
      this.floats[f + S_TOKENS + kind] = tokens - granted;
      return granted;
    });
  }

  /** GAC's view of a slot: tokens (after refill), and the running totals consumed and throttled. */
  snapshot(slot: number, nowMs: number): { tokens: [number, number]; consumed: [number, number]; throttled: [number, number] } {
    return this.withLock(slot, () => {
      this.refillLocked(slot, nowMs);
      const f = slot * SLOT_FLOATS;
      return {
        tokens: [this.floats[f + S_TOKENS + READ], this.floats[f + S_TOKENS + WRITE]],
        consumed: [this.floats[f + S_CONSUMED + READ], this.floats[f + S_CONSUMED + WRITE]],
        throttled: [this.floats[f + S_THROTTLED + READ], this.floats[f + S_THROTTLED + WRITE]],
      };
    });
  }

  private refillLocked(slot: number, nowMs: number): void {
    const f = slot * SLOT_FLOATS;
    const elapsedMs = nowMs - this.floats[f + S_REFILLED_AT_MS];
    if (elapsedMs <= 0) return;
    this.floats[f + S_REFILLED_AT_MS] = nowMs;
    const burstSeconds = this.floats[f + S_BURST_SECONDS];
    for (const kind of [READ, WRITE] as const) {
      this.floats[f + S_TOKENS + kind] = refilledTokens(this.floats[f + S_TOKENS + kind], this.floats[f + S_RATE + kind], burstSeconds, elapsedMs);
    }
  }

  /** The slot's lock is held for a few arithmetic operations, never across an await. A
   *  holder descheduled in between (more threads than cores) would keep a spinner waiting
   *  for its whole time slice: after a few spins the waiter sleeps a moment instead. */
  private withLock<T>(slot: number, body: () => T): T {
    const at = slot * SLOT_INTS + S_LOCK;
    for (let spins = 0; Atomics.compareExchange(this.ints, at, 0, 1) !== 0; spins++) {
      if (spins >= LOCK_SPINS) Atomics.wait(this.ints, at, 1, LOCK_SLEEP_MS);
    }
    try {
      return body();
    } finally {
      Atomics.store(this.ints, at, 0);
    }
  }
}

/** DynamoDB's answer to a request over a provisioned table's capacity. */
export const PROVISIONED_THROUGHPUT_EXCEEDED_MESSAGE =
  'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.';
/** DynamoDB's answer to a request over what an on-demand table can take at once. */
export const ON_DEMAND_THROTTLED_MESSAGE =
  'Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. '
  + 'If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html';

/** The error a throttled request gets, by its table's mode: retryable, and never applied. */
export function throttleErrorShape(mode: AdmissionMode): ErrorShape {
  return mode === MODE_ON_DEMAND
    ? { name: 'ThrottlingException', message: ON_DEMAND_THROTTLED_MESSAGE }
    : { name: 'ProvisionedThroughputExceededException', message: PROVISIONED_THROUGHPUT_EXCEEDED_MESSAGE };
}
