/**
 * Planned restarts: a node hands its leaderships over before it stops, so a rolling
 * restart of every node under steady load (conditional updates, puts, strong reads)
 * fails no request, loses no acknowledged write and leaves the replicas identical.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ShardBoxClient, type ShardBox } from '../../src/index.js';
import { createHashTable, openCluster, seedFromEnv } from '../integration/helpers.js';
import { checkLoad, expectConverged, runLoad } from '../recovery/load.js';

let db: ShardBox | undefined;

afterEach(async () => {
  await db?.close();
  db = undefined;
});

describe('rolling restart', () => {
  it('restarts every node under load with zero failed requests', async () => {
    const seed = seedFromEnv(Date.now() % 1_000_000);
    const context = `seed ${seed} (SHARDBOX_SEED=${seed} to replay)`;
    db = await openCluster({ durability: 'sync', partitions: 4, seed, routers: 1 });
    const cluster = db;
    await createHashTable(cluster, 'rolling');
    // A second router, as a benchmark client thread has: the control plane tells it
    // nothing directly; it sees stopping nodes through the fabric.
    const client = ShardBoxClient.connect(cluster.routerPort(1));
    let stop = false;
    const load = runLoad(cluster, { table: 'rolling', chains: 12, putters: 6, readers: 3 }, () => stop);
    const clientLoad = runLoad(client, { table: 'rolling', chains: 6, putters: 3, readers: 2, prefix: 'client/' }, () => stop);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const opsBefore = load.result.ops + clientLoad.result.ops;
    const started = performance.now();
    const restarts = await cluster.deploy.rollingRestart();
    const rollingMs = performance.now() - started;
    const opsDuring = load.result.ops + clientLoad.result.ops - opsBefore;
    await new Promise((resolve) => setTimeout(resolve, 200));
    stop = true;
    await Promise.all([load.done, clientLoad.done]);
    client.close();

    console.log(`rolling restart of 3 nodes under load: ${rollingMs.toFixed(0)} ms, ${opsDuring} requests served meanwhile; per node `
      + restarts.map((r) => `node ${r.node}: hand-over ${r.handOverMs.toFixed(1)} ms, stop ${r.stopMs.toFixed(1)}, start ${r.startMs.toFixed(1)}, catch-up ${r.catchUpMs.toFixed(1)}`).join('; '));
    expect(Object.fromEntries(load.result.errors), `${context}: failed requests: ${load.result.errorMessages.join('; ')}`).toEqual({});
    expect(Object.fromEntries(clientLoad.result.errors), `${context}: failed requests of the second router: ${clientLoad.result.errorMessages.join('; ')}`).toEqual({});
    for (const r of restarts) expect(r.handedOver, `${context}: node ${r.node} handed over`).toBe(true);
    expect(opsDuring, context).toBeGreaterThan(100);
    await checkLoad(cluster, 'rolling', load.result, context);
    await checkLoad(cluster, 'rolling', clientLoad.result, `${context}, second router`);
    await expectConverged(cluster, 'rolling', context);
  });

  it('faults.restart of a live node hands its leaderships over first', async () => {
    db = await openCluster({ durability: 'async', partitions: 3 });
    const cluster = db;
    await createHashTable(cluster, 'handover');
    let stop = false;
    const load = runLoad(cluster, { table: 'handover', chains: 8, putters: 4, readers: 2 }, () => stop);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const leaders = (await cluster.replicaStatus('handover')).flatMap(({ replicas }) => replicas.filter((r) => r?.role === 'leader').map((r) => r!.id));
    const victim = leaders[0]!;
    await cluster.faults.restart(victim);
    await new Promise((resolve) => setTimeout(resolve, 200));
    stop = true;
    await load.done;
    expect(Object.fromEntries(load.result.errors), load.result.errorMessages.join('; ')).toEqual({});
    await checkLoad(cluster, 'handover', load.result, 'faults.restart');
    await expectConverged(cluster, 'handover', 'faults.restart');
  });
});
