/**
 * Persist cost of the WAL, LMDB-backed (the previous design, reproduced here: one
 * transactionSync per batch, putSync per entry + the hard state) versus the segment-file
 * WAL (src/storage/wal.ts), with and without preallocation. Not a test: run it after a
 * build, `npm run build && node bench/wal-compare.mjs [rounds]`.
 * Batches of 1, 10, 100 entries of 1 KB; 'sync' and 'async'; 1 thread, and 3 threads at
 * once (3 storage nodes, each its own WAL). Prints p50/p99 per persist in ms (the worst
 * thread's). WAL_PREALLOC=<bytes> overrides the file WAL's preallocation chunk.
 *
 * Measured here (2 cores, ext4, others busy on the machine; 400 rounds, 150 for sync×100):
 * | durability | entries | threads | lmdb p50 / p99 | file p50 / p99 | file, no prealloc |
 * | sync  |   1 | 1 | 0.342 / 0.543 | 0.112 / 0.192 | 0.183 / 0.437 |
 * | sync  |   1 | 3 | 0.661 / 1.393 | 0.186 / 1.224 | 0.312 / 1.048 |
 * | sync  |  10 | 1 | 0.477 / 1.592 | 0.145 / 1.384 | 0.221 / 1.208 |
 * | sync  |  10 | 3 | 0.937 / 4.097 | 0.256 / 3.763 | 0.509 / 4.284 |
 * | sync  | 100 | 1 | 0.932 / 2.864 | 0.190 / 1.099 | 0.382 / 2.133 |
 * | sync  | 100 | 3 | 1.549 / 8.033 | 0.318 / 7.155 | 0.674 / 3.959 |
 * | async |   1 | 1 | 0.015 / 0.063 | 0.007 / 0.033 | (same: async never preallocates) |
 * | async |  10 | 3 | 0.050 / 2.930 | 0.018 / 2.583 |
 * | async | 100 | 1 | 0.264 / 0.607 | 0.081 / 0.349 |
 * | async | 100 | 3 | 0.763 / 8.646 | 0.323 / 7.778 |
 */
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ENGINES = ['lmdb', 'file', 'file-noprealloc'];

async function workerMain({ engine, durability, batch, rounds, dir }) {
  mkdirSync(dir, { recursive: true });
  const data = new Uint8Array(1024).map((_, i) => (i * 7) & 0xff);
  let persist;
  let close;
  if (engine === 'lmdb') {
    const { open } = await import('lmdb');
    const { crc32c } = await import('../dist/src/checksum/crc32c.js');
    const root = open({ path: join(dir, 'wal'), noSync: durability === 'async', overlappingSync: false, maxDbs: 8, noMemInit: true });
    const log = root.openDB({ name: 'log', keyEncoding: 'binary', encoding: 'binary' });
    const hard = root.openDB({ name: 'hard', keyEncoding: 'uint32', encoding: 'msgpack' });
    const key = (g, i) => {
      const k = new Uint8Array(12);
      const v = new DataView(k.buffer);
      v.setUint32(0, g);
      v.setUint32(4, Math.floor(i / 2 ** 32));
      v.setUint32(8, i >>> 0);
      return k;
    };
    const value = (term, d) => {
      const out = new Uint8Array(8 + d.length);
      const v = new DataView(out.buffer);
      v.setUint32(4, term);
      out.set(d, 8);
      v.setUint32(0, crc32c(out, 4, out.length));
      return out;
    };
    persist = (recs) =>
      root.transactionSync(() => {
        for (const r of recs) {
          for (const e of r.entries) log.putSync(key(r.group, e.index), value(e.term, e.data));
          hard.putSync(r.group, r.hardState);
        }
      });
    close = () => root.close();
  } else {
    const { Wal } = await import('../dist/src/storage/wal.js');
    const stats = { walCommits: 0, walBytes: 0, walEntries: 0, walChecksumFailures: 0 };
    const wal = new Wal(join(dir, 'wal'), durability, stats, engine === 'file-noprealloc' ? { preallocateBytes: 0 } : process.env.WAL_PREALLOC ? { preallocateBytes: Number(process.env.WAL_PREALLOC) } : {});
    wal.saveGroup({ group: 1, tableId: 1, tableName: 't', keyShape: { hashName: 'id', hashType: 'S' }, hashStart: '0000000000000000', hashEnd: 'ffffffffffffffff', voters: [0, 1, 2] });
    persist = (recs) => wal.persist(recs);
    close = () => wal.close();
  }
  let index = 0;
  const one = () => {
    const entries = [];
    for (let i = 0; i < batch; i++) entries.push({ term: 1, index: ++index, data });
    return [{ group: 1, entries, hardState: { term: 1, vote: 0, commit: index } }];
  };
  for (let r = 0; r < 30; r++) persist(one()); // warm-up
  const ms = [];
  for (let r = 0; r < rounds; r++) {
    const recs = one();
    const t0 = process.hrtime.bigint();
    persist(recs);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await close();
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length / 2)], p99: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))] };
}

if (!isMainThread) {
  parentPort.postMessage(await workerMain(workerData));
} else {
  const rounds = Number(process.argv[2] ?? 300);
  const base = mkdtempSync(join(tmpdir(), 'wal-bench-'));
  const run = (job) =>
    new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { workerData: job });
      w.once('message', resolve);
      w.once('error', reject);
    });
  const rows = [];
  let n = 0;
  try {
    for (const durability of (process.env.WAL_DURABILITY ?? 'sync,async').split(',')) {
      for (const batch of [1, 10, 100]) {
        for (const threads of [1, 3]) {
          const cells = [];
          for (const engine of ENGINES) {
            const jobs = [];
            for (let t = 0; t < threads; t++) jobs.push(run({ engine, durability, batch, rounds: durability === 'sync' && batch === 100 ? Math.min(rounds, 150) : rounds, dir: join(base, `${n++}`) }));
            const res = await Promise.all(jobs);
            // Worst thread's percentiles.
            cells.push(`${Math.max(...res.map((r) => r.p50)).toFixed(3)} / ${Math.max(...res.map((r) => r.p99)).toFixed(3)}`);
          }
          rows.push(`| ${durability} | ${batch} | ${threads} | ${cells.join(' | ')} |`);
          console.log(rows[rows.length - 1]);
        }
      }
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  console.log(`\n| durability | entries/batch | threads | ${ENGINES.map((e) => `${e} p50 / p99 ms`).join(' | ')} |`);
  console.log(`|---|---|---|${ENGINES.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(r);
}
