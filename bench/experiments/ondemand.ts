/**
 * `ondemand`: an on-demand table written at a steady rate (its peak so far), then at twice
 * that, then at twice that again: each step up is served without throttling.
 */
import type { Experiment } from './experiment.js';
import { putOne, withCluster } from './experiment.js';
import { capacityOf, openCluster, tableInput } from './glue.js';

const BASE_RATE = 200;
const TABLE = 'ondemand';

export const ondemand: Experiment = {
  name: 'ondemand',
  title: 'On-demand: traffic that doubles its previous peak is not throttled',
  claim: 'An on-demand table serves up to twice its previous peak at once, without throttling; partitions split behind it to keep up.',
  async run({ recorder, seconds }) {
    await withCluster(() => openCluster({}), async (db) => {
      await db.createTable(tableInput(TABLE, { mode: 'PAY_PER_REQUEST' }));
      recorder.note(`table ${TABLE}: PAY_PER_REQUEST; 900-byte puts over 100,000 keys`);
      recorder.extraEachSecond = () => capacityOf(db, TABLE, [], ['table WCU', 'table consumed WCU/s']);
      const put = (i: number) => putOne(db, TABLE, `user${(i * 7919) % 100_000}`);
      await recorder.drive([
        { name: `peak ${BASE_RATE}/s`, seconds: seconds(10), opsPerSec: BASE_RATE, op: put },
        { name: `2× peak`, seconds: seconds(10), opsPerSec: BASE_RATE * 2, op: put },
        { name: `4× first peak`, seconds: seconds(10), opsPerSec: BASE_RATE * 4, op: put },
      ]);
      // Read once the table has traffic (admission control learns of a new table's traffic on its next second).
      const after = await capacityOf(db, TABLE);
      if (after?.['table WCU'] !== undefined) {
        recorder.note(`capacity at the end: ${after['table WCU']} WCU (twice the peak so far, and at least DynamoDB's initial on-demand 4,000 WCU, so these rates stay within it)`);
      }
    });
  },
};
