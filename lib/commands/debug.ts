// DEBUG: a container whose subcommands other modules may extend (persistence adds RELOAD).
// The digest scheme lives in debug_digest.ts.
import { cmd, type CommandSpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import type { Value } from "../store/types.ts";
import { datasetDigest, hex, xorValueDigest } from "./debug_digest.ts";

export { datasetDigest, xorValueDigest } from "./debug_digest.ts";
import { replyHelp } from "./connection.ts";
import { parseMemory } from "../config/directives.ts";
import { parseInteger } from "./util.ts";
import { encodingOf, idleMs, refcountOf } from "./keys_access.ts";
import { lruClock } from "./info.ts";
import { estimateValueSize } from "./server_cmds.ts";
import { rewriteConfigFile } from "../config/rewrite.ts";
import { log } from "../log.ts";

/** A DEBUG subcommand handler; argv is the full command line (argv[1] is the subcommand). */
export type DebugHandler = (c: Client, argv: string[]) => void;

/** DEBUG subcommands by lower-case name; other modules add theirs at import time. */
export const debugSubcommands = new Map<string, DebugHandler>();

/** Hooks other subsystems fill in. */
export const debugHooks = {
  /** Persistence: RDB serialized length of a value (DEBUG OBJECT serializedlength). */
  serializedLength: null as null | ((v: Value) => number),
  /** Replication: DEBUG CHANGE-REPL-ID. */
  changeReplId: null as null | ((server: Server) => void),
  /** Cluster: DEBUG CLUSTERLINK KILL to|from|all <node-id>; returns an error text or null. */
  clusterLinkKill: null as
    | null
    | ((server: Server, direction: string, nodeId: string) => string | null),
};

/** Knobs DEBUG sets that other subsystems read (cluster bus, RESTORE, lists). */
export const debugState = {
  /** DEBUG DROP-CLUSTER-PACKET-FILTER: cluster bus packet type to drop, -1 = none. */
  dropClusterPacketFilter: -1,
  /** DEBUG SET-SKIP-CHECKSUM-VALIDATION. */
  skipChecksumValidation: false,
  /** DEBUG QUICKLIST-PACKED-THRESHOLD, bytes. */
  quicklistPackedThreshold: 1 << 30,
  /** DEBUG REPLYBUFFER PEAK-RESET-TIME (ms, -1 never) and RESIZING. */
  replyBufferPeakResetTime: 5000,
  replyBufferResizing: true,
  /** DEBUG PAUSE-CRON and AOF-FLUSH-SLEEP. */
  pauseCron: false,
  aofFlushSleep: 0,
};

/** The reply for an unknown DEBUG subcommand or a wrong argument count, as Redis words it. */
export function debugSyntaxError(c: Client, argv: string[]): void {
  c.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`);
}

// ---- DEBUG OBJECT ----

function fakeAddress(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619) >>> 0;
  return "0x7f" + (h * 16).toString(16).padStart(10, "0");
}

/** A rough RDB length when persistence did not install the exact one. */
function roughSerializedLength(v: Value): number {
  const lenPrefix = (n: number) => (n < 64 ? 1 : n < 16384 ? 2 : 5);
  if (typeof v === "string") {
    const n = parseInteger(v);
    if (n !== null && v.length <= 11) {
      return n >= -128 && n <= 127 ? 2 : n >= -32768 && n <= 32767 ? 3 : 5;
    }
    return lenPrefix(v.length) + v.length;
  }
  return estimateValueSize(v);
}

function debugObject(c: Client, argv: string[]): void {
  if (argv.length !== 3) return debugSyntaxError(c, argv);
  const key = argv[2];
  const v = c.db.dict.get(key);
  if (v === undefined) return c.error("ERR no such key");
  const enc = encodingOf(c.db, key, v);
  const ser = debugHooks.serializedLength
    ? debugHooks.serializedLength(v)
    : roughSerializedLength(v);
  const idle = idleMs(c.db, key);
  let extra = "";
  if (typeof v !== "string" && v.type === "list") {
    const fill = c.server.config.int("list-max-listpack-size");
    let size = 0;
    for (let i = 0; i < v.length; i++) size += v.at(i).length + 2;
    const nodeBytes = fill < 0 ? 4096 << Math.min(4, -fill - 1) : 0;
    const nodes = Math.max(1, fill > 0 ? Math.ceil(v.length / fill) : Math.ceil(size / nodeBytes));
    size += nodes * 7;
    extra =
      ` ql_nodes:${nodes} ql_avg_node:${(v.length / nodes).toFixed(2)} ql_listpack_max:${fill}` +
      ` ql_compressed:${
        c.server.config.int("list-compress-depth") !== 0 ? 1 : 0
      } ql_uncompressed_size:${size}`;
  }
  c.out.status(
    `Value at:${fakeAddress(key)} refcount:${refcountOf(c.server, c.db, key, v)} encoding:${enc} ` +
      `serializedlength:${ser} lru:${lruClock(Date.now() - idle)} lru_seconds_idle:${
        Math.floor(idle / 1000)
      }${extra}`,
  );
}

// ---- other subcommands ----

function populate(c: Client, argv: string[]): void {
  if (argv.length < 3 || argv.length > 5) return debugSyntaxError(c, argv);
  const count = parseInteger(argv[2]);
  if (count === null || count < 0) return c.error("ERR value is out of range, must be positive");
  let size = 0;
  if (argv.length === 5) {
    const n = parseInteger(argv[4]);
    if (n === null || n < 0) return c.error("ERR value is out of range, must be positive");
    size = n;
  }
  const prefix = argv.length >= 4 ? argv[3] : "key";
  for (let j = 0; j < count; j++) {
    const key = `${prefix}:${j}`;
    if (c.db.get(key) !== undefined) continue;
    let val = `value:${j}`;
    if (size > 0) {
      val = size <= val.length ? val.slice(0, size) : val + "\0".repeat(size - val.length);
    }
    c.db.add(key, val);
  }
  c.out.status("OK");
}

function protocol(c: Client, argv: string[]): void {
  if (argv.length !== 3) return debugSyntaxError(c, argv);
  const o = c.out;
  switch (argv[2].toLowerCase()) {
    case "string":
      return o.bulk("Hello World");
    case "integer":
      return o.int(12345);
    case "double":
      return o.double(3.141);
    case "bignum":
      if (c.resp === 3) return o.raw("(1234567999999999999999999999999999999\r\n");
      return o.bulk("1234567999999999999999999999999999999");
    case "null":
      return o.null();
    case "array":
      o.array(3);
      for (let j = 0; j < 3; j++) o.int(j);
      return;
    case "set":
      o.set(3);
      for (let j = 0; j < 3; j++) o.int(j);
      return;
    case "map":
      o.map(3);
      for (let j = 0; j < 3; j++) {
        o.int(j);
        o.bool(j === 1);
      }
      return;
    case "attrib":
      if (c.resp === 3) {
        o.raw("|1\r\n");
        o.bulk("key-popularity");
        o.array(2);
        o.bulk("key:123");
        o.int(90);
      }
      return o.bulk("Some real reply following the attribute");
    case "push":
      if (c.resp < 3) return c.error("ERR RESP2 is not supported by this command");
      o.push(2);
      o.bulk("server-cpu-usage");
      o.int(42);
      return o.bulk("Some real reply following the push reply");
    case "true":
      return o.bool(true);
    case "false":
      return o.bool(false);
    case "verbatim":
      return o.verbatim("This is a verbatim\nstring");
    default:
      c.error(
        "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
      );
  }
}

/** Blocks the whole process like Redis's nanosleep in DEBUG SLEEP. */
function blockingSleep(ms: number): void {
  if (ms <= 0) return;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(cell, 0, 0, ms);
}

/** Leading float like C's strtod (junk after the number is ignored, none gives 0). */
function strtod(s: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(s);
  return m ? Number(m[0]) : 0;
}

function atoi(s: string): number {
  const m = /^\s*[+-]?\d+/.exec(s);
  return m ? parseInt(m[0], 10) : 0;
}

function exactly(n: number, fn: DebugHandler): DebugHandler {
  return (c, argv) => (argv.length === n ? fn(c, argv) : debugSyntaxError(c, argv));
}

const ok = (c: Client) => c.out.status("OK");

const HELP = [
  "AOF-FLUSH-SLEEP <microsec>",
  "    Server will sleep before flushing the AOF, this is used for testing.",
  "CHANGE-REPL-ID",
  "    Change the replication IDs of the instance.",
  "    Dangerous: should be used only for testing the replication subsystem.",
  "CONFIG-REWRITE-FORCE-ALL",
  "    Like CONFIG REWRITE but writes all configuration options, including",
  "    keywords not listed in original configuration file or default values.",
  "DIGEST",
  "    Output a hex signature representing the current DB content.",
  "DIGEST-VALUE <key> [<key> ...]",
  "    Output a hex signature of the values of all the specified keys.",
  "ERROR <string>",
  "    Return a Redis protocol error with <string> as message. Useful for clients",
  "    unit tests to simulate Redis errors.",
  "LOG <message>",
  "    Write <message> to the server log.",
  "JMAP",
  "    Log a summary of the JavaScript heap (tsredis).",
  "OBJECT <key>",
  "    Show low level info about `key` and associated value.",
  "DROP-CLUSTER-PACKET-FILTER <packet-type>",
  "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
  "POPULATE <count> [<prefix>] [<size>]",
  "    Create <count> string keys named key:<num>. If <prefix> is specified then",
  "    it is used instead of the 'key' prefix. These are not propagated to",
  "    replicas. Cluster slots are not respected so keys not belonging to the",
  "    current node can be created in cluster mode.",
  "PROTOCOL <type>",
  "    Reply with a test value of the specified type. <type> can be: string,",
  "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
  "    true, false.",
  "RELOAD [option ...]",
  "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
  "    * MERGE: conflicting keys will be loaded from RDB.",
  "    * NOFLUSH: the existing database will not be removed before load, but",
  "      conflicting keys will generate an exception and kill the server.",
  "    * NOSAVE: the database will be loaded from an existing RDB file.",
  "SET-ACTIVE-EXPIRE <0|1>",
  "    Setting it to 0 disables expiring keys in background when they are not",
  "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
  "    default.",
  "QUICKLIST-PACKED-THRESHOLD <size>",
  "    Sets the threshold for elements to be inserted as plain vs packed nodes",
  "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
  "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
  "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
  "STRINGMATCH-TEST",
  "    Run a fuzz tester against the stringmatchlen() function.",
  "PAUSE-CRON <0|1>",
  "    Stop periodic cron job processing.",
  "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
  "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
  "    In case NEVER is provided the last observed peak will never be reset",
  "    In case RESET is provided the peak reset time will be restored to the default value",
  "REPLYBUFFER RESIZING <0|1>",
  "    Enable or disable the reply buffer resize cron job",
  "CLUSTERLINK KILL <to|from|all> <node-id>",
  "    Kills the link based on the direction to/from (both) with the provided node.",
];

const builtins: [string, DebugHandler][] = [
  ["help", exactly(2, (c, argv) => replyHelp(c, argv, HELP))],
  [
    "log",
    exactly(3, (c, argv) => {
      log.warning(`DEBUG LOG: ${argv[2]}`);
      ok(c);
    }),
  ],
  ["error", exactly(3, (c, argv) => c.error(argv[2].replace(/[\r\n]/g, " ")))],
  [
    "sleep",
    exactly(3, (c, argv) => {
      blockingSleep(Math.floor(strtod(argv[2]) * 1000));
      ok(c);
    }),
  ],
  [
    "set-active-expire",
    exactly(3, (c, argv) => {
      c.server.activeExpire = atoi(argv[2]) !== 0;
      ok(c);
    }),
  ],
  [
    "set-skip-checksum-validation",
    exactly(3, (c, argv) => {
      debugState.skipChecksumValidation = atoi(argv[2]) !== 0;
      ok(c);
    }),
  ],
  [
    "aof-flush-sleep",
    exactly(3, (c, argv) => {
      debugState.aofFlushSleep = atoi(argv[2]);
      ok(c);
    }),
  ],
  [
    "pause-cron",
    exactly(3, (c, argv) => {
      debugState.pauseCron = atoi(argv[2]) !== 0;
      ok(c);
    }),
  ],
  [
    "quicklist-packed-threshold",
    exactly(3, (c, argv) => {
      const n = parseMemory(argv[2]);
      if (n === null || n < 0 || n >= 4 * 1024 * 1024 * 1024) {
        return c.error("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
      }
      debugState.quicklistPackedThreshold = n === 0 ? 1 << 30 : n;
      ok(c);
    }),
  ],
  [
    "drop-cluster-packet-filter",
    exactly(3, (c, argv) => {
      const n = parseInteger(argv[2]);
      if (n === null) return c.error("ERR value is not an integer or out of range");
      debugState.dropClusterPacketFilter = n;
      ok(c);
    }),
  ],
  ["object", debugObject],
  ["populate", populate],
  ["protocol", protocol],
  ["digest", exactly(2, (c) => c.out.status(datasetDigest(c.server)))],
  ["digest-value", (c, argv) => {
    c.out.array(argv.length - 2);
    for (const key of argv.slice(2)) {
      const d = new Uint8Array(20);
      const v = c.db.dict.get(key);
      if (v !== undefined) xorValueDigest(c.db, key, d, v);
      c.out.status(hex(d));
    }
  }],
  [
    "change-repl-id",
    exactly(2, (c) => {
      log.warning("Changing replication IDs after receiving DEBUG change-repl-id");
      debugHooks.changeReplId?.(c.server);
      ok(c);
    }),
  ],
  [
    "stringmatch-test",
    exactly(2, (c) => c.out.status("Apparently Redis did not crash: test passed")),
  ],
  [
    "jmap",
    exactly(2, (c) => {
      const m = Deno.memoryUsage();
      log.warning(
        `DEBUG JMAP: rss=${m.rss} heapTotal=${m.heapTotal} heapUsed=${m.heapUsed} external=${m.external}`,
      );
      ok(c);
    }),
  ],
  [
    "config-rewrite-force-all",
    exactly(2, (c) => {
      if (!c.server.config.file) return c.error("ERR CONFIG-REWRITE-FORCE-ALL failed: Bad address");
      try {
        rewriteConfigFile(c.server.config, c.server.config.file);
        ok(c);
      } catch (e) {
        c.error(`ERR CONFIG-REWRITE-FORCE-ALL failed: ${(e as Error).message}`);
      }
    }),
  ],
  [
    "replybuffer",
    exactly(4, (c, argv) => {
      const what = argv[2].toLowerCase();
      if (what === "peak-reset-time") {
        const v = argv[3].toLowerCase();
        if (v === "never") debugState.replyBufferPeakResetTime = -1;
        else if (v === "reset") debugState.replyBufferPeakResetTime = 5000;
        else {
          const n = parseInteger(argv[3]);
          if (n === null) return c.error("ERR value is not an integer or out of range");
          debugState.replyBufferPeakResetTime = n;
        }
      } else if (what === "resizing") debugState.replyBufferResizing = atoi(argv[3]) !== 0;
      else return debugSyntaxError(c, argv);
      ok(c);
    }),
  ],
  ["clusterlink", (c, argv) => {
    if (argv.length !== 5 || argv[2].toLowerCase() !== "kill") return debugSyntaxError(c, argv);
    if (!c.server.config.bool("cluster-enabled")) {
      return c.error("ERR Debug option only available for cluster mode enabled setup!");
    }
    const dir = argv[3].toLowerCase();
    if (!debugHooks.clusterLinkKill) return c.error(`ERR Unknown node ${argv[4]}`);
    const err = debugHooks.clusterLinkKill(c.server, dir, argv[4]);
    if (err) return c.error(err);
    ok(c);
  }],
];
for (const [name, h] of builtins) if (!debugSubcommands.has(name)) debugSubcommands.set(name, h);

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("debug", -2, ["admin", "noscript", "loading", "stale", "protected"], [0, 0, 0], (c, argv) => {
    const h = debugSubcommands.get(argv[1].toLowerCase());
    if (!h) return debugSyntaxError(c, argv);
    h(c, argv);
  }, {
    group: "server",
    since: "1.0.0",
    summary: "A container for debugging commands",
    complexity: "Depends on subcommand.",
  }),
];
