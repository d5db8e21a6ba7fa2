// The benchmark's floor: the least a Deno RESP server can do per request. `deno task bench
// --floor` runs it next to tsredis and redis-server, so every run shows how much of tsredis's
// cost is Deno itself (the op layer around conn.read/conn.write, V8) and how much is tsredis.
//
// It is the loop ../shared/PERFORMANCE.md describes: Deno.listen, one read, parse every complete
// command, one write; values are latin1 strings in a JS Map. It implements only what the floor
// rows of the benchmark need (PING, GET, SET, INCR, MSET, FLUSHALL, and CONFIG GET answered empty
// for redis-benchmark's start-up): it is a yardstick, not a server. No expiry, no options, no
// error replies beyond "-ERR".
//
//   deno run --allow-net scripts/bench_floor.ts --port 7000
import { parseArgs } from "node:util";
import { Buffer } from "node:buffer";

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

async function serve(conn: Deno.Conn): Promise<void> {
  let buf = Buffer.allocUnsafe(64 * 1024);
  let out = new Uint8Array(64 * 1024);
  let start = 0;
  let end = 0;
  try {
    while (true) {
      if (start === end) start = end = 0;
      if (buf.length - end < 16 * 1024) {
        const nb = Buffer.allocUnsafe(Math.max(buf.length, (end - start) * 2 + 16 * 1024));
        buf.copy(nb, 0, start, end);
        end -= start;
        start = 0;
        buf = nb;
      }
      const n = await conn.read(new Uint8Array(buf.buffer, buf.byteOffset + end, buf.length - end));
      if (n === null) break;
      end += n;
      let o = 0;
      while (start < end) {
        // One complete `*N\r\n($len\r\n<bytes>\r\n)*N` command, or wait for more input.
        let p = start;
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
        start = p;
        if (out.length - o < 64 * 1024) {
          const no = new Uint8Array(out.length * 2);
          no.set(out.subarray(0, o));
          out = no;
        }
        o = exec(argv, out, o);
      }
      let w = 0;
      while (w < o) w += await conn.write(out.subarray(w, o));
    }
  } catch { /* connection reset */ }
  try {
    conn.close();
  } catch { /* already closed */ }
}

// Exit through Deno.exit on SIGINT/SIGTERM, so --cpu-prof can write its profile.
for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => Deno.exit(0));
const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(opt.port) });
for await (const conn of listener) {
  conn.setNoDelay(true);
  serve(conn);
}
