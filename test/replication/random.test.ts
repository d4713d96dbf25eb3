/**
 * Random schedules (a small VOPR): every seed builds a group with randomized knobs and runs
 * a few thousand steps of deliveries (reordered, dropped, duplicated), ticks, proposals,
 * crashes (losing unpersisted Readies), restarts, one-way and two-way cuts, leadership
 * transfers, reported-unreachable links, WAL compaction and membership changes (two spare
 * nodes join as log replicas, members leave, awaited full replicas come back, removed log
 * replicas are dropped and may join afresh). The harness checks after every event: at
 * most one leader per term, never a log replica, no two replicas apply (or hold as
 * committed) different entries at one index, a new leader holds every applied entry,
 * never two valid leases at once, a serving leader has committed every acknowledged
 * write. At the end the network heals and the group must converge and accept a new write.
 *
 * Replay one seed: SEED=1234 npx vitest run test/replication/random.test.ts
 * Longer hunts:    FIRST_SEED=1000 SEEDS=5000 STEPS=8000 npx vitest run test/replication/random.test.ts
 */
import { describe, expect, it } from 'vitest';
import { Cluster, mulberry32, SafetyError } from './harness.js';

/** Spare nodes beyond the initial members: they can only join as log replicas. */
const SPARES = 2;

const FIRST_SEED = Number(process.env.FIRST_SEED ?? 1);
const SEEDS = process.env.SEED
  ? [Number(process.env.SEED)]
  : Array.from({ length: Number(process.env.SEEDS ?? 200) }, (_, i) => FIRST_SEED + i);
const STEPS = Number(process.env.STEPS ?? 4000);

function runSeed(seed: number): { commits: number; elections: number; membershipChanges: number; logRestarts: number } {
  const knobs = mulberry32(seed ^ 0x5eed);
  const members = knobs() < 0.25 ? 5 : 3;
  const n = members + SPARES;
  const c = new Cluster({
    n,
    members,
    seed,
    electionTicks: 10 + Math.floor(knobs() * 10),
    heartbeatTicks: 1 + Math.floor(knobs() * 3),
    leaseTicks: 5 + Math.floor(knobs() * 4),
    maxAppendBytes: 8 + Math.floor(knobs() * 200),
    maxInflightAppends: 1 + Math.floor(knobs() * 4),
    reorder: true,
    dropRate: knobs() * 0.2,
    dupRate: knobs() * 0.1,
    // Some seeds keep Readies half-done for long (slow disks): crash-before-persist windows.
    delayPersistRate: knobs() < 0.3 ? 0.9 : knobs() * 0.3,
  });
  const r = c.rand;
  const pick = (k: number) => Math.floor(r() * k);
  const live = () => c.nodes.filter((x) => x.alive).map((x) => x.id);
  const down = () => c.nodes.filter((x) => !x.alive && x.record !== undefined).map((x) => x.id);
  if (r() < 0.5) c.campaign(pick(members));

  /** A membership change by the current leader, if any: add a spare as a log replica, add
   *  an awaited full replica back, remove a member (a full one awaited or not), or drop a
   *  removed log replica's node. Removed full replicas that are not awaited never return
   *  (without snapshots they could not catch up). */
  const changeMembership = (): void => {
    const l = c.leader();
    if (l === undefined) return;
    const m = c.core(l).membership;
    const y = r();
    if (y < 0.35) {
      const spares = c.nodes.filter((x) => x.id >= members && !m.voters.includes(x.id)).map((x) => x.id);
      if (spares.length > 0) c.addMember(l, spares[pick(spares.length)], true);
    } else if (y < 0.55) {
      if (m.awaited.length > 0) c.addMember(l, m.awaited[pick(m.awaited.length)].id, false);
    } else if (y < 0.9) {
      const id = m.voters[pick(m.voters.length)];
      const pr = c.core(l).status().progress?.[id];
      const awaited = id < members && r() < 0.8 ? (pr?.match ?? 0) + 1 : undefined;
      c.removeMember(l, id, awaited);
    } else {
      // The control plane drops a removed log replica (committed out of the membership).
      const removed = c.nodes.filter((x) => x.id >= members && x.record !== undefined && !m.voters.includes(x.id)
        && c.core(l).status().membershipIndex <= c.core(l).commit);
      if (removed.length > 0) c.dropReplica(removed[pick(removed.length)].id);
    }
  };
  let proposals = 0;

  for (let step = 0; step < STEPS; step++) {
    const x = r();
    if (x < 0.5) {
      if (!c.deliverOne()) c.tickOnce();
    } else if (x < 0.72) {
      c.tickOnce();
    } else if (x < 0.84) {
      const l = c.leader() ?? pick(n);
      if (c.nodes[l].alive) c.propose(l, `s${seed}-${proposals++}`);
    } else if (x < 0.855) {
      const ids = live();
      if (ids.length > 0) c.crash(ids[pick(ids.length)]);
    } else if (x < 0.885) {
      const ids = down();
      if (ids.length > 0) c.restart(ids[pick(ids.length)]);
    } else if (x < 0.92) {
      const y = r();
      if (y < 0.4) c.cutOneWay(pick(n), pick(n));
      else if (y < 0.55) c.isolate(pick(n));
      else if (y < 0.7) c.cut(pick(n), pick(n));
      else c.heal();
    } else if (x < 0.95) {
      c.persistAll();
    } else if (x < 0.958) {
      const l = c.leader();
      if (l !== undefined) c.transfer(l, pick(n));
    } else if (x < 0.966) {
      const l = c.leader();
      const to = pick(n);
      if (l !== undefined && to !== l) {
        c.queue = c.queue.filter((e) => !(e.msg.from === l && e.msg.to === to));
        c.core(l).reportUnreachable(to);
        c.process(l);
      }
    } else if (x < 0.976) {
      changeMembership();
    } else if (x < 0.982) {
      const ids = live();
      if (ids.length > 0) {
        const id = ids[pick(ids.length)];
        const core = c.core(id);
        const upTo = Math.min(core.compactableIndex(), core.applied);
        if (upTo >= c.nodes[id].storage.first) {
          core.compacted(upTo + 1);
          c.nodes[id].storage.compact(upTo + 1);
        }
      }
    } else {
      c.deliverOne();
    }
  }

  // Heal everything and let the group settle: it must elect one leader and take a write.
  c.heal();
  for (const id of down()) c.restart(id);
  c.persistAll();
  (c.opts as { dropRate: number }).dropRate = 0;
  (c.opts as { delayPersistRate: number }).delayPersistRate = 0;
  c.persistAll();
  let accepted = false;
  for (let t = 0; t < 400 && !accepted; t++) {
    c.tick(1);
    const l = c.leader();
    if (l !== undefined && c.core(l).checkStrongRead() === undefined) {
      accepted = !('reason' in c.propose(l, `final-${seed}`));
    }
  }
  if (!accepted) {
    c.fail(`no leader accepted a write after healing: ${JSON.stringify(c.nodes.map((x) => x.core?.status()))} ` +
      `storage ${JSON.stringify(c.nodes.map((x) => [x.storage.first, x.storage.lastIndex()]))}`);
  }
  for (let t = 0; t < 100; t++) c.tick(1);
  const l = c.leader()!;
  // Replicas behind a compacted log would need a snapshot (a later issue): skip them, and
  // replicas outside the membership (not fed) and log replicas (they apply nothing).
  const snapshotNeeded = c.core(l).status().progress ?? {};
  const expected = c.appliedData(l);
  if (!expected.includes(`final-${seed}`)) c.fail(`leader ${l} did not apply the final write`);
  const membership = c.core(l).membership;
  for (const node of c.nodes) {
    if (node.id === l || snapshotNeeded[node.id]?.needsSnapshot || !node.alive) continue;
    if (!membership.voters.includes(node.id) || membership.logReplicas.includes(node.id)) continue;
    if (node.core!.applied !== c.core(l).applied) {
      c.fail(`node ${node.id} applied ${node.core!.applied}, leader ${l} applied ${c.core(l).applied}`);
    }
  }
  if (process.env.RANDOM_STATS) {
    console.log(`seed ${seed} n=${n} commit=${c.core(l).commit} applied0=${c.nodes[0].applied.length} elections=${c.electionsStarted()} term=${c.core(l).term} delivered=${c.delivered} dropped=${c.dropped} proposals=${proposals}`);
  }
  const logRestarts = c.logRestarts + c.nodes.reduce((sum, x) => sum + x.storage.logRestarts, 0);
  return { commits: c.core(l).commit, elections: c.electionsStarted(), membershipChanges: c.membershipChanges, logRestarts };
}

describe('random schedules', () => {
  it(`${SEEDS.length} seeds x ${STEPS} steps keep Raft's safety properties and recover`, () => {
    let totalCommits = 0;
    let membershipChanges = 0;
    let logRestarts = 0;
    for (const seed of SEEDS) {
      try {
        const r = runSeed(seed);
        totalCommits += r.commits;
        membershipChanges += r.membershipChanges;
        logRestarts += r.logRestarts;
      } catch (err) {
        if (err instanceof SafetyError) throw err;
        const e = err as Error;
        e.message = `[seed ${seed}] ${e.message}`;
        throw e;
      }
    }
    // The schedules must do real work, not just elect and idle.
    expect(totalCommits).toBeGreaterThan(SEEDS.length * 20);
    // ...and change memberships, with log replicas restarting their logs.
    if (SEEDS.length >= 100) {
      expect(membershipChanges).toBeGreaterThan(SEEDS.length);
      expect(logRestarts).toBeGreaterThan(SEEDS.length / 4);
    }
    if (process.env.RANDOM_STATS) console.log(`membership changes ${membershipChanges}, log restarts ${logRestarts}`);
  });
});
