// Server commands: COMMAND (command_cmd.ts), TIME, SLOWLOG, MONITOR, MEMORY, SHUTDOWN,
// LATENCY, ROLE, ACL (single "default" user backed by requirepass).
import { cmd, type CommandFlag, type CommandSpec, type Handler } from "./types.ts";
import type { Client } from "../server/client.ts";
import type { Value } from "../store/types.ts";
import { replyHelp } from "./connection.ts";
import { E_SYNTAX, parseInteger } from "./util.ts";
import { commands as commandCmd } from "./command_cmd.ts";
import { commands as aclCmd } from "./acl.ts";
import { memoryFigures } from "./info.ts";
import { streamMemoryUsage, type StreamNodeLimits } from "../persistence/stream_codec.ts";

/** Hooks other subsystems fill in: replication replaces ROLE's reply. */
export const roleHooks = {
  reply: null as null | ((c: Client) => void),
};

/** Estimated bytes used by a value (MEMORY USAGE, DEBUG OBJECT serializedlength fallback);
 * `samples` and `streamNodes` only matter for streams (MEMORY USAGE SAMPLES, stream-node-max-*). */
export function estimateValueSize(
  v: Value,
  samples = 5,
  streamNodes?: StreamNodeLimits,
): number {
  const str = (s: string) => 16 + ((s.length + 8 + 7) & ~7);
  if (typeof v === "string") return str(v);
  switch (v.type) {
    case "hash": {
      let n = 64;
      for (const [f, x] of v.m) n += 24 + str(f) + str(x);
      return n;
    }
    case "list": {
      let n = 64;
      for (let i = 0; i < v.length; i++) n += 11 + v.at(i).length;
      return n;
    }
    case "set": {
      let n = 64;
      for (const m of v.s) n += 24 + str(m);
      return n;
    }
    case "zset": {
      let n = 128;
      for (const [m] of v.dict) n += 48 + str(m);
      return n;
    }
    case "stream":
      return streamMemoryUsage(v, samples, streamNodes);
    default:
      return 256;
  }
}

function sub(
  name: string,
  arity: number,
  flags: CommandFlag[],
  handler: Handler,
  extra: Partial<CommandSpec> = {},
): [string, CommandSpec] {
  return [name, cmd(name, arity, flags, [0, 0, 0], handler, { group: "server", ...extra })];
}

const ADMIN: CommandFlag[] = ["admin", "noscript", "loading", "stale"];
const HELPFLAGS: CommandFlag[] = ["loading", "stale"];

// ---- SLOWLOG ----

const SLOWLOG_HELP = [
  "GET [<count>]",
  "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
  "    Entries are made of:",
  "    id, timestamp, time in microseconds, arguments array, client IP and port,",
  "    client name",
  "LEN",
  "    Return the length of the slowlog.",
  "RESET",
  "    Reset the slowlog.",
];

function slowlogGet(c: Client, argv: string[]): void {
  if (argv.length > 3) {
    return c.error(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try SLOWLOG HELP.`,
    );
  }
  const log = c.server.slowlog;
  let count = 10;
  if (argv.length === 3) {
    const n = parseInteger(argv[2]);
    if (n === null || n < -1) return c.error("ERR count should be greater than or equal to -1");
    count = n === -1 ? log.length : n;
  }
  const entries = log.slice(0, count);
  c.out.array(entries.length);
  for (const e of entries) {
    c.out.array(6);
    c.out.int(e.id);
    c.out.int(e.time);
    c.out.int(e.usec);
    c.out.bulkArray(e.argv);
    c.out.bulk(e.addr);
    c.out.bulk(e.name);
  }
}

const slowlogSubs = new Map<string, CommandSpec>([
  sub("get", -2, ["admin", "loading", "stale"], slowlogGet, {
    tips: ["request_policy:all_nodes", "nondeterministic_output"],
  }),
  sub("len", 2, ["admin", "loading", "stale"], (c) => c.out.int(c.server.slowlog.length), {
    tips: ["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"],
  }),
  sub("reset", 2, ["admin", "loading", "stale"], (c) => {
    c.server.slowlog.length = 0;
    c.out.status("OK");
  }, { tips: ["request_policy:all_nodes", "response_policy:all_succeeded"] }),
  sub("help", 2, HELPFLAGS, (c, argv) => replyHelp(c, argv, SLOWLOG_HELP)),
]);

// ---- MEMORY ----

const MEMORY_HELP = [
  "DOCTOR",
  "    Return memory problems reports.",
  "MALLOC-STATS",
  "    Return internal statistics report from the memory allocator.",
  "PURGE",
  "    Attempt to purge dirty pages for reclamation by the allocator.",
  "STATS",
  "    Return information about the memory usage of the server.",
  "USAGE <key> [SAMPLES <count>]",
  "    Return memory in bytes used by <key> and its value. Nested values are",
  "    sampled up to <count> times (default: 5, 0 means sample all).",
];

function memoryUsage(c: Client, argv: string[]): void {
  let samples = 5;
  for (let j = 3; j < argv.length; j++) {
    if (argv[j].toLowerCase() === "samples" && j + 1 < argv.length) {
      const n = parseInteger(argv[j + 1]);
      if (n === null) return c.error("ERR value is not an integer or out of range");
      if (n < 0) return c.error(E_SYNTAX);
      samples = n;
      j++;
    } else return c.error(E_SYNTAX);
  }
  const key = argv[2];
  if (!c.db.dict.has(key)) return c.out.null();
  const v = c.db.dict.get(key)!;
  const cfg = c.server.config;
  const nodes = {
    maxEntries: cfg.int("stream-node-max-entries"),
    maxBytes: cfg.int("stream-node-max-bytes"),
  };
  c.out.int(estimateValueSize(v, samples, nodes) + 24 + ((key.length + 4 + 7) & ~7));
}

function memoryStats(c: Client): void {
  const s = c.server;
  const { used, rss, peak } = memoryFigures();
  const dbs = s.dbs.filter((d) => d.dict.size || d.expires.size);
  let keys = 0;
  for (const d of s.dbs) keys += d.dict.size;
  const pairs: [string, number][] = [
    ["peak.allocated", peak],
    ["total.allocated", used],
    ["startup.allocated", 0],
    ["replication.backlog", 0],
    ["clients.slaves", 0],
    ["clients.normal", 0],
    ["cluster.links", 0],
    ["aof.buffer", 0],
    ["lua.caches", 0],
    ["functions.caches", 0],
    ["overhead.total", 0],
  ];
  const tail: [string, number, boolean][] = [
    ["keys.count", keys, false],
    ["keys.bytes-per-key", keys ? Math.floor(used / keys) : 0, false],
    ["dataset.bytes", used, false],
    ["dataset.percentage", 100, true],
    ["peak.percentage", peak ? (used * 100) / peak : 100, true],
    ["allocator.allocated", used, false],
    ["allocator.active", used, false],
    ["allocator.resident", rss, false],
    ["allocator-fragmentation.ratio", 1, true],
    ["allocator-fragmentation.bytes", 0, false],
    ["allocator-rss.ratio", used ? rss / used : 1, true],
    ["allocator-rss.bytes", rss - used, false],
    ["rss-overhead.ratio", 1, true],
    ["rss-overhead.bytes", 0, false],
    ["fragmentation", used ? rss / used : 1, true],
    ["fragmentation.bytes", rss - used, false],
  ];
  c.out.map(pairs.length + dbs.length + tail.length);
  for (const [k, v] of pairs) {
    c.out.bulk(k);
    c.out.int(v);
  }
  for (const d of dbs) {
    c.out.bulk(`db.${d.id}`);
    c.out.map(2);
    c.out.bulk("overhead.hashtable.main");
    c.out.int(d.dict.size * 24);
    c.out.bulk("overhead.hashtable.expires");
    c.out.int(d.expires.size * 24);
  }
  for (const [k, v, dbl] of tail) {
    c.out.bulk(k);
    if (dbl) c.out.double(v);
    else c.out.int(v);
  }
}

const SAM =
  "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";

const shardTips = [
  "nondeterministic_output",
  "request_policy:all_shards",
  "response_policy:special",
];

const memorySubs = new Map<string, CommandSpec>([
  sub("doctor", 2, [], (c) => c.out.verbatim(SAM), { tips: shardTips }),
  sub(
    "malloc-stats",
    2,
    [],
    (c) => c.out.verbatim("Stats not supported for the current allocator"),
    {
      tips: shardTips,
    },
  ),
  sub("purge", 2, [], (c) => c.out.status("OK"), {
    tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
  }),
  sub("stats", 2, [], memoryStats, { tips: shardTips }),
  [
    "usage",
    cmd("usage", -3, ["readonly"], [2, 2, 1], memoryUsage, {
      group: "server",
      keySpecs: [{
        flags: ["RO"],
        beginSearch: { index: 2 },
        findKeys: { lastkey: 0, keystep: 1, limit: 0 },
      }],
    }),
  ],
  sub("help", 2, HELPFLAGS, (c, argv) => replyHelp(c, argv, MEMORY_HELP)),
]);

// ---- LATENCY ----

const LATENCY_HELP = [
  "DOCTOR",
  "    Return a human readable latency analysis report.",
  "GRAPH <event>",
  "    Return an ASCII latency graph for the <event> class.",
  "HISTORY <event>",
  "    Return time-latency samples for the <event> class.",
  "LATEST",
  "    Return the latest latency samples for all events.",
  "RESET [<event> ...]",
  "    Reset latency data of one or more <event> classes.",
  "    (default: reset all data for all event classes)",
  "HISTOGRAM [COMMAND ...]",
  "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
  "    If no commands are specified then all histograms are replied.",
];

const LATENCY_DOCTOR_OFF =
  `I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n`;

const nodeTips = ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"];

const latencySubs = new Map<string, CommandSpec>([
  sub("doctor", 2, ADMIN, (c) => {
    if (c.server.config.int("latency-monitor-threshold") === 0) {
      return c.out.verbatim(LATENCY_DOCTOR_OFF);
    }
    c.out.verbatim(
      "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n",
    );
  }, { tips: nodeTips }),
  sub("graph", 3, ADMIN, (c, argv) => c.error(`ERR No samples available for event '${argv[2]}'`), {
    tips: nodeTips,
  }),
  sub("history", 3, ADMIN, (c) => c.out.array(0), { tips: nodeTips }),
  sub("latest", 2, ADMIN, (c) => c.out.array(0), { tips: nodeTips }),
  sub("reset", -2, ADMIN, (c) => c.out.int(0), {
    tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
  }),
  sub("histogram", -2, ADMIN, (c) => c.out.map(0), { tips: nodeTips }),
  sub("help", 2, HELPFLAGS, (c, argv) => replyHelp(c, argv, LATENCY_HELP)),
]);

// ---- SHUTDOWN ----

function shutdown(c: Client, argv: string[]): void {
  let nosave = false, save = false, force = false, abort = false;
  for (const a of argv.slice(1)) {
    const l = a.toLowerCase();
    if (l === "nosave") nosave = true;
    else if (l === "save") save = true;
    else if (l === "now") continue;
    else if (l === "force") force = true;
    else if (l === "abort") abort = true;
    else return c.error(E_SYNTAX);
  }
  if ((abort && argv.length > 2) || (nosave && save)) return c.error(E_SYNTAX);
  if (abort) return c.error("ERR No shutdown in progress.");
  const s = c.server;
  const mode = nosave ? false : save ? true : null;
  s.shutdown(mode).then(async (ok) => {
    if (ok) return;
    if (force && (await s.shutdown(false))) return;
    c.error("ERR Errors trying to SHUTDOWN. Check logs.");
    c.flush();
  });
}

// ---- table ----

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  ...commandCmd,
  ...aclCmd,
  cmd("time", 1, ["loading", "stale", "fast"], [0, 0, 0], (c) => {
    const us = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
    c.out.array(2);
    c.out.bulk(String(us / 1000000n));
    c.out.bulk(String(us % 1000000n));
  }, {
    group: "server",
    since: "2.6.0",
    summary: "Return the current server time",
    complexity: "O(1)",
    tips: ["nondeterministic_output"],
  }),
  cmd(
    "slowlog",
    -2,
    [],
    [0, 0, 0],
    (c, argv) => c.error(`ERR unknown subcommand '${argv[1]}'. Try SLOWLOG HELP.`),
    {
      subcommands: slowlogSubs,
      group: "server",
      since: "2.2.12",
      summary: "A container for slow log commands",
      complexity: "Depends on subcommand.",
    },
  ),
  cmd("monitor", 1, ["admin", "noscript", "loading", "stale"], [0, 0, 0], (c) => {
    if (c.isReplica || c.isMonitor) return;
    c.isMonitor = true;
    c.server.monitors.add(c);
    c.out.status("OK");
  }, {
    group: "server",
    since: "1.0.0",
    summary: "Listen for all requests received by the server in real time",
  }),
  cmd(
    "memory",
    -2,
    [],
    [0, 0, 0],
    (c, argv) => c.error(`ERR unknown subcommand '${argv[1]}'. Try MEMORY HELP.`),
    {
      subcommands: memorySubs,
      group: "server",
      since: "4.0.0",
      summary: "A container for memory diagnostics commands",
      complexity: "Depends on subcommand.",
    },
  ),
  cmd(
    "shutdown",
    -1,
    ["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"],
    [0, 0, 0],
    shutdown,
    {
      group: "server",
      since: "1.0.0",
      summary: "Synchronously save the dataset to disk and then shut down the server",
      complexity:
        "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
    },
  ),
  cmd(
    "latency",
    -2,
    [],
    [0, 0, 0],
    (c, argv) => c.error(`ERR unknown subcommand '${argv[1]}'. Try LATENCY HELP.`),
    {
      subcommands: latencySubs,
      group: "server",
      since: "2.8.13",
      summary: "A container for latency diagnostics commands",
      complexity: "Depends on subcommand.",
    },
  ),
  cmd("role", 1, ["noscript", "loading", "stale", "fast"], [0, 0, 0], (c) => {
    if (roleHooks.reply) return roleHooks.reply(c);
    c.out.array(3);
    c.out.bulk("master");
    c.out.int(0);
    c.out.array(0);
  }, {
    categories: ["admin", "dangerous"],
    group: "server",
    since: "2.8.12",
    summary: "Return the role of the instance in the context of replication",
    complexity: "O(1)",
  }),
];
