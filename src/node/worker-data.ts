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
  /** Int32Array words: [CONTROL_STOP, CONTROL_STATE]. */
  control: SharedArrayBuffer;
}

export const CONTROL_STOP = 0;
export const CONTROL_STATE = 1;
export const NODE_STATE_STARTING = 0;
export const NODE_STATE_RUNNING = 1;
export const NODE_STATE_STOPPED = 2;
export const CONTROL_WORDS = 2;
