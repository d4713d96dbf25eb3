/**
 * A token bucket with DynamoDB's semantics, pure: time comes in as `nowMs` arguments.
 *
 * It refills at `ratePerSec` units per second; what is not spent accumulates, up to
 * `burstSeconds` of the rate (DynamoDB keeps 300 s of unused capacity as burst credit).
 * A request is admitted on an estimate of its cost while the bucket holds at least
 * min(estimate, 1) unit, and its full cost is taken even when that leaves the bucket
 * below zero: the real cost of an operation is known only after it ran (a write's old
 * item, a Query's bytes), and the difference is `charge`d then. A bucket in debt admits
 * nothing until the refill has paid the debt back.
 */

/** DynamoDB keeps up to 300 seconds of unused provisioned capacity as burst credit. */
export const BURST_SECONDS = 300;

export class TokenBucket {
  /** Units available now (after the last refill); negative while in debt. */
  tokens: number;
  private refilledAtMs: number;

  /** A new bucket starts full: DynamoDB's new tables begin with their burst credit. */
  constructor(public ratePerSec: number, public burstSeconds: number, nowMs: number, full = true) {
    this.tokens = full ? this.maxTokens : 0;
    this.refilledAtMs = nowMs;
  }

  /** The most the bucket holds: burstSeconds of the rate. */
  get maxTokens(): number {
    return this.ratePerSec * this.burstSeconds;
  }

  refill(nowMs: number): void {
    const elapsedMs = nowMs - this.refilledAtMs;
    if (elapsedMs <= 0) return;
    this.refilledAtMs = nowMs;
    const max = this.maxTokens;
    if (this.tokens >= max) return;
    const tokens = this.tokens + (this.ratePerSec * elapsedMs) / 1000;
    this.tokens = tokens < max ? tokens : max;
  }

  /** Whether a request estimated at `units` may go now (no tokens are taken). */
  canAdmit(units: number, nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= (units < 1 ? units : 1);
  }

  /** Takes `units` if the bucket admits a request of that estimate; false when throttled. */
  tryTake(units: number, nowMs: number): boolean {
    if (!this.canAdmit(units, nowMs)) return false;
    this.tokens -= units;
    return true;
  }

  /** Takes `units` (the difference between an operation's real cost and its estimate;
   *  negative gives back), possibly into debt. */
  charge(units: number): void {
    this.tokens -= units;
    const max = this.maxTokens;
    if (this.tokens > max) this.tokens = max;
  }

  /** A new rate (UpdateTable): what accumulated at the old rate stays, up to the new cap.
   *  An increase is usable at once: the bucket gets one second of the added rate, as the
   *  new capacity serves the second it takes effect in. */
  setRate(ratePerSec: number, burstSeconds: number, nowMs: number): void {
    this.refill(nowMs);
    if (ratePerSec > this.ratePerSec) this.tokens += ratePerSec - this.ratePerSec;
    this.ratePerSec = ratePerSec;
    this.burstSeconds = burstSeconds;
    const max = this.maxTokens;
    if (this.tokens > max) this.tokens = max;
  }
}
