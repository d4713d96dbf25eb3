/**
 * Apply-time evaluation of UpdateExpression ASTs. Every right-hand side reads the item as
 * it was before the update; the result is a new item (the input is never mutated).
 */
import type { AttributeValue, Item } from '../model/types.js';
import { DynamoDBError, validationError } from '../model/errors.js';
import { addNumbers, compareNumbers, subtractNumbers } from '../model/number.js';
import { checkNestingAt } from '../model/validate.js';
import type { Path, UpdateAst, UpdateValue } from './ast.js';
import { bytesEqual, cloneItem, cloneValue, getPath, typeOf } from './values.js';

export const MISSING_ATTRIBUTE_MESSAGE = 'The provided expression refers to an attribute that does not exist in the item';
export const WRONG_TYPE_MESSAGE = 'An operand in the update expression has an incorrect data type';
export const INVALID_PATH_MESSAGE = 'The document path provided in the update expression is invalid for update';
/** An UpdateExpression whose value read from the item gives an index key another type
 *  than the index's (legacy AttributeUpdates get the index's "Type mismatch" message). */
export const INDEX_KEY_TYPE_MESSAGE = 'The update expression attempted to update the secondary index key to unsupported type';
/** What DynamoDB says instead of WRONG_TYPE_MESSAGE for legacy AttributeUpdates. */
export const LEGACY_TYPE_MISMATCH_MESSAGE = 'Type mismatch for attribute to update';

function wrongType(): never {
  throw validationError(WRONG_TYPE_MESSAGE);
}
function invalidPath(): never {
  throw validationError(INVALID_PATH_MESSAGE);
}

function evalValue(v: UpdateValue, old: Item): AttributeValue {
  switch (v.kind) {
    case 'value':
      return v.value;
    case 'path': {
      const found = getPath(old, v.path);
      if (found === undefined) throw validationError(MISSING_ATTRIBUTE_MESSAGE);
      return found;
    }
    case 'if_not_exists':
      return getPath(old, v.path) ?? evalValue(v.fallback, old);
    case 'list_append': {
      const a = evalValue(v.left, old) as { L?: AttributeValue[] };
      const b = evalValue(v.right, old) as { L?: AttributeValue[] };
      if (a.L === undefined || b.L === undefined) wrongType();
      return { L: [...a.L, ...b.L] };
    }
    case 'plus':
    case 'minus': {
      const a = evalValue(v.left, old) as { N?: string };
      const b = evalValue(v.right, old) as { N?: string };
      if (a.N === undefined || b.N === undefined) wrongType();
      return { N: v.kind === 'plus' ? addNumbers(a.N, b.N) : subtractNumbers(a.N, b.N) };
    }
  }
}

/** The container (map or list) at `path` inside `item`, for writing; undefined when missing. */
function container(item: Item, path: Path): AttributeValue | undefined {
  return getPath(item, path);
}

/**
 * List elements written past the end of their list, per list: DynamoDB appends them after
 * the rest of the update, in order of the index written (`SET l[9] = :a, l[7] = :b` on a
 * 2-element list gives [l0, l1, b, a]), whatever the order of the actions.
 */
type Appends = Map<AttributeValue[], Array<{ index: number; value: AttributeValue }>>;

/** Writes `value` at `path` (an index past the end of a list is queued in `appends`). */
function setAt(item: Item, path: Path, value: AttributeValue, appends: Appends): void {
  if (path.length === 1) {
    item[path[0] as string] = value;
    return;
  }
  const parent = container(item, path.slice(0, -1)) as Record<string, any> | undefined;
  const last = path[path.length - 1]!;
  if (parent === undefined) invalidPath();
  if (typeof last === 'number') {
    const l: AttributeValue[] | undefined = parent.L;
    if (l === undefined) invalidPath();
    if (last < l.length) {
      l[last] = value;
    } else {
      let queued = appends.get(l);
      if (queued === undefined) appends.set(l, (queued = []));
      queued.push({ index: last, value });
    }
    return;
  }
  const m: Record<string, AttributeValue> | undefined = parent.M;
  if (m === undefined) invalidPath();
  m[last] = value;
}

function flushAppends(appends: Appends): void {
  for (const [l, queued] of appends) {
    queued.sort((a, b) => a.index - b.index);
    for (const { value } of queued) l.push(value);
  }
}

/** Throws DynamoDB's invalid-path error unless the parent of `path` in `item` is a map
 *  (for a name) or a list (for an index): a REMOVE or DELETE below a missing attribute,
 *  or through a value of the wrong type, is refused even though there is nothing to remove. */
function checkParent(item: Item, path: Path): void {
  if (path.length === 1) return;
  const parent = getPath(item, path.slice(0, -1)) as Record<string, unknown> | undefined;
  const last = path[path.length - 1]!;
  if (parent === undefined || (typeof last === 'number' ? parent.L : parent.M) === undefined) invalidPath();
}

function removeAt(item: Item, path: Path): void {
  checkParent(item, path);
  if (path.length === 1) {
    delete item[path[0] as string];
    return;
  }
  const parent = container(item, path.slice(0, -1)) as Record<string, any>;
  const last = path[path.length - 1]!;
  if (typeof last === 'number') {
    const l: AttributeValue[] = parent.L;
    if (last < l.length) l.splice(last, 1);
    return;
  }
  delete (parent.M as Record<string, AttributeValue>)[last];
}

/** Paths in reverse document order, so that removing list elements never shifts a later target. */
function reverseOrder(a: Path, b: Path): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return y - x;
    return String(y) < String(x) ? -1 : 1;
  }
  return b.length - a.length;
}

type SetTag = 'SS' | 'NS' | 'BS';

function isSetTag(t: string): t is SetTag {
  return t === 'SS' || t === 'NS' || t === 'BS';
}

function memberEq(tag: SetTag): (a: any, b: any) => boolean {
  if (tag === 'NS') return (a: string, b: string) => compareNumbers(a, b) === 0;
  if (tag === 'BS') return (a: Uint8Array, b: Uint8Array) => bytesEqual(a, b);
  return (a: string, b: string) => a === b;
}

function addValues(current: AttributeValue | undefined, value: AttributeValue): AttributeValue {
  const t = typeOf(value);
  if (current === undefined) {
    if (t !== 'N' && !isSetTag(t)) wrongType();
    return cloneValue(value);
  }
  if (typeOf(current) !== t) wrongType();
  if (t === 'N') return { N: addNumbers((current as { N: string }).N, (value as { N: string }).N) };
  if (!isSetTag(t)) wrongType();
  const eq = memberEq(t);
  const out: unknown[] = [...(current as Record<string, unknown[]>)[t]!];
  for (const x of (value as Record<string, unknown[]>)[t]!) {
    if (!out.some((y) => eq(y, x))) out.push(x);
  }
  return cloneValue({ [t]: out } as AttributeValue);
}

/** The set minus `value`'s members; undefined when nothing is left (the attribute goes). */
function deleteValues(current: AttributeValue, value: AttributeValue): AttributeValue | undefined {
  const t = typeOf(value);
  if (!isSetTag(t) || typeOf(current) !== t) wrongType();
  const eq = memberEq(t);
  const remove = (value as Record<string, unknown[]>)[t]!;
  const out = (current as Record<string, unknown[]>)[t]!.filter((x) => !remove.some((y) => eq(x, y)));
  return out.length === 0 ? undefined : cloneValue({ [t]: out } as AttributeValue);
}

/**
 * Applies an update to `item` (undefined: the item does not exist yet and starts as `key`).
 * Returns the new item and the document paths the update names, as written (for
 * ReturnValues UPDATED_OLD / UPDATED_NEW: project the old or new item on them, as DynamoDB
 * does even where an element appended past the end of a list landed at a lower index).
 * Throws ValidationException with DynamoDB's texts on runtime type errors; deterministic.
 */
export function applyUpdate(ast: UpdateAst, item: Item | undefined, key: Item): { item: Item; updatedPaths: Path[] } {
  if (ast.legacy !== true) return apply(ast, item, key);
  try {
    return apply(ast, item, key);
  } catch (e) {
    if (e instanceof DynamoDBError && e.message === WRONG_TYPE_MESSAGE) throw validationError(LEGACY_TYPE_MISMATCH_MESSAGE);
    throw e;
  }
}

function apply(ast: UpdateAst, item: Item | undefined, key: Item): { item: Item; updatedPaths: Path[] } {
  const old = item ?? key;
  const out = cloneItem(old);
  const updatedPaths: Path[] = [];
  const appends: Appends = new Map();

  // Every right-hand side reads the old item, before anything is written.
  const setValues = ast.set.map((a) => evalValue(a.value, old));
  ast.set.forEach((a, i) => {
    setAt(out, a.path, cloneValue(setValues[i]!), appends);
    updatedPaths.push(a.path);
    // A value written below a path may nest the item deeper than DynamoDB's 32 levels.
    checkNestingAt(a.path.length, setValues[i]!);
  });

  for (const a of ast.add) {
    const next = addValues(getPath(old, a.path), a.value);
    setAt(out, a.path, next, appends);
    updatedPaths.push(a.path);
    checkNestingAt(a.path.length, next);
  }
  flushAppends(appends);

  for (const a of ast.delete) {
    const current = getPath(old, a.path);
    if (current === undefined) {
      if (!isSetTag(typeOf(a.value))) wrongType();
      // Nothing to delete from; the parent must still be a valid place for it.
      checkParent(out, a.path);
      continue;
    }
    const next = deleteValues(current, a.value);
    if (next === undefined) removeAt(out, a.path);
    else setAt(out, a.path, next, appends);
    updatedPaths.push(a.path);
  }

  // Last, and in reverse document order, so that removing list elements shifts no other target.
  for (const path of [...ast.remove].sort(reverseOrder)) {
    removeAt(out, path);
  }
  updatedPaths.push(...ast.remove);

  return { item: out, updatedPaths };
}
