// Expiry over a real socket: EXPIRE family options and errors, TTL/PTTL/EXPIRETIME, short
// expiries (lazy and active), idle-time tracking; plus the PEXPIREAT/DEL/UNLINK propagation
// rewrites checked in-process. TSREDIS_TEST_REAL=1 runs the socket tests against redis-server.
import assert from "node:assert/strict";
import { withServer } from "../helpers.ts";
import { check, E, OPTS, propagated } from "../command_checks.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const invalid = (cmd: string) => E(`ERR invalid expire time in '${cmd}' command`);

Deno.test("EXPIRE family: NX/XX/GT/LT, errors, past times delete", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["SET", "a", "1"], "OK"],
      [["SET", "b", "1"], "OK"],
      [["EXPIRE", "a", "100"], 1],
      [["TTL", "a"], 100],
      [["EXPIRE", "a", "100", "NX"], 0],
      [["EXPIRE", "a", "150", "XX"], 1],
      [["EXPIRE", "a", "200", "GT"], 1],
      [["TTL", "a"], 200],
      [["EXPIRE", "a", "50", "GT"], 0],
      [["EXPIRE", "a", "50", "lt"], 1],
      [["TTL", "a"], 50],
      [["EXPIRE", "a", "300", "LT"], 0],
      [["EXPIRE", "b", "100", "XX"], 0],
      [["EXPIRE", "b", "100", "GT"], 0],
      [["EXPIRE", "b", "100", "LT"], 1],
      [["EXPIRE", "b", "100", "NX"], 0],
      [["PERSIST", "b"], 1],
      [["EXPIRE", "b", "100", "NX"], 1],
      [
        ["EXPIRE", "a", "100", "NX", "XX"],
        E("ERR NX and XX, GT or LT options at the same time are not compatible"),
      ],
      [
        ["EXPIRE", "a", "100", "NX", "GT"],
        E("ERR NX and XX, GT or LT options at the same time are not compatible"),
      ],
      [
        ["EXPIRE", "a", "100", "GT", "LT"],
        E("ERR GT and LT options at the same time are not compatible"),
      ],
      [["EXPIRE", "a", "100", "FoO"], E("ERR Unsupported option FoO")],
      [["EXPIRE", "a", "abc"], E("ERR value is not an integer or out of range")],
      [["EXPIRE", "a", "abc", "foo"], E("ERR Unsupported option foo")],
      [["EXPIRE", "nokey", "100"], 0],
      [["EXPIRE", "a", "9223372036854776"], invalid("expire")],
      [["EXPIRE", "a", "-9223372036854776"], invalid("expire")],
      [["EXPIRE", "a", "9223372036854775"], invalid("expire")],
      [["PEXPIRE", "a", "9223372036854775807"], invalid("pexpire")],
      [["EXPIREAT", "a", "9223372036854776"], invalid("expireat")],
      [["TTL", "a"], 50],
      [["PEXPIREAT", "a", "9223372036854775807"], 1],
      [["EXPIRE", "a"], E("ERR wrong number of arguments for 'expire' command")],
      [["SET", "a", "1"], "OK"],
      [["EXPIRE", "a", "-1"], 1],
      [["EXISTS", "a"], 0],
      [["SET", "a", "1"], "OK"],
      [["PEXPIREAT", "a", "1"], 1],
      [["EXISTS", "a"], 0],
      [["SET", "a", "1"], "OK"],
      [["EXPIREAT", "a", "1", "LT"], 1],
      [["GET", "a"], null],
      [["SET", "a", "1"], "OK"],
      [["EXPIRE", "a", "0"], 1],
      [["EXISTS", "a"], 0],
    ]);
  }, OPTS);
});

Deno.test("TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["TTL", "nokey"], -2],
      [["PTTL", "nokey"], -2],
      [["EXPIRETIME", "nokey"], -2],
      [["PEXPIRETIME", "nokey"], -2],
      [["SET", "k", "v"], "OK"],
      [["TTL", "k"], -1],
      [["PTTL", "k"], -1],
      [["EXPIRETIME", "k"], -1],
      [["PEXPIRETIME", "k"], -1],
      [["PEXPIREAT", "k", "2000000000123"], 1],
      [["PEXPIRETIME", "k"], 2000000000123],
      [["EXPIRETIME", "k"], 2000000000],
      [["PEXPIREAT", "k", "2000000000500"], 1],
      [["EXPIRETIME", "k"], 2000000001],
      [["EXPIREAT", "k", "2000000000"], 1],
      [["PEXPIRETIME", "k"], 2000000000000],
      [["PERSIST", "k"], 1],
      [["PERSIST", "k"], 0],
      [["PERSIST", "nokey"], 0],
      [["TTL", "k"], -1],
      [["PEXPIRE", "k", "100500"], 1],
      [["PTTL"], E("ERR wrong number of arguments for 'pttl' command")],
    ]);
    // TTL rounds to the nearest second: 101 right away, 100 once 500 ms passed (loaded machine).
    const ttl = await c.call("TTL", "k") as number;
    assert.ok(ttl === 101 || ttl === 100, `ttl ${ttl}`);
    const pttl = await c.call("PTTL", "k") as number;
    assert.ok(pttl > 99000 && pttl <= 100500, `pttl ${pttl}`);
  }, OPTS);
});

Deno.test("short expiries: lazy on access, active without access, events, stats", async () => {
  await withServer(async (c, s) => {
    await c.call("CONFIG", "SET", "notify-keyspace-events", "Ex");
    const sub = await s.client();
    await sub.call("SUBSCRIBE", "__keyevent@0__:expired");
    await c.call("CONFIG", "RESETSTAT");
    await check(c, [
      [["SET", "foo", "bar", "PX", "100"], "OK"],
      [["SET", "ex", "v", "EX", "100"], "OK"],
      [["PSETEX", "ps", "100", "v"], "OK"],
      [["SETEX", "sx", "1", "v"], "OK"],
      [["SET", "keep", "v", "PX", "100"], "OK"],
      [["SET", "keep", "v2", "KEEPTTL"], "OK"],
      [["GET", "foo"], "bar"],
    ]);
    const pttl = await c.call("PTTL", "foo") as number;
    assert.ok(pttl > 0 && pttl <= 100, `pttl ${pttl}`);
    await sleep(250);
    await check(c, [
      [["GET", "foo"], null],
      [["TTL", "foo"], -2],
      [["EXISTS", "ps", "keep"], 0],
      [["GET", "ex"], "v"],
    ]);
    const msg = await sub.read() as string[];
    assert.deepEqual(msg.slice(0, 2), ["message", "__keyevent@0__:expired"]);
    // Active expiry: keys nobody touches still go away.
    const args: string[] = [];
    for (let i = 0; i < 200; i++) args.push(`t${i}`);
    for (const k of args) await c.send("SET", k, "v", "PX", "50");
    for (const _ of args) await c.read();
    const deadline = Date.now() + 5000;
    while ((await c.call("DBSIZE")) as number > 2) {
      assert.ok(Date.now() < deadline, "active expiry did not remove the keys");
      await sleep(100);
    }
    assert.deepEqual(((await c.call("KEYS", "*")) as string[]).sort(), ["ex", "sx"]);
    await sleep(900);
    assert.equal(await c.call("GET", "sx"), null);
    const info = await c.call("INFO", "stats") as string;
    const expired = Number(/expired_keys:(\d+)/.exec(info)![1]);
    assert.ok(expired >= 204, `expired_keys ${expired}`);
    sub.close();
  }, OPTS);
});

Deno.test("OBJECT IDLETIME: TTL/TYPE/EXISTS do not touch, GET/TOUCH do", async () => {
  await withServer(async (c) => {
    await c.call("MSET", "foo", "bar", "baz", "1");
    assert.equal(await c.call("OBJECT", "IDLETIME", "foo"), 0);
    await sleep(2100);
    await c.call("TTL", "foo");
    await c.call("TYPE", "foo");
    await c.call("EXISTS", "foo");
    await c.call("OBJECT", "ENCODING", "foo");
    assert.ok((await c.call("OBJECT", "IDLETIME", "foo") as number) >= 2);
    await c.call("TOUCH", "foo");
    await c.call("GET", "baz");
    // The access clock ticks in whole seconds (Redis's LRU clock too): a tick between the touch
    // and the query reads 1, never the 2+ an untouched key shows after the sleep.
    assert.ok((await c.call("OBJECT", "IDLETIME", "foo") as number) <= 1);
    assert.ok((await c.call("OBJECT", "IDLETIME", "baz") as number) <= 1);
  }, OPTS);
});

Deno.test("replication rewrites of expire and keyspace commands", () => {
  const now = Date.now();
  const res = propagated([
    ["SET", "k", "v"],
    ["EXPIRE", "k", "100"],
    ["PEXPIRE", "k", "200000", "GT"],
    ["EXPIREAT", "k", "4000000000"],
    ["pexpireat", "k", "3999999999999", "LT"],
    ["EXPIRE", "k", "100", "NX"],
    ["PERSIST", "k"],
    ["EXPIRE", "k", "-1"],
    ["EXPIRE", "k", "10"],
    ["FLUSHDB"],
    ["FLUSHALL", "ASYNC"],
    ["SET", "a", "1"],
    ["RENAME", "a", "b"],
    ["DEL", "b", "c"],
    ["SWAPDB", "0", "1"],
    ["SELECT", "1"],
  ]);
  assert.deepEqual(res[1][0].slice(0, 2), ["PEXPIREAT", "k"]);
  assert.ok(Math.abs(Number(res[1][0][2]) - (now + 100000)) < 2000);
  assert.deepEqual(res[2][0][0], "PEXPIREAT");
  assert.deepEqual(res[2][0][3], "GT");
  assert.deepEqual(res[3], [["PEXPIREAT", "k", "4000000000000"]]);
  assert.deepEqual(res[4], [["pexpireat", "k", "3999999999999", "LT"]]);
  assert.deepEqual(res[5], []);
  assert.deepEqual(res[6], [["PERSIST", "k"]]);
  assert.deepEqual(res[7], [["DEL", "k"]]);
  assert.deepEqual(res[8], []);
  assert.deepEqual(res[9], [["FLUSHDB"]]); // forced even though the db was empty
  assert.deepEqual(res[10], [["FLUSHALL", "ASYNC"]]);
  assert.deepEqual(res[12], [["RENAME", "a", "b"]]);
  assert.deepEqual(res[13], [["DEL", "b", "c"]]);
  assert.deepEqual(res[14], [["SWAPDB", "0", "1"]]);
  assert.deepEqual(res[15], []);
  const lazy = propagated([["SET", "k", "v"], ["PEXPIREAT", "k", "1"]], [[
    "lazyfree-lazy-expire",
    "yes",
  ]]);
  assert.deepEqual(lazy[1], [["UNLINK", "k"]]);
});
