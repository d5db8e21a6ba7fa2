// Stream commands without consumer groups: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM,
// XSETID (Redis 7.0 t_stream.c). Argument order, error texts, dirty counting, keyspace events
// and propagation (XADD's generated ID and `~` trims rewritten to their effective arguments)
// follow Redis. Reading commands (XREAD, XREADGROUP) are in streams_read.ts, consumer groups in
// streams_groups.ts, XINFO in streams_info.ts.
import type { Client } from "../server/client.ts";
import { cmdWithMeta, type CommandSpec } from "./types.ts";
import { E_NOT_INT, E_SYNTAX, parseInteger } from "./util.ts";
import {
  idDecr,
  idIncr,
  idMs,
  idPartNumber,
  idSeq,
  idText,
  MAX_ID,
  type StreamId,
  streamIdFromNumbers,
  StreamValue,
  type TrimArgs,
  ZERO_ID,
} from "../store/stream.ts";
import {
  beforeGroupChange,
  cstr,
  E_NO_SUCH_KEY,
  lookupStream,
  nodeLimits,
  optName,
  parseId,
  parseIntervalId,
  parseStrictId,
  plainRange,
  replyItems,
} from "./streams_util.ts";
import { STREAMS_META } from "./streams_meta.ts";
import { readCommands } from "./streams_read.ts";
import { groupCommands } from "./streams_groups.ts";
import { infoCommands } from "./streams_info.ts";

const E_MAXLEN_MINID =
  "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
const U64_MAX = (1n << 64n) - 1n;
/** STREAM_LISTPACK_MAX_SIZE: the most field/value bytes one entry may hold. */
const MAX_ENTRY_BYTES = 1 << 30;

/** Parsed XADD/XTRIM options (streamAddTrimArgs). */
interface AddTrimArgs {
  trim: TrimArgs | null;
  /** Index of the MAXLEN count / MINID id argument (for the propagated rewrite). */
  trimArgIdx: number;
  id: StreamId;
  idGiven: boolean;
  seqGiven: boolean;
  noMkstream: boolean;
  /** Position of the ID argument (XADD). */
  idPos: number;
}

/** streamParseAddOrTrimArgsOrReply; null after replying the error. */
function parseAddTrim(c: Client, argv: string[], xadd: boolean): AddTrimArgs | null {
  const r: AddTrimArgs = {
    trim: null,
    trimArgIdx: 0,
    id: ZERO_ID,
    idGiven: false,
    seqGiven: true,
    noMkstream: false,
    idPos: 0,
  };
  let strategy: "maxlen" | "minid" | null = null;
  let approx = false;
  let maxlen = 0;
  let minid = ZERO_ID;
  let limit = 0;
  let limitGiven = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = optName(argv[i]);
    if (xadd && opt === "*") break;
    if ((opt === "maxlen" || opt === "minid") && more > 0) {
      if (strategy !== null) {
        c.error(E_MAXLEN_MINID);
        return null;
      }
      approx = false;
      const next = cstr(argv[i + 1]);
      if (more >= 2 && next === "~") {
        approx = true;
        i++;
      } else if (more >= 2 && next === "=") i++;
      if (opt === "maxlen") {
        const n = parseInteger(argv[i + 1]);
        if (n === null) {
          c.error(E_NOT_INT);
          return null;
        }
        if (n < 0) {
          c.error("ERR The MAXLEN argument must be >= 0.");
          return null;
        }
        maxlen = n;
      } else {
        const id = parseStrictId(c, argv[i + 1]);
        if (id === null) return null;
        minid = id;
      }
      i++;
      strategy = opt;
      r.trimArgIdx = i;
    } else if (opt === "limit" && more > 0) {
      const n = parseInteger(argv[i + 1]);
      if (n === null) {
        c.error(E_NOT_INT);
        return null;
      }
      if (n < 0) {
        c.error("ERR The LIMIT argument must be >= 0.");
        return null;
      }
      limit = n;
      limitGiven = true;
      i++;
    } else if (xadd && opt === "nomkstream") {
      r.noMkstream = true;
    } else if (xadd) {
      const p = parseId(c, argv[i], 0n, true, true);
      if (p === null) return null;
      r.id = p.id;
      r.seqGiven = p.seqGiven;
      r.idGiven = true;
      break;
    } else {
      c.error(E_SYNTAX);
      return null;
    }
  }
  r.idPos = i;
  if (limit !== 0 && strategy === null) {
    c.error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return null;
  }
  if (!xadd && strategy === null) {
    c.error("ERR syntax error, XTRIM must be called with a trimming strategy");
    return null;
  }
  if (c.isMaster) {
    // The master rewrote `~` trims to exact ones: never limit them here.
    limit = 0;
  } else if (limitGiven) {
    if (!approx) {
      c.error("ERR syntax error, LIMIT cannot be used without the special ~ option");
      return null;
    }
  } else if (approx) {
    limit = 100 * c.server.config.int("stream-node-max-entries");
    if (limit <= 0) limit = 10000;
    if (limit > 1000000) limit = 1000000;
  } else limit = 0;
  if (strategy !== null) r.trim = { strategy, maxlen, minid, approx, limit };
  return r;
}

/** streamRewriteApproxSpecifier + streamRewriteTrimArgument: `~ n` becomes `= <effective>`. */
function rewriteTrim(argv: string[], s: StreamValue, a: AddTrimArgs): void {
  argv[a.trimArgIdx - 1] = "=";
  if (a.trim!.strategy === "maxlen") argv[a.trimArgIdx] = String(s.length);
  else {
    // streamGetEdgeID(first, with tombstones): the first node's master entry, MAX_ID if empty.
    argv[a.trimArgIdx] = idText(s.nodes.length > 0 ? s.nodes[0].masterId : MAX_ID);
  }
}

/** XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ... */
function xadd(c: Client, argv: string[]): void {
  const a = parseAddTrim(c, argv, true);
  if (a === null) return;
  const fieldPos = a.idPos + 1;
  const nargs = argv.length - fieldPos;
  if (nargs < 2 || nargs % 2 === 1) {
    return c.error("ERR wrong number of arguments for 'xadd' command");
  }
  if (a.idGiven && a.seqGiven && a.id === ZERO_ID) {
    return c.error("ERR The ID specified in XADD must be greater than 0-0");
  }
  const key = argv[1];
  const db = c.db;
  let s = lookupStream(c, key, false);
  if (s === null) return;
  if (s === undefined) {
    if (a.noMkstream) return c.out.null();
    s = new StreamValue();
    db.add(key, s);
  } else db.getForWrite(key);
  if (s.lastId === MAX_ID) {
    return c.error("ERR The stream has exhausted the last possible ID, unable to add more items");
  }
  // streamAppendItem: the new ID.
  let id: StreamId;
  if (a.idGiven) {
    if (a.seqGiven) id = a.id;
    else if (idMs(s.lastId) === idMs(a.id)) {
      if (idSeq(s.lastId) === U64_MAX) {
        // Redis returns C_ERR without setting errno here: the caller reports it as too large.
        return c.error("ERR Elements are too large to be stored");
      }
      id = idIncr(s.lastId)!;
    } else id = a.id;
  } else {
    // streamNextID: the clock, or the last ID plus one when the clock is not ahead of it.
    const now = Date.now();
    const lastMs = idPartNumber(s.lastId, 0);
    id = lastMs >= 0 && now > lastMs ? streamIdFromNumbers(now, 0) : idIncr(s.lastId)!;
  }
  if (id <= s.lastId) {
    return c.error(
      "ERR The ID specified in XADD is equal or smaller than the target stream top item",
    );
  }
  const fv = argv.slice(fieldPos);
  let total = 0;
  for (const x of fv) total += x.length;
  if (total > MAX_ENTRY_BYTES) return c.error("ERR Elements are too large to be stored");
  const [maxEntries, maxBytes] = nodeLimits(c);
  s.addEntry(id, fv, maxEntries, maxBytes);
  const idStr = idText(id);
  c.out.bulk(idStr);
  const server = c.server;
  server.notify("t", "xadd", key, c.dbIndex);
  server.dirty++;
  let rewrite: string[] | null = null;
  if (a.trim !== null) {
    if (s.trim(a.trim, maxEntries, maxBytes) > 0) server.notify("t", "xtrim", key, c.dbIndex);
    if (a.trim.approx) {
      rewrite = argv.slice();
      rewriteTrim(rewrite, s, a);
    }
  }
  if (!a.idGiven || !a.seqGiven) {
    rewrite ??= argv.slice();
    rewrite[a.idPos] = idStr;
  }
  if (rewrite !== null) c.propagateArgv = rewrite;
  if (server.blocking.blockedCount > 0) server.blocking.signal(c.dbIndex, key);
}

/** XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] */
function xtrim(c: Client, argv: string[]): void {
  const a = parseAddTrim(c, argv, false);
  if (a === null) return;
  const key = argv[1];
  const s = lookupStream(c, key, false);
  if (s === null) return;
  if (s === undefined) return c.out.int(0);
  c.db.getForWrite(key);
  const [maxEntries, maxBytes] = nodeLimits(c);
  const deleted = s.trim(a.trim!, maxEntries, maxBytes);
  if (deleted > 0) {
    c.server.notify("t", "xtrim", key, c.dbIndex);
    if (a.trim!.approx) {
      const rewrite = argv.slice();
      rewriteTrim(rewrite, s, a);
      c.propagateArgv = rewrite;
    }
    c.server.dirty += deleted;
  }
  c.out.int(deleted);
}

/** XRANGE / XREVRANGE: bounds ("(" exclusive, "-" "+", "ms" alone), then COUNT. */
function xrangeGeneric(c: Client, argv: string[], rev: boolean): void {
  const startArg = rev ? argv[3] : argv[2];
  const endArg = rev ? argv[2] : argv[3];
  const start = parseIntervalId(c, startArg, 0n);
  if (start === null) return;
  let startId: StreamId | null = start.id;
  if (start.exclude) {
    startId = idIncr(start.id);
    if (startId === null) return c.error("ERR invalid start ID for the interval");
  }
  const end = parseIntervalId(c, endArg, U64_MAX);
  if (end === null) return;
  let endId: StreamId | null = end.id;
  if (end.exclude) {
    endId = idDecr(end.id);
    if (endId === null) return c.error("ERR invalid end ID for the interval");
  }
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if (optName(argv[j]) === "count" && argv.length - j - 1 >= 1) {
      const n = parseInteger(argv[++j]);
      if (n === null) return c.error(E_NOT_INT);
      count = n < 0 ? 0 : n;
    } else return c.error(E_SYNTAX);
  }
  const s = lookupStream(c, argv[1], true);
  if (s === null) return;
  if (s === undefined) return c.out.array(0);
  if (count === 0) return c.out.nullArray();
  replyItems(c, plainRange(s, startId, endId, count === -1 ? 0 : count, rev));
}

/** XLEN key */
function xlen(c: Client, argv: string[]): void {
  const s = lookupStream(c, argv[1], true);
  if (s === null) return;
  c.out.int(s === undefined ? 0 : s.length);
}

/** XDEL key id [id ...] */
function xdel(c: Client, argv: string[]): void {
  const key = argv[1];
  const s = lookupStream(c, key, false);
  if (s === null) return;
  if (s === undefined) return c.out.int(0);
  const ids: StreamId[] = [];
  for (let j = 2; j < argv.length; j++) {
    const id = parseStrictId(c, argv[j]);
    if (id === null) return;
    ids.push(id);
  }
  c.db.getForWrite(key);
  const [maxEntries, maxBytes] = nodeLimits(c);
  let deleted = 0;
  for (const id of ids) {
    if (!s.deleteEntry(id, maxEntries, maxBytes)) continue;
    if (id > s.maxDeletedId) s.maxDeletedId = id;
    deleted++;
  }
  if (deleted > 0) {
    c.server.notify("t", "xdel", key, c.dbIndex);
    c.server.dirty += deleted;
  }
  c.out.int(deleted);
}

/** XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id] */
function xsetid(c: Client, argv: string[]): void {
  const id = parseStrictId(c, argv[2]);
  if (id === null) return;
  let entriesAdded = -1;
  let maxDeleted = ZERO_ID;
  for (let i = 3; i < argv.length; i += 2) {
    const more = argv.length - 1 - i;
    const opt = optName(argv[i]);
    if (opt === "entriesadded" && more > 0) {
      const n = parseInteger(argv[i + 1]);
      if (n === null) return c.error(E_NOT_INT);
      if (n < 0) return c.error("ERR entries_added must be positive");
      entriesAdded = n;
    } else if (opt === "maxdeletedid" && more > 0) {
      const m = parseStrictId(c, argv[i + 1]);
      if (m === null) return;
      if (id < m) {
        return c.error(
          "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
        );
      }
      maxDeleted = m;
    } else return c.error(E_SYNTAX);
  }
  const key = argv[1];
  const s = lookupStream(c, key, false);
  if (s === null) return;
  if (s === undefined) return c.error(E_NO_SUCH_KEY);
  if (s.length > 0) {
    if (id < s.ids[s.length - 1]) {
      return c.error("ERR The ID specified in XSETID is smaller than the target stream top item");
    }
    if (entriesAdded !== -1 && s.length > entriesAdded) {
      return c.error(
        "ERR The entries_added specified in XSETID is smaller than the target stream length",
      );
    }
  }
  beforeGroupChange(c, c.dbIndex, key);
  s.lastId = id;
  if (entriesAdded !== -1) s.entriesAdded = entriesAdded;
  if (maxDeleted !== ZERO_ID) s.maxDeletedId = maxDeleted;
  c.out.status("OK");
  c.server.dirty++;
  c.server.notify("t", "xsetid", key, c.dbIndex);
}

const mk = cmdWithMeta(STREAMS_META);

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  mk("xadd", -5, ["write", "denyoom", "fast"], [1, 1, 1], xadd),
  mk("xrange", -4, ["readonly"], [1, 1, 1], (c, argv) => xrangeGeneric(c, argv, false)),
  mk("xrevrange", -4, ["readonly"], [1, 1, 1], (c, argv) => xrangeGeneric(c, argv, true)),
  mk("xlen", 2, ["readonly", "fast"], [1, 1, 1], xlen),
  mk("xdel", -3, ["write", "fast"], [1, 1, 1], xdel),
  mk("xtrim", -4, ["write"], [1, 1, 1], xtrim),
  mk("xsetid", -3, ["write", "denyoom", "fast"], [1, 1, 1], xsetid),
  ...readCommands,
  ...groupCommands,
  ...infoCommands,
];
