import { describe, expect, it } from 'vitest';
import { ReplicaCore } from '../../src/replication/replica-core.js';
import type { ReplicaConfig } from '../../src/replication/types.js';
import { MemLog, mulberry32 } from './harness.js';

function config(over: Partial<ReplicaConfig>): ReplicaConfig {
  return {
    group: 1, id: 0, voters: [0, 1, 2], electionTicks: 10, heartbeatTicks: 2, leaseTicks: 8,
    maxAppendBytes: 1024, maxInflightAppends: 4, random: mulberry32(1), log: new MemLog(),
    hardState: { term: 0, vote: -1, commit: 0 }, applied: 0, ...over,
  };
}

describe('ReplicaConfig is checked once, loudly, naming the option', () => {
  it.each([
    [{ leaseTicks: 10 }, /config\.leaseTicks \(10\) must be < config\.electionTicks \(10\)/],
    [{ heartbeatTicks: 12 }, /config\.heartbeatTicks \(12\) must be < config\.electionTicks/],
    [{ voters: [0, 1, 1] }, /duplicates/],
    [{ logReplicas: [3] }, /log replicas 3 must be voters/],
    [{ voters: [0, 1], logReplicas: [0, 1] }, /at least one full replica/],
    [{ electionTicks: 0 }, /config\.electionTicks must be a positive integer/],
    [{ maxInflightAppends: 0 }, /config\.maxInflightAppends must be a positive integer/],
    [{ hardState: { term: 1, vote: -2, commit: 0 } }, /config\.hardState\.vote \(-2\)/],
    [{ hardState: { term: 1, vote: -1, commit: 5 } }, /commit 5 > last log index 0/],
  ] as Array<[Partial<ReplicaConfig>, RegExp]>)('%o', (over, message) => {
    expect(() => new ReplicaCore(config(over))).toThrow(message);
  });

  it('accepts a sane config', () => {
    const core = new ReplicaCore(config({}));
    expect(core.role).toBe('follower');
    expect(core.term).toBe(0);
  });
});
