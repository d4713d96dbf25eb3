/**
 * The shape of a YCSB result file (`ycsb-<workload>-<engine>.json`), shared by the runner
 * that writes it and by the report, chart and compare commands that read it. Latencies
 * are microseconds everywhere.
 */

export const RESULT_SCHEMA = 'shardbox.ycsb/1';

/** YCSB's operation names, as they appear in its report lines. */
export type OperationName = 'READ' | 'UPDATE' | 'INSERT' | 'SCAN' | 'READ-MODIFY-WRITE';
export const OPERATION_NAMES: readonly OperationName[] = ['READ', 'UPDATE', 'INSERT', 'SCAN', 'READ-MODIFY-WRITE'];

/** How an operation ended. YCSB's own names where it has one (`OK`, `NOT_FOUND`, `ERROR`,
 *  `SERVICE_UNAVAILABLE`); `THROTTLED` and `TIMEOUT` are kept apart so they are never
 *  hidden inside ERROR. */
export type Outcome = 'OK' | 'NOT_FOUND' | 'THROTTLED' | 'TIMEOUT' | 'SERVICE_UNAVAILABLE' | 'ERROR';
export const OUTCOMES: readonly Outcome[] = ['OK', 'NOT_FOUND', 'THROTTLED', 'TIMEOUT', 'SERVICE_UNAVAILABLE', 'ERROR'];

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
 *  in `intended`/`actual`; the others are in `failed` (YCSB's `[READ-FAILED]`). */
export interface OperationResult {
  /** Every operation of this type that was issued and finished, whatever its outcome. */
  count: number;
  /** count minus the OK ones. */
  errors: number;
  /** Operations per outcome; only outcomes seen are present. */
  outcomes: Partial<Record<Outcome, number>>;
  /** Latency from the operation's intended start (coordinated omission corrected): the headline. */
  intended: Percentiles;
  /** Latency from the moment the client actually issued it. */
  actual: Percentiles;
  /** Latency (from actual start) of the operations that did not return OK, if any. */
  failed?: Percentiles;
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
  /** Completed operations (all outcomes) per second of the measured window. */
  achievedOpsPerSec: number;
  /** False when achieved fell more than 5% short of the target. */
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
}

export interface Environment {
  node: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cores: number;
  totalMemoryBytes: number;
  /** The engine's durability setting ('sync' / 'async' for shardbox, lmdb; 'remote' for dynamodb). */
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
  opsPerSec: number;
  inFlightPerThread: number;
  durationMs: number;
}

/** How the top rate (the 100% level) was chosen: open-loop probes from high to low, the
 *  first that kept up wins. */
export interface TopRate {
  opsPerSec: number;
  rule: string;
  probes: Array<{ targetOpsPerSec: number; achievedOpsPerSec: number; backlog: number; keptUp: boolean }>;
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
  levels: LevelResult[];
  clientCpu: ClientCpu;
}
