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

/** What a bucket holding `tokens` holds `elapsedMs` later: refilled at `ratePerSec`, up to
 *  `burstSeconds` of it (one that holds more already keeps it). The one refill rule, for
 *  TokenBucket and for GAC's buckets in shared memory (model/admission-board.ts). */
export function refilledTokens(tokens: number, ratePerSec: number, burstSeconds: number, elapsedMs: number): number {
  const max = ratePerSec * burstSeconds;
  if (elapsedMs <= 0 || tokens >= max) return tokens;
  const refilled = tokens + (ratePerSec * elapsedMs) / 1000;
  return refilled < max ? refilled : max;
}

/** What a bucket holds after its rate changes (UpdateTable): what accumulated stays, up to
 *  the new cap, and an increase is usable at once: one second of the added rate, as the new
 *  capacity serves the second it takes effect in. */
export function tokensAtNewRate(tokens: number, oldRatePerSec: number, newRatePerSec: number, burstSeconds: number): number {
  const raised = newRatePerSec > oldRatePerSec ? tokens + newRatePerSec - oldRatePerSec : tokens;
  const max = newRatePerSec * burstSeconds;
  return raised > max ? max : raised;
}

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
    this.tokens = refilledTokens(this.tokens, this.ratePerSec, this.burstSeconds, elapsedMs);
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

  /** A new rate (UpdateTable): see tokensAtNewRate. */
  setRate(ratePerSec: number, burstSeconds: number, nowMs: number): void {
    this.refill(nowMs);
    this.tokens = tokensAtNewRate(this.tokens, this.ratePerSec, ratePerSec, burstSeconds);
    this.ratePerSec = ratePerSec;
    this.burstSeconds = burstSeconds;
  }
}
