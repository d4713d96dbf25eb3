/**
 * A log replica's restart (Ready.logStart): the WAL drops every entry and continues after
 * a given index and term, in one batch with what follows, and recovers the same way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/replication/types.js';
import { TempDirs, SHAPE_SN, groupRec } from './helpers.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

function range(lo: number, hi: number, term: number): LogEntry[] {
  const out: LogEntry[] = [];
  for (let i = lo; i <= hi; i++) out.push({ index: i, term, data: new Uint8Array([i & 0xff, term]) });
  return out;
}

describe('WAL log restart (log replicas)', () => {
  it('drops every entry, continues after the given index and term, and reopens the same', async () => {
    const dir = tmp.make();
    let s = tmp.open(dir, 'sync');
    s.saveGroup(groupRec(1, 7, SHAPE_SN));
    s.saveGroup(groupRec(2, 7, SHAPE_SN, '8000000000000000'));
    s.persist([{ group: 1, entries: range(1, 5, 1) }, { group: 2, entries: range(1, 3, 1) }]);
    s.persist([
      { group: 1, logStart: { index: 40, term: 3 }, entries: range(41, 43, 4), hardState: { term: 4, vote: -1, commit: 40 } },
      { group: 2, entries: range(4, 4, 1) },
    ]);
    const check = () => {
      const log = s.logReader(1);
      expect([log.firstIndex(), log.lastIndex(), log.term(40), log.term(41), log.term(5)]).toEqual([41, 43, 3, 4, undefined]);
      expect(log.entries(41, 44, 1 << 20)).toEqual(range(41, 43, 4));
      expect(s.logReader(2).lastIndex()).toBe(4);
      expect(s.hardState(1)).toEqual({ term: 4, vote: -1, commit: 40 });
    };
    check();
    await s.close();
    s = tmp.open(dir, 'sync');
    check();
    // A restart of an empty log (a new log replica), then ordinary appends.
    s.persist([{ group: 1, logStart: { index: 50, term: 5 }, entries: [] }]);
    s.persist([{ group: 1, entries: range(51, 52, 5) }]);
    expect([s.logReader(1).firstIndex(), s.logReader(1).lastIndex()]).toEqual([51, 52]);
    await s.close();
    s = tmp.open(dir, 'async');
    expect([s.logReader(1).firstIndex(), s.logReader(1).lastIndex(), s.logReader(1).term(50)]).toEqual([51, 52, 5]);
    await s.close();
  });

  it('refuses a restart below the compaction point', () => {
    const s = tmp.open(tmp.make());
    s.saveGroup(groupRec(1, 7, SHAPE_SN));
    s.persist([{ group: 1, entries: range(1, 10, 1) }]);
    s.compactWal(1, 8);
    expect(() => s.persist([{ group: 1, logStart: { index: 5, term: 1 }, entries: [] }])).toThrow(/below its compaction point 8/);
  });
});
