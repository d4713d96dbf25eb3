/**
 * What a secondary index is, as plain data every room shares (metadata, the partition
 * map, the storage apply): its key, its projection, and the id of its key space.
 */
import type { ScalarAttributeType } from './types.js';

export type ProjectionType = 'KEYS_ONLY' | 'INCLUDE' | 'ALL';

export interface IndexProjection {
  type: ProjectionType;
  /** INCLUDE: the non-key attributes projected besides the keys. */
  nonKeyAttributes?: string[];
}

export interface IndexKeyAttribute {
  name: string;
  type: ScalarAttributeType;
}

/** An index key: one or more hash attributes, zero or more range attributes (DynamoDB's
 *  multi-attribute GSI keys allow up to 4 of each; an LSI has one of each). */
export interface IndexKeySpec {
  hash: IndexKeyAttribute[];
  range: IndexKeyAttribute[];
}

export interface IndexSpec {
  /** Its key space in the B-tree (allocated from the table ids). */
  id: number;
  name: string;
  key: IndexKeySpec;
  projection: IndexProjection;
}
