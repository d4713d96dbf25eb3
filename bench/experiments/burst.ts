/**
 * `burst`: a provisioned table of 100 WCU on one partition, written at half its rate
 * (the unused half accrues as burst credit), then a short spike to 2.5× its rate (served
 * from the credit), a rest, then a long spike at the same rate (the credit runs out and
 * the partition is throttled down to its provisioned rate).
 */
import type { Experiment } from './experiment.js';
import { putOne, withCluster } from './experiment.js';
import { capacityOf, openCluster, partitionsOf, tableInput } from './glue.js';

const WRITE_UNITS = 100;
/** Burst credit kept: 5 s of the rate instead of DynamoDB's 300 s, so that the long spike
 *  outlasts it within a short run (the short one, 3 s at 1.5× over, fits in it). */
const BURST_SECONDS = 5;
const TABLE = 'burst';

export const burst: Experiment = {
  name: 'burst',
  title: 'Bursting: a short spike rides on burst credit, a long one is throttled',
  claim:
    'A partition keeps unused capacity (up to 300 seconds of it) as burst credit: a short spike above the provisioned rate is served from it; '
    + 'a spike that outlasts the credit is throttled down to the provisioned rate.',
  async run({ recorder, seconds }) {
    await withCluster(() => openCluster({ partitions: 1 }, { burstSeconds: BURST_SECONDS }), async (db) => {
      await db.createTable(tableInput(TABLE, { mode: 'PROVISIONED', readUnits: WRITE_UNITS, writeUnits: WRITE_UNITS }));
      recorder.note(`table ${TABLE}: PROVISIONED, ${WRITE_UNITS} WCU on one partition, ${BURST_SECONDS} s of burst credit (${BURST_SECONDS * WRITE_UNITS} WCU); 900-byte puts (1 WCU each)`);
      const [partition] = await partitionsOf(db, TABLE);
      // The table's rate and consumption, and the partition's credit (on one partition the
      // table's and the partition's consumption are the same line).
      recorder.extraEachSecond = () => capacityOf(db, TABLE, [partition.group], ['table WCU', 'table consumed WCU/s', `partition ${partition.group} burst credit`]);
      let n = 0;
      const put = () => putOne(db, TABLE, `k${n++ % 10_000}`);
      await recorder.drive([
        { name: 'half rate', seconds: seconds(12), opsPerSec: WRITE_UNITS / 2, op: put },
        { name: 'short spike', seconds: seconds(3), opsPerSec: WRITE_UNITS * 2.5, op: put },
        { name: 'rest', seconds: seconds(10), opsPerSec: WRITE_UNITS / 2, op: put },
        { name: 'long spike', seconds: seconds(15), opsPerSec: WRITE_UNITS * 2.5, op: put },
      ]);
    });
  },
};
