import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryObjectStore } from '../../src/control/object-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function store(): DirectoryObjectStore {
  const d = mkdtempSync(join(tmpdir(), 'shardbox-objects-'));
  dirs.push(d);
  return new DirectoryObjectStore(d);
}
const bytes = (s: string) => new TextEncoder().encode(s);

describe('DirectoryObjectStore', () => {
  it('puts, gets, replaces, lists by prefix in order, and deletes', async () => {
    const s = store();
    await s.put('wal/1/3/b', bytes('B'));
    await s.put('wal/1/3/a', bytes('A'));
    await s.put('wal/1/30/x', bytes('X'));
    await s.put('wal/2/1/y', bytes('Y'));
    expect(new TextDecoder().decode(await s.get('wal/1/3/a'))).toBe('A');
    await s.put('wal/1/3/a', bytes('A2'));
    expect(new TextDecoder().decode(await s.get('wal/1/3/a'))).toBe('A2');
    expect(await s.get('wal/1/3/missing')).toBeUndefined();
    expect(await s.get('wal/1/3')).toBeUndefined(); // a "directory" is no object
    expect(await s.list('wal/1/3/')).toEqual(['wal/1/3/a', 'wal/1/3/b']);
    expect(await s.list('wal/1/3')).toEqual(['wal/1/3/a', 'wal/1/3/b', 'wal/1/30/x']);
    expect(await s.list('')).toEqual(['wal/1/3/a', 'wal/1/3/b', 'wal/1/30/x', 'wal/2/1/y']);
    expect(await s.list('nothing/')).toEqual([]);
    await s.delete('wal/1/3/a');
    await s.delete('wal/1/3/a');
    expect(await s.list('wal/1/3/')).toEqual(['wal/1/3/b']);
  });

  it('leaves no temporary files behind and never lists an interrupted put', async () => {
    const s = store();
    await s.put('k/one', bytes('1'));
    expect(readdirSync(join(s.root, 'k'))).toEqual(['one']);
    writeFileSync(join(s.root, 'k', 'two.123-0.partial'), 'half');
    expect(await s.list('k/')).toEqual(['k/one']);
  });

  it('rejects keys that could leave the root', async () => {
    const s = store();
    await expect(s.put('../escape', bytes('x'))).rejects.toThrow(/object key/);
    await expect(s.get('a/../../b')).rejects.toThrow(/object key/);
    await expect(s.put('/abs', bytes('x'))).rejects.toThrow(/object key/);
  });
});
