/**
 * The core's view of its own log: durable entries behind a `LogReader` (the shell's WAL),
 * a bounded in-memory tail of recent durable entries (the hot path), and the unstable
 * entries not yet confirmed durable by `advance()`.
 *
 *   firstIndex ........ stableLast | stableLast+1 ........ lastIndex
 *   [ reader (and tail cache)     ] [ unstable (memory only)       ]
 *                                    [ emitted ][ not yet emitted  ]
 *
 * The reader is consulted only at or below `stableLast`: above it the WAL may hold entries
 * of an in-flight Ready or entries this log has since truncated.
 */
import { LOG_TAIL_MAX_BYTES, LOG_TAIL_MAX_ENTRIES } from './constants.js';
import type { LogEntry, LogReader } from './types.js';

export class ReplicationInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicationInvariantError';
  }
}

/** Assertion that stays on in production: a broken invariant is a bug, fail loudly. */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new ReplicationInvariantError(typeof message === 'string' ? message : message());
}

export class RaftLog {
  /** Invariant: entries [firstIndex, stableLast] are durable and readable from `reader`. */
  private stableLastIndex: number;
  /** Invariant: unstable[k].index === stableLastIndex + 1 + k. */
  private unstable: LogEntry[] = [];
  /** Invariant: stableLastIndex <= emittedLast <= lastIndex(). Entries up to here were
   *  handed to the shell in a Ready (persisted or being persisted). */
  private emittedLast: number;
  /** The WAL must drop entries from here on before appending (set by a truncation that
   *  reached entries the shell already has or is writing). */
  private truncatePending: number | undefined;
  /** Recent durable entries: tail[k].index === tailFirst + k, ending at stableLastIndex. */
  private tail: LogEntry[] = [];
  private tailHead = 0;
  private tailBytes = 0;
  /** First index still in the WAL; entries below it are compacted. */
  private first: number;
  /** Term of entry first-1, remembered at compaction so probes just above it work. */
  private boundaryTerm: number | undefined;

  constructor(private readonly reader: LogReader) {
    this.first = reader.firstIndex();
    this.stableLastIndex = reader.lastIndex();
    this.emittedLast = this.stableLastIndex;
    invariant(this.first >= 1 && this.first <= this.stableLastIndex + 1,
      () => `log: firstIndex ${this.first} must be in [1, lastIndex+1 = ${this.stableLastIndex + 1}]`);
    this.boundaryTerm = this.first === 1 ? 0 : reader.term(this.first - 1);
  }

  firstIndex(): number {
    return this.first;
  }

  /** Last durable index (as of the last advance). */
  stableLast(): number {
    return this.stableLastIndex;
  }

  lastIndex(): number {
    return this.stableLastIndex + this.unstable.length;
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    invariant(t !== undefined, 'log: term of the last entry is unknown');
    return t;
  }

  /** Term of entry `index`: 0 for index 0, undefined when compacted or beyond the end. */
  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (index > this.lastIndex() || index < 0) return undefined;
    if (index > this.stableLastIndex) return this.unstable[index - this.stableLastIndex - 1].term;
    const tailFirst = this.tailFirst();
    if (index >= tailFirst && this.tail.length > this.tailHead) return this.tail[this.tailHead + index - tailFirst].term;
    if (index === this.first - 1) return this.boundaryTerm ?? this.reader.term(index);
    if (index < this.first) return undefined;
    return this.reader.term(index);
  }

  /** Entries [lo, hi) up to `maxBytes` of data (always at least one). Precondition:
   *  firstIndex <= lo < hi <= lastIndex+1. */
  slice(lo: number, hi: number, maxBytes: number): LogEntry[] {
    invariant(lo >= this.first && lo < hi && hi <= this.lastIndex() + 1,
      () => `log: slice [${lo}, ${hi}) outside [${this.first}, ${this.lastIndex() + 1})`);
    const out: LogEntry[] = [];
    let bytes = 0;
    let i = lo;
    const tailFirst = this.tailFirst();
    // 1. From the WAL, below the tail cache.
    if (i < tailFirst && i <= this.stableLastIndex) {
      const readHi = Math.min(hi, tailFirst, this.stableLastIndex + 1);
      const got = this.reader.entries(i, readHi, maxBytes);
      invariant(got.length > 0 && got[0].index === i, () => `log: reader returned no entry at ${i}`);
      for (const e of got) {
        invariant(e.index === i, () => `log: reader returned index ${e.index}, expected ${i}`);
        out.push(e);
        bytes += e.data.byteLength;
        i++;
      }
      if (i < readHi || bytes >= maxBytes) return out;
    }
    // 2. From the tail cache, then 3. from unstable entries.
    while (i < hi) {
      const e = i > this.stableLastIndex
        ? this.unstable[i - this.stableLastIndex - 1]
        : this.tail[this.tailHead + i - tailFirst];
      if (out.length > 0 && bytes + e.data.byteLength > maxBytes) break;
      out.push(e);
      bytes += e.data.byteLength;
      i++;
    }
    return out;
  }

  /** Appends entries that directly follow lastIndex. */
  append(entries: readonly LogEntry[]): void {
    let expected = this.lastIndex() + 1;
    const lastTerm = this.lastTerm();
    for (const e of entries) {
      invariant(e.index === expected, () => `log: append of index ${e.index}, expected ${expected}`);
      invariant(e.term >= lastTerm, () => `log: append of term ${e.term} after term ${lastTerm}`);
      this.unstable.push(e);
      expected++;
    }
  }

  /** Drops entries from `index` on (a conflicting suffix). */
  truncateFrom(index: number): void {
    invariant(index >= this.first && index <= this.lastIndex(),
      () => `log: truncate from ${index} outside [${this.first}, ${this.lastIndex()}]`);
    if (index <= this.emittedLast) {
      this.truncatePending = Math.min(this.truncatePending ?? index, index);
      this.emittedLast = index - 1;
    }
    if (index <= this.stableLastIndex) {
      this.unstable = [];
      this.stableLastIndex = index - 1;
      this.trimTailAbove(index - 1);
    } else {
      this.unstable.length = index - this.stableLastIndex - 1;
    }
  }

  hasUnemitted(): boolean {
    return this.truncatePending !== undefined || this.emittedLast < this.lastIndex();
  }

  /** Hands out the work for a Ready: a truncation point and the entries to append. */
  takeUnemitted(): { truncateFrom: number | undefined; entries: LogEntry[] } {
    const from = this.emittedLast + 1 - this.stableLastIndex - 1;
    const entries = this.unstable.slice(from);
    const truncateFrom = this.truncatePending;
    this.truncatePending = undefined;
    this.emittedLast = this.lastIndex();
    return { truncateFrom, entries };
  }

  /** The shell made `persisted` durable. Entries truncated meanwhile do not count: only the
   *  longest prefix that still matches this log (same index and term) becomes stable. */
  stableTo(persisted: readonly LogEntry[]): void {
    for (let k = persisted.length - 1; k >= 0; k--) {
      const e = persisted[k];
      if (e.index <= this.stableLastIndex) return; // already stable
      if (e.index > this.lastIndex() || this.term(e.index) !== e.term) continue;
      const n = e.index - this.stableLastIndex;
      const moved = this.unstable.splice(0, n);
      this.stableLastIndex = e.index;
      for (const m of moved) this.pushTail(m);
      return;
    }
  }

  /** The WAL will drop (or dropped) entries below `firstIndex`. Call before the WAL drops
   *  them when it does not remember the term of entry firstIndex-1 itself. */
  compacted(firstIndex: number): void {
    if (firstIndex <= this.first) return;
    invariant(firstIndex - 1 <= this.stableLastIndex,
      () => `log: compaction to ${firstIndex} beyond durable ${this.stableLastIndex}`);
    this.boundaryTerm = this.term(firstIndex - 1);
    this.first = firstIndex;
    while (this.tail.length > this.tailHead && this.tailFirst() < firstIndex) this.dropTailHead();
  }

  /** A log replica's restart, or a snapshot installed: drops every entry and continues
   *  after `index`, a committed entry of term `term`. The shell's WAL does the same when it persists the Ready's
   *  `logStart`; until then the reader is consulted for nothing (the range
   *  [first, stableLast] is empty). */
  restartAt(index: number, term: number): void {
    this.unstable = [];
    this.tail = [];
    this.tailHead = 0;
    this.tailBytes = 0;
    this.truncatePending = undefined;
    this.stableLastIndex = index;
    this.emittedLast = index;
    this.first = index + 1;
    this.boundaryTerm = term;
  }

  /** Highest index <= `index` whose term is <= `term` (or where the term is unknown):
   *  entries above it cannot match a leader whose entry at `index` has `term`. */
  findConflictByTerm(index: number, term: number): number {
    while (index > 0) {
      const t = this.term(index);
      if (t === undefined || t <= term) break;
      index--;
    }
    return index;
  }

  cachedTail(): { entries: number; bytes: number } {
    return { entries: this.tail.length - this.tailHead, bytes: this.tailBytes };
  }

  private tailFirst(): number {
    return this.stableLastIndex - (this.tail.length - this.tailHead) + 1;
  }

  private pushTail(e: LogEntry): void {
    this.tail.push(e);
    this.tailBytes += e.data.byteLength;
    while (this.tail.length - this.tailHead > LOG_TAIL_MAX_ENTRIES || this.tailBytes > LOG_TAIL_MAX_BYTES) {
      this.dropTailHead();
    }
  }

  private dropTailHead(): void {
    this.tailBytes -= this.tail[this.tailHead].data.byteLength;
    this.tailHead++;
    if (this.tailHead >= 1024 && this.tailHead * 2 >= this.tail.length) {
      this.tail = this.tail.slice(this.tailHead);
      this.tailHead = 0;
    }
  }

  private trimTailAbove(index: number): void {
    // Called with stableLastIndex already lowered to `index`; drop cached entries above it.
    while (this.tail.length > this.tailHead && this.tail[this.tail.length - 1].index > index) {
      const e = this.tail.pop()!;
      this.tailBytes -= e.data.byteLength;
    }
  }
}
