import { describe, expect, it } from 'vitest';
import { crc32c, crc32cJs, WASM_COPY_MIN_BYTES } from '../../src/checksum/crc32c.js';
import {
  assembleCrc32cModule,
  CRC32C_TABLE_BYTES,
  crc32cCopyIn,
  hasCrc32cTables,
  kernelForMemory,
  writeCrc32cTables,
} from '../../src/checksum/crc32c-wasm.js';
import { Ring, RING_CONTROL_BYTES } from '../../src/transport/ring.js';
import type { WasmMemory } from '../../src/checksum/wasm-api.js';
import { crc32cReference as reference, mulberry32, testSeed } from '../transport/prng.js';


const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => WasmMemory } }).WebAssembly;

describe('crc32c wasm kernel', () => {
  it('assembles a valid module', () => {
    expect(assembleCrc32cModule(0, false)[0]).toBe(0);
    expect(() => assembleCrc32cModule(3, false)).toThrow(RangeError);
  });

  for (const shared of [false, true]) {
    it(`matches the bitwise reference at random alignments, lengths and seeds (${shared ? 'shared' : 'private'} memory)`, () => {
      const seed = testSeed();
      const rnd = mulberry32(seed);
      const memory = new WA.Memory(shared ? { initial: 2, maximum: 2, shared: true } : { initial: 2 });
      const tableBase = 4096 + 4 * ((rnd() * 100) | 0);
      writeCrc32cTables(memory.buffer, tableBase);
      expect(hasCrc32cTables(memory.buffer, tableBase)).toBe(true);
      const kernel = kernelForMemory(memory, tableBase)!;
      const bytes = new Uint8Array(memory.buffer);
      const dataBase = tableBase + CRC32C_TABLE_BYTES;
      for (let i = dataBase; i < bytes.length; i++) bytes[i] = (rnd() * 256) | 0;
      // Every length 0..80 at every alignment 0..15, then long random ranges.
      for (let len = 0; len <= 80; len++) {
        for (let a = 0; a < 16; a++) {
          const p = dataBase + a;
          const s = (rnd() * 2 ** 32) >>> 0;
          expect(kernel(s, p, len) >>> 0, `seed ${seed} len ${len} align ${a}`).toBe(reference(bytes, p, p + len, s));
        }
      }
      for (let k = 0; k < 400; k++) {
        const p = dataBase + ((rnd() * 20000) | 0);
        const len = (rnd() * (k < 200 ? 300 : 8000)) | 0;
        const s = k % 4 === 0 ? 0 : (rnd() * 2 ** 32) >>> 0;
        expect(kernel(s, p, len) >>> 0, `seed ${seed} [${p}, +${len}) seed ${s}`).toBe(reference(bytes, p, p + len, s));
      }
      // Chaining: crc(a..c) == crc(b..c, crc(a..b)).
      const p = dataBase + 5;
      const whole = kernel(0, p, 3000) >>> 0;
      expect(kernel(kernel(0, p, 1234), p + 1234, 3000 - 1234) >>> 0).toBe(whole);
    });
  }

  it('detects tables that are missing or corrupted', () => {
    const memory = new WA.Memory({ initial: 1 });
    expect(hasCrc32cTables(memory.buffer, 0)).toBe(false);
    writeCrc32cTables(memory.buffer, 0);
    expect(hasCrc32cTables(memory.buffer, 0)).toBe(true);
    new Uint8Array(memory.buffer)[777] ^= 1;
    expect(hasCrc32cTables(memory.buffer, 0)).toBe(false);
    expect(hasCrc32cTables(memory.buffer, 65536 - 100)).toBe(false);
  });

  it('copy-in path (crc32c on non-shared inputs >= WASM_COPY_MIN_BYTES) matches the reference', () => {
    const seed = testSeed();
    const rnd = mulberry32(seed);
    const big = Buffer.allocUnsafe(300_000); // pooled slice: arbitrary byteOffset
    for (let i = 0; i < big.length; i++) big[i] = (rnd() * 256) | 0;
    for (let k = 0; k < 200; k++) {
      const start = (rnd() * 1000) | 0;
      const len = k === 0 ? 200_000 : WASM_COPY_MIN_BYTES - 8 + ((rnd() * 5000) | 0); // first one grows the scratch
      const s = (rnd() * 2 ** 32) >>> 0;
      const want = reference(big, start, start + len, s);
      expect(crc32c(big, start, start + len, s), `seed ${seed} [${start}, +${len})`).toBe(want);
      expect(crc32cCopyIn(big, start, start + len, s), `seed ${seed} [${start}, +${len})`).toBe(want);
      expect(crc32cJs(big, start, start + len, s)).toBe(want);
    }
    // Shared inputs stay on the JS path and agree too.
    const sab = new Uint8Array(new SharedArrayBuffer(4096));
    sab.set(big.subarray(0, 4096));
    expect(crc32c(sab, 3, 4000, 7)).toBe(reference(sab, 3, 4000, 7));
  });
});

describe('Ring CRC paths', () => {
  it('allocate() and allocateMemory() rings use the in-place kernel; a bare SAB view uses JS; all interoperate', () => {
    const seed = testSeed();
    const rnd = mulberry32(seed);
    expect(new Ring(Ring.allocate(4096)).crcPath).toBe('wasm');
    const memory = Ring.allocateMemory(4096);
    const wasmSide = new Ring(memory);
    // memory.buffer was not returned by allocate(): this thread does not map it to the
    // Memory, like another thread that got only the SAB.
    const jsSide = new Ring(memory.buffer as SharedArrayBuffer);
    expect(wasmSide.crcPath).toBe('wasm');
    expect(jsSide.crcPath).toBe('js');
    // A plain SAB laid out by hand (control block only, no tables) works on the JS path.
    const plain = new SharedArrayBuffer(RING_CONTROL_BYTES + 4096);
    const ctl = new Int32Array(plain);
    ctl[1] = 4096;
    ctl[0] = 0x31524253;
    expect(new Ring(plain).crcPath).toBe('js');
    let written = 0;
    let read = 0;
    // Single producer, single consumer: swap roles once, with fresh Ring objects (each
    // keeps side-local cached positions).
    let swapped: Ring[] = [];
    for (let round = 0; round < 3000; round++) {
      if (round === 1500) swapped = [new Ring(memory.buffer as SharedArrayBuffer), new Ring(memory)];
      const [producer, consumer] = round < 1500 ? [wasmSide, jsSide] : [swapped[0], swapped[1]];
      const len = (rnd() * 700) | 0;
      const p = new Uint8Array(len);
      for (let i = 0; i < len; i++) p[i] = (written + i * 13) & 0xff;
      expect(producer.tryWrite(p, 1, written % 5)).toBe(true);
      written++;
      consumer.read((q, v, kind) => {
        expect(q.length).toBe(len);
        for (let i = 0; i < len; i++) if (q[i] !== ((read + i * 13) & 0xff)) throw new Error(`seed ${seed} record ${read} byte ${i}`);
        expect(kind).toBe(read % 5);
        read++;
      });
    }
    expect(read).toBe(written);
    expect(jsSide.stats().corruptRecords + jsSide.stats().resyncs).toBe(0);
    expect(swapped[1].crcPath).toBe('wasm');
  });

  it('in-place CRC catches flipped bytes in payload and header (incl. the reserved word)', () => {
    const seed = testSeed();
    const rnd = mulberry32(seed);
    for (let trial = 0; trial < 300; trial++) {
      const memory = Ring.allocateMemory(1024);
      const ring = new Ring(memory);
      ring.tryWrite(new Uint8Array(40).fill(trial & 0xff), 1);
      const at = trial % 3 === 0 ? 12 + ((rnd() * 4) | 0) : (rnd() * 56) | 0; // record is 56 bytes
      if (at >= 8 && at < 12) continue; // the CRC field itself: covered by the header test in ring.test.ts
      new Uint8Array(memory.buffer, RING_CONTROL_BYTES)[at] ^= 1 << ((rnd() * 8) | 0);
      let got = 0;
      ring.read(() => got++);
      expect(got, `seed ${seed} trial ${trial} byte ${at}`).toBe(0);
      expect(ring.corruptRecords + ring.resyncs).toBeGreaterThan(0);
    }
  });

  it('keeps writing after 2 GiB have gone through the ring (positions past 2^31)', () => {
    const ring = new Ring(Ring.allocate(1 << 20));
    const p = new Uint8Array(64 * 1024 - 16);
    let ok = 0;
    // 2^31 / 64 KiB = 32768 records; a few more to cross the int32 sign boundary.
    for (let i = 0; i < 33_000; i++) {
      if (!ring.tryWrite(p, 1)) throw new Error(`refused at record ${i}`);
      ok += ring.read(() => {});
    }
    expect(ok).toBe(33_000);
    expect(ring.stats().writesRefused).toBe(0);
  });
});
