/**
 * The shape of a YCSB result file (`ycsb-<workload>-<engine>.json`), shared by the runner
 * that writes it and by the report, chart and compare commands that read it. Latencies
 * are microseconds everywhere.
 */
import type { RequestTiming } from '../../src/index.js';
import type { LevelStages } from './stages.js';

export const RESULT_SCHEMA = 'shardbox.ycsb/1';

/** YCSB's operation names, as they appear in its report lines. */
export type OperationName = 'READ' | 'UPDATE' | 'INSERT' | 'SCAN' | 'READ-MODIFY-WRITE';
export const OPERATION_NAMES: readonly OperationName[] = ['READ', 'UPDATE', 'INSERT', 'SCAN', 'READ-MODIFY-WRITE'];

/** How an operation ended. YCSB's own names where it has one (`OK`, `NOT_FOUND`, `ERROR`,
 *  `SERVICE_UNAVAILABLE`); `THROTTLED` and `TIMEOUT` are kept apart so they are never
 *  hidden inside ERROR. */
export type Outcome = 'OK' | 'NOT_FOUND' | 'THROTTLED' | 'TIMEOUT' | 'SERVICE_UNAVAILABLE' | 'ERROR';
export const OUTCOMES: readonly Outcome[] = ['OK', 'NOT_FOUND', 'THROTTLED', 'TIMEOUT', 'SERVICE_UNAVAILABLE', 'ERROR'];

/** A level whose operations did not succeed more often than this (errors, throttles and
 *  timeouts together) is not sustained, whatever its throughput. */
export const MAX_ERROR_RATE = 0.01;
/** A level that achieves (successful operations) less than this share of its target is
 *  not sustained. */
export const MIN_ACHIEVED_SHARE = 0.95;
export const SUSTAINED_RULE =
  `achieved (successful operations per second) ≥ ${MIN_ACHIEVED_SHARE * 100}% of the target, and at most ` +
  `${MAX_ERROR_RATE * 100}% of the level's operations failed, were throttled or timed out`;

/** A level's share of operations that did not succeed and of those throttled, from its
 *  operations' outcomes (so older result files without errorRate give it too). */
export function outcomeRates(level: Pick<LevelResult, 'operations'>): { count: number; errors: number; throttled: number; errorRate: number; throttleRate: number } {
  let count = 0;
  let errors = 0;
  let throttled = 0;
  for (const op of OPERATION_NAMES) {
    const o = level.operations[op];
    if (o === undefined) continue;
    count += o.count;
    errors += o.errors;
    throttled += o.outcomes.THROTTLED ?? 0;
  }
  return { count, errors, throttled, errorRate: count > 0 ? errors / count : 0, throttleRate: count > 0 ? throttled / count : 0 };
}

/** The engines a run can measure (bench/ycsb/engines.ts). */
export type EngineName = 'shardbox' | 'lmdb' | 'dynamodb' | 'noop';
export const ENGINE_NAMES: readonly EngineName[] = ['shardbox', 'lmdb', 'dynamodb', 'noop'];

/** What each engine measures, and what it leaves out: printed in the reports. */
export const ENGINE_DESCRIPTIONS: Record<EngineName, string> = {
  shardbox: 'the embedded cluster: request validation, routing, the ring hop to a storage node thread, replication to a quorum, the WAL and LMDB',
  lmdb:
    'raw lmdb-js on the client threads, the same item and key encoding as a storage node: leaves out request ' +
    'validation, routing, the thread hop, replication and the WAL (LMDB commits only), so it is the storage floor',
  dynamodb: 'a DynamoDB-compatible HTTP endpoint through @aws-sdk/client-dynamodb, as YCSB\'s DynamoDB binding calls it',
  noop: 'answers every operation at once on the client thread, through the same pacing and recording: the harness and the machine alone',
};

/** Summary of one HdrHistogram, in µs. All zero when count is 0. */
export interface Percentiles {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** One operation type within one level. As in YCSB, only operations that returned OK are
 *  in `intended`/`actual`; the others are in `failed` and `intendedFailed` (YCSB's
 *  `[READ-FAILED]` and `[Intended-READ-FAILED]`). */
export interface OperationResult {
  /** Every operation of this type due in the measured window, whatever its outcome; those
   *  unanswered when the drain ended are TIMEOUT. */
  count: number;
  /** count minus the OK ones (throttled and timed-out ones included). */
  errors: number;
  /** Operations per outcome; only outcomes seen are present. */
  outcomes: Partial<Record<Outcome, number>>;
  /** Latency from the operation's intended start (coordinated omission corrected) of the OK
   *  ones: the headline. */
  intended: Percentiles;
  /** Latency from the moment the client actually issued it (OK ones). */
  actual: Percentiles;
  /** Latency from actual start of the operations that did not return OK, if any (one never
   *  sent has no actual start and is only in intendedFailed). */
  failed?: Percentiles;
  /** Latency from intended start of the operations that did not return OK, if any; one
   *  unanswered when the drain ended counts the time it waited until then. Missing in
   *  results written before it existed. */
  intendedFailed?: Percentiles;
  /** With `--repeat N` (N > 1): the percentiles of each repeat alone, for judging noise. */
  repeats?: Array<{ intended: Percentiles; actual: Percentiles }>;
}

/** One second of one level: what the latency-over-time chart draws. */
export interface TimelinePoint {
  /** Seconds since the level started (the interval [second, second + 1)). */
  second: number;
  /** Per operation type: completions in this second and their intended-start latency. */
  ops: Partial<Record<OperationName, { count: number; errors: number; p50: number; p99: number }>>;
}

export interface LevelResult {
  /** Fraction of the top rate: 0.1, 0.25, 0.5 or 1 (the paper's 1 : 2.5 : 5 : 10). */
  fraction: number;
  targetOpsPerSec: number;
  /** Operations that succeeded (OK), per second of the measured window. (Results written
   *  before `failedOpsPerSec` existed counted every completed operation here.) */
  achievedOpsPerSec: number;
  /** Operations that completed in the window but did not succeed (errors, throttles,
   *  timeouts), per second; missing in older results. */
  failedOpsPerSec?: number;
  /** Of the level's operations, the share that did not succeed (throttled and timed out
   *  included), and the share throttled; missing in older results (computed from
   *  `operations` then, see outcomeRates). */
  errorRate?: number;
  throttleRate?: number;
  /** False when achieved fell more than 5% short of the target, or more than
   *  MAX_ERROR_RATE of the operations did not succeed (RunResult.sustainedRule). */
  sustained: boolean;
  /** Measured window of one repeat, ms. */
  durationMs: number;
  /** Achieved throughput of each repeat (one entry without --repeat). */
  achievedRepeats: number[];
  operations: Partial<Record<OperationName, OperationResult>>;
  /** Of the first repeat. */
  timeline: TimelinePoint[];
  /** The HdrHistogram interval log of this level, relative to the result file. */
  hlog: string;
  /** Where successful operations spent their time, per operation type and stage, µs from
   *  the intended start (bench/ycsb/stages.ts); missing in older results. */
  stages?: LevelStages;
  /** The slowest successful operations of the level with their stages, slowest first. */
  slowest?: RequestTiming[];
  /** The table's capacity over the level: only for the embedded shardbox engine when the
   *  table has a capacity (`-p billingmode=...`, admission on); other engines and runs
   *  without one leave it out. */
  capacity?: LevelCapacity;
}

/**
 * A table's admission figures over one level (`db.capacity()` read at the start and the
 * end of each measured window). Units are DynamoDB's capacity units; "per second" means
 * the difference of the running totals over the window(s) divided by their duration, not
 * the last second alone.
 */
export interface LevelCapacity {
  billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
  /** What the table may use per second at the level's end: provisioned, or on demand its
   *  allowance (twice the previous peak). */
  readCapacityUnits: number;
  writeCapacityUnits: number;
  /** The measured windows the figures cover, ms (all repeats together). */
  durationMs: number;
  /** Units consumed and requests throttled over the level, and the same per second. */
  consumedReadUnits: number;
  consumedWriteUnits: number;
  consumedReadUnitsPerSec: number;
  consumedWriteUnitsPerSec: number;
  throttledReads: number;
  throttledWrites: number;
  throttledReadsPerSec: number;
  throttledWritesPerSec: number;
  /** Unused capacity the table's bucket held at the level's end. */
  readBurstCredit: number;
  writeBurstCredit: number;
  /** The table's partitions at the level's end, per second over the level. */
  partitions: PartitionLevelCapacity[];
}

/** One partition over a level: its buckets' rate at the level's end, and per second the
 *  units consumed and the requests throttled there (nodes added up). A partition made by
 *  a split during the level counts from zero. */
export interface PartitionLevelCapacity {
  group: number;
  hashStart: string;
  hashEnd: string;
  readCapacityUnits: number;
  writeCapacityUnits: number;
  consumedReadUnitsPerSec: number;
  consumedWriteUnitsPerSec: number;
  throttledReadsPerSec: number;
  throttledWritesPerSec: number;
}

export interface Environment {
  node: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cores: number;
  totalMemoryBytes: number;
  /** The engine's durability setting ('sync' / 'async' for shardbox, lmdb; 'remote' for
   *  dynamodb; 'none' for noop). */
  durability: string;
  shardboxVersion: string;
}

export interface RunConfig {
  /** The workload's effective CoreWorkload properties (file + `-p` overrides). */
  properties: Record<string, string>;
  threadcount: number;
  /** shardbox: storage nodes; otherwise 0. */
  nodes: number;
  partitions: number;
  quick: boolean;
  repeat: number;
  /** Fractions of the top rate that were run. */
  levels: number[];
  levelSeconds: number;
  warmupSeconds: number;
  seed: number;
  /** dynamodb engine: the endpoint measured. */
  endpoint?: string;
}

/** How the closed-loop maximum was measured. */
export interface MaxThroughput {
  /** Operations that succeeded per second (older results: every completed one). */
  opsPerSec: number;
  /** Completed but not successful per second, and their share; missing in older results. */
  failedOpsPerSec?: number;
  errorRate?: number;
  inFlightPerThread: number;
  durationMs: number;
}

/** How the top rate (the 100% level) was chosen: open-loop probes from high to low, the
 *  first that kept up wins. */
export interface TopRate {
  opsPerSec: number;
  rule: string;
  probes: Array<{ targetOpsPerSec: number; achievedOpsPerSec: number; backlog: number; keptUp: boolean; errorRate?: number }>;
}

/** Share of the machine the load generator itself used during the levels. */
export interface ClientCpu {
  /** CPU of the client threads, summed (1 = one core busy), from Linux's per-thread
   *  counters (elsewhere: event-loop busy time less blocking waits): generating
   *  operations, recording latencies, and each thread's request router. */
  clientCores: number;
  /** Of which the load generator alone (choosing operations, building values, recording). */
  generatorCores?: number;
  /** Whole process CPU over the same time, in cores. */
  processCores: number;
  /** clientCores / cores of the machine. */
  fractionOfMachine: number;
}

export interface RunResult {
  schema: typeof RESULT_SCHEMA;
  /** Workload name as given ('a', 'b', or a file's base name). */
  workload: string;
  engine: string;
  startedAt: string;
  config: RunConfig;
  environment: Environment;
  loadPhase: { records: number; durationMs: number; opsPerSec: number; errors: number };
  maxThroughput: MaxThroughput;
  topRate: TopRate;
  /** When a level is sustained, in words (missing in older results). */
  sustainedRule?: string;
  levels: LevelResult[];
  clientCpu: ClientCpu;
}
