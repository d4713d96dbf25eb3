/**
 * Quorum math, kept apart from the state machine so it can be tested with tables.
 * Pure functions over plain numbers; no allocation beyond one sorted copy.
 */

/** Votes needed out of `voterCount`: a strict majority. */
export function quorumSize(voterCount: number): number {
  if (!Number.isInteger(voterCount) || voterCount < 1) {
    throw new RangeError(`quorumSize: voterCount must be a positive integer, got ${voterCount}`);
  }
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The `quorum`-th highest value of `values` (1-based): the largest x such that at least
 * `quorum` values are >= x. With match indexes it is the highest index a quorum holds;
 * with acknowledged send ticks it is the latest tick a quorum has vouched for.
 * Missing voters should be passed as -Infinity (or 0 for indexes), never left out.
 */
export function quorumthHighest(values: readonly number[], quorum: number): number {
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > values.length) {
    throw new RangeError(`quorumthHighest: quorum ${quorum} out of range for ${values.length} values`);
  }
  const sorted = values.slice().sort((a, b) => b - a);
  return sorted[quorum - 1];
}

export type VoteOutcome = 'won' | 'lost' | 'pending';

/**
 * Outcome of an election (or pre-vote) among `voterCount` voters: won once `granted`
 * reaches a quorum, lost once enough rejected that a quorum is out of reach.
 */
export function voteOutcome(voterCount: number, granted: number, rejected: number): VoteOutcome {
  const q = quorumSize(voterCount);
  if (granted + rejected > voterCount) {
    throw new RangeError(`voteOutcome: ${granted} granted + ${rejected} rejected > ${voterCount} voters`);
  }
  if (granted >= q) return 'won';
  if (voterCount - rejected < q) return 'lost';
  return 'pending';
}
