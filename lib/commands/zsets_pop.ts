// ZPOPMIN/ZPOPMAX, ZMPOP and the blocking BZPOPMIN/BZPOPMAX/BZMPOP. Pops always replicate as
// ZPOPMIN/ZPOPMAX (with the served count when one was asked), whichever form the client used.
import type { Client } from "../server/client.ts";
import { E_SYNTAX, parseInteger } from "./util.ts";
import { lookupZset, parseTimeout } from "./zsets_util.ts";
import type { ZSetValue } from "../store/zset.ts";

const MIN = 0, MAX = 1;

/** What a pop did, for propagation: the key and how many members it removed. */
interface Popped {
  key: string;
  n: number;
}

/** genericZpopCommand: pops from the first existing key; null when it replied without popping
 * (error, nothing to pop, or count 0). `count` -1 means the single-member form. */
function genericZpop(
  c: Client,
  keys: string[],
  where: number,
  emitKey: boolean,
  count: number,
  nested: boolean,
  nilWhenEmpty: boolean,
): Popped | null {
  let z: ZSetValue | undefined;
  let key = "";
  for (const k of keys) {
    const v = lookupZset(c, k, true);
    if (v === null) return null;
    if (v === undefined) continue;
    z = v;
    key = k;
    break;
  }
  if (z === undefined) {
    if (nilWhenEmpty) c.out.nullArray();
    else c.out.array(0);
    return null;
  }
  if (count === 0) {
    c.out.array(0);
    return null;
  }
  if (count === -1) count = 1;
  const n = Math.min(count, z.size);
  if (!nested && !emitKey) c.out.array(n * 2);
  else if (nested && !emitKey) c.out.array(n);
  else if (!nested && emitKey) {
    c.out.array(n * 2 + 1);
    c.out.bulk(key);
  } else {
    c.out.array(2);
    c.out.bulk(key);
    c.out.array(n);
  }
  c.db.getForWrite(key);
  const s = c.server;
  for (let k = 0; k < n; k++) {
    const m = where === MIN ? z.popFirst()! : z.popLast()!;
    s.dirty++;
    if (k === 0) s.notify("z", where === MIN ? "zpopmin" : "zpopmax", key, c.dbIndex);
    if (nested) c.out.array(2);
    c.out.bulk(m);
    c.out.double(z.popScore);
  }
  if (z.size === 0) {
    c.db.delete(key);
    s.notify("g", "del", key, c.dbIndex);
  }
  return { key, n };
}

/** The replicated form of a pop. */
function popArgv(where: number, p: Popped, withCount: boolean): string[] {
  const name = where === MIN ? "ZPOPMIN" : "ZPOPMAX";
  return withCount ? [name, p.key, String(p.n)] : [name, p.key];
}

function zpopMinMax(c: Client, argv: string[], where: number): void {
  if (argv.length > 3) return c.error(E_SYNTAX);
  let count = -1;
  if (argv.length === 3) {
    const v = parseInteger(argv[2]);
    if (v === null || v < 0) return c.error("ERR value is out of range, must be positive");
    count = v;
  }
  // RESP3 nests [member, score] pairs only when a count was given.
  genericZpop(c, [argv[1]], where, false, count, c.resp === 3 && count !== -1, false);
}

/** ZPOPMIN key [count] */
export function zpopminCmd(c: Client, argv: string[]): void {
  zpopMinMax(c, argv, MIN);
}

/** ZPOPMAX key [count] */
export function zpopmaxCmd(c: Client, argv: string[]): void {
  zpopMinMax(c, argv, MAX);
}

/** blockingGenericZpopCommand: serves now, or blocks, or (when blocking is not allowed) replies
 * a null array as a timeout would. `count` -1 is the BZPOPMIN/BZPOPMAX single form. */
function blockingZpop(
  c: Client,
  argv: string[],
  keys: string[],
  where: number,
  timeoutArg: string,
  count: number,
  nested: boolean,
): void {
  const deadline = parseTimeout(c, timeoutArg);
  if (deadline === null) return;
  for (const key of keys) {
    const z = lookupZset(c, key, true);
    if (z === null) return;
    if (z === undefined || z.size === 0) continue;
    const p = genericZpop(c, [key], where, true, count, nested, nested);
    if (p) c.propagateArgv = popArgv(where, p, count !== -1);
    return;
  }
  if (!c.canBlock) return c.out.nullArray();
  const dbIndex = c.dbIndex;
  const retry = (): boolean => {
    const db = c.server.dbs[dbIndex];
    for (const key of keys) {
      const v = db.get(key);
      if (v === undefined || typeof v === "string" || v.type !== "zset" || v.size === 0) continue;
      const p = genericZpop(c, [key], where, true, count, nested, nested);
      if (p) c.server.propagate(dbIndex, popArgv(where, p, count !== -1));
      return true;
    }
    return false;
  };
  c.server.blocking.block(c, {
    keys,
    db: dbIndex,
    deadline,
    retry,
    onTimeout: () => c.out.nullArray(),
    spec: c.server.commands.get(argv[0].toLowerCase())!,
    argv,
  });
}

/** BZPOPMIN key [key ...] timeout */
export function bzpopminCmd(c: Client, argv: string[]): void {
  blockingZpop(c, argv, argv.slice(1, -1), MIN, argv[argv.length - 1], -1, false);
}

/** BZPOPMAX key [key ...] timeout */
export function bzpopmaxCmd(c: Client, argv: string[]): void {
  blockingZpop(c, argv, argv.slice(1, -1), MAX, argv[argv.length - 1], -1, false);
}

/** zmpopGenericCommand: ZMPOP/BZMPOP argument parsing. */
function zmpopGeneric(c: Client, argv: string[], numkeysIdx: number, block: boolean): void {
  const numkeys = parseInteger(argv[numkeysIdx]);
  if (numkeys === null || numkeys < 1) return c.error("ERR numkeys should be greater than 0");
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= argv.length) return c.error(E_SYNTAX);
  const w = argv[whereIdx].toLowerCase();
  let where: number;
  if (w === "min") where = MIN;
  else if (w === "max") where = MAX;
  else return c.error(E_SYNTAX);
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && argv[j].toLowerCase() === "count" && more > 0) {
      j++;
      const v = parseInteger(argv[j]);
      if (v === null || v < 1) return c.error("ERR count should be greater than 0");
      count = v;
    } else return c.error(E_SYNTAX);
  }
  if (count === -1) count = 1;
  const keys = argv.slice(numkeysIdx + 1, whereIdx);
  if (block) return blockingZpop(c, argv, keys, where, argv[1], count, true);
  const p = genericZpop(c, keys, where, true, count, true, true);
  if (p) c.propagateArgv = popArgv(where, p, true);
}

/** ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] */
export function zmpopCmd(c: Client, argv: string[]): void {
  zmpopGeneric(c, argv, 1, false);
}

/** BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
export function bzmpopCmd(c: Client, argv: string[]): void {
  zmpopGeneric(c, argv, 2, true);
}
