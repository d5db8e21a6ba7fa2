// processCommand: lookup -> arity -> auth -> cluster routing -> replica/loading checks ->
// pub/sub context -> MULTI queue -> call. The order follows Redis's processCommand.
import type { Client } from "./client.ts";
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

/** Finds the spec for argv (container commands resolve their subcommand). */
export function lookupCommand(
  c: Client,
  argv: string[],
): { spec: CommandSpec | null; err: string | null } {
  const spec = findCommand(c, argv);
  return spec ? { spec, err: null } : { spec: null, err: lookupError };
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

type HotSpec = CommandSpec & { hotFlags?: number; hotSet?: Set<string> };

function flagBits(spec: CommandSpec): number {
  const h = spec as HotSpec;
  if (h.hotSet === spec.flagSet && h.hotFlags !== undefined) return h.hotFlags;
  const f = spec.flagSet!;
  const bits = (f.has("write") ? F_WRITE : 0) | (f.has("protected") ? F_PROTECTED : 0) |
    (f.has("no_auth") ? F_NO_AUTH : 0) | (f.has("no_multi") ? F_NO_MULTI : 0) |
    (f.has("loading") ? F_LOADING : 0) | (f.has("skip_slowlog") ? F_SKIP_SLOWLOG : 0) |
    (f.has("skip_monitor") ? F_SKIP_MONITOR : 0) | (f.has("admin") ? F_ADMIN : 0);
  h.hotSet = spec.flagSet;
  h.hotFlags = bits;
  return bits;
}

/** Clock chaining for a batch of pipelined commands: while the listener runs the commands of
 * one read (between beginBatch and endBatch), the end time of a top-level call() is the start
 * time of the next one, so n commands read the clock n + 1 times instead of 2n
 * (performance.now() costs ~150 ns here). The little time between two commands (parsing,
 * lookup) is counted with the second one. */
let batchDepth = 0;
let batchActive = false;
let chainedT = -1;

/** The listener starts running the commands of one read (batches nest when a command resumes
 * an unblocked client). */
export function beginBatch(c: Client): void {
  batchActive = ++batchDepth > 0;
  chainedT = -1;
  c.lastInteraction = Date.now();
}

/** The listener stopped running commands (end of the read, a pause, a blocked client). */
export function endBatch(): void {
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
  if (s.pauseUntil === 0 || c.isMaster || c.isReplica) return false;
  if (Date.now() >= s.pauseUntil) {
    s.pauseUntil = 0;
    return false;
  }
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
  if (!c.authenticated && !(bits & F_NO_AUTH) && s.config.str("requirepass") !== "") {
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
  if (s.config.int("maxmemory") > 0 && outOfMemory(s)) {
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
  if (s.isReplica && isWrite && !c.isMaster && s.config.bool("replica-read-only")) {
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
  const t0 = chainedT >= 0 && prev === null ? chainedT : performance.now();
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
  const t1 = performance.now();
  if (batchActive && prev === null) chainedT = t1;
  const elapsed = t1 - t0;
  const usec = Math.round(elapsed * 1000);
  spec.calls = (spec.calls ?? 0) + 1;
  spec.usec = (spec.usec ?? 0) + usec;
  if (s.stats.totalErrorReplies !== errorMark) spec.failedCalls = (spec.failedCalls ?? 0) + 1;
  errorMark = s.stats.totalErrorReplies;
  s.stats.totalCommands++;
  // A client that blocked gets its slowlog entry and latency sample when it is unblocked.
  if (c.blocked === null) {
    const bits = flagBits(spec);
    if (!(bits & F_SKIP_SLOWLOG)) s.slowlogPush(c, argv, usec);
    if (s.config.bool("latency-tracking")) {
      (spec.latency ??= new LatencyHistogram()).record(elapsed * 1e6);
    }
  }
  // Redis 7.0 feeds MONITOR after the command ran (with the db selected then).
  if (s.monitors.size > 0 && !(flagBits(spec) & (F_SKIP_MONITOR | F_ADMIN))) {
    feedMonitors(c, argv);
  }
  if (s.dirty !== dirtyBefore && flagBits(spec) & F_WRITE && !c.suppressPropagation) {
    s.propagate(dbBefore, c.propagateArgv ?? argv);
  }
  c.propagateArgv = null;
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
  if (s.config.bool("latency-tracking")) {
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
