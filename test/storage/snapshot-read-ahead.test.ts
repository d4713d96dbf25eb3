/**
 * ReadAheadSource: a node reads its exports and outgoing snapshots into memory a slice at
 * a time, so that their LMDB read transactions end long before the paced readers are done.
 * What it hands out must be exactly what the snapshot under it holds, in order, however
 * reading ahead and reading on demand interleave; its source is closed once every row is
 * in; and a damaged value met while reading ahead is thrown where a reader reaches it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ItemChecksumError } from '../../src/storage/checked-values.js';
import { ReadAheadSource, rowBytes, rowCount, unpackRows, type PackedRows, type SnapshotRow, type SnapshotSource } from '../../src/storage/snapshot.js';
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

/** Every row `source` hands out, its slices unpacked. */
function drain(source: ReadAheadSource): SnapshotRow[] {
  const all: SnapshotRow[] = [];
  for (let slice = source.next(); rowCount(slice.payload) > 0; slice = source.next()) all.push(...unpackRows(slice.payload, slice.crc));
  return all;
}

/** A plain snapshot's rows, read `maxBytes` at a time. */
function rowsOfSnapshot(source: SnapshotSource): SnapshotRow[] {
  const all: SnapshotRow[] = [];
  for (let rows = source.next(4096); rows.length > 0; rows = source.next(4096)) all.push(...rows);
  source.close();
  return all;
}

/** The rows of one packed slice. */
function rowsOfSlice(slice: PackedRows): SnapshotRow[] {
  return unpackRows(slice.payload, slice.crc);
}

describe('ReadAheadSource', () => {
  it('hands out every row in order across read-ahead and on-demand slices, and closes its source once all are in', () => {
    const rows = rowsOf(300);
    const inner = fakeSource(rows);
    const source = new ReadAheadSource(inner, 500);
    expect(source.index).toBe(42);
    // A slice taken before any read-ahead is read then.
    const out = rowsOfSlice(source.next());
    expect(out.length).toBeGreaterThan(0);
    expect(source.readAhead()).toBeGreaterThanOrEqual(500);
    source.readAhead();
    expect(source.buffered).toBeGreaterThan(1000);
    // The slices read ahead come out first, then reading goes on on demand.
    out.push(...rowsOfSlice(source.next()), ...rowsOfSlice(source.next()));
    expect(source.buffered).toBe(0);
    out.push(...rowsOfSlice(source.next()));
    while (source.reading) source.readAhead();
    expect(inner.closes).toBe(1);
    out.push(...drain(source));
    expect(out).toEqual(rows);
    expect(rowCount(source.next().payload)).toBe(0);
    source.close();
    expect(inner.closes).toBe(1);
  });

  it('throws a damaged value where the reader reaches it, after the rows read ahead before it', () => {
    const rows = rowsOf(50);
    const inner = fakeSource(rows, 30);
    const source = new ReadAheadSource(inner, 64);
    while (source.reading) source.readAhead();
    expect(inner.closes).toBe(1);
    const got: SnapshotRow[] = [];
    expect(() => {
      for (;;) got.push(...rowsOfSlice(source.next()));
    }).toThrow(ItemChecksumError);
    expect(got).toEqual(rows.slice(0, got.length));
    expect(got.length).toBeLessThanOrEqual(30);
    expect(got.length).toBeGreaterThan(0);
  });

  it('closes its source when closed before every row is in, and holds nothing after', () => {
    const inner = fakeSource(rowsOf(100));
    const source = new ReadAheadSource(inner, 300);
    source.readAhead();
    expect(source.buffered).toBeGreaterThan(0);
    source.close();
    expect(inner.closes).toBe(1);
    expect(source.buffered).toBe(0);
    expect(source.reading).toBe(false);
    expect(() => source.next()).toThrow(/closed/);
  });

  it('over a store: the rows are the snapshot as of its index while writes go on after its transaction ended', () => {
    const store = tmp.open(tmp.make());
    store.saveGroup(groupRec(1, 7, SHAPE_H));
    const rnd = prng(3);
    store.applyCommitted([{ group: 1, entries: Array.from({ length: 80 }, (_, i) => entry(i + 1, putOp(7, SHAPE_H, ycsbItem(`k${i}`, rnd)))) }]);
    const expected = rowsOfSnapshot(store.openSnapshot(1));
    const source = new ReadAheadSource(store.openSnapshot(1), 2048);
    expect(source.index).toBe(80);
    while (source.reading) source.readAhead();
    // Overwrites and new keys after every row was read ahead (the transaction is done).
    store.applyCommitted([{ group: 1, entries: Array.from({ length: 40 }, (_, i) => entry(81 + i, putOp(7, SHAPE_H, ycsbItem(`k${i * 3}`, rnd)))) }]);
    expect(drain(source)).toEqual(expected);
    expect(rowsOfSnapshot(store.openSnapshot(1))).not.toEqual(expected);
    source.close();
  });
});
