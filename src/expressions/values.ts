/**
 * AttributeValue helpers for evaluation: type tags, DynamoDB equality and ordering,
 * document-path lookup, deep copies. Everything here is deterministic and exact
 * (numbers via the model's decimal arithmetic, strings in UTF-8 byte order).
 */
import type { AttributeValue, Item } from '../model/types.js';
import { compareNumbers } from '../model/number.js';
import type { Path } from './ast.js';

export type TypeTag = 'S' | 'N' | 'B' | 'BOOL' | 'NULL' | 'M' | 'L' | 'SS' | 'NS' | 'BS';

export const TYPE_TAGS: readonly TypeTag[] = ['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'];

/** The type tag of a value (its single key). */
export function typeOf(v: AttributeValue): TypeTag {
  const r = v as Record<string, unknown>;
  for (const t of TYPE_TAGS) if (r[t] !== undefined) return t;
  throw new TypeError('not an AttributeValue');
}

/** Strings in DynamoDB order: by UTF-8 bytes, which is code-point order. */
export function compareStrings(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // UTF-16 order differs from code-point order only when a surrogate meets a unit
      // in U+E000..U+FFFF: surrogates (code points >= U+10000) must sort last.
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0;
}

export function startsWithBytes(a: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > a.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

export function containsBytes(a: Uint8Array, needle: Uint8Array): boolean {
  if (needle.length === 0) return true;
  outer: for (let i = 0; i + needle.length <= a.length; i++) {
    for (let j = 0; j < needle.length; j++) if (a[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function setHas<T>(set: T[], x: T, eq: (a: T, b: T) => boolean): boolean {
  for (const y of set) if (eq(y, x)) return true;
  return false;
}

function setsEqual<T>(a: T[], b: T[], eq: (a: T, b: T) => boolean): boolean {
  if (a.length !== b.length) return false;
  for (const x of a) if (!setHas(b, x, eq)) return false;
  return true;
}

const numEq = (a: string, b: string): boolean => compareNumbers(a, b) === 0;
const strEq = (a: string, b: string): boolean => a === b;

/** DynamoDB equality: same type and same value (numbers numerically, sets unordered). */
export function valuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  const t = typeOf(a);
  if (typeOf(b) !== t) return false;
  const x = a as Record<string, any>;
  const y = b as Record<string, any>;
  switch (t) {
    case 'S':
      return x.S === y.S;
    case 'N':
      return numEq(x.N, y.N);
    case 'B':
      return bytesEqual(x.B, y.B);
    case 'BOOL':
      return x.BOOL === y.BOOL;
    case 'NULL':
      return true;
    case 'SS':
      return setsEqual<string>(x.SS, y.SS, strEq);
    case 'NS':
      return setsEqual<string>(x.NS, y.NS, numEq);
    case 'BS':
      return setsEqual<Uint8Array>(x.BS, y.BS, bytesEqual);
    case 'L': {
      const l: AttributeValue[] = x.L;
      const m: AttributeValue[] = y.L;
      if (l.length !== m.length) return false;
      for (let i = 0; i < l.length; i++) if (!valuesEqual(l[i]!, m[i]!)) return false;
      return true;
    }
    case 'M': {
      const p: Record<string, AttributeValue> = x.M;
      const q: Record<string, AttributeValue> = y.M;
      const pk = Object.keys(p);
      if (pk.length !== Object.keys(q).length) return false;
      for (const k of pk) {
        if (!Object.prototype.hasOwnProperty.call(q, k) || !valuesEqual(p[k]!, q[k]!)) return false;
      }
      return true;
    }
  }
}

/** Order of two values of the same orderable type (N, S, B); undefined when not comparable. */
export function compareValues(a: AttributeValue, b: AttributeValue): -1 | 0 | 1 | undefined {
  const t = typeOf(a);
  if (typeOf(b) !== t) return undefined;
  const x = a as Record<string, any>;
  const y = b as Record<string, any>;
  switch (t) {
    case 'N':
      return compareNumbers(x.N, y.N);
    case 'S':
      return compareStrings(x.S, y.S);
    case 'B':
      return compareBytes(x.B, y.B);
    default:
      return undefined;
  }
}

/** Whether a set value contains a scalar of its element type. */
export function setContains(set: AttributeValue, member: AttributeValue): boolean {
  const s = set as Record<string, any>;
  const m = member as Record<string, any>;
  if (s.SS !== undefined) return m.S !== undefined && setHas<string>(s.SS, m.S, strEq);
  if (s.NS !== undefined) return m.N !== undefined && setHas<string>(s.NS, m.N, numEq);
  if (s.BS !== undefined) return m.B !== undefined && setHas<Uint8Array>(s.BS, m.B, bytesEqual);
  return false;
}

const encoder = new TextEncoder();

/** UTF-8 length of a string. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** DynamoDB's size(): UTF-16 code units of S (as DynamoDB counts them: "é𝄞" is 3, checked
 *  against DynamoDB by ExtendDB/extenddb#67, and dynalite's suite has "abÿ" as 3), bytes of
 *  B, elements of sets, lists and maps. */
export function sizeOf(v: AttributeValue): number | undefined {
  const x = v as Record<string, any>;
  switch (typeOf(v)) {
    case 'S':
      return (x.S as string).length;
    case 'B':
      return (x.B as Uint8Array).length;
    case 'SS':
      return x.SS.length;
    case 'NS':
      return x.NS.length;
    case 'BS':
      return x.BS.length;
    case 'L':
      return x.L.length;
    case 'M':
      return Object.keys(x.M).length;
    default:
      return undefined;
  }
}

/** The value at a document path, or undefined when any step is missing or of the wrong type. */
export function getPath(item: Item | undefined, path: Path): AttributeValue | undefined {
  if (item === undefined || path.length === 0) return undefined;
  const head = path[0];
  if (typeof head !== 'string' || !Object.prototype.hasOwnProperty.call(item, head)) return undefined;
  let cur: AttributeValue | undefined = item[head];
  for (let i = 1; i < path.length && cur !== undefined; i++) {
    const seg = path[i]!;
    const c = cur as Record<string, any>;
    if (typeof seg === 'number') {
      const l: AttributeValue[] | undefined = c.L;
      cur = l !== undefined && seg < l.length ? l[seg] : undefined;
    } else {
      const m: Record<string, AttributeValue> | undefined = c.M;
      cur = m !== undefined && Object.prototype.hasOwnProperty.call(m, seg) ? m[seg] : undefined;
    }
  }
  return cur;
}

/** A deep copy (binary copied too), so that results never share structure with inputs. */
export function cloneValue(v: AttributeValue): AttributeValue {
  const x = v as Record<string, any>;
  switch (typeOf(v)) {
    case 'S':
      return { S: x.S };
    case 'N':
      return { N: x.N };
    case 'B':
      return { B: new Uint8Array(x.B) };
    case 'BOOL':
      return { BOOL: x.BOOL };
    case 'NULL':
      return { NULL: true };
    case 'SS':
      return { SS: [...x.SS] };
    case 'NS':
      return { NS: [...x.NS] };
    case 'BS':
      return { BS: (x.BS as Uint8Array[]).map((b) => new Uint8Array(b)) };
    case 'L':
      return { L: (x.L as AttributeValue[]).map(cloneValue) };
    case 'M':
      return { M: cloneItem(x.M) };
  }
}

export function cloneItem(item: Item): Item {
  const out: Item = {};
  for (const k of Object.keys(item)) out[k] = cloneValue(item[k]!);
  return out;
}

/** Path as DynamoDB prints it in messages: `[a, b, [2]]`. */
export function pathString(path: Path): string {
  return '[' + path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join(', ') + ']';
}
