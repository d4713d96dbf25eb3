/**
 * Replicated, quorum-acknowledged PutItem of a 900-byte item (YCSB's 10 × 90-byte fields),
 * from one client thread (this one) with many requests in flight: the engine's write
 * throughput under `durability: 'async'` and `'sync'`. Closed loop: the latency printed
 * is what the in-flight window costs, not an open-loop latency goal.
 */
import { performance } from 'node:perf_hooks';
import { ShardBox } from '../../src/index.js';
import { percentile, ycsbItem, type BenchRow, type BenchSection } from './section.js';

const IN_FLIGHT = 256;
const WARMUP_MS = 1000;
const MEASURE_MS = 4000;
const KEYS = 100_000;

async function measure(durability: 'sync' | 'async'): Promise<{ opsPerSec: number; p50Us: number; p99Us: number }> {
  const db = await ShardBox.open({ durability });
  try {
    await db.createTable({
      TableName: 'usertable',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    const fields = ycsbItem(7);
    let phase: 'warmup' | 'measure' | 'done' = 'warmup';
    let done = 0;
    let counter = 0;
    const latencies: number[] = [];
    const loops = Array.from({ length: IN_FLIGHT }, async () => {
      while (phase !== 'done') {
        const key = `user${(counter++ * 7919) % KEYS}`;
        const started = performance.now();
        await db.putItem({ TableName: 'usertable', Item: { id: { S: key }, ...fields } });
        if (phase === 'measure') {
          done++;
          latencies.push((performance.now() - started) * 1000);
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    phase = 'measure';
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
    const elapsed = performance.now() - started;
    const count = done;
    phase = 'done';
    await Promise.all(loops);
    latencies.sort((a, b) => a - b);
    return { opsPerSec: (count * 1000) / elapsed, p50Us: percentile(latencies, 50), p99Us: percentile(latencies, 99) };
  } finally {
    await db.close();
  }
}

export const section: BenchSection = {
  name: 'putitem',
  budgetSeconds: 15,
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const [durability, target] of [['async', 20_000], ['sync', 15_000]] as const) {
      const r = await measure(durability);
      const note = `3 nodes, 4 partitions, ${IN_FLIGHT} in flight; closed-loop latency p50 ${(r.p50Us / 1000).toFixed(2)} ms, p99 ${(r.p99Us / 1000).toFixed(2)} ms`;
      rows.push({ metric: `quorum PutItem 900 B, durability '${durability}'`, value: r.opsPerSec, unit: 'writes/s', target: `≥ ${target / 1000}k writes/s`, pass: r.opsPerSec >= target, note });
    }
    return rows;
  },
};
