// Read lookups of every family count keyspace hits/misses and publish "keymiss" (class m);
// write lookups (LPOP, SREM, ZADD ...) do neither, as in Redis (lookupKeyRead vs lookupKeyWrite).
import assert from "node:assert/strict";
import { withServer } from "../helpers.ts";

/** TEST_REAL_REDIS=1 runs the same assertions against redis-server, to check the tests themselves. */
const REAL = { redis: Deno.env.get("TEST_REAL_REDIS") === "1" };

const READS: string[][] = [
  ["LRANGE", "m1", "0", "-1"],
  ["LLEN", "m2"],
  ["LINDEX", "m3", "0"],
  ["LPOS", "m4", "a"],
  ["SMEMBERS", "m5"],
  ["SISMEMBER", "m6", "a"],
  ["SMISMEMBER", "m7", "a"],
  ["SCARD", "m8"],
  ["SRANDMEMBER", "m9"],
  ["SSCAN", "m10", "0"],
  ["SINTERCARD", "1", "m11"],
  ["HGET", "m12", "f"],
  ["HMGET", "m13", "f"],
  ["HGETALL", "m14"],
  ["HLEN", "m15"],
  ["HEXISTS", "m16", "f"],
  ["HSTRLEN", "m17", "f"],
  ["HRANDFIELD", "m18"],
  ["HSCAN", "m19", "0"],
  ["ZRANGE", "m20", "0", "-1"],
  ["ZSCORE", "m21", "a"],
  ["ZMSCORE", "m22", "a"],
  ["ZCARD", "m23"],
  ["ZCOUNT", "m24", "0", "1"],
  ["ZRANK", "m25", "a"],
  ["ZRANDMEMBER", "m26"],
  ["ZSCAN", "m27", "0"],
  ["ZUNION", "1", "m28"],
  ["ZINTERCARD", "1", "m29"],
  ["ZRANGESTORE", "dst", "m30", "0", "-1"],
  ["SUNIONSTORE", "dst", "m31"],
  ["SORT", "m32"],
];

const WRITES: string[][] = [
  ["LPOP", "w1"],
  ["LSET", "w2", "0", "a"],
  ["LREM", "w3", "0", "a"],
  ["LTRIM", "w4", "0", "1"],
  ["LMOVE", "w5", "x", "LEFT", "LEFT"],
  ["SREM", "w6", "a"],
  ["SPOP", "w7"],
  ["SMOVE", "w8", "x", "a"],
  ["HDEL", "w9", "f"],
  ["ZREM", "w10", "a"],
  ["ZPOPMIN", "w11"],
  ["ZREMRANGEBYRANK", "w12", "0", "1"],
];

Deno.test("keymiss events and keyspace_misses for read lookups only", async () => {
  await withServer(async (c, s) => {
    await c.call("CONFIG", "SET", "notify-keyspace-events", "Em");
    const sub = await s.client();
    assert.deepEqual(await sub.call("SUBSCRIBE", "__keyevent@0__:keymiss"), [
      "subscribe",
      "__keyevent@0__:keymiss",
      1,
    ]);
    await c.call("CONFIG", "RESETSTAT");
    for (const cmd of WRITES) await c.call(...cmd);
    for (const cmd of READS) await c.call(...cmd);
    const keys: string[] = [];
    for (let i = 0; i < READS.length; i++) {
      const m = await sub.read() as string[];
      assert.equal(m[0], "message");
      keys.push(m[2]);
    }
    assert.deepEqual(keys, READS.map((_, i) => `m${i + 1}`));
    assert.match(String(await c.call("INFO", "stats")), /keyspace_misses:32\r\n/);

    // Hits are counted for the same lookups when the key exists.
    await c.call("RPUSH", "l", "a");
    await c.call("HSET", "h", "f", "v");
    await c.call("CONFIG", "RESETSTAT");
    await c.call("LLEN", "l");
    await c.call("HGET", "h", "f");
    await c.call("LPOP", "l");
    const stats = String(await c.call("INFO", "stats"));
    assert.match(stats, /keyspace_hits:2\r\n/);
    assert.match(stats, /keyspace_misses:0\r\n/);
    sub.close();
  }, REAL);
});
