/**
 * Worker-side halves of the cross-thread micro-benchmarks. One module, the role comes in
 * workerData. Every wait is bounded (timeouts) and nothing spins: 2 cores.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Doorbell } from '../../src/transport/doorbell.js';
import { Ring, type RingBuffer } from '../../src/transport/ring.js';

export type WorkerRole =
  | { role: 'ring-producer'; ring: RingBuffer; bell: SharedArrayBuffer; space: SharedArrayBuffer; start: SharedArrayBuffer; records: number; recordBytes: number }
  | { role: 'ring-consumer'; ring: RingBuffer; bell: SharedArrayBuffer; space: SharedArrayBuffer; records: number }
  | { role: 'pm-producer'; port: MessagePort; messages: number; messageBytes: number; window: number }
  | { role: 'pm-consumer'; port: MessagePort; messages: number; ackEvery: number }
  | { role: 'ring-echo'; inbound: SharedArrayBuffer; outbound: SharedArrayBuffer; bell: SharedArrayBuffer; replyBell: SharedArrayBuffer }
  | { role: 'pm-echo'; port: MessagePort };

const WAIT_MS = 100;
const data = workerData as WorkerRole;

function ringProducer(d: Extract<WorkerRole, { role: 'ring-producer' }>): void {
  const ring = new Ring(d.ring);
  const bell = new Doorbell(d.bell);
  const space = new Doorbell(d.space);
  const payload = new Uint8Array(d.recordBytes).fill(0x5a);
  // Start together with the consumer: wait for the go signal (bounded waits).
  const start = new Int32Array(d.start);
  while (Atomics.load(start, 0) === 0) Atomics.wait(start, 0, 0, WAIT_MS);
  let sent = 0;
  let fullSleeps = 0;
  while (sent < d.records) {
    let batch = 0;
    while (sent < d.records && ring.tryWrite(payload, 1)) {
      sent++;
      // Ring the bell per batch, not per record; a batch of 64 bounds the consumer's delay.
      if (++batch === 64) {
        bell.ring();
        batch = 0;
      }
    }
    if (batch > 0) bell.ring();
    if (sent === d.records) break;
    const s = space.prepare();
    if (ring.capacity - ring.usedBytes() >= 2 * (payload.length + 16)) {
      space.done();
      continue;
    }
    fullSleeps++;
    space.sleep(s, WAIT_MS);
    space.done();
  }
  parentPort!.postMessage({ sent, fullSleeps, crcPath: ring.crcPath });
}

function ringConsumer(d: Extract<WorkerRole, { role: 'ring-consumer' }>): void {
  const ring = new Ring(d.ring);
  const bell = new Doorbell(d.bell);
  const space = new Doorbell(d.space);
  let got = 0;
  let sum = 0;
  let sleeps = 0;
  while (got < d.records) {
    const n = ring.read((p) => {
      sum += p[p.length - 1];
    });
    if (n > 0) {
      got += n;
      space.ring();
      continue;
    }
    const s = bell.prepare();
    if (!ring.isEmpty()) {
      bell.done();
      continue;
    }
    sleeps++;
    bell.sleep(s, WAIT_MS);
    bell.done();
  }
  parentPort!.postMessage({ got, sum, sleeps, crcPath: ring.crcPath, done: performance.now() + performance.timeOrigin });
}

function pmProducer(d: Extract<WorkerRole, { role: 'pm-producer' }>): void {
  const buf = new ArrayBuffer(d.messageBytes);
  new Uint8Array(buf).fill(0x5a);
  let sent = 0;
  let acked = 0;
  const pump = (): void => {
    while (sent < d.messages && sent - acked < d.window) {
      d.port.postMessage(buf); // no transfer list: structured clone copies the 1 KB
      sent++;
    }
    if (sent === d.messages) parentPort!.postMessage({ sent });
  };
  d.port.on('message', (n: number) => {
    acked = n;
    if (sent < d.messages) pump();
  });
  pump();
}

function pmConsumer(d: Extract<WorkerRole, { role: 'pm-consumer' }>): void {
  let got = 0;
  let sum = 0;
  d.port.on('message', (m: ArrayBuffer) => {
    sum += new Uint8Array(m)[m.byteLength - 1];
    got++;
    if (got % d.ackEvery === 0) d.port.postMessage(got);
    if (got === d.messages) {
      parentPort!.postMessage({ got, sum, done: performance.now() + performance.timeOrigin });
      d.port.close();
    }
  });
}

function ringEcho(d: Extract<WorkerRole, { role: 'ring-echo' }>): void {
  const inbound = new Ring(d.inbound);
  const outbound = new Ring(d.outbound);
  const bell = new Doorbell(d.bell);
  const replyBell = new Doorbell(d.replyBell);
  let stop = false;
  while (!stop) {
    const n = inbound.read((p) => {
      if (p.length === 0) stop = true;
      else outbound.tryWrite(p, 1);
    });
    if (n > 0) {
      replyBell.ring();
      continue;
    }
    const s = bell.prepare();
    if (!inbound.isEmpty()) {
      bell.done();
      continue;
    }
    bell.sleep(s, WAIT_MS); // Atomics.wait: this worker has nothing else to do
    bell.done();
  }
  parentPort!.postMessage({ sleeps: bell.sleeps, timedOut: bell.wakeTimedOut });
}

function pmEcho(d: Extract<WorkerRole, { role: 'pm-echo' }>): void {
  d.port.on('message', (m: ArrayBuffer | null) => {
    if (m === null) {
      d.port.close();
      parentPort!.postMessage({ done: true });
      return;
    }
    d.port.postMessage(m);
  });
}

switch (data.role) {
  case 'ring-producer':
    ringProducer(data);
    break;
  case 'ring-consumer':
    ringConsumer(data);
    break;
  case 'pm-producer':
    pmProducer(data);
    break;
  case 'pm-consumer':
    pmConsumer(data);
    break;
  case 'ring-echo':
    ringEcho(data);
    break;
  case 'pm-echo':
    pmEcho(data);
    break;
}
