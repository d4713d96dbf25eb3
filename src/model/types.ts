/**
 * DynamoDB's data model in the low-level shape the AWS SDK sends (`AttributeValue`),
 * with binary as `Uint8Array` (the SDK's shape; the HTTP adapter converts base64).
 */
export type AttributeValue =
  | { S: string }
  | { N: string }
  | { B: Uint8Array }
  | { BOOL: boolean }
  | { NULL: true }
  | { M: Record<string, AttributeValue> }
  | { L: AttributeValue[] }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: Uint8Array[] };

export type Item = Record<string, AttributeValue>;

export type ScalarAttributeType = 'S' | 'N' | 'B';
export type KeyType = 'HASH' | 'RANGE';

export interface KeySchemaElement { AttributeName: string; KeyType: KeyType }
export interface AttributeDefinition { AttributeName: string; AttributeType: ScalarAttributeType }

/** The key attributes of a table, resolved from its KeySchema and AttributeDefinitions. */
export interface KeyShape {
  hashName: string;
  hashType: ScalarAttributeType;
  rangeName?: string;
  rangeType?: ScalarAttributeType;
}
