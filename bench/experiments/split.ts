/**
 * `split`: an on-demand table whose writes go to a narrow hash range of one partition at
 * more than a partition may take (1,000 WCU): throttled. The writes are sampled as its leader's
 * sampler would (src/node/load-sampler.ts), the split policy (src/control/split-policy.ts)
 * decides, and the partition splits online at the point that halves the observed load;
 * p99 and throttling before and after. Then the same rate on one key, and on keys that
 * each land above the last (a sequential range): the policy does not split (no hash point
 * separates one key; a split of a sequential range would only move its hot end).
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_SPLIT_POLICY, decideSplit, type SplitDecision, type SplitPolicyConfig } from '../../src/control/split-policy.js';
import { partitionHash } from '../../src/model/hash.js';
import { PartitionLoadSampler } from '../../src/node/load-sampler.js';
import type { ShardBox } from '../../src/index.js';
import type { PartitionInfo } from '../../src/router/partition-map.js';
import type { Experiment } from './experiment.js';
import { hashAt, keysInRange, putOne, withCluster } from './experiment.js';
import { canSplit, capacityOf, openCluster, partitionsOf, splitPartition, tableInput } from './glue.js';

const TABLE = 'split';
/** Above what one partition may take (1,000 WCU), below what two may. */
const RATE = 1200;
/** The policy as this experiment runs it: a partition may take 1,000 WCU (DynamoDB's
 *  limit), and one that uses half of it for 5 s splits. */
const POLICY: SplitPolicyConfig = { ...DEFAULT_SPLIT_POLICY, nodeWriteUnitsPerSec: 1000, consumptionShare: 0.5, sustainSeconds: 5 };

/** Feeds a sampler per partition with the writes the experiment sends, as the leader's
 *  node shell would see them. */
class Sampling {
  private readonly samplers = new Map<number, PartitionLoadSampler>();

  constructor(private readonly partitions: PartitionInfo[]) {}

  partitionOf(key: string): PartitionInfo {
    const hex = partitionHash({ S: key }).toString(16).padStart(16, '0');
    return this.partitions.find((p) => hex >= p.hashStart && hex <= p.hashEnd)!;
  }

  record(key: string): void {
    const group = this.partitionOf(key).group;
    let sampler = this.samplers.get(group);
    if (sampler === undefined) this.samplers.set(group, (sampler = new PartitionLoadSampler()));
    sampler.recordHash(performance.now(), partitionHash({ S: key }), 0, 1);
  }

  decide(partition: PartitionInfo): SplitDecision {
    const sampler = this.samplers.get(partition.group) ?? new PartitionLoadSampler();
    return decideSplit({ ...partition, sizeBytes: 0 }, sampler.observe(performance.now()), POLICY);
  }
}

function describe(decision: SplitDecision): string {
  return decision.split ? `split for ${decision.reason} at ${decision.atHashHex ?? '(the mechanism\'s choice)'}: ${decision.detail}` : `no split (${decision.reason}): ${decision.detail}`;
}

export const split: Experiment = {
  name: 'split',
  title: 'Splits for consumption: a hot range splits where its load halves; one hot key or a sequential range does not',
  claim:
    'A partition whose consumption stays high splits at the point of its observed key distribution that halves the load, so each half takes '
    + 'part of it; when the load is one hot key (no split can separate it) or a sequential range (a split would move the hot end, not spread it), none is made.',
  async run({ recorder, seconds }) {
    await withCluster(() => openCluster({ partitions: 2 }, undefined, (n) => recorder.note(n)), async (db: ShardBox) => {
      await db.createTable(tableInput(TABLE, { mode: 'PAY_PER_REQUEST' }));
      const partitions = await partitionsOf(db, TABLE);
      const target = partitions[0];
      /** The partitions whose figures are charted: the hot one, then its children. */
      const charted = [target.group];
      recorder.extraEachSecond = () => capacityOf(db, TABLE, charted);
      // The first eighth of partition 0's range: a split in the middle of the range would leave all of it on one side.
      const hotEnd = hashAt(target.hashStart, target.hashEnd, 1 / 8);
      const hot = keysInRange('hot', target.hashStart, hotEnd, 2000);
      recorder.note(`table ${TABLE}: PAY_PER_REQUEST, ${partitions.length} partitions; ${RATE} puts/s on 2,000 keys in [${target.hashStart}, ${hotEnd}], the first eighth of partition ${target.group}`);
      const sampling = new Sampling(partitions);
      // Sampled once served, as the leader samples what it admitted: consumption, not demand.
      const putHot = async (i: number) => {
        const key = hot[(i * 7919) % hot.length];
        await putOne(db, TABLE, key);
        sampling.record(key);
      };
      // A warm-up over the whole table (not sampled), then the hot range, long enough for
      // the policy's sustain time in whole seconds even with --quick.
      await recorder.drive([
        { name: 'warm-up', seconds: seconds(4), opsPerSec: RATE / 2, op: (i) => putOne(db, TABLE, `warm${i}`) },
        { name: 'hot range', seconds: Math.max(POLICY.sustainSeconds + 2, seconds(8)), opsPerSec: RATE, op: putHot },
      ]);

      const decision = sampling.decide(target);
      recorder.note(`policy after the hot range: ${describe(decision)}`);
      let splitting: Promise<void> | undefined;
      if (decision.split && canSplit(db)) {
        recorder.mark(`split at ${decision.atHashHex}`);
        splitting = splitPartition(db, TABLE, target.group, decision.atHashHex).then(
          (children) => {
            recorder.mark('split done');
            if (children !== undefined) charted.splice(0, charted.length, ...children);
          },
          (error: unknown) => recorder.note(`the split failed: ${(error as Error).message}`),
        );
      } else if (decision.split) {
        recorder.note('this build cannot split partitions (no db.splitPartition): the phase after runs on the unsplit partition');
      }
      // The split runs under the load: its own phase, so that "after" starts once it is done.
      await recorder.drive(splitting === undefined
        ? [{ name: 'hot range, no split', seconds: seconds(12), opsPerSec: RATE, op: putHot }]
        : [
          { name: 'splitting', seconds: seconds(4), opsPerSec: RATE, op: putHot },
          { name: 'hot range, after split', seconds: seconds(8), opsPerSec: RATE, op: putHot },
        ]);
      await splitting;

      // Loads a split cannot help, on the partitions as they are now: the policy must say no.
      const policySecs = Math.max(POLICY.sustainSeconds + 2, seconds(7));
      const hotKey = keysInRange('one', target.hashStart, target.hashEnd, 1)[0];
      await refused('one hot key', () => hotKey);
      // Each write a new key above the last (in hash order): the hot spot is always the end.
      const sequential = keysInRange('seq', hotEnd, hashAt(target.hashStart, target.hashEnd, 1 / 2), RATE * policySecs + 100)
        .map((key) => ({ key, hex: partitionHash({ S: key }).toString(16).padStart(16, '0') }))
        .sort((a, b) => (a.hex < b.hex ? -1 : 1))
        .map((k) => k.key);
      await refused('sequential range', (i) => sequential[i % sequential.length]);

      async function refused(name: string, keyOf: (i: number) => string): Promise<void> {
        const observed = new Sampling(await partitionsOf(db, TABLE));
        const put = async (i: number) => {
          const key = keyOf(i);
          await putOne(db, TABLE, key);
          observed.record(key);
        };
        await recorder.drive([{ name, seconds: policySecs, opsPerSec: RATE, op: put }]);
        const verdict = observed.decide(observed.partitionOf(keyOf(0)));
        recorder.note(`policy after "${name}": ${describe(verdict)}`);
        recorder.mark(verdict.split ? `split decided (unexpected): ${verdict.reason}` : `no split: ${verdict.reason}`);
      }
    });
  },
};
