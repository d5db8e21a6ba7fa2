// Mutated request streams must never crash the server: valid pipelines (multibulk and inline)
// with bytes flipped, inserted, removed or cut are sent on fresh connections; each gets replies,
// Redis's protocol error and a closed connection, or silence (an incomplete request). Another
// connection checks after each one that the server still answers and its data is intact.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { RespClient, rng, startServer } from "../helpers.ts";

function multibulk(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
}

// Commands whose mutations stay harmless to the test itself (no SHUTDOWN, DEBUG, FLUSHALL ...).
const CORPUS = [
  multibulk("SET", "fz:a", "hello"),
  multibulk("GET", "fz:a"),
  multibulk("MSET", "fz:b", "1", "fz:c", "2"),
  multibulk("INCRBY", "fz:n", "5"),
  multibulk("LPUSH", "fz:l", "x", "y", "z"),
  multibulk("LRANGE", "fz:l", "0", "-1"),
  multibulk("HSET", "fz:h", "f", "v", "g", "w"),
  multibulk("ZADD", "fz:z", "1.5", "m", "2", "n"),
  multibulk("SADD", "fz:s", "1", "2", "3"),
  multibulk("APPEND", "fz:a", "!"),
  multibulk("HELLO", "3"),
  multibulk("PING"),
  'SET fz:i "quoted value" EX 100\r\n',
  "GET fz:i\r\n",
  "PING\n",
];

function mutate(s: string, rand: () => number): Uint8Array {
  const b = Array.from(Buffer.from(s, "latin1"));
  const at = () => Math.floor(rand() * b.length);
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n && b.length > 0; i++) {
    const kind = Math.floor(rand() * 5);
    if (kind === 0) b[at()] = Math.floor(rand() * 256);
    else if (kind === 1) {
      b.splice(at(), 0, "*$\r\n-:0123456789\"'\\ "[Math.floor(rand() * 21)].charCodeAt(0));
    } else if (kind === 2) b.splice(at(), 1 + Math.floor(rand() * 3));
    else if (kind === 3) b.length = at();
    else b[at()] ^= 1 << Math.floor(rand() * 8);
  }
  return new Uint8Array(b);
}

/** Reads until the peer closes or nothing arrives for `ms`; returns what came. */
async function drain(conn: Deno.Conn, ms: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"t">((r) => timer = setTimeout(() => r("t"), ms));
    const n = await Promise.race([conn.read(buf).catch(() => null), timeout]);
    clearTimeout(timer);
    if (n === "t" || n === null) break;
    chunks.push(buf.slice(0, n));
  }
  return Buffer.concat(chunks).toString("latin1");
}

Deno.test("mutated request streams never crash the server", async () => {
  const srv = await startServer();
  const probe = await srv.client();
  try {
    await probe.call("SET", "fz:keep", "intact");
    const seed = Number(Deno.env.get("FUZZ_SEED") ?? 26112026);
    const rand = rng(seed);
    let protocolErrors = 0;
    const rounds = Number(Deno.env.get("FUZZ_ROUNDS") ?? 300);
    for (let i = 0; i < rounds; i++) {
      let req = "";
      const m = 1 + Math.floor(rand() * 5);
      for (let j = 0; j < m; j++) req += CORPUS[Math.floor(rand() * CORPUS.length)];
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
      try {
        await conn.write(mutate(req, rand));
        const got = await drain(conn, 30);
        if (got.includes("-ERR Protocol error")) protocolErrors++;
      } catch {
        // The server may close the connection while we write: that is allowed.
      } finally {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      assert.equal(await probe.call("GET", "fz:keep"), "intact", `round ${i} (seed ${seed})`);
    }
    assert.ok(protocolErrors > 0, "no mutation reached the protocol error paths");
    assert.equal(srv.hasExited, false);
    const again = await RespClient.connect(srv.port);
    assert.equal(await again.call("PING"), "PONG");
    again.conn.close();
  } finally {
    probe.conn.close();
    await srv.stop();
  }
});
