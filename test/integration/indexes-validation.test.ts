/**
 * What DynamoDB refuses about a table's secondary indexes, and in which order: an
 * ExclusiveStartKey on an index (its size, the index's key attributes along with the key
 * condition, then the table's), Select ALL_ATTRIBUTES on a global index that does not
 * project everything, paths into index keys, and updates giving an index key another type.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { AttributeValue, CreateTableInput, Item, QueryInput, ScanInput } from '../../src/api-types.js';
import type { ShardBox } from '../../src/index.js';
import { expectDynamoError, openCluster } from './helpers.js';

const TABLE: CreateTableInput = {
  TableName: 'things',
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  AttributeDefinitions: ['pk', 'sk', 'c', 'g', 'd'].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
  BillingMode: 'PAY_PER_REQUEST',
  LocalSecondaryIndexes: [{ IndexName: 'byC', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'c', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }],
  GlobalSecondaryIndexes: [
    { IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
    { IndexName: 'byGD', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }, { AttributeName: 'd', KeyType: 'RANGE' }], Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['e'] } },
  ],
};

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number): AttributeValue => ({ N: String(n) });
const INVALID_START = 'The provided starting key is invalid';
const SCHEMA = 'The provided key element does not match the schema';
const SCALARS = "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed";

let db: ShardBox;
beforeAll(async () => {
  db = await openCluster({ partitions: 2 });
  await db.createTable(TABLE);
});
afterAll(async () => {
  await db?.close();
});

const refused = (promise: Promise<unknown>, message: string) => expectDynamoError(promise, 'ValidationException', message);
const query = (input: Partial<QueryInput>) => db.query({ TableName: 'things', ...input } as QueryInput);
const scan = (input: Partial<ScanInput>) => db.scan({ TableName: 'things', ...input } as ScanInput);
/** A key condition that names no key of any index: every check before it decides. */
const onZ = { KeyConditionExpression: 'z = :z', ExpressionAttributeValues: { ':z': N(1) } };

describe('ExclusiveStartKey on an index', () => {
  it('an unknown index is reported before anything about the start key', async () => {
    await refused(query({ IndexName: 'nope', ExclusiveStartKey: {}, ...onZ }), 'The table does not have the specified index: nope');
    await refused(scan({ IndexName: 'nope', ExclusiveStartKey: { z: S('a') }, FilterExpression: 'attribute_exists(pk.x)' }), 'The table does not have the specified index: nope');
  });

  it('a Query checks the start key size, then the index key attributes with the key condition, then the table key', async () => {
    // Size: the table's key and the index's together.
    for (const key of [{}, { pk: S('a'), sk: S('a') }, { pk: S('a'), sk: S('a'), c: S('a'), z: S('a') }]) {
      await refused(query({ IndexName: 'byC', ExclusiveStartKey: key, ...onZ }), INVALID_START);
    }
    await refused(query({ IndexName: 'byG', ExclusiveStartKey: { pk: S('a'), sk: S('a'), z: S('a') }, ...onZ }), INVALID_START);
    // The index's hash key attribute of another type, before the key condition misses it.
    await refused(query({ IndexName: 'byG', ExclusiveStartKey: { x: S('1'), y: S('1'), g: N(1) }, ...onZ }), SCHEMA);
    await refused(query({ IndexName: 'byG', ExclusiveStartKey: { x: N(1), y: N(1), g: S('1') }, ...onZ }), 'Query condition missed key schema element: g');
    // The index's range key is checked after the hash key's condition.
    const onPk = { KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': S('b') } };
    await refused(query({ IndexName: 'byC', ExclusiveStartKey: { pk: S('a'), sk: S('a'), c: N(1) }, ...onPk }), SCHEMA);
    // The table's key attributes come last, worded as a bad starting key.
    await refused(query({ IndexName: 'byC', ExclusiveStartKey: { pk: S('1'), sk: N(1), c: S('a') }, ...onPk }), `${INVALID_START}: ${SCHEMA}`);
    const onG = { KeyConditionExpression: 'g = :g', ExpressionAttributeValues: { ':g': S('b') } };
    await refused(query({ IndexName: 'byG', ExclusiveStartKey: { x: N(1), y: N(1), g: S('a') }, ...onG }), `${INVALID_START}: ${SCHEMA}`);
    await refused(query({ IndexName: 'byGD', ExclusiveStartKey: { pk: S('1'), sk: N(1), g: S('a'), d: S('a') }, ...onG }), `${INVALID_START}: ${SCHEMA}`);
    // A valid start key, then where it lies against the condition.
    await refused(query({ IndexName: 'byG', ExclusiveStartKey: { pk: S('a'), sk: S('a'), g: S('a') }, ...onG }),
      'The provided starting key is outside query boundaries based on provided conditions');
  });

  it('a Query on a global index checks Select ALL_ATTRIBUTES after its start key, key condition and filter', async () => {
    const all = { IndexName: 'byGD', Select: 'ALL_ATTRIBUTES' as const };
    const onG = { KeyConditions: { g: { ComparisonOperator: 'EQ' as const, AttributeValueList: [S('b')] } } };
    await refused(query({ ...all, ExclusiveStartKey: { pk: N(1), sk: N(1), g: S('1'), e: N(1) }, ...onG }), INVALID_START);
    await refused(query({
      ...all, ExclusiveStartKey: { pk: S('a'), sk: S('a'), g: S('a'), d: S('a') },
      KeyConditions: { g: { ComparisonOperator: 'EQ', AttributeValueList: [S('b')] }, sk: { ComparisonOperator: 'NULL' } },
    }), 'Query condition missed key schema element: d');
    await refused(query({ ...all, ...onG, QueryFilter: { d: { ComparisonOperator: 'EQ', AttributeValueList: [S('a')] } } }),
      'QueryFilter can only contain non-primary key attributes: Primary key attribute: d');
    await refused(query({ ...all, ...onG, ExclusiveStartKey: { pk: S('a'), sk: S('a'), g: S('b'), d: S('a') } }),
      'One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index byGD because its projection type is not ALL');
  });

  it('a Scan checks the size and the index key attributes, then Select, then the table key', async () => {
    for (const key of [{}, { pk: S('a'), c: S('a') }, { pk: S('a'), sk: S('a'), c: S('a'), d: S('a') }]) {
      await refused(scan({ IndexName: 'byC', ExclusiveStartKey: key }), INVALID_START);
    }
    await refused(scan({ IndexName: 'byC', ExclusiveStartKey: { pk: N(1), x: S('1'), y: S('1') } }), SCHEMA);
    await refused(scan({ IndexName: 'byGD', ExclusiveStartKey: { x: N(1), y: N(1), g: S('1'), d: N(1) } }), SCHEMA);
    await refused(scan({ IndexName: 'byGD', Select: 'ALL_ATTRIBUTES', ExclusiveStartKey: { x: N(1), y: N(1), g: S('1'), d: S('1') } }),
      'One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index byGD because its projection type is not ALL');
    await refused(scan({ IndexName: 'byGD', ExclusiveStartKey: { x: N(1), y: N(1), g: S('1'), d: S('1') } }), `${INVALID_START}: ${SCHEMA}`);
    await refused(scan({ IndexName: 'byC', ExclusiveStartKey: { pk: S('1'), sk: N(1), c: S('a') } }), `${INVALID_START}: ${SCHEMA}`);
  });
});

describe('paths into index keys', () => {
  it('a projection or filter may not reach inside a key attribute of the table or of an index', async () => {
    const key: Item = { pk: S('a'), sk: S('b') };
    await refused(db.getItem({ TableName: 'things', Key: key, ProjectionExpression: '#d.b.c', ExpressionAttributeNames: { '#d': 'd' } }), `${SCALARS}: IndexKey: d`);
    await refused(db.getItem({ TableName: 'things', Key: key, ProjectionExpression: 'c[0], sk.x' }), `${SCALARS}: Key: sk`);
    const onPk = { KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': S('1'), ':n': N(1) } };
    await refused(query({ ...onPk, FilterExpression: 'attribute_exists(d.c) AND c = :n' }), `${SCALARS}: IndexKey: d`);
    await refused(query({ ...onPk, FilterExpression: 'g[1] = :n' }), `${SCALARS}: IndexKey: g`);
    // Reading an index, the table's key attributes are still keys.
    await refused(query({ IndexName: 'byG', KeyConditionExpression: 'g = :g', ExpressionAttributeValues: { ':g': S('1') }, ProjectionExpression: 'pk.x' }), `${SCALARS}: Key: pk`);
    await refused(scan({ FilterExpression: 'attribute_exists(c.x)' }), `${SCALARS}: IndexKey: c`);
  });
});

describe('updates of index keys', () => {
  const key: Item = { pk: S('u'), sk: S('1') };
  const update = (input: Record<string, unknown>) => db.updateItem({ TableName: 'things', Key: key, ...input });

  it('a value of another type than the index key is refused before the item is read, then paths into index keys', async () => {
    // The item does not exist: reading `e` or `c[1]` would fail, the types are checked first.
    await refused(update({ UpdateExpression: 'SET e = c[1], c = e + :n', ExpressionAttributeValues: { ':n': N(1) } }),
      'One or more parameter values were invalid: Type mismatch for Index Key c Expected: S Actual: N IndexName: byC');
    // Global indexes are named before local ones.
    await refused(update({ AttributeUpdates: { c: { Value: N(1) }, g: { Value: N(2) } } }),
      'One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: byG');
    await refused(update({ UpdateExpression: 'SET d.a = pk ADD g :n', ExpressionAttributeValues: { ':n': N(1) } }),
      'One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: byG');
    await refused(update({ UpdateExpression: 'SET g = if_not_exists(g, :l)', ExpressionAttributeValues: { ':l': { L: [] } } }),
      'One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: L IndexName: byG');
    for (const expression of ['ADD d.b :n', 'SET d[1] = :n', 'SET e = list_append(:l, :l), f = d[1]']) {
      const values = { ':n': N(1), ':l': { L: [] } };
      const used = Object.fromEntries(Object.entries(values).filter(([name]) => expression.includes(name)));
      await refused(update({ UpdateExpression: expression, ExpressionAttributeValues: used }), `${SCALARS}: IndexKey: d`);
    }
    await refused(update({ UpdateExpression: 'SET e = pk.x' }), `${SCALARS}: Key: pk`);
  });

  it('a value read from the item is checked when the update applies', async () => {
    await update({ UpdateExpression: 'SET e = :n, s = :s', ExpressionAttributeValues: { ':n': N(1), ':s': S('ok') } });
    for (const expression of ['SET c = e', 'SET d = e', 'SET g = if_not_exists(nothing, e)']) {
      await refused(update({ UpdateExpression: expression }), 'The update expression attempted to update the secondary index key to unsupported type');
    }
    // A value of the right type read from the item is fine.
    await update({ UpdateExpression: 'SET c = s' });
  });
});
