import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Router } from '../../src/router/router.js';
import { allocateFabric, Endpoint } from '../../src/transport/fabric.js';

/** Another thread rings `bell` after `afterMs`, as a storage node that wrote a reply does
 *  (Doorbell.ring: bump the sequence, notify only a consumer that said it sleeps). */
function ringFromAnotherThread(bell: SharedArrayBuffer, afterMs: number): Worker {
  return new Worker(
    `const { workerData } = require('node:worker_threads');
     const cells = new Int32Array(workerData.bell, 0, 2);
     setTimeout(() => { Atomics.add(cells, 0, 1); if (Atomics.load(cells, 1) !== 0) Atomics.notify(cells, 0); }, workerData.afterMs);`,
    { eval: true, workerData: { bell, afterMs } },
  );
}

describe('Router.waitForReplies (a load generator\'s blocking wait)', () => {
  it('wakes when a node rings, even while the router\'s own pump is not asleep on the bell', async () => {
    const fabric = allocateFabric({ nodes: 1, routers: 1, nodeRingBytes: 1 << 16, routerRingBytes: 1 << 16 });
    const endpoint = new Endpoint(fabric, 1);
    const router = new Router(endpoint);
    expect(endpoint.bell.prepared).toBe(false); // no pump: nothing outstanding
    const worker = ringFromAnotherThread(fabric.bells[1], 50);
    await new Promise((resolve) => worker.once('online', resolve));
    const started = performance.now();
    const replied = router.waitForReplies(5000);
    const waitedMs = performance.now() - started;
    await worker.terminate();
    expect(replied).toBe(true);
    // Before the fix this wait ran to its 5 s timeout: the node saw no sleeper to notify.
    expect(waitedMs).toBeLessThan(2500);
    expect(endpoint.bell.prepared).toBe(false); // put back as it was
  });

  it('leaves the bell marked asleep when the pump had marked it', () => {
    const fabric = allocateFabric({ nodes: 1, routers: 1, nodeRingBytes: 1 << 16, routerRingBytes: 1 << 16 });
    const endpoint = new Endpoint(fabric, 1);
    const router = new Router(endpoint);
    endpoint.bell.prepare(); // as the pump does before its waitAsync
    expect(router.waitForReplies(1)).toBe(false);
    expect(endpoint.bell.prepared).toBe(true);
  });
});
