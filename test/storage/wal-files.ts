/** Helpers for tests that look into (and damage) WAL segment files. */
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { crc32c } from '../../src/checksum/crc32c.js';
import { HDR, RecordType } from '../../src/storage/wal.js';

export interface FileRecord {
  /** Offset of the record's header in the file. */
  at: number;
  type: number;
  len: number;
  /** Offset of the batch it belongs to. */
  batch: number;
  group?: number;
  index?: number;
}

/** Lists the records of a segment file (its valid batches, in order). */
export function fileRecords(buf: Uint8Array): FileRecord[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: FileRecord[] = [];
  let pos = 0;
  while (pos + HDR + 16 <= buf.length && buf[pos + 8] === RecordType.BATCH) {
    if (v.getUint32(pos, true) !== crc32c(buf, pos + 4, pos + HDR + 16)) break;
    const end = pos + HDR + 16 + v.getUint32(pos + HDR + 8, true);
    let at = pos + HDR + 16;
    while (at < end) {
      const len = v.getUint32(at + 4, true);
      const rec: FileRecord = { at, type: buf[at + 8], len, batch: pos };
      if (rec.type === RecordType.ENTRY) {
        rec.group = v.getUint32(at + HDR, true);
        rec.index = v.getUint32(at + HDR + 4, true) + v.getUint32(at + HDR + 8, true) * 0x1_0000_0000;
      }
      out.push(rec);
      at += HDR + len;
    }
    pos = end;
  }
  return out;
}

/** Offset of the header of the (last) ENTRY record of group/index in a segment file. */
export function findEntryRecord(buf: Uint8Array, group: number, index: number): number {
  const hits = fileRecords(buf).filter((r) => r.type === RecordType.ENTRY && r.group === group && r.index === index);
  if (hits.length === 0) throw new Error(`no record of group ${group} index ${index}`);
  return hits[hits.length - 1].at;
}

export function flipByte(path: string, at: number, mask = 0x40): void {
  const fd = openSync(path, 'r+');
  try {
    const b = new Uint8Array(1);
    readSync(fd, b, 0, 1, at);
    b[0] ^= mask;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

export function fileBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
