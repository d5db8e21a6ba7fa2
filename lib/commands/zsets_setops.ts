// ZUNION/ZINTER/ZDIFF, their *STORE forms and ZINTERCARD (zunionInterDiffGenericCommand). Inputs
// may be sorted sets or plain sets (members of a plain set score 1).
import type { Client } from "../server/client.ts";
import type { SetValue } from "../store/types.ts";
import { ZSetValue } from "../store/zset.ts";
import { E_NOT_INT, E_SYNTAX, E_WRONGTYPE, parseInteger } from "./util.ts";
import {
  convertIfSmall,
  isZsetOrSet,
  parseScore,
  replyPair,
  replyPairsHeader,
  storeResult,
} from "./zsets_util.ts";
import { lookupRead } from "./keys_access.ts";

const UNION = 0, INTER = 1, DIFF = 2;
const SUM = 0, MIN = 1, MAX = 2;

/** One input of a set operation. */
interface Src {
  z: ZSetValue | null;
  s: SetValue | null;
  size: number;
  weight: number;
}

/** Score of a member in an input, or undefined when absent. */
function findScore(src: Src, m: string): number | undefined {
  if (src.z) return src.z.dict.get(m);
  if (src.s) return src.s.s.has(m) ? 1 : undefined;
  return undefined;
}

/** Iterates an input's members with their scores (sorted sets in order). */
function eachMember(src: Src, fn: (m: string, s: number) => boolean | void): void {
  if (src.z) {
    src.z.range(0, src.z.size, false, fn);
  } else if (src.s) {
    for (const m of src.s.s) if (fn(m, 1) === false) return;
  }
}

function aggregate(target: number, val: number, agg: number): number {
  if (agg === SUM) {
    const r = target + val;
    return Number.isNaN(r) ? 0 : r;
  }
  if (agg === MIN) return val < target ? val : target;
  return val > target ? val : target;
}

function sameInput(a: Src, b: Src): boolean {
  return (a.z !== null && a.z === b.z) || (a.s !== null && a.s === b.s);
}

function zsetOps(
  c: Client,
  argv: string[],
  dst: string | null,
  numkeysIdx: number,
  op: number,
  cardOnly: boolean,
): void {
  const setnum = parseInteger(argv[numkeysIdx]);
  if (setnum === null) return c.error(E_NOT_INT);
  if (setnum < 1) {
    return c.error(`ERR at least 1 input key is needed for '${argv[0].toLowerCase()}' command`);
  }
  if (setnum > argv.length - (numkeysIdx + 1)) return c.error(E_SYNTAX);
  const src: Src[] = new Array(setnum);
  let j = numkeysIdx + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v = lookupRead(c, argv[j]);
    const e: Src = { z: null, s: null, size: 0, weight: 1 };
    if (v !== undefined) {
      if (!isZsetOrSet(v)) return c.error(E_WRONGTYPE);
      if ((v as ZSetValue).type === "zset") e.z = v as ZSetValue;
      else e.s = v as SetValue;
      e.size = e.z ? e.z.size : e.s!.s.size;
    }
    src[i] = e;
  }
  let agg = SUM;
  let withScores = false;
  let limit = 0;
  while (j < argv.length) {
    const remaining = argv.length - j;
    const o = argv[j].toLowerCase();
    if (op !== DIFF && !cardOnly && remaining >= setnum + 1 && o === "weights") {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const w = parseScore(argv[j]);
        if (w === null) return c.error("ERR weight value is not a float");
        src[i].weight = w;
      }
    } else if (op !== DIFF && !cardOnly && remaining >= 2 && o === "aggregate") {
      const a = argv[j + 1].toLowerCase();
      if (a === "sum") agg = SUM;
      else if (a === "min") agg = MIN;
      else if (a === "max") agg = MAX;
      else return c.error(E_SYNTAX);
      j += 2;
    } else if (dst === null && !cardOnly && o === "withscores") {
      withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && o === "limit") {
      const l = parseInteger(argv[j + 1]);
      if (l === null || l < 0) return c.error("ERR LIMIT can't be negative");
      limit = l;
      j += 2;
    } else return c.error(E_SYNTAX);
  }
  // Smallest inputs first (a stable sort, like glibc's merge-sort qsort).
  if (op !== DIFF) src.sort((a, b) => a.size - b.size);
  const out = new ZSetValue();
  out.listpack = false;
  let card = 0;
  if (op === INTER) {
    if (src[0].size > 0) {
      eachMember(src[0], (m, s0) => {
        let score = src[0].weight * s0;
        if (Number.isNaN(score)) score = 0;
        let k = 1;
        for (; k < setnum; k++) {
          if (sameInput(src[k], src[0])) {
            score = aggregate(score, s0 * src[k].weight, agg);
            continue;
          }
          const v = findScore(src[k], m);
          if (v === undefined) break;
          score = aggregate(score, v * src[k].weight, agg);
        }
        if (k !== setnum) return;
        if (cardOnly) {
          card++;
          if (limit && card >= limit) return false;
        } else out.insert(m, score);
      });
    }
  } else if (op === UNION) {
    const acc = new Map<string, number>();
    for (const e of src) {
      if (e.size === 0) continue;
      eachMember(e, (m, s) => {
        let score = e.weight * s;
        if (Number.isNaN(score)) score = 0;
        const cur = acc.get(m);
        acc.set(m, cur === undefined ? score : aggregate(cur, score, agg));
      });
    }
    for (const [m, s] of acc) out.insert(m, s);
  } else {
    let selfDiff = false;
    for (let k = 1; k < setnum; k++) {
      if (sameInput(src[k], src[0]) && src[0].size > 0) selfDiff = true;
    }
    if (src[0].size > 0 && !selfDiff) {
      eachMember(src[0], (m, s) => {
        for (let k = 1; k < setnum; k++) if (findScore(src[k], m) !== undefined) return;
        out.insert(m, s);
      });
    }
  }
  if (dst !== null) {
    if (out.size > 0) convertIfSmall(c, out);
    storeResult(
      c,
      dst,
      out,
      op === UNION ? "zunionstore" : op === INTER ? "zinterstore" : "zdiffstore",
    );
  } else if (cardOnly) {
    c.out.int(card);
  } else {
    replyPairsHeader(c, out.size, withScores);
    out.forEach((m, s) => replyPair(c, m, s, withScores));
  }
}

/** ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] */
export function zunionstoreCmd(c: Client, argv: string[]): void {
  zsetOps(c, argv, argv[1], 2, UNION, false);
}

/** ZINTERSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] */
export function zinterstoreCmd(c: Client, argv: string[]): void {
  zsetOps(c, argv, argv[1], 2, INTER, false);
}

/** ZDIFFSTORE destination numkeys key [key ...] */
export function zdiffstoreCmd(c: Client, argv: string[]): void {
  zsetOps(c, argv, argv[1], 2, DIFF, false);
}

/** ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] */
export function zunionCmd(c: Client, argv: string[]): void {
  zsetOps(c, argv, null, 1, UNION, false);
}

/** ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] */
export function zinterCmd(c: Client, argv: string[]): void {
  zsetOps(c, argv, null, 1, INTER, false);
}

/** ZINTERCARD numkeys key [key ...] [LIMIT limit] */
export function zinterCardCmd(c: Client, argv: string[]): void {
  zsetOps(c, argv, null, 1, INTER, true);
}

/** ZDIFF numkeys key [key ...] [WITHSCORES] */
export function zdiffCmd(c: Client, argv: string[]): void {
  zsetOps(c, argv, null, 1, DIFF, false);
}
