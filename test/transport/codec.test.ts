import { describe, expect, it } from 'vitest';
import { FORMAT_VERSION, MessageCodec, isReadableVersion, readMessages, writeMessage } from '../../src/transport/codec.js';
import { Ring } from '../../src/transport/ring.js';
import { mulberry32, testSeed } from './prng.js';

function item(rnd: () => number, fields = 10, fieldBytes = 90): Record<string, { S: string }> {
  const out: Record<string, { S: string }> = {};
  for (let f = 0; f < fields; f++) {
    let s = '';
    for (let k = 0; k < fieldBytes; k++) s += String.fromCharCode(33 + ((rnd() * 94) | 0));
    out[`field${f}`] = { S: s };
  }
  return out;
}

describe.each([false, true])('MessageCodec useRecords=%s', (useRecords) => {
  it('round-trips plain messages through a ring, in place', () => {
    const seed = testSeed();
    const rnd = mulberry32(seed);
    const codec = new MessageCodec({ useRecords });
    const ring = new Ring(Ring.allocate(64 * 1024));
    const sent: unknown[] = [];
    const got: unknown[] = [];
    for (let i = 0; i < 500; i++) {
      const msg = {
        type: 'append',
        term: i,
        ratio: rnd(),
        neg: -(i + 1) * 1000003,
        big: 2 ** 40 + i,
        ok: i % 2 === 0,
        none: null,
        list: [1, 'two', { three: 3 }],
        key: Uint8Array.from([i & 0xff, 1, 2, 3]),
        item: item(rnd),
        unicode: 'héllo ✓ 你好 😀',
      };
      if (!codec.write(ring, msg)) {
        codec.read(ring, (m) => got.push(m));
        expect(codec.write(ring, msg), `seed ${seed}`).toBe(true);
      }
      sent.push(msg);
    }
    codec.read(ring, (m, version, kind) => {
      expect(version).toBe(FORMAT_VERSION);
      expect(kind).toBe(0);
      got.push(m);
    });
    expect(got.length).toBe(sent.length);
    for (let i = 0; i < sent.length; i++) {
      const g = got[i] as Record<string, unknown>;
      expect(g.key, `seed ${seed}`).toBeInstanceOf(Uint8Array);
      expect(g, `seed ${seed} msg ${i}`).toEqual({ ...(sent[i] as object), key: Buffer.from((sent[i] as { key: Uint8Array }).key) });
    }
    expect(codec.copiedWrites).toBeLessThan(sent.length / 4); // mostly in place
  });

  it('decoded Uint8Array fields do not alias shared memory or the scratch', () => {
    const codec = new MessageCodec({ useRecords });
    const ring = new Ring(Ring.allocate(16 * 1024));
    codec.write(ring, { a: Uint8Array.from([1, 2, 3]), nested: { b: new Uint8Array(100).fill(7) } });
    let kept: { a: Uint8Array; nested: { b: Uint8Array } } | undefined;
    codec.read(ring, (m) => (kept = m as typeof kept));
    expect(kept!.a.buffer).not.toBe(ring.sab);
    expect(kept!.nested.b.buffer).not.toBe(ring.sab);
    expect(kept!.a.buffer).not.toBe(kept!.nested.b.buffer);
    // Overwrite the ring and decode more: what we kept must not change.
    new Uint8Array(ring.sab).fill(0xee);
    const ring2 = new Ring(Ring.allocate(16 * 1024));
    codec.write(ring2, { a: Uint8Array.from([9, 9, 9]), nested: { b: new Uint8Array(100).fill(9) } });
    codec.read(ring2, () => {});
    expect([...kept!.a]).toEqual([1, 2, 3]);
    expect(kept!.nested.b.every((x) => x === 7)).toBe(true);
  });

  it('falls back to copying when the message outgrows the in-place reservation', () => {
    const codec = new MessageCodec({ useRecords });
    const ring = new Ring(Ring.allocate(64 * 1024));
    const big = { blob: new Uint8Array(20_000).fill(3), s: 'x'.repeat(5000) };
    expect(codec.write(ring, big)).toBe(true);
    expect(codec.copiedWrites).toBe(1);
    let got: typeof big | undefined;
    codec.read(ring, (m) => (got = m as typeof big));
    expect(got!.blob.length).toBe(20_000);
    expect(got!.s.length).toBe(5000);
    expect(() => codec.write(ring, { blob: new Uint8Array(40_000) })).toThrow(RangeError);
  });

  it('works on rings too small for in-place packing and reports full', () => {
    const codec = new MessageCodec({ useRecords });
    const ring = new Ring(Ring.allocate(1024));
    let n = 0;
    while (codec.write(ring, { i: n, s: 'abcdefghij' })) n++;
    expect(n).toBeGreaterThan(10);
    const got: number[] = [];
    codec.read(ring, (m) => got.push((m as { i: number }).i));
    expect(got).toEqual([...Array(n).keys()]);
  });
});

describe('format versions', () => {
  it('reads the current and next version, drops others', () => {
    expect(isReadableVersion(FORMAT_VERSION)).toBe(true);
    expect(isReadableVersion(FORMAT_VERSION + 1)).toBe(true);
    expect(isReadableVersion(FORMAT_VERSION + 2)).toBe(false);
    expect(isReadableVersion(FORMAT_VERSION - 1)).toBe(false);
    const codec = new MessageCodec();
    const ring = new Ring(Ring.allocate(4096));
    const bytes = codec.encode({ v: 'next' });
    ring.tryWrite(bytes, FORMAT_VERSION + 1);
    ring.tryWrite(bytes, FORMAT_VERSION + 2);
    ring.tryWrite(Uint8Array.from([0x82, 0xa1]), FORMAT_VERSION); // truncated map: passes the CRC, fails to decode
    const got: unknown[] = [];
    expect(codec.read(ring, (m, v) => got.push([m, v]))).toBe(3);
    expect(got).toEqual([[{ v: 'next' }, FORMAT_VERSION + 1]]);
    expect(codec.versionRejected).toBe(1);
    expect(codec.decodeErrors).toBe(1);
  });

  it('writeMessage/readMessages use a default codec', () => {
    const ring = new Ring(Ring.allocate(16 * 1024));
    expect(writeMessage(ring, { hello: 'world', n: 1 })).toBe(true);
    const got: unknown[] = [];
    expect(readMessages(ring, (m) => got.push(m))).toBe(1);
    expect(got).toEqual([{ hello: 'world', n: 1 }]);
  });

  it('does not let a later msgpackr pack write into ring memory', async () => {
    const { pack } = await import('msgpackr');
    const ring = new Ring(Ring.allocate(16 * 1024));
    writeMessage(ring, { a: 1 });
    const other = pack({ other: 'x'.repeat(100) });
    expect(other.buffer).not.toBe(ring.sab);
  });
});
