/**
 * The cost of latency attribution (issue 10: at most 3% of throughput). A RouterCore round
 * trip with the node's trace in the reply (on: the router splits the request into stages
 * and records them) and without it (off: `stagesOf` has nothing to work with and nothing
 * is recorded), two ways:
 *  - bare: request, flush through an in-memory transport, a reply object, resolve. Nothing
 *    else a request costs is in it, so this is the attribution's cost at its largest.
 *  - through the rings: the same, but the requests (YCSB's 900-byte update) go through a
 *    real ring and codec in one record per batch, and the replies come back the same way,
 *    as the node's and the router's threads do (both ends run here, on one thread). The
 *    node's own work (the B-tree, the WAL, replication) is still left out.
 * Alone: `stagesOf` + `LatencyTracker.record`, per call.
 *
 * The shared 2-core machine is noisy, so the variants run in alternating short rounds and
 * the cost is the median of the rounds' own on ÷ off; each timed iteration is a batch of
 * round trips, so tinybench's own per-iteration overhead does not dilute the difference.
 */
import { Bench } from 'tinybench';
import { LatencyTracker, stagesOf } from '../../src/router/latency.js';
import { MAX_BATCH, RouterCore, type RouterTransport, type Target } from '../../src/router/router-core.js';
import { FORMAT_VERSION, writeBatched } from '../../src/transport/codec.js';
import { envelopeToWire, readEnvelopes, type ReplyMessage, type RequestMessage } from '../../src/transport/protocol.js';
import { Ring } from '../../src/transport/ring.js';
import { ycsbItem, type BenchRow, type BenchSection } from './section.js';

/** Round trips per timed iteration. */
const BATCH = 64;
/** Measured rounds, after one of warm-up. */
const ROUNDS = 9;
const MAX_COST = 0.03;

/** A write's node stamps relative to when the router sent it (ms): received, proposed,
 *  committed, applied, replied, the leader's own WAL sync. */
const TRACE_OFFSETS_MS = [0.031, 0.036, 0.294, 0.302, 0.311, 0.247];

/** The node's stamps for a request sent at `sentAtMs`, a fresh array as a decoded reply has. */
function traceFor(sentAtMs: number): number[] {
  const t = TRACE_OFFSETS_MS;
  return [sentAtMs + t[0], sentAtMs + t[1], sentAtMs + t[2], sentAtMs + t[3], sentAtMs + t[4], sentAtMs + t[5]];
}

const TARGET: Target = { mode: 'leader', group: 1, replicas: [0, 1, 2] };

/** A batch of round trips through a RouterCore whose node answers every request the moment
 *  it is written, as reply objects. */
function bareRoundTrips(mode: Mode): () => void {
  const sent: RequestMessage[] = [];
  const transport: RouterTransport = {
    id: 9,
    write: (_node, requests) => {
      for (const r of requests) sent.push(r);
      return requests.length;
    },
    wake: () => {},
    isDraining: () => false,
  };
  const core = new RouterCore(transport);
  const body = { op: 'put', table: 'usertable' };
  const replyBody = {};
  let resolved = 0;
  const callbacks = { resolve: () => void resolved++, reject: () => {} };
  // The shared clock (ms since the epoch), advanced as a busy router's would be.
  let nowMs = performance.timeOrigin + performance.now();
  return () => {
    for (let i = 0; i < BATCH; i++) {
      core.request(TARGET, body, false, nowMs, callbacks);
      core.flush(nowMs + 0.004);
      const request = sent.pop()!;
      core.onReply({ id: request.id, body: replyBody, trace: mode === 'on' ? traceFor(nowMs + 0.004) : undefined }, nowMs + 0.35);
      nowMs += 0.01;
    }
    if (resolved < 0) console.log(resolved);
  };
}

/** A batch of round trips whose requests and replies go through rings and the codec, a
 *  record per batch each way, in the cluster's default wire format. 'wire': the node
 *  stamps its replies, but the router drops the trace before reading it (what carrying the
 *  trace costs, without the stage arithmetic and counting). */
function ringRoundTrips(mode: Mode): () => void {
  const stamped = mode !== 'off';
  const toNode = new Ring(Ring.allocate(4 << 20));
  const toRouter = new Ring(Ring.allocate(4 << 20));
  const version = FORMAT_VERSION;
  const transport: RouterTransport = {
    id: 9,
    write: (_node, requests, onTooLarge) =>
      writeBatched(toNode, requests, (reqs) => envelopeToWire({ k: 'req', from: 9, reqs }, version), MAX_BATCH, onTooLarge, version),
    wake: () => {},
    isDraining: () => false,
  };
  const core = new RouterCore(transport);
  const item = ycsbItem(3);
  const body = { op: 'put', table: 'usertable', item };
  const replyBody = {};
  let resolved = 0;
  const callbacks = { resolve: () => void resolved++, reject: () => {} };
  let nowMs = performance.timeOrigin + performance.now();
  return () => {
    for (let i = 0; i < BATCH; i++) core.request(TARGET, body, false, nowMs, callbacks, 900);
    const sentAtMs = nowMs + 0.004;
    core.flush(sentAtMs);
    // The node: reads the batch, answers each request (stamped when attribution is on).
    const reps: ReplyMessage[] = [];
    readEnvelopes(toNode, (envelope) => {
      if (envelope.k !== 'req') return;
      for (const r of envelope.reqs) reps.push(stamped ? { id: r.id, body: replyBody, trace: traceFor(sentAtMs) } : { id: r.id, body: replyBody });
    });
    writeBatched(toRouter, reps, (batch) => envelopeToWire({ k: 'rep', reps: batch }, version), MAX_BATCH, () => {}, version);
    // The router: reads the replies.
    const receivedAtMs = nowMs + 0.35;
    readEnvelopes(toRouter, (envelope) => {
      if (envelope.k !== 'rep') return;
      for (const reply of envelope.reps) {
        if (mode === 'wire') reply.trace = undefined;
        core.onReply(reply, receivedAtMs);
      }
    });
    nowMs += 0.01 * BATCH;
    if (resolved < 0) console.log(resolved);
  };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

type Mode = 'off' | 'wire' | 'on';
type Measured = Partial<Record<Mode, number[]>>;

/** Round trips per second of each variant, in short rounds after one of warm-up; the
 *  order rotates, so drift in the machine's load does not favour one. */
async function measure(variants: Partial<Record<Mode, () => void>>): Promise<Measured | string> {
  const modes = Object.keys(variants) as Mode[];
  const opsPerSec: Measured = {};
  for (let round = 0; round <= ROUNDS; round++) {
    for (let k = 0; k < modes.length; k++) {
      const mode = modes[(round + k) % modes.length];
      const bench = new Bench({ time: 300, warmupTime: round === 0 ? 300 : 50 });
      bench.add(mode, variants[mode]!);
      await bench.run();
      const r = bench.tasks[0].result;
      if (r.state !== 'completed') return `task ${r.state}`;
      if (round > 0) (opsPerSec[mode] ??= []).push(r.throughput.mean * BATCH);
    }
  }
  return opsPerSec;
}

/** 1 − mode ÷ off, per round (against the off measured beside it: the load drifts less within
 *  a round than across rounds), and its median. */
function costOf(measured: Measured, mode: Mode): { cost: number; range: string; extraNs: number } {
  const off = measured.off!;
  const costs = measured[mode]!.map((ops, i) => 1 - ops / off[i]);
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  return { cost: median(costs), range: `${pct(Math.min(...costs))} to ${pct(Math.max(...costs))}`, extraNs: 1e9 / median(measured[mode]!) - 1e9 / median(off) };
}

function rowsOf(what: string, measured: Measured | string, target: boolean): BenchRow[] {
  if (typeof measured === 'string') return [{ metric: `${what}: attribution on vs off`, value: NaN, unit: 'ops/s', note: measured }];
  const spread = (xs: number[]) => `median of ${ROUNDS} rounds (${(Math.min(...xs) / 1e3).toFixed(0)}k-${(Math.max(...xs) / 1e3).toFixed(0)}k)`;
  const on = costOf(measured, 'on');
  const rows: BenchRow[] = [
    { metric: `${what}, attribution off (no trace)`, value: median(measured.off!), unit: 'ops/s', note: spread(measured.off!) },
    { metric: `${what}, attribution on (6-stamp trace)`, value: median(measured.on!), unit: 'ops/s', note: spread(measured.on!) },
    {
      metric: `${what}: attribution cost (1 − on ÷ off)`,
      value: on.cost * 100,
      unit: '%',
      target: target ? `≤ ${MAX_COST * 100}%` : 'ref (nothing but the router)',
      pass: target ? on.cost <= MAX_COST : undefined,
      note: `median of ${ROUNDS} rounds (${on.range}); ~${on.extraNs.toFixed(0)} ns more per request`,
    },
  ];
  if (measured.wire !== undefined) {
    const wire = costOf(measured, 'wire');
    rows.push({
      metric: `${what}: of which carrying the trace (1 − wire ÷ off)`,
      value: wire.cost * 100,
      unit: '%',
      note: `stamped replies, trace dropped before the router reads it; ${wire.range}; ~${wire.extraNs.toFixed(0)} ns`,
    });
  }
  return rows;
}

export const attributionSection: BenchSection = {
  name: 'attribution',
  budgetSeconds: 18,
  async run(): Promise<BenchRow[]> {
    const bare = await measure({ off: bareRoundTrips('off'), on: bareRoundTrips('on') });
    const rings = await measure({ off: ringRoundTrips('off'), wire: ringRoundTrips('wire'), on: ringRoundTrips('on') });

    // stagesOf + record alone, on one write's stamps.
    const tracker = new LatencyTracker();
    const base = performance.timeOrigin + performance.now();
    const trace = traceFor(base + 0.004);
    const stamps = { acceptedAtMs: base, queuedAtMs: base, sentAtMs: base + 0.004, receivedAtMs: base + 0.35 };
    const alone = new Bench({ time: 800, warmupTime: 200 });
    alone.add('stagesOf + LatencyTracker.record (write)', () => {
      for (let i = 0; i < BATCH; i++) tracker.record(stagesOf('write', stamps, trace)!);
    });
    await alone.run();
    const a = alone.tasks[0].result;
    const nsPerCall = a.state === 'completed' ? (a.latency.mean * 1e6) / BATCH : NaN;

    return [
      ...rowsOf('RouterCore round trip, bare', bare, false),
      ...rowsOf('round trip through rings (900 B update)', rings, true),
      { metric: 'stagesOf + LatencyTracker.record (write)', value: nsPerCall, unit: 'ns/call', note: `mean over batches of ${BATCH}` },
    ];
  },
};
