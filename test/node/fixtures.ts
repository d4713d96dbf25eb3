/**
 * What the StorageNode tests over fake ports share: a table's key shape, a put entry, and
 * a node over a given transport with an in-memory store whose syncs the test completes.
 */
import { encodeItemKeyWithHash } from '../../src/model/key-encoding.js';
import { partitionHash } from '../../src/model/hash.js';
import type { KeyShape } from '../../src/model/types.js';
import type { NodeTransport, TransportStats } from '../../src/node/ports.js';
import { StorageNode, type StorageNodeOptions } from '../../src/node/storage-node.js';
import { encodeWriteOp } from '../../src/storage/codec.js';
import { SimNodeStore } from '../sim/storage.js';

export const SHAPE: KeyShape = { hashName: 'pk', hashType: 'S' };

/** A put of item { pk, v: 'x' } into table 1. */
export function putEntry(pk: string): Uint8Array {
  const key = { pk: { S: pk } };
  const itemKey = encodeItemKeyWithHash(1, partitionHash(key.pk), SHAPE, key);
  return encodeWriteOp({ type: 'put', tableId: 1, key, item: { ...key, v: { S: 'x' } }, returnValues: 'NONE', itemKey });
}

export function noTransportStats(): TransportStats {
  return { formatVersionRejected: 0, decodeErrors: 0, recordsByVersion: { 1: 0, 2: 0 }, inboundRings: {} };
}

/** A node over `transport` with a fresh in-memory store; `onSync` hears each WAL sync it
 *  starts (the test completes it with store.makeDurable + node.syncCompleted). */
export function nodeOver(transport: NodeTransport, onSync: () => void, options: Partial<StorageNodeOptions> = {}): { node: StorageNode; store: SimNodeStore } {
  const store = new SimNodeStore(() => {});
  const node = new StorageNode({
    transport, storage: store, jobs: { startSync: onSync, startCheckpoint: () => {} },
    timing: { tickMs: 10, electionTicks: 10, heartbeatTicks: 2, leaseTicks: 8 }, seed: 1, nowMs: 0,
    warn: (message) => { throw new Error(message); },
    ...options,
  });
  return { node, store };
}
