/** shardbox: an embedded, replicated DynamoDB-style store. */
export { ShardBox, ShardBoxClient, type RequestOptions, type ShardBoxOptions, type RouterPort, type FaultEndpoint, type RottedItem, type NodeRestart, type IndexCheck, type IndexLag } from './api/index.js';
export type { FormatVersion } from './transport/protocol.js';
export type * from './api-types.js';
export { DynamoDBError, type DynamoDBErrorName } from './model/errors.js';
export type { AttributeValue, Item, KeyShape } from './model/types.js';
export { startServer, type ServerOptions, type ShardBoxServer } from './server/http.js';
export { sdkHandler, type SdkHandler } from './server/sdk-handler.js';
export {
  LatencyTracker, READ_STAGES, WRITE_STAGES,
  type EncodedLatency, type KindLatency, type LatencySnapshot, type RequestTiming, type StageName, type StagePercentiles,
} from './router/latency.js';
export type { ArchiveApi } from './api/archive.js';
export type { AdmissionOptions, ArchiveOptions } from './api/options.js';
export type { CapacityFigures, CapacityReport, PartitionCapacity, TableCapacity } from './api/capacity.js';
export {
  ArchiveHoleError, ArchiveObjectError, readArchivedEntries, verifyArchive,
  type ArchiveHole, type ArchiveManifest, type ArchiveMismatch, type ArchiveVerification, type ArchivedRange, type NodeArchivePass,
} from './control/archiver.js';
export { DirectoryObjectStore, type ObjectStore } from './control/object-store.js';
export type { ScrubReport, ScrubMismatch } from './control/scrub.js';
