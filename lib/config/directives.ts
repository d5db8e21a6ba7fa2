// The table of configuration directives, one entry each, with Redis 7.0's names, aliases,
// types, defaults and bounds. It drives the config file parser, command-line flags, TOML,
// CONFIG GET/SET/REWRITE and INFO, so they cannot drift apart.
import { keyspaceEventsDisplay, normalizeKeyspaceEvents } from "../server/pubsub.ts";
import { formatPercentile } from "../server/latency.ts";

const INT_MAX = 2147483647;
const LLONG_MAX = Number.MAX_SAFE_INTEGER;

/** Kinds of directive values. */
export type DirectiveType = "bool" | "int" | "string" | "enum" | "special";

/** Value held for a directive: bool/int/string/enum scalars; specials hold their own shape. */
export type ConfigValue = boolean | number | string | string[] | SavePoint[] | ClientOutputLimits;

/** One `save <seconds> <changes>` point. */
export interface SavePoint {
  seconds: number;
  changes: number;
}

/** client-output-buffer-limit per class: hard, soft bytes and soft seconds. */
export type ClientOutputLimits = Record<"normal" | "replica" | "pubsub", [number, number, number]>;

/** A configuration directive. */
export interface Directive {
  name: string;
  alias?: string;
  type: DirectiveType;
  default: ConfigValue;
  immutable?: boolean;
  /** Numeric bounds and whether memory units (1gb, 10mb) are accepted. */
  min?: number;
  max?: number;
  memory?: boolean;
  /** Allowed words for enums (several may be given for shutdown-on-*). */
  values?: string[];
  multiWordEnum?: boolean;
  /** For specials: parse args into a value (or an error message), format for GET and REWRITE. */
  parse?: (args: string[], current: ConfigValue, fromFile: boolean) => ConfigValue | Error;
  format?: (v: ConfigValue) => string;
  /** REWRITE lines for a special, when it needs several (save, client-output-buffer-limit). */
  rewriteLines?: (v: ConfigValue) => string[];
  /** Directives that take several words in files (save, bind ...). */
  multiArg?: boolean;
}

interface Opts {
  alias?: string;
  immutable?: boolean;
}

function bool(name: string, def: boolean, o: Opts = {}): Directive {
  return { name, type: "bool", default: def, ...o };
}
function num(
  name: string,
  def: number,
  min: number,
  max: number,
  memory: boolean,
  o: Opts = {},
): Directive {
  return { name, type: "int", default: def, min, max, memory, ...o };
}
function str(name: string, def: string, o: Opts = {}): Directive {
  return { name, type: "string", default: def, ...o };
}
function enm(name: string, def: string, values: string[], o: Opts = {}): Directive {
  return { name, type: "enum", default: def, values, ...o };
}

/** Parses a memory/size value: 100, 1k (1000), 1kb (1024), 1m, 1mb, 1g, 1gb; null if invalid. */
export function parseMemory(s: string): number | null {
  const m = /^(-?[0-9]+)(k|kb|m|mb|g|gb|b)?$/i.exec(s);
  if (!m) return null;
  const n = parseInt(m[1], 10);
  const unit = (m[2] ?? "b").toLowerCase();
  const mul: Record<string, number> = {
    b: 1,
    k: 1000,
    kb: 1024,
    m: 1000 * 1000,
    mb: 1024 * 1024,
    g: 1000 * 1000 * 1000,
    gb: 1024 * 1024 * 1024,
  };
  return n * mul[unit];
}

const SAVE_DEFAULT: SavePoint[] = [
  { seconds: 3600, changes: 1 },
  { seconds: 300, changes: 100 },
  { seconds: 60, changes: 10000 },
];

const COBL_DEFAULT: ClientOutputLimits = {
  normal: [0, 0, 0],
  replica: [256 * 1024 * 1024, 64 * 1024 * 1024, 60],
  pubsub: [32 * 1024 * 1024, 8 * 1024 * 1024, 60],
};

const special: Directive[] = [
  {
    name: "dir",
    type: "special",
    default: ".",
    parse: (a) => a.length === 1 ? a[0] : new Error("wrong number of arguments"),
    format: (v) => String(v),
  },
  {
    name: "save",
    type: "special",
    multiArg: true,
    default: SAVE_DEFAULT,
    parse: (a, cur, fromFile) => {
      if (a.length === 1 && a[0] === "") return [];
      if (a.length % 2 !== 0) return new Error("Invalid save parameters");
      const pts: SavePoint[] = [];
      for (let i = 0; i < a.length; i += 2) {
        const s = Number(a[i]);
        const c = Number(a[i + 1]);
        if (!/^[0-9]+$/.test(a[i]) || !/^[0-9]+$/.test(a[i + 1])) {
          return new Error("Invalid save parameters");
        }
        pts.push({ seconds: s, changes: c });
      }
      // In a file, successive save lines accumulate; the first one replaces the default.
      return fromFile && cur !== SAVE_DEFAULT ? [...(cur as SavePoint[]), ...pts] : pts;
    },
    format: (v) => (v as SavePoint[]).map((p) => `${p.seconds} ${p.changes}`).join(" "),
    rewriteLines: (v) => {
      const pts = v as SavePoint[];
      return pts.length === 0 ? ['save ""'] : pts.map((p) => `save ${p.seconds} ${p.changes}`);
    },
  },
  {
    name: "client-output-buffer-limit",
    type: "special",
    multiArg: true,
    default: COBL_DEFAULT,
    parse: (a, cur) => {
      if (a.length % 4 !== 0) {
        return new Error("Wrong number of arguments in buffer limit configuration.");
      }
      const out = structuredClone(cur as ClientOutputLimits);
      for (let i = 0; i < a.length; i += 4) {
        let cls = a[i].toLowerCase();
        if (cls === "slave") cls = "replica";
        if (cls !== "normal" && cls !== "replica" && cls !== "pubsub") {
          return new Error("Invalid client class specified in buffer limit configuration.");
        }
        const hard = parseMemory(a[i + 1]);
        const soft = parseMemory(a[i + 2]);
        const secs = /^[0-9]+$/.test(a[i + 3]) ? Number(a[i + 3]) : null;
        if (hard === null || soft === null || secs === null || hard < 0 || soft < 0) {
          return new Error(
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
          );
        }
        out[cls as keyof ClientOutputLimits] = [hard, soft, secs];
      }
      return out;
    },
    format: (v) => {
      const l = v as ClientOutputLimits;
      return (["normal", "replica", "pubsub"] as const).map((k) =>
        `${k === "replica" ? "slave" : k} ${l[k][0]} ${l[k][1]} ${l[k][2]}`
      ).join(" ");
    },
    rewriteLines: (v) => {
      const l = v as ClientOutputLimits;
      return (["normal", "replica", "pubsub"] as const).map((k) =>
        `client-output-buffer-limit ${k} ${l[k][0]} ${l[k][1]} ${l[k][2]}`
      );
    },
  },
  {
    name: "oom-score-adj-values",
    type: "special",
    multiArg: true,
    default: ["0", "200", "800"],
    parse: (a) =>
      a.length === 3 && a.every((x) => /^-?[0-9]+$/.test(x))
        ? a
        : new Error("Invalid oom-score-adj-values"),
    format: (v) => (v as string[]).join(" "),
  },
  {
    name: "notify-keyspace-events",
    type: "special",
    default: "",
    parse: (a) => {
      if (a.length !== 1) return new Error("wrong number of arguments");
      // Stored normalized, every flag kept; shown in Redis's canonical form ("KEA" -> "AKE").
      const v = normalizeKeyspaceEvents(a[0]);
      return v ?? new Error("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    },
    format: (v) => keyspaceEventsDisplay(String(v)),
  },
  {
    name: "bind",
    type: "special",
    multiArg: true,
    default: ["*", "-::*"],
    parse: (a) => a.length === 0 || (a.length === 1 && a[0] === "") ? [] : a,
    format: (v) => (v as string[]).join(" "),
  },
  {
    name: "replicaof",
    alias: "slaveof",
    type: "special",
    multiArg: true,
    immutable: true,
    default: [],
    parse: (a) => {
      if (a.length !== 2) return new Error("wrong number of arguments");
      if (a[0].toLowerCase() === "no" && a[1].toLowerCase() === "one") return [];
      if (!/^[0-9]+$/.test(a[1])) return new Error("Invalid master port");
      return a;
    },
    format: (v) => (v as string[]).join(" "),
  },
  {
    name: "latency-tracking-info-percentiles",
    type: "special",
    multiArg: true,
    default: ["50", "99", "99.9"],
    // Kept as Redis prints them ("%f" without trailing zeros); a single "" means none.
    parse: (a) => {
      if (a.length === 1 && a[0] === "") return [];
      const out: string[] = [];
      for (const x of a) {
        const p = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(x)
          ? Number(x)
          : NaN;
        if (Number.isNaN(p)) {
          return new Error("Invalid latency-tracking-info-percentiles parameters");
        }
        if (p > 100 || p < 0) {
          return new Error(
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
          );
        }
        out.push(formatPercentile(p));
      }
      return out;
    },
    format: (v) => (v as string[]).join(" "),
  },
];

/** Every directive tsredis knows: Redis 7.0's full set (most accepted and reported even where
 * tsredis has no matching mechanism), plus tsredis's own. */
export const DIRECTIVES: Directive[] = [
  bool("rdbchecksum", true, { immutable: true }),
  bool("daemonize", false, { immutable: true }),
  bool("io-threads-do-reads", false, { immutable: true }),
  bool("always-show-logo", false, { immutable: true }),
  bool("protected-mode", true),
  bool("rdbcompression", true),
  bool("rdb-del-sync-files", false),
  bool("activerehashing", true),
  bool("stop-writes-on-bgsave-error", true),
  bool("set-proc-title", true, { immutable: true }),
  bool("dynamic-hz", true),
  bool("lazyfree-lazy-eviction", false),
  bool("lazyfree-lazy-expire", false),
  bool("lazyfree-lazy-server-del", false),
  bool("lazyfree-lazy-user-del", false),
  bool("lazyfree-lazy-user-flush", false),
  bool("repl-disable-tcp-nodelay", false),
  bool("repl-diskless-sync", true),
  bool("aof-rewrite-incremental-fsync", true),
  bool("no-appendfsync-on-rewrite", false),
  bool("cluster-require-full-coverage", true),
  bool("rdb-save-incremental-fsync", true),
  bool("aof-load-truncated", true),
  bool("aof-use-rdb-preamble", true),
  bool("aof-timestamp-enabled", false),
  bool("cluster-replica-no-failover", false, { alias: "cluster-slave-no-failover" }),
  bool("replica-lazy-flush", false, { alias: "slave-lazy-flush" }),
  bool("replica-serve-stale-data", true, { alias: "slave-serve-stale-data" }),
  bool("replica-read-only", true, { alias: "slave-read-only" }),
  bool("replica-ignore-maxmemory", true, { alias: "slave-ignore-maxmemory" }),
  bool("jemalloc-bg-thread", true),
  bool("activedefrag", false),
  bool("syslog-enabled", false, { immutable: true }),
  bool("cluster-enabled", false, { immutable: true }),
  bool("appendonly", false),
  bool("cluster-allow-reads-when-down", false),
  bool("cluster-allow-pubsubshard-when-down", true),
  bool("crash-log-enabled", true),
  bool("crash-memcheck-enabled", true),
  bool("use-exit-on-panic", false),
  bool("disable-thp", true, { immutable: true }),
  bool("cluster-allow-replica-migration", true),
  bool("replica-announced", true),
  bool("latency-tracking", true),
  bool("aof-disable-auto-gc", false),
  bool("replica-ignore-disk-write-errors", false),
  str("aclfile", "", { immutable: true }),
  str("unixsocket", "", { immutable: true }),
  str("pidfile", "", { immutable: true }),
  str("replica-announce-ip", "", { alias: "slave-announce-ip" }),
  str("masteruser", ""),
  str("cluster-announce-ip", ""),
  str("cluster-config-file", "nodes.conf", { immutable: true }),
  str("cluster-announce-hostname", ""),
  str("syslog-ident", "redis", { immutable: true }),
  str("dbfilename", "dump.rdb"),
  str("appendfilename", "appendonly.aof", { immutable: true }),
  str("appenddirname", "appendonlydir", { immutable: true }),
  str("server_cpulist", "", { immutable: true }),
  str("bio_cpulist", "", { immutable: true }),
  str("aof_rewrite_cpulist", "", { immutable: true }),
  str("bgsave_cpulist", "", { immutable: true }),
  str("ignore-warnings", ""),
  str("proc-title-template", "{title} {listen-addr} {server-mode}"),
  str("bind-source-addr", ""),
  str("logfile", "", { immutable: true }),
  str("masterauth", ""),
  str("requirepass", ""),
  enm("supervised", "no", ["upstart", "systemd", "auto", "no"], { immutable: true }),
  enm("syslog-facility", "local0", [
    "user",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
  ], { immutable: true }),
  enm("repl-diskless-load", "disabled", ["disabled", "on-empty-db", "swapdb"]),
  enm("loglevel", "notice", ["debug", "verbose", "notice", "warning"]),
  enm("maxmemory-policy", "noeviction", [
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
  ]),
  enm("appendfsync", "everysec", ["everysec", "always", "no"]),
  enm("oom-score-adj", "no", ["no", "yes", "relative", "absolute"]),
  enm("acl-pubsub-default", "resetchannels", ["allchannels", "resetchannels"]),
  enm("sanitize-dump-payload", "no", ["no", "yes", "clients"]),
  enm("enable-protected-configs", "no", ["no", "yes", "local"], { immutable: true }),
  enm("enable-debug-command", "no", ["no", "yes", "local"], { immutable: true }),
  enm("enable-module-command", "no", ["no", "yes", "local"], { immutable: true }),
  enm("cluster-preferred-endpoint-type", "ip", ["ip", "hostname", "unknown-endpoint"]),
  enm("propagation-error-behavior", "ignore", ["ignore", "panic", "panic-on-replicas"]),
  enm("shutdown-on-sigint", "default", ["default", "save", "nosave", "now", "force"]),
  enm("shutdown-on-sigterm", "default", ["default", "save", "nosave", "now", "force"]),
  num("databases", 16, 1, INT_MAX, false, { immutable: true }),
  num("port", 6379, 0, 65535, false),
  num("io-threads", 1, 1, 128, false, { immutable: true }),
  num("auto-aof-rewrite-percentage", 100, 0, INT_MAX, false),
  num("cluster-replica-validity-factor", 10, 0, INT_MAX, false, {
    alias: "cluster-slave-validity-factor",
  }),
  num("list-max-listpack-size", -2, -INT_MAX - 1, INT_MAX, false, {
    alias: "list-max-ziplist-size",
  }),
  num("tcp-keepalive", 300, 0, INT_MAX, false),
  num("cluster-migration-barrier", 1, 0, INT_MAX, false),
  num("active-defrag-cycle-min", 1, 1, 99, false),
  num("active-defrag-cycle-max", 25, 1, 99, false),
  num("active-defrag-threshold-lower", 10, 0, 1000, false),
  num("active-defrag-threshold-upper", 100, 0, 1000, false),
  num("lfu-log-factor", 10, 0, INT_MAX, false),
  num("lfu-decay-time", 1, 0, INT_MAX, false),
  num("replica-priority", 100, 0, INT_MAX, false, { alias: "slave-priority" }),
  num("repl-diskless-sync-delay", 5, 0, INT_MAX, false),
  num("maxmemory-samples", 5, 1, INT_MAX, false),
  num("maxmemory-eviction-tenacity", 10, 0, 100, false),
  num("timeout", 0, 0, INT_MAX, false),
  num("replica-announce-port", 0, 0, 65535, false, { alias: "slave-announce-port" }),
  num("tcp-backlog", 511, 0, INT_MAX, false, { immutable: true }),
  num("cluster-port", 0, 0, 65535, false, { immutable: true }),
  num("cluster-announce-bus-port", 0, 0, 65535, false),
  num("cluster-announce-port", 0, 0, 65535, false),
  num("cluster-announce-tls-port", 0, 0, 65535, false),
  num("repl-timeout", 60, 1, INT_MAX, false),
  num("repl-ping-replica-period", 10, 1, INT_MAX, false, { alias: "repl-ping-slave-period" }),
  num("list-compress-depth", 0, 0, INT_MAX, false),
  num("rdb-key-save-delay", 0, -INT_MAX - 1, INT_MAX, false),
  num("key-load-delay", 0, -INT_MAX - 1, INT_MAX, false),
  num("active-expire-effort", 1, 1, 10, false),
  num("hz", 10, 0, INT_MAX, false),
  num("min-replicas-to-write", 0, 0, INT_MAX, false, { alias: "min-slaves-to-write" }),
  num("min-replicas-max-lag", 10, 0, INT_MAX, false, { alias: "min-slaves-max-lag" }),
  num("watchdog-period", 0, 0, INT_MAX, false),
  num("shutdown-timeout", 10, 0, INT_MAX, false),
  num("repl-diskless-sync-max-replicas", 0, 0, INT_MAX, false),
  num("maxclients", 10000, 1, 4294967295, false),
  num("unixsocketperm", 0, 0, 0o777, false, { immutable: true }),
  num("socket-mark-id", 0, 0, 4294967295, false, { immutable: true }),
  num("active-defrag-max-scan-fields", 1000, 1, LLONG_MAX, false),
  num("slowlog-max-len", 128, 0, LLONG_MAX, false),
  num("acllog-max-len", 128, 0, LLONG_MAX, false),
  num("busy-reply-threshold", 5000, 0, LLONG_MAX, false, { alias: "lua-time-limit" }),
  num("cluster-node-timeout", 15000, 0, LLONG_MAX, false),
  num("slowlog-log-slower-than", 10000, -1, LLONG_MAX, false),
  num("latency-monitor-threshold", 0, 0, LLONG_MAX, false),
  num("proto-max-bulk-len", 512 * 1024 * 1024, 1024 * 1024, LLONG_MAX, true),
  num("stream-node-max-entries", 100, 0, LLONG_MAX, false),
  num("repl-backlog-size", 1024 * 1024, 1, LLONG_MAX, true),
  num("maxmemory", 0, 0, LLONG_MAX, true),
  num("cluster-link-sendbuf-limit", 0, 0, LLONG_MAX, true),
  num("hash-max-listpack-entries", 512, 0, LLONG_MAX, false, { alias: "hash-max-ziplist-entries" }),
  num("set-max-intset-entries", 512, 0, LLONG_MAX, false),
  num("zset-max-listpack-entries", 128, 0, LLONG_MAX, false, { alias: "zset-max-ziplist-entries" }),
  num("active-defrag-ignore-bytes", 100 * 1024 * 1024, 1, LLONG_MAX, true),
  num("hash-max-listpack-value", 64, 0, LLONG_MAX, true, { alias: "hash-max-ziplist-value" }),
  num("stream-node-max-bytes", 4096, 0, LLONG_MAX, true),
  num("zset-max-listpack-value", 64, 0, LLONG_MAX, true, { alias: "zset-max-ziplist-value" }),
  num("hll-sparse-max-bytes", 3000, 0, LLONG_MAX, true),
  num("tracking-table-max-keys", 1000000, 0, LLONG_MAX, false),
  num("client-query-buffer-limit", 1024 * 1024 * 1024, 1024 * 1024, LLONG_MAX, true),
  num("maxmemory-clients", 0, -100, LLONG_MAX, true),
  num("repl-backlog-ttl", 60 * 60, 0, LLONG_MAX, false),
  num("auto-aof-rewrite-min-size", 64 * 1024 * 1024, 0, LLONG_MAX, true),
  num("loading-process-events-interval-bytes", 1024 * 1024 * 2, 1024, INT_MAX, false),
  num("tls-port", 0, 0, 65535, false),
  num("tls-session-cache-size", 20 * 1024, 0, INT_MAX, false),
  num("tls-session-cache-timeout", 300, 0, INT_MAX, false),
  bool("tls-cluster", false),
  bool("tls-replication", false),
  enm("tls-auth-clients", "yes", ["no", "yes", "optional"]),
  bool("tls-prefer-server-ciphers", false),
  bool("tls-session-caching", true),
  str("tls-cert-file", ""),
  str("tls-key-file", ""),
  str("tls-key-file-pass", ""),
  str("tls-client-cert-file", ""),
  str("tls-client-key-file", ""),
  str("tls-client-key-file-pass", ""),
  str("tls-dh-params-file", ""),
  str("tls-ca-cert-file", ""),
  str("tls-ca-cert-dir", ""),
  str("tls-protocols", ""),
  str("tls-ciphers", ""),
  str("tls-ciphersuites", ""),
  ...special,
];

/** Lookup by name or alias (lower case). */
export const DIRECTIVE_BY_NAME: Map<string, Directive> = new Map();
for (const d of DIRECTIVES) {
  DIRECTIVE_BY_NAME.set(d.name, d);
  if (d.alias) DIRECTIVE_BY_NAME.set(d.alias, d);
}
