/**
 * Item collections end to end: a table with a local index under a small
 * itemCollectionLimitBytes, ReturnItemCollectionMetrics, and what BatchWriteItem counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CreateTableInput, Item } from '../../src/api-types.js';
import type { ShardBox } from '../../src/index.js';
import { DynamoDBError } from '../../src/model/errors.js';
import { sizeEstimateRangeGB } from '../../src/api/indexes.js';
import { ITEM_COLLECTION_TOO_LARGE_MESSAGE } from '../../src/storage/indexes.js';
import { expectDynamoError, openCluster } from './helpers.js';

let db: ShardBox | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const TABLE: CreateTableInput = {
  TableName: 'events',
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' }, { AttributeName: 'ls', AttributeType: 'N' }],
  BillingMode: 'PAY_PER_REQUEST',
  LocalSecondaryIndexes: [{ IndexName: 'byLs', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'ls', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }],
};

const item = (pk: string, sk: number, bytes: number): Item => ({ pk: { S: pk }, sk: { N: String(sk) }, ls: { N: String(sk) }, v: { S: 'x'.repeat(bytes) } });

describe('item collections', () => {
  it('a write that would grow a collection past the limit fails, is not applied, and is not retryable', async () => {
    // Each ~1 KB item weighs about 2.2 KB in its collection (the item and its ALL entry).
    db = await openCluster({ partitions: 2, itemCollectionLimitBytes: 8000 });
    await db.createTable(TABLE);
    let written = 0;
    let refused: unknown;
    for (let sk = 0; sk < 10 && refused === undefined; sk++) {
      try {
        await db.putItem({ TableName: 'events', Item: item('a', sk, 1000) });
        written++;
      } catch (error) {
        refused = error;
      }
    }
    expect(written).toBe(3);
    expect(refused).toBeInstanceOf(DynamoDBError);
    expect((refused as DynamoDBError).name).toBe('ItemCollectionSizeLimitExceededException');
    expect((refused as DynamoDBError).message).toBe(ITEM_COLLECTION_TOO_LARGE_MESSAGE);
    expect((refused as DynamoDBError).retryable).toBe(false);
    const missing = await db.getItem({ TableName: 'events', Key: { pk: { S: 'a' }, sk: { N: '3' } }, ConsistentRead: true });
    expect(missing.Item).toBeUndefined();
    const inIndex = await db.query({ TableName: 'events', IndexName: 'byLs', ConsistentRead: true, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'a' } } });
    expect(inIndex.Count).toBe(3);

    // Growing an item of the full collection is refused too; BatchWriteItem fails alike.
    await expectDynamoError(db.updateItem({
      TableName: 'events', Key: { pk: { S: 'a' }, sk: { N: '0' } }, UpdateExpression: 'SET w = :w', ExpressionAttributeValues: { ':w': { S: 'y'.repeat(2000) } },
    }), 'ItemCollectionSizeLimitExceededException', ITEM_COLLECTION_TOO_LARGE_MESSAGE);
    await expectDynamoError(db.batchWriteItem({ RequestItems: { events: [{ PutRequest: { Item: item('a', 7, 1000) } }] } }),
      'ItemCollectionSizeLimitExceededException');
    // Another collection takes writes; a shrinking write to the full one is allowed, and frees room.
    await db.putItem({ TableName: 'events', Item: item('b', 0, 1000) });
    await db.deleteItem({ TableName: 'events', Key: { pk: { S: 'a' }, sk: { N: '1' } } });
    await db.putItem({ TableName: 'events', Item: item('a', 5, 1000) });
  });

  it('ReturnItemCollectionMetrics SIZE reports the collection and its size range', async () => {
    db = await openCluster({ partitions: 2 });
    await db.createTable(TABLE);
    const put = await db.putItem({ TableName: 'events', Item: item('a', 1, 100), ReturnItemCollectionMetrics: 'SIZE' });
    expect(put.ItemCollectionMetrics).toEqual({ ItemCollectionKey: { pk: { S: 'a' } }, SizeEstimateRangeGB: [0, 1] });
    const updated = await db.updateItem({
      TableName: 'events', Key: { pk: { S: 'a' }, sk: { N: '1' } }, UpdateExpression: 'SET w = :w', ExpressionAttributeValues: { ':w': { S: 'y' } }, ReturnItemCollectionMetrics: 'SIZE',
    });
    expect(updated.ItemCollectionMetrics).toEqual({ ItemCollectionKey: { pk: { S: 'a' } }, SizeEstimateRangeGB: [0, 1] });
    const none = await db.putItem({ TableName: 'events', Item: item('a', 2, 100), ReturnItemCollectionMetrics: 'NONE' });
    expect(none.ItemCollectionMetrics).toBeUndefined();
    const batch = await db.batchWriteItem({
      RequestItems: { events: [{ PutRequest: { Item: item('c', 1, 10) } }, { DeleteRequest: { Key: { pk: { S: 'a' }, sk: { N: '1' } } } }] },
      ReturnItemCollectionMetrics: 'SIZE',
    });
    expect(batch.ItemCollectionMetrics).toEqual({
      events: [{ ItemCollectionKey: { pk: { S: 'c' } }, SizeEstimateRangeGB: [0, 1] }, { ItemCollectionKey: { pk: { S: 'a' } }, SizeEstimateRangeGB: [0, 1] }],
    });
  });

  it('SizeEstimateRangeGB is the whole gigabytes around the size', () => {
    const GiB = 1024 ** 3;
    expect(sizeEstimateRangeGB(0)).toEqual([0, 1]);
    expect(sizeEstimateRangeGB(GiB - 1)).toEqual([0, 1]);
    expect(sizeEstimateRangeGB(GiB)).toEqual([1, 2]);
    expect(sizeEstimateRangeGB(9.5 * GiB)).toEqual([9, 10]);
  });

  it("BatchWriteItem's ConsumedCapacity counts what each write cost the indexes, as single writes do", async () => {
    db = await openCluster({ partitions: 2 });
    await db.createTable(TABLE);
    const single = await db.putItem({ TableName: 'events', Item: item('s', 1, 1500), ReturnConsumedCapacity: 'INDEXES' });
    // 1.5 KB: 2 units for the table, 2 for the ALL-projected local index entry.
    expect(single.ConsumedCapacity).toEqual({ TableName: 'events', CapacityUnits: 4, Table: { CapacityUnits: 2 }, LocalSecondaryIndexes: { byLs: { CapacityUnits: 2 } } });
    const indexes = await db.batchWriteItem({
      RequestItems: { events: [{ PutRequest: { Item: item('a', 1, 1500) } }, { PutRequest: { Item: item('b', 1, 100) } }] },
      ReturnConsumedCapacity: 'INDEXES',
    });
    expect(indexes.ConsumedCapacity).toEqual([{ TableName: 'events', CapacityUnits: 6, Table: { CapacityUnits: 3 }, LocalSecondaryIndexes: { byLs: { CapacityUnits: 3 } } }]);
    const total = await db.batchWriteItem({
      RequestItems: { events: [{ DeleteRequest: { Key: { pk: { S: 'a' }, sk: { N: '1' } } } }] },
      ReturnConsumedCapacity: 'TOTAL',
    });
    expect(total.ConsumedCapacity).toEqual([{ TableName: 'events', CapacityUnits: 4 }]);
  });
});
