// Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB introspection.
// Delivery and the subscription registry live in lib/server/pubsub.ts.
import { cmd, type CommandSpec, type KeySpec } from "./types.ts";
import { globMatch } from "./util.ts";
import type { Client } from "../server/client.ts";

const PUBSUB_HELP = [
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
];

/** Publishes and forwards the message: over the cluster bus in cluster mode, else to replicas. */
function publishAndPropagate(c: Client, argv: string[], shard: boolean): number {
  const s = c.server;
  const n = shard ? s.pubsub.publishShard(argv[1], argv[2]) : s.pubsub.publish(argv[1], argv[2]);
  if (s.config.bool("cluster-enabled")) s.pubsub.clusterPublish?.(argv[1], argv[2], shard);
  else s.propagate(c.dbIndex, argv, true);
  return n;
}

/** Replies the active channels of a registry, optionally filtered by a glob pattern. */
function channelList(c: Client, reg: Map<string, Set<Client>>, pattern: string | undefined): void {
  const out: string[] = [];
  for (const ch of reg.keys()) if (pattern === undefined || globMatch(pattern, ch)) out.push(ch);
  c.out.bulkArray(out);
}

/** NUMSUB/SHARDNUMSUB: channel, count pairs (a flat array, as Redis replies in both protocols). */
function numsub(c: Client, argv: string[], reg: Map<string, Set<Client>>): void {
  c.out.array((argv.length - 2) * 2);
  for (let i = 2; i < argv.length; i++) {
    c.out.bulk(argv[i]);
    c.out.int(reg.get(argv[i])?.size ?? 0);
  }
}

/** The PUBSUB <sub> wrong-arity reply Redis gives from inside the handler. */
function subSyntaxError(c: Client, argv: string[]): void {
  c.error(
    `ERR unknown subcommand or wrong number of arguments for '${argv[1].slice(0, 128)}'. Try ${
      argv[0].toUpperCase()
    } HELP.`,
  );
}

const sub = (
  name: string,
  arity: number,
  handler: (c: Client, argv: string[]) => void,
  extra: Partial<CommandSpec>,
) =>
  cmd(
    name,
    arity,
    name === "help" ? ["loading", "stale"] : ["pubsub", "loading", "stale"],
    [0, 0, 0],
    handler,
    {
      group: "pubsub",
      categories: name === "help" ? ["slow"] : ["pubsub", "slow"],
      ...extra,
    },
  );

const pubsubSubcommands: CommandSpec[] = [
  sub("channels", -2, (c, argv) => {
    if (argv.length > 3) return subSyntaxError(c, argv);
    channelList(c, c.server.pubsub.channels, argv[2]);
  }, { summary: "List active channels", since: "2.8.0" }),
  sub("numsub", -2, (c, argv) => numsub(c, argv, c.server.pubsub.channels), {
    summary: "Get the count of subscribers for channels",
    since: "2.8.0",
  }),
  sub("numpat", 2, (c) => c.out.int(c.server.pubsub.patterns.size), {
    summary: "Get the count of unique patterns pattern subscriptions",
    since: "2.8.0",
  }),
  sub("shardchannels", -2, (c, argv) => {
    if (argv.length > 3) return subSyntaxError(c, argv);
    channelList(c, c.server.pubsub.shardChannels, argv[2]);
  }, { summary: "List active shard channels", since: "7.0.0" }),
  sub("shardnumsub", -2, (c, argv) => numsub(c, argv, c.server.pubsub.shardChannels), {
    summary: "Get the count of subscribers for shard channels",
    since: "7.0.0",
  }),
  sub("help", 2, (c, argv) => {
    const name = argv[0].toUpperCase();
    c.out.array(PUBSUB_HELP.length + 3);
    c.out.status(`${name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
    for (const line of PUBSUB_HELP) c.out.status(line);
    c.out.status("HELP");
    c.out.status("    Prints this help.");
  }, { summary: "Show helpful text about the different subcommands", since: "6.2.0" }),
];

const SUB_FLAGS: CommandSpec["flags"] = ["pubsub", "noscript", "loading", "stale"];
const PUB_FLAGS: CommandSpec["flags"] = ["pubsub", "loading", "stale", "fast", "may_replicate"];
const SLOW = { group: "pubsub", categories: ["pubsub", "slow"] };
/** Shard channels are "keys" only for cluster routing: Redis marks their key spec not_key. */
const shardSpec = (lastkey: number): KeySpec[] => [
  { flags: ["not_key"], beginSearch: { index: 1 }, findKeys: { lastkey, keystep: 1, limit: 0 } },
];

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("subscribe", -2, SUB_FLAGS, [0, 0, 0], (c, argv) => {
    for (let i = 1; i < argv.length; i++) c.server.pubsub.subscribe("channel", c, argv[i]);
  }, { ...SLOW, summary: "Listen for messages published to the given channels", since: "2.0.0" }),
  cmd("unsubscribe", -1, SUB_FLAGS, [0, 0, 0], (c, argv) => {
    if (argv.length === 1) c.server.pubsub.unsubscribeAll("channel", c);
    else for (let i = 1; i < argv.length; i++) c.server.pubsub.unsubscribe("channel", c, argv[i]);
  }, {
    ...SLOW,
    summary: "Stop listening for messages posted to the given channels",
    since: "2.0.0",
  }),
  cmd("psubscribe", -2, SUB_FLAGS, [0, 0, 0], (c, argv) => {
    for (let i = 1; i < argv.length; i++) c.server.pubsub.subscribe("pattern", c, argv[i]);
  }, {
    ...SLOW,
    summary: "Listen for messages published to channels matching the given patterns",
    since: "2.0.0",
  }),
  cmd("punsubscribe", -1, SUB_FLAGS, [0, 0, 0], (c, argv) => {
    if (argv.length === 1) c.server.pubsub.unsubscribeAll("pattern", c);
    else for (let i = 1; i < argv.length; i++) c.server.pubsub.unsubscribe("pattern", c, argv[i]);
  }, {
    ...SLOW,
    summary: "Stop listening for messages posted to channels matching the given patterns",
    since: "2.0.0",
  }),
  cmd("publish", 3, PUB_FLAGS, [0, 0, 0], (c, argv) => {
    c.out.int(publishAndPropagate(c, argv, false));
  }, {
    group: "pubsub",
    categories: ["pubsub", "fast"],
    summary: "Post a message to a channel",
    since: "2.0.0",
  }),
  cmd("pubsub", -2, [], [0, 0, 0], (c, argv) => subSyntaxError(c, argv), {
    group: "pubsub",
    categories: ["slow"],
    summary: "A container for Pub/Sub commands",
    since: "2.8.0",
    subcommands: new Map(pubsubSubcommands.map((s) => [s.name, s])),
  }),
  cmd("ssubscribe", -2, SUB_FLAGS, [1, -1, 1], (c, argv) => {
    // Shard subscriptions are refused inside EXEC (Redis: DENY BLOCKING client), unlike SUBSCRIBE.
    if (c.inExec) return c.error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    for (let i = 1; i < argv.length; i++) c.server.pubsub.subscribe("shard", c, argv[i]);
  }, {
    ...SLOW,
    keySpecs: shardSpec(-1),
    summary: "Listen for messages published to the given shard channels",
    since: "7.0.0",
  }),
  cmd("sunsubscribe", -1, SUB_FLAGS, [1, -1, 1], (c, argv) => {
    if (argv.length === 1) c.server.pubsub.unsubscribeAll("shard", c);
    else for (let i = 1; i < argv.length; i++) c.server.pubsub.unsubscribe("shard", c, argv[i]);
  }, {
    ...SLOW,
    keySpecs: shardSpec(-1),
    summary: "Stop listening for messages posted to the given shard channels",
    since: "7.0.0",
  }),
  cmd("spublish", 3, PUB_FLAGS, [1, 1, 1], (c, argv) => {
    c.out.int(publishAndPropagate(c, argv, true));
  }, {
    group: "pubsub",
    categories: ["pubsub", "fast"],
    keySpecs: shardSpec(0),
    summary: "Post a message to a shard channel",
    since: "7.0.0",
  }),
];
