/**
 * Measurements (printed, with loose sanity bounds only): durable WAL group commit per
 * batch size, and apply throughput of 900-byte puts in batches of 100, with and without
 * useWritemap on the data env. Run: npx vitest run test/storage/bench.test.ts
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TempDirs, SHAPE_H, groupRec, entry, putOp, prng, ycsbItem } from './helpers.js';
import type { LogEntry } from '../../src/replication/types.js';
import { encodeWriteOp } from '../../src/storage/codec.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

describe('storage costs', () => {
  it('durable WAL group commit: batches of 1, 10, 100 900-byte entries', () => {
    const rnd = prng(1);
    for (const durability of ['sync', 'async'] as const) {
      const s = tmp.open(tmp.make(), durability);
      s.saveGroup(groupRec(1, 1, SHAPE_H));
      const data = encodeWriteOp(putOp(1, SHAPE_H, ycsbItem('user1', rnd)));
      let index = 0;
      // Warm up (file growth, page cache) before measuring.
      for (let r = 0; r < 50; r++) {
        const entries: LogEntry[] = [];
        for (let i = 0; i < 10; i++) entries.push({ term: 1, index: ++index, data });
        s.persist([{ group: 1, entries }]);
      }
      for (const batch of [1, 10, 100, 1]) {
        const rounds = durability === 'sync' ? (batch === 100 ? 60 : 150) : 300;
        const ms: number[] = [];
        for (let r = 0; r < rounds; r++) {
          const entries: LogEntry[] = [];
          for (let i = 0; i < batch; i++) entries.push({ term: 1, index: ++index, data });
          const t0 = process.hrtime.bigint();
          s.persist([{ group: 1, entries, hardState: { term: 1, vote: 0, commit: index } }]);
          ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        const p50 = percentile(ms, 0.5);
        console.log(
          `WAL ${durability} batch=${batch} (${data.length} B entries): p50 ${p50.toFixed(3)} ms, p99 ${percentile(ms, 0.99).toFixed(3)} ms, ` +
            `${((batch * 1000) / p50).toFixed(0)} entries/s at p50`,
        );
        expect(p50).toBeLessThan(1000);
      }
    }
  });

  it('apply throughput: 900-byte puts in batches of 100', () => {
    const rnd = prng(2);
    const N = 20000;
    const entries: LogEntry[] = [];
    for (let i = 0; i < N; i++) entries.push(entry(i + 1, putOp(1, SHAPE_H, ycsbItem(`user${i}-${Math.floor(rnd() * 1e9)}`, rnd))));
    for (const useWritemap of [true, false, true]) {
      const s = tmp.open(tmp.make(), 'async', useWritemap);
      s.saveGroup(groupRec(1, 1, SHAPE_H));
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i += 100) s.applyCommitted([{ group: 1, entries: entries.slice(i, i + 100) }]);
      const sec = Number(process.hrtime.bigint() - t0) / 1e9;
      // The same keys again: updates in place (each one dirties a page already in the tree).
      const t1 = process.hrtime.bigint();
      const again = entries.map((e, i) => ({ ...e, index: N + i + 1 }));
      for (let i = 0; i < N; i += 100) s.applyCommitted([{ group: 1, entries: again.slice(i, i + 100) }]);
      const sec2 = Number(process.hrtime.bigint() - t1) / 1e9;
      // Conditional puts with ALL_OLD: read + decode the old item, evaluate, write.
      const cond = entries.map((e, i) => {
        void e;
        return entry(2 * N + i + 1, putOp(1, SHAPE_H, ycsbItem(`cond${i}`, rnd), { condition: { kind: 'attribute_not_exists', path: ['id'] }, returnValues: 'ALL_OLD' }));
      });
      const t2 = process.hrtime.bigint();
      for (let i = 0; i < N; i += 100) s.applyCommitted([{ group: 1, entries: cond.slice(i, i + 100) }]);
      const sec3 = Number(process.hrtime.bigint() - t2) / 1e9;
      console.log(
        `apply useWritemap=${useWritemap}: inserts ${(N / sec).toFixed(0)}/s, overwrites ${(N / sec2).toFixed(0)}/s, ` +
          `conditional+ALL_OLD ${(N / sec3).toFixed(0)}/s (batches of 100, ${N} entries)`,
      );
      expect(s.groupDigest(1).items).toBe(2 * N);
    }
  });

  it('reads: get and a 100-item query page', () => {
    const rnd = prng(3);
    const s = tmp.open(tmp.make());
    s.saveGroup(groupRec(1, 1, SHAPE_H));
    const N = 10000;
    for (let i = 0; i < N; i += 100) {
      s.applyCommitted([{ group: 1, entries: Array.from({ length: 100 }, (_, j) => entry(i + j + 1, putOp(1, SHAPE_H, ycsbItem(`user${i + j}`, rnd)))) }]);
    }
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) s.get(1, { tableId: 1, key: { id: { S: `user${i}` } } });
    const getUs = Number(process.hrtime.bigint() - t0) / 1e3 / N;
    const t1 = process.hrtime.bigint();
    let items = 0;
    for (let i = 0; i < 100; i++) items += s.scan(1, { tableId: 1, hashLo: '0000000000000000', hashHi: 'ffffffffffffffff', limit: 100 }).count;
    const scanUs = Number(process.hrtime.bigint() - t1) / 1e3 / items;
    console.log(`get ${getUs.toFixed(2)} µs/item; scan ${scanUs.toFixed(2)} µs/item`);
    expect(items).toBe(10000);
  });
});
