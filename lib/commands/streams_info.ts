// XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO HELP (Redis 7.0
// xinfoCommand): maps in RESP3, flat arrays in RESP2, fields in Redis's order.
import type { Client } from "../server/client.ts";
import { cmdWithMeta, type CommandSpec } from "./types.ts";
import { E_NOT_INT, parseInteger } from "./util.ts";
import { replyHelp } from "./connection.ts";
import { idText, MAX_ID, type StreamGroup, type StreamValue, ZERO_ID } from "../store/stream.ts";
import {
  cstr,
  E_NO_SUCH_KEY,
  groupLag,
  lookupStream,
  nodeLimits,
  optName,
  plainRange,
  replyItem,
  replyItems,
  sortedIds,
} from "./streams_util.ts";
import { subcommandSyntaxError } from "./streams_groups.ts";
import { STREAMS_META } from "./streams_meta.ts";

const XINFO_HELP = [
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
];

function field(c: Client, name: string): void {
  c.out.bulk(name);
}

/** entries-read, or null when unknown. */
function replyEntriesRead(c: Client, g: StreamGroup): void {
  if (g.entriesRead !== -1) c.out.int(g.entriesRead);
  else c.out.null();
}

function replyLag(c: Client, s: StreamValue, g: StreamGroup): void {
  const lag = groupLag(s, g);
  if (lag === null) c.out.null();
  else c.out.int(lag);
}

/** Groups (or consumers) in name order, as Redis's rax iterates them. */
function byName<T>(m: Map<string, T>): [string, T][] {
  return [...m.keys()].sort().map((k) => [k, m.get(k)!]);
}

/** xinfoReplyWithStreamInfo */
function streamInfo(c: Client, argv: string[], s: StreamValue): void {
  let full = true;
  let count = 10;
  const optc = argv.length - 3;
  if (optc === 0) full = false;
  else {
    if (optc !== 1 && optc !== 3) return subcommandSyntaxError(c, argv);
    if (optName(argv[3]) !== "full") return subcommandSyntaxError(c, argv);
    if (optc === 3) {
      if (optName(argv[4]) !== "count") return subcommandSyntaxError(c, argv);
      const n = parseInteger(argv[5]);
      if (n === null) return c.error(E_NOT_INT);
      count = n < 0 ? 10 : n;
    }
  }
  const [maxEntries, maxBytes] = nodeLimits(c);
  s.ensureNodes(maxEntries, maxBytes);
  c.out.map(full ? 9 : 10);
  field(c, "length");
  c.out.int(s.length);
  field(c, "radix-tree-keys");
  c.out.int(s.nodes.length);
  field(c, "radix-tree-nodes");
  c.out.int(s.raxNodeCount());
  field(c, "last-generated-id");
  c.out.bulk(idText(s.lastId));
  field(c, "max-deleted-entry-id");
  c.out.bulk(idText(s.maxDeletedId));
  field(c, "entries-added");
  c.out.int(s.entriesAdded);
  field(c, "recorded-first-entry-id");
  c.out.bulk(idText(s.firstId));
  if (!full) {
    field(c, "groups");
    c.out.int(s.groups.size);
    field(c, "first-entry");
    const first = plainRange(s, ZERO_ID, MAX_ID, 1, false);
    if (first.length > 0) replyItem(c, first[0]);
    else c.out.null();
    field(c, "last-entry");
    const last = plainRange(s, ZERO_ID, MAX_ID, 1, true);
    if (last.length > 0) replyItem(c, last[0]);
    else c.out.null();
    return;
  }
  field(c, "entries");
  replyItems(c, plainRange(s, ZERO_ID, MAX_ID, count, false));
  field(c, "groups");
  c.out.array(s.groups.size);
  for (const [name, g] of byName(s.groups)) {
    c.out.map(7);
    field(c, "name");
    c.out.bulk(name);
    field(c, "last-delivered-id");
    c.out.bulk(idText(g.lastId));
    field(c, "entries-read");
    replyEntriesRead(c, g);
    field(c, "lag");
    replyLag(c, s, g);
    field(c, "pel-count");
    c.out.int(g.pel.size);
    field(c, "pending");
    const pel = sortedIds(g.pel, count);
    c.out.array(pel.length);
    for (const id of pel) {
      const nack = g.pel.get(id)!;
      c.out.array(4);
      c.out.bulk(idText(id));
      c.out.bulk(nack.consumer.name);
      c.out.int(nack.deliveryTime);
      c.out.int(nack.deliveryCount);
    }
    field(c, "consumers");
    c.out.array(g.consumers.size);
    for (const [cname, cons] of byName(g.consumers)) {
      c.out.map(4);
      field(c, "name");
      c.out.bulk(cname);
      field(c, "seen-time");
      c.out.int(cons.seenTime);
      field(c, "pel-count");
      c.out.int(cons.pel.size);
      field(c, "pending");
      const cpel = sortedIds(cons.pel, count);
      c.out.array(cpel.length);
      for (const id of cpel) {
        const nack = cons.pel.get(id)!;
        c.out.array(3);
        c.out.bulk(idText(id));
        c.out.int(nack.deliveryTime);
        c.out.int(nack.deliveryCount);
      }
    }
  }
}

/** xinfoCommand: every XINFO subcommand (arity was checked per subcommand). */
function xinfo(c: Client, argv: string[]): void {
  const opt = optName(argv[1]);
  if (opt === "help") {
    if (argv.length !== 2) return subcommandSyntaxError(c, argv);
    return replyHelp(c, argv, XINFO_HELP);
  }
  if (argv.length < 3) return subcommandSyntaxError(c, argv);
  const key = argv[2];
  const s = lookupStream(c, key, true);
  if (s === null) return;
  if (s === undefined) return c.error(E_NO_SUCH_KEY);
  if (opt === "consumers" && argv.length === 4) {
    const g = s.groups.get(argv[3]);
    if (g === undefined) {
      return c.error(
        `NOGROUP No such consumer group '${cstr(argv[3])}' for key name '${cstr(key)}'`,
      );
    }
    const now = Date.now();
    c.out.array(g.consumers.size);
    for (const [name, cons] of byName(g.consumers)) {
      c.out.map(3);
      field(c, "name");
      c.out.bulk(name);
      field(c, "pending");
      c.out.int(cons.pel.size);
      field(c, "idle");
      c.out.int(Math.max(0, now - cons.seenTime));
    }
  } else if (opt === "groups" && argv.length === 3) {
    c.out.array(s.groups.size);
    for (const [name, g] of byName(s.groups)) {
      c.out.map(6);
      field(c, "name");
      c.out.bulk(name);
      field(c, "consumers");
      c.out.int(g.consumers.size);
      field(c, "pending");
      c.out.int(g.pel.size);
      field(c, "last-delivered-id");
      c.out.bulk(idText(g.lastId));
      field(c, "entries-read");
      replyEntriesRead(c, g);
      field(c, "lag");
      replyLag(c, s, g);
    }
  } else if (opt === "stream") streamInfo(c, argv, s);
  else subcommandSyntaxError(c, argv);
}

const mk = cmdWithMeta(STREAMS_META);

const sub = (name: string, arity: number, flags: CommandSpec["flags"]): CommandSpec => {
  const spec = mk(`xinfo|${name}`, arity, flags, name === "help" ? [0, 0, 0] : [2, 2, 1], xinfo);
  spec.name = name;
  return spec;
};

/** XINFO and its subcommands. */
export const infoCommands: CommandSpec[] = [
  mk("xinfo", -2, [], [0, 0, 0], (c, argv) => subcommandSyntaxError(c, argv)),
];
infoCommands[0].subcommands = new Map([
  ["consumers", sub("consumers", 4, ["readonly"])],
  ["groups", sub("groups", 3, ["readonly"])],
  ["help", sub("help", 2, ["loading", "stale"])],
  ["stream", sub("stream", -3, ["readonly"])],
]);
