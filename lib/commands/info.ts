// INFO [section ...]: Redis 7.0's sections and field names. Subsystems (persistence,
// replication, cluster) replace a section by registering a provider in server.infoSections.
import { cmd, type CommandSpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { type Server, TSREDIS_VERSION, VERSION } from "../server/server.ts";
import { trackingClients } from "./client_cmd.ts";
import { latencyLine } from "../server/latency.ts";
import { migrateCachedSockets } from "./migrate.ts";

/** 40 random hex chars, like Redis's getRandomHexChars (run ids, replication ids). */
export function randomHex40(): string {
  const b = new Uint8Array(20);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** This process's run id: random per start, as in Redis. */
export const runId: string = randomHex40();

/** Default replication ids until the replication subsystem provides its own section. */
const defaultReplId = randomHex40();

/** Redis's LRU clock: seconds, 24 bits. */
export function lruClock(now = Date.now()): number {
  return Math.floor(now / 1000) & ((1 << 24) - 1);
}

/** Formats bytes like Redis's bytesToHuman ("944.30K"). */
export function bytesToHuman(n: number): string {
  const units = ["K", "M", "G", "T", "P"];
  if (n < 1024) return `${n}B`;
  let d = n / 1024;
  for (const u of units) {
    if (d < 1024 || u === "P") return `${d.toFixed(2)}${u}`;
    d /= 1024;
  }
  return `${n}B`;
}

let memoryPeak = 0;

/** Memory figures from V8: used = heap + external buffers, rss from the OS. */
export function memoryFigures(): { used: number; rss: number; peak: number } {
  const m = Deno.memoryUsage();
  const used = m.heapUsed + m.external;
  if (used > memoryPeak) memoryPeak = used;
  return { used, rss: m.rss, peak: memoryPeak };
}

function procStatTimes(path: string): [number, number, number, number] {
  try {
    const text = Deno.readTextFileSync(path);
    // The command name may contain spaces: fields start after the last ')'.
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // utime, stime, cutime, cstime are fields 14-17 (1-based), i.e. 11-14 after "state".
    return [Number(f[11]), Number(f[12]), Number(f[13]), Number(f[14])];
  } catch {
    return [0, 0, 0, 0];
  }
}

const TICKS = 100; // USER_HZ on Linux

function secs(ticks: number): string {
  return (ticks / TICKS).toFixed(6);
}

function executablePath(): string {
  const exe = Deno.execPath();
  const base = exe.slice(exe.lastIndexOf("/") + 1);
  if (base.startsWith("deno")) return new URL("../../tsredis", import.meta.url).pathname;
  return exe;
}

function osString(): string {
  let release = "";
  try {
    release = Deno.osRelease();
  } catch { /* not permitted */ }
  const arch = Deno.build.arch;
  const name = Deno.build.os === "linux"
    ? "Linux"
    : Deno.build.os === "darwin"
    ? "Darwin"
    : Deno.build.os;
  return `${name} ${release} ${arch}`;
}

function serverSection(s: Server): string[] {
  const now = Date.now();
  const uptime = Math.floor((now - s.stats.startTime) / 1000);
  const hz = s.config.int("hz");
  return [
    `redis_version:${VERSION}`,
    `tsredis_version:${TSREDIS_VERSION}`,
    `redis_git_sha1:00000000`,
    `redis_git_dirty:0`,
    `redis_build_id:0`,
    `redis_mode:${s.config.bool("cluster-enabled") ? "cluster" : "standalone"}`,
    `os:${osString()}`,
    `arch_bits:64`,
    `monotonic_clock:POSIX clock_gettime`,
    `multiplexing_api:epoll`,
    `atomicvar_api:c11-builtin`,
    `gcc_version:0.0.0`,
    `process_id:${Deno.pid}`,
    `process_supervised:no`,
    `run_id:${runId}`,
    `tcp_port:${s.config.int("port")}`,
    `server_time_usec:${now * 1000}`,
    `uptime_in_seconds:${uptime}`,
    `uptime_in_days:${Math.floor(uptime / 86400)}`,
    `hz:${hz}`,
    `configured_hz:${hz}`,
    `lru_clock:${lruClock(now)}`,
    `executable:${executablePath()}`,
    `config_file:${s.config.file ?? ""}`,
    `io_threads_active:0`,
  ];
}

function clientsSection(s: Server): string[] {
  let replicas = 0;
  let inTimeout = 0;
  let maxIn = 0;
  let maxOut = 0;
  for (const c of s.clients.values()) {
    if (c.isReplica && !c.isMonitor) replicas++;
    if (c.blocked && c.blocked.deadline > 0) inTimeout++;
    if (c.parser.pending > maxIn) maxIn = c.parser.pending;
    if (c.out.len > maxOut) maxOut = c.out.len;
  }
  return [
    `connected_clients:${s.clients.size - replicas}`,
    `cluster_connections:0`,
    `maxclients:${s.config.int("maxclients")}`,
    `client_recent_max_input_buffer:${maxIn}`,
    `client_recent_max_output_buffer:${maxOut}`,
    `blocked_clients:${s.blocking.blockedCount + s.pausedClients}`,
    `tracking_clients:${trackingClients(s.clients.values())}`,
    `clients_in_timeout_table:${inTimeout}`,
  ];
}

function memorySection(s: Server): string[] {
  const { used, rss, peak } = memoryFigures();
  let total = 0;
  try {
    total = Deno.systemMemoryInfo().total;
  } catch { /* not permitted */ }
  const maxmemory = s.config.int("maxmemory");
  const startup = 0;
  const dataset = used - startup;
  return [
    `used_memory:${used}`,
    `used_memory_human:${bytesToHuman(used)}`,
    `used_memory_rss:${rss}`,
    `used_memory_rss_human:${bytesToHuman(rss)}`,
    `used_memory_peak:${peak}`,
    `used_memory_peak_human:${bytesToHuman(peak)}`,
    `used_memory_peak_perc:${(peak ? (used * 100) / peak : 100).toFixed(2)}%`,
    `used_memory_overhead:0`,
    `used_memory_startup:${startup}`,
    `used_memory_dataset:${dataset}`,
    `used_memory_dataset_perc:${(used ? (dataset * 100) / used : 0).toFixed(2)}%`,
    `allocator_allocated:${used}`,
    `allocator_active:${used}`,
    `allocator_resident:${rss}`,
    `total_system_memory:${total}`,
    `total_system_memory_human:${bytesToHuman(total)}`,
    `used_memory_lua:0`,
    `used_memory_vm_eval:0`,
    `used_memory_lua_human:0B`,
    `used_memory_scripts_eval:0`,
    `number_of_cached_scripts:0`,
    `number_of_functions:0`,
    `number_of_libraries:0`,
    `used_memory_vm_functions:0`,
    `used_memory_vm_total:0`,
    `used_memory_vm_total_human:0B`,
    `used_memory_functions:0`,
    `used_memory_scripts:0`,
    `used_memory_scripts_human:0B`,
    `maxmemory:${maxmemory}`,
    `maxmemory_human:${bytesToHuman(maxmemory)}`,
    `maxmemory_policy:${s.config.str("maxmemory-policy")}`,
    `allocator_frag_ratio:1.00`,
    `allocator_frag_bytes:0`,
    `allocator_rss_ratio:${(used ? rss / used : 1).toFixed(2)}`,
    `allocator_rss_bytes:${rss - used}`,
    `rss_overhead_ratio:1.00`,
    `rss_overhead_bytes:0`,
    `mem_fragmentation_ratio:${(used ? rss / used : 1).toFixed(2)}`,
    `mem_fragmentation_bytes:${rss - used}`,
    `mem_not_counted_for_evict:0`,
    `mem_replication_backlog:0`,
    `mem_total_replication_buffers:0`,
    `mem_clients_slaves:0`,
    `mem_clients_normal:0`,
    `mem_cluster_links:0`,
    `mem_aof_buffer:0`,
    `mem_allocator:v8`,
    `active_defrag_running:0`,
    `lazyfree_pending_objects:0`,
    `lazyfreed_objects:0`,
  ];
}

function persistenceSection(s: Server): string[] {
  return [
    `loading:${s.loading ? 1 : 0}`,
    `async_loading:0`,
    `current_cow_peak:0`,
    `current_cow_size:0`,
    `current_cow_size_age:0`,
    `current_fork_perc:0.00`,
    `current_save_keys_processed:0`,
    `current_save_keys_total:0`,
    `rdb_changes_since_last_save:${s.dirty}`,
    `rdb_bgsave_in_progress:0`,
    `rdb_last_save_time:${s.lastSave}`,
    `rdb_last_bgsave_status:${s.lastBgsaveOk ? "ok" : "err"}`,
    `rdb_last_bgsave_time_sec:-1`,
    `rdb_current_bgsave_time_sec:-1`,
    `rdb_saves:0`,
    `rdb_last_cow_size:0`,
    `rdb_last_load_keys_expired:0`,
    `rdb_last_load_keys_loaded:0`,
    `aof_enabled:${s.config.bool("appendonly") ? 1 : 0}`,
    `aof_rewrite_in_progress:0`,
    `aof_rewrite_scheduled:0`,
    `aof_last_rewrite_time_sec:-1`,
    `aof_current_rewrite_time_sec:-1`,
    `aof_last_bgrewrite_status:ok`,
    `aof_rewrites:0`,
    `aof_rewrites_consecutive_failures:0`,
    `aof_last_write_status:ok`,
    `aof_last_cow_size:0`,
    `module_fork_in_progress:0`,
    `module_fork_last_cow_size:0`,
  ];
}

function statsSection(s: Server): string[] {
  const st = s.stats;
  return [
    `total_connections_received:${st.totalConnections}`,
    `total_commands_processed:${st.totalCommands}`,
    `instantaneous_ops_per_sec:${st.opsPerSec}`,
    `total_net_input_bytes:${st.netInput}`,
    `total_net_output_bytes:${st.netOutput}`,
    `total_net_repl_input_bytes:0`,
    `total_net_repl_output_bytes:0`,
    `instantaneous_input_kbps:0.00`,
    `instantaneous_output_kbps:0.00`,
    `instantaneous_input_repl_kbps:0.00`,
    `instantaneous_output_repl_kbps:0.00`,
    `rejected_connections:${st.rejectedConnections}`,
    `sync_full:${st.syncFull}`,
    `sync_partial_ok:${st.syncPartialOk}`,
    `sync_partial_err:${st.syncPartialErr}`,
    `expired_keys:${st.expiredKeys}`,
    `expired_stale_perc:0.00`,
    `expired_time_cap_reached_count:0`,
    `expire_cycle_cpu_milliseconds:0`,
    `evicted_keys:0`,
    `evicted_clients:0`,
    `total_eviction_exceeded_time:0`,
    `current_eviction_exceeded_time:0`,
    `keyspace_hits:${st.keyspaceHits}`,
    `keyspace_misses:${st.keyspaceMisses}`,
    `pubsub_channels:${s.pubsub.channels.size}`,
    `pubsub_patterns:${s.pubsub.patterns.size}`,
    `pubsubshard_channels:${s.pubsub.shardChannels.size}`,
    `latest_fork_usec:0`,
    `total_forks:0`,
    `migrate_cached_sockets:${migrateCachedSockets()}`,
    `slave_expires_tracked_keys:0`,
    `active_defrag_hits:0`,
    `active_defrag_misses:0`,
    `active_defrag_key_hits:0`,
    `active_defrag_key_misses:0`,
    `total_active_defrag_time:0`,
    `current_active_defrag_time:0`,
    `tracking_total_keys:0`,
    `tracking_total_items:0`,
    `tracking_total_prefixes:0`,
    `unexpected_error_replies:${st.unexpectedErrorReplies}`,
    `total_error_replies:${st.totalErrorReplies}`,
    `dump_payload_sanitizations:0`,
    `total_reads_processed:${st.totalCommands}`,
    `total_writes_processed:${st.totalCommands}`,
    `io_threaded_reads_processed:0`,
    `io_threaded_writes_processed:0`,
    `reply_buffer_shrinks:0`,
    `reply_buffer_expands:0`,
  ];
}

function replicationSection(s: Server): string[] {
  return [
    `role:${s.isReplica ? "slave" : "master"}`,
    `connected_slaves:0`,
    `master_failover_state:no-failover`,
    `master_replid:${defaultReplId}`,
    `master_replid2:0000000000000000000000000000000000000000`,
    `master_repl_offset:0`,
    `second_repl_offset:-1`,
    `repl_backlog_active:0`,
    `repl_backlog_size:${s.config.int("repl-backlog-size")}`,
    `repl_backlog_first_byte_offset:0`,
    `repl_backlog_histlen:0`,
  ];
}

function cpuSection(): string[] {
  const [u, sys, cu, cs] = procStatTimes("/proc/self/stat");
  const [tu, ts] = procStatTimes(`/proc/self/task/${Deno.pid}/stat`);
  return [
    `used_cpu_sys:${secs(sys)}`,
    `used_cpu_user:${secs(u)}`,
    `used_cpu_sys_children:${secs(cs)}`,
    `used_cpu_user_children:${secs(cu)}`,
    `used_cpu_sys_main_thread:${secs(ts)}`,
    `used_cpu_user_main_thread:${secs(tu)}`,
  ];
}

function commandstatsSection(s: Server): string[] {
  const out: string[] = [];
  const visit = (specs: Iterable<CommandSpec>) => {
    for (const c of specs) {
      const calls = c.calls ?? 0;
      const failed = c.failedCalls ?? 0;
      const rejected = c.rejectedCalls ?? 0;
      if (calls || failed || rejected) {
        const usec = c.usec ?? 0;
        out.push(
          `cmdstat_${c.fullname}:calls=${calls},usec=${usec},usec_per_call=${
            (calls ? usec / calls : 0).toFixed(2)
          },rejected_calls=${rejected},failed_calls=${failed}`,
        );
      }
      if (c.subcommands) visit(c.subcommands.values());
    }
  };
  visit(s.commands.values());
  return out;
}

function latencystatsSection(s: Server): string[] {
  const out: string[] = [];
  if (!s.config.bool("latency-tracking")) return out;
  const percentiles = (s.config.get("latency-tracking-info-percentiles") as string[]).map(Number);
  const visit = (specs: Iterable<CommandSpec>) => {
    for (const c of specs) {
      if (c.latency && c.latency.total > 0) {
        out.push(latencyLine(c.fullname!.replace(/[#:\r\n]/g, "_"), c.latency, percentiles));
      }
      if (c.subcommands) visit(c.subcommands.values());
    }
  };
  visit(s.commands.values());
  return out;
}

function errorstatsSection(s: Server): string[] {
  return [...s.stats.errors.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([code, n]) => `errorstat_${code.replace(/[:\r\n ]/g, "_")}:count=${n}`);
}

function keyspaceSection(s: Server): string[] {
  const out: string[] = [];
  for (const db of s.dbs) {
    if (db.dict.size || db.expires.size) {
      out.push(`db${db.id}:keys=${db.dict.size},expires=${db.expires.size},avg_ttl=${db.avgTtl}`);
    }
  }
  return out;
}

/** Sections in the order Redis prints them, with their header titles. */
const SECTIONS: [string, string, (s: Server) => string[]][] = [
  ["server", "Server", serverSection],
  ["clients", "Clients", clientsSection],
  ["memory", "Memory", memorySection],
  ["persistence", "Persistence", persistenceSection],
  ["stats", "Stats", statsSection],
  ["replication", "Replication", replicationSection],
  ["cpu", "CPU", cpuSection],
  ["modules", "Modules", () => []],
  ["commandstats", "Commandstats", commandstatsSection],
  ["errorstats", "Errorstats", errorstatsSection],
  ["latencystats", "Latencystats", latencystatsSection],
  ["cluster", "Cluster", (s) => [`cluster_enabled:${s.config.bool("cluster-enabled") ? 1 : 0}`]],
  ["keyspace", "Keyspace", keyspaceSection],
];

const DEFAULT_SECTIONS = [
  "server",
  "clients",
  "memory",
  "persistence",
  "stats",
  "replication",
  "cpu",
  "module_list",
  "errorstats",
  "cluster",
  "keyspace",
];

/** Builds the INFO text for the given arguments (no args = default sections). */
export function infoString(s: Server, args: string[]): string {
  const wanted = new Set<string>();
  let all = false;
  if (args.length === 0) { for (const d of DEFAULT_SECTIONS) wanted.add(d); }
  for (const a of args) {
    const l = a.toLowerCase();
    if (l === "default") { for (const d of DEFAULT_SECTIONS) wanted.add(d); }
    else if (l === "all" || l === "everything") all = true;
    else wanted.add(l);
  }
  if (wanted.has("module_list")) wanted.add("modules");
  const parts: string[] = [];
  const emit = (title: string, lines: string[]) => {
    parts.push(`# ${title}\r\n` + lines.map((l) => l + "\r\n").join(""));
  };
  const known = new Set<string>();
  for (const [name, title, gen] of SECTIONS) {
    known.add(name);
    if (!all && !wanted.has(name)) continue;
    const provider = s.infoSections.get(name);
    if (provider) {
      const text = provider();
      emit(title, text === "" ? [] : text.split("\r\n"));
    } else emit(title, gen(s));
  }
  // Sections that only a subsystem knows about.
  for (const [name, provider] of s.infoSections) {
    if (known.has(name) || (!all && !wanted.has(name))) continue;
    const text = provider();
    emit(name[0].toUpperCase() + name.slice(1), text === "" ? [] : text.split("\r\n"));
  }
  return parts.join("\r\n");
}

/** Samples memory for used_memory_peak (called from the cron). */
export function sampleMemoryPeak(): void {
  memoryFigures();
}

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("info", -1, ["loading", "stale"], [0, 0, 0], (c: Client, argv: string[]) => {
    c.out.verbatim(infoString(c.server, argv.slice(1)));
  }, {
    categories: ["dangerous"],
    group: "server",
    since: "1.0.0",
    summary: "Get information and statistics about the server",
    complexity: "O(1)",
    tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
  }),
];
