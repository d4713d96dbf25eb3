/**
 * The few WebAssembly JS-API members the transport uses, typed locally: this project's
 * tsconfig has no DOM lib and @types/node 20 does not declare `WebAssembly`.
 */

/** A WebAssembly.Memory; shared when created with `shared: true` (its buffer is a SAB). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}

export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  Memory: {
    new (descriptor: { initial: number; maximum?: number; shared?: boolean }): WasmMemory;
    prototype: WasmMemory;
  };
}

/** The runtime's WebAssembly object (undefined where there is none). */
export const wasmApi: WasmApi | undefined = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** Bytes per WebAssembly page. */
export const WASM_PAGE_BYTES = 65536;
