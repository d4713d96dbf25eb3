/**
 * Where an operation's time went, from its intended start to its completion in the client
 * thread: the harness's own stages around the router's (src/router/latency.ts).
 *  - pacing: intended start to actual start (the load generator running late);
 *  - client: actual start to the router accepting the request (the API's validation and
 *    encoding on the client thread);
 *  - the router's stages: retry, queue, transit, leader, replicate + apply (writes) or read,
 *    reply, return;
 *  - residue: the router reading the reply to the operation completing in the harness
 *    (decoding, promise continuations, the event loop), and anything not covered above.
 * These add up to the latency from the intended start exactly. An engine without stages
 * (lmdb, noop, dynamodb) has pacing and `engine` (actual start to completion).
 * `walSync` overlaps `replicate` and is shown beside the stages, not in their sum.
 */
import { LatencyTracker, type KindLatency, type RequestTiming } from '../../src/index.js';
import { msToUs } from '../../src/router/latency.js';
import type { OperationName } from './results.js';

/** Display order. */
export const STAGE_ORDER = [
  'pacing', 'client', 'retry', 'queue', 'transit', 'leader', 'replicate', 'apply', 'read', 'reply', 'return', 'residue', 'engine',
] as const;
export const OVERLAPPING_STAGES = ['walSync'] as const;

/** What an engine reports of one operation's request (shardbox: the router's timing). */
export interface OpTrace {
  timing?: RequestTiming;
}

/** µs; `mean` is what adds up across stages. */
export interface StageStats {
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Per operation type (READ, UPDATE, ...), per stage. */
export type LevelStages = Partial<Record<OperationName, Record<string, StageStats>>>;

/** One operation's stages (ms inputs on the shared clock), as the harness records them.
 *  Like the router's (latency.ts `stagesOf`), boundaries are whole µs kept in order, so the
 *  stages add up to the total exactly. */
export function operationTiming(op: OperationName, intendedMs: number, actualMs: number, endMs: number, request: RequestTiming | undefined): RequestTiming {
  const intended = msToUs(intendedMs);
  const end = Math.max(intended, msToUs(endMs));
  const actual = Math.min(end, Math.max(intended, msToUs(actualMs)));
  const stages: RequestTiming['stages'] = { pacing: actual - intended };
  if (request === undefined) {
    stages.engine = end - actual;
    return { kind: op, totalUs: end - intended, acceptedAtMs: intendedMs, stages };
  }
  const accepted = Math.min(end, Math.max(actual, msToUs(request.acceptedAtMs)));
  stages.client = accepted - actual;
  Object.assign(stages, request.stages);
  // The router's stages add up to its total; should its clock run past the client's end
  // (threads read the clock µs apart), the residue is 0 and the total takes the difference.
  const answered = accepted + request.totalUs;
  stages.residue = Math.max(0, end - answered);
  return { kind: op, totalUs: Math.max(end, answered) - intended, acceptedAtMs: intendedMs, stages };
}

/** The per-level `stages` object of the results file. */
export function levelStagesOf(tracker: LatencyTracker): LevelStages {
  const out: LevelStages = {};
  const { kinds } = tracker.byKind();
  for (const [op, latency] of Object.entries(kinds) as Array<[OperationName, KindLatency]>) {
    if (latency.count === 0) continue;
    const stages: Record<string, StageStats> = {};
    for (const name of [...STAGE_ORDER, ...OVERLAPPING_STAGES]) {
      const s = latency.stages[name];
      if (s !== undefined && s.count > 0) stages[name] = { mean: s.mean, p50: s.p50, p99: s.p99, p999: s.p999, max: s.max };
    }
    stages.total = { mean: latency.total.mean, p50: latency.total.p50, p99: latency.total.p99, p999: latency.total.p999, max: latency.total.max };
    out[op] = stages;
  }
  return out;
}
