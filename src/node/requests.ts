/**
 * The bodies of requests a router sends to a storage node, and of their replies. Data
 * operations name one replication group (partition); control operations (`createGroup`,
 * `dropGroup`, `status`, `digest`) come from the control plane through the main router.
 */
import type { GroupRecord, RottedItem } from '../storage/index.js';
import type {
  GetRequest, GetResult, OutboxRecord, PageResult, QueryRequest, ScanRequest, WriteResult,
} from '../storage/operations.js';
import type { Membership, ReplicaStatus } from '../replication/types.js';

export type NodeRequestBody =
  /** A write, already encoded as its log entry's data (`encodeWriteOp`) by the api: the
   *  leader proposes these bytes as they are, with no decode or re-encode on its thread. */
  | { t: 'write'; entry: Uint8Array; u?: number }
  /** `h`: the partition-key hash as its high and low 32 bits, as the router computed it
   *  (the leader samples it for split decisions without hashing again). */
  | { t: 'get'; consistent: boolean; req: GetRequest; u?: number; h?: [number, number] }
  | { t: 'query'; consistent: boolean; req: QueryRequest; u?: number; h?: [number, number] }
  | { t: 'scan'; consistent: boolean; req: ScanRequest; u?: number }
  /** The node's partition buckets (PartitionAdmissionStats[]). Data requests that carry
   *  `u` (an estimate of their capacity units, set by the api) pass the node's admission
   *  control (node/admission.ts) first; those without are the control plane's own. */
  | { t: 'admission' }
  /** Leader only, like a strong read: the group's outbox records (global-index changes)
   *  after log index `after`, at most `max`, each with when this leader applied it. With
   *  `waitMs`, a read that finds none waits (at most that long, capped) for the group's
   *  next apply: a long poll. */
  | { t: 'outbox'; after: number; max: number; waitMs?: number }
  /** Any replica: entries and bytes of key space `spaceId` (an index) in the group's range. */
  | { t: 'spaceStats'; spaceId: number }
  /** Host a replica of `rec.group` (idempotent); `campaign` asks it to stand for leader now.
   *  `votedFor`: a replica added to a running group starts as having voted for its leader
   *  in the leader's term (`rec.logReplica` makes it a log replica). */
  | { t: 'createGroup'; rec: GroupRecord; campaign: boolean; votedFor?: { term: number; vote: number } }
  /** Leader only: propose `next` as the group's membership (ReplicaCore.proposeMembership);
   *  answered at once with the entry's index or why it was refused. */
  | { t: 'changeMembership'; next: Membership }
  /** Statuses of the node's replicas that lead (the control plane's poll, one per node). */
  | { t: 'leaders' }
  /** Answered `{ dropped: true }` once the group is gone here; `{ dropped: false }` while a
   *  split parent's split is not yet durable in this node's B-tree (ask again later). */
  | { t: 'dropGroup' }
  /** Leader only: split the group at hash `at` into groups `children` (node/split.ts).
   *  Answered once the split entry applied on the leader; `{ split }` (a SplitDone) when
   *  this replica applied it already. */
  | { t: 'split'; at: string; children: [number, number] }
  /** The group's record on this node (table, range, membership, indexes): what a new
   *  replica of it is created with. */
  | { t: 'groupRecord' }
  /** A consistent snapshot of the group's data read out in pieces (backups, the
   *  archive): the first call (no `session`) opens one on this replica; each answers the
   *  next rows, about `maxBytes` of them (ExportReply). A session unused for 10 s closes. */
  | { t: 'exportSnapshot'; session?: number; maxBytes: number; keepDamaged?: boolean }
  /** Scrub found this replica's data different from the archive's: repair it from the
   *  leader (as a group with a damaged value is). */
  | { t: 'repairGroup'; reason: string }
  /** Leader only: hand leadership to `to` (ReplicaCore.transferLeadership). */
  | { t: 'transferLeadership'; to: number }
  | { t: 'status' }
  /** Leader only: the window of the group's traffic since the last `load` (a
   *  LoadObservation, or undefined before any), and a new window begins. */
  | { t: 'load' }
  | { t: 'digest' }
  /** Answered like a strong read: served only by a leader that may serve (for waiting
   *  until a new partition is ready). */
  | { t: 'serving' }
  /** Answered by any live node: is the thread up? */
  | { t: 'ping' }
  /** The node's counters (rounds, group commits, ring and store statistics). */
  | { t: 'stats' }
  /** WAL archiving: the segments to archive and the applied indexes (a
   *  NodeWalArchiveView, or `{ off: true }`); `seal` seals the current segment first. */
  | { t: 'walArchive'; seal: boolean }
  /** WAL archiving: segments <= `segment` are archived (answered `{ archived: segment }`). */
  | { t: 'walArchived'; segment: number }
  /** Fault injection: flip a byte in this fraction of the records this node writes to
   *  `peer`, after their checksum is computed (0 heals the link). */
  | { t: 'corruptLink'; peer: number; rate: number; seed: number }
  /** Fault injection: flip a byte at rest in `count` distinct stored items of this node's
   *  tables, drawn from `seed`, without fixing their checksums (answered with RotReply). */
  | { t: 'rot'; count: number; seed: number };

/** A piece of an exported snapshot: rows packed as snapshot chunks are (storage/snapshot.ts),
 *  with their CRC32C. The first piece also carries the group's record. */
export interface ExportReply {
  /** The node holding the session: every later piece is asked of it. */
  node: number;
  session: number;
  /** The applied index the snapshot reflects, and that entry's term. */
  index: number;
  term: number;
  rec?: GroupRecord;
  payload: Uint8Array;
  crc: number;
  done: boolean;
}

export type WriteReply = WriteResult;
export type GetReply = GetResult;
export type PageReply = PageResult;
export type OutboxReply = OutboxRecord[];
export type StatusReply = ReplicaStatus;
/** `bytes`: the items' size as DynamoDB counts it (TableSizeBytes). */
export interface DigestReply { applied: number; items: number; crc: number; bytes?: number }

/** The items `rot` damaged; none when the node holds fewer than asked (`available`). */
export interface RotReply { damaged: RottedItem[]; available: number }

export type { GroupRecord };
