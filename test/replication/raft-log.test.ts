import { describe, expect, it } from 'vitest';
import { LOG_TAIL_MAX_ENTRIES } from '../../src/replication/constants.js';
import { RaftLog } from '../../src/replication/raft-log.js';
import type { LogEntry, Ready } from '../../src/replication/types.js';
import { bytes, MemLog } from './harness.js';

const entries = (from: number, to: number, term: number, size = 1): LogEntry[] =>
  Array.from({ length: to - from + 1 }, (_, k) => ({ index: from + k, term, data: new Uint8Array(size) }));

/** Counts reader calls, to tell memory hits from WAL reads. */
class CountingLog extends MemLog {
  reads = 0;
  override entries(lo: number, hi: number, maxBytes: number): LogEntry[] {
    this.reads++;
    return super.entries(lo, hi, maxBytes);
  }
}

function persist(wal: MemLog, log: RaftLog): void {
  const { truncateFrom, entries: es } = log.takeUnemitted();
  const r: Ready = { truncateFrom, entries: es, send: [], sendAfterPersist: [], committed: [] };
  wal.persist(r);
  log.stableTo(es);
}

describe('RaftLog', () => {
  it('reads old entries through the LogReader and recent ones from memory', () => {
    const wal = new CountingLog();
    wal.log = entries(1, 100, 1);
    const log = new RaftLog(wal);
    expect(log.lastIndex()).toBe(100);
    // Nothing cached after a restart: the WAL answers.
    expect(log.slice(1, 101, 1 << 20)).toHaveLength(100);
    expect(wal.reads).toBe(1);
    log.append(entries(101, 110, 2));
    persist(wal, log);
    wal.reads = 0;
    // Recent entries come from the tail cache, unstable ones from memory.
    log.append(entries(111, 115, 2));
    expect(log.slice(101, 116, 1 << 20).map((e) => e.index)).toEqual(Array.from({ length: 15 }, (_, k) => 101 + k));
    expect(wal.reads).toBe(0);
    // A range spanning WAL, cache and unstable entries stitches them in order.
    expect(log.slice(95, 116, 1 << 20).map((e) => e.index)).toEqual(Array.from({ length: 21 }, (_, k) => 95 + k));
    expect(wal.reads).toBe(1);
  });

  it('stops at maxBytes but always returns at least one entry', () => {
    const wal = new MemLog();
    const log = new RaftLog(wal);
    log.append(entries(1, 10, 1, 100));
    expect(log.slice(1, 11, 250)).toHaveLength(2);
    expect(log.slice(1, 11, 10)).toHaveLength(1);
  });

  it('keeps the in-memory tail bounded', () => {
    const wal = new MemLog();
    const log = new RaftLog(wal);
    log.append(entries(1, LOG_TAIL_MAX_ENTRIES + 500, 1));
    persist(wal, log);
    expect(log.cachedTail().entries).toBe(LOG_TAIL_MAX_ENTRIES);
    expect(log.slice(1, 3, 1 << 20).map((e) => e.index)).toEqual([1, 2]); // from the WAL
  });

  it('a truncation that reaches entries of an in-flight Ready is handed out with the next one', () => {
    const wal = new MemLog();
    const log = new RaftLog(wal);
    log.append(entries(1, 5, 1));
    const first = log.takeUnemitted(); // in flight: 1..5@1
    log.truncateFrom(3);
    log.append(entries(3, 4, 2));
    wal.persist({ entries: first.entries, send: [], sendAfterPersist: [], committed: [] });
    log.stableTo(first.entries);
    expect(log.stableLast()).toBe(2); // 3..5@1 were overwritten before they became durable
    const second = log.takeUnemitted();
    expect(second.truncateFrom).toBe(3);
    expect(second.entries.map((e) => `${e.index}@${e.term}`)).toEqual(['3@2', '4@2']);
    wal.persist({ truncateFrom: second.truncateFrom, entries: second.entries, send: [], sendAfterPersist: [], committed: [] });
    log.stableTo(second.entries);
    expect(log.stableLast()).toBe(4);
    expect(wal.log.map((e) => `${e.index}@${e.term}`)).toEqual(['1@1', '2@1', '3@2', '4@2']);
  });

  it('a truncation below the durable index drops the cached tail too', () => {
    const wal = new MemLog();
    const log = new RaftLog(wal);
    log.append(entries(1, 6, 1));
    persist(wal, log);
    log.truncateFrom(4);
    expect(log.lastIndex()).toBe(3);
    expect(log.term(4)).toBeUndefined();
    log.append([{ index: 4, term: 3, data: bytes('new') }]);
    persist(wal, log);
    expect(wal.log.map((e) => `${e.index}@${e.term}`)).toEqual(['1@1', '2@1', '3@1', '4@3']);
    expect(log.term(4)).toBe(3);
  });

  it('remembers the term at the compaction boundary', () => {
    const wal = new MemLog();
    const log = new RaftLog(wal);
    log.append([...entries(1, 3, 1), ...entries(4, 6, 2)]);
    persist(wal, log);
    log.compacted(5);
    wal.compact(5);
    expect(log.firstIndex()).toBe(5);
    expect(log.term(4)).toBe(2);
    expect(log.term(3)).toBeUndefined();
  });

  it('findConflictByTerm skips entries of terms newer than the leader had there', () => {
    const wal = new MemLog();
    const log = new RaftLog(wal);
    log.append([...entries(1, 3, 1), ...entries(4, 8, 3)]);
    expect(log.findConflictByTerm(8, 2)).toBe(3);
    expect(log.findConflictByTerm(8, 3)).toBe(8);
  });
});
