/** (d) item-key encoding: encodeItemKey from src/model/key-encoding.ts. */
import { Bench } from 'tinybench';
import type { BenchRow, BenchSection } from './section.js';

export const keysSection: BenchSection = {
  name: 'keys',
  budgetSeconds: 3,
  async run(): Promise<BenchRow[]> {
    let mod: typeof import('../../src/model/key-encoding.js');
    try {
      mod = await import('../../src/model/key-encoding.js');
    } catch (e) {
      return [{ metric: 'encodeItemKey', value: NaN, unit: 'ns', note: `not available: ${(e as Error).message}` }];
    }
    const hashOnly = { hashName: 'pk', hashType: 'S' as const };
    const composite = { hashName: 'pk', hashType: 'S' as const, rangeName: 'sk', rangeType: 'N' as const };
    const keys = Array.from({ length: 1024 }, (_, i) => ({ pk: { S: `user${(i * 2654435761) >>> 0}` }, sk: { N: String(i * 37 - 500) } }));
    let i = 0;
    let sink = 0;
    const bench = new Bench({ time: 700, warmupTime: 200 });
    bench.add('encodeItemKey (S hash key, YCSB user key)', () => {
      sink += mod.encodeItemKey(1, hashOnly, keys[i++ & 1023]).length;
    });
    bench.add('encodeItemKey (S hash + N range key)', () => {
      sink += mod.encodeItemKey(1, composite, keys[i++ & 1023]).length;
    });
    await bench.run();
    if (sink < 0) console.log(sink);
    return bench.tasks.map((t) => {
      const r = t.result;
      return r.state === 'completed'
        ? { metric: t.name, value: r.latency.p50 * 1e6, unit: 'ns p50', note: `mean ${(r.latency.mean * 1e6).toFixed(0)} ns, incl. MD5 partition hash` }
        : { metric: t.name, value: NaN, unit: 'ns', note: `task ${r.state}` };
    });
  },
};
