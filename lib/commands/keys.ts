// Generic keyspace commands: DEL/UNLINK/EXISTS/TYPE/TOUCH, the EXPIRE and TTL families,
// PERSIST, RENAME(NX), MOVE, COPY and OBJECT. Database-wide commands (KEYS, SCAN, FLUSH*,
// SELECT, SWAPDB ...) live in keys_db.ts. Semantics follow Redis 7.0's db.c and expire.c.
import type { Client } from "../server/client.ts";
import type { Db } from "../store/keyspace.ts";
import { typeName, type Value } from "../store/types.ts";
import { cmd, cmdWithMeta, type CommandFlag, type CommandSpec } from "./types.ts";
import { E_NO_KEY, E_NOT_INT, E_SYNTAX, parseInteger } from "./util.ts";
import {
  alreadyExpired,
  carryMeta,
  dupValue,
  encodingOf,
  idleMs,
  lfuFreq,
  lookupRead,
  parseDbIndex,
  refcountOf,
  touchKey,
} from "./keys_access.ts";
import { dbCommands } from "./keys_db.ts";
import { KEYS_META } from "./keys_meta.ts";

const E_SAME_OBJECT = "ERR source and destination objects are the same";
const E_DB_RANGE = "ERR DB index is out of range";
const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;

/** Wakes clients blocked on a key that now holds a list, zset or stream (dbAdd does this). */
export function signalIfReady(c: Client, dbIndex: number, key: string, v: Value): void {
  if (typeof v !== "string" && (v.type === "list" || v.type === "zset" || v.type === "stream")) {
    c.server.blocking.signal(dbIndex, key);
  }
}

function delGeneric(c: Client, argv: string[]): void {
  const db = c.db;
  let n = 0;
  for (let j = 1; j < argv.length; j++) {
    if (db.delete(argv[j])) {
      c.server.notify("g", "del", argv[j], c.dbIndex);
      c.server.dirty++;
      n++;
    }
  }
  c.out.int(n);
}

const EXP_NX = 1, EXP_XX = 2, EXP_GT = 4, EXP_LT = 8;

/** EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT: `relative` adds now, `seconds` scales the argument. */
function expireGeneric(
  c: Client,
  argv: string[],
  relative: boolean,
  seconds: boolean,
  isPexpireat: boolean,
) {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const o = argv[j].toLowerCase();
    if (o === "nx") flags |= EXP_NX;
    else if (o === "xx") flags |= EXP_XX;
    else if (o === "gt") flags |= EXP_GT;
    else if (o === "lt") flags |= EXP_LT;
    else return c.error(`ERR Unsupported option ${argv[j]}`);
  }
  if (flags & EXP_NX && flags & (EXP_XX | EXP_GT | EXP_LT)) {
    return c.error("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (flags & EXP_GT && flags & EXP_LT) {
    return c.error("ERR GT and LT options at the same time are not compatible");
  }
  const n = parseInteger(argv[2]);
  if (n === null) return c.error(E_NOT_INT);
  const name = argv[0].toLowerCase();
  const base = relative ? Date.now() : 0;
  let when = (seconds ? n * 1000 : n) + base;
  let whenText: string | null = null;
  if (!Number.isSafeInteger(when)) {
    // Exact int64 arithmetic with Redis's overflow checks.
    let b = BigInt(argv[2]);
    if (seconds) {
      if (b > LLONG_MAX / 1000n || b < LLONG_MIN / 1000n) {
        return c.error(`ERR invalid expire time in '${name}' command`);
      }
      b *= 1000n;
    }
    if (b > LLONG_MAX - BigInt(base)) {
      return c.error(`ERR invalid expire time in '${name}' command`);
    }
    b += BigInt(base);
    whenText = String(b);
    when = Number(b);
  }
  const db = c.db;
  const key = argv[1];
  if (db.get(key) === undefined) return c.out.int(0);
  if (flags) {
    const cur = db.getExpire(key);
    if (flags & EXP_NX && cur !== -1) return c.out.int(0);
    if (flags & EXP_XX && cur === -1) return c.out.int(0);
    if (flags & EXP_GT && (when <= cur || cur === -1)) return c.out.int(0);
    if (flags & EXP_LT && cur !== -1 && when >= cur) return c.out.int(0);
  }
  const s = c.server;
  touchKey(s, db, key);
  if (alreadyExpired(c, when)) {
    db.delete(key);
    s.dirty++;
    c.propagateArgv = [s.config.bool("lazyfree-lazy-expire") ? "UNLINK" : "DEL", key];
    s.notify("g", "del", key, c.dbIndex);
    return c.out.int(1);
  }
  db.setExpire(key, when);
  c.out.int(1);
  if (!isPexpireat || relative || seconds) {
    const p = argv.slice();
    if (!isPexpireat) p[0] = "PEXPIREAT";
    if (relative || seconds) p[2] = whenText ?? String(when);
    c.propagateArgv = p;
  }
  s.notify("g", "expire", key, c.dbIndex);
  s.dirty++;
}

/** TTL/PTTL/EXPIRETIME/PEXPIRETIME. */
function ttlGeneric(c: Client, key: string, ms: boolean, abs: boolean): void {
  if (lookupRead(c, key, false) === undefined) return c.out.int(-2);
  const exp = c.db.getExpire(key);
  if (exp === -1) return c.out.int(-1);
  let ttl = abs ? exp : exp - Date.now();
  if (ttl < 0) ttl = 0;
  c.out.int(ms ? ttl : Math.floor((ttl + 500) / 1000));
}

function persistCommand(c: Client, argv: string[]): void {
  const key = argv[1];
  if (c.db.get(key) === undefined) return c.out.int(0);
  touchKey(c.server, c.db, key);
  if (!c.db.persist(key)) return c.out.int(0);
  c.server.notify("g", "persist", key, c.dbIndex);
  c.server.dirty++;
  c.out.int(1);
}

function renameGeneric(c: Client, argv: string[], nx: boolean): void {
  const db = c.db;
  const src = argv[1], dst = argv[2];
  const v = db.get(src);
  if (v === undefined) return c.error(E_NO_KEY);
  if (src === dst) return nx ? c.out.int(0) : c.out.raw("+OK\r\n");
  const expire = db.getExpire(src);
  if (db.get(dst) !== undefined) {
    if (nx) return c.out.int(0);
    db.delete(dst);
  }
  db.set(dst, v);
  if (expire !== -1) db.setExpire(dst, expire);
  carryMeta(db, src, db, dst, true);
  touchKey(c.server, db, dst);
  db.delete(src);
  signalIfReady(c, c.dbIndex, dst, v);
  c.server.notify("g", "rename_from", src, c.dbIndex);
  c.server.notify("g", "rename_to", dst, c.dbIndex);
  c.server.dirty++;
  if (nx) c.out.int(1);
  else c.out.raw("+OK\r\n");
}

function targetDb(c: Client, arg: string): Db | null {
  const id = parseDbIndex(c, arg);
  if (id === null) return null;
  if (id < 0 || id >= c.server.dbs.length) {
    c.error(E_DB_RANGE);
    return null;
  }
  return c.server.dbs[id];
}

function moveCommand(c: Client, argv: string[]): void {
  if (c.server.config.bool("cluster-enabled")) {
    return c.error("ERR MOVE is not allowed in cluster mode");
  }
  const dst = targetDb(c, argv[2]);
  if (dst === null) return;
  const src = c.db;
  if (src === dst) return c.error(E_SAME_OBJECT);
  const key = argv[1];
  const v = src.get(key);
  if (v === undefined) return c.out.int(0);
  const expire = src.getExpire(key);
  if (dst.get(key) !== undefined) return c.out.int(0);
  dst.set(key, v);
  if (expire !== -1) dst.setExpire(key, expire);
  carryMeta(src, key, dst, key, true);
  src.delete(key);
  signalIfReady(c, dst.id, key, v);
  c.server.notify("g", "move_from", key, src.id);
  c.server.notify("g", "move_to", key, dst.id);
  c.server.dirty++;
  c.out.int(1);
}

function copyCommand(c: Client, argv: string[]): void {
  const src = c.db;
  let dst = c.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const o = argv[j].toLowerCase();
    if (o === "replace") replace = true;
    else if (o === "db" && j + 1 < argv.length) {
      const d = targetDb(c, argv[++j]);
      if (d === null) return;
      dst = d;
    } else return c.error(E_SYNTAX);
  }
  if (c.server.config.bool("cluster-enabled") && (src.id !== 0 || dst.id !== 0)) {
    return c.error("ERR Copying to another database is not allowed in cluster mode");
  }
  const key = argv[1], newKey = argv[2];
  if (src === dst && key === newKey) return c.error(E_SAME_OBJECT);
  const v = lookupRead(c, key);
  if (v === undefined) return c.out.int(0);
  const expire = src.getExpire(key);
  const exists = dst.get(newKey) !== undefined;
  if (exists && !replace) return c.out.int(0);
  let nv: Value;
  try {
    nv = dupValue(v);
  } catch {
    return c.error("ERR unknown type object");
  }
  if (exists) dst.delete(newKey);
  dst.set(newKey, nv);
  if (expire !== -1) dst.setExpire(newKey, expire);
  carryMeta(src, key, dst, newKey, false);
  touchKey(c.server, dst, newKey);
  signalIfReady(c, dst.id, newKey, nv);
  c.server.notify("g", "copy_to", newKey, dst.id);
  c.server.dirty++;
  c.out.int(1);
}

const OBJECT_HELP = [
  "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Prints this help.",
];

const POLICY_NOTE =
  "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/** OBJECT subcommands look keys up without touching them or firing keymiss (Redis does too). */
function objectSub(name: string, body: (c: Client, key: string, v: Value) => void): CommandSpec {
  return cmd(name, 3, ["readonly"], [2, 2, 1], (c, argv) => {
    const v = lookupRead(c, argv[2], false, false);
    if (v === undefined) return c.out.null();
    body(c, argv[2], v);
  }, KEYS_META[`object|${name}`]);
}

const objectSubs = new Map<string, CommandSpec>([
  ["encoding", objectSub("encoding", (c, key, v) => c.out.bulk(encodingOf(c.db, key, v)))],
  [
    "idletime",
    objectSub("idletime", (c, key) => {
      if (c.server.config.str("maxmemory-policy").includes("lfu")) {
        return c.error(
          `ERR An LFU maxmemory policy is selected, idle time not tracked. ${POLICY_NOTE}`,
        );
      }
      c.out.int(Math.floor(idleMs(c.db, key) / 1000));
    }),
  ],
  [
    "freq",
    objectSub("freq", (c, key) => {
      if (!c.server.config.str("maxmemory-policy").includes("lfu")) {
        return c.error(
          `ERR An LFU maxmemory policy is not selected, access frequency not tracked. ${POLICY_NOTE}`,
        );
      }
      c.out.int(lfuFreq(c.server, c.db, key));
    }),
  ],
  [
    "help",
    cmd("help", 2, ["loading", "stale"], [0, 0, 0], (c) => {
      c.out.array(OBJECT_HELP.length);
      for (const l of OBJECT_HELP) c.out.status(l);
    }, KEYS_META["object|help"]),
  ],
  ["refcount", objectSub("refcount", (c, key, v) => c.out.int(refcountOf(c.server, c.db, key, v)))],
]);

const mk = cmdWithMeta(KEYS_META);

const RO_FAST: CommandFlag[] = ["readonly", "fast"];
const W_FAST: CommandFlag[] = ["write", "fast"];

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  mk("del", -2, ["write"], [1, -1, 1], delGeneric),
  mk("unlink", -2, W_FAST, [1, -1, 1], delGeneric),
  mk("exists", -2, RO_FAST, [1, -1, 1], (c, argv) => {
    let n = 0;
    for (let j = 1; j < argv.length; j++) if (lookupRead(c, argv[j], false) !== undefined) n++;
    c.out.int(n);
  }),
  mk("touch", -2, RO_FAST, [1, -1, 1], (c, argv) => {
    let n = 0;
    for (let j = 1; j < argv.length; j++) if (lookupRead(c, argv[j]) !== undefined) n++;
    c.out.int(n);
  }),
  mk("type", 2, RO_FAST, [1, 1, 1], (c, argv) => {
    const v = lookupRead(c, argv[1], false);
    c.out.status(v === undefined ? "none" : typeName(v));
  }),
  mk("expire", -3, W_FAST, [1, 1, 1], (c, argv) => expireGeneric(c, argv, true, true, false)),
  mk("pexpire", -3, W_FAST, [1, 1, 1], (c, argv) => expireGeneric(c, argv, true, false, false)),
  mk("expireat", -3, W_FAST, [1, 1, 1], (c, argv) => expireGeneric(c, argv, false, true, false)),
  mk("pexpireat", -3, W_FAST, [1, 1, 1], (c, argv) => expireGeneric(c, argv, false, false, true)),
  mk("ttl", 2, RO_FAST, [1, 1, 1], (c, argv) => ttlGeneric(c, argv[1], false, false)),
  mk("pttl", 2, RO_FAST, [1, 1, 1], (c, argv) => ttlGeneric(c, argv[1], true, false)),
  mk("expiretime", 2, RO_FAST, [1, 1, 1], (c, argv) => ttlGeneric(c, argv[1], false, true)),
  mk("pexpiretime", 2, RO_FAST, [1, 1, 1], (c, argv) => ttlGeneric(c, argv[1], true, true)),
  mk("persist", 2, W_FAST, [1, 1, 1], persistCommand),
  mk("rename", 3, ["write"], [1, 2, 1], (c, argv) => renameGeneric(c, argv, false)),
  mk("renamenx", 3, W_FAST, [1, 2, 1], (c, argv) => renameGeneric(c, argv, true)),
  mk("move", 3, W_FAST, [1, 1, 1], moveCommand),
  mk("copy", -3, ["write", "denyoom"], [1, 2, 1], copyCommand),
  { ...mk("object", -2, [], [0, 0, 0], () => {}), subcommands: objectSubs },
  ...dbCommands,
];
