// A minimal redis-cli stand-in for the demo on machines without redis-tools:
//   deno run -A scripts/resp_cli.ts -p PORT [-c] command args...
// Prints replies the way redis-cli does when stdout is not a terminal (raw strings, one array
// element per line, errors as their text); -c follows MOVED/ASK redirections like redis-cli -c.
import { Buffer } from "node:buffer";

type Reply = string | number | null | Reply[] | { error: string };

async function call(port: number, argv: string[], asking = false): Promise<Reply> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const enc = (a: string[]) =>
      `*${a.length}\r\n` + a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join("");
    const payload = (asking ? enc(["ASKING"]) : "") + enc(argv);
    await conn.write(new TextEncoder().encode(payload));
    let buf = Buffer.alloc(0);
    const fill = async () => {
      const chunk = new Uint8Array(65536);
      const n = await conn.read(chunk);
      if (n === null) throw new Error("connection closed");
      buf = Buffer.concat([buf, chunk.subarray(0, n)]);
    };
    const line = async (): Promise<string> => {
      for (;;) {
        const i = buf.indexOf("\r\n");
        if (i >= 0) {
          const l = buf.toString("utf8", 0, i);
          buf = buf.subarray(i + 2);
          return l;
        }
        await fill();
      }
    };
    const read = async (): Promise<Reply> => {
      const l = await line();
      const t = l[0], rest = l.slice(1);
      if (t === "+") return rest;
      if (t === "-") return { error: rest };
      if (t === ":") return Number(rest);
      if (t === "$") {
        const n = Number(rest);
        if (n < 0) return null;
        while (buf.length < n + 2) await fill();
        const s = buf.toString("utf8", 0, n);
        buf = buf.subarray(n + 2);
        return s;
      }
      if (t === "*") {
        const n = Number(rest);
        if (n < 0) return null;
        const out: Reply[] = [];
        for (let i = 0; i < n; i++) out.push(await read());
        return out;
      }
      throw new Error(`unexpected reply: ${l}`);
    };
    if (asking) await read();
    return await read();
  } finally {
    conn.close();
  }
}

function print(r: Reply): string {
  if (r === null) return "";
  if (Array.isArray(r)) return r.map(print).join("\n");
  if (typeof r === "object") return r.error;
  return String(r);
}

const args = [...Deno.args];
let port = 6379;
let follow = false;
while (args.length && args[0].startsWith("-")) {
  const a = args.shift()!;
  if (a === "-p") port = Number(args.shift());
  else if (a === "-c") follow = true;
}
let target = port;
let asking = false;
for (let hop = 0; hop < 16; hop++) {
  let r: Reply;
  try {
    r = await call(target, args, asking);
  } catch (e) {
    console.log(`Could not connect to Redis at 127.0.0.1:${target}: ${(e as Error).message}`);
    Deno.exit(1);
  }
  if (follow && r !== null && typeof r === "object" && !Array.isArray(r)) {
    const m = /^(MOVED|ASK) \d+ (.*):(\d+)$/.exec(r.error);
    if (m) {
      target = Number(m[3]);
      asking = m[1] === "ASK";
      continue;
    }
  }
  console.log(print(r));
  break;
}
