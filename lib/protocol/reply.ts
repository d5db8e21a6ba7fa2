// Growable output buffer with RESP2/RESP3 reply encoders. Strings are latin1 (one char per byte).
import { Buffer } from "node:buffer";
import { putLatin1 } from "./bytes.ts";

/** Formats a double like C's printf("%.17g"), which Redis 7.0 uses for replies. */
export function formatDouble(d: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (Number.isNaN(d)) return "nan";
  if (d === 0) return Object.is(d, -0) ? "-0" : "0";
  const exp = Math.floor(Math.log10(Math.abs(d)));
  let s: string;
  if (exp < -4 || exp >= 17) {
    s = d.toExponential(16);
    let [m, e] = s.split("e");
    if (m.includes(".")) m = m.replace(/0+$/, "").replace(/\.$/, "");
    const en = parseInt(e, 10);
    const ea = Math.abs(en);
    s = `${m}e${en < 0 ? "-" : "+"}${ea < 10 ? "0" + ea : ea}`;
  } else {
    s = d.toPrecision(17);
    if (s.includes("e")) return formatDouble(d); // unreachable guard
    if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  }
  return s;
}

/** Formats a double the way Redis's INCRBYFLOAT/HINCRBYFLOAT do (human friendly, no exponent). */
export function formatHumanDouble(d: number): string {
  if (Number.isInteger(d) && Math.abs(d) < 1e17) return d.toFixed(0);
  let s = String(d);
  if (s.includes("e")) {
    s = d.toFixed(Math.min(100, Math.max(0, 17 - Math.floor(Math.log10(Math.abs(d))))));
    if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  }
  return s;
}

/** A RESP reply sink; `resp` selects protocol 2 or 3 encodings. */
export class ReplyBuffer {
  buf: Buffer;
  len = 0;
  resp: 2 | 3 = 2;

  constructor(size = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Ensures room for n more bytes. */
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  /** Drops the first n bytes (after they were written out). */
  consume(n: number): void {
    if (n >= this.len) {
      this.len = 0;
      if (this.buf.length > 1024 * 1024) this.buf = Buffer.allocUnsafe(16 * 1024);
      return;
    }
    this.buf.copy(this.buf, 0, n, this.len);
    this.len -= n;
  }

  /** Appends raw latin1 text. */
  raw(s: string): void {
    this.reserve(s.length);
    this.len = this.put(s, this.len);
  }

  /** Writes latin1 text at p (room reserved); returns the end (see putLatin1). */
  private put(s: string, p: number): number {
    return putLatin1(this.buf, s, p);
  }

  /** Appends raw bytes. */
  rawBytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** +status */
  status(s: string): void {
    this.raw("+" + s + "\r\n");
  }

  /** -error; `msg` carries its code, e.g. "ERR syntax error". */
  error(msg: string): void {
    this.raw("-" + msg.replace(/[\r\n]/g, " ") + "\r\n");
  }

  /** :integer */
  int(n: number | bigint): void {
    this.raw(":" + n + "\r\n");
  }

  /** $bulk */
  bulk(s: string): void {
    const n = s.length;
    this.reserve(n + 24);
    const buf = this.buf;
    let p = this.len;
    buf[p++] = 36;
    if (n < 10) buf[p++] = 48 + n;
    else p = this.put(String(n), p);
    buf[p++] = 13;
    buf[p++] = 10;
    p = this.put(s, p);
    buf[p++] = 13;
    buf[p++] = 10;
    this.len = p;
  }

  /** Bulk from bytes. */
  bulkBytes(b: Uint8Array): void {
    this.raw("$" + b.length + "\r\n");
    this.rawBytes(b);
    this.raw("\r\n");
  }

  /** Bulk or null. */
  bulkOrNull(s: string | undefined | null): void {
    if (s === undefined || s === null) this.null();
    else this.bulk(s);
  }

  /** Null bulk ($-1 / _). */
  null(): void {
    this.raw(this.resp === 3 ? "_\r\n" : "$-1\r\n");
  }

  /** Null array (*-1 / _). */
  nullArray(): void {
    this.raw(this.resp === 3 ? "_\r\n" : "*-1\r\n");
  }

  /** Array header. */
  array(n: number): void {
    this.raw("*" + n + "\r\n");
  }

  /** Map header (n pairs); RESP2 flattens to an array of 2n. */
  map(n: number): void {
    this.raw(this.resp === 3 ? "%" + n + "\r\n" : "*" + 2 * n + "\r\n");
  }

  /** Set header; RESP2 sends an array. */
  set(n: number): void {
    this.raw(this.resp === 3 ? "~" + n + "\r\n" : "*" + n + "\r\n");
  }

  /** Push header (pub/sub messages); RESP2 sends an array. */
  push(n: number): void {
    this.raw(this.resp === 3 ? ">" + n + "\r\n" : "*" + n + "\r\n");
  }

  /** Double: RESP3 `,`; RESP2 a bulk string. */
  double(d: number): void {
    const s = formatDouble(d);
    if (this.resp === 3) this.raw("," + s + "\r\n");
    else this.bulk(s);
  }

  /** Boolean: RESP3 `#t`; RESP2 integer 1/0. */
  bool(b: boolean): void {
    if (this.resp === 3) this.raw(b ? "#t\r\n" : "#f\r\n");
    else this.int(b ? 1 : 0);
  }

  /** Verbatim string (RESP3 `=`), e.g. INFO and CLUSTER NODES; RESP2 bulk. */
  verbatim(s: string, fmt = "txt"): void {
    if (this.resp === 3) {
      this.raw("=" + (s.length + 4) + "\r\n" + fmt + ":");
      this.raw(s);
      this.raw("\r\n");
    } else this.bulk(s);
  }

  /** Array of bulk strings. */
  bulkArray(items: readonly string[]): void {
    this.array(items.length);
    for (const s of items) this.bulk(s);
  }
}
