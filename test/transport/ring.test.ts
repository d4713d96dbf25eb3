import { describe, expect, it } from 'vitest';
import { Ring, RECORD_HEADER_BYTES, RING_CONTROL_BYTES } from '../../src/transport/ring.js';
import { mulberry32, testSeed } from './prng.js';

/** Payload of record i: deterministic bytes, length from the caller. */
function payloadOf(i: number, length: number): Uint8Array {
  const p = new Uint8Array(length);
  for (let k = 0; k < length; k++) p[k] = (i * 31 + k * 7) & 0xff;
  return p;
}

function check(p: Uint8Array, i: number): boolean {
  for (let k = 0; k < p.length; k++) if (p[k] !== ((i * 31 + k * 7) & 0xff)) return false;
  return true;
}

describe('Ring', () => {
  it('validates capacity and buffers', () => {
    expect(() => Ring.allocate(1000)).toThrow(/power of two/);
    expect(() => Ring.allocate(32)).toThrow(RangeError);
    expect(() => new Ring(new SharedArrayBuffer(1024))).toThrow(/magic/);
    const r = new Ring(Ring.allocate(1024));
    expect(r.capacity).toBe(1024);
    expect(r.maxRecordBytes).toBe(512 - RECORD_HEADER_BYTES);
    expect(r.isEmpty()).toBe(true);
  });

  it('streams thousands of varied records through wrap-arounds, in order and intact', () => {
    const seed = testSeed();
    const rnd = mulberry32(seed);
    const ring = new Ring(Ring.allocate(4096));
    const consumer = new Ring(ring.sab); // the other side's view of the same memory
    const sizes: number[] = [];
    let written = 0;
    let read = 0;
    let refused = 0;
    const total = 20_000;
    while (read < total) {
      const burst = 1 + ((rnd() * 20) | 0);
      for (let b = 0; b < burst && written < total; b++) {
        const len = rnd() < 0.05 ? ring.maxRecordBytes : (rnd() * 300) | 0;
        if (ring.tryWrite(payloadOf(written, len), 1, written % 3)) {
          sizes[written] = len;
          written++;
        } else {
          refused++;
          break;
        }
      }
      consumer.read((p, version, kind) => {
        expect(version, `seed ${seed}`).toBe(1);
        expect(kind, `seed ${seed}`).toBe(read % 3);
        expect(p.length, `seed ${seed} record ${read}`).toBe(sizes[read]);
        expect(check(p, read), `seed ${seed} record ${read}`).toBe(true);
        read++;
      }, 1 + ((rnd() * 30) | 0));
    }
    expect(consumer.isEmpty()).toBe(true);
    const s = consumer.stats();
    expect(s.recordsWritten).toBe(total);
    expect(s.recordsRead).toBe(total);
    expect(s.corruptRecords + s.resyncs).toBe(0);
    expect(s.writesRefused).toBe(refused);
    expect(refused, 'the test should hit a full ring').toBeGreaterThan(0);
  });

  it('refuses when full without blocking, then accepts after reads', () => {
    const ring = new Ring(Ring.allocate(1024));
    const p = payloadOf(0, 96); // 112-byte records (16-byte header)
    let n = 0;
    while (ring.tryWrite(p, 1)) n++;
    expect(n).toBe(9); // 9 * 112 = 1008 <= 1024
    expect(ring.reserve(96)).toBeUndefined();
    expect(ring.stats().writesRefused).toBe(2);
    expect(ring.read(() => {}, 1)).toBe(1);
    expect(ring.tryWrite(p, 1)).toBe(true); // wraps: 16 bytes at the end are too short
    let got = 0;
    ring.read((q) => {
      expect(q.length).toBe(96);
      got++;
    });
    expect(got).toBe(9);
    expect(ring.isEmpty()).toBe(true);
  });

  it('reserve/commit encodes in place and commits a shorter length', () => {
    const ring = new Ring(Ring.allocate(1024));
    const view = ring.reserve(200)!;
    expect(view.buffer).toBe(ring.sab);
    view.set([1, 2, 3, 4, 5]);
    expect(ring.isEmpty()).toBe(true); // nothing published before commit
    ring.commit(5, 2, 7);
    const seen: number[][] = [];
    ring.read((p, v, k) => seen.push([...p, v, k]));
    expect(seen).toEqual([[1, 2, 3, 4, 5, 2, 7]]);
    expect(() => ring.commit(1, 1)).toThrow(/without a successful reserve/);
    ring.reserve(10);
    expect(() => ring.commit(11, 1)).toThrow(RangeError);
  });

  it('accepts maxRecordBytes at every offset of an empty ring and rejects more', () => {
    const ring = new Ring(Ring.allocate(256));
    const big = payloadOf(5, ring.maxRecordBytes);
    for (let shift = 0; shift < 40; shift++) {
      expect(ring.tryWrite(payloadOf(0, (shift * 5) % 50), 1)).toBe(true);
      ring.read(() => {});
      expect(ring.tryWrite(big, 1), `shift ${shift}`).toBe(true);
      let ok = false;
      ring.read((p) => (ok = check(p, 5) && p.length === big.length));
      expect(ok).toBe(true);
    }
    expect(() => ring.reserve(ring.maxRecordBytes + 1)).toThrow(RangeError);
  });

  it('drops and counts a record whose payload byte was flipped, and continues', () => {
    const ring = new Ring(Ring.allocate(1024));
    ring.tryWrite(payloadOf(0, 50), 1);
    ring.tryWrite(payloadOf(1, 50), 1);
    ring.tryWrite(payloadOf(2, 50), 1);
    // Flip one payload byte of record 1 (records are 72 bytes apart: 16 + 50 -> 72).
    expect(RECORD_HEADER_BYTES).toBe(16);
    const bytes = new Uint8Array(ring.sab, RING_CONTROL_BYTES);
    bytes[72 + RECORD_HEADER_BYTES + 10] ^= 0x40;
    const got: number[] = [];
    ring.read((p) => got.push(p[0]));
    expect(got).toEqual([payloadOf(0, 1)[0], payloadOf(2, 1)[0]]);
    expect(ring.corruptRecords).toBe(1);
    expect(ring.resyncs).toBe(0);
    expect(ring.tryWrite(payloadOf(3, 50), 1)).toBe(true);
    expect(ring.read(() => {})).toBe(1);
  });

  it('rejects flipped header bytes (version, kind, crc, length) and keeps working', () => {
    const seed = testSeed();
    const rnd = mulberry32(seed);
    for (let trial = 0; trial < 200; trial++) {
      const ring = new Ring(Ring.allocate(1024));
      for (let i = 0; i < 4; i++) ring.tryWrite(payloadOf(i, 40), 1); // 56-byte records
      const victim = (rnd() * 4) | 0;
      const at = victim * 56 + ((rnd() * RECORD_HEADER_BYTES) | 0);
      new Uint8Array(ring.sab, RING_CONTROL_BYTES)[at] ^= 1 << ((rnd() * 8) | 0);
      const got: number[] = [];
      ring.read((p) => {
        for (let i = 0; i < 4; i++) if (check(p, i) && p.length === 40) got.push(i);
      });
      const msg = `seed ${seed} trial ${trial} byte ${at}`;
      expect(got, msg).not.toContain(victim);
      expect(ring.corruptRecords + ring.resyncs, msg).toBeGreaterThan(0);
      expect(ring.isEmpty(), msg).toBe(true);
      // Records before the victim were delivered.
      for (let i = 0; i < victim; i++) expect(got, msg).toContain(i);
      expect(ring.tryWrite(payloadOf(9, 40), 1), msg).toBe(true);
      expect(ring.read((p) => expect(check(p, 9), msg).toBe(true)), msg).toBe(1);
    }
  });

  it('fault hook corrupts payloads after the CRC and the consumer catches every one', () => {
    const seed = testSeed();
    const ring = new Ring(Ring.allocate(8192));
    ring.corruptNextWrites(0.1, mulberry32(seed));
    const rnd = mulberry32(seed + 1);
    let delivered = 0;
    let written = 0;
    for (let round = 0; round < 2000; round++) {
      const len = 1 + ((rnd() * 200) | 0);
      if (ring.tryWrite(payloadOf(written, len), 1)) written++;
      ring.read((p) => {
        expect(p[0] === undefined || p.length > 0, `seed ${seed}`).toBe(true);
        delivered++;
      });
    }
    const s = ring.stats();
    expect(s.faultsInjected, `seed ${seed}`).toBeGreaterThan(100);
    expect(s.corruptRecords, `seed ${seed}`).toBe(s.faultsInjected);
    expect(delivered + s.corruptRecords, `seed ${seed}`).toBe(written);
    ring.corruptNextWrites(0, Math.random);
    expect(ring.tryWrite(payloadOf(1, 10), 1)).toBe(true);
    expect(ring.read(() => {})).toBe(1);
  });

  it('a visitor that throws still consumes its record', () => {
    const ring = new Ring(Ring.allocate(1024));
    ring.tryWrite(payloadOf(0, 8), 1);
    ring.tryWrite(payloadOf(1, 8), 1);
    expect(() => ring.read(() => { throw new Error('boom'); })).toThrow('boom');
    expect(ring.read(() => {})).toBe(1);
  });
});
