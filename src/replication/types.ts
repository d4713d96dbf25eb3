/**
 * The contract of `ReplicaCore`: the consensus and log state machine of one replica of
 * one replication group (one partition). Pure: it never does I/O, reads no clock and draws
 * no randomness of its own. Time arrives as `tick()` calls, randomness as an injected PRNG,
 * messages as `step()`, client writes as `propose()`. Everything it wants done comes back
 * from `ready()`; the shell does it, in order, then calls `advance(ready)`.
 *
 * Replica ids are storage-node ids: a group has at most one replica per node.
 */
import type { Membership } from './membership.js';

export type { Membership } from './membership.js';

/** One log entry. `data` is opaque to the core (the shell encodes a write op there);
 *  an empty `data` is the no-op a new leader appends to commit an entry of its term. */
export interface LogEntry {
  term: number;
  index: number;
  data: Uint8Array;
}

/** What must be durable before a vote or an acknowledgement may leave this replica. */
export interface HardState {
  term: number;
  /** Replica voted for in `term`, or -1. */
  vote: number;
  /** Highest index known committed (persisted lazily: it is re-learned from the leader). */
  commit: number;
}

/** Read-only access to this replica's durable log (the shell's WAL). Sync on purpose:
 *  an LMDB read is a memory-mapped lookup. Entries not yet persisted are held by the
 *  core itself until `advance()`. */
export interface LogReader {
  /** Index of the first entry still in the log (after compaction); lastIndex+1 when empty. */
  firstIndex(): number;
  /** Index of the last durable entry, 0 when empty. */
  lastIndex(): number;
  /** Term of entry `index`; 0 for index 0; undefined when compacted or missing. */
  term(index: number): number | undefined;
  /** Entries [lo, hi), stopping early once `maxBytes` of data is reached (at least one). */
  entries(lo: number, hi: number, maxBytes: number): LogEntry[];
}

export interface ReplicaConfig {
  group: number;
  /** This replica's id (its storage node). */
  id: number;
  /** Every voting replica of the group (log replicas included), as of `applied`: the
   *  last membership committed and applied. Membership entries in the log above `applied`
   *  (found when the core starts) and later ones take effect on top of it. */
  voters: number[];
  /** The voters that are log replicas (WAL only). Default none. */
  logReplicas?: number[];
  /** This replica is a log replica: it keeps only the WAL, never campaigns, and its
   *  committed entries are not applied. Fixed for the replica's life (a membership that
   *  does not list it, e.g. before the entry adding it arrived, does not change it). */
  logReplica?: boolean;
  /** Replicas removed while expected back, and the first index each will need (see
   *  Membership.awaited). Default none. */
  awaited?: Array<{ id: number; from: number }>;
  /** Ticks without hearing the leader before a follower suspects it; the actual timeout is
   *  drawn from [electionTicks, 2*electionTicks) with `random`. */
  electionTicks: number;
  /** A leader sends a heartbeat (an empty append) every `heartbeatTicks`. */
  heartbeatTicks: number;
  /** Leader lease length; must be < electionTicks so that a lease always expires before
   *  any replica that acknowledged it can vote for someone else (asserted). */
  leaseTicks: number;
  /** Most entries' bytes in one append message. */
  maxAppendBytes: number;
  /** Most append messages in flight to one follower before waiting for acks. */
  maxInflightAppends: number;
  /** Seeded PRNG, returns [0, 1). */
  random: () => number;
  /** The most entries the group's WALs keep for a replica that lags (down, slow, or
   *  awaited back): past it they are dropped and that replica is caught up by a snapshot
   *  of a full replica's data instead. Default: no bound (every entry is kept until every
   *  replica holds it). */
  logRetainEntries?: number;
  /** The gray-failure check (default true): a follower that stops hearing its leader asks
   *  its peers first (pre-vote) and campaigns only if none still hears one. false is for
   *  experiments that count the spurious elections the check prevents; vote stickiness,
   *  which leases rest on, stays either way. */
  preVote?: boolean;
  /** The term the group was created in (0 for a new group; a split's children: the split
   *  entry's term). A leader elected in the term after it is the group's first: no
   *  earlier leader can hold a lease, so it serves as soon as its no-op applied. Default
   *  unknown: every new leader waits leaseTicks. */
  firstTerm?: number;
  log: LogReader;
  /** Hard state recovered from storage (term 0, vote -1, commit 0 for a new replica). */
  hardState: HardState;
  /** Index of the last entry applied to the B-tree (recovered from the checkpoint). */
  applied: number;
}

interface MessageBase {
  group: number;
  from: number;
  to: number;
  term: number;
}

/** Leader → follower: entries after (prevIndex, prevTerm), or a heartbeat when empty.
 *  `sentTick` is the leader's tick when sent; the follower echoes it so the leader can
 *  date its lease from when it asked, not from when it heard back. */
export interface AppendMessage extends MessageBase {
  type: 'append';
  prevIndex: number;
  prevTerm: number;
  entries: LogEntry[];
  commit: number;
  sentTick: number;
  /** Every replica of the group holds entries up to here: the WAL may drop them. */
  compactable: number;
  /** Set on appends to a log replica whose (prevIndex, prevTerm) is committed: a log
   *  replica needs no committed entries (it never applies or leads), so one that lacks
   *  prevIndex restarts its log there instead of catching up (or needing a snapshot). */
  logStart?: boolean;
  /** Set on an empty append sent only to tell the commit index: accepted, it is not
   *  answered (the entries' own acks and the heartbeats' keep the lease), which spares
   *  the leader a wake-up per follower and write. Refused, it is answered as any append. */
  commitOnly?: boolean;
}

export interface AppendReplyMessage extends MessageBase {
  type: 'appendReply';
  success: boolean;
  /** On success: the last index this follower now holds durably that matches the leader.
   *  On failure: a hint, the follower's last index (the leader backs up to it). */
  matchIndex: number;
  sentTick: number;
  /** On failure: the `prevIndex` of the refused append, so the leader can tell a refusal
   *  of its current probe from a stale or duplicated one. */
  rejectedIndex?: number;
}

/** Pre-vote (the paper's gray-failure check): "do you still hear a leader?" Sent with
 *  term = candidate's term + 1 without changing any state. */
export interface PreVoteMessage extends MessageBase {
  type: 'preVote';
  lastIndex: number;
  lastTerm: number;
}

export interface PreVoteReplyMessage extends MessageBase {
  type: 'preVoteReply';
  granted: boolean;
}

export interface VoteMessage extends MessageBase {
  type: 'vote';
  lastIndex: number;
  lastTerm: number;
  /** Set when the election follows the leader's TimeoutNow (leadership transfer): voters
   *  grant it even while they still hear that leader (stickiness bypass). */
  transfer?: boolean;
}

export interface VoteReplyMessage extends MessageBase {
  type: 'voteReply';
  granted: boolean;
}

/** Leader → chosen follower: campaign now (leadership transfer before a planned stop). */
export interface TimeoutNowMessage extends MessageBase {
  type: 'timeoutNow';
}

export type ReplicaMessage =
  | AppendMessage
  | AppendReplyMessage
  | PreVoteMessage
  | PreVoteReplyMessage
  | VoteMessage
  | VoteReplyMessage
  | TimeoutNowMessage;

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/**
 * What the shell must do, in this order:
 *  1. send `send` (safe before persisting: e.g. a leader's appends to followers);
 *  2. persist: if `logStart` is set, drop every WAL entry and continue the log after
 *     `logStart.index` (whose term is `logStart.term`); truncate the WAL from
 *     `truncateFrom` if set, append `entries`, and save `hardState` if set, durably (one
 *     group commit with every other core's Ready);
 *  3. send `sendAfterPersist` (acks and votes: never before their data is durable);
 *  4. apply `committed` in order (each is already durable locally);
 *  5. call `advance(ready)`.
 */
export interface Ready {
  hardState?: HardState;
  /** Log replicas only: the log restarts after this committed entry (see
   *  AppendMessage.logStart). Comes before `truncateFrom` and `entries`. */
  logStart?: { index: number; term: number };
  truncateFrom?: number;
  entries: LogEntry[];
  send: ReplicaMessage[];
  sendAfterPersist: ReplicaMessage[];
  committed: LogEntry[];
}

/** Why a proposal or a strong read was refused; the router retries elsewhere or later. */
export type NotServing =
  | { reason: 'notLeader'; leaderHint: number | undefined }
  | { reason: 'leaseNotReady'; leaderHint: number }
  | { reason: 'tooManyInflight' };

export interface ReplicaStatus {
  group: number;
  id: number;
  role: Role;
  term: number;
  leader: number | undefined;
  commit: number;
  applied: number;
  lastIndex: number;
  /** First index still in this replica's log (entries below were compacted). */
  firstIndex: number;
  /** Ticks left on the lease (leader only; 0 when expired). */
  leaseTicksLeft: number;
  /** The membership in effect here (the last one in this replica's log), and the index of
   *  its entry (0 or below when it predates the log): above `commit`, a change is pending. */
  membership: Membership;
  membershipIndex: number;
  /** This replica is a log replica (WAL only). */
  logReplica: boolean;
  /** matchIndex per follower (leader only). */
  progress?: Record<number, {
    match: number;
    /** Ticks since the leader last heard from it this term (the control plane's failure
     *  detector: a log replica is added when this stays high). */
    silentTicks: number;
    next: number;
    state: 'probe' | 'replicate';
    /** The follower needs entries the WAL already dropped: only a snapshot can help. */
    needsSnapshot?: boolean;
  }>;
  /** Elections this replica started (pre-vote passed) and pre-votes that failed. */
  electionsStarted: number;
  preVotesFailed: number;
}
