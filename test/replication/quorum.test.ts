import { describe, expect, it } from 'vitest';
import { quorumSize, quorumthHighest, voteOutcome } from '../../src/replication/quorum.js';
import { leaseExpiryTick, leaseTicksLeft } from '../../src/replication/lease.js';

describe('quorumSize', () => {
  it.each([
    [1, 1], [2, 2], [3, 2], [4, 3], [5, 3], [6, 4], [7, 4],
  ])('%i voters need %i', (voters, q) => expect(quorumSize(voters)).toBe(q));

  it('rejects nonsense', () => {
    expect(() => quorumSize(0)).toThrow(/positive integer/);
    expect(() => quorumSize(2.5)).toThrow(/positive integer/);
  });
});

describe('quorumthHighest', () => {
  it.each([
    { values: [5], q: 1, want: 5 },
    { values: [5, 3, 9], q: 2, want: 5 },
    { values: [5, 3, 9], q: 3, want: 3 },
    { values: [5, 3, 9], q: 1, want: 9 },
    { values: [7, 7, 0], q: 2, want: 7 },
    { values: [0, 0, 4, 4, 4], q: 3, want: 4 },
    { values: [1, 2, 3, 4, 5], q: 3, want: 3 },
    { values: [10, -Infinity, -Infinity], q: 2, want: -Infinity },
  ])('$values, quorum $q -> $want', ({ values, q, want }) => {
    expect(quorumthHighest(values, q)).toBe(want);
  });

  it('does not reorder its input', () => {
    const v = [1, 3, 2];
    quorumthHighest(v, 2);
    expect(v).toEqual([1, 3, 2]);
  });

  it('rejects a quorum larger than the list', () => {
    expect(() => quorumthHighest([1, 2], 3)).toThrow(/out of range/);
  });
});

describe('voteOutcome', () => {
  it.each([
    { voters: 1, granted: 1, rejected: 0, want: 'won' },
    { voters: 3, granted: 1, rejected: 0, want: 'pending' },
    { voters: 3, granted: 2, rejected: 0, want: 'won' },
    { voters: 3, granted: 1, rejected: 1, want: 'pending' },
    { voters: 3, granted: 1, rejected: 2, want: 'lost' },
    { voters: 4, granted: 2, rejected: 2, want: 'lost' },
    { voters: 5, granted: 2, rejected: 2, want: 'pending' },
    { voters: 5, granted: 3, rejected: 2, want: 'won' },
  ])('$voters voters, $granted granted, $rejected rejected -> $want', ({ voters, granted, rejected, want }) => {
    expect(voteOutcome(voters, granted, rejected)).toBe(want);
  });
});

describe('lease math', () => {
  it.each([
    // now, acked sentTicks of followers, quorum, leaseTicks -> expiry
    { now: 100, acked: [95, 90], q: 2, lease: 8, want: 103 }, // best follower vouches for 95
    { now: 100, acked: [-Infinity, -Infinity], q: 2, lease: 8, want: -Infinity }, // nobody answered
    { now: 100, acked: [99, -Infinity, -Infinity, 97], q: 3, lease: 8, want: 105 },
    { now: 100, acked: [], q: 1, lease: 8, want: 108 }, // a group of one vouches for itself
  ])('now $now, acked $acked -> expires at $want', ({ now, acked, q, lease, want }) => {
    expect(leaseExpiryTick(now, acked, q, lease)).toBe(want);
  });

  it('counts ticks left, never below zero', () => {
    expect(leaseTicksLeft(100, 103)).toBe(3);
    expect(leaseTicksLeft(100, 100)).toBe(0);
    expect(leaseTicksLeft(100, -Infinity)).toBe(0);
  });
});
