export { crc32c, crc32cWords, LITTLE_ENDIAN } from '../checksum/crc32c.js';
export {
  Ring,
  PADDING_KIND,
  RECORD_ALIGN_BYTES,
  RECORD_HEADER_BYTES,
  RING_CONTROL_BYTES,
  RING_MAGIC,
  RING_MAX_CAPACITY_BYTES,
  RING_MIN_CAPACITY_BYTES,
  type RecordSpanVisitor,
  type RecordVisitor,
  type RingStats,
} from './ring.js';
export { Doorbell, DOORBELL_BYTES, type DoorbellOptions, type WakeReason } from './doorbell.js';
export {
  FORMAT_VERSION,
  IN_PLACE_RESERVE_BYTES,
  MessageCodec,
  isReadableVersion,
  messageCodec,
  readMessages,
  writeMessage,
  type MessageCodecOptions,
  type MessageVisitor,
} from './codec.js';
// Written in this folder by the node/router engineers; re-exported so the room has one entry.
export * from './fabric.js';
export type * from './protocol.js';
