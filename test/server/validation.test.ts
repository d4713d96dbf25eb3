/**
 * Conformance of request validation, through the AWS SDK over real HTTP: each bad request
 * gets DynamoDB's error name and DynamoDB's exact message, with HTTP 400, and changes
 * nothing.
 *
 * The messages were checked against DynamoDB's own, as quoted by tests that run against
 * DynamoDB (dynalite's, moto's aws_verified ones) and by users' reports; the few that could
 * not be found are marked "message not confirmed against DynamoDB".
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
  type ScanCommandInput,
  type UpdateItemCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { startServer, type ShardBoxServer } from '../../src/server/http.js';
import { createPkTable, httpClient, openDb, rejection, wireRequest } from './helpers.js';

type Item = Record<string, AttributeValue>;

let db: ShardBox;
let server: ShardBoxServer;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: string | number): AttributeValue => ({ N: String(n) });
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

/** The item every refused write below aims at, and must leave exactly as it is. */
const KEY: Item = { pk: S('sentinel') };
const SENTINEL: Item = { ...KEY, n: N(1), s: S('x'), ss: { SS: ['a'] }, l: { L: [N(1)] }, m: { M: { a: { M: {} } } } };
const RANGED_KEY: Item = { pk: S('sentinel'), sk: N(1) };
const RANGED: Item = { ...RANGED_KEY, v: N(1) };

/** `items`: pk S. `ranged`: pk S + sk N. `sorted`: pk S + sk S. `blobs`: pk B. */
beforeAll(async () => {
  db = await openDb();
  server = await startServer(db, { port: 0 });
  client = httpClient(server.url);
  doc = DynamoDBDocumentClient.from(client);
  await Promise.all([createPkTable(client, 'items', 'S'), createPkTable(client, 'ranged', 'S', 'N'), createPkTable(client, 'sorted', 'S', 'S'), createPkTable(client, 'blobs', 'B')]);
  await client.send(new PutItemCommand({ TableName: 'items', Item: SENTINEL }));
  await client.send(new PutItemCommand({ TableName: 'ranged', Item: RANGED }));
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
  await db?.close();
});

async function get(key: Item, table = 'items'): Promise<Item | undefined> {
  return (await client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
}

/**
 * Expects `send` to be refused with `name` and exactly `message` (a RegExp only where
 * DynamoDB's message embeds a value it prints its own way), HTTP 400, and both sentinel
 * items, and every key in `absent`, to be as they were.
 */
async function refused(send: () => Promise<unknown>, message: string | RegExp, options: { name?: string; absent?: Array<[Item, string]> } = {}): Promise<void> {
  const error = await rejection(send);
  expect(error.name).toBe(options.name ?? 'ValidationException');
  if (typeof message === 'string') expect(error.message).toBe(message);
  else expect(error.message).toMatch(message);
  expect(error.$metadata?.httpStatusCode).toBe(400);
  expect(await get(KEY)).toEqual(SENTINEL);
  expect(await get(RANGED_KEY, 'ranged')).toEqual(RANGED);
  for (const [key, table] of options.absent ?? []) expect(await get(key, table)).toBeUndefined();
}

const putItem = (Item: Item, table = 'items', extra: Record<string, unknown> = {}) => () => client.send(new PutItemCommand({ TableName: table, Item, ...extra }));
const updateItem = (input: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>, key: Item = KEY, table = 'items') =>
  () => client.send(new UpdateItemCommand({ TableName: table, Key: key, ...input }));
const query = (input: Partial<QueryCommandInput>) => () => client.send(new QueryCommand({ TableName: 'ranged', ...input } as QueryCommandInput));
const scan = (input: Partial<ScanCommandInput>) => () => client.send(new ScanCommand({ TableName: 'ranged', ...input }));

const INVALID = 'One or more parameter values were invalid: ';

function nested(levels: number): AttributeValue {
  let v: AttributeValue = S('leaf');
  for (let i = 0; i < levels; i++) v = { M: { n: v } };
  return v;
}

describe('item size', () => {
  // pk (2) + 'sentinel' (8) + b (1) + the value: 409,600 bytes in all at most.
  const max = 400 * 1024 - 11;

  it('an item over 400 KB is refused by PutItem and BatchWriteItem; one of exactly 400 KB is stored', async () => {
    await refused(putItem({ ...KEY, b: S('x'.repeat(max + 1)) }), 'Item size has exceeded the maximum allowed size');
    await refused(() => client.send(new BatchWriteItemCommand({ RequestItems: { items: [{ PutRequest: { Item: { ...KEY, b: S('x'.repeat(max + 1)) } } }] } })),
      'Item size has exceeded the maximum allowed size');
    // 'exact' is 3 bytes shorter than 'sentinel'... and 3 more bytes of value make it exactly 400 KB.
    await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: S('exact'), b: S('x'.repeat(max + 3)) } }));
    expect((await get({ pk: S('exact') }))?.b?.S?.length).toBe(max + 3);
  });

  it('an update that would make the item over 400 KB is refused', async () => {
    await refused(updateItem({ UpdateExpression: 'SET big = :v', ExpressionAttributeValues: { ':v': S('x'.repeat(max)) } }),
      'Item size to update has exceeded the maximum allowed size');
  });
});

describe('key values', () => {
  const hashTooBig = `${INVALID}Size of hashkey has exceeded the maximum size limit of2048 bytes`; // sic: no space
  const rangeTooBig = `${INVALID}Aggregated size of all range keys has exceeded the size limit of 1024 bytes`;

  it('a partition key over 2048 bytes (UTF-8) is refused, wherever a key is given', async () => {
    const long = 'k'.repeat(2049);
    const wide = 'é'.repeat(1025); // 2050 bytes
    await refused(putItem({ pk: S(long) }), hashTooBig);
    await refused(() => client.send(new GetItemCommand({ TableName: 'items', Key: { pk: S(wide) } })), hashTooBig);
    await refused(updateItem({ UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': S('x') } }, { pk: S(wide) }), hashTooBig);
    await refused(() => client.send(new DeleteItemCommand({ TableName: 'items', Key: { pk: S(long) } })), hashTooBig);
    await refused(() => client.send(new BatchGetItemCommand({ RequestItems: { items: { Keys: [{ pk: S(long) }] } } })), hashTooBig);
    await refused(putItem({ pk: { B: new Uint8Array(2049) } }, 'blobs'), hashTooBig);
  });

  it('a sort key over 1024 bytes (UTF-8) is refused', async () => {
    const long = `${'ü'.repeat(512)}a`; // 1025 bytes
    await refused(putItem({ pk: S('a'), sk: S(long) }, 'sorted'), rangeTooBig);
    await refused(() => client.send(new GetItemCommand({ TableName: 'sorted', Key: { pk: S('a'), sk: S(long) } })), rangeTooBig);
    await refused(() => client.send(new DeleteItemCommand({ TableName: 'sorted', Key: { pk: S('a'), sk: S(long) } })), rangeTooBig);
    // 1024 bytes is fine.
    await client.send(new PutItemCommand({ TableName: 'sorted', Item: { pk: S('a'), sk: S('ü'.repeat(512)) } }));
    expect(await get({ pk: S('a'), sk: S('ü'.repeat(512)) }, 'sorted')).toEqual({ pk: S('a'), sk: S('ü'.repeat(512)) });
  });

  it('a key at DynamoDB\'s limits (2048-byte partition key, 1024-byte sort key) is stored and found', async () => {
    const key = { pk: S('é'.repeat(1024)), sk: S('ü'.repeat(512)) };
    await client.send(new PutItemCommand({ TableName: 'sorted', Item: key }));
    expect(await get(key, 'sorted')).toEqual(key);
    await client.send(new DeleteItemCommand({ TableName: 'sorted', Key: key }));
    expect(await get(key, 'sorted')).toBeUndefined();
  });

  it('an empty string or binary key value is refused', async () => {
    // DynamoDB words it "are not valid." in an item being written, "were invalid:" in a Key.
    const inItem = 'One or more parameter values are not valid. ';
    const inKey = 'One or more parameter values were invalid: ';
    const emptyString = (key: string) => `The AttributeValue for a key attribute cannot contain an empty string value. Key: ${key}`;
    const emptyBinary = 'The AttributeValue for a key attribute cannot contain an empty binary value. Key: pk';
    await refused(putItem({ pk: S('') }), inItem + emptyString('pk'));
    await refused(() => client.send(new GetItemCommand({ TableName: 'sorted', Key: { pk: S('a'), sk: S('') } })), inKey + emptyString('sk'));
    await refused(putItem({ pk: { B: bytes() } }, 'blobs'), inItem + emptyBinary);
    await refused(() => client.send(new DeleteItemCommand({ TableName: 'blobs', Key: { pk: { B: bytes() } } })), inKey + emptyBinary);
    // Empty values are fine outside keys.
    await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: S('empties'), s: S(''), b: { B: bytes() } } }));
  });

  it('a key of the wrong type, missing a key attribute or with extra attributes does not match the schema', async () => {
    const mismatch = 'The provided key element does not match the schema';
    const keys: Item[] = [{ pk: N(1) }, { other: S('x') }, { pk: S('sentinel'), other: S('x') }, {}];
    for (const key of keys) {
      await refused(() => client.send(new GetItemCommand({ TableName: 'items', Key: key })), mismatch);
    }
    await refused(() => client.send(new GetItemCommand({ TableName: 'ranged', Key: { pk: S('sentinel') } })), mismatch);
    await refused(() => client.send(new GetItemCommand({ TableName: 'ranged', Key: { pk: S('sentinel'), sk: S('1') } })), mismatch);
    await refused(() => client.send(new DeleteItemCommand({ TableName: 'ranged', Key: { pk: S('sentinel') } })), mismatch);
    await refused(updateItem({ UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': N(2) } }, { pk: S('sentinel') }, 'ranged'), mismatch);
    await refused(() => client.send(new BatchGetItemCommand({ RequestItems: { ranged: { Keys: [{ pk: S('sentinel') }] } } })), mismatch);
    await refused(() => client.send(new BatchWriteItemCommand({ RequestItems: { ranged: [{ PutRequest: { Item: { pk: S('sentinel'), v: N(2) } } }] } })), mismatch);
    // PutItem words it its own way.
    await refused(putItem({ pk: S('sentinel'), v: N(2) }, 'ranged'), `${INVALID}Missing the key sk in the item`);
    await refused(putItem({ pk: S('sentinel'), sk: S('1'), v: N(2) }, 'ranged'), `${INVALID}Type mismatch for key sk expected: N actual: S`);
    await refused(putItem({ pk: N(1) }), `${INVALID}Type mismatch for key pk expected: S actual: N`);
  });
});

describe('attribute values', () => {
  it('empty sets are refused, in items and in expression values', async () => {
    await refused(putItem({ ...KEY, e: { SS: [] } }), `${INVALID}An string set  may not be empty`); // sic: two spaces
    await refused(putItem({ ...KEY, e: { NS: [] } }), `${INVALID}An number set  may not be empty`);
    await refused(putItem({ ...KEY, e: { BS: [] } }), `${INVALID}Binary sets should not be empty`);
    await refused(updateItem({ UpdateExpression: 'ADD ss :s', ExpressionAttributeValues: { ':s': { SS: [] } } }),
      `ExpressionAttributeValues contains invalid value: ${INVALID}An string set  may not be empty for key :s`);
  });

  it('sets with duplicate members are refused', async () => {
    await refused(putItem({ ...KEY, e: { SS: ['a', 'a'] } }), `${INVALID}Input collection [a, a] contains duplicates.`);
    await refused(putItem({ ...KEY, e: { NS: ['1', '1'] } }), 'Input collection contains duplicates');
    await refused(putItem({ ...KEY, e: { BS: [bytes(98), bytes(98)] } }), `${INVALID}Input collection [Yg==, Yg==]of type BS contains duplicates.`); // sic
    await refused(updateItem({ UpdateExpression: 'ADD ss :s', ExpressionAttributeValues: { ':s': { SS: ['b', 'b'] } } }),
      `ExpressionAttributeValues contains invalid value: ${INVALID}Input collection [b, b] contains duplicates. for key :s`);
  });

  it('numbers must be numbers of at most 38 significant digits, within 1E-130 to 9.9…E+125', async () => {
    const cases: Array<[string, string]> = [
      ['123456789012345678901234567890123456789', 'Attempting to store more than 38 significant digits in a Number'],
      ['-1.23456789012345678901234567890123456789', 'Attempting to store more than 38 significant digits in a Number'],
      ['1e126', 'Number overflow. Attempting to store a number with magnitude larger than supported range'],
      ['-1e126', 'Number overflow. Attempting to store a number with magnitude larger than supported range'],
      ['1e-131', 'Number underflow. Attempting to store a number with magnitude smaller than supported range'],
      ['-1e-131', 'Number underflow. Attempting to store a number with magnitude smaller than supported range'],
      ['b', 'The parameter cannot be converted to a numeric value: b'],
      ['', 'The parameter cannot be converted to a numeric value'],
    ];
    for (const [n, message] of cases) {
      await refused(putItem({ ...KEY, n: N(n) }), message);
      await refused(updateItem({ UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': N(n) } }),
        `ExpressionAttributeValues contains invalid value: ${message} for key :n`);
    }
    await refused(putItem({ ...KEY, ns: { NS: ['1', 'b', 'a'] } }), 'The parameter cannot be converted to a numeric value: b');
    // The limits themselves are fine.
    await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: S('numbers'), a: N('9.9999999999999999999999999999999999999E+125'), b: N('-1E-130'), c: N('12345678901234567890123456789012345678') } }));
    // message not confirmed against DynamoDB for arithmetic (it is DynamoDB's message for a stored number).
    await refused(updateItem({ UpdateExpression: 'SET n = :big + :big', ExpressionAttributeValues: { ':big': N('9.9E+125') } }),
      'Number overflow. Attempting to store a number with magnitude larger than supported range');
  });

  it('nesting is at most 32 levels deep', async () => {
    const nesting = 'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit';
    await refused(putItem({ ...KEY, d: nested(32) }), nesting);
    await refused(updateItem({ UpdateExpression: 'SET d = :d', ExpressionAttributeValues: { ':d': nested(32) } }),
      `ExpressionAttributeValues contains invalid value: ${nesting} for key :d`);
    // m.a is a map at level 2: a value 31 levels tall written at m.a.b would reach level 33.
    await refused(updateItem({ UpdateExpression: 'SET m.a.b = :d', ExpressionAttributeValues: { ':d': nested(30) } }), nesting);
    await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: S('deep'), d: nested(31) } }));
  });
});

describe('expressions', () => {
  it('an expression over 4 KB is refused; one of exactly 4 KB is fine', async () => {
    const condition = `attribute_exists(${'a'.repeat(4096 - 18)})`;
    expect(Buffer.byteLength(condition)).toBe(4096);
    await client.send(new UpdateItemCommand({ TableName: 'items', Key: { pk: S('four-kb') }, UpdateExpression: 'SET a = :a', ConditionExpression: `attribute_not_exists(${'a'.repeat(4096 - 22)})`, ExpressionAttributeValues: { ':a': N(1) } }));
    await refused(updateItem({ UpdateExpression: 'REMOVE zz', ConditionExpression: `${condition} ` }),
      'Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097');
    await refused(updateItem({ UpdateExpression: `SET ${'a'.repeat(4088)} = :v`, ExpressionAttributeValues: { ':v': N(1) } }),
      'Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; expression size: 4097');
    await refused(scan({ FilterExpression: `${condition}  ` }),
      'Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: 4098');
  });

  it('placeholders must be used, and defined', async () => {
    await refused(updateItem({ UpdateExpression: 'SET #a = :a', ExpressionAttributeNames: { '#a': 'a', '#b': 'b' }, ExpressionAttributeValues: { ':a': N(1) } }),
      'Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}');
    await refused(updateItem({ UpdateExpression: 'SET #a = :a', ExpressionAttributeNames: { '#a': 'a' }, ExpressionAttributeValues: { ':a': N(1), ':b': N(2) } }),
      'Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}');
    await refused(updateItem({ UpdateExpression: 'SET #a = :a, #c = :a', ExpressionAttributeNames: { '#a': 'a' }, ExpressionAttributeValues: { ':a': N(1) } }),
      'Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #c');
    await refused(updateItem({ UpdateExpression: 'SET a = :c', ExpressionAttributeValues: { ':a': N(1) } }),
      'Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :c');
    await refused(updateItem({ UpdateExpression: 'REMOVE zz', ConditionExpression: 'n = :nope' }),
      'Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope');
    await refused(scan({ FilterExpression: '#nope = :v', ExpressionAttributeValues: { ':v': N(1) } }),
      'Invalid FilterExpression: An expression attribute name used in the document path is not defined; attribute name: #nope');
    await refused(() => client.send(new GetItemCommand({ TableName: 'items', Key: KEY, ProjectionExpression: '#p' })),
      'Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #p');
    await refused(query({ KeyConditionExpression: 'pk = :nope' }),
      'Invalid KeyConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope');
    await refused(updateItem({ UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': N(1) }, ExpressionAttributeNames: {} }),
      'ExpressionAttributeNames must not be empty');
    await refused(updateItem({ UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': N(1) }, ExpressionAttributeNames: { a: 'a' } }),
      'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"');
    await refused(() => client.send(new GetItemCommand({ TableName: 'items', Key: KEY, ExpressionAttributeNames: { '#a': 'a' } })),
      'ExpressionAttributeNames can only be specified when using expressions');
  });

  it('a reserved word used as a bare attribute name is refused; a placeholder makes it fine', async () => {
    await refused(updateItem({ UpdateExpression: 'SET status = :v', ExpressionAttributeValues: { ':v': N(1) } }),
      'Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status');
    await refused(updateItem({ UpdateExpression: 'REMOVE Absolute' }), 'Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Absolute');
    await refused(updateItem({ UpdateExpression: 'REMOVE zz', ConditionExpression: 'attribute_exists(data)' }),
      'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: data');
    await refused(() => client.send(new GetItemCommand({ TableName: 'items', Key: KEY, ProjectionExpression: 'm.Size' })),
      'Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: Size');
    await doc.send(new UpdateCommand({ TableName: 'items', Key: { pk: 'reserved' }, UpdateExpression: 'SET #s = :v', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':v': 1 } }));
  });

  it('a syntax error names the token and the text near it (the token before to the token after)', async () => {
    const syntax = (expression: string, token: string, near: string) => refused(
      updateItem({ UpdateExpression: expression, ...(expression.includes(':v') ? { ExpressionAttributeValues: { ':v': N(1) } } : {}) }),
      `Invalid UpdateExpression: Syntax error; token: "${token}", near: "${near}"`,
    );
    // DynamoDB's own answers, as moto's and Scylla's tests quote them.
    await syntax('SET MyStr = myNum + 1', '1', '+ 1');
    await syntax('SET MyStr = myNum Mystr2 myNum2', 'Mystr2', 'myNum Mystr2 myNum2');
    await syntax('SET MyStr = my Num', 'Num', 'my Num');
    await syntax('SET path = VALUE 1', '1', 'VALUE 1');
    await syntax('SET a = :v,', '<EOF>', ',');
    await syntax('SET _123 = :v', '_', 'SET _123');
    await syntax('INVALID SYNTAX', 'INVALID', 'INVALID SYNTAX');
    await syntax('SET a = :v + :v + :v', '+', ':v + :v');
    // The same rule in a ConditionExpression (message not confirmed against DynamoDB).
    await refused(updateItem({ UpdateExpression: 'REMOVE zz', ConditionExpression: 'n = :v AND', ExpressionAttributeValues: { ':v': N(1) } }),
      'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND"');
    await refused(updateItem({ UpdateExpression: 'REMOVE zz', ConditionExpression: 'n = :v :v OR', ExpressionAttributeValues: { ':v': N(1) } }),
      'Invalid ConditionExpression: Syntax error; token: ":v", near: ":v :v OR"');
    await refused(updateItem({ UpdateExpression: '', ConditionExpression: 'attribute_exists(n)' }), 'Invalid UpdateExpression: The expression can not be empty;');
  });

  it('two actions on one document path, or on overlapping or conflicting paths, are refused', async () => {
    const v = { ':v': N(1) };
    const overlap = (one: string, two: string) => `Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${one}, path two: ${two}`;
    await refused(updateItem({ UpdateExpression: 'SET a = :v REMOVE a', ExpressionAttributeValues: v }), overlap('[a]', '[a]'));
    await refused(updateItem({ UpdateExpression: 'SET n = :v ADD n :v', ExpressionAttributeValues: v }), overlap('[n]', '[n]'));
    await refused(updateItem({ UpdateExpression: 'SET c.b.d = :v, c = :v', ExpressionAttributeValues: v }), overlap('[c, b, d]', '[c]'));
    await refused(updateItem({ UpdateExpression: 'REMOVE c, #c.a', ExpressionAttributeNames: { '#c': 'c' } }), overlap('[c]', '[c, a]'));
    await refused(updateItem({ UpdateExpression: 'SET #c[3].#d = :v, #c[3] = :v', ExpressionAttributeNames: { '#c': 'c', '#d': '[3]' }, ExpressionAttributeValues: v }),
      overlap('[c, [3], [3]]', '[c, [3]]'));
    await refused(updateItem({ UpdateExpression: 'REMOVE a.c SET a[1] = :v', ExpressionAttributeValues: v }),
      'Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, c], path two: [a, [1]]');
    await refused(updateItem({ UpdateExpression: 'SET a = :v SET b = :v', ExpressionAttributeValues: v }),
      'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;');
  });

  it('misused operands and functions are refused before anything is read', async () => {
    const v = { ':s': S('x'), ':n': N(1), ':l': { L: [] } };
    await refused(updateItem({ UpdateExpression: 'ADD n :s', ExpressionAttributeValues: { ':s': v[':s'] } }),
      'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING');
    await refused(updateItem({ UpdateExpression: 'DELETE ss :n', ExpressionAttributeValues: { ':n': v[':n'] } }),
      'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER');
    await refused(updateItem({ UpdateExpression: 'SET a = a + :s', ExpressionAttributeValues: { ':s': v[':s'] } }),
      'Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S');
    await refused(updateItem({ UpdateExpression: 'SET a = list_append(:n, a)', ExpressionAttributeValues: { ':n': v[':n'] } }),
      'Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: N');
    await refused(updateItem({ UpdateExpression: 'SET a = if_not_exists(:n, a)', ExpressionAttributeValues: { ':n': v[':n'] } }),
      'Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists');
    await refused(updateItem({ UpdateExpression: 'SET a = if_not_exist(a, :n)', ExpressionAttributeValues: { ':n': v[':n'] } }),
      'Invalid UpdateExpression: Invalid function name; function: if_not_exist');
    await refused(updateItem({ UpdateExpression: 'REMOVE zz', ConditionExpression: 'n BETWEEN :b AND :a', ExpressionAttributeValues: { ':a': S('a'), ':b': S('b') } }),
      'Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}');
    await refused(updateItem({ UpdateExpression: 'REMOVE zz', ConditionExpression: 'n BETWEEN :b AND :a', ExpressionAttributeValues: { ':a': S('a'), ':b': N(1) } }),
      'Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}');
  });

  it('IN takes at most 100 values', async () => {
    const values: Item = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`:v${i}`, N(i)]));
    // The text is DynamoDB Local's (DbValidationError.TOO_MANY_OPERANDS_FOR_IN); the count
    // suffix is not confirmed against DynamoDB.
    await refused(updateItem({ UpdateExpression: 'REMOVE zz', ConditionExpression: `n IN (${Object.keys(values).join(', ')})`, ExpressionAttributeValues: values }),
      'Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101');
  });

  it('an update that does not fit the item is refused when it is applied, changing nothing', async () => {
    const v = { ':ss': { SS: ['z'] }, ':n': N(1) };
    await refused(updateItem({ UpdateExpression: 'SET c = nothere' }), 'The provided expression refers to an attribute that does not exist in the item');
    await refused(updateItem({ UpdateExpression: 'SET c = list_append(l, nothere)' }), 'The provided expression refers to an attribute that does not exist in the item');
    await refused(updateItem({ UpdateExpression: 'SET e = s + :n', ExpressionAttributeValues: { ':n': v[':n'] } }), 'An operand in the update expression has an incorrect data type');
    await refused(updateItem({ UpdateExpression: 'ADD s :n', ExpressionAttributeValues: { ':n': v[':n'] } }), 'An operand in the update expression has an incorrect data type');
    await refused(updateItem({ UpdateExpression: 'DELETE n :ss', ExpressionAttributeValues: { ':ss': v[':ss'] } }), 'An operand in the update expression has an incorrect data type');
    const invalidPath = 'The document path provided in the update expression is invalid for update';
    for (const expression of ['SET nothere.a = :n', 'SET s[1] = :n', 'SET l.a = :n', 'ADD nothere.a :n', 'REMOVE nothere.a', 'REMOVE nothere[0]', 'REMOVE s.a', 'REMOVE m[0]']) {
      await refused(updateItem({ UpdateExpression: expression, ...(expression.includes(':n') ? { ExpressionAttributeValues: { ':n': v[':n'] } } : {}) }), invalidPath);
    }
    for (const expression of ['DELETE nothere.a :ss', 'DELETE s.a :ss', 'DELETE m[1] :ss', 'DELETE l.a :ss']) {
      await refused(updateItem({ UpdateExpression: expression, ExpressionAttributeValues: { ':ss': v[':ss'] } }), invalidPath);
    }
  });

  it('legacy AttributeUpdates of the wrong type are refused with their own message', async () => {
    const cases: Array<NonNullable<UpdateItemCommandInput['AttributeUpdates']>> = [
      { ss: { Action: 'DELETE', Value: { NS: ['1'] } } }, { n: { Action: 'DELETE', Value: { NS: ['1'] } } },
      { ss: { Action: 'ADD', Value: { NS: ['1'] } } }, { ss: { Action: 'ADD', Value: N(1) } },
      { s: { Action: 'ADD', Value: { L: [N(1)] } } },
    ];
    for (const updates of cases) {
      await refused(updateItem({ AttributeUpdates: updates }), 'Type mismatch for attribute to update');
    }
  });

  it('a key attribute cannot be updated', async () => {
    const keyUpdate = (name: string) => `${INVALID}Cannot update attribute ${name}. This attribute is part of the key`;
    await refused(updateItem({ UpdateExpression: 'SET pk = :v', ExpressionAttributeValues: { ':v': S('other') } }), keyUpdate('pk'));
    await refused(updateItem({ UpdateExpression: 'ADD pk.b :v', ExpressionAttributeValues: { ':v': N(1) } }), keyUpdate('pk'));
    await refused(updateItem({ UpdateExpression: 'REMOVE sk' }, RANGED_KEY, 'ranged'), keyUpdate('sk'));
    await refused(updateItem({ UpdateExpression: 'SET v = :v, sk = :v', ExpressionAttributeValues: { ':v': N(2) } }, RANGED_KEY, 'ranged'), keyUpdate('sk'));
    await refused(updateItem({ AttributeUpdates: { pk: { Action: 'PUT', Value: S('other') } } }), keyUpdate('pk'));
  });
});

describe('tables and parameters', () => {
  it('an unknown table is ResourceNotFoundException', async () => {
    const sends = [
      () => client.send(new GetItemCommand({ TableName: 'nope', Key: KEY })),
      putItem(KEY, 'nope'),
      () => client.send(new UpdateItemCommand({ TableName: 'nope', Key: KEY, UpdateExpression: 'REMOVE a' })),
      () => client.send(new DeleteItemCommand({ TableName: 'nope', Key: KEY })),
      () => client.send(new QueryCommand({ TableName: 'nope', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': S('x') } })),
      () => client.send(new ScanCommand({ TableName: 'nope' })),
      () => client.send(new BatchGetItemCommand({ RequestItems: { nope: { Keys: [KEY] } } })),
      () => client.send(new BatchWriteItemCommand({ RequestItems: { items: [{ PutRequest: { Item: { pk: S('batch-nope') } } }], nope: [{ PutRequest: { Item: KEY } }] } })),
    ];
    for (const send of sends) {
      const error = await rejection(send);
      expect(error).toBeInstanceOf(ResourceNotFoundException);
    }
    for (const send of sends) await refused(send, 'Requested resource not found', { name: 'ResourceNotFoundException', absent: [[{ pk: S('batch-nope') }, 'items']] });
  });

  it('legacy and expression parameters cannot be mixed', async () => {
    const mixed = (legacy: string, modern: string) => `Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {${legacy}} Expression parameters: {${modern}}`;
    await refused(updateItem({
      UpdateExpression: 'SET a = :a', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':a': N(1) },
      AttributeUpdates: { a: { Action: 'PUT', Value: N(2) } }, Expected: { pk: { Exists: true, Value: S('sentinel') } },
    }), mixed('AttributeUpdates, Expected', 'UpdateExpression, ConditionExpression'));
    await refused(putItem({ ...KEY, x: N(1) }, 'items', { ConditionExpression: 'attribute_exists(pk)', Expected: { pk: { Exists: false } } }), mixed('Expected', 'ConditionExpression'));
    await refused(() => client.send(new GetItemCommand({ TableName: 'items', Key: KEY, AttributesToGet: ['n'], ProjectionExpression: 's' })), mixed('AttributesToGet', 'ProjectionExpression'));
    await refused(query({
      KeyConditionExpression: 'pk = :p', FilterExpression: 'v = :p', ProjectionExpression: 'v', ExpressionAttributeValues: { ':p': S('x') },
      AttributesToGet: ['v'], QueryFilter: { v: { ComparisonOperator: 'NOT_NULL' } }, ConditionalOperator: 'OR',
      KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [S('x')] } },
    }), mixed('AttributesToGet, QueryFilter, ConditionalOperator, KeyConditions', 'ProjectionExpression, FilterExpression, KeyConditionExpression'));
    await refused(scan({ FilterExpression: 'attribute_exists(v)', ScanFilter: { v: { ComparisonOperator: 'NOT_NULL' } }, AttributesToGet: ['v'], ProjectionExpression: 'v' }),
      mixed('AttributesToGet, ScanFilter', 'ProjectionExpression, FilterExpression'));
  });

  it('malformed legacy conditions are refused with DynamoDB\'s messages', async () => {
    const expected = (e: NonNullable<UpdateItemCommandInput['Expected']>) => updateItem({ AttributeUpdates: { x: { Action: 'PUT', Value: N(1) } }, Expected: e });
    await refused(expected({ a: {} }), `${INVALID}Value must be provided when Exists is null for Attribute: a`);
    await refused(expected({ a: { Exists: true } }), `${INVALID}Value must be provided when Exists is true for Attribute: a`);
    await refused(expected({ a: { Exists: false, Value: S('x') } }), `${INVALID}Value cannot be used when Exists is false for Attribute: a`);
    await refused(expected({ a: { Exists: true, ComparisonOperator: 'LT' } }), `${INVALID}Exists and ComparisonOperator cannot be used together for Attribute: a`);
    await refused(expected({ a: { ComparisonOperator: 'EQ' } }), `${INVALID}Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a`);
    await refused(expected({ a: { Value: S('x'), ComparisonOperator: 'EQ', AttributeValueList: [S('x')] } }), `${INVALID}Value and AttributeValueList cannot be used together for Attribute: a`);
    await refused(expected({ a: { ComparisonOperator: 'BETWEEN', AttributeValueList: [S('x')] } }), `${INVALID}Invalid number of argument(s) for the BETWEEN ComparisonOperator`);
    await refused(updateItem({ AttributeUpdates: { a: { Action: 'ADD', Value: S('x') } } }), `${INVALID}ADD action is not supported for the type S`);
    await refused(updateItem({ AttributeUpdates: { a: { Action: 'DELETE', Value: N(1) } } }), `${INVALID}DELETE action with value is not supported for the type N`);
    await refused(updateItem({ AttributeUpdates: { a: { Action: 'PUT' } } }), `${INVALID}Only DELETE action is allowed when no attribute value is specified`);
  });

  it('Limit must be at least 1', async () => {
    const limit = "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1";
    await refused(query({ KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': S('x') }, Limit: 0 }), limit);
    await refused(scan({ Limit: 0 }), limit);
  });

  it('Select must agree with the projection (Query wraps the message, Scan does not)', async () => {
    const q = (input: Partial<QueryCommandInput>) => query({ KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': S('x') }, ...input });
    const wrapped = (m: string) => `1 validation error detected: ${m}`;
    const cases: Array<[Partial<QueryCommandInput & ScanCommandInput>, string]> = [
      [{ Select: 'COUNT', ProjectionExpression: 'v' }, 'Cannot specify the ProjectionExpression when choosing to get only the Count'],
      [{ Select: 'COUNT', AttributesToGet: ['v'] }, 'Cannot specify the AttributesToGet when choosing to get only the Count'],
      [{ Select: 'ALL_ATTRIBUTES', ProjectionExpression: 'v' }, 'Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES'],
      [{ Select: 'ALL_ATTRIBUTES', AttributesToGet: ['v'] }, 'Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES'],
      [{ Select: 'SPECIFIC_ATTRIBUTES' }, 'Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES'],
      [{ Select: 'ALL_PROJECTED_ATTRIBUTES' }, 'ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName'],
    ];
    for (const [input, message] of cases) {
      // A Query with AttributesToGet takes KeyConditions (no mixing).
      const legacy = input.AttributesToGet !== undefined;
      await refused(legacy
        ? query({ KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [S('x')] } }, ...input } as Partial<QueryCommandInput>)
        : q(input as Partial<QueryCommandInput>), wrapped(message));
      await refused(scan(input as Partial<ScanCommandInput>), message);
    }
    await refused(scan({ Select: 'count' as 'COUNT' }),
      "1 validation error detected: Value 'count' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]");
  });

  it('ReturnValues must be one the operation has', async () => {
    await refused(putItem({ ...KEY, x: N(1) }, 'items', { ReturnValues: 'UPDATED_NEW' }), 'ReturnValues can only be ALL_OLD or NONE');
    await refused(putItem({ ...KEY, x: N(1) }, 'items', { ReturnValues: 'ALL_NEW' }), 'ReturnValues can only be ALL_OLD or NONE');
    await refused(() => client.send(new DeleteItemCommand({ TableName: 'items', Key: KEY, ReturnValues: 'UPDATED_OLD' })), 'ReturnValues can only be ALL_OLD or NONE');
    await refused(updateItem({ UpdateExpression: 'SET x = :v', ExpressionAttributeValues: { ':v': N(1) }, ReturnValues: 'bogus' as 'NONE' }),
      "1 validation error detected: Value 'bogus' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]");
  });
});

describe('batches', () => {
  const keys = (n: number, prefix: string): Item[] => Array.from({ length: n }, (_, i) => ({ pk: S(`${prefix}${i}`) }));
  const puts = (n: number, prefix: string): WriteRequest[] => keys(n, prefix).map((Item) => ({ PutRequest: { Item } }));

  it('duplicate keys are refused, and nothing is written', async () => {
    const duplicates = 'Provided list of item keys contains duplicates';
    await refused(() => client.send(new BatchGetItemCommand({ RequestItems: { items: { Keys: [KEY, { pk: S('other') }, KEY] } } })), duplicates);
    await refused(() => client.send(new BatchGetItemCommand({ RequestItems: { ranged: { Keys: [RANGED_KEY, { pk: S('sentinel'), sk: N('1.0') }] } } })), duplicates);
    await refused(() => client.send(new BatchWriteItemCommand({ RequestItems: { items: [{ PutRequest: { Item: { pk: S('dup-new') } } }, { PutRequest: { Item: { ...KEY, x: N(1) } } }, { DeleteRequest: { Key: KEY } }] } })),
      duplicates, { absent: [[{ pk: S('dup-new') }, 'items']] });
    await refused(() => client.send(new BatchWriteItemCommand({ RequestItems: { items: [{ DeleteRequest: { Key: KEY } }, { DeleteRequest: { Key: KEY } }] } })), duplicates);
  });

  it('at most 100 keys in a BatchGetItem and 25 requests in a BatchWriteItem', async () => {
    await refused(() => client.send(new BatchGetItemCommand({ RequestItems: { items: { Keys: keys(101, 'g') } } })),
      /^1 validation error detected: Value '\[.+\]' at 'requestItems.items.member.keys' failed to satisfy constraint: Member must have length less than or equal to 100$/);
    await refused(() => client.send(new BatchGetItemCommand({ RequestItems: { items: { Keys: keys(100, 'g') }, ranged: { Keys: [RANGED_KEY] } } })),
      'Too many items requested for the BatchGetItem call');
    await refused(() => client.send(new BatchWriteItemCommand({ RequestItems: { items: puts(26, 'w') } })),
      /^1 validation error detected: Value '\{.+\}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: \[Member must have length less than or equal to 25, Member must have length greater than or equal to 1\]$/,
      { absent: [[{ pk: S('w0') }, 'items']] });
    await refused(() => client.send(new BatchWriteItemCommand({ RequestItems: { items: puts(13, 'w'), sorted: puts(13, 'w').map((r) => ({ PutRequest: { Item: { ...r.PutRequest!.Item, sk: S('s') } } })) } })),
      'Too many items requested for the BatchWriteItem call', { absent: [[{ pk: S('w0') }, 'items'], [{ pk: S('w0'), sk: S('s') }, 'sorted']] });
    // Exactly 100 and 25 are fine.
    const read = await client.send(new BatchGetItemCommand({ RequestItems: { items: { Keys: [...keys(99, 'g'), KEY], ConsistentRead: true } } }));
    expect(read.Responses?.items).toEqual([SENTINEL]);
    expect(read.UnprocessedKeys).toEqual({});
    const written = await client.send(new BatchWriteItemCommand({ RequestItems: { items: puts(25, 'ok') } }));
    expect(written.UnprocessedItems).toEqual({});
  });
});

describe('order of checks', () => {
  /** The body of a refused raw JSON request (so the request can hold what the SDK would
   *  not send). */
  async function refusedRaw(operation: string, body: unknown, name: string, message: string): Promise<void> {
    const res = await wireRequest(server.url, operation, body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ __type: expect.stringMatching(new RegExp(`#${name}$`)), message });
  }

  it('every constraint of the request is reported at once, before anything else', async () => {
    const res = await wireRequest(server.url, 'GetItem', { TableName: 'abc;', ReturnConsumedCapacity: 'hi', AttributesToGet: [] });
    expect(res.status).toBe(400);
    const message = (res.json as { message: string }).message;
    const prefix = '4 validation errors detected: ';
    expect(message.startsWith(prefix)).toBe(true);
    expect(message.slice(prefix.length).split('; ').sort()).toEqual([
      "Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1",
      "Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
      "Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
      "Value null at 'key' failed to satisfy constraint: Member must not be null",
    ]);
  });

  it('the request itself is checked before its table is looked up; the key against the schema after', async () => {
    const V = 'ValidationException';
    await refusedRaw('GetItem', { TableName: 'nope', Key: { a: {} } }, V, 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
    // A value's members are checked before "more than one datatype".
    await refusedRaw('GetItem', { TableName: 'nope', Key: { a: { S: 'a', N: 'b' } } }, V, 'The parameter cannot be converted to a numeric value: b');
    await refusedRaw('PutItem', { TableName: 'nope', Item: KEY, ConditionExpression: '' }, V, 'Invalid ConditionExpression: The expression can not be empty;');
    await refusedRaw('DeleteItem', { TableName: 'nope', Key: KEY, ExpressionAttributeValues: { ':a': S('a') } }, V,
      'ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null');
    await refusedRaw('UpdateItem', { TableName: 'nope', Key: KEY, Expected: { a: { Value: S('a'), AttributeValueList: [S('a')] } } }, V,
      'One or more parameter values were invalid: Value and AttributeValueList cannot be used together for Attribute: a');
    await refusedRaw('Query', { TableName: 'nope', KeyConditionExpression: 'a = :a OR b = :a', ExpressionAttributeValues: { ':a': S('a') } }, V,
      'Invalid operator used in KeyConditionExpression: OR');
    await refusedRaw('Query', { TableName: 'nope', KeyConditionExpression: 'a > size(b)' }, V, 'KeyConditionExpressions cannot contain nested operations');
    await refusedRaw('Query', { TableName: 'nope', KeyConditions: {} }, V, 'Conditions can be of length 1 or 2 only');
    await refusedRaw('Scan', { TableName: 'nope', Segment: 1, TotalSegments: 1 }, V,
      'The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 1 is not less than TotalSegments: 1');
    await refusedRaw('Scan', { TableName: 'nope', ExclusiveStartKey: { a: { SS: [] } } }, V,
      'The provided starting key is invalid: One or more parameter values were invalid: An string set  may not be empty');
    await refusedRaw('GetItem', { TableName: 'nope', Key: {} }, 'ResourceNotFoundException', 'Requested resource not found');
  });

  it('a Query\'s ExclusiveStartKey must fit its key condition', async () => {
    const q = (condition: string, values: Item, startKey: Item) => () => client.send(new QueryCommand({
      TableName: 'ranged', KeyConditionExpression: condition, ExpressionAttributeValues: values, ExclusiveStartKey: startKey,
    }));
    const onPk = { ':p': S('sentinel') };
    await refused(q('pk = :p', onPk, { pk: S('sentinel') }), 'The provided starting key is invalid');
    await refused(q('pk = :p', onPk, { pk: N(1), sk: N(1) }), 'The provided key element does not match the schema');
    await refused(q('pk = :p', onPk, { pk: S('other'), sk: N(1) }), 'The provided starting key is outside query boundaries based on provided conditions');
    const above = { ':p': S('sentinel'), ':five': N(5) };
    await refused(q('pk = :p AND sk > :five', above, { pk: S('sentinel'), sk: N(1) }), 'The provided starting key does not match the range key predicate');
    await refused(q('pk = :p AND sk > :five', above, { pk: S('other'), sk: N(6) }), 'The query can return at most one row and cannot be restarted');
  });

  it('filters may not name key attributes, nor projections and filters reach inside them', async () => {
    const onPk = { ':p': S('sentinel') };
    await refused(() => client.send(new QueryCommand({ TableName: 'ranged', KeyConditionExpression: 'pk = :p', FilterExpression: 'sk > :p', ExpressionAttributeValues: onPk })),
      'Filter Expression can only contain non-primary key attributes: Primary key attribute: sk');
    await refused(() => client.send(new QueryCommand({ TableName: 'ranged', KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [S('sentinel')] } }, QueryFilter: { pk: { ComparisonOperator: 'NOT_NULL' } } })),
      'QueryFilter can only contain non-primary key attributes: Primary key attribute: pk');
    const scalars = "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: pk";
    await refused(() => client.send(new GetItemCommand({ TableName: 'items', Key: KEY, ProjectionExpression: 'pk.a' })), scalars);
    await refused(() => client.send(new ScanCommand({ TableName: 'items', FilterExpression: 'attribute_exists(pk[0])' })), scalars);
  });

  it('consumed capacity with INDEXES also gives the table\'s part', async () => {
    const got = await client.send(new GetItemCommand({ TableName: 'items', Key: KEY, ConsistentRead: true, ReturnConsumedCapacity: 'INDEXES' }));
    expect(got.ConsumedCapacity).toEqual({ TableName: 'items', CapacityUnits: 1, Table: { CapacityUnits: 1 } });
    const total = await client.send(new GetItemCommand({ TableName: 'items', Key: KEY, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }));
    expect(total.ConsumedCapacity).toEqual({ TableName: 'items', CapacityUnits: 1 });
  });

  it('a write is charged by the larger of the item before and after it, in 1 KB units', async () => {
    const key = { pk: S('charged') };
    const units = async (send: Promise<{ ConsumedCapacity?: { CapacityUnits?: number } }>) => (await send).ConsumedCapacity?.CapacityUnits;
    const big = { ...key, filler: S('x'.repeat(1500)) };
    expect(await units(client.send(new PutItemCommand({ TableName: 'items', Item: big, ReturnConsumedCapacity: 'TOTAL' })))).toBe(2);
    expect(await units(client.send(new PutItemCommand({ TableName: 'items', Item: key, ReturnConsumedCapacity: 'TOTAL' })))).toBe(2);
    expect(await units(client.send(new PutItemCommand({ TableName: 'items', Item: key, ReturnConsumedCapacity: 'TOTAL' })))).toBe(1);
    expect(await units(client.send(new UpdateItemCommand({
      TableName: 'items', Key: key, UpdateExpression: 'SET filler = :p', ExpressionAttributeValues: { ':p': S('y'.repeat(2500)) }, ReturnConsumedCapacity: 'TOTAL',
    })))).toBe(3);
    expect(await units(client.send(new DeleteItemCommand({ TableName: 'items', Key: key, ReturnConsumedCapacity: 'TOTAL' })))).toBe(3);
    expect(await units(client.send(new DeleteItemCommand({ TableName: 'items', Key: key, ReturnConsumedCapacity: 'TOTAL' })))).toBe(1);
  });
});

describe('afterwards', () => {
  it('the tables hold exactly what the accepted requests wrote', async () => {
    const all = async (table: string): Promise<string[]> => {
      const out = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
      return out.Items!.map((item) => `${item.pk!.S ?? 'B'}${item.sk ? `/${item.sk.S ?? item.sk.N}` : ''}`).sort();
    };
    const ok = Array.from({ length: 25 }, (_, i) => `ok${i}`);
    expect(await all('items')).toEqual(['deep', 'empties', 'exact', 'four-kb', 'numbers', 'reserved', 'sentinel', ...ok].sort());
    expect(await all('ranged')).toEqual(['sentinel/1']);
    expect(await all('sorted')).toEqual([`a/${'ü'.repeat(512)}`]);
    expect(await all('blobs')).toEqual([]);
  });
});
