/** The storage room: one NodeStore per storage node (WAL + items B-tree). */
export { NodeStore, WalChecksumError, ItemChecksumError, type RottedItem, type NodeWalArchiveView, type NodeStoreOptions, type NodeStoreStats, type GroupRecord, type PersistRecord } from './node-store.js';
export { encodeWriteOp, decodeWriteOp, encodeItem, decodeItem } from './codec.js';
export { PAGE_BYTES_MAX } from './items.js';
export * from './operations.js';
export { readSegmentRecords, WalSegmentError, type WalRecord, type WalSegmentFile, type WalArchiveView } from './wal.js';
