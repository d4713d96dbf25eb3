import { configDefaults, defineConfig } from 'vitest/config';

/** Files that keep both cores busy for half a minute or more (the soak, 20 SIGKILLed
 *  processes, hundreds of simulated clusters, write bursts beside a thread burning a core).
 *  They run one at a time after the rest, so they neither slow nor starve the
 *  timing-sensitive tests (leases, benchmark phases). */
const HEAVY = ['test/soak/**/*.test.ts', 'test/recovery/sigkill.test.ts', 'test/sim/sim.test.ts', 'test/integration/backpressure.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...HEAVY],
          // Integration tests start clusters of worker threads; on a 2-core machine two test
          // files at a time is plenty.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'heavy', include: HEAVY, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
