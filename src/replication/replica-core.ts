/**
 * ReplicaCore: Raft for one replica of one replication group, with pre-vote (the DynamoDB
 * paper's gray-failure check), leader stickiness, CheckQuorum and leader leases.
 * etcd-raft style: the core does no I/O. Inputs are `tick()`, `step(message)`,
 * `propose(data)`; all effects come out of `ready()` and are confirmed by `advance()`.
 *
 * Safety of leases (why `leaseTicks < electionTicks` plus the voting rule suffice):
 *  - Every append carries `sentTick`, the leader's tick when it was sent. A follower that
 *    receives any append of the current leader records that tick as "heard from a leader"
 *    (`lastLeaderContactTick`, on its own clock) and echoes `sentTick` back.
 *  - Voting rule (stickiness): a replica grants no vote and no pre-vote while it has heard
 *    from a leader within `electionTicks` (a leader counts as hearing itself; a replica that
 *    steps down from leadership or restarts with a non-zero term counts as having just
 *    heard one). The only bypass is a vote flagged `transfer`, which a leader causes itself
 *    and while it does so it serves nothing.
 *  - The leader's lease runs to `s + leaseTicks`, where `s` is the quorum-th highest of its
 *    own tick and the sentTicks its followers acknowledged. So a quorum Q1 has heard from
 *    the leader at or after `s`. Any new leader needs votes from a quorum Q2, and Q1 ∩ Q2
 *    is not empty: that common replica voted at least `electionTicks` after `s`, so no new
 *    leader exists before `s + electionTicks > s + leaseTicks`. The gap
 *    `electionTicks - leaseTicks` absorbs ticks running at slightly different rates on
 *    different threads (the shells drive ticks from the same wall-clock period).
 *  - Belt and braces: a new leader serves nothing until `leaseTicks` after its election
 *    (and until its no-op is applied). Whatever lease an old leader holds was dated from a
 *    tick acknowledged by some voter of the new leader before it voted, so it has run out by
 *    then even when stickiness was bypassed (leadership transfer).
 *
 * Durability order is in the types: votes, acknowledgements and anything carrying a term
 * this replica may not have persisted yet go in `sendAfterPersist`.
 *
 * Membership (membership.ts): single-server changes as log entries, each in effect as
 * soon as it is in the log. Quorums (commit, votes, lease, CheckQuorum) are majorities of
 * the membership in effect; consecutive memberships differ by one member, so their
 * majorities overlap and the arguments above carry over across a change. Log replicas
 * count in every quorum but never campaign or lead; a leader never removes itself (it
 * transfers leadership first). Requests (appends, votes) are answered whoever sends them,
 * as in Raft; replies from non-members are ignored.
 */
import { MAX_COMMITTED_BYTES_PER_READY, MAX_INFLIGHT_PROPOSALS } from './constants.js';
import { leaseTicksLeft } from './lease.js';
import { quorumSize, quorumthHighest, voteOutcome } from './quorum.js';
import { RaftLog, invariant, ReplicationInvariantError } from './raft-log.js';
import {
  decodeMembership, encodeMembership, isMembershipEntry, membershipChangeProblem, membershipProblem, normalizeMembership,
  type Membership,
} from './membership.js';
import type {
  AppendMessage,
  AppendReplyMessage,
  HardState,
  LogEntry,
  NotServing,
  PreVoteMessage,
  PreVoteReplyMessage,
  Ready,
  ReplicaConfig,
  ReplicaMessage,
  ReplicaStatus,
  Role,
  TimeoutNowMessage,
  VoteMessage,
  VoteReplyMessage,
} from './types.js';

export { ReplicationInvariantError } from './raft-log.js';

const EMPTY = new Uint8Array(0);

/** A leader's view of one follower. */
interface Progress {
  readonly id: number;
  /** Highest index known to be durable on the follower and matching our log. */
  match: number;
  /** Next index to send. Invariant: next >= match + 1. */
  next: number;
  /** probe: one append at a time until one succeeds; replicate: pipeline. */
  state: 'probe' | 'replicate';
  /** probe only: an append is out; wait for its reply or the next heartbeat. */
  probeSent: boolean;
  /** replicate only: appends in flight, oldest first (their last index and send tick).
   *  Invariant: length <= maxInflightAppends; `last` strictly increasing. */
  inflight: Array<{ last: number; sentTick: number }>;
  /** Our tick when we last heard from it this term (CheckQuorum). */
  lastHeardTick: number;
  /** Highest sentTick it acknowledged this term (lease); -Infinity when none. */
  ackedSentTick: number;
  /** It needs entries below our first index: only a snapshot can catch it up. */
  needsSnapshot: boolean;
  /** The index of the snapshot the shell is sending it, if one is on its way: the WAL
   *  keeps what follows it (within logRetainEntries). */
  snapshotIndex?: number;
  /** Replies to appends sent at or before this tick are ignored: they may come from an
   *  earlier incarnation of a replica removed and added back (a fresh log replica must
   *  not be credited with what its predecessor held). */
  ignoreRepliesThroughTick: number;
  /** The commit index the last append we sent it carried. */
  sentCommit: number;
}

export type ProposeResult = { index: number; term: number } | NotServing;

/** Why a membership change was not proposed: not a serving leader, the previous change
 *  has not committed yet, or the change itself is not allowed. */
export type MembershipChangeResult =
  | { index: number; term: number }
  | NotServing
  | { reason: 'changePending'; index: number }
  | { reason: 'invalidChange'; detail: string };

/** Most bytes of log read at a time while looking for membership entries at startup. */
const MEMBERSHIP_SCAN_BYTES = 4 * 1024 * 1024;

export class ReplicaCore {
  private readonly cfg: ReplicaConfig;
  private readonly id: number;
  /** Members other than this replica, and the majority of all members (this one counted
   *  only if it is a member), per the membership in effect. */
  private peers: number[] = [];
  private quorum = 1;
  /** Memberships in the log, ascending by index: [0] is the one in effect at or below the
   *  commit index, the last is the one in effect. Invariant: never empty. */
  private configs: Array<{ index: number; m: Membership }>;
  /** Log replicas: a restart of the log that the next Ready hands to the shell, and
   *  whether one is not yet durable (handed out, not yet advanced). */
  private pendingLogStart: { index: number; term: number } | undefined;
  private logStartInFlight = false;
  private readonly log: RaftLog;

  // Hard state. `hardStateDirty` says term or vote changed since the last Ready.
  private currentTerm: number;
  private votedFor: number;
  private commitIndex: number;
  private persistedCommit: number;
  private hardStateDirty = false;

  private currentRole: Role = 'follower';
  private leaderId: number | undefined = undefined;
  private appliedIndex: number;

  /** Logical clock: the number of tick() calls since this core was created. */
  private now = 0;
  private electionElapsed = 0;
  private randomizedElectionTimeout = 0;
  private heartbeatElapsed = 0;
  /** Our tick when we last heard from a leader of our term (or were one); undefined when
   *  never. Drives pre-vote and vote stickiness, which is what leases rest on. */
  private lastLeaderContactTick: number | undefined;

  // Elections.
  private votes = new Map<number, boolean>();
  private electionsStarted = 0;
  private preVotesFailed = 0;

  // Leader state. Invariant: progress.size === peers.length iff role === 'leader'.
  private progress = new Map<number, Progress>();
  private leaderSinceTick = 0;
  private noopIndex = 0;
  private transfer: { to: number; startTick: number; timeoutNowSent: boolean } | undefined;

  // Follower state.
  private leaderCompactable = 0;

  // Output.
  private msgs: ReplicaMessage[] = [];
  private msgsAfterPersist: ReplicaMessage[] = [];
  private outstanding: Ready | undefined;

  constructor(config: ReplicaConfig) {
    checkConfig(config);
    this.cfg = config;
    this.id = config.id;
    this.log = new RaftLog(config.log);
    const base = normalizeMembership({ voters: config.voters, logReplicas: config.logReplicas ?? [], awaited: config.awaited ?? [] });
    const hs = config.hardState;
    this.currentTerm = hs.term;
    this.votedFor = hs.vote;
    // A log replica applies nothing: what its log no longer holds counts as applied.
    this.appliedIndex = config.logReplica === true ? Math.max(config.applied, this.log.firstIndex() - 1) : config.applied;
    this.commitIndex = Math.max(hs.commit, this.appliedIndex);
    this.persistedCommit = hs.commit;
    this.configs = [{ index: this.appliedIndex, m: base }];
    this.scanMemberships(this.appliedIndex + 1, this.log.lastIndex());
    this.membershipChanged();
    invariant(this.commitIndex <= this.log.lastIndex(),
      () => `replica ${this.id}: commit ${this.commitIndex} > last log index ${this.log.lastIndex()}`);
    invariant(config.applied >= this.log.firstIndex() - 1,
      () => `replica ${this.id}: applied ${config.applied} is below the log (first index ${this.log.firstIndex()}): entries are missing`);
    // A replica that may have acknowledged a leader before it restarted must keep the
    // promise behind that leader's lease: it treats the restart as having just heard one.
    // A replica still at its group's creation term (0, or a split child's first) never
    // acknowledged anyone: it may vote at once (a split's children elect without waiting).
    this.lastLeaderContactTick = hs.term > (config.firstTerm ?? 0) ? 0 : undefined;
    this.resetElectionTimer();
  }

  // ---------------------------------------------------------------- accessors

  get role(): Role {
    return this.currentRole;
  }
  get term(): number {
    return this.currentTerm;
  }
  get leader(): number | undefined {
    return this.leaderId;
  }
  get applied(): number {
    return this.appliedIndex;
  }
  get commit(): number {
    return this.commitIndex;
  }
  /** Last index of this replica's log (durable or not). */
  get lastIndex(): number {
    return this.log.lastIndex();
  }
  /** Term of entry `index` in this replica's log; undefined when compacted or missing. */
  termAt(index: number): number | undefined {
    return this.log.term(index);
  }
  /** The membership in effect here (the last one in this replica's log). */
  get membership(): Membership {
    return this.configs[this.configs.length - 1].m;
  }
  /** This replica keeps only the WAL: the shell must not apply its entries to a B-tree,
   *  and it serves no reads. */
  get isLogReplica(): boolean {
    return this.cfg.logReplica === true;
  }

  status(): ReplicaStatus {
    const s: ReplicaStatus = {
      group: this.cfg.group,
      id: this.id,
      role: this.currentRole,
      term: this.currentTerm,
      leader: this.leaderId,
      commit: this.commitIndex,
      applied: this.appliedIndex,
      lastIndex: this.log.lastIndex(),
      firstIndex: this.log.firstIndex(),
      leaseTicksLeft: this.currentRole === 'leader' ? leaseTicksLeft(this.now, this.leaseExpiry()) : 0,
      membership: normalizeMembership(this.membership),
      membershipIndex: this.configs[this.configs.length - 1].index,
      logReplica: this.isLogReplica,
      electionsStarted: this.electionsStarted,
      preVotesFailed: this.preVotesFailed,
    };
    if (this.currentRole === 'leader') {
      const progress: NonNullable<ReplicaStatus['progress']> = {};
      for (const pr of this.progress.values()) {
        progress[pr.id] = {
          match: pr.match, next: pr.next, state: pr.state, needsSnapshot: pr.needsSnapshot, silentTicks: this.now - pr.lastHeardTick,
        };
      }
      s.progress = progress;
    }
    return s;
  }

  // ---------------------------------------------------------------- inputs

  /** Advances logical time by one tick. */
  tick(): void {
    this.now++;
    if (this.currentRole === 'leader') {
      this.tickLeader();
      return;
    }
    this.electionElapsed++;
    // Log replicas and replicas outside the membership never stand for leader.
    if (!this.canCampaign()) return;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      if (this.currentRole === 'preCandidate') this.preVotesFailed++;
      if (this.cfg.preVote === false) this.becomeCandidate(false);
      else this.startPreVote();
    }
  }

  /**
   * Starts an election now instead of waiting for the election timeout (a new group's
   * designated first leader). It runs the pre-vote first: peers of a brand-new group have
   * heard no leader and grant it at once, and on an existing group a stray call cannot
   * bump terms and disrupt a healthy leader.
   */
  campaign(): void {
    if (this.currentRole === 'leader' || !this.canCampaign()) return;
    this.startPreVote();
  }

  /** Appends `data` as a new entry. Only a serving leader accepts. */
  propose(data: Uint8Array): ProposeResult {
    invariant(data.byteLength > 0, 'propose: empty data is reserved for the leader no-op');
    const refusal = this.servingRefusal();
    if (refusal !== undefined) return refusal;
    if (this.log.lastIndex() - this.appliedIndex >= MAX_INFLIGHT_PROPOSALS) return { reason: 'tooManyInflight' };
    const entry: LogEntry = { term: this.currentTerm, index: this.log.lastIndex() + 1, data };
    this.appendToLog([entry]);
    return { index: entry.index, term: entry.term };
  }

  /**
   * Proposes `next` as the group's membership: a log entry, in effect here (and on each
   * replica) as soon as it is in the log. Only a serving leader proposes, one change at a
   * time (the previous one must have committed), one member added or removed per change.
   * An added member starts with an empty log: a log replica restarts its log at our
   * commit index (AppendMessage.logStart); a full replica needs the whole log (or,
   * one day, a snapshot).
   */
  proposeMembership(next: Membership): MembershipChangeResult {
    const refusal = this.servingRefusal();
    if (refusal !== undefined) return refusal;
    const latest = this.configs[this.configs.length - 1];
    if (latest.index > this.commitIndex) return { reason: 'changePending', index: latest.index };
    const problem = membershipChangeProblem(latest.m, next);
    if (problem !== undefined) return { reason: 'invalidChange', detail: problem };
    // Log replicas may hold committed entries no other full replica has yet; only a full
    // replica that is caught up may take over, which is what a transfer ensures.
    if (!next.voters.includes(this.id)) {
      return { reason: 'invalidChange', detail: `the leader (${this.id}) cannot remove itself: transfer leadership first` };
    }
    if (this.log.lastIndex() - this.appliedIndex >= MAX_INFLIGHT_PROPOSALS) return { reason: 'tooManyInflight' };
    const entry: LogEntry = { term: this.currentTerm, index: this.log.lastIndex() + 1, data: encodeMembership(next) };
    this.appendToLog([entry]);
    return { index: entry.index, term: entry.term };
  }

  /** undefined when this replica may serve a strong read from its applied state now (once
   *  it has applied everything committed when the read arrived). */
  checkStrongRead(): NotServing | undefined {
    const refusal = this.servingRefusal();
    if (refusal !== undefined) return refusal;
    if (this.now >= this.leaseExpiry()) return { reason: 'leaseNotReady', leaderHint: this.id };
    return undefined;
  }

  /** Hands leadership to `to`: stop serving, catch `to` up, then tell it to campaign. */
  transferLeadership(to: number): NotServing | undefined {
    if (this.currentRole !== 'leader') return { reason: 'notLeader', leaderHint: this.leaderId };
    if (to === this.id) return undefined;
    const pr = this.progress.get(to);
    // Only a full member can lead: a transfer to anyone else is ignored (we keep leading).
    if (pr === undefined || this.membership.logReplicas.includes(to)) return undefined;
    this.transfer = { to, startTick: this.now, timeoutNowSent: false };
    this.maybeSendTimeoutNow(pr);
    return undefined;
  }

  /** Full replicas this leader can catch up only with a snapshot (they need entries its
   *  log no longer holds): the shell sends them one (snapshotInstalled reports it done). */
  snapshotTargets(): number[] {
    const out: number[] = [];
    if (this.currentRole !== 'leader') return out;
    for (const pr of this.progress.values()) {
      if (pr.needsSnapshot && !this.membership.logReplicas.includes(pr.id)) out.push(pr.id);
    }
    return out;
  }

  /** The shell is sending follower `to` a snapshot at `index`. */
  snapshotSending(to: number, index: number): void {
    const pr = this.progress.get(to);
    if (pr !== undefined && pr.needsSnapshot) pr.snapshotIndex = index;
  }

  /** The shell's report that follower `to` installed (durably) a snapshot of this
   *  group's applied state at `index`: it holds everything up to there, so replication
   *  resumes after it. */
  snapshotInstalled(to: number, index: number): void {
    const pr = this.progress.get(to);
    if (this.currentRole !== 'leader' || pr === undefined) return;
    invariant(index <= this.log.lastIndex(), () => `snapshotInstalled(${to}, ${index}): beyond our last index ${this.log.lastIndex()}`);
    if (index > pr.match) pr.match = index;
    pr.snapshotIndex = undefined;
    if (pr.match >= this.log.firstIndex() - 1) pr.needsSnapshot = false;
    // No commit can follow: the snapshot was of our applied state, below our commit.
    this.becomeProbe(pr);
  }

  /**
   * Follower: the shell installed (durably, in the B-tree) a snapshot of the group's data
   * at committed entry `index` of term `term`, whose membership was `membership`. The log
   * restarts after it (Ready.logStart, as a log replica's does): what this replica held
   * below is covered, and anything above did not match the leader (it needed a snapshot
   * because its log ended below the leader's). Returns false for a stale snapshot (not
   * ahead of what this replica applied), which changes nothing.
   */
  installSnapshot(index: number, term: number, membership: Membership): boolean {
    // A replica that knows of commits past the snapshot holds them: it needs none.
    if (this.currentRole === 'leader' || this.isLogReplica || index <= this.appliedIndex || index < this.commitIndex) return false;
    this.log.restartAt(index, term);
    this.pendingLogStart = { index, term };
    this.logStartInFlight = true;
    this.commitIndex = Math.max(this.commitIndex, index);
    this.appliedIndex = index;
    this.configs = [{ index, m: normalizeMembership(membership) }];
    this.membershipChanged();
    return true;
  }

  /** Whether this follower's data may be replaced by a snapshot at `index` of `term`
   *  while it keeps its log (a repair of damaged data): the entry is in its durable log
   *  with that term, so what follows it in the log continues the snapshot. */
  canRepairAt(index: number, term: number): boolean {
    return this.currentRole !== 'leader' && !this.isLogReplica
      && index >= this.log.firstIndex() - 1 && index <= this.log.stableLast() && this.log.term(index) === term;
  }

  /**
   * The shell replaced this follower's data with a snapshot at `index` (canRepairAt said
   * yes): entries after it are applied again from the log, even those it had handed out
   * before (their apply was skipped on damaged data). Refused (false) while a Ready is
   * outstanding, whose advance would move the applied index again: call it after.
   */
  repairedAt(index: number, term: number): boolean {
    if (this.outstanding !== undefined || !this.canRepairAt(index, term)) return false;
    this.appliedIndex = index;
    if (this.commitIndex < index) this.commitIndex = index;
    return true;
  }

  /** The shell could not deliver to `to` (ring full, record dropped): that follower
   *  catches up from the log later; nothing waits for it. */
  reportUnreachable(to: number): void {
    const pr = this.progress.get(to);
    if (pr === undefined) return;
    this.becomeProbe(pr);
    pr.probeSent = true; // retry on the next heartbeat, not in a busy loop
  }

  /** Highest index the shell's WAL may drop: every replica holds it durably (as far as the
   *  leader told us) and this replica applied it. The shell must also keep entries above
   *  its last B-tree checkpoint. */
  compactableIndex(): number {
    // The WAL still holds the log from before a restart that is not durable yet: its
    // entries are not the ones the core now counts as stable.
    if (this.logStartInFlight) return 0;
    const self = Math.min(this.log.stableLast(), this.appliedIndex);
    if (this.currentRole === 'leader') return Math.min(self, this.groupCompactable());
    return Math.min(self, this.leaderCompactable);
  }

  /** The shell's LogReader.firstIndex() moved to `firstIndex` (call it before the WAL
   *  drops the entries unless LogReader.term(firstIndex-1) keeps answering). */
  compacted(firstIndex: number): void {
    invariant(firstIndex - 1 <= this.appliedIndex,
      () => `compacted(${firstIndex}): entries above applied ${this.appliedIndex} cannot be dropped`);
    this.log.compacted(firstIndex);
    // Followers we were about to feed from below the new first index: probe at the
    // boundary; their answer tells whether they need a snapshot.
    for (const pr of this.progress.values()) {
      if (pr.next < firstIndex) this.becomeProbe(pr);
    }
  }

  step(m: ReplicaMessage): void {
    invariant(m.group === this.cfg.group && m.to === this.id,
      () => `replica ${this.cfg.group}/${this.id}: message for ${m.group}/${m.to} routed here`);
    if (m.from === this.id) return;
    // Requests are answered whoever sends them (Raft does not check membership there: a
    // replica that lags may not know its new leader or a new candidate is a member yet,
    // and a stale candidate cannot win against logs that hold the newer membership).
    // Replies count only from members.
    const reply = m.type === 'appendReply' || m.type === 'voteReply' || m.type === 'preVoteReply';
    if (reply && !this.membership.voters.includes(m.from)) return;
    switch (m.type) {
      case 'append':
        return this.onAppend(m);
      case 'appendReply':
        return this.onAppendReply(m);
      case 'preVote':
        return this.onPreVote(m);
      case 'preVoteReply':
        return this.onPreVoteReply(m);
      case 'vote':
        return this.onVote(m);
      case 'voteReply':
        return this.onVoteReply(m);
      case 'timeoutNow':
        return this.onTimeoutNow(m);
    }
  }

  // ---------------------------------------------------------------- Ready / advance

  /** Whether `ready()` has work. False while a Ready is outstanding (not yet advanced). */
  hasReady(): boolean {
    if (this.outstanding !== undefined) return false;
    return (
      this.pendingLogStart !== undefined ||
      this.hardStateDirty ||
      this.log.hasUnemitted() ||
      this.msgs.length > 0 ||
      this.msgsAfterPersist.length > 0 ||
      Math.min(this.commitIndex, this.log.stableLast()) > this.appliedIndex ||
      (this.currentRole === 'leader' && (this.anySendable() || this.anyCommitUntold()))
    );
  }

  ready(): Ready {
    invariant(this.outstanding === undefined, 'ready() called again before advance()');
    if (this.currentRole === 'leader') this.flushAppends();
    const { truncateFrom, entries } = this.log.takeUnemitted();
    const r: Ready = {
      entries,
      send: this.msgs,
      sendAfterPersist: this.msgsAfterPersist,
      committed: [],
    };
    if (truncateFrom !== undefined) r.truncateFrom = truncateFrom;
    if (this.pendingLogStart !== undefined) {
      r.logStart = this.pendingLogStart;
      this.pendingLogStart = undefined;
    }
    // Term and vote must be durable before anything that depends on them leaves; commit
    // rides along lazily (it is re-learned from the leader after a restart).
    const persistsLog = entries.length > 0 || truncateFrom !== undefined || r.logStart !== undefined;
    if (this.hardStateDirty || (persistsLog && this.commitIndex > this.persistedCommit)) {
      r.hardState = this.hardState();
      this.persistedCommit = this.commitIndex;
      this.hardStateDirty = false;
    }
    // Only entries made durable by an earlier, advanced Ready: the node shell applies them
    // while this Ready's WAL batch is still syncing, and an applied index (checkpointed
    // with the B-tree) must never get ahead of the local WAL, or a restart after a crash
    // that loses the batch finds its B-tree past its log and cannot start.
    const applyTo = Math.min(this.commitIndex, this.log.stableLast());
    if (applyTo > this.appliedIndex) {
      r.committed = this.log.slice(this.appliedIndex + 1, applyTo + 1, MAX_COMMITTED_BYTES_PER_READY);
    }
    this.msgs = [];
    this.msgsAfterPersist = [];
    this.outstanding = r;
    // Memberships below the commit index other than the latest one are history.
    while (this.configs.length > 1 && this.configs[1].index <= this.commitIndex) this.configs.shift();
    return r;
  }

  advance(r: Ready): void {
    invariant(r === this.outstanding, 'advance() with a Ready that is not the outstanding one');
    this.outstanding = undefined;
    if (r.logStart !== undefined && this.pendingLogStart === undefined) this.logStartInFlight = false;
    this.log.stableTo(r.entries);
    if (r.committed.length > 0) {
      const last = r.committed[r.committed.length - 1].index;
      // A log replica's restart may have moved applied past them meanwhile.
      if (last > this.appliedIndex) {
        invariant(last === this.appliedIndex + r.committed.length, 'advance: committed entries not contiguous');
        this.appliedIndex = last;
      }
    }
    // The leader's own entries count towards commit only once durable.
    if (this.currentRole === 'leader') this.maybeCommit();
  }

  // ---------------------------------------------------------------- roles

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    const e = this.cfg.electionTicks;
    const r = this.cfg.random();
    invariant(r >= 0 && r < 1, () => `config.random() returned ${r}, outside [0, 1)`);
    this.randomizedElectionTimeout = e + Math.floor(r * e);
  }

  private becomeFollower(term: number, leader: number | undefined): void {
    if (this.currentRole === 'leader') {
      // Our own tick counted in our lease quorum: keep the promise not to vote for others.
      this.lastLeaderContactTick = this.now;
    }
    if (term > this.currentTerm) {
      this.currentTerm = term;
      this.votedFor = -1;
      this.hardStateDirty = true;
    }
    this.currentRole = 'follower';
    this.leaderId = leader;
    this.votes.clear();
    this.progress.clear();
    this.transfer = undefined;
    this.resetElectionTimer();
  }

  private startPreVote(): void {
    this.currentRole = 'preCandidate';
    this.leaderId = undefined;
    this.votes.clear();
    this.votes.set(this.id, true);
    this.resetElectionTimer();
    if (this.tally() === 'won') return this.becomeCandidate(false);
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const to of this.peers) {
      const m: PreVoteMessage = { type: 'preVote', group: this.cfg.group, from: this.id, to, term: this.currentTerm + 1, lastIndex, lastTerm };
      this.msgs.push(m);
    }
  }

  private becomeCandidate(transfer: boolean): void {
    this.currentTerm++;
    this.votedFor = this.id;
    this.hardStateDirty = true;
    this.currentRole = 'candidate';
    this.leaderId = undefined;
    this.electionsStarted++;
    this.votes.clear();
    this.votes.set(this.id, true);
    this.resetElectionTimer();
    if (this.tally() === 'won') return this.becomeLeader();
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const to of this.peers) {
      const m: VoteMessage = { type: 'vote', group: this.cfg.group, from: this.id, to, term: this.currentTerm, lastIndex, lastTerm };
      if (transfer) m.transfer = true;
      // Our own vote and term must be durable before we ask for votes in this term.
      this.msgsAfterPersist.push(m);
    }
  }

  private becomeLeader(): void {
    this.currentRole = 'leader';
    this.leaderId = this.id;
    this.votes.clear();
    this.transfer = undefined;
    this.leaderSinceTick = this.now;
    this.heartbeatElapsed = 0;
    this.lastLeaderContactTick = this.now;
    const next = this.log.lastIndex() + 1;
    this.progress.clear();
    for (const id of this.peers) this.progress.set(id, this.newProgress(id, next, -Infinity));
    // The no-op: commits everything of earlier terms, and its apply tells us we are
    // up to date (serving condition (b)).
    this.noopIndex = next;
    this.appendToLog([{ term: this.currentTerm, index: next, data: EMPTY }]);
    this.maybeCommit(); // a single-voter group commits once durable (in advance)
  }

  private newProgress(id: number, next: number, ignoreRepliesThroughTick: number): Progress {
    return {
      id, match: 0, next, state: 'probe', probeSent: false, inflight: [],
      lastHeardTick: this.now, ackedSentTick: -Infinity, needsSnapshot: false, ignoreRepliesThroughTick, sentCommit: 0,
    };
  }

  private tally(): 'won' | 'lost' | 'pending' {
    let granted = 0;
    let rejected = 0;
    const voters = this.membership.voters;
    for (const [id, g] of this.votes) {
      if (!voters.includes(id)) continue;
      if (g) granted++;
      else rejected++;
    }
    return voteOutcome(voters.length, granted, rejected);
  }

  /** A full member: log replicas and replicas outside the membership never campaign. */
  private canCampaign(): boolean {
    const m = this.membership;
    return !this.isLogReplica && m.voters.includes(this.id) && !m.logReplicas.includes(this.id);
  }

  // ---------------------------------------------------------------- membership

  /** Appends to the log, taking up any membership entry at once. */
  private appendToLog(entries: LogEntry[]): void {
    this.log.append(entries);
    let changed = false;
    for (const e of entries) {
      if (!isMembershipEntry(e.data)) continue;
      this.configs.push({ index: e.index, m: decodeMembership(e.data) });
      changed = true;
    }
    if (changed) this.membershipChanged();
  }

  /** Truncates the log; a membership whose entry goes reverts to the one before. */
  private truncateLog(from: number): void {
    this.log.truncateFrom(from);
    this.dropConfigsFrom(from);
  }

  private dropConfigsFrom(from: number): void {
    let changed = false;
    while (this.configs.length > 1 && this.configs[this.configs.length - 1].index >= from) {
      this.configs.pop();
      changed = true;
    }
    if (changed) this.membershipChanged();
  }

  /** Startup: memberships in the durable log above the one the shell handed us. */
  private scanMemberships(lo: number, hi: number): void {
    while (lo <= hi) {
      const entries = this.log.slice(lo, hi + 1, MEMBERSHIP_SCAN_BYTES);
      for (const e of entries) {
        if (isMembershipEntry(e.data)) this.configs.push({ index: e.index, m: decodeMembership(e.data) });
      }
      lo += entries.length;
    }
  }

  /** The membership in effect moved: new peers, quorum and (on a leader) progress. */
  private membershipChanged(): void {
    const m = this.membership;
    this.peers = m.voters.filter((v) => v !== this.id);
    this.quorum = quorumSize(m.voters.length);
    if (this.currentRole !== 'leader') return;
    for (const id of this.peers) {
      if (this.progress.has(id)) continue;
      // A new log replica starts its log at our commit index: probe there at once.
      const next = m.logReplicas.includes(id) ? this.commitIndex + 1 : this.log.lastIndex() + 1;
      this.progress.set(id, this.newProgress(id, next, this.now));
    }
    for (const id of [...this.progress.keys()]) if (!this.peers.includes(id)) this.progress.delete(id);
    if (this.transfer !== undefined && !this.progress.has(this.transfer.to)) this.transfer = undefined;
  }

  /** One value per member, ours from `self`, each peer's from `of` (a leader is always a
   *  member: it never removes itself). */
  private perMember(self: number, of: (pr: Progress) => number, missing: number): number[] {
    const values: number[] = [];
    for (const v of this.membership.voters) {
      if (v === this.id) values.push(self);
      else {
        const pr = this.progress.get(v);
        values.push(pr === undefined ? missing : of(pr));
      }
    }
    return values;
  }

  /** Heard from a leader of our term (or were one) within electionTicks. */
  private heardLeaderRecently(): boolean {
    if (this.currentRole === 'leader') return true;
    return this.lastLeaderContactTick !== undefined && this.now - this.lastLeaderContactTick < this.cfg.electionTicks;
  }

  private isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.log.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.log.lastIndex());
  }

  // ---------------------------------------------------------------- leader

  private tickLeader(): void {
    this.lastLeaderContactTick = this.now;
    // CheckQuorum: a leader no quorum has answered for electionTicks steps down. Its lease
    // (leaseTicks < electionTicks) ran out before this.
    const heard = this.perMember(this.now, (pr) => pr.lastHeardTick, -Infinity);
    if (this.now - quorumthHighest(heard, this.quorum) >= this.cfg.electionTicks) {
      this.becomeFollower(this.currentTerm, undefined);
      return;
    }
    if (this.transfer !== undefined && this.now - this.transfer.startTick >= this.cfg.electionTicks) {
      this.transfer = undefined; // the target did not take over in time: serve again
    }
    this.heartbeatElapsed++;
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      for (const pr of this.progress.values()) this.heartbeat(pr);
    }
  }

  private servingRefusal(): NotServing | undefined {
    if (this.currentRole !== 'leader') return { reason: 'notLeader', leaderHint: this.leaderId };
    if (this.transfer !== undefined) return { reason: 'notLeader', leaderHint: this.transfer.to };
    const firstLeader = this.cfg.firstTerm !== undefined && this.currentTerm === this.cfg.firstTerm + 1;
    if ((!firstLeader && this.now - this.leaderSinceTick < this.cfg.leaseTicks) || this.appliedIndex < this.noopIndex) {
      return { reason: 'leaseNotReady', leaderHint: this.id };
    }
    return undefined;
  }

  private leaseExpiry(): number {
    const ticks = this.perMember(this.now, (pr) => pr.ackedSentTick, -Infinity);
    return quorumthHighest(ticks, this.quorum) + this.cfg.leaseTicks;
  }

  /** Min over every full replica of what it holds durably, and over the first index each
   *  awaited replica will need: what the group's WALs may drop. Log replicas do not hold
   *  it back: one that falls behind restarts its log at our commit index. */
  private groupCompactable(): number {
    const stable = this.log.stableLast();
    let min = stable;
    const m = this.membership;
    for (const pr of this.progress.values()) {
      if (m.logReplicas.includes(pr.id)) continue;
      min = Math.min(min, pr.needsSnapshot && pr.snapshotIndex !== undefined ? Math.max(pr.match, pr.snapshotIndex) : pr.match);
    }
    for (const a of m.awaited) min = Math.min(min, a.from - 1);
    // A replica further behind than the bound is left to a snapshot: the WAL stays bounded.
    const retain = this.cfg.logRetainEntries;
    if (retain !== undefined) min = Math.max(min, stable - retain);
    return Math.max(0, min);
  }

  private maybeCommit(): void {
    const matches = this.perMember(this.log.stableLast(), (pr) => pr.match, 0);
    const n = quorumthHighest(matches, this.quorum);
    // Only an entry of our own term commits by counting (Raft §5.4.2); earlier ones follow.
    if (n > this.commitIndex && this.log.term(n) === this.currentTerm) this.commitIndex = n;
  }

  private anySendable(): boolean {
    for (const pr of this.progress.values()) {
      if (pr.needsSnapshot) continue;
      if (pr.state === 'probe' ? !pr.probeSent : pr.inflight.length < this.cfg.maxInflightAppends && pr.next <= this.lastSendable(pr)) {
        return true;
      }
    }
    return false;
  }

  private flushAppends(): void {
    for (const pr of this.progress.values()) {
      while (this.sendAppend(pr, false)) {
        if (pr.state === 'probe') break;
      }
      // A follower that has nothing new to receive still learns the commit index at once,
      // not at the next heartbeat: it applies, and eventually consistent reads it serves
      // see a write right after its acknowledgement (read-after-write, as clients expect).
      if (this.commitUntold(pr)) this.sendAppend(pr, true, true);
    }
  }

  /** A full replica, in step with us, that has not been sent our commit index. */
  private commitUntold(pr: Progress): boolean {
    return pr.state === 'replicate' && !pr.needsSnapshot && pr.sentCommit < this.commitIndex
      && pr.inflight.length < this.cfg.maxInflightAppends && !this.membership.logReplicas.includes(pr.id);
  }

  private anyCommitUntold(): boolean {
    for (const pr of this.progress.values()) if (this.commitUntold(pr)) return true;
    return false;
  }

  /**
   * Last index we may send to `pr`. A log replica gets only entries durable here: every
   * entry it holds is then also held by a full replica (the leader that sent it), so a
   * full replica that restarts after losing unpersisted entries is never behind a log
   * replica, whose vote it would otherwise never get (log replicas cannot lead).
   */
  private lastSendable(pr: Progress): number {
    return this.membership.logReplicas.includes(pr.id) ? this.log.stableLast() : this.log.lastIndex();
  }

  /**
   * Sends entries from `pr.next` (or an empty append at next-1 when `force`; marked
   * `commitOnly` when it is sent only to tell the commit index). Returns whether a message
   * went out.
   */
  private sendAppend(pr: Progress, force: boolean, commitOnly = false): boolean {
    // A follower behind our log gets only the heartbeat's probe at the boundary (in case
    // it got a snapshot or we guessed wrong), nothing in between.
    if (pr.needsSnapshot && !force) return false;
    const last = this.lastSendable(pr);
    if (pr.state === 'probe') {
      if (pr.probeSent && !force) return false;
    } else {
      if (pr.inflight.length >= this.cfg.maxInflightAppends) return false;
      if (pr.next > last && !force) return false;
    }
    const logReplica = this.membership.logReplicas.includes(pr.id);
    // A log replica never needs committed entries: it restarts at our commit index.
    if (logReplica && pr.next < this.log.firstIndex()) pr.next = this.commitIndex + 1;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined || pr.next < this.log.firstIndex()) {
      // Only the WAL's boundary term is missing (a LogReader that forgets it, and no
      // compacted() call came first): we cannot even probe.
      pr.needsSnapshot = true;
      return false;
    }
    const entries = pr.next <= last && !pr.needsSnapshot ? this.log.slice(pr.next, last + 1, this.cfg.maxAppendBytes) : [];
    const m = this.appendMessage(pr.id, prevIndex, prevTerm, entries);
    if (logReplica && prevIndex > pr.match && prevIndex <= this.commitIndex) m.logStart = true;
    if (commitOnly && entries.length === 0) m.commitOnly = true;
    this.msgs.push(m);
    if (pr.state === 'replicate') {
      if (entries.length > 0) {
        const lastSent = entries[entries.length - 1].index;
        pr.next = lastSent + 1;
        pr.inflight.push({ last: lastSent, sentTick: this.now });
      }
    } else {
      pr.probeSent = true;
    }
    return true;
  }

  /** Every heartbeatTicks: re-probe, or send what is pending, or an empty append at the
   *  follower's match (which cannot be refused and tells us what it holds). */
  private heartbeat(pr: Progress): void {
    if (pr.state === 'probe' ? this.sendAppend(pr, true) : this.sendAppend(pr, false)) return;
    let prevIndex = pr.match;
    let prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) {
      prevIndex = 0;
      prevTerm = 0;
    }
    this.msgs.push(this.appendMessage(pr.id, prevIndex, prevTerm, []));
  }

  private appendMessage(to: number, prevIndex: number, prevTerm: number, entries: LogEntry[]): AppendMessage {
    const pr = this.progress.get(to);
    if (pr !== undefined) pr.sentCommit = this.commitIndex;
    return {
      type: 'append', group: this.cfg.group, from: this.id, to, term: this.currentTerm,
      prevIndex, prevTerm, entries, commit: this.commitIndex, sentTick: this.now,
      compactable: this.groupCompactable(),
    };
  }

  private becomeProbe(pr: Progress): void {
    pr.state = 'probe';
    pr.next = this.firstGuess(pr);
    pr.inflight = [];
    pr.probeSent = false;
  }

  /** Where to resume sending: after what we know it holds, but never below our log (a
   *  new leader knows match 0 for everyone; the probe finds out). */
  private firstGuess(pr: Progress): number {
    return Math.max(pr.match + 1, this.log.firstIndex());
  }

  private onAppendReply(m: AppendReplyMessage): void {
    if (m.term > this.currentTerm) return this.becomeFollower(m.term, undefined);
    if (m.term < this.currentTerm || this.currentRole !== 'leader') return; // stale
    const pr = this.progress.get(m.from);
    if (pr === undefined || m.sentTick <= pr.ignoreRepliesThroughTick) return; // not (this) member
    pr.lastHeardTick = this.now;
    // Any reply of this term, success or not, proves the follower heard us at sentTick.
    if (m.sentTick > pr.ackedSentTick && m.sentTick <= this.now) pr.ackedSentTick = m.sentTick;
    if (m.success) {
      const last = this.log.lastIndex();
      invariant(m.matchIndex <= last, () => `appendReply from ${m.from}: match ${m.matchIndex} > our last ${last}`);
      const advanced = m.matchIndex > pr.match;
      if (advanced) pr.match = m.matchIndex;
      if (pr.needsSnapshot && pr.match >= this.log.firstIndex() - 1) pr.needsSnapshot = false;
      if (pr.state === 'probe') {
        pr.state = 'replicate';
        pr.inflight = [];
        pr.probeSent = false;
        pr.next = this.firstGuess(pr);
      } else {
        if (pr.next <= pr.match) pr.next = this.firstGuess(pr);
        while (pr.inflight.length > 0 && pr.inflight[0].last <= pr.match) pr.inflight.shift();
        // Links are FIFO: an append sent before the one acknowledged here and still not
        // covered by its match was lost. Go back and probe (a reordering network only
        // makes this fire needlessly).
        if (pr.inflight.length > 0 && pr.inflight[0].sentTick < m.sentTick) this.becomeProbe(pr);
      }
      if (advanced) this.maybeCommit();
      this.maybeSendTimeoutNow(pr);
      return;
    }
    // Refused: back up. Ignore refusals of appends we already know matched, and in probe
    // state anything but the answer to the outstanding probe.
    const refused = m.rejectedIndex;
    if (refused !== undefined) {
      if (refused < pr.match) return;
      if (pr.state === 'probe' && refused !== pr.next - 1) return;
    }
    const next = Math.max(pr.match + 1, Math.min(pr.next - 1, m.matchIndex + 1));
    this.becomeProbe(pr);
    if (this.membership.logReplicas.includes(pr.id)) {
      // Never below our commit index: the probe there carries logStart.
      pr.next = Math.max(next, this.commitIndex + 1);
    } else if (next < this.log.firstIndex()) {
      // It refused our probe at the compaction boundary: only a snapshot can catch it up.
      pr.needsSnapshot = true;
    } else {
      pr.next = next;
    }
  }

  private maybeSendTimeoutNow(pr: Progress): void {
    const t = this.transfer;
    if (t === undefined || t.to !== pr.id || t.timeoutNowSent) return;
    if (pr.match !== this.log.lastIndex()) return;
    t.timeoutNowSent = true;
    const m: TimeoutNowMessage = { type: 'timeoutNow', group: this.cfg.group, from: this.id, to: pr.id, term: this.currentTerm };
    this.msgs.push(m);
  }

  // ---------------------------------------------------------------- follower

  private reply(m: AppendMessage, success: boolean, matchIndex: number): void {
    const r: AppendReplyMessage = {
      type: 'appendReply', group: this.cfg.group, from: this.id, to: m.from, term: this.currentTerm,
      success, matchIndex, sentTick: m.sentTick,
    };
    if (!success) r.rejectedIndex = m.prevIndex;
    // Acknowledges durability (and carries our term): only after this Ready is persisted.
    this.msgsAfterPersist.push(r);
  }

  private onAppend(m: AppendMessage): void {
    if (m.term < this.currentTerm) {
      // A deposed leader: tell it our term so it steps down.
      return this.reply(m, false, this.log.lastIndex());
    }
    invariant(!(m.term === this.currentTerm && this.currentRole === 'leader'),
      () => `group ${this.cfg.group}: two leaders (${this.id} and ${m.from}) in term ${m.term}`);
    if (m.term > this.currentTerm || this.currentRole !== 'follower') this.becomeFollower(m.term, m.from);
    this.leaderId = m.from;
    this.electionElapsed = 0;
    this.lastLeaderContactTick = this.now;
    this.leaderCompactable = m.compactable;

    let prevIndex = m.prevIndex;
    let entries = m.entries;
    for (let k = 0; k < entries.length; k++) {
      invariant(entries[k].index === prevIndex + 1 + k, () => `append from ${m.from}: entries not contiguous after ${prevIndex}`);
    }
    let prevMatches: boolean;
    if (prevIndex < this.commitIndex) {
      // Our committed prefix is in every later leader's log: skip what it covers.
      const skip = Math.min(entries.length, this.commitIndex - prevIndex);
      entries = entries.slice(skip);
      prevIndex += skip;
      prevMatches = true;
    } else {
      prevMatches = prevIndex <= this.log.lastIndex() && this.log.term(prevIndex) === m.prevTerm;
    }
    if (!prevMatches && m.logStart === true && this.isLogReplica) {
      // prevIndex is committed (the leader says so) and at or above our commit index: what
      // we hold past our commit index does not match the leader, and nothing up to
      // prevIndex is ever needed by a replica that neither applies nor leads. Start there.
      this.restartLog(prevIndex, m.prevTerm);
      prevMatches = true;
    }
    if (!prevMatches) {
      const last = this.log.lastIndex();
      const hint = prevIndex > last ? last : this.log.findConflictByTerm(Math.min(prevIndex - 1, last), m.prevTerm);
      return this.reply(m, false, hint);
    }
    let k = 0;
    for (; k < entries.length; k++) {
      const e = entries[k];
      if (e.index > this.log.lastIndex()) break;
      if (this.log.term(e.index) !== e.term) {
        invariant(e.index > this.commitIndex,
          () => `replica ${this.id}: conflict at committed index ${e.index} (commit ${this.commitIndex})`);
        this.truncateLog(e.index);
        break;
      }
    }
    if (k < entries.length) this.appendToLog(k === 0 ? entries : entries.slice(k));
    let matched = prevIndex + entries.length;
    // Entries of the leader's term past what it sent came from the leader: they match.
    const last = this.log.lastIndex();
    if (last > matched && this.log.term(last) === m.term) matched = last;
    const newCommit = Math.min(m.commit, matched);
    if (newCommit > this.commitIndex) this.commitIndex = newCommit;
    if (m.commitOnly === true && entries.length === 0) return;
    this.reply(m, true, matched);
  }

  // ---------------------------------------------------------------- elections

  private onPreVote(m: PreVoteMessage): void {
    // No state changes here, on either side: that is the point of a pre-vote. A grant
    // carries the asked-for term; a refusal carries ours, so a candidate that is behind
    // learns the term it has to catch up with (etcd does the same).
    const granted = m.term > this.currentTerm && !this.heardLeaderRecently() && this.isUpToDate(m.lastIndex, m.lastTerm);
    const r: PreVoteReplyMessage = {
      type: 'preVoteReply', group: this.cfg.group, from: this.id, to: m.from,
      term: granted ? m.term : this.currentTerm, granted,
    };
    this.msgs.push(r);
  }

  private onPreVoteReply(m: PreVoteReplyMessage): void {
    if (!m.granted && m.term > this.currentTerm) return this.becomeFollower(m.term, undefined);
    if (this.currentRole !== 'preCandidate') return;
    // Grants come at our term + 1, refusals at our term; anything else is stale.
    if (m.granted ? m.term !== this.currentTerm + 1 : m.term !== this.currentTerm) return;
    if (this.votes.has(m.from)) return;
    this.votes.set(m.from, m.granted);
    const outcome = this.tally();
    if (outcome === 'won') this.becomeCandidate(false);
    else if (outcome === 'lost') {
      this.preVotesFailed++;
      this.becomeFollower(this.currentTerm, undefined);
    }
  }

  private onVote(m: VoteMessage): void {
    const transfer = m.transfer === true;
    if (m.term > this.currentTerm) {
      // Stickiness: while we hear a leader, a candidate is disrupting it; refuse without
      // adopting its term (unless the leader itself asked for this election).
      if (this.heardLeaderRecently() && !transfer) return this.voteReply(m, false);
      this.becomeFollower(m.term, undefined);
    }
    let granted = false;
    if (m.term === this.currentTerm) {
      const free = this.votedFor === -1 || this.votedFor === m.from;
      const sticky = this.votedFor !== m.from && this.heardLeaderRecently() && !transfer;
      granted = free && !sticky && this.isUpToDate(m.lastIndex, m.lastTerm);
    }
    if (granted && this.votedFor !== m.from) {
      this.votedFor = m.from;
      this.hardStateDirty = true;
      this.resetElectionTimer();
    }
    this.voteReply(m, granted);
  }

  private voteReply(m: VoteMessage, granted: boolean): void {
    const r: VoteReplyMessage = { type: 'voteReply', group: this.cfg.group, from: this.id, to: m.from, term: this.currentTerm, granted };
    // A granted vote must be durable before the candidate can count it.
    this.msgsAfterPersist.push(r);
  }

  private onVoteReply(m: VoteReplyMessage): void {
    if (m.term > this.currentTerm) return this.becomeFollower(m.term, undefined);
    if (this.currentRole !== 'candidate' || m.term !== this.currentTerm) return;
    if (this.votes.has(m.from)) return;
    this.votes.set(m.from, m.granted);
    const outcome = this.tally();
    if (outcome === 'won') this.becomeLeader();
    else if (outcome === 'lost') this.becomeFollower(this.currentTerm, undefined);
  }

  private onTimeoutNow(m: TimeoutNowMessage): void {
    // Only from the leader we follow, in our term: a stale or duplicated one is ignored.
    if (m.term !== this.currentTerm || this.leaderId !== m.from || this.currentRole !== 'follower') return;
    if (!this.canCampaign()) return;
    this.becomeCandidate(true);
  }

  /** Log replicas: the log restarts after committed entry `index` of term `term`. */
  private restartLog(index: number, term: number): void {
    invariant(index >= this.commitIndex, () => `replica ${this.id}: log restart at ${index} below commit ${this.commitIndex}`);
    this.log.restartAt(index, term);
    this.pendingLogStart = { index, term };
    this.logStartInFlight = true;
    this.dropConfigsFrom(index + 1);
    this.commitIndex = index;
    this.appliedIndex = Math.max(this.appliedIndex, index);
  }

  private hardState(): HardState {
    return { term: this.currentTerm, vote: this.votedFor, commit: this.commitIndex };
  }
}

function checkConfig(c: ReplicaConfig): void {
  const fail = (msg: string): never => {
    throw new ReplicationInvariantError(`ReplicaConfig: ${msg}`);
  };
  const posInt = (name: keyof ReplicaConfig, v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(`config.${name} must be a positive integer, got ${String(v)}`);
  };
  posInt('electionTicks', c.electionTicks);
  posInt('heartbeatTicks', c.heartbeatTicks);
  posInt('leaseTicks', c.leaseTicks);
  posInt('maxAppendBytes', c.maxAppendBytes);
  posInt('maxInflightAppends', c.maxInflightAppends);
  if (c.leaseTicks >= c.electionTicks) {
    fail(`config.leaseTicks (${c.leaseTicks}) must be < config.electionTicks (${c.electionTicks}): a lease must run out before a replica that acknowledged it may vote again`);
  }
  if (c.heartbeatTicks >= c.electionTicks) {
    fail(`config.heartbeatTicks (${c.heartbeatTicks}) must be < config.electionTicks (${c.electionTicks}): followers would time out between heartbeats`);
  }
  if (!Number.isInteger(c.id) || c.id < 0) fail(`config.id must be a non-negative integer, got ${c.id}`);
  if (!Array.isArray(c.voters) || c.voters.length === 0) fail('config.voters must be a non-empty array');
  if (new Set(c.voters).size !== c.voters.length) fail(`config.voters has duplicates: ${c.voters.join(',')}`);
  // A replica outside its membership is allowed: it was removed (and may be added back).
  const problem = membershipProblem({ voters: c.voters, logReplicas: c.logReplicas ?? [], awaited: c.awaited ?? [] });
  if (problem !== undefined) fail(`config membership: ${problem}`);
  if (typeof c.random !== 'function') fail('config.random must be a function returning [0, 1)');
  const hs = c.hardState;
  if (!hs || !Number.isInteger(hs.term) || hs.term < 0) fail('config.hardState.term must be a non-negative integer');
  if (!Number.isInteger(hs.vote) || hs.vote < -1) fail(`config.hardState.vote (${hs.vote}) is neither -1 nor a replica id`);
  if (!Number.isInteger(hs.commit) || hs.commit < 0) fail('config.hardState.commit must be a non-negative integer');
  if (!Number.isInteger(c.applied) || c.applied < 0) fail('config.applied must be a non-negative integer');
}
