/**
 * The YCSB experiment of the DynamoDB paper (§7, Figures 5 and 6), per engine:
 *
 *  1. load `recordcount` records (progress bar);
 *  2. per workload, the maximum throughput, closed loop (many requests in flight);
 *  3. the top rate: open-loop probes from 90% of that maximum downwards; the first the
 *     engine keeps up with (achieved ≥ 95% of target, at most 1% of operations failed,
 *     and less than 100 ms of work due but unfinished when the probe ends) is the top rate;
 *  4. open-loop levels at 10%, 25%, 50% and 100% of the top rate (the paper's
 *     100K : 250K : 500K : 1M), every operation timed from its intended start and from
 *     its actual start, whatever its outcome.
 *
 * Throughput everywhere counts successful operations only; the others are counted and
 * timed beside it, and a level with more than MAX_ERROR_RATE of them is not sustained.
 *
 * Load comes from a piscina pool of client threads (client-worker.ts), each with its own
 * engine connection; this thread hands out phases and adds the results up.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { HistogramLogWriter, type Histogram } from 'hdr-histogram-js';
import { Piscina } from 'piscina';
import { LatencyTracker, ShardBox } from '../../src/index.js';
import { compiledScriptUrl } from '../../src/control/compiled-script.js';
import type { ClientTask, ClientThreadData, LoadResult, PhaseResult, WorkloadRef } from './client-worker.js';
import { ensureDynamoDbTable, KEY_ATTRIBUTE, type EngineConnection, type EngineName } from './engines.js';
import { KINDS, MergedRecording, percentilesOf, tagOf } from './latency.js';
import type { Properties } from './properties.js';
import {
  MAX_ERROR_RATE, MIN_ACHIEVED_SHARE, RESULT_SCHEMA, SUSTAINED_RULE, outcomeRates,
  type ClientCpu, type Environment, type LevelResult, type MaxThroughput, type OperationName, type OperationResult,
  type Outcome, type RunConfig, type RunResult, type TimelinePoint, type TopRate,
} from './results.js';
import { resolveSettings, type WorkloadSettings } from './workload.js';
import { levelStagesOf } from './stages.js';
import { levelCapacity, type CapacitySample, type CapacityWindow } from './capacity.js';

/** Durations of the phases, seconds. */
export interface PhaseTimes {
  maxWarmup: number;
  maxMeasure: number;
  probeWarmup: number;
  probeMeasure: number;
  levelWarmup: number;
  levelMeasure: number;
}

/** The full run fits the 5-minute budget on 2 cores; quick fits 60 s. */
export const FULL_TIMES: PhaseTimes = { maxWarmup: 1, maxMeasure: 3, probeWarmup: 0.5, probeMeasure: 2.5, levelWarmup: 2, levelMeasure: 15 };
export const QUICK_TIMES: PhaseTimes = { maxWarmup: 0.5, maxMeasure: 1.5, probeWarmup: 0.5, probeMeasure: 1.5, levelWarmup: 0.5, levelMeasure: 3 };

/** The paper's levels: 100K, 250K, 500K and 1M ops/s are 10%, 25%, 50% and 100% of 1M. */
export const PAPER_LEVELS = [0.1, 0.25, 0.5, 1];
/** Open-loop probes for the top rate, as fractions of the closed-loop maximum. */
const PROBE_FRACTIONS = [0.9, 0.75, 0.6, 0.45, 0.3];
/** A probe keeps up when it achieves this share of its target ... */
const KEEP_UP_THROUGHPUT = 0.95;
/** ... and leaves less than this much work (in seconds of its rate) due but unfinished. */
const KEEP_UP_BACKLOG_SECONDS = 0.1;
/** Requests in flight per client thread: closed loop (max throughput, load) and the open-loop cap. */
const CLOSED_IN_FLIGHT = 512;
const LOAD_IN_FLIGHT = 256;
const OPEN_MAX_IN_FLIGHT = 4096;
/** After an open-loop window, how long due operations may still finish. */
const DRAIN_MS = 10_000;
/** Phases start this far in the future so every client thread starts together. */
const START_DELAY_MS = 100;

export interface BenchOptions {
  /** What to run, in order: each has a name (in file names and reports) and a kind. */
  engines: EngineSpec[];
  /** Workload names ('a', 'b', ...) with their properties (file + overrides, resolved). */
  workloads: Array<{ name: string; properties: Properties }>;
  durability: 'sync' | 'async';
  nodes: number;
  partitions: number;
  quick: boolean;
  repeat: number;
  levels: number[];
  times: PhaseTimes;
  /** YCSB's operationcount, when given with -p: operations per level (else levels are timed). */
  operationCount?: number;
  out: string;
  seed: number;
  region: string;
  /** Where report lines go (stdout in the CLI). */
  print: (text: string) => void;
  /** The text printed after each level (the CLI's YCSB report lines). */
  levelReport?: (result: RunResult, level: LevelResult) => string;
  /** Draw a progress bar while loading (a TTY) or print a line per 10%. */
  progressBar: boolean;
  /** --slowest N: how many slowest operations per level are kept (and printed, when given). */
  slowest?: number;
  /** --gsi: the shardbox table gets a global secondary index on field0 (KEYS_ONLY), and
   *  each level prints the index's lag (base write applied → index write acknowledged). */
  globalIndex?: boolean;
  /** --archive: shardbox archives its WAL (ShardBox.open's archive). */
  archive?: boolean;
  /** --during: a job run over and over while each level runs (its foreground cost). */
  during?: BackgroundJob;
}

export const BACKGROUND_JOBS = ['snapshot', 'scrub', 'backup'] as const;
export type BackgroundJob = typeof BACKGROUND_JOBS[number];

function clock(): number {
  return performance.timeOrigin + performance.now();
}

/** dist/bench/ycsb/client-worker.js, also when this module runs from source (tests). */
function clientWorkerUrl(): URL {
  return compiledScriptUrl(import.meta.url, 'client-worker.js', 'client worker');
}

function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function environment(durability: string): Environment {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: os.platform(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    durability,
    shardboxVersion: packageVersion(),
  };
}

/** --gsi: the global secondary index of the shardbox table, on the first field. */
const GSI_NAME = 'byField0';
const GSI_ATTRIBUTE = 'field0';

/** One engine of a run: `shardbox`, `lmdb`, `noop`, or a DynamoDB-compatible endpoint,
 *  named `dynamodb` or, with several endpoints, `dynamodb-<label>`. */
export interface EngineSpec {
  name: string;
  kind: EngineName;
  endpoint?: string;
}

/** An engine ready for client threads, and how to take it down. */
interface OpenEngine {
  connection: EngineConnection;
  durability: string;
  nodes: number;
  partitions: number;
  close(): Promise<void>;
  /** Global-index lag since the last call (p50/p99/max ms), when the table has one. */
  indexLag?: () => string;
  /** --during: starts the background job's loop; `stop` ends it and says what it did. */
  during?: { start(): void; stop(): Promise<string> };
  /** The table's capacity now (db.capacity()): only the embedded engine whose table has a
   *  capacity (admission on); each level records it over its measured windows. */
  capacity?: () => Promise<CapacitySample>;
}

async function openEngine(spec: EngineSpec, options: BenchOptions, threads: number, table: string, capacity: WorkloadSettings['capacity']): Promise<OpenEngine> {
  const engine = spec.kind;
  switch (engine) {
    case 'shardbox': {
      const db = await ShardBox.open({
        nodes: options.nodes, durability: options.durability, partitions: options.partitions, routers: threads,
        ...(options.archive === true ? { archive: { scrubEveryMs: 0 } } : {}),
        // The engine, not a capacity, is measured unless the workload gives the table one.
        admission: capacity !== undefined,
      });
      try {
        await db.createTable({
          TableName: table,
          KeySchema: [{ AttributeName: KEY_ATTRIBUTE, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: KEY_ATTRIBUTE, AttributeType: 'S' }, ...(options.globalIndex === true ? [{ AttributeName: GSI_ATTRIBUTE, AttributeType: 'S' as const }] : [])],
          ...(capacity?.billingMode === 'PROVISIONED'
            ? { ProvisionedThroughput: { ReadCapacityUnits: capacity.readCapacityUnits!, WriteCapacityUnits: capacity.writeCapacityUnits! } }
            : { BillingMode: 'PAY_PER_REQUEST' as const }),
          ...(options.globalIndex === true ? {
            GlobalSecondaryIndexes: [{ IndexName: GSI_NAME, KeySchema: [{ AttributeName: GSI_ATTRIBUTE, KeyType: 'HASH' as const }], Projection: { ProjectionType: 'KEYS_ONLY' as const },
              ...(capacity?.billingMode === 'PROVISIONED' ? { ProvisionedThroughput: { ReadCapacityUnits: capacity.readCapacityUnits!, WriteCapacityUnits: capacity.writeCapacityUnits! } } : {}) }],
          } : {}),
        });
      } catch (error) {
        await db.close();
        throw error;
      }
      const ports = Array.from({ length: threads }, (_, i) => db.routerPort(i + 1));
      const indexLag = (): string => {
        const lag = db.indexLag({ reset: true })[`${table}/index/${GSI_NAME}`];
        return lag === undefined ? '  index lag: no index writes\n'
          : `  index lag (${lag.count} writes): p50 ${lag.p50Ms.toFixed(2)} ms, p99 ${lag.p99Ms.toFixed(2)} ms, max ${lag.maxMs.toFixed(2)} ms\n`;
      };
      const capacityNow = async (): Promise<CapacitySample> => {
        const atMs = clock();
        const entry = (await db.capacity(table)).tables.find((t) => t.table === table);
        if (entry === undefined) throw new Error(`db.capacity() has no figures for table ${table}`);
        return { atMs, table: entry };
      };
      return {
        connection: { engine, ports }, durability: options.durability, nodes: options.nodes, partitions: options.partitions, close: () => db.close(),
        ...(options.globalIndex === true ? { indexLag } : {}),
        ...(capacity === undefined ? {} : { capacity: capacityNow }),
        ...(options.during === undefined ? {} : { during: backgroundLoop(db, options.during, table, options.nodes) }),
      };
    }
    case 'lmdb': {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-ycsb-lmdb-'));
      return {
        connection: { engine, path: dir, durability: options.durability },
        durability: options.durability,
        nodes: 0,
        partitions: 0,
        close: async () => rmSync(dir, { recursive: true, force: true }),
      };
    }
    case 'dynamodb': {
      if (spec.endpoint === undefined) throw new Error('the dynamodb engine needs --endpoint URL (a DynamoDB-compatible HTTP endpoint)');
      await ensureDynamoDbTable(spec.endpoint, options.region, table);
      return { connection: { engine, endpoint: spec.endpoint, region: options.region }, durability: 'remote', nodes: 0, partitions: 0, close: async () => {} };
    }
    case 'noop':
      // Nothing is stored: durability does not apply.
      return { connection: { engine }, durability: 'none', nodes: 0, partitions: 0, close: async () => {} };
  }
}

/** --during: `job` run back to back while a level runs, on the main thread beside the
 *  engine's control plane (where the cluster runs it). */
function backgroundLoop(db: ShardBox, job: BackgroundJob, table: string, nodes: number): NonNullable<OpenEngine['during']> {
  let running = false;
  let loop: Promise<void> = Promise.resolve();
  let done = 0;
  let failed = 0;
  let firstError = '';
  let node = 0;
  const once = async (): Promise<void> => {
    if (job === 'scrub') {
      await db.scrub({ table });
      return;
    }
    if (job === 'backup') {
      // A whole backup: taken, written out, then deleted (the next one starts at once).
      const { BackupDetails } = await db.createBackup({ TableName: table, BackupName: `bench-${done}` });
      const arn = BackupDetails.BackupArn;
      while ((await db.describeBackup({ BackupArn: arn })).BackupDescription.BackupDetails.BackupStatus === 'CREATING') {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await db.deleteBackup({ BackupArn: arn });
      return;
    }
    // A node that leads every partition has no follower replica to rebuild: next one.
    if ((await db.faults.rebuild(node++ % nodes, table)) === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  };
  return {
    start: () => {
      running = true;
      done = 0;
      failed = 0;
      firstError = '';
      loop = (async () => {
        while (running) {
          try {
            await once();
            done++;
          } catch (error) {
            if (failed === 0) firstError = (error as Error).message;
            failed++;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      })();
    },
    stop: async () => {
      running = false;
      await loop;
      return `  during the level: ${done} ${job}${done === 1 ? '' : 's'} done${failed > 0 ? `, ${failed} failed (first: ${firstError})` : ''}\n`;
    },
  };
}

/** The client threads of one engine. */
class ClientPool {
  private readonly pool: Piscina;
  private readonly shared = new SharedArrayBuffer(8);

  constructor(connection: EngineConnection, readonly threads: number) {
    const workerData: ClientThreadData = { connection, shared: this.shared, threadCount: threads };
    this.pool = new Piscina({
      filename: clientWorkerUrl().href,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      // The threads' event loops must keep running between tasks (their routers' pumps).
      atomics: 'disabled',
      workerData,
    });
  }

  /** Records inserted so far by the load phase, all threads together. */
  loaded(): number {
    return Atomics.load(new Int32Array(this.shared), 1);
  }

  /** Gives every thread the same phase, starting together; checks that each thread ran one. */
  async phase<T extends LoadResult | PhaseResult>(task: (startAtMs: number) => ClientTask): Promise<T[]> {
    const t = task(clock() + START_DELAY_MS);
    const results = (await Promise.all(Array.from({ length: this.threads }, () => this.pool.run(t)))) as T[];
    const threads = new Set(results.map((r) => r.thread));
    if (threads.size !== this.threads) throw new Error(`a phase ran on ${threads.size} client threads instead of ${this.threads}`);
    return results;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

interface PhaseSummary {
  merged: MergedRecording;
  /** Successful operations per second of the window. */
  achievedOpsPerSec: number;
  /** Operations that completed in the window without success, per second. */
  failedOpsPerSec: number;
  backlog: number;
  clientCores: number;
  generatorCores: number;
  processCores: number;
  windowStartMs: number;
  /** Per-stage latency of the successful operations, all threads added up. */
  stages: LatencyTracker;
  /** The table's capacity read at the window's start and end, when asked for. */
  capacity?: CapacityWindow;
}

/** `sample()` at `atMs` (this thread's clock), by a timer. */
function sampleAt<T>(atMs: number, sample: () => Promise<T>): Promise<T> {
  const sampled = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, atMs - clock()))).then(sample);
  // Awaited once the phase is over; a phase that fails first must not leave it unhandled.
  sampled.catch(() => {});
  return sampled;
}

async function measurePhase(
  pool: ClientPool, task: (startAtMs: number) => ClientTask, measureMs: number, capacity?: () => Promise<CapacitySample>,
): Promise<PhaseSummary> {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  let windowStartMs = 0;
  let capacityWindow: Promise<CapacityWindow> | undefined;
  const results = await pool.phase<PhaseResult>((startAtMs) => {
    const t = task(startAtMs);
    windowStartMs = startAtMs + ('warmupMs' in t ? t.warmupMs : 0);
    if (capacity !== undefined) {
      const start = sampleAt(windowStartMs, capacity);
      const end = sampleAt(windowStartMs + measureMs, capacity);
      capacityWindow = Promise.all([start, end]).then(([s, e]) => ({ start: s, end: e }));
      capacityWindow.catch(() => {});
    }
    return t;
  });
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - wallBefore;
  const merged = new MergedRecording();
  for (const r of results) merged.add(r.recording);
  const stages = new LatencyTracker(Math.max(0, ...results.map((r) => r.stages?.slowest.length ?? 0)));
  for (const r of results) if (r.stages !== undefined) stages.add(r.stages);
  const succeeded = results.reduce((sum, r) => sum + r.succeededInWindow, 0);
  const failed = results.reduce((sum, r) => sum + r.failedInWindow, 0);
  return {
    merged,
    achievedOpsPerSec: (succeeded * 1000) / measureMs,
    failedOpsPerSec: (failed * 1000) / measureMs,
    backlog: results.reduce((sum, r) => sum + r.backlogAtEnd, 0),
    clientCores: results.reduce((sum, r) => sum + r.utilization, 0),
    generatorCores: results.reduce((sum, r) => sum + r.generatorUtilization, 0),
    processCores: (cpu.user + cpu.system) / 1000 / wallMs,
    windowStartMs,
    stages,
    ...(capacityWindow === undefined ? {} : { capacity: await capacityWindow }),
  };
}

function operationResults(merged: MergedRecording): Partial<Record<OperationName, OperationResult>> {
  const out: Partial<Record<OperationName, OperationResult>> = {};
  for (const op of merged.operations()) {
    const counts = merged.outcomes.get(op) ?? new Map<Outcome, number>();
    const count = [...counts.values()].reduce((a, b) => a + b, 0);
    const h = merged.totals.get(op);
    const result: OperationResult = {
      count,
      errors: count - (counts.get('OK') ?? 0),
      outcomes: Object.fromEntries(counts),
      intended: percentilesOf(h?.intended),
      actual: percentilesOf(h?.actual),
    };
    if (h !== undefined && h.failed.totalCount > 0) result.failed = percentilesOf(h.failed);
    if (h !== undefined && h.intendedFailed.totalCount > 0) result.intendedFailed = percentilesOf(h.intendedFailed);
    out[op] = result;
  }
  return out;
}

function timelineOf(merged: MergedRecording): TimelinePoint[] {
  return merged.intervals.map((ops, second) => {
    const point: TimelinePoint = { second, ops: {} };
    for (const [op, h] of ops) {
      const errors = h.intendedFailed.totalCount;
      point.ops[op] = { count: h.intended.totalCount + errors, errors, p50: h.intended.getValueAtPercentile(50), p99: h.intended.getValueAtPercentile(99) };
    }
    return point;
  });
}

/** Writes the interval histograms of a level's repeats as an HdrHistogram log (format 1.3,
 *  tags as YCSB names its series), readable by HistogramLogProcessor and friends. */
function writeHlog(file: string, repeats: PhaseSummary[], header: string): void {
  const lines: string[] = [];
  const writer = new HistogramLogWriter((text) => lines.push(text));
  const baseMs = repeats[0]?.windowStartMs ?? clock();
  writer.outputComment(header);
  writer.outputLogFormatVersion();
  writer.outputComment(`[StartTime: ${(baseMs / 1000).toFixed(3)} (seconds since epoch), ${new Date(baseMs).toString()}]`);
  writer.outputComment(`[BaseTime: ${(baseMs / 1000).toFixed(3)} (seconds since epoch)]`);
  writer.baseTime = baseMs;
  writer.outputLegend();
  for (const repeat of repeats) {
    repeat.merged.intervals.forEach((ops, second) => {
      for (const [op, h] of ops) {
        for (const kind of KINDS) {
          const histogram = h[kind];
          if (histogram.totalCount === 0) continue;
          histogram.tag = tagOf(op, kind);
          histogram.startTimeStampMsec = repeat.windowStartMs + second * 1000;
          histogram.endTimeStampMsec = histogram.startTimeStampMsec + 1000;
          writer.outputIntervalHistogram(histogram);
        }
      }
    });
  }
  writeFileSync(file, lines.join(''));
}

async function loadPhase(pool: ClientPool, ref: WorkloadRef, options: BenchOptions, label: string): Promise<RunResult['loadPhase']> {
  const total = ref.settings.insertCount;
  const bar = options.progressBar
    ? new cliProgress.SingleBar({ format: `loading ${label} [{bar}] {percentage}% | {value}/{total} records | {rate} records/s | ETA {eta}s`, hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  const started = performance.now();
  bar?.start(total, 0, { rate: 0 });
  let lastTenth = 0;
  const ticker = setInterval(() => {
    const done = pool.loaded();
    const rate = Math.round((done * 1000) / (performance.now() - started));
    if (bar !== undefined) bar.update(done, { rate });
    else if (Math.floor((done * 10) / total) > lastTenth) {
      lastTenth = Math.floor((done * 10) / total);
      options.print(`loading ${label}: ${done}/${total} records (${rate} records/s)\n`);
    }
  }, 200);
  try {
    const results = await pool.phase<LoadResult>((startAtMs) => ({ kind: 'load', workload: ref, startAtMs, inFlight: LOAD_IN_FLIGHT }));
    const durationMs = performance.now() - started;
    const records = results.reduce((s, r) => s + r.records, 0);
    bar?.update(records, { rate: Math.round((records * 1000) / durationMs) });
    const errors = results.reduce((s, r) => s + r.errors, 0);
    return { records, durationMs: Math.round(durationMs), opsPerSec: Math.round((records * 1000) / durationMs), errors };
  } finally {
    clearInterval(ticker);
    bar?.stop();
  }
}

async function maxThroughput(pool: ClientPool, ref: WorkloadRef, times: PhaseTimes): Promise<MaxThroughput> {
  const measureMs = times.maxMeasure * 1000;
  const summary = await measurePhase(pool, (startAtMs) => ({ kind: 'closed', workload: ref, startAtMs, warmupMs: times.maxWarmup * 1000, measureMs, inFlight: CLOSED_IN_FLIGHT }), measureMs);
  const completed = summary.achievedOpsPerSec + summary.failedOpsPerSec;
  return {
    opsPerSec: Math.round(summary.achievedOpsPerSec),
    failedOpsPerSec: Math.round(summary.failedOpsPerSec),
    errorRate: completed > 0 ? summary.failedOpsPerSec / completed : 0,
    inFlightPerThread: CLOSED_IN_FLIGHT,
    durationMs: measureMs,
  };
}

/** Slowest operations each level keeps with their stages when --slowest is not given. */
export const DEFAULT_SLOWEST = 5;

function openTask(ref: WorkloadRef, opsPerSec: number, threads: number, warmupMs: number, measureMs: number, slowest = DEFAULT_SLOWEST): (startAtMs: number) => ClientTask {
  return (startAtMs) => ({
    kind: 'open', workload: ref, startAtMs, warmupMs, measureMs, opsPerSec: opsPerSec / threads, maxInFlight: OPEN_MAX_IN_FLIGHT, drainMs: DRAIN_MS, slowest,
  });
}

async function chooseTopRate(pool: ClientPool, ref: WorkloadRef, max: number, times: PhaseTimes, print: (s: string) => void): Promise<TopRate> {
  const rule = `open-loop probes at ${PROBE_FRACTIONS.map((f) => `${f * 100}%`).join(', ')} of the closed-loop maximum; the first that achieves (successful operations) ≥ ${KEEP_UP_THROUGHPUT * 100}% of its target, with at most ${MAX_ERROR_RATE * 100}% of its operations failed and less than ${KEEP_UP_BACKLOG_SECONDS * 1000} ms of work due but unfinished at its end, is the top rate`;
  const probes: TopRate['probes'] = [];
  const measureMs = times.probeMeasure * 1000;
  for (const fraction of PROBE_FRACTIONS) {
    const target = Math.max(1, Math.round(max * fraction));
    const s = await measurePhase(pool, openTask(ref, target, pool.threads, times.probeWarmup * 1000, measureMs), measureMs);
    const { errorRate } = outcomeRates({ operations: operationResults(s.merged) });
    const keptUp = s.achievedOpsPerSec >= KEEP_UP_THROUGHPUT * target && errorRate <= MAX_ERROR_RATE && s.backlog < KEEP_UP_BACKLOG_SECONDS * target;
    probes.push({ targetOpsPerSec: target, achievedOpsPerSec: Math.round(s.achievedOpsPerSec), backlog: s.backlog, keptUp, errorRate });
    print(`  probe ${target} ops/s: achieved ${Math.round(s.achievedOpsPerSec)}, ${(errorRate * 100).toFixed(2)}% failed, backlog ${s.backlog} -> ${keptUp ? 'keeps up' : 'falls behind'}\n`);
    if (keptUp) return { opsPerSec: target, rule, probes };
  }
  const lowest = probes[probes.length - 1];
  return { opsPerSec: lowest.targetOpsPerSec, rule: `${rule}; no probe kept up, so the lowest probe is used`, probes };
}

async function runLevel(
  pool: ClientPool, ref: WorkloadRef, fraction: number, top: number, options: BenchOptions, hlogFile: string, label: string, capacity?: OpenEngine['capacity'],
): Promise<{ level: LevelResult; cpu: ClientCpu }> {
  const target = Math.max(1, Math.round(top * fraction));
  // With -p operationcount a level lasts as long as that many operations take at its rate.
  const measureMs = options.operationCount === undefined
    ? options.times.levelMeasure * 1000
    : Math.max(1000, Math.round((options.operationCount * 1000) / target));
  const repeats: PhaseSummary[] = [];
  for (let r = 0; r < options.repeat; r++) {
    repeats.push(await measurePhase(pool, openTask(ref, target, pool.threads, options.times.levelWarmup * 1000, measureMs, options.slowest), measureMs, capacity));
  }
  const merged = new MergedRecording();
  for (const repeat of repeats) merged.addRepeat(repeat.merged);
  const operations = operationResults(merged);
  const stages = new LatencyTracker(options.slowest ?? DEFAULT_SLOWEST);
  for (const repeat of repeats) stages.add(repeat.stages.encode());
  if (options.repeat > 1) {
    for (const op of Object.keys(operations) as OperationName[]) {
      operations[op]!.repeats = repeats.map((repeat) => {
        const h = repeat.merged.totals.get(op);
        return { intended: percentilesOf(h?.intended), actual: percentilesOf(h?.actual) };
      });
    }
  }
  const achievedRepeats = repeats.map((s) => Math.round(s.achievedOpsPerSec));
  const achievedOpsPerSec = Math.round(achievedRepeats.reduce((a, b) => a + b, 0) / achievedRepeats.length);
  const failedOpsPerSec = Math.round(repeats.reduce((a, s) => a + s.failedOpsPerSec, 0) / repeats.length);
  const { errorRate, throttleRate } = outcomeRates({ operations });
  writeHlog(hlogFile, repeats, `shardbox YCSB ${label}, level ${fraction * 100}% = ${target} ops/s; values in microseconds`);
  const cores = os.availableParallelism();
  const clientCores = repeats.reduce((s, r) => s + r.clientCores, 0) / repeats.length;
  const processCores = repeats.reduce((s, r) => s + r.processCores, 0) / repeats.length;
  const generatorCores = repeats.reduce((s, r) => s + r.generatorCores, 0) / repeats.length;
  const capacityWindows = repeats.flatMap((r) => (r.capacity === undefined ? [] : [r.capacity]));
  return {
    level: {
      fraction,
      targetOpsPerSec: target,
      achievedOpsPerSec,
      failedOpsPerSec,
      errorRate,
      throttleRate,
      sustained: Math.min(...achievedRepeats) >= MIN_ACHIEVED_SHARE * target && errorRate <= MAX_ERROR_RATE,
      durationMs: measureMs,
      achievedRepeats,
      operations,
      timeline: timelineOf(repeats[0].merged),
      hlog: path.basename(hlogFile),
      stages: levelStagesOf(stages),
      slowest: stages.byKind().slowest,
      ...(capacityWindows.length > 0 ? { capacity: levelCapacity(capacityWindows) } : {}),
    },
    cpu: { clientCores: round2(clientCores), generatorCores: round2(generatorCores), processCores: round2(processCores), fractionOfMachine: round2(clientCores / cores) },
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The top rate of a workload without `-p target`: the noop engine takes the one an engine
 *  before it in this run was measured at, so it shows the harness's own latency at that
 *  engine's load (its own top rate, hundreds of thousands of operations per second, would
 *  measure a saturated harness); any other engine, or noop run first, probes for its own. */
async function topRateOf(
  spec: EngineSpec, workload: string, earlier: RunResult[], pool: ClientPool, ref: WorkloadRef, max: MaxThroughput, options: BenchOptions,
): Promise<TopRate> {
  if (ref.settings.target > 0) return { opsPerSec: ref.settings.target, rule: 'given with -p target (no probes)', probes: [] };
  const measured = spec.kind === 'noop' ? earlier.find((r) => r.workload === workload) : undefined;
  if (measured !== undefined) {
    return { opsPerSec: measured.topRate.opsPerSec, rule: `the top rate of ${measured.engine} in this run, to measure the harness at that load (no probes)`, probes: [] };
  }
  return chooseTopRate(pool, ref, max.opsPerSec, options.times, options.print);
}

/** Runs every workload on one engine; returns one result per workload. `earlier` holds
 *  the results of the engines run before it. */
async function runEngine(spec: EngineSpec, options: BenchOptions, onResult: (result: RunResult) => void, earlier: RunResult[]): Promise<RunResult[]> {
  const engine = spec.name;
  const first = resolveSettings(options.workloads[0].properties).settings;
  const threads = first.threadCount;
  const opened = await openEngine(spec, options, threads, first.table, first.capacity);
  const pool = new ClientPool(opened.connection, threads);
  const results: RunResult[] = [];
  try {
    const loadRef: WorkloadRef = { id: 'load', settings: first, seed: options.seed };
    options.print(`\n== ${engine}: loading ${first.insertCount} records of ${first.fieldCount} fields × ${first.fieldLength} bytes (${threads} client threads)\n`);
    const loaded = await loadPhase(pool, loadRef, options, engine);
    options.print(`loaded ${loaded.records} records in ${(loaded.durationMs / 1000).toFixed(1)} s (${loaded.opsPerSec} records/s, ${loaded.errors} errors)\n`);
    for (const workload of options.workloads) {
      const settings = resolveSettings(workload.properties).settings;
      const ref: WorkloadRef = { id: `run-${workload.name}`, settings, seed: options.seed + 1 };
      const label = `workload ${workload.name.toUpperCase()} on ${engine}`;
      const startedAt = new Date().toISOString();
      options.print(`\n== ${label}\n`);
      const max = await maxThroughput(pool, ref, options.times);
      options.print(`  closed-loop maximum: ${max.opsPerSec} ops/s (${CLOSED_IN_FLIGHT * threads} requests in flight)\n`);
      const top = await topRateOf(spec, workload.name, earlier, pool, ref, max, options);
      options.print(`  top rate: ${top.opsPerSec} ops/s\n`);
      const levels: LevelResult[] = [];
      let cpu: ClientCpu = { clientCores: 0, processCores: 0, fractionOfMachine: 0 };
      for (const fraction of options.levels) {
        const hlog = path.join(options.out, `ycsb-${workload.name}-${engine}-${Math.round(fraction * 100)}pct.hlog`);
        opened.indexLag?.(); // starts the level's lag window
        opened.during?.start();
        const run = await runLevel(pool, ref, fraction, top.opsPerSec, options, hlog, label, opened.capacity);
        if (opened.during !== undefined) options.print(await opened.during.stop());
        levels.push(run.level);
        if (opened.indexLag !== undefined) options.print(opened.indexLag());
        if (fraction === Math.max(...options.levels)) cpu = run.cpu;
        const partial = resultOf(workload.name, spec, startedAt, options, opened, threads, workload.properties, loaded, max, top, levels, cpu);
        if (options.levelReport !== undefined) options.print(options.levelReport(partial, run.level));
      }
      const result = resultOf(workload.name, spec, startedAt, options, opened, threads, workload.properties, loaded, max, top, levels, cpu);
      writeFileSync(path.join(options.out, `ycsb-${workload.name}-${engine}.json`), JSON.stringify(result, null, 2) + '\n');
      results.push(result);
      onResult(result);
    }
  } finally {
    await pool.close();
    await opened.close();
  }
  return results;
}


function resultOf(
  workload: string, spec: EngineSpec, startedAt: string, options: BenchOptions, opened: OpenEngine, threads: number,
  properties: Properties, loadPhase: RunResult['loadPhase'], max: MaxThroughput, top: TopRate,
  levels: LevelResult[], clientCpu: ClientCpu,
): RunResult {
  const config: RunConfig = {
    properties,
    threadcount: threads,
    nodes: opened.nodes,
    partitions: opened.partitions,
    quick: options.quick,
    repeat: options.repeat,
    levels: options.levels,
    levelSeconds: options.times.levelMeasure,
    warmupSeconds: options.times.levelWarmup,
    seed: options.seed,
  };
  if (spec.endpoint !== undefined) config.endpoint = spec.endpoint;
  return {
    schema: RESULT_SCHEMA, workload, engine: spec.name, startedAt, config, environment: environment(opened.durability),
    loadPhase, maxThroughput: max, topRate: top, sustainedRule: SUSTAINED_RULE, levels, clientCpu,
  };
}

/** Runs the experiment on every engine in turn, writing result files into options.out. */
export async function runBench(options: BenchOptions, onResult: (result: RunResult) => void = () => {}): Promise<RunResult[]> {
  mkdirSync(options.out, { recursive: true });
  const results: RunResult[] = [];
  for (const spec of options.engines) results.push(...(await runEngine(spec, options, onResult, [...results])));
  return results;
}
