import { describe, expect, it } from 'vitest';
import { ReplicaCore } from '../../src/replication/replica-core.js';
import type { AppendMessage, Ready, ReplicaConfig } from '../../src/replication/types.js';
import { bytes, Cluster, MemLog, mulberry32, text } from './harness.js';

/** A 3-replica group with node 0 elected and serving. */
function servingGroup(seed: number, extra: Partial<ConstructorParameters<typeof Cluster>[0]> = {}): Cluster {
  const c = new Cluster({ n: 3, seed, ...extra });
  c.campaign(0);
  c.tick(10);
  expect(c.core(0).checkStrongRead()).toBeUndefined();
  return c;
}

/** Replica 1 of a 3-replica group, driven by hand (no leader of its own yet). */
function follower(seed: number, log = new MemLog()): ReplicaCore {
  return new ReplicaCore({
    group: 1, id: 1, voters: [0, 1, 2], electionTicks: 10, heartbeatTicks: 2, leaseTicks: 8,
    maxAppendBytes: 1 << 20, maxInflightAppends: 4, random: mulberry32(seed), log,
    hardState: { term: 0, vote: -1, commit: 0 }, applied: 0,
  });
}

describe('commit needs a quorum', () => {
  it('a leader cut off from both followers commits nothing', () => {
    const c = servingGroup(1);
    const commit = c.core(0).commit;
    c.isolate(0);
    const p = c.propose(0, 'lonely');
    expect(p).toHaveProperty('index');
    c.tick(5);
    expect(c.core(0).commit).toBe(commit);
    expect(c.appliedData(0)).not.toContain('lonely');
  });

  it('with one follower it commits', () => {
    const c = servingGroup(2);
    c.cut(0, 1);
    c.propose(0, 'pair');
    c.tick(3);
    expect(c.appliedData(0)).toEqual(['pair']);
    expect(c.appliedData(2)).toEqual(['pair']);
    expect(c.appliedData(1)).toEqual([]);
  });

  it("a leader's own entry counts only once it is persisted", () => {
    const c = servingGroup(3);
    c.cut(0, 2); // leader + node 1 is the only quorum
    const leader = c.core(0);
    const p = leader.propose(bytes('durable?'));
    expect(p).toHaveProperty('index');
    const index = (p as { index: number }).index;
    // Take the leader's Ready but do not persist it yet: the append goes out first.
    const r = leader.ready();
    expect(r.entries.map((e) => e.index)).toEqual([index]);
    for (const m of r.send) c.queue.push({ msg: m });
    c.deliverAll(); // node 1 persists and acknowledges
    expect(leader.status().progress![1].match).toBe(index);
    // Node 1 alone is not a quorum of 3 with an unpersisted leader... but 1 + leader is,
    // once the leader's copy is durable.
    expect(leader.commit).toBe(index - 1);
    c.nodes[0].storage.persist(r);
    leader.advance(r);
    expect(leader.commit).toBe(index);
  });

  it('an entry of an earlier term commits only together with one of the current term', () => {
    const c = servingGroup(4);
    c.isolate(0);
    c.propose(0, 'orphan'); // reaches nobody
    c.tick(1);
    // Node 0 comes back as a follower of a new leader that never saw 'orphan'.
    c.crash(0);
    c.heal();
    c.tick(40);
    const leader = c.leader()!;
    expect(leader).not.toBe(0);
    c.restart(0);
    c.tick(20);
    for (let i = 0; i < 3; i++) expect(c.appliedData(i)).not.toContain('orphan');
  });
});

describe('followers learn the commit index at once', () => {
  it('every follower applies a write as soon as it commits, without waiting for a heartbeat', () => {
    const c = servingGroup(6);
    c.propose(0, 'fresh');
    c.deliverAll(); // no tick passes: no heartbeat can carry the commit index
    expect(c.appliedData(0)).toEqual(['fresh']);
    // The commit advanced on the first acknowledgement; both followers were told at once.
    expect(c.appliedData(1)).toEqual(['fresh']);
    expect(c.appliedData(2)).toEqual(['fresh']);
  });

  it('the append that only tells the commit index is not answered once accepted, and is answered when refused', () => {
    const log = new MemLog();
    const f = follower(3, log);
    const append = (prevIndex: number, datas: string[], commit: number, commitOnly?: true): AppendMessage => ({
      type: 'append', group: 1, from: 0, to: 1, term: 1, prevIndex, prevTerm: prevIndex === 0 ? 0 : 1, commit, sentTick: 1, compactable: 0,
      entries: datas.map((d, k) => ({ term: 1, index: prevIndex + 1 + k, data: bytes(d) })), ...(commitOnly ? { commitOnly } : {}),
    });
    const step = (m: AppendMessage): Ready => {
      f.step(m);
      const r = f.ready();
      log.persist(r);
      f.advance(r);
      return r;
    };
    expect(step(append(0, ['a', 'b'], 0)).sendAfterPersist).toMatchObject([{ type: 'appendReply', success: true, matchIndex: 2 }]);
    // Told the commit: it applies, and answers nothing (the leader need not wake for it).
    const told = step(append(2, [], 2, true));
    expect([...told.send, ...told.sendAfterPersist]).toEqual([]);
    expect(told.committed.map((e) => text(e.data))).toEqual(['a', 'b']);
    // A plain empty append (a heartbeat) is answered: the lease and CheckQuorum rest on it.
    expect(step(append(2, [], 2)).sendAfterPersist).toMatchObject([{ type: 'appendReply', success: true }]);
  });

  it('a refused commit-only append is answered, so the leader backs up and resends', () => {
    const f = follower(4);
    // The entries before it were lost on the way (a full ring drops them).
    f.step({ type: 'append', group: 1, from: 0, to: 1, term: 1, prevIndex: 5, prevTerm: 1, commit: 5, sentTick: 1, compactable: 0, entries: [], commitOnly: true });
    expect(f.ready().sendAfterPersist).toMatchObject([{ type: 'appendReply', success: false, rejectedIndex: 5 }]);
  });

  it('the leader marks only the appends it sends to tell the commit index', () => {
    const c = servingGroup(7);
    c.propose(0, 'x');
    const seen: AppendMessage[] = [];
    while (c.queue.length > 0) {
      const m = c.queue[0].msg;
      if (m.type === 'append' && m.from === 0) seen.push(m);
      c.deliverOne();
    }
    // To each follower: the entry (unmarked), then, once it committed, the commit (marked).
    expect(seen.map((m) => [m.to, m.entries.length, m.commitOnly === true])).toEqual([[1, 1, false], [2, 1, false], [1, 0, true], [2, 0, true]]);
    expect(c.appliedData(1)).toEqual(['x']);
  });
});

describe('catch-up', () => {
  it('a follower that missed many entries catches up from the log, in bounded appends', () => {
    const c = servingGroup(5, { maxAppendBytes: 64, maxInflightAppends: 2 });
    c.cut(0, 2);
    for (let i = 0; i < 200; i++) c.propose(0, `e${i}`);
    c.tick(3);
    expect(c.appliedData(0)).toHaveLength(200);
    expect(c.appliedData(2)).toHaveLength(0);
    c.heal();
    c.tick(30);
    expect(c.appliedData(2)).toEqual(c.appliedData(0));
  });

  it('reportUnreachable drops a follower to probe and it catches up later, without blocking the others', () => {
    const c = servingGroup(6);
    const leader = c.core(0);
    for (let i = 0; i < 10; i++) c.propose(0, `x${i}`);
    // Pretend the ring to 2 was full: everything queued for 2 is lost.
    c.queue = c.queue.filter((e) => e.msg.to !== 2);
    leader.reportUnreachable(2);
    expect(leader.status().progress![2].state).toBe('probe');
    c.deliverAll();
    expect(c.appliedData(0).length + c.appliedData(1).length).toBeGreaterThan(0);
    c.tick(4);
    expect(c.appliedData(2)).toEqual(c.appliedData(0));
    expect(leader.status().progress![2].state).toBe('replicate');
  });

  it('a follower that restarts catches up the entries it missed while down', () => {
    const c = servingGroup(7);
    c.crash(1);
    for (let i = 0; i < 50; i++) c.propose(0, `r${i}`);
    c.tick(3);
    c.restart(1);
    c.tick(10);
    expect(c.appliedData(1)).toEqual(c.appliedData(0));
    expect(c.appliedData(1)).toHaveLength(50);
  });

  it('lost appends in replicate state are noticed and resent', () => {
    const c = servingGroup(8, { maxInflightAppends: 2, maxAppendBytes: 8 });
    for (let i = 0; i < 20; i++) c.propose(0, `d${i}`);
    c.process(0);
    c.queue = c.queue.filter((e) => e.msg.to !== 1); // silently lost, no report
    c.tick(10);
    expect(c.appliedData(1)).toEqual(c.appliedData(0));
    expect(c.appliedData(1)).toHaveLength(20);
  });

  it('duplicated and reordered messages are harmless', () => {
    const c = new Cluster({ n: 3, seed: 9, reorder: true, dupRate: 0.3 });
    c.campaign(0);
    c.tick(12);
    const leader = c.leader()!;
    for (let i = 0; i < 30; i++) {
      c.propose(leader, `m${i}`);
      if (i % 5 === 0) c.tick(1);
    }
    c.tick(20);
    expect(c.appliedData(0)).toHaveLength(30);
    expect(c.appliedData(1)).toEqual(c.appliedData(0));
    expect(c.appliedData(2)).toEqual(c.appliedData(0));
  });
});

describe('log truncation', () => {
  it("a stale follower's conflicting suffix is replaced by the new leader's log", () => {
    const c = servingGroup(10);
    c.propose(0, 'common');
    c.tick(3);
    // Old leader 0, cut off, appends entries only it (and node 1's unreachable copy) hold.
    c.isolate(0);
    for (let i = 0; i < 5; i++) c.propose(0, `stale${i}`);
    c.tick(2);
    const staleLast = c.core(0).lastIndex;
    // The others elect a new leader and write over those indexes.
    c.tick(40);
    const leader = c.leader()!;
    expect(leader).not.toBe(0);
    for (let i = 0; i < 8; i++) c.propose(leader, `new${i}`);
    c.tick(3);
    // Node 0 comes back: it must drop its suffix and take the new one.
    c.heal();
    c.tick(30);
    expect(c.core(0).role).toBe('follower');
    expect(c.appliedData(0)).toEqual(c.appliedData(leader));
    expect(c.appliedData(0)).not.toContain('stale0');
    const wal = c.nodes[0].storage;
    expect(wal.lastIndex()).toBeGreaterThanOrEqual(staleLast);
    for (let i = 1; i <= wal.lastIndex(); i++) expect(wal.term(i)).toBe(c.core(leader).termAt(i));
  });

  it('a truncation that overtakes an unpersisted Ready is persisted in order', () => {
    // Drive one follower by hand: entries 1..3 of term 1 arrive, their Ready is taken but
    // not yet persisted, then a term-2 leader overwrites from index 2.
    const log = new MemLog();
    const cfg: ReplicaConfig = {
      group: 1, id: 1, voters: [0, 1, 2], electionTicks: 10, heartbeatTicks: 2, leaseTicks: 8,
      maxAppendBytes: 1 << 20, maxInflightAppends: 4, random: mulberry32(1), log,
      hardState: { term: 0, vote: -1, commit: 0 }, applied: 0,
    };
    const f = new ReplicaCore(cfg);
    const append = (term: number, prevIndex: number, prevTerm: number, datas: string[], commit = 0): AppendMessage => ({
      type: 'append', group: 1, from: term === 1 ? 0 : 2, to: 1, term, prevIndex, prevTerm, commit, sentTick: 1, compactable: 0,
      entries: datas.map((d, k) => ({ term, index: prevIndex + 1 + k, data: bytes(d) })),
    });
    f.step(append(1, 0, 0, ['a', 'b', 'c']));
    const r1: Ready = f.ready();
    expect(r1.entries).toHaveLength(3);
    expect(f.hasReady()).toBe(false); // nothing new can be handed out before advance
    f.step(append(2, 1, 1, ['B', 'C'], 2));
    log.persist(r1);
    f.advance(r1);
    expect(f.hasReady()).toBe(true);
    const r2 = f.ready();
    expect(r2.truncateFrom).toBe(2);
    expect(r2.entries.map((e) => text(e.data))).toEqual(['B', 'C']);
    // B is committed but not durable here yet: it is handed out once this Ready is persisted.
    expect(r2.committed.map((e) => text(e.data))).toEqual(['a']);
    expect(r2.hardState).toMatchObject({ term: 2, commit: 2 });
    const ack = r2.sendAfterPersist.find((m) => m.type === 'appendReply' && m.term === 2);
    expect(ack).toMatchObject({ success: true, matchIndex: 3 });
    expect(r2.send).toEqual([]);
    log.persist(r2);
    f.advance(r2);
    expect(log.log.map((e) => `${e.index}@${e.term}`)).toEqual(['1@1', '2@2', '3@2']);
    expect(f.applied).toBe(1);
    const r3 = f.ready();
    expect(r3.committed.map((e) => text(e.data))).toEqual(['B']);
    f.advance(r3);
    expect(f.applied).toBe(2);
    expect(f.hasReady()).toBe(false);
  });
});

describe('Ready contract', () => {
  it('committed entries handed out are already durable here (the shell may apply them while it syncs)', () => {
    // Regression (found by the cluster simulator): a follower that got entries together
    // with a commit covering them used to hand them out as committed in the same Ready that
    // persists them. The node shell applies committed entries while that Ready's WAL batch
    // syncs, a checkpoint then recorded an applied index past the durable WAL, and after a
    // crash that lost the batch the replica could not restart ("commit > last log index").
    const log = new MemLog();
    const f = follower(2, log);
    f.step({
      type: 'append', group: 1, from: 0, to: 1, term: 1, prevIndex: 0, prevTerm: 0, commit: 2, sentTick: 1, compactable: 0,
      entries: [{ term: 1, index: 1, data: bytes('a') }, { term: 1, index: 2, data: bytes('b') }],
    });
    const r1 = f.ready();
    expect(r1.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(r1.committed).toEqual([]);
    log.persist(r1);
    f.advance(r1);
    expect(f.hasReady()).toBe(true);
    const r2 = f.ready();
    expect(r2.committed.map((e) => text(e.data))).toEqual(['a', 'b']);
    for (const e of r2.committed) expect(log.term(e.index)).toBe(e.term);
    f.advance(r2);
    expect(f.applied).toBe(2);
  });

  it('acks and votes wait for persistence; appends to followers do not', () => {
    const c = new Cluster({ n: 3, seed: 12 });
    const n1 = c.core(1);
    c.core(0).campaign();
    const r0 = c.core(0).ready();
    expect(r0.send.map((m) => m.type)).toEqual(['preVote', 'preVote']);
    for (const m of r0.send) if (m.to === 1) n1.step(m);
    c.core(0).advance(r0);
    const r1 = n1.ready();
    expect(r1.send.map((m) => m.type)).toEqual(['preVoteReply']); // no state change: no persist needed
    expect(r1.hardState).toBeUndefined();
    c.core(0).step(r1.send[0]);
    n1.advance(r1);
    const r0b = c.core(0).ready();
    expect(r0b.hardState).toMatchObject({ term: 1, vote: 0 });
    expect(r0b.send).toEqual([]);
    expect(r0b.sendAfterPersist.map((m) => m.type)).toEqual(['vote', 'vote']);
    n1.step(r0b.sendAfterPersist.find((m) => m.to === 1)!);
    const r1b = n1.ready();
    expect(r1b.hardState).toMatchObject({ term: 1, vote: 0 });
    expect(r1b.send).toEqual([]);
    expect(r1b.sendAfterPersist).toMatchObject([{ type: 'voteReply', granted: true }]);
  });

  it('ready() never hands out the same work twice', () => {
    const c = servingGroup(13);
    const leader = c.core(0);
    leader.propose(bytes('once'));
    const r = leader.ready();
    expect(r.entries).toHaveLength(1);
    expect(() => leader.ready()).toThrow(/before advance/);
    c.nodes[0].storage.persist(r);
    leader.advance(r);
    const again = leader.hasReady() ? leader.ready() : undefined;
    expect(again?.entries ?? []).toEqual([]);
  });

  it('compaction: the WAL may drop what every replica holds; a follower behind it needs a snapshot', () => {
    const c = servingGroup(14);
    for (let i = 0; i < 10; i++) c.propose(0, `k${i}`);
    c.tick(3);
    const leader = c.core(0);
    const compactable = leader.compactableIndex();
    expect(compactable).toBe(leader.commit);
    c.crash(2);
    for (let i = 0; i < 10; i++) c.propose(0, `l${i}`);
    c.tick(3);
    // Node 2 is down: the group may not drop beyond what it holds...
    expect(leader.compactableIndex()).toBe(compactable);
    // ...but if the shell compacts anyway, node 2 can only be helped by a snapshot.
    const upTo = leader.applied;
    leader.compacted(upTo + 1);
    c.nodes[0].storage.compact(upTo + 1);
    c.restart(2);
    c.tick(6);
    expect(leader.status().progress![2].needsSnapshot).toBe(true);
    expect(leader.status().progress![1].needsSnapshot).toBe(false);
    // Node 2 still hears heartbeats: no election.
    expect(c.leaders()).toEqual([0]);
  });

  it('propose refuses beyond the in-flight limit', () => {
    const c = servingGroup(15);
    c.isolate(0);
    let refused: unknown;
    for (let i = 0; i < 5000 && refused === undefined; i++) {
      const r = c.core(0).propose(bytes(`p${i}`));
      if ('reason' in r) refused = r;
    }
    expect(refused).toEqual({ reason: 'tooManyInflight' });
  });
});
