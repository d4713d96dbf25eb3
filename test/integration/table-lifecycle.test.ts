/**
 * Table-level behaviour as DynamoDB shows it: CreateTable's checks in DynamoDB's order,
 * secondary index definitions recorded and described, CREATING/UPDATING/DELETING with
 * options.tableStatusDelayMs, counted ItemCount and TableSizeBytes, time to live.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateTableInput, ShardBox } from '../../src/index.js';
import { itemSize } from '../../src/model/item-size.js';
import { expectDynamoError, openCluster } from './helpers.js';

const STATUS_DELAY_MS = 300;
let db: ShardBox;

beforeAll(async () => {
  db = await openCluster({ partitions: 2, tableStatusDelayMs: STATUS_DELAY_MS });
});

afterAll(async () => {
  await db?.close();
});

function hashTable(name: string): CreateTableInput {
  return {
    TableName: name,
    KeySchema: [{ AttributeName: 'a', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'a', AttributeType: 'S' }],
    ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
  };
}

async function statusOf(name: string): Promise<string> {
  return (await db.describeTable({ TableName: name })).Table.TableStatus;
}

async function waitForStatus(name: string, status: string): Promise<void> {
  for (let i = 0; i < 100 && (await statusOf(name)) !== status; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await statusOf(name)).toBe(status);
}

async function waitUntilGone(name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await db.describeTable({ TableName: name });
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await expectDynamoError(db.describeTable({ TableName: name }), 'ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`);
}

describe('table status', () => {
  it('goes CREATING → ACTIVE, refusing item operations and changes until ACTIVE', async () => {
    const created = (await db.createTable(hashTable('life'))).TableDescription;
    expect(created.TableStatus).toBe('CREATING');
    expect(await statusOf('life')).toBe('CREATING');
    await expectDynamoError(db.putItem({ TableName: 'life', Item: { a: { S: 'x' } } }), 'ResourceNotFoundException');
    await expectDynamoError(db.deleteTable({ TableName: 'life' }), 'ResourceInUseException',
      'Attempt to change a resource which is still in use: Table is being created: life');
    await expectDynamoError(db.createTable(hashTable('life')), 'ResourceInUseException', 'Table already exists: life');
    await waitForStatus('life', 'ACTIVE');
    await db.putItem({ TableName: 'life', Item: { a: { S: 'x' } } });
  });

  it('answers UpdateTable UPDATING with the table as it was, then applies the change', async () => {
    await db.createTable(hashTable('upd'));
    await waitForStatus('upd', 'ACTIVE');
    const before = Date.now();
    const answer = (await db.updateTable({ TableName: 'upd', ProvisionedThroughput: { ReadCapacityUnits: 3, WriteCapacityUnits: 3 } })).TableDescription;
    expect(answer.TableStatus).toBe('UPDATING');
    expect(answer.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 1, WriteCapacityUnits: 1 });
    const requestedAt = answer.ProvisionedThroughput.LastIncreaseDateTime!.getTime();
    expect(requestedAt).toBeGreaterThanOrEqual(before);
    expect(await statusOf('upd')).toBe('UPDATING');
    await expectDynamoError(db.updateTable({ TableName: 'upd', ProvisionedThroughput: { ReadCapacityUnits: 4, WriteCapacityUnits: 4 } }),
      'ResourceInUseException', 'Attempt to change a resource which is still in use: Table is being updated: upd');
    await waitForStatus('upd', 'ACTIVE');
    const after = (await db.describeTable({ TableName: 'upd' })).Table.ProvisionedThroughput;
    expect(after).toMatchObject({ ReadCapacityUnits: 3, WriteCapacityUnits: 3 });
    // The increase is dated when it took effect, as DynamoDB reports it once ACTIVE.
    expect(after.LastIncreaseDateTime!.getTime()).toBeGreaterThan(requestedAt);
  });

  it('goes DELETING, without its indexes, then disappears', async () => {
    await db.createTable({
      ...hashTable('gone'),
      GlobalSecondaryIndexes: [{
        IndexName: 'byA', KeySchema: [{ AttributeName: 'a', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' },
        ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
      }],
    });
    await waitForStatus('gone', 'ACTIVE');
    const deleting = (await db.deleteTable({ TableName: 'gone' })).TableDescription;
    expect(deleting.TableStatus).toBe('DELETING');
    expect(deleting.GlobalSecondaryIndexes).toBeUndefined();
    expect(await statusOf('gone')).toBe('DELETING');
    // Deleting it again is no error, as DynamoDB's reference says.
    expect((await db.deleteTable({ TableName: 'gone' })).TableDescription.TableStatus).toBe('DELETING');
    expect((await db.listTables({})).TableNames).not.toContain('gone');
    await expectDynamoError(db.getItem({ TableName: 'gone', Key: { a: { S: 'x' } } }), 'ResourceNotFoundException');
    await waitUntilGone('gone');
  });
});

describe('CreateTable checks', () => {
  it('checks the request before looking at existing tables', async () => {
    await db.createTable(hashTable('exists'));
    // Invalid and naming an existing table: the request's error, not ResourceInUseException.
    await expectDynamoError(db.createTable({ ...hashTable('exists'), AttributeDefinitions: [] }), 'ValidationException',
      'Invalid KeySchema: Some index key attribute have no definition');
    await expectDynamoError(db.createTable({ TableName: 'exists' } as CreateTableInput), 'ValidationException',
      "2 validation errors detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null; "
      + "Value null at 'keySchema' failed to satisfy constraint: Member must not be null");
  });

  it('checks the table name first, alone', async () => {
    await expectDynamoError(db.createTable({} as CreateTableInput), 'ValidationException', "The parameter 'TableName' is required but was not present in the request");
    await expectDynamoError(db.createTable({ TableName: 'ab' } as CreateTableInput), 'ValidationException',
      'TableName must be at least 3 characters long and at most 255 characters long');
    await expectDynamoError(db.describeTable({ TableName: 'x'.repeat(256) }), 'ValidationException',
      'TableName must be at least 3 characters long and at most 255 characters long');
  });

  it('lists index shape errors with the others, at most ten', async () => {
    const request = {
      ...hashTable('shapes'),
      KeySchema: [{ AttributeName: 'a', KeyType: 'HASH' }, { AttributeName: 'b', KeyType: 'RANGE' }],
      AttributeDefinitions: [{ AttributeName: 'a', AttributeType: 'S' }, { AttributeName: 'b', AttributeType: 'S' }],
      LocalSecondaryIndexes: Array.from({ length: 9 }, () => ({})),
    } as unknown as CreateTableInput;
    try {
      await db.createTable(request);
      expect.unreachable();
    } catch (e) {
      const message = (e as Error).message;
      expect(message.startsWith('10 validation errors detected: ')).toBe(true);
      expect(message).toContain("Value null at 'localSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must not be null");
      expect(message).toContain("Value null at 'localSecondaryIndexes.4.member.indexName'");
      expect(message).not.toContain('localSecondaryIndexes.5.');
    }
  });

  it('applies the index rules in DynamoDB order', async () => {
    const base = {
      ...hashTable('idx'),
      KeySchema: [{ AttributeName: 'a', KeyType: 'HASH' }, { AttributeName: 'b', KeyType: 'RANGE' }],
      AttributeDefinitions: [{ AttributeName: 'a', AttributeType: 'S' }, { AttributeName: 'b', AttributeType: 'S' }, { AttributeName: 'c', AttributeType: 'N' }],
    } as CreateTableInput;
    const lsi = (name: string, range: string, projection: object = { ProjectionType: 'ALL' }): object => ({
      IndexName: name, KeySchema: [{ AttributeName: 'a', KeyType: 'HASH' }, { AttributeName: range, KeyType: 'RANGE' }], Projection: projection,
    });
    const create = (extra: object): Promise<unknown> => db.createTable({ ...base, ...extra } as CreateTableInput);
    await expectDynamoError(create({ LocalSecondaryIndexes: [] }), 'ValidationException', 'One or more parameter values were invalid: List of LocalSecondaryIndexes is empty');
    await expectDynamoError(create({ LocalSecondaryIndexes: [lsi('lsi1', 'd')] }), 'ValidationException',
      'One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [a, d], AttributeDefinitions: [a, b, c]');
    await expectDynamoError(create({ LocalSecondaryIndexes: [lsi('lsi1', 'c', {})] }), 'ValidationException', 'One or more parameter values were invalid: Unknown ProjectionType: null');
    await expectDynamoError(create({ LocalSecondaryIndexes: [lsi('lsi1', 'c', { ProjectionType: 'ALL', NonKeyAttributes: ['x'] })] }), 'ValidationException',
      'One or more parameter values were invalid: ProjectionType is ALL, but NonKeyAttributes is specified');
    await expectDynamoError(create({ LocalSecondaryIndexes: [lsi('lsi1', 'c'), lsi('lsi1', 'c')] }), 'ValidationException',
      'One or more parameter values were invalid: Duplicate index name: lsi1');
    await expectDynamoError(create({ LocalSecondaryIndexes: ['lsi1', 'lsi2', 'lsi3', 'lsi4', 'lsi5', 'lsi6'].map((n) => lsi(n, 'c')) }), 'ValidationException',
      'One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5');
    await expectDynamoError(create({
      GlobalSecondaryIndexes: [{ IndexName: 'gsi1', KeySchema: [{ AttributeName: 'c', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
    }), 'ValidationException', 'One or more parameter values were invalid: ProvisionedThroughput must be specified for index: gsi1');
    await expectDynamoError(create({ LocalSecondaryIndexes: [lsi('lsi1', 'b')] }), 'ValidationException',
      'One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [a, b, c], keys used: [a, b]');
  });

  it('records valid index definitions and describes them', async () => {
    const created = (await db.createTable({
      TableName: 'withIdx',
      KeySchema: [{ AttributeName: 'a', KeyType: 'HASH' }, { AttributeName: 'b', KeyType: 'RANGE' }],
      AttributeDefinitions: [{ AttributeName: 'a', AttributeType: 'S' }, { AttributeName: 'b', AttributeType: 'S' }, { AttributeName: 'c', AttributeType: 'N' }],
      BillingMode: 'PAY_PER_REQUEST',
      LocalSecondaryIndexes: [{
        IndexName: 'byC', KeySchema: [{ AttributeName: 'a', KeyType: 'HASH' }, { AttributeName: 'c', KeyType: 'RANGE' }],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['x'] },
      }],
      GlobalSecondaryIndexes: [{
        IndexName: 'byCOnly', KeySchema: [{ AttributeName: 'c', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' },
      }],
    })).TableDescription;
    expect(created.TableStatus).toBe('CREATING');
    expect(created.BillingModeSummary).toEqual({ BillingMode: 'PAY_PER_REQUEST' });
    expect(created.TableThroughputModeSummary).toEqual({ TableThroughputMode: 'PAY_PER_REQUEST' });
    expect(created.GlobalSecondaryIndexes?.[0]).toMatchObject({ IndexName: 'byCOnly', IndexStatus: 'CREATING' });
    await waitForStatus('withIdx', 'ACTIVE');
    const table = (await db.describeTable({ TableName: 'withIdx' })).Table;
    expect(table.LocalSecondaryIndexes).toEqual([{
      IndexName: 'byC',
      KeySchema: [{ AttributeName: 'a', KeyType: 'HASH' }, { AttributeName: 'c', KeyType: 'RANGE' }],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['x'] },
      IndexSizeBytes: 0,
      ItemCount: 0,
      IndexArn: 'arn:aws:dynamodb:local:000000000000:table/withIdx/index/byC',
    }]);
    expect(table.GlobalSecondaryIndexes).toEqual([{
      IndexName: 'byCOnly',
      KeySchema: [{ AttributeName: 'c', KeyType: 'HASH' }],
      Projection: { ProjectionType: 'KEYS_ONLY' },
      IndexStatus: 'ACTIVE',
      ProvisionedThroughput: { NumberOfDecreasesToday: 0, ReadCapacityUnits: 0, WriteCapacityUnits: 0 },
      IndexSizeBytes: 0,
      ItemCount: 0,
      IndexArn: 'arn:aws:dynamodb:local:000000000000:table/withIdx/index/byCOnly',
    }]);
    // Provisioned again, its GSI needs throughput in the same request.
    const throughput = { ReadCapacityUnits: 2, WriteCapacityUnits: 2 };
    await expectDynamoError(db.updateTable({ TableName: 'withIdx', BillingMode: 'PROVISIONED', ProvisionedThroughput: throughput }), 'ValidationException',
      'One or more parameter values were invalid: ProvisionedThroughput must be specified for index: byCOnly');
    await db.updateTable({
      TableName: 'withIdx', BillingMode: 'PROVISIONED', ProvisionedThroughput: throughput,
      GlobalSecondaryIndexUpdates: [{ Update: { IndexName: 'byCOnly', ProvisionedThroughput: throughput } }],
    });
    await waitForStatus('withIdx', 'ACTIVE');
    expect((await db.describeTable({ TableName: 'withIdx' })).Table.GlobalSecondaryIndexes?.[0]?.ProvisionedThroughput)
      .toMatchObject({ NumberOfDecreasesToday: 0, ...throughput });
    // On demand again, its index shows zeros as the table does.
    await db.updateTable({ TableName: 'withIdx', BillingMode: 'PAY_PER_REQUEST' });
    await waitForStatus('withIdx', 'ACTIVE');
    expect((await db.describeTable({ TableName: 'withIdx' })).Table.GlobalSecondaryIndexes?.[0]?.ProvisionedThroughput)
      .toMatchObject({ ReadCapacityUnits: 0, WriteCapacityUnits: 0 });
  });
});

describe('UpdateTable GlobalSecondaryIndexUpdates', () => {
  it('checks the updates, then the table, then the indexes named', async () => {
    await expectDynamoError(db.updateTable({ TableName: 'nosuch', GlobalSecondaryIndexUpdates: [{}] }), 'ValidationException',
      'One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null');
    await expectDynamoError(db.updateTable({ TableName: 'nosuch', GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'abc' } }, { Delete: { IndexName: 'abc' } }] }),
      'ValidationException', 'One or more parameter values were invalid: Only one global secondary index update per index is allowed simultaneously. Index: abc');
    await expectDynamoError(db.updateTable({ TableName: 'nosuch', GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'abc' } }] }),
      'ResourceNotFoundException', 'Requested resource not found: Table: nosuch not found');
    await db.createTable(hashTable('gsiUpd'));
    await waitForStatus('gsiUpd', 'ACTIVE');
    await expectDynamoError(db.updateTable({ TableName: 'gsiUpd', GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'abc' } }, { Delete: { IndexName: 'abd' } }] }),
      'LimitExceededException', 'Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table');
    await expectDynamoError(db.updateTable({ TableName: 'gsiUpd', GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'abc' } }] }), 'ResourceNotFoundException');
    await expectDynamoError(db.updateTable({
      TableName: 'gsiUpd', GlobalSecondaryIndexUpdates: [{ Update: { IndexName: 'abc', ProvisionedThroughput: { ReadCapacityUnits: 1_000_000_000_001, WriteCapacityUnits: 1 } } }],
    }), 'ValidationException', 'This operation cannot be performed with given input values. Please contact DynamoDB service team for more info: Action Blocked: IndexUpdate');
  });

  it('records a created index with its new attribute definitions', async () => {
    await db.createTable(hashTable('gsiAdd'));
    await waitForStatus('gsiAdd', 'ACTIVE');
    const answer = (await db.updateTable({
      TableName: 'gsiAdd',
      AttributeDefinitions: [{ AttributeName: 'g', AttributeType: 'N' }],
      GlobalSecondaryIndexUpdates: [{ Create: {
        IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' },
        ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 2 },
      } }],
    })).TableDescription;
    expect(answer.TableStatus).toBe('UPDATING');
    await waitForStatus('gsiAdd', 'ACTIVE');
    const table = (await db.describeTable({ TableName: 'gsiAdd' })).Table;
    expect(table.AttributeDefinitions).toEqual([{ AttributeName: 'a', AttributeType: 'S' }, { AttributeName: 'g', AttributeType: 'N' }]);
    expect(table.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byG']);
  });
});

describe('DescribeTable counts', () => {
  it('reports the items and their size as DynamoDB counts it', async () => {
    await db.createTable(hashTable('counted'));
    await waitForStatus('counted', 'ACTIVE');
    const items = Array.from({ length: 7 }, (_, i) => ({ a: { S: `k${i}` }, n: { N: String(i * 10) }, s: { S: 'x'.repeat(i) } }));
    for (const item of items) await db.putItem({ TableName: 'counted', Item: item });
    // Counted at most once a second: wait out a count made before the writes.
    await new Promise((r) => setTimeout(r, 1100));
    const table = (await db.describeTable({ TableName: 'counted' })).Table;
    expect(table.ItemCount).toBe(items.length);
    expect(table.TableSizeBytes).toBe(items.reduce((n, item) => n + itemSize(item), 0));
  });
});

describe('time to live', () => {
  it('describes DISABLED, records a setting, and refuses repeats', async () => {
    await db.createTable(hashTable('ttl'));
    await waitForStatus('ttl', 'ACTIVE');
    expect(await db.describeTimeToLive({ TableName: 'ttl' })).toEqual({ TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } });
    await expectDynamoError(db.describeTimeToLive({ TableName: 'nosuch' }), 'ResourceNotFoundException', 'Requested resource not found: Table: nosuch not found');
    await expectDynamoError(db.updateTimeToLive({ TableName: 'ttl' } as never), 'ValidationException',
      "1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null");
    expect(await db.updateTimeToLive({ TableName: 'ttl', TimeToLiveSpecification: { Enabled: true, AttributeName: 'exp' } }))
      .toEqual({ TimeToLiveSpecification: { Enabled: true, AttributeName: 'exp' } });
    expect(await db.describeTimeToLive({ TableName: 'ttl' })).toEqual({ TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: 'exp' } });
    await expectDynamoError(db.updateTimeToLive({ TableName: 'ttl', TimeToLiveSpecification: { Enabled: true, AttributeName: 'exp' } }),
      'ValidationException', 'TimeToLive is already enabled');
  });
});

describe('status changes at close', () => {
  it('records an answered update and finishes a half-created table at the next open', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-lifecycle-'));
    try {
      let cluster = await openCluster({ dir, partitions: 1, tableStatusDelayMs: 60_000 });
      await cluster.createTable(hashTable('half'));
      await cluster.close();
      cluster = await openCluster({ dir, partitions: 1 });
      expect((await cluster.describeTable({ TableName: 'half' })).Table.TableStatus).toBe('ACTIVE');
      await cluster.close();

      cluster = await openCluster({ dir, partitions: 1, tableStatusDelayMs: 60_000 });
      expect((await cluster.updateTable({ TableName: 'half', ProvisionedThroughput: { ReadCapacityUnits: 9, WriteCapacityUnits: 9 } })).TableDescription.TableStatus).toBe('UPDATING');
      await cluster.close();
      cluster = await openCluster({ dir, partitions: 1 });
      try {
        expect((await cluster.describeTable({ TableName: 'half' })).Table.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 9, WriteCapacityUnits: 9 });
      } finally {
        await cluster.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
