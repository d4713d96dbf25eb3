/**
 * The fabric: every ring and doorbell of a cluster, allocated once by `open()` so that
 * any router talks to any storage node directly and nodes talk to each other.
 *
 * Endpoints are numbered: storage nodes 0..nodes-1, then routers nodes..nodes+routers-1
 * (router 0, endpoint `nodes`, is the main thread's). There is one single-producer,
 * single-consumer ring per directed link node→node, router→node and node→router; routers
 * never talk to each other. Each endpoint has one doorbell: a producer rings the
 * consumer's doorbell after writing a batch, so a thread with many inbound rings sleeps
 * on one word.
 */
import { Ring, type RingBuffer } from './ring.js';
import { Doorbell } from './doorbell.js';
import { isFormatVersion, type FormatVersion } from './protocol.js';

export interface FabricLayout {
  nodes: number;
  routers: number;
  /** Capacity of each node→node ring (bytes, power of two). */
  nodeRingBytes: number;
  /** Capacity of each router↔node ring (bytes, power of two). */
  routerRingBytes: number;
}

/** Shared memory of the whole fabric, handed to any thread in workerData once, at start
 *  (never per message). Each ring is a shared WebAssembly.Memory, so that every thread
 *  that holds it checksums records in place with the WebAssembly CRC32C. */
export interface FabricBuffers {
  layout: FabricLayout;
  /** rings[from][to], undefined where there is no link. */
  rings: Array<Array<RingBuffer | undefined>>;
  bells: SharedArrayBuffer[];
  /** Int32 per endpoint: the format version it writes (protocol.ts). Set by the control
   *  plane at any time (a deployment step); each endpoint reads its own word per batch. */
  sendVersions: SharedArrayBuffer;
  /** Int32 per storage node: NODE_DRAINING while it is about to stop on purpose,
   *  NODE_DOWN once its thread is gone, else NODE_UP. Every router reads it, so routers in
   *  any thread send a stopping node nothing new, and give up on a dead one at once. */
  nodeDraining: SharedArrayBuffer;
}

export function endpointCount(layout: FabricLayout): number {
  return layout.nodes + layout.routers;
}

export function isNode(layout: FabricLayout, endpoint: number): boolean {
  return endpoint < layout.nodes;
}

export function allocateFabric(layout: FabricLayout, sendVersion: FormatVersion = 1): FabricBuffers {
  const n = endpointCount(layout);
  const rings: Array<Array<RingBuffer | undefined>> = [];
  for (let from = 0; from < n; from++) {
    const row: Array<RingBuffer | undefined> = [];
    for (let to = 0; to < n; to++) {
      const fromNode = isNode(layout, from);
      const toNode = isNode(layout, to);
      if (from === to || (!fromNode && !toNode)) row.push(undefined);
      else row.push(Ring.allocateMemory(fromNode && toNode ? layout.nodeRingBytes : layout.routerRingBytes));
    }
    rings.push(row);
  }
  const bells: SharedArrayBuffer[] = [];
  for (let i = 0; i < n; i++) bells.push(Doorbell.allocate());
  const sendVersions = new SharedArrayBuffer(n * 4);
  new Int32Array(sendVersions).fill(sendVersion);
  return { layout, rings, bells, sendVersions, nodeDraining: new SharedArrayBuffer(layout.nodes * 4) };
}

export const NODE_UP = 0;
export const NODE_DRAINING = 1;
export const NODE_DOWN = 2;

/** Marks storage node `node` as stopping on purpose (or not any more: up). */
export function setNodeDraining(buffers: FabricBuffers, node: number, draining: boolean): void {
  Atomics.store(new Int32Array(buffers.nodeDraining), node, draining ? NODE_DRAINING : NODE_UP);
}

/** Marks storage node `node`'s thread as gone (until `setNodeDraining(.., false)` at its next start). */
export function setNodeDown(buffers: FabricBuffers, node: number): void {
  Atomics.store(new Int32Array(buffers.nodeDraining), node, NODE_DOWN);
}

/** Sets the format version `endpoint` writes from its next batch on. */
export function setSendVersion(buffers: FabricBuffers, endpoint: number, version: FormatVersion): void {
  if (!isFormatVersion(version)) throw new RangeError(`format version must be 1 or 2 (got ${String(version)})`);
  Atomics.store(new Int32Array(buffers.sendVersions), endpoint, version);
}

export function sendVersionOf(buffers: FabricBuffers, endpoint: number): FormatVersion {
  return Atomics.load(new Int32Array(buffers.sendVersions), endpoint) as FormatVersion;
}

/** One endpoint's view of the fabric: its inbound rings, its outbound rings, its own
 *  doorbell and the doorbells of its peers. */
export class Endpoint {
  readonly id: number;
  readonly layout: FabricLayout;
  readonly bell: Doorbell;
  /** Peers this endpoint has links with, in id order. */
  readonly peers: number[];
  private readonly outbound: Array<Ring | undefined>;
  private readonly inbound: Array<Ring | undefined>;
  private readonly peerBells: Doorbell[];
  private readonly sendVersions: Int32Array;
  private readonly nodeDraining: Int32Array;

  constructor(buffers: FabricBuffers, id: number) {
    const n = endpointCount(buffers.layout);
    if (!Number.isInteger(id) || id < 0 || id >= n) throw new RangeError(`endpoint ${id} is not in 0..${n - 1}`);
    this.id = id;
    this.layout = buffers.layout;
    this.bell = new Doorbell(buffers.bells[id]);
    this.outbound = [];
    this.inbound = [];
    this.peerBells = [];
    this.peers = [];
    this.sendVersions = new Int32Array(buffers.sendVersions);
    this.nodeDraining = new Int32Array(buffers.nodeDraining);
    for (let peer = 0; peer < n; peer++) {
      const out = buffers.rings[id][peer];
      const inn = buffers.rings[peer][id];
      this.outbound.push(out === undefined ? undefined : new Ring(out));
      this.inbound.push(inn === undefined ? undefined : new Ring(inn));
      this.peerBells.push(new Doorbell(buffers.bells[peer]));
      if (out !== undefined) this.peers.push(peer);
    }
  }

  to(peer: number): Ring {
    const ring = this.outbound[peer];
    if (ring === undefined) throw new RangeError(`endpoint ${this.id} has no link to ${peer}`);
    return ring;
  }

  from(peer: number): Ring {
    const ring = this.inbound[peer];
    if (ring === undefined) throw new RangeError(`endpoint ${this.id} has no link from ${peer}`);
    return ring;
  }

  /** The format version this endpoint writes now (the control plane may change it). */
  get sendVersion(): FormatVersion {
    return Atomics.load(this.sendVersions, this.id) as FormatVersion;
  }

  /** Storage node `node` is about to stop on purpose: send it nothing it need not get. */
  isDraining(node: number): boolean {
    return Atomics.load(this.nodeDraining, node) === NODE_DRAINING;
  }

  /** Storage node `node`'s thread is gone: nothing sent to it will be answered. */
  isDown(node: number): boolean {
    return Atomics.load(this.nodeDraining, node) === NODE_DOWN;
  }

  /** Wake `peer` after writing to it (cheap when it is awake). */
  wake(peer: number): void {
    this.peerBells[peer].ring();
  }

  /** True when every inbound ring is empty. */
  inboxEmpty(): boolean {
    for (const peer of this.peers) if (!this.inbound[peer]!.isEmpty()) return false;
    return true;
  }
}
