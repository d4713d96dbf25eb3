import { DEFAULT_TIMING } from '../../src/node/constants.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchGetItemInput, BatchGetItemOutput, Item, KeysAndAttributes, ShardBox, WriteRequest } from '../../src/index.js';
import { hexToHash, partitionHash } from '../../src/model/hash.js';
import { createHashTable, createRangeTable, expectDynamoError, inClientThread, openCluster } from './helpers.js';

let db: ShardBox;

beforeAll(async () => {
  // Writes of 20 × 390 KB items at once (7,800 WCU) are past what DynamoDB lets a new
  // on-demand table take; this file tests batches, not capacity: admission off.
  db = await openCluster({ partitions: 4, routers: 1, admission: false });
  await createHashTable(db, 'items');
  await createRangeTable(db, 'ranges');
  await createHashTable(db, 'numbers', 'N');
});

afterAll(async () => {
  await db?.close();
});

const put = (item: Item): WriteRequest => ({ PutRequest: { Item: item } });
const del = (key: Item): WriteRequest => ({ DeleteRequest: { Key: key } });
const sortById = (items: Item[] | undefined): Item[] =>
  [...(items ?? [])].sort((a, b) => JSON.stringify(a.id ?? a.pk).localeCompare(JSON.stringify(b.id ?? b.pk)) || JSON.stringify(a.sk).localeCompare(JSON.stringify(b.sk)));

async function get(table: string, key: Item): Promise<Item | undefined> {
  return (await db.getItem({ TableName: table, Key: key, ConsistentRead: true })).Item;
}

describe('BatchWriteItem and BatchGetItem', () => {
  it('writes to and reads from several tables, keyed by table name', async () => {
    const written = await db.batchWriteItem({
      RequestItems: {
        items: [put({ id: { S: 'a' }, v: { N: '1' } }), put({ id: { S: 'b' }, v: { N: '2' } })],
        ranges: [put({ pk: { S: 'p' }, sk: { S: '1' }, v: { S: 'x' } }), put({ pk: { S: 'p' }, sk: { S: '2' } })],
      },
    });
    expect(written).toEqual({ UnprocessedItems: {} });

    const got = await db.batchGetItem({
      RequestItems: {
        items: { Keys: [{ id: { S: 'a' } }, { id: { S: 'b' } }, { id: { S: 'missing' } }], ConsistentRead: true },
        ranges: { Keys: [{ pk: { S: 'p' }, sk: { S: '1' } }, { sk: { S: '2' }, pk: { S: 'p' } }], ConsistentRead: true },
      },
    });
    expect(got.UnprocessedKeys).toEqual({});
    expect(Object.keys(got.Responses).sort()).toEqual(['items', 'ranges']);
    expect(sortById(got.Responses.items)).toEqual([{ id: { S: 'a' }, v: { N: '1' } }, { id: { S: 'b' }, v: { N: '2' } }]);
    expect(sortById(got.Responses.ranges)).toEqual([{ pk: { S: 'p' }, sk: { S: '1' }, v: { S: 'x' } }, { pk: { S: 'p' }, sk: { S: '2' } }]);
    expect(got.ConsumedCapacity).toBeUndefined();
  });

  it('mixes puts and deletes, and normalizes numbers in items and keys', async () => {
    await db.putItem({ TableName: 'items', Item: { id: { S: 'gone' } } });
    await db.batchWriteItem({
      RequestItems: {
        items: [del({ id: { S: 'gone' } }), put({ id: { S: 'kept' }, n: { N: '1.50' } })],
        numbers: [put({ id: { N: '1.0' }, tag: { S: 'one' } }), del({ id: { N: '2' } })],
      },
    });
    expect(await get('items', { id: { S: 'gone' } })).toBeUndefined();
    expect(await get('items', { id: { S: 'kept' } })).toEqual({ id: { S: 'kept' }, n: { N: '1.5' } });
    const got = await db.batchGetItem({ RequestItems: { numbers: { Keys: [{ id: { N: '1' } }], ConsistentRead: true } } });
    expect(got.Responses.numbers).toEqual([{ id: { N: '1' }, tag: { S: 'one' } }]);
  });

  it('projects per table with ProjectionExpression and ExpressionAttributeNames, or AttributesToGet', async () => {
    await db.putItem({ TableName: 'items', Item: { id: { S: 'proj' }, a: { S: 'x' }, b: { M: { c: { N: '3' }, d: { N: '4' } } }, name: { S: 'n' } } });
    await db.putItem({ TableName: 'ranges', Item: { pk: { S: 'proj' }, sk: { S: '1' }, a: { S: 'y' }, b: { S: 'z' } } });
    const got = await db.batchGetItem({
      RequestItems: {
        items: { Keys: [{ id: { S: 'proj' } }], ProjectionExpression: 'b.c, #n', ExpressionAttributeNames: { '#n': 'name' }, ConsistentRead: true },
        ranges: { Keys: [{ pk: { S: 'proj' }, sk: { S: '1' } }], AttributesToGet: ['b'], ConsistentRead: true },
      },
    });
    expect(got.Responses.items).toEqual([{ b: { M: { c: { N: '3' } } }, name: { S: 'n' } }]);
    expect(got.Responses.ranges).toEqual([{ b: { S: 'z' } }]);
  });

  it('reports consumed capacity per table', async () => {
    const big = 'x'.repeat(5000); // 5,000+ bytes: 2 read units consistent, 5 write units
    const written = await db.batchWriteItem({
      RequestItems: { items: [put({ id: { S: 'cap1' }, v: { S: big } }), put({ id: { S: 'cap2' } })], numbers: [put({ id: { N: '7' } })] },
      ReturnConsumedCapacity: 'TOTAL',
      ReturnItemCollectionMetrics: 'SIZE',
    });
    expect(written.ConsumedCapacity).toEqual([{ TableName: 'items', CapacityUnits: 6 }, { TableName: 'numbers', CapacityUnits: 1 }]);
    expect(written.ItemCollectionMetrics).toBeUndefined();

    const consistent = await db.batchGetItem({
      RequestItems: { items: { Keys: [{ id: { S: 'cap1' } }, { id: { S: 'cap2' } }], ConsistentRead: true } },
      ReturnConsumedCapacity: 'INDEXES',
    });
    expect(consistent.ConsumedCapacity).toEqual([{ TableName: 'items', CapacityUnits: 3, Table: { CapacityUnits: 3 } }]);
    const eventual = await db.batchGetItem({ RequestItems: { numbers: { Keys: [{ id: { N: '7' } }] } }, ReturnConsumedCapacity: 'TOTAL' });
    expect(eventual.ConsumedCapacity).toEqual([{ TableName: 'numbers', CapacityUnits: 0.5 }]);

    // A put costs the larger of the item it replaced and its own; a delete what it removed.
    await db.batchWriteItem({ RequestItems: { items: [put({ id: { S: 'cap3' }, v: { S: big } })] } });
    const replaced = await db.batchWriteItem({ RequestItems: { items: [put({ id: { S: 'cap3' } })] }, ReturnConsumedCapacity: 'TOTAL' });
    expect(replaced.ConsumedCapacity).toEqual([{ TableName: 'items', CapacityUnits: 5 }]);
    const deleted = await db.batchWriteItem({ RequestItems: { items: [del({ id: { S: 'cap1' } })] }, ReturnConsumedCapacity: 'TOTAL' });
    expect(deleted.ConsumedCapacity).toEqual([{ TableName: 'items', CapacityUnits: 5 }]);
  });

  it('answers 100 keys across tables, and stops at 16 MB with UnprocessedKeys to retry', async () => {
    // 60 items of ~390 KB: 23 MB, more than one 16 MB response.
    const value = 'v'.repeat(390 * 1024);
    for (let batch = 0; batch < 60; batch += 20) {
      const requests = Array.from({ length: 20 }, (_, i) => put({ id: { S: `big-${batch + i}` }, v: { S: value } }));
      expect(await db.batchWriteItem({ RequestItems: { items: requests } })).toEqual({ UnprocessedItems: {} });
    }
    const keys = Array.from({ length: 60 }, (_, i) => ({ id: { S: `big-${i}` } }));
    const small = Array.from({ length: 40 }, (_, i) => ({ id: { N: String(1000 + i) } }));
    let request: BatchGetItemInput = { RequestItems: { items: { Keys: keys, ConsistentRead: true }, numbers: { Keys: small } } };
    const seen = new Set<string>();
    let rounds = 0;
    let firstUnprocessed = 0;
    for (;;) {
      const page = await db.batchGetItem(request);
      rounds++;
      const bytes = (page.Responses.items ?? []).reduce((n, item) => n + 2 + item.id.S!.length + 1 + value.length, 0);
      expect(bytes).toBeLessThanOrEqual(16 * 1024 * 1024);
      for (const item of page.Responses.items ?? []) {
        expect(seen.has(item.id.S!), 'no item is answered twice').toBe(false);
        seen.add(item.id.S!);
      }
      const left = page.UnprocessedKeys.items?.Keys.length ?? 0;
      if (rounds === 1) firstUnprocessed = left;
      if (Object.keys(page.UnprocessedKeys).length === 0) break;
      expect(page.UnprocessedKeys.items?.ConsistentRead).toBe(true);
      request = { RequestItems: page.UnprocessedKeys };
      expect(rounds).toBeLessThan(5);
    }
    expect(firstUnprocessed).toBeGreaterThan(0);
    expect(rounds).toBe(2);
    expect(seen.size).toBe(60);
  });

  it('rejects more than 100 keys, 25 writes, duplicates and empty requests with DynamoDB messages', async () => {
    const keys = (n: number, prefix = 'k'): Item[] => Array.from({ length: n }, (_, i) => ({ id: { S: `${prefix}${i}` } }));
    await expectDynamoError(db.batchGetItem({ RequestItems: { items: { Keys: keys(100) }, ranges: { Keys: [{ pk: { S: 'a' }, sk: { S: 'b' } }] } } }),
      'ValidationException', 'Too many items requested for the BatchGetItem call');
    await expectDynamoError(db.batchGetItem({ RequestItems: { items: { Keys: keys(101) } } }),
      'ValidationException', /^1 validation error detected: Value '\[.+\]' at 'requestItems\.items\.member\.keys' failed to satisfy constraint: Member must have length less than or equal to 100$/);
    expect((await db.batchGetItem({ RequestItems: { items: { Keys: keys(100) } } })).UnprocessedKeys).toEqual({});

    await expectDynamoError(db.batchGetItem({ RequestItems: {} }), 'ValidationException',
      "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1");
    await expectDynamoError(db.batchGetItem({} as BatchGetItemInput), 'ValidationException',
      "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null");
    await expectDynamoError(db.batchGetItem({ RequestItems: { items: { Keys: [] } } }), 'ValidationException',
      "1 validation error detected: Value '[]' at 'requestItems.items.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1");
    await expectDynamoError(db.batchGetItem({ RequestItems: { a: { Keys: [{ id: { S: 'x' } }] } } }), 'ValidationException',
      /Map keys must satisfy constraint: \[Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: \[a-zA-Z0-9_.-\]\+\]$/);
    await expectDynamoError(db.batchGetItem({ RequestItems: { items: { Keys: [{ id: { S: 'x' } }] } }, ReturnConsumedCapacity: 'ALL' as never }), 'ValidationException',
      "1 validation error detected: Value 'ALL' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]");

    const duplicates = 'Provided list of item keys contains duplicates';
    await expectDynamoError(db.batchGetItem({ RequestItems: { items: { Keys: [{ id: { S: 'x' } }, { id: { S: 'x' } }] } } }), 'ValidationException', duplicates);
    await expectDynamoError(db.batchGetItem({ RequestItems: { numbers: { Keys: [{ id: { N: '1' } }, { id: { N: '1.00' } }] } } }), 'ValidationException', duplicates);
    await expectDynamoError(db.batchGetItem({ RequestItems: { ranges: { Keys: [{ pk: { S: 'p' }, sk: { S: 's' } }, { sk: { S: 's' }, pk: { S: 'p' } }] } } }), 'ValidationException', duplicates);
    await expectDynamoError(db.batchGetItem({ RequestItems: { items: { Keys: [{ id: { S: 'x' } }], AttributesToGet: ['a', 'a'] } } }), 'ValidationException',
      'One or more parameter values were invalid: Duplicate value in attribute name: a');
    await expectDynamoError(db.batchGetItem({ RequestItems: { items: { Keys: [{ id: { S: 'x' } }], AttributesToGet: ['a'], ProjectionExpression: 'a' } } }), 'ValidationException',
      'Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}');
    await expectDynamoError(db.batchGetItem({ RequestItems: { items: { Keys: [{ id: { S: 'x' } }], ProjectionExpression: 'a', ExpressionAttributeNames: { '#u': 'u' } } } }), 'ValidationException',
      'Value provided in ExpressionAttributeNames unused in expressions: keys: {#u}');

    const writes = (n: number, prefix: string): WriteRequest[] => keys(n, prefix).map((k) => put(k));
    await expectDynamoError(db.batchWriteItem({ RequestItems: { items: writes(20, 'w'), numbers: Array.from({ length: 6 }, (_, i) => put({ id: { N: String(i) } })) } }),
      'ValidationException', 'Too many items requested for the BatchWriteItem call');
    await expectDynamoError(db.batchWriteItem({ RequestItems: { items: writes(26, 'w') } }), 'ValidationException',
      /^1 validation error detected: Value '\{.+\}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: \[Member must have length less than or equal to 25, Member must have length greater than or equal to 1\]$/);
    await expectDynamoError(db.batchWriteItem({ RequestItems: { items: [{}] } }), 'ValidationException',
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes');
    await expectDynamoError(db.batchWriteItem({ RequestItems: { items: [{ PutRequest: {} as never }] }, ReturnItemCollectionMetrics: 'ALL' as never }), 'ValidationException',
      "2 validation errors detected: Value 'ALL' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]; "
      + "Value null at 'requestItems.items.member.1.member.putRequest.item' failed to satisfy constraint: Member must not be null");
    await expectDynamoError(db.batchWriteItem({ RequestItems: { items: [put({ id: { S: 'dup' } }), del({ id: { S: 'dup' } })] } }), 'ValidationException', duplicates);
    await expectDynamoError(db.batchWriteItem({ RequestItems: { numbers: [put({ id: { N: '5' } }), put({ id: { N: '5.0' }, x: { S: 'y' } })] } }), 'ValidationException', duplicates);
  });

  it('checks every request before writing anything: a bad request changes nothing', async () => {
    const ok = put({ id: { S: 'never-written' } });
    const cases: Array<[Record<string, WriteRequest[]>, string, string | RegExp]> = [
      [{ items: [ok], missing: [put({ id: { S: 'x' } })] }, 'ResourceNotFoundException', 'Requested resource not found'],
      [{ items: [ok, put({ other: { S: 'x' } })] }, 'ValidationException', 'The provided key element does not match the schema'],
      [{ items: [ok, put({ id: { N: '1' } })] }, 'ValidationException', 'The provided key element does not match the schema'],
      [{ items: [ok], ranges: [put({ pk: { S: 'x' } })] }, 'ValidationException', 'The provided key element does not match the schema'],
      [{ items: [ok, del({ id: { S: 'x' }, extra: { S: 'y' } })] }, 'ValidationException', 'The provided key element does not match the schema'],
      [{ items: [ok, put({ id: { S: 'x' }, big: { S: 'b'.repeat(400 * 1024) } })] }, 'ValidationException', 'Item size has exceeded the maximum allowed size'],
      [{ items: [ok, put({ id: { S: 'h'.repeat(2049) } })] }, 'ValidationException', 'One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes'],
      [{ items: [ok, put({ id: { S: '' } })] }, 'ValidationException', 'One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: id'],
      [{ items: [ok, put({ id: { S: 'x' }, s: { SS: [] } })] }, 'ValidationException', 'One or more parameter values were invalid: An string set  may not be empty'],
      [{ items: [ok, put({ id: { S: 'x' }, n: { N: '1e126' } })] }, 'ValidationException', 'Number overflow. Attempting to store a number with magnitude larger than supported range'],
      [{ items: [ok, put({ id: { S: 'same' } }), put({ id: { S: 'same' } })] }, 'ValidationException', 'Provided list of item keys contains duplicates'],
    ];
    for (const [requestItems, name, message] of cases) {
      await expectDynamoError(db.batchWriteItem({ RequestItems: requestItems }), name, message);
    }
    expect(await get('items', { id: { S: 'never-written' } })).toBeUndefined();

    await expectDynamoError(db.batchGetItem({ RequestItems: { items: { Keys: [{ id: { S: 'x' } }] }, missing: { Keys: [{ id: { S: 'x' } }] } } }),
      'ResourceNotFoundException', 'Requested resource not found');
    for (const key of [{}, { id: { N: '1' } }, { id: { S: 'a' }, other: { S: 'b' } }] as Item[]) {
      await expectDynamoError(db.batchGetItem({ RequestItems: { items: { Keys: [key] } } }), 'ValidationException', 'The provided key element does not match the schema');
    }
    await expectDynamoError(db.batchGetItem({ RequestItems: { ranges: { Keys: [{ pk: { S: 'p' }, sk: { S: 's'.repeat(1025) } }] } } }), 'ValidationException',
      'One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes');
  });

  it('is available to client threads: a ShardBoxClient in another thread writes, deletes and reads in batches', async () => {
    await db.putItem({ TableName: 'items', Item: { id: { S: 'client-gone' } } });
    const { written, got } = await inClientThread<{ written: unknown; got: BatchGetItemOutput }>(db.routerPort(1), `
      const written = await client.batchWriteItem({ RequestItems: {
        items: [
          { PutRequest: { Item: { id: { S: 'client-a' }, v: { N: '1' } } } },
          { PutRequest: { Item: { id: { S: 'client-b' }, v: { B: new Uint8Array([1, 2]) } } } },
          { DeleteRequest: { Key: { id: { S: 'client-gone' } } } },
        ],
        ranges: [{ PutRequest: { Item: { pk: { S: 'client' }, sk: { S: '1' }, v: { S: 'x' } } } }],
      } });
      const got = await client.batchGetItem({ RequestItems: {
        items: { Keys: [{ id: { S: 'client-a' } }, { id: { S: 'client-b' } }, { id: { S: 'client-gone' } }], ConsistentRead: true },
        ranges: { Keys: [{ pk: { S: 'client' }, sk: { S: '1' } }], ConsistentRead: true, ProjectionExpression: 'sk, v' },
      } });
      return { written, got };
    `);
    expect(written).toEqual({ UnprocessedItems: {} });
    expect(got.UnprocessedKeys).toEqual({});
    expect(sortById(got.Responses.items)).toEqual([{ id: { S: 'client-a' }, v: { N: '1' } }, { id: { S: 'client-b' }, v: { B: new Uint8Array([1, 2]) } }]);
    expect(got.Responses.ranges).toEqual([{ sk: { S: '1' }, v: { S: 'x' } }]);
    // The main thread's router sees what the client thread's wrote.
    expect(await get('items', { id: { S: 'client-a' } })).toEqual({ id: { S: 'client-a' }, v: { N: '1' } });
    expect(await get('items', { id: { S: 'client-gone' } })).toBeUndefined();
    expect(await get('ranges', { pk: { S: 'client' }, sk: { S: '1' } })).toEqual({ pk: { S: 'client' }, sk: { S: '1' }, v: { S: 'x' } });
  });
});

describe('partitions that cannot serve', () => {
  let cluster: ShardBox | undefined;

  afterAll(async () => {
    await cluster?.close();
  });

  it('returns their keys as UnprocessedKeys / UnprocessedItems and serves the rest', async () => {
    // 6 nodes: the 4 partitions of the first table live on nodes {1,2,3}, {2,3,4}, {3,4,5},
    // {4,5,0}. Killing nodes 3 and 4 leaves two of them without a quorum. No log replicas:
    // on a slow machine one could replace node 3 before node 4 dies and keep a quorum.
    cluster = await openCluster({ nodes: 6, partitions: 4, router: { attemptTimeoutMs: 300, deadlineMs: 2500 }, logReplicaAfterMs: 0 });
    await createHashTable(cluster, 'split');
    const keys = Array.from({ length: 40 }, (_, i) => ({ id: { S: `key-${i}` } }));
    await cluster.batchWriteItem({ RequestItems: { split: keys.slice(0, 20).map((k) => put({ ...k, v: { N: '1' } })) } });
    await cluster.batchWriteItem({ RequestItems: { split: keys.slice(20).map((k) => put({ ...k, v: { N: '1' } })) } });

    const partitions = (await cluster.replicaStatus('split')).map(({ partition }) => partition);
    const dead = new Set([3, 4]);
    const partitionOf = (key: Item) => {
      const h = partitionHash(key.id!);
      return partitions.find((p) => hexToHash(p.hashStart) <= h && h <= hexToHash(p.hashEnd))!;
    };
    const unavailable = (key: Item): boolean => partitionOf(key).replicas.filter((n) => dead.has(n)).length >= 2;
    const lost = keys.filter(unavailable);
    const served = keys.filter((k) => !unavailable(k));
    expect(lost.length).toBeGreaterThan(0);
    expect(served.length).toBeGreaterThan(0);

    for (const node of dead) await cluster.faults.kill(node);
    // A lone surviving leader may serve strong reads until its lease runs out, and leads
    // until CheckQuorum deposes it (electionTicks): wait that out, twice over.
    await new Promise((resolve) => setTimeout(resolve, 2 * DEFAULT_TIMING.electionTicks * DEFAULT_TIMING.tickMs));
    // Partitions that kept a quorum elect a new leader where theirs died.
    for (const key of served) expect((await cluster.getItem({ TableName: 'split', Key: key, ConsistentRead: true })).Item).toBeDefined();

    const got = await cluster.batchGetItem({ RequestItems: { split: { Keys: keys, ConsistentRead: true } } });
    const ids = (list: Item[] | undefined): string[] => (list ?? []).map((k) => k.id!.S!).sort();
    expect(ids(got.Responses.split)).toEqual(ids(served));
    expect(ids(got.UnprocessedKeys.split?.Keys)).toEqual(ids(lost));
    expect(got.UnprocessedKeys.split?.ConsistentRead).toBe(true);

    const writes = [...lost.slice(0, 3), ...served.slice(0, 3)].map((k) => put({ ...k, v: { N: '2' } }));
    const written = await cluster.batchWriteItem({ RequestItems: { split: writes } });
    expect((written.UnprocessedItems.split ?? []).map((r) => r.PutRequest!.Item.id!.S).sort()).toEqual(ids(lost.slice(0, 3)));
    for (const key of served.slice(0, 3)) {
      expect((await cluster.getItem({ TableName: 'split', Key: key, ConsistentRead: true })).Item?.v).toEqual({ N: '2' });
    }

    // When not one key can be read, the call itself fails, retryably.
    let error: unknown;
    try {
      await cluster.batchGetItem({ RequestItems: { split: { Keys: lost.slice(0, 2), ConsistentRead: true } } });
    } catch (e) {
      error = e;
    }
    expect((error as { retryable?: boolean }).retryable).toBe(true);

    // Back up, the unprocessed writes go through when sent again.
    for (const node of dead) await cluster.faults.restart(node);
    let pending: Record<string, WriteRequest[]> = written.UnprocessedItems;
    for (let attempt = 0; attempt < 20 && Object.keys(pending).length > 0; attempt++) {
      try {
        pending = (await cluster.batchWriteItem({ RequestItems: pending })).UnprocessedItems;
      } catch (e) {
        if (!(e as { retryable?: boolean }).retryable) throw e;
      }
    }
    expect(pending).toEqual({});
    for (const key of lost.slice(0, 3)) {
      expect((await cluster.getItem({ TableName: 'split', Key: key, ConsistentRead: true })).Item?.v).toEqual({ N: '2' });
    }
    const unprocessedKeys: Record<string, KeysAndAttributes> = got.UnprocessedKeys;
    const retried = await cluster.batchGetItem({ RequestItems: unprocessedKeys });
    expect(ids(retried.Responses.split)).toEqual(ids(lost));
  });
});
