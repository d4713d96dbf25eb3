import { afterEach, describe, expect, it } from 'vitest';
import type { CreateTableInput } from '../../src/api-types.js';
import type { ShardBox } from '../../src/index.js';
import { openCluster } from './helpers.js';

let db: ShardBox | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const TABLE: CreateTableInput = {
  TableName: 'people',
  KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }, { AttributeName: 'city', AttributeType: 'S' }],
  BillingMode: 'PAY_PER_REQUEST',
  GlobalSecondaryIndexes: [{ IndexName: 'byCity', KeySchema: [{ AttributeName: 'city', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
};

const byCity = (city: string) => ({ TableName: 'people', IndexName: 'byCity', KeyConditionExpression: 'city = :c', ExpressionAttributeValues: { ':c': { S: city } } });

describe('reads of a global index right after writes', () => {
  it('a Query or Scan of a global index sees every write acknowledged before it, time after time', async () => {
    db = await openCluster({ partitions: 4 });
    await db.createTable(TABLE);
    // The propagator's first contact with the table's new groups (leaders still being
    // found) may take longer than a read waits on a busy machine: let it happen first.
    await db.putItem({ TableName: 'people', Item: { id: { S: 'warm' }, city: { S: 'warm' } } });
    for (let tries = 0; (await db.query(byCity('warm'))).Count === 0; tries++) {
      expect(tries, 'the first write reaches the index').toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (let i = 0; i < 40; i++) {
      await db.putItem({ TableName: 'people', Item: { id: { S: `p${i}` }, city: { S: `c${i}` } } });
      const found = await db.query(byCity(`c${i}`));
      expect(found.Items, `query after put ${i}`).toEqual([{ id: { S: `p${i}` }, city: { S: `c${i}` } }]);
      // Moving the item to another index key: gone from the old one, in the new one.
      await db.updateItem({ TableName: 'people', Key: { id: { S: `p${i}` } }, UpdateExpression: 'SET city = :c', ExpressionAttributeValues: { ':c': { S: 'moved' } } });
      expect((await db.query(byCity(`c${i}`))).Count, `old key after update ${i}`).toBe(0);
      expect((await db.query(byCity('moved'))).Count, `new key after update ${i}`).toBe(i + 1);
    }
    const scanned = await db.scan({ TableName: 'people', IndexName: 'byCity' });
    expect(scanned.Count).toBe(41);
    await db.deleteItem({ TableName: 'people', Key: { id: { S: 'p0' } } });
    expect((await db.scan({ TableName: 'people', IndexName: 'byCity' })).Count).toBe(40);
  }, 60_000);

  it('a read of a global index waits only a bounded time when a base partition has no leader', async () => {
    db = await openCluster({ partitions: 1 });
    await db.createTable(TABLE);
    await db.putItem({ TableName: 'people', Item: { id: { S: 'p1' }, city: { S: 'oslo' } } });
    expect((await db.query(byCity('oslo'))).Count).toBe(1);
    // Two of three nodes down: no quorum, so neither the propagator nor a probe reaches a
    // leader; the index's surviving replica still serves eventually consistent reads.
    await db.faults.kill(1);
    await db.faults.kill(2);
    const found = await db.query(byCity('oslo'));
    expect(found.Items).toEqual([{ id: { S: 'p1' }, city: { S: 'oslo' } }]);
    await db.faults.restart(1);
    await db.faults.restart(2);
  }, 60_000);
});
