/**
 * One doorbell per endpoint (thread): however many inbound rings a thread has, it sleeps
 * on one shared word, and producers ring it after writing a batch to any of them.
 *
 * Shared layout: Int32Array [seq, sleeping] (padded to 64 bytes, its own cache line).
 *
 * Protocol, consumer side (only one thread sleeps on a given bell):
 *
 *   for (;;) {
 *     drainAllRings();
 *     const seq = bell.prepare();        // sleeping = 1, then read seq
 *     if (anyRingHasData()) { bell.done(); continue; }   // re-check AFTER prepare
 *     bell.sleep(seq, timeoutMs);        // or: await bell.sleepAsync(seq, timeoutMs)
 *     bell.done();
 *   }
 *
 * Producer side, after publishing a batch (ring tail stores): `bell.ring()`.
 *
 * Why no wake-up is lost: all operations are Atomics (sequentially consistent). If the
 * consumer's re-check missed a record, its tail load came before the producer's tail
 * store, so sleeping=1 and the seq read precede the producer's Atomics.add and its read
 * of `sleeping`: the producer sees sleeping=1 and notifies, and the consumer's
 * Atomics.wait(seq) either finds seq changed ('not-equal') or is already queued and is
 * woken. Waiting on the seq value read before the re-check is what fixes the lost
 * wake-up DESIGN.md tells of (the sleeper there did not record what it waited on). The
 * timeout stays anyway: a bug elsewhere must cost a delay, never a hang.
 */

export const DOORBELL_BYTES = 64;
const SEQ = 0;
const SLEEPING = 1;

export type WakeReason = 'ok' | 'not-equal' | 'timed-out';

export interface DoorbellOptions {
  /**
   * Iterations of a bounded check of `seq` before sleeping (default 0: off). A spin
   * can cut a hop from ~30 µs to ~1 µs when a core is idle, but spinning threads wreck
   * p99 when cores are oversubscribed (this machine has 2). Bounded by construction.
   */
  spinIterations?: number;
}

// Node 20 has Atomics.waitAsync; the ES2023 lib does not declare it.
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as {
  waitAsync?: (ta: Int32Array, index: number, value: number, timeoutMs?: number) => WaitAsyncResult;
}).waitAsync;

export class Doorbell {
  readonly sab: SharedArrayBuffer;
  private readonly cells: Int32Array;
  private readonly spinIterations: number;

  /** Notifications actually sent by this instance (ring() found a sleeper). */
  notifies = 0;
  /** Sleeps by this instance, and how they ended. */
  sleeps = 0;
  wakeOk = 0;
  wakeNotEqual = 0;
  wakeTimedOut = 0;

  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(DOORBELL_BYTES);
  }

  constructor(sab: SharedArrayBuffer, options: DoorbellOptions = {}) {
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < 8) {
      throw new TypeError('Doorbell: sab must be a SharedArrayBuffer from Doorbell.allocate');
    }
    const spin = options.spinIterations ?? 0;
    if (!Number.isInteger(spin) || spin < 0 || spin > 1_000_000) {
      throw new RangeError(`options.spinIterations must be an integer in [0, 1000000], got ${spin}`);
    }
    this.sab = sab;
    this.cells = new Int32Array(sab, 0, 2);
    this.spinIterations = spin;
  }

  /** Producer: announce new data. Notifies only when the consumer is (about to be) asleep. */
  ring(): boolean {
    Atomics.add(this.cells, SEQ, 1);
    if (Atomics.load(this.cells, SLEEPING) === 0) return false;
    Atomics.notify(this.cells, SEQ);
    this.notifies++;
    return true;
  }

  /** Consumer: mark as sleeping and return the seq to sleep on. Re-check the rings after. */
  prepare(): number {
    Atomics.store(this.cells, SLEEPING, 1);
    return Atomics.load(this.cells, SEQ);
  }

  /**
   * Consumer in a worker thread: block until seq moves from `seq` or `timeoutMs` passes.
   * 'not-equal' means it had already moved (no sleep).
   */
  sleep(seq: number, timeoutMs: number): WakeReason {
    if (this.spin(seq)) return this.count('not-equal');
    this.sleeps++;
    return this.count(Atomics.wait(this.cells, SEQ, seq, timeoutMs));
  }

  /**
   * Consumer on the main thread (Atomics.wait would block its event loop): resolves when
   * seq moves from `seq` or `timeoutMs` passes. A pending Atomics.waitAsync does NOT keep
   * a Node 20 thread alive: the caller must hold a ref'd handle (a timer, a worker, a
   * server) for as long as it wants to be woken, or the process may exit under it.
   */
  sleepAsync(seq: number, timeoutMs: number): Promise<WakeReason> {
    if (this.spin(seq)) return Promise.resolve(this.count('not-equal'));
    if (waitAsync === undefined) throw new Error('Atomics.waitAsync is not available (Node >= 16 required)');
    this.sleeps++;
    const r = waitAsync(this.cells, SEQ, seq, timeoutMs);
    if (!r.async) return Promise.resolve(this.count(r.value));
    return r.value.then((v) => this.count(v));
  }

  /** Consumer: awake again; producers stop notifying. */
  done(): void {
    Atomics.store(this.cells, SLEEPING, 0);
  }

  /** Whether the consumer has said it is (about to be) asleep and not yet `done`. */
  get prepared(): boolean {
    return Atomics.load(this.cells, SLEEPING) !== 0;
  }

  /** Current seq (for diagnostics and tests). */
  get seq(): number {
    return Atomics.load(this.cells, SEQ);
  }

  private spin(seq: number): boolean {
    for (let i = 0; i < this.spinIterations; i++) {
      if (Atomics.load(this.cells, SEQ) !== seq) return true;
    }
    return false;
  }

  private count(r: WakeReason): WakeReason {
    if (r === 'ok') this.wakeOk++;
    else if (r === 'not-equal') this.wakeNotEqual++;
    else this.wakeTimedOut++;
    return r;
  }
}
