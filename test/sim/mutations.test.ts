/**
 * Mutation checks: each known bug, switched on at its decision point in the production
 * StorageNode (src/node/ports.ts NodeMutation) or RouterCore (src/router/router-core.ts
 * RouterMutation), must be caught by the simulator's checkers, which shows the checkers (and the simulator's faults) can fail for it. With
 * the mutation off, the same seed passes (sim.test.ts runs 200 such seeds).
 *
 * The seed that caught each mutation when this was written, and how:
 *   strongReadWithoutLease  seed 13: a leader already replaced (its lease run out) served a
 *                           read a value overwritten since (not linearizable)
 *   strongReadAnyReplica    seed 13: a follower behind the leader served a stale value
 *                           (not linearizable)
 *   ackBeforeSync           seed 5:  a follower acked an append, crashed before its sync
 *                           and lost it; a leader elected without the entry wrote another
 *                           at that index (different entries at one index)
 *   answerBeforeApply       seed 12: a conditional write answered ok at commit failed its
 *                           condition when applied (not linearizable)
 *   replyAfterStop          seed 4:  a node whose WAL sync failed went on acking as if the
 *                           batch were on disk; its next batch left a hole in its WAL
 *   retryLostWrite          seed 1:  a router re-sent a write whose reply was lost; the
 *                           group applied it twice (write applied twice)
 * When a change to the node or router moves what a seed does, the test looks further (seeds
 * 1..SEARCH_SEEDS, slower); then update the table with the seed that catches it now.
 *
 * Replay one: npm run sim -- --seed 13 --bug strongReadWithoutLease
 */
import { describe, expect, it } from 'vitest';
import type { NodeMutation } from '../../src/node/ports.js';
import type { RouterMutation } from '../../src/router/router-core.js';
import { runSimulation } from './simulation.js';

const OPS = 2000;
const SEARCH_SEEDS = 30;

/** [mutation, the seed that caught it, what a catch says]: safety checkers only. */
const MUTATIONS: Array<[NodeMutation | RouterMutation, number, RegExp]> = [
  ['strongReadWithoutLease', 13, /not linearizable/],
  ['strongReadAnyReplica', 13, /not linearizable/],
  ['ackBeforeSync', 5, /different entries at one index|acknowledged write lost|not linearizable/],
  ['answerBeforeApply', 12, /not linearizable/],
  ['replyAfterStop', 4, /leaves a hole in the log|different entries at one index|acknowledged write lost|not linearizable/],
  ['retryLostWrite', 1, /applied twice|not linearizable/],
];

/** Whether the run with `bug` on fails a safety checker, and what it said. */
function catches(seed: number, bug: NodeMutation | RouterMutation, expected: RegExp): string | undefined {
  const report = runSimulation({ seed, ops: OPS, bug });
  return report.failures.find((f) => expected.test(f));
}

describe('mutation checks: a known bug in the real storage node or router is caught by the simulator', () => {
  for (const [bug, recordedSeed, expected] of MUTATIONS) {
    it(`${bug} (caught by seed ${recordedSeed})`, () => {
      let caughtBy: number | undefined;
      let failure = catches(recordedSeed, bug, expected);
      if (failure !== undefined) caughtBy = recordedSeed;
      for (let seed = 1; seed <= SEARCH_SEEDS && caughtBy === undefined; seed++) {
        if (seed === recordedSeed) continue;
        failure = catches(seed, bug, expected);
        if (failure !== undefined) caughtBy = seed;
      }
      expect(caughtBy, `neither seed ${recordedSeed} nor any in 1..${SEARCH_SEEDS} caught ${bug} with ${expected}`).toBeDefined();
      // The same seed without the bug passes: the catch is the mutation's doing.
      expect(runSimulation({ seed: caughtBy!, ops: OPS }).failures).toEqual([]);
    });
  }
});
