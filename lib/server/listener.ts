// TCP listeners and the per-connection read loop: one read, parse every complete command,
// execute, one write. Protected mode and maxclients are enforced at accept time.
import { Client } from "./client.ts";
import type { Server } from "./server.ts";
import { beginBatch, endBatch, mustWaitForPause, processCommand } from "./dispatch.ts";
import { log } from "../log.ts";
import { installMemoryReducer } from "./memory.ts";
import {
  epollEnabled,
  setBeforeSleep,
  sockaddr,
  SocketListener,
  SocketTransport,
} from "./epoll.ts";
import type { SockAddr } from "./epoll.ts";
import { PREFETCH_MAX } from "../store/dict.ts";

/** What listenAll opened: Deno listeners, or listening sockets of the epoll loop. */
export interface OpenListener {
  close(): void;
}

/** Formats a socket address like Redis ("127.0.0.1:6379", "::1:6379"). */
export function formatAddr(a: Deno.Addr): string {
  if (a.transport === "tcp") return formatHostPort({ host: a.hostname, port: a.port });
  return (a as Deno.UnixAddr).path ?? "";
}

function isLoopback(host: string): boolean {
  return host.startsWith("127.") || host === "::1" || host === "::ffff:127.0.0.1";
}

/** Protected mode message, as Redis sends it before closing. */
const PROTECTED_MSG =
  "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/** Host and port as Redis shows them: IPv6 in brackets ("127.0.0.1:6379", "[::1]:6379"). */
function formatHostPort(a: SockAddr): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Opens a listener on the epoll loop when it runs and the host is an IP literal, else a Deno
 * listener. */
function listenOn(server: Server, hostname: string, port: number): OpenListener {
  if (epollEnabled() && sockaddr(hostname, port) !== null) {
    return SocketListener.open(
      hostname,
      port,
      (t, remote, local) => acceptSocket(server, t, remote, local),
    );
  }
  const l = Deno.listen({ hostname, port, transport: "tcp" });
  acceptLoop(server, l);
  return l;
}

/** Opens listeners for every bind address; throws if none could be opened. */
export function listenAll(server: Server, port: number, binds: string[]): OpenListener[] {
  const out: OpenListener[] = [];
  const addrs = binds.length === 0 ? ["*", "-::*"] : binds;
  let failed = false;
  for (const raw of addrs) {
    const optional = raw.startsWith("-");
    const b = optional ? raw.slice(1) : raw;
    const hostname = b === "*" ? "0.0.0.0" : b === "::*" ? "::" : b;
    try {
      out.push(listenOn(server, hostname, port));
    } catch (e) {
      const wildcardPair = (hostname === "::" || hostname === "0.0.0.0") && out.length > 0;
      // Deno's "::" listener is dual-stack and covers 0.0.0.0 (the epoll loop's is IPv6-only).
      if (e instanceof Deno.errors.AddrInUse && wildcardPair) continue;
      log.warning(
        `Warning: Could not create server TCP listening socket ${b}:${port}: ${
          (e as Error).message
        }`,
      );
      if (!optional) failed = true;
    }
  }
  if (failed || out.length === 0) {
    for (const l of out) l.close();
    throw new Error(`Failed listening on port ${port} (TCP), aborting.`);
  }
  currentListeners = out;
  installMemoryReducer(server);
  return out;
}

/** Listeners opened by the last listenAll, so CONFIG SET port/bind can replace them. */
export let currentListeners: OpenListener[] = [];

/** Replaces the listeners for CONFIG SET port/bind; returns false (old ones kept) on failure.
 * A new port is opened before the old one closes. For new addresses on the same port the
 * addresses are probed first, then swapped on the next tick: Deno frees a closed listener's
 * socket only once its pending accept is dropped. */
export function relisten(
  server: Server,
  port: number,
  binds: string[],
  oldPort: number,
  oldBinds: string[],
): boolean {
  const old = currentListeners;
  if (port !== oldPort) {
    try {
      if (port !== 0) listenAll(server, port, binds);
      else currentListeners = [];
    } catch (e) {
      currentListeners = old;
      log.warning((e as Error).message);
      return false;
    }
    for (const l of old) l.close();
    return true;
  }
  for (const raw of binds) {
    const b = raw.startsWith("-") ? raw.slice(1) : raw;
    if (b === "*" || b === "::*") continue;
    try {
      Deno.listen({ hostname: b, port: 0 }).close();
    } catch (e) {
      if (raw.startsWith("-")) continue;
      log.warning(
        `Warning: Could not create server TCP listening socket ${b}:${port}: ${
          (e as Error).message
        }`,
      );
      return false;
    }
  }
  for (const l of old) l.close();
  currentListeners = [];
  setTimeout(() => {
    try {
      if (port !== 0) listenAll(server, port, binds);
    } catch (e) {
      log.warning(`${(e as Error).message} Restoring the previous bind addresses.`);
      try {
        if (oldPort !== 0) listenAll(server, oldPort, oldBinds);
      } catch { /* nothing left to listen on */ }
    }
  }, 0);
  return true;
}

async function acceptLoop(server: Server, listener: Deno.Listener): Promise<void> {
  try {
    for await (const conn of listener) {
      try {
        (conn as Deno.TcpConn).setNoDelay?.(true);
      } catch { /* not tcp */ }
      handleConnection(server, conn);
    }
  } catch {
    // listener closed
  }
}

/** Counts a new connection; returns the error Redis sends before closing it (maxclients,
 * protected mode), or null to accept it. */
function admit(server: Server, remoteHost: string): string | null {
  const cfg = server.config;
  server.stats.totalConnections++;
  if (server.clients.size >= cfg.int("maxclients")) {
    server.stats.rejectedConnections++;
    return "-ERR max number of clients reached\r\n";
  }
  // Redis 7.0 no longer looks at bind here: its default bind is "* -::*" (islocalClient).
  if (cfg.bool("protected-mode") && cfg.str("requirepass") === "" && !isLoopback(remoteHost)) {
    return PROTECTED_MSG;
  }
  return null;
}

/** Serves one connection of a Deno listener until it closes. */
async function handleConnection(server: Server, conn: Deno.Conn): Promise<void> {
  const remote = conn.remoteAddr as Deno.NetAddr;
  const refusal = admit(server, remote.hostname);
  if (refusal !== null) {
    await conn.write(new TextEncoder().encode(refusal)).catch(() => {});
    conn.close();
    return;
  }
  const c = new Client(server, conn, formatAddr(remote), formatAddr(conn.localAddr));
  server.clients.set(c.id, c);
  await serveClient(c, conn);
}

/** Takes a connection of an epoll-loop listener: from now on its readiness drives onReadable. */
function acceptSocket(server: Server, t: SocketTransport, remote: SockAddr, local: SockAddr): void {
  const refusal = admit(server, remote.host);
  if (refusal !== null) {
    const b = new TextEncoder().encode(refusal);
    t.writeNow(b, b.length); // best effort, as Redis's single write before closing
    t.close();
    return;
  }
  const c = new Client(server, t, formatHostPort(remote), formatHostPort(local), t.fd);
  server.clients.set(c.id, c);
  attachInput(c);
  const p = c.parser;
  // While a command waits for CLIENT PAUSE, input is still read (so a hang-up or the query
  // buffer limit closes the client, as in Redis) but runs only once the pause is over.
  let paused = false;
  const run = (): void => {
    const waiting = processInput(c);
    if (waiting === undefined) {
      afterInput(c, true);
      return;
    }
    // The pause loop runs everything read meanwhile, up to its last command.
    paused = true;
    waiting.then(() => {
      paused = false;
      afterInput(c, false);
    });
  };
  t.onReadable = () => {
    if (c.closed) return;
    p.maxBulkLen = server.config.hot.protoMaxBulkLen;
    let n: number;
    try {
      n = t.read(p.space());
    } catch {
      n = 0; // connection reset
    }
    if (n < 0) return;
    if (n === 0) {
      c.close();
      return;
    }
    p.end += n;
    c.netIn += n;
    server.stats.netInput += n;
    if (!paused) run();
    else if (queryBufferFull(c)) c.close();
  };
  t.start();
}

/** After a batch of input ran: the query buffer limit, then the replies, which are written once
 * every ready socket was read (flushPending), as Redis writes them in beforeSleep: a burst of
 * writes wakes a sleeping client process once, not once per socket. */
function afterInput(c: Client, inBatch: boolean): void {
  if (c.closed) return;
  if (queryBufferFull(c)) {
    c.close();
    return;
  }
  if (!inBatch) {
    if (c.out.len > 0 || c.closeAfterReply) c.flush();
  } else if ((c.out.len > 0 || c.closeAfterReply) && !c.flushPending) {
    c.flushPending = true;
    pendingFlush.push(c);
  }
}

/** Whether the client's unparsed input passed client-query-buffer-limit (logged: the caller
 * closes it). */
function queryBufferFull(c: Client): boolean {
  const pending = c.parser.pending;
  if (pending <= c.server.config.hot.clientQueryBufferLimit) return false;
  log.warning(`Closing client that reached max query buffer length (qbuf=${pending})`);
  return true;
}

/** Clients with replies to write after the current batch of socket events. */
const pendingFlush: Client[] = [];

function flushPending(): void {
  for (let i = 0; i < pendingFlush.length; i++) {
    const c = pendingFlush[i];
    c.flushPending = false;
    if (!c.closed) c.flush();
  }
  pendingFlush.length = 0;
}
setBeforeSleep(flushPending);

/** Sets what a client's input processing needs: the AUTH check and resumption after blocking. */
function attachInput(c: Client): void {
  const server = c.server;
  c.parser.authRequired = () => !c.authenticated && server.config.hot.requirepass !== "";
  c.resume = () => {
    const waiting = processInput(c);
    if (waiting) waiting.then(() => c.flush());
    else c.flush();
  };
}

/** The read-parse-execute-write loop of connections on Deno sockets: clients of Deno listeners
 * and the link to our master. */
export async function serveClient(
  c: Client,
  conn: { read(b: Uint8Array): Promise<number | null> },
): Promise<void> {
  const server = c.server;
  const p = c.parser;
  attachInput(c);
  try {
    while (!c.closed) {
      p.maxBulkLen = server.config.hot.protoMaxBulkLen;
      const space = p.space();
      const n = await conn.read(space);
      if (n === null) break;
      p.end += n;
      c.netIn += n;
      server.stats.netInput += n;
      const waiting = processInput(c);
      if (waiting) await waiting;
      if (queryBufferFull(c)) break;
      if (c.out.len > 0 || c.closeAfterReply) await c.flush();
    }
  } catch {
    // connection reset
  }
  c.close();
}

/** Executes every complete command buffered for the client. Runs synchronously and returns
 * undefined, unless a command has to wait for CLIENT PAUSE: then the returned promise settles
 * once the rest of the input ran. */
export function processInput(c: Client): Promise<void> | undefined {
  const waiting = runInput(c, null);
  return waiting === null ? undefined : waitForPause(c, waiting);
}

async function waitForPause(c: Client, argv: string[]): Promise<void> {
  let next: string[] | null = argv;
  while (next !== null) {
    if (mustWaitForPause(c, next)) {
      // Counted in INFO blocked_clients while it waits, as Redis counts postponed clients.
      c.server.pausedClients++;
      try {
        while (mustWaitForPause(c, next)) {
          await c.flush();
          await new Promise((r) => setTimeout(r, 10));
          if (c.closed) return;
        }
      } finally {
        c.server.pausedClients--;
      }
    }
    next = runInput(c, next);
  }
}

/** Runs buffered commands, starting with `first` when given (it already waited for a pause).
 * Returns a command that must wait for CLIENT PAUSE, or null when the input is used up (or the
 * client blocked or is closing). */
function runInput(c: Client, first: string[] | null): string[] | null {
  const p = c.parser;
  beginBatch(c);
  try {
    let argv = first;
    let ahead = 0;
    while (!c.closed && !c.closeAfterReply) {
      if (c.blocked) return null; // resumes when unblocked: remaining input stays buffered
      if (argv === null) {
        if (--ahead <= 0 && PREFETCH) ahead = prefetchKeys(c);
        argv = p.next();
        if (argv === null) {
          if (p.error) {
            c.error(p.error.reply);
            log.verbose(
              `Protocol error (${p.error.reason}) from client: id=${c.id} addr=${c.addr}`,
            );
            c.closeAfterReply = true;
          }
          return null;
        }
        if (mustWaitForPause(c, argv)) return argv;
      }
      runCommand(c, argv);
      argv = null;
    }
    return null;
  } finally {
    endBatch();
  }
}

const PREFETCH = Deno.env.get("TSREDIS_PREFETCH") !== "0";

/** Before a pipeline runs, loads the keyspace entries its next commands will look up, all at
 * once (KeyDict.prefetch): for GET over 100000 keys, a lookup is otherwise four cache misses
 * one after the other. Returns how many commands that covered (0: fewer than two buffered). */
function prefetchKeys(c: Client): number {
  const p = c.parser;
  const n = p.keyHashes(PREFETCH_MAX);
  if (n > 0) c.db.dict.prefetch(p.aheadHashes, n);
  return n;
}

/** Runs one command, applying CLIENT REPLY OFF/SKIP to its reply. */
function runCommand(c: Client, argv: string[]): void {
  const wasSkip = c.skipNext;
  const wasOff = c.replyMode === "off";
  if (!wasSkip && !wasOff) {
    processCommand(c, argv);
    return;
  }
  const before = c.out.len;
  c.pushKeep = [];
  processCommand(c, argv);
  const keep = c.pushKeep;
  c.pushKeep = null;
  // Like Redis, CLIENT REPLY ON and RESET issued while replies are off still get their reply.
  if (wasSkip || (wasOff && c.replyMode === "off")) {
    // Pub/Sub pushes (subscribe confirmations, messages to itself) bypass CLIENT REPLY, as in Redis.
    const kept = (keep ?? []).filter(([a]) => a >= before)
      .map(([a, b]) => new Uint8Array(c.out.buf.subarray(a, b)));
    c.out.len = before;
    for (const k of kept) c.out.rawBytes(k);
    if (wasSkip) c.skipNext = false;
  }
}
