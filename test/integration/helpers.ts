import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ShardBox, type RouterPort, type ShardBoxOptions } from '../../src/index.js';

/** The project's seeded PRNG (mulberry32); print the seed in failure messages. */
export { seededRandom as prng } from '../../src/model/prng.js';

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

const distIndex = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'src', 'index.js')).href;

/**
 * Runs `body`, the body of an async function of `client` (a ShardBoxClient connected to
 * `port`: its own router and rings, as a benchmark client thread has) and `data`, in a new
 * worker thread, and resolves with what it returns (structured-cloned). The worker loads
 * the compiled package from dist/: run `npm run build` first.
 */
export function inClientThread<T>(port: RouterPort, body: string, data?: unknown): Promise<T> {
  const code = `
    import { workerData, parentPort } from 'node:worker_threads';
    const { ShardBoxClient } = await import(${JSON.stringify(distIndex)});
    const client = ShardBoxClient.connect(workerData.port);
    try {
      const result = await (async (client, data) => { ${body} })(client, workerData.data);
      parentPort.postMessage({ result });
    } catch (error) {
      parentPort.postMessage({ error: { name: error?.name, message: String(error?.stack ?? error) } });
    } finally {
      client.close();
    }
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { port, data } });
    worker.once('message', (m: { result?: T; error?: { name: string; message: string } }) => {
      if (m.error === undefined) resolve(m.result as T);
      else reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
    });
    worker.once('error', reject);
  });
}

/** Polls `probe` every `everyMs` until it returns a value (or fails after `timeoutMs`). */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 20): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
