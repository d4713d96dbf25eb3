/**
 * Worker halves of the `path` micro-benchmark (path.ts): storage nodes and clients that do
 * nothing but what a request's path needs from the machine. They use shardbox's own fabric
 * (rings and doorbells), so a message costs what it costs the engine to carry; they skip
 * everything else (validation, encoding, LMDB, the replica state machine, the harness's
 * event loop). Every wait is bounded; nothing spins.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { Endpoint, type FabricBuffers } from '../../src/transport/fabric.js';
import { PATH_NODES } from './path.js';

export type PathRole =
  | { role: 'node'; fabric: FabricBuffers; id: number; stop: SharedArrayBuffer; walDir?: string }
  | { role: 'client'; fabric: FabricBuffers; id: number; opsPerSec: number; startAtMs: number; warmUpMs: number; measureMs: number; seed: number };

export interface PathClientResult {
  /** Latency from each operation's intended start to its reply being read, µs. */
  readsUs: number[];
  writesUs: number[];
}

/** A message: kind, operation id, intended start (ms, wall clock), sender; then a body. */
const HEADER_BYTES = 32;
const READ = 1;
const WRITE = 2;
const APPEND = 3;
const APPEND_ACK = 4;
const READ_REPLY = 5;
const WRITE_REPLY = 6;
/** A YCSB item (10 fields of 90 bytes) with its key and attribute names. */
const ITEM_BYTES = 1000;
const GET_BYTES = 40;
const WAL_FILE_BYTES = 4 << 20;
const IDLE_SLEEP_MS = 50;

const data = workerData as PathRole;
const endpoint = new Endpoint(data.fabric, data.id);
const out = new Uint8Array(HEADER_BYTES + ITEM_BYTES).fill(0x5a);
const outHeader = new Float64Array(out.buffer, 0, 4);
const inBytes = new Uint8Array(HEADER_BYTES);
const inHeader = new Float64Array(inBytes.buffer);

function clock(): number {
  return performance.timeOrigin + performance.now();
}

function send(to: number, kind: number, op: number, intendedMs: number, bodyBytes: number): void {
  outHeader[0] = kind;
  outHeader[1] = op;
  outHeader[2] = intendedMs;
  outHeader[3] = data.id;
  if (!endpoint.to(to).tryWrite(out.subarray(0, HEADER_BYTES + bodyBytes), 1)) throw new Error(`path: ring ${data.id}→${to} full`);
}

/** Reads every inbound ring once; `visit` gets each message's header (valid during the call). */
function drain(visit: (kind: number, op: number, intendedMs: number, from: number) => void): number {
  let got = 0;
  for (const peer of endpoint.peers) {
    got += endpoint.from(peer).read((payload) => {
      inBytes.set(payload.subarray(0, HEADER_BYTES));
      visit(inHeader[0], inHeader[1], inHeader[2], inHeader[3]);
    });
  }
  return got;
}

function sleepUntilRung(timeoutMs: number): void {
  const seq = endpoint.bell.prepare();
  if (endpoint.inboxEmpty()) endpoint.bell.sleep(seq, timeoutMs);
  endpoint.bell.done();
}

/** A storage node: answers a read at once; a write is appended to both followers, synced
 *  here while they sync theirs (as the WAL does), and answered at the first follower's ack
 *  (two of three durable). Peers are woken once per round, after the round's sends. */
function node(d: Extract<PathRole, { role: 'node' }>): void {
  const stop = new Int32Array(d.stop);
  const fd = d.walDir === undefined ? undefined : openSync(path.join(d.walDir, `wal-${d.id}`), 'w');
  const block = Buffer.alloc(1024, 1);
  let walOffset = 0;
  if (fd !== undefined) {
    writeSync(fd, Buffer.alloc(WAL_FILE_BYTES), 0, WAL_FILE_BYTES, 0); // preallocated, as WAL segments are
    fdatasyncSync(fd);
  }
  const appendAndSync = (): void => {
    if (fd === undefined) return;
    writeSync(fd, block, 0, block.length, walOffset);
    walOffset = (walOffset + block.length) % WAL_FILE_BYTES;
    fdatasyncSync(fd);
  };
  const waitingClient = new Map<number, number>();
  const wake = new Set<number>();
  let syncDue = false;
  for (;;) {
    const got = drain((kind, op, intendedMs, from) => {
      if (kind === READ) {
        send(from, READ_REPLY, op, intendedMs, ITEM_BYTES);
        wake.add(from);
      } else if (kind === WRITE) {
        waitingClient.set(op, from);
        for (let peer = 0; peer < PATH_NODES; peer++) {
          if (peer === d.id) continue;
          send(peer, APPEND, op, intendedMs, ITEM_BYTES);
          wake.add(peer);
        }
        syncDue = true;
      } else if (kind === APPEND) {
        appendAndSync();
        send(from, APPEND_ACK, op, intendedMs, 0);
        wake.add(from);
      } else if (kind === APPEND_ACK) {
        const client = waitingClient.get(op);
        if (client === undefined) return; // the second follower's ack
        waitingClient.delete(op);
        send(client, WRITE_REPLY, op, intendedMs, 0);
        wake.add(client);
      }
    });
    for (const peer of wake) endpoint.wake(peer);
    wake.clear();
    if (syncDue) {
      appendAndSync(); // the leader's own sync, after its followers were sent theirs
      syncDue = false;
    }
    if (got > 0) continue;
    if (Atomics.load(stop, 0) === 1) break;
    sleepUntilRung(IDLE_SLEEP_MS);
  }
  if (fd !== undefined) closeSync(fd);
  parentPort!.postMessage('stopped');
}

/** An open-loop client as the YCSB harness's, without its event loop: operation i is due
 *  at start + i / rate, half reads, half writes, to a leader drawn at random; between due
 *  times it sleeps on its doorbell, which a reply rings. */
function client(d: Extract<PathRole, { role: 'client' }>): void {
  const intervalMs = 1000 / d.opsPerSec;
  const measureFrom = d.startAtMs + d.warmUpMs;
  const endMs = measureFrom + d.measureMs;
  const result: PathClientResult = { readsUs: [], writesUs: [] };
  let x = d.seed >>> 0 || 1;
  const random = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  let issued = 0;
  let inFlight = 0;
  for (;;) {
    const now = clock();
    for (let due = d.startAtMs + issued * intervalMs; due <= now && due < endMs; due = d.startAtMs + issued * intervalMs) {
      const leader = Math.floor(random() * PATH_NODES);
      const read = random() < 0.5;
      send(leader, read ? READ : WRITE, d.id * 1e9 + issued, due, read ? GET_BYTES : ITEM_BYTES);
      endpoint.wake(leader);
      issued++;
      inFlight++;
    }
    drain((kind, _op, intendedMs) => {
      inFlight--;
      if (intendedMs < measureFrom) return;
      (kind === READ_REPLY ? result.readsUs : result.writesUs).push((clock() - intendedMs) * 1000);
    });
    const nextDue = d.startAtMs + issued * intervalMs;
    const allIssued = nextDue >= endMs;
    if (allIssued && inFlight === 0) break;
    sleepUntilRung(allIssued ? IDLE_SLEEP_MS : Math.max(0, Math.min(nextDue - clock(), IDLE_SLEEP_MS)));
  }
  parentPort!.postMessage(result);
}

if (data.role === 'node') node(data);
else client(data);
