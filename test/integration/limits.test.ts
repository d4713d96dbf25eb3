/**
 * DynamoDB's limits through the embedded API: each bad request gets DynamoDB's error type
 * and message, and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttributeValue, Item, ShardBox } from '../../src/index.js';
import { itemSize } from '../../src/model/item-size.js';
import { createHashTable, createRangeTable, expectDynamoError, openCluster } from './helpers.js';

let db: ShardBox;
const KEY = { id: { S: 'limits' } };
const ORIGINAL: Item = { ...KEY, n: { N: '1' }, s: { SS: ['a'] }, m: { M: { a: { M: {} } } } };

beforeAll(async () => {
  db = await openCluster({ partitions: 2 });
  await createHashTable(db, 'items');
  await createRangeTable(db, 'ranges');
});

afterAll(async () => {
  await db?.close();
});

async function current(key: Item = KEY, table = 'items'): Promise<Item | undefined> {
  return (await db.getItem({ TableName: table, Key: key, ConsistentRead: true })).Item;
}

/** Expects `request` to fail with `message` and the test item to be exactly as it was. */
async function rejectedUnchanged(request: Promise<unknown>, message: string | RegExp, name = 'ValidationException'): Promise<void> {
  await expectDynamoError(request, name, message);
  expect(await current()).toEqual(ORIGINAL);
}

function nested(levels: number): AttributeValue {
  let v: AttributeValue = { S: 'leaf' };
  for (let i = 0; i < levels; i++) v = { M: { n: v } };
  return v;
}

describe('limits', () => {
  beforeAll(async () => {
    await db.putItem({ TableName: 'items', Item: ORIGINAL });
  });

  it('item size: exactly 400 KB (409,600 bytes) is accepted and one byte more is not, for puts, batch puts and the result of updates', async () => {
    // DynamoDB's limit is "item ≤ 400 KB" counting names and values (item-size.ts). With a
    // 6-character id: id(2) + its value(6) + b(1) + `max` characters = 409,600 bytes.
    const max = 400 * 1024 - 9;
    const sized = (id: string, extraBytes = 0): Item => ({ id: { S: id }, b: { S: 'x'.repeat(max + extraBytes) } });
    expect(itemSize(sized('put-ok'))).toBe(409_600);
    /** The item stored under `id` is the 409,600-byte one, read back whole. */
    const expectStoredAtMax = async (id: string) => expect(await current({ id: { S: id } })).toEqual(sized(id));
    const tooLarge = 'Item size has exceeded the maximum allowed size';

    await db.putItem({ TableName: 'items', Item: sized('put-ok') });
    await expectStoredAtMax('put-ok');
    await expectDynamoError(db.putItem({ TableName: 'items', Item: sized('put-ok', 1) }), 'ValidationException', tooLarge);
    await expectStoredAtMax('put-ok');

    expect(await db.batchWriteItem({ RequestItems: { items: [{ PutRequest: { Item: sized('bat-ok') } }] } })).toEqual({ UnprocessedItems: {} });
    await expectStoredAtMax('bat-ok');
    await expectDynamoError(db.batchWriteItem({ RequestItems: { items: [{ PutRequest: { Item: sized('bat-ok', 1) } }] } }), 'ValidationException', tooLarge);
    await expectStoredAtMax('bat-ok');

    // An update is checked on the item it produces.
    await db.putItem({ TableName: 'items', Item: { id: { S: 'upd-ok' } } });
    const setB = (chars: number) => db.updateItem({
      TableName: 'items', Key: { id: { S: 'upd-ok' } }, UpdateExpression: 'SET b = :v', ExpressionAttributeValues: { ':v': { S: 'x'.repeat(chars) } },
    });
    await setB(max);
    await expectStoredAtMax('upd-ok');
    await expectDynamoError(setB(max + 1), 'ValidationException', 'Item size to update has exceeded the maximum allowed size');
    await expectStoredAtMax('upd-ok');
    await rejectedUnchanged(db.updateItem({
      TableName: 'items', Key: KEY, UpdateExpression: 'SET big = :v', ExpressionAttributeValues: { ':v': { S: 'x'.repeat(max) } },
    }), 'Item size to update has exceeded the maximum allowed size');
  });

  it('key sizes: partition key 2048 bytes, sort key 1024 bytes, counted in UTF-8', async () => {
    const hash = 'é'.repeat(1024); // 2048 bytes
    const hashTooBig = 'One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes';
    const rangeTooBig = 'One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes';
    await expectDynamoError(db.putItem({ TableName: 'ranges', Item: { pk: { S: `${hash}a` }, sk: { S: 'a' } } }), 'ValidationException', hashTooBig);
    await expectDynamoError(db.getItem({ TableName: 'ranges', Key: { pk: { S: 'a' }, sk: { S: `${'ü'.repeat(512)}a` } } }), 'ValidationException', rangeTooBig);
    await expectDynamoError(db.updateItem({ TableName: 'items', Key: { id: { B: new Uint8Array(2049) } }, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': { S: 'x' } } }),
      'ValidationException', /The provided key element does not match the schema/);
    await expectDynamoError(db.deleteItem({ TableName: 'items', Key: { id: { S: 'k'.repeat(2049) } } }), 'ValidationException', hashTooBig);
  });

  it('keys up to DynamoDB\'s limits (2048 + 1024 bytes) are stored, found, updated, deleted and queried in order', async () => {
    // These encode longer than an LMDB key may be: the B-tree stores a prefix and a digest
    // (stored-key.ts), and every one of these items shares that whole prefix.
    const pk = { S: 'é'.repeat(1024) }; // 2048 bytes
    const sortKeys = ['b', 'a', 'd', 'c', 'ab', 'e'].map((tail) => `${'ü'.repeat(500)}${tail}`); // up to 1002 bytes
    await db.batchWriteItem({ RequestItems: { ranges: sortKeys.slice(0, 3).map((sk) => ({ PutRequest: { Item: { pk, sk: { S: sk }, v: { N: '1' } } } })) } });
    for (const sk of sortKeys.slice(3)) await db.putItem({ TableName: 'ranges', Item: { pk, sk: { S: sk }, v: { N: '1' } } });
    const ordered = [...sortKeys].sort();
    const sks = (items: Item[] | undefined) => (items ?? []).map((item) => item.sk.S!.slice(500));
    const query = async (extra: Record<string, unknown>, values: Record<string, AttributeValue> = {}) => db.query({
      TableName: 'ranges', ConsistentRead: true, ExpressionAttributeValues: { ':p': pk, ...values }, KeyConditionExpression: 'pk = :p', ...extra,
    });
    expect(sks((await query({})).Items)).toEqual(ordered.map((sk) => sk.slice(500)));
    expect(sks((await query({ ScanIndexForward: false })).Items)).toEqual(ordered.map((sk) => sk.slice(500)).reverse());
    const bound = { ':lo': { S: sortKeys[4] }, ':hi': { S: sortKeys[3] } }; // 'ab' .. 'c'
    expect(sks((await query({ KeyConditionExpression: 'pk = :p AND sk BETWEEN :lo AND :hi' }, bound)).Items)).toEqual(['ab', 'b', 'c']);
    expect(sks((await query({ KeyConditionExpression: 'pk = :p AND sk > :lo', ScanIndexForward: false }, { ':lo': bound[':lo'] })).Items)).toEqual(['e', 'd', 'c', 'b']);
    expect(sks((await query({ KeyConditionExpression: 'pk = :p AND begins_with(sk, :a)' }, { ':a': { S: `${'ü'.repeat(500)}a` } })).Items)).toEqual(['a', 'ab']);
    // Pages of two, each continuing after the last key of the one before.
    const paged: string[] = [];
    let start: Item | undefined;
    do {
      const page = await query({ Limit: 2, ...(start ? { ExclusiveStartKey: start } : {}) });
      paged.push(...sks(page.Items));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    expect(paged).toEqual(ordered.map((sk) => sk.slice(500)));
    // Point operations on them.
    const key = { pk, sk: { S: sortKeys[0] } };
    await db.updateItem({ TableName: 'ranges', Key: key, UpdateExpression: 'ADD v :one', ExpressionAttributeValues: { ':one': { N: '1' } } });
    expect((await current(key, 'ranges'))?.v).toEqual({ N: '2' });
    await expectDynamoError(db.putItem({ TableName: 'ranges', Item: { ...key, v: { N: '9' } }, ConditionExpression: 'attribute_not_exists(pk)' }),
      'ConditionalCheckFailedException', 'The conditional request failed');
    await db.deleteItem({ TableName: 'ranges', Key: { pk, sk: { S: sortKeys[1] } } });
    expect(await current({ pk, sk: { S: sortKeys[1] } }, 'ranges')).toBeUndefined();
    expect((await query({ Select: 'COUNT' })).Count).toBe(sortKeys.length - 1);
    // A 2048-byte partition key alone, and a Scan that walks past all of them.
    await db.putItem({ TableName: 'items', Item: { id: { S: 'k'.repeat(2048) } } });
    expect(await current({ id: { S: 'k'.repeat(2048) } })).toEqual({ id: { S: 'k'.repeat(2048) } });
    const scanned = await db.scan({ TableName: 'ranges', ConsistentRead: true });
    expect(scanned.Items!.filter((item) => item.pk.S === pk.S).length).toBe(sortKeys.length - 1);
    for (let node = 0; node < db.nodeCount; node++) expect(db.isNodeAlive(node)).toBe(true);
  });

  it('empty strings and binaries in keys', async () => {
    await expectDynamoError(db.putItem({ TableName: 'items', Item: { id: { S: '' } } }), 'ValidationException',
      'One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: id');
    await expectDynamoError(db.getItem({ TableName: 'ranges', Key: { pk: { S: 'a' }, sk: { S: '' } } }), 'ValidationException',
      'One or more parameter values were invalid: The AttributeValue for a key attribute cannot contain an empty string value. Key: sk');
    // Empty values are fine outside keys.
    const emptyValues: Item = { id: { S: 'empty-ok' }, s: { S: '' }, b: { B: new Uint8Array() } };
    await db.putItem({ TableName: 'items', Item: emptyValues });
    expect(await current({ id: { S: 'empty-ok' } })).toEqual({ ...emptyValues, b: { B: Buffer.alloc(0) } }); // binaries come back as Buffers
  });

  it('sets: never empty, no duplicate members, wherever a value comes from', async () => {
    const emptySet = 'One or more parameter values were invalid: An string set  may not be empty';
    await rejectedUnchanged(db.putItem({ TableName: 'items', Item: { ...KEY, s: { SS: [] } } }), emptySet);
    await rejectedUnchanged(db.putItem({ TableName: 'items', Item: { ...KEY, s: { NS: ['1', '1.0'] } } }), 'Input collection contains duplicates');
    await rejectedUnchanged(db.updateItem({ TableName: 'items', Key: KEY, UpdateExpression: 'ADD s :s', ExpressionAttributeValues: { ':s': { SS: ['b', 'b'] } } }),
      'ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: Input collection [b, b] contains duplicates. for key :s');
    // The legacy AttributeUpdates and Expected values are checked like an item's.
    await rejectedUnchanged(db.updateItem({ TableName: 'items', Key: KEY, AttributeUpdates: { s: { Action: 'PUT', Value: { SS: [] } } } }), emptySet);
    await rejectedUnchanged(db.updateItem({ TableName: 'items', Key: KEY, AttributeUpdates: { s: { Action: 'ADD', Value: { BS: [] } } } }),
      'One or more parameter values were invalid: Binary sets should not be empty');
    await rejectedUnchanged(db.putItem({ TableName: 'items', Item: { ...KEY, x: { S: 'y' } }, Expected: { s: { Value: { SS: [] } } } }), emptySet);
  });

  it('numbers: 38 digits, magnitude 1E-130 to 9.99E+125, in items and in arithmetic', async () => {
    await rejectedUnchanged(db.putItem({ TableName: 'items', Item: { ...KEY, n: { N: '1'.repeat(39) } } }), 'Attempting to store more than 38 significant digits in a Number');
    await rejectedUnchanged(db.putItem({ TableName: 'items', Item: { ...KEY, n: { N: '1e-131' } } }), 'Number underflow. Attempting to store a number with magnitude smaller than supported range');
    await rejectedUnchanged(db.updateItem({ TableName: 'items', Key: KEY, AttributeUpdates: { n: { Action: 'ADD', Value: { N: '1e126' } } } }),
      'Number overflow. Attempting to store a number with magnitude larger than supported range');
    // 9.99…E+125 + 9.99…E+125 overflows when applied.
    const big = `9.${'9'.repeat(37)}E+125`;
    await db.putItem({ TableName: 'items', Item: { id: { S: 'big' }, n: { N: big } } });
    await expectDynamoError(db.updateItem({ TableName: 'items', Key: { id: { S: 'big' } }, UpdateExpression: 'SET n = n + n' }), 'ValidationException',
      'Number overflow. Attempting to store a number with magnitude larger than supported range');
    expect((await current({ id: { S: 'big' } }))?.n).toEqual({ N: `9${'9'.repeat(37)}${'0'.repeat(88)}` });
    // Legacy values are stored canonical, like everything else.
    await db.updateItem({ TableName: 'items', Key: { id: { S: 'canon' } }, AttributeUpdates: { n: { Action: 'PUT', Value: { N: '01.50' } } } });
    expect((await current({ id: { S: 'canon' } }))?.n).toEqual({ N: '1.5' });
  });

  it('nesting: 32 levels, in items, in values and in what an update builds', async () => {
    const nesting = 'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit';
    await db.putItem({ TableName: 'items', Item: { id: { S: 'deep' }, d: nested(31) } });
    await rejectedUnchanged(db.putItem({ TableName: 'items', Item: { ...KEY, d: nested(32) } }), nesting);
    await rejectedUnchanged(db.updateItem({ TableName: 'items', Key: KEY, UpdateExpression: 'SET d = :d', ExpressionAttributeValues: { ':d': nested(32) } }),
      `ExpressionAttributeValues contains invalid value: ${nesting} for key :d`);
    // m.a is a map at level 2: a value 31 levels tall written at m.a.b reaches level 33 (too
    // deep), one 30 levels tall reaches level 32 (fine).
    await db.updateItem({ TableName: 'items', Key: { id: { S: 'deep' } }, UpdateExpression: 'SET d2 = :d', ExpressionAttributeValues: { ':d': nested(31) } });
    await rejectedUnchanged(db.updateItem({ TableName: 'items', Key: KEY, UpdateExpression: 'SET m.a.b = :d', ExpressionAttributeValues: { ':d': nested(30) } }), nesting);
    await db.putItem({ TableName: 'items', Item: { id: { S: 'deep2' }, m: { M: { a: { M: {} } } } } });
    await db.updateItem({ TableName: 'items', Key: { id: { S: 'deep2' } }, UpdateExpression: 'SET m.a.b = :d', ExpressionAttributeValues: { ':d': nested(29) } });
    expect(await current({ id: { S: 'deep' } })).toEqual({ id: { S: 'deep' }, d: nested(31), d2: nested(31) });
    expect(await current({ id: { S: 'deep2' } })).toEqual({ id: { S: 'deep2' }, m: { M: { a: { M: { b: nested(29) } } } } });
  });

  it('attribute names: at most 65535 bytes', async () => {
    const tooLarge = '1 validation error detected: Attribute name is too large, must be less than 65536 bytes';
    await db.putItem({ TableName: 'items', Item: { id: { S: 'long-name' }, ['a'.repeat(65535)]: { S: 'ok' } } });
    expect(await current({ id: { S: 'long-name' } })).toEqual({ id: { S: 'long-name' }, ['a'.repeat(65535)]: { S: 'ok' } });
    await rejectedUnchanged(db.putItem({ TableName: 'items', Item: { ...KEY, ['a'.repeat(65536)]: { S: 'x' } } }), tooLarge);
    await rejectedUnchanged(db.putItem({ TableName: 'items', Item: { ...KEY, m: { M: { ['é'.repeat(32768)]: { S: 'x' } } } } }), tooLarge);
    await rejectedUnchanged(db.updateItem({
      TableName: 'items', Key: KEY, UpdateExpression: 'SET #n = :v', ExpressionAttributeNames: { '#n': 'n'.repeat(65536) }, ExpressionAttributeValues: { ':v': { S: 'x' } },
    }), tooLarge);
    await rejectedUnchanged(db.updateItem({ TableName: 'items', Key: KEY, AttributeUpdates: { ['a'.repeat(65536)]: { Action: 'PUT', Value: { S: 'x' } } } }), tooLarge);
  });

  it('expressions: 4 KB each', async () => {
    const condition = `attribute_exists(${'a'.repeat(4096 - 18)})`;
    expect(Buffer.byteLength(condition)).toBe(4096);
    await expectDynamoError(db.putItem({ TableName: 'items', Item: { id: { S: 'expr' } }, ConditionExpression: condition }), 'ConditionalCheckFailedException');
    const over = `${condition} `;
    await rejectedUnchanged(db.putItem({ TableName: 'items', Item: { ...KEY }, ConditionExpression: over }),
      'Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097');
    const longUpdate = `SET ${'a'.repeat(4088)} = :v`; // 4097 bytes
    await rejectedUnchanged(db.updateItem({ TableName: 'items', Key: KEY, UpdateExpression: longUpdate, ExpressionAttributeValues: { ':v': { S: 'x' } } }),
      'Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; expression size: 4097');
    await expectDynamoError(db.getItem({ TableName: 'items', Key: KEY, ProjectionExpression: 'a,'.repeat(2049) + 'a' }), 'ValidationException',
      /^Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size/);
    await expectDynamoError(db.query({ TableName: 'items', KeyConditionExpression: `id = :v AND ${'x'.repeat(4090)}`, ExpressionAttributeValues: { ':v': { S: 'x' } } }),
      'ValidationException', /^Invalid KeyConditionExpression: Expression size has exceeded the maximum allowed size/);
    await expectDynamoError(db.scan({ TableName: 'items', FilterExpression: condition + ' ' }), 'ValidationException',
      /^Invalid FilterExpression: Expression size has exceeded the maximum allowed size/);
  });

  it('placeholders: syntax, 255 bytes, 2 MB of substitutions, none unused or undefined', async () => {
    const update = (names: Record<string, string> | undefined, values: Record<string, AttributeValue> | undefined, expression = 'SET #a = :a') =>
      db.updateItem({ TableName: 'items', Key: KEY, UpdateExpression: expression, ExpressionAttributeNames: names, ExpressionAttributeValues: values });
    const longName = `#${'n'.repeat(255)}`;
    const longValue = `:${'v'.repeat(255)}`;
    await rejectedUnchanged(update({ [longName]: 'a' }, { ':a': { S: 'x' } }, `SET ${longName} = :a`),
      'ExpressionAttributeNames contains invalid key: The expression attribute map contains a key that is too long; size of key: 256');
    await rejectedUnchanged(update({ '#a': 'a' }, { [longValue]: { S: 'x' } }, `SET #a = ${longValue}`),
      'ExpressionAttributeValues contains invalid key: The expression attribute map contains a key that is too long; size of key: 256');
    // 255 bytes is fine.
    await db.updateItem({
      TableName: 'items', Key: { id: { S: 'placeholders' } }, UpdateExpression: `SET ${longName.slice(0, 255)} = ${longValue.slice(0, 255)}`,
      ExpressionAttributeNames: { [longName.slice(0, 255)]: 'a' }, ExpressionAttributeValues: { [longValue.slice(0, 255)]: { S: 'x' } },
    });
    expect(await current({ id: { S: 'placeholders' } })).toEqual({ id: { S: 'placeholders' }, a: { S: 'x' } });
    await rejectedUnchanged(update({ 'a': 'a' }, { ':a': { S: 'x' } }), 'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"');
    await rejectedUnchanged(update({ '#a': 'a' }, { ':a-b': { S: 'x' } }), 'ExpressionAttributeValues contains invalid key: Syntax error; key: ":a-b"');
    await rejectedUnchanged(update({}, { ':a': { S: 'x' } }), 'ExpressionAttributeNames must not be empty');
    await rejectedUnchanged(update({ '#a': 'a', '#b': 'b' }, { ':a': { S: 'x' } }), 'Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}');
    await rejectedUnchanged(update({ '#a': 'a' }, { ':a': { S: 'x' }, ':b': { S: 'y' } }), 'Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}');
    await rejectedUnchanged(update({ '#a': 'a' }, { ':a': { S: 'x' } }, 'SET #a = :a, #c = :a'),
      'Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #c');
    await rejectedUnchanged(update({ '#a': 'a' }, { ':a': { S: 'x' } }, 'SET #a = :c'),
      'Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :c');
    // Six 390 KB values are more than 2 MB of substitutions.
    const values: Record<string, AttributeValue> = {};
    for (let i = 0; i < 6; i++) values[`:v${i}`] = { S: 'x'.repeat(390 * 1024) };
    await rejectedUnchanged(db.updateItem({
      TableName: 'items', Key: KEY, ConditionExpression: Object.keys(values).map((k) => `a <> ${k}`).join(' AND '), UpdateExpression: 'REMOVE zz', ExpressionAttributeValues: values,
    }), 'ExpressionAttributeValues exceeds max size');
  });

  it('reserved words as bare attribute names', async () => {
    await rejectedUnchanged(db.updateItem({ TableName: 'items', Key: KEY, UpdateExpression: 'SET size = :v', ExpressionAttributeValues: { ':v': { N: '1' } } }),
      'Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: size');
    await expectDynamoError(db.getItem({ TableName: 'items', Key: KEY, ProjectionExpression: 'Status' }), 'ValidationException',
      'Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: Status');
    await rejectedUnchanged(db.deleteItem({ TableName: 'items', Key: KEY, ConditionExpression: 'attribute_exists(data)' }),
      'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: data');
    // With a placeholder it is fine.
    expect((await db.getItem({ TableName: 'items', Key: KEY, ProjectionExpression: '#s', ExpressionAttributeNames: { '#s': 's' }, ConsistentRead: true })).Item).toEqual({ s: ORIGINAL.s });
  });
});
