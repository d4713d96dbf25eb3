import { describe, expect, it } from 'vitest';
import { crc32c, crc32cWords } from '../../src/checksum/crc32c.js';
import { crc32cReference as reference, mulberry32, testSeed } from '../transport/prng.js';

const ascii = (s: string) => new TextEncoder().encode(s);


describe('crc32c', () => {
  it('matches the standard check value and RFC 3720 vectors', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(ascii('a'))).toBe(0xc1d04330);
  });

  it('honours start/end and chains through seed', () => {
    const b = ascii('xx123456789yy');
    expect(crc32c(b, 2, 11)).toBe(0xe3069283);
    const mid = crc32c(b, 2, 6);
    expect(crc32c(b, 6, 11, mid)).toBe(0xe3069283);
    expect(() => crc32c(b, 5, 100)).toThrow(RangeError);
  });

  it('matches the bitwise reference at any alignment and length (word and byte paths)', () => {
    const seed = testSeed();
    const rnd = mulberry32(seed);
    const big = Buffer.allocUnsafe(5000); // pooled: arbitrary byteOffset
    for (let i = 0; i < big.length; i++) big[i] = (rnd() * 256) | 0;
    for (let k = 0; k < 300; k++) {
      const start = (rnd() * 1000) | 0;
      const end = start + ((rnd() * (k < 50 ? 140 : 3000)) | 0);
      const s = k % 3 === 0 ? 0 : (rnd() * 2 ** 32) >>> 0;
      expect(crc32c(big, start, end, s), `seed ${seed} [${start},${end})`).toBe(reference(big, start, end, s));
    }
  });

  it('word path equals byte path on random data', () => {
    const seed = testSeed();
    const rnd = mulberry32(seed);
    const buf = new ArrayBuffer(4096);
    const bytes = new Uint8Array(buf);
    const words = new Uint32Array(buf);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (rnd() * 256) | 0;
    for (let k = 0; k < 500; k++) {
      const start = ((rnd() * 1000) | 0) & ~3;
      const end = start + ((rnd() * 2000) | 0);
      const s = (rnd() * 2 ** 32) >>> 0;
      expect(crc32cWords(words, bytes, start, end, s), `seed ${seed} [${start},${end})`).toBe(crc32c(bytes, start, end, s));
    }
  });
});
