// Incremental RESP request parser: multibulk (`*N\r\n$len\r\n...`) and inline commands.
// Mirrors Redis's processMultibulkBuffer/processInlineBuffer, including their error texts.
import { Buffer } from "node:buffer";
import { latin1Slice } from "./bytes.ts";

/** Largest inline request or count line Redis buffers before refusing it. */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
const INT_MAX = 2147483647;

/** A protocol error: the reply text (without the leading `-`) and the log reason. */
export interface ProtocolError {
  reply: string;
  reason: string;
}

/** Stateful parser over a growable read buffer; argv elements are latin1 strings. */
export class RespParser {
  buf: Buffer;
  start = 0;
  end = 0;
  error: ProtocolError | null = null;
  /** Max size of one bulk argument (proto-max-bulk-len). */
  maxBulkLen = 512 * 1024 * 1024;
  /** When set and returns true, Redis's "unauthenticated" limits apply. */
  authRequired: () => boolean = () => false;
  /** Master links skip the bulk size limit and forbid inline commands. */
  isMaster = false;
  private multibulk = 0;
  private bulk = -1;
  private argv: string[] = [];

  constructor(size = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Bytes buffered but not yet consumed. */
  get pending(): number {
    return this.end - this.start;
  }

  /** Returns a writable region of at least `min` bytes at the end of the buffer. */
  space(min = 16 * 1024): Buffer {
    // A partially received big argument gets room for all of it at once.
    if (this.bulk > 0) min = Math.max(min, this.bulk + 2 - (this.end - this.start));
    if (this.start === this.end) this.start = this.end = 0;
    if (this.buf.length - this.end < min) {
      const live = this.end - this.start;
      if (this.start > 0 && this.buf.length - live >= min && this.start >= live) {
        this.buf.copy(this.buf, 0, this.start, this.end);
      } else {
        const nb = Buffer.allocUnsafe(Math.max(this.buf.length * 2, live + min));
        this.buf.copy(nb, 0, this.start, this.end);
        this.buf = nb;
      }
      this.start = 0;
      this.end = live;
    }
    return this.buf.subarray(this.end);
  }

  /** Appends bytes (used by tests and by non-socket feeders). */
  feed(data: Uint8Array): void {
    this.space(data.length).set(data);
    this.end += data.length;
  }

  /** Parses the next complete command. Returns null when more input is needed or on error. */
  next(): string[] | null {
    while (this.start < this.end) {
      if (this.multibulk === 0 && this.bulk === -1) {
        if (this.buf[this.start] === 42 /* * */) {
          const r = this.parseMultibulkHeader();
          if (r === false) return null;
          if (this.multibulk === 0) continue; // *0 or *-1: empty command, skip
        } else {
          const cmd = this.parseInline();
          if (cmd === null) return null;
          if (cmd.length === 0) continue;
          return cmd;
        }
      }
      const done = this.parseBulks();
      if (done) {
        const argv = this.argv;
        this.argv = [];
        return argv;
      }
      return null;
    }
    return null;
  }

  private fail(reply: string, reason: string): false {
    this.error = { reply, reason };
    return false;
  }

  private findCR(from: number): number {
    const i = this.buf.indexOf(13, from);
    return i === -1 || i >= this.end ? -1 : i;
  }

  private parseMultibulkHeader(): boolean {
    const cr = this.findCR(this.start);
    if (cr === -1) {
      if (this.end - this.start > PROTO_INLINE_MAX_SIZE) {
        return this.fail(
          "ERR Protocol error: too big mbulk count string",
          "too big mbulk count string",
        );
      }
      return false;
    }
    if (cr + 1 >= this.end) return false; // need \n
    const ll = parseLL(this.buf, this.start + 1, cr);
    if (ll === null || ll > INT_MAX) {
      return this.fail("ERR Protocol error: invalid multibulk length", "invalid mbulk count");
    }
    if (ll > 10 && this.authRequired()) {
      return this.fail(
        "ERR Protocol error: unauthenticated multibulk length",
        "unauth mbulk count",
      );
    }
    this.start = cr + 2;
    if (ll <= 0) return true;
    this.multibulk = ll;
    this.argv = [];
    return true;
  }

  private parseBulks(): boolean {
    const buf = this.buf;
    while (this.multibulk > 0) {
      if (this.bulk === -1) {
        const cr = this.findCR(this.start);
        if (cr === -1) {
          if (this.end - this.start > PROTO_INLINE_MAX_SIZE) {
            this.fail("ERR Protocol error: too big bulk count string", "too big bulk count string");
          }
          return false;
        }
        if (cr + 1 >= this.end) return false;
        if (buf[this.start] !== 36 /* $ */) {
          this.fail(
            `ERR Protocol error: expected '$', got '${String.fromCharCode(buf[this.start])}'`,
            "expected $ but got something else",
          );
          return false;
        }
        const ll = parseLL(buf, this.start + 1, cr);
        if (ll === null || ll < 0 || (!this.isMaster && ll > this.maxBulkLen)) {
          this.fail("ERR Protocol error: invalid bulk length", "invalid bulk length");
          return false;
        }
        if (ll > 16384 && this.authRequired()) {
          this.fail("ERR Protocol error: unauthenticated bulk length", "unauth bulk length");
          return false;
        }
        this.start = cr + 2;
        this.bulk = ll;
      }
      if (this.end - this.start < this.bulk + 2) {
        return false;
      }
      this.argv.push(latin1Slice(this.buf, this.start, this.start + this.bulk));
      this.start += this.bulk + 2;
      this.bulk = -1;
      this.multibulk--;
    }
    return true;
  }

  private parseInline(): string[] | null {
    const nl = this.buf.indexOf(10, this.start);
    if (nl === -1 || nl >= this.end) {
      if (this.end - this.start > PROTO_INLINE_MAX_SIZE) {
        this.fail("ERR Protocol error: too big inline request", "too big inline request");
      }
      return null;
    }
    let lineEnd = nl;
    if (lineEnd > this.start && this.buf[lineEnd - 1] === 13) lineEnd--;
    const line = latin1Slice(this.buf, this.start, lineEnd);
    if (this.isMaster && line.length > 0) {
      this.fail(
        "ERR Master using the inline protocol. Desync?",
        "Master using the inline protocol. Desync?",
      );
      return null;
    }
    const args = splitArgs(line);
    if (args === null) {
      this.fail(
        "ERR Protocol error: unbalanced quotes in request",
        "unbalanced quotes in inline request",
      );
      return null;
    }
    this.start = nl + 1;
    return args;
  }
}

/** Parses a signed decimal integer in buf[from,to) the way Redis's string2ll does. */
export function parseLL(buf: Uint8Array, from: number, to: number): number | null {
  if (from >= to || to - from > 20) return null;
  let i = from;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
    if (i === to) return null;
  }
  if (buf[i] === 48 && to - i > 1) return null;
  let v = 0;
  for (; i < to; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

function isHex(c: string): boolean {
  return /[0-9a-fA-F]/.test(c);
}

/** Splits a line like sdssplitargs(): spaces separate, "..." with escapes, '...' with \'. */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (true) {
    while (i < n && /[ \n\r\t\v\f]/.test(line[i])) i++;
    if (i >= n) return out;
    let inq = false;
    let insq = false;
    let cur = "";
    while (true) {
      const c = line[i];
      if (inq) {
        if (i >= n) return null;
        if (
          c === "\\" && line[i + 1] === "x" && isHex(line[i + 2] ?? "") && isHex(line[i + 3] ?? "")
        ) {
          cur += String.fromCharCode(parseInt(line.substr(i + 2, 2), 16));
          i += 3;
        } else if (c === "\\" && i + 1 < n) {
          i++;
          const e = line[i];
          cur += e === "n"
            ? "\n"
            : e === "r"
            ? "\r"
            : e === "t"
            ? "\t"
            : e === "b"
            ? "\b"
            : e === "a"
            ? "\x07"
            : e;
        } else if (c === '"') {
          if (i + 1 < n && !/[ \n\r\t\v\f]/.test(line[i + 1])) return null;
          i++;
          break;
        } else {
          cur += c;
        }
      } else if (insq) {
        if (i >= n) return null;
        if (c === "\\" && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < n && !/[ \n\r\t\v\f]/.test(line[i + 1])) return null;
          i++;
          break;
        } else {
          cur += c;
        }
      } else {
        if (i >= n || /[ \n\r\t\v\f]/.test(c)) break;
        if (c === '"') inq = true;
        else if (c === "'") insq = true;
        else cur += c;
      }
      i++;
    }
    out.push(cur);
  }
}
