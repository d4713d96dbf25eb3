/**
 * The soak: YCSB-A-style traffic (50% strong reads, 50% updates) on a real cluster while
 * storage nodes are killed and restarted, paused, cut off (both ways and one way) and fed
 * corrupt ring records, one node at a time, from a seeded schedule. Afterwards it proves:
 *
 *  - every acknowledged write is present: each update adds a unique write id to its item's
 *    `ids` string set, so a strong read of every key must hold every acknowledged id and
 *    no id that was never sent (writes with an unknown outcome may or may not be there;
 *    writes refused with another error must not be);
 *  - strong reads during the run saw every id acknowledged before they were sent (sets
 *    only grow, so that is linearizability for this workload);
 *  - all replicas of every group hold identical data (same applied index, item count, CRC);
 *  - every failure was a retryable DynamoDB error, and no request hung.
 *
 * Availability is the paper's: per 1-second interval, successful requests / requests that
 * completed in that interval (an interval in which none completed counts as 0). Requests
 * still in flight when the traffic stops are waited for (each ends by the router's
 * deadline) and reported as the "drain" row, outside the timeline; the overall figure
 * counts every request, drained ones included.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DynamoDBError, ShardBox, type Item } from '../../src/index.js';
import { Rng, ScrambledZipfianGenerator, UniformLongGenerator, type NumberGenerator } from '../ycsb/generators.js';

export type FaultKind = 'kill' | 'pause' | 'isolate' | 'cut' | 'cutOneWay' | 'cutRouter' | 'corrupt';
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'pause', 'isolate', 'cut', 'cutOneWay', 'cutRouter', 'corrupt'];

export interface SoakOptions {
  /** Seconds of traffic with faults. */
  durationS: number;
  nodes: number;
  partitions: number;
  /** Items loaded before the traffic starts (keys user0..). */
  records: number;
  /** Requests started per second (open loop: they do not wait for each other). */
  rate: number;
  distribution: 'uniform' | 'zipfian';
  seed: number;
  /** Inject faults (false: the same traffic on a healthy cluster, for comparison). */
  faults: boolean;
  durability: 'sync' | 'async';
  /** Progress and report lines. */
  log: (line: string) => void;
}

export const DEFAULT_SOAK_OPTIONS: Omit<SoakOptions, 'seed' | 'log'> = {
  durationS: 30, nodes: 3, partitions: 4, records: 1000, rate: 500, distribution: 'uniform', faults: true, durability: 'sync',
};

/** Healthy gap before each fault, and how long a fault lasts (ms). */
const FAULT_GAP_MS = [1000, 2500] as const;
const FAULT_HOLD_MS = [300, 3000] as const;
/** Every fault ends at least this long before the traffic does (ms): a run ends with whole
 *  seconds of no fault, so that it shows whether the cluster serves again once its faults
 *  end (the soak test checks the last three). With 0.5 s, a 3 s cut of the router from the
 *  node that led every group left the last seconds with no success at all. */
const FAULT_END_MARGIN_MS = 3500;
/** The shortest run with faults (s): the first needs the shortest gap, the shortest hold and
 *  the margin (4.8 s), plus slack for timers that fire late. */
export const MIN_FAULT_DURATION_S = 6;
/** Fraction of records flipped on a corrupted link. */
const CORRUPT_RATE = [0.02, 0.2] as const;
/** How long the end-of-run checks may wait for the cluster to settle (ms). */
const SETTLE_TIMEOUT_MS = 60_000;
/** Past the router's deadline (10 s), a request still outstanding has hung (ms). */
const HANG_AFTER_MS = 15_000;
const TABLE = 'soak';

export interface SoakInterval {
  second: number;
  ok: number;
  failed: number;
  /** ok / (ok + failed); 0 when nothing completed. */
  availability: number;
  /** Slowest request that completed in this interval (ms): a pause shows as latency. */
  maxLatencyMs: number;
}

export interface SoakFault {
  kind: FaultKind;
  node: number;
  /** The other end, for cuts and corruption. */
  peer?: number;
  startS: number;
  endS: number;
  detail: string;
}

export interface SoakReport {
  seed: number;
  options: Omit<SoakOptions, 'log'>;
  intervals: SoakInterval[];
  /** Requests that completed after the traffic stopped. */
  drain: { ok: number; failed: number; maxLatencyMs: number };
  minAvailability: number;
  overallAvailability: number;
  requests: { reads: number; updates: number; ok: number; failed: number };
  /** Latency of every completed request, failed ones included (ms). */
  latencyMs: { p50: number; p99: number; max: number };
  /** Failed requests by error name. */
  errors: Record<string, number>;
  faults: SoakFault[];
  writes: { acknowledged: number; unknown: number; refused: number; unknownPresent: number };
  /** Everything that makes the run fail; empty when it passed. */
  problems: string[];
}

export async function runSoak(options: Partial<SoakOptions> & { seed: number }): Promise<SoakReport> {
  const opts: SoakOptions = { ...DEFAULT_SOAK_OPTIONS, log: () => {}, ...options };
  const { log } = opts;
  const rng = new Rng(opts.seed, 1);
  const faultRng = new Rng(opts.seed, 2);
  const keys: NumberGenerator = opts.distribution === 'zipfian'
    ? new ScrambledZipfianGenerator(rng, 0, opts.records - 1)
    : new UniformLongGenerator(rng, 0, opts.records - 1);
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 50) problems.push(text);
    else if (problems.length === 50) problems.push('(more problems not listed)');
  };

  log(`soak: seed ${opts.seed}, ${opts.durationS} s, ${opts.nodes} nodes, ${opts.partitions} partitions, ${opts.records} records, ${opts.rate} requests/s (${opts.distribution}), faults ${opts.faults ? 'on' : 'off'}, durability ${opts.durability}`);
  const db = await ShardBox.open({ nodes: opts.nodes, partitions: opts.partitions, durability: opts.durability, seed: opts.seed >>> 0 });
  try {
    await db.createTable({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }, { AttributeName: 'field0', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      // A global index, so that faults also hit its propagation (checked at the end).
      GlobalSecondaryIndexes: [{ IndexName: 'byField0', KeySchema: [{ AttributeName: 'field0', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
    });
    await load(db, opts.records);

    // Per key: ids acknowledged, in acknowledgement order; every id sent, with its key.
    const acked: string[][] = Array.from({ length: opts.records }, () => []);
    const sentKey = new Map<string, number>();
    const unknown = new Set<string>();
    const refused = new Set<string>();
    const intervals: Array<{ ok: number; failed: number; maxLatencyMs: number }> = [];
    const drain = { ok: 0, failed: 0, maxLatencyMs: 0 };
    const latenciesMs: number[] = [];
    const errors: Record<string, number> = {};
    const requests = { reads: 0, updates: 0, ok: 0, failed: 0 };
    const pending = new Set<Promise<void>>();
    let nextWrite = 0;
    let trafficEnded = false;
    const startMs = performance.now();
    const endMs = startMs + opts.durationS * 1000;

    const complete = (sentMs: number, ok: boolean, error?: unknown) => {
      const now = performance.now();
      const bucket = trafficEnded ? drain : (intervals[Math.floor((now - startMs) / 1000)] ??= { ok: 0, failed: 0, maxLatencyMs: 0 });
      bucket.maxLatencyMs = Math.max(bucket.maxLatencyMs, now - sentMs);
      latenciesMs.push(now - sentMs);
      if (ok) {
        bucket.ok++;
        requests.ok++;
        return;
      }
      bucket.failed++;
      requests.failed++;
      const name = error instanceof Error ? error.name : String(error);
      errors[name] = (errors[name] ?? 0) + 1;
      if (!(error instanceof DynamoDBError) || !error.retryable) problem(`a request failed with a non-retryable error: ${name}: ${(error as Error).message}`);
    };

    const read = async (key: number) => {
      requests.reads++;
      const sentMs = performance.now();
      const ackedBefore = acked[key].length;
      try {
        const { Item } = await db.getItem({ TableName: TABLE, Key: { id: { S: `user${key}` } }, ConsistentRead: true });
        complete(sentMs, true);
        const ids = new Set(writeIdsOf(Item));
        for (let i = 0; i < ackedBefore; i++) {
          if (!ids.has(acked[key][i])) problem(`stale strong read of user${key}: write ${acked[key][i]} was acknowledged before the read was sent but is missing`);
        }
        for (const id of ids) if (sentKey.get(id) !== key) problem(`strong read of user${key} holds write id ${id}, never sent to that key`);
      } catch (error) {
        complete(sentMs, false, error);
      }
    };

    const update = async (key: number) => {
      requests.updates++;
      const sentMs = performance.now();
      const id = `w${nextWrite++}`;
      sentKey.set(id, key);
      try {
        await db.updateItem({
          TableName: TABLE,
          Key: { id: { S: `user${key}` } },
          UpdateExpression: `SET field${rng.nextBelow(10)} = :v ADD ids :id`,
          ExpressionAttributeValues: { ':v': { S: fieldValue(rng) }, ':id': { SS: [id] } },
        });
        acked[key].push(id);
        complete(sentMs, true);
      } catch (error) {
        // Only a write whose outcome the router could not know may have been applied.
        if (error instanceof DynamoDBError && error.name === 'InternalServerError') unknown.add(id);
        else refused.add(id);
        complete(sentMs, false, error);
      }
    };

    const faults: SoakFault[] = [];
    const faultLoop = opts.faults ? injectFaults(db, opts, faultRng, startMs, endMs, faults, log) : Promise.resolve();

    // Open loop: requests start on schedule whether or not earlier ones have finished.
    let started = 0;
    let lastProgressS = 0;
    while (performance.now() < endMs) {
      const now = performance.now();
      const due = Math.floor(((now - startMs) / 1000) * opts.rate);
      for (; started < due; started++) {
        const key = keys.nextValue();
        const op = rng.nextDouble() < 0.5 ? read(key) : update(key);
        pending.add(op);
        void op.finally(() => pending.delete(op));
      }
      const second = Math.floor((now - startMs) / 1000);
      if (second >= lastProgressS + 5) {
        lastProgressS = second;
        const window = intervals.slice(second - 5, second);
        const ok = window.reduce((s, b) => s + (b?.ok ?? 0), 0);
        const all = window.reduce((s, b) => s + (b?.ok ?? 0) + (b?.failed ?? 0), 0);
        log(`  ${second} s: ${started} requests, ${pending.size} in flight, last 5 s availability ${all === 0 ? '0' : ((100 * ok) / all).toFixed(1)}%`);
      }
      await sleep(5);
    }
    trafficEnded = true;
    await faultLoop;
    if (opts.faults && faults.length === 0) problem(`no fault was injected in ${opts.durationS} s (a run with faults needs at least ${MIN_FAULT_DURATION_S} s)`);
    const outstandingAtEnd = pending.size;

    // Every request ends by the router's deadline; one still outstanding after it hung.
    let hangTimer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((resolve) => { hangTimer = setTimeout(() => resolve('hung'), HANG_AFTER_MS); });
    if ((await Promise.race([Promise.all([...pending]).then(() => 'done' as const), hung])) === 'hung') {
      problem(`${pending.size} requests still outstanding ${HANG_AFTER_MS} ms after the traffic stopped (hung)`);
    }
    clearTimeout(hangTimer);
    log(`traffic stopped: ${started} requests, ${outstandingAtEnd} in flight at the end (drained: ${drain.ok} ok, ${drain.failed} failed)`);

    // Heal everything and let every node catch up.
    db.faults.heal();
    for (let node = 0; node < opts.nodes; node++) if (!db.isNodeAlive(node)) await db.faults.restart(node);
    const writeIds = { acknowledged: acked.reduce((s, ids) => s + ids.length, 0), unknown: unknown.size, refused: refused.size, unknownPresent: 0 };
    writeIds.unknownPresent = await checkEveryWrite(db, opts.records, acked, sentKey, unknown, refused, problem);
    await checkReplicas(db, problem, log);
    await checkIndexes(db, problem, log);

    const timeline: SoakInterval[] = Array.from({ length: opts.durationS }, (_, second) => {
      const b = intervals[second] ?? { ok: 0, failed: 0, maxLatencyMs: 0 };
      return { second, ok: b.ok, failed: b.failed, availability: b.ok + b.failed === 0 ? 0 : b.ok / (b.ok + b.failed), maxLatencyMs: b.maxLatencyMs };
    });
    latenciesMs.sort((a, b) => a - b);
    const quantile = (q: number) => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(q * latenciesMs.length))] ?? 0;
    const { log: _log, ...settings } = opts;
    return {
      seed: opts.seed,
      options: settings,
      intervals: timeline,
      drain,
      minAvailability: Math.min(...timeline.map((i) => i.availability)),
      overallAvailability: requests.ok / Math.max(1, requests.ok + requests.failed),
      requests,
      latencyMs: { p50: quantile(0.5), p99: quantile(0.99), max: quantile(1) },
      errors,
      faults,
      writes: writeIds,
      problems,
    };
  } finally {
    await db.close();
  }
}

async function load(db: ShardBox, records: number): Promise<void> {
  const rng = new Rng(records, 3);
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < records) {
      const key = next++;
      const item: Record<string, { S: string }> = { id: { S: `user${key}` } };
      for (let f = 0; f < 10; f++) item[`field${f}`] = { S: fieldValue(rng) };
      await db.putItem({ TableName: TABLE, Item: item });
    }
  }));
}

/** A 90-byte field value (YCSB's fieldlength). */
function fieldValue(rng: Rng): string {
  let s = '';
  for (let i = 0; i < 90; i++) s += String.fromCharCode(33 + rng.nextBelow(94));
  return s;
}

async function injectFaults(
  db: ShardBox, opts: SoakOptions, rng: Rng, startMs: number, endMs: number, faults: SoakFault[], log: (line: string) => void,
): Promise<void> {
  const between = (range: readonly [number, number]) => range[0] + rng.nextDouble() * (range[1] - range[0]);
  const at = () => (performance.now() - startMs) / 1000;
  // A gap or hold drawn too long for the time left is shortened, so that a short run still
  // gets its faults (a run of MIN_FAULT_DURATION_S at least one); longer ones are unchanged.
  const leftMs = () => endMs - FAULT_END_MARGIN_MS - performance.now();
  for (;;) {
    const gapMs = between(FAULT_GAP_MS);
    // A run long enough for a fault gets one even when its timers fire late.
    const owed = faults.length === 0 && opts.durationS >= MIN_FAULT_DURATION_S;
    if (!owed && leftMs() < FAULT_GAP_MS[0] + FAULT_HOLD_MS[0]) return;
    await sleep(Math.max(0, Math.min(gapMs, leftMs() - FAULT_HOLD_MS[0])));
    let holdMs = Math.round(Math.min(between(FAULT_HOLD_MS), leftMs()));
    if (holdMs < FAULT_HOLD_MS[0]) {
      // The gap's timer fired late (a busy machine): the run ends here, unless it would
      // end with no fault at all; then the shortest fault runs into the end margin (the
      // final checks wait for it).
      if (!owed) return;
      holdMs = FAULT_HOLD_MS[0];
    }
    const kind = FAULT_KINDS[rng.nextBelow(FAULT_KINDS.length)];
    const node = rng.nextBelow(opts.nodes);
    const peer = (node + 1 + rng.nextBelow(opts.nodes - 1)) % opts.nodes;
    const fault: SoakFault = { kind, node, startS: at(), endS: 0, detail: '' };
    switch (kind) {
      case 'kill':
        fault.detail = `kill node ${node}, restart after ${holdMs} ms`;
        await db.faults.kill(node);
        await sleep(holdMs);
        await db.faults.restart(node);
        break;
      case 'pause':
        fault.detail = `pause node ${node} for ${holdMs} ms`;
        await db.faults.pause(node, holdMs);
        await sleep(holdMs);
        break;
      case 'isolate':
        fault.detail = `cut node ${node} from every other node for ${holdMs} ms`;
        for (let other = 0; other < opts.nodes; other++) if (other !== node) db.faults.cut(node, other);
        await sleep(holdMs);
        db.faults.heal(node);
        break;
      case 'cut':
        fault.peer = peer;
        fault.detail = `cut nodes ${node} and ${peer} apart for ${holdMs} ms`;
        db.faults.cut(node, peer);
        await sleep(holdMs);
        db.faults.heal(node, peer);
        break;
      case 'cutOneWay':
        fault.peer = peer;
        fault.detail = `lose what node ${node} sends node ${peer} for ${holdMs} ms`;
        db.faults.cut(node, peer, { oneWay: true });
        await sleep(holdMs);
        db.faults.heal(node, peer);
        break;
      case 'cutRouter':
        // The followers still hear the node; the traffic's router does not reach it.
        fault.detail = `cut the router from node ${node} for ${holdMs} ms`;
        db.faults.cut({ router: 0 }, node);
        await sleep(holdMs);
        db.faults.heal({ router: 0 }, node);
        break;
      case 'corrupt': {
        const rate = between(CORRUPT_RATE);
        fault.peer = peer;
        fault.detail = `corrupt ${(rate * 100).toFixed(0)}% of node ${node}'s records to node ${peer} for ${holdMs} ms`;
        await db.faults.corrupt(node, peer, rate, rng.nextUint32());
        await sleep(holdMs);
        await db.faults.corrupt(node, peer, 0);
        break;
      }
    }
    fault.endS = at();
    faults.push(fault);
    log(`  fault ${fault.startS.toFixed(1)}–${fault.endS.toFixed(1)} s: ${fault.detail}`);
  }
}

/** Strong-reads every key (retrying retryable errors) and checks its write ids; returns
 *  how many writes with an unknown outcome turned out to be applied. */
async function checkEveryWrite(
  db: ShardBox, records: number, acked: string[][], sentKey: Map<string, number>, unknown: Set<string>, refused: Set<string>,
  problem: (text: string) => void,
): Promise<number> {
  let unknownPresent = 0;
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < records) {
      const key = next++;
      let ids: Set<string> | undefined;
      for (let attempt = 0; ids === undefined; attempt++) {
        try {
          const { Item } = await db.getItem({ TableName: TABLE, Key: { id: { S: `user${key}` } }, ConsistentRead: true });
          ids = new Set(writeIdsOf(Item));
          if (Item === undefined) problem(`item user${key} is missing`);
        } catch (error) {
          if (!(error instanceof DynamoDBError && error.retryable) || attempt >= 20) throw error;
          await sleep(100);
        }
      }
      for (const id of acked[key]) if (!ids.has(id)) problem(`lost write: ${id} to user${key} was acknowledged but is missing`);
      for (const id of ids) {
        if (sentKey.get(id) !== key) problem(`user${key} holds write id ${id}, never sent to that key`);
        else if (refused.has(id)) problem(`user${key} holds write ${id}, whose request failed with an error that said it was not applied`);
        else if (unknown.has(id)) unknownPresent++;
      }
    }
  }));
  return unknownPresent;
}

/** Waits until the table's global index holds exactly what its items imply. */
async function checkIndexes(db: ShardBox, problem: (text: string) => void, log: (line: string) => void): Promise<void> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const checks = Object.entries(await db.verifyIndexes(TABLE));
    const wrong = checks.filter(([, c]) => c.expected !== c.actual || c.missing.length + c.extra.length + c.different.length > 0);
    if (wrong.length === 0) {
      log(`indexes equal to their table: ${checks.map(([name, c]) => `${name} ${c.actual} entries`).join('; ')}`);
      return;
    }
    if (performance.now() > deadline) {
      for (const [name, c] of wrong) problem(`index ${name} differs from its table: ${c.expected} entries implied, ${c.actual} held, missing ${JSON.stringify(c.missing)}, extra ${JSON.stringify(c.extra)}, different ${JSON.stringify(c.different)}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until every replica of every group applied the same index, then compares data. */
async function checkReplicas(db: ShardBox, problem: (text: string) => void, log: (line: string) => void): Promise<void> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const digests = await db.replicaDigests(TABLE);
    const settled = digests.every(({ replicas }) => replicas.every((r) => r !== undefined && r.applied === replicas[0]!.applied));
    if (settled) {
      for (const { partition, replicas } of digests) {
        const first = replicas[0]!;
        for (let i = 1; i < replicas.length; i++) {
          const r = replicas[i]!;
          if (r.items !== first.items || r.crc !== first.crc) {
            problem(`group ${partition.group}: replica on node ${partition.replicas[i]} holds ${r.items} items (crc ${r.crc}), node ${partition.replicas[0]} ${first.items} (crc ${first.crc}) at applied index ${first.applied}`);
          }
        }
      }
      log(`replicas identical: ${digests.map(({ partition, replicas }) => `group ${partition.group} applied ${replicas[0]!.applied}, ${replicas[0]!.items} items`).join('; ')}`);
      return;
    }
    if (performance.now() > deadline) {
      problem(`replicas did not reach the same applied index within ${SETTLE_TIMEOUT_MS} ms: ${JSON.stringify(digests.map(({ replicas }) => replicas.map((r) => r?.applied)))}`);
      return;
    }
    await sleep(50);
  }
}

/** The write ids an item holds (its `ids` string set). */
function writeIdsOf(item: Item | undefined): string[] {
  const ids = item?.ids;
  return ids !== undefined && 'SS' in ids ? ids.SS : [];
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** The availability timeline (ten seconds a row), the fault schedule and the verdict. */
export function formatSoakReport(report: SoakReport): string {
  const lines: string[] = [];
  lines.push(`soak seed ${report.seed}: ${report.requests.reads + report.requests.updates} requests (${report.requests.reads} strong reads, ${report.requests.updates} updates), ${report.requests.ok} ok, ${report.requests.failed} failed`);
  lines.push('availability per second (successful / completed requests; 0 when none completed):');
  for (let row = 0; row < report.intervals.length; row += 10) {
    const cells = report.intervals.slice(row, row + 10).map((i) => (i.availability === 1 ? '100' : (100 * i.availability).toFixed(1)).padStart(5));
    lines.push(`  ${String(row).padStart(4)} s ${cells.join(' ')}`);
  }
  lines.push(`  min ${percent(report.minAvailability)}, overall ${percent(report.overallAvailability)}; after the traffic stopped: ${report.drain.ok} ok, ${report.drain.failed} failed`);
  lines.push('slowest request per second (ms):');
  for (let row = 0; row < report.intervals.length; row += 10) {
    const cells = report.intervals.slice(row, row + 10).map((i) => String(Math.round(i.maxLatencyMs)).padStart(5));
    lines.push(`  ${String(row).padStart(4)} s ${cells.join(' ')}`);
  }
  const { p50, p99, max } = report.latencyMs;
  lines.push(`latency: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(0)} ms`);
  const errorList = Object.entries(report.errors).sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${n}`).join(', ');
  lines.push(`errors: ${errorList === '' ? 'none' : errorList}`);
  const byKind = FAULT_KINDS.map((kind) => {
    const list = report.faults.filter((f) => f.kind === kind);
    const heldS = list.reduce((s, f) => s + f.endS - f.startS, 0);
    return `${kind} ${list.length} (${heldS.toFixed(1)} s)`;
  });
  lines.push(`faults: ${report.faults.length} — ${byKind.join(', ')}`);
  lines.push(`writes: ${report.writes.acknowledged} acknowledged (all present if no problem below), ${report.writes.unknown} with unknown outcome (${report.writes.unknownPresent} applied), ${report.writes.refused} refused`);
  if (report.problems.length === 0) lines.push('PASS: every acknowledged write present, no stale strong read, replicas identical, only retryable errors, no hang');
  else {
    lines.push(`FAIL (seed ${report.seed}):`);
    for (const p of report.problems) lines.push(`  - ${p}`);
  }
  return lines.join('\n');
}

export const SOAK_USAGE = `usage: shardbox soak [options]

Drives YCSB-A-style traffic (50% strong reads, 50% updates) at a cluster while killing,
restarting, pausing, cutting and corrupting one node at a time; then checks that every
acknowledged write is present and every replica identical, and reports availability per
second. Exits 1 if a check fails.

options:
  --duration S        seconds of traffic with faults (default 30; at least ${MIN_FAULT_DURATION_S} with faults)
  --nodes N           storage nodes (default 3)
  --partitions N      partitions of the table (default 4)
  --records N         items loaded first (default 1000)
  --rate R            requests started per second, open loop (default 500)
  --distribution D    uniform (default) or zipfian keys
  --durability MODE   sync (default) or async
  --seed N            seed of the traffic and the fault schedule (default: random, printed)
  --no-faults         the same traffic without faults
  --json FILE         also write the report as JSON
`;

export async function soakMain(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string' }, nodes: { type: 'string' }, partitions: { type: 'string' }, records: { type: 'string' },
        rate: { type: 'string' }, distribution: { type: 'string' }, durability: { type: 'string' }, seed: { type: 'string' },
        'no-faults': { type: 'boolean' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`shardbox soak: ${(error as Error).message}\n\n${SOAK_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(SOAK_USAGE);
    return 0;
  }
  const integer = (name: string, value: string | undefined, fallback: number, min: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new RangeError(`--${name} must be an integer of at least ${min} (got '${value}')`);
    return n;
  };
  let options: Partial<SoakOptions> & { seed: number };
  try {
    if (values.distribution !== undefined && values.distribution !== 'uniform' && values.distribution !== 'zipfian') {
      throw new RangeError(`--distribution must be uniform or zipfian (got '${values.distribution}')`);
    }
    if (values.durability !== undefined && values.durability !== 'sync' && values.durability !== 'async') {
      throw new RangeError(`--durability must be sync or async (got '${values.durability}')`);
    }
    const faults = values['no-faults'] !== true;
    const durationS = integer('duration', values.duration, DEFAULT_SOAK_OPTIONS.durationS, 1);
    if (faults && durationS < MIN_FAULT_DURATION_S) {
      throw new RangeError(`--duration ${durationS} is too short for any fault: a run with faults needs at least ${MIN_FAULT_DURATION_S} s (or add --no-faults)`);
    }
    options = {
      durationS,
      nodes: integer('nodes', values.nodes, DEFAULT_SOAK_OPTIONS.nodes, 3),
      partitions: integer('partitions', values.partitions, DEFAULT_SOAK_OPTIONS.partitions, 1),
      records: integer('records', values.records, DEFAULT_SOAK_OPTIONS.records, 1),
      rate: integer('rate', values.rate, DEFAULT_SOAK_OPTIONS.rate, 1),
      distribution: (values.distribution as SoakOptions['distribution'] | undefined) ?? DEFAULT_SOAK_OPTIONS.distribution,
      durability: (values.durability as SoakOptions['durability'] | undefined) ?? DEFAULT_SOAK_OPTIONS.durability,
      faults,
      seed: integer('seed', values.seed, Math.floor(Math.random() * 0x7fffffff), 0),
    };
  } catch (error) {
    process.stderr.write(`shardbox soak: ${(error as Error).message}\n\n${SOAK_USAGE}`);
    return 2;
  }
  const report = await runSoak({ ...options, log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`${formatSoakReport(report)}\n`);
  if (values.json !== undefined) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  }
  return report.problems.length === 0 ? 0 : 1;
}
