/**
 * Request and response shapes of the embedded API: DynamoDB's own (the low-level
 * `AttributeValue` JSON of the AWS SDK's `@aws-sdk/client-dynamodb`, with binary as
 * `Uint8Array`), so the HTTP server and an SDK request handler are thin adapters.
 */
import type { AttributeDefinition, AttributeValue, Item, KeySchemaElement } from './model/types.js';

export type { AttributeDefinition, AttributeValue, Item, KeySchemaElement };

export type ReturnValue = 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';
export type ReturnConsumedCapacity = 'INDEXES' | 'TOTAL' | 'NONE';
export type BillingMode = 'PROVISIONED' | 'PAY_PER_REQUEST';

export interface ProvisionedThroughput { ReadCapacityUnits: number; WriteCapacityUnits: number }

export interface ConsumedCapacity { TableName: string; CapacityUnits: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }

export interface CreateTableInput {
  TableName: string;
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: AttributeDefinition[];
  BillingMode?: BillingMode;
  ProvisionedThroughput?: ProvisionedThroughput;
  Tags?: Array<{ Key: string; Value: string }>;
}

export interface TableDescription {
  TableName: string;
  TableStatus: 'CREATING' | 'ACTIVE' | 'DELETING';
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: AttributeDefinition[];
  CreationDateTime: Date;
  ProvisionedThroughput: ProvisionedThroughput & { NumberOfDecreasesToday: number };
  BillingModeSummary?: { BillingMode: BillingMode; LastUpdateToPayPerRequestDateTime?: Date };
  TableSizeBytes: number;
  ItemCount: number;
  TableArn: string;
  TableId: string;
  DeletionProtectionEnabled: boolean;
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
}

export interface PutItemInput extends ConditionalInput {
  TableName: string;
  Item: Item;
  ReturnValues?: ReturnValue;
}
export interface PutItemOutput { Attributes?: Item; ConsumedCapacity?: ConsumedCapacity }

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
export interface DeleteItemOutput { Attributes?: Item; ConsumedCapacity?: ConsumedCapacity }

/** Legacy `AttributeUpdates` entry: what YCSB's DynamoDB binding sends. */
export interface AttributeValueUpdate { Action?: 'PUT' | 'DELETE' | 'ADD'; Value?: AttributeValue }

export interface UpdateItemInput extends ConditionalInput {
  TableName: string;
  Key: Item;
  UpdateExpression?: string;
  AttributeUpdates?: Record<string, AttributeValueUpdate>;
  ReturnValues?: ReturnValue;
}
export interface UpdateItemOutput { Attributes?: Item; ConsumedCapacity?: ConsumedCapacity }

export type Select = 'ALL_ATTRIBUTES' | 'ALL_PROJECTED_ATTRIBUTES' | 'SPECIFIC_ATTRIBUTES' | 'COUNT';

export interface Condition { ComparisonOperator: string; AttributeValueList?: AttributeValue[] }

export interface QueryInput extends ExpressionInput {
  TableName: string;
  IndexName?: string;
  KeyConditionExpression?: string;
  KeyConditions?: Record<string, Condition>;
  FilterExpression?: string;
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
