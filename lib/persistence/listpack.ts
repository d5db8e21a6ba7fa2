// Listpack codec (Redis 7.0 listpack.c format), used for small hashes, small sorted sets and
// quicklist nodes in RDB files and DUMP payloads.
//
// Layout: <total bytes u32le> <count u16le, 65535 = unknown> <entry>* <0xFF>
// entry:  <encoding+data> <backlen: size of encoding+data, 7 bits per byte, read backwards>
import { ByteWriter } from "./bytes_io.ts";
import { latin1Slice } from "../protocol/bytes.ts";
import { Buffer } from "node:buffer";
import { RdbError } from "./rdb_format.ts";

/** A listpack element: a string, or an integer (number when safe, else bigint). */
export type LpItem = string | number | bigint;

const I64_MIN = -9223372036854775808n;
const I64_MAX = 9223372036854775807n;

/**
 * Parses a strictly canonical int64 decimal (no sign on zero, no leading zeros or spaces),
 * like lpStringToInt64/string2ll; null when the string is not such an integer.
 */
export function strictInt64(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n >= 21) return null;
  let i = 0;
  if (s.charCodeAt(0) === 45) {
    if (n === 1) return null;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return n === 1 ? 0 : null;
  if (first < 49 || first > 57) return null;
  for (let k = i + 1; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) return null;
  }
  if (n - i <= 15) return Number(s);
  const b = BigInt(s);
  if (b < I64_MIN || b > I64_MAX) return null;
  return Number.isSafeInteger(Number(b)) ? Number(b) : b;
}

function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

function writeBacklen(w: ByteWriter, l: number): void {
  if (l <= 127) w.u8(l);
  else if (l < 16383) {
    w.u8(l >>> 7);
    w.u8((l & 127) | 128);
  } else if (l < 2097151) {
    w.u8(l >>> 14);
    w.u8(((l >>> 7) & 127) | 128);
    w.u8((l & 127) | 128);
  } else if (l < 268435455) {
    w.u8(l >>> 21);
    w.u8(((l >>> 14) & 127) | 128);
    w.u8(((l >>> 7) & 127) | 128);
    w.u8((l & 127) | 128);
  } else {
    w.u8(Math.floor(l / 2 ** 28));
    w.u8(((l >>> 21) & 127) | 128);
    w.u8(((l >>> 14) & 127) | 128);
    w.u8(((l >>> 7) & 127) | 128);
    w.u8((l & 127) | 128);
  }
}

function writeInt(w: ByteWriter, v: number | bigint): void {
  if (typeof v === "bigint") {
    if (v >= -2147483648n && v <= 2147483647n) return writeInt(w, Number(v));
    w.u8(0xf4);
    w.i64le(v);
    w.u8(9);
    return;
  }
  if (v >= 0 && v <= 127) {
    w.u8(v);
    w.u8(1);
  } else if (v >= -4096 && v <= 4095) {
    const u = v < 0 ? (1 << 13) + v : v;
    w.u8((u >>> 8) | 0xc0);
    w.u8(u & 0xff);
    w.u8(2);
  } else if (v >= -32768 && v <= 32767) {
    w.u8(0xf1);
    w.u16le(v & 0xffff);
    w.u8(3);
  } else if (v >= -8388608 && v <= 8388607) {
    const u = v < 0 ? (1 << 24) + v : v;
    w.u8(0xf2);
    w.u8(u & 0xff);
    w.u8((u >>> 8) & 0xff);
    w.u8((u >>> 16) & 0xff);
    w.u8(4);
  } else if (v >= -2147483648 && v <= 2147483647) {
    w.u8(0xf3);
    w.u32le(v);
    w.u8(5);
  } else {
    w.u8(0xf4);
    w.i64le(BigInt(v));
    w.u8(9);
  }
}

function writeStr(w: ByteWriter, s: string): void {
  const len = s.length;
  if (len < 64) {
    w.u8(0x80 | len);
    w.latin1(s);
    writeBacklen(w, 1 + len);
  } else if (len < 4096) {
    w.u8(0xe0 | (len >>> 8));
    w.u8(len & 0xff);
    w.latin1(s);
    writeBacklen(w, 2 + len);
  } else {
    w.u8(0xf0);
    w.u32le(len);
    w.latin1(s);
    writeBacklen(w, 5 + len);
  }
}

/**
 * Incremental listpack builder. Strings that are canonical integers are stored as integers,
 * as lpAppend does; numbers and bigints are stored as integers directly.
 */
export class ListpackBuilder {
  private w = new ByteWriter(64);
  count = 0;

  constructor() {
    this.w.len = 6;
  }

  /** Bytes the listpack will have once finished (header, entries, terminator). */
  get size(): number {
    return this.w.len + 1;
  }

  /** Appends one element. */
  push(item: LpItem): void {
    pushItem(this.w, item);
    this.count++;
  }

  /** Terminates and returns the listpack bytes; `head`, when given, becomes the first element
   * (streams write their node's entry count there once the node is complete). */
  finish(head?: LpItem): Uint8Array {
    this.w.u8(0xff);
    let out: Uint8Array;
    let count = this.count;
    if (head === undefined) out = this.w.copy();
    else {
      const hw = new ByteWriter(16);
      pushItem(hw, head);
      out = new Uint8Array(this.w.len + hw.len);
      out.set(hw.view(), 6);
      out.set(this.w.buf.subarray(6, this.w.len), 6 + hw.len);
      count++;
    }
    const dv = new DataView(out.buffer, out.byteOffset, out.length);
    dv.setUint32(0, out.length, true);
    dv.setUint16(4, count < 65535 ? count : 65535, true);
    return out;
  }
}

function pushItem(w: ByteWriter, item: LpItem): void {
  if (typeof item === "string") {
    const v = strictInt64(item);
    if (v === null) writeStr(w, item);
    else writeInt(w, v);
  } else writeInt(w, item);
}

/** Bytes an integer element takes in a listpack (lpEncodeIntegerGetType plus backlen). */
export function lpIntBytes(v: number | bigint): number {
  if (typeof v === "bigint") {
    return v >= -2147483648n && v <= 2147483647n ? lpIntBytes(Number(v)) : 10;
  }
  if (v >= 0 && v <= 127) return 2;
  if (v >= -4096 && v <= 4095) return 3;
  if (v >= -32768 && v <= 32767) return 4;
  if (v >= -8388608 && v <= 8388607) return 5;
  if (v >= -2147483648 && v <= 2147483647) return 6;
  return 10;
}

/** Bytes one element takes in a listpack (encoding, data and backlen), as the builder would
 * encode it. */
export function lpItemBytes(item: LpItem): number {
  if (typeof item !== "string") return lpIntBytes(item);
  const v = strictInt64(item);
  if (v !== null) return lpIntBytes(v);
  const len = item.length;
  const enc = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  return enc + backlenSize(enc);
}

/** Encodes a whole listpack from items. */
export function lpEncode(items: Iterable<LpItem>): Uint8Array {
  const b = new ListpackBuilder();
  for (const it of items) b.push(it);
  return b.finish();
}

function corrupt(): never {
  throw new RdbError("Listpack integrity check failed.");
}

/** Decodes and validates a listpack; integers come back as numbers (or bigints past 2^53). */
export function lpDecode(lp: Uint8Array): LpItem[] {
  const size = lp.length;
  if (size < 7) corrupt();
  const buf = Buffer.from(lp.buffer, lp.byteOffset, lp.length);
  if (buf.readUInt32LE(0) !== size) corrupt();
  if (lp[size - 1] !== 0xff) corrupt();
  const declared = buf.readUInt16LE(4);
  const out: LpItem[] = [];
  let p = 6;
  const end = size - 1;
  while (p < end) {
    const b = lp[p];
    let encLen: number; // bytes of encoding + data
    if (b < 0x80) {
      out.push(b);
      encLen = 1;
    } else if ((b & 0xc0) === 0x80) {
      const len = b & 0x3f;
      encLen = 1 + len;
      if (p + encLen > end) corrupt();
      out.push(latin1Slice(buf, p + 1, p + 1 + len));
    } else if ((b & 0xe0) === 0xc0) {
      if (p + 2 > end) corrupt();
      const u = ((b & 0x1f) << 8) | lp[p + 1];
      out.push(u >= 4096 ? u - 8192 : u);
      encLen = 2;
    } else if ((b & 0xf0) === 0xe0) {
      if (p + 2 > end) corrupt();
      const len = ((b & 0x0f) << 8) | lp[p + 1];
      encLen = 2 + len;
      if (p + encLen > end) corrupt();
      out.push(latin1Slice(buf, p + 2, p + 2 + len));
    } else if (b === 0xf1) {
      if (p + 3 > end) corrupt();
      out.push(buf.readInt16LE(p + 1));
      encLen = 3;
    } else if (b === 0xf2) {
      if (p + 4 > end) corrupt();
      out.push(buf.readIntLE(p + 1, 3));
      encLen = 4;
    } else if (b === 0xf3) {
      if (p + 5 > end) corrupt();
      out.push(buf.readInt32LE(p + 1));
      encLen = 5;
    } else if (b === 0xf4) {
      if (p + 9 > end) corrupt();
      const v = buf.readBigInt64LE(p + 1);
      out.push(v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v);
      encLen = 9;
    } else if (b === 0xf0) {
      if (p + 5 > end) corrupt();
      const len = buf.readUInt32LE(p + 1);
      encLen = 5 + len;
      if (p + encLen > end) corrupt();
      out.push(latin1Slice(buf, p + 5, p + 5 + len));
    } else corrupt();
    p += encLen;
    // The backlen (read backwards, as lpPrev does) must describe the entry it follows.
    const bl = backlenSize(encLen);
    if (p + bl > end) corrupt();
    let back = 0;
    let shift = 0;
    for (let q = p + bl - 1; q >= p; q--) {
      const byte = lp[q];
      back += (byte & 127) * 2 ** shift;
      shift += 7;
      if ((q > p) !== ((byte & 128) !== 0)) corrupt();
    }
    if (back !== encLen) corrupt();
    p += bl;
  }
  if (p !== end) corrupt();
  if (declared !== 65535 && declared !== out.length) corrupt();
  return out;
}

/** Integer or string listpack item as the string Redis would reply with. */
export function lpItemString(it: LpItem): string {
  return typeof it === "string" ? it : String(it);
}
