/**
 * Limits of the replication core, named in one place (STYLE: a limit on everything).
 */

/** Most entries proposed but not yet applied on a leader; `propose` answers
 *  `tooManyInflight` beyond it (back-pressure to the router instead of unbounded memory). */
export const MAX_INFLIGHT_PROPOSALS = 4096;

/** Recent durable entries the core keeps in memory so a leader feeds followers that are
 *  nearly caught up without reading its WAL. Count and bytes are both bounded. */
export const LOG_TAIL_MAX_ENTRIES = 8192;
export const LOG_TAIL_MAX_BYTES = 16 * 1024 * 1024;

/** Most bytes of committed entries handed out in one Ready (at least one entry), so one
 *  apply batch cannot grow without bound after a long catch-up. */
export const MAX_COMMITTED_BYTES_PER_READY = 4 * 1024 * 1024;
