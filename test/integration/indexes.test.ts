import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CreateTableInput, Item, QueryInput } from '../../src/api-types.js';
import type { ShardBox } from '../../src/index.js';
import { expectDynamoError, openCluster, prng } from './helpers.js';

let db: ShardBox | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const TABLE: CreateTableInput = {
  TableName: 'orders',
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' },
    { AttributeName: 'ls', AttributeType: 'N' }, { AttributeName: 'g', AttributeType: 'S' }, { AttributeName: 'n', AttributeType: 'N' },
  ],
  BillingMode: 'PAY_PER_REQUEST',
  LocalSecondaryIndexes: [{ IndexName: 'byLs', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'ls', KeyType: 'RANGE' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
  GlobalSecondaryIndexes: [{ IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }, { AttributeName: 'n', KeyType: 'RANGE' }], Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['v'] } }],
};

const item = (pk: string, sk: number, extra: Item = {}): Item => ({ pk: { S: pk }, sk: { N: String(sk) }, ...extra });

/** Polls until every index of `table` is what its items imply (a GSI catches up). */
async function waitIndexesEqual(cluster: ShardBox, table: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: string;
    try {
      const checks = await cluster.verifyIndexes(table);
      const wrong = Object.entries(checks).filter(([, c]) => c.missing.length + c.extra.length + c.different.length > 0 || c.expected !== c.actual);
      if (wrong.length === 0) return;
      last = JSON.stringify(wrong);
    } catch (error) {
      // A partition still electing a leader after a fault: look again.
      last = String(error);
    }
    if (Date.now() > deadline) throw new Error(`indexes differ from their table: ${last}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Retries `check` until it passes: eventually consistent reads may go to a replica that
 *  has not applied the latest writes yet. */
async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function queryAll(cluster: ShardBox, input: QueryInput): Promise<Item[]> {
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await cluster.query({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) });
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return out;
}

describe('secondary indexes', () => {
  it('a local and a global index declared at CreateTable follow puts, updates and deletes', async () => {
    db = await openCluster({ partitions: 2 });
    await db.createTable(TABLE);
    const described = (await db.describeTable({ TableName: 'orders' })).Table;
    expect(described.LocalSecondaryIndexes).toEqual([{
      IndexName: 'byLs', KeySchema: TABLE.LocalSecondaryIndexes![0].KeySchema, Projection: { ProjectionType: 'KEYS_ONLY' },
      IndexSizeBytes: 0, ItemCount: 0, IndexArn: `${described.TableArn}/index/byLs`,
    }]);
    expect(described.GlobalSecondaryIndexes?.[0]).toMatchObject({ IndexName: 'byG', IndexStatus: 'ACTIVE', Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['v'] }, ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0 } });
    expect(described.GlobalSecondaryIndexes?.[0].Backfilling).toBeUndefined();

    for (let i = 0; i < 30; i++) {
      await db.putItem({ TableName: 'orders', Item: item(`c${i % 3}`, i, { ls: { N: String(100 - i) }, g: { S: `g${i % 2}` }, n: { N: String(i) }, v: { S: `v${i}` }, w: { S: 'not projected' } }) });
    }
    await db.updateItem({ TableName: 'orders', Key: item('c0', 0), UpdateExpression: 'SET ls = :l, g = :g', ExpressionAttributeValues: { ':l': { N: '1' }, ':g': { S: 'g9' } } });
    await db.updateItem({ TableName: 'orders', Key: item('c1', 1), UpdateExpression: 'REMOVE ls, g' });
    await db.deleteItem({ TableName: 'orders', Key: item('c2', 2) });
    // An index key of another type than declared is refused, as a put or as an update's result.
    await expectDynamoError(db.putItem({ TableName: 'orders', Item: item('c0', 99, { g: { N: '1' } }) }),
      'ValidationException', 'One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: byG');
    await expectDynamoError(db.updateItem({ TableName: 'orders', Key: item('c0', 3), UpdateExpression: 'SET ls = :s', ExpressionAttributeValues: { ':s': { S: 'x' } } }),
      'ValidationException', 'One or more parameter values were invalid: Type mismatch for Index Key ls Expected: N Actual: S IndexName: byLs');
    // Writes count what they cost each index: the LSI entry moves (a delete and a put), the
    // GSI's changes projected attributes only (a put).
    const moved = await db.updateItem({ TableName: 'orders', Key: item('c1', 4), UpdateExpression: 'SET ls = :l, v = :v', ExpressionAttributeValues: { ':l': { N: '95' }, ':v': { S: 'v4b' } }, ReturnConsumedCapacity: 'INDEXES' });
    expect(moved.ConsumedCapacity).toEqual({ TableName: 'orders', CapacityUnits: 4, Table: { CapacityUnits: 1 }, LocalSecondaryIndexes: { byLs: { CapacityUnits: 2 } }, GlobalSecondaryIndexes: { byG: { CapacityUnits: 1 } } });
    const metrics = await db.putItem({ TableName: 'orders', Item: item('c1', 200), ReturnItemCollectionMetrics: 'SIZE', ReturnConsumedCapacity: 'TOTAL' });
    expect(metrics.ConsumedCapacity).toEqual({ TableName: 'orders', CapacityUnits: 1 });
    expect(metrics.ItemCollectionMetrics).toEqual({ ItemCollectionKey: { pk: { S: 'c1' } }, SizeEstimateRangeGB: [0, 1] });
    const batch = await db.batchWriteItem({ RequestItems: { orders: [{ DeleteRequest: { Key: item('c1', 200) } }] }, ReturnItemCollectionMetrics: 'SIZE' });
    expect(batch.ItemCollectionMetrics).toEqual({ orders: [{ ItemCollectionKey: { pk: { S: 'c1' } }, SizeEstimateRangeGB: [0, 1] }] });

    // The local index is strongly consistent: read it at once.
    const lsi = await queryAll(db, { TableName: 'orders', IndexName: 'byLs', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'c0' } }, ConsistentRead: true, Limit: 3 });
    expect(lsi[0]).toEqual({ pk: { S: 'c0' }, sk: { N: '0' }, ls: { N: '1' } });
    expect(lsi.map((it) => Number(it.ls.N))).toEqual([1, ...[27, 24, 21, 18, 15, 12, 9, 6, 3].map((sk) => 100 - sk).sort((a, b) => a - b)]);
    const range = await db.query({ TableName: 'orders', IndexName: 'byLs', KeyConditionExpression: 'pk = :p AND ls BETWEEN :a AND :b', ExpressionAttributeValues: { ':p': { S: 'c0' }, ':a': { N: '80' }, ':b': { N: '90' } } });
    expect(range.Items!.map((it) => it.sk.N)).toEqual(['18', '15', '12']);
    // ALL_ATTRIBUTES on a KEYS_ONLY local index fetches the items, and charges for them.
    const all = await db.query({ TableName: 'orders', IndexName: 'byLs', KeyConditionExpression: 'pk = :p AND ls < :b', ExpressionAttributeValues: { ':p': { S: 'c0' }, ':b': { N: '2' } }, Select: 'ALL_ATTRIBUTES', ReturnConsumedCapacity: 'INDEXES' });
    expect(all.Items).toEqual([item('c0', 0, { ls: { N: '1' }, g: { S: 'g9' }, n: { N: '0' }, v: { S: 'v0' }, w: { S: 'not projected' } })]);
    expect(all.ConsumedCapacity).toEqual({ TableName: 'orders', CapacityUnits: 1, Table: { CapacityUnits: 0.5 }, LocalSecondaryIndexes: { byLs: { CapacityUnits: 0.5 } } });

    // The global index is eventually consistent.
    await expectDynamoError(db.query({ TableName: 'orders', IndexName: 'byG', KeyConditionExpression: 'g = :g', ExpressionAttributeValues: { ':g': { S: 'g0' } }, ConsistentRead: true }),
      'ValidationException', 'Consistent reads are not supported on global secondary indexes');
    await expectDynamoError(db.query({ TableName: 'orders', IndexName: 'byG', KeyConditionExpression: 'g = :g', ExpressionAttributeValues: { ':g': { S: 'g0' } }, Select: 'ALL_ATTRIBUTES' }),
      'ValidationException', 'One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index byG because its projection type is not ALL');
    await expectDynamoError(db.query({ TableName: 'orders', IndexName: 'nope', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'c0' } } }),
      'ValidationException', 'The table does not have the specified index: nope');
    await waitIndexesEqual(db, 'orders');
    await eventually(async () => {
      const g0 = await queryAll(db!, { TableName: 'orders', IndexName: 'byG', KeyConditionExpression: 'g = :g AND n >= :n', ExpressionAttributeValues: { ':g': { S: 'g0' }, ':n': { N: '10' } }, Limit: 2, ScanIndexForward: false });
      expect(g0.map((it) => Number(it.n.N))).toEqual([28, 26, 24, 22, 20, 18, 16, 14, 12, 10]);
      expect(g0[0]).toEqual({ pk: { S: 'c1' }, sk: { N: '28' }, g: { S: 'g0' }, n: { N: '28' }, v: { S: 'v28' } });
      const g9 = await db!.query({ TableName: 'orders', IndexName: 'byG', KeyConditionExpression: 'g = :g', ExpressionAttributeValues: { ':g': { S: 'g9' } } });
      expect(g9.Items).toEqual([{ pk: { S: 'c0' }, sk: { N: '0' }, g: { S: 'g9' }, n: { N: '0' }, v: { S: 'v0' } }]);
      const scanned = await db!.scan({ TableName: 'orders', IndexName: 'byG', Select: 'COUNT' });
      expect(scanned.Count).toBe(28);
    });
    // An LSI scan walks every partition; an item without the LSI's sort key is not in it.
    const lsiScan = await db.scan({ TableName: 'orders', IndexName: 'byLs', Limit: 7, ConsistentRead: true });
    expect(lsiScan.Items!.every((it) => Object.keys(it).sort().join() === 'ls,pk,sk')).toBe(true);
    expect(lsiScan.LastEvaluatedKey).toBeDefined();
    expect((await db.scan({ TableName: 'orders', IndexName: 'byLs', Select: 'COUNT', ConsistentRead: true })).Count).toBe(28);
    expect(db.indexLag()['orders/index/byG'].count).toBeGreaterThan(0);
    // DescribeTable counts each index's entries (and their bytes, 100 of overhead each).
    await eventually(async () => {
      const indexes = (await db!.describeTable({ TableName: 'orders' })).Table;
      expect(indexes.LocalSecondaryIndexes![0].ItemCount).toBe(28);
      expect(indexes.LocalSecondaryIndexes![0].IndexSizeBytes).toBeGreaterThan(28 * 100);
      expect(indexes.GlobalSecondaryIndexes![0].ItemCount).toBe(28);
    });
  });

  it('a global index added to a table with items backfills online, missing no write made meanwhile; then it is deleted', async () => {
    db = await openCluster({ partitions: 2 });
    const { GlobalSecondaryIndexes: _, ...withoutGsi } = TABLE;
    await db.createTable({ ...withoutGsi, AttributeDefinitions: TABLE.AttributeDefinitions.filter((d) => d.AttributeName !== 'g' && d.AttributeName !== 'n') });
    const rnd = prng(7);
    for (let i = 0; i < 200; i++) await db.putItem({ TableName: 'orders', Item: item(`c${i % 5}`, i, { g: { S: `g${i % 4}` }, n: { N: String(i) } }) });
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const sk = Math.floor(rnd() * 260);
        if (rnd() < 0.2) await db!.deleteItem({ TableName: 'orders', Key: item(`c${sk % 5}`, sk) });
        else await db!.putItem({ TableName: 'orders', Item: item(`c${sk % 5}`, sk, { g: { S: `g${i % 4}` }, n: { N: String(i) } }) });
      }
    })();
    await db.updateTable({
      TableName: 'orders',
      AttributeDefinitions: [{ AttributeName: 'g', AttributeType: 'S' }, { AttributeName: 'n', AttributeType: 'N' }],
      GlobalSecondaryIndexUpdates: [{ Create: { IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }, { AttributeName: 'n', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } } }],
    });
    const creating = (await db.describeTable({ TableName: 'orders' })).Table.GlobalSecondaryIndexes![0];
    expect(creating).toMatchObject({ IndexName: 'byG', IndexStatus: 'CREATING', Backfilling: true });
    await expectDynamoError(db.updateTable({ TableName: 'orders', GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'byG' } }] }),
      'LimitExceededException', 'Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table');
    const deadline = Date.now() + 20_000;
    while ((await db.describeTable({ TableName: 'orders' })).Table.GlobalSecondaryIndexes![0].IndexStatus !== 'ACTIVE') {
      if (Date.now() > deadline) throw new Error('the index never became ACTIVE');
      await new Promise((r) => setTimeout(r, 20));
    }
    writing = false;
    await writer;
    await waitIndexesEqual(db, 'orders');
    expect((await db.describeTable({ TableName: 'orders' })).Table.GlobalSecondaryIndexes![0].Backfilling).toBeUndefined();

    await db.updateTable({ TableName: 'orders', GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'byG' } }] });
    const gone = Date.now() + 10_000;
    while ((await db.describeTable({ TableName: 'orders' })).Table.GlobalSecondaryIndexes !== undefined) {
      if (Date.now() > gone) throw new Error('the index was never deleted');
      await new Promise((r) => setTimeout(r, 20));
    }
    await expectDynamoError(db.query({ TableName: 'orders', IndexName: 'byG', KeyConditionExpression: 'g = :g', ExpressionAttributeValues: { ':g': { S: 'g0' } } }),
      'ValidationException', 'The table does not have the specified index: byG');
  });

  it('killing a node under load leaves every index equal to what its table implies', async () => {
    db = await openCluster({ partitions: 2, nodes: 4, logReplicaAfterMs: 0 });
    await db.createTable(TABLE);
    const rnd = prng(11);
    let writing = true;
    let acknowledged = 0;
    const writers = Array.from({ length: 4 }, (_, w) => (async () => {
      for (let i = 0; writing; i++) {
        const sk = Math.floor(rnd() * 100);
        try {
          if (rnd() < 0.2) await db!.deleteItem({ TableName: 'orders', Key: item(`c${sk % 7}`, sk) });
          else await db!.putItem({ TableName: 'orders', Item: item(`c${sk % 7}`, sk, { ls: { N: String(i % 13) }, g: { S: `g${(i + w) % 5}` }, n: { N: String(i) }, v: { S: 'x' } }) });
          acknowledged++;
        } catch {
          // A write whose outcome is unknown (its leader died): the check reads what happened.
        }
      }
    })());
    await new Promise((r) => setTimeout(r, 300));
    await db.faults.kill(1);
    await new Promise((r) => setTimeout(r, 1500));
    await db.faults.restart(1);
    await new Promise((r) => setTimeout(r, 300));
    writing = false;
    await Promise.all(writers);
    expect(acknowledged).toBeGreaterThan(20);
    await waitIndexesEqual(db, 'orders', 30_000);
  });

  it('a global index keyed on several attributes answers queries on its whole hash key and a left-to-right range prefix', async () => {
    db = await openCluster({ partitions: 2 });
    await db.createTable({
      TableName: 'matches',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' }, { AttributeName: 'rg', AttributeType: 'S' }, { AttributeName: 'md', AttributeType: 'S' },
        { AttributeName: 'ssn', AttributeType: 'N' }, { AttributeName: 'pts', AttributeType: 'N' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [{
        IndexName: 'leaderboard',
        KeySchema: [
          { AttributeName: 'rg', KeyType: 'HASH' }, { AttributeName: 'md', KeyType: 'HASH' },
          { AttributeName: 'ssn', KeyType: 'RANGE' }, { AttributeName: 'pts', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      }],
    });
    const rows: Item[] = [];
    for (let i = 0; i < 60; i++) {
      const row: Item = { id: { S: `m${i}` }, rg: { S: i % 2 ? 'eu' : 'us' }, md: { S: i % 3 ? 'solo' : 'duo' }, ssn: { N: String(i % 4) }, pts: { N: String(i) } };
      rows.push(row);
      await db.putItem({ TableName: 'matches', Item: row });
    }
    await waitIndexesEqual(db, 'matches');
    const want = (season: number | undefined, min: number) => rows
      .filter((r) => r.rg.S === 'eu' && r.md.S === 'solo' && (season === undefined || r.ssn.N === String(season)) && Number(r.pts.N) >= min)
      .sort((a, b) => Number(a.ssn.N) - Number(b.ssn.N) || Number(a.pts.N) - Number(b.pts.N));
    const values = { ':r': { S: 'eu' }, ':m': { S: 'solo' }, ':s': { N: '1' }, ':x': { N: '20' } };
    await eventually(async () => {
      const bySeason = await queryAll(db!, { TableName: 'matches', IndexName: 'leaderboard', KeyConditionExpression: 'rg = :r AND md = :m AND ssn = :s AND pts >= :x', ExpressionAttributeValues: values, Limit: 2 });
      expect(bySeason).toEqual(want(1, 20));
      const whole = await queryAll(db!, { TableName: 'matches', IndexName: 'leaderboard', KeyConditionExpression: 'md = :m AND rg = :r', ExpressionAttributeValues: { ':r': values[':r'], ':m': values[':m'] } });
      expect(whole).toEqual(want(undefined, 0));
    });
    await expectDynamoError(db.query({ TableName: 'matches', IndexName: 'leaderboard', KeyConditionExpression: 'rg = :r AND ssn = :s', ExpressionAttributeValues: { ':r': values[':r'], ':s': values[':s'] } }),
      'ValidationException', 'Query condition missed key schema element: md');
    await expectDynamoError(db.query({ TableName: 'matches', IndexName: 'leaderboard', KeyConditionExpression: 'rg = :r AND md = :m AND pts >= :x', ExpressionAttributeValues: { ':r': values[':r'], ':m': values[':m'], ':x': values[':x'] } }),
      'ValidationException', 'Query key condition not supported');
  });

  it('indexes outlive a close and reopen of the data directory; propagation resumes where the outbox was trimmed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-indexes-'));
    try {
      db = await openCluster({ partitions: 2, dir });
      await db.createTable(TABLE);
      for (let i = 0; i < 40; i++) await db.putItem({ TableName: 'orders', Item: item(`c${i % 4}`, i, { ls: { N: String(i) }, g: { S: `g${i % 3}` }, n: { N: String(i) }, v: { S: `v${i % 5}` } }) });
      await db.close();
      db = await openCluster({ partitions: 2, dir });
      for (let i = 0; i < 40; i += 3) await db.updateItem({ TableName: 'orders', Key: item(`c${i % 4}`, i), UpdateExpression: 'SET g = :g', ExpressionAttributeValues: { ':g': { S: 'moved' } } });
      // A backfill the close interrupts resumes at the next open.
      await db.updateTable({
        TableName: 'orders', AttributeDefinitions: [{ AttributeName: 'v', AttributeType: 'S' }],
        GlobalSecondaryIndexUpdates: [{ Create: { IndexName: 'byV', KeySchema: [{ AttributeName: 'v', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } } }],
      });
      expect((await db.describeTable({ TableName: 'orders' })).Table.GlobalSecondaryIndexes!.find((g) => g.IndexName === 'byV')!.IndexStatus).toBe('CREATING');
      await db.close();
      db = await openCluster({ partitions: 2, dir });
      const deadline = Date.now() + 20_000;
      while ((await db.describeTable({ TableName: 'orders' })).Table.GlobalSecondaryIndexes!.some((g) => g.IndexStatus !== 'ACTIVE')) {
        if (Date.now() > deadline) throw new Error('the interrupted backfill never finished');
        await new Promise((r) => setTimeout(r, 20));
      }
      await waitIndexesEqual(db, 'orders');
      await eventually(async () => {
        const page = await db!.query({ TableName: 'orders', IndexName: 'byG', KeyConditionExpression: 'g = :g', ExpressionAttributeValues: { ':g': { S: 'moved' } }, Select: 'COUNT' });
        expect(page.Count).toBe(14);
      });
    } finally {
      await db?.close();
      db = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
