/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88820, the one zlib and gzip use; not the
 * CRC-32C the transport uses) of a response body, for DynamoDB's `x-amz-crc32` header,
 * which boto3 checks. `zlib.crc32` computes the same thing, but only from Node 20.15/22.2.
 */
import zlib from 'node:zlib';

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The table-driven computation, kept callable for tests on any Node version. */
export function crc32Table(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 of `bytes`, as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array): number {
  return native !== undefined ? native(bytes) >>> 0 : crc32Table(bytes);
}
