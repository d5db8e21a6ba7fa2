// List commands that move elements between keys or wait for them: LMOVE/RPOPLPUSH, LMPOP and
// the blocking BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/BLMPOP. A blocked client is served by its `retry`
// closure when a push signals one of its keys; the served pop is propagated as the equivalent
// non-blocking command, as Redis 7.0 does.
import type { Client } from "../server/client.ts";
import { ListValue } from "../store/types.ts";
import { E_SYNTAX, E_WRONGTYPE, parseInteger } from "./util.ts";
import { parseTimeout } from "./zsets_util.ts";
import { elementsRemoved, popRangeReply, readList } from "./lists_ops.ts";

/** LEFT/RIGHT (case-insensitive) as "pop/push at the head"; null after a syntax error. */
function parseWhere(c: Client, s: string): boolean | null {
  const w = s.toLowerCase();
  if (w === "left") return true;
  if (w === "right") return false;
  c.error(E_SYNTAX);
  return null;
}

/** lmoveHandlePush: pushes to dst (creating it), signals waiters, replies the element. */
function pushToDestination(
  receiver: Client,
  dbIndex: number,
  dstKey: string,
  dst: ListValue | undefined,
  value: string,
  head: boolean,
): void {
  const server = receiver.server;
  const db = server.dbs[dbIndex];
  if (dst === undefined) {
    dst = new ListValue();
    db.add(dstKey, dst);
  } else db.getForWrite(dstKey);
  if (head) dst.pushHead(value);
  else dst.pushTail(value);
  server.notify("l", head ? "lpush" : "rpush", dstKey, dbIndex);
  if (server.blocking.blockedCount > 0) server.blocking.signal(dbIndex, dstKey);
  receiver.out.bulk(value);
}

/** Moves one element from src (known to be a non-empty list) to dst; false after WRONGTYPE. */
function moveElement(
  receiver: Client,
  dbIndex: number,
  srcKey: string,
  src: ListValue,
  dstKey: string,
  from: boolean,
  to: boolean,
): boolean {
  const server = receiver.server;
  const db = server.dbs[dbIndex];
  const dst = db.get(dstKey);
  if (dst !== undefined && !(dst instanceof ListValue)) {
    receiver.error(E_WRONGTYPE);
    return false;
  }
  db.getForWrite(srcKey);
  const value = from ? src.popHead()! : src.popTail()!;
  pushToDestination(receiver, dbIndex, dstKey, dst, value, to);
  server.notify("l", from ? "lpop" : "rpop", srcKey, dbIndex);
  if (src.length === 0) {
    db.delete(srcKey);
    server.notify("g", "del", srcKey, dbIndex);
  }
  return true;
}

/** lmoveGenericCommand for the non-blocking path; `rewrite` is the propagated form, if any. */
function lmoveGeneric(
  c: Client,
  argv: string[],
  from: boolean,
  to: boolean,
  rewrite: string[] | null,
): void {
  const src = readList(c, argv[1], true);
  if (src === null) return;
  if (src === undefined || src.length === 0) return c.out.null();
  if (!moveElement(c, c.dbIndex, argv[1], src, argv[2], from, to)) return;
  c.server.dirty++;
  if (rewrite !== null) c.propagateArgv = rewrite;
}

/** LMOVE source destination LEFT|RIGHT LEFT|RIGHT */
export function lmove(c: Client, argv: string[]): void {
  const from = parseWhere(c, argv[3]);
  if (from === null) return;
  const to = parseWhere(c, argv[4]);
  if (to === null) return;
  lmoveGeneric(c, argv, from, to, null);
}

/** RPOPLPUSH source destination */
export function rpoplpush(c: Client, argv: string[]): void {
  lmoveGeneric(c, argv, false, true, null);
}

/** Pops from the first non-empty list of keys, replying [key, [elements]]; false when none. */
function mpopFirst(c: Client, keys: string[], head: boolean, count: number): boolean | null {
  for (const key of keys) {
    const l = readList(c, key, true);
    if (l === null) return null;
    if (l === undefined || l.length === 0) continue;
    c.db.getForWrite(key);
    c.out.array(2);
    c.out.bulk(key);
    const n = popRangeReply(c, l, head, count);
    elementsRemoved(c, c.dbIndex, key, head, l, n);
    c.propagateArgv = [head ? "LPOP" : "RPOP", key, String(n)];
    return true;
  }
  return false;
}

/** Keys of LMPOP (numkeys at argv[1]) or BLMPOP (argv[2]); none when numkeys is invalid. */
export function mpopKeys(argv: string[], numkeysIdx: number): number[] {
  const n = parseInteger(argv[numkeysIdx]);
  if (n === null || n < 1 || n > argv.length - numkeysIdx - 1) return [];
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(numkeysIdx + 1 + i);
  return out;
}

/** lmpopGenericCommand: parses numkeys, LEFT|RIGHT and COUNT, then pops or blocks. */
function lmpopGeneric(c: Client, argv: string[], numkeysIdx: number, block: boolean): void {
  const numkeys = parseInteger(argv[numkeysIdx]);
  if (numkeys === null || numkeys < 1) return c.error("ERR numkeys should be greater than 0");
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= argv.length) return c.error(E_SYNTAX);
  const head = parseWhere(c, argv[whereIdx]);
  if (head === null) return;
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    if (count === -1 && argv[j].toLowerCase() === "count" && j < argv.length - 1) {
      const n = parseInteger(argv[++j]);
      if (n === null || n < 1) return c.error("ERR count should be greater than 0");
      count = n;
    } else return c.error(E_SYNTAX);
  }
  if (count === -1) count = 1;
  const keys = argv.slice(numkeysIdx + 1, whereIdx);
  if (block) return blockingPop(c, argv, keys, head, argv[1], count);
  if (mpopFirst(c, keys, head, count) === false) c.out.nullArray();
}

/** LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] */
export const lmpop = (c: Client, argv: string[]) => lmpopGeneric(c, argv, 1, false);
/** BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
export const blmpop = (c: Client, argv: string[]) => lmpopGeneric(c, argv, 2, true);

/** blockingPopGenericCommand: serves from the first non-empty list, or blocks. `count` -1 is the
 * BLPOP/BRPOP form ([key, element]); otherwise BLMPOP ([key, [elements]]). */
function blockingPop(
  c: Client,
  argv: string[],
  keys: string[],
  head: boolean,
  timeoutArg: string,
  count: number,
): void {
  const deadline = parseTimeout(c, timeoutArg);
  if (deadline === null) return;
  if (count !== -1) {
    const r = mpopFirst(c, keys, head, count);
    if (r !== false) return;
  } else {
    for (const key of keys) {
      const l = readList(c, key, true);
      if (l === null) return;
      if (l === undefined || l.length === 0) continue;
      c.db.getForWrite(key);
      c.out.array(2);
      c.out.bulk(key);
      c.out.bulk(head ? l.popHead()! : l.popTail()!);
      elementsRemoved(c, c.dbIndex, key, head, l, 1);
      c.propagateArgv = [head ? "LPOP" : "RPOP", key];
      return;
    }
  }
  // Not allowed to block (inside EXEC, master link): behave as if the timeout expired.
  if (!c.canBlock) return c.out.nullArray();
  const dbIndex = c.dbIndex;
  const server = c.server;
  const retry = (key: string): boolean => {
    const db = server.dbs[dbIndex];
    const l = db.get(key);
    if (!(l instanceof ListValue) || l.length === 0) return false;
    db.getForWrite(key);
    const op = head ? "LPOP" : "RPOP";
    c.out.array(2);
    c.out.bulk(key);
    if (count === -1) {
      server.propagate(dbIndex, [op, key]);
      c.out.bulk(head ? l.popHead()! : l.popTail()!);
      server.notify("l", head ? "lpop" : "rpop", key, dbIndex);
      if (l.length === 0) {
        db.delete(key);
        server.notify("g", "del", key, dbIndex);
      }
    } else {
      server.propagate(dbIndex, [op, key, String(count < l.length ? count : l.length)]);
      const n = popRangeReply(c, l, head, count);
      elementsRemoved(c, dbIndex, key, head, l, n);
    }
    return true;
  };
  server.blocking.block(c, {
    keys: [...new Set(keys)],
    db: dbIndex,
    deadline,
    retry,
    onTimeout: () => c.out.nullArray(),
    spec: server.commands.get(argv[0].toLowerCase())!,
    argv,
  });
}

/** BLPOP key [key ...] timeout */
export function blpop(c: Client, argv: string[]): void {
  blockingPop(c, argv, argv.slice(1, -1), true, argv[argv.length - 1], -1);
}

/** BRPOP key [key ...] timeout */
export function brpop(c: Client, argv: string[]): void {
  blockingPop(c, argv, argv.slice(1, -1), false, argv[argv.length - 1], -1);
}

/** blmoveGenericCommand: moves now when the source has elements, else blocks on the source. */
function blmoveGeneric(
  c: Client,
  argv: string[],
  from: boolean,
  to: boolean,
  timeoutArg: string,
): void {
  const deadline = parseTimeout(c, timeoutArg);
  if (deadline === null) return;
  const srcKey = argv[1];
  const dstKey = argv[2];
  const src = readList(c, srcKey, true);
  if (src === null) return;
  const brpoplpush = argv.length === 4;
  const fromWord = from ? "LEFT" : "RIGHT";
  const toWord = to ? "LEFT" : "RIGHT";
  if (src !== undefined) {
    const rewrite = brpoplpush
      ? ["RPOPLPUSH", srcKey, dstKey]
      : ["LMOVE", srcKey, dstKey, argv[3], argv[4]];
    return lmoveGeneric(c, argv, from, to, rewrite);
  }
  if (!c.canBlock) return c.out.null();
  const dbIndex = c.dbIndex;
  const server = c.server;
  const retry = (key: string): boolean => {
    const l = server.dbs[dbIndex].get(key);
    if (!(l instanceof ListValue) || l.length === 0) return false;
    // A destination of the wrong type still unblocks the client, with the error.
    if (moveElement(c, dbIndex, srcKey, l, dstKey, from, to)) {
      server.propagate(
        dbIndex,
        brpoplpush ? ["RPOPLPUSH", srcKey, dstKey] : ["LMOVE", srcKey, dstKey, fromWord, toWord],
      );
    }
    return true;
  };
  server.blocking.block(c, {
    keys: [srcKey],
    db: dbIndex,
    deadline,
    retry,
    onTimeout: () => c.out.nullArray(),
    spec: server.commands.get(argv[0].toLowerCase())!,
    argv,
  });
}

/** BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout */
export function blmove(c: Client, argv: string[]): void {
  const from = parseWhere(c, argv[3]);
  if (from === null) return;
  const to = parseWhere(c, argv[4]);
  if (to === null) return;
  blmoveGeneric(c, argv, from, to, argv[5]);
}

/** BRPOPLPUSH source destination timeout */
export function brpoplpush(c: Client, argv: string[]): void {
  blmoveGeneric(c, argv, false, true, argv[3]);
}
