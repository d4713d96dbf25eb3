/**
 * Byte formats of the storage room: items as stored in the B-tree, write ops as carried
 * in log entries, and the small binary helpers (big-endian keys, key-range successors).
 *
 * Every format here must be DETERMINISTIC: replicas that apply the same log must write
 * the same bytes (groupDigest compares them). So no msgpackr shared structures (their ids
 * depend on each process's history); plain msgpack with `variableMapSize` instead.
 *
 * Item format (measured, Node 20, a 10 x 90-byte-string item with its key):
 *   plain msgpack of the Item object        1066 B, pack+unpack ~4.6 µs
 *   msgpack records, inline structures      1028 B, ~5.7 µs
 *   msgpack records, shared structures       947 B, ~3.2 µs (not deterministic: rejected)
 *   flat array [name, typeTag, value, ...]  1022 B, ~3.9 µs (pack ~1.6, unpack ~1.8)  <- used
 */
import { Packr, Unpackr } from 'msgpackr';
import type { AttributeValue, Item } from '../model/types.js';
import type { ConditionAst, UpdateAst } from '../expressions/ast.js';
import type { ReturnValues, WriteOp } from './operations.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
/** copyBuffers: values may be read from LMDB's volatile get buffer or a ring slot, and
 *  binary attribute values must not alias it. */
const unpackr = new Unpackr({ useRecords: false, copyBuffers: true });

const TYPE_TAGS = ['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'] as const;
const TAG_INDEX: Record<string, number> = Object.fromEntries(TYPE_TAGS.map((t, i) => [t, i]));

/** Encodes an item as a flat msgpack array [name, typeTag, value, ...]: one array instead
 *  of one map per attribute. Nested M/L values stay plain msgpack. */
export function encodeItem(item: Item): Uint8Array {
  return packr.pack(flattenItem(item));
}


export function decodeItem(bytes: Uint8Array): Item {
  return unflattenItem(unpackr.unpack(plainView(bytes)) as unknown[]);
}

/** Decoding from a plain Uint8Array view makes binary values plain Uint8Arrays (the
 *  data model's type) instead of Buffers, and measured no slower (~2.4 vs ~2.8 µs). */
function plainView(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length); // .length: lmdb-js shortens its reused get buffer that way
}

function flattenItem(item: Item): unknown[] {
  const out: unknown[] = [];
  for (const name in item) {
    const av = item[name] as Record<string, unknown>;
    for (const tag in av) {
      const idx = TAG_INDEX[tag];
      if (idx === undefined) throw new Error(`encodeItem: attribute ${name} has unknown type ${tag}`);
      out.push(name, idx, av[tag]);
      break;
    }
  }
  return out;
}

function unflattenItem(flat: unknown[]): Item {
  if (!Array.isArray(flat) || flat.length % 3 !== 0) throw new Error('decodeItem: not an encoded item');
  const item: Item = {};
  for (let i = 0; i < flat.length; i += 3) {
    const av: Record<string, unknown> = {};
    av[TYPE_TAGS[flat[i + 1] as number]] = flat[i + 2];
    item[flat[i] as string] = av as AttributeValue;
  }
  return item;
}

// ---- write ops -------------------------------------------------------------------------

const OP_FORMAT_VERSION = 2;
const OP_TYPES = ['put', 'delete', 'update'] as const;
const RETURN_VALUES: readonly ReturnValues[] = ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'];
const RETURN_VALUES_INDEX: Record<string, number> = Object.fromEntries(RETURN_VALUES.map((r, i) => [r, i]));
const FLAG_RETURN_OLD_ON_FAILURE = 1;
const FLAG_CONDITION = 2;
const FLAG_MEASURE_SIZES = 4;
/** Bytes before a write op's item key (node/load-sampler.ts reads the hash there in place). */
export const OP_HEADER_BYTES = 10;

/**
 * A write op as the apply path sees it: a put keeps its item ENCODED (the bytes the
 * leader produced), so an unconditional put stores them without decoding or re-encoding.
 */
export interface RawWriteOp {
  type: 'put' | 'delete' | 'update';
  tableId: number;
  /** The key attributes; decoded only when apply needs them (not for a plain put). */
  readonly key: Item;
  condition: ConditionAst | undefined;
  returnValues: ReturnValues;
  returnOldOnConditionFailure: boolean;
  measureSizes: boolean;
  /** put: the encoded item (encodeItem format). */
  itemBytes: Uint8Array | undefined;
  /** update: the update expression. */
  update: UpdateAst | undefined;
  /** The B-tree key, when the api computed it. */
  itemKey: Uint8Array | undefined;
}

/**
 * Entry data of a write. A fixed binary head that the apply of a plain put reads without
 * any decoding, then a msgpack tail with what only some writes need:
 *   u8 version | u8 type | u8 returnValues | u8 flags | u32 tableId | u16 itemKey length
 *   | itemKey | u32 item length | encoded item (put) | msgpack [key, condition, update]
 */
export function encodeWriteOp(op: WriteOp): Uint8Array {
  const typeCode = op.type === 'put' ? 0 : op.type === 'delete' ? 1 : 2;
  const rv = RETURN_VALUES_INDEX[op.returnValues];
  if (rv === undefined) throw new Error(`encodeWriteOp: unknown returnValues ${String(op.returnValues)}`);
  const itemKey = op.itemKey ?? EMPTY;
  if (itemKey.length > 0xffff) throw new Error('encodeWriteOp: item key too long');
  const item = op.type === 'put' ? encodeItem(op.item) : EMPTY;
  const tail = packr.pack([op.key, op.condition ?? null, op.type === 'update' ? op.update : null]);
  const out = new Uint8Array(OP_HEADER_BYTES + itemKey.length + 4 + item.length + tail.length);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = OP_FORMAT_VERSION;
  out[1] = typeCode;
  out[2] = rv;
  out[3] = (op.returnOldOnConditionFailure ? FLAG_RETURN_OLD_ON_FAILURE : 0) | (op.condition !== undefined ? FLAG_CONDITION : 0)
    | (op.measureSizes ? FLAG_MEASURE_SIZES : 0);
  view.setUint32(4, op.tableId);
  view.setUint16(8, itemKey.length);
  let at = OP_HEADER_BYTES;
  out.set(itemKey, at);
  at += itemKey.length;
  view.setUint32(at, item.length);
  at += 4;
  out.set(item, at);
  out.set(tail, at + item.length);
  return out;
}

const EMPTY = new Uint8Array(0);

export function decodeRawWriteOp(data: Uint8Array): RawWriteOp {
  if (data.length < OP_HEADER_BYTES + 4 || data[0] !== OP_FORMAT_VERSION) {
    throw new Error(`decodeWriteOp: unknown write-op format (version ${data[0]})`);
  }
  const type = OP_TYPES[data[1]];
  const returnValues = RETURN_VALUES[data[2]];
  if (type === undefined || returnValues === undefined) throw new Error('decodeWriteOp: corrupt write op');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const flags = data[3];
  const keyLength = view.getUint16(8);
  let at = OP_HEADER_BYTES;
  const itemKey = keyLength === 0 ? undefined : data.subarray(at, at + keyLength);
  at += keyLength;
  const itemLength = view.getUint32(at);
  at += 4;
  const itemBytes = type === 'put' ? data.subarray(at, at + itemLength) : undefined;
  const tailBytes = data.subarray(at + itemLength);
  const hasCondition = (flags & FLAG_CONDITION) !== 0;
  let tail: [Item, ConditionAst | null, UpdateAst | null] | undefined;
  const decodeTail = () => (tail ??= unpackr.unpack(plainView(tailBytes)) as [Item, ConditionAst | null, UpdateAst | null]);
  return {
    type,
    tableId: view.getUint32(4),
    get key() {
      return decodeTail()[0];
    },
    returnValues,
    returnOldOnConditionFailure: (flags & FLAG_RETURN_OLD_ON_FAILURE) !== 0,
    measureSizes: (flags & FLAG_MEASURE_SIZES) !== 0,
    condition: hasCondition ? (decodeTail()[1] ?? undefined) : undefined,
    itemBytes,
    update: type === 'update' ? (decodeTail()[2] ?? undefined) : undefined,
    itemKey,
  };
}

export function decodeWriteOp(data: Uint8Array): WriteOp {
  const r = decodeRawWriteOp(data);
  const base = {
    tableId: r.tableId,
    key: r.key,
    ...(r.itemKey !== undefined ? { itemKey: r.itemKey } : {}),
    returnValues: r.returnValues,
    ...(r.condition !== undefined ? { condition: r.condition } : {}),
    ...(r.returnOldOnConditionFailure ? { returnOldOnConditionFailure: true } : {}),
    ...(r.measureSizes ? { measureSizes: true } : {}),
  };
  if (r.type === 'put') return { ...base, type: 'put', item: decodeItem(r.itemBytes!) };
  if (r.type === 'update') return { ...base, type: 'update', update: r.update! };
  return { ...base, type: 'delete' };
}

// ---- binary helpers --------------------------------------------------------------------

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** The smallest key greater than every key that starts with `prefix`; undefined when
 *  none exists (prefix is all 0xFF). */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  let i = prefix.length - 1;
  while (i >= 0 && prefix[i] === 0xff) i--;
  if (i < 0) return undefined;
  const out = new Uint8Array(prefix.subarray(0, i + 1)); // a copy (Buffer#slice would alias)
  out[i]++;
  return out;
}

/** The smallest key greater than `key` (key followed by a zero byte). */
export function keySuccessor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key, 0);
  return out;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
