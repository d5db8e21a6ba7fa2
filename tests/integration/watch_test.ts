// WATCH invalidation only by real modifications (a command that changes nothing leaves watched
// keys alone), SWAPDB and keys that were already expired when WATCHed, and KEYS patterns that
// would backtrack exponentially.
import assert from "node:assert/strict";
import { type Reply, type RespClient, withServer } from "../helpers.ts";

/** TEST_REAL_REDIS=1 runs the same assertions against redis-server, to check the tests themselves. */
const REAL = {
  redis: Deno.env.get("TEST_REAL_REDIS") === "1",
  args: ["--enable-debug-command", "yes"],
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** WATCH key, run `between` on another client, then MULTI/PING/EXEC: true if EXEC ran. */
async function survives(
  c: RespClient,
  other: RespClient,
  key: string,
  between: string[][],
): Promise<boolean> {
  assert.equal(await c.call("WATCH", key), "OK");
  for (const cmd of between) await other.call(...cmd);
  await c.call("MULTI");
  await c.call("PING");
  const r: Reply = await c.call("EXEC");
  if (r === null) return false;
  assert.deepEqual(r, ["PONG"]);
  return true;
}

Deno.test("WATCH: commands that change nothing do not invalidate, real changes do", async () => {
  await withServer(async (c, s) => {
    const o = await s.client();
    await o.call("SADD", "set", "a");
    await o.call("HSET", "hash", "f", "v");
    await o.call("RPUSH", "list", "a");
    await o.call("ZADD", "zset", "1", "a");
    assert.equal(await survives(c, o, "set", [["SADD", "set", "a"]]), true);
    assert.equal(await survives(c, o, "set", [["SREM", "set", "nosuch"]]), true);
    assert.equal(await survives(c, o, "set", [["SMOVE", "set", "other", "nosuch"]]), true);
    assert.equal(await survives(c, o, "hash", [["HDEL", "hash", "nosuch"]]), true);
    assert.equal(await survives(c, o, "list", [["LREM", "list", "0", "nosuch"]]), true);
    assert.equal(await survives(c, o, "zset", [["ZADD", "zset", "1", "a"]]), true);
    assert.equal(await survives(c, o, "zset", [["ZREM", "zset", "nosuch"]]), true);
    // Inside another client's transaction too.
    assert.equal(await survives(c, o, "set", [["MULTI"], ["SADD", "set", "a"], ["EXEC"]]), true);

    assert.equal(await survives(c, o, "set", [["SADD", "set", "b"]]), false);
    assert.equal(await survives(c, o, "hash", [["HSET", "hash", "f", "w"]]), false);
    assert.equal(await survives(c, o, "list", [["LSET", "list", "0", "b"]]), false);
    assert.equal(await survives(c, o, "zset", [["ZINCRBY", "zset", "1", "a"]]), false);
    assert.equal(await survives(c, o, "set", [["MULTI"], ["SADD", "set", "c"], ["EXEC"]]), false);
    o.close();
  }, REAL);
});

Deno.test("SWAPDB touches watched keys that change, not keys that were already expired", async () => {
  await withServer(async (c, s) => {
    const o = await s.client();
    // An existing watched key swapped away, and a missing one swapped in, both change.
    await o.call("SET", "x", "30");
    assert.equal(await survives(c, o, "x", [["SWAPDB", "0", "1"]]), false);
    assert.equal(await survives(c, o, "x", [["SWAPDB", "0", "1"]]), false);
    await o.call("FLUSHALL");

    await o.call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
    // Watched while already expired, replaced by nothing.
    await c.call("SELECT", "1");
    await o.call("SELECT", "1");
    await o.call("SET", "x", "foo", "PX", "1");
    await sleep(5);
    assert.equal(await survives(c, o, "x", [["SWAPDB", "0", "1"]]), true);
    await o.call("FLUSHALL");

    // A missing watched key replaced by an expired one.
    await o.call("SELECT", "0");
    await o.call("SET", "x", "foo", "PX", "1");
    await sleep(5);
    assert.equal(await survives(c, o, "x", [["SWAPDB", "0", "1"]]), true);
    await o.call("FLUSHALL");

    // An expired watched key replaced by another expired key.
    await o.call("SELECT", "1");
    await o.call("SET", "x", "foo", "PX", "1");
    await o.call("SELECT", "0");
    await o.call("SET", "x", "bar", "PX", "1");
    await sleep(5);
    assert.equal(await survives(c, o, "x", [["SWAPDB", "0", "1"]]), true);

    // An expired watched key replaced by a live one does change.
    await o.call("FLUSHALL");
    await o.call("SELECT", "1");
    await o.call("SET", "x", "foo", "PX", "1");
    await o.call("SELECT", "0");
    await o.call("SET", "x", "bar");
    await sleep(5);
    assert.equal(await survives(c, o, "x", [["SWAPDB", "0", "1"]]), false);
    await o.call("DEBUG", "SET-ACTIVE-EXPIRE", "1");
    o.close();
  }, REAL);
});

Deno.test("KEYS: a pattern with many stars that cannot match returns quickly", async () => {
  await withServer(async (c) => {
    await c.call("SET", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "1");
    const t0 = Date.now();
    assert.deepEqual(await c.call("KEYS", "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"), []);
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    assert.deepEqual(await c.call("KEYS", "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a"), [
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ]);
    await c.call("MSET", "hello", "1", "hallo", "2", "h*llo", "3", "hllo", "4");
    const sorted = async (p: string) => ((await c.call("KEYS", p)) as string[]).sort();
    assert.deepEqual(await sorted("h*llo"), ["h*llo", "hallo", "hello", "hllo"]);
    assert.deepEqual(await sorted("h\\*llo"), ["h*llo"]);
    assert.deepEqual(await sorted("h[^e]llo"), ["h*llo", "hallo"]);
    assert.deepEqual(await sorted("*l*o"), ["h*llo", "hallo", "hello", "hllo"]);
  }, REAL);
});
