// Incremental RESP request parser: multibulk (`*N\r\n$len\r\n...`) and inline commands.
// Mirrors Redis's processMultibulkBuffer/processInlineBuffer, including their error texts.
import { Buffer } from "node:buffer";
import { latin1Decode, latin1Slice } from "./bytes.ts";
import { hashBytes, rememberArgHash } from "../store/dict.ts";

/** Largest inline request or count line Redis buffers before refusing it. */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
const INT_MAX = 2147483647;
/** Most commands keyHashes looks ahead at. */
const AHEAD_MAX = 64;
const KEY_LEN = new Int32Array(AHEAD_MAX);

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
  private whole: Uint8Array = new Uint8Array(0);
  private wholeFor: Buffer | null = null;
  private multibulk = 0;
  private bulk = -1;
  private argv: string[] = [];
  /** Arguments of the current multibulk stored so far. */
  private argc = 0;
  /** keyHashes' results: offsets of first arguments in buf and their hashes, the next one to
   * use, and how many. Valid while the buffered bytes stay where they are (space() and feed()
   * may move them, and drop the list). */
  private aheadAt: Int32Array | null = null;
  private aheadHash: Int32Array | null = null;
  private aheadI = 0;
  private aheadN = 0;

  constructor(size = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Bytes buffered but not yet consumed. */
  get pending(): number {
    return this.end - this.start;
  }

  /** Returns a writable region of at least `min` bytes at the end of the buffer (a plain
   * Uint8Array view: Buffer#subarray goes through the slower species constructor). */
  space(min = 16 * 1024): Uint8Array {
    this.aheadN = 0;
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
    const b = this.buf;
    if (this.end === 0) {
      // The usual case (everything read was consumed): one cached view of the whole buffer.
      if (this.wholeFor !== b) {
        this.whole = new Uint8Array(b.buffer, b.byteOffset, b.length);
        this.wholeFor = b;
      }
      return this.whole;
    }
    return new Uint8Array(b.buffer, b.byteOffset + this.end, b.length - this.end);
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
      // parseMultibulkHeader gives every command a fresh argv array.
      return this.parseBulks() ? this.argv : null;
    }
    return null;
  }

  /** Hashes (hashBytes) the first argument of the complete multibulk commands buffered ahead,
   * up to `max` of them, into `aheadHashes`; returns how many, or 0 when fewer than two commands
   * are buffered (nothing to overlap). A read-only look ahead for KeyDict.prefetch: it stops at
   * anything unusual (an inline command, a partial or malformed header, a long key), which
   * next() then parses the exact way. */
  keyHashes(max: number): number {
    if (this.multibulk !== 0 || this.bulk !== -1) return 0;
    const buf = this.buf;
    const end = this.end;
    if (this.aheadAt === null) {
      this.aheadAt = new Int32Array(AHEAD_MAX);
      this.aheadHash = new Int32Array(AHEAD_MAX);
    }
    const at = this.aheadAt;
    const len = KEY_LEN;
    if (max > AHEAD_MAX) max = AHEAD_MAX;
    this.aheadN = this.aheadI = 0;
    let p = this.start;
    let n = 0;
    scan: while (n < max && p < end && buf[p] === 42 /* * */) {
      let argc = 0;
      let j = p + 1;
      for (; j < end && j - p <= 4; j++) {
        const d = buf[j] - 48;
        if (d < 0 || d > 9) break;
        argc = argc * 10 + d;
      }
      if (j + 1 >= end || buf[j] !== 13 || argc < 2) break;
      p = j + 2;
      for (let a = 0; a < argc; a++) {
        if (p >= end || buf[p] !== 36 /* $ */) break scan;
        let l = 0;
        for (j = p + 1; j < end && j - p <= 10; j++) {
          const d = buf[j] - 48;
          if (d < 0 || d > 9) break;
          l = l * 10 + d;
        }
        if (j + 1 >= end || buf[j] !== 13 || j === p + 1) break scan;
        p = j + 2;
        if (a === 1) {
          if (l > 64) break scan;
          at[n] = p;
          len[n] = l;
        }
        p += l + 2;
        if (p > end) break scan;
      }
      n++;
    }
    if (n < 2) return 0;
    const ah = this.aheadHash!;
    for (let i = 0; i < n; i++) ah[i] = hashBytes(buf, at[i], len[i]);
    this.aheadN = n;
    return n;
  }

  /** The hashes of the last keyHashes call (the first n it returned). */
  get aheadHashes(): Int32Array {
    return this.aheadHash!;
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
    // Fast path: `*<1..9 digits>\r\n` (no leading zero) with both CR and LF buffered.
    const buf = this.buf;
    const st = this.start;
    let j = st + 1;
    let v = 0;
    if (buf[j] !== 48 /* 0 */) {
      for (; j < this.end && j - st <= 9; j++) {
        const d = buf[j] - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
    }
    if (j > st + 1 && j + 1 < this.end && buf[j] === 13 && (v <= 10 || !this.authRequired())) {
      this.start = j + 2;
      this.multibulk = v;
      this.newArgv(v);
      return true;
    }
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
    this.newArgv(ll);
    return true;
  }

  /** A fresh argv of the announced size: `[]` plus push() would give it room for 17. Like
   * Redis, at most 1024 slots are reserved before the arguments actually arrive. */
  private newArgv(n: number): void {
    this.argv = new Array(n < 1024 ? n : 1024);
    this.argc = 0;
  }

  private parseBulks(): boolean {
    const buf = this.buf;
    while (this.multibulk > 0) {
      if (this.bulk === -1) {
        // Fast path: a well-formed `$<1..10 digits>\r\n` header with both CR and LF buffered.
        // Anything else (leading zeros, signs, errors, partial headers) takes the exact path.
        const st = this.start;
        const end = this.end;
        let j = st + 1;
        let v = 0;
        if (buf[st] === 36 /* $ */ && buf[j] !== 48 /* 0 */) {
          for (; j < end && j - st <= 10; j++) {
            const d = buf[j] - 48;
            if (d < 0 || d > 9) break;
            v = v * 10 + d;
          }
        }
        if (
          j > st + 1 && j + 1 < end && buf[j] === 13 && j - st <= 10 && v <= this.maxBulkLen &&
          (v <= 16384 || !this.authRequired())
        ) {
          this.start = j + 2;
          this.bulk = v;
        } else if (!this.parseBulkHeader()) return false;
      }
      const st = this.start;
      const n = this.bulk;
      if (this.end - st < n + 2) {
        return false;
      }
      const i = this.argc++;
      if (i === 0) this.argv[0] = commandName(buf, st, n);
      else {
        const a = latin1Decode(buf, st, st + n);
        this.argv[i] = a;
        // Keys are hashed here, from the bytes (see rememberArgHash).
        if (i <= 2 && n <= 64) {
          // The first argument's hash may be known from keyHashes (same bytes, same offset).
          const k = this.aheadI;
          let h: number;
          if (i === 1 && k < this.aheadN && this.aheadAt![k] === st) {
            h = this.aheadHash![k];
            this.aheadI = k + 1;
          } else h = hashBytes(buf, st, n);
          rememberArgHash(i, a, h);
        }
      }
      this.start = st + n + 2;
      this.bulk = -1;
      this.multibulk--;
    }
    return true;
  }

  /** Parses a `$len` header the exact way (errors included); false when more input is needed or
   * on error. */
  private parseBulkHeader(): boolean {
    const buf = this.buf;
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

/** Recently seen command names (argv[0]), so a pipeline of SETs decodes "SET" once and every
 * lookup reuses one string whose hash V8 has already computed. */
const NAMES: (string | undefined)[] = new Array(256);

function commandName(buf: Uint8Array, s: number, n: number): string {
  if (n === 0 || n > 16) return latin1Decode(buf as Buffer, s, s + n);
  const h = (n * 31 + buf[s] * 7 + buf[s + n - 1] * 3 + buf[s + (n >> 1)]) & 255;
  const hit = NAMES[h];
  if (hit !== undefined && hit.length === n) {
    let i = 0;
    while (i < n && hit.charCodeAt(i) === buf[s + i]) i++;
    if (i === n) return hit;
  }
  return NAMES[h] = latin1Decode(buf as Buffer, s, s + n);
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
