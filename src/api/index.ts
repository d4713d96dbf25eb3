/** The embedded API: `ShardBox.open()` and what a client thread or the server needs of it. */
export { ShardBox, ShardBoxClient, type RouterPort } from './cluster.js';
export { ItemOperations, type RequestOptions } from './item-operations.js';
export type { ShardBoxOptions } from './options.js';
export type { FaultEndpoint } from './faults.js';
export type { RottedItem } from '../storage/index.js';
export type { NodeRestart } from './deployments.js';
export type { IndexCheck } from './indexes.js';
export type { IndexLag } from '../control/global-indexes.js';
