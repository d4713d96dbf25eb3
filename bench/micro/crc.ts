/** CRC32C cost per 1 KB record: the floor under the ring's per-record cost (paid on both sides). */
import { Bench } from 'tinybench';
import { crc32c, crc32cWords } from '../../src/transport/crc32c.js';
import type { BenchRow, BenchSection } from './section.js';

export const crcSection: BenchSection = {
  name: 'crc',
  budgetSeconds: 2,
  async run(): Promise<BenchRow[]> {
    const sab = new SharedArrayBuffer(4096);
    const bytes = new Uint8Array(sab);
    const words = new Uint32Array(sab);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131) & 0xff;
    let sink = 0;
    const bench = new Bench({ time: 500, warmupTime: 100 });
    bench.add('crc32cWords 1 KB (ring hot path, slice-by-16)', () => {
      sink ^= crc32cWords(words, bytes, 16, 16 + 1024);
    });
    bench.add('crc32c 1 KB, unaligned Uint8Array', () => {
      sink ^= crc32c(bytes, 13, 13 + 1024);
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
