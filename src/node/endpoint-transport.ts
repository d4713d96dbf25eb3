/**
 * The node's real transport: its fabric endpoint's SAB rings and doorbells, with the
 * thread's message codec (see ports.ts NodeTransport for the contract).
 */
import { messageCodec, writeBatched } from '../transport/codec.js';
import type { Endpoint } from '../transport/fabric.js';
import { readEnvelopes, type Envelope, type FormatVersion } from '../transport/protocol.js';
import type { NodeTransport, TransportStats } from './ports.js';
import { seededRandom } from '../model/prng.js';

export class EndpointTransport implements NodeTransport {
  constructor(private readonly endpoint: Endpoint) {}

  get id(): number {
    return this.endpoint.id;
  }

  get peers(): readonly number[] {
    return this.endpoint.peers;
  }

  get sendVersion(): FormatVersion {
    return this.endpoint.sendVersion;
  }

  get versionRejected(): number {
    return messageCodec().versionRejected;
  }

  get lastRejectedVersion(): number {
    return messageCodec().lastRejectedVersion;
  }

  receive(peer: number, visit: (envelope: Envelope, version: FormatVersion) => void): number {
    return readEnvelopes(this.endpoint.from(peer), visit);
  }

  send<T>(peer: number, items: readonly T[], wrap: (batch: T[]) => unknown, maxBatch: number, onTooLarge: (item: T) => void, version: FormatVersion): number {
    return writeBatched(this.endpoint.to(peer), items, wrap, maxBatch, onTooLarge, version);
  }

  wake(peer: number): void {
    this.endpoint.wake(peer);
  }

  corruptWrites(peer: number, rate: number, seed: number): void {
    this.endpoint.to(peer).corruptNextWrites(rate, seededRandom(seed));
  }

  noteDecodeError(): void {
    messageCodec().decodeErrors++;
  }

  stats(): TransportStats {
    const inboundRings: TransportStats['inboundRings'] = {};
    for (const peer of this.endpoint.peers) {
      const ring = this.endpoint.from(peer).stats();
      inboundRings[peer] = { records: ring.recordsRead, corruptRecords: ring.corruptRecords, resyncs: ring.resyncs };
    }
    const codec = messageCodec();
    return {
      formatVersionRejected: codec.versionRejected,
      decodeErrors: codec.decodeErrors,
      recordsByVersion: { 1: codec.recordsByVersion[1], 2: codec.recordsByVersion[2] },
      inboundRings,
    };
  }
}
