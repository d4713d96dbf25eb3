/**
 * Conformance of every expression feature, through the AWS SDK (low-level client and
 * DocumentClient) over real HTTP: each request is one DynamoDB would accept, and each
 * result is checked exactly against what DynamoDB answers.
 *
 * Reads after writes are strongly consistent: an eventually consistent read may go to a
 * replica that has not applied the write yet.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand as DocQueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { startServer, type ShardBoxServer } from '../../src/server/http.js';
import { createPkTable, httpClient, openDb, rejection } from './helpers.js';

type Item = Record<string, AttributeValue>;

let db: ShardBox;
let server: ShardBoxServer;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;

/** `items`: partition key only. `ranged`: pk S + sk N. `sorted`: pk S + sk S. */
beforeAll(async () => {
  db = await openDb();
  server = await startServer(db, { port: 0 });
  client = httpClient(server.url);
  doc = DynamoDBDocumentClient.from(client);
  await Promise.all([createPkTable(client, 'items', 'S'), createPkTable(client, 'ranged', 'S', 'N'), createPkTable(client, 'sorted', 'S', 'S')]);
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
  await db?.close();
});

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: string | number): AttributeValue => ({ N: String(n) });
const B = (...bytes: number[]): AttributeValue => ({ B: new Uint8Array(bytes) });

async function put(item: Item, table = 'items'): Promise<void> {
  await client.send(new PutItemCommand({ TableName: table, Item: item }));
}

async function get(pk: string, table = 'items', sk?: AttributeValue): Promise<Item | undefined> {
  const key: Item = { pk: S(pk), ...(sk ? { sk } : {}) };
  return (await client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
}

/** UpdateItem on `items` with ReturnValues ALL_NEW; returns the new item. */
async function update(pk: string, expression: string, values?: Item, names?: Record<string, string>): Promise<Item | undefined> {
  const out = await client.send(new UpdateItemCommand({
    TableName: 'items', Key: { pk: S(pk) }, UpdateExpression: expression,
    ExpressionAttributeValues: values, ExpressionAttributeNames: names, ReturnValues: 'ALL_NEW',
  }));
  return out.Attributes;
}

describe('UpdateExpression SET', () => {
  it('adds and subtracts with + and -, reading every operand from the item before the update', async () => {
    await put({ pk: S('arith'), n: N(10), f: N('0.1'), a: S('A'), b: S('B') });
    const item = await update('arith', 'SET n = n + :five, m = n - :three, f = f + :f, neg = :one - :ten, a = b, b = a', {
      ':five': N(5), ':three': N(3), ':f': N('0.2'), ':one': N(1), ':ten': N(10),
    });
    expect(item).toEqual({ pk: S('arith'), n: N(15), m: N(7), f: N('0.3'), neg: N(-9), a: S('B'), b: S('A') });
  });

  it('if_not_exists keeps an existing value and falls back for a missing one', async () => {
    await put({ pk: S('ine'), n: N(7) });
    const item = await update('ine', 'SET n = if_not_exists(n, :zero) + :one, fresh = if_not_exists(fresh, :zero), #copy = if_not_exists(gone, n)', {
      ':zero': N(0), ':one': N(1),
    }, { '#copy': 'copy' });
    expect(item).toEqual({ pk: S('ine'), n: N(8), fresh: N(0), copy: N(7) });
  });

  it('list_append appends in both orders, and around if_not_exists', async () => {
    await put({ pk: S('la'), l: { L: [N(1), N(2)] } });
    const item = await update('la', 'SET l = list_append(l, :tail), h = list_append(:head, l), n = list_append(if_not_exists(n, :empty), :tail)', {
      ':tail': { L: [N(3)] }, ':head': { L: [N(0), S('zero')] }, ':empty': { L: [] },
    });
    expect(item).toEqual({
      pk: S('la'), l: { L: [N(1), N(2), N(3)] }, h: { L: [N(0), S('zero'), N(1), N(2)] }, n: { L: [N(3)] },
    });
  });

  it('writes nested paths a.b[2].c, and UPDATED_OLD / UPDATED_NEW show just those paths', async () => {
    const b: AttributeValue = { L: [{ M: {} }, { M: { c: S('keep') } }, { M: { c: S('old'), d: N(1) } }] };
    await put({ pk: S('nested'), a: { M: { b, x: S('x') } } });
    const request = (value: string, ReturnValues: 'UPDATED_OLD' | 'UPDATED_NEW') => client.send(new UpdateItemCommand({
      TableName: 'items', Key: { pk: S('nested') }, UpdateExpression: 'SET a.b[2].c = :v', ExpressionAttributeValues: { ':v': S(value) }, ReturnValues,
    }));
    expect((await request('new', 'UPDATED_OLD')).Attributes).toEqual({ a: { M: { b: { L: [{ M: { c: S('old') } }] } } } });
    expect((await request('newer', 'UPDATED_NEW')).Attributes).toEqual({ a: { M: { b: { L: [{ M: { c: S('newer') } }] } } } });
    expect(await get('nested')).toEqual({
      pk: S('nested'), a: { M: { x: S('x'), b: { L: [{ M: {} }, { M: { c: S('keep') } }, { M: { c: S('newer'), d: N(1) } }] } } },
    });
  });

  it('sets list elements by index; past the end they append in index order', async () => {
    await put({ pk: S('idx'), l: { L: [S('a'), S('b')] } });
    expect((await update('idx', 'SET l[0] = :z', { ':z': S('z') }))?.l).toEqual({ L: [S('z'), S('b')] });
    // DynamoDB sorts elements added past the end by the index written, not by action order.
    expect((await update('idx', 'SET l[9] = :nine, l[7] = :seven', { ':nine': S('9'), ':seven': S('7') }))?.l)
      .toEqual({ L: [S('z'), S('b'), S('7'), S('9')] });
  });

  it('mixes nested SET and ADD on list elements as in DynamoDB\'s own example (dynalite\'s updateItem test)', async () => {
    await put({ pk: S('example'), b: { M: { a: N(1), b: N(2), c: N(3) } }, c: { L: [N(1), N(3)] } });
    const out = await client.send(new UpdateItemCommand({
      TableName: 'items', Key: { pk: S('example') },
      UpdateExpression: 'set b.c=((c[1])+(b.a)),b.a = pk,c[1] = pk, c[4] = b.a - b.b, c[2] = b.c add c[8] :b, c[6] :a',
      ExpressionAttributeValues: { ':a': N(2), ':b': { SS: ['a'] } }, ReturnValues: 'UPDATED_NEW',
    }));
    // UPDATED_NEW shows the new item at the paths as written: c[1], c[2] and c[4] exist, c[6] and c[8] do not.
    expect(out.Attributes).toEqual({ b: { M: { a: S('example'), c: N(4) } }, c: { L: [S('example'), N(3), N(2)] } });
    expect(await get('example')).toEqual({
      pk: S('example'), b: { M: { a: S('example'), b: N(2), c: N(4) } }, c: { L: [N(1), S('example'), N(3), N(-1), N(2), { SS: ['a'] }] },
    });
  });

  it('runs SET, REMOVE, ADD and DELETE together in one expression, sections in any order', async () => {
    await put({ pk: S('multi'), a: N(1), gone: S('x'), n: N(1), ss: { SS: ['a', 'b', 'c'] } });
    const item = await update('multi', 'DELETE ss :drop ADD n :one, tally :one REMOVE gone SET a = :a, b = :b', {
      ':drop': { SS: ['b'] }, ':one': N(1), ':a': S('A'), ':b': { M: { deep: { BOOL: true } } },
    });
    expect(item).toEqual({ pk: S('multi'), a: S('A'), b: { M: { deep: { BOOL: true } } }, n: N(2), tally: N(1), ss: { SS: ['a', 'c'] } });
  });

  it('creates the item when it does not exist, through the DocumentClient', async () => {
    const out = await doc.send(new UpdateCommand({
      TableName: 'items', Key: { pk: 'doc-created' }, UpdateExpression: 'SET #n = :n, tags = :tags',
      ExpressionAttributeNames: { '#n': 'name' }, ExpressionAttributeValues: { ':n': 'first', ':tags': new Set(['x']) }, ReturnValues: 'ALL_NEW',
    }));
    expect(out.Attributes).toEqual({ pk: 'doc-created', name: 'first', tags: new Set(['x']) });
  });
});

describe('UpdateExpression REMOVE', () => {
  it('removes attributes and nested attributes', async () => {
    await put({ pk: S('rm'), a: N(1), b: N(2), m: { M: { x: N(1), y: N(2) } } });
    expect(await update('rm', 'REMOVE a, m.x, nothere, m.nothere')).toEqual({ pk: S('rm'), b: N(2), m: { M: { y: N(2) } } });
  });

  it('removes list elements by their index in the list before the update; later elements shift down', async () => {
    await put({ pk: S('rml'), l: { L: ['a', 'b', 'c', 'd', 'e'].map(S) } });
    expect((await update('rml', 'REMOVE l[3], l[1]'))?.l).toEqual({ L: ['a', 'c', 'e'].map(S) });
    expect((await update('rml', 'REMOVE l[0]'))?.l).toEqual({ L: ['c', 'e'].map(S) });
    // An index past the end removes nothing.
    expect((await update('rml', 'REMOVE l[5]'))?.l).toEqual({ L: ['c', 'e'].map(S) });
    expect((await update('rml', 'REMOVE l[1], l[0]'))?.l).toEqual({ L: [] });
  });
});

describe('UpdateExpression ADD and DELETE', () => {
  it('ADDs to numbers, existing or missing (a missing number counts as 0)', async () => {
    await put({ pk: S('addn'), n: N(1) });
    expect(await update('addn', 'ADD n :five, fresh :minus', { ':five': N(5), ':minus': N('-2.5') }))
      .toEqual({ pk: S('addn'), n: N(6), fresh: N('-2.5') });
  });

  it('ADDs to string, number and binary sets, existing or missing, without duplicating members', async () => {
    await doc.send(new PutCommand({ TableName: 'items', Item: { pk: 'adds', ss: new Set(['a', 'b']), ns: new Set([1, 2]), bs: new Set([new Uint8Array([1])]) } }));
    const out = await doc.send(new UpdateCommand({
      TableName: 'items', Key: { pk: 'adds' }, UpdateExpression: 'ADD ss :ss, ns :ns, bs :bs, newss :ss, newns :ns, newbs :bs',
      ExpressionAttributeValues: { ':ss': new Set(['b', 'c']), ':ns': new Set([2, 3.5]), ':bs': new Set([new Uint8Array([1]), new Uint8Array([2, 3])]) },
      ReturnValues: 'UPDATED_NEW',
    }));
    expect(out.Attributes).toEqual({
      ss: new Set(['a', 'b', 'c']), ns: new Set([1, 2, 3.5]), bs: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]),
      newss: new Set(['b', 'c']), newns: new Set([2, 3.5]), newbs: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]),
    });
  });

  it('DELETEs members from sets; a set emptied disappears; deleting from a missing set does nothing', async () => {
    await put({ pk: S('dels'), ss: { SS: ['a', 'b', 'c'] }, ns: { NS: ['1', '2'] }, bs: { BS: [new Uint8Array([1]), new Uint8Array([2])] } });
    const item = await update('dels', 'DELETE ss :ss, ns :ns, bs :bs, nothere :ss', {
      ':ss': { SS: ['a', 'z'] }, ':ns': { NS: ['1', '2', '3'] }, ':bs': { BS: [new Uint8Array([2])] },
    });
    expect(item).toEqual({ pk: S('dels'), ss: { SS: ['b', 'c'] }, bs: { BS: [new Uint8Array([1])] } });
  });
});

describe('KeyConditionExpression', () => {
  beforeAll(async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => put({ pk: S('k'), sk: N(i + 1) }, 'ranged')));
    await Promise.all(['a', 'a#1', 'a#2', 'ab', 'b#1', 'A#1'].map((sk) => put({ pk: S('k'), sk: S(sk) }, 'sorted')));
  });

  async function sks(table: 'ranged' | 'sorted', condition: string, values: Record<string, unknown>, forward = true): Promise<unknown[]> {
    const out = await doc.send(new DocQueryCommand({
      TableName: table, KeyConditionExpression: condition, ExpressionAttributeValues: { ':pk': 'k', ...values }, ScanIndexForward: forward, ConsistentRead: true,
    }));
    return out.Items!.map((item) => item.sk);
  }

  it('compares the sort key with =, <, <=, >, >= and BETWEEN', async () => {
    expect(await sks('ranged', 'pk = :pk', {})).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await sks('ranged', 'pk = :pk AND sk = :v', { ':v': 4 })).toEqual([4]);
    expect(await sks('ranged', 'pk = :pk AND sk < :v', { ':v': 4 })).toEqual([1, 2, 3]);
    expect(await sks('ranged', 'pk = :pk AND sk <= :v', { ':v': 4 })).toEqual([1, 2, 3, 4]);
    expect(await sks('ranged', 'pk = :pk AND sk > :v', { ':v': 8 })).toEqual([9, 10]);
    expect(await sks('ranged', 'pk = :pk AND sk >= :v', { ':v': 8 })).toEqual([8, 9, 10]);
    expect(await sks('ranged', 'sk BETWEEN :lo AND :hi AND pk = :pk', { ':lo': 3, ':hi': 5 })).toEqual([3, 4, 5]);
    expect(await sks('ranged', 'pk = :pk AND sk >= :v', { ':v': 8 }, false)).toEqual([10, 9, 8]);
  });

  it('orders string sort keys by bytes and matches prefixes with begins_with', async () => {
    expect(await sks('sorted', 'pk = :pk', {})).toEqual(['A#1', 'a', 'a#1', 'a#2', 'ab', 'b#1']);
    expect(await sks('sorted', 'pk = :pk AND begins_with(sk, :p)', { ':p': 'a#' })).toEqual(['a#1', 'a#2']);
    expect(await sks('sorted', 'pk = :pk AND begins_with(sk, :p)', { ':p': 'a' })).toEqual(['a', 'a#1', 'a#2', 'ab']);
    expect(await sks('sorted', 'pk = :pk AND sk BETWEEN :lo AND :hi', { ':lo': 'a#', ':hi': 'ab' })).toEqual(['a#1', 'a#2', 'ab']);
    expect(await sks('sorted', 'pk = :pk AND sk > :v', { ':v': 'a#2' })).toEqual(['ab', 'b#1']);
  });
});

describe('FilterExpression and ConditionExpression', () => {
  // Partition 'f' of `ranged`, items 1..5: varied types, item 5 has only its key.
  beforeAll(async () => {
    const items: Item[] = [
      {
        sk: N(1), n: N(5), s: S('apple'), b: B(1, 2, 3), t: { BOOL: true }, z: { NULL: true },
        l: { L: [S('x'), N(1), { L: [S('y')] }] }, m: { M: { k: S('v'), n: { M: { d: N(1) } } } },
        ss: { SS: ['a', 'b'] }, ns: { NS: ['1', '2'] }, bs: { BS: [new Uint8Array([1]), new Uint8Array([2, 3])] },
      },
      { sk: N(2), n: N(10), s: S('banana'), b: B(4), t: { BOOL: false }, l: { L: [] }, m: { M: {} }, ss: { SS: ['c'] }, ns: { NS: ['3'] }, bs: { BS: [new Uint8Array([9])] } },
      { sk: N(3), n: N('-2.5'), s: S('cherry pie'), b: B(1), l: { L: [S('apple')] }, m: { M: { k: S('w') } } },
      { sk: N(4), n: N(10), s: S('Bañana') },
      { sk: N(5) },
    ];
    await Promise.all(items.map((item) => put({ pk: S('f'), ...item }, 'ranged')));
  });

  /** The values an expression uses (DynamoDB refuses unused ones). */
  function usedBy(expression: string, values: Item = {}): Item {
    return Object.fromEntries(Object.entries(values).filter(([k]) => new RegExp(`${k}(?![A-Za-z0-9_])`).test(expression)));
  }

  /** The sort keys of partition 'f' that a FilterExpression keeps (a strongly consistent Query). */
  async function filter(expression: string, values?: Item, names?: Record<string, string>): Promise<number[]> {
    const out = await client.send(new QueryCommand({
      TableName: 'ranged', KeyConditionExpression: 'pk = :pk', FilterExpression: expression,
      ExpressionAttributeValues: { ':pk': S('f'), ...usedBy(expression, values) }, ExpressionAttributeNames: names, ConsistentRead: true,
    }));
    expect(out.ScannedCount).toBe(5);
    expect(out.Count).toBe(out.Items!.length);
    return out.Items!.map((item) => Number(item.sk!.N));
  }

  /** Whether a ConditionExpression holds for item 1 (an UpdateItem that changes nothing). */
  async function holds(expression: string, values?: Item, names?: Record<string, string>): Promise<boolean> {
    try {
      await client.send(new UpdateItemCommand({
        TableName: 'ranged', Key: { pk: S('f'), sk: N(1) }, UpdateExpression: 'REMOVE nothing', ConditionExpression: expression,
        ExpressionAttributeValues: values, ExpressionAttributeNames: names,
      }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  it('compares numbers with every comparator; a missing attribute is only ever <> a value', async () => {
    const five = { ':five': N(5) };
    const ten = { ':ten': N('10.0') };
    expect(await filter('n = :ten', ten)).toEqual([2, 4]);
    expect(await filter('n <> :ten', ten)).toEqual([1, 3, 5]);
    expect(await filter('n < :ten', ten)).toEqual([1, 3]);
    expect(await filter('n <= :five', five)).toEqual([1, 3]);
    expect(await filter('n > :five', five)).toEqual([2, 4]);
    expect(await filter('n >= :five', five)).toEqual([1, 2, 4]);
    expect(await filter(':five < n', five)).toEqual([2, 4]);
  });

  it('compares strings and binaries by bytes, and never values of different types', async () => {
    expect(await filter('s < :b', { ':b': S('b') })).toEqual([1, 4]);
    expect(await filter('s >= :c', { ':c': S('c') })).toEqual([3]);
    expect(await filter('b > :b', { ':b': B(1) })).toEqual([1, 2]);
    expect(await filter('b = :b', { ':b': B(1) })).toEqual([3]);
    expect(await filter('s = :n', { ':n': N(5) })).toEqual([]);
    expect(await filter('s <> :n', { ':n': N(5) })).toEqual([1, 2, 3, 4, 5]);
    expect(await filter('n < :s', { ':s': S('z') })).toEqual([]);
  });

  it('BETWEEN is inclusive at both ends; IN matches any listed value', async () => {
    expect(await filter('n BETWEEN :lo AND :hi', { ':lo': N(0), ':hi': N(10) })).toEqual([1, 2, 4]);
    expect(await filter('n BETWEEN :lo AND :hi', { ':lo': N('-2.5'), ':hi': N(5) })).toEqual([1, 3]);
    expect(await filter('s BETWEEN :a AND :c', { ':a': S('a'), ':c': S('c') })).toEqual([1, 2]);
    expect(await filter('n IN (:five, :ten)', { ':five': N(5), ':ten': N(10) })).toEqual([1, 2, 4]);
    expect(await filter('s IN (:x, :apple)', { ':x': S('x'), ':apple': S('apple') })).toEqual([1]);
  });

  it('binds NOT tighter than AND, and AND tighter than OR; parentheses override', async () => {
    const v = { ':five': N(5), ':ten': N(10), ':apple': S('apple'), ':banana': S('banana'), ':f': { BOOL: false } };
    // n = 5 OR (n = 10 AND s = banana), not (n = 5 OR n = 10) AND s = banana.
    expect(await filter('n = :five OR n = :ten AND s = :banana', v)).toEqual([1, 2]);
    expect(await filter('(n = :five OR n = :ten) AND s = :banana', v)).toEqual([2]);
    // n = 10 OR (s = apple AND t = false): item 1 has t = true.
    expect(await filter('n = :ten OR s = :apple AND t = :f', v)).toEqual([2, 4]);
    expect(await filter('(n = :ten OR s = :apple) AND t = :f', v)).toEqual([2]);
    // (NOT n = 10) AND attribute_exists(s), not NOT (n = 10 AND attribute_exists(s)).
    expect(await filter('NOT n = :ten AND attribute_exists(s)', v)).toEqual([1, 3]);
    expect(await filter('NOT (n = :ten AND attribute_exists(s))', v)).toEqual([1, 3, 5]);
    expect(await filter('NOT (n = :ten OR n = :five)', v)).toEqual([3, 5]);
    expect(await filter('not not n = :five', v)).toEqual([1]);
  });

  it('attribute_exists and attribute_not_exists follow nested paths and list indexes', async () => {
    expect(await filter('attribute_exists(m.n.d)')).toEqual([1]);
    expect(await filter('attribute_exists(l[2][0])')).toEqual([1]);
    expect(await filter('attribute_exists(z)')).toEqual([1]);
    expect(await filter('attribute_not_exists(l)')).toEqual([4, 5]);
    expect(await filter('attribute_not_exists(l[0])')).toEqual([2, 4, 5]);
  });

  it('attribute_type recognises every type', async () => {
    const cases: Array<[string, string, number[]]> = [
      ['s', 'S', [1, 2, 3, 4]], ['n', 'N', [1, 2, 3, 4]], ['b', 'B', [1, 2, 3]], ['t', 'BOOL', [1, 2]], ['z', 'NULL', [1]],
      ['l', 'L', [1, 2, 3]], ['m', 'M', [1, 2, 3]], ['ss', 'SS', [1, 2]], ['ns', 'NS', [1, 2]], ['bs', 'BS', [1, 2]],
      ['s', 'N', []], ['ss', 'L', []], ['l', 'SS', []],
    ];
    for (const [attribute, type, expected] of cases) {
      expect(await filter(`attribute_type(${attribute}, :t)`, { ':t': S(type) }), `${attribute} ${type}`).toEqual(expected);
    }
  });

  it('begins_with matches string and binary prefixes, case-sensitively', async () => {
    expect(await filter('begins_with(s, :p)', { ':p': S('ban') })).toEqual([2]);
    expect(await filter('begins_with(b, :p)', { ':p': B(1) })).toEqual([1, 3]);
    expect(await filter('begins_with(n, :p)', { ':p': S('1') })).toEqual([]);
  });

  it('contains finds substrings, sub-binaries, set members and list elements', async () => {
    expect(await filter('contains(s, :x)', { ':x': S('an') })).toEqual([2, 4]);
    expect(await filter('contains(s, :x)', { ':x': S(' ') })).toEqual([3]);
    expect(await filter('contains(b, :x)', { ':x': B(2, 3) })).toEqual([1]);
    expect(await filter('contains(ss, :x)', { ':x': S('a') })).toEqual([1]);
    expect(await filter('contains(ns, :x)', { ':x': N('3.0') })).toEqual([2]);
    expect(await filter('contains(bs, :x)', { ':x': B(9) })).toEqual([2]);
    expect(await filter('contains(l, :x)', { ':x': S('x') })).toEqual([1]);
    expect(await filter('contains(l, :x)', { ':x': N(1) })).toEqual([1]);
    expect(await filter('contains(l, :x)', { ':x': S('apple') })).toEqual([3]);
    expect(await filter('contains(ss, :x)', { ':x': N(1) })).toEqual([]);
  });

  it('size counts UTF-16 units of strings, bytes of binaries, and members of sets, lists and maps', async () => {
    const sizeIs = (attribute: string, n: number) => filter(`size(${attribute}) = :n`, { ':n': N(n) });
    expect(await sizeIs('s', 6)).toEqual([2, 4]); // banana, and Bañana (7 UTF-8 bytes, 6 units)
    expect(await sizeIs('s', 7)).toEqual([]);
    expect(await filter('size(s) > :n', { ':n': N(6) })).toEqual([3]);
    expect(await sizeIs('b', 3)).toEqual([1]);
    expect(await sizeIs('ss', 2)).toEqual([1]);
    expect(await sizeIs('ns', 1)).toEqual([2]);
    expect(await sizeIs('bs', 2)).toEqual([1]);
    expect(await sizeIs('l', 0)).toEqual([2]);
    expect(await sizeIs('l', 3)).toEqual([1]);
    expect(await sizeIs('l[2]', 1)).toEqual([1]);
    expect(await sizeIs('m', 2)).toEqual([1]);
    expect(await sizeIs('m', 0)).toEqual([2]);
    expect(await sizeIs('m.n', 1)).toEqual([1]);
    // size of a number, boolean or missing attribute is no size at all.
    expect(await filter('size(n) >= :zero', { ':zero': N(0) })).toEqual([]);
  });

  it('compares nested paths and list elements', async () => {
    expect(await filter('m.n.d = :one', { ':one': N(1) })).toEqual([1]);
    expect(await filter('l[0] = :x', { ':x': S('x') })).toEqual([1]);
    expect(await filter('l[0] = :x', { ':x': S('apple') })).toEqual([3]);
    expect(await filter('m.k <> :v', { ':v': S('v') })).toEqual([2, 3, 4, 5]);
    expect(await filter('m = :m', { ':m': { M: {} } })).toEqual([2]);
    expect(await filter('ns = :ns', { ':ns': { NS: ['2', '1'] } })).toEqual([1]);
  });

  it('a ConditionExpression evaluates the same operators on the item being written', async () => {
    const cases: Array<[string, Item | undefined, boolean]> = [
      ['n = :v', { ':v': N(5) }, true], ['n <> :v', { ':v': N(5) }, false], ['n < :v', { ':v': N(6) }, true],
      ['n <= :v', { ':v': N(4) }, false], ['n > :v', { ':v': N(4) }, true], ['n >= :v', { ':v': N(6) }, false],
      ['n BETWEEN :a AND :b', { ':a': N(5), ':b': N(5) }, true], ['s IN (:a, :b)', { ':a': S('x'), ':b': S('y') }, false],
      ['gone <> :v', { ':v': N(1) }, true], ['gone = :v', { ':v': N(1) }, false], ['gone < :v', { ':v': N(1) }, false],
      ['attribute_exists(m.k) AND attribute_not_exists(m.nope)', undefined, true],
      ['attribute_type(bs, :t) OR n = :v', { ':t': S('BS'), ':v': N(0) }, true],
      ['begins_with(s, :p) AND contains(ss, :m)', { ':p': S('app'), ':m': S('b') }, true],
      ['size(l) = :three AND NOT size(s) = :three', { ':three': N(3) }, true],
      ['n = :v OR n = :w AND s = :s', { ':v': N(5), ':w': N(0), ':s': S('no') }, true],
      ['(n = :v OR n = :w) AND s = :s', { ':v': N(5), ':w': N(0), ':s': S('no') }, false],
    ];
    for (const [expression, values, expected] of cases) {
      expect(await holds(expression, values), expression).toBe(expected);
    }
  });

  it('a failed condition changes nothing; with ReturnValuesOnConditionCheckFailure the exception carries the item', async () => {
    const key = { pk: S('cond') };
    await client.send(new PutItemCommand({ TableName: 'items', Item: { ...key, v: N(1) }, ConditionExpression: 'attribute_not_exists(pk)' }));
    const plain = await rejection(() => client.send(new PutItemCommand({ TableName: 'items', Item: { ...key, v: N(2) }, ConditionExpression: 'attribute_not_exists(pk)' })));
    expect(plain).toBeInstanceOf(ConditionalCheckFailedException);
    expect(plain.name).toBe('ConditionalCheckFailedException');
    expect(plain.message).toBe('The conditional request failed');
    expect((plain as unknown as ConditionalCheckFailedException).Item).toBeUndefined();
    for (const send of [
      () => client.send(new UpdateItemCommand({ TableName: 'items', Key: key, UpdateExpression: 'SET v = :two', ConditionExpression: 'v = :two', ExpressionAttributeValues: { ':two': N(2) }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })),
      () => client.send(new DeleteItemCommand({ TableName: 'items', Key: key, ConditionExpression: 'v > :one', ExpressionAttributeValues: { ':one': N(1) }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })),
      () => client.send(new PutItemCommand({ TableName: 'items', Item: key, ConditionExpression: 'attribute_not_exists(v)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })),
    ]) {
      const error = await rejection(send);
      expect(error).toBeInstanceOf(ConditionalCheckFailedException);
      expect((error as unknown as ConditionalCheckFailedException).Item).toEqual({ ...key, v: N(1) });
    }
    expect(await get('cond')).toEqual({ ...key, v: N(1) });
    // On a missing item a condition sees no attributes at all.
    const absent = await rejection(() => client.send(new UpdateItemCommand({ TableName: 'items', Key: { pk: S('cond-absent') }, UpdateExpression: 'SET v = :one', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':one': N(1) }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })));
    expect(absent).toBeInstanceOf(ConditionalCheckFailedException);
    expect((absent as unknown as ConditionalCheckFailedException).Item).toBeUndefined();
    expect(await get('cond-absent')).toBeUndefined();
  });
});

describe('ProjectionExpression', () => {
  const item: Item = {
    pk: S('proj'), a: N(1), s: S('x'),
    l: { L: [S('l0'), { M: { x: N(1), y: N(2) } }, { L: [S('deep0'), S('deep1')] }, S('l3')] },
    m: { M: { k: S('v'), n: { M: { d: N(1), e: N(2) } } } },
    status: S('reserved'),
  };

  beforeAll(async () => {
    await put(item);
  });

  async function project(expression: string, names?: Record<string, string>): Promise<Item | undefined> {
    return (await client.send(new GetItemCommand({ TableName: 'items', Key: { pk: S('proj') }, ProjectionExpression: expression, ExpressionAttributeNames: names, ConsistentRead: true }))).Item;
  }

  it('keeps top-level attributes, nested map paths and list elements (in index order), and leaves out missing paths', async () => {
    expect(await project('a, s, nothere')).toEqual({ a: N(1), s: S('x') });
    expect(await project('m.n.d')).toEqual({ m: { M: { n: { M: { d: N(1) } } } } });
    expect(await project('l[3], l[0]')).toEqual({ l: { L: [S('l0'), S('l3')] } });
    expect(await project('l[1].y, l[2][1], m.k, m.nothere')).toEqual({
      l: { L: [{ M: { y: N(2) } }, { L: [S('deep1')] }] }, m: { M: { k: S('v') } },
    });
    // The item exists, so it comes back, with nothing in it.
    expect(await project('l[9], nothere.x')).toEqual({});
  });

  it('takes reserved words and names with dots through ExpressionAttributeNames', async () => {
    await put({ pk: S('proj-names'), 'a.b': S('dotted'), a: { M: { b: S('nested') } }, size: N(3) });
    const got = await client.send(new GetItemCommand({
      TableName: 'items', Key: { pk: S('proj-names') }, ProjectionExpression: '#ab, #a.#b, #size',
      ExpressionAttributeNames: { '#ab': 'a.b', '#a': 'a', '#b': 'b', '#size': 'size' }, ConsistentRead: true,
    }));
    expect(got.Item).toEqual({ 'a.b': S('dotted'), a: { M: { b: S('nested') } }, size: N(3) });
    expect(await project('#s', { '#s': 'status' })).toEqual({ status: S('reserved') });
  });

  it('projects Query and Scan results too', async () => {
    const page = await doc.send(new DocQueryCommand({
      TableName: 'items', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'proj' },
      ProjectionExpression: 'm.n.e, l[2]', ConsistentRead: true,
    }));
    expect(page.Items).toEqual([{ m: { n: { e: 2 } }, l: [['deep0', 'deep1']] }]);
  });
});

describe('ExpressionAttributeNames and ExpressionAttributeValues', () => {
  it('substitute reserved words, names with dots and repeated placeholders, in every expression of a request', async () => {
    await put({ pk: S('names'), status: S('open'), 'a.b': N(1), count: N(1) });
    const out = await client.send(new UpdateItemCommand({
      TableName: 'items', Key: { pk: S('names') },
      UpdateExpression: 'SET #st = :closed, #ab = #ab + :one, #c = #c + :one',
      ConditionExpression: '#st = :open AND #ab = :one AND #c = :one',
      ExpressionAttributeNames: { '#st': 'status', '#ab': 'a.b', '#c': 'count' },
      ExpressionAttributeValues: { ':open': S('open'), ':closed': S('closed'), ':one': N(1) },
      ReturnValues: 'ALL_NEW',
    }));
    expect(out.Attributes).toEqual({ pk: S('names'), status: S('closed'), 'a.b': N(2), count: N(2) });
  });
});

describe('numbers: 38 significant digits, exact decimal arithmetic', () => {
  it('adds and subtracts exactly, with SET and ADD', async () => {
    await put({ pk: S('digits'), big: N('99999999999999999999999999999999999999'), f: N('0.1'), digits38: N('12345678901234567890123456789012345678') });
    const item = await update('digits', 'SET big = big - :one, f = f + :two, overflowed = :max + :one, tiny = :tiny + :tiny ADD digits38 :one', {
      ':one': N(1), ':two': N('0.2'), ':max': N('99999999999999999999999999999999999999'), ':tiny': N('1E-130'),
    });
    expect(item).toEqual({
      pk: S('digits'),
      big: N('99999999999999999999999999999999999998'),
      f: N('0.3'),
      overflowed: N('100000000000000000000000000000000000000'),
      tiny: N(`0.${'0'.repeat(129)}2`),
      digits38: N('12345678901234567890123456789012345679'),
    });
    // Through the DocumentClient 0.1 + 0.2 is exactly 0.3 as well.
    await doc.send(new PutCommand({ TableName: 'items', Item: { pk: 'doc-digits', f: 0.1 } }));
    const out = await doc.send(new UpdateCommand({ TableName: 'items', Key: { pk: 'doc-digits' }, UpdateExpression: 'ADD f :f', ExpressionAttributeValues: { ':f': 0.2 }, ReturnValues: 'UPDATED_NEW' }));
    expect(out.Attributes).toEqual({ f: 0.3 });
  });
});

describe('ReturnValues', () => {
  const key = { pk: S('rv') };
  const original: Item = { ...key, a: N(1), b: N(2), c: N(3) };

  it('UpdateItem: NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW', async () => {
    const run = async (ReturnValues: 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW' | undefined) => {
      await put(original);
      const out = await client.send(new UpdateItemCommand({
        TableName: 'items', Key: key, UpdateExpression: 'SET a = :ten, d = :d REMOVE c', ExpressionAttributeValues: { ':ten': N(10), ':d': S('new') }, ReturnValues,
      }));
      return out.Attributes;
    };
    expect(await run(undefined)).toBeUndefined();
    expect(await run('NONE')).toBeUndefined();
    expect(await run('ALL_OLD')).toEqual(original);
    // Only what the update touched: d did not exist before, c does not after.
    expect(await run('UPDATED_OLD')).toEqual({ a: N(1), c: N(3) });
    expect(await run('ALL_NEW')).toEqual({ ...key, a: N(10), b: N(2), d: S('new') });
    expect(await run('UPDATED_NEW')).toEqual({ a: N(10), d: S('new') });
  });

  it('UpdateItem on a missing item: ALL_OLD and UPDATED_OLD return nothing', async () => {
    for (const ReturnValues of ['ALL_OLD', 'UPDATED_OLD'] as const) {
      const out = await client.send(new UpdateItemCommand({ TableName: 'items', Key: { pk: S(`rv-new-${ReturnValues}`) }, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': N(1) }, ReturnValues }));
      expect(out.Attributes).toBeUndefined();
    }
  });

  it('PutItem and DeleteItem: ALL_OLD returns the item replaced or deleted, nothing when there was none', async () => {
    const first = await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: S('rv-put'), v: N(1) }, ReturnValues: 'ALL_OLD' }));
    expect(first.Attributes).toBeUndefined();
    const second = await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: S('rv-put'), w: N(2) }, ReturnValues: 'ALL_OLD' }));
    expect(second.Attributes).toEqual({ pk: S('rv-put'), v: N(1) });
    const deleted = await client.send(new DeleteItemCommand({ TableName: 'items', Key: { pk: S('rv-put') }, ReturnValues: 'ALL_OLD' }));
    expect(deleted.Attributes).toEqual({ pk: S('rv-put'), w: N(2) });
    const again = await client.send(new DeleteItemCommand({ TableName: 'items', Key: { pk: S('rv-put') }, ReturnValues: 'ALL_OLD' }));
    expect(again.Attributes).toBeUndefined();
  });
});

describe('Select, Count and ScannedCount', () => {
  // Partition 'sel' of `ranged`: sk 1..10, `even` on the even ones.
  beforeAll(async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => put({ pk: S('sel'), sk: N(i + 1), even: { BOOL: (i + 1) % 2 === 0 }, pad: S('x') }, 'ranged')));
  });

  const query = (input: Partial<QueryCommandInput>) => client.send(new QueryCommand({
    TableName: 'ranged', KeyConditionExpression: 'pk = :pk', ConsistentRead: true, ...input,
    ExpressionAttributeValues: { ':pk': S('sel'), ...input.ExpressionAttributeValues },
  }));

  it('COUNT returns counts and no items; ALL_ATTRIBUTES whole items; SPECIFIC_ATTRIBUTES the projection', async () => {
    const count = await query({ Select: 'COUNT' });
    expect(count.Items).toBeUndefined();
    expect([count.Count, count.ScannedCount]).toEqual([10, 10]);
    const filtered = await query({ Select: 'COUNT', FilterExpression: 'even = :t', ExpressionAttributeValues: { ':t': { BOOL: true } } });
    expect([filtered.Count, filtered.ScannedCount, filtered.Items]).toEqual([5, 10, undefined]);
    const all = await query({ Select: 'ALL_ATTRIBUTES', Limit: 1 });
    expect(all.Items).toEqual([{ pk: S('sel'), sk: N(1), even: { BOOL: false }, pad: S('x') }]);
    const specific = await query({ Select: 'SPECIFIC_ATTRIBUTES', ProjectionExpression: 'sk, even', Limit: 2 });
    expect(specific.Items).toEqual([{ sk: N(1), even: { BOOL: false } }, { sk: N(2), even: { BOOL: true } }]);
  });

  it('Limit counts the items read, before the filter: ScannedCount is what was read, Count what matched', async () => {
    const page = await query({ Limit: 4, FilterExpression: 'even = :t', ExpressionAttributeValues: { ':t': { BOOL: true } } });
    expect(page.ScannedCount).toBe(4);
    expect(page.Count).toBe(2);
    expect(page.Items!.map((item) => item.sk)).toEqual([N(2), N(4)]);
    expect(page.LastEvaluatedKey).toEqual({ pk: S('sel'), sk: N(4) });
    // A filter may not name a key attribute (DynamoDB's rule): this one matches nothing.
    const none = await query({ Limit: 3, Select: 'COUNT', FilterExpression: 'attribute_not_exists(even)' });
    expect([none.Count, none.ScannedCount]).toEqual([0, 3]);
    expect(none.LastEvaluatedKey).toEqual({ pk: S('sel'), sk: N(3) });
  });

  it('Scan counts the same way', async () => {
    await client.send(new CreateTableCommand({
      TableName: 'counted', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST',
    }));
    await Promise.all(Array.from({ length: 7 }, (_, i) => put({ pk: S(`c${i}`), n: N(i) }, 'counted')));
    const all = await client.send(new ScanCommand({ TableName: 'counted', Select: 'COUNT', FilterExpression: 'n >= :four', ExpressionAttributeValues: { ':four': N(4) }, ConsistentRead: true }));
    expect([all.Count, all.ScannedCount, all.Items]).toEqual([3, 7, undefined]);
    const limited = await client.send(new ScanCommand({ TableName: 'counted', Limit: 5, ConsistentRead: true }));
    expect([limited.Count, limited.ScannedCount, limited.Items!.length]).toEqual([5, 5, 5]);
    expect(limited.LastEvaluatedKey).toEqual({ pk: limited.Items![4]!.pk });
  });
});

describe('legacy parameters', () => {
  it('Expected: Value, Exists and ComparisonOperator, combined with ConditionalOperator', async () => {
    const key = { pk: S('expected') };
    // Exists: false — put only if absent.
    await client.send(new PutItemCommand({ TableName: 'items', Item: { ...key, v: N(1), s: S('abc') }, Expected: { pk: { Exists: false } } }));
    const again = await rejection(() => client.send(new PutItemCommand({ TableName: 'items', Item: { ...key, v: N(9) }, Expected: { pk: { Exists: false } } })));
    expect(again).toBeInstanceOf(ConditionalCheckFailedException);
    const when = async (expected: NonNullable<ConstructorParameters<typeof UpdateItemCommand>[0]['Expected']>, operator?: 'AND' | 'OR'): Promise<boolean> => {
      try {
        await client.send(new UpdateItemCommand({ TableName: 'items', Key: key, AttributeUpdates: { touched: { Action: 'ADD', Value: N(1) } }, Expected: expected, ConditionalOperator: operator }));
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    };
    expect(await when({ v: { Value: N(1) } })).toBe(true);
    expect(await when({ v: { Value: N(2), Exists: true } })).toBe(false);
    expect(await when({ v: { ComparisonOperator: 'GT', AttributeValueList: [N(0)] } })).toBe(true);
    expect(await when({ v: { ComparisonOperator: 'BETWEEN', AttributeValueList: [N(2), N(3)] } })).toBe(false);
    expect(await when({ s: { ComparisonOperator: 'BEGINS_WITH', AttributeValueList: [S('ab')] }, nothere: { ComparisonOperator: 'NULL' } })).toBe(true);
    expect(await when({ s: { ComparisonOperator: 'CONTAINS', AttributeValueList: [S('bc')] }, v: { ComparisonOperator: 'IN', AttributeValueList: [N(7), N(8)] } })).toBe(false);
    expect(await when({ s: { ComparisonOperator: 'CONTAINS', AttributeValueList: [S('bc')] }, v: { ComparisonOperator: 'IN', AttributeValueList: [N(7), N(8)] } }, 'OR')).toBe(true);
    expect(await when({ v: { ComparisonOperator: 'NE', AttributeValueList: [N(1)] }, s: { ComparisonOperator: 'NOT_NULL' } }, 'AND')).toBe(false);
    expect((await get('expected'))?.touched).toEqual(N(4));
  });

  it('AttributeUpdates: PUT, ADD (numbers, sets, lists) and DELETE (an attribute, or members of a set)', async () => {
    await put({ pk: S('au'), gone: S('x'), n: N(1), ss: { SS: ['a', 'b'] }, l: { L: [N(1)] } });
    const out = await client.send(new UpdateItemCommand({
      TableName: 'items', Key: { pk: S('au') },
      AttributeUpdates: {
        p: { Action: 'PUT', Value: S('put') }, dflt: { Value: N(5) }, gone: { Action: 'DELETE' },
        n: { Action: 'ADD', Value: N(2) }, fresh: { Action: 'ADD', Value: N(3) }, ss: { Action: 'DELETE', Value: { SS: ['a'] } },
        ns: { Action: 'ADD', Value: { NS: ['1'] } }, l: { Action: 'ADD', Value: { L: [N(2)] } },
      },
      ReturnValues: 'ALL_NEW',
    }));
    expect(out.Attributes).toEqual({
      pk: S('au'), p: S('put'), dflt: N(5), n: N(3), fresh: N(3), ss: { SS: ['b'] }, ns: { NS: ['1'] }, l: { L: [N(1), N(2)] },
    });
  });

  it('AttributesToGet, KeyConditions, QueryFilter and ScanFilter with ConditionalOperator', async () => {
    await Promise.all([1, 2, 3, 4].map((i) => put({ pk: S('lq'), sk: N(i), tag: S(i % 2 ? 'odd' : 'even'), n: N(i * 10) }, 'ranged')));
    const got = await client.send(new GetItemCommand({ TableName: 'ranged', Key: { pk: S('lq'), sk: N(2) }, AttributesToGet: ['tag', 'nothere'], ConsistentRead: true }));
    expect(got.Item).toEqual({ tag: S('even') });
    const between = await client.send(new QueryCommand({
      TableName: 'ranged', ConsistentRead: true,
      KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [S('lq')] }, sk: { ComparisonOperator: 'BETWEEN', AttributeValueList: [N(2), N(4)] } },
      QueryFilter: { tag: { ComparisonOperator: 'EQ', AttributeValueList: [S('even')] }, n: { ComparisonOperator: 'GT', AttributeValueList: [N(35)] } },
      ConditionalOperator: 'OR', AttributesToGet: ['sk'],
    }));
    expect(between.Items).toEqual([{ sk: N(2) }, { sk: N(4) }]);
    expect([between.Count, between.ScannedCount]).toEqual([2, 3]);
    const both = await client.send(new QueryCommand({
      TableName: 'ranged', ConsistentRead: true,
      KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [S('lq')] }, sk: { ComparisonOperator: 'LE', AttributeValueList: [N(3)] } },
      QueryFilter: { tag: { ComparisonOperator: 'EQ', AttributeValueList: [S('odd')] }, n: { ComparisonOperator: 'GT', AttributeValueList: [N(15)] } },
    }));
    expect(both.Items!.map((item) => item.sk)).toEqual([N(3)]);
    const scanned = await client.send(new ScanCommand({
      TableName: 'ranged', ConsistentRead: true,
      ScanFilter: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [S('lq')] }, n: { ComparisonOperator: 'IN', AttributeValueList: [N(10), N(40)] } },
    }));
    expect(scanned.Items!.map((item) => item.sk).sort((a, b) => Number(a.N) - Number(b.N))).toEqual([N(1), N(4)]);
  });
});

describe('BatchGetItem and BatchWriteItem', () => {
  it('write 25 requests over two tables and read them back, with nothing unprocessed', async () => {
    const puts = Array.from({ length: 15 }, (_, i) => ({ PutRequest: { Item: { pk: S(`batch${i}`), n: N(i) } } }));
    await put({ pk: S('batch-doomed') });
    const written = await client.send(new BatchWriteItemCommand({
      RequestItems: {
        items: [...puts, { DeleteRequest: { Key: { pk: S('batch-doomed') } } }],
        ranged: Array.from({ length: 9 }, (_, i) => ({ PutRequest: { Item: { pk: S('batch'), sk: N(i), v: B(i) } } })),
      },
    }));
    expect(written.UnprocessedItems).toEqual({});
    const read = await client.send(new BatchGetItemCommand({
      RequestItems: {
        items: { Keys: [...Array.from({ length: 15 }, (_, i) => ({ pk: S(`batch${i}`) })), { pk: S('batch-doomed') }], ConsistentRead: true, ProjectionExpression: 'n' },
        ranged: { Keys: Array.from({ length: 10 }, (_, i) => ({ pk: S('batch'), sk: N(i) })), ConsistentRead: true },
      },
    }));
    expect(read.UnprocessedKeys).toEqual({});
    expect(read.Responses!.items!.map((item) => Number(item.n!.N)).sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(read.Responses!.items!.every((item) => Object.keys(item).length === 1)).toBe(true);
    expect(read.Responses!.ranged!.sort((a, b) => Number(a.sk!.N) - Number(b.sk!.N))).toEqual(
      Array.from({ length: 9 }, (_, i) => ({ pk: S('batch'), sk: N(i), v: B(i) })),
    );
  });

  it('refuse duplicate keys, writing nothing', async () => {
    const dupGet = await rejection(() => client.send(new BatchGetItemCommand({ RequestItems: { items: { Keys: [{ pk: S('d1') }, { pk: S('d2') }, { pk: S('d1') }] } } })));
    expect([dupGet.name, dupGet.message]).toEqual(['ValidationException', 'Provided list of item keys contains duplicates']);
    const dupWrite = await rejection(() => client.send(new BatchWriteItemCommand({
      RequestItems: { items: [{ PutRequest: { Item: { pk: S('dup'), v: N(1) } } }, { DeleteRequest: { Key: { pk: S('dup') } } }] },
    })));
    expect([dupWrite.name, dupWrite.message]).toEqual(['ValidationException', 'Provided list of item keys contains duplicates']);
    expect(await get('dup')).toBeUndefined();
  });
});

describe('the DocumentClient round trip', () => {
  it('marshals native values both ways through expressions', async () => {
    await doc.send(new PutCommand({ TableName: 'items', Item: { pk: 'native', list: [1, 'two', { three: 3 }], map: { a: null, b: true }, bin: new Uint8Array([7]) } }));
    const out = await doc.send(new UpdateCommand({
      TableName: 'items', Key: { pk: 'native' }, UpdateExpression: 'SET #l[2].three = #l[2].three + :one, #m.c = :c REMOVE #m.a',
      ConditionExpression: 'attribute_type(#m.a, :null) AND size(bin) = :one', ExpressionAttributeNames: { '#m': 'map', '#l': 'list' },
      ExpressionAttributeValues: { ':one': 1, ':c': ['x'], ':null': 'NULL' }, ReturnValues: 'ALL_NEW',
    }));
    expect(out.Attributes).toEqual({ pk: 'native', list: [1, 'two', { three: 4 }], map: { b: true, c: ['x'] }, bin: new Uint8Array([7]) });
    expect((await doc.send(new GetCommand({ TableName: 'items', Key: { pk: 'native' }, ConsistentRead: true }))).Item).toEqual(out.Attributes);
  });
});
