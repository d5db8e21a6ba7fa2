// Range commands over sorted sets: ZRANGE (BYSCORE/BYLEX/REV/LIMIT/WITHSCORES), ZRANGESTORE, the
// legacy Z[REV]RANGE[BYSCORE|BYLEX] forms, and ZREMRANGEBY{RANK,SCORE,LEX}. Every range is first
// turned into an interval of ranks with O(log n) index searches, then walked member by member.
import type { Client } from "../server/client.ts";
import { type LexBound, ZSetValue } from "../store/zset.ts";
import { E_NOT_INT, E_SYNTAX, parseInteger } from "./util.ts";
import {
  lookupZset,
  parseLexBound,
  parseScoreBound,
  replyPair,
  replyPairsHeader,
  type ScoreBound,
  storeResult,
  zsetAddPlain,
} from "./zsets_util.ts";

const AUTO = 0, RANK = 1, SCORE = 2, LEX = 3;
const E_SCORE_RANGE = "ERR min or max is not a float";
const E_LEX_RANGE = "ERR min or max not valid string range item";

/** An interval of 0-based ranks [s, e] (empty when s > e), walked downwards when rev. */
interface RankSpan {
  s: number;
  e: number;
  rev: boolean;
}

/** Clamps start/end indexes like Redis (negative from the end); null when the range is empty. */
function rankInterval(len: number, start: number, end: number): [number, number] | null {
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  if (end >= len) end = len - 1;
  return [start, end];
}

/** Ranks holding a score or lex range, after OFFSET/LIMIT, in emission order. */
function boundedSpan(
  lo: number,
  hi: number,
  rev: boolean,
  offset: number,
  limit: number,
): RankSpan {
  if (offset < 0 || lo > hi) return { s: 0, e: -1, rev };
  if (!rev) {
    const s = lo + offset;
    const e = limit >= 0 ? Math.min(hi, s + limit - 1) : hi;
    return { s, e, rev };
  }
  // Reverse: start from the highest rank in range and walk down.
  const top = hi - offset;
  const bottom = limit >= 0 ? Math.max(lo, top - limit + 1) : lo;
  return { s: bottom, e: top, rev };
}

function scoreSpan(
  z: ZSetValue,
  min: ScoreBound,
  max: ScoreBound,
  rev: boolean,
  off: number,
  lim: number,
): RankSpan {
  const lo = z.countBelowScore(min.v, min.ex);
  const hi = z.countThroughScore(max.v, max.ex) - 1;
  return boundedSpan(lo, hi, rev, off, lim);
}

function lexSpan(
  z: ZSetValue,
  min: LexBound,
  max: LexBound,
  rev: boolean,
  off: number,
  lim: number,
): RankSpan {
  const lo = z.countBelowLex(min);
  const hi = z.countThroughLex(max) - 1;
  return boundedSpan(lo, hi, rev, off, lim);
}

/** Emits the members of a span to the client. */
function replySpan(c: Client, z: ZSetValue, sp: RankSpan, withScores: boolean): void {
  const n = sp.e >= sp.s ? sp.e - sp.s + 1 : 0;
  replyPairsHeader(c, n, withScores);
  if (n === 0) return;
  z.range(sp.rev ? sp.e : sp.s, n, sp.rev, (m, s) => replyPair(c, m, s, withScores));
}

/** Builds the destination set of ZRANGESTORE like Redis's store handler (listpack unless the
 * known length exceeds the limit, then converting as members are added). */
function storeSpan(
  c: Client,
  dst: string,
  z: ZSetValue | null,
  sp: RankSpan | null,
  knownLen: boolean,
): void {
  const out = new ZSetValue();
  const n = sp && sp.e >= sp.s ? sp.e - sp.s + 1 : 0;
  if (knownLen && n > c.server.config.int("zset-max-listpack-entries")) out.listpack = false;
  if (z && sp && n > 0) {
    z.range(sp.rev ? sp.e : sp.s, n, sp.rev, (m, s) => zsetAddPlain(c, out, m, s));
  }
  storeResult(c, dst, out, "zrangestore");
}

/** zrangeGenericCommand: parses options and the range, then replies or stores. */
function zrangeGeneric(
  c: Client,
  argv: string[],
  argStart: number,
  store: boolean,
  rangeType: number,
  reverse: boolean | null,
): void {
  const key = argv[argStart];
  let minIdx = argStart + 1;
  let maxIdx = argStart + 2;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = argStart + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const o = argv[j].toLowerCase();
    if (!store && o === "withscores") withScores = true;
    else if (o === "limit" && left >= 2) {
      const a = parseInteger(argv[j + 1]);
      const b = a === null ? null : parseInteger(argv[j + 2]);
      if (a === null || b === null) return c.error(E_NOT_INT);
      offset = a;
      limit = b;
      j += 2;
    } else if (reverse === null && o === "rev") reverse = true;
    else if (rangeType === AUTO && o === "bylex") rangeType = LEX;
    else if (rangeType === AUTO && o === "byscore") rangeType = SCORE;
    else return c.error(E_SYNTAX);
  }
  const rev = reverse === true;
  if (rangeType === AUTO) rangeType = RANK;
  if (limit !== -1 && rangeType === RANK) {
    return c.error(
      "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
  }
  if (withScores && rangeType === LEX) {
    return c.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  if (rev && rangeType !== RANK) {
    minIdx = argStart + 2;
    maxIdx = argStart + 1;
  }
  let start = 0;
  let end = 0;
  let smin: ScoreBound | null = null;
  let smax: ScoreBound | null = null;
  let lmin: LexBound | null = null;
  let lmax: LexBound | null = null;
  if (rangeType === RANK) {
    const a = parseInteger(argv[minIdx]);
    const b = a === null ? null : parseInteger(argv[maxIdx]);
    if (a === null || b === null) return c.error(E_NOT_INT);
    start = a;
    end = b;
  } else if (rangeType === SCORE) {
    smin = parseScoreBound(argv[minIdx]);
    smax = smin && parseScoreBound(argv[maxIdx]);
    if (!smin || !smax) return c.error(E_SCORE_RANGE);
  } else {
    lmin = parseLexBound(argv[minIdx]);
    lmax = lmin && parseLexBound(argv[maxIdx]);
    if (!lmin || !lmax) return c.error(E_LEX_RANGE);
  }
  const z = lookupZset(c, key);
  if (z === null) return;
  if (z === undefined) {
    if (store) storeSpan(c, argv[1], null, null, false);
    else c.out.array(0);
    return;
  }
  let sp: RankSpan;
  if (rangeType === RANK) {
    const iv = rankInterval(z.size, start, end);
    if (iv === null) sp = { s: 0, e: -1, rev };
    else if (rev) sp = { s: z.size - 1 - iv[1], e: z.size - 1 - iv[0], rev };
    else sp = { s: iv[0], e: iv[1], rev };
  } else if (rangeType === SCORE) sp = scoreSpan(z, smin!, smax!, rev, offset, limit);
  else sp = lexSpan(z, lmin!, lmax!, rev, offset, limit);
  if (store) storeSpan(c, argv[1], z, sp, rangeType === RANK);
  else replySpan(c, z, sp, withScores);
}

/** ZRANGE key min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES] */
export function zrangeCmd(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, AUTO, null);
}

/** ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] */
export function zrangestoreCmd(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 2, true, AUTO, null);
}

/** ZREVRANGE key start stop [WITHSCORES] */
export function zrevrangeCmd(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, RANK, true);
}

/** ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] */
export function zrangebyscoreCmd(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, SCORE, false);
}

/** ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] */
export function zrevrangebyscoreCmd(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, SCORE, true);
}

/** ZRANGEBYLEX key min max [LIMIT offset count] */
export function zrangebylexCmd(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, LEX, false);
}

/** ZREVRANGEBYLEX key max min [LIMIT offset count] */
export function zrevrangebylexCmd(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, LEX, true);
}

/** zremrangeGenericCommand: deletes a rank, score or lex interval. */
function zremrangeGeneric(c: Client, argv: string[], rangeType: number): void {
  const key = argv[1];
  let start = 0;
  let end = 0;
  let smin: ScoreBound | null = null;
  let smax: ScoreBound | null = null;
  let lmin: LexBound | null = null;
  let lmax: LexBound | null = null;
  let event: string;
  if (rangeType === RANK) {
    event = "zremrangebyrank";
    const a = parseInteger(argv[2]);
    const b = a === null ? null : parseInteger(argv[3]);
    if (a === null || b === null) return c.error(E_NOT_INT);
    start = a;
    end = b;
  } else if (rangeType === SCORE) {
    event = "zremrangebyscore";
    smin = parseScoreBound(argv[2]);
    smax = smin && parseScoreBound(argv[3]);
    if (!smin || !smax) return c.error(E_SCORE_RANGE);
  } else {
    event = "zremrangebylex";
    lmin = parseLexBound(argv[2]);
    lmax = lmin && parseLexBound(argv[3]);
    if (!lmin || !lmax) return c.error(E_LEX_RANGE);
  }
  const z = lookupZset(c, key, true);
  if (z === null) return;
  if (z === undefined) return c.out.int(0);
  let s: number;
  let e: number;
  if (rangeType === RANK) {
    const iv = rankInterval(z.size, start, end);
    if (iv === null) return c.out.int(0);
    [s, e] = iv;
  } else if (rangeType === SCORE) {
    s = z.countBelowScore(smin!.v, smin!.ex);
    e = z.countThroughScore(smax!.v, smax!.ex) - 1;
  } else {
    s = z.countBelowLex(lmin!);
    e = z.countThroughLex(lmax!) - 1;
  }
  let deleted = 0;
  if (s <= e) {
    c.db.getForWrite(key);
    deleted = z.deleteRange(s, e);
  }
  if (deleted) {
    const removedKey = z.size === 0;
    if (removedKey) c.db.delete(key);
    c.server.notify("z", event, key, c.dbIndex);
    if (removedKey) c.server.notify("g", "del", key, c.dbIndex);
  }
  c.server.dirty += deleted;
  c.out.int(deleted);
}

/** ZREMRANGEBYRANK key start stop */
export function zremrangebyrankCmd(c: Client, argv: string[]): void {
  zremrangeGeneric(c, argv, RANK);
}

/** ZREMRANGEBYSCORE key min max */
export function zremrangebyscoreCmd(c: Client, argv: string[]): void {
  zremrangeGeneric(c, argv, SCORE);
}

/** ZREMRANGEBYLEX key min max */
export function zremrangebylexCmd(c: Client, argv: string[]): void {
  zremrangeGeneric(c, argv, LEX);
}
