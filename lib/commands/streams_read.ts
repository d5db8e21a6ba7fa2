// XREAD and XREADGROUP (Redis 7.0 xreadCommand), including BLOCK. A blocked reader waits on its
// stream keys through the Blocking machinery and is served by XADD (FIFO) with at most COUNT
// entries (1000 when no COUNT was given). A blocked XREADGROUP client gets an error when its
// stream is deleted or overwritten ("UNBLOCKED ...") or its group destroyed ("NOGROUP ...").
// XREADGROUP propagates what it changed as XCLAIM / XGROUP SETID / XGROUP CREATECONSUMER
// commands (wrapped in MULTI/EXEC when there are several), never as itself.
import type { Client } from "../server/client.ts";
import { cmdWithMeta, type CommandSpec } from "./types.ts";
import { E_NOT_INT, E_SYNTAX, parseInteger } from "./util.ts";
import {
  idIncr,
  MAX_ID,
  StreamConsumer,
  type StreamGroup,
  type StreamId,
  StreamValue,
  ZERO_ID,
} from "../store/stream.ts";
import {
  beforeGroupChange,
  cstr,
  groupRead,
  historyRead,
  type Item,
  lookupConsumer,
  lookupStream,
  optName,
  parseStrictId,
  plainRange,
  propagateConsumerCreation,
  type PropInfo,
  replyItems,
} from "./streams_util.ts";
import { STREAMS_META } from "./streams_meta.ts";

const XREAD_BLOCKED_DEFAULT_COUNT = 1000;

/** xreadGetKeys: the keys after STREAMS (half of what follows it). */
export function xreadKeys(argv: string[]): number[] {
  let pos = -1;
  for (let i = 1; i < argv.length; i++) {
    const a = optName(argv[i]);
    if (a === "block" || a === "count") i++;
    else if (a === "group") i += 2;
    else if (a === "noack") continue;
    else if (a === "streams") {
      pos = i;
      break;
    } else break;
  }
  const num = pos === -1 ? 0 : argv.length - pos - 1;
  if (pos === -1 || num === 0 || num % 2 !== 0) return [];
  const out: number[] = [];
  for (let i = pos + 1; i < argv.length - num / 2; i++) out.push(i);
  return out;
}

/** streamCreateConsumer: adds a consumer (dirty, keyspace event); undefined if it exists. */
export function createConsumer(
  c: Client,
  g: StreamGroup,
  name: string,
  key: string,
  dbIndex: number,
): StreamConsumer | undefined {
  if (g.consumers.has(name)) return undefined;
  const cons = new StreamConsumer(name, Date.now());
  g.consumers.set(name, cons);
  c.server.dirty++;
  c.server.notify("t", "xgroup-createconsumer", key, dbIndex);
  return cons;
}

/** The consumer `name` of g, created (and for NOACK reads propagated) when missing. */
function consumerFor(
  c: Client,
  g: StreamGroup,
  name: string,
  noack: boolean,
  p: PropInfo,
): StreamConsumer {
  let cons = lookupConsumer(g, name);
  if (cons === undefined) {
    cons = createConsumer(c, g, name, p.key, p.dbIndex)!;
    if (noack) propagateConsumerCreation(c, p, name);
  }
  return cons;
}

/** Replies the served streams: RESP2 [[key, entries] ...], RESP3 {key: entries ...}. */
function replyStreams(c: Client, served: [string, Item[]][]): void {
  if (c.resp === 2) c.out.array(served.length);
  else c.out.map(served.length);
  for (const [key, items] of served) {
    if (c.resp === 2) c.out.array(2);
    c.out.bulk(key);
    replyItems(c, items);
  }
}

/** XREAD [COUNT count] [BLOCK ms] STREAMS key ... id ... and
 * XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key ... id ... */
function xread(c: Client, argv: string[], xreadgroup: boolean): void {
  let timeout = -1;
  let count = 0;
  let streamsArg = 0;
  let nstreams = 0;
  let noack = false;
  let groupName: string | null = null;
  let consumerName = "";
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const o = optName(argv[i]);
    if (o === "block" && more > 0) {
      i++;
      const n = parseInteger(argv[i]);
      if (n === null) return c.error("ERR timeout is not an integer or out of range");
      if (n < 0) return c.error("ERR timeout is negative");
      timeout = n > 0 ? Date.now() + n : 0;
    } else if (o === "count" && more > 0) {
      i++;
      const n = parseInteger(argv[i]);
      if (n === null) return c.error(E_NOT_INT);
      count = n < 0 ? 0 : n;
    } else if (o === "streams" && more > 0) {
      streamsArg = i + 1;
      nstreams = argv.length - streamsArg;
      if (nstreams % 2 !== 0) {
        return c.error(
          "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        );
      }
      nstreams /= 2;
      break;
    } else if (o === "group" && more >= 2) {
      if (!xreadgroup) {
        return c.error(
          "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
        );
      }
      groupName = argv[i + 1];
      consumerName = argv[i + 2];
      i += 2;
    } else if (o === "noack") {
      if (!xreadgroup) {
        return c.error(
          "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
        );
      }
      noack = true;
    } else return c.error(E_SYNTAX);
  }
  if (streamsArg === 0) return c.error(E_SYNTAX);
  if (xreadgroup && groupName === null) return c.error("ERR Missing GROUP option for XREADGROUP");

  const ids: StreamId[] = [];
  const groups: (StreamGroup | null)[] = [];
  for (let i = streamsArg + nstreams; i < argv.length; i++) {
    const key = argv[i - nstreams];
    const s = lookupStream(c, key, true);
    if (s === null) return;
    let g: StreamGroup | null = null;
    if (groupName !== null) {
      g = s?.groups.get(groupName) ?? null;
      if (g === null) {
        return c.error(
          `NOGROUP No such key '${cstr(key)}' or consumer group '${
            cstr(groupName)
          }' in XREADGROUP with GROUP option`,
        );
      }
    }
    groups.push(g);
    const arg = cstr(argv[i]);
    if (arg === "$") {
      if (xreadgroup) {
        return c.error(
          "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
        );
      }
      ids.push(s !== undefined ? s.lastId : ZERO_ID);
    } else if (arg === ">") {
      if (!xreadgroup) {
        return c.error(
          "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
        );
      }
      ids.push(MAX_ID);
    } else {
      const id = parseStrictId(c, argv[i]);
      if (id === null) return;
      ids.push(id);
    }
  }

  // The command propagates what it changed (XCLAIM ...), never itself.
  c.suppressPropagation = true;
  const server = c.server;
  const ownBatch = xreadgroup && server.beginPropagateBatch();
  const served: [string, Item[]][] = [];
  try {
    for (let i = 0; i < nstreams; i++) {
      const key = argv[streamsArg + i];
      const s = lookupStream(c, key, true);
      if (!(s instanceof StreamValue)) continue;
      let gt = ids[i];
      const g = groups[i];
      let serve = false;
      let history = false;
      if (g !== null) {
        if (gt !== MAX_ID) {
          serve = true;
          history = true;
        } else if (s.length > 0 && s.ids[s.length - 1] > g.lastId) {
          serve = true;
          gt = g.lastId;
        }
      } else if (s.length > 0 && s.ids[s.length - 1] > gt) serve = true;
      if (!serve) continue;
      const start = idIncr(gt) ?? MAX_ID;
      if (g === null) {
        served.push([key, plainRange(s, start, MAX_ID, count, false)]);
        continue;
      }
      beforeGroupChange(c, c.dbIndex, key);
      const p: PropInfo = { dbIndex: c.dbIndex, key, group: groupName! };
      const cons = consumerFor(c, g, consumerName, noack, p);
      served.push([
        key,
        history
          ? historyRead(s, start, count, cons)
          : groupRead(c, s, start, count, g, cons, noack, p),
      ]);
      server.dirty++;
    }
  } finally {
    if (ownBatch) server.endPropagateBatch();
  }
  if (served.length > 0) return replyStreams(c, served);
  if (timeout === -1 || !c.canBlock) return c.out.nullArray();
  blockForStreams(c, argv, streamsArg, nstreams, ids, timeout, {
    count: count !== 0 ? count : XREAD_BLOCKED_DEFAULT_COUNT,
    group: groupName,
    consumer: consumerName,
    noack,
  });
}

/** What a blocked reader needs to be served later. */
interface BlockedRead {
  count: number;
  group: string | null;
  consumer: string;
  noack: boolean;
}

/** Blocks the client on its stream keys (blockForKeys with BLOCKED_STREAM). */
function blockForStreams(
  c: Client,
  argv: string[],
  streamsArg: number,
  nstreams: number,
  ids: StreamId[],
  deadline: number,
  r: BlockedRead,
): void {
  const server = c.server;
  const dbIndex = c.dbIndex;
  // The first ID given for a key wins (dictAdd of a repeated key fails).
  const gtByKey = new Map<string, StreamId>();
  for (let i = 0; i < nstreams; i++) {
    const key = argv[streamsArg + i];
    if (!gtByKey.has(key)) gtByKey.set(key, ids[i]);
  }
  const retry = (key: string): boolean => {
    const v = server.dbs[dbIndex].get(key);
    if (!(v instanceof StreamValue)) {
      if (r.group === null) return false;
      c.error("UNBLOCKED the stream key no longer exists");
      return true;
    }
    let g: StreamGroup | undefined;
    if (r.group !== null) {
      g = v.groups.get(r.group);
      if (g === undefined) {
        c.error("NOGROUP the consumer group this client was blocked on no longer exists");
        return true;
      }
      gtByKey.set(key, g.lastId);
    }
    const gt = gtByKey.get(key)!;
    if (!(v.lastId > gt)) return false;
    const start = idIncr(gt) ?? MAX_ID;
    const prev = server.currentClient;
    server.currentClient = c;
    const ownBatch = server.beginPropagateBatch();
    try {
      let items: Item[];
      if (g === undefined) items = plainRange(v, start, MAX_ID, r.count, false);
      else {
        beforeGroupChange(c, dbIndex, key);
        const p: PropInfo = { dbIndex, key, group: r.group! };
        const cons = consumerFor(c, g, r.consumer, r.noack, p);
        items = groupRead(c, v, start, r.count, g, cons, r.noack, p);
      }
      if (c.resp === 2) {
        c.out.array(1);
        c.out.array(2);
      } else c.out.map(1);
      c.out.bulk(key);
      replyItems(c, items);
    } finally {
      if (ownBatch) server.endPropagateBatch();
      server.currentClient = prev;
    }
    return true;
  };
  server.blocking.block(c, {
    keys: [...gtByKey.keys()],
    db: dbIndex,
    deadline,
    retry,
    onTimeout: () => c.out.nullArray(),
    spec: server.commands.get(argv[0].toLowerCase())!,
    argv,
  });
}

const mk = cmdWithMeta(STREAMS_META);

const xreadSpec = mk("xread", -4, ["readonly", "blocking"], [0, 0, 0], (c, argv) => {
  xread(c, argv, false);
});
xreadSpec.getKeys = xreadKeys;
const xreadgroupSpec = mk("xreadgroup", -7, ["write", "blocking"], [0, 0, 0], (c, argv) => {
  xread(c, argv, true);
});
xreadgroupSpec.getKeys = xreadKeys;

/** XREAD and XREADGROUP. */
export const readCommands: CommandSpec[] = [xreadSpec, xreadgroupSpec];
