/**
 * Leader-lease math. Pure; times are logical ticks of the LEADER's own clock.
 *
 * A follower that accepts an append sent at leader tick `s` promises (by the voting rule in
 * replica-core.ts) not to help elect anyone else for `electionTicks` of its own ticks after
 * it received it, which is after `s`. If a quorum has vouched for ticks >= `s`, any quorum
 * that could elect a new leader contains one of them, so no new leader exists before
 * `s + electionTicks`. The lease ends earlier, at `s + leaseTicks` (leaseTicks <
 * electionTicks), and the gap absorbs clock-rate differences between threads.
 */
import { quorumthHighest } from './quorum.js';

/**
 * First tick at which the lease is no longer valid: the quorum-th highest of the leader's
 * own current tick and each follower's highest acknowledged `sentTick` (-Infinity when a
 * follower has acknowledged nothing this term), plus `leaseTicks`.
 */
export function leaseExpiryTick(
  nowTick: number,
  ackedSentTicks: readonly number[],
  quorum: number,
  leaseTicks: number,
): number {
  return quorumthHighest([nowTick, ...ackedSentTicks], quorum) + leaseTicks;
}

/** Ticks of lease left at `nowTick` (0 when expired). */
export function leaseTicksLeft(nowTick: number, expiryTick: number): number {
  return expiryTick > nowTick ? expiryTick - nowTick : 0;
}
