/** (e) LMDB: noSync puts of 900-byte values at random keys in batches of 1000, and gets. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import type { BenchRow, BenchSection } from './section.js';

const VALUE_BYTES = 900;
const BATCH = 1000;

function randomKeys(n: number, seed: number): Buffer[] {
  let x = seed >>> 0 || 1;
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const k = Buffer.allocUnsafe(16);
    for (let j = 0; j < 16; j += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      k.writeUInt32BE(x >>> 0, j);
    }
    out.push(k);
  }
  return out;
}

async function measure(useWritemap: boolean, n: number): Promise<{ puts: number; gets: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'shardbox-bench-lmdb-'));
  try {
    const db = open({ path: join(dir, 'db'), noSync: true, useWritemap, encoding: 'binary', keyEncoding: 'binary', compression: false, mapSize: 2 * 1024 ** 3 });
    const keys = randomKeys(n, useWritemap ? 11 : 7);
    const value = Buffer.alloc(VALUE_BYTES, 0x61);
    const t0 = performance.now();
    for (let b = 0; b < n; b += BATCH) {
      db.transactionSync(() => {
        for (let i = b; i < b + BATCH && i < n; i++) db.putSync(keys[i], value);
      });
    }
    const t1 = performance.now();
    let found = 0;
    const order = randomKeys(n, 99);
    const t2 = performance.now();
    for (let i = 0; i < n; i++) {
      const k = keys[order[i].readUInt32BE(0) % n];
      if (db.getBinaryFast(k) !== undefined) found++;
    }
    const t3 = performance.now();
    if (found !== n) throw new Error(`lmdb bench: found ${found} of ${n}`);
    await db.close();
    return { puts: n / ((t1 - t0) / 1000), gets: n / ((t3 - t2) / 1000) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const lmdbSection: BenchSection = {
  name: 'lmdb',
  budgetSeconds: 10,
  async run(): Promise<BenchRow[]> {
    const n = 200_000;
    const plain = await measure(false, n);
    const wm = await measure(true, n);
    const note = `${n / 1000}k random 16 B keys, 900 B values, transactionSync of ${BATCH}`;
    return [
      { metric: 'LMDB put, noSync', value: plain.puts, unit: 'puts/s', target: 'ref ~100k', note },
      { metric: 'LMDB put, noSync + useWritemap', value: wm.puts, unit: 'puts/s', target: 'ref ~100k' },
      { metric: 'LMDB get (getBinaryFast), random existing', value: plain.gets, unit: 'gets/s' },
      { metric: 'LMDB get, useWritemap env', value: wm.gets, unit: 'gets/s' },
    ];
  },
};
