/**
 * (f) A storage node's store (NodeStore), without threads or replication: the cost of a
 * durable WAL group commit per batch size, applying committed 900-byte puts to the B-tree
 * in batches of 100 (with and without useWritemap), and point gets and scan pages.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Item, KeyShape } from '../../src/model/types.js';
import type { LogEntry } from '../../src/replication/types.js';
import { encodeWriteOp } from '../../src/storage/codec.js';
import { NodeStore, type GroupRecord } from '../../src/storage/node-store.js';
import type { PutOp } from '../../src/storage/operations.js';
import { percentile, ycsbItem, type BenchRow, type BenchSection } from './section.js';

const SHAPE: KeyShape = { hashName: 'id', hashType: 'S' };
const GROUP: GroupRecord = { group: 1, tableId: 1, tableName: 't1', keyShape: SHAPE, hashStart: '0000000000000000', hashEnd: 'ffffffffffffffff', voters: [0, 1, 2] };
const APPLY_ENTRIES = 20_000;
const APPLY_BATCH = 100;
const READ_ITEMS = 10_000;

function put(id: string, seed: number, extra: Partial<PutOp> = {}): PutOp {
  return { type: 'put', tableId: 1, key: { id: { S: id } }, item: { id: { S: id }, ...ycsbItem(seed) } as Item, returnValues: 'NONE', ...extra };
}

/** Opens a store in a new temporary directory, runs `use`, closes and removes it. */
async function withStore<T>(durability: 'sync' | 'async', useWritemap: boolean | undefined, use: (store: NodeStore) => T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'shardbox-bench-storage-'));
  const store = NodeStore.open({ dir, durability, ...(useWritemap !== undefined ? { useWritemap } : {}) });
  try {
    store.saveGroup(GROUP);
    return use(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function walRows(durability: 'sync' | 'async', store: NodeStore): BenchRow[] {
  const data = encodeWriteOp(put('user1', 1));
  let index = 0;
  const batchOf = (size: number): LogEntry[] => Array.from({ length: size }, () => ({ term: 1, index: ++index, data }));
  // Warm up (file growth, page cache) before measuring.
  for (let r = 0; r < 50; r++) store.persist([{ group: 1, entries: batchOf(10) }]);
  const rows: BenchRow[] = [];
  for (const batch of [1, 10, 100]) {
    const rounds = durability === 'sync' ? (batch === 100 ? 60 : 150) : 300;
    const ms: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const entries = batchOf(batch);
      const started = performance.now();
      store.persist([{ group: 1, entries, hardState: { term: 1, vote: 0, commit: index } }]);
      ms.push(performance.now() - started);
    }
    ms.sort((a, b) => a - b);
    const p50 = percentile(ms, 50);
    rows.push({
      metric: `WAL persist '${durability}', ${batch} × ${data.length} B entries`, value: p50, unit: 'ms p50',
      note: `p99 ${percentile(ms, 99).toFixed(3)} ms, ${((batch * 1000) / p50).toFixed(0)} entries/s at p50, ${rounds} rounds`,
    });
  }
  return rows;
}

function applyRows(useWritemap: boolean, store: NodeStore): BenchRow[] {
  const entries = Array.from({ length: APPLY_ENTRIES }, (_, i) => ({ term: 1, index: i + 1, data: encodeWriteOp(put(`user${i}`, i + 1)) }));
  const applyAll = (list: LogEntry[]): number => {
    const started = performance.now();
    for (let i = 0; i < list.length; i += APPLY_BATCH) store.applyCommitted([{ group: 1, entries: list.slice(i, i + APPLY_BATCH) }]);
    return (list.length * 1000) / (performance.now() - started);
  };
  const inserts = applyAll(entries);
  // The same keys again: updates in place (each one dirties a page already in the tree).
  const overwrites = applyAll(entries.map((e, i) => ({ ...e, index: APPLY_ENTRIES + i + 1 })));
  // Conditional puts with ALL_OLD: read and decode the old item, evaluate, write.
  const conditional = applyAll(entries.map((_, i) => ({
    term: 1, index: 2 * APPLY_ENTRIES + i + 1,
    data: encodeWriteOp(put(`cond${i}`, i + 1, { condition: { kind: 'attribute_not_exists', path: ['id'] }, returnValues: 'ALL_OLD' })),
  })));
  const items = store.groupDigest(1).items;
  if (items !== 2 * APPLY_ENTRIES) throw new Error(`storage bench: ${items} items after applying, expected ${2 * APPLY_ENTRIES}`);
  const note = `useWritemap ${useWritemap}, batches of ${APPLY_BATCH}, ${APPLY_ENTRIES / 1000}k entries`;
  return [
    { metric: `apply inserts, useWritemap ${useWritemap}`, value: inserts, unit: 'entries/s', note },
    { metric: `apply overwrites, useWritemap ${useWritemap}`, value: overwrites, unit: 'entries/s' },
    { metric: `apply conditional + ALL_OLD, useWritemap ${useWritemap}`, value: conditional, unit: 'entries/s' },
  ];
}

function readRows(store: NodeStore): BenchRow[] {
  for (let i = 0; i < READ_ITEMS; i += APPLY_BATCH) {
    store.applyCommitted([{ group: 1, entries: Array.from({ length: APPLY_BATCH }, (_, j) => ({ term: 1, index: i + j + 1, data: encodeWriteOp(put(`user${i + j}`, i + j + 1)) })) }]);
  }
  const getStarted = performance.now();
  for (let i = 0; i < READ_ITEMS; i++) {
    if (store.get(1, { tableId: 1, key: { id: { S: `user${i}` } } }).item === undefined) throw new Error(`storage bench: user${i} not found`);
  }
  const getUs = ((performance.now() - getStarted) * 1000) / READ_ITEMS;
  const scanStarted = performance.now();
  let scanned = 0;
  for (let page = 0; page < 100; page++) scanned += store.scan(1, { tableId: 1, hashLo: GROUP.hashStart, hashHi: GROUP.hashEnd, limit: 100 }).count;
  const scanUs = ((performance.now() - scanStarted) * 1000) / scanned;
  return [
    { metric: 'get, 900 B item', value: getUs, unit: 'µs/item', note: `${READ_ITEMS / 1000}k items` },
    { metric: 'scan, pages of 100', value: scanUs, unit: 'µs/item' },
  ];
}

export const storageSection: BenchSection = {
  name: 'storage',
  budgetSeconds: 15,
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const durability of ['sync', 'async'] as const) rows.push(...(await withStore(durability, undefined, (store) => walRows(durability, store))));
    for (const useWritemap of [true, false]) rows.push(...(await withStore('async', useWritemap, (store) => applyRows(useWritemap, store))));
    rows.push(...(await withStore('async', undefined, readRows)));
    return rows;
  },
};
