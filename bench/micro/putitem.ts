/**
 * Replicated, quorum-acknowledged PutItem of a 900-byte item (YCSB's 10 × 90-byte fields),
 * from one client thread (this one): `putitem`, the engine's write throughput with many
 * requests in flight under `durability: 'async'` and `'sync'`, while the table fills and
 * once it is loaded; `durability`, the README's table of what durability costs at 1, 256
 * and 1024 requests in flight. Closed loop: the latency printed is what the in-flight
 * window costs, not an open-loop latency goal.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShardBox, type ShardBoxOptions } from '../../src/index.js';
import { percentile, ycsbItem, type BenchRow, type BenchSection } from './section.js';

const IN_FLIGHT = 1024;
const WARMUP_MS = 1000;
const MEASURE_MS = 4000;
export const KEYS = 100_000;
/** Depths of the durability table in the README: one write at a time, 256 and 1024 in flight. */
const DURABILITY_DEPTHS = [1, 256, 1024] as const;

interface Phase {
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
}

/** A cluster with the YCSB table, without admission control: the engine is measured, not
 *  a capacity (an on-demand table starts at 4,000 WCU, below what these loops write). */
export async function openTable(durability: 'sync' | 'async', options: Omit<ShardBoxOptions, 'durability'> = {}): Promise<ShardBox> {
  const db = await ShardBox.open({ admission: false, ...options, durability });
  try {
    await db.createTable({
      TableName: 'usertable',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}

/**
 * A closed loop of `inFlight` writers, each putting the next key as soon as its previous
 * put was acknowledged; `measure` records what completes during a phase.
 */
export function closedLoop(db: ShardBox, inFlight: number) {
  const fields = ycsbItem(7);
  let measuring = false;
  let stopped = false;
  let done = 0;
  let counter = 0;
  let latencies: number[] = [];
  const loops = Array.from({ length: inFlight }, async () => {
    while (!stopped) {
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
  return {
    /** Puts started so far. */
    started: () => counter,
    async measure(ms: number): Promise<Phase> {
      done = 0;
      latencies = [];
      measuring = true;
      const started = performance.now();
      await sleep(ms);
      measuring = false;
      const elapsed = performance.now() - started;
      const sorted = latencies.sort((a, b) => a - b);
      return { opsPerSec: (done * 1000) / elapsed, p50Us: percentile(sorted, 50), p99Us: percentile(sorted, 99) };
    },
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/**
 * Two phases on one table: a table being filled (every write inserts a new key into the
 * B-trees) and, once all KEYS exist, a loaded table (every write replaces an item, as
 * YCSB's run phase does). Inserts cost the B-trees more (page splits), so both are shown.
 */
async function measure(durability: 'sync' | 'async'): Promise<{ filling: Phase; loaded: Phase }> {
  const db = await openTable(durability);
  try {
    const loop = closedLoop(db, IN_FLIGHT);
    await sleep(WARMUP_MS);
    const filling = await loop.measure(MEASURE_MS);
    while (loop.started() < KEYS) await sleep(50);
    const loaded = await loop.measure(MEASURE_MS);
    await loop.stop();
    return { filling, loaded };
  } finally {
    await db.close();
  }
}

const ms = (us: number) => `${(us / 1000).toFixed(2)} ms`;

export const putItemSection: BenchSection = {
  name: 'putitem',
  budgetSeconds: 40,
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const [durability, target] of [['async', 20_000], ['sync', 15_000]] as const) {
      const r = await measure(durability);
      for (const [name, p] of [['filling table (inserts)', r.filling], [`loaded table (${KEYS / 1000}k keys, replaces)`, r.loaded]] as const) {
        const note = `3 nodes, 4 partitions, ${IN_FLIGHT} in flight; closed-loop latency p50 ${ms(p.p50Us)}, p99 ${ms(p.p99Us)}`;
        rows.push({ metric: `quorum PutItem 900 B, '${durability}', ${name}`, value: p.opsPerSec, unit: 'writes/s', target: `≥ ${target / 1000}k writes/s`, pass: p.opsPerSec >= target, note });
      }
    }
    return rows;
  },
};

/**
 * The README's "What durability costs" table: per durability, one write at a time and 256
 * and 1024 in flight, each measured for MEASURE_MS after WARMUP_MS on a table being filled.
 * `npm run bench:micro -- durability` runs only this.
 */
export const durabilitySection: BenchSection = {
  name: 'durability',
  budgetSeconds: 35,
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const durability of ['sync', 'async'] as const) {
      const db = await openTable(durability);
      try {
        for (const inFlight of DURABILITY_DEPTHS) {
          const loop = closedLoop(db, inFlight);
          await sleep(WARMUP_MS);
          const p = await loop.measure(MEASURE_MS);
          await loop.stop();
          rows.push({
            metric: `PutItem 900 B, '${durability}', ${inFlight} in flight`, value: p.opsPerSec, unit: 'writes/s',
            note: `p50 ${ms(p.p50Us)}, p99 ${ms(p.p99Us)} (closed loop; 3 nodes, 4 partitions)`,
          });
        }
      } finally {
        await db.close();
      }
    }
    return rows;
  },
};

export const sections: BenchSection[] = [putItemSection, durabilitySection];
