import { ShardBox, type ShardBoxOptions } from '../../src/index.js';

/** The project's seeded PRNG (mulberry32); print the seed in failure messages. */
export { seededRandom as prng } from '../../src/node/prng.js';

export function seedFromEnv(fallback: number): number {
  const env = process.env.SHARDBOX_SEED;
  return env === undefined ? fallback : Number(env);
}

export async function openCluster(options: ShardBoxOptions = {}): Promise<ShardBox> {
  return ShardBox.open({ durability: 'async', ...options });
}

export async function createHashTable(db: ShardBox, name: string, type: 'S' | 'N' | 'B' = 'S'): Promise<void> {
  await db.createTable({
    TableName: name,
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: type }],
    BillingMode: 'PAY_PER_REQUEST',
  });
}

export async function createRangeTable(db: ShardBox, name: string, rangeType: 'S' | 'N' | 'B' = 'S'): Promise<void> {
  await db.createTable({
    TableName: name,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: rangeType }],
    BillingMode: 'PAY_PER_REQUEST',
  });
}

/** Expects `promise` to reject with a DynamoDB error of `name` (and message matching). */
export async function expectDynamoError(promise: Promise<unknown>, name: string, message?: string | RegExp): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`expected ${name}, but the request succeeded`);
  const e = error as { name?: string; message?: string };
  if (e.name !== name) throw new Error(`expected ${name}, got ${e.name}: ${e.message}`);
  if (message !== undefined) {
    const ok = typeof message === 'string' ? e.message === message : message.test(e.message ?? '');
    if (!ok) throw new Error(`expected ${name} message ${String(message)}, got: ${e.message}`);
  }
}
