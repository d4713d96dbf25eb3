/**
 * The partition map: which replication groups hold which hash range of which table, and
 * on which nodes. The control plane publishes it on a board (a SharedArrayBuffer under a
 * seqlock); every router, in any thread, reads it when its version moved, and keeps its
 * own decoded copy, like DynamoDB's request routers caching partition metadata.
 */
import { pack, unpack } from 'msgpackr';
import type { KeyShape } from '../model/types.js';
import type { IndexSpec } from '../model/index-spec.js';

export interface PartitionInfo {
  group: number;
  /** Inclusive bounds of the partition's slice of the 64-bit hash space, 16 hex digits. */
  hashStart: string;
  hashEnd: string;
  /** Nodes holding a full replica (the group's home); replicas[0] was the first leader.
   *  Reads and writes go only to these. */
  replicas: number[];
  /** Nodes holding a log replica (WAL only) while a home replica is unhealthy: members
   *  of the group for quorums, never routed to. Absent when none. */
  logReplicas?: number[];
  /** Nodes that were home replicas (a repair or a move replaced them) and may still host
   *  the group: the control plane drops it there once they are out of its membership. */
  retired?: number[];
}

/** A secondary index of a table, as routers see it. A global index's entries are in its
 *  own table's route, named `<table>/index/<index>`. */
export interface RouteIndex {
  name: string;
  global: boolean;
  spec: IndexSpec;
  status: 'CREATING' | 'UPDATING' | 'DELETING' | 'ACTIVE';
  backfilling?: boolean;
}

export interface TableRoute {
  name: string;
  tableId: number;
  keyShape: KeyShape;
  /** Sorted by hashStart, covering the whole hash space without gaps. */
  partitions: PartitionInfo[];
  /** Its secondary indexes; absent when none. */
  indexes?: RouteIndex[];
}

export interface PartitionMap {
  version: number;
  tables: Record<string, TableRoute>;
}

const HEADER_WORDS = 2; // [seq, length]
const SEQ = 0;
const LENGTH = 1;
const MAX_READ_ATTEMPTS = 1000;

export class PartitionMapBoard {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;

  static allocate(capacityBytes = 4 * 1024 * 1024): SharedArrayBuffer {
    return new SharedArrayBuffer(HEADER_WORDS * 4 + capacityBytes);
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer, 0, HEADER_WORDS);
    this.bytes = new Uint8Array(buffer, HEADER_WORDS * 4);
  }

  /** Changes whenever the map does: an even number while no write is in progress. */
  get seq(): number {
    return Atomics.load(this.words, SEQ);
  }

  publish(map: PartitionMap): void {
    const encoded = pack(map);
    if (encoded.length > this.bytes.length) {
      throw new RangeError(`partition map of ${encoded.length} bytes exceeds the board's ${this.bytes.length}`);
    }
    Atomics.add(this.words, SEQ, 1); // odd: readers retry
    this.bytes.set(encoded, 0);
    Atomics.store(this.words, LENGTH, encoded.length);
    Atomics.add(this.words, SEQ, 1);
  }

  read(): { seq: number; map: PartitionMap | undefined } {
    for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
      const before = Atomics.load(this.words, SEQ);
      if ((before & 1) === 1) continue;
      const length = Atomics.load(this.words, LENGTH);
      const copy = this.bytes.slice(0, length);
      if (Atomics.load(this.words, SEQ) !== before) continue;
      return { seq: before, map: length === 0 ? undefined : (unpack(copy) as PartitionMap) };
    }
    throw new Error('partition map board: could not read a stable copy');
  }
}

/** A router's decoded copy, with the bounds as bigints for routing. */
export class PartitionMapCache {
  private seq = -1;
  private map: PartitionMap = { version: 0, tables: {} };
  /** Per route object (a refresh decodes new ones): keyed by name and partition count it
   *  would route a split table's stale route through its new bounds. */
  private bounds = new WeakMap<TableRoute, bigint[]>();

  constructor(private readonly board: PartitionMapBoard) {}

  current(): PartitionMap {
    if (this.board.seq !== this.seq) this.refresh();
    return this.map;
  }

  table(name: string): TableRoute | undefined {
    return this.current().tables[name];
  }

  /** The partition of `table` whose hash range holds `hash`. */
  partitionFor(table: TableRoute, hash: bigint): PartitionInfo {
    let starts = this.bounds.get(table);
    if (starts === undefined) {
      starts = table.partitions.map((p) => BigInt('0x' + p.hashStart));
      this.bounds.set(table, starts);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= hash) lo = mid;
      else hi = mid - 1;
    }
    return table.partitions[lo];
  }

  /** Where the key hashing to `hash` of table `name` lives in the current map (a
   *  request's reroute after `wrongPartition`). */
  locate(name: string, hash: bigint): PartitionInfo | undefined {
    const route = this.table(name);
    return route === undefined ? undefined : this.partitionFor(route, hash);
  }

  private refresh(): void {
    const { seq, map } = this.board.read();
    this.seq = seq;
    this.map = map ?? { version: 0, tables: {} };
    this.bounds = new WeakMap();
  }
}
