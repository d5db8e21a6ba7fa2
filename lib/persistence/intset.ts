// Intset codec: <encoding u32le: 2|4|8> <length u32le> <sorted little-endian integers>.
// Used by RDB_TYPE_SET_INTSET for small all-integer sets.
import { Buffer } from "node:buffer";
import { RdbError } from "./rdb_format.ts";
import { strictInt64 } from "./listpack.ts";

/** Encodes integer members (canonical decimal strings); null if one is not an int64. */
export function intsetEncode(members: Iterable<string>): Uint8Array | null {
  const vals: (number | bigint)[] = [];
  let width = 2;
  for (const m of members) {
    const v = strictInt64(m);
    if (v === null) return null;
    vals.push(v);
    if (typeof v === "bigint" || v < -2147483648 || v > 2147483647) width = 8;
    else if (width < 4 && (v < -32768 || v > 32767)) width = 4;
  }
  vals.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out = Buffer.alloc(8 + vals.length * width);
  out.writeUInt32LE(width, 0);
  out.writeUInt32LE(vals.length, 4);
  let p = 8;
  for (const v of vals) {
    if (width === 2) out.writeInt16LE(Number(v), p);
    else if (width === 4) out.writeInt32LE(Number(v), p);
    else out.writeBigInt64LE(BigInt(v), p);
    p += width;
  }
  return out;
}

/** Decodes and validates an intset into decimal strings (strictly ascending, no duplicates). */
export function intsetDecode(b: Uint8Array): string[] {
  const bad = () => new RdbError("Intset integrity check failed.");
  if (b.length < 8) throw bad();
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  const width = buf.readUInt32LE(0);
  if (width !== 2 && width !== 4 && width !== 8) throw bad();
  const n = buf.readUInt32LE(4);
  if (8 + n * width !== b.length) throw bad();
  const out: string[] = new Array(n);
  let prev: number | bigint | null = null;
  for (let i = 0, p = 8; i < n; i++, p += width) {
    const v: number | bigint = width === 2
      ? buf.readInt16LE(p)
      : width === 4
      ? buf.readInt32LE(p)
      : buf.readBigInt64LE(p);
    if (prev !== null && !(prev < v)) throw bad();
    prev = v;
    out[i] = String(v);
  }
  return out;
}
