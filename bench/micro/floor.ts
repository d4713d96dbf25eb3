/**
 * The machine's latency floor under what a request does: a thread woken through
 * Atomics.notify after an idle gap (a ring hop's wake-up), and fdatasync of a small
 * append back to back, 2 ms apart on the calling thread (how the WAL syncs at low load),
 * and 2 ms apart through libuv's pool (how it synced before). On a VM, idle gaps cost:
 * the p99s here are what no engine change can remove.
 */
import { closeSync, fdatasync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { percentile, type BenchRow, type BenchSection } from './section.js';

const WAKES = 1000;
const SYNCS = 300;
const GAP_MS = 2;

function rows(label: string, samplesUs: number[], note: string): BenchRow[] {
  const sorted = samplesUs.sort((a, b) => a - b);
  return [50, 99, 99.9].map((p) => ({ metric: `${label} p${p}`, value: Math.round(percentile(sorted, p)), unit: 'µs', note }));
}

/** Main thread notifies a sleeping worker every 3 ms; the worker stamps when it woke. */
async function wakeLatency(): Promise<number[]> {
  const sab = new SharedArrayBuffer(64);
  const words = new Int32Array(sab);
  const stamp = new Float64Array(sab, 16);
  const worker = new Worker(`
    const { workerData } = require('node:worker_threads');
    const w = new Int32Array(workerData); const t = new Float64Array(workerData, 16);
    for (;;) {
      Atomics.wait(w, 1, 0, 1000);
      if (Atomics.load(w, 2) === 1) break;
      t[0] = performance.timeOrigin + performance.now();
      Atomics.store(w, 1, 0); Atomics.store(w, 3, 1); Atomics.notify(w, 3);
    }`, { eval: true, workerData: sab });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const samples: number[] = [];
  for (let i = 0; i < WAKES; i++) {
    Atomics.wait(words, 5, 0, 3);
    Atomics.store(words, 3, 0);
    const sent = performance.timeOrigin + performance.now();
    Atomics.store(words, 1, 1);
    Atomics.notify(words, 1);
    Atomics.wait(words, 3, 0, 1000);
    samples.push((stamp[0] - sent) * 1000);
  }
  Atomics.store(words, 2, 1);
  Atomics.store(words, 1, 1);
  Atomics.notify(words, 1);
  await worker.terminate();
  return samples;
}

/** 'pool': each sync on libuv's thread pool, awaited (two thread wake-ups per sync). */
async function syncLatency(spacing: 'back to back' | 'apart' | 'pool'): Promise<number[]> {
  const spaced = spacing !== 'back to back';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-floor-'));
  const fd = openSync(path.join(dir, 'wal'), 'w');
  try {
    const block = Buffer.alloc(1024, 1);
    // Preallocated, as WAL segments are: a sync then flushes data, not file-size metadata.
    writeSync(fd, Buffer.alloc(SYNCS * 1024), 0, SYNCS * 1024, 0);
    fdatasyncSync(fd);
    const samples: number[] = [];
    for (let i = 0; i < SYNCS; i++) {
      writeSync(fd, block, 0, block.length, i * 1024);
      const start = performance.now();
      if (spacing === 'pool') await new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
      else fdatasyncSync(fd);
      samples.push((performance.now() - start) * 1000);
      if (spaced) await new Promise((resolve) => setTimeout(resolve, GAP_MS));
    }
    return samples;
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const floorSection: BenchSection = {
  name: 'floor',
  budgetSeconds: 10,
  async run() {
    return [
      ...rows('wake-up after a 3 ms idle gap', await wakeLatency(), `${WAKES} Atomics.notify → woken worker`),
      ...rows('fdatasync 1 KB, back to back', await syncLatency('back to back'), `${SYNCS} syncs, preallocated file`),
      ...rows(`fdatasync 1 KB, ${GAP_MS} ms apart`, await syncLatency('apart'), `${SYNCS} syncs, as the WAL at low load (on the node's thread)`),
      ...rows(`fdatasync 1 KB, ${GAP_MS} ms apart, libuv pool`, await syncLatency('pool'), `${SYNCS} syncs, on libuv's pool (how the WAL synced before)`),
    ];
  },
};
