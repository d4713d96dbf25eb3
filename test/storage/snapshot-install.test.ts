/**
 * A snapshot install goes a step at a time (NodeStore.beginInstall / continueInstall), so
 * that a partition's worth of rows never holds a node's thread in one transaction. Once
 * begun it is finished whatever happens: a store reopened in the middle of one (clearing
 * the old rows, or moving the new ones in) rolls it forward, and ends with exactly the
 * snapshot's rows at its index. A group dropped midway leaves nothing to roll forward.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeStore } from '../../src/storage/node-store.js';
import { TempDirs, SHAPE_H, entry, groupRec, prng, putOp, ycsbItem } from './helpers.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

const TABLE = 7;
const GROUP = 1;

/** Applies puts of `ids` to the group, from log index `from`; returns the last index. */
function putAll(s: NodeStore, ids: string[], from: number, seed: number): number {
  const rnd = prng(seed);
  const entries = ids.map((id, i) => entry(from + i, putOp(TABLE, SHAPE_H, ycsbItem(id, rnd))));
  s.applyCommitted([{ group: GROUP, entries }]);
  return from + ids.length - 1;
}

/** A source replica with 60 items at some index, and a target whose 40 older items
 *  (20 of them under the same keys, with other values) the snapshot replaces. */
function setUp(): { source: NodeStore; target: NodeStore; targetDir: string; index: number } {
  const source = tmp.open(tmp.make());
  source.saveGroup(groupRec(GROUP, TABLE, SHAPE_H));
  const index = putAll(source, Array.from({ length: 60 }, (_, i) => `k${i}`), 1, 1);
  const targetDir = tmp.make();
  const target = tmp.open(targetDir);
  target.saveGroup(groupRec(GROUP, TABLE, SHAPE_H));
  putAll(target, [...Array.from({ length: 20 }, (_, i) => `k${i}`), ...Array.from({ length: 20 }, (_, i) => `old${i}`)], 1, 2);
  const snapshot = source.openSnapshot(GROUP);
  for (let rows = snapshot.next(8 * 1024); rows.length > 0; rows = snapshot.next(8 * 1024)) target.stageSnapshotRows(GROUP, rows);
  snapshot.close();
  return { source, target, targetDir, index };
}

describe('snapshot install, a step at a time', () => {
  it('takes many small steps and ends with exactly the snapshot at its index', () => {
    const { source, target, index } = setUp();
    target.beginInstall(GROUP, { index, term: 1 });
    let steps = 1;
    while (!target.continueInstall(GROUP, 16)) steps++;
    // 40 old rows cleared and 60 new ones moved, 16 a step.
    expect(steps).toBeGreaterThanOrEqual(Math.ceil(100 / 16));
    expect(target.appliedIndex(GROUP)).toBe(index);
    expect(target.groupDigest(GROUP)).toEqual(source.groupDigest(GROUP));
    expect(target.continueInstall(GROUP, 16)).toBe(true);
  });

  for (const [phase, steps] of [['clearing the old rows', 1], ['moving the new rows in', 5]] as const) {
    it(`is finished when the store reopens after a stop while ${phase}`, async () => {
      const { source, target, targetDir, index } = setUp();
      target.beginInstall(GROUP, { index, term: 1 });
      for (let i = 0; i < steps; i++) expect(target.continueInstall(GROUP, 16)).toBe(false);
      const mixed = target.groupDigest(GROUP);
      expect(mixed).not.toEqual(source.groupDigest(GROUP));
      await target.close();
      const reopened = tmp.open(targetDir);
      expect(reopened.appliedIndex(GROUP)).toBe(index);
      expect(reopened.groupDigest(GROUP)).toEqual(source.groupDigest(GROUP));
      expect(reopened.continueInstall(GROUP, 16)).toBe(true);
    });
  }

  it('ends with its group: a group dropped midway is not rolled forward when the store reopens', async () => {
    const { target, targetDir, index } = setUp();
    target.beginInstall(GROUP, { index, term: 1 });
    expect(target.continueInstall(GROUP, 16)).toBe(false);
    target.dropGroup(GROUP);
    // The checkpoint clears the drop's tombstone: only the install's own cleanup is left.
    await target.checkpoint();
    await target.close();
    const reopened = tmp.open(targetDir);
    reopened.saveGroup(groupRec(GROUP, TABLE, SHAPE_H));
    expect(reopened.appliedIndex(GROUP)).toBe(0);
    expect(reopened.groupDigest(GROUP).items).toBe(0);
  });
});
