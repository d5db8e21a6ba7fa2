// The benchmark's floor: the least a Deno RESP server can do per request. `deno task bench
// --floor` runs it next to tsredis and redis-server, so every run shows how much of tsredis's
// cost is Deno itself (the op layer around conn.read/conn.write, V8) and how much is tsredis.
//
// It is the loop ../shared/PERFORMANCE.md describes: one read, parse every complete command, one
// write; values are latin1 strings in a JS Map. Its sockets are tsredis's own: the epoll loop of
// lib/server/epoll.ts where tsredis uses it (Linux), else Deno.listen (TSREDIS_IO=deno). It implements only what the floor
// rows of the benchmark need (PING, GET, SET, INCR, MSET, FLUSHALL, and CONFIG GET answered empty
// for redis-benchmark's start-up): it is a yardstick, not a server. No expiry, no options, no
// error replies beyond "-ERR".
//
//   deno run --allow-net scripts/bench_floor.ts --port 7000
import { parseArgs } from "node:util";
import { Buffer } from "node:buffer";
import {
  epollEnabled,
  setBeforeSleep,
  SocketListener,
  SocketTransport,
} from "../lib/server/epoll.ts";

const { values: opt } = parseArgs({ options: { port: { type: "string", default: "6399" } } });

const data = new Map<string, string>();
interface Latin1 {
  latin1Slice(start: number, end: number): string;
}

/** Appends latin1 text to out at o; returns the new end. */
function put(out: Uint8Array, o: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[o++] = s.charCodeAt(i);
  return o;
}

/** Executes one command, writes its reply at o; returns the new end. */
function exec(argv: string[], out: Uint8Array, o: number): number {
  const name = argv[0].toLowerCase();
  if (name === "get") {
    const v = data.get(argv[1]);
    return v === undefined ? put(out, o, "$-1\r\n") : put(out, o, `$${v.length}\r\n${v}\r\n`);
  }
  if (name === "set") {
    data.set(argv[1], argv[2]);
    return put(out, o, "+OK\r\n");
  }
  if (name === "incr") {
    const n = Number(data.get(argv[1]) ?? "0") + 1;
    data.set(argv[1], String(n));
    return put(out, o, `:${n}\r\n`);
  }
  if (name === "mset") {
    for (let i = 1; i + 1 < argv.length; i += 2) data.set(argv[i], argv[i + 1]);
    return put(out, o, "+OK\r\n");
  }
  if (name === "ping") return put(out, o, "+PONG\r\n");
  if (name === "flushall") {
    data.clear();
    return put(out, o, "+OK\r\n");
  }
  if (name === "config") return put(out, o, "*0\r\n");
  return put(out, o, "-ERR unknown command\r\n");
}

/** Parses a decimal number in buf[from,to). */
function num(buf: Uint8Array, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + buf[i] - 48;
  return v;
}

/** Per-connection input: a Buffer-backed read buffer with the unparsed bytes in [start, end). */
class Input {
  buf = Buffer.allocUnsafe(64 * 1024);
  start = 0;
  end = 0;

  /** Free space at the end, made at least 16 KiB. */
  space(): Uint8Array {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.buf.length - this.end < 16 * 1024) {
      const live = this.end - this.start;
      const nb = Buffer.allocUnsafe(Math.max(this.buf.length, live * 2 + 16 * 1024));
      this.buf.copy(nb, 0, this.start, this.end);
      this.start = 0;
      this.end = live;
      this.buf = nb;
    }
    return new Uint8Array(
      this.buf.buffer,
      this.buf.byteOffset + this.end,
      this.buf.length - this.end,
    );
  }
}

let out = new Uint8Array(64 * 1024);

/** Executes every complete `*N\r\n($len\r\n<bytes>\r\n)*N` command in the input; returns the
 * length of the replies written to `out`. */
function runAll(inp: Input): number {
  const buf = inp.buf;
  const end = inp.end;
  let o = 0;
  while (inp.start < end) {
    let p = inp.start;
    let cr = buf.indexOf(13, p);
    if (buf[p] !== 42 || cr < 0 || cr + 1 >= end) break;
    const argc = num(buf, p + 1, cr);
    p = cr + 2;
    const argv: string[] = new Array(argc);
    let i = 0;
    for (; i < argc; i++) {
      cr = p < end ? buf.indexOf(13, p) : -1;
      if (cr < 0 || cr + 1 >= end) break;
      const len = num(buf, p + 1, cr);
      p = cr + 2;
      if (p + len + 2 > end) break;
      argv[i] = (buf as unknown as Latin1).latin1Slice(p, p + len);
      p += len + 2;
    }
    if (i < argc) break;
    inp.start = p;
    if (out.length - o < 64 * 1024) {
      const no = new Uint8Array(out.length * 2);
      no.set(out.subarray(0, o));
      out = no;
    }
    o = exec(argv, out, o);
  }
  return o;
}

/** A connection on Deno's sockets: await a read, run, await the write. */
async function serve(conn: Deno.Conn): Promise<void> {
  const inp = new Input();
  try {
    while (true) {
      const n = await conn.read(inp.space());
      if (n === null) break;
      inp.end += n;
      const o = runAll(inp);
      let w = 0;
      while (w < o) w += await conn.write(out.subarray(w, o));
    }
  } catch { /* connection reset */ }
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** A connection on tsredis's epoll loop (the transport tsredis uses): synchronous read on
 * readiness; the replies of every socket read in one batch of events are written after the
 * batch (setBeforeSleep), as tsredis and Redis do. */
interface Pending {
  t: SocketTransport;
  replies: Uint8Array;
}
const pending: Pending[] = [];
setBeforeSleep(() => {
  for (const { t, replies } of pending) {
    const w = t.writeNow(replies, replies.length);
    if (w < 0) t.close();
    else if (w < replies.length) {
      // The socket is full: no more input until the rest is out, so replies stay in order.
      t.pauseReading(true);
      (async () => {
        for (let off = w; off < replies.length;) off += await t.write(replies.subarray(off));
        t.pauseReading(false);
      })().catch(() => t.close());
    }
  }
  pending.length = 0;
});

function serveSocket(t: SocketTransport): void {
  const inp = new Input();
  t.onReadable = () => {
    let n: number;
    try {
      n = t.read(inp.space());
    } catch {
      n = 0;
    }
    if (n < 0) return;
    if (n === 0) return t.close();
    inp.end += n;
    const o = runAll(inp);
    if (o > 0) pending.push({ t, replies: out.slice(0, o) });
  };
  t.start();
}

// Exit through Deno.exit on SIGINT/SIGTERM, so --cpu-prof can write its profile.
for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => Deno.exit(0));
if (epollEnabled()) {
  SocketListener.open("127.0.0.1", Number(opt.port), (t) => serveSocket(t));
} else {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(opt.port) });
  for await (const conn of listener) {
    conn.setNoDelay(true);
    serve(conn);
  }
}
