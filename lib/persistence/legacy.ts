// Decoders for the compact encodings older Redis versions wrote and 7.0 still loads:
// ziplists (RDB types 10, 12, 13 and quicklist v1 nodes) and zipmaps (type 9).
import { Buffer } from "node:buffer";
import { latin1Slice } from "../protocol/bytes.ts";
import { RdbError } from "./rdb_format.ts";
import type { LpItem } from "./listpack.ts";

/**
 * Decodes and validates a ziplist:
 * <zlbytes u32le> <zltail u32le> <zllen u16le> (<prevlen> <encoding> <data>)* <0xFF>.
 */
export function ziplistDecode(z: Uint8Array): LpItem[] {
  const bad = () => new RdbError("Ziplist integrity check failed.");
  const size = z.length;
  if (size < 11) throw bad();
  const buf = Buffer.from(z.buffer, z.byteOffset, z.length);
  if (buf.readUInt32LE(0) !== size || z[size - 1] !== 0xff) throw bad();
  const tail = buf.readUInt32LE(4);
  const declared = buf.readUInt16LE(8);
  const out: LpItem[] = [];
  const end = size - 1;
  let p = 10;
  let prevEntryLen = 0;
  let lastStart = 10;
  while (p < end) {
    const start = p;
    let prevlen: number;
    if (z[p] < 254) {
      prevlen = z[p];
      p += 1;
    } else if (z[p] === 254) {
      if (p + 5 > end) throw bad();
      prevlen = buf.readUInt32LE(p + 1);
      p += 5;
    } else throw bad();
    if (prevlen !== prevEntryLen) throw bad();
    if (p >= end) throw bad();
    const e = z[p];
    const kind = e >> 6;
    if (kind === 0) {
      const len = e & 0x3f;
      if (p + 1 + len > end) throw bad();
      out.push(latin1Slice(buf, p + 1, p + 1 + len));
      p += 1 + len;
    } else if (kind === 1) {
      if (p + 2 > end) throw bad();
      const len = ((e & 0x3f) << 8) | z[p + 1];
      if (p + 2 + len > end) throw bad();
      out.push(latin1Slice(buf, p + 2, p + 2 + len));
      p += 2 + len;
    } else if (e === 0x80) {
      if (p + 5 > end) throw bad();
      const len = buf.readUInt32BE(p + 1);
      if (p + 5 + len > end) throw bad();
      out.push(latin1Slice(buf, p + 5, p + 5 + len));
      p += 5 + len;
    } else if (e === 0xc0) {
      if (p + 3 > end) throw bad();
      out.push(buf.readInt16LE(p + 1));
      p += 3;
    } else if (e === 0xd0) {
      if (p + 5 > end) throw bad();
      out.push(buf.readInt32LE(p + 1));
      p += 5;
    } else if (e === 0xe0) {
      if (p + 9 > end) throw bad();
      const v = buf.readBigInt64LE(p + 1);
      out.push(v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v);
      p += 9;
    } else if (e === 0xf0) {
      if (p + 4 > end) throw bad();
      out.push(buf.readIntLE(p + 1, 3));
      p += 4;
    } else if (e === 0xfe) {
      if (p + 2 > end) throw bad();
      out.push(buf.readInt8(p + 1));
      p += 2;
    } else if (e >= 0xf1 && e <= 0xfd) {
      out.push((e & 0x0f) - 1);
      p += 1;
    } else throw bad();
    prevEntryLen = p - start;
    lastStart = start;
  }
  if (p !== end) throw bad();
  if (out.length > 0 && tail !== lastStart) throw bad();
  if (declared !== 65535 && declared !== out.length) throw bad();
  return out;
}

/**
 * Decodes a zipmap (Redis 2.4 small hashes): <zmlen> (<len> key <len> <free> value <free bytes>)*
 * <0xFF>, where <len> is one byte below 254 or 254 + u32le.
 */
export function zipmapDecode(z: Uint8Array): [string, string][] {
  const bad = () => new RdbError("Zipmap integrity check failed.");
  const buf = Buffer.from(z.buffer, z.byteOffset, z.length);
  const end = z.length;
  if (end < 2) throw bad();
  let p = 1;
  const readLen = (): number => {
    if (p >= end) throw bad();
    const b = z[p];
    if (b < 254) {
      p++;
      return b;
    }
    if (b === 255) return -1;
    if (p + 5 > end) throw bad();
    const v = buf.readUInt32LE(p + 1);
    p += 5;
    return v;
  };
  const out: [string, string][] = [];
  while (true) {
    const klen = readLen();
    if (klen < 0) break;
    if (p + klen > end) throw bad();
    const k = latin1Slice(buf, p, p + klen);
    p += klen;
    const vlen = readLen();
    if (vlen < 0) throw bad();
    if (p >= end) throw bad();
    const free = z[p++];
    if (p + vlen + free > end) throw bad();
    const v = latin1Slice(buf, p, p + vlen);
    p += vlen + free;
    out.push([k, v]);
  }
  if (p !== end - 1) throw bad();
  if (z[0] < 254 && z[0] !== out.length) throw bad();
  return out;
}
