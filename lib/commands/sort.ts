// SORT and SORT_RO (Redis 7.0 sort.c semantics): sort a list, set or sorted set numerically or
// lexicographically (ALPHA), optionally by the values of other keys (BY pattern, hash fields with
// "->"), fetch other keys per element (GET pattern, GET #), LIMIT, ASC/DESC, and STORE the result
// as a list.
import type { Client } from "../server/client.ts";
import { HashValue, ListValue, SetValue } from "../store/types.ts";
import { ZSetValue } from "../store/zset.ts";
import { cmd, type CommandSpec, type KeySpec } from "./types.ts";
import { E_NOT_INT, E_SYNTAX, E_WRONGTYPE, parseInteger } from "./util.ts";
import { lookupRead } from "./keys_access.ts";
import { signalIfReady } from "./keys.ts";
import { strtod } from "./zsets_util.ts";

/** One element to sort, with its numeric weight or its ALPHA comparison value. */
interface SortItem {
  ele: string;
  score: number;
  /** BY value for ALPHA with a BY pattern; null when the BY key is missing. */
  cmp: string | null;
}

/** Byte-wise comparison (memcmp, then length), like compareStringObjects. */
function cmpBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** lookupKeyByPattern: "#" is the element itself; the first '*' is replaced by the element, and
 * "->field" after it reads a hash field. Null when the pattern has no '*', the key is missing or
 * of the wrong type. */
function lookupByPattern(c: Client, pattern: string, ele: string): string | null {
  if (pattern === "#") return ele;
  const star = pattern.indexOf("*");
  if (star === -1) return null;
  const arrow = pattern.indexOf("->", star + 1);
  const hasField = arrow !== -1 && arrow + 2 < pattern.length;
  const key = pattern.slice(0, star) + ele + pattern.slice(star + 1, hasField ? arrow : undefined);
  const v = lookupRead(c, key);
  if (v === undefined) return null;
  if (hasField) {
    if (!(v instanceof HashValue)) return null;
    return v.m.get(pattern.slice(arrow + 2)) ?? null;
  }
  return typeof v === "string" ? v : null;
}

/** Key argument indexes of SORT: the sorted key and the last STORE key (sortGetKeys). */
function sortKeys(argv: string[]): number[] {
  let store = -1;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i].toLowerCase();
    if (a === "limit") i += 2;
    else if (a === "get" || a === "by") i += 1;
    else if (a === "store" && i + 1 < argv.length) store = i + 1;
  }
  return store === -1 ? [1] : [1, store];
}

function sortGeneric(c: Client, argv: string[], readonly: boolean): void {
  const s = c.server;
  const cluster = s.config.bool("cluster-enabled");
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let dontsort = false;
  let sortby: string | null = null;
  let storekey: string | null = null;
  const gets: string[] = [];
  for (let j = 2; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const o = argv[j].toLowerCase();
    if (o === "asc") desc = false;
    else if (o === "desc") desc = true;
    else if (o === "alpha") alpha = true;
    else if (o === "limit" && left >= 2) {
      const a = parseInteger(argv[j + 1]);
      const b = a === null ? null : parseInteger(argv[j + 2]);
      if (a === null || b === null) return c.error(E_NOT_INT);
      limitStart = a;
      limitCount = b;
      j += 2;
    } else if (!readonly && o === "store" && left >= 1) {
      storekey = argv[++j];
    } else if (o === "by" && left >= 1) {
      sortby = argv[++j];
      // A constant BY pattern means "do not sort" (and looks nothing up).
      if (!sortby.includes("*")) dontsort = true;
      else if (cluster) return c.error("ERR BY option of SORT denied in Cluster mode.");
    } else if (o === "get" && left >= 1) {
      if (cluster) return c.error("ERR GET option of SORT denied in Cluster mode.");
      gets.push(argv[++j]);
    } else return c.error(E_SYNTAX);
  }

  const v = lookupRead(c, argv[1]);
  if (
    v !== undefined && !(v instanceof ListValue) && !(v instanceof SetValue) &&
    !(v instanceof ZSetValue)
  ) {
    return c.error(E_WRONGTYPE);
  }
  // An unordered set must come out the same on replicas: with STORE it is sorted anyway.
  if (dontsort && v instanceof SetValue && storekey !== null) {
    dontsort = false;
    alpha = true;
    sortby = null;
  }

  let len = v === undefined
    ? 0
    : v instanceof ListValue
    ? v.length
    : v instanceof SetValue
    ? v.s.size
    : v.size;
  let start = Math.min(Math.max(limitStart, 0), len);
  const count = Math.min(Math.max(limitCount, -1), len);
  let end = count < 0 ? len - 1 : start + count - 1;
  if (start >= len) {
    start = len - 1;
    end = len - 2;
  }
  if (end >= len) end = len - 1;

  // Elements to sort. Lists and sorted sets that are not sorted load just the LIMIT range, in
  // their own order (reversed for DESC).
  let elements: string[];
  if (v === undefined) elements = [];
  else if (dontsort && (v instanceof ListValue || v instanceof ZSetValue)) {
    const all = v instanceof ListValue ? v.toArray() : v.entries().map((e) => e[0]);
    if (desc) all.reverse();
    elements = end >= start ? all.slice(start, end + 1) : [];
    end -= start;
    start = 0;
    len = elements.length;
  } else if (v instanceof ListValue) elements = v.toArray();
  else if (v instanceof SetValue) elements = v.members();
  else elements = [...(v as ZSetValue).dict.keys()];

  const items: SortItem[] = elements.map((ele) => ({ ele, score: 0, cmp: null }));
  let conversionError = false;
  if (!dontsort) {
    for (const it of items) {
      let byval: string | null;
      if (sortby !== null) {
        byval = lookupByPattern(c, sortby, it.ele);
        if (byval === null) continue;
      } else byval = it.ele;
      if (alpha) {
        if (sortby !== null) it.cmp = byval;
      } else {
        const r = strtod(byval);
        if (r.end !== byval.length || r.erange || Number.isNaN(r.value)) conversionError = true;
        it.score = r.value;
      }
    }
    const sign = desc ? -1 : 1;
    if (!alpha) {
      items.sort((a, b) =>
        sign * (a.score > b.score ? 1 : a.score < b.score ? -1 : cmpBytes(a.ele, b.ele))
      );
    } else if (sortby !== null) {
      items.sort((a, b) => {
        if (a.cmp === null || b.cmp === null) {
          return sign * (a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1);
        }
        return sign * cmpBytes(a.cmp, b.cmp);
      });
    } else items.sort((a, b) => sign * cmpBytes(a.ele, b.ele));
  }

  const n = end - start + 1;
  const outputLen = gets.length > 0 ? gets.length * n : n;
  if (conversionError) return c.error("ERR One or more scores can't be converted into double");
  if (storekey === null) {
    c.out.array(outputLen);
    for (let j = start; j <= end; j++) {
      const ele = items[j].ele;
      if (gets.length === 0) c.out.bulk(ele);
      for (const g of gets) {
        const val = lookupByPattern(c, g, ele);
        if (val === null) c.out.null();
        else c.out.bulk(val);
      }
    }
    return;
  }
  const out = new ListValue();
  for (let j = start; j <= end; j++) {
    const ele = items[j].ele;
    if (gets.length === 0) out.pushTail(ele);
    for (const g of gets) out.pushTail(lookupByPattern(c, g, ele) ?? "");
  }
  if (outputLen > 0) {
    c.db.set(storekey, out);
    signalIfReady(c, c.dbIndex, storekey, out);
    s.notify("l", "sortstore", storekey, c.dbIndex);
    s.dirty += outputLen;
  } else if (c.db.delete(storekey)) {
    s.notify("g", "del", storekey, c.dbIndex);
    s.dirty++;
  }
  c.out.int(outputLen);
}

const COMPLEXITY =
  "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";
const CATEGORIES = ["set", "sortedset", "list", "dangerous"];
const SORTED_KEY: KeySpec = {
  flags: ["RO", "access"],
  beginSearch: { index: 1 },
  findKeys: { lastkey: 0, keystep: 1, limit: 0 },
};
const BY_GET_KEYS: KeySpec = {
  notes:
    "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
  flags: ["RO", "access"],
  beginSearch: null,
  findKeys: null,
};
const STORE_KEY: KeySpec = {
  notes:
    "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
  flags: ["OW", "update"],
  beginSearch: null,
  findKeys: null,
};

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("sort", -2, ["write", "denyoom"], [1, 1, 1], (c, argv) => sortGeneric(c, argv, false), {
    group: "generic",
    categories: CATEGORIES,
    getKeys: sortKeys,
    summary: "Sort the elements in a list, set or sorted set",
    since: "1.0.0",
    complexity: COMPLEXITY,
    keySpecs: [SORTED_KEY, BY_GET_KEYS, STORE_KEY],
  }),
  cmd("sort_ro", -2, ["readonly"], [1, 1, 1], (c, argv) => sortGeneric(c, argv, true), {
    group: "generic",
    categories: CATEGORIES,
    getKeys: () => [1],
    summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
    since: "7.0.0",
    complexity: COMPLEXITY,
    keySpecs: [SORTED_KEY, BY_GET_KEYS],
  }),
];
