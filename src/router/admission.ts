/**
 * A request router's admission control: a local token bucket per table, filled by
 * leasing small batches of tokens from the global admission control service's bucket
 * for the table (the shared AdmissionBoard), as the paper's request routers do. A
 * request is admitted on an estimate of its cost before it is sent; once its real cost
 * is known (the same number ConsumedCapacity reports), the difference is `charge`d, into
 * debt if need be. With global admission off, the router only counts what its tables
 * consume (for GAC's statistics and on-demand peaks); the partition buckets on the nodes
 * decide alone.
 *
 * One per thread that sends requests; the hot path is a map lookup and a few arithmetic
 * operations, and no allocation.
 */
import {
  MODE_NONE, throttleErrorShape, type AdmissionBoard, type AdmissionMode, type CapacityKind,
} from '../model/admission-board.js';
import { fromErrorShape, type DynamoDBError } from '../model/errors.js';

/** A lease asks for this many seconds of the table's rate (at least one unit): small, so
 *  that what routers hold unused stays small. */
const LEASE_SECONDS = 0.05;
/** A router adds what it consumed to GAC's totals at least this often while it is busy
 *  (ms), even when it needs no tokens. */
const REPORT_EVERY_MS = 200;

interface LocalTable {
  /** The board's seq when `slot` was looked up. */
  seq: number;
  slot: number;
  mode: AdmissionMode;
  /** Tokens leased and not spent, by kind; negative while in debt. */
  readonly tokens: Float64Array;
  /** Consumed and throttled since the last report, by kind. */
  readonly consumed: Float64Array;
  readonly throttled: Float64Array;
  reportedAtMs: number;
}

export class RouterAdmission {
  private readonly tables = new Map<number, LocalTable>();

  constructor(private readonly board: AdmissionBoard) {}

  /**
   * Admits a request estimated at `units` of `kind` on table `tableId`, taking them from
   * the local bucket; returns the error to fail it with when throttled (nothing is sent).
   */
  admit(tableId: number, kind: CapacityKind, units: number, nowMs: number): DynamoDBError | undefined {
    if (!this.board.enabled) return undefined;
    const table = this.table(tableId);
    if (table === undefined || table.mode === MODE_NONE) return undefined;
    if (this.board.globalAdmission) {
      const needed = units < 1 ? units : 1;
      if (table.tokens[kind] < needed) {
        const rate = this.board.rate(table.slot, kind);
        const batch = Math.max(1, rate * LEASE_SECONDS);
        const granted = this.lease(tableId, table, kind, batch - table.tokens[kind], nowMs);
        if (granted > 0) table.tokens[kind] += granted;
        if (table.tokens[kind] < needed) {
          table.throttled[kind]++;
          return fromErrorShape(throttleErrorShape(table.mode));
        }
      }
      table.tokens[kind] -= units;
    }
    table.consumed[kind] += units;
    if (nowMs - table.reportedAtMs >= REPORT_EVERY_MS) this.lease(tableId, table, kind, 0, nowMs);
    return undefined;
  }

  /** The real cost of an admitted request was `units` more than its estimate (or less,
   *  when negative): the local bucket pays it, into debt if need be. */
  charge(tableId: number, kind: CapacityKind, units: number): void {
    if (units === 0 || !this.board.enabled) return;
    const table = this.table(tableId);
    if (table === undefined || table.mode === MODE_NONE) return;
    if (this.board.globalAdmission) table.tokens[kind] -= units;
    table.consumed[kind] += units;
  }

  /** A request admitted here was throttled further on (a partition or node bucket): counted
   *  for GAC's statistics, and its estimate given back. */
  throttledLater(tableId: number, kind: CapacityKind, units: number): void {
    const table = this.tables.get(tableId);
    if (table === undefined || table.mode === MODE_NONE) return;
    this.charge(tableId, kind, -units);
    table.throttled[kind]++;
  }

  /** Adds what this router consumed and throttled to GAC's totals now. */
  report(nowMs: number): void {
    for (const [tableId, table] of this.tables) {
      if (table.mode !== MODE_NONE && table.slot >= 0) this.lease(tableId, table, 0, 0, nowMs);
    }
  }

  private table(tableId: number): LocalTable | undefined {
    let table = this.tables.get(tableId);
    const seq = this.board.seq;
    if (table !== undefined && table.seq === seq) return table;
    const slot = this.board.findSlot(tableId);
    if (table === undefined) {
      table = {
        seq, slot, mode: MODE_NONE, tokens: new Float64Array(2), consumed: new Float64Array(2), throttled: new Float64Array(2), reportedAtMs: 0,
      };
      this.tables.set(tableId, table);
    }
    table.seq = seq;
    table.slot = slot;
    table.mode = slot < 0 ? MODE_NONE : this.board.mode(slot);
    return table;
  }

  private lease(tableId: number, table: LocalTable, kind: CapacityKind, want: number, nowMs: number): number {
    table.reportedAtMs = nowMs;
    const granted = this.board.lease(table.slot, tableId, kind, want, nowMs, table.consumed, table.throttled);
    if (granted < 0) {
      // The slot changed hands (the table was deleted): look again next time.
      table.seq = -1;
      return 0;
    }
    return granted;
  }
}
