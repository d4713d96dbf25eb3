import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { createHashTable, openCluster } from './helpers.js';

const dist = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'src', 'index.js')).href;

let db: ShardBox;

beforeAll(async () => {
  db = await openCluster({ routers: 2 });
  await createHashTable(db, 'shared');
});

afterAll(async () => {
  await db?.close();
});

/** A client thread with its own router and rings, as a benchmark client thread has. */
function runClientThread(port: unknown, prefix: string, count: number): Promise<number> {
  const code = `
    import { workerData, parentPort } from 'node:worker_threads';
    const { ShardBoxClient } = await import(${JSON.stringify(dist)});
    const client = ShardBoxClient.connect(workerData.port);
    let ok = 0;
    await Promise.all(Array.from({ length: 16 }, async (_, lane) => {
      for (let i = lane; i < workerData.count; i += 16) {
        await client.putItem({ TableName: 'shared', Item: { id: { S: workerData.prefix + i }, n: { N: String(i) } } });
        const { Item } = await client.getItem({ TableName: 'shared', Key: { id: { S: workerData.prefix + i } }, ConsistentRead: true });
        if (Item?.n?.N === String(i)) ok++;
      }
    }));
    client.close();
    parentPort.postMessage(ok);
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { port, prefix, count } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

describe('request routers in other threads', () => {
  it('each client thread routes through its own rings to every node', async () => {
    const [a, b] = await Promise.all([runClientThread(db.routerPort(1), 'a', 500), runClientThread(db.routerPort(2), 'b', 500)]);
    expect(a).toBe(500);
    expect(b).toBe(500);
    const scan = await db.scan({ TableName: 'shared', Select: 'COUNT', ConsistentRead: true });
    expect(scan.Count).toBe(1000);
  });

  it('names the ports that exist', () => {
    expect(() => db.routerPort(3)).toThrow('routerPort(3): this cluster was opened with options.routers = 2; ports are 1..2');
  });
});
