// List commands that touch one key (t_list.c): pushes, pops, LINDEX/LSET/LRANGE/LTRIM/LREM/
// LINSERT/LPOS, plus the helpers the moving and blocking commands in lists_blocking.ts share.
import type { Client } from "../server/client.ts";
import { ListValue } from "../store/types.ts";
import {
  E_NO_KEY,
  E_NOT_INT,
  E_OUT_OF_RANGE,
  E_SYNTAX,
  E_WRONGTYPE,
  parseInteger,
} from "./util.ts";
import { lookupRead } from "./keys_access.ts";

/** Looks a key up as a list: the value, undefined when missing, null after a WRONGTYPE reply.
 * Read commands (the default) count keyspace hits/misses and emit "keymiss" (lookupKeyRead);
 * `write` is lookupKeyWrite, which does neither. */
export function readList(c: Client, key: string, write = false): ListValue | undefined | null {
  const v = write ? c.db.get(key) : lookupRead(c, key);
  if (v === undefined || v instanceof ListValue) return v;
  c.error(E_WRONGTYPE);
  return null;
}

/** getPositiveLongFromObjectOrReply with Redis's default message; null after the error. */
function parsePositive(
  c: Client,
  s: string,
  msg = "ERR value is out of range, must be positive",
): number | null {
  const n = parseInteger(s);
  if (n === null || n < 0) {
    c.error(msg);
    return null;
  }
  return n;
}

/** getLongFromObjectOrReply; null after the error. */
function parseLong(c: Client, s: string): number | null {
  const n = parseInteger(s);
  if (n === null) c.error(E_NOT_INT);
  return n;
}

/** listElementsRemoved: events, deleting the emptied key, dirty. */
export function elementsRemoved(
  c: Client,
  dbIndex: number,
  key: string,
  head: boolean,
  l: ListValue,
  count: number,
): void {
  const s = c.server;
  s.notify("l", head ? "lpop" : "rpop", key, dbIndex);
  if (l.length === 0) {
    s.dbs[dbIndex].delete(key);
    s.notify("g", "del", key, dbIndex);
  }
  s.dirty += count;
}

/** Pops up to `count` elements from one end, replying them as an array in pop order. */
export function popRangeReply(c: Client, l: ListValue, head: boolean, count: number): number {
  const n = count < l.length ? count : l.length;
  c.out.array(n);
  for (let i = 0; i < n; i++) c.out.bulk(head ? l.popHead()! : l.popTail()!);
  return n;
}

function pushGeneric(c: Client, argv: string[], head: boolean, xx: boolean): void {
  const db = c.db;
  const key = argv[1];
  let l = db.get(key);
  if (l === undefined) {
    if (xx) return c.out.int(0);
    l = new ListValue();
    db.add(key, l);
  } else if (!(l instanceof ListValue)) return c.error(E_WRONGTYPE);
  else db.getForWrite(key);
  const n = argv.length;
  if (head) { for (let i = 2; i < n; i++) l.pushHead(argv[i]); }
  else for (let i = 2; i < n; i++) l.pushTail(argv[i]);
  const s = c.server;
  s.dirty += n - 2;
  c.out.int(l.length);
  s.notify("l", head ? "lpush" : "rpush", key, c.dbIndex);
  if (s.blocking.blockedCount > 0) s.blocking.signal(c.dbIndex, key);
}

/** LPUSH key element [element ...] */
export const lpush = (c: Client, argv: string[]) => pushGeneric(c, argv, true, false);
/** RPUSH key element [element ...] */
export const rpush = (c: Client, argv: string[]) => pushGeneric(c, argv, false, false);
/** LPUSHX key element [element ...] */
export const lpushx = (c: Client, argv: string[]) => pushGeneric(c, argv, true, true);
/** RPUSHX key element [element ...] */
export const rpushx = (c: Client, argv: string[]) => pushGeneric(c, argv, false, true);

function popGeneric(c: Client, argv: string[], head: boolean): void {
  if (argv.length > 3) {
    return c.error(`ERR wrong number of arguments for '${head ? "lpop" : "rpop"}' command`);
  }
  const hasCount = argv.length === 3;
  let count = 0;
  if (hasCount) {
    const n = parsePositive(c, argv[2]);
    if (n === null) return;
    count = n;
  }
  const key = argv[1];
  const l = readList(c, key, true);
  if (l === null) return;
  if (l === undefined) return hasCount ? c.out.nullArray() : c.out.null();
  if (hasCount && count === 0) return c.out.array(0);
  c.db.getForWrite(key);
  if (!hasCount) {
    c.out.bulk(head ? l.popHead()! : l.popTail()!);
    elementsRemoved(c, c.dbIndex, key, head, l, 1);
  } else {
    const n = popRangeReply(c, l, head, count);
    elementsRemoved(c, c.dbIndex, key, head, l, n);
  }
}

/** LPOP key [count] */
export const lpop = (c: Client, argv: string[]) => popGeneric(c, argv, true);
/** RPOP key [count] */
export const rpop = (c: Client, argv: string[]) => popGeneric(c, argv, false);

/** LLEN key */
export function llen(c: Client, argv: string[]): void {
  const l = readList(c, argv[1]);
  if (l !== null) c.out.int(l === undefined ? 0 : l.length);
}

/** LINDEX key index */
export function lindex(c: Client, argv: string[]): void {
  const l = readList(c, argv[1]);
  if (l === null) return;
  if (l === undefined) return c.out.null();
  let i = parseLong(c, argv[2]);
  if (i === null) return;
  if (i < 0) i += l.length;
  if (i < 0 || i >= l.length) return c.out.null();
  c.out.bulk(l.at(i));
}

/** LSET key index element */
export function lset(c: Client, argv: string[]): void {
  const key = argv[1];
  const l = readList(c, key, true);
  if (l === null) return;
  if (l === undefined) return c.error(E_NO_KEY);
  let i = parseLong(c, argv[2]);
  if (i === null) return;
  if (i < 0) i += l.length;
  if (i < 0 || i >= l.length) return c.error(E_OUT_OF_RANGE);
  c.db.getForWrite(key);
  l.setAt(i, argv[3]);
  c.out.status("OK");
  c.server.notify("l", "lset", key, c.dbIndex);
  c.server.dirty++;
}

/** LRANGE key start stop */
export function lrange(c: Client, argv: string[]): void {
  let start = parseLong(c, argv[2]);
  if (start === null) return;
  let end = parseLong(c, argv[3]);
  if (end === null) return;
  const l = readList(c, argv[1]);
  if (l === null) return;
  if (l === undefined) return c.out.array(0);
  const len = l.length;
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return c.out.array(0);
  if (end >= len) end = len - 1;
  const out = c.out;
  out.array(end - start + 1);
  for (let i = start; i <= end; i++) out.bulk(l.at(i));
}

/** LTRIM key start stop */
export function ltrim(c: Client, argv: string[]): void {
  let start = parseLong(c, argv[2]);
  if (start === null) return;
  let end = parseLong(c, argv[3]);
  if (end === null) return;
  const key = argv[1];
  const l = readList(c, key, true);
  if (l === null) return;
  if (l === undefined) return c.out.status("OK");
  const len = l.length;
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  let left: number;
  let right: number;
  if (start > end || start >= len) {
    left = len;
    right = 0;
  } else {
    if (end >= len) end = len - 1;
    left = start;
    right = len - end - 1;
  }
  c.db.getForWrite(key);
  if (left > 0 || right > 0) l.replace(l.a.slice(l.head + left, l.head + len - right));
  c.server.notify("l", "ltrim", key, c.dbIndex);
  if (l.length === 0) {
    c.db.delete(key);
    c.server.notify("g", "del", key, c.dbIndex);
  }
  c.server.dirty += left + right;
  c.out.status("OK");
}

/** LREM key count element */
export function lrem(c: Client, argv: string[]): void {
  const count = parseLong(c, argv[2]);
  if (count === null) return;
  const key = argv[1];
  const l = readList(c, key, true);
  if (l === null) return;
  if (l === undefined) return c.out.int(0);
  const ele = argv[3];
  const items = l.toArray();
  const n = items.length;
  const limit = count < 0 ? -count : count;
  const keep = new Array<boolean>(n).fill(true);
  let removed = 0;
  for (let k = 0; k < n; k++) {
    const i = count < 0 ? n - 1 - k : k;
    if (items[i] !== ele) continue;
    keep[i] = false;
    removed++;
    if (limit > 0 && removed === limit) break;
  }
  if (removed > 0) {
    c.db.getForWrite(key);
    l.replace(items.filter((_, i) => keep[i]));
    c.server.dirty += removed;
    c.server.notify("l", "lrem", key, c.dbIndex);
    if (l.length === 0) {
      c.db.delete(key);
      c.server.notify("g", "del", key, c.dbIndex);
    }
  }
  c.out.int(removed);
}

/** LINSERT key BEFORE|AFTER pivot element */
export function linsert(c: Client, argv: string[]): void {
  const where = argv[2].toLowerCase();
  if (where !== "after" && where !== "before") return c.error(E_SYNTAX);
  const key = argv[1];
  const l = readList(c, key, true);
  if (l === null) return;
  if (l === undefined) return c.out.int(0);
  const pivot = argv[3];
  const len = l.length;
  let i = 0;
  while (i < len && l.at(i) !== pivot) i++;
  if (i === len) return c.out.int(-1);
  c.db.getForWrite(key);
  l.insertAt(where === "after" ? i + 1 : i, argv[4]);
  c.server.notify("l", "linsert", key, c.dbIndex);
  c.server.dirty++;
  c.out.int(l.length);
}

/** LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
export function lpos(c: Client, argv: string[]): void {
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const more = j < argv.length - 1;
    if (opt === "rank" && more) {
      const r = parseLong(c, argv[++j]);
      if (r === null) return;
      if (r === 0) {
        return c.error(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
      }
      rank = r;
    } else if (opt === "count" && more) {
      const n = parsePositive(c, argv[++j], "ERR COUNT can't be negative");
      if (n === null) return;
      count = n;
    } else if (opt === "maxlen" && more) {
      const n = parsePositive(c, argv[++j], "ERR MAXLEN can't be negative");
      if (n === null) return;
      maxlen = n;
    } else return c.error(E_SYNTAX);
  }
  const fromTail = rank < 0;
  if (fromTail) rank = -rank;
  const l = readList(c, argv[1]);
  if (l === null) return;
  if (l === undefined) return count !== -1 ? c.out.array(0) : c.out.null();
  const ele = argv[2];
  const len = l.length;
  const limit = maxlen === 0 || maxlen > len ? len : maxlen;
  const found: number[] = [];
  let matches = 0;
  for (let k = 0; k < limit; k++) {
    const i = fromTail ? len - 1 - k : k;
    if (l.at(i) !== ele) continue;
    matches++;
    if (matches < rank) continue;
    found.push(i);
    if (count === -1 || (count > 0 && matches - rank + 1 >= count)) break;
  }
  if (count !== -1) {
    c.out.array(found.length);
    for (const i of found) c.out.int(i);
  } else if (found.length > 0) c.out.int(found[0]);
  else c.out.null();
}
