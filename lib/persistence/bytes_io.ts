// Byte buffers for the RDB codecs: a growable writer and a bounds-checked reader. Strings are
// latin1 (one char per byte), as everywhere in tsredis.
import { Buffer } from "node:buffer";
import { latin1Slice } from "../protocol/bytes.ts";
import { RdbError } from "./rdb_format.ts";

/** Growable little-endian byte writer. */
export class ByteWriter {
  buf: Buffer;
  len = 0;

  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Makes room for n more bytes. */
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  /** One byte. */
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v;
  }

  /** Raw bytes. */
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** A latin1 string's bytes. */
  latin1(s: string): void {
    const n = s.length;
    this.reserve(n);
    // A plain loop beats Buffer's latin1 writer (a JS shim in Deno) at every size we measured.
    const b = this.buf;
    let p = this.len;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.len = p;
  }

  /** uint16 little endian. */
  u16le(v: number): void {
    this.reserve(2);
    this.buf.writeUInt16LE(v, this.len);
    this.len += 2;
  }

  /** uint32 little endian. */
  u32le(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }

  /** uint32 big endian. */
  u32be(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
  }

  /** int64 little endian. */
  i64le(v: number | bigint): void {
    this.reserve(8);
    this.buf.writeBigInt64LE(BigInt(v), this.len);
    this.len += 8;
  }

  /** uint64 big endian (RDB 64-bit lengths). */
  u64be(v: number | bigint): void {
    this.reserve(8);
    this.buf.writeBigUInt64BE(BigInt(v), this.len);
    this.len += 8;
  }

  /** IEEE double little endian. */
  f64le(v: number): void {
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
  }

  /** The written bytes (a view, valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** A copy of the written bytes. */
  copy(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.len);
  }

  /** Forgets the content, keeping the allocation. */
  reset(): void {
    this.len = 0;
  }
}

/** Bounds-checked reader; every overrun throws a "short read" RdbError. */
export class ByteReader {
  pos = 0;
  private buf: Buffer;

  constructor(public data: Uint8Array, public end = data.length) {
    this.buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  }

  /** Bytes left before `end`. */
  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new RdbError("Unexpected EOF reading RDB file", true);
    }
  }

  /** One byte. */
  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  /** n bytes as a view into the input. */
  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** n bytes as a latin1 string. */
  latin1(n: number): string {
    this.need(n);
    const s = latin1Slice(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** uint16 little endian. */
  u16le(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  /** int32 little endian. */
  i32le(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** uint32 little endian. */
  u32le(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** uint32 big endian. */
  u32be(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** int64 little endian. */
  i64le(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** uint64 big endian. */
  u64be(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** IEEE double little endian. */
  f64le(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
}

/** Latin1 string -> bytes. */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Copies a latin1 string into `dst` (which must be large enough); returns the length. */
export function latin1Into(s: string, dst: Uint8Array): number {
  for (let i = 0; i < s.length; i++) dst[i] = s.charCodeAt(i);
  return s.length;
}

/** Bytes -> latin1 string. */
export function bytesLatin1(b: Uint8Array): string {
  return latin1Slice(Buffer.from(b.buffer, b.byteOffset, b.length), 0, b.length);
}
