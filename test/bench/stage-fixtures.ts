/**
 * `levels[].stages` for fixture results (fixtures.ts): fixed stage means per operation that
 * grow with the level, shaped like a shardbox run whose nodes stamp traces. Deterministic.
 */
import type { RunResult } from '../../bench/ycsb/results.js';
import type { LevelStages, StageStats } from '../../bench/ycsb/stages.js';

/** Mean µs per stage at the 10% level; each level's means are these × (1 + 2 × fraction − 0.2). */
export const READ_STAGE_MEANS: Record<string, number> = {
  pacing: 40, client: 12, retry: 0, queue: 6, transit: 30, leader: 8, read: 4, reply: 3, return: 25, residue: 20,
};
export const UPDATE_STAGE_MEANS: Record<string, number> = {
  pacing: 45, client: 15, retry: 2, queue: 9, transit: 32, leader: 10, replicate: 420, apply: 6, reply: 4, return: 28, residue: 24,
};

/** The growth of every mean at `fraction` (1 at 10%). */
export function stageScale(fraction: number): number {
  return 1 + 2 * fraction - 0.2;
}

function statsOf(mean: number): StageStats {
  return { mean, p50: Math.round(mean * 0.8), p99: Math.round(mean * 4), p999: Math.round(mean * 6), max: Math.round(mean * 9) };
}

function kindStages(means: Record<string, number>, scale: number, walSyncUs?: number): Record<string, StageStats> {
  const out: Record<string, StageStats> = {};
  let total = 0;
  for (const [name, base] of Object.entries(means)) {
    const mean = Math.round(base * scale * 10) / 10;
    out[name] = statsOf(mean);
    total += mean;
  }
  if (walSyncUs !== undefined) out.walSync = statsOf(walSyncUs * scale);
  out.total = statsOf(Math.round(total * 10) / 10);
  return out;
}

/** The stages of one level: READ and UPDATE (UPDATE only where the result has it). */
export function levelStages(result: RunResult, fraction: number): LevelStages {
  const level = result.levels.find((l) => l.fraction === fraction);
  const scale = stageScale(fraction);
  const out: LevelStages = {};
  if (level?.operations.READ) out.READ = kindStages(READ_STAGE_MEANS, scale);
  if (level?.operations.UPDATE) out.UPDATE = kindStages(UPDATE_STAGE_MEANS, scale, 250);
  return out;
}

/** `result` with `levels[].stages` on every level (or the given fractions only). */
export function withStages(result: RunResult, fractions?: number[]): RunResult {
  return {
    ...result,
    levels: result.levels.map((l) => (fractions === undefined || fractions.includes(l.fraction) ? { ...l, stages: levelStages(result, l.fraction) } : l)),
  };
}
