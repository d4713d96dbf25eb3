/**
 * Admission control at the edges the issue names: a provisioned table's burst credit and
 * rate, exact charging, UpdateTable raising the rate, on-demand's initial allowance, and
 * a skewed workload with and without global admission control (GAC).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ShardBox, ShardBoxOptions } from '../../src/index.js';
import { HASH_SPACE, partitionHash } from '../../src/model/hash.js';
import { openCluster } from './helpers.js';

let db: ShardBox | undefined;

afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function open(options: ShardBoxOptions = {}): Promise<ShardBox> {
  db = await openCluster(options);
  return db;
}

async function createTable(d: ShardBox, name: string, throughput?: { read: number; write: number }): Promise<void> {
  await d.createTable({
    TableName: name,
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    ...(throughput === undefined
      ? { BillingMode: 'PAY_PER_REQUEST' as const }
      : { ProvisionedThroughput: { ReadCapacityUnits: throughput.read, WriteCapacityUnits: throughput.write } }),
  });
}

/** An item of about 1 KB that costs exactly one write unit (≤ 1024 bytes). */
function itemOfOneKb(id: string): Record<string, { S: string }> {
  return { id: { S: id }, data: { S: 'x'.repeat(1000 - id.length) } };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Outcomes of settled writes: accepted count, and throttled errors by name. */
function tally(settled: PromiseSettledResult<unknown>[]): { accepted: number; errors: Map<string, number> } {
  const errors = new Map<string, number>();
  let accepted = 0;
  for (const r of settled) {
    if (r.status === 'fulfilled') accepted++;
    else {
      const name = (r.reason as { name?: string }).name ?? 'Error';
      errors.set(name, (errors.get(name) ?? 0) + 1);
    }
  }
  return { accepted, errors };
}

describe('admission control', () => {
  it('a 5 WCU table takes a 3,000-write burst up to its burst credit plus its rate, charges one WCU per write, and never applies a throttled write', async () => {
    const d = await open();
    await createTable(d, 'five', { read: 5, write: 5 });
    const startedMs = performance.now();
    const settled = await Promise.allSettled(Array.from({ length: 3000 }, (_, i) => d.putItem({
      TableName: 'five', Item: itemOfOneKb(`k${i}`), ReturnConsumedCapacity: 'TOTAL',
    })));
    const elapsedS = (performance.now() - startedMs) / 1000;
    const { accepted, errors } = tally(settled);
    // 300 s of 5 WCU is 1,500 units of burst credit; the rate adds 5 a second.
    expect(accepted).toBeGreaterThanOrEqual(1500);
    expect(accepted).toBeLessThanOrEqual(1500 + Math.ceil(5 * elapsedS) + 1);
    expect([...errors.keys()]).toEqual(['ProvisionedThroughputExceededException']);
    expect(errors.get('ProvisionedThroughputExceededException')).toBe(3000 - accepted);
    const rejected = settled.findIndex((r) => r.status === 'rejected');
    const error = (settled[rejected] as PromiseRejectedResult).reason as { message: string; retryable: boolean };
    expect(error.message).toBe('The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.');
    expect(error.retryable).toBe(true);
    // Exactly one WCU per accepted write, in ConsumedCapacity and in the table's bucket.
    for (const r of settled) {
      if (r.status === 'fulfilled') expect(r.value.ConsumedCapacity).toEqual({ TableName: 'five', CapacityUnits: 1 });
    }
    const [table] = (await d.capacity('five')).tables;
    expect(table.consumedWriteUnits).toBe(accepted);
    expect(table.throttledWrites).toBe(3000 - accepted);
    // Rejected before it was proposed: not applied.
    const absent = await d.getItem({ TableName: 'five', Key: { id: { S: `k${rejected}` } }, ConsistentRead: true });
    expect(absent.Item).toBeUndefined();
    const accepted0 = settled.findIndex((r) => r.status === 'fulfilled');
    expect((await d.getItem({ TableName: 'five', Key: { id: { S: `k${accepted0}` } }, ConsistentRead: true })).Item).toBeDefined();

    // Raised to 1,000 WCU, a steady 500 writes a second is never throttled.
    await d.updateTable({ TableName: 'five', ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 1000 } });
    const steady: PromiseSettledResult<unknown>[] = [];
    for (let tick = 0; tick < 20; tick++) {
      const batch = Array.from({ length: 50 }, (_, i) => d.putItem({ TableName: 'five', Item: itemOfOneKb(`s${tick}-${i}`) }));
      steady.push(...await Promise.allSettled([...batch, sleep(100)]));
    }
    expect(tally(steady).errors).toEqual(new Map());
  }, 60_000);

  it('charges a write the larger of the item before and after, and a failed condition too, asked for ConsumedCapacity or not', async () => {
    const d = await open();
    await createTable(d, 'sized', { read: 1000, write: 1000 });
    const big = { id: { S: 'big' }, data: { S: 'x'.repeat(3500) } }; // 4 write units
    const consumed = async () => (await d.capacity('sized')).tables[0].consumedWriteUnits;
    await d.putItem({ TableName: 'sized', Item: big });
    expect(await consumed()).toBe(4);
    // A small item over the big one costs what the big one did, as ConsumedCapacity says.
    await d.putItem({ TableName: 'sized', Item: { id: { S: 'big' }, data: { S: 'small' } } });
    expect(await consumed()).toBe(8);
    await d.putItem({ TableName: 'sized', Item: big });
    // Failed conditions: a put, an update and a delete are each charged the existing 4 units.
    const conditionFailed = { name: 'ConditionalCheckFailedException' };
    await expect(d.putItem({ TableName: 'sized', Item: { id: { S: 'big' } }, ConditionExpression: 'attribute_not_exists(id)' })).rejects.toMatchObject(conditionFailed);
    await expect(d.updateItem({ TableName: 'sized', Key: { id: { S: 'big' } }, UpdateExpression: 'SET n = :n', ConditionExpression: 'attribute_not_exists(id)', ExpressionAttributeValues: { ':n': { N: '1' } } })).rejects.toMatchObject(conditionFailed);
    await expect(d.deleteItem({ TableName: 'sized', Key: { id: { S: 'big' } }, ConditionExpression: 'attribute_not_exists(id)' })).rejects.toMatchObject(conditionFailed);
    expect(await consumed()).toBe(12 + 3 * 4);
    // On a missing item a failed condition costs one unit.
    await expect(d.deleteItem({ TableName: 'sized', Key: { id: { S: 'none' } }, ConditionExpression: 'attribute_exists(id)' })).rejects.toMatchObject(conditionFailed);
    expect(await consumed()).toBe(25);
  });

  it('an on-demand table takes 2,000 writes at once without a throttle', async () => {
    const d = await open();
    await createTable(d, 'ondemand');
    const settled = await Promise.allSettled(Array.from({ length: 2000 }, (_, i) => d.putItem({ TableName: 'ondemand', Item: itemOfOneKb(`k${i}`) })));
    expect(tally(settled)).toEqual({ accepted: 2000, errors: new Map() });
    const [table] = (await d.capacity('ondemand')).tables;
    expect(table.billingMode).toBe('PAY_PER_REQUEST');
    expect(table.writeCapacityUnits).toBe(4000);
    expect(table.consumedWriteUnits).toBe(2000);
  }, 60_000);

  describe('a skewed workload on a 4-partition provisioned table, under its capacity', () => {
    // Keys of the first partition only (4 partitions split the hash space evenly).
    const hotKeys: string[] = [];
    for (let i = 0; hotKeys.length < 400; i++) {
      if (partitionHash({ S: `h${i}` }) < HASH_SPACE / 4n) hotKeys.push(`h${i}`);
    }
    /** 60 writes a second for 3 s to one partition of a 100 WCU table (25 WCU its share). */
    async function skewed(globalAdmission: boolean): Promise<{ accepted: number; errors: Map<string, number> }> {
      const d = await open({ admission: { globalAdmission, burstSeconds: 1 } });
      await createTable(d, 'skew', { read: 100, write: 100 });
      const settled: PromiseSettledResult<unknown>[] = [];
      let next = 0;
      for (let tick = 0; tick < 30; tick++) {
        const batch = Array.from({ length: 6 }, () => d.putItem({ TableName: 'skew', Item: itemOfOneKb(hotKeys[next++]!) }));
        settled.push(...(await Promise.allSettled([...batch, sleep(100)])).slice(0, 6));
      }
      return tally(settled);
    }

    it('is throttled with partition buckets only (GAC off)', async () => {
      const { accepted, errors } = await skewed(false);
      expect(errors.get('ProvisionedThroughputExceededException') ?? 0).toBeGreaterThan(0);
      expect([...errors.keys()]).toEqual(['ProvisionedThroughputExceededException']);
      expect(accepted).toBeLessThan(180);
      const [table] = (await db!.capacity('skew')).tables;
      const hot = table.partitions.find((p) => p.hashStart === '0000000000000000')!;
      expect(hot.writeCapacityUnits).toBe(25);
      expect(hot.throttledWrites).toBe(180 - accepted);
    }, 60_000);

    it('is not throttled with global admission control', async () => {
      expect(await skewed(true)).toEqual({ accepted: 180, errors: new Map() });
      const [table] = (await db!.capacity('skew')).tables;
      expect(table.partitions.find((p) => p.hashStart === '0000000000000000')!.writeCapacityUnits).toBe(100);
    }, 60_000);
  });

  it('batches return throttled writes and reads as unprocessed, and fail with the throttle only when nothing was done', async () => {
    const d = await open({ admission: { burstSeconds: 1 } });
    await createTable(d, 'batched', { read: 1, write: 1 });
    const put = (i: number): { PutRequest: { Item: Record<string, { S: string }> } } => ({ PutRequest: { Item: { id: { S: `b${i}` } } } });
    const first = await d.batchWriteItem({ RequestItems: { batched: Array.from({ length: 25 }, (_, i) => put(i)) }, ReturnConsumedCapacity: 'TOTAL' });
    const unprocessed = first.UnprocessedItems.batched ?? [];
    // 1 unit of credit (1 s of 1 WCU), and another if the batch took a second.
    expect(unprocessed.length).toBeGreaterThanOrEqual(22);
    expect(unprocessed.length).toBeLessThan(25);
    expect(first.ConsumedCapacity).toEqual([{ TableName: 'batched', CapacityUnits: 25 - unprocessed.length }]);
    // Right after, with the credit spent (the next unit is a second away): every write is
    // throttled, so the batch fails.
    const again = d.batchWriteItem({ RequestItems: { batched: Array.from({ length: 25 }, (_, i) => put(100 + i)) } });
    await expect(again).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    const keys = Array.from({ length: 40 }, (_, i) => ({ id: { S: `b${i}` } }));
    const read = await d.batchGetItem({ RequestItems: { batched: { Keys: keys, ConsistentRead: true } } });
    expect(read.UnprocessedKeys.batched?.Keys.length ?? 0).toBeGreaterThan(0);
  }, 60_000);

  it('a global index has capacity of its own: its writes are charged to it, and the table is throttled while it has none left', async () => {
    const d = await open({ admission: { burstSeconds: 1 } });
    await d.createTable({
      TableName: 'indexed',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }, { AttributeName: 'g', AttributeType: 'S' }],
      ProvisionedThroughput: { ReadCapacityUnits: 100, WriteCapacityUnits: 100 },
      GlobalSecondaryIndexes: [{
        IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' },
        ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 2 },
      }],
    });
    // Items without the index key are not in the index: they cost it nothing.
    const sparse = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => d.putItem({ TableName: 'indexed', Item: { id: { S: `n${i}` } } })));
    expect(tally(sparse).accepted).toBe(20);
    // Each indexed write costs the index a unit: its 2 units (1 s of 2 WCU) go, then the table is throttled.
    const first = await d.putItem({ TableName: 'indexed', Item: { id: { S: 'i0' }, g: { S: 'x' } }, ReturnConsumedCapacity: 'INDEXES' });
    expect(first.ConsumedCapacity).toMatchObject({ CapacityUnits: 2, Table: { CapacityUnits: 1 }, GlobalSecondaryIndexes: { byG: { CapacityUnits: 1 } } });
    const settled: PromiseSettledResult<unknown>[] = [];
    for (let i = 1; i < 10; i++) settled.push(...await Promise.allSettled([d.putItem({ TableName: 'indexed', Item: { id: { S: `i${i}` }, g: { S: 'x' } } })]));
    expect(tally(settled).errors.get('ProvisionedThroughputExceededException') ?? 0).toBeGreaterThan(0);
    const report = (await d.capacity('indexed')).tables;
    expect(report.map((t) => t.table)).toEqual(['indexed', 'indexed/index/byG']);
    expect(report[1]).toMatchObject({ writeCapacityUnits: 2, consumedWriteUnits: 1 + tally(settled).accepted });
    expect(report[1].partitions).toHaveLength(4);
  }, 60_000);

  it('admission: false throttles nothing and reports no capacity', async () => {
    const d = await open({ admission: false });
    await createTable(d, 'off', { read: 1, write: 1 });
    const settled = await Promise.allSettled(Array.from({ length: 600 }, (_, i) => d.putItem({ TableName: 'off', Item: itemOfOneKb(`k${i}`) })));
    expect(tally(settled).accepted).toBe(600);
    expect(await d.capacity()).toEqual({ admission: false, globalAdmission: false, tables: [] });
  }, 60_000);
});
