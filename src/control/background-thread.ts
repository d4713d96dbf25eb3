/**
 * Imported first by every module the background pool runs (background-pool.ts): the
 * lowest scheduling priority for that thread only (Linux gives each thread its own nice
 * value). On a machine whose cores the storage nodes and clients share, a rebuild or a
 * backup chunk takes what they leave instead of a core's fair share from the foreground.
 */
import { setPriority } from 'node:os';
import { isMainThread } from 'node:worker_threads';

if (!isMainThread) setPriority(19);
