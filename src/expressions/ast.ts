/**
 * Parsed DynamoDB expressions as plain data.
 *
 * Every AST here is made of plain objects, arrays, strings, numbers, booleans and
 * `Uint8Array` (binary values): no classes, no Maps, no functions, no `undefined` fields.
 * It is built once when a request arrives (placeholders are substituted then, so the AST
 * carries the values themselves) and travels inside a replicated log entry, to be
 * evaluated on every replica with the same result.
 */
import type { AttributeValue } from '../model/types.js';

/** A document path: top-level name, then map keys (string) and list indexes (number). */
export type Path = Array<string | number>;

/** Something a condition compares: an attribute of the item, a literal value, or size(path). */
export type Operand =
  | { kind: 'path'; path: Path }
  | { kind: 'value'; value: AttributeValue }
  | { kind: 'size'; path: Path };

export type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';

/** A parsed ConditionExpression / FilterExpression (plain data: msgpack-safe). */
export type ConditionAst =
  | { kind: 'and'; left: ConditionAst; right: ConditionAst }
  | { kind: 'or'; left: ConditionAst; right: ConditionAst }
  | { kind: 'not'; operand: ConditionAst }
  | { kind: 'compare'; op: Comparator; left: Operand; right: Operand }
  | { kind: 'between'; operand: Operand; low: Operand; high: Operand }
  | { kind: 'in'; operand: Operand; list: Operand[] }
  | { kind: 'attribute_exists'; path: Path }
  | { kind: 'attribute_not_exists'; path: Path }
  /** `type` is an S value naming the type (S, N, B, BOOL, NULL, M, L, SS, NS, BS). */
  | { kind: 'attribute_type'; path: Path; type: Operand }
  | { kind: 'begins_with'; operand: Operand; prefix: Operand }
  | { kind: 'contains'; operand: Operand; needle: Operand };

/** The right-hand side of a SET action. */
export type UpdateValue =
  | { kind: 'path'; path: Path }
  | { kind: 'value'; value: AttributeValue }
  | { kind: 'if_not_exists'; path: Path; fallback: UpdateValue }
  | { kind: 'list_append'; left: UpdateValue; right: UpdateValue }
  | { kind: 'plus'; left: UpdateValue; right: UpdateValue }
  | { kind: 'minus'; left: UpdateValue; right: UpdateValue };

export interface SetAction { path: Path; value: UpdateValue }
/** ADD (number or set) and DELETE (set) carry a literal value. */
export interface ValueAction { path: Path; value: AttributeValue }

/** A parsed UpdateExpression (plain data: msgpack-safe). Actions keep their written order. */
export interface UpdateAst {
  set: SetAction[];
  remove: Path[];
  add: ValueAction[];
  delete: ValueAction[];
  /** Built from legacy AttributeUpdates: DynamoDB words its type errors differently. */
  legacy?: true;
}

/** A parsed ProjectionExpression: the paths to keep. */
export type ProjectionAst = Path[];

export type RangeOperator = '=' | '<' | '<=' | '>' | '>=' | 'BETWEEN' | 'begins_with';

/** A parsed KeyConditionExpression on one partition key. */
export interface KeyCondition {
  hash: AttributeValue;
  range?: { op: RangeOperator; values: AttributeValue[] };
}
