/**
 * Which snapshot a partition's archive must keep after a scrub started from `base`: the
 * base itself, or with point-in-time recovery on, the newest snapshot taken no later than
 * the start of the recovery window (none yet: nothing goes).
 */
import { describe, expect, it } from 'vitest';
import type { ArchivedSnapshot } from '../../src/control/archive-snapshots.js';
import { retainedFrom } from '../../src/control/archive-retention.js';

const DAY = 86_400_000;
const snapshot = (index: number, atMs: number): ArchivedSnapshot => ({
  tableId: 1, group: 1, index, term: 1, atMs, object: `snap/1/1/${index}.snap`, crc: 0, bytes: 0, rows: 0,
});

describe('retainedFrom', () => {
  const now = 100 * DAY;
  const snapshots = [snapshot(10, 50 * DAY), snapshot(20, 90 * DAY), snapshot(30, 98 * DAY), snapshot(40, 99.5 * DAY)];

  it('keeps from the scrub\'s base without recovery (or with it turned off)', () => {
    expect(retainedFrom(snapshots, snapshots[3]!, undefined, now)).toBe(snapshots[3]);
    expect(retainedFrom(snapshots, snapshots[2]!, { enabled: false, recoveryPeriodDays: 7, earliestMs: 0 }, now)).toBe(snapshots[2]);
  });

  it('with recovery on, keeps from the newest snapshot at or before the window\'s start, never past the base', () => {
    expect(retainedFrom(snapshots, snapshots[3]!, { enabled: true, recoveryPeriodDays: 7, earliestMs: 0 }, now)).toBe(snapshots[1]);
    expect(retainedFrom(snapshots, snapshots[3]!, { enabled: true, recoveryPeriodDays: 35, earliestMs: 0 }, now)).toBe(snapshots[0]);
    expect(retainedFrom(snapshots, snapshots[3]!, { enabled: true, recoveryPeriodDays: 1, earliestMs: 0 }, now)).toBe(snapshots[2]);
    expect(retainedFrom(snapshots, snapshots[1]!, { enabled: true, recoveryPeriodDays: 1, earliestMs: 0 }, now)).toBe(snapshots[1]);
    expect(retainedFrom(snapshots.slice(1), snapshots[3]!, { enabled: true, recoveryPeriodDays: 35, earliestMs: 0 }, now)).toBeUndefined();
  });
});
