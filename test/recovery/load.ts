/**
 * A small write load for recovery and deployment tests: per key, a chain of conditional
 * updates (compare-and-set on a version `n`, with a mirror attribute `m` set in the same
 * update) so that a lost acknowledged write shows as `n` below the last acknowledged
 * version, and a half-applied write as `m !== n`. Plus plain puts of fresh keys and
 * strong reads, each checked.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttributeValue, ShardBox } from '../../src/index.js';

/** The text of a number attribute (undefined when absent or not a number). */
function num(value: AttributeValue | undefined): string | undefined {
  return value !== undefined && 'N' in value ? value.N : undefined;
}

/** Item operations of a ShardBox or of a ShardBoxClient (a router of its own). */
export type ItemClient = Pick<ShardBox, 'putItem' | 'updateItem' | 'getItem'>;

export interface LoadResult {
  /** Per chain key: the highest version acknowledged, and the highest attempted. */
  acked: Map<string, number>;
  attempted: Map<string, number>;
  /** Keys of acknowledged puts, and their value. */
  puts: Map<string, number>;
  ops: number;
  /** Failed requests by error name (an unknown outcome leaves the chain's version unknown). */
  errors: Map<string, number>;
  /** The first few error messages, for the failure report. */
  errorMessages: string[];
  reads: number;
}

export interface LoadOptions {
  table: string;
  chains: number;
  /** Concurrent put loops besides the chains. */
  putters: number;
  readers: number;
  /** Prefix of every key this load writes (default ''): loads with different prefixes
   *  do not touch each other's keys. */
  prefix?: string;
}

/** Runs until `stop()` is true; `onError` sees every failed request. */
export function runLoad(db: ItemClient, options: LoadOptions, stop: () => boolean): { done: Promise<void>; result: LoadResult } {
  const prefix = options.prefix ?? '';
  const result: LoadResult = { acked: new Map(), attempted: new Map(), puts: new Map(), ops: 0, errors: new Map(), errorMessages: [], reads: 0 };
  // Counts a failed request and waits a little before the loop goes on: a request that
  // fails at once (a closed database, a full router) must not turn a loop into a busy spin
  // of microtasks that starves the event loop, timers and the test's timeout included.
  // Resolves to true when the loop should end because the database is closed.
  const fail = async (error: unknown): Promise<boolean> => {
    const name = (error as Error).name ?? 'Error';
    result.errors.set(name, (result.errors.get(name) ?? 0) + 1);
    if (result.errorMessages.length < 5) result.errorMessages.push(`${name}: ${(error as Error).message}`);
    if (name === 'ServiceUnavailable' && /closed/.test((error as Error).message)) return true;
    await sleep(2);
    return false;
  };
  const chains = Array.from({ length: options.chains }, async (_, c) => {
    const key = `${prefix}chain-${c}`;
    let known: number | undefined = 0;
    await db.putItem({ TableName: options.table, Item: { id: { S: key }, n: { N: '0' }, m: { N: '0' } } });
    result.acked.set(key, 0);
    result.attempted.set(key, 0);
    while (!stop()) {
      if (known === undefined) {
        // The last write's outcome is unknown: learn the version from a strong read.
        try {
          const { Item } = await db.getItem({ TableName: options.table, Key: { id: { S: key } }, ConsistentRead: true });
          known = Number(num(Item!.n));
        } catch (error) {
          if (await fail(error)) return;
          continue;
        }
      }
      const next: number = known + 1;
      result.attempted.set(key, Math.max(result.attempted.get(key)!, next));
      try {
        await db.updateItem({
          TableName: options.table, Key: { id: { S: key } },
          UpdateExpression: 'SET n = :next, m = :next', ConditionExpression: 'n = :prev',
          ExpressionAttributeValues: { ':next': { N: String(next) }, ':prev': { N: String(known) } },
        });
        result.ops++;
        result.acked.set(key, next);
        known = next;
      } catch (error) {
        known = undefined;
        if (await fail(error)) return;
      }
    }
  });
  let nextPut = 0;
  const putters = Array.from({ length: options.putters }, async () => {
    while (!stop()) {
      const i = nextPut++;
      try {
        await db.putItem({ TableName: options.table, Item: { id: { S: `${prefix}put-${i}` }, v: { N: String(i) } } });
        result.ops++;
        result.puts.set(`${prefix}put-${i}`, i);
      } catch (error) {
        if (await fail(error)) return;
      }
    }
  });
  const readers = Array.from({ length: options.readers }, async (_, r) => {
    let i = 0;
    while (!stop()) {
      const key = `${prefix}chain-${(r + i++) % options.chains}`;
      const floor = result.acked.get(key) ?? 0;
      try {
        const { Item } = await db.getItem({ TableName: options.table, Key: { id: { S: key } }, ConsistentRead: true });
        result.ops++;
        result.reads++;
        // A strong read never goes back before what was acknowledged when it was sent.
        if (Item !== undefined && Number(num(Item.n)) < floor) {
          throw new Error(`strong read of ${key} saw version ${num(Item.n)} after ${floor} was acknowledged`);
        }
      } catch (error) {
        if ((error as Error).message.startsWith('strong read')) throw error;
        if (await fail(error)) return;
      }
    }
  });
  return { done: Promise.all([...chains, ...putters, ...readers]).then(() => {}), result };
}

/** Every acknowledged write is there (strong reads), and no write is half-applied. */
export async function checkLoad(db: ItemClient, table: string, result: LoadResult, context: string): Promise<void> {
  const checks: Array<() => Promise<void>> = [];
  for (const [key, acked] of result.acked) {
    checks.push(async () => {
      const { Item } = await db.getItem({ TableName: table, Key: { id: { S: key } }, ConsistentRead: true });
      const n = Number(num(Item?.n));
      if (!(n >= acked && n <= result.attempted.get(key)!)) {
        throw new Error(`${context}: ${key} holds version ${String(num(Item?.n))}; acknowledged ${acked}, attempted ${result.attempted.get(key)}`);
      }
      if (num(Item!.m) !== num(Item!.n)) throw new Error(`${context}: ${key} is half-applied: n=${num(Item!.n)} m=${String(num(Item!.m))}`);
    });
  }
  for (const [key, value] of result.puts) {
    checks.push(async () => {
      const { Item } = await db.getItem({ TableName: table, Key: { id: { S: key } }, ConsistentRead: true });
      if (num(Item?.v) !== String(value)) throw new Error(`${context}: acknowledged put ${key} is missing (got ${JSON.stringify(Item)})`);
    });
  }
  // 32 reads in flight at a time.
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < checks.length) await checks[next++]();
  }));
}

/** Waits until the live replicas of every partition applied the same index, then checks
 *  that they hold identical data; returns the digests for the caller's own checks. */
export async function expectConverged(db: ShardBox, table: string, context: string, requireAll = true): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 300; attempt++) {
    const digests = await db.replicaDigests(table);
    const settled = digests.every(({ replicas }) => {
      const live = replicas.filter((r) => r !== undefined);
      if (requireAll && live.length !== replicas.length) return false;
      return live.every((r) => r!.applied === live[0]!.applied && r!.crc === live[0]!.crc && r!.items === live[0]!.items);
    });
    if (settled) return;
    last = JSON.stringify(digests.map(({ partition, replicas }) => ({ group: partition.group, replicas })));
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${context}: replicas did not converge to identical data: ${last}`);
}

/** Polls until every index of `table` holds what its items imply (global indexes catch up
 *  from the outboxes the crashes left). */
export async function expectIndexesEqual(db: ShardBox, table: string, context: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const checks = await db.verifyIndexes(table);
    const wrong = Object.entries(checks).filter(([, c]) => c.expected !== c.actual || c.missing.length + c.extra.length + c.different.length > 0);
    if (wrong.length === 0) return;
    last = JSON.stringify(wrong);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${context}: indexes differ from what their table implies: ${last}`);
}
