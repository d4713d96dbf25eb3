/**
 * Request and response shapes of the embedded API: DynamoDB's own (the low-level
 * `AttributeValue` JSON of the AWS SDK's `@aws-sdk/client-dynamodb`, with binary as
 * `Uint8Array`), so the HTTP server and an SDK request handler are thin adapters.
 */
import type { BillingMode } from './control/metadata.js';
import type { AttributeDefinition, AttributeValue, Item, KeySchemaElement } from './model/types.js';

export type { AttributeDefinition, AttributeValue, BillingMode, Item, KeySchemaElement };

export type ReturnValue = 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';
export type ReturnConsumedCapacity = 'INDEXES' | 'TOTAL' | 'NONE';

export interface ProvisionedThroughput { ReadCapacityUnits: number; WriteCapacityUnits: number }

export interface ConsumedCapacity {
  TableName: string;
  CapacityUnits: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
  /** With ReturnConsumedCapacity INDEXES: the part the table itself consumed, and each index's. */
  Table?: { CapacityUnits: number };
  LocalSecondaryIndexes?: Record<string, { CapacityUnits: number }>;
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits: number }>;
}

export interface Projection {
  ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  NonKeyAttributes?: string[];
}

export interface LocalSecondaryIndex {
  IndexName: string;
  KeySchema: KeySchemaElement[];
  Projection: Projection;
}

export interface GlobalSecondaryIndex extends LocalSecondaryIndex {
  /** Required on PROVISIONED tables, absent on PAY_PER_REQUEST ones. */
  ProvisionedThroughput?: ProvisionedThroughput;
}

export interface CreateTableInput {
  TableName: string;
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: AttributeDefinition[];
  BillingMode?: BillingMode;
  ProvisionedThroughput?: ProvisionedThroughput;
  Tags?: Array<{ Key: string; Value: string }>;
  /** Up to 5, with the table's partition key and a sort key of their own. */
  LocalSecondaryIndexes?: LocalSecondaryIndex[];
  /** Up to 20, any key (up to 4 HASH and 4 RANGE attributes). */
  GlobalSecondaryIndexes?: GlobalSecondaryIndex[];
}

export interface LocalSecondaryIndexDescription {
  IndexName: string;
  KeySchema: KeySchemaElement[];
  Projection: Projection;
  IndexSizeBytes: number;
  ItemCount: number;
  IndexArn: string;
}

export interface GlobalSecondaryIndexDescription extends LocalSecondaryIndexDescription {
  IndexStatus: 'CREATING' | 'UPDATING' | 'DELETING' | 'ACTIVE';
  /** While an index added to a table with items is being filled from it. */
  Backfilling?: boolean;
  ProvisionedThroughput: ProvisionedThroughput & {
    NumberOfDecreasesToday: number;
    LastIncreaseDateTime?: Date;
    LastDecreaseDateTime?: Date;
  };
}

export interface TableDescription {
  TableName: string;
  TableStatus: 'CREATING' | 'UPDATING' | 'ACTIVE' | 'DELETING';
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: AttributeDefinition[];
  CreationDateTime: Date;
  ProvisionedThroughput: ProvisionedThroughput & {
    NumberOfDecreasesToday: number;
    LastIncreaseDateTime?: Date;
    LastDecreaseDateTime?: Date;
  };
  /** Present on PAY_PER_REQUEST tables, and on PROVISIONED tables that were ever
   *  PAY_PER_REQUEST (as DynamoDB does: absent on a table created PROVISIONED). */
  BillingModeSummary?: { BillingMode: BillingMode; LastUpdateToPayPerRequestDateTime?: Date };
  TableSizeBytes: number;
  ItemCount: number;
  TableArn: string;
  TableId: string;
  /** Only when true (DynamoDB's answers leave out a false one, as dynalite recorded). */
  DeletionProtectionEnabled?: boolean;
  /** On PAY_PER_REQUEST tables. */
  TableThroughputModeSummary?: { TableThroughputMode: BillingMode };
  LocalSecondaryIndexes?: LocalSecondaryIndexDescription[];
  GlobalSecondaryIndexes?: GlobalSecondaryIndexDescription[];
  /** On a table restored from a backup. */
  RestoreSummary?: RestoreSummary;
}

export interface RestoreSummary {
  SourceBackupArn?: string;
  SourceTableArn?: string;
  RestoreDateTime: Date;
  /** True while the backup's items are still being written into the table. */
  RestoreInProgress: boolean;
}

export interface DescribeTableInput { TableName: string }
export interface DeleteTableInput { TableName: string }
export interface ListTablesInput { ExclusiveStartTableName?: string; Limit?: number }
export interface ListTablesOutput { TableNames: string[]; LastEvaluatedTableName?: string }

interface ExpressionInput {
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}

/** Legacy `Expected` entry (conditions before ConditionExpression existed). */
export interface ExpectedAttributeValue {
  Value?: AttributeValue;
  Exists?: boolean;
  ComparisonOperator?: string;
  AttributeValueList?: AttributeValue[];
}

interface ConditionalInput extends ExpressionInput {
  ConditionExpression?: string;
  Expected?: Record<string, ExpectedAttributeValue>;
  ConditionalOperator?: 'AND' | 'OR';
  ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' | 'NONE';
  ReturnConsumedCapacity?: ReturnConsumedCapacity;
  ReturnItemCollectionMetrics?: ReturnItemCollectionMetrics;
}

/** The item collection (items sharing a partition key, with their local-index entries)
 *  a write touched: its key and an estimate of its size in GB, as a range. */
export interface ItemCollectionMetrics { ItemCollectionKey: Item; SizeEstimateRangeGB: [number, number] }

export interface PutItemInput extends ConditionalInput {
  TableName: string;
  Item: Item;
  ReturnValues?: ReturnValue;
}
export interface PutItemOutput { Attributes?: Item; ConsumedCapacity?: ConsumedCapacity; ItemCollectionMetrics?: ItemCollectionMetrics }

export interface GetItemInput extends ExpressionInput {
  TableName: string;
  Key: Item;
  ConsistentRead?: boolean;
  ProjectionExpression?: string;
  AttributesToGet?: string[];
  ReturnConsumedCapacity?: ReturnConsumedCapacity;
}
export interface GetItemOutput { Item?: Item; ConsumedCapacity?: ConsumedCapacity }

export interface DeleteItemInput extends ConditionalInput {
  TableName: string;
  Key: Item;
  ReturnValues?: ReturnValue;
}
export interface DeleteItemOutput { Attributes?: Item; ConsumedCapacity?: ConsumedCapacity; ItemCollectionMetrics?: ItemCollectionMetrics }

/** Legacy `AttributeUpdates` entry: what YCSB's DynamoDB binding sends. */
export interface AttributeValueUpdate { Action?: 'PUT' | 'DELETE' | 'ADD'; Value?: AttributeValue }

export interface UpdateItemInput extends ConditionalInput {
  TableName: string;
  Key: Item;
  UpdateExpression?: string;
  AttributeUpdates?: Record<string, AttributeValueUpdate>;
  ReturnValues?: ReturnValue;
}
export interface UpdateItemOutput { Attributes?: Item; ConsumedCapacity?: ConsumedCapacity; ItemCollectionMetrics?: ItemCollectionMetrics }

export type Select = 'ALL_ATTRIBUTES' | 'ALL_PROJECTED_ATTRIBUTES' | 'SPECIFIC_ATTRIBUTES' | 'COUNT';

export interface Condition { ComparisonOperator: string; AttributeValueList?: AttributeValue[] }

export interface QueryInput extends ExpressionInput {
  TableName: string;
  IndexName?: string;
  KeyConditionExpression?: string;
  KeyConditions?: Record<string, Condition>;
  FilterExpression?: string;
  /** Legacy filter (instead of FilterExpression), combined with ConditionalOperator. */
  QueryFilter?: Record<string, Condition>;
  ConditionalOperator?: 'AND' | 'OR';
  ProjectionExpression?: string;
  AttributesToGet?: string[];
  Select?: Select;
  Limit?: number;
  ScanIndexForward?: boolean;
  ExclusiveStartKey?: Item;
  ConsistentRead?: boolean;
  ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

export interface ScanInput extends ExpressionInput {
  TableName: string;
  IndexName?: string;
  FilterExpression?: string;
  /** Legacy filter (instead of FilterExpression), combined with ConditionalOperator. */
  ScanFilter?: Record<string, Condition>;
  ConditionalOperator?: 'AND' | 'OR';
  ProjectionExpression?: string;
  AttributesToGet?: string[];
  Select?: Select;
  Limit?: number;
  ExclusiveStartKey?: Item;
  ConsistentRead?: boolean;
  Segment?: number;
  TotalSegments?: number;
  ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

export interface PageOutput {
  Items?: Item[];
  Count: number;
  ScannedCount: number;
  LastEvaluatedKey?: Item;
  ConsumedCapacity?: ConsumedCapacity;
}
export type QueryOutput = PageOutput;
export type ScanOutput = PageOutput;

// ---- BatchGetItem / BatchWriteItem -----------------------------------------------------

/** What to read from one table in a BatchGetItem (DynamoDB's KeysAndAttributes). */
export interface KeysAndAttributes {
  Keys: Item[];
  ConsistentRead?: boolean;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  AttributesToGet?: string[];
}

export interface BatchGetItemInput {
  /** Table name → the keys to read from it: at most 100 keys in all tables together. */
  RequestItems: Record<string, KeysAndAttributes>;
  ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

export interface BatchGetItemOutput {
  /** Table name → the items found (in no particular order; missing keys are absent). */
  Responses: Record<string, Item[]>;
  /** Keys not read this time (16 MB response cap, or their partition was unavailable):
   *  send them again, as DynamoDB's clients do, with back-off. */
  UnprocessedKeys: Record<string, KeysAndAttributes>;
  /** One entry per table, when ReturnConsumedCapacity is TOTAL or INDEXES. */
  ConsumedCapacity?: ConsumedCapacity[];
}

export type ReturnItemCollectionMetrics = 'SIZE' | 'NONE';

/** One write of a BatchWriteItem: exactly one of PutRequest and DeleteRequest. */
export interface WriteRequest {
  PutRequest?: { Item: Item };
  DeleteRequest?: { Key: Item };
}

export interface BatchWriteItemInput {
  /** Table name → its writes: at most 25 writes in all tables together, no two on one item. */
  RequestItems: Record<string, WriteRequest[]>;
  ReturnConsumedCapacity?: ReturnConsumedCapacity;
  ReturnItemCollectionMetrics?: ReturnItemCollectionMetrics;
}

export interface BatchWriteItemOutput {
  /** Writes not applied because they failed retryably (throttled, partition unavailable):
   *  send them again. Every other write of the request was applied. */
  UnprocessedItems: Record<string, WriteRequest[]>;
  ConsumedCapacity?: ConsumedCapacity[];
  /** Only tables with local secondary indexes report item collections (with
   *  ReturnItemCollectionMetrics SIZE). */
  ItemCollectionMetrics?: Record<string, Array<{ ItemCollectionKey?: Item; SizeEstimateRangeGB?: number[] }>>;
}

// ---- UpdateTable -----------------------------------------------------------------------

export interface GlobalSecondaryIndexUpdate {
  Create?: GlobalSecondaryIndex;
  Update?: { IndexName: string; ProvisionedThroughput: ProvisionedThroughput };
  Delete?: { IndexName: string };
}

export interface UpdateTableInput {
  TableName: string;
  BillingMode?: BillingMode;
  ProvisionedThroughput?: ProvisionedThroughput;
  /** The key attributes of a GSI that GlobalSecondaryIndexUpdates creates. */
  AttributeDefinitions?: AttributeDefinition[];
  /** Create, Update (ProvisionedThroughput) or Delete one global secondary index. */
  GlobalSecondaryIndexUpdates?: GlobalSecondaryIndexUpdate[];
  /** Not supported yet (streams). */
  StreamSpecification?: unknown;
  /** Not supported yet (encryption settings). */
  SSESpecification?: unknown;
  /** Not supported yet (global tables). */
  ReplicaUpdates?: unknown[];
  /** Only STANDARD (every shardbox table's class) is accepted. */
  TableClass?: 'STANDARD' | 'STANDARD_INFREQUENT_ACCESS';
  /** Only false (shardbox tables have no deletion protection yet). */
  DeletionProtectionEnabled?: boolean;
  /** Not supported yet. */
  OnDemandThroughput?: unknown;
  /** Not supported yet. */
  WarmThroughput?: unknown;
  /** Not supported yet (global tables). */
  MultiRegionConsistency?: unknown;
  /** Not supported yet (global tables). */
  GlobalTableWitnessUpdates?: unknown[];
}

export interface GlobalSecondaryIndexUpdate {
  Create?: GlobalSecondaryIndex;
  Update?: { IndexName: string; ProvisionedThroughput: ProvisionedThroughput };
  Delete?: { IndexName: string };
}

export interface UpdateTableOutput { TableDescription: TableDescription }

// ---- Time to live ----------------------------------------------------------------------

export interface DescribeTimeToLiveInput { TableName: string }
export interface TimeToLiveDescription { TimeToLiveStatus: 'ENABLED' | 'DISABLED'; AttributeName?: string }
export interface DescribeTimeToLiveOutput { TimeToLiveDescription: TimeToLiveDescription }
export interface TimeToLiveSpecification { Enabled: boolean; AttributeName: string }
export interface UpdateTimeToLiveInput { TableName: string; TimeToLiveSpecification: TimeToLiveSpecification }
export interface UpdateTimeToLiveOutput { TimeToLiveSpecification: TimeToLiveSpecification }

// ---- Tags ------------------------------------------------------------------------------

export interface Tag { Key: string; Value: string }

export interface TagResourceInput {
  /** A table's ARN, as DescribeTable's TableArn gives it. */
  ResourceArn: string;
  Tags: Tag[];
}

export interface UntagResourceInput {
  ResourceArn: string;
  TagKeys: string[];
}

export interface ListTagsOfResourceInput {
  ResourceArn: string;
  /** The NextToken of the previous page. */
  NextToken?: string;
}

export interface ListTagsOfResourceOutput {
  Tags: Tag[];
  /** Present when more tags follow: pass it back as NextToken. */
  NextToken?: string;
}

// ---- DescribeEndpoints / DescribeLimits ------------------------------------------------

export interface DescribeEndpointsOutput { Endpoints: Array<{ Address: string; CachePeriodInMinutes: number }> }

export interface DescribeLimitsOutput {
  AccountMaxReadCapacityUnits: number;
  AccountMaxWriteCapacityUnits: number;
  TableMaxReadCapacityUnits: number;
  TableMaxWriteCapacityUnits: number;
}

/** DescribeEndpoints takes no parameters. */
export type DescribeEndpointsInput = Record<string, never>;
/** DescribeLimits takes no parameters. */
export type DescribeLimitsInput = Record<string, never>;

// ---- On-demand backups -----------------------------------------------------------------

export type BackupStatus = 'CREATING' | 'AVAILABLE' | 'DELETED';
export type BackupType = 'USER' | 'SYSTEM' | 'AWS_BACKUP';
export type BackupTypeFilter = BackupType | 'ALL';

export interface BackupDetails {
  /** `arn:aws:dynamodb:<region>:<account>:table/<table>/backup/<14-digit ms>-<8 hex>`. */
  BackupArn: string;
  BackupName: string;
  /** Bytes of the items backed up (known once AVAILABLE; 0 while CREATING). */
  BackupSizeBytes?: number;
  BackupStatus: BackupStatus;
  BackupType: BackupType;
  BackupCreationDateTime: Date;
  BackupExpiryDateTime?: Date;
}

export interface SourceTableDetails {
  TableName: string;
  TableId: string;
  TableArn?: string;
  TableSizeBytes?: number;
  KeySchema: KeySchemaElement[];
  TableCreationDateTime: Date;
  ProvisionedThroughput: ProvisionedThroughput;
  ItemCount?: number;
  BillingMode?: BillingMode;
}

export interface SourceTableFeatureDetails {
  LocalSecondaryIndexes?: Array<{ IndexName: string; KeySchema: KeySchemaElement[]; Projection: Projection }>;
  GlobalSecondaryIndexes?: Array<{ IndexName: string; KeySchema: KeySchemaElement[]; Projection: Projection; ProvisionedThroughput?: ProvisionedThroughput }>;
  TimeToLiveDescription?: TimeToLiveDescription;
}

export interface BackupDescription {
  BackupDetails: BackupDetails;
  SourceTableDetails: SourceTableDetails;
  SourceTableFeatureDetails: SourceTableFeatureDetails;
}

/** `TableName` may also be the table's ARN. */
export interface CreateBackupInput { TableName: string; BackupName: string }
export interface CreateBackupOutput { BackupDetails: BackupDetails }
export interface DescribeBackupInput { BackupArn: string }
export interface DescribeBackupOutput { BackupDescription: BackupDescription }
export interface DeleteBackupInput { BackupArn: string }
export interface DeleteBackupOutput { BackupDescription: BackupDescription }

export interface ListBackupsInput {
  /** Only this table's backups (a name or a table ARN). */
  TableName?: string;
  /** 1 to 100 per page. */
  Limit?: number;
  /** Created at or after (inclusive). */
  TimeRangeLowerBound?: Date;
  /** Created before (exclusive). */
  TimeRangeUpperBound?: Date;
  /** The LastEvaluatedBackupArn of the previous page. */
  ExclusiveStartBackupArn?: string;
  /** Default USER. */
  BackupType?: BackupTypeFilter;
}

export interface BackupSummary {
  TableName: string;
  TableId: string;
  TableArn: string;
  BackupArn: string;
  BackupName: string;
  BackupCreationDateTime: Date;
  BackupExpiryDateTime?: Date;
  BackupStatus: BackupStatus;
  BackupType: BackupType;
  BackupSizeBytes?: number;
}

export interface ListBackupsOutput {
  BackupSummaries: BackupSummary[];
  /** Present when more backups may follow: pass it back as ExclusiveStartBackupArn. */
  LastEvaluatedBackupArn?: string;
}

export interface RestoreTableFromBackupInput {
  TargetTableName: string;
  BackupArn: string;
  BillingModeOverride?: BillingMode;
  /** The restored table's global indexes: a subset of the backup's (each named as there,
   *  with its key schema; projection and throughput may differ). Default: all of them. */
  GlobalSecondaryIndexOverride?: GlobalSecondaryIndex[];
  /** The same for local indexes. */
  LocalSecondaryIndexOverride?: LocalSecondaryIndex[];
  ProvisionedThroughputOverride?: ProvisionedThroughput;
  /** shardbox does not encrypt tables: only `{ Enabled: false }` (or none) is accepted. */
  SSESpecificationOverride?: { Enabled?: boolean; SSEType?: string; KMSMasterKeyId?: string };
}

export interface RestoreTableFromBackupOutput { TableDescription: TableDescription }

// ---- Continuous backups and point-in-time recovery --------------------------------------------

export interface PointInTimeRecoverySpecification {
  PointInTimeRecoveryEnabled: boolean;
  /** How far back a restore may go, 1 to 35 days (default 35). */
  RecoveryPeriodInDays?: number;
}

export interface PointInTimeRecoveryDescription {
  PointInTimeRecoveryStatus: 'ENABLED' | 'DISABLED';
  RecoveryPeriodInDays?: number;
  EarliestRestorableDateTime?: Date;
  LatestRestorableDateTime?: Date;
}

export interface ContinuousBackupsDescription {
  ContinuousBackupsStatus: 'ENABLED' | 'DISABLED';
  PointInTimeRecoveryDescription: PointInTimeRecoveryDescription;
}

export interface UpdateContinuousBackupsInput { TableName: string; PointInTimeRecoverySpecification: PointInTimeRecoverySpecification }
export interface UpdateContinuousBackupsOutput { ContinuousBackupsDescription: ContinuousBackupsDescription }
export interface DescribeContinuousBackupsInput { TableName: string }
export interface DescribeContinuousBackupsOutput { ContinuousBackupsDescription: ContinuousBackupsDescription }

export interface RestoreTableToPointInTimeInput {
  /** The source table: its name, or (SourceTableArn) its ARN. */
  SourceTableName?: string;
  SourceTableArn?: string;
  TargetTableName: string;
  /** A time within [EarliestRestorableDateTime, LatestRestorableDateTime] (a Date, or
   *  epoch seconds), or UseLatestRestorableTime. */
  RestoreDateTime?: Date | number;
  UseLatestRestorableTime?: boolean;
  BillingModeOverride?: BillingMode;
  GlobalSecondaryIndexOverride?: GlobalSecondaryIndex[];
  LocalSecondaryIndexOverride?: LocalSecondaryIndex[];
  ProvisionedThroughputOverride?: ProvisionedThroughput;
  SSESpecificationOverride?: { Enabled?: boolean; SSEType?: string; KMSMasterKeyId?: string };
}
export interface RestoreTableToPointInTimeOutput { TableDescription: TableDescription }
