/**
 * Timing and limits of a storage node, in one place. Ticks are the ReplicaCore's logical
 * time; the node shell turns wall-clock milliseconds into ticks.
 */
export interface NodeTiming {
  /** Milliseconds per logical tick. */
  tickMs: number;
  /** Silent-leader ticks before a follower suspects it (randomized up to 2×). */
  electionTicks: number;
  heartbeatTicks: number;
  /** Leader lease; < electionTicks with room for clock drift between threads. */
  leaseTicks: number;
}

export const DEFAULT_TIMING: NodeTiming = {
  tickMs: 10,
  electionTicks: 30,
  heartbeatTicks: 5,
  leaseTicks: 20,
};

/** Most bytes of entries in one append message. */
export const MAX_APPEND_BYTES = 256 * 1024;
/** Most append messages in flight to one follower. */
export const MAX_INFLIGHT_APPENDS = 64;
/** Replies kept for a router whose ring is full before the oldest are dropped (the router
 *  times out and retries). */
export const MAX_QUEUED_REPLIES = 100_000;
/** Longest sleep of an idle node (it also wakes at least once per heartbeat period). */
export const MAX_IDLE_SLEEP_MS = 50;
/** A busy node yields to its event loop at least this often. */
export const YIELD_EVERY_MS = 20;
/** Most replies in one ring record. */
export const MAX_REPLIES_PER_RECORD = 256;
/** The B-tree (applied with noSync) is made durable this often when something was
 *  applied, so the WAL below the checkpoint may be dropped (ms). */
export const CHECKPOINT_INTERVAL_MS = 2000;
/** ...or after this many applied entries, whichever comes first. */
export const CHECKPOINT_ENTRIES = 100_000;
