// processCommand: lookup -> arity -> auth -> cluster routing -> replica/loading checks ->
// pub/sub context -> MULTI queue -> call. The order follows Redis's processCommand.
import type { Client } from "./client.ts";
import type { CommandSpec } from "../commands/types.ts";

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

/** Finds the spec for argv (container commands resolve their subcommand). */
export function lookupCommand(
  c: Client,
  argv: string[],
): { spec: CommandSpec | null; err: string | null } {
  const name = argv[0].toLowerCase();
  const top = c.server.commands.get(name);
  if (!top) {
    let args = "";
    for (let i = 1; i < argv.length && args.length < 128; i++) {
      args += `'${argv[i].slice(0, 128 - args.length)}' `;
    }
    return {
      spec: null,
      err: `ERR unknown command '${argv[0].slice(0, 128)}', with args beginning with: ${args}`
        .replace(/[\r\n]/g, " "),
    };
  }
  if (top.subcommands && argv.length >= 2) {
    const sub = top.subcommands.get(argv[1].toLowerCase());
    if (!sub) {
      return {
        spec: null,
        err: `ERR unknown subcommand '${argv[1].slice(0, 128)}'. Try ${name.toUpperCase()} HELP.`
          .replace(/[\r\n]/g, " "),
      };
    }
    return { spec: sub, err: null };
  }
  return { spec: top, err: null };
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
  c.lastInteraction = Date.now();
  const { spec, err } = lookupCommand(c, argv);
  if (!spec) {
    reject(c, err!);
    return true;
  }
  c.lastCmd = spec.fullname!;
  const arityErr = checkArity(spec, argv.length);
  if (arityErr) {
    reject(c, arityErr, spec);
    return true;
  }
  const flags = spec.flagSet!;
  if (flags.has("protected") && spec.name === "debug") {
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
  if (!c.authenticated && s.config.str("requirepass") !== "" && !flags.has("no_auth")) {
    reject(c, "NOAUTH Authentication required.", spec);
    return true;
  }
  if (c.multi && flags.has("no_multi")) {
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
  const isWrite = flags.has("write") ||
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
  if (s.loading && !flags.has("loading")) {
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
  const { spec } = lookupCommand(c, argv);
  return spec !== null && isPaused(c, spec);
}

/** Runs a command: stats, slowlog, MONITOR, propagation of writes that changed the dataset. */
export function call(c: Client, spec: CommandSpec, argv: string[]): void {
  const s = c.server;
  const dirtyBefore = s.dirty;
  const errorsBefore = s.stats.totalErrorReplies;
  const prev = s.currentClient;
  s.currentClient = c;
  if (s.monitors.size > 0 && !spec.flagSet!.has("skip_monitor") && !spec.flagSet!.has("admin")) {
    feedMonitors(c, argv);
  }
  const t0 = performance.now();
  const dbBefore = c.dbIndex;
  try {
    spec.handler(c, argv);
  } catch (e) {
    c.error(`ERR ${(e as Error).message}`);
  } finally {
    s.currentClient = prev;
  }
  const usec = Math.round((performance.now() - t0) * 1000);
  spec.calls = (spec.calls ?? 0) + 1;
  spec.usec = (spec.usec ?? 0) + usec;
  if (s.stats.totalErrorReplies !== errorsBefore) spec.failedCalls = (spec.failedCalls ?? 0) + 1;
  s.stats.totalCommands++;
  if (!spec.flagSet!.has("skip_slowlog")) s.slowlogPush(c, argv, usec);
  if (s.dirty !== dirtyBefore && spec.flagSet!.has("write") && !c.suppressPropagation) {
    s.propagate(dbBefore, c.propagateArgv ?? argv);
  }
  c.propagateArgv = null;
  if (replicationHooks.afterCall) replicationHooks.afterCall(c);
  // Inside EXEC, blocked clients are served once the whole transaction ran (it is atomic).
  if (s.blocking.blockedCount > 0 && !c.inExec) s.blocking.handleReady();
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
