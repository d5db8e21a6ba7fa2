// Corrupt DUMP payloads must never crash the server (Redis's corrupt-dump-fuzzer, with a valid
// checksum so the payload reaches the decoder). Valid payloads of every type and encoding are
// mutated (bytes flipped, overwritten, inserted, removed, truncated), re-checksummed and
// RESTOREd; whatever RESTORE accepts is then read, dumped, digested and written to. The server
// must answer every command and still be running at the end.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type RespClient, rng, startServer } from "../helpers.ts";
import { crc64 } from "../../lib/persistence/crc64.ts";

/** Replaces the 8-byte CRC64 footer so the payload passes RESTORE's checksum check. */
function reseal(body: Uint8Array): string {
  const out = new Uint8Array(body.length + 8);
  out.set(body);
  let crc = crc64(body);
  for (let i = 0; i < 8; i++) {
    out[body.length + i] = Number(crc & 0xffn);
    crc >>= 8n;
  }
  return Buffer.from(out).toString("latin1");
}

/** One random corruption of the value part (before the 2-byte version and the footer). */
function mutate(payload: string, rand: () => number): string {
  const bytes = Array.from(Buffer.from(payload, "latin1").subarray(0, payload.length - 8));
  const version = bytes.splice(bytes.length - 2, 2);
  const at = () => Math.floor(rand() * bytes.length);
  const rounds = 1 + Math.floor(rand() * 3);
  for (let r = 0; r < rounds && bytes.length > 0; r++) {
    const kind = Math.floor(rand() * 6);
    if (kind === 0) bytes[at()] ^= 1 << Math.floor(rand() * 8);
    else if (kind === 1) bytes[at()] = Math.floor(rand() * 256);
    else if (kind === 2) bytes.splice(at(), 0, Math.floor(rand() * 256));
    else if (kind === 3) bytes.splice(at(), 1 + Math.floor(rand() * 4));
    else if (kind === 4) bytes.length = Math.max(1, at());
    else bytes[at()] = [0, 0xff, 0x7f, 0x80, 0xfe, 0x01][Math.floor(rand() * 6)];
  }
  return reseal(new Uint8Array([...bytes, ...version]));
}

/** Reads and writes a restored key the way a client would. */
async function exercise(c: RespClient, k: string): Promise<void> {
  const t = await c.call("TYPE", k);
  const reads: (string | number)[][] = t === "string"
    ? [["GET", k], ["STRLEN", k], ["GETRANGE", k, 0, 10]]
    : t === "list"
    ? [["LRANGE", k, 0, -1], ["LLEN", k], ["LINDEX", k, -1], ["LPOS", k, "a"]]
    : t === "set"
    ? [["SMEMBERS", k], ["SCARD", k], ["SRANDMEMBER", k, -5], ["SISMEMBER", k, "1"]]
    : t === "zset"
    ? [["ZRANGE", k, 0, -1, "WITHSCORES"], ["ZCARD", k], ["ZRANGEBYSCORE", k, "-inf", "+inf"], [
      "ZRANDMEMBER",
      k,
      -5,
    ]]
    : t === "hash"
    ? [["HGETALL", k], ["HLEN", k], ["HRANDFIELD", k, -5, "WITHVALUES"], ["HGET", k, "f1"]]
    : [["XRANGE", k, "-", "+"], ["XLEN", k], ["XINFO", "STREAM", k, "FULL"]];
  for (const cmd of reads) await c.call(...cmd);
  await c.call("OBJECT", "ENCODING", k);
  await c.call("DEBUG", "DIGEST-VALUE", k);
  await c.call("MEMORY", "USAGE", k);
  const dump = await c.call("DUMP", k);
  if (typeof dump === "string") {
    // What tsredis dumps from a value it accepted must restore again.
    assert.equal(await c.call("RESTORE", `${k}:again`, 0, dump, "REPLACE"), "OK");
  }
  const write = t === "string"
    ? ["APPEND", k, "x"]
    : t === "list"
    ? ["LPUSH", k, "x"]
    : t === "set"
    ? ["SADD", k, "x"]
    : t === "zset"
    ? ["ZADD", k, "1", "x"]
    : t === "hash"
    ? ["HSET", k, "x", "y"]
    : ["XADD", k, "*", "x", "y"];
  await c.call(...write);
  await c.call("DEL", k, `${k}:again`);
}

Deno.test("RESTORE of corrupt payloads with valid checksums never crashes the server", async () => {
  const srv = await startServer({ args: ["--enable-debug-command", "yes"] });
  const c = await srv.client();
  try {
    const nums = Array.from({ length: 200 }, (_, i) => String(i * 7 - 300));
    await c.call("SET", "s:int", "12345");
    await c.call("SET", "s:raw", "abc".repeat(40)); // LZF-compressed in the payload
    await c.call("RPUSH", "l:small", "a", "1", "b".repeat(70), "-5");
    await c.call("RPUSH", "l:big", ...nums, "x".repeat(9000));
    await c.call("SADD", "set:int", "1", "2", "-3", "70000", "5000000000");
    await c.call("SADD", "set:ht", ...nums.map((x) => `m${x}`));
    await c.call("HSET", "h:lp", "f1", "v1", "f2", "22", "f3", "-7");
    await c.call("HSET", "h:ht", ...nums.flatMap((x) => [`f${x}`, x]));
    await c.call("ZADD", "z:lp", "1", "a", "1.5", "b", "-3", "c");
    await c.call("ZADD", "z:sl", ...nums.flatMap((x) => [x, `m${x}`]));
    const keys = ["s:int", "s:raw", "l:small", "l:big", "set:int", "set:ht", "h:lp", "h:ht"];
    keys.push("z:lp", "z:sl");
    if ((await c.call("XADD", "x:s", "1-1", "a", "1", "b", "2")) === "1-1") {
      // Streams, where the server has them: entries, a deleted one, a group with a PEL.
      for (let i = 2; i < 150; i++) await c.call("XADD", "x:s", `${i}-0`, "a", String(i));
      await c.call("XDEL", "x:s", "5-0");
      await c.call("XGROUP", "CREATE", "x:s", "g", "0");
      await c.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", 3, "STREAMS", "x:s", ">");
      keys.push("x:s");
    }
    const payloads = new Map<string, string>();
    for (const k of keys) payloads.set(k, (await c.call("DUMP", k)) as string);

    const seed = Number(Deno.env.get("FUZZ_SEED") ?? 20261126);
    const rand = rng(seed);
    let accepted = 0;
    let refused = 0;
    const perKey = Number(Deno.env.get("FUZZ_ROUNDS") ?? 150);
    for (const [k, p] of payloads) {
      for (let i = 0; i < perKey; i++) {
        const bad = mutate(p, rand);
        const r = await c.call("RESTORE", "fz", 0, bad, "REPLACE");
        if (r === "OK") {
          accepted++;
          await exercise(c, "fz");
        } else {
          refused++;
          // Redis's text for a payload that fails to decode.
          assert.ok(r instanceof Error, `${k}: ${String(r)}`);
          assert.match(r.message, /^ERR (Bad data format|DUMP payload version or checksum)/);
        }
        assert.equal(await c.call("PING"), "PONG", `${k} round ${i} (seed ${seed})`);
      }
    }
    // Both outcomes happen, or the mutations never reach the decoder.
    assert.ok(refused > perKey, `refused ${refused}`);
    assert.ok(accepted > 0, `accepted ${accepted}`);
    assert.equal(srv.hasExited, false);
    assert.ok(!/panic|Uncaught|RangeError|TypeError/.test(srv.output), srv.output.slice(-2000));
  } finally {
    c.conn.close();
    await srv.stop();
  }
});
