/**
 * The read-write deployment of a new message format on real threads: every node reads
 * versions 1 and 2; senders switch one by one (a mixed cluster), then all send version 2,
 * then the deployment is rolled back to version 1 — under load, with every acknowledged
 * write present and no record dropped. A record of a version no build reads is dropped
 * and counted, and the node goes on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import type { NodeStats } from '../../src/node/storage-node.js';
import { messageCodec } from '../../src/transport/codec.js';
import { Endpoint } from '../../src/transport/fabric.js';
import { createHashTable, openCluster, seedFromEnv } from '../integration/helpers.js';
import { checkLoad, expectConverged, runLoad, type LoadResult } from '../recovery/load.js';

let db: ShardBox | undefined;

afterEach(async () => {
  await db?.close();
  db = undefined;
});


async function stats(cluster: ShardBox): Promise<NodeStats[]> {
  return (await cluster.nodeStats()).map((s) => s!);
}

describe('message format versions in a live cluster', () => {
  it('serves a mixed cluster (v2 and v1 senders), then all v2, then rolls back to v1', async () => {
    const seed = seedFromEnv(Date.now() % 1_000_000);
    const context = `seed ${seed} (SHARDBOX_SEED=${seed} to replay)`;
    db = await openCluster({ durability: 'async', partitions: 3, seed });
    const cluster = db;
    await createHashTable(cluster, 'versions');
    expect(cluster.deploy.formatVersions()).toEqual({ nodes: [1, 1, 1], routers: [1] });

    /** Runs load for a while under the current versions; returns each node's records read
     *  per version meanwhile (after letting records sent before the switch drain). */
    const phase = async (name: string): Promise<{ result: LoadResult; read: Array<Record<1 | 2, number>> }> => {
      await sleep(60);
      const before = await stats(cluster);
      let stop = false;
      const load = runLoad(cluster, { table: 'versions', chains: 12, putters: 6, readers: 3, prefix: `${name}/` }, () => stop);
      await sleep(700);
      stop = true;
      await load.done;
      const after = await stats(cluster);
      expect(Object.fromEntries(load.result.errors), `${context}, ${name}: failed requests: ${load.result.errorMessages.join('; ')}`).toEqual({});
      await checkLoad(cluster, 'versions', load.result, `${context}, ${name}`);
      for (const node of after) {
        expect(node.formatVersionRejected, `${context}, ${name}: node ${node.node}`).toBe(0);
        expect(node.decodeErrors, `${context}, ${name}: node ${node.node}`).toBe(0);
        for (const ring of Object.values(node.inboundRings)) expect(ring.corruptRecords).toBe(0);
      }
      return {
        result: load.result,
        read: after.map((node, i) => ({ 1: node.recordsByVersion[1] - before[i].recordsByVersion[1], 2: node.recordsByVersion[2] - before[i].recordsByVersion[2] })),
      };
    };

    // Mixed: nodes 0 and 1 send version 2, node 2 and the router version 1.
    cluster.deploy.setFormatVersion(2, { nodes: [0, 1], routers: [] });
    expect(cluster.deploy.formatVersions()).toEqual({ nodes: [2, 2, 1], routers: [1] });
    const mixed = await phase('mixed');
    // Node 2 hears both versions from its peers; nodes 0 and 1 hear v1 from node 2 and the router.
    expect(mixed.read[2][2], context).toBeGreaterThan(0);
    expect(mixed.read[2][1], context).toBeGreaterThan(0);
    expect(mixed.read[0][1], context).toBeGreaterThan(0);
    expect(mixed.read[0][2], context).toBeGreaterThan(0);

    // Everyone sends version 2.
    cluster.deploy.setFormatVersion(2);
    expect(cluster.deploy.formatVersions()).toEqual({ nodes: [2, 2, 2], routers: [2] });
    const all2 = await phase('all v2');
    for (const read of all2.read) {
      expect(read[1], context).toBe(0);
      expect(read[2], context).toBeGreaterThan(0);
    }

    // Roll back: everyone sends version 1 again.
    cluster.deploy.setFormatVersion(1);
    const rolledBack = await phase('rolled back to v1');
    for (const read of rolledBack.read) {
      expect(read[2], context).toBe(0);
      expect(read[1], context).toBeGreaterThan(0);
    }
    // Writes of every phase are still there, and the replicas agree.
    for (const [name, p] of [['mixed', mixed], ['all v2', all2]] as const) await checkLoad(cluster, 'versions', p.result, `${context}, ${name} after rollback`);
    await expectConverged(cluster, 'versions', context);
    expect(() => cluster.deploy.setFormatVersion(3 as never)).toThrow('setFormatVersion: version must be 1 or 2');
  });

  it('opens a cluster that sends version 2 everywhere; the option is checked', async () => {
    await expect(openCluster({ formatVersion: 3 as never })).rejects.toThrow('options.formatVersion must be 1 or 2');
    db = await openCluster({ partitions: 2, formatVersion: 2 });
    expect(db.deploy.formatVersions()).toEqual({ nodes: [2, 2, 2], routers: [2] });
    await createHashTable(db, 'version2');
    await db.putItem({ TableName: 'version2', Item: { id: { S: 'k' }, n: { N: '1' } } });
    expect((await db.getItem({ TableName: 'version2', Key: { id: { S: 'k' } }, ConsistentRead: true })).Item).toEqual({ id: { S: 'k' }, n: { N: '1' } });
    const nodes = await stats(db);
    for (const node of nodes) {
      expect(node.sendVersion).toBe(2);
      expect(node.recordsByVersion[1]).toBe(0);
      expect(node.recordsByVersion[2]).toBeGreaterThan(0);
    }
  });

  it('drops and counts a record of an unknown version, and keeps serving', async () => {
    db = await openCluster({ durability: 'async', partitions: 1, routers: 1 });
    const cluster = db;
    await createHashTable(cluster, 'unknown');
    // Router port 1 is unused by any thread here: this test is its ring's only producer.
    const port = cluster.routerPort(1);
    const endpoint = new Endpoint(port.fabric, port.endpoint);
    const payload = messageCodec().encode([1, port.endpoint, [[1, 0, { t: 'ping' }]]]);
    expect(endpoint.to(0).tryWrite(payload, 3)).toBe(true);
    endpoint.wake(0);
    await cluster.putItem({ TableName: 'unknown', Item: { id: { S: 'a' } } });
    let node0: NodeStats | undefined;
    for (let i = 0; i < 100 && (node0 = (await cluster.nodeStats())[0])!.formatVersionRejected === 0; i++) await sleep(10);
    expect(node0!.formatVersionRejected).toBe(1);
    expect(cluster.isNodeAlive(0)).toBe(true);
    expect((await cluster.getItem({ TableName: 'unknown', Key: { id: { S: 'a' } }, ConsistentRead: true })).Item).toEqual({ id: { S: 'a' } });
  });
});
