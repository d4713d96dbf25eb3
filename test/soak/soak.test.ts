/**
 * 30 seconds of YCSB-A-style traffic under random faults (kill/restart, pause, isolation,
 * cuts both ways, one way and from the router, corruption), then: every acknowledged write present, no stale strong
 * read, identical replicas, only retryable errors, no hang. `npm run soak -- --duration 600`
 * is the long run; SHARDBOX_SEED=S replays this one's traffic and fault schedule.
 */
import { describe, expect, it, vi } from 'vitest';
import { formatSoakReport, MIN_FAULT_DURATION_S, runSoak, soakMain } from '../../bench/soak/soak.js';
import { seedFromEnv } from '../integration/helpers.js';

describe('soak', () => {
  it('30 s of traffic under faults loses no acknowledged write and keeps the replicas identical', async () => {
    const seed = seedFromEnv(Math.floor(Math.random() * 0x7fffffff));
    console.log(`soak seed ${seed} (replay: SHARDBOX_SEED=${seed} npx vitest run test/soak)`);
    const report = await runSoak({ seed, durationS: 30, log: (line) => console.log(line) });
    console.log(formatSoakReport(report));
    expect(report.problems, `seed ${seed}`).toEqual([]);
    // The checks above pass trivially on a cluster that serves nothing: it must serve.
    expect(report.faults.length, `seed ${seed}: faults injected`).toBeGreaterThanOrEqual(4);
    expect(report.writes.acknowledged, `seed ${seed}`).toBeGreaterThan(3000);
    expect(report.overallAvailability, `seed ${seed}: overall availability`).toBeGreaterThan(0.8);
    expect(report.intervals.slice(-3).every((i) => i.ok > 0), `seed ${seed}: serving at the end`).toBe(true);
  }, 180_000);

  it('a run with faults too short for any reports a problem, never PASS; the shortest allowed gets one', async () => {
    const seed = seedFromEnv(Math.floor(Math.random() * 0x7fffffff));
    const none = await runSoak({ seed, durationS: 1, records: 100 });
    expect(none.faults).toEqual([]);
    expect(none.problems, `seed ${seed}`).toContain(`no fault was injected in 1 s (a run with faults needs at least ${MIN_FAULT_DURATION_S} s)`);
    expect(formatSoakReport(none)).toMatch(/\nFAIL \(seed \d+\):\n/);
    const shortest = await runSoak({ seed, durationS: MIN_FAULT_DURATION_S, records: 100 });
    expect(shortest.faults.length, `seed ${seed}`).toBeGreaterThanOrEqual(1);
    expect(shortest.problems, `seed ${seed}`).toEqual([]);
  }, 120_000);

  it('the command names a bad option and exits 2', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await soakMain(['--duration', '0'])).toBe(2);
      expect(String(stderr.mock.calls[0][0])).toMatch(/^shardbox soak: --duration must be an integer of at least 1 \(got '0'\)/);
      expect(await soakMain(['--distribution', 'latest'])).toBe(2);
      expect(String(stderr.mock.calls[1][0])).toMatch(/--distribution must be uniform or zipfian/);
      expect(await soakMain(['--duration', String(MIN_FAULT_DURATION_S - 1)])).toBe(2);
      expect(String(stderr.mock.calls[2][0])).toMatch(new RegExp(`^shardbox soak: --duration ${MIN_FAULT_DURATION_S - 1} is too short for any fault: a run with faults needs at least ${MIN_FAULT_DURATION_S} s \\(or add --no-faults\\)`));
    } finally {
      stderr.mockRestore();
    }
  });
});
