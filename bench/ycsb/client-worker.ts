/**
 * A YCSB client thread, run by the piscina pool: its own engine connection (for shardbox:
 * its own request router with its own rings to every storage node), its own CoreWorkload,
 * and its own latency recorder. The main thread only hands out phases and adds results up.
 *
 * Every phase of a run is given to all threads at once with a start time in the future; a
 * thread that gets its task late says so (the pool did not run the threads side by side).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { workerData } from 'piscina';
import { connectEngine, type EngineConnection, type YcsbEngine } from './engines.js';
import { LatencyRecorder, WindowCounts, type EncodedRecording } from './latency.js';
import { LatencyTracker, type EncodedLatency } from '../../src/index.js';
import { operationTiming, type OpTrace } from './stages.js';
import type { OperationName, Outcome } from './results.js';
import { CoreWorkload, type Operation, type WorkloadSettings } from './workload.js';

export interface ClientThreadData {
  connection: EngineConnection;
  /** Int32Array[0]: the next thread index to claim; [1]: records loaded by all threads. */
  shared: SharedArrayBuffer;
  threadCount: number;
}

export interface WorkloadRef {
  /** Names one CoreWorkload per thread, kept across the phases of a run. */
  id: string;
  settings: WorkloadSettings;
  seed: number;
}

export type ClientTask =
  | { kind: 'load'; workload: WorkloadRef; startAtMs: number; inFlight: number }
  | { kind: 'closed'; workload: WorkloadRef; startAtMs: number; warmupMs: number; measureMs: number; inFlight: number }
  | {
    kind: 'open'; workload: WorkloadRef; startAtMs: number; warmupMs: number; measureMs: number; opsPerSec: number; maxInFlight: number; drainMs: number;
    /** How many of its slowest successful operations (with their stages) a thread keeps. */
    slowest: number;
  };

export interface LoadResult {
  thread: number;
  records: number;
  errors: number;
  outcomes: Array<[Outcome, number]>;
  durationMs: number;
}

export interface PhaseResult {
  thread: number;
  recording: EncodedRecording;
  /** Operations that finished inside the measured window and succeeded (OK): throughput. */
  succeededInWindow: number;
  /** Operations that finished inside the measured window but did not succeed. */
  failedInWindow: number;
  /** Open loop: operations due by the window's end but not finished then (issued or not). */
  backlogAtEnd: number;
  /** Busy fraction of this thread over the measured window: its event loop's, less the
   *  time it slept in blocking waits (open loop). */
  utilization: number;
  /** Of which generating operations and recording latencies (open loop): the load
   *  generator's own cost, apart from the engine's client side (router, encoding). */
  generatorUtilization: number;
  /** How late this thread started the phase (ms). */
  startLagMs: number;
  /** Open loop: per-stage latency of the successful operations in the window (stages.ts). */
  stages?: EncodedLatency;
}

const data = workerData as ClientThreadData;
const shared = new Int32Array(data.shared);
const thread = Atomics.add(shared, 0, 1);
if (thread >= data.threadCount) throw new Error(`client thread ${thread} started but the run has ${data.threadCount} threads`);
const engine: YcsbEngine = connectEngine(data.connection, thread);
const workloads = new Map<string, CoreWorkload>();
/** Gaps longer than this are slept with a timer (which fires up to ~1 ms late) ... */
const COARSE_MS = 1.5;
/** ... and the rest in blocking waits of at most this long, for engines whose replies
 *  cannot wake the thread (their completions wait at most this much). */
const FINE_SLICE_MS = 0.2;
/** The event loop turns at least this often while operations are paced finely. */
const YIELD_MS = 1;
/** Never written: a cell to sleep on. */
const idle = new Int32Array(new SharedArrayBuffer(4));
/** A phase handed out more than this late means the threads are not running side by side
 *  (a loaded machine, such as a CI runner running other tests, can be a second late). */
const MAX_START_LAG_MS = 5000;

/** Wall-clock ms with sub-ms precision, comparable between threads. */
function clock(): number {
  return performance.timeOrigin + performance.now();
}

/** CPU time this thread has used (ms), from Linux's /proc/thread-self (sync file reads run
 *  on the calling thread); undefined elsewhere. Clock ticks are 10 ms: fine over seconds. */
function threadCpuMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Busy share of this thread since `from`: its CPU time where the OS tells, otherwise its
 *  event loop's busy time less the time it slept in blocking waits. */
class BusyMeter {
  private elu = performance.eventLoopUtilization();
  private cpuMs = threadCpuMs();
  private wallMs = performance.now();
  /** Time slept in blocking waits since the start (counted as busy by the event loop). */
  blockedMs = 0;

  utilization(): number {
    const cpuMs = threadCpuMs();
    const wallMs = performance.now() - this.wallMs;
    if (cpuMs !== undefined && this.cpuMs !== undefined) return wallMs > 0 ? (cpuMs - this.cpuMs) / wallMs : 0;
    const loop = performance.eventLoopUtilization(this.elu);
    const elapsed = loop.idle + loop.active;
    return elapsed > 0 ? Math.max(0, loop.active - this.blockedMs) / elapsed : 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function workloadOf(ref: WorkloadRef): CoreWorkload {
  let workload = workloads.get(ref.id);
  if (workload === undefined) {
    workload = new CoreWorkload(ref.settings, { seed: ref.seed, threadId: thread, threadCount: data.threadCount });
    workloads.set(ref.id, workload);
  }
  return workload;
}

async function startAt(startAtMs: number): Promise<number> {
  const lag = clock() - startAtMs;
  if (lag > MAX_START_LAG_MS) {
    throw new Error(`client thread ${thread} got its phase ${Math.round(lag)} ms late: the pool is not running all threads at once`);
  }
  await sleep(startAtMs - clock());
  return Math.max(0, lag);
}

/** Runs one YCSB operation on the engine. READ-MODIFY-WRITE is a read then an update of the
 *  same key; its outcome is the first one that is not OK. */
async function execute(workload: CoreWorkload, op: Operation, trace?: OpTrace): Promise<Outcome> {
  const { table, consistentReads } = workload.settings;
  switch (op.op) {
    case 'READ':
      return engine.read(table, op.key, op.fields, consistentReads, trace);
    case 'UPDATE':
      return engine.update(table, op.key, op.values!, trace);
    case 'INSERT': {
      const outcome = await engine.insert(table, op.key, op.values!, trace);
      workload.acknowledgeInsert(op);
      return outcome;
    }
    case 'SCAN':
      return engine.scan(table, op.key, op.scanLength!, op.fields);
    case 'READ-MODIFY-WRITE': {
      const read = await engine.read(table, op.key, op.fields, consistentReads);
      return read === 'OK' ? engine.update(table, op.key, op.values!) : read;
    }
  }
}

/** Splits n never-sent operations over the operation types by the workload's proportions
 *  (drawing them from the workload would advance its key sequences). */
function shareByProportion(settings: WorkloadSettings, n: number): Array<[OperationName, number]> {
  const proportions: Array<[OperationName, number]> = [
    ['READ', settings.readProportion],
    ['UPDATE', settings.updateProportion],
    ['INSERT', settings.insertProportion],
    ['SCAN', settings.scanProportion],
    ['READ-MODIFY-WRITE', settings.readModifyWriteProportion],
  ];
  const sum = proportions.reduce((s, [, p]) => s + p, 0);
  const shares = proportions.map(([op, p]): [OperationName, number] => [op, Math.floor((n * p) / sum)]);
  const rest = n - shares.reduce((s, [, k]) => s + k, 0);
  shares.sort((a, b) => b[1] - a[1])[0][1] += rest;
  return shares.filter(([, k]) => k > 0);
}

/** Longest pause between retries of a throttled insert in the load phase (ms). */
const LOAD_RETRY_MAX_PAUSE_MS = 100;

async function load(task: Extract<ClientTask, { kind: 'load' }>): Promise<LoadResult> {
  const workload = new CoreWorkload(task.workload.settings, { seed: task.workload.seed, threadId: thread, threadCount: data.threadCount });
  await startAt(task.startAtMs);
  const started = clock();
  const outcomes = new Map<Outcome, number>();
  let records = 0;
  const loop = async (): Promise<void> => {
    for (let record = workload.nextLoadRecord(); record !== undefined; record = workload.nextLoadRecord()) {
      let outcome = await engine.insert(workload.settings.table, record.key, record.values);
      // A table with a capacity (billingmode/readcapacity/writecapacity) loads at that
      // capacity: a throttled insert is retried after a pause, as the AWS SDK would.
      for (let pauseMs = 1; outcome === 'THROTTLED'; pauseMs = Math.min(pauseMs * 2, LOAD_RETRY_MAX_PAUSE_MS)) {
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
        outcome = await engine.insert(workload.settings.table, record.key, record.values);
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      records++;
      Atomics.add(shared, 1, 1);
    }
  };
  await Promise.all(Array.from({ length: task.inFlight }, loop));
  return { thread, records, errors: records - (outcomes.get('OK') ?? 0), outcomes: [...outcomes], durationMs: clock() - started };
}

/** Closed loop: `inFlight` requests always outstanding; measures what the engine can do. */
async function closedLoop(task: Extract<ClientTask, { kind: 'closed' }>): Promise<PhaseResult> {
  const workload = workloadOf(task.workload);
  const startLagMs = await startAt(task.startAtMs);
  const windowStart = task.startAtMs + task.warmupMs;
  const windowEnd = windowStart + task.measureMs;
  const recorder = new LatencyRecorder(windowStart);
  const inWindow = new WindowCounts(windowStart, windowEnd);
  let busy = new BusyMeter();
  let busyTaken = false;
  const loop = async (): Promise<void> => {
    while (clock() < windowEnd) {
      const op = workload.nextOperation();
      const begin = clock();
      const outcome = await execute(workload, op);
      const end = clock();
      if (begin >= windowStart && !busyTaken) {
        busyTaken = true;
        busy = new BusyMeter();
      }
      inWindow.count(outcome, end);
      if (begin >= windowStart) recorder.record(op.op, outcome, begin, begin, end);
    }
  };
  await Promise.all(Array.from({ length: task.inFlight }, loop));
  return { thread, recording: recorder.encode(), ...inWindow.counts(), backlogAtEnd: 0, utilization: busy.utilization(), generatorUtilization: 0, startLagMs };
}

/**
 * Open loop at a fixed rate: operation i is due at start + i / rate whether or not earlier
 * ones have finished, and its latency is taken from that due time (coordinated omission
 * corrected) as well as from when it was actually sent. At most `maxInFlight` are
 * outstanding; operations due meanwhile wait and their wait counts. After the window,
 * due operations are still sent and awaited for up to `drainMs`; what is left then is
 * counted as TIMEOUT, never dropped.
 */
async function openLoop(task: Extract<ClientTask, { kind: 'open' }>): Promise<PhaseResult> {
  const workload = workloadOf(task.workload);
  const startLagMs = await startAt(task.startAtMs);
  const interval = 1000 / task.opsPerSec;
  const windowStart = task.startAtMs + task.warmupMs;
  const windowEnd = windowStart + task.measureMs;
  const dueByEnd = Math.ceil((windowEnd - task.startAtMs) / interval);
  const recorder = new LatencyRecorder(windowStart);
  let issued = 0;
  let inFlight = 0;
  const inWindow = new WindowCounts(windowStart, windowEnd);
  let backlogAtEnd = 0;
  let scheduled = false;
  let finished = false;
  let busy = new BusyMeter();
  let generatorMs = 0;
  let generatorFrom = clock();
  const inFlightOps = new Map<number, { op: Operation; intended: number; actual: number }>();
  const stages = new LatencyTracker(task.slowest);
  const firstInWindow = Math.ceil((windowStart - task.startAtMs) / interval);

  return new Promise<PhaseResult>((resolve) => {
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(endTimer);
      clearTimeout(drainTimer);
      // Still outstanding or never sent at the drain deadline: TIMEOUT, with the time they
      // waited until now as their latency (a lower bound on what they would have taken).
      const drainEnd = clock();
      for (const { op, intended, actual } of inFlightOps.values()) {
        if (intended >= windowStart) recorder.recordUnfinished(op.op, intended, actual, drainEnd);
      }
      let nextUnsent = Math.max(issued, firstInWindow);
      if (nextUnsent < dueByEnd) {
        for (const [op, n] of shareByProportion(workload.settings, dueByEnd - nextUnsent)) {
          for (let k = 0; k < n; k++, nextUnsent++) recorder.recordUnfinished(op, task.startAtMs + nextUnsent * interval, undefined, drainEnd);
        }
      }
      const elapsed = clock() - generatorFrom;
      const generatorUtilization = elapsed > 0 ? generatorMs / elapsed : 0;
      resolve({
        thread, recording: recorder.encode(), ...inWindow.counts(), backlogAtEnd, utilization: busy.utilization(), generatorUtilization, startLagMs,
        stages: stages.encode(),
      });
    };

    const send = (id: number, intended: number): void => {
      const generating = clock();
      const op = workload.nextOperation();
      const actual = clock();
      generatorMs += actual - generating;
      inFlight++;
      inFlightOps.set(id, { op, intended, actual });
      const trace: OpTrace = {};
      void execute(workload, op, trace).then((outcome) => {
        if (finished) return;
        const end = clock();
        inFlight--;
        inFlightOps.delete(id);
        inWindow.count(outcome, end);
        if (intended >= windowStart) {
          recorder.record(op.op, outcome, intended, actual, end);
          if (outcome === 'OK') stages.record(operationTiming(op.op, intended, actual, end, trace.timing));
          generatorMs += clock() - end;
        }
        if (issued >= dueByEnd && inFlight === 0) finish();
        else if (!scheduled) pump();
      });
    };

    const pump = (): void => {
      scheduled = false;
      if (finished) return;
      const now = clock();
      const before = issued;
      while (inFlight < task.maxInFlight && issued < dueByEnd) {
        const intended = task.startAtMs + issued * interval;
        if (intended > now) break;
        send(issued, intended);
        issued++;
      }
      if (issued >= dueByEnd) {
        if (inFlight === 0) finish();
        return;
      }
      if (inFlight >= task.maxInFlight) return; // a completion pumps again
      if (issued > before && task.startAtMs + issued * interval - now <= COARSE_MS) {
        // What was just sent may already be answered, its completion queued as a microtask
        // (an engine that answers at once, a refusal): it runs, and stamps its end, before
        // this thread blocks in a fine wait. Measured with the noop engine at 2,000 ops/s:
        // its operations took 0.3 ms, the length of the wait, instead of microseconds.
        scheduled = true;
        setImmediate(pump);
        return;
      }
      waitUntil(task.startAtMs + issued * interval, now);
    };

    /** Timers fire up to ~1 ms late, which would count as latency from the intended start.
     *  So a timer only covers the bulk of a long gap; the last COARSE_MS are waited in
     *  blocking waits that a reply ends at once (shardbox's router doorbell) or that last
     *  at most FINE_SLICE_MS (other engines, whose completions need the event loop). When
     *  the wait ran out with no reply, the next operation goes at once; otherwise, and at
     *  least every YIELD_MS, the event loop turns so completions run. Nothing spins. */
    let lastYield = clock();
    const waitUntil = (due: number, now: number): void => {
      scheduled = true;
      const delay = due - now;
      if (delay > COARSE_MS) {
        setTimeout(pump, delay - COARSE_MS);
        lastYield = due;
        return;
      }
      let replied = true;
      if (delay > 0) {
        const blockedFrom = clock();
        if (engine.waitForReplies !== undefined) replied = engine.waitForReplies(delay);
        else Atomics.wait(idle, 0, 0, Math.min(delay, FINE_SLICE_MS));
        busy.blockedMs += clock() - blockedFrom;
      }
      const at = clock();
      if (!replied && at - lastYield < YIELD_MS) {
        queueMicrotask(pump);
      } else {
        lastYield = at;
        setImmediate(pump);
      }
    };

    const endTimer = setTimeout(() => {
      backlogAtEnd = inFlight + Math.max(0, dueByEnd - issued);
    }, windowEnd - clock());
    const drainTimer = setTimeout(finish, windowEnd + task.drainMs - clock());
    const busyTimer = setTimeout(() => {
      busy = new BusyMeter();
      generatorMs = 0;
      generatorFrom = clock();
    }, windowStart - clock());
    busyTimer.unref();
    pump();
  });
}

export default async function run(task: ClientTask): Promise<LoadResult | PhaseResult> {
  switch (task.kind) {
    case 'load':
      return load(task);
    case 'closed':
      return closedLoop(task);
    case 'open':
      return openLoop(task);
  }
}
