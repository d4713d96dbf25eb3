/**
 * `split`: an on-demand table whose writes go to a narrow hash range of one partition at
 * more than a partition may take (1,000 WCU): throttled, until the cluster's own partition
 * management (src/control/partition-manager.ts) sees the leader's sampled load sustained
 * above its share of the node and splits the partition online at the point that halves
 * it; p99 and throttling before, during and after. Then the same rate on one key, and on
 * keys that each land above the last (a sequential range): the cluster records why it
 * does not split (no hash point separates one key; a split of a sequential range would
 * only move its hot end), and splits nothing.
 */
import { setInterval as every } from 'node:timers';
import type { ShardBox } from '../../src/index.js';
import type { Experiment } from './experiment.js';
import { hashAt, keysInRange, putOne, withCluster } from './experiment.js';
import { capacityOf, openCluster, partitionsOf, tableInput } from './glue.js';
import { partitionHash, hashToHex } from '../../src/model/hash.js';

const TABLE = 'split';
/** Above what one partition may take (1,000 WCU), below what two may. */
const RATE = 1200;
/** Partition management as this experiment runs it: a partition splits once its leader
 *  serves 40% of a 2,000 WCU node (800 WCU/s) for 5 s. */
const ADMISSION = { nodeWriteCapacityUnits: 2000, splitConsumptionShare: 0.4, splitSustainSeconds: 5 };

export const split: Experiment = {
  name: 'split',
  title: 'Splits for consumption: a hot range splits where its load halves; one hot key or a sequential range does not',
  claim:
    'A partition whose consumption stays high splits at the point of its observed key distribution that halves the load, so each half takes '
    + 'part of it; when the load is one hot key (no split can separate it) or a sequential range (a split would move the hot end, not spread it), none is made.',
  async run({ recorder, seconds }) {
    await withCluster(() => openCluster({ partitions: 2 }, ADMISSION), async (db: ShardBox) => {
      await db.createTable(tableInput(TABLE, { mode: 'PAY_PER_REQUEST' }));
      const partitions = await partitionsOf(db, TABLE);
      const target = partitions[0];
      /** The partitions whose figures are charted: the hot one, then its children. */
      const charted = [target.group];
      recorder.extraEachSecond = () => capacityOf(db, TABLE, charted);
      // What partition management does, marked on the chart as it happens.
      let seen = 0;
      const watch = every(() => {
        const events = db.partitionEvents();
        for (; seen < events.length; seen++) {
          const e = events[seen];
          recorder.mark(e.kind === 'split' ? `split of ${e.group} done` : `${e.kind} ${e.group}: ${e.detail.split(':')[0]}`);
          recorder.note(`partition management: ${e.kind} of group ${e.group}: ${e.detail}`);
        }
      }, 250);
      try {
        // The first eighth of partition 0's range: a split in the middle of the range would leave all of it on one side.
        const hotEnd = hashAt(target.hashStart, target.hashEnd, 1 / 8);
        const hot = keysInRange('hot', target.hashStart, hotEnd, 2000);
        recorder.note(`table ${TABLE}: PAY_PER_REQUEST, ${partitions.length} partitions; ${RATE} puts/s on 2,000 keys in [${target.hashStart}, ${hotEnd}], the first eighth of partition ${target.group}; a partition splits after ${ADMISSION.splitSustainSeconds} s above ${ADMISSION.splitConsumptionShare * ADMISSION.nodeWriteCapacityUnits} WCU/s`);
        const putHot = (i: number) => putOne(db, TABLE, hot[(i * 7919) % hot.length]);
        const sustain = ADMISSION.splitSustainSeconds;
        // A warm-up over the whole table, then the hot range until the split (sustain time,
        // a pass of the manager, the split itself), then after it.
        await recorder.drive([
          { name: 'warm-up', seconds: seconds(4), opsPerSec: RATE / 2, op: (i) => putOne(db, TABLE, `warm${i}`) },
          { name: 'hot range, until split', seconds: sustain + 5, opsPerSec: RATE, op: putHot },
        ]);
        const children = (await partitionsOf(db, TABLE)).filter((p) => p.group !== partitions[1].group).map((p) => p.group);
        if (!children.includes(target.group)) charted.splice(0, charted.length, ...children);
        else recorder.note(`no split of partition ${target.group} within ${sustain + 5} s of the hot range`);
        await recorder.drive([{ name: 'hot range, after split', seconds: seconds(8), opsPerSec: RATE, op: putHot }]);

        // Loads a split cannot help, on the partitions as they are now: none must split.
        const loadSecs = Math.max(sustain + 4, seconds(7));
        const hotKey = keysInRange('one', hotEnd, hashAt(target.hashStart, target.hashEnd, 1 / 2), 1)[0];
        await recorder.drive([{ name: 'one hot key', seconds: loadSecs, opsPerSec: RATE, op: () => putOne(db, TABLE, hotKey) }]);
        // Each write a new key above the last (in hash order): the hot spot is always the end.
        const sequential = keysInRange('seq', hotEnd, hashAt(target.hashStart, target.hashEnd, 1 / 2), RATE * loadSecs + 100)
          .map((key) => ({ key, hex: hashToHex(partitionHash({ S: key })) }))
          .sort((a, b) => (a.hex < b.hex ? -1 : 1))
          .map((k) => k.key);
        await recorder.drive([{ name: 'sequential range', seconds: loadSecs, opsPerSec: RATE, op: (i) => putOne(db, TABLE, sequential[i % sequential.length]) }]);
        const splits = db.partitionEvents().filter((e) => e.kind === 'split').length;
        recorder.note(`splits in all: ${splits} (${splits === 1 ? 'the hot range only' : 'expected 1: the hot range only'})`);
      } finally {
        clearInterval(watch);
      }
    });
  },
};
