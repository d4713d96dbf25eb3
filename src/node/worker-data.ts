/** What the control plane hands a storage-node thread when it starts it. */
import path from 'node:path';
import type { FabricBuffers } from '../transport/fabric.js';
import type { NodeTiming } from './constants.js';

export type Durability = 'sync' | 'async';

/** Where a node under the power-off emulation keeps its last checkpoint's B-tree copy. */
export function powerLossCopyDir(nodeDir: string): string {
  return path.join(nodeDir, 'power-loss-copy');
}

export interface NodeLogSettings {
  walRetainEntries: number;
  walSegmentBytes: number;
  snapshotBytesPerSec: number;
}

export interface NodeWorkerData {
  nodeId: number;
  dir: string;
  durability: Durability;
  /** Keep sealed WAL segments for the archiver (ShardBox's `archive` option). */
  archiveWal?: boolean;
  /** The power-off test's emulation (ShardBox's emulatePowerLoss): the node keeps here
   *  (Float64Array: segment, bytes) how far its WAL is durable. */
  powerLoss?: SharedArrayBuffer;
  fabric: FabricBuffers;
  timing: NodeTiming;
  /** WAL and snapshot settings (ShardBox.open's walRetainEntries, walSegmentBytes,
   *  snapshotBytesPerSec). */
  log: NodeLogSettings;
  seed: number;
  /** Int32Array words: [CONTROL_STOP, CONTROL_STATE, CONTROL_PAUSE_MS, CONTROL_PAUSES_BEGUN,
   *  CONTROL_HAND_OVER, CONTROL_HANDED_OVER, CONTROL_KILL]. */
  control: SharedArrayBuffer;
  /** The cluster's cut links (`LinkCuts`), shared by every thread and kept across restarts. */
  links: SharedArrayBuffer;
  /** The control plane's admission board (model/admission-board.ts): table capacities the
   *  node's partition buckets run at. Absent: the node throttles nothing. */
  admission?: SharedArrayBuffer;
  /** Stamp replies with the stages' times (ShardBox's latencyAttribution). */
  latencyAttribution: boolean;
}

export const CONTROL_STOP = 0;
export const CONTROL_STATE = 1;
export const NODE_STATE_STARTING = 0;
export const NODE_STATE_RUNNING = 1;
export const NODE_STATE_STOPPED = 2;
/** Fault injection: a pause the node has been asked for (ms); the node takes it (sets 0)
 *  between two rounds and sleeps that long, answering nothing. */
export const CONTROL_PAUSE_MS = 2;
/** Pauses the node has begun: the control plane waits for it to move. */
export const CONTROL_PAUSES_BEGUN = 3;
/** Set by the supervisor before a planned stop: hand every leadership over. */
export const CONTROL_HAND_OVER = 4;
/** Set by the node while handing over: 1 once it leads nothing and owes no write an answer. */
export const CONTROL_HANDED_OVER = 5;
/** Set by the supervisor to crash the node: the thread exits at once, between two steps of
 *  its loop, with nothing flushed, closed or checkpointed (KILL_EXIT), or dies of an error
 *  there, as a software fault would (KILL_FAIL). */
export const CONTROL_KILL = 6;
export const KILL_EXIT = 1;
export const KILL_FAIL = 2;
export const CONTROL_WORDS = 7;
