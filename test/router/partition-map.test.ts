import { describe, expect, it, vi } from 'vitest';
import { PartitionMapBoard, PartitionMapCache, type PartitionMap, type TableRoute } from '../../src/router/partition-map.js';
import type { KeyShape } from '../../src/model/types.js';

const SHAPE: KeyShape = { hashName: 'id', hashType: 'S' };

/** A table of four partitions with uneven bounds (a split leaves them uneven). */
function fourPartitions(name = 'orders', tableId = 1): TableRoute {
  return {
    name,
    tableId,
    keyShape: SHAPE,
    partitions: [
      { group: 10, hashStart: '0000000000000000', hashEnd: '3fffffffffffffff', replicas: [0, 1, 2] },
      { group: 11, hashStart: '4000000000000000', hashEnd: '4000000000000000', replicas: [1, 2, 0] },
      { group: 12, hashStart: '4000000000000001', hashEnd: 'bfffffffffffffff', replicas: [2, 0, 1], logReplicas: [3] },
      { group: 13, hashStart: 'c000000000000000', hashEnd: 'ffffffffffffffff', replicas: [0, 1, 2] },
    ],
  };
}

function mapOf(version: number, ...tables: TableRoute[]): PartitionMap {
  const map: PartitionMap = { version, tables: {} };
  for (const t of tables) map.tables[t.name] = t;
  return map;
}

describe('PartitionMapBoard', () => {
  it('an empty board reads as no map, at sequence 0', () => {
    const board = new PartitionMapBoard(PartitionMapBoard.allocate(1024));
    expect(board.seq).toBe(0);
    expect(board.read()).toEqual({ seq: 0, map: undefined });
  });

  it('round-trips a published map, and every publish moves the sequence by 2 (even: no write in progress)', () => {
    const board = new PartitionMapBoard(PartitionMapBoard.allocate(64 * 1024));
    const first = mapOf(1, fourPartitions());
    board.publish(first);
    expect(board.seq).toBe(2);
    expect(board.read()).toEqual({ seq: 2, map: first });
    const second = mapOf(2, fourPartitions(), fourPartitions('users', 2));
    board.publish(second);
    expect(board.seq).toBe(4);
    expect(board.read()).toEqual({ seq: 4, map: second });
    // A smaller map after a larger one: only its own bytes are read back.
    const third = mapOf(3);
    board.publish(third);
    expect(board.read()).toEqual({ seq: 6, map: third });
  });

  it('another view of the same buffer (another thread) reads what was published', () => {
    const buffer = PartitionMapBoard.allocate(4096);
    new PartitionMapBoard(buffer).publish(mapOf(7, fourPartitions()));
    expect(new PartitionMapBoard(buffer).read().map).toEqual(mapOf(7, fourPartitions()));
  });

  it('refuses a map larger than its capacity, and keeps the previous one readable', () => {
    const board = new PartitionMapBoard(PartitionMapBoard.allocate(256));
    const small = mapOf(1, { ...fourPartitions(), partitions: fourPartitions().partitions.slice(0, 1) });
    board.publish(small);
    const many = mapOf(2, ...Array.from({ length: 20 }, (_, i) => fourPartitions(`table-${i}`, i + 1)));
    expect(() => board.publish(many)).toThrow(RangeError);
    expect(() => board.publish(many)).toThrow(/exceeds the board's 256/);
    expect(board.read()).toEqual({ seq: 2, map: small });
  });

  it('a map of exactly the capacity fits', () => {
    const probe = new PartitionMapBoard(PartitionMapBoard.allocate(64 * 1024));
    const map = mapOf(1, fourPartitions());
    probe.publish(map);
    const encodedBytes = new Int32Array(probe.buffer, 0, 2)[1];
    const exact = new PartitionMapBoard(PartitionMapBoard.allocate(encodedBytes));
    exact.publish(map);
    expect(exact.read().map).toEqual(map);
    const tooSmall = new PartitionMapBoard(PartitionMapBoard.allocate(encodedBytes - 1));
    expect(() => tooSmall.publish(map)).toThrow(RangeError);
  });

  it('a reader that only ever sees a write in progress (odd sequence) gives up instead of reading torn bytes', () => {
    const board = new PartitionMapBoard(PartitionMapBoard.allocate(1024));
    board.publish(mapOf(1));
    Atomics.add(new Int32Array(board.buffer, 0, 2), 0, 1); // a writer that stopped halfway
    expect(board.seq).toBe(3);
    expect(() => board.read()).toThrow('partition map board: could not read a stable copy');
  });
});

describe('PartitionMapCache', () => {
  it('never routes a route object of an older map by the bounds of a newer one with as many partitions', () => {
    const board = new PartitionMapBoard(PartitionMapBoard.allocate(64 * 1024));
    const cache = new PartitionMapCache(board);
    board.publish(mapOf(1, fourPartitions()));
    const stale = cache.table('orders')!;
    // Partition 12 split and 10 and 11 merged, say: four partitions again, other bounds.
    const next = fourPartitions();
    next.partitions = [
      { group: 20, hashStart: '0000000000000000', hashEnd: '4000000000000000', replicas: [0, 1, 2] },
      { group: 21, hashStart: '4000000000000001', hashEnd: '7fffffffffffffff', replicas: [1, 2, 0] },
      { group: 22, hashStart: '8000000000000000', hashEnd: 'bfffffffffffffff', replicas: [2, 0, 1] },
      { group: 13, hashStart: 'c000000000000000', hashEnd: 'ffffffffffffffff', replicas: [0, 1, 2] },
    ];
    board.publish(mapOf(2, next));
    const fresh = cache.table('orders')!;
    expect(cache.partitionFor(fresh, 0x5000000000000000n).group).toBe(21);
    // The old route object still routes by its own bounds (its partition answers
    // wrongPartition, and the request is re-routed by locate).
    expect(cache.partitionFor(stale, 0x5000000000000000n).group).toBe(12);
    expect(cache.locate('orders', 0x5000000000000000n)?.group).toBe(21);
    expect(cache.locate('nope', 1n)).toBeUndefined();
  });

  function cacheWith(map?: PartitionMap): { board: PartitionMapBoard; cache: PartitionMapCache } {
    const board = new PartitionMapBoard(PartitionMapBoard.allocate(64 * 1024));
    if (map !== undefined) board.publish(map);
    return { board, cache: new PartitionMapCache(board) };
  }

  it('before anything is published: version 0, no tables', () => {
    const { cache } = cacheWith();
    expect(cache.current()).toEqual({ version: 0, tables: {} });
    expect(cache.table('orders')).toBeUndefined();
  });

  it('decodes the board once per published version, and follows every new one', () => {
    const { board, cache } = cacheWith(mapOf(1, fourPartitions()));
    const reads = vi.spyOn(board, 'read');
    const first = cache.current();
    expect(first.version).toBe(1);
    expect(cache.current()).toBe(first); // same object: not decoded again
    expect(cache.table('orders')).toBe(first.tables.orders);
    expect(reads).toHaveBeenCalledTimes(1);

    board.publish(mapOf(2, fourPartitions('users', 2)));
    expect(cache.current().version).toBe(2);
    expect(cache.table('orders')).toBeUndefined();
    expect(cache.table('users')?.tableId).toBe(2);
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it('a map with the same version number published again is still picked up (the sequence moved)', () => {
    const { board, cache } = cacheWith(mapOf(5, fourPartitions()));
    expect(cache.table('orders')?.partitions[2].logReplicas).toEqual([3]);
    const without = fourPartitions();
    delete without.partitions[2].logReplicas;
    board.publish(mapOf(5, without));
    expect(cache.table('orders')?.partitions[2].logReplicas).toBeUndefined();
  });

  it('routes every hash to the partition whose inclusive range holds it, at each boundary', () => {
    const { cache } = cacheWith(mapOf(1, fourPartitions()));
    const table = cache.table('orders')!;
    const cases: Array<[bigint, number]> = [
      [0n, 10], // the first key of the hash space
      [1n, 10],
      [0x3fffffffffffffffn, 10], // last hash of the first partition
      [0x4000000000000000n, 11], // a one-hash partition
      [0x4000000000000001n, 12],
      [0x8000000000000000n, 12],
      [0xbfffffffffffffffn, 12],
      [0xc000000000000000n, 13],
      [0xfffffffffffffffen, 13],
      [0xffffffffffffffffn, 13], // the last key of the hash space
    ];
    for (const [hash, group] of cases) expect(cache.partitionFor(table, hash).group, `hash ${hash.toString(16)}`).toBe(group);
  });

  it('routes against every partition count from 1 to 9 (the binary search has no off-by-one)', () => {
    for (let count = 1; count <= 9; count++) {
      const partitions = Array.from({ length: count }, (_, i) => {
        const start = ((1n << 64n) * BigInt(i)) / BigInt(count);
        const end = ((1n << 64n) * BigInt(i + 1)) / BigInt(count) - 1n;
        return { group: i, hashStart: start.toString(16).padStart(16, '0'), hashEnd: end.toString(16).padStart(16, '0'), replicas: [0, 1, 2] };
      });
      const { cache } = cacheWith(mapOf(1, { name: 't', tableId: 1, keyShape: SHAPE, partitions }));
      const table = cache.table('t')!;
      for (const p of partitions) {
        const start = BigInt('0x' + p.hashStart);
        const end = BigInt('0x' + p.hashEnd);
        expect(cache.partitionFor(table, start).group).toBe(p.group);
        expect(cache.partitionFor(table, end).group).toBe(p.group);
        expect(cache.partitionFor(table, (start + end) / 2n).group).toBe(p.group);
      }
    }
  });

  it('routes with the new bounds after a split is published', () => {
    const { board, cache } = cacheWith(mapOf(1, fourPartitions()));
    const before = cache.table('orders')!;
    expect(cache.partitionFor(before, 0x2000000000000000n).group).toBe(10);
    // Partition 10 splits at 0x2000000000000000 into groups 20 and 21.
    const split = fourPartitions();
    split.partitions.splice(0, 1,
      { group: 20, hashStart: '0000000000000000', hashEnd: '1fffffffffffffff', replicas: [0, 1, 2] },
      { group: 21, hashStart: '2000000000000000', hashEnd: '3fffffffffffffff', replicas: [1, 2, 0] });
    board.publish(mapOf(2, split));
    const after = cache.table('orders')!;
    expect(cache.partitionFor(after, 0x1fffffffffffffffn).group).toBe(20);
    expect(cache.partitionFor(after, 0x2000000000000000n).group).toBe(21);
    expect(cache.partitionFor(after, 0x4000000000000000n).group).toBe(11);
    expect(cache.partitionFor(after, 0xffffffffffffffffn).group).toBe(13);
  });

  it('forgets cached bounds on refresh even when the partition count did not change', () => {
    const { board, cache } = cacheWith(mapOf(1, fourPartitions()));
    expect(cache.partitionFor(cache.table('orders')!, 0x3000000000000000n).group).toBe(10);
    // The table is recreated under the same name with its first boundary moved down.
    const moved = fourPartitions();
    moved.partitions[0] = { ...moved.partitions[0], group: 40, hashEnd: '2fffffffffffffff' };
    moved.partitions[1] = { ...moved.partitions[1], group: 41, hashStart: '3000000000000000' };
    board.publish(mapOf(2, moved));
    expect(cache.partitionFor(cache.table('orders')!, 0x3000000000000000n).group).toBe(41);
    expect(cache.partitionFor(cache.table('orders')!, 0x2fffffffffffffffn).group).toBe(40);
  });

  it('keeps the bounds of each table apart', () => {
    const orders = fourPartitions('orders', 1);
    const users: TableRoute = {
      name: 'users', tableId: 2, keyShape: SHAPE,
      partitions: [
        { group: 30, hashStart: '0000000000000000', hashEnd: 'efffffffffffffff', replicas: [0, 1, 2] },
        { group: 31, hashStart: 'f000000000000000', hashEnd: 'ffffffffffffffff', replicas: [0, 1, 2] },
      ],
    };
    const { cache } = cacheWith(mapOf(1, orders, users));
    const hash = 0xd000000000000000n;
    expect(cache.partitionFor(cache.table('orders')!, hash).group).toBe(13);
    expect(cache.partitionFor(cache.table('users')!, hash).group).toBe(30);
    expect(cache.partitionFor(cache.table('orders')!, hash).group).toBe(13);
  });
});
