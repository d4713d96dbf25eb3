import { describe, expect, it } from 'vitest';
import { Cluster } from './harness.js';

describe('leases', () => {
  it('the first leader of a new group serves once its no-op applied: no earlier lease to wait out', () => {
    const c = new Cluster({ n: 3, seed: 1, electionTicks: 10, leaseTicks: 8 });
    c.campaign(0);
    c.deliverAll();
    expect(c.leaders()).toEqual([0]);
    expect(c.core(0).term).toBe(1);
    expect(c.core(0).checkStrongRead()).toBeUndefined();
    expect(c.propose(0, 'at once')).toHaveProperty('index');
    // The next leader (term 2) waits: its predecessor's lease may still run.
    c.tick(12);
    c.transfer(0, 1);
    c.deliverAll();
    expect(c.leaders()).toEqual([1]);
    expect(c.core(1).checkStrongRead()).toEqual({ reason: 'leaseNotReady', leaderHint: 1 });
    expect(c.propose(1, 'early')).toEqual({ reason: 'leaseNotReady', leaderHint: 1 });
  });

  it('a new leader refuses proposals and strong reads until leaseTicks after its election', () => {
    const c = new Cluster({ n: 3, seed: 1, electionTicks: 10, leaseTicks: 8, firstTerm: -1 });
    c.campaign(0);
    c.deliverAll();
    expect(c.leaders()).toEqual([0]);
    const leader = c.core(0);
    for (let t = 0; t < 8; t++) {
      expect(leader.checkStrongRead(), `tick ${t}`).toEqual({ reason: 'leaseNotReady', leaderHint: 0 });
      expect(c.propose(0, 'early'), `tick ${t}`).toEqual({ reason: 'leaseNotReady', leaderHint: 0 });
      c.tick(1);
    }
    expect(leader.checkStrongRead()).toBeUndefined();
    expect(c.propose(0, 'on time')).toHaveProperty('index');
  });

  it('followers refuse with the leader hint', () => {
    const c = new Cluster({ n: 3, seed: 2 });
    c.campaign(1);
    c.tick(10);
    expect(c.core(0).checkStrongRead()).toEqual({ reason: 'notLeader', leaderHint: 1 });
    expect(c.core(2).propose(new Uint8Array([1]))).toEqual({ reason: 'notLeader', leaderHint: 1 });
  });

  it('a leader that lost its quorum stops serving when its lease runs out, before anyone else is elected', () => {
    const c = new Cluster({ n: 3, seed: 3, electionTicks: 10, leaseTicks: 8, heartbeatTicks: 2 });
    c.campaign(0);
    c.tick(12);
    c.isolate(0);
    let lastServed = -1;
    let firstOtherLeader = -1;
    for (let t = 1; t <= 60; t++) {
      c.tick(1);
      if (c.core(0).checkStrongRead() === undefined) lastServed = t;
      if (firstOtherLeader < 0 && c.leaders().some((l) => l !== 0)) firstOtherLeader = t;
    }
    expect(lastServed).toBeGreaterThan(0); // it kept serving a while: no round trip needed
    expect(lastServed).toBeLessThanOrEqual(8);
    expect(firstOtherLeader).toBeGreaterThan(lastServed);
    // The new leader itself waits leaseTicks more before serving.
    const leader = c.leader()!;
    expect(c.core(leader).checkStrongRead()).toBeUndefined();
    // CheckQuorum: the old leader stepped down.
    expect(c.core(0).role).not.toBe('leader');
  });

  it('a leader with a valid lease serves strong reads without a round trip', () => {
    const c = new Cluster({ n: 3, seed: 4 });
    c.campaign(0);
    c.tick(12);
    const before = c.delivered;
    expect(c.core(0).checkStrongRead()).toBeUndefined();
    expect(c.delivered).toBe(before);
    expect(c.core(0).status().leaseTicksLeft).toBeGreaterThan(0);
  });

  it('the lease is dated from when the leader asked, not from when it heard back', () => {
    const c = new Cluster({ n: 3, seed: 5, electionTicks: 10, leaseTicks: 8, heartbeatTicks: 2 });
    c.campaign(0);
    c.tick(12);
    // Hold the next heartbeats in the network for a while (and lose later ones).
    c.tick(2, false);
    const held = c.queue.slice();
    const sentTick = Math.max(...held.map((e) => (e.msg.type === 'append' ? e.msg.sentTick : -1)));
    expect(sentTick).toBeGreaterThan(12);
    for (let t = 0; t < 5; t++) {
      c.queue = [];
      c.tick(1, false);
    }
    c.queue = held;
    c.deliverAll();
    // The replies vouch for sentTick only: the 5 ticks in the network are gone from the lease.
    expect(c.core(0).status().leaseTicksLeft).toBe(sentTick + 8 - c.now);
    expect(c.core(0).status().leaseTicksLeft).toBeLessThanOrEqual(8 - 5);
  });
});
