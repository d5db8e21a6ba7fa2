// TCP listeners and the per-connection read loop: one read, parse every complete command,
// execute, one write. Protected mode and maxclients are enforced at accept time.
import { Client } from "./client.ts";
import type { Server } from "./server.ts";
import { mustWaitForPause, processCommand } from "./dispatch.ts";
import { log } from "../log.ts";

/** Formats a socket address like Redis ("127.0.0.1:6379", "::1:6379"). */
export function formatAddr(a: Deno.Addr): string {
  if (a.transport === "tcp") return `${a.hostname}:${a.port}`;
  return (a as Deno.UnixAddr).path ?? "";
}

function isLoopback(host: string): boolean {
  return host.startsWith("127.") || host === "::1" || host === "::ffff:127.0.0.1";
}

/** Protected mode message, as Redis sends it before closing. */
const PROTECTED_MSG =
  "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/** Opens listeners for every bind address; throws if none could be opened. */
export function listenAll(server: Server, port: number, binds: string[]): Deno.Listener[] {
  const out: Deno.Listener[] = [];
  const addrs = binds.length === 0 ? ["*", "-::*"] : binds;
  let failed = false;
  for (const raw of addrs) {
    const optional = raw.startsWith("-");
    const b = optional ? raw.slice(1) : raw;
    const hostname = b === "*" ? "0.0.0.0" : b === "::*" ? "::" : b;
    try {
      out.push(Deno.listen({ hostname, port, transport: "tcp" }));
    } catch (e) {
      const wildcardPair = (hostname === "::" || hostname === "0.0.0.0") && out.length > 0;
      if (e instanceof Deno.errors.AddrInUse && wildcardPair) continue; // dual-stack :: covers 0.0.0.0
      log.warning(`Warning: Could not create server TCP listening socket ${b}:${port}: ${(e as Error).message}`);
      if (!optional) failed = true;
    }
  }
  if (failed || out.length === 0) {
    for (const l of out) l.close();
    throw new Error(`Failed listening on port ${port} (TCP), aborting.`);
  }
  for (const l of out) acceptLoop(server, l);
  return out;
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

/** Serves one connection until it closes. */
async function handleConnection(server: Server, conn: Deno.Conn): Promise<void> {
  const remote = conn.remoteAddr as Deno.NetAddr;
  const cfg = server.config;
  server.stats.totalConnections++;
  if (server.clients.size >= cfg.int("maxclients")) {
    server.stats.rejectedConnections++;
    await conn.write(new TextEncoder().encode("-ERR max number of clients reached\r\n")).catch(() => {});
    conn.close();
    return;
  }
  if (
    cfg.bool("protected-mode") && cfg.str("requirepass") === "" && !isLoopback(remote.hostname) &&
    !cfg.explicitlySet.has("bind")
  ) {
    await conn.write(new TextEncoder().encode(PROTECTED_MSG)).catch(() => {});
    conn.close();
    return;
  }
  const c = new Client(server, conn, formatAddr(remote), formatAddr(conn.localAddr));
  server.clients.set(c.id, c);
  await serveClient(c, conn);
}

/** The read-parse-execute-write loop shared by client and master connections. */
export async function serveClient(c: Client, conn: { read(b: Uint8Array): Promise<number | null> }): Promise<void> {
  const server = c.server;
  const p = c.parser;
  p.authRequired = () => !c.authenticated && server.config.str("requirepass") !== "";
  c.resume = () => {
    processInput(c).then(() => c.flush());
  };
  try {
    while (!c.closed) {
      p.maxBulkLen = server.config.int("proto-max-bulk-len");
      const space = p.space();
      const n = await conn.read(space);
      if (n === null) break;
      p.end += n;
      c.netIn += n;
      server.stats.netInput += n;
      await processInput(c);
      if (p.pending > server.config.int("client-query-buffer-limit")) {
        log.warning(`Closing client that reached max query buffer length (qbuf=${p.pending})`);
        break;
      }
      await c.flush();
    }
  } catch {
    // connection reset
  }
  c.close();
}

/** Executes every complete command buffered for the client. */
export async function processInput(c: Client): Promise<void> {
  const p = c.parser;
  while (!c.closed && !c.closeAfterReply) {
    if (c.blocked) return; // resumes when unblocked: remaining input stays buffered
    const argv = p.next();
    if (argv === null) {
      if (p.error) {
        c.error(p.error.reply);
        log.verbose(`Protocol error (${p.error.reason}) from client: id=${c.id} addr=${c.addr}`);
        c.closeAfterReply = true;
      }
      return;
    }
    while (mustWaitForPause(c, argv)) {
      await c.flush();
      await new Promise((r) => setTimeout(r, 10));
      if (c.closed) return;
    }
    const skip = c.replyMode === "off" || c.skipNext;
    const before = c.out.len;
    processCommand(c, argv);
    if (skip) {
      c.out.len = before;
      c.skipNext = false;
    }
  }
}
