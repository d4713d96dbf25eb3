/**
 * Realistic YCSB result files built in memory, so the report, chart and compare tests do not
 * depend on running the benchmark. Deterministic: the same options give the same result.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { vi } from 'vitest';
import { join } from 'node:path';
import {
  MAX_ERROR_RATE,
  RESULT_SCHEMA,
  SUSTAINED_RULE,
  outcomeRates,
  type LevelResult,
  type OperationName,
  type OperationResult,
  type Outcome,
  type Percentiles,
  type RunResult,
  type TimelinePoint,
} from '../../bench/ycsb/results.js';
import { resultFileName } from '../../bench/ycsb/result-files.js';

/** Operation mix of YCSB's core workloads. */
export const MIXES: Record<string, Partial<Record<OperationName, number>>> = {
  a: { READ: 0.5, UPDATE: 0.5 },
  b: { READ: 0.95, UPDATE: 0.05 },
  c: { READ: 1 },
  d: { READ: 0.95, INSERT: 0.05 },
  e: { SCAN: 0.95, INSERT: 0.05 },
  f: { READ: 0.5, 'READ-MODIFY-WRITE': 0.5 },
};

export interface FixtureErrors {
  fraction: number;
  operation: OperationName;
  outcome: Exclude<Outcome, 'OK'>;
  count: number;
}

export interface FixtureOptions {
  workload?: string;
  engine?: string;
  durability?: string;
  cpuModel?: string;
  cores?: number;
  /** Ops/s of the 100% level. */
  topRate?: number;
  fractions?: number[];
  levelSeconds?: number;
  /** Intended-start latency at the lowest level, µs. */
  readP50?: number;
  readP99?: number;
  writeP50?: number;
  writeP99?: number;
  /** Latency at the top level ÷ latency at the lowest (p50 and p99 alike); in between linear in the fraction. */
  growth?: number;
  /** Multiplies every latency (for a "slower" current run). */
  latencyScale?: number;
  /** Per level fraction, a latency multiplier on top of the others. */
  levelScale?: Record<number, number>;
  /** Fractions whose level fell short of its target (achieved 80% of it). */
  notSustained?: number[];
  errors?: FixtureErrors[];
  /** Every operation of every level ended so (none succeeded), as fast as the others would
   *  have: what an engine that fails at once looks like. */
  allFailed?: Exclude<Outcome, 'OK'>;
  /** With N > 1, every operation carries N repeats whose percentiles spread by ±repeatSpread/2. */
  repeats?: number;
  repeatSpread?: number;
  seed?: number;
  /** Shaped like a file written before failures were timed and counted apart: without
   *  intendedFailed, failedOpsPerSec, errorRate, throttleRate and sustainedRule. */
  legacy?: boolean;
}

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A histogram summary shaped like HdrHistogram's: integer percentiles, a fractional mean. */
export function makePercentiles(count: number, p50: number, p99: number): Percentiles {
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, p999: 0, max: 0 };
  const r = Math.round;
  return {
    count,
    min: r(p50 * 0.31),
    mean: Math.round(p50 * 1.1734 * 1000) / 1000 + 0.0625,
    p50: r(p50),
    p95: r(p50 + (p99 - p50) * 0.55),
    p99: r(p99),
    p999: r(p99 * 1.9),
    max: r(p99 * 4.7),
  };
}

function isWrite(op: OperationName): boolean {
  return op !== 'READ' && op !== 'SCAN';
}

export function makeResult(options: FixtureOptions = {}): RunResult {
  const o = {
    workload: 'a',
    engine: 'shardbox',
    durability: 'sync',
    cpuModel: 'AMD EPYC 7B13 64-Core Processor',
    cores: 16,
    topRate: 12_000,
    fractions: [0.1, 0.25, 0.5, 1],
    levelSeconds: 10,
    readP50: 310,
    readP99: 1_240,
    writeP50: 905,
    writeP99: 3_100,
    growth: 1.15,
    latencyScale: 1,
    levelScale: {},
    notSustained: [],
    errors: [],
    repeats: 1,
    repeatSpread: 0.04,
    seed: 1,
    legacy: false,
    ...options,
  };
  const rnd = prng(o.seed);
  const mix = MIXES[o.workload] ?? MIXES.a;
  const levels: LevelResult[] = o.fractions.map((fraction) => {
    const target = Math.round(o.topRate * fraction);
    const sustained = !o.notSustained.includes(fraction);
    const completed = sustained ? target * (0.995 + rnd() * 0.004) : target * 0.8;
    // Throughput counts successful operations only.
    const achieved = o.allFailed === undefined ? completed : 0;
    const durationMs = o.levelSeconds * 1000 + Math.round(rnd() * 20);
    const growth = 1 + (o.growth - 1) * ((fraction - o.fractions[0]) / Math.max(1e-9, 1 - o.fractions[0]));
    const scale = o.latencyScale * growth * (o.levelScale[fraction] ?? 1) * (sustained ? 1 : 6);
    const operations: Partial<Record<OperationName, OperationResult>> = {};
    const totalOps = Math.round((completed * durationMs) / 1000) * o.repeats;
    for (const [name, share] of Object.entries(mix) as [OperationName, number][]) {
      const count = Math.round(totalOps * share);
      const failures = o.allFailed === undefined
        ? o.errors.filter((e) => e.fraction === fraction && e.operation === name)
        : [{ fraction, operation: name, outcome: o.allFailed, count }];
      const errors = failures.reduce((n, e) => n + e.count, 0);
      const ok = count - errors;
      const outcomes: OperationResult['outcomes'] = ok > 0 ? { OK: ok } : {};
      for (const f of failures) outcomes[f.outcome] = (outcomes[f.outcome] ?? 0) + f.count;
      const p50 = (isWrite(name) ? o.writeP50 : o.readP50) * scale;
      const p99 = (isWrite(name) ? o.writeP99 : o.readP99) * scale;
      const op: OperationResult = {
        count,
        errors,
        outcomes,
        intended: makePercentiles(ok, p50, p99),
        actual: makePercentiles(ok, p50 * 0.93, p99 * 0.8),
      };
      if (errors > 0) op.failed = makePercentiles(errors, p99 * 3, p99 * 8);
      if (errors > 0 && !o.legacy) op.intendedFailed = makePercentiles(errors, p99 * 3.2, p99 * 8.5);
      if (o.repeats > 1) {
        op.repeats = Array.from({ length: o.repeats }, (_, i) => {
          const k = 1 + o.repeatSpread * (i / (o.repeats - 1) - 0.5);
          const n = Math.round(ok / o.repeats);
          return { intended: makePercentiles(n, p50 * k, p99 * k), actual: makePercentiles(n, p50 * 0.93 * k, p99 * 0.8 * k) };
        });
      }
      operations[name] = op;
    }
    const timeline: TimelinePoint[] = [];
    for (let second = 0; second < o.levelSeconds; second++) {
      const ops: TimelinePoint['ops'] = {};
      for (const [name, share] of Object.entries(mix) as [OperationName, number][]) {
        const jitter = 0.85 + rnd() * 0.3;
        const spike = rnd() < 0.08 ? 2.5 : 1;
        const base50 = (isWrite(name) ? o.writeP50 : o.readP50) * scale;
        const base99 = (isWrite(name) ? o.writeP99 : o.readP99) * scale;
        const failures = o.errors.filter((e) => e.fraction === fraction && e.operation === name).reduce((n, e) => n + e.count, 0);
        const count = Math.round(completed * share * (0.97 + rnd() * 0.06));
        ops[name] = {
          count,
          errors: o.allFailed === undefined ? Math.round(failures / o.repeats / o.levelSeconds) : count,
          p50: Math.round(base50 * jitter),
          p99: Math.round(base99 * jitter * spike),
        };
      }
      timeline.push({ second, ops });
    }
    const rates = outcomeRates({ operations });
    const failedOpsPerSec = (rates.errors * 1000) / durationMs / o.repeats;
    const accounting = o.legacy ? {} : { failedOpsPerSec, errorRate: rates.errorRate, throttleRate: rates.throttleRate };
    return {
      fraction,
      targetOpsPerSec: target,
      achievedOpsPerSec: achieved,
      ...accounting,
      sustained: sustained && achieved > 0 && (o.legacy || rates.errorRate <= MAX_ERROR_RATE),
      durationMs,
      achievedRepeats: Array.from({ length: o.repeats }, (_, i) => achieved * (1 - 0.002 * i)),
      operations,
      timeline,
      hlog: `ycsb-${o.workload}-${o.engine}-${Math.round(fraction * 100)}.hlog`,
    };
  });
  return {
    schema: RESULT_SCHEMA,
    workload: o.workload,
    engine: o.engine,
    startedAt: '2025-01-15T10:20:30.000Z',
    config: {
      properties: { recordcount: '100000', operationcount: '0', workload: 'site.ycsb.workloads.CoreWorkload' },
      threadcount: 16,
      nodes: o.engine === 'shardbox' ? 3 : 0,
      partitions: o.engine === 'shardbox' ? 4 : 0,
      quick: false,
      repeat: o.repeats,
      levels: o.fractions,
      levelSeconds: o.levelSeconds,
      warmupSeconds: 5,
      seed: o.seed,
    },
    environment: {
      node: 'v20.20.2',
      platform: 'linux',
      arch: 'x64',
      cpuModel: o.cpuModel,
      cores: o.cores,
      totalMemoryBytes: 64 * 2 ** 30,
      durability: o.durability,
      shardboxVersion: '0.1.0',
    },
    loadPhase: { records: 100_000, durationMs: 12_345, opsPerSec: 8_100.5, errors: 0 },
    maxThroughput: { opsPerSec: Math.round(o.topRate * 1.31), inFlightPerThread: 8, durationMs: 10_000 },
    topRate: {
      opsPerSec: o.topRate,
      rule: 'open-loop probes from 100% of the closed-loop maximum down in steps of 10%; the first whose backlog stayed under 1% of a second',
      probes: [
        { targetOpsPerSec: Math.round(o.topRate * 1.3), achievedOpsPerSec: Math.round(o.topRate * 1.12), backlog: 4_210, keptUp: false },
        { targetOpsPerSec: Math.round(o.topRate * 1.15), achievedOpsPerSec: Math.round(o.topRate * 1.1), backlog: 950, keptUp: false },
        { targetOpsPerSec: o.topRate, achievedOpsPerSec: Math.round(o.topRate * 0.998), backlog: 12, keptUp: true },
      ],
    },
    ...(o.legacy ? {} : { sustainedRule: SUSTAINED_RULE }),
    levels,
    clientCpu: { clientCores: 1.42, processCores: 2.1, fractionOfMachine: 1.42 / o.cores },
  };
}

/** Writes each result as `ycsb-<workload>-<engine>.json` into `dir` (created if needed). */
export function writeResults(dir: string, results: RunResult[]): string[] {
  mkdirSync(dir, { recursive: true });
  return results.map((r) => {
    const file = join(dir, resultFileName(r.workload, r.engine));
    writeFileSync(file, JSON.stringify(r, null, 2));
    return file;
  });
}

/** Captures what a command writes to stdout and stderr until `vi.restoreAllMocks()`. */
export function captureOutput(): { out: string; err: string } {
  const captured = { out: '', err: '' };
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    captured.out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    captured.err += String(chunk);
    return true;
  });
  return captured;
}
