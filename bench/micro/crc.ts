/** CRC32C cost per 1 KB record: the floor under the ring's per-record cost (paid on both sides). */
import { Bench } from 'tinybench';
import { crc32c, crc32cJs, crc32cWords } from '../../src/checksum/crc32c.js';
import { kernelForMemory } from '../../src/checksum/crc32c-wasm.js';
import { Ring } from '../../src/transport/ring.js';
import type { BenchRow, BenchSection } from './section.js';

export const crcSection: BenchSection = {
  name: 'crc',
  budgetSeconds: 3,
  async run(): Promise<BenchRow[]> {
    const sab = new SharedArrayBuffer(4096);
    const bytes = new Uint8Array(sab);
    const words = new Uint32Array(sab);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131) & 0xff;
    // The wasm kernel over a ring-shaped shared Memory: tables after the data.
    const memory = Ring.allocateMemory(4096);
    const mem = new Uint8Array(memory.buffer);
    mem.set(bytes.subarray(0, 2048), 256);
    const kernel = kernelForMemory(memory, 256 + 4096)!;
    const plain = new Uint8Array(4096); // not shared: crc32c() takes the copy-in path
    plain.set(bytes);
    let sink = 0;
    const bench = new Bench({ time: 500, warmupTime: 100 });
    bench.add('wasm kernel 1 KB in place (ring hot path, Memory rings)', () => {
      sink ^= kernel(0, 256 + 16, 1024);
    });
    bench.add('crc32cWords 1 KB (ring hot path, SAB-only side, JS slice-by-16)', () => {
      sink ^= crc32cWords(words, bytes, 16, 16 + 1024);
    });
    bench.add('crc32c 1 KB, unaligned, non-shared Uint8Array (wasm copy-in)', () => {
      sink ^= crc32c(plain, 13, 13 + 1024);
    });
    bench.add('crc32cJs 1 KB, unaligned, non-shared Uint8Array (JS only)', () => {
      sink ^= crc32cJs(plain, 13, 13 + 1024);
    });
    await bench.run();
    if (sink === 0.5) console.log(sink);
    return bench.tasks.map((t) => {
      const r = t.result;
      if (r.state !== 'completed') return { metric: t.name, value: NaN, unit: 'ns', note: `task ${r.state}` };
      const ns = r.latency.p50 * 1e6;
      return { metric: t.name, value: ns, unit: 'ns p50', note: `${(1024 / ns).toFixed(2)} GB/s` };
    });
  },
};
