/** The engines' YCSB bindings on their own: what raw LMDB checks of what it returns, and the
 *  noop engine answering everything. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectEngine, ENGINE_DESCRIPTIONS, type YcsbEngine } from '../../bench/ycsb/engines.js';

const fields = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`field${i}`, `value${i}`]));

describe('lmdb engine', () => {
  let dir: string;
  let engine: YcsbEngine;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-ycsb-engine-'));
    engine = connectEngine({ engine: 'lmdb', path: dir, durability: 'async' }, 0);
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads and scans whole records, fewer than asked only where the table ends', async () => {
    for (const key of ['user1', 'user2', 'user3']) expect(await engine.insert('usertable', key, fields(3))).toBe('OK');
    expect(await engine.read('usertable', 'user2', ['field1'], true)).toBe('OK');
    expect(await engine.read('usertable', 'user9', undefined, true)).toBe('NOT_FOUND');
    expect(await engine.scan('usertable', 'user1', 2, ['field0', 'field2'])).toBe('OK');
    expect(await engine.scan('usertable', 'user1', 100, undefined)).toBe('OK');
  });

  it('answers ERROR for a record without the fields asked for, read or scanned', async () => {
    expect(await engine.insert('usertable', 'user1', fields(3))).toBe('OK');
    expect(await engine.insert('usertable', 'user2', {})).toBe('OK');
    expect(await engine.read('usertable', 'user1', ['field7'], true)).toBe('ERROR');
    expect(await engine.read('usertable', 'user2', undefined, true)).toBe('ERROR');
    expect(await engine.scan('usertable', 'user1', 2, undefined)).toBe('ERROR');
    expect(await engine.scan('usertable', 'user1', 1, ['field7'])).toBe('ERROR');
  });

  it('is described by what it leaves out', () => {
    for (const left of ['validation', 'routing', 'the thread hop', 'replication', 'the WAL']) expect(ENGINE_DESCRIPTIONS.lmdb).toContain(left);
  });
});

describe('noop engine', () => {
  it('answers every operation OK without storing anything', async () => {
    const engine = connectEngine({ engine: 'noop' }, 0);
    expect(await engine.insert('usertable', 'user1', fields(1))).toBe('OK');
    expect(await engine.read('usertable', 'never-written', undefined, true)).toBe('OK');
    expect(await engine.update('usertable', 'user1', fields(1))).toBe('OK');
    expect(await engine.scan('usertable', 'user1', 10, undefined)).toBe('OK');
    await engine.close();
  });
});
