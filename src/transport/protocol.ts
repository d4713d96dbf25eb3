/**
 * What travels on the rings, as plain data (msgpack-encoded by the codec). One ring
 * record carries one envelope, and an envelope carries a batch: a node drains its inbox,
 * steps every core, and sends each peer one record per round, so the cost of a record
 * (CRC, doorbell) is paid per batch, not per message.
 *
 * Bodies stay `unknown` here: transport moves bytes and owns none of the rooms whose
 * types they are (replication messages, storage requests).
 */

/** Why a node did not serve a request; the router reacts (re-route, wait, refresh map). */
export type Redirect =
  /** This replica is not the leader; `leader` is its best guess. Safe to retry. */
  | 'notLeader'
  /** The leader is elected but not serving yet (waiting out the old lease). Retry soon. */
  | 'notReady'
  /** This node hosts no such group (stale partition map). Refresh the map and retry. */
  | 'noGroup'
  /** Too many writes in flight on this group. Retry after a short wait. */
  | 'busy';

export interface RequestMessage {
  id: number;
  group: number;
  body: unknown;
}

export interface ReplyMessage {
  id: number;
  /** Present when served (an error from the data, such as ConditionalCheckFailed, is a body too). */
  body?: unknown;
  redirect?: Redirect;
  /** Leader hint with `notLeader`/`notReady`. */
  leader?: number;
  /** The node could not serve the request at all (DynamoDB-shaped, see model/errors). */
  error?: { name: string; message: string };
}

export type Envelope =
  | { k: 'raft'; msgs: unknown[] }
  | { k: 'req'; from: number; reqs: RequestMessage[] }
  | { k: 'rep'; reps: ReplyMessage[] };
