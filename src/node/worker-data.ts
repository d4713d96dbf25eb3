/** What the control plane hands a storage-node thread when it starts it. */
import type { FabricBuffers } from '../transport/fabric.js';
import type { NodeTiming } from './constants.js';

export type Durability = 'sync' | 'async';

export interface NodeWorkerData {
  nodeId: number;
  dir: string;
  durability: Durability;
  fabric: FabricBuffers;
  timing: NodeTiming;
  seed: number;
  /** Int32Array words: [CONTROL_STOP, CONTROL_STATE, CONTROL_HAND_OVER, CONTROL_HANDED_OVER]. */
  control: SharedArrayBuffer;
}

export const CONTROL_STOP = 0;
export const CONTROL_STATE = 1;
export const NODE_STATE_STARTING = 0;
export const NODE_STATE_RUNNING = 1;
export const NODE_STATE_STOPPED = 2;
/** Set by the supervisor before a planned stop: hand every leadership over. */
export const CONTROL_HAND_OVER = 2;
/** Set by the node while handing over: 1 once it leads nothing and owes no write an answer. */
export const CONTROL_HANDED_OVER = 3;
export const CONTROL_WORDS = 4;
