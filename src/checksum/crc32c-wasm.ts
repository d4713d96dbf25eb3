/**
 * CRC32C in WebAssembly: the same slice-by-16 tables as crc32c.ts, run by a small wasm
 * function that this module assembles at load time from the instruction list below (no
 * toolchain, no checked-in binary). Measured here (Node 20, 2-core EPYC): ~250-270 ns per
 * KB against ~440-470 ns for the JS word loop, because wasm has no typed-array bounds
 * checks (V8 uses guard pages), folds each table's base into the load's static offset, and
 * the XOR tree below is balanced so that only 4 lookups + 3 XORs depend on the previous
 * block's CRC (a left-to-right chain of 15 XORs cost ~1.6x; JS gains little from the same
 * reordering because it is bound by instruction count there).
 *
 * A wasm function can only read its own linear memory, so there are two ways to use it:
 *  - zero-copy: the bytes live in a shared WebAssembly.Memory (ring.ts allocates rings
 *    that way) that also holds a copy of the tables at `tableBase`; instantiate a kernel
 *    over that memory with kernelForMemory();
 *  - copy-in: crc32cCopyIn() copies the bytes into a private scratch memory first (~40-100
 *    ns per KB), still faster than the JS loop for inputs of a few hundred bytes and up.
 *
 * Export: crc(seed, ptr, len) -> CRC32C of memory[ptr, ptr + len) chained from `seed`
 * (same convention as crc32c(): pass 0 to start, the previous result to continue), as a
 * signed i32: callers apply `>>> 0`.
 */

import { CRC32C_TABLES } from './crc32c-tables.js';
import { wasmApi, WASM_PAGE_BYTES, type WasmMemory, type WasmModule } from './wasm-api.js';

/** Distance between consecutive tables in wasm memory (see writeCrc32cTables). */
export let TABLE_STRIDE = 1024;
export function setStride(s: number): void { TABLE_STRIDE = s; }
/** Bytes of the 16 x 256 u32 lookup tables a kernel reads at its tableBase. */
export const CRC32C_TABLE_BYTES = 16 * 256 * 4 + 15 * 128;

/** CRC of memory[ptr, ptr + len) from `seed`; returns a signed i32 (apply `>>> 0`). */
export type Crc32cKernel = (seed: number, ptr: number, len: number) => number;

// ------------------------------------------------------------------ assembler

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};

const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};

const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

// Opcodes (WebAssembly core spec, binary format).
const I32 = 0x7f;
const OP = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  void: 0x40,
  localGet: 0x20,
  localSet: 0x21,
  i32Load: 0x28,
  i32Load8U: 0x2d,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32And: 0x71,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrU: 0x76,
} as const;

const get = (i: number): number[] => [OP.localGet, ...uleb(i)];
const set = (i: number): number[] => [OP.localSet, ...uleb(i)];
const i32 = (n: number): number[] => [OP.i32Const, ...sleb(n | 0)];
/** i32.load with alignment hint 4 and a static offset. */
const load = (offset: number): number[] => [OP.i32Load, 2, ...uleb(offset)];
const load8 = (offset: number): number[] => [OP.i32Load8U, 0, ...uleb(offset)];

/**
 * The module: imports memory `env.mem` (shared or not, to match what it will be given)
 * and exports `crc`. Tables are read at the static `tableBase` (multiple of 4).
 */
export function assembleCrc32cModule(tableBase: number, shared: boolean, stride = TABLE_STRIDE): Uint8Array {
  if (!Number.isInteger(tableBase) || tableBase < 0 || (tableBase & 3) !== 0) {
    throw new RangeError(`tableBase must be a non-negative multiple of 4, got ${tableBase}`);
  }
  // Params: 0 seed, 1 p, 2 len. Locals: 3 c, 4 end, 5 end16, 6..9 the block's 4 words.
  const SEED = 0, P = 1, LEN = 2, C = 3, END = 4, END16 = 5, W = 6;
  const table = (k: number): number => tableBase + k * stride;
  /** T_k[byte `by` of local w]: shift the byte into place pre-scaled by 4, mask, load. */
  const lookup = (w: number, by: number, k: number): number[] => [
    ...get(w),
    ...(by === 0 ? [...i32(2), OP.i32Shl] : [...i32(8 * by - 2), OP.i32ShrU]),
    ...i32(0x3fc),
    OP.i32And,
    ...load(table(k)),
  ];
  /** (T_k0[b0] ^ T_k0-1[b1]) ^ (T_k0-2[b2] ^ T_k0-3[b3]) for word j of the block. */
  const wordTerm = (j: number): number[] => {
    const k0 = 15 - 4 * j;
    return [
      ...lookup(W + j, 0, k0), ...lookup(W + j, 1, k0 - 1), OP.i32Xor,
      ...lookup(W + j, 2, k0 - 2), ...lookup(W + j, 3, k0 - 3), OP.i32Xor,
      OP.i32Xor,
    ];
  };
  const code: number[] = [
    // c = ~seed; end = p + len; end16 = p + (len & ~15)
    ...get(SEED), ...i32(-1), OP.i32Xor, ...set(C),
    ...get(P), ...get(LEN), OP.i32Add, ...set(END),
    ...get(P), ...get(LEN), ...i32(-16), OP.i32And, OP.i32Add, ...set(END16),
    // 16 bytes per iteration
    OP.block, OP.void, OP.loop, OP.void,
    ...get(P), ...get(END16), OP.i32GeU, OP.brIf, 1,
    ...get(P), ...load(0), ...get(C), OP.i32Xor, ...set(W),
    ...get(P), ...load(4), ...set(W + 1),
    ...get(P), ...load(8), ...set(W + 2),
    ...get(P), ...load(12), ...set(W + 3),
    // Words 1..3 do not depend on c: XOR them first; word 0's term joins last.
    ...wordTerm(1), ...wordTerm(2), OP.i32Xor, ...wordTerm(3), OP.i32Xor,
    ...wordTerm(0), OP.i32Xor, ...set(C),
    ...get(P), ...i32(16), OP.i32Add, ...set(P),
    OP.br, 0, OP.end, OP.end,
    // the remaining 0..15 bytes, one at a time: c = T0[(c ^ b) & 0xff] ^ (c >>> 8)
    OP.block, OP.void, OP.loop, OP.void,
    ...get(P), ...get(END), OP.i32GeU, OP.brIf, 1,
    ...get(C), ...get(P), ...load8(0), OP.i32Xor, ...i32(0xff), OP.i32And, ...i32(2), OP.i32Shl, ...load(table(0)),
    ...get(C), ...i32(8), OP.i32ShrU, OP.i32Xor, ...set(C),
    ...get(P), ...i32(1), OP.i32Add, ...set(P),
    OP.br, 0, OP.end, OP.end,
    ...get(C), ...i32(-1), OP.i32Xor,
    OP.end,
  ];
  const body = [...vector([[...uleb(7), I32]]), ...code];
  const memoryLimits = shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([[0x60, ...vector([[I32], [I32], [I32]]), ...vector([[I32]])]])),
    ...section(2, vector([[...name('env'), ...name('mem'), 0x02, ...memoryLimits]])),
    ...section(3, vector([uleb(0)])),
    ...section(7, vector([[...name('crc'), 0x00, ...uleb(0)]])),
    ...section(10, vector([[...uleb(body.length), ...body]])),
  ]);
}

// ------------------------------------------------------------------ instances

/**
 * True when this runtime has WebAssembly (Node always does) and is little-endian (wasm
 * memory is; the tables are written through a host-order Int32Array).
 */
export const WASM_AVAILABLE: boolean =
  wasmApi !== undefined &&
  typeof wasmApi.Module === 'function' &&
  new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const modules = new Map<string, WasmModule>();

function moduleFor(tableBase: number, shared: boolean): WasmModule {
  const key = `${tableBase}/${shared}/${TABLE_STRIDE}`;
  let m = modules.get(key);
  if (m === undefined) {
    m = new wasmApi!.Module(assembleCrc32cModule(tableBase, shared));
    modules.set(key, m);
  }
  return m;
}

/** Writes the lookup tables into `buffer` at byte offset `tableBase` (4-aligned). */
export function writeCrc32cTables(buffer: ArrayBufferLike, tableBase: number): void {
  for (let k = 0; k < 16; k++) new Int32Array(buffer, tableBase + k * TABLE_STRIDE, 256).set(CRC32C_TABLES.subarray(k * 256, k * 256 + 256));
}

/** True when `buffer` holds exactly the lookup tables at `tableBase`. */
export function hasCrc32cTables(buffer: ArrayBufferLike, tableBase: number): boolean {
  if (tableBase < 0 || (tableBase & 3) !== 0 || tableBase + CRC32C_TABLE_BYTES > buffer.byteLength) return false;
  const t = new Int32Array(buffer, tableBase, CRC32C_TABLES.length);
  for (let i = 0; i < t.length; i++) if (t[i] !== CRC32C_TABLES[i]) return false;
  return true;
}

/**
 * A zero-copy kernel over `memory`, which must already hold the tables at `tableBase`
 * (writeCrc32cTables). Undefined when WebAssembly is unavailable.
 */
export function kernelForMemory(memory: WasmMemory, tableBase: number): Crc32cKernel | undefined {
  if (!WASM_AVAILABLE) return undefined;
  const shared = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
  const instance = new wasmApi!.Instance(moduleFor(tableBase, shared), { env: { mem: memory } });
  return instance.exports.crc as Crc32cKernel;
}

// Copy-in: one private (unshared) memory per thread: tables at 0, scratch after them.
const PAGE = WASM_PAGE_BYTES;
const SCRATCH_BASE = CRC32C_TABLE_BYTES;
let scratchMemory: WasmMemory | undefined;
let scratchBytes: Uint8Array = new Uint8Array(0);
let scratchKernel: Crc32cKernel | undefined;

function scratchFor(length: number): Crc32cKernel {
  if (scratchKernel === undefined || SCRATCH_BASE + length > scratchBytes.length) {
    const pages = Math.ceil((SCRATCH_BASE + Math.max(length, 64 * 1024)) / PAGE);
    if (scratchMemory === undefined) {
      scratchMemory = new wasmApi!.Memory({ initial: pages });
      writeCrc32cTables(scratchMemory.buffer, 0);
      scratchKernel = kernelForMemory(scratchMemory, 0)!;
    } else {
      scratchMemory.grow(pages - scratchMemory.buffer.byteLength / PAGE);
    }
    scratchBytes = new Uint8Array(scratchMemory.buffer);
  }
  return scratchKernel!;
}

/**
 * CRC32C of bytes[start, end) by copying them into a private wasm memory (any buffer,
 * shared or not, any alignment). No range checks: callers validate.
 */
export function crc32cCopyIn(bytes: Uint8Array, start: number, end: number, seed: number): number {
  const length = end - start;
  const kernel = scratchFor(length);
  scratchBytes.set(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), SCRATCH_BASE);
  return kernel(seed, SCRATCH_BASE, length) >>> 0;
}
