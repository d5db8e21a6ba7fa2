// DUMP and RESTORE over a real server: round trips with TTL/ABSTTL/REPLACE/IDLETIME and every
// error text Redis 7.0 gives (BUSYKEY, bad TTL, bad footer, bad body, option errors).
import assert from "node:assert/strict";
import { waitBlocked, withServer } from "../helpers.ts";
import { crc64 } from "../../lib/persistence/crc64.ts";

Deno.test("DUMP and RESTORE round trip with TTL, REPLACE and Redis's errors", async () => {
  await withServer(async (c) => {
    await c.call("HSET", "h", "a", "1", "b", "2");
    await c.call("SET", "s", "x".repeat(100));
    const h = (await c.call("DUMP", "h")) as string;
    const str = (await c.call("DUMP", "s")) as string;
    assert.equal(await c.call("DUMP", "missing"), null);
    assert.equal(
      ((await c.call("RESTORE", "h", "0", h)) as Error).message,
      "BUSYKEY Target key name already exists.",
    );
    assert.equal(await c.call("RESTORE", "h2", "5000", h), "OK");
    assert.deepEqual(await c.call("HGETALL", "h2"), ["a", "1", "b", "2"]);
    const pttl = (await c.call("PTTL", "h2")) as number;
    assert.ok(pttl > 4000 && pttl <= 5000, `ttl ${pttl}`);
    await c.call("SET", "h", "other");
    assert.equal(await c.call("RESTORE", "h", "0", h, "REPLACE"), "OK");
    assert.equal(await c.call("TYPE", "h"), "hash");
    assert.equal(await c.call("PTTL", "h"), -1);
    assert.equal(await c.call("RESTORE", "s2", String(Date.now() + 60000), str, "ABSTTL"), "OK");
    assert.equal(await c.call("GET", "s2"), "x".repeat(100));
    assert.ok(((await c.call("PTTL", "s2")) as number) > 50000);
    assert.equal(
      await c.call("RESTORE", "past", "1", str, "ABSTTL"),
      "OK",
      "already expired: OK, no key",
    );
    assert.equal(await c.call("EXISTS", "past"), 0);
    const err = async (...args: string[]) => ((await c.call("RESTORE", ...args)) as Error).message;
    assert.equal(await err("n", "-1", h), "ERR Invalid TTL value, must be >= 0");
    assert.equal(await err("n", "abc", h), "ERR value is not an integer or out of range");
    const flipped = h.slice(0, 3) + String.fromCharCode(h.charCodeAt(3) ^ 1) + h.slice(4);
    assert.equal(await err("n", "0", flipped), "ERR DUMP payload version or checksum are wrong");
    const v11 = h.slice(0, -10) + "\x0b\x00" + h.slice(-8);
    assert.equal(await err("n", "0", v11), "ERR DUMP payload version or checksum are wrong");
    assert.equal(await err("n", "0", "short"), "ERR DUMP payload version or checksum are wrong");
    // A valid footer around a bad body.
    assert.equal(await err("n", "0", junkWithFooter()), "ERR Bad data format");
    assert.equal(
      await err("n", "0", h, "IDLETIME", "-1"),
      "ERR Invalid IDLETIME value, must be >= 0",
    );
    assert.equal(
      await err("n", "0", h, "FREQ", "256"),
      "ERR Invalid FREQ value, must be >= 0 and <= 255",
    );
    assert.equal(await err("n", "0", h, "IDLETIME", "1", "FREQ", "1"), "ERR syntax error");
    assert.equal(await err("n", "0", h, "BOGUS"), "ERR syntax error");
    assert.equal(await c.call("RESTORE", "n", "0", h, "IDLETIME", "1000"), "OK");
    assert.ok(((await c.call("OBJECT", "IDLETIME", "n")) as number) >= 1000);
  });
});

Deno.test("DUMP/RESTORE of every type and encoding keeps value and encoding", async () => {
  await withServer(async (c) => {
    const big = Array.from({ length: 300 }, (_, i) => String(i * 3));
    await c.call("RPUSH", "list", "a", "1", "b".repeat(100));
    await c.call("SADD", "iset", "1", "2", "-3");
    await c.call("SADD", "hset", ...big.map((x) => `m${x}`));
    await c.call("ZADD", "zlp", "1", "a", "1.5", "b");
    await c.call("ZADD", "zsl", ...big.flatMap((x) => [x, `m${x}`]));
    await c.call("HSET", "hbig", ...big.flatMap((x) => [`f${x}`, x]));
    await c.call("SET", "int", "-42");
    const read = async (k: string) => {
      const t = await c.call("TYPE", k);
      const v = t === "list"
        ? await c.call("LRANGE", k, 0, -1)
        : t === "set"
        ? ((await c.call("SMEMBERS", k)) as string[]).sort()
        : t === "zset"
        ? await c.call("ZRANGE", k, 0, -1, "WITHSCORES")
        : t === "hash"
        ? await c.call("HGETALL", k)
        : await c.call("GET", k);
      return [t, v, await c.call("OBJECT", "ENCODING", k)];
    };
    for (const k of ["list", "iset", "hset", "zlp", "zsl", "hbig", "int"]) {
      const before = await read(k);
      const payload = (await c.call("DUMP", k)) as string;
      assert.equal(await c.call("RESTORE", k, 0, payload, "REPLACE"), "OK");
      assert.deepEqual(await read(k), before, k);
    }
  });
});

Deno.test("RESTORE of a list wakes a client blocked on the key", async () => {
  await withServer(async (c, s) => {
    await c.call("RPUSH", "src", "hello");
    const payload = (await c.call("DUMP", "src")) as string;
    const blocked = await s.client();
    await blocked.send("BLPOP", "dst", "5");
    await waitBlocked(c, 1);
    assert.equal(await c.call("RESTORE", "dst", 0, payload), "OK");
    assert.deepEqual(await blocked.read(), ["dst", "hello"]);
    blocked.close();
  });
});

/** Builds "\x00<bad string encoding>" + a correct RDB version and CRC footer via DUMP itself. */
function junkWithFooter(): string {
  const body = Uint8Array.from([0x00, 0xc7, 0x0a, 0x00]); // string with unknown encoding 7
  const crc = crc64(body);
  const tail = new Uint8Array(8);
  new DataView(tail.buffer).setBigUint64(0, crc, true);
  return String.fromCharCode(...body, ...tail);
}
