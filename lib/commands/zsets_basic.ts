// Sorted set commands on single members and small queries: ZADD/ZINCRBY/ZREM, the point lookups
// (ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK), ZCOUNT/ZLEXCOUNT, ZSCAN and ZRANDMEMBER.
import type { Client } from "../server/client.ts";
import { ZSetValue } from "../store/zset.ts";
import { formatDouble } from "../protocol/reply.ts";
import { E_NOT_FLOAT, E_NOT_INT, E_SYNTAX, globMatch, parseBigInt, parseInteger } from "./util.ts";
import {
  addResult,
  lookupZset,
  parseLexBound,
  parseScore,
  parseScoreBound,
  replyPair,
  replyPairsHeader,
  ZADD_ADDED,
  ZADD_GT,
  ZADD_INCR,
  ZADD_LT,
  ZADD_NAN,
  ZADD_NOP,
  ZADD_NX,
  ZADD_XX,
  zsetApply,
  zsetDecide,
} from "./zsets_util.ts";

const E_NAN = "ERR resulting score is not a number (NaN)";

/** ZADD and ZINCRBY (zaddGenericCommand). */
function zaddGeneric(c: Client, argv: string[], baseFlags: number): void {
  let flags = baseFlags;
  let ch = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const o = argv[i];
    // Options are 2-4 letters; checking the first byte spares lowercasing every score.
    const first = o.charCodeAt(0) | 0x20;
    if (o.length < 2 || o.length > 4 || first < 97 || first > 122) break;
    const l = o.toLowerCase();
    if (l === "nx") flags |= ZADD_NX;
    else if (l === "xx") flags |= ZADD_XX;
    else if (l === "ch") ch = true;
    else if (l === "incr") flags |= ZADD_INCR;
    else if (l === "gt") flags |= ZADD_GT;
    else if (l === "lt") flags |= ZADD_LT;
    else break;
  }
  const elements = argv.length - i;
  if (elements === 0 || elements % 2 !== 0) return c.error(E_SYNTAX);
  const n = elements / 2;
  const incr = (flags & ZADD_INCR) !== 0;
  if ((flags & ZADD_NX) && (flags & ZADD_XX)) {
    return c.error("ERR XX and NX options at the same time are not compatible");
  }
  if (
    ((flags & ZADD_GT) && (flags & ZADD_NX)) || ((flags & ZADD_LT) && (flags & ZADD_NX)) ||
    ((flags & ZADD_GT) && (flags & ZADD_LT))
  ) {
    return c.error("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (incr && n > 1) return c.error("ERR INCR option supports a single increment-element pair");
  // All scores are parsed before touching the key: the command runs fully or not at all.
  let single = 0;
  let scores: number[] | null = null;
  if (n === 1) {
    const v = parseScore(argv[i]);
    if (v === null) return c.error(E_NOT_FLOAT);
    single = v;
  } else {
    scores = new Array<number>(n);
    for (let j = 0; j < n; j++) {
      const v = parseScore(argv[i + j * 2]);
      if (v === null) return c.error(E_NOT_FLOAT);
      scores[j] = v;
    }
  }
  const key = argv[1];
  let z = lookupZset(c, key, true);
  if (z === null) return;
  let added = 0;
  let updated = 0;
  let processed = 0;
  let score = 0;
  let created = false;
  let touched = false;
  let nan = false;
  if (z === undefined && (flags & ZADD_XX)) {
    // No key + XX: nothing to do.
  } else {
    if (z === undefined) {
      z = new ZSetValue();
      c.db.set(key, z);
      created = touched = true;
    }
    for (let j = 0; j < n; j++) {
      const ele = argv[i + 1 + j * 2];
      const a = zsetDecide(z, scores === null ? single : scores[j], ele, flags);
      if (a === ZADD_NAN) {
        nan = true;
        break;
      }
      if (a === ZADD_NOP) continue;
      processed++;
      score = addResult.score;
      if (a === 0) continue;
      if (!touched) {
        c.db.getForWrite(key);
        touched = true;
      }
      zsetApply(c, z, ele, a);
      if (a === ZADD_ADDED) added++;
      else updated++;
    }
    c.server.dirty += added + updated;
  }
  if (nan) c.error(E_NAN);
  else if (incr) {
    if (processed) c.out.double(score);
    else c.out.null();
  } else c.out.int(ch ? added + updated : added);
  if (added || updated) {
    c.server.notify("z", incr ? "zincr" : "zadd", key, c.dbIndex);
    if (created && c.server.blocking.blockedCount > 0) c.server.blocking.signal(c.dbIndex, key);
  }
}

/** ZREM key member [member ...] */
export function zremCmd(c: Client, argv: string[]): void {
  const key = argv[1];
  const z = lookupZset(c, key, true);
  if (z === null) return;
  if (z === undefined) return c.out.int(0);
  let deleted = 0;
  let removedKey = false;
  for (let j = 2; j < argv.length; j++) {
    if (!z.dict.has(argv[j])) continue;
    if (deleted === 0) c.db.getForWrite(key);
    z.remove(argv[j]);
    deleted++;
    if (z.size === 0) {
      c.db.delete(key);
      removedKey = true;
      break;
    }
  }
  if (deleted) {
    c.server.notify("z", "zrem", key, c.dbIndex);
    if (removedKey) c.server.notify("g", "del", key, c.dbIndex);
    c.server.dirty += deleted;
  }
  c.out.int(deleted);
}

/** ZCARD key */
export function zcardCmd(c: Client, argv: string[]): void {
  const z = lookupZset(c, argv[1]);
  if (z === null) return;
  c.out.int(z === undefined ? 0 : z.size);
}

/** ZSCORE key member */
export function zscoreCmd(c: Client, argv: string[]): void {
  const z = lookupZset(c, argv[1]);
  if (z === null) return;
  const s = z?.dict.get(argv[2]);
  if (s === undefined) c.out.null();
  else c.out.double(s);
}

/** ZMSCORE key member [member ...] */
export function zmscoreCmd(c: Client, argv: string[]): void {
  const z = lookupZset(c, argv[1]);
  if (z === null) return;
  c.out.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const s = z?.dict.get(argv[j]);
    if (s === undefined) c.out.null();
    else c.out.double(s);
  }
}

function zrankGeneric(c: Client, argv: string[], reverse: boolean): void {
  const z = lookupZset(c, argv[1]);
  if (z === null) return;
  if (z === undefined) return c.out.null();
  const r = z.rank(argv[2], reverse);
  if (r < 0) c.out.null();
  else c.out.int(r);
}

/** ZCOUNT key min max */
export function zcountCmd(c: Client, argv: string[]): void {
  const min = parseScoreBound(argv[2]);
  const max = min && parseScoreBound(argv[3]);
  if (!min || !max) return c.error("ERR min or max is not a float");
  const z = lookupZset(c, argv[1]);
  if (z === null) return;
  if (z === undefined) return c.out.int(0);
  c.out.int(Math.max(0, z.countThroughScore(max.v, max.ex) - z.countBelowScore(min.v, min.ex)));
}

/** ZLEXCOUNT key min max */
export function zlexcountCmd(c: Client, argv: string[]): void {
  const min = parseLexBound(argv[2]);
  const max = min && parseLexBound(argv[3]);
  if (!min || !max) return c.error("ERR min or max not valid string range item");
  const z = lookupZset(c, argv[1]);
  if (z === null) return;
  if (z === undefined) return c.out.int(0);
  c.out.int(Math.max(0, z.countThroughLex(max) - z.countBelowLex(min)));
}

/** Parses a SCAN cursor like strtoul (sign allowed, no leading space, no overflow). */
function parseCursor(s: string): bigint | null {
  if (s.length === 0) return 0n;
  const m = /^([+-]?)([0-9]+)/.exec(s);
  if (!m || (m[0].length !== s.length && s.charCodeAt(m[0].length) !== 0)) return null;
  const v = BigInt(m[2]);
  if (v > 18446744073709551615n) return null;
  return m[1] === "-" && v !== 0n ? (1n << 64n) - v : v;
}

/** Score text as a listpack holds it: integers (|x| <= 2^62) without exponent or fraction. */
function listpackScoreText(v: number): string {
  if (!Number.isInteger(v) || Math.abs(v) > 4611686018427387904) return formatDouble(v);
  return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
}

/** ZSCAN key cursor [MATCH pattern] [COUNT count] */
export function zscanCmd(c: Client, argv: string[]): void {
  const cursor = parseCursor(argv[2]);
  if (cursor === null) return c.error("ERR invalid cursor");
  const z = lookupZset(c, argv[1]);
  if (z === null) return;
  if (z === undefined) return c.out.raw("*2\r\n$1\r\n0\r\n*0\r\n");
  let count = 10;
  let pattern: string | null = null;
  for (let i = 3; i < argv.length; i += 2) {
    const o = argv[i].toLowerCase();
    if (o === "count" && i + 1 < argv.length) {
      const v = parseInteger(argv[i + 1]);
      if (v === null) return c.error(E_NOT_INT);
      if (v < 1) return c.error(E_SYNTAX);
      count = v;
    } else if (o === "match" && i + 1 < argv.length) {
      pattern = argv[i + 1] === "*" ? null : argv[i + 1];
    } else return c.error(E_SYNTAX);
  }
  const out: string[] = [];
  let next = 0;
  if (z.listpack) {
    // Small sets are returned whole, like Redis does for listpack encodings.
    z.forEach((m, s) => {
      if (pattern === null || globMatch(pattern, m)) out.push(m, listpackScoreText(s));
    });
  } else {
    const start = cursor > 9007199254740991n ? Number.MAX_SAFE_INTEGER : Number(cursor);
    next = z.scan(start, count, (m, s) => {
      if (pattern === null || globMatch(pattern, m)) out.push(m, formatDouble(s));
    });
  }
  c.out.array(2);
  c.out.bulk(String(next));
  c.out.bulkArray(out);
}

const LONG_MAX = 9223372036854775807n;
const HALF_LONG_MAX = 4611686018427387903n;

/** ZRANDMEMBER key [count [WITHSCORES]] */
export function zrandmemberCmd(c: Client, argv: string[]): void {
  if (argv.length >= 3) {
    const b = parseBigInt(argv[2]);
    if (b === null) return c.error(E_NOT_INT);
    if (b < -LONG_MAX) {
      return c.error(
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
      );
    }
    let withScores = false;
    if (argv.length > 4 || (argv.length === 4 && argv[3].toLowerCase() !== "withscores")) {
      return c.error(E_SYNTAX);
    }
    if (argv.length === 4) {
      withScores = true;
      if (b < -HALF_LONG_MAX || b > HALF_LONG_MAX) return c.error("ERR value is out of range");
    }
    return zrandmemberCount(c, argv[1], b, withScores);
  }
  const z = lookupZset(c, argv[1]);
  if (z === null) return;
  if (z === undefined) return c.out.null();
  c.out.bulk(z.memberAt(Math.floor(Math.random() * z.size))!);
}

function zrandmemberCount(c: Client, key: string, l: bigint, withScores: boolean): void {
  const z = lookupZset(c, key);
  if (z === null) return;
  if (z === undefined || l === 0n) return c.out.array(0);
  const size = z.size;
  const uniq = l > 0n;
  const count = Number(uniq ? l : -l);
  if (!uniq || count === 1) {
    // Repeats allowed: sample the whole set every time (random order).
    replyPairsHeader(c, count, withScores);
    for (let k = 0; k < count; k++) {
      const m = z.memberAt(Math.floor(Math.random() * size))!;
      replyPair(c, m, z.dict.get(m)!, withScores);
      if (c.closed) break;
    }
    return;
  }
  if (count >= size) {
    // The whole set, highest first: Redis's zset iterator walks from the tail.
    replyPairsHeader(c, size, withScores);
    z.range(size - 1, size, true, (m, s) => replyPair(c, m, s, withScores));
    return;
  }
  replyPairsHeader(c, count, withScores);
  if (count * 3 > size) {
    // Close to the whole set: shuffle ranks partially (Fisher-Yates) and take the first count.
    const ranks = new Array<number>(size);
    for (let k = 0; k < size; k++) ranks[k] = k;
    for (let k = 0; k < count; k++) {
      const j = k + Math.floor(Math.random() * (size - k));
      const t = ranks[k];
      ranks[k] = ranks[j];
      ranks[j] = t;
      const m = z.memberAt(ranks[k])!;
      replyPair(c, m, z.dict.get(m)!, withScores);
    }
    return;
  }
  const picked = new Set<number>();
  while (picked.size < count) {
    const r = Math.floor(Math.random() * size);
    if (picked.has(r)) continue;
    picked.add(r);
    const m = z.memberAt(r)!;
    replyPair(c, m, z.dict.get(m)!, withScores);
  }
}

/** ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] */
export function zaddCmd(c: Client, argv: string[]): void {
  zaddGeneric(c, argv, 0);
}

/** ZINCRBY key increment member */
export function zincrbyCmd(c: Client, argv: string[]): void {
  zaddGeneric(c, argv, ZADD_INCR);
}

/** ZRANK key member */
export function zrankCmd(c: Client, argv: string[]): void {
  zrankGeneric(c, argv, false);
}

/** ZREVRANK key member */
export function zrevrankCmd(c: Client, argv: string[]): void {
  zrankGeneric(c, argv, true);
}
