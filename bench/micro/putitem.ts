/**
 * Replicated, quorum-acknowledged PutItem of a 900-byte item (YCSB's 10 × 90-byte fields),
 * from one client thread (this one) with many requests in flight: the engine's write
 * throughput under `durability: 'async'` and `'sync'`, while the table fills and once it
 * is loaded. Closed loop: the latency printed is what the in-flight window costs, not an
 * open-loop latency goal.
 */
import { performance } from 'node:perf_hooks';
import { ShardBox } from '../../src/index.js';
import { percentile, ycsbItem, type BenchRow, type BenchSection } from './section.js';

const IN_FLIGHT = 1024;
const WARMUP_MS = 1000;
const MEASURE_MS = 4000;
const KEYS = 100_000;

interface Phase {
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
}

/**
 * Two phases on one table: a table being filled (every write inserts a new key into the
 * B-trees) and, once all KEYS exist, a loaded table (every write replaces an item, as
 * YCSB's run phase does). Inserts cost the B-trees more (page splits), so both are shown.
 */
async function measure(durability: 'sync' | 'async'): Promise<{ filling: Phase; loaded: Phase }> {
  const db = await ShardBox.open({ durability });
  try {
    await db.createTable({
      TableName: 'usertable',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    const fields = ycsbItem(7);
    let measuring = false;
    let stop = false;
    let done = 0;
    let counter = 0;
    let latencies: number[] = [];
    const loops = Array.from({ length: IN_FLIGHT }, async () => {
      while (!stop) {
        // 7919 is prime to KEYS: the first KEYS writes touch every key once.
        const key = `user${(counter++ * 7919) % KEYS}`;
        const started = performance.now();
        await db.putItem({ TableName: 'usertable', Item: { id: { S: key }, ...fields } });
        if (measuring) {
          done++;
          latencies.push((performance.now() - started) * 1000);
        }
      }
    });
    const phase = async (): Promise<Phase> => {
      done = 0;
      latencies = [];
      measuring = true;
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
      measuring = false;
      const elapsed = performance.now() - started;
      const sorted = latencies.sort((a, b) => a - b);
      return { opsPerSec: (done * 1000) / elapsed, p50Us: percentile(sorted, 50), p99Us: percentile(sorted, 99) };
    };
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    const filling = await phase();
    while (counter < KEYS) await new Promise((resolve) => setTimeout(resolve, 50));
    const loaded = await phase();
    stop = true;
    await Promise.all(loops);
    return { filling, loaded };
  } finally {
    await db.close();
  }
}

export const section: BenchSection = {
  name: 'putitem',
  budgetSeconds: 40,
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const [durability, target] of [['async', 20_000], ['sync', 15_000]] as const) {
      const r = await measure(durability);
      for (const [name, p] of [['filling table (inserts)', r.filling], [`loaded table (${KEYS / 1000}k keys, replaces)`, r.loaded]] as const) {
        const note = `3 nodes, 4 partitions, ${IN_FLIGHT} in flight; closed-loop latency p50 ${(p.p50Us / 1000).toFixed(2)} ms, p99 ${(p.p99Us / 1000).toFixed(2)} ms`;
        rows.push({ metric: `quorum PutItem 900 B, '${durability}', ${name}`, value: p.opsPerSec, unit: 'writes/s', target: `≥ ${target / 1000}k writes/s`, pass: p.opsPerSec >= target, note });
      }
    }
    return rows;
  },
};
