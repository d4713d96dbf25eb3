/**
 * The simulator's storage: a WAL with hard state per replica (durable: survives crashes)
 * and an in-memory items store that runs src/storage/apply.ts (volatile: lost on crash;
 * a node restarts from its last checkpoint and replays the WAL above it, as a real node
 * does with its noSync B-tree).
 */
import type { HardState, LogEntry, LogReader, Ready } from '../../src/replication/types.js';
import type { ItemKV } from '../../src/storage/apply.js';

/** One group's part of a node's WAL batch (what a Ready asks to persist). */
export interface PersistRecord {
  group: number;
  truncateFrom: number | undefined;
  entries: LogEntry[];
  hardState: HardState | undefined;
}

/** The durable part of a replica: a WAL and its hard state. Survives crashes. */
export class MemLog implements LogReader {
  /** log[k].index === first + k */
  log: LogEntry[] = [];
  first = 1;
  /** Term of entry first-1 (like the real WAL's compactedTerm). */
  boundaryTerm = 0;
  hardState: HardState = { term: 0, vote: -1, commit: 0 };
  /** Persist calls seen, and log restarts among them (test introspection). */
  persists = 0;
  logRestarts = 0;

  firstIndex(): number {
    return this.first;
  }
  lastIndex(): number {
    return this.first + this.log.length - 1;
  }
  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (index === this.first - 1) return this.boundaryTerm;
    if (index < this.first || index > this.lastIndex()) return undefined;
    return this.log[index - this.first].term;
  }
  entries(lo: number, hi: number, maxBytes: number): LogEntry[] {
    if (lo < this.first || hi > this.lastIndex() + 1 || lo >= hi) {
      throw new Error(`MemLog.entries [${lo}, ${hi}) outside [${this.first}, ${this.lastIndex() + 1})`);
    }
    const out: LogEntry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.log[i - this.first];
      if (out.length > 0 && size + e.data.byteLength > maxBytes) break;
      out.push(e);
      size += e.data.byteLength;
    }
    return out;
  }
  persist(r: Pick<Ready, 'entries' | 'truncateFrom' | 'hardState' | 'logStart'>): void {
    this.persists++;
    if (r.logStart !== undefined) {
      this.logRestarts++;
      this.log = [];
      this.first = r.logStart.index + 1;
      this.boundaryTerm = r.logStart.term;
    }
    if (r.truncateFrom !== undefined) {
      if (r.truncateFrom < this.first) throw new Error(`MemLog: truncate below first index`);
      this.log.length = Math.max(0, Math.min(this.log.length, r.truncateFrom - this.first));
    }
    for (const e of r.entries) {
      if (e.index < this.first) throw new Error(`MemLog: overwrite of compacted entry ${e.index}`);
      if (e.index <= this.lastIndex()) this.log.length = e.index - this.first; // overwrite
      if (e.index !== this.lastIndex() + 1) throw new Error(`MemLog: gap, appending ${e.index} after ${this.lastIndex()}`);
      this.log.push(e);
    }
    if (r.hardState) this.hardState = { ...r.hardState };
  }
  /** Drops the entries below `firstIndex`. */
  compact(firstIndex: number): void {
    if (firstIndex <= this.first) return;
    if (firstIndex > this.lastIndex() + 1) throw new Error(`MemLog: compact to ${firstIndex} past last index ${this.lastIndex()}`);
    this.boundaryTerm = this.term(firstIndex - 1)!;
    this.log = this.log.slice(firstIndex - this.first);
    this.first = firstIndex;
  }
}


function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** The items of a node in memory, behind the same interface apply.ts uses for LMDB. */
export class MemItems implements ItemKV {
  readonly map: Map<string, Uint8Array>;
  constructor(from?: Map<string, Uint8Array>) {
    this.map = new Map(from);
  }
  get(key: Uint8Array): Uint8Array | undefined {
    return this.map.get(keyString(key));
  }
  put(key: Uint8Array, value: Uint8Array): void {
    // The value may be a view into a log entry's data: keep bytes of our own, as LMDB does.
    this.map.set(keyString(key), new Uint8Array(value));
  }
  remove(key: Uint8Array): void {
    this.map.delete(keyString(key));
  }
}
