// Consumer groups (Redis 7.0 t_stream.c): XGROUP CREATE/SETID/DESTROY/CREATECONSUMER/
// DELCONSUMER/HELP, XACK, XPENDING, XCLAIM, XAUTOCLAIM. None of them signals WATCH (Redis calls
// signalModifiedKey only when XGROUP CREATE MKSTREAM creates the key); XCLAIM and XAUTOCLAIM
// propagate the idempotent XCLAIM form of each change instead of themselves.
import type { Client } from "../server/client.ts";
import { cmdWithMeta, type CommandSpec } from "./types.ts";
import { E_NOT_INT, E_SYNTAX, E_WRONGTYPE, parseInteger } from "./util.ts";
import { lookupRead } from "./keys_access.ts";
import { replyHelp } from "./connection.ts";
import {
  idDecr,
  idIncr,
  idText,
  type StreamConsumer,
  StreamGroup,
  type StreamId,
  type StreamNack,
  StreamValue,
  ZERO_ID,
} from "../store/stream.ts";
import {
  beforeGroupChange,
  cstr,
  type Item,
  lookupConsumer,
  lookupStream,
  optName,
  parseId,
  parseIntervalId,
  parseStrictId,
  propagateGroupId,
  propagateXclaim,
  type PropInfo,
  replyItem,
  sortedIds,
} from "./streams_util.ts";
import { createConsumer } from "./streams_read.ts";
import { STREAMS_META } from "./streams_meta.ts";

const XGROUP_HELP = [
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
];

/** addReplySubcommandSyntaxError */
export function subcommandSyntaxError(c: Client, argv: string[]): void {
  c.error(
    `ERR unknown subcommand or wrong number of arguments for '${
      cstr(argv[1]).slice(0, 128)
    }'. Try ${argv[0].toUpperCase()} HELP.`,
  );
}

/** Removes a NACK from its group's and its consumer's PELs. */
function dropNack(g: StreamGroup, id: StreamId, nack: StreamNack): void {
  g.pel.delete(id);
  nack.consumer.pel.delete(id);
}

/** xgroupCommand: every XGROUP subcommand (arity was checked per subcommand). */
function xgroup(c: Client, argv: string[]): void {
  const opt = optName(argv[1]);
  let s: StreamValue | undefined;
  let g: StreamGroup | undefined;
  let mkstream = false;
  let entriesRead = -1;
  const key = argv[2];
  const groupName = argv[3];
  if (argv.length >= 4) {
    const create = opt === "create";
    const setid = opt === "setid";
    for (let i = 5; i < argv.length;) {
      const o = optName(argv[i]);
      if (create && o === "mkstream") {
        mkstream = true;
        i++;
      } else if ((create || setid) && o === "entriesread" && i + 1 < argv.length) {
        const n = parseInteger(argv[i + 1]);
        if (n === null) return c.error(E_NOT_INT);
        if (n < 0 && n !== -1) return c.error("ERR value for ENTRIESREAD must be positive or -1");
        entriesRead = n;
        i += 2;
      } else return subcommandSyntaxError(c, argv);
    }
    const v = lookupStream(c, key, false);
    if (v === null) return;
    s = v;
  }
  if (argv.length >= 4 && !mkstream) {
    if (s === undefined) {
      return c.error(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
      );
    }
    g = s.groups.get(groupName);
    if (g === undefined && (opt === "setid" || opt === "createconsumer" || opt === "delconsumer")) {
      return c.error(
        `NOGROUP No such consumer group '${cstr(groupName)}' for key name '${cstr(key)}'`,
      );
    }
  }
  const server = c.server;
  const dbIndex = c.dbIndex;
  if (argv.length === 2 && opt === "help") return replyHelp(c, argv, XGROUP_HELP);
  if (opt === "create" && argv.length >= 5 && argv.length <= 8) {
    let id: StreamId;
    if (cstr(argv[4]) === "$") id = s !== undefined ? s.lastId : ZERO_ID;
    else {
      const p = parseStrictId(c, argv[4]);
      if (p === null) return;
      id = p;
    }
    if (s === undefined) {
      s = new StreamValue();
      c.db.add(key, s);
    } else beforeGroupChange(c, dbIndex, key);
    if (s.groups.has(groupName)) return c.error("BUSYGROUP Consumer Group name already exists");
    s.groups.set(groupName, new StreamGroup(id, entriesRead));
    c.out.status("OK");
    server.dirty++;
    server.notify("t", "xgroup-create", key, dbIndex);
  } else if (opt === "setid" && (argv.length === 5 || argv.length === 7)) {
    let id: StreamId;
    if (cstr(argv[4]) === "$") id = s!.lastId;
    else {
      const p = parseId(c, argv[4], 0n, false);
      if (p === null) return;
      id = p.id;
    }
    beforeGroupChange(c, dbIndex, key);
    g!.lastId = id;
    g!.entriesRead = entriesRead;
    c.out.status("OK");
    server.dirty++;
    server.notify("t", "xgroup-setid", key, dbIndex);
  } else if (opt === "destroy" && argv.length === 4) {
    if (g === undefined) return c.out.int(0);
    beforeGroupChange(c, dbIndex, key);
    s!.groups.delete(groupName);
    c.out.int(1);
    server.dirty++;
    server.notify("t", "xgroup-destroy", key, dbIndex);
    // Blocked XREADGROUP clients of this group get -NOGROUP.
    if (server.blocking.blockedCount > 0) server.blocking.signal(dbIndex, key);
  } else if (opt === "createconsumer" && argv.length === 5) {
    if (g!.consumers.has(argv[4])) return c.out.int(0);
    beforeGroupChange(c, dbIndex, key);
    createConsumer(c, g!, argv[4], key, dbIndex);
    c.out.int(1);
  } else if (opt === "delconsumer" && argv.length === 5) {
    const cons = lookupConsumer(g!, argv[4], true);
    let pending = 0;
    if (cons !== undefined) {
      beforeGroupChange(c, dbIndex, key);
      pending = cons.pel.size;
      for (const id of cons.pel.keys()) g!.pel.delete(id);
      g!.consumers.delete(argv[4]);
      server.dirty++;
      server.notify("t", "xgroup-delconsumer", key, dbIndex);
    }
    c.out.int(pending);
  } else subcommandSyntaxError(c, argv);
}

/** XACK key group id [id ...] */
function xack(c: Client, argv: string[]): void {
  const key = argv[1];
  const s = lookupStream(c, key, true);
  if (s === null) return;
  const g = s?.groups.get(argv[2]);
  if (g === undefined) return c.out.int(0);
  const ids: StreamId[] = [];
  for (let j = 3; j < argv.length; j++) {
    const id = parseStrictId(c, argv[j]);
    if (id === null) return;
    ids.push(id);
  }
  beforeGroupChange(c, c.dbIndex, key);
  let acked = 0;
  for (const id of ids) {
    const nack = g.pel.get(id);
    if (nack === undefined) continue;
    dropNack(g, id, nack);
    acked++;
    c.server.dirty++;
  }
  c.out.int(acked);
}

/** XPENDING key group [[IDLE min-idle-time] start end count [consumer]] */
function xpending(c: Client, argv: string[]): void {
  const argc = argv.length;
  const justinfo = argc === 3;
  if (argc !== 3 && (argc < 6 || argc > 9)) return c.error(E_SYNTAX);
  let minidle = 0;
  let count = 0;
  let start = ZERO_ID;
  let end = ZERO_ID;
  let consumerName: string | null = null;
  if (argc >= 6) {
    let startIdx = 3;
    if (optName(argv[3]) === "idle") {
      const n = parseInteger(argv[4]);
      if (n === null) return c.error(E_NOT_INT);
      minidle = n;
      if (argc < 8) return c.error(E_SYNTAX);
      startIdx += 2;
    }
    const n = parseInteger(argv[startIdx + 2]);
    if (n === null) return c.error(E_NOT_INT);
    count = n < 0 ? 0 : n;
    const a = parseIntervalId(c, argv[startIdx], 0n);
    if (a === null) return;
    if (a.exclude) {
      const x = idIncr(a.id);
      if (x === null) return c.error("ERR invalid start ID for the interval");
      start = x;
    } else start = a.id;
    const b = parseIntervalId(c, argv[startIdx + 1], (1n << 64n) - 1n);
    if (b === null) return;
    if (b.exclude) {
      const x = idDecr(b.id);
      if (x === null) return c.error("ERR invalid end ID for the interval");
      end = x;
    } else end = b.id;
    if (startIdx + 3 < argc) consumerName = argv[startIdx + 3];
  }
  const key = argv[1];
  const s = lookupStream(c, key, true);
  if (s === null) return;
  const g = s?.groups.get(argv[2]);
  if (g === undefined) {
    return c.error(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(argv[2])}'`);
  }
  if (justinfo) {
    c.out.array(4);
    c.out.int(g.pel.size);
    if (g.pel.size === 0) {
      c.out.null();
      c.out.null();
      c.out.nullArray();
      return;
    }
    const ids = sortedIds(g.pel);
    c.out.bulk(idText(ids[0]));
    c.out.bulk(idText(ids[ids.length - 1]));
    const withPending = [...g.consumers.keys()].sort().map((n) => g.consumers.get(n)!)
      .filter((cons) => cons.pel.size > 0);
    c.out.array(withPending.length);
    for (const cons of withPending) {
      c.out.array(2);
      c.out.bulk(cons.name);
      c.out.bulk(String(cons.pel.size));
    }
    return;
  }
  let pel = g.pel;
  if (consumerName !== null) {
    const cons = lookupConsumer(g, consumerName, true);
    if (cons === undefined) return c.out.array(0);
    pel = cons.pel;
  }
  const now = Date.now();
  const rows: [StreamId, StreamNack][] = [];
  for (const id of sortedIds(pel)) {
    if (count === 0) break;
    if (id < start) continue;
    if (id > end) break;
    const nack = pel.get(id)!;
    if (minidle !== 0 && now - nack.deliveryTime < minidle) continue;
    rows.push([id, nack]);
    count--;
  }
  c.out.array(rows.length);
  for (const [id, nack] of rows) {
    c.out.array(4);
    c.out.bulk(idText(id));
    c.out.bulk(nack.consumer.name);
    c.out.int(Math.max(0, now - nack.deliveryTime));
    c.out.int(nack.deliveryCount);
  }
}

/** The consumer `name`, created when missing (XCLAIM / XAUTOCLAIM). */
function claimingConsumer(c: Client, g: StreamGroup, name: string, key: string): StreamConsumer {
  return lookupConsumer(g, name) ?? createConsumer(c, g, name, key, c.dbIndex)!;
}

/** Moves a NACK to `cons` (or gives a fresh FORCE one its first owner). */
function assignNack(g: StreamGroup, id: StreamId, nack: StreamNack, cons: StreamConsumer): void {
  if (nack.consumer !== cons) {
    nack.consumer.pel.delete(id);
    cons.pel.set(id, nack);
    nack.consumer = cons;
  }
  g.pel.set(id, nack);
}

/** XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms] [RETRYCOUNT n]
 * [FORCE] [JUSTID] [LASTID id] */
function xclaim(c: Client, argv: string[]): void {
  const key = argv[1];
  const s = lookupStream(c, key, true);
  if (s === null) return;
  const g = s?.groups.get(argv[2]);
  if (s === undefined || g === undefined) {
    return c.error(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(argv[2])}'`);
  }
  let minidle = parseInteger(argv[4]);
  if (minidle === null) return c.error("ERR Invalid min-idle-time argument for XCLAIM");
  if (minidle < 0) minidle = 0;
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const id = parseStrictId(null, argv[j]);
    if (id === null) break;
    ids.push(id);
  }
  const now = Date.now();
  let deliveryTime = -1;
  let retryCount = -1;
  let force = false;
  let justid = false;
  let lastId = ZERO_ID;
  for (; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const o = optName(argv[j]);
    if (o === "force") force = true;
    else if (o === "justid") justid = true;
    else if (o === "idle" && more > 0) {
      const n = parseInteger(argv[++j]);
      if (n === null) return c.error("ERR Invalid IDLE option argument for XCLAIM");
      deliveryTime = now - n;
    } else if (o === "time" && more > 0) {
      const n = parseInteger(argv[++j]);
      if (n === null) return c.error("ERR Invalid TIME option argument for XCLAIM");
      deliveryTime = n;
    } else if (o === "retrycount" && more > 0) {
      const n = parseInteger(argv[++j]);
      if (n === null) return c.error("ERR Invalid RETRYCOUNT option argument for XCLAIM");
      retryCount = n;
    } else if (o === "lastid" && more > 0) {
      const id = parseStrictId(c, argv[++j]);
      if (id === null) return;
      lastId = id;
    } else return c.error(`ERR Unrecognized XCLAIM option '${cstr(argv[j])}'`);
  }
  beforeGroupChange(c, c.dbIndex, key);
  const server = c.server;
  c.suppressPropagation = true;
  const ownBatch = server.beginPropagateBatch();
  const p: PropInfo = { dbIndex: c.dbIndex, key, group: argv[2] };
  const out: (Item | StreamId)[] = [];
  try {
    let propagateLastId = false;
    if (lastId > g.lastId) {
      g.lastId = lastId;
      propagateLastId = true;
    }
    if (deliveryTime !== -1) {
      if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
    } else deliveryTime = now;
    let cons: StreamConsumer | undefined;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      let nack = g.pel.get(id);
      const at = s.indexOf(id);
      if (at < 0) {
        if (nack !== undefined) {
          propagateXclaim(c, p, g, argv[5 + k], nack);
          propagateLastId = false;
          server.dirty++;
          dropNack(g, id, nack);
        }
        continue;
      }
      let fresh = false;
      if (force && nack === undefined) fresh = true;
      else if (nack === undefined) continue;
      if (!fresh && minidle !== 0 && now - nack!.deliveryTime < minidle) continue;
      cons ??= claimingConsumer(c, g, argv[3], key);
      if (fresh) {
        nack = { deliveryTime: now, deliveryCount: 1, consumer: cons };
        cons.pel.set(id, nack);
      }
      assignNack(g, id, nack!, cons);
      nack!.deliveryTime = deliveryTime;
      if (retryCount >= 0) nack!.deliveryCount = retryCount;
      else if (!justid) nack!.deliveryCount++;
      out.push(justid ? id : [id, s.entries[at]]);
      propagateXclaim(c, p, g, argv[5 + k], nack!);
      propagateLastId = false;
      server.dirty++;
    }
    if (propagateLastId) {
      propagateGroupId(c, p, g);
      server.dirty++;
    }
  } finally {
    if (ownBatch) server.endPropagateBatch();
  }
  c.out.array(out.length);
  for (const x of out) {
    if (typeof x === "string") c.out.bulk(idText(x));
    else replyItem(c, x);
  }
}

/** XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID] */
function xautoclaim(c: Client, argv: string[]): void {
  const key = argv[1];
  const v = lookupRead(c, key);
  let minidle = parseInteger(argv[4]);
  if (minidle === null) return c.error("ERR Invalid min-idle-time argument for XAUTOCLAIM");
  if (minidle < 0) minidle = 0;
  const a = parseIntervalId(c, argv[5], 0n);
  if (a === null) return;
  let start = a.id;
  if (a.exclude) {
    const x = idIncr(a.id);
    if (x === null) return c.error("ERR invalid start ID for the interval");
    start = x;
  }
  let count = 100;
  let justid = false;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const o = optName(argv[j]);
    if (o === "count" && more > 0) {
      const n = parseInteger(argv[j + 1]);
      if (n === null || n < 1 || n > 576460752303423487) {
        return c.error("ERR COUNT must be > 0");
      }
      count = n;
      j++;
    } else if (o === "justid") justid = true;
    else return c.error(E_SYNTAX);
  }
  if (v !== undefined && !(v instanceof StreamValue)) return c.error(E_WRONGTYPE);
  const s = v;
  const g = s?.groups.get(argv[2]);
  if (s === undefined || g === undefined) {
    return c.error(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(argv[2])}'`);
  }
  // Redis allocates COUNT stream IDs up front: past the 47-bit address space that fails.
  if (count * 16 > 2 ** 47) {
    return c.error("ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
  }
  // Redis allocates COUNT stream IDs up front: past the 47-bit address space that fails.
  if (count * 16 > 2 ** 47) {
    return c.error("ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
  }
  beforeGroupChange(c, c.dbIndex, key);
  const server = c.server;
  c.suppressPropagation = true;
  const ownBatch = server.beginPropagateBatch();
  const p: PropInfo = { dbIndex: c.dbIndex, key, group: argv[2] };
  const claimed: (Item | StreamId)[] = [];
  const deleted: StreamId[] = [];
  let cursor = ZERO_ID;
  try {
    const pelIds = sortedIds(g.pel);
    let k = pelIds.findIndex((id) => id >= start);
    if (k < 0) k = pelIds.length;
    let attempts = count * 10;
    const now = Date.now();
    let cons: StreamConsumer | undefined;
    while (attempts-- > 0 && count > 0 && k < pelIds.length) {
      const id = pelIds[k++];
      const nack = g.pel.get(id)!;
      const at = s.indexOf(id);
      if (at < 0) {
        propagateXclaim(c, p, g, idText(id), nack);
        server.dirty++;
        dropNack(g, id, nack);
        deleted.push(id);
        count--;
        continue;
      }
      if (minidle !== 0 && now - nack.deliveryTime < minidle) continue;
      cons ??= claimingConsumer(c, g, argv[3], key);
      assignNack(g, id, nack, cons);
      nack.deliveryTime = now;
      if (!justid) nack.deliveryCount++;
      claimed.push(justid ? id : [id, s.entries[at]]);
      count--;
      propagateXclaim(c, p, g, idText(id), nack);
      server.dirty++;
    }
    if (k < pelIds.length) cursor = pelIds[k];
  } finally {
    if (ownBatch) server.endPropagateBatch();
  }
  c.out.array(3);
  c.out.bulk(idText(cursor));
  c.out.array(claimed.length);
  for (const x of claimed) {
    if (typeof x === "string") c.out.bulk(idText(x));
    else replyItem(c, x);
  }
  c.out.array(deleted.length);
  for (const id of deleted) c.out.bulk(idText(id));
}

const mk = cmdWithMeta(STREAMS_META);

const sub = (name: string, arity: number, flags: CommandSpec["flags"]): CommandSpec => {
  const spec = mk(`xgroup|${name}`, arity, flags, name === "help" ? [0, 0, 0] : [2, 2, 1], xgroup);
  spec.name = name;
  return spec;
};

/** XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM. */
export const groupCommands: CommandSpec[] = [
  mk("xgroup", -2, [], [0, 0, 0], (c, argv) => subcommandSyntaxError(c, argv)),
  mk("xack", -4, ["write", "fast"], [1, 1, 1], xack),
  mk("xpending", -3, ["readonly"], [1, 1, 1], xpending),
  mk("xclaim", -6, ["write", "fast"], [1, 1, 1], xclaim),
  mk("xautoclaim", -6, ["write", "fast"], [1, 1, 1], xautoclaim),
];
groupCommands[0].subcommands = new Map([
  ["create", sub("create", -5, ["write", "denyoom"])],
  ["setid", sub("setid", -5, ["write"])],
  ["destroy", sub("destroy", 4, ["write"])],
  ["createconsumer", sub("createconsumer", 5, ["write", "denyoom"])],
  ["delconsumer", sub("delconsumer", 5, ["write"])],
  ["help", sub("help", 2, ["loading", "stale"])],
]);
