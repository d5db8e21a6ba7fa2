// Test helpers: start real tsredis (or redis-server) processes on free ports, and a small RESP
// client that returns parsed replies or the raw bytes, for exact-reply assertions.
import { Buffer } from "node:buffer";

const ROOT = new URL("..", import.meta.url).pathname;

/** A free TCP port on loopback (also checks port+10000 for the cluster bus). */
export function freePort(withBus = false): number {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    try {
      const l = Deno.listen({ hostname: "127.0.0.1", port });
      l.close();
      if (withBus) {
        const b = Deno.listen({ hostname: "127.0.0.1", port: port + 10000 });
        b.close();
      }
      return port;
    } catch { /* in use */ }
  }
  throw new Error("no free port");
}

/** A RESP reply: strings for bulk/simple, numbers, arrays, null, or an Error for `-` replies. */
export type Reply = string | number | bigint | null | boolean | Reply[] | Error | Map<Reply, Reply>;

/** Minimal RESP2/RESP3 client over TCP. */
export class RespClient {
  private buf = Buffer.alloc(0);
  private constructor(public conn: Deno.TcpConn) {}

  /** Connects to host:port. */
  static async connect(port: number, hostname = "127.0.0.1"): Promise<RespClient> {
    return new RespClient(await Deno.connect({ hostname, port }));
  }

  /** Sends a command as a multibulk request and reads one reply. */
  async call(...args: (string | number)[]): Promise<Reply> {
    await this.send(...args);
    return await this.read();
  }

  /** Sends a command without reading. */
  async send(...args: (string | number)[]): Promise<void> {
    let s = `*${args.length}\r\n`;
    for (const a of args) {
      const v = String(a);
      s += `$${Buffer.byteLength(v, "latin1")}\r\n${v}\r\n`;
    }
    await this.writeRaw(Buffer.from(s, "latin1"));
  }

  /** Writes raw bytes (or a latin1 string). */
  async writeRaw(data: string | Uint8Array): Promise<void> {
    const b = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    let off = 0;
    while (off < b.length) off += await this.conn.write(b.subarray(off));
  }

  private pendingFill: Promise<boolean> | null = null;

  /** One socket read at a time: a read left pending by a timed-out readRaw is reused, not raced. */
  private fill(): Promise<boolean> {
    if (!this.pendingFill) {
      this.pendingFill = this.fillOnce().finally(() => this.pendingFill = null);
    }
    return this.pendingFill;
  }

  private async fillOnce(): Promise<boolean> {
    const chunk = new Uint8Array(65536);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    this.buf = Buffer.concat([this.buf, chunk.subarray(0, n)]);
    return true;
  }

  /** Reads raw bytes until at least `n` are available or the peer closes; returns what came. */
  async readRaw(timeoutMs = 1000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const t = new Promise<"t">((r) =>
        setTimeout(() => r("t"), Math.max(1, deadline - Date.now()))
      );
      const r = await Promise.race([this.fill().then((ok) => ok ? "d" : "c"), t]);
      if (r !== "d") break;
    }
    const s = this.buf.toString("latin1");
    this.buf = Buffer.alloc(0);
    return s;
  }

  /** True once the server closed the connection (read returns EOF). */
  async closedByPeer(timeoutMs = 1000): Promise<boolean> {
    const t = new Promise<"t">((r) => setTimeout(() => r("t"), timeoutMs));
    try {
      while (true) {
        const r = await Promise.race([this.fill().then((ok) => ok ? "d" : "c"), t]);
        if (r === "c") return true;
        if (r === "t") return false;
      }
    } catch {
      return true;
    }
  }

  private async line(): Promise<string> {
    while (true) {
      const i = this.buf.indexOf("\r\n");
      if (i >= 0) {
        const l = this.buf.toString("latin1", 0, i);
        this.buf = this.buf.subarray(i + 2);
        return l;
      }
      if (!(await this.fill())) throw new Error("connection closed");
    }
  }

  private async bytes(n: number): Promise<string> {
    while (this.buf.length < n + 2) if (!(await this.fill())) throw new Error("connection closed");
    const s = this.buf.toString("latin1", 0, n);
    this.buf = this.buf.subarray(n + 2);
    return s;
  }

  /** Reads and parses one reply. */
  async read(): Promise<Reply> {
    const l = await this.line();
    const t = l[0];
    const rest = l.slice(1);
    switch (t) {
      case "+":
        return rest;
      case "-":
        return new Error(rest);
      case ":":
        return Number(rest);
      case "(":
        return BigInt(rest);
      case ",":
        return rest === "inf" ? Infinity : rest === "-inf" ? -Infinity : Number(rest);
      case "#":
        return rest === "t";
      case "_":
        return null;
      case "$":
      case "=": {
        const n = Number(rest);
        if (n < 0) return null;
        const s = await this.bytes(n);
        return t === "=" ? s.slice(4) : s;
      }
      case "*":
      case "~":
      case ">": {
        const n = Number(rest);
        if (n < 0) return null;
        const out: Reply[] = [];
        for (let i = 0; i < n; i++) out.push(await this.read());
        return out;
      }
      case "%": {
        const n = Number(rest);
        const m = new Map<Reply, Reply>();
        for (let i = 0; i < n; i++) m.set(await this.read(), await this.read());
        return m;
      }
      default:
        throw new Error(`bad reply type: ${l}`);
    }
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/** A running server process. */
export class ServerProcess {
  output = "";
  /** Set once the process has exited. */
  hasExited = false;
  private decoder = new TextDecoder();
  private done: Promise<Deno.CommandStatus>;
  constructor(public proc: Deno.ChildProcess, public port: number, public dir: string) {
    this.done = proc.status;
    this.done.then(() => this.hasExited = true);
    this.collect(proc.stdout);
    this.collect(proc.stderr);
  }

  private async collect(s: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of s) this.output += this.decoder.decode(chunk);
    } catch { /* closed */ }
  }

  /** Connects a RESP client. */
  client(): Promise<RespClient> {
    return RespClient.connect(this.port);
  }

  /** Sends a signal and waits for exit; returns the exit code. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
    try {
      this.proc.kill(signal);
    } catch { /* gone */ }
    const t = setTimeout(() => {
      try {
        this.proc.kill("SIGKILL");
      } catch { /* gone */ }
    }, 10000);
    const st = await this.done;
    clearTimeout(t);
    await new Promise((r) => setTimeout(r, 20));
    return st.code;
  }

  /** Waits for the process to exit by itself. */
  async exited(): Promise<number> {
    return (await this.done).code;
  }
}

/** Options for starting a server. */
export interface StartOptions {
  args?: string[];
  dir?: string;
  port?: number;
  /** Use real redis-server instead of tsredis. */
  redis?: boolean;
  /** Config file text written to dir/redis.conf and passed first. */
  conf?: string;
  /** Don't wait for PING. */
  noWait?: boolean;
  /** Extra environment variables (TSREDIS_IO=deno: Deno's sockets instead of the epoll loop). */
  env?: Record<string, string>;
}

/** Starts tsredis (or redis-server) on a free port in a temp dir and waits until it answers. */
export async function startServer(opts: StartOptions = {}): Promise<ServerProcess> {
  // A port found free can be taken by an outgoing connection's ephemeral port before the server
  // binds it: with a port of our own choosing, try another one.
  for (let attempt = 1;; attempt++) {
    const port = opts.port ?? freePort(true);
    try {
      return await startOn(port, opts);
    } catch (e) {
      const lost = (e as Error).message.includes(`Failed listening on port ${port}`);
      if (opts.port !== undefined || !lost || attempt >= 3) throw e;
    }
  }
}

async function startOn(port: number, opts: StartOptions): Promise<ServerProcess> {
  const dir = opts.dir ?? Deno.makeTempDirSync({ prefix: "tsredis-test-" });
  const args: string[] = [];
  if (opts.conf !== undefined) {
    Deno.writeTextFileSync(`${dir}/redis.conf`, opts.conf);
    args.push(`${dir}/redis.conf`);
  }
  args.push("--port", String(port), "--dir", dir);
  if (!opts.args?.includes("--save")) args.push("--save", "");
  args.push(...(opts.args ?? []));
  const cmd = opts.redis
    ? new Deno.Command("redis-server", { args, stdout: "piped", stderr: "piped", cwd: dir })
    : new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--no-check", "--quiet", `${ROOT}main.ts`, ...args],
      stdout: "piped",
      stderr: "piped",
      cwd: dir,
      env: opts.env,
    });
  const sp = new ServerProcess(cmd.spawn(), port, dir);
  if (!opts.noWait) await waitForPing(port, sp);
  return sp;
}

/** Polls PING until the server answers (10 s at most). */
export async function waitForPing(port: number, sp?: ServerProcess): Promise<void> {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    try {
      const c = await RespClient.connect(port);
      const r = await c.call("PING");
      c.close();
      if (r === "PONG" || r instanceof Error) return;
    } catch { /* not yet */ }
    if (sp?.hasExited) {
      await new Promise((r) => setTimeout(r, 50)); // the last output
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server on ${port} did not answer PING:\n${sp?.output ?? ""}`);
}

/** Runs redis-cli with args against a port; returns stdout (trimmed) and the exit code. */
export async function redisCli(
  port: number,
  args: string[],
  stdin?: string,
): Promise<{ out: string; code: number }> {
  const p = new Deno.Command("redis-cli", {
    args: ["-p", String(port), ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const o = await p.output();
  return { out: new TextDecoder().decode(o.stdout).trim(), code: o.code };
}

/** True if a binary is on PATH. */
export function hasBinary(name: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${name}`] }).outputSync().success;
  } catch {
    return false;
  }
}

/** Runs fn with a fresh tsredis and a connected client, stopping both afterwards. */
export async function withServer(
  fn: (c: RespClient, s: ServerProcess) => Promise<void>,
  opts: StartOptions = {},
): Promise<void> {
  const s = await startServer(opts);
  const c = await s.client();
  try {
    await fn(c, s);
  } finally {
    c.close();
    await s.stop();
  }
}

/** Runs fn with a client of a fresh tsredis and one of a fresh real redis-server (replies
 * compared side by side), then stops both. */
export async function withTsredisAndRedis(
  fn: (ts: RespClient, real: RespClient) => Promise<void>,
  opts: StartOptions = {},
): Promise<void> {
  const servers: ServerProcess[] = [];
  const clients: RespClient[] = [];
  try {
    servers.push(await startServer(opts));
    servers.push(await startServer({ ...opts, redis: true }));
    for (const s of servers) clients.push(await s.client());
    await fn(clients[0], clients[1]);
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) await s.stop();
  }
}

/** A small deterministic PRNG (mulberry32) returning [0, 1), so a failing seed can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Polls INFO until `n` clients are blocked (a blocking command sent on another connection has
 * been processed: two connections' commands have no order otherwise). */
export async function waitBlocked(c: RespClient, n: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const info = String(await c.call("INFO", "clients"));
    const m = /blocked_clients:(\d+)/.exec(info);
    if (m && Number(m[1]) === n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never saw ${n} blocked clients`);
}

const tempDirs: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const d of tempDirs) {
    try {
      Deno.removeSync(d, { recursive: true });
    } catch { /* already gone */ }
  }
});

/** A temporary directory, removed when the test file's run ends. */
export function tempDir(prefix = "tsredis-test-"): string {
  const d = Deno.makeTempDirSync({ prefix });
  tempDirs.push(d);
  return d;
}

/** Runs redis-check-rdb on a file, asserts it accepts it, and returns its report. */
export async function checkRdb(path: string): Promise<string> {
  const out = await new Deno.Command("redis-check-rdb", {
    args: [path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(`redis-check-rdb ${path} failed:\n${text}`);
  return text;
}
