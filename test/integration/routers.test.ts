import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouterPort, ShardBox } from '../../src/index.js';
import { createHashTable, inClientThread, openCluster } from './helpers.js';

let db: ShardBox;

beforeAll(async () => {
  db = await openCluster({ routers: 2 });
  await createHashTable(db, 'shared');
});

afterAll(async () => {
  await db?.close();
});

/** A client thread writes and strongly reads back `count` items, 16 at a time. */
function runClientThread(port: RouterPort, prefix: string, count: number): Promise<number> {
  return inClientThread(port, `
    let ok = 0;
    await Promise.all(Array.from({ length: 16 }, async (_, lane) => {
      for (let i = lane; i < data.count; i += 16) {
        await client.putItem({ TableName: 'shared', Item: { id: { S: data.prefix + i }, n: { N: String(i) } } });
        const { Item } = await client.getItem({ TableName: 'shared', Key: { id: { S: data.prefix + i } }, ConsistentRead: true });
        if (Item?.n?.N === String(i)) ok++;
      }
    }));
    return ok;
  `, { prefix, count });
}

describe('request routers in other threads', () => {
  it('each client thread routes through its own rings to every node', async () => {
    const [a, b] = await Promise.all([runClientThread(db.routerPort(1), 'a', 500), runClientThread(db.routerPort(2), 'b', 500)]);
    expect(a).toBe(500);
    expect(b).toBe(500);
    const scan = await db.scan({ TableName: 'shared', Select: 'COUNT', ConsistentRead: true });
    expect(scan.Count).toBe(1000);
  });

  it('a client thread learns at once that a node died: nothing waits on it for the deadline', async () => {
    const other = await openCluster({ routers: 1 });
    try {
      await createHashTable(other, 'dying');
      await Promise.all(Array.from({ length: 200 }, (_, i) => other.putItem({ TableName: 'dying', Item: { id: { S: `k${i}` } } })));
      await other.faults.kill(2);
      // Eventually consistent reads may be sent to any replica, writes to any leader: none
      // may be sent to (or wait on) the dead node until its attempt times out.
      const slowest = await inClientThread<number>(other.routerPort(1), `
        let slowest = 0;
        await Promise.all(Array.from({ length: 200 }, async (_, i) => {
          const started = performance.now();
          await client.getItem({ TableName: 'dying', Key: { id: { S: 'k' + i } } });
          await client.putItem({ TableName: 'dying', Item: { id: { S: 'k' + i }, v: { S: 'again' } } });
          slowest = Math.max(slowest, performance.now() - started);
        }));
        return slowest;
      `);
      // An attempt that waited on the dead node would take its 2 s timeout at least.
      expect(slowest).toBeLessThan(1500);
    } finally {
      await other.close();
    }
  }, 60_000);

  it('names the ports that exist', () => {
    expect(() => db.routerPort(3)).toThrow('routerPort(3): this cluster was opened with options.routers = 2; ports are 1..2');
  });
});
