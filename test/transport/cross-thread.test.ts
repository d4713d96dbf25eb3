/**
 * Rings and doorbells across real threads. The worker imports the compiled module from
 * dist/ (`npm test` builds first; run `npm run build` before `vitest run` otherwise).
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Doorbell } from '../../src/transport/doorbell.js';
import { Ring } from '../../src/transport/ring.js';
import { testSeed } from './prng.js';

const distUrl = new URL('../../dist/src/transport/index.js', import.meta.url);
const haveDist = existsSync(fileURLToPath(distUrl));

/** Deterministic length and bytes of record i, shared by both sides (seeded). */
const SHARED = `
function lengthOf(i, seed) { let x = Math.imul(i ^ seed, 0x9e3779b1); x ^= x >>> 15; return 1 + ((x >>> 0) % 1500); }
function byteOf(i, k) { return (i * 131 + k * 29 + (i >>> 8)) & 0xff; }
`;
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const { lengthOf, byteOf } = new Function(`${SHARED}; return { lengthOf, byteOf };`)() as {
  lengthOf: (i: number, seed: number) => number;
  byteOf: (i: number, k: number) => number;
};

const PRODUCER = `
const { workerData, parentPort } = require('node:worker_threads');
${SHARED}
import(workerData.url).then(({ Ring, Doorbell }) => {
  const ring = new Ring(workerData.ring);
  const bell = new Doorbell(workerData.bell);
  const space = new Doorbell(workerData.space);
  const { n, seed } = workerData;
  let i = 0, fullWaits = 0;
  while (i < n) {
    let wrote = 0;
    while (i < n && wrote < 64) {
      const len = lengthOf(i, seed);
      let view = ring.reserve(len);
      if (view === undefined) {
        if (wrote > 0) { bell.ring(); wrote = 0; }
        const s = space.prepare();
        view = ring.reserve(len);          // re-check after prepare
        // Long: the consumer rings \`space\` after every read, so a timed-out sleep here is a lost wake-up.
        if (view === undefined) { fullWaits++; space.sleep(s, 5000); space.done(); continue; }
        space.done();
      }
      for (let k = 0; k < len; k++) view[k] = byteOf(i, k);
      ring.commit(len, 1, i & 7);
      i++; wrote++;
    }
    if (wrote > 0) bell.ring();
  }
  parentPort.postMessage({ fullWaits, spaceSleeps: space.sleeps, spaceTimedOut: space.wakeTimedOut, notifies: bell.notifies });
}).catch((e) => { parentPort.postMessage({ error: String(e && e.stack || e) }); });
`;

const ECHO = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.url).then(({ Ring, Doorbell }) => {
  const inbound = new Ring(workerData.inbound), outbound = new Ring(workerData.outbound);
  const bell = new Doorbell(workerData.bell), replyBell = new Doorbell(workerData.replyBell);
  let stop = false, echoed = 0;
  while (!stop) {
    let got = inbound.read((p) => { if (p.length === 0) stop = true; else { outbound.tryWrite(p, 1); echoed++; } });
    if (got > 0) { replyBell.ring(); continue; }
    const s = bell.prepare();
    if (!inbound.isEmpty()) { bell.done(); continue; }
    bell.sleep(s, workerData.timeoutMs);
    bell.done();
  }
  parentPort.postMessage({ echoed, timedOut: bell.wakeTimedOut, sleeps: bell.sleeps });
}).catch((e) => { parentPort.postMessage({ error: String(e && e.stack || e) }); });
`;

function onMessage(w: Worker): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    w.once('message', (m: Record<string, unknown>) => (m.error ? reject(new Error(String(m.error))) : resolve(m)));
    w.once('error', reject);
  });
}

describe.skipIf(!haveDist)('cross-thread ring + doorbell', () => {
  it('streams 100k records from a worker through a full ring; main thread verifies order and content (waitAsync)', async () => {
    const seed = testSeed();
    const n = 100_000;
    const ringSab = Ring.allocate(256 * 1024);
    const bellSab = Doorbell.allocate();
    const spaceSab = Doorbell.allocate();
    const ring = new Ring(ringSab);
    const bell = new Doorbell(bellSab);
    const space = new Doorbell(spaceSab);
    const w = new Worker(PRODUCER, {
      eval: true,
      workerData: { url: distUrl.href, ring: ringSab, bell: bellSab, space: spaceSab, n, seed },
    });
    const done = onMessage(w);
    // A pending waitAsync does not keep the thread alive: hold a ref'd handle meanwhile.
    const keepAlive = setInterval(() => {}, 1000);
    let next = 0;
    let bad = '';
    try {
      // Read nothing until the producer found the ring full twice: a refused reserve and
      // the refused re-check after space.prepare(), after which it sleeps on `space` until
      // the consumer frees room. So that path surely runs.
      const fullBy = performance.now() + 30_000;
      while (ring.stats().writesRefused < 2 && performance.now() < fullBy) await sleep(1);
      expect(ring.stats().writesRefused, 'the producer never found the ring full').toBeGreaterThanOrEqual(2);
      while (next < n) {
        const got = ring.read((p, version, kind) => {
          if (bad) return;
          const len = lengthOf(next, seed);
          if (version !== 1 || kind !== (next & 7) || p.length !== len) bad = `record ${next}: header`;
          else for (let k = 0; k < len; k++) if (p[k] !== byteOf(next, k)) { bad = `record ${next} byte ${k}`; break; }
          next++;
        });
        if (got > 0) space.ring();
        if (bad) break;
        if (next >= n) break;
        const s = bell.prepare();
        if (!ring.isEmpty()) {
          bell.done();
          continue;
        }
        await bell.sleepAsync(s, 5000); // long: under load a starved producer must not read as a lost wake-up
        bell.done();
      }
    } finally {
      clearInterval(keepAlive);
    }
    const result = await done;
    await w.terminate();
    expect(bad, `seed ${seed} stats ${JSON.stringify(ring.stats())} result ${JSON.stringify(result)}`).toBe("");
    expect(next).toBe(n);
    const s = ring.stats();
    expect(s.recordsRead).toBe(n);
    expect(s.corruptRecords + s.resyncs).toBe(0);
    expect(bell.wakeTimedOut, `seed ${seed}: a timed-out sleep means a lost wake-up`).toBe(0);
    // The producer slept on a full ring, and every such sleep was ended by the consumer.
    expect(result.fullWaits).toBeGreaterThan(0);
    expect(result.spaceSleeps).toBeGreaterThan(0);
    expect(result.spaceTimedOut, `seed ${seed}: a timed-out full-ring sleep means a lost wake-up`).toBe(0);
  }, 60_000);

  it('ping-pongs 10k round trips with Atomics.wait in the worker and loses no wake-up', async () => {
    const a = Ring.allocate(64 * 1024);
    const b = Ring.allocate(64 * 1024);
    const bellSab = Doorbell.allocate();
    const replySab = Doorbell.allocate();
    const w = new Worker(ECHO, {
      eval: true,
      workerData: { url: distUrl.href, inbound: a, outbound: b, bell: bellSab, replyBell: replySab, timeoutMs: 5000 },
    });
    const done = onMessage(w);
    const out = new Ring(a);
    const inb = new Ring(b);
    const bell = new Doorbell(bellSab);
    const reply = new Doorbell(replySab);
    const payload = new Uint8Array(64);
    let mismatches = 0;
    for (let i = 0; i < 10_000; i++) {
      payload[0] = i & 0xff;
      expect(out.tryWrite(payload, 1)).toBe(true);
      bell.ring();
      let got = 0;
      while (got === 0) {
        got = inb.read((p) => { if (p[0] !== (i & 0xff)) mismatches++; });
        if (got > 0) break;
        const s = reply.prepare();
        if (!inb.isEmpty()) { reply.done(); continue; }
        reply.sleep(s, 5000); // the main thread may block in Node; fine in a test
        reply.done();
      }
    }
    out.tryWrite(new Uint8Array(0), 1);
    bell.ring();
    const result = await done;
    await w.terminate();
    expect(mismatches).toBe(0);
    expect(result.echoed).toBe(10_000);
    expect(result.timedOut, 'worker sleeps that timed out (lost wake-ups)').toBe(0);
    expect(reply.wakeTimedOut).toBe(0);
  }, 60_000);
});

describe('Doorbell (one thread)', () => {
  it('sleep returns not-equal when rung after prepare, timed-out otherwise', async () => {
    const bell = new Doorbell(Doorbell.allocate());
    let s = bell.prepare();
    expect(bell.ring()).toBe(true); // sleeper flag set: notifies
    expect(bell.sleep(s, 1000)).toBe('not-equal');
    bell.done();
    expect(bell.ring()).toBe(false); // nobody sleeping: no notify
    s = bell.prepare();
    expect(bell.sleep(s, 1)).toBe('timed-out');
    expect(await bell.sleepAsync(s, 1)).toBe('timed-out');
    bell.ring();
    expect(await bell.sleepAsync(s, 1000)).toBe('not-equal');
    bell.done();
    expect(bell.wakeTimedOut).toBe(2);
    expect(() => new Doorbell(Doorbell.allocate(), { spinIterations: -1 })).toThrow(/spinIterations/);
  });

  it('bounded spin sees a ring without sleeping', () => {
    const bell = new Doorbell(Doorbell.allocate(), { spinIterations: 100 });
    const s = bell.prepare();
    bell.ring();
    expect(bell.sleep(s, 1000)).toBe('not-equal');
    expect(bell.sleeps).toBe(0);
  });
});
