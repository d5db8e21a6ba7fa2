// String commands: GET/SET and variants, MGET/MSET, APPEND, ranges, counters, LCS.
// Values are latin1 byte strings. Replies, errors, propagation rewrites and keyspace events
// follow Redis 7.0's t_string.c.
import type { Client } from "../server/client.ts";
import { cmdWithMeta, type CommandFlag, type CommandSpec } from "./types.ts";
import {
  E_NOT_FLOAT,
  E_NOT_INT,
  E_OVERFLOW,
  E_SYNTAX,
  E_WRONGTYPE,
  parseBigInt,
  parseInteger,
} from "./util.ts";
import {
  alreadyExpired,
  clearEncodingMark,
  lookupRead,
  markEmbstr,
  markRaw,
  touchKey,
} from "./keys_access.ts";
import {
  addLongDouble,
  formatLongDoubleHuman,
  lcsCommand,
  parseLongDouble,
} from "./strings_ext.ts";
import { STRINGS_META } from "./strings_meta.ts";

const F_NX = 1, F_XX = 2, F_EX = 4, F_PX = 8, F_KEEPTTL = 16, F_GET = 32, F_EXAT = 64, F_PXAT = 128;
const F_PERSIST = 256;
const F_ANY_EXPIRE = F_EX | F_PX | F_EXAT | F_PXAT;
const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;

/** Exact decimal text of the last time computed by expireTimeMs (for propagation). */
let whenText = "";
/** The argument index of the expire value found by parseExtended, or -1. */
let expireIdx = -1;

/** Converts an expire argument to absolute ms like getExpireMillisecondsOrReply; replies and
 * returns -1 on error. Huge values take an exact BigInt path so PXAT propagates verbatim. */
export function expireTimeMs(
  c: Client,
  arg: string,
  seconds: boolean,
  relative: boolean,
  name: string,
): number {
  const n = parseInteger(arg);
  if (n === null) {
    c.error(E_NOT_INT);
    return -1;
  }
  const bad = () => {
    c.error(`ERR invalid expire time in '${name}' command`);
    return -1;
  };
  if (n <= 0) return bad();
  let ms = seconds ? n * 1000 : n;
  if (relative) ms += Date.now();
  if (Number.isSafeInteger(ms)) {
    whenText = String(ms);
    return ms;
  }
  let b = BigInt(arg);
  if (seconds) {
    if (b > LLONG_MAX / 1000n) return bad();
    b *= 1000n;
  }
  if (relative) b += BigInt(Date.now());
  if (b > LLONG_MAX) return bad();
  whenText = String(b);
  return Number(b);
}

/** Parses SET/GETEX options like parseExtendedStringArgumentsOrReply; -1 after a syntax error. */
function parseExtended(c: Client, argv: string[], isSet: boolean): number {
  let flags = 0;
  expireIdx = -1;
  for (let j = isSet ? 3 : 2; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const hasNext = j < argv.length - 1;
    if (opt === "nx" && !(flags & F_XX) && isSet) flags |= F_NX;
    else if (opt === "xx" && !(flags & F_NX) && isSet) flags |= F_XX;
    else if (opt === "get" && isSet) flags |= F_GET;
    else if (opt === "keepttl" && !(flags & (F_PERSIST | F_ANY_EXPIRE)) && isSet) {
      flags |= F_KEEPTTL;
    } else if (opt === "persist" && !isSet && !(flags & (F_ANY_EXPIRE | F_KEEPTTL))) {
      flags |= F_PERSIST;
    } else if (
      opt === "ex" && !(flags & (F_KEEPTTL | F_PERSIST | F_EXAT | F_PX | F_PXAT)) && hasNext
    ) {
      flags |= F_EX;
      expireIdx = ++j;
    } else if (
      opt === "px" && !(flags & (F_KEEPTTL | F_PERSIST | F_EX | F_EXAT | F_PXAT)) && hasNext
    ) {
      flags |= F_PX;
      expireIdx = ++j;
    } else if (
      opt === "exat" && !(flags & (F_KEEPTTL | F_PERSIST | F_EX | F_PX | F_PXAT)) && hasNext
    ) {
      flags |= F_EXAT;
      expireIdx = ++j;
    } else if (
      opt === "pxat" && !(flags & (F_KEEPTTL | F_PERSIST | F_EX | F_EXAT | F_PX)) && hasNext
    ) {
      flags |= F_PXAT;
      expireIdx = ++j;
    } else {
      c.error(E_SYNTAX);
      return -1;
    }
  }
  return flags;
}

/** GET's reply for a key; false when the key holds another type (the error was replied). */
function replyGet(c: Client, key: string): boolean {
  const v = lookupRead(c, key);
  if (v === undefined) c.out.null();
  else if (typeof v !== "string") {
    c.error(E_WRONGTYPE);
    return false;
  } else c.out.bulk(v);
  return true;
}

/** Common body of SET, SETNX, SETEX, PSETEX (setGenericCommand). */
function setGeneric(
  c: Client,
  argv: string[],
  flags: number,
  key: string,
  val: string,
  expireArg: string | null,
  name: string,
  counterReplies: boolean,
): void {
  let when = 0;
  if (expireArg !== null) {
    when = expireTimeMs(
      c,
      expireArg,
      (flags & (F_EX | F_EXAT)) !== 0,
      (flags & (F_EX | F_PX)) !== 0,
      name,
    );
    if (when < 0) return;
  }
  if (flags & F_GET && !replyGet(c, key)) return;
  const db = c.db;
  const found = db.get(key) !== undefined;
  if ((flags & F_NX && found) || (flags & F_XX && !found)) {
    if (!(flags & F_GET)) {
      if (counterReplies) c.out.int(0);
      else c.out.null();
    }
    return;
  }
  db.set(key, val, (flags & F_KEEPTTL) !== 0);
  clearEncodingMark(db, key);
  touchKey(c.server, db, key);
  c.server.dirty++;
  c.server.notify("$", "set", key, c.dbIndex);
  if (expireArg !== null) {
    db.setExpire(key, when);
    c.propagateArgv = ["SET", key, val, "PXAT", whenText];
    c.server.notify("g", "expire", key, c.dbIndex);
  }
  if (!(flags & F_GET)) {
    if (counterReplies) c.out.int(1);
    else c.out.raw("+OK\r\n");
  } else if (expireArg === null) {
    c.propagateArgv = argv.filter((a, j) => j < 3 || a.length !== 3 || a.toLowerCase() !== "get");
  }
}

function setCommand(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    // Fast path: plain SET key value.
    const db = c.db;
    const key = argv[1];
    if (db.expires.size > 0) db.expireIfNeeded(key);
    db.set(key, argv[2]);
    clearEncodingMark(db, key);
    touchKey(c.server, db, key);
    c.server.dirty++;
    c.server.notify("$", "set", key, c.dbIndex);
    c.out.raw("+OK\r\n");
    return;
  }
  const flags = parseExtended(c, argv, true);
  if (flags < 0) return;
  setGeneric(
    c,
    argv,
    flags,
    argv[1],
    argv[2],
    expireIdx < 0 ? null : argv[expireIdx],
    "set",
    false,
  );
}

function getexCommand(c: Client, argv: string[]): void {
  const flags = parseExtended(c, argv, false);
  if (flags < 0) return;
  const key = argv[1];
  const v = lookupRead(c, key);
  if (v === undefined) return c.out.null();
  if (typeof v !== "string") return c.error(E_WRONGTYPE);
  let when = 0;
  if (expireIdx >= 0) {
    when = expireTimeMs(
      c,
      argv[expireIdx],
      (flags & (F_EX | F_EXAT)) !== 0,
      (flags & (F_EX | F_PX)) !== 0,
      "getex",
    );
    if (when < 0) return;
  }
  c.out.bulk(v);
  const s = c.server;
  if (flags & (F_EXAT | F_PXAT) && alreadyExpired(c, when)) {
    c.db.delete(key);
    c.propagateArgv = [s.config.bool("lazyfree-lazy-expire") ? "UNLINK" : "DEL", key];
    s.notify("g", "del", key, c.dbIndex);
    s.dirty++;
  } else if (expireIdx >= 0) {
    c.db.setExpire(key, when);
    c.propagateArgv = ["PEXPIREAT", key, whenText];
    s.notify("g", "expire", key, c.dbIndex);
    s.dirty++;
  } else if (flags & F_PERSIST && c.db.persist(key)) {
    c.propagateArgv = ["PERSIST", key];
    s.notify("g", "persist", key, c.dbIndex);
    s.dirty++;
  }
}

function getdelCommand(c: Client, argv: string[]): void {
  const key = argv[1];
  if (!replyGet(c, key)) return;
  if (c.db.delete(key)) {
    const s = c.server;
    c.propagateArgv = [s.config.bool("lazyfree-lazy-user-del") ? "UNLINK" : "DEL", key];
    s.notify("g", "del", key, c.dbIndex);
    s.dirty++;
  }
}

function getsetCommand(c: Client, argv: string[]): void {
  const key = argv[1];
  if (!replyGet(c, key)) return;
  c.db.set(key, argv[2]);
  clearEncodingMark(c.db, key);
  touchKey(c.server, c.db, key);
  c.server.notify("$", "set", key, c.dbIndex);
  c.server.dirty++;
  c.propagateArgv = ["SET", key, argv[2]];
}

function mgetCommand(c: Client, argv: string[]): void {
  c.out.array(argv.length - 1);
  for (let j = 1; j < argv.length; j++) {
    const v = lookupRead(c, argv[j]);
    if (typeof v === "string") c.out.bulk(v);
    else c.out.null();
  }
}

function msetGeneric(c: Client, argv: string[], nx: boolean): void {
  if (argv.length % 2 === 0) {
    return c.error(`ERR wrong number of arguments for '${nx ? "msetnx" : "mset"}' command`);
  }
  const db = c.db;
  if (nx) {
    for (let j = 1; j < argv.length; j += 2) {
      if (db.get(argv[j]) !== undefined) return c.out.int(0);
    }
  }
  for (let j = 1; j < argv.length; j += 2) {
    db.set(argv[j], argv[j + 1]);
    clearEncodingMark(db, argv[j]);
    touchKey(c.server, db, argv[j]);
    c.server.notify("$", "set", argv[j], c.dbIndex);
  }
  c.server.dirty += (argv.length - 1) / 2;
  if (nx) c.out.int(1);
  else c.out.raw("+OK\r\n");
}

/** Redis refuses strings longer than proto-max-bulk-len (except from the master). */
function checkStringLength(c: Client, size: number, append: number): boolean {
  if (c.isMaster) return true;
  if (size + append > c.server.config.int("proto-max-bulk-len")) {
    c.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    return false;
  }
  return true;
}

function appendCommand(c: Client, argv: string[]): void {
  const db = c.db;
  const key = argv[1];
  const v = db.get(key);
  let total: number;
  if (v === undefined) {
    db.set(key, argv[2]);
    clearEncodingMark(db, key);
    total = argv[2].length;
  } else {
    if (typeof v !== "string") return c.error(E_WRONGTYPE);
    if (!checkStringLength(c, v.length, argv[2].length)) return;
    const nv = v + argv[2];
    db.set(key, nv, true);
    markRaw(db, key, nv);
    total = nv.length;
  }
  touchKey(c.server, db, key);
  c.server.notify("$", "append", key, c.dbIndex);
  c.server.dirty++;
  c.out.int(total);
}

function strlenCommand(c: Client, argv: string[]): void {
  const v = lookupRead(c, argv[1]);
  if (v === undefined) return c.out.int(0);
  if (typeof v !== "string") return c.error(E_WRONGTYPE);
  c.out.int(v.length);
}

function getrangeCommand(c: Client, argv: string[]): void {
  let start = parseInteger(argv[2]);
  let end = start === null ? null : parseInteger(argv[3]);
  if (start === null || end === null) return c.error(E_NOT_INT);
  const v = lookupRead(c, argv[1]);
  if (v === undefined) return c.out.bulk("");
  if (typeof v !== "string") return c.error(E_WRONGTYPE);
  const len = v.length;
  if (start < 0 && end < 0 && start > end) return c.out.bulk("");
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return c.out.bulk("");
  c.out.bulk(v.slice(start, end + 1));
}

function setrangeCommand(c: Client, argv: string[]): void {
  const offset = parseInteger(argv[2]);
  if (offset === null) return c.error(E_NOT_INT);
  if (offset < 0) return c.error("ERR offset is out of range");
  const db = c.db;
  const key = argv[1];
  const value = argv[3];
  const v = db.get(key);
  let nv: string;
  if (v === undefined) {
    if (value.length === 0) return c.out.int(0);
    if (!checkStringLength(c, offset, value.length)) return;
    nv = "\0".repeat(offset) + value;
  } else {
    if (typeof v !== "string") return c.error(E_WRONGTYPE);
    if (value.length === 0) return c.out.int(v.length);
    if (!checkStringLength(c, offset, value.length)) return;
    nv = offset > v.length
      ? v + "\0".repeat(offset - v.length) + value
      : v.slice(0, offset) + value + v.slice(offset + value.length);
  }
  db.set(key, nv, true);
  markRaw(db, key, nv);
  touchKey(c.server, db, key);
  c.server.notify("$", "setrange", key, c.dbIndex);
  c.server.dirty++;
  c.out.int(nv.length);
}

/** Whether v is a canonical decimal integer of at most 15 digits (/^-?[1-9][0-9]{0,14}$|^0$/,
 * without the regex: this runs for every INCR). */
function isSmallInt(v: string): boolean {
  const n = v.length;
  if (n === 1) return v.charCodeAt(0) >= 48 && v.charCodeAt(0) <= 57;
  let i = v.charCodeAt(0) === 45 ? 1 : 0;
  const digits = n - i;
  if (digits < 1 || digits > 15) return false;
  const first = v.charCodeAt(i);
  if (first < 49 || first > 57) return false;
  for (i++; i < n; i++) {
    const ch = v.charCodeAt(i);
    if (ch < 48 || ch > 57) return false;
  }
  return true;
}

/** INCR/DECR/INCRBY/DECRBY with int64 overflow checks; `big` carries huge increments. */
function incrGeneric(c: Client, key: string, delta: number, big: bigint | null): void {
  const db = c.db;
  const v = db.get(key);
  let out: string;
  if (v !== undefined && typeof v !== "string") return c.error(E_WRONGTYPE);
  if (big === null && (v === undefined || (v.length < 17 && isSmallInt(v)))) {
    // Both operands below 2^53: plain number arithmetic is exact.
    const r = (v === undefined ? 0 : +v) + delta;
    out = String(r);
    if (!Number.isSafeInteger(r)) return incrGeneric(c, key, 0, BigInt(delta));
  } else {
    const cur = v === undefined ? 0n : parseBigInt(v);
    if (cur === null) return c.error(E_NOT_INT);
    const r = cur + (big ?? BigInt(delta));
    if (r > LLONG_MAX || r < LLONG_MIN) return c.error(E_OVERFLOW);
    out = String(r);
  }
  db.set(key, out, true);
  clearEncodingMark(db, key);
  touchKey(c.server, db, key);
  c.server.notify("$", "incrby", key, c.dbIndex);
  c.server.dirty++;
  c.out.raw(":" + out + "\r\n");
}

function incrbyArg(c: Client, arg: string, negate: boolean): [number, bigint | null] | null {
  const n = parseInteger(arg);
  if (n === null) {
    c.error(E_NOT_INT);
    return null;
  }
  if (Number.isSafeInteger(n)) return [negate ? -n : n, null];
  const b = BigInt(arg);
  if (negate && b === LLONG_MIN) {
    c.error("ERR decrement would overflow");
    return null;
  }
  return [0, negate ? -b : b];
}

function incrbyfloatCommand(c: Client, argv: string[]): void {
  const db = c.db;
  const key = argv[1];
  const v = db.get(key);
  if (v !== undefined && typeof v !== "string") return c.error(E_WRONGTYPE);
  const cur = v === undefined ? parseLongDouble("0") : parseLongDouble(v);
  if (cur === null) return c.error(E_NOT_FLOAT);
  const incr = parseLongDouble(argv[2]);
  if (incr === null) return c.error(E_NOT_FLOAT);
  const r = addLongDouble(cur, incr);
  if (r === null || r.inf) return c.error("ERR increment would produce NaN or Infinity");
  const out = formatLongDoubleHuman(r);
  db.set(key, out, true);
  clearEncodingMark(db, key);
  markEmbstr(db, key, out);
  touchKey(c.server, db, key);
  c.server.notify("$", "incrbyfloat", key, c.dbIndex);
  c.server.dirty++;
  c.out.bulk(out);
  c.propagateArgv = ["SET", key, out, "KEEPTTL"];
}

const mk = cmdWithMeta(STRINGS_META);

const W_OOM: CommandFlag[] = ["write", "denyoom"];
const W_OOM_FAST: CommandFlag[] = ["write", "denyoom", "fast"];
const RO_FAST: CommandFlag[] = ["readonly", "fast"];

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  mk("get", 2, RO_FAST, [1, 1, 1], (c, argv) => {
    const v = lookupRead(c, argv[1]);
    if (v === undefined) c.out.null();
    else if (typeof v !== "string") c.error(E_WRONGTYPE);
    else c.out.bulk(v);
  }),
  mk("set", -3, W_OOM, [1, 1, 1], setCommand),
  mk("setnx", 3, W_OOM_FAST, [1, 1, 1], (c, argv) => {
    setGeneric(c, argv, F_NX, argv[1], argv[2], null, "setnx", true);
  }),
  mk("setex", 4, W_OOM, [1, 1, 1], (c, argv) => {
    setGeneric(c, argv, F_EX, argv[1], argv[3], argv[2], "setex", false);
  }),
  mk("psetex", 4, W_OOM, [1, 1, 1], (c, argv) => {
    setGeneric(c, argv, F_PX, argv[1], argv[3], argv[2], "psetex", false);
  }),
  mk("getex", -2, ["write", "fast"], [1, 1, 1], getexCommand),
  mk("getdel", 2, ["write", "fast"], [1, 1, 1], getdelCommand),
  mk("getset", 3, W_OOM_FAST, [1, 1, 1], getsetCommand),
  mk("mget", -2, RO_FAST, [1, -1, 1], mgetCommand),
  mk("mset", -3, W_OOM, [1, -1, 2], (c, argv) => msetGeneric(c, argv, false)),
  mk("msetnx", -3, W_OOM, [1, -1, 2], (c, argv) => msetGeneric(c, argv, true)),
  mk("append", 3, W_OOM_FAST, [1, 1, 1], appendCommand),
  mk("strlen", 2, RO_FAST, [1, 1, 1], strlenCommand),
  mk("getrange", 4, ["readonly"], [1, 1, 1], getrangeCommand),
  mk("substr", 4, ["readonly"], [1, 1, 1], getrangeCommand),
  mk("setrange", 4, W_OOM, [1, 1, 1], setrangeCommand),
  mk("incr", 2, W_OOM_FAST, [1, 1, 1], (c, argv) => incrGeneric(c, argv[1], 1, null)),
  mk("decr", 2, W_OOM_FAST, [1, 1, 1], (c, argv) => incrGeneric(c, argv[1], -1, null)),
  mk("incrby", 3, W_OOM_FAST, [1, 1, 1], (c, argv) => {
    const d = incrbyArg(c, argv[2], false);
    if (d) incrGeneric(c, argv[1], d[0], d[1]);
  }),
  mk("decrby", 3, W_OOM_FAST, [1, 1, 1], (c, argv) => {
    const d = incrbyArg(c, argv[2], true);
    if (d) incrGeneric(c, argv[1], d[0], d[1]);
  }),
  mk("incrbyfloat", 3, W_OOM_FAST, [1, 1, 1], incrbyfloatCommand),
  mk("lcs", -3, ["readonly"], [1, 2, 1], lcsCommand),
];
