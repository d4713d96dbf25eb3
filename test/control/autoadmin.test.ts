import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AutoAdmin, type AutoAdminDeps } from '../../src/control/autoadmin.js';
import type { TableMeta, TableStatus } from '../../src/control/metadata.js';
import type { NodeRequestBody } from '../../src/node/requests.js';
import type { Membership, ReplicaStatus } from '../../src/replication/types.js';

const NOW_MS = Date.UTC(2026, 0, 2, 3, 4, 5);
const SILENT_THRESHOLD_TICKS = 30;
const INTERVAL_MS = 500;

const m = (voters: number[], logReplicas: number[] = [], awaited: Membership['awaited'] = []): Membership => ({ voters, logReplicas, awaited });

/** A table whose partitions (groups firstGroup, firstGroup + 1, ...) all live on nodes 0,
 *  1, 2 of a 4-node cluster. */
function table(name: string, groups: number, status: TableStatus = 'ACTIVE', logReplicas?: number[], firstGroup = 1): TableMeta {
  return {
    name, tableId: 7, uuid: '00000000-0000-4000-8000-000000000007', status,
    keySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    attributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    keyShape: { hashName: 'id', hashType: 'S' },
    billingMode: 'PAY_PER_REQUEST', readCapacityUnits: 0, writeCapacityUnits: 0, createdAtMs: 0,
    partitions: Array.from({ length: groups }, (_, i) => ({
      group: firstGroup + i,
      hashStart: i === 0 ? '0000000000000000' : '8000000000000000',
      hashEnd: i === 0 && groups > 1 ? '7fffffffffffffff' : 'ffffffffffffffff',
      replicas: [0, 1, 2],
      ...(logReplicas !== undefined ? { logReplicas } : {}),
    })),
  };
}

/** The status the leader `id` of `group` reports; `silent` members were not heard from
 *  for 100 ticks. */
function leaderStatus(group: number, id: number, membership: Membership, silent: number[] = [], extra: Partial<ReplicaStatus> = {}): ReplicaStatus {
  const progress: NonNullable<ReplicaStatus['progress']> = {};
  for (const v of membership.voters) {
    if (v !== id) progress[v] = { match: 50, next: 51, state: 'replicate', silentTicks: silent.includes(v) ? 100 : 1 };
  }
  return {
    group, id, role: 'leader', term: 3, leader: id, commit: 50, applied: 50, lastIndex: 50, leaseTicksLeft: 5,
    membership, membershipIndex: 10, logReplica: false, electionsStarted: 1, preVotesFailed: 0, progress, ...extra,
  };
}

/** The metadata autoadmin reads and records, in memory; `log` interleaves its writes with
 *  the control requests so that tests can check their order. */
class FakeMetadata {
  constructor(private readonly log: string[], readonly metas: TableMeta[]) {}

  tables(): TableMeta[] {
    return structuredClone(this.metas);
  }

  setLogReplicas(name: string, group: number, logReplicas: number[]): TableMeta {
    this.log.push(`metadata ${name}/${group} logReplicas=[${logReplicas.join(',')}]`);
    const meta = this.metas.find((t) => t.name === name)!;
    const partition = meta.partitions.find((p) => p.group === group)!;
    if (logReplicas.length > 0) partition.logReplicas = [...logReplicas];
    else delete partition.logReplicas;
    return meta;
  }

  replaceHome(name: string, group: number, node: number, by: number): TableMeta {
    this.log.push(`metadata ${name}/${group} home ${node}->${by}`);
    const meta = this.metas.find((t) => t.name === name)!;
    const partition = meta.partitions.find((p) => p.group === group)!;
    partition.replicas = partition.replicas.map((n) => (n === node ? by : n));
    partition.retired = [...(partition.retired ?? []), node];
    return meta;
  }

  clearRetired(name: string, group: number, node: number): TableMeta {
    this.log.push(`metadata ${name}/${group} retired -${node}`);
    const meta = this.metas.find((t) => t.name === name)!;
    const partition = meta.partitions.find((p) => p.group === group)!;
    partition.retired = (partition.retired ?? []).filter((n) => n !== node);
    return meta;
  }
}

type Answer = (node: number, group: number, body: NodeRequestBody) => Promise<unknown>;

/** What a node answers to 'leaders': its leaders' statuses, an error, or never. */
type LeadersAnswer = ReplicaStatus[] | 'fails' | 'never';

/** A cluster as autoadmin sees it: `leaders[n]` is what node n answers to 'leaders',
 *  `down` nodes are not alive, and `answer` decides every other request (default: the
 *  leader accepts the change at index 60). */
function harness(options: { metas: TableMeta[]; leaders: LeadersAnswer[]; down?: number[]; answer?: Answer; replaceAfterMs?: number }) {
  const clock = { now: 0 };
  const log: string[] = [];
  const bodies: Array<{ node: number; group: number; body: NodeRequestBody }> = [];
  const metadata = new FakeMetadata(log, options.metas);
  const down = new Set(options.down ?? []);
  const deps: AutoAdminDeps = {
    metadata,
    control: (node, group, body) => {
      bodies.push({ node, group, body });
      log.push(`node ${node} group ${group} ${body.t}`);
      if (body.t === 'leaders') {
        const leaders = options.leaders[node] ?? [];
        if (leaders === 'fails') return Promise.reject(new Error(`node ${node} is restarting`));
        if (leaders === 'never') return new Promise(() => {});
        return Promise.resolve(structuredClone(leaders));
      }
      return options.answer !== undefined ? options.answer(node, group, body) : Promise.resolve(body.t === 'changeMembership' ? { index: 60 } : {});
    },
    isAlive: (node) => !down.has(node),
    nodes: 4,
    silentThresholdTicks: SILENT_THRESHOLD_TICKS,
    intervalMs: INTERVAL_MS,
    replaceAfterMs: options.replaceAfterMs ?? 0,
    nowMs: () => clock.now,
  };
  return { admin: new AutoAdmin(deps), log, bodies, metadata, down, clock };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW_MS);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('autoadmin: one turn', () => {
  it('asks each live node once for its leaders, and leaves a healthy group alone', async () => {
    const h = harness({ metas: [table('orders', 1)], leaders: [[leaderStatus(1, 0, m([0, 1, 2]))]], down: [3] });
    await h.admin.turn();
    expect(h.log).toEqual(['node 0 group 0 leaders', 'node 1 group 0 leaders', 'node 2 group 0 leaders']);
    expect(h.admin.events).toEqual([]);
    expect(h.admin.counters).toEqual({ turns: 1, changes: 0, failedTurns: 0 });
  });

  it('a silent home replica: records the log replica, creates it on the free node, then asks the leader to add it', async () => {
    const h = harness({ metas: [table('orders', 1)], leaders: [[], [leaderStatus(1, 1, m([0, 1, 2]), [2])]], down: [2] });
    await h.admin.turn();
    expect(h.log).toEqual([
      'node 0 group 0 leaders', 'node 1 group 0 leaders', 'node 3 group 0 leaders',
      'metadata orders/1 logReplicas=[3]', // before the replica exists: a crash leaves one to drop, never an unknown one
      'node 3 group 1 createGroup',
      'node 1 group 1 changeMembership',
    ]);
    const create = h.bodies.find((b) => b.body.t === 'createGroup')!.body;
    expect(create).toEqual({
      t: 'createGroup',
      campaign: false,
      votedFor: { term: 3, vote: 1 },
      rec: {
        group: 1, tableId: 7, tableName: 'orders', keyShape: { hashName: 'id', hashType: 'S' },
        hashStart: '0000000000000000', hashEnd: 'ffffffffffffffff',
        voters: [0, 1, 2, 3], logReplicas: [3], awaited: [], logReplica: true,
      },
    });
    expect(h.bodies.find((b) => b.body.t === 'changeMembership')!.body).toEqual({ t: 'changeMembership', next: m([0, 1, 2, 3], [3]) });
    expect(h.metadata.metas[0].partitions[0].logReplicas).toEqual([3]);
    expect(h.admin.events).toEqual([{ atMs: NOW_MS, table: 'orders', group: 1, kind: 'addLogReplica', node: 3 }]);
    expect(h.admin.counters.changes).toBe(1);
  });

  it('a recorded log replica that never became a member (a turn failed after recording it) is dropped first, then added again', async () => {
    const h = harness({ metas: [table('orders', 1, 'ACTIVE', [3])], leaders: [[leaderStatus(1, 0, m([0, 1, 2]), [2])]], down: [2] });
    await h.admin.turn();
    expect(h.log.slice(3)).toEqual(['node 3 group 1 dropGroup', 'metadata orders/1 logReplicas=[]']);
    h.log.length = 0;
    await h.admin.turn();
    expect(h.log.slice(3)).toEqual(['metadata orders/1 logReplicas=[3]', 'node 3 group 1 createGroup', 'node 0 group 1 changeMembership']);
    expect(h.admin.events.map((e) => [e.kind, e.node])).toEqual([['dropLogReplica', 3], ['addLogReplica', 3]]);
  });

  it('a change the leader refuses (no index) is not recorded as made', async () => {
    const h = harness({
      metas: [table('orders', 1)],
      leaders: [[leaderStatus(1, 0, m([0, 1, 2]), [2])]],
      down: [2],
      answer: (_node, _group, body) => Promise.resolve(body.t === 'changeMembership' ? { refused: 'pending change' } : {}),
    });
    await h.admin.turn();
    expect(h.log.at(-1)).toBe('node 0 group 1 changeMembership');
    expect(h.admin.events).toEqual([]);
    expect(h.admin.counters.changes).toBe(0);
    // The log replica stays recorded: the next turn tries again, or drops it.
    expect(h.metadata.metas[0].partitions[0].logReplicas).toEqual([3]);
  });

  it('removes a silent member once three healthy members remain, awaiting a home replica from its match', async () => {
    const h = harness({ metas: [table('orders', 1, 'ACTIVE', [3])], leaders: [[leaderStatus(1, 0, m([0, 1, 2, 3], [3]), [2])]], down: [2] });
    await h.admin.turn();
    expect(h.log.slice(3)).toEqual(['node 0 group 1 changeMembership']);
    expect(h.bodies.at(-1)!.body).toEqual({ t: 'changeMembership', next: m([0, 1, 3], [3], [{ id: 2, from: 51 }]) });
    expect(h.admin.events).toEqual([{ atMs: NOW_MS, table: 'orders', group: 1, kind: 'removeMember', node: 2 }]);
  });

  it('adds a returning home replica back, then removes the log replica once it caught up', async () => {
    const h = harness({ metas: [table('orders', 1, 'ACTIVE', [3])], leaders: [[leaderStatus(1, 0, m([0, 1, 3], [3], [{ id: 2, from: 40 }]))]] });
    await h.admin.turn();
    expect(h.bodies.at(-1)).toEqual({ node: 0, group: 1, body: { t: 'changeMembership', next: m([0, 1, 3, 2], [3]) } });
    expect(h.admin.events.map((e) => [e.kind, e.node])).toEqual([['addBack', 2]]);
    // A later turn: node 2 is a caught-up member again.
    const leaders = [[leaderStatus(1, 0, m([0, 1, 3, 2], [3]), [], { membershipIndex: 60, commit: 60 })]];
    leaders[0][0].progress![2].match = 60;
    const next = harness({ metas: h.metadata.metas, leaders });
    await next.admin.turn();
    expect(next.bodies.at(-1)).toEqual({ node: 0, group: 1, body: { t: 'changeMembership', next: m([0, 1, 2]) } });
    expect(next.admin.events.map((e) => [e.kind, e.node])).toEqual([['removeLogReplica', 3]]);
    // The partition map still lists the log replica: it is dropped once the change committed.
    expect(next.metadata.metas[0].partitions[0].logReplicas).toEqual([3]);
  });

  it('repair: a home replica away past replaceAfterMs gives its place to the log replica\'s node, which gets a full replica', async () => {
    const rec = { group: 1, tableId: 7, tableName: 't', keyShape: { hashName: 'id', hashType: 'S' }, hashStart: '0000000000000000', hashEnd: 'ffffffffffffffff', voters: [0, 1, 3], logReplicas: [3], logReplica: false };
    const answer: Answer = (_node, _group, body) => Promise.resolve(body.t === 'changeMembership' ? { index: 60 } : body.t === 'groupRecord' ? rec : {});
    const metas = [table('t', 1, 'ACTIVE', [3])];
    const awaiting = m([0, 1, 3], [3], [{ id: 2, from: 40 }]);
    const { admin, log, bodies, clock } = harness({ metas, leaders: [[leaderStatus(1, 0, awaiting)]], down: [2], answer, replaceAfterMs: 60_000 });
    await admin.turn();
    clock.now = 59_999;
    await admin.turn();
    expect(log.filter((l) => !l.endsWith('leaders'))).toEqual([]); // not away long enough yet
    clock.now = 60_000;
    await admin.turn();
    expect(log.filter((l) => !l.endsWith('leaders'))).toEqual(['metadata t/1 home 2->3']);
    expect(metas[0].partitions[0]).toMatchObject({ replicas: [0, 1, 3], retired: [2] });

    // Next turns (as the leader then reports): the log replica goes, is dropped, a full one comes.
    log.length = 0;
    const h2 = harness({ metas, leaders: [[leaderStatus(1, 0, awaiting)]], down: [2], answer, replaceAfterMs: 60_000 });
    await h2.admin.turn();
    expect(h2.bodies.find((b) => b.body.t === 'changeMembership')?.body).toEqual({ t: 'changeMembership', next: m([0, 1]) });
    const h3 = harness({ metas, leaders: [[leaderStatus(1, 0, m([0, 1]))]], down: [2], answer, replaceAfterMs: 60_000 });
    await h3.admin.turn();
    expect(h3.log.filter((l) => !l.endsWith('leaders'))).toEqual(['node 3 group 1 dropGroup', 'metadata t/1 logReplicas=[]']);
    const h4 = harness({ metas, leaders: [[leaderStatus(1, 0, m([0, 1]))]], down: [2], answer, replaceAfterMs: 60_000 });
    await h4.admin.turn();
    expect(h4.log.filter((l) => !l.endsWith('leaders'))).toEqual(['node 0 group 1 groupRecord', 'node 3 group 1 createGroup', 'node 0 group 1 changeMembership']);
    const create = h4.bodies.find((b) => b.body.t === 'createGroup')!.body as Extract<NodeRequestBody, { t: 'createGroup' }>;
    expect(create.rec).toMatchObject({ voters: [0, 1, 3], logReplicas: [], logReplica: false, tableName: 't' });
    expect(h4.bodies.find((b) => b.body.t === 'changeMembership')?.body).toEqual({ t: 'changeMembership', next: m([0, 1, 3]) });

    // Node 2 comes back: out of the membership and no longer at home, its group is dropped.
    const h5 = harness({ metas, leaders: [[leaderStatus(1, 0, m([0, 1, 3]))]], answer, replaceAfterMs: 60_000 });
    await h5.admin.turn();
    expect(h5.log.filter((l) => !l.endsWith('leaders'))).toEqual(['node 2 group 1 dropGroup', 'metadata t/1 retired -2']);
    expect(metas[0].partitions[0].retired).toEqual([]);
  });

  it('a move: the new home node gets a full replica; the old one leaves once home is caught up, handing leadership over first', async () => {
    const metas = [table('t', 1)];
    metas[0].partitions[0].replicas = [3, 1, 2];
    metas[0].partitions[0].retired = [0];
    const rec = { group: 1, tableId: 7, tableName: 't', keyShape: { hashName: 'id', hashType: 'S' }, hashStart: '0000000000000000', hashEnd: 'ffffffffffffffff', voters: [0, 1, 2] };
    const answer: Answer = (_node, _group, body) => Promise.resolve(body.t === 'changeMembership' ? { index: 60 } : body.t === 'groupRecord' ? rec : {});
    const h1 = harness({ metas, leaders: [[leaderStatus(1, 0, m([0, 1, 2]))]], answer });
    await h1.admin.turn();
    expect(h1.bodies.find((b) => b.body.t === 'changeMembership')?.body).toEqual({ t: 'changeMembership', next: m([0, 1, 2, 3]) });
    // The leader (node 0) is the one moving away: it hands over to a home replica.
    const h2 = harness({ metas, leaders: [[leaderStatus(1, 0, m([0, 1, 2, 3]))]], answer });
    await h2.admin.turn();
    expect(h2.bodies.filter((b) => b.body.t !== 'leaders').map((b) => b.body)).toEqual([{ t: 'transferLeadership', to: 3 }]);
    // Led from node 1 now: node 0 leaves, then its group is dropped.
    const h3 = harness({ metas, leaders: [[], [leaderStatus(1, 1, m([0, 1, 2, 3]))]], answer });
    await h3.admin.turn();
    expect(h3.bodies.find((b) => b.body.t === 'changeMembership')?.body).toEqual({ t: 'changeMembership', next: m([1, 2, 3]) });
    const h4 = harness({ metas, leaders: [[], [leaderStatus(1, 1, m([1, 2, 3]))]], answer });
    await h4.admin.turn();
    expect(h4.log.filter((l) => !l.endsWith('leaders'))).toEqual(['node 0 group 1 dropGroup', 'metadata t/1 retired -0']);
  });

  it('drops a removed log replica on its node once the membership without it committed, and forgets it', async () => {
    const h = harness({ metas: [table('orders', 1, 'ACTIVE', [3])], leaders: [[leaderStatus(1, 0, m([0, 1, 2]), [], { membershipIndex: 60, commit: 60 })]] });
    await h.admin.turn();
    expect(h.log.slice(4)).toEqual(['node 3 group 1 dropGroup', 'metadata orders/1 logReplicas=[]']);
    expect(h.metadata.metas[0].partitions[0]).not.toHaveProperty('logReplicas');
    expect(h.admin.events).toEqual([{ atMs: NOW_MS, table: 'orders', group: 1, kind: 'dropLogReplica', node: 3 }]);
  });

  it('does not drop a log replica while the membership without it has not committed', async () => {
    const h = harness({ metas: [table('orders', 1, 'ACTIVE', [3])], leaders: [[leaderStatus(1, 0, m([0, 1, 2]), [], { membershipIndex: 61, commit: 60 })]] });
    await h.admin.turn();
    expect(h.log).toEqual(['node 0 group 0 leaders', 'node 1 group 0 leaders', 'node 2 group 0 leaders', 'node 3 group 0 leaders']);
    expect(h.admin.events).toEqual([]);
  });

  it('does not drop a log replica on a dead node (the next turn does, once it is back)', async () => {
    const h = harness({ metas: [table('orders', 1, 'ACTIVE', [3])], leaders: [[leaderStatus(1, 0, m([0, 1, 2]), [], { membershipIndex: 60, commit: 60 })]], down: [3] });
    await h.admin.turn();
    expect(h.log.filter((l) => l.includes('dropGroup') || l.startsWith('metadata'))).toEqual([]);
    h.down.delete(3);
    await h.admin.turn();
    expect(h.log.filter((l) => l.includes('dropGroup') || l.startsWith('metadata'))).toEqual(['node 3 group 1 dropGroup', 'metadata orders/1 logReplicas=[]']);
  });

  it('follows the leader of the highest term when a deposed leader still believes it leads', async () => {
    const stale = leaderStatus(1, 0, m([0, 1, 2]), [2], { term: 3 });
    const current = leaderStatus(1, 1, m([0, 1, 2]), [], { term: 4 });
    for (const leaders of [[[stale], [current]], [[current], [stale]]]) {
      const h = harness({ metas: [table('orders', 1)], leaders });
      await h.admin.turn();
      // The leader of term 4 hears everyone: nothing to do, whatever the deposed one says.
      expect(h.log.filter((l) => !l.endsWith('leaders'))).toEqual([]);
    }
  });

  it('skips tables that are not ACTIVE, and partitions without a known leader', async () => {
    const h = harness({
      metas: [table('creating', 1, 'CREATING', undefined, 10), table('deleting', 1, 'DELETING', undefined, 20), table('orders', 2)],
      // Groups 10 and 20 need a log replica as much as group 2, but their tables are not
      // ACTIVE; group 1 of 'orders' has no leader answering.
      leaders: [[leaderStatus(10, 0, m([0, 1, 2]), [2]), leaderStatus(20, 0, m([0, 1, 2]), [2]), leaderStatus(2, 0, m([0, 1, 2]), [2])]],
      down: [2],
    });
    await h.admin.turn();
    expect(h.log.filter((l) => !l.endsWith('leaders'))).toEqual(['metadata orders/2 logReplicas=[3]', 'node 3 group 2 createGroup', 'node 0 group 2 changeMembership']);
    expect(h.admin.events.map((e) => [e.table, e.group])).toEqual([['orders', 2]]);
  });

  it('a node whose leaders request fails counts as leading nothing; the others are still tended', async () => {
    const h = harness({ metas: [table('orders', 2)], leaders: [[leaderStatus(1, 0, m([0, 1, 2]), [2])], 'fails'], down: [2] });
    await h.admin.turn();
    expect(h.admin.events.map((e) => [e.group, e.kind, e.node])).toEqual([[1, 'addLogReplica', 3]]);
  });

  it('a node that never answers holds the turn for 300 ms at most', async () => {
    const h = harness({ metas: [table('orders', 1)], leaders: [[leaderStatus(1, 0, m([0, 1, 2]), [2])], 'never'], down: [2] });
    let done = false;
    const turn = h.admin.turn().then(() => { done = true; });
    await vi.advanceTimersByTimeAsync(299);
    expect(done).toBe(false);
    expect(h.admin.events).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await turn;
    expect(done).toBe(true);
    expect(h.admin.events.map((e) => e.kind)).toEqual(['addLogReplica']);
  });

  it('a change request that never gets an answer fails the turn after 300 ms', async () => {
    const h = harness({
      metas: [table('orders', 1)],
      leaders: [[leaderStatus(1, 0, m([0, 1, 2]), [2])]],
      down: [2],
      answer: () => new Promise(() => {}),
    });
    const turn = h.admin.turn();
    const outcome = expect(turn).rejects.toThrow('autoadmin: no answer to createGroup on node 3 within 300 ms');
    await vi.advanceTimersByTimeAsync(300);
    await outcome;
    expect(h.log.at(-1)).toBe('node 3 group 1 createGroup');
    expect(h.admin.events).toEqual([]);
  });

  it('keeps the last 1000 events', async () => {
    const groups = 1001;
    const leaders = Array.from({ length: groups }, (_, i) => leaderStatus(i + 1, 0, m([0, 1, 2, 3], [3]), [2]));
    const h = harness({ metas: [table('orders', groups, 'ACTIVE', [3])], leaders: [leaders], down: [2] });
    await h.admin.turn();
    expect(h.admin.counters.changes).toBe(1001);
    expect(h.admin.events.length).toBe(1000);
    expect(h.admin.events[0].group).toBe(2);
    expect(h.admin.events[999].group).toBe(1001);
  });
});

describe('autoadmin: turns on a timer', () => {
  it('runs a turn every intervalMs, and none after stop', async () => {
    const h = harness({ metas: [table('orders', 1)], leaders: [[leaderStatus(1, 0, m([0, 1, 2]))]] });
    h.admin.start();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS - 1);
    expect(h.admin.counters.turns).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.admin.counters.turns).toBe(1);
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(h.admin.counters.turns).toBe(3);
    await h.admin.stop();
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS);
    expect(h.admin.counters.turns).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a failed turn is counted and the next one still runs', async () => {
    let failures = 1;
    const h = harness({
      metas: [table('orders', 1)],
      leaders: [[leaderStatus(1, 0, m([0, 1, 2]), [2])]],
      down: [2],
      answer: (_node, _group, body) => {
        if (body.t === 'createGroup' && failures-- > 0) return Promise.reject(new Error('node 3 closed'));
        return Promise.resolve(body.t === 'changeMembership' ? { index: 60 } : {});
      },
    });
    h.admin.start();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(h.admin.counters).toEqual({ turns: 1, changes: 0, failedTurns: 1 });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(h.admin.counters).toEqual({ turns: 2, changes: 1, failedTurns: 1 });
    await h.admin.stop();
  });

  it('stop waits for the turn in progress, which tends no further partition', async () => {
    let release: (value: unknown) => void = () => {};
    const h = harness({
      metas: [table('orders', 2)],
      leaders: [[leaderStatus(1, 0, m([0, 1, 2]), [2]), leaderStatus(2, 0, m([0, 1, 2]), [2])]],
      down: [2],
      answer: (_node, _group, body) => (body.t === 'changeMembership' ? new Promise((resolve) => { release = resolve; }) : Promise.resolve({})),
    });
    h.admin.start();
    await vi.advanceTimersByTimeAsync(INTERVAL_MS); // the turn now waits for group 1's change
    expect(h.log.at(-1)).toBe('node 0 group 1 changeMembership');
    let stopped = false;
    const stopping = h.admin.stop().then(() => { stopped = true; });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release({ index: 60 });
    await stopping;
    expect(h.admin.events.map((e) => e.group)).toEqual([1]);
    expect(h.log.some((l) => l.includes('group 2 '))).toBe(false);
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS);
    expect(h.admin.counters.turns).toBe(1);
  });
});
