import { describe, expect, it } from 'vitest';
import { ReplicaCore } from '../../src/replication/replica-core.js';
import type { AppendReplyMessage, ReplicaConfig } from '../../src/replication/types.js';
import { bytes, Cluster, MemLog, mulberry32 } from './harness.js';

function handCore(log: MemLog, over: Partial<ReplicaConfig> = {}): ReplicaCore {
  return new ReplicaCore({
    group: 1, id: 0, voters: [0, 1, 2], electionTicks: 10, heartbeatTicks: 2, leaseTicks: 8,
    maxAppendBytes: 1 << 20, maxInflightAppends: 4, random: mulberry32(1), log,
    hardState: { ...log.hardState }, applied: 0, ...over,
  });
}

/** Runs the Ready loop of a hand-driven core against its MemLog; returns what it sent. */
function drain(core: ReplicaCore, log: MemLog) {
  const sent = [];
  while (core.hasReady()) {
    const r = core.ready();
    sent.push(...r.send);
    log.persist(r);
    sent.push(...r.sendAfterPersist);
    core.advance(r);
  }
  return sent;
}

describe('safety rules', () => {
  it('an entry of an earlier term is not committed by counting replicas (Raft figure 8)', () => {
    // Node 0 holds 2@2 from its earlier leadership, unreplicated to a quorum; it is
    // re-elected in term 4 and appends its no-op 3@4.
    const log = new MemLog();
    log.log = [
      { index: 1, term: 1, data: bytes('a') },
      { index: 2, term: 2, data: bytes('b') },
    ];
    log.hardState = { term: 3, vote: -1, commit: 1 };
    const core = handCore(log, { applied: 1 });
    core.campaign();
    drain(core, log);
    core.step({ type: 'preVoteReply', group: 1, from: 1, to: 0, term: 4, granted: true });
    drain(core, log);
    core.step({ type: 'voteReply', group: 1, from: 1, to: 0, term: 4, granted: true });
    drain(core, log);
    expect(core.role).toBe('leader');
    expect(core.lastIndex).toBe(3);
    const ack = (match: number): AppendReplyMessage => ({
      type: 'appendReply', group: 1, from: 1, to: 0, term: 4, success: true, matchIndex: match, sentTick: 0,
    });
    // A quorum (0 and 1) now holds 2@2, but a term-3 leader could still overwrite it.
    core.step(ack(2));
    expect(core.commit).toBe(1);
    // Once the no-op of term 4 is on a quorum, both commit.
    core.step(ack(3));
    expect(core.commit).toBe(3);
  });

  it('a vote survives a crash: a restarted replica does not vote twice in one term', () => {
    const c = new Cluster({ n: 3, seed: 31 });
    // Node 1 votes for 0 in term 1, then crashes and restarts before 0 is heard from.
    c.core(0).campaign();
    c.process(0);
    c.deliverAll();
    expect(c.nodes[1].storage.hardState).toMatchObject({ term: 1, vote: 0 });
    c.crash(1);
    c.restart(1);
    expect(c.core(1).term).toBe(1);
    const reply = (() => {
      c.core(1).step({ type: 'vote', group: 1, from: 2, to: 1, term: 1, lastIndex: 99, lastTerm: 9, transfer: true });
      const r = c.core(1).ready();
      c.nodes[1].storage.persist(r);
      c.core(1).advance(r);
      return r.sendAfterPersist[0];
    })();
    expect(reply).toMatchObject({ type: 'voteReply', granted: false, term: 1 });
  });

  it('the committed prefix is never compared or cut, whatever an append claims about it', () => {
    const log = new MemLog();
    log.log = [{ index: 1, term: 1, data: bytes('a') }, { index: 2, term: 1, data: bytes('b') }];
    log.hardState = { term: 2, vote: -1, commit: 2 };
    const core = handCore(log, { id: 1 });
    // A (bogus) append whose entries contradict our committed entry 2 is not applied to it.
    core.step({
      type: 'append', group: 1, from: 0, to: 1, term: 2, prevIndex: 0, prevTerm: 0, commit: 2, sentTick: 1,
      compactable: 0, entries: [{ index: 1, term: 1, data: bytes('a') }, { index: 2, term: 2, data: bytes('X') }],
    });
    const r = core.ready();
    expect(r.truncateFrom).toBeUndefined();
    expect(r.entries).toEqual([]);
    expect(r.sendAfterPersist).toMatchObject([{ type: 'appendReply', success: true, matchIndex: 2 }]);
    expect(core.termAt(2)).toBe(1);
  });

  it('messages for another group or replica are a routing bug and fail loudly', () => {
    const core = handCore(new MemLog());
    expect(() => core.step({ type: 'timeoutNow', group: 2, from: 1, to: 0, term: 1 })).toThrow(/routed here/);
  });

  it('replies from a replica outside the membership (removed, or not added yet) are ignored', () => {
    const core = handCore(new MemLog());
    core.campaign();
    core.ready();
    core.step({ type: 'preVoteReply', group: 1, from: 7, to: 0, term: 1, granted: true });
    core.step({ type: 'preVoteReply', group: 1, from: 8, to: 0, term: 1, granted: true });
    expect(core.role).toBe('preCandidate');
  });

  it('stale and duplicated election messages change nothing', () => {
    const c = new Cluster({ n: 3, seed: 32 });
    c.campaign(0);
    c.tick(10);
    const term = c.core(0).term;
    // An old pre-vote reply and an old vote reply arrive late.
    c.core(0).step({ type: 'voteReply', group: 1, from: 1, to: 0, term: term - 1, granted: true });
    c.core(0).step({ type: 'preVoteReply', group: 1, from: 2, to: 0, term, granted: true });
    c.core(1).step({ type: 'timeoutNow', group: 1, from: 0, to: 1, term: term - 1 });
    c.process(0);
    c.process(1);
    c.tick(5);
    expect(c.leaders()).toEqual([0]);
    expect(c.core(0).term).toBe(term);
    expect(c.electionsStarted()).toBe(1);
  });
});
