// Bit commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO. Strings stay
// latin1 JS strings (one char per byte); bit 0 is the most significant bit of the first byte.
// Argument order, replies, error texts, dirty counting, keyspace events and the "raw" encoding
// side effects follow Redis 7.0's bitops.c.
import type { Client } from "../server/client.ts";
import { cmdWithMeta, type CommandSpec } from "./types.ts";
import { E_NOT_INT, E_SYNTAX, E_WRONGTYPE, parseBigInt, parseInteger } from "./util.ts";
import { clearEncodingMark, lookupRead, markRaw, touchKey } from "./keys_access.ts";
import { bytesLatin1 } from "../persistence/bytes_io.ts";
import { BITOPS_META } from "./bitops_meta.ts";

const E_BIT_OFFSET = "ERR bit offset is not an integer or out of range";
const E_BIT_VALUE = "ERR bit is not an integer or out of range";
const E_BIT_ARG = "ERR The bit argument must be 1 or 0.";
const E_BITOP_NOT = "ERR BITOP NOT must be called with a single source key.";
const E_BF_TYPE =
  "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const E_BF_OVERFLOW = "ERR Invalid OVERFLOW type specified";
const E_BF_RO = "ERR BITFIELD_RO only supports the GET subcommand";

const fcc = String.fromCharCode;

/** Set bits of every byte value. */
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];

/** The argument as C sees it through strcasecmp/strlen: cut at the first NUL byte. */
function cstr(s: string): string {
  const i = s.indexOf("\0");
  return i < 0 ? s : s.slice(0, i);
}

/** Like getBitOffsetFromArgument: a bit offset, "#N" meaning N*bits when `bits` > 0 (BITFIELD).
 * Negative offsets and offsets whose byte reaches proto-max-bulk-len are refused (except from
 * the master). Returns -1 after replying the error. */
function bitOffset(c: Client, arg: string, bits: number): number {
  const hash = bits > 0 && arg.charCodeAt(0) === 35; // '#'
  const digits = hash ? arg.slice(1) : arg;
  let off = parseInteger(digits);
  if (off === null) {
    c.error(E_BIT_OFFSET);
    return -1;
  }
  if (hash) {
    const p = off * bits;
    // C multiplies in int64 and wraps: reproduce it exactly when the product is not exact.
    off = Number.isSafeInteger(p) ? p : Number(BigInt.asIntN(64, BigInt(digits) * BigInt(bits)));
  }
  if (
    off < 0 ||
    (!c.isMaster && Math.floor(off / 8) >= c.server.config.int("proto-max-bulk-len"))
  ) {
    c.error(E_BIT_OFFSET);
    return -1;
  }
  return off;
}

/** Set bits in bytes [from, to] of s. */
function popcount(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i <= to; i++) n += POPCOUNT[s.charCodeAt(i)];
  return n;
}

/** Set bits in the bit range [first, last] of s (both inside the string). */
function countBitRange(s: string, first: number, last: number): number {
  const fb = Math.floor(first / 8), lb = Math.floor(last / 8);
  let n = popcount(s, fb, lb);
  n -= POPCOUNT[s.charCodeAt(fb) & ~(0xff >> (first & 7)) & 0xff];
  n -= POPCOUNT[s.charCodeAt(lb) & ((1 << (7 - (last & 7))) - 1)];
  return n;
}

/** Position of the first bit equal to `bit` in the bit range [first, last] of s, or -1. */
function findBit(s: string, bit: number, first: number, last: number): number {
  const fb = Math.floor(first / 8), lb = Math.floor(last / 8);
  const skip = bit ? 0 : 0xff;
  for (let i = fb; i <= lb; i++) {
    let b = s.charCodeAt(i);
    if (b === skip && i !== fb && i !== lb) continue;
    if (!bit) b = ~b & 0xff;
    if (i === fb) b &= 0xff >> (first & 7);
    if (i === lb) b &= (0xff << (7 - (last & 7))) & 0xff;
    if (b !== 0) return i * 8 + Math.clz32(b) - 24;
  }
  return -1;
}

/** start > end for two long long arguments, exact beyond 2^53. */
function greater(a: string, an: number, b: string, bn: number): boolean {
  if (Number.isSafeInteger(an) && Number.isSafeInteger(bn)) return an > bn;
  return BigInt(a) > BigInt(b);
}

/** BIT|BYTE option: 1 for BIT, 0 for BYTE, -1 after replying a syntax error. */
function unitOption(c: Client, arg: string): number {
  const o = cstr(arg).toLowerCase();
  if (o === "bit") return 1;
  if (o === "byte") return 0;
  c.error(E_SYNTAX);
  return -1;
}

// SETBIT key offset value
function setbitCommand(c: Client, argv: string[]): void {
  const offset = bitOffset(c, argv[2], 0);
  if (offset < 0) return;
  const on = parseInteger(argv[3]);
  if (on === null || (on !== 0 && on !== 1)) return c.error(E_BIT_VALUE);
  const db = c.db;
  const key = argv[1];
  const v = db.get(key);
  if (v !== undefined && typeof v !== "string") return c.error(E_WRONGTYPE);
  const byte = Math.floor(offset / 8);
  const shift = 7 - (offset & 7);
  const cur = v ?? "";
  const old = byte < cur.length ? cur.charCodeAt(byte) : 0;
  const bitval = (old >> shift) & 1;
  if (v === undefined || byte >= cur.length || bitval !== on) {
    // New key, grown string or a real change: Redis signals and counts only these.
    const nb = on ? old | (1 << shift) : old & ~(1 << shift);
    const nv = byte < cur.length
      ? cur.slice(0, byte) + fcc(nb) + cur.slice(byte + 1)
      : cur + "\0".repeat(byte - cur.length) + fcc(nb);
    db.set(key, nv, true);
    markRaw(db, key, nv);
    c.server.notify("$", "setbit", key, c.dbIndex);
    c.server.dirty++;
  } else {
    markRaw(db, key, cur); // dbUnshareStringValue: the value becomes "raw" even unchanged
  }
  touchKey(c.server, db, key);
  c.out.int(bitval);
}

// GETBIT key offset
function getbitCommand(c: Client, argv: string[]): void {
  const offset = bitOffset(c, argv[2], 0);
  if (offset < 0) return;
  const v = lookupRead(c, argv[1]);
  if (v === undefined) return c.out.int(0);
  if (typeof v !== "string") return c.error(E_WRONGTYPE);
  const byte = Math.floor(offset / 8);
  c.out.int(byte < v.length ? (v.charCodeAt(byte) >> (7 - (offset & 7))) & 1 : 0);
}

// BITCOUNT key [start end [BYTE|BIT]]
function bitcountCommand(c: Client, argv: string[]): void {
  const v = lookupRead(c, argv[1]);
  if (v === undefined) return c.out.int(0);
  if (typeof v !== "string") return c.error(E_WRONGTYPE);
  const len = v.length;
  if (argv.length === 2) return c.out.int(len === 0 ? 0 : popcount(v, 0, len - 1));
  if (argv.length !== 4 && argv.length !== 5) return c.error(E_SYNTAX);
  let start = parseInteger(argv[2]);
  if (start === null) return c.error(E_NOT_INT);
  let end = parseInteger(argv[3]);
  if (end === null) return c.error(E_NOT_INT);
  if (start < 0 && end < 0 && greater(argv[2], start, argv[3], end)) return c.out.int(0);
  const isBit = argv.length === 5 ? unitOption(c, argv[4]) : 0;
  if (isBit < 0) return;
  const total = isBit ? len * 8 : len;
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  if (start > end) return c.out.int(0);
  c.out.int(isBit ? countBitRange(v, start, end) : popcount(v, start, end));
}

// BITPOS key bit [start [end [BYTE|BIT]]]
function bitposCommand(c: Client, argv: string[]): void {
  const bit = parseInteger(argv[2]);
  if (bit === null) return c.error(E_NOT_INT);
  if (bit !== 0 && bit !== 1) return c.error(E_BIT_ARG);
  // A missing key is an infinite run of zero bits.
  const v = lookupRead(c, argv[1]);
  if (v === undefined) return c.out.int(bit ? -1 : 0);
  if (typeof v !== "string") return c.error(E_WRONGTYPE);
  const len = v.length;
  let start = 0, end = len - 1, isBit = 0, endGiven = false;
  if (argv.length >= 4 && argv.length <= 6) {
    const s = parseInteger(argv[3]);
    if (s === null) return c.error(E_NOT_INT);
    start = s;
    if (argv.length === 6) {
      isBit = unitOption(c, argv[5]);
      if (isBit < 0) return;
    }
    if (argv.length >= 5) {
      const e = parseInteger(argv[4]);
      if (e === null) return c.error(E_NOT_INT);
      end = e;
      endGiven = true;
    } else end = isBit ? len * 8 + 7 : len - 1;
    const total = isBit ? len * 8 : len;
    if (start < 0) start += total;
    if (end < 0) end += total;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= total) end = total - 1;
  } else if (argv.length !== 3) return c.error(E_SYNTAX);
  // An empty range holds neither a 0 nor a 1.
  if (start > end) return c.out.int(-1);
  const first = isBit ? start : start * 8;
  const last = isBit ? end : end * 8 + 7;
  let pos = findBit(v, bit, first, last);
  // Looking for a 0 without an explicit end: the string continues with zero padding.
  if (pos < 0 && bit === 0 && !endGiven) pos = last + 1;
  c.out.int(pos);
}

// BITOP AND|OR|XOR|NOT destkey key [key ...]
function bitopCommand(c: Client, argv: string[]): void {
  const op = cstr(argv[1]).toLowerCase();
  if (op !== "and" && op !== "or" && op !== "xor" && op !== "not") return c.error(E_SYNTAX);
  if (op === "not" && argv.length !== 4) return c.error(E_BITOP_NOT);
  const srcs: string[] = [];
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const v = lookupRead(c, argv[j]);
    if (v === undefined) srcs.push("");
    else if (typeof v !== "string") return c.error(E_WRONGTYPE);
    else {
      srcs.push(v);
      if (v.length > maxlen) maxlen = v.length;
    }
  }
  const db = c.db;
  const dest = argv[2];
  if (maxlen > 0) {
    const out = new Uint8Array(maxlen);
    const s0 = srcs[0];
    for (let i = 0; i < s0.length; i++) out[i] = s0.charCodeAt(i);
    if (op === "not") {
      for (let i = 0; i < maxlen; i++) out[i] = ~out[i];
    } else {
      for (let k = 1; k < srcs.length; k++) {
        const s = srcs[k];
        const n = s.length;
        if (op === "and") {
          for (let i = 0; i < n; i++) out[i] &= s.charCodeAt(i);
          out.fill(0, n);
        } else if (op === "or") {
          for (let i = 0; i < n; i++) out[i] |= s.charCodeAt(i);
        } else {
          for (let i = 0; i < n; i++) out[i] ^= s.charCodeAt(i);
        }
      }
    }
    const res = bytesLatin1(out);
    db.set(dest, res);
    clearEncodingMark(db, dest);
    markRaw(db, dest, res);
    touchKey(c.server, db, dest);
    c.server.notify("$", "set", dest, c.dbIndex);
    c.server.dirty++;
  } else if (db.delete(dest)) {
    c.server.notify("g", "del", dest, c.dbIndex);
    c.server.dirty++;
  }
  c.out.int(maxlen);
}

// ---- BITFIELD ----

const OP_GET = 0, OP_SET = 1, OP_INCRBY = 2;
const OW_WRAP = 0, OW_SAT = 1, OW_FAIL = 2;

interface BitfieldOp {
  op: number;
  ow: number;
  offset: number;
  bits: number;
  signed: boolean;
  /** SET value or INCRBY increment (int64). */
  arg: bigint;
}

/** Reads `bits` bits at bit `offset` as an unsigned value; byteAt(i) is byte i (0 past the end). */
function readBits(byteAt: (i: number) => number, offset: number, bits: number): bigint {
  const first = Math.floor(offset / 8);
  const skew = offset & 7;
  const nbytes = (skew + bits + 7) >> 3;
  let w = 0n;
  for (let i = 0; i < nbytes; i++) w = (w << 8n) | BigInt(byteAt(first + i));
  return BigInt.asUintN(bits, w >> BigInt(nbytes * 8 - skew - bits));
}

/** Writes the low `bits` bits of value at bit `offset` of buf, whose byte 0 is string byte `base`. */
function writeBits(buf: Uint8Array, base: number, offset: number, bits: number, value: bigint) {
  const first = Math.floor(offset / 8) - base;
  const skew = offset & 7;
  const nbytes = (skew + bits + 7) >> 3;
  let w = 0n;
  for (let i = 0; i < nbytes; i++) w = (w << 8n) | BigInt(buf[first + i]);
  const shift = BigInt(nbytes * 8 - skew - bits);
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  w = (w & ~mask) | ((BigInt.asUintN(bits, value) << shift) & mask);
  for (let i = nbytes - 1; i >= 0; i--) {
    buf[first + i] = Number(w & 0xffn);
    w >>= 8n;
  }
}

/** checkSignedBitfieldOverflow: [0 | 1 | -1, value on overflow for WRAP/SAT]. maxincr and
 * minincr wrap in int64 like the C code (so SET i8 of INT64_MIN saturates to +127 as in Redis). */
function signedOverflow(value: bigint, incr: bigint, bits: number, ow: number): [number, bigint] {
  const max = (1n << BigInt(bits - 1)) - 1n;
  const min = -max - 1n;
  const maxincr = BigInt.asIntN(64, max - value);
  const minincr = BigInt.asIntN(64, min - value);
  const wrap = () => BigInt.asIntN(bits, value + incr);
  if (
    value > max || (bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)
  ) {
    return [1, ow === OW_WRAP ? wrap() : max];
  }
  if (
    value < min || (bits !== 64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)
  ) {
    return [-1, ow === OW_WRAP ? wrap() : min];
  }
  return [0, 0n];
}

/** checkUnsignedBitfieldOverflow for a uint64 value and an int64 increment (bits <= 63). */
function unsignedOverflow(value: bigint, incr: bigint, bits: number, ow: number): [number, bigint] {
  const max = (1n << BigInt(bits)) - 1n;
  const maxincr = BigInt.asIntN(64, max - value);
  const minincr = BigInt.asIntN(64, -value);
  const wrap = () => BigInt.asUintN(bits, value + incr);
  if (value > max || (incr > 0n && incr > maxincr)) return [1, ow === OW_WRAP ? wrap() : max];
  if (incr < 0n && incr < minincr) return [-1, ow === OW_WRAP ? wrap() : 0n];
  return [0, 0n];
}

/** Parses a bitfield type like getBitfieldTypeFromArgument: [signed, bits] or null. */
function bitfieldType(arg: string): [boolean, number] | null {
  const ch = arg.charCodeAt(0);
  if (ch !== 105 && ch !== 117) return null; // 'i' | 'u'
  const signed = ch === 105;
  const bits = parseInteger(cstr(arg.slice(1)));
  if (bits === null || bits < 1 || bits > (signed ? 64 : 63)) return null;
  return [signed, bits];
}

function bitfieldGeneric(c: Client, argv: string[], readonlyCmd: boolean): void {
  const ops: BitfieldOp[] = [];
  let ow = OW_WRAP;
  let readonly = true;
  let highest = 0;
  let lowest = Infinity;
  for (let j = 2; j < argv.length; j++) {
    const rem = argv.length - j - 1;
    const sub = cstr(argv[j]).toLowerCase();
    let op: number;
    if (sub === "get" && rem >= 2) op = OP_GET;
    else if (sub === "set" && rem >= 3) op = OP_SET;
    else if (sub === "incrby" && rem >= 3) op = OP_INCRBY;
    else if (sub === "overflow" && rem >= 1) {
      const name = cstr(argv[++j]).toLowerCase();
      if (name === "wrap") ow = OW_WRAP;
      else if (name === "sat") ow = OW_SAT;
      else if (name === "fail") ow = OW_FAIL;
      else return c.error(E_BF_OVERFLOW);
      continue;
    } else return c.error(E_SYNTAX);
    const type = bitfieldType(argv[j + 1]);
    if (type === null) return c.error(E_BF_TYPE);
    const [signed, bits] = type;
    const offset = bitOffset(c, argv[j + 2], bits);
    if (offset < 0) return;
    let arg = 0n;
    if (op !== OP_GET) {
      readonly = false;
      if (offset + bits - 1 > highest) highest = offset + bits - 1;
      if (offset < lowest) lowest = offset;
      const n = parseBigInt(argv[j + 3]);
      if (n === null) return c.error(E_NOT_INT);
      arg = n;
    }
    ops.push({ op, ow, offset, bits, signed, arg });
    j += op === OP_GET ? 2 : 3;
  }

  const db = c.db;
  const key = argv[1];
  if (readonly) {
    const v = lookupRead(c, key);
    if (v !== undefined && typeof v !== "string") return c.error(E_WRONGTYPE);
    const s = v ?? "";
    const byteAt = (i: number) => i < s.length ? s.charCodeAt(i) : 0;
    c.out.array(ops.length);
    for (const o of ops) {
      const u = readBits(byteAt, o.offset, o.bits);
      c.out.int(o.signed ? BigInt.asIntN(o.bits, u) : u);
    }
    return;
  }
  if (readonlyCmd) return c.error(E_BF_RO);

  const v = db.get(key);
  if (v !== undefined && typeof v !== "string") return c.error(E_WRONGTYPE);
  const cur = v ?? "";
  // Like lookupStringForBitCommand: create or zero-pad so the highest written bit exists.
  const newLen = Math.max(cur.length, Math.floor(highest / 8) + 1);
  const grown = v === undefined || newLen !== cur.length;
  // Written bytes live in a window [base, base + buf.length) of the string; GETs read through it.
  const base = Math.floor(lowest / 8);
  const buf = new Uint8Array(Math.floor(highest / 8) + 1 - base);
  for (let i = base; i < cur.length && i - base < buf.length; i++) {
    buf[i - base] = cur.charCodeAt(i);
  }
  const byteAt = (i: number) =>
    i >= base && i - base < buf.length ? buf[i - base] : i < cur.length ? cur.charCodeAt(i) : 0;

  const replies: (bigint | null)[] = [];
  let changes = 0;
  for (const o of ops) {
    const u = readBits(byteAt, o.offset, o.bits);
    if (o.op === OP_GET) {
      replies.push(o.signed ? BigInt.asIntN(o.bits, u) : u);
      continue;
    }
    let oldval: bigint, newval: bigint, retval: bigint, overflow: number, limit: bigint;
    if (o.signed) {
      oldval = BigInt.asIntN(o.bits, u);
      if (o.op === OP_INCRBY) {
        [overflow, limit] = signedOverflow(oldval, o.arg, o.bits, o.ow);
        newval = overflow ? limit : oldval + o.arg;
        retval = newval;
      } else {
        newval = o.arg;
        [overflow, limit] = signedOverflow(newval, 0n, o.bits, o.ow);
        if (overflow) newval = limit;
        retval = oldval;
      }
    } else {
      oldval = u;
      if (o.op === OP_INCRBY) {
        newval = BigInt.asUintN(64, oldval + o.arg);
        [overflow, limit] = unsignedOverflow(oldval, o.arg, o.bits, o.ow);
        if (overflow) newval = limit;
        retval = newval;
      } else {
        newval = BigInt.asUintN(64, o.arg);
        [overflow, limit] = unsignedOverflow(newval, 0n, o.bits, o.ow);
        if (overflow) newval = limit;
        retval = oldval;
      }
    }
    if (overflow && o.ow === OW_FAIL) {
      replies.push(null);
      continue;
    }
    replies.push(BigInt.asIntN(64, retval));
    writeBits(buf, base, o.offset, o.bits, newval);
    if (grown || oldval !== newval) changes++;
  }

  if (grown || changes > 0) {
    // Redis grows (or creates) the string even when every write failed with OVERFLOW FAIL,
    // but signals, notifies and counts dirty (so propagates) only real changes.
    const head = base <= cur.length ? cur.slice(0, base) : cur + "\0".repeat(base - cur.length);
    const nv = head + bytesLatin1(buf) + cur.slice(base + buf.length);
    db.set(key, nv, true);
    markRaw(db, key, nv);
    if (changes > 0) {
      c.server.notify("$", "setbit", key, c.dbIndex);
      c.server.dirty += changes;
    }
  } else markRaw(db, key, cur);
  touchKey(c.server, db, key);
  c.out.array(replies.length);
  for (const r of replies) {
    if (r === null) c.out.null();
    else c.out.int(r);
  }
}

const mk = cmdWithMeta(BITOPS_META);

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  mk("setbit", 4, ["write", "denyoom"], [1, 1, 1], setbitCommand),
  mk("getbit", 3, ["readonly", "fast"], [1, 1, 1], getbitCommand),
  mk("bitcount", -2, ["readonly"], [1, 1, 1], bitcountCommand),
  mk("bitpos", -3, ["readonly"], [1, 1, 1], bitposCommand),
  mk("bitop", -4, ["write", "denyoom"], [2, -1, 1], bitopCommand),
  mk("bitfield", -2, ["write", "denyoom"], [1, 1, 1], (c, argv) => {
    bitfieldGeneric(c, argv, false);
  }),
  mk("bitfield_ro", -2, ["readonly", "fast"], [1, 1, 1], (c, argv) => {
    bitfieldGeneric(c, argv, true);
  }),
];
