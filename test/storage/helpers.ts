import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeStore, type GroupRecord } from '../../src/storage/node-store.js';
import { encodeWriteOp } from '../../src/storage/codec.js';
import type { LogEntry } from '../../src/replication/types.js';
import type { Item, KeyShape } from '../../src/model/types.js';
import type { WriteOp } from '../../src/storage/operations.js';

export const FULL_START = '0000000000000000';
export const FULL_END = 'ffffffffffffffff';

export const SHAPE_SN: KeyShape = { hashName: 'pk', hashType: 'S', rangeName: 'sk', rangeType: 'N' };
export const SHAPE_SS: KeyShape = { hashName: 'pk', hashType: 'S', rangeName: 'sk', rangeType: 'S' };
export const SHAPE_H: KeyShape = { hashName: 'id', hashType: 'S' };

export function groupRec(group: number, tableId: number, keyShape: KeyShape, hashStart = FULL_START, hashEnd = FULL_END): GroupRecord {
  return { group, tableId, tableName: `t${tableId}`, keyShape, hashStart, hashEnd, voters: [0, 1, 2] };
}

/** Temporary directories, removed by cleanup(). */
export class TempDirs {
  private dirs: string[] = [];
  private stores: NodeStore[] = [];
  make(): string {
    const d = mkdtempSync(join(tmpdir(), 'shardbox-storage-'));
    this.dirs.push(d);
    return d;
  }
  open(dir: string, durability: 'sync' | 'async' = 'async', useWritemap?: boolean): NodeStore {
    const s = NodeStore.open({ dir, durability, ...(useWritemap !== undefined ? { useWritemap } : {}) });
    this.stores.push(s);
    return s;
  }
  async cleanup(): Promise<void> {
    for (const s of this.stores) await s.close();
    this.stores = [];
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    this.dirs = [];
  }
}

/** The project's seeded PRNG (mulberry32). */
export { seededRandom as prng } from '../../src/model/prng.js';

export function entry(index: number, op: WriteOp | undefined, term = 1): LogEntry {
  return { term, index, data: op === undefined ? new Uint8Array(0) : encodeWriteOp(op) };
}

export function putOp(tableId: number, shape: KeyShape, item: Item, extra: Partial<WriteOp> = {}): WriteOp {
  const key: Item = { [shape.hashName]: item[shape.hashName] };
  if (shape.rangeName !== undefined) key[shape.rangeName] = item[shape.rangeName];
  return { type: 'put', tableId, key, item, returnValues: 'NONE', ...extra } as WriteOp;
}

/** A YCSB-like item: 10 fields of 90 characters (~900 bytes). */
export function ycsbItem(id: string, rnd: () => number = Math.random): Item {
  const item: Item = { id: { S: id } };
  for (let f = 0; f < 10; f++) {
    let s = '';
    for (let i = 0; i < 90; i++) s += String.fromCharCode(33 + Math.floor(rnd() * 90));
    item[`field${f}`] = { S: s };
  }
  return item;
}
