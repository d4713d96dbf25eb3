import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Metadata, decreasesToday, placeReplicas, splitHashSpace, tableTags, utcDay,
  type NewTable, type TableMeta,
} from '../../src/control/metadata.js';
import { PartitionMapBoard } from '../../src/router/partition-map.js';

const NOW_MS = Date.UTC(2026, 4, 6, 7, 8, 9);
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function spec(name: string, extra: Partial<NewTable> = {}): NewTable {
  return {
    name,
    keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' }],
    keyShape: { hashName: 'pk', hashType: 'S', rangeName: 'sk', rangeType: 'N' },
    billingMode: 'PROVISIONED',
    readCapacityUnits: 5,
    writeCapacityUnits: 10,
    ...extra,
  };
}

describe('splitHashSpace', () => {
  it('one partition covers the whole hash space', () => {
    expect(splitHashSpace(1)).toEqual([{ hashStart: '0000000000000000', hashEnd: 'ffffffffffffffff' }]);
  });

  it('exact bounds for 3 and 4 partitions (floors of i * 2^64 / count)', () => {
    expect(splitHashSpace(3)).toEqual([
      { hashStart: '0000000000000000', hashEnd: '5555555555555554' },
      { hashStart: '5555555555555555', hashEnd: 'aaaaaaaaaaaaaaa9' },
      { hashStart: 'aaaaaaaaaaaaaaaa', hashEnd: 'ffffffffffffffff' },
    ]);
    expect(splitHashSpace(4)).toEqual([
      { hashStart: '0000000000000000', hashEnd: '3fffffffffffffff' },
      { hashStart: '4000000000000000', hashEnd: '7fffffffffffffff' },
      { hashStart: '8000000000000000', hashEnd: 'bfffffffffffffff' },
      { hashStart: 'c000000000000000', hashEnd: 'ffffffffffffffff' },
    ]);
  });

  it('ranges are contiguous, non-empty and cover everything for every count up to 64', () => {
    for (let count = 1; count <= 64; count++) {
      const ranges = splitHashSpace(count);
      expect(ranges.length).toBe(count);
      expect(ranges[0].hashStart).toBe('0000000000000000');
      expect(ranges[count - 1].hashEnd).toBe('ffffffffffffffff');
      for (let i = 0; i < count; i++) {
        expect(ranges[i].hashStart).toMatch(/^[0-9a-f]{16}$/);
        expect(BigInt('0x' + ranges[i].hashStart) <= BigInt('0x' + ranges[i].hashEnd)).toBe(true);
        if (i > 0) expect(BigInt('0x' + ranges[i].hashStart)).toBe(BigInt('0x' + ranges[i - 1].hashEnd) + 1n);
      }
    }
  });
});

describe('placeReplicas', () => {
  it('three consecutive nodes (mod nodes), the first shifted by partition and table', () => {
    expect(placeReplicas(0, 3, 0)).toEqual([0, 1, 2]);
    expect(placeReplicas(0, 3, 1)).toEqual([1, 2, 0]);
    expect(placeReplicas(2, 5, 4)).toEqual([1, 2, 3]);
    expect(placeReplicas(4, 6, 1)).toEqual([5, 0, 1]);
  });

  it('first leaders of a table spread round-robin over the nodes', () => {
    const firsts = Array.from({ length: 8 }, (_, i) => placeReplicas(i, 4, 3)[0]);
    expect(firsts).toEqual([3, 0, 1, 2, 3, 0, 1, 2]);
  });
});

describe('table record helpers', () => {
  it('utcDay is the UTC calendar day, whatever the local time zone', () => {
    expect(utcDay(Date.UTC(2026, 0, 1, 23, 59, 59, 999))).toBe('2026-01-01');
    expect(utcDay(Date.UTC(2026, 0, 2, 0, 0, 0, 0))).toBe('2026-01-02');
    expect(utcDay(0)).toBe('1970-01-01');
  });

  it('decreasesToday counts only the decreases of the current UTC day', () => {
    const meta = { decreasesDay: '2026-05-06', decreasesOnDay: 3 } as TableMeta;
    expect(decreasesToday(meta, Date.UTC(2026, 4, 6, 23, 59))).toBe(3);
    expect(decreasesToday(meta, Date.UTC(2026, 4, 7, 0, 0))).toBe(0);
    expect(decreasesToday({ decreasesDay: '2026-05-06' } as TableMeta, Date.UTC(2026, 4, 6))).toBe(0);
    expect(decreasesToday({} as TableMeta, Date.UTC(2026, 4, 6))).toBe(0);
  });

  it('tableTags: a record written before tags existed has none', () => {
    expect(tableTags({} as TableMeta)).toEqual([]);
    expect(tableTags({ tags: [{ Key: 'team', Value: 'x' }] } as TableMeta)).toEqual([{ Key: 'team', Value: 'x' }]);
  });
});

describe('Metadata', () => {
  let dir: string;
  let board: PartitionMapBoard;
  const open: Metadata[] = [];

  function openMetadata(): Metadata {
    const metadata = new Metadata(dir, board);
    open.push(metadata);
    return metadata;
  }

  async function reopen(metadata: Metadata): Promise<Metadata> {
    await metadata.close();
    open.splice(open.indexOf(metadata), 1);
    return openMetadata();
  }

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW_MS);
    dir = await mkdtemp(path.join(tmpdir(), 'shardbox-metadata-'));
    board = new PartitionMapBoard(PartitionMapBoard.allocate(64 * 1024));
  });

  afterEach(async () => {
    vi.useRealTimers();
    for (const metadata of open.splice(0)) await metadata.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a new directory holds no tables', () => {
    const metadata = openMetadata();
    expect(metadata.tables()).toEqual([]);
    expect(metadata.table('orders')).toBeUndefined();
  });

  it('addTable allocates the next table id and groups, places replicas, and records the table as CREATING', () => {
    const metadata = openMetadata();
    const first = metadata.addTable(spec('orders', { tags: [{ Key: 'team', Value: 'core' }] }), 3, 4);
    expect(first).toEqual({
      ...spec('orders', { tags: [{ Key: 'team', Value: 'core' }] }),
      tableId: 1,
      uuid: expect.stringMatching(UUID_V4),
      status: 'CREATING',
      createdAtMs: NOW_MS,
      partitions: [
        { group: 1, hashStart: '0000000000000000', hashEnd: '5555555555555554', replicas: [1, 2, 3] },
        { group: 2, hashStart: '5555555555555555', hashEnd: 'aaaaaaaaaaaaaaa9', replicas: [2, 3, 0] },
        { group: 3, hashStart: 'aaaaaaaaaaaaaaaa', hashEnd: 'ffffffffffffffff', replicas: [3, 0, 1] },
      ],
    });
    const second = metadata.addTable(spec('users'), 2, 4);
    expect(second.tableId).toBe(2);
    expect(second.partitions.map((p) => p.group)).toEqual([4, 5]);
    expect(second.partitions.map((p) => p.replicas)).toEqual([[2, 3, 0], [3, 0, 1]]);
    expect(second.uuid).not.toBe(first.uuid);
    expect(metadata.table('orders')).toEqual(first);
    // A CREATING table is not published: routers must not send it requests yet.
    expect(board.seq).toBe(0);
  });

  it('lists tables in name order, whatever order they were added in', () => {
    const metadata = openMetadata();
    for (const name of ['beta', 'Zeta', 'alpha', 'beta-2']) metadata.addTable(spec(name), 1, 3);
    expect(metadata.tables().map((t) => t.name)).toEqual(['Zeta', 'alpha', 'beta', 'beta-2']);
  });

  it('everything survives a reopen, and ids continue where they stopped', async () => {
    let metadata = openMetadata();
    metadata.checkNodeCount(3);
    const orders = metadata.addTable(spec('orders'), 2, 3);
    metadata.setStatus('orders', 'ACTIVE');
    metadata.updateTable('orders', { readCapacityUnits: 50, lastIncreaseMs: NOW_MS });
    metadata.setLogReplicas('orders', 2, [0]);
    metadata = await reopen(metadata);
    expect(metadata.tables()).toEqual([{
      ...orders,
      status: 'ACTIVE',
      readCapacityUnits: 50,
      lastIncreaseMs: NOW_MS,
      partitions: [orders.partitions[0], { ...orders.partitions[1], logReplicas: [0] }],
    }]);
    const next = metadata.addTable(spec('users'), 1, 3);
    expect([next.tableId, next.partitions[0].group]).toEqual([2, 3]);
    expect(() => metadata.checkNodeCount(3)).not.toThrow();
  });

  it('a directory reopens only with the node count it was created with', async () => {
    let metadata = openMetadata();
    metadata.checkNodeCount(5);
    expect(() => metadata.checkNodeCount(5)).not.toThrow();
    metadata = await reopen(metadata);
    expect(() => metadata.checkNodeCount(3)).toThrow(RangeError);
    expect(() => metadata.checkNodeCount(3)).toThrow(
      'options.nodes (3) differs from the 5 nodes this directory was created with; open it with nodes: 5');
    // The refused count was not recorded.
    expect(() => metadata.checkNodeCount(5)).not.toThrow();
  });

  it('setStatus publishes a map of the ACTIVE tables only', () => {
    const metadata = openMetadata();
    const orders = metadata.addTable(spec('orders'), 2, 3);
    metadata.addTable(spec('users'), 1, 3);
    metadata.addTable(spec('gone'), 1, 3);
    metadata.setStatus('gone', 'DELETING');
    expect(board.read().map).toEqual({ version: NOW_MS, tables: {} });
    expect(metadata.setStatus('orders', 'ACTIVE').status).toBe('ACTIVE');
    // A new map in the same millisecond still gets a new version: never the one a router has.
    expect(board.read().map).toEqual({
      version: NOW_MS + 1,
      tables: { orders: { name: 'orders', tableId: orders.tableId, keyShape: orders.keyShape, partitions: orders.partitions } },
    });
    vi.setSystemTime(NOW_MS + 1000);
    metadata.setStatus('users', 'ACTIVE');
    const map = board.read().map!;
    expect(map.version).toBe(NOW_MS + 1000);
    expect(Object.keys(map.tables)).toEqual(['orders', 'users']);
  });

  it('a split gets two new groups once (asked again, the same), then replaces its partition by the children in a new map', () => {
    const metadata = openMetadata();
    const table = metadata.addTable(spec('orders'), 2, 3);
    metadata.setStatus('orders', 'ACTIVE');
    const [first, second] = table.partitions;
    const split = metadata.beginSplit('orders', first.group, '4000000000000000');
    expect(split.children).toEqual([3, 4]);
    expect(metadata.beginSplit('orders', first.group, '4000000000000000')).toEqual(split);
    expect(metadata.table('orders')!.splitting).toEqual([split]);
    const versionBefore = board.read().map!.version;
    const after = metadata.finishSplit('orders', first.group, { index: 17, at: '4000000000000000', children: [3, 4] }, 1_000);
    expect(after.partitions).toEqual([
      { group: 3, hashStart: '0000000000000000', hashEnd: '3fffffffffffffff', replicas: first.replicas },
      { group: 4, hashStart: '4000000000000000', hashEnd: first.hashEnd, replicas: first.replicas },
      second,
    ]);
    expect(after.splitting).toBeUndefined();
    expect(after.splitParents).toEqual([{ ...first, splitIndex: 17 }]);
    const map = board.read().map!;
    expect(map.version).toBeGreaterThan(versionBefore);
    expect(map.tables.orders.partitions.map((p) => p.group)).toEqual([3, 4, second.group]);
    metadata.splitParentDrained('orders', first.group);
    expect(metadata.table('orders')!.splitParents).toEqual([{ ...first, splitIndex: 17, outboxDrained: true }]);
    metadata.forgetSplitParent('orders', first.group);
    expect(metadata.table('orders')!.splitParents).toBeUndefined();
    // The split stays in the history (a restore may rebuild a child from its parent) for
    // 35 days: a later split forgets the older ones.
    const record = { group: first.group, hashStart: first.hashStart, hashEnd: first.hashEnd, index: 17, atMs: 1_000, children: [3, 4] };
    expect(metadata.table('orders')!.splitHistory).toEqual([record]);
    metadata.beginSplit('orders', 4, '8000000000000000');
    metadata.finishSplit('orders', 4, { index: 30, at: '8000000000000000', children: [5, 6] }, 999 + 35 * 86_400_000);
    expect(metadata.table('orders')!.splitHistory!.map((r) => r.group)).toEqual([first.group, 4]);
    metadata.beginSplit('orders', 6, 'c000000000000000');
    metadata.finishSplit('orders', 6, { index: 40, at: 'c000000000000000', children: [7, 8] }, 1_001 + 35 * 86_400_000);
    expect(metadata.table('orders')!.splitHistory!.map((r) => r.group)).toEqual([4, 6]);
    // The next table's groups come after the children's.
    expect(metadata.addTable(spec('users'), 1, 3).partitions[0].group).toBe(9);
  });

  it('setLogReplicas records and publishes the log replicas of one partition; none removes the field', () => {
    const metadata = openMetadata();
    metadata.addTable(spec('orders'), 3, 4);
    metadata.setStatus('orders', 'ACTIVE');
    const replicas = [3];
    const next = metadata.setLogReplicas('orders', 2, replicas);
    replicas.push(0); // the record holds its own copy
    expect(next.partitions.map((p) => p.logReplicas)).toEqual([undefined, [3], undefined]);
    expect(metadata.table('orders')!.partitions[1].logReplicas).toEqual([3]);
    expect(board.read().map!.tables.orders.partitions[1].logReplicas).toEqual([3]);
    expect(board.read().map!.tables.orders.partitions[0]).not.toHaveProperty('logReplicas');

    metadata.setLogReplicas('orders', 2, []);
    expect(metadata.table('orders')!.partitions[1]).not.toHaveProperty('logReplicas');
    expect(board.read().map!.tables.orders.partitions[1]).toEqual({ group: 2, hashStart: '5555555555555555', hashEnd: 'aaaaaaaaaaaaaaa9', replicas: [2, 3, 0] });
  });

  it('updateTable changes only what it is given and does not publish', () => {
    const metadata = openMetadata();
    const before = metadata.addTable(spec('orders'), 1, 3);
    const after = metadata.updateTable('orders', { billingMode: 'PAY_PER_REQUEST', lastUpdateToPayPerRequestMs: NOW_MS, decreasesDay: '2026-05-06', decreasesOnDay: 1 });
    expect(after).toEqual({ ...before, billingMode: 'PAY_PER_REQUEST', lastUpdateToPayPerRequestMs: NOW_MS, decreasesDay: '2026-05-06', decreasesOnDay: 1 });
    expect(metadata.table('orders')).toEqual(after);
    expect(board.seq).toBe(0);
  });

  it('removeTable deletes the record and unpublishes the table', () => {
    const metadata = openMetadata();
    metadata.addTable(spec('orders'), 1, 3);
    metadata.addTable(spec('users'), 1, 3);
    metadata.setStatus('orders', 'ACTIVE');
    metadata.setStatus('users', 'ACTIVE');
    metadata.removeTable('orders');
    expect(metadata.table('orders')).toBeUndefined();
    expect(metadata.tables().map((t) => t.name)).toEqual(['users']);
    expect(Object.keys(board.read().map!.tables)).toEqual(['users']);
  });

  it('changes to a table it does not have are refused by name, and change nothing', () => {
    const metadata = openMetadata();
    metadata.addTable(spec('orders'), 1, 3);
    const stored = metadata.tables();
    expect(() => metadata.setStatus('missing', 'ACTIVE')).toThrow('no table missing in metadata');
    expect(() => metadata.updateTable('missing', { readCapacityUnits: 1 })).toThrow('no table missing in metadata');
    expect(() => metadata.setLogReplicas('missing', 1, [3])).toThrow('no table missing in metadata');
    expect(metadata.tables()).toEqual(stored);
    expect(metadata.table('missing')).toBeUndefined();
    expect(board.seq).toBe(0);
  });
});
