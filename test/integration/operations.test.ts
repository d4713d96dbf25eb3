import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttributeValue, Item, ShardBox } from '../../src/index.js';
import { createHashTable, createRangeTable, expectDynamoError, openCluster, prng, seedFromEnv } from './helpers.js';

let db: ShardBox;

beforeAll(async () => {
  // 25 items of 100 KB to one partition key at once (2,500 WCU) are past DynamoDB's 1,000 WCU
  // per partition; this file tests operations, not capacity: admission off.
  db = await openCluster({ partitions: 4, admission: false });
  await createHashTable(db, 'items');
  await createRangeTable(db, 'ranges');
  await createRangeTable(db, 'numbers', 'N');
  await createRangeTable(db, 'binaries', 'B');
});

afterAll(async () => {
  await db?.close();
});

describe('tables', () => {
  it('describes, lists with paging and deletes tables', async () => {
    const { Table } = await db.describeTable({ TableName: 'items' });
    expect(Table.TableStatus).toBe('ACTIVE');
    expect(Table.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(Table.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table.TableArn).toMatch(/table\/items$/);

    for (const name of ['list-a', 'list-b', 'list-c']) await createHashTable(db, name);
    const first = await db.listTables({ Limit: 2 });
    expect(first.TableNames).toEqual(['binaries', 'items']);
    expect(first.LastEvaluatedTableName).toBe('items');
    const all: string[] = [...first.TableNames];
    let start = first.LastEvaluatedTableName;
    while (start !== undefined) {
      const page = await db.listTables({ Limit: 2, ExclusiveStartTableName: start });
      all.push(...page.TableNames);
      start = page.LastEvaluatedTableName;
    }
    expect(all).toEqual(['binaries', 'items', 'list-a', 'list-b', 'list-c', 'numbers', 'ranges']);

    await db.putItem({ TableName: 'list-a', Item: { id: { S: 'x' } } });
    const deleted = await db.deleteTable({ TableName: 'list-a' });
    expect(deleted.TableDescription.TableStatus).toBe('DELETING');
    await expectDynamoError(db.describeTable({ TableName: 'list-a' }), 'ResourceNotFoundException', 'Requested resource not found: Table: list-a not found');
    await expectDynamoError(db.getItem({ TableName: 'list-a', Key: { id: { S: 'x' } } }), 'ResourceNotFoundException');
    // A table created again under the same name starts empty.
    await createHashTable(db, 'list-a');
    expect((await db.getItem({ TableName: 'list-a', Key: { id: { S: 'x' } }, ConsistentRead: true })).Item).toBeUndefined();
  });

  it('rejects bad table definitions and duplicates with DynamoDB errors', async () => {
    await expectDynamoError(createHashTable(db, 'items'), 'ResourceInUseException', 'Table already exists: items');
    await expectDynamoError(db.createTable({
      TableName: 'x', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST',
    }), 'ValidationException', 'TableName must be at least 3 characters long and at most 255 characters long');
    await expectDynamoError(db.createTable({
      TableName: 'provisioned', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }), 'ValidationException', /ReadCapacityUnits and WriteCapacityUnits must both be specified/);
    await expectDynamoError(db.describeTable({ TableName: 'missing' }), 'ResourceNotFoundException');
  });

  it('creates a provisioned table', async () => {
    const { TableDescription } = await db.createTable({
      TableName: 'provisioned', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'N' }],
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 7 },
    });
    expect(TableDescription.ProvisionedThroughput.WriteCapacityUnits).toBe(7);
    await db.putItem({ TableName: 'provisioned', Item: { id: { N: '1.50' } } });
    const got = await db.getItem({ TableName: 'provisioned', Key: { id: { N: '1.5' } }, ConsistentRead: true });
    expect(got.Item).toEqual({ id: { N: '1.5' } });
  });
});

describe('items', () => {
  it('round-trips every attribute type exactly', async () => {
    const item: Item = {
      id: { S: 'every-type' },
      s: { S: 'héllo \u0000 wörld 🌍' },
      n: { N: '12345678901234567890123456789012345678' },
      small: { N: '-0.000000000000000000000000000000000000000001' },
      b: { B: new Uint8Array([0, 1, 2, 255]) },
      t: { BOOL: true },
      f: { BOOL: false },
      nul: { NULL: true },
      m: { M: { inner: { L: [{ S: 'a' }, { N: '1' }, { M: {} }] }, deep: { M: { x: { BS: [new Uint8Array([1]), new Uint8Array([2])] } } } } },
      l: { L: [] },
      ss: { SS: ['a', 'b', 'c'] },
      ns: { NS: ['1', '2.5', '-3'] },
      bs: { BS: [new Uint8Array([9]), new Uint8Array([8, 7])] },
    };
    await db.putItem({ TableName: 'items', Item: item });
    for (const consistent of [true, false]) {
      const { Item: got } = await db.getItem({ TableName: 'items', Key: { id: { S: 'every-type' } }, ConsistentRead: consistent });
      if (!consistent && got === undefined) continue; // a follower may not have applied it yet
      expect(normalizeBinary(got)).toEqual(normalizeBinary(item));
    }
  });

  it('puts, gets with projection, updates and deletes with ReturnValues', async () => {
    const key = { id: { S: 'crud' } };
    expect(await db.putItem({ TableName: 'items', Item: { ...key, a: { N: '1' }, b: { S: 'x' } } })).toEqual({});
    const replaced = await db.putItem({ TableName: 'items', Item: { ...key, a: { N: '2' } }, ReturnValues: 'ALL_OLD' });
    expect(replaced.Attributes).toEqual({ ...key, a: { N: '1' }, b: { S: 'x' } });

    const projected = await db.getItem({ TableName: 'items', Key: key, ConsistentRead: true, ProjectionExpression: 'a' });
    expect(projected.Item).toEqual({ a: { N: '2' } });

    const updated = await db.updateItem({
      TableName: 'items', Key: key, UpdateExpression: 'SET #c = :c, a = a + :one',
      ExpressionAttributeNames: { '#c': 'c' }, ExpressionAttributeValues: { ':c': { S: 'new' }, ':one': { N: '1' } },
      ReturnValues: 'ALL_NEW',
    });
    expect(updated.Attributes).toEqual({ ...key, a: { N: '3' }, c: { S: 'new' } });

    // The legacy AttributeUpdates form, as YCSB's DynamoDB binding sends it.
    await db.updateItem({
      TableName: 'items', Key: key,
      AttributeUpdates: { field0: { Action: 'PUT', Value: { S: 'ycsb' } }, c: { Action: 'DELETE' } },
    });
    expect((await db.getItem({ TableName: 'items', Key: key, ConsistentRead: true })).Item).toEqual({ ...key, a: { N: '3' }, field0: { S: 'ycsb' } });

    // UpdateItem on a missing item creates it.
    await db.updateItem({ TableName: 'items', Key: { id: { S: 'upsert' } }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: '7' } } });
    expect((await db.getItem({ TableName: 'items', Key: { id: { S: 'upsert' } }, ConsistentRead: true })).Item).toEqual({ id: { S: 'upsert' }, v: { N: '7' } });

    const deleted = await db.deleteItem({ TableName: 'items', Key: key, ReturnValues: 'ALL_OLD' });
    expect(deleted.Attributes?.field0).toEqual({ S: 'ycsb' });
    expect((await db.getItem({ TableName: 'items', Key: key, ConsistentRead: true })).Item).toBeUndefined();
    expect(await db.deleteItem({ TableName: 'items', Key: key, ReturnValues: 'ALL_OLD' })).toEqual({});
  });

  it('evaluates conditions when the write is applied', async () => {
    const key = { id: { S: 'cond' } };
    await db.putItem({ TableName: 'items', Item: { ...key, v: { N: '1' } }, ConditionExpression: 'attribute_not_exists(id)' });
    await expectDynamoError(
      db.putItem({ TableName: 'items', Item: { ...key, v: { N: '2' } }, ConditionExpression: 'attribute_not_exists(id)' }),
      'ConditionalCheckFailedException', 'The conditional request failed',
    );
    await db.updateItem({
      TableName: 'items', Key: key, UpdateExpression: 'SET v = :two', ConditionExpression: 'v = :one',
      ExpressionAttributeValues: { ':one': { N: '1' }, ':two': { N: '2' } },
    });
    await expectDynamoError(db.deleteItem({
      TableName: 'items', Key: key, ConditionExpression: 'v = :one', ExpressionAttributeValues: { ':one': { N: '1' } },
    }), 'ConditionalCheckFailedException');
    expect((await db.getItem({ TableName: 'items', Key: key, ConsistentRead: true })).Item).toEqual({ ...key, v: { N: '2' } });
  });

  it('rejects bad input with DynamoDB errors and changes nothing', async () => {
    const key = { id: { S: 'untouched' } };
    await db.putItem({ TableName: 'items', Item: { ...key, v: { S: 'original' } } });
    const huge = 'x'.repeat(400 * 1024);
    await expectDynamoError(db.putItem({ TableName: 'items', Item: { ...key, v: { S: huge } } }), 'ValidationException', /Item size has exceeded the maximum allowed size/);
    await expectDynamoError(db.putItem({ TableName: 'items', Item: { v: { S: 'no key' } } }), 'ValidationException', /Missing the key id in the item/);
    await expectDynamoError(db.putItem({ TableName: 'items' } as never), 'ValidationException', "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null");
    await expectDynamoError(db.getItem({ TableName: 'items' } as never), 'ValidationException', "1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null");
    await expectDynamoError(db.putItem({ TableName: 'items', Item: { id: { N: '1' } } }), 'ValidationException', /Type mismatch for key id expected: S actual: N/);
    await expectDynamoError(db.putItem({ TableName: 'items', Item: { id: { S: 'k'.repeat(2049) } } }), 'ValidationException', /2048 bytes/);
    await expectDynamoError(db.putItem({ TableName: 'ranges', Item: { pk: { S: 'p' }, sk: { S: 's'.repeat(1025) } } }), 'ValidationException', /1024 bytes/);
    await expectDynamoError(db.getItem({ TableName: 'items', Key: { id: { S: 'a' }, extra: { S: 'b' } } }), 'ValidationException', 'The provided key element does not match the schema');
    await expectDynamoError(db.getItem({ TableName: 'nope', Key: key }), 'ResourceNotFoundException');
    await expectDynamoError(db.putItem({ TableName: 'items', Item: { ...key, v: { S: 'changed' } }, ReturnValues: 'ALL_NEW' }), 'ValidationException');
    await expectDynamoError(db.updateItem({ TableName: 'items', Key: key, UpdateExpression: 'SET id = :v', ExpressionAttributeValues: { ':v': { S: 'z' } } }), 'ValidationException', /This attribute is part of the key/);
    await expectDynamoError(db.updateItem({ TableName: 'items', Key: key, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { S: 'z' }, ':unused': { S: 'u' } } }), 'ValidationException', /unused in expressions/);
    await expectDynamoError(db.putItem({ TableName: 'items', Item: { ...key, v: { SS: [] } } }), 'ValidationException');
    await expectDynamoError(db.putItem({ TableName: 'items', Item: { ...key, v: { N: 'abc' } } }), 'ValidationException');
    expect((await db.getItem({ TableName: 'items', Key: key, ConsistentRead: true })).Item).toEqual({ ...key, v: { S: 'original' } });
  });

  it('charges a write by the larger of the item before and after it, in 1 KB units', async () => {
    const key = { id: { S: 'wcu' } };
    // 2 + 3 + 1019 + 1 + 4 (12.3456: three digit pairs and an exponent byte) = 1029 bytes.
    const large = { ...key, big: { S: 'b'.repeat(1019) }, n: { N: '12.3456' } };
    const units = (out: { ConsumedCapacity?: { CapacityUnits?: number } }) => out.ConsumedCapacity?.CapacityUnits;
    expect(units(await db.putItem({ TableName: 'items', Item: large, ReturnConsumedCapacity: 'TOTAL' }))).toBe(2);
    // A small item replacing the large one still costs the large one; then the small one.
    expect(units(await db.putItem({ TableName: 'items', Item: key, ReturnConsumedCapacity: 'INDEXES' }))).toBe(2);
    expect(units(await db.putItem({ TableName: 'items', Item: key, ReturnConsumedCapacity: 'TOTAL' }))).toBe(1);
    // An update costs the larger side: growing it, shrinking it, then a small change.
    const set = (value: string) => db.updateItem({ TableName: 'items', Key: key, UpdateExpression: 'SET big = :b', ExpressionAttributeValues: { ':b': { S: value } }, ReturnConsumedCapacity: 'TOTAL' });
    expect(units(await set('b'.repeat(1100)))).toBe(2);
    expect(units(await set('s'))).toBe(2);
    expect(units(await set('t'))).toBe(1);
    await db.putItem({ TableName: 'items', Item: large });
    expect(units(await db.deleteItem({ TableName: 'items', Key: key, ReturnConsumedCapacity: 'TOTAL' }))).toBe(2);
    expect(units(await db.deleteItem({ TableName: 'items', Key: key, ReturnConsumedCapacity: 'TOTAL' }))).toBe(1);
  });
});

describe('query', () => {
  const pk = { S: 'q' };

  beforeAll(async () => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => db.putItem({
      TableName: 'ranges', Item: { pk, sk: { S: `k${String(i).padStart(3, '0')}` }, i: { N: String(i) } },
    })));
    await db.putItem({ TableName: 'ranges', Item: { pk: { S: 'other' }, sk: { S: 'k001' } } });
  });

  async function sortKeys(condition: string, values: Record<string, AttributeValue>, forward = true): Promise<string[]> {
    const out = await db.query({
      TableName: 'ranges', KeyConditionExpression: `pk = :pk${condition}`,
      ExpressionAttributeValues: { ':pk': pk, ...values }, ScanIndexForward: forward, ConsistentRead: true,
    });
    return (out.Items ?? []).map((item) => (item.sk as { S: string }).S);
  }

  it('supports every sort-key operator in both directions', async () => {
    expect(await sortKeys('', {})).toHaveLength(50);
    expect(await sortKeys(' AND sk = :a', { ':a': { S: 'k007' } })).toEqual(['k007']);
    expect(await sortKeys(' AND sk < :a', { ':a': { S: 'k003' } })).toEqual(['k000', 'k001', 'k002']);
    expect(await sortKeys(' AND sk <= :a', { ':a': { S: 'k002' } })).toEqual(['k000', 'k001', 'k002']);
    expect(await sortKeys(' AND sk > :a', { ':a': { S: 'k047' } })).toEqual(['k048', 'k049']);
    expect(await sortKeys(' AND sk >= :a', { ':a': { S: 'k048' } })).toEqual(['k048', 'k049']);
    expect(await sortKeys(' AND sk BETWEEN :a AND :b', { ':a': { S: 'k010' }, ':b': { S: 'k012' } })).toEqual(['k010', 'k011', 'k012']);
    expect(await sortKeys(' AND begins_with(sk, :a)', { ':a': { S: 'k04' } })).toHaveLength(10);
    expect(await sortKeys(' AND sk BETWEEN :a AND :b', { ':a': { S: 'k010' }, ':b': { S: 'k012' } }, false)).toEqual(['k012', 'k011', 'k010']);
    expect((await sortKeys('', {}, false))[0]).toBe('k049');
  });

  it('pages with Limit and ExclusiveStartKey, and filters after reading', async () => {
    const seen: string[] = [];
    let start: Item | undefined;
    let pages = 0;
    do {
      const out = await db.query({
        TableName: 'ranges', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk },
        Limit: 7, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}),
      });
      seen.push(...(out.Items ?? []).map((item) => (item.sk as { S: string }).S));
      start = out.LastEvaluatedKey;
      pages++;
    } while (start !== undefined);
    expect(seen).toHaveLength(50);
    expect(new Set(seen).size).toBe(50);
    expect(pages).toBe(8);

    const filtered = await db.query({
      TableName: 'ranges', KeyConditionExpression: 'pk = :pk', FilterExpression: 'i >= :ten',
      ExpressionAttributeValues: { ':pk': pk, ':ten': { N: '40' } }, Limit: 20, ConsistentRead: true,
    });
    expect(filtered.ScannedCount).toBe(20);
    expect(filtered.Count).toBe(0);
    const counted = await db.query({ TableName: 'ranges', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, Select: 'COUNT' });
    expect(counted.Items).toBeUndefined();
  });

  it('stops a page at 1 MB', async () => {
    const big = { S: 'b'.repeat(100 * 1024) };
    await Promise.all(Array.from({ length: 25 }, (_, i) => db.putItem({ TableName: 'ranges', Item: { pk: { S: 'big' }, sk: { S: `b${String(i).padStart(2, '0')}` }, v: big } })));
    const first = await db.query({ TableName: 'ranges', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'big' } }, ConsistentRead: true });
    expect(first.Count).toBeGreaterThanOrEqual(10);
    expect(first.Count).toBeLessThan(25);
    expect(first.LastEvaluatedKey).toBeDefined();
    let total = first.Count;
    let start = first.LastEvaluatedKey;
    while (start !== undefined) {
      const page = await db.query({
        TableName: 'ranges', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'big' } },
        ConsistentRead: true, ExclusiveStartKey: start,
      });
      expect(page.Count).toBeLessThanOrEqual(first.Count);
      total += page.Count;
      start = page.LastEvaluatedKey;
    }
    expect(total).toBe(25);
  });

  it('orders numbers numerically and binary as unsigned bytes', async () => {
    const seed = seedFromEnv(42);
    const random = prng(seed);
    const numbers = new Set<string>(['0', '-1', '1', '-1000000000000000000000000000000000000', '1E+100', '-1E-100', '0.5', '-0.5', '99999999999999999999999999999999999999']);
    while (numbers.size < 60) numbers.add(String(Math.round((random() - 0.5) * 1e6) / 10 ** Math.floor(random() * 6)));
    await Promise.all([...numbers].map((n) => db.putItem({ TableName: 'numbers', Item: { pk: { S: 'n' }, sk: { N: n } } })));
    const out = await db.query({ TableName: 'numbers', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'n' } }, ConsistentRead: true });
    const got = (out.Items ?? []).map((item) => Number((item.sk as { N: string }).N));
    expect(got, `seed ${seed}`).toEqual([...got].sort((a, b) => a - b));
    expect(got).toHaveLength(numbers.size);

    const blobs = [[0], [0, 0], [1], [127], [128], [255], [255, 0], [0, 255]].map((b) => new Uint8Array(b));
    await Promise.all(blobs.map((b) => db.putItem({ TableName: 'binaries', Item: { pk: { S: 'b' }, sk: { B: b } } })));
    const bout = await db.query({ TableName: 'binaries', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'b' } }, ConsistentRead: true });
    const gotBlobs = (bout.Items ?? []).map((item) => Buffer.from((item.sk as { B: Uint8Array }).B).toString('hex'));
    expect(gotBlobs).toEqual(blobs.map((b) => Buffer.from(b)).sort(Buffer.compare).map((b) => b.toString('hex')));
  });

  it('orders strings by UTF-8 bytes', async () => {
    const strings = ['a', 'B', 'é', '\u{1F600}', '\uFFFF', 'aa', 'a\u0000', ''.padEnd(1, 'z')];
    await Promise.all(strings.map((s) => db.putItem({ TableName: 'ranges', Item: { pk: { S: 'utf8' }, sk: { S: s } } })));
    const out = await db.query({ TableName: 'ranges', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'utf8' } }, ConsistentRead: true });
    const got = (out.Items ?? []).map((item) => (item.sk as { S: string }).S);
    const expected = [...strings].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    expect(got).toEqual(expected);
  });
});

describe('scan', () => {
  beforeAll(async () => {
    await createHashTable(db, 'scanned');
    await Promise.all(Array.from({ length: 300 }, (_, i) => db.putItem({ TableName: 'scanned', Item: { id: { S: `item-${i}` }, i: { N: String(i) } } })));
  });

  it('pages over every partition and returns every item exactly once', async () => {
    const seen: string[] = [];
    let start: Item | undefined;
    do {
      const out = await db.scan({ TableName: 'scanned', Limit: 45, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) });
      expect(out.Count).toBeLessThanOrEqual(45);
      seen.push(...(out.Items ?? []).map((item) => (item.id as { S: string }).S));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    expect(seen).toHaveLength(300);
    expect(new Set(seen).size).toBe(300);
  });

  it('splits the table into disjoint segments', async () => {
    const total = 7;
    const seen: string[] = [];
    for (let segment = 0; segment < total; segment++) {
      let start: Item | undefined;
      do {
        const out = await db.scan({ TableName: 'scanned', Segment: segment, TotalSegments: total, Limit: 30, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) });
        seen.push(...(out.Items ?? []).map((item) => (item.id as { S: string }).S));
        start = out.LastEvaluatedKey;
      } while (start !== undefined);
    }
    expect(seen).toHaveLength(300);
    expect(new Set(seen).size).toBe(300);
    await expectDynamoError(db.scan({ TableName: 'scanned', Segment: 1 }), 'ValidationException', /TotalSegments parameter is required/);
    await expectDynamoError(db.scan({ TableName: 'scanned', Segment: 3, TotalSegments: 3 }), 'ValidationException');
  });

  it('filters and projects', async () => {
    const out = await db.scan({
      TableName: 'scanned', FilterExpression: 'i < :five', ProjectionExpression: 'i',
      ExpressionAttributeValues: { ':five': { N: '5' } }, ConsistentRead: true,
    });
    expect(out.ScannedCount).toBe(300);
    expect((out.Items ?? []).map((item) => Number((item.i as { N: string }).N)).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    expect(out.Items?.every((item) => Object.keys(item).join() === 'i')).toBe(true);
  });
});

function normalizeBinary(item: Item | undefined): unknown {
  return JSON.parse(JSON.stringify(item, (_k, v) => (v instanceof Uint8Array ? { bytes: Buffer.from(v).toString('hex') } : v?.type === 'Buffer' ? { bytes: Buffer.from(v.data).toString('hex') } : v)));
}
