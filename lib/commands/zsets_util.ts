// Shared pieces of the sorted set commands: number parsing with C strtod semantics (Redis parses
// scores, ranges and timeouts with strtod/strtold), key lookup, encoding conversion and storing.
import type { Client } from "../server/client.ts";
import type { Value } from "../store/types.ts";
import { type LexBound, ZSetValue } from "../store/zset.ts";
import { E_TIMEOUT_NEGATIVE, E_TIMEOUT_NOT_FLOAT, E_WRONGTYPE } from "./util.ts";
import { lookupRead } from "./keys_access.ts";

/** Result of a strtod emulation: the value, where parsing stopped, and whether errno would be ERANGE. */
export interface StrtodResult {
  value: number;
  end: number;
  erange: boolean;
}

function isSpace(ch: number): boolean {
  return ch === 32 || (ch >= 9 && ch <= 13);
}

function isDigit(ch: number): boolean {
  return ch >= 48 && ch <= 57;
}

function hexVal(ch: number): number {
  if (ch >= 48 && ch <= 57) return ch - 48;
  if (ch >= 97 && ch <= 102) return ch - 87;
  if (ch >= 65 && ch <= 70) return ch - 55;
  return -1;
}

function matchWord(s: string, i: number, w: string): boolean {
  if (i + w.length > s.length) return false;
  for (let k = 0; k < w.length; k++) {
    if ((s.charCodeAt(i + k) | 0x20) !== w.charCodeAt(k)) return false;
  }
  return true;
}

/** Emulates glibc strtod on s from index `from`: whitespace, sign, decimal, hex, inf, nan. */
export function strtod(s: string, from = 0): StrtodResult {
  let i = from;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  let neg = false;
  const sc = s.charCodeAt(i);
  if (sc === 43 || sc === 45) {
    neg = sc === 45;
    i++;
  }
  if (matchWord(s, i, "inf")) {
    const end = matchWord(s, i, "infinity") ? i + 8 : i + 3;
    return { value: neg ? -Infinity : Infinity, end, erange: false };
  }
  if (matchWord(s, i, "nan")) {
    let end = i + 3;
    if (s[end] === "(") {
      let k = end + 1;
      while (k < s.length && /[0-9A-Za-z_]/.test(s[k])) k++;
      if (s[k] === ")") end = k + 1;
    }
    return { value: NaN, end, erange: false };
  }
  if (s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X")) {
    const hex = parseHex(s, i + 2, neg);
    if (hex) return hex;
  }
  const start = i;
  let digits = 0;
  let nonzero = false;
  while (i < s.length && isDigit(s.charCodeAt(i))) {
    if (s[i] !== "0") nonzero = true;
    i++;
    digits++;
  }
  if (s[i] === ".") {
    i++;
    while (i < s.length && isDigit(s.charCodeAt(i))) {
      if (s[i] !== "0") nonzero = true;
      i++;
      digits++;
    }
  }
  if (digits === 0) return { value: 0, end: from, erange: false };
  const c = s.charCodeAt(i);
  if (c === 101 || c === 69) {
    let k = i + 1;
    const ec = s.charCodeAt(k);
    if (ec === 43 || ec === 45) k++;
    if (isDigit(s.charCodeAt(k))) {
      while (k < s.length && isDigit(s.charCodeAt(k))) k++;
      i = k;
    }
  }
  const mag = Number(s.slice(start, i));
  const value = neg ? -mag : mag;
  const erange = mag === Infinity || (mag === 0 && nonzero);
  return { value, end: i, erange };
}

function parseHex(s: string, i: number, neg: boolean): StrtodResult | null {
  let m = 0n;
  let digits = 0;
  let frac = 0;
  while (i < s.length && hexVal(s.charCodeAt(i)) >= 0) {
    m = m * 16n + BigInt(hexVal(s.charCodeAt(i++)));
    digits++;
  }
  if (s[i] === ".") {
    let k = i + 1;
    let fd = 0;
    while (k < s.length && hexVal(s.charCodeAt(k)) >= 0) {
      m = m * 16n + BigInt(hexVal(s.charCodeAt(k++)));
      fd++;
    }
    if (digits + fd > 0) {
      i = k;
      digits += fd;
      frac = fd;
    }
  }
  if (digits === 0) return null; // "0x" alone parses as "0" followed by garbage
  let exp = -4 * frac;
  const pc = s.charCodeAt(i);
  if (pc === 112 || pc === 80) {
    let k = i + 1;
    let eneg = false;
    const ec = s.charCodeAt(k);
    if (ec === 43 || ec === 45) {
      eneg = ec === 45;
      k++;
    }
    if (isDigit(s.charCodeAt(k))) {
      let e = 0;
      while (k < s.length && isDigit(s.charCodeAt(k))) {
        e = Math.min(1e6, e * 10 + s.charCodeAt(k++) - 48);
      }
      exp += eneg ? -e : e;
      i = k;
    }
  }
  let mag = Number(m);
  while (exp > 0 && mag !== 0 && mag !== Infinity) {
    const step = Math.min(exp, 1000);
    mag *= 2 ** step;
    exp -= step;
  }
  while (exp < 0 && mag !== 0) {
    const step = Math.min(-exp, 1000);
    mag /= 2 ** step;
    exp += step;
  }
  const erange = mag === Infinity || (mag === 0 && m !== 0n);
  return { value: neg ? -mag : mag, end: i, erange };
}

/** Parses a score like Redis's string2d: the whole string, no leading space, no overflow, no NaN. */
export function parseScore(s: string): number | null {
  if (s.length === 0 || isSpace(s.charCodeAt(0))) return null;
  // Fast path for plain integers, the common case for scores.
  if (s.length < 16 && /^-?[0-9]+$/.test(s)) return Number(s);
  const r = strtod(s);
  if (r.end !== s.length || r.erange || Number.isNaN(r.value)) return null;
  return r.value;
}

/** A parsed score range bound. */
export interface ScoreBound {
  v: number;
  ex: boolean;
}

/** Parses a ZRANGEBYSCORE bound like zslParseRange ("(" prefix = exclusive; plain strtod rules). */
export function parseScoreBound(s: string): ScoreBound | null {
  const ex = s[0] === "(";
  const from = ex ? 1 : 0;
  const r = strtod(s, from);
  // C stops at the first NUL, so "eptr[0] != '\0'" accepts an embedded NUL as the end.
  if ((r.end !== s.length && s.charCodeAt(r.end) !== 0) || Number.isNaN(r.value)) return null;
  return { v: r.value, ex };
}

/** Parses a lex range item: "[x" inclusive, "(x" exclusive, "-" and "+" the extremes. */
export function parseLexBound(s: string): LexBound | null {
  const c = s[0];
  if (c === "+" || c === "-") {
    if (s.length > 1 && s.charCodeAt(1) !== 0) return null;
    return { s: "", ex: true, inf: c === "+" ? 1 : -1 };
  }
  if (c === "(") return { s: s.slice(1), ex: true, inf: 0 };
  if (c === "[") return { s: s.slice(1), ex: false, inf: 0 };
  return null;
}

/** Parses a blocking timeout in seconds like getTimeoutFromObjectOrReply; returns the absolute
 * deadline in ms (0 = forever) or null after replying the error. */
export function parseTimeout(c: Client, s: string): number | null {
  if (s.length === 0 || s.length >= 5120 || isSpace(s.charCodeAt(0))) {
    c.error(E_TIMEOUT_NOT_FLOAT);
    return null;
  }
  const r = strtod(s);
  if (r.end !== s.length || Number.isNaN(r.value)) {
    c.error(E_TIMEOUT_NOT_FLOAT);
    return null;
  }
  // Redis uses long double: values past the double range are still valid numbers there.
  let v = r.value;
  if (r.erange && v === 0) v = Number.MIN_VALUE;
  const ms = Math.ceil(v * 1000);
  // Casting a value outside long long yields LLONG_MIN on x86, hence "negative" for huge inputs.
  if (!(ms < 9223372036854775807) || ms < 0) {
    c.error(E_TIMEOUT_NEGATIVE);
    return null;
  }
  return ms > 0 ? Date.now() + ms : 0;
}

/** Looks a key up as a sorted set: the value, undefined when missing, null after a WRONGTYPE reply.
 * Read commands (the default) count keyspace hits/misses and emit "keymiss" (lookupKeyRead);
 * `write` is lookupKeyWrite, which does neither. */
export function lookupZset(c: Client, key: string, write = false): ZSetValue | undefined | null {
  const v = write ? c.db.get(key) : lookupRead(c, key);
  if (v === undefined) return undefined;
  if (typeof v === "string" || v.type !== "zset") {
    c.error(E_WRONGTYPE);
    return null;
  }
  return v;
}

/** True when a value can be read as a sorted set input of ZUNION/ZINTER (zset or set). */
export function isZsetOrSet(v: Value): boolean {
  return typeof v !== "string" && (v.type === "zset" || v.type === "set");
}

/** ZADD input flags, as in t_zset.c. */
export const ZADD_INCR = 1, ZADD_NX = 2, ZADD_XX = 4, ZADD_GT = 8, ZADD_LT = 16;
/** ZADD output flags. */
export const ZADD_NAN = 1, ZADD_ADDED = 2, ZADD_UPDATED = 4, ZADD_NOP = 8;

/** Result slots of zsetDecide (avoids allocating a result object per element). */
export const addResult = { score: 0, cur: 0 };

/** Decides what adding one member does, like the first half of Redis's zsetAdd, without
 * mutating (so callers can run the WATCH/snapshot hooks first). Returns ZADD_NAN, ZADD_NOP,
 * ZADD_ADDED, ZADD_UPDATED or 0 (same score); the new score goes to addResult.score. */
export function zsetDecide(z: ZSetValue, score: number, ele: string, flags: number): number {
  if (Number.isNaN(score)) return ZADD_NAN;
  const cur = z.dict.get(ele);
  if (cur !== undefined) {
    if (flags & ZADD_NX) return ZADD_NOP;
    if (flags & ZADD_INCR) {
      score += cur;
      if (Number.isNaN(score)) return ZADD_NAN;
    }
    if (((flags & ZADD_LT) && score >= cur) || ((flags & ZADD_GT) && score <= cur)) return ZADD_NOP;
    addResult.score = score;
    addResult.cur = cur;
    return score !== cur ? ZADD_UPDATED : 0;
  }
  if (flags & ZADD_XX) return ZADD_NOP;
  addResult.score = score;
  return ZADD_ADDED;
}

/** Applies a ZADD_ADDED/ZADD_UPDATED decision, converting the encoding before a listpack would
 * grow past zset-max-listpack-entries/-value (Redis converts before inserting). */
export function zsetApply(c: Client, z: ZSetValue, ele: string, action: number): void {
  const score = addResult.score;
  if (action === ZADD_UPDATED) {
    z.updateScore(ele, addResult.cur, score);
    return;
  }
  if (z.listpack) {
    const cfg = c.server.config;
    if (
      z.dict.size + 1 > cfg.int("zset-max-listpack-entries") ||
      ele.length > cfg.int("zset-max-listpack-value")
    ) {
      z.listpack = false;
    }
  }
  z.insert(ele, score);
}

/** Adds or updates a member unconditionally (store commands building a result). */
export function zsetAddPlain(c: Client, z: ZSetValue, ele: string, score: number): void {
  const a = zsetDecide(z, score, ele, 0);
  if (a === ZADD_ADDED || a === ZADD_UPDATED) zsetApply(c, z, ele, a);
}

/** Applies zsetConvertToListpackIfNeeded to a freshly built result set. */
export function convertIfSmall(c: Client, z: ZSetValue): void {
  const cfg = c.server.config;
  if (z.size > cfg.int("zset-max-listpack-entries")) return;
  const maxValue = cfg.int("zset-max-listpack-value");
  for (const m of z.dict.keys()) if (m.length > maxValue) return;
  z.toListpack();
}

/** Stores a computed sorted set at dst (or deletes dst when empty), replying with its size, with
 * the notifications and dirty accounting of the *STORE commands. */
export function storeResult(c: Client, dst: string, z: ZSetValue, event: string): void {
  const s = c.server;
  if (z.size > 0) {
    c.db.set(dst, z);
    c.out.int(z.size);
    s.notify("z", event, dst, c.dbIndex);
    s.dirty++;
    if (s.blocking.blockedCount > 0) s.blocking.signal(c.dbIndex, dst);
  } else {
    c.out.int(0);
    if (c.db.delete(dst)) {
      s.notify("g", "del", dst, c.dbIndex);
      s.dirty++;
    }
  }
}

/** Replies member/score pairs: flat in RESP2, [member, score] pairs in RESP3. */
export function replyPairsHeader(c: Client, n: number, withScores: boolean): void {
  c.out.array(withScores && c.resp === 2 ? n * 2 : n);
}

/** Writes one element of a reply started by replyPairsHeader. */
export function replyPair(c: Client, member: string, score: number, withScores: boolean): void {
  if (!withScores) return c.out.bulk(member);
  if (c.resp === 3) c.out.array(2);
  c.out.bulk(member);
  c.out.double(score);
}
