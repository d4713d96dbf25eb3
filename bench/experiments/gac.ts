/**
 * `gac`: a provisioned table of 400 WCU over four partitions (100 each), written at 300/s
 * with 70% of the writes on one partition's keys: that partition gets ~230/s, more than
 * its share, while the table stays under its capacity. First with partition buckets only
 * (the hot partition is throttled), then with global admission control (the table's
 * unused capacity serves it).
 */
import type { Experiment } from './experiment.js';
import { keysInRange, putOne, withCluster } from './experiment.js';
import { capacityOf, openCluster, partitionsOf, tableInput } from './glue.js';

const WRITE_UNITS = 400;
const PARTITIONS = 4;
const RATE = 300;
const HOT_SHARE = 0.7;
/** Burst credit kept: 1 s, so that the hot partition's credit does not hide its share. */
const BURST_SECONDS = 1;
const TABLE = 'gac';

export const gac: Experiment = {
  name: 'gac',
  title: 'Global admission control: a skewed workload gets its table\'s capacity',
  claim:
    'With a bucket per partition only, a partition that gets more than its share of a provisioned table is throttled although the table '
    + 'is under its capacity; global admission control lets it use the capacity the other partitions leave unused.',
  async run({ recorder, seconds }) {
    for (const globalAdmission of [false, true]) {
      const name = globalAdmission ? 'skewed, with GAC' : 'skewed, partition buckets only';
      await withCluster(() => openCluster({ partitions: PARTITIONS }, { globalAdmission, burstSeconds: BURST_SECONDS }), async (db) => {
        await db.createTable(tableInput(TABLE, { mode: 'PROVISIONED', readUnits: WRITE_UNITS, writeUnits: WRITE_UNITS }));
        const partitions = await partitionsOf(db, TABLE);
        const hot = keysInRange('hot', partitions[0].hashStart, partitions[0].hashEnd, 2000);
        if (!globalAdmission) {
          recorder.note(`table ${TABLE}: PROVISIONED, ${WRITE_UNITS} WCU over ${PARTITIONS} partitions; ${RATE} puts/s, ${HOT_SHARE * 100}% on partition 0 (about ${Math.round(RATE * (HOT_SHARE + (1 - HOT_SHARE) / PARTITIONS))}/s against its ${WRITE_UNITS / PARTITIONS} WCU share); ${BURST_SECONDS} s of burst credit`);
        }
        recorder.extraEachSecond = () => capacityOf(db, TABLE, [partitions[0].group]);
        // A fixed pattern, not random draws: 7 in 10 writes hot, the rest spread by hash.
        const put = (i: number) => putOne(db, TABLE, i % 10 < HOT_SHARE * 10 ? hot[i % hot.length] : `cold${i}`);
        await recorder.drive([{ name, seconds: seconds(15), opsPerSec: RATE, op: put }]);
      });
    }
  },
};
