/**
 * Global admission control (GAC), the paper's §4.3: a token bucket per table at the
 * table's capacity, from which every request router leases tokens in small batches, so
 * that a table's traffic is held to its capacity however it spreads over partitions. The
 * buckets live on the shared AdmissionBoard (routers in any thread lease under a slot
 * lock); this service, on the main thread, keeps the slots in step with the tables'
 * records (created, UpdateTable, billing-mode switches, deleted), samples every table's
 * consumption once a second, and runs on-demand tables at twice their previous peak.
 */
import {
  AdmissionBoard, MODE_ON_DEMAND, MODE_PROVISIONED, READ, WRITE, type AdmissionSettings, type CapacityKind,
} from '../model/admission-board.js';
import { globalIndexRouteName, type TableMeta } from './metadata.js';

/** A new on-demand table can take up to 4,000 write and 12,000 read request units per
 *  second at once (DynamoDB's initial throughput for on-demand capacity mode). */
export const ON_DEMAND_INITIAL_READ_UNITS = 12_000;
export const ON_DEMAND_INITIAL_WRITE_UNITS = 4_000;
/** On demand, DynamoDB serves up to twice the previous peak at once. */
const ON_DEMAND_PEAK_FACTOR = 2;
/** An on-demand table may take what it may serve at once: one second of its rate. */
const ON_DEMAND_BURST_SECONDS = 1;
const SAMPLE_EVERY_MS = 1000;

/** What a table's or a partition's buckets say: their rate (units per second), the
 *  credit they hold now, and per second (the last whole second) and in all, the units
 *  consumed and the requests throttled. */
export interface CapacityFigures {
  readCapacityUnits: number;
  writeCapacityUnits: number;
  readBurstCredit: number;
  writeBurstCredit: number;
  consumedReadUnitsPerSec: number;
  consumedWriteUnitsPerSec: number;
  throttledReadsPerSec: number;
  throttledWritesPerSec: number;
  consumedReadUnits: number;
  consumedWriteUnits: number;
  throttledReads: number;
  throttledWrites: number;
}

/** A table's admission, per second (the last whole second) and since the table got
 *  admission. Its rate: provisioned, or on demand twice the previous peak; its credit:
 *  the unused capacity the table's GAC bucket holds (burst credit). */
export interface TableCapacity extends CapacityFigures {
  table: string;
  billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
  /** On demand: the highest units per second seen (the "previous peak"). */
  peakReadUnitsPerSec?: number;
  peakWriteUnitsPerSec?: number;
}

interface TableState {
  name: string;
  tableId: number;
  slot: number;
  mode: typeof MODE_PROVISIONED | typeof MODE_ON_DEMAND;
  /** The table's partitions (groups and ranges) as last seen: nodes recompute their
   *  partitions' shares when they change (a split). */
  partitionsKey: string;
  /** Provisioned rates (what the record says), and on demand the peak per second. */
  provisioned: [number, number];
  peak: [number, number];
  /** Totals at the last sample, and the last whole second's deltas. */
  lastConsumed: [number, number];
  lastThrottled: [number, number];
  consumedPerSec: [number, number];
  throttledPerSec: [number, number];
}

export class GlobalAdmission {
  private readonly tables = new Map<string, TableState>();
  private timer: NodeJS.Timeout | undefined;
  /** Called when an on-demand table was throttled in the last second, per kind: where a
   *  split for consumption is to be asked for (the splits work hooks in here). */
  onDemandThrottled: (table: string, kind: CapacityKind) => void = () => {};

  constructor(readonly board: AdmissionBoard, settings: AdmissionSettings, private readonly clock: () => number) {
    board.setSettings(settings);
  }

  /** Samples once a second from now on (an unref'd timer: it keeps no process alive). */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.sample(this.clock()), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Brings every slot in step with the tables' records: called whenever they change. */
  sync(metas: readonly TableMeta[]): void {
    const nowMs = this.clock();
    const live = new Set<string>();
    // A global secondary index has capacity of its own, as a table does: a slot of its own
    // under its hidden table's id and route name.
    const withIndexes: Array<Pick<TableMeta, 'name' | 'tableId' | 'billingMode' | 'readCapacityUnits' | 'writeCapacityUnits' | 'partitions'>> = [];
    for (const meta of metas) {
      if (meta.status === 'DELETING') continue;
      withIndexes.push(meta);
      for (const g of meta.globalIndexes ?? []) {
        if (g.status === 'DELETING') continue;
        withIndexes.push({
          name: globalIndexRouteName(meta.name, g.spec.name), tableId: g.spec.id, billingMode: meta.billingMode,
          readCapacityUnits: g.readCapacityUnits, writeCapacityUnits: g.writeCapacityUnits, partitions: g.partitions,
        });
      }
    }
    for (const meta of withIndexes) {
      live.add(meta.name);
      const mode = meta.billingMode === 'PAY_PER_REQUEST' ? MODE_ON_DEMAND : MODE_PROVISIONED;
      let state = this.tables.get(meta.name);
      if (state !== undefined && state.tableId !== meta.tableId) {
        this.board.release(state.slot);
        this.tables.delete(meta.name);
        state = undefined;
      }
      const provisioned: [number, number] = [meta.readCapacityUnits, meta.writeCapacityUnits];
      const partitionsKey = meta.partitions.map((p) => `${p.group}:${p.hashStart}-${p.hashEnd}`).join(',');
      if (state !== undefined && state.partitionsKey !== partitionsKey) {
        state.partitionsKey = partitionsKey;
        this.board.touch();
      }
      if (state === undefined) {
        const slot = this.board.freeSlot();
        if (slot < 0) continue; // more tables than slots: the rest run without admission
        state = {
          name: meta.name, tableId: meta.tableId, slot, mode, partitionsKey, provisioned, peak: [0, 0],
          lastConsumed: [0, 0], lastThrottled: [0, 0], consumedPerSec: [0, 0], throttledPerSec: [0, 0],
        };
        this.tables.set(meta.name, state);
        this.configure(state, nowMs, true);
        continue;
      }
      if (state.mode === mode && state.provisioned[READ] === provisioned[READ] && state.provisioned[WRITE] === provisioned[WRITE]) continue;
      if (state.mode === MODE_PROVISIONED && mode === MODE_ON_DEMAND) {
        // Switched to on demand: DynamoDB counts half the previous provisioned throughput
        // as the previous peak.
        state.peak = [Math.max(state.peak[READ], state.provisioned[READ] / 2), Math.max(state.peak[WRITE], state.provisioned[WRITE] / 2)];
      }
      state.mode = mode;
      state.provisioned = provisioned;
      this.configure(state, nowMs, false);
    }
    for (const [name, state] of this.tables) {
      if (live.has(name)) continue;
      this.board.release(state.slot);
      this.tables.delete(name);
    }
  }

  /** Once a second: each table's consumption and throttles over the last second; on-demand
   *  tables follow their peak. */
  sample(nowMs: number): void {
    for (const state of this.tables.values()) {
      const snap = this.board.snapshot(state.slot, nowMs);
      let raised = false;
      for (const kind of [READ, WRITE] as const) {
        state.consumedPerSec[kind] = snap.consumed[kind] - state.lastConsumed[kind];
        state.throttledPerSec[kind] = snap.throttled[kind] - state.lastThrottled[kind];
        state.lastConsumed[kind] = snap.consumed[kind];
        state.lastThrottled[kind] = snap.throttled[kind];
        if (state.mode !== MODE_ON_DEMAND) continue;
        if (state.consumedPerSec[kind] > state.peak[kind]) {
          state.peak[kind] = state.consumedPerSec[kind];
          raised = true;
        }
        // Above twice the peak, DynamoDB splits the hot partitions: ask here.
        if (state.throttledPerSec[kind] > 0) this.onDemandThrottled(state.name, kind);
      }
      if (raised) this.configure(state, nowMs, false);
    }
  }

  /** Every table's admission (or one's, with its global indexes'), as `db.capacity()`
   *  shows it; a global index is listed under its route name, `<table>/index/<index>`. */
  capacity(nowMs: number, table?: string): TableCapacity[] {
    const out: TableCapacity[] = [];
    for (const state of this.tables.values()) {
      if (table !== undefined && state.name !== table && !state.name.startsWith(globalIndexRouteName(table, ''))) continue;
      const snap = this.board.snapshot(state.slot, nowMs);
      const onDemand = state.mode === MODE_ON_DEMAND;
      const entry: TableCapacity = {
        table: state.name,
        billingMode: onDemand ? 'PAY_PER_REQUEST' : 'PROVISIONED',
        readCapacityUnits: this.board.rate(state.slot, READ),
        writeCapacityUnits: this.board.rate(state.slot, WRITE),
        readBurstCredit: snap.tokens[READ],
        writeBurstCredit: snap.tokens[WRITE],
        consumedReadUnitsPerSec: state.consumedPerSec[READ],
        consumedWriteUnitsPerSec: state.consumedPerSec[WRITE],
        throttledReadsPerSec: state.throttledPerSec[READ],
        throttledWritesPerSec: state.throttledPerSec[WRITE],
        consumedReadUnits: snap.consumed[READ],
        consumedWriteUnits: snap.consumed[WRITE],
        throttledReads: snap.throttled[READ],
        throttledWrites: snap.throttled[WRITE],
      };
      if (onDemand) {
        entry.peakReadUnitsPerSec = state.peak[READ];
        entry.peakWriteUnitsPerSec = state.peak[WRITE];
      }
      out.push(entry);
    }
    return out;
  }

  /** The table id of a table with admission (for matching partitions' reports). */
  tableIdOf(table: string): number | undefined {
    return this.tables.get(table)?.tableId;
  }

  private configure(state: TableState, nowMs: number, fresh: boolean): void {
    if (state.mode === MODE_ON_DEMAND) {
      const read = Math.max(ON_DEMAND_INITIAL_READ_UNITS, ON_DEMAND_PEAK_FACTOR * state.peak[READ]);
      const write = Math.max(ON_DEMAND_INITIAL_WRITE_UNITS, ON_DEMAND_PEAK_FACTOR * state.peak[WRITE]);
      this.board.configure(state.slot, state.tableId, MODE_ON_DEMAND, read, write, ON_DEMAND_BURST_SECONDS, nowMs, fresh);
    } else {
      this.board.configure(state.slot, state.tableId, MODE_PROVISIONED, state.provisioned[READ], state.provisioned[WRITE], this.board.burstSeconds, nowMs, fresh);
    }
  }
}
