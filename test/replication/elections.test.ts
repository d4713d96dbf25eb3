import { describe, expect, it } from 'vitest';
import { Cluster } from './harness.js';

describe('elections', () => {
  it('a new group elects exactly one leader on its own', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const c = new Cluster({ n: 3, seed });
      c.tick(40);
      expect(c.leaders(), `seed ${seed}`).toHaveLength(1);
      const leader = c.leader()!;
      for (const n of c.nodes) expect(n.core!.leader, `seed ${seed}`).toBe(leader);
    }
  });

  it('campaign() on the designated first leader wins without waiting a timeout', () => {
    const c = new Cluster({ n: 3, seed: 1 });
    c.campaign(2);
    c.deliverAll();
    expect(c.leaders()).toEqual([2]);
    expect(c.core(2).term).toBe(1);
    expect(c.core(2).status().electionsStarted).toBe(1);
  });

  it('a group of one elects itself and serves after the lease wait', () => {
    const c = new Cluster({ n: 1, seed: 3, firstTerm: -1 });
    c.campaign(0);
    expect(c.leaders()).toEqual([0]);
    expect(c.propose(0, 'x')).toMatchObject({ reason: 'leaseNotReady' });
    c.tick(8);
    expect(c.propose(0, 'x')).toMatchObject({ index: 2, term: 1 });
    c.tick(1);
    expect(c.appliedData(0)).toEqual(['x']);
  });

  it('pre-vote: a one-way cut (leader cannot reach F1, F2 still hears it) starts no election', () => {
    const c = new Cluster({ n: 3, seed: 11 });
    c.campaign(0);
    c.tick(10);
    const termBefore = c.core(0).term;
    const electionsBefore = c.electionsStarted();
    c.cutOneWay(0, 1); // F1 stops hearing the leader; F1 -> others still works
    c.tick(200);
    expect(c.electionsStarted()).toBe(electionsBefore);
    expect(c.leaders()).toEqual([0]);
    expect(c.core(0).term).toBe(termBefore);
    expect(c.core(1).term).toBe(termBefore);
    expect(c.core(1).status().preVotesFailed).toBeGreaterThan(0);
    // The leader still commits with F2 and keeps its lease.
    expect(c.propose(0, 'still here')).toHaveProperty('index');
    c.tick(3); // F2 learns the commit with the next heartbeat
    expect(c.appliedData(2)).toContain('still here');
    expect(c.core(0).checkStrongRead()).toBeUndefined();
  });

  it('a truly dead leader is replaced within a bounded number of ticks', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const c = new Cluster({ n: 3, seed, electionTicks: 10, leaseTicks: 8 });
      c.campaign(0);
      c.tick(10);
      c.crash(0);
      let ticks = 0;
      while (c.leader() === undefined) {
        c.tick(1);
        ticks++;
        expect(ticks, `seed ${seed}`).toBeLessThanOrEqual(60);
      }
      // Stickiness keeps followers loyal for electionTicks after their last heartbeat (at
      // most heartbeatTicks before the crash), then one times out (< 2x) and pre-votes.
      expect(ticks, `seed ${seed}`).toBeGreaterThanOrEqual(10 - 2);
      expect(c.leaders().length).toBe(1);
    }
  });

  it('a truly dead leader: a new leader serves within a bound derived from the config', () => {
    // The harness delivers every message within the tick it was sent, so, counting from
    // the crash: a follower heard its last heartbeat at most heartbeatTicks earlier and
    // times out at most 2*electionTicks-1 ticks after it; the other follower has not heard
    // the leader for electionTicks by then, so it grants the pre-vote and the vote at once.
    // Only a split (both time out in the same tick and vote for themselves) costs another
    // round of at most 2*electionTicks-1 ticks, and every round bumps the term once. The
    // winner then serves after leaseTicks (the old leader's lease has run out) and its
    // no-op commits in its first tick. Bound: rounds*(2E-1) + L + 1.
    for (let seed = 1; seed <= 40; seed++) {
      const E = 8 + (seed % 7);
      const L = E - 1 - (seed % 4);
      const H = 1 + (seed % 3);
      const c = new Cluster({ n: 3, seed, electionTicks: E, leaseTicks: L, heartbeatTicks: H });
      c.campaign(0);
      c.tick(2 * E);
      const term = c.core(0).term;
      c.crash(0);
      let ticks = 0;
      const serving = () => [1, 2].some((i) => c.core(i).checkStrongRead() === undefined);
      while (!serving()) {
        c.tick(1);
        ticks++;
        expect(ticks, `seed ${seed}: no leader serving after ${ticks} ticks`).toBeLessThan(100 * E);
      }
      const leader = c.leader()!;
      const rounds = c.core(leader).term - term;
      expect(ticks, `seed ${seed}: ${rounds} election round(s), E ${E}, L ${L}, H ${H}`).toBeLessThanOrEqual(rounds * (2 * E - 1) + L + 1);
      // Never before the followers' promise to the old leader (E after its last heartbeat)
      // plus the new leader's lease wait.
      expect(ticks, `seed ${seed}`).toBeGreaterThanOrEqual(E - H + L);
      expect(c.propose(leader, `after-${seed}`)).toHaveProperty('index');
    }
  });

  it('a one-way cut the other way (the leader sends to F1 but never hears it) starts no election either', () => {
    const c = new Cluster({ n: 3, seed: 12 });
    c.campaign(0);
    c.tick(10);
    const term = c.core(0).term;
    const electionsBefore = c.electionsStarted();
    c.cutOneWay(1, 0); // F1 hears the leader; its acks are lost
    c.tick(200);
    expect(c.electionsStarted()).toBe(electionsBefore);
    expect(c.leaders()).toEqual([0]);
    expect(c.core(1).term).toBe(term);
    // CheckQuorum is satisfied by F2, the lease holds, and F1 still applies what commits.
    expect(c.core(0).checkStrongRead()).toBeUndefined();
    c.propose(0, 'x');
    c.tick(3);
    expect(c.appliedData(1)).toContain('x');
  });

  it('stickiness: a replica that still hears the leader refuses votes without adopting the term', () => {
    const c = new Cluster({ n: 3, seed: 5 });
    c.campaign(0);
    c.tick(5);
    const term = c.core(0).term;
    // Node 1 is cut off completely and times out; its pre-votes fail, so its term stays.
    c.isolate(1);
    c.tick(100);
    expect(c.core(1).term).toBe(term);
    c.heal();
    c.tick(10);
    expect(c.leaders()).toEqual([0]);
    expect(c.core(0).term).toBe(term);
  });

  it('a replica whose log is behind cannot win', () => {
    const c = new Cluster({ n: 3, seed: 9 });
    c.campaign(0);
    c.tick(10);
    c.cut(0, 2);
    for (let i = 0; i < 5; i++) c.propose(0, `w${i}`);
    c.tick(3);
    expect(c.core(2).lastIndex).toBeLessThan(c.core(1).lastIndex);
    c.crash(0);
    c.heal();
    c.tick(80);
    expect(c.leader()).toBe(1);
  });

  it('leadership transfer: the target campaigns at once and the old leader stops serving', () => {
    const c = new Cluster({ n: 3, seed: 21 });
    c.campaign(0);
    c.tick(10);
    c.propose(0, 'before');
    c.transfer(0, 2);
    expect(c.core(0).propose(new TextEncoder().encode('during'))).toEqual({ reason: 'notLeader', leaderHint: 2 });
    expect(c.core(0).checkStrongRead()).toMatchObject({ reason: 'notLeader' });
    c.deliverAll();
    expect(c.leaders()).toEqual([2]);
    expect(c.core(2).checkStrongRead()).toMatchObject({ reason: 'leaseNotReady' });
    c.tick(10);
    expect(c.core(2).checkStrongRead()).toBeUndefined();
    expect(c.appliedData(2)).toEqual(['before']);
  });

  it('a transfer to an unreachable target gives up and the leader serves again', () => {
    const c = new Cluster({ n: 3, seed: 22 });
    c.campaign(0);
    c.tick(10);
    c.cut(0, 2);
    c.transfer(0, 2);
    expect(c.core(0).checkStrongRead()).toBeDefined();
    c.tick(12);
    expect(c.leaders()).toEqual([0]);
    expect(c.core(0).checkStrongRead()).toBeUndefined();
  });
});
