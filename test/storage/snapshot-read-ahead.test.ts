/**
 * ReadAheadSource: a node reads its exports and outgoing snapshots into memory a slice at
 * a time, so that their LMDB read transactions end long before the paced readers are done.
 * What it hands out must be exactly what the snapshot under it holds, in order, however
 * reading ahead and reading on demand interleave; its source is closed once every row is
 * in; and a damaged value met while reading ahead is thrown where a reader reaches it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ItemChecksumError } from '../../src/storage/checked-values.js';
import { ReadAheadSource, rowBytes, type SnapshotRow, type SnapshotSource } from '../../src/storage/snapshot.js';
import { TempDirs, SHAPE_H, entry, groupRec, prng, putOp, ycsbItem } from './helpers.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

/** `rows` handed out `next(maxBytes)` at a time, throwing `fail` when it reaches row
 *  `failAt`; counts its closes. */
function fakeSource(rows: SnapshotRow[], failAt = Infinity, fail: Error = new ItemChecksumError(new Uint8Array(8), 1, 7)): SnapshotSource & { closes: number } {
  let at = 0;
  return {
    index: 42,
    closes: 0,
    next(maxBytes: number): SnapshotRow[] {
      if (this.closes > 0) throw new Error('read after close');
      const out: SnapshotRow[] = [];
      let bytes = 0;
      while (at < rows.length && (out.length === 0 || bytes < maxBytes)) {
        if (at === failAt) throw fail;
        out.push(rows[at]);
        bytes += rowBytes(rows[at++]);
      }
      return out;
    },
    close() {
      this.closes++;
    },
  };
}

function rowsOf(n: number): SnapshotRow[] {
  return Array.from({ length: n }, (_, i) => [new Uint8Array([0, 0, i >> 8, i & 255]), new Uint8Array(20 + (i % 7)).fill(i & 255)]);
}

function drain(source: SnapshotSource, maxBytes: number): SnapshotRow[] {
  const all: SnapshotRow[] = [];
  for (let rows = source.next(maxBytes); rows.length > 0; rows = source.next(maxBytes)) all.push(...rows);
  return all;
}

describe('ReadAheadSource', () => {
  it('hands out every row in order across read-ahead and on-demand reads, and closes its source once all are in', () => {
    const rows = rowsOf(300);
    const inner = fakeSource(rows);
    const source = new ReadAheadSource(inner);
    expect(source.index).toBe(42);
    // A piece read before any read-ahead comes from the source.
    const first = source.next(200);
    expect(first.length).toBeGreaterThan(0);
    source.readAhead(500);
    source.readAhead(500);
    expect(source.buffered).toBeGreaterThan(0);
    // A piece larger than what is buffered takes only buffered rows; once they are out the
    // next piece reads on demand again.
    const out = [...first];
    out.push(...source.next(100_000));
    expect(source.buffered).toBe(0);
    out.push(...source.next(300));
    while (source.reading) source.readAhead(1000);
    expect(inner.closes).toBe(1);
    out.push(...drain(source, 256));
    expect(out).toEqual(rows);
    expect(source.next(256)).toEqual([]);
    source.close();
    expect(inner.closes).toBe(1);
  });

  it('throws a damaged value where the reader reaches it, after the rows read ahead before it', () => {
    const rows = rowsOf(50);
    const inner = fakeSource(rows, 30);
    const source = new ReadAheadSource(inner);
    while (source.reading) source.readAhead(64);
    expect(inner.closes).toBe(1);
    const got: SnapshotRow[] = [];
    expect(() => {
      for (;;) got.push(...source.next(64));
    }).toThrow(ItemChecksumError);
    expect(got).toEqual(rows.slice(0, got.length));
    expect(got.length).toBeLessThanOrEqual(30);
    expect(got.length).toBeGreaterThan(0);
  });

  it('closes its source when closed before every row is in, and holds nothing after', () => {
    const inner = fakeSource(rowsOf(100));
    const source = new ReadAheadSource(inner);
    source.readAhead(300);
    expect(source.buffered).toBeGreaterThan(0);
    source.close();
    expect(inner.closes).toBe(1);
    expect(source.buffered).toBe(0);
    expect(source.reading).toBe(false);
    expect(() => source.next(100)).toThrow(/closed/);
  });

  it('over a store: the rows are the snapshot as of its index while writes go on after its transaction ended', () => {
    const store = tmp.open(tmp.make());
    store.saveGroup(groupRec(1, 7, SHAPE_H));
    const rnd = prng(3);
    store.applyCommitted([{ group: 1, entries: Array.from({ length: 80 }, (_, i) => entry(i + 1, putOp(7, SHAPE_H, ycsbItem(`k${i}`, rnd)))) }]);
    const expected = drain(store.openSnapshot(1), 4096);
    const source = new ReadAheadSource(store.openSnapshot(1));
    expect(source.index).toBe(80);
    while (source.reading) source.readAhead(2048);
    // Overwrites and new keys after every row was read ahead (the transaction is done).
    store.applyCommitted([{ group: 1, entries: Array.from({ length: 40 }, (_, i) => entry(81 + i, putOp(7, SHAPE_H, ycsbItem(`k${i * 3}`, rnd)))) }]);
    expect(drain(source, 1024)).toEqual(expected);
    expect(drain(store.openSnapshot(1), 4096)).not.toEqual(expected);
    source.close();
  });
});
