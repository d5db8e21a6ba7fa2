// processCommand: lookup -> arity -> auth -> cluster routing -> replica/loading checks ->
// pub/sub context -> MULTI queue -> call. The order follows Redis's processCommand.
import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import type { CommandSpec } from "../commands/types.ts";
import { LatencyHistogram } from "./latency.ts";
import { E_OOM, outOfMemory } from "./oom.ts";

/** Cluster routing hook: returns an error reply (MOVED/ASK/...) or null to run locally. */
export type RouteCheck = (c: Client, spec: CommandSpec, argv: string[]) => string | null;

/** Installed by cluster mode. */
export const routing: { check: RouteCheck | null } = { check: null };

/** Installed by replication: `gate` refuses commands (MASTERDOWN, NOREPLICAS) with an error
 * reply, `afterCall` sees every executed command (WAIT's per-client write offset). */
export const replicationHooks: {
  gate: ((c: Client, spec: CommandSpec, isWrite: boolean) => string | null) | null;
  afterCall: ((c: Client) => void) | null;
} = { gate: null, afterCall: null };

const PUBSUB_ALLOWED = new Set([
  "ping",
  "subscribe",
  "ssubscribe",
  "unsubscribe",
  "sunsubscribe",
  "psubscribe",
  "punsubscribe",
  "quit",
  "reset",
]);
const MULTI_PASSTHROUGH = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

/** Command names exactly as clients sent them ("SET", "set") -> top-level spec, for the command
 * table in `rawFor`: skips toLowerCase() and the hashing of a new string per command (the parser
 * hands out one shared string per recently seen name). Only names that exist are cached. */
let rawFor: Map<string, CommandSpec> | null = null;
let rawSize = 0;
let rawNames = new Map<string, CommandSpec>();

function topCommand(commands: Map<string, CommandSpec>, name: string): CommandSpec | undefined {
  if (commands !== rawFor || commands.size !== rawSize) {
    rawFor = commands;
    rawSize = commands.size;
    rawNames = new Map();
  }
  let top = rawNames.get(name);
  if (top === undefined) {
    top = commands.get(name.toLowerCase());
    if (top !== undefined && rawNames.size < 4096) rawNames.set(name, top);
  }
  return top;
}

/** The error of the last failed findCommand. */
let lookupError = "";

/** Finds the spec for argv, or null with the error text in `lookupError`. */
function findCommand(c: Client, argv: string[]): CommandSpec | null {
  const top = topCommand(c.server.commands, argv[0]);
  if (!top) {
    let args = "";
    for (let i = 1; i < argv.length && args.length < 128; i++) {
      args += `'${argv[i].slice(0, 128 - args.length)}' `;
    }
    lookupError = `ERR unknown command '${
      argv[0].slice(0, 128)
    }', with args beginning with: ${args}`
      .replace(/[\r\n]/g, " ");
    return null;
  }
  if (top.subcommands && argv.length >= 2) {
    const sub = top.subcommands.get(argv[1].toLowerCase());
    if (!sub) {
      lookupError = `ERR unknown subcommand '${
        argv[1].slice(0, 128)
      }'. Try ${top.name.toUpperCase()} HELP.`
        .replace(/[\r\n]/g, " ");
      return null;
    }
    return sub;
  }
  return top;
}

// Command flags the dispatcher tests on every call, as bits computed once per spec: a few
// Set.has() per command cost more than the rest of the bookkeeping.
const F_WRITE = 1;
const F_PROTECTED = 2;
const F_NO_AUTH = 4;
const F_NO_MULTI = 8;
const F_LOADING = 16;
const F_SKIP_SLOWLOG = 32;
const F_SKIP_MONITOR = 64;
const F_ADMIN = 128;
/** May share one clock reading with its neighbours in a pipeline (see the timing comment). */
const F_GROUP = 256;

/** O(1) commands Redis does not flag "fast" (the flag also decides ACL categories), timed in
 * groups too when they have at most GROUP_MAX_ARGC arguments. */
const BOUNDED = new Set(["set", "setnx", "setex", "psetex", "mset", "msetnx", "mget"]);
const GROUP_MAX_ARGC = 33;

type HotSpec = CommandSpec & { hotFlags?: number; hotSet?: Set<string> };

function flagBits(spec: CommandSpec): number {
  const h = spec as HotSpec;
  if (h.hotSet === spec.flagSet && h.hotFlags !== undefined) return h.hotFlags;
  const f = spec.flagSet!;
  const bits = (f.has("write") ? F_WRITE : 0) | (f.has("protected") ? F_PROTECTED : 0) |
    (f.has("no_auth") ? F_NO_AUTH : 0) | (f.has("no_multi") ? F_NO_MULTI : 0) |
    (f.has("loading") ? F_LOADING : 0) | (f.has("skip_slowlog") ? F_SKIP_SLOWLOG : 0) |
    (f.has("skip_monitor") ? F_SKIP_MONITOR : 0) | (f.has("admin") ? F_ADMIN : 0) |
    ((f.has("fast") && !f.has("blocking")) || BOUNDED.has(spec.fullname!) ? F_GROUP : 0);
  h.hotSet = spec.flagSet;
  h.hotFlags = bits;
  return bits;
}

/** Command timing in a batch of pipelined commands. performance.now() costs about 150 ns here
 * (an op call; Date.now() 70 ns), as much as a whole GET, so a batch does not read the clock
 * twice per command:
 * - Chaining: while the listener runs the commands of one read (between beginBatch and
 *   endBatch), the end time of a top-level call() is the start time of the next one. The little
 *   time between two commands (parsing, lookup) is counted with the second one.
 * - Groups: consecutive O(1) commands (flagged fast, or BOUNDED with few arguments) are timed
 *   together: the clock is read when the group ends (a command that is not groupable starts, or
 *   the batch ends) and the group's time is shared equally by its commands for commandstats
 *   usec, the latency histograms and the slowlog. A group of one command is timed exactly.
 *   Groups are only formed while the slowlog threshold is negative or at least GROUP_MIN_SLOWLOG
 *   µs (10000 by default): with a lower threshold, where a single fast command could matter,
 *   every command is timed on its own. */
let batchDepth = 0;
let batchActive = false;
let chainedT = -1;
const GROUP_MIN_SLOWLOG = 1000;
/** Start time of the open group, or -1. */
let groupStart = -1;
let groupN = 0;
const groupSpecs: CommandSpec[] = [];
const groupArgv: string[][] = [];
const groupClients: Client[] = [];

/** Closes the open group at time `t`, charging each member its share. */
function flushGroup(t: number): void {
  const n = groupN;
  const share = (t - groupStart) / n;
  groupStart = -1;
  groupN = 0;
  const usec = Math.round(share * 1000);
  const s = groupClients[0].server;
  const limit = s.config.hot.slowlogLogSlowerThan;
  const slow = limit >= 0 && usec >= limit;
  const tracking = s.config.hot.latencyTracking;
  // Runs of the same command (the usual pipeline) update its stats once.
  for (let i = 0; i < n;) {
    const spec = groupSpecs[i];
    let j = i + 1;
    while (j < n && groupSpecs[j] === spec) j++;
    spec.usec = (spec.usec ?? 0) + usec * (j - i);
    if (tracking) (spec.latency ??= new LatencyHistogram()).recordN(share * 1e6, j - i);
    for (; i < j; i++) {
      if (slow && !(flagBits(spec) & F_SKIP_SLOWLOG)) {
        s.slowlogPush(groupClients[i], groupArgv[i], usec);
      }
      groupArgv[i] = EMPTY;
      groupClients[i] = NO_CLIENT;
    }
  }
}
const EMPTY: string[] = [];
const NO_CLIENT = null as unknown as Client;

/** The listener starts running the commands of one read (batches nest when a command resumes
 * an unblocked client). */
export function beginBatch(c: Client): void {
  batchActive = ++batchDepth > 0;
  chainedT = -1;
  c.lastInteraction = Date.now();
}

/** The listener stopped running commands (end of the read, a pause, a blocked client). */
export function endBatch(): void {
  if (groupN > 0) flushGroup(performance.now());
  batchActive = --batchDepth > 0;
  chainedT = -1;
}

/** Checks arity; returns the error text or null. */
export function checkArity(spec: CommandSpec, argc: number): string | null {
  if ((spec.arity > 0 && spec.arity !== argc) || argc < -spec.arity) {
    return `ERR wrong number of arguments for '${spec.fullname}' command`;
  }
  return null;
}

function reject(c: Client, msg: string, spec?: CommandSpec | null): void {
  if (c.multi) c.multiDirty = true;
  if (spec) spec.rejectedCalls = (spec.rejectedCalls ?? 0) + 1;
  if (spec?.name === "exec") {
    // A refused EXEC ends the transaction (Redis execCommandAbort); a plain ERR code is dropped.
    c.multi = null;
    c.multiDirty = false;
    c.server.unwatchAll(c);
    const reason = msg.startsWith("ERR ") ? msg.slice(4) : msg;
    c.error(`EXECABORT Transaction discarded because of: ${reason}`);
    return;
  }
  c.error(msg);
}

/** Whether the client is paused by CLIENT PAUSE for this command. */
function isPaused(c: Client, spec: CommandSpec): boolean {
  const s = c.server;
  if (c.isMaster || c.isReplica || !s.clientsPaused()) return false;
  if (!s.pauseWritesOnly) return true;
  const f = spec.flagSet!;
  return f.has("write") || f.has("may_replicate") ||
    (spec.name === "exec" && !!c.multi?.some((q) => q.spec.flagSet!.has("write")));
}

/** Processes one parsed command; returns false if the client must stop reading (paused). */
export function processCommand(c: Client, argv: string[]): boolean {
  const s = c.server;
  if (!batchActive) c.lastInteraction = Date.now(); // else beginBatch did, once per read
  const spec = findCommand(c, argv);
  if (!spec) {
    reject(c, lookupError);
    return true;
  }
  c.lastCmd = spec.fullname!;
  const arityErr = checkArity(spec, argv.length);
  if (arityErr) {
    reject(c, arityErr, spec);
    return true;
  }
  const bits = flagBits(spec);
  if (bits & F_PROTECTED && spec.name === "debug") {
    const v = s.config.str("enable-debug-command");
    const local = c.addr.startsWith("127.") || c.addr.startsWith("[::1]") ||
      c.addr.startsWith("::1") ||
      c.addr.startsWith("/");
    if (v === "no" || (v === "local" && !local)) {
      reject(
        c,
        'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.',
        spec,
      );
      return true;
    }
  }
  if (!c.authenticated && !(bits & F_NO_AUTH) && s.config.hot.requirepass !== "") {
    reject(c, "NOAUTH Authentication required.", spec);
    return true;
  }
  if (c.multi && bits & F_NO_MULTI) {
    reject(c, "ERR Command not allowed inside a transaction", spec);
    return true;
  }
  if (routing.check && !c.isMaster) {
    const redirect = routing.check(c, spec, argv);
    if (redirect) {
      if (spec.name === "exec") {
        c.multi = null;
        c.multiDirty = false;
        s.unwatchAll(c);
      } else if (c.multi) c.multiDirty = true;
      spec.rejectedCalls = (spec.rejectedCalls ?? 0) + 1;
      c.error(redirect);
      return true;
    }
  }
  if (s.config.hot.maxmemory > 0 && outOfMemory(s)) {
    // DISCARD, EXEC (unless it queued a denyoom command), QUIT and RESET still run in MULTI.
    const denyoom = spec.flagSet!.has("denyoom") ||
      (spec.name === "exec" && !!c.multi?.some((q) => q.spec.flagSet!.has("denyoom")));
    const inMulti = c.multi !== null && spec.name !== "exec" && spec.name !== "discard" &&
      spec.name !== "quit" && spec.name !== "reset";
    if (denyoom || inMulti) {
      reject(c, E_OOM, spec);
      return true;
    }
  }
  const isWrite = (bits & F_WRITE) !== 0 ||
    (spec.name === "exec" && !!c.multi?.some((q) => q.spec.flagSet!.has("write")));
  if (s.writeDenied && !c.isMaster && (isWrite || spec.name === "ping")) {
    const denial = s.writeDenied();
    if (denial) {
      reject(c, denial, spec);
      return true;
    }
  }
  if (s.isReplica && isWrite && !c.isMaster && s.config.hot.replicaReadOnly) {
    reject(c, "READONLY You can't write against a read only replica.", spec);
    return true;
  }
  if (replicationHooks.gate && !c.isMaster) {
    const refused = replicationHooks.gate(c, spec, isWrite);
    if (refused) {
      reject(c, refused, spec);
      return true;
    }
  }
  if (c.inPubSub && c.resp === 2 && !PUBSUB_ALLOWED.has(spec.name)) {
    reject(
      c,
      `ERR Can't execute '${spec.fullname}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
      spec,
    );
    return true;
  }
  if (s.loading && !(bits & F_LOADING)) {
    reject(c, "LOADING Redis is loading the dataset in memory", spec);
    return true;
  }
  if (c.multi && !MULTI_PASSTHROUGH.has(spec.name)) {
    c.multi.push({ spec, argv });
    c.out.status("QUEUED");
    return true;
  }
  call(c, spec, argv);
  if (c.asking && spec.name !== "asking") c.asking = false;
  return true;
}

/** Returns true when a command must wait because clients are paused. */
export function mustWaitForPause(c: Client, argv: string[]): boolean {
  if (c.server.pauseUntil === 0) return false;
  const spec = findCommand(c, argv);
  return spec !== null && isPaused(c, spec);
}

/** Whether fast commands may be timed in groups (slowlog threshold; see beginBatch). */
function groupingAllowed(s: Server): boolean {
  const limit = s.config.hot.slowlogLogSlowerThan;
  return limit < 0 || limit >= GROUP_MIN_SLOWLOG;
}

/** Total error replies when the innermost call() last started or ended (Redis's
 * incrCommandStatsOnError): a command's failed_calls only counts errors since then, so errors of
 * the commands EXEC runs are not charged to EXEC, nor rejections to the next command. */
let errorMark = 0;

/** Runs a command: stats, slowlog, MONITOR, propagation of writes that changed the dataset. */
export function call(c: Client, spec: CommandSpec, argv: string[]): void {
  const s = c.server;
  const dirtyBefore = s.dirty;
  errorMark = s.stats.totalErrorReplies;
  const prev = s.currentClient;
  s.currentClient = c;
  const bits = flagBits(spec);
  // See the timing comment above beginBatch.
  const top = prev === null && batchActive;
  const groupable = top && (bits & F_GROUP) !== 0 && argv.length <= GROUP_MAX_ARGC &&
    c.blocked === null && groupingAllowed(s);
  let t0: number;
  if (top && groupN > 0) {
    if (groupable) t0 = groupStart;
    else {
      t0 = performance.now();
      flushGroup(t0);
    }
  } else t0 = top && chainedT >= 0 ? chainedT : performance.now();
  chainedT = -1;
  const dbBefore = c.dbIndex;
  const touchMark = s.deferredTouches.length;
  s.touchScope++;
  try {
    spec.handler(c, argv);
  } catch (e) {
    c.error(`ERR ${(e as Error).message}`);
  } finally {
    s.currentClient = prev;
    s.touchScope--;
  }
  if (s.deferredTouches.length > touchMark) s.settleTouches(touchMark, s.dirty !== dirtyBefore);
  spec.calls = (spec.calls ?? 0) + 1;
  if (s.stats.totalErrorReplies !== errorMark) spec.failedCalls = (spec.failedCalls ?? 0) + 1;
  errorMark = s.stats.totalErrorReplies;
  s.stats.totalCommands++;
  if (groupable && c.blocked === null) {
    const i = groupN++;
    if (i === 0) groupStart = t0;
    groupSpecs[i] = spec;
    groupArgv[i] = argv;
    groupClients[i] = c;
  } else {
    const t1 = performance.now();
    if (top) chainedT = t1;
    const elapsed = t1 - t0;
    const usec = Math.round(elapsed * 1000);
    spec.usec = (spec.usec ?? 0) + usec;
    // A client that blocked gets its slowlog entry and latency sample when it is unblocked.
    if (c.blocked === null) {
      if (!(bits & F_SKIP_SLOWLOG)) s.slowlogPush(c, argv, usec);
      if (s.config.hot.latencyTracking) {
        (spec.latency ??= new LatencyHistogram()).record(elapsed * 1e6);
      }
    }
  }
  // Redis 7.0 feeds MONITOR after the command ran (with the db selected then).
  if (s.monitors.size > 0 && !(bits & (F_SKIP_MONITOR | F_ADMIN))) {
    feedMonitors(c, argv);
  }
  if (s.dirty !== dirtyBefore && bits & F_WRITE && !c.suppressPropagation) {
    s.propagate(dbBefore, c.propagateArgv ?? argv);
  }
  c.propagateArgv = null;
  c.suppressPropagation = false;
  if (replicationHooks.afterCall) replicationHooks.afterCall(c);
  // Inside EXEC, blocked clients are served once the whole transaction ran (it is atomic).
  if (s.blocking.blockedCount > 0 && !c.inExec) s.blocking.handleReady();
}

/** Stats of a blocked command once it is served or unblocked with an error (Redis
 * updateStatsOnUnblock): failed_calls, the latency sample and the slowlog entry. `usec` is the
 * time the final attempt took. */
export function statsOnUnblock(
  c: Client,
  spec: CommandSpec,
  argv: string[],
  usec: number,
  hadErrors: boolean,
): void {
  const s = c.server;
  spec.usec = (spec.usec ?? 0) + Math.round(usec);
  if (hadErrors) spec.failedCalls = (spec.failedCalls ?? 0) + 1;
  if (s.config.hot.latencyTracking) {
    (spec.latency ??= new LatencyHistogram()).record(usec * 1000);
  }
  if (!spec.flagSet!.has("skip_slowlog")) s.slowlogPush(c, argv, Math.round(usec));
}

function feedMonitors(c: Client, argv: string[]): void {
  const t = Date.now() / 1000;
  let line = `${t.toFixed(6)} [${c.dbIndex} ${c.addr}]`;
  for (const a of argv) line += ` "${reprArg(a)}"`;
  for (const m of c.server.monitors) {
    m.out.status(line);
    m.flush();
  }
}

/** Escapes an argument like sdscatrepr (used by MONITOR). */
export function reprArg(a: string): string {
  let out = "";
  for (let i = 0; i < a.length; i++) {
    const ch = a[i];
    const code = a.charCodeAt(i);
    if (ch === "\\" || ch === '"') out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (code < 32 || code > 126) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out;
}
