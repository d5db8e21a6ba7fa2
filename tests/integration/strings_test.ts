// String commands over a real socket against a tsredis process: exact replies and error texts
// (checked against redis-server 7.0.15), binary safety, RESP3, keyspace events, stats; plus
// replication rewrites (SET EX -> PXAT, INCRBYFLOAT -> SET KEEPTTL ...) checked in-process.
import assert from "node:assert/strict";
import { type Reply, withServer } from "../helpers.ts";
import { check, E, OPTS, propagated } from "../command_checks.ts";

const WRONGTYPE = E("WRONGTYPE Operation against a key holding the wrong kind of value");
const SYNTAX = E("ERR syntax error");
const NOT_INT = E("ERR value is not an integer or out of range");
const NOT_FLOAT = E("ERR value is not a valid float");

Deno.test("GET/SET and SET option validation", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["GET", "nokey"], null],
      [["SET", "foo", "bar"], "OK"],
      [["GET", "foo"], "bar"],
      [["set", "foo", "x", "NX"], null],
      [["SET", "foo", "baz", "xx"], "OK"],
      [["GET", "foo"], "baz"],
      [["SET", "nx1", "v", "XX"], null],
      [["EXISTS", "nx1"], 0],
      [["SET", "foo", "x", "NX", "XX"], SYNTAX],
      [["SET", "foo", "x", "XX", "NX"], SYNTAX],
      [["SET", "foo", "x", "EX"], SYNTAX],
      [["SET", "foo", "x", "EX", "10", "PX", "100"], SYNTAX],
      [["SET", "foo", "x", "EX", "10", "KEEPTTL"], SYNTAX],
      [["SET", "foo", "x", "KEEPTTL", "PXAT", "10"], SYNTAX],
      [["SET", "foo", "x", "PERSIST"], SYNTAX],
      [["SET", "foo", "x", "BAR"], SYNTAX],
      [["SET", "foo", "x", "EX", "0"], E("ERR invalid expire time in 'set' command")],
      [["SET", "foo", "x", "PX", "-5"], E("ERR invalid expire time in 'set' command")],
      [
        ["SET", "foo", "x", "EX", "9223372036854776"],
        E("ERR invalid expire time in 'set' command"),
      ],
      [
        ["SET", "foo", "x", "PX", "9223372036854775807"],
        E("ERR invalid expire time in 'set' command"),
      ],
      [["SET", "foo", "x", "EX", "abc"], NOT_INT],
      [["SET", "foo", "x", "EX", "99999999999999999999"], NOT_INT],
      [["GET", "foo"], "baz"],
      [["SET", "foo", "x", "EX", "10", "EX", "20"], "OK"],
      [["TTL", "foo"], 20],
      [["SET", "foo", "y", "KEEPTTL"], "OK"],
      [["TTL", "foo"], 20],
      [["SET", "foo", "z"], "OK"],
      [["TTL", "foo"], -1],
      // GET option: old value (or nil) instead of OK; NX+GET is allowed since 7.0.
      [["SET", "foo", "y", "GET"], "z"],
      [["SET", "foo", "w", "GET", "GET"], "y"],
      [["SET", "newk", "v", "GET"], null],
      [["SET", "newk", "v2", "NX", "GET"], "v"],
      [["GET", "newk"], "v"],
      [["SET", "nk2", "v", "XX", "GET"], null],
      [["EXISTS", "nk2"], 0],
      [["ZADD", "zs", "1", "m"], 1],
      [["SET", "zs", "x", "GET"], WRONGTYPE],
      [["TYPE", "zs"], "zset"],
      [["GET", "zs"], WRONGTYPE],
      [["SET", "zs", "x"], "OK"],
      [["GET", "zs"], "x"],
      [["GET"], E("ERR wrong number of arguments for 'get' command")],
      [["SET", "a"], E("ERR wrong number of arguments for 'set' command")],
    ]);
  }, OPTS);
});

Deno.test("SETNX, SETEX, PSETEX, MGET, MSET, MSETNX, GETSET, GETDEL", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["SETNX", "k", "1"], 1],
      [["SETNX", "k", "2"], 0],
      [["GET", "k"], "1"],
      [["SETEX", "se", "0", "v"], E("ERR invalid expire time in 'setex' command")],
      [["SETEX", "se", "-1", "v"], E("ERR invalid expire time in 'setex' command")],
      [["SETEX", "se", "abc", "v"], NOT_INT],
      [["SETEX", "se", "100", "v"], "OK"],
      [["TTL", "se"], 100],
      [["PSETEX", "pse", "0", "v"], E("ERR invalid expire time in 'psetex' command")],
      [["PSETEX", "pse", "100000", "v"], "OK"],
      [["TTL", "pse"], 100],
      [["ZADD", "zs", "1", "m"], 1],
      [["MGET", "k", "nokey", "zs", "se"], ["1", null, null, "v"]],
      [["MSET", "a", "1", "b"], E("ERR wrong number of arguments for 'mset' command")],
      [["MSET", "a", "1", "b", "2"], "OK"],
      [["MSETNX", "a", "1", "c", "2"], 0],
      [["EXISTS", "c"], 0],
      [["MSETNX", "c", "3", "d", "4"], 1],
      [["MSETNX", "c", "1", "e"], E("ERR wrong number of arguments for 'msetnx' command")],
      [["MGET", "a", "b", "c", "d"], ["1", "2", "3", "4"]],
      [["GETSET", "a", "9"], "1"],
      [["GETSET", "new", "9"], null],
      [["GET", "new"], "9"],
      [["GETSET", "zs", "9"], WRONGTYPE],
      [["EXPIRE", "a", "100"], 1],
      [["GETSET", "a", "10"], "9"],
      [["TTL", "a"], -1],
      [["GETDEL", "a"], "10"],
      [["GETDEL", "a"], null],
      [["EXISTS", "a"], 0],
      [["GETDEL", "zs"], WRONGTYPE],
      [["MGET"], E("ERR wrong number of arguments for 'mget' command")],
    ]);
  }, OPTS);
});

Deno.test("GETEX options and errors", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["SET", "foo", "bar"], "OK"],
      [["GETEX", "foo"], "bar"],
      [["GETEX", "nokey"], null],
      [["GETEX", "foo", "EX", "100", "PERSIST"], SYNTAX],
      [["GETEX", "foo", "PERSIST", "EX", "100"], SYNTAX],
      [["GETEX", "foo", "NX"], SYNTAX],
      [["GETEX", "foo", "KEEPTTL"], SYNTAX],
      [["GETEX", "foo", "EX"], SYNTAX],
      [["GETEX", "foo", "EX", "0"], E("ERR invalid expire time in 'getex' command")],
      [["GETEX", "foo", "EX", "abc"], NOT_INT],
      // The key is looked up before the expire value is validated.
      [["GETEX", "nokey", "EX", "0"], null],
      [["GETEX", "nokey", "EX", "abc"], null],
      [["GETEX", "foo", "EX", "100"], "bar"],
      [["TTL", "foo"], 100],
      [["GETEX", "foo", "PX", "50000"], "bar"],
      [["TTL", "foo"], 50],
      [["GETEX", "foo", "PERSIST"], "bar"],
      [["TTL", "foo"], -1],
      [["GETEX", "foo", "EXAT", String(Math.floor(Date.now() / 1000) + 200)], "bar"],
      [["GETEX", "foo", "EXAT", "1"], "bar"],
      [["EXISTS", "foo"], 0],
      [["SET", "foo", "bar"], "OK"],
      [["GETEX", "foo", "PXAT", "1"], "bar"],
      [["GET", "foo"], null],
      [["ZADD", "zs", "1", "m"], 1],
      [["GETEX", "zs", "PERSIST"], WRONGTYPE],
    ]);
    const t = Number(await c.call("TTL", "foo"));
    assert.equal(t, -2);
  }, OPTS);
});

Deno.test("APPEND, STRLEN, GETRANGE, SUBSTR, SETRANGE", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["APPEND", "ap", "hello"], 5],
      [["APPEND", "ap", " world"], 11],
      [["GET", "ap"], "hello world"],
      [["STRLEN", "ap"], 11],
      [["STRLEN", "nokey"], 0],
      [["GETRANGE", "ap", "0", "4"], "hello"],
      [["GETRANGE", "ap", "-5", "-1"], "world"],
      [["GETRANGE", "ap", "-1", "-5"], ""],
      [["GETRANGE", "ap", "5", "3"], ""],
      [["GETRANGE", "ap", "0", "-100"], "h"],
      [["GETRANGE", "ap", "-100", "100"], "hello world"],
      [["GETRANGE", "ap", "100", "200"], ""],
      [["GETRANGE", "nokey", "0", "1"], ""],
      [["GETRANGE", "ap", "a", "1"], NOT_INT],
      [["GETRANGE", "nokey", "0", "b"], NOT_INT],
      [["SUBSTR", "ap", "0", "2"], "hel"],
      [["SET", "empty", ""], "OK"],
      [["GETRANGE", "empty", "0", "-1"], ""],
      [["SET", "n", "12345"], "OK"],
      [["GETRANGE", "n", "1", "2"], "23"],
      [["SETRANGE", "sr", "5", "hi"], 7],
      [["GET", "sr"], "\0\0\0\0\0hi"],
      [["SETRANGE", "sr", "0", "HELLO"], 7],
      [["GET", "sr"], "HELLOhi"],
      [["SETRANGE", "sr", "9", "!"], 10],
      [["GET", "sr"], "HELLOhi\0\0!"],
      [["SETRANGE", "sr", "-1", "x"], E("ERR offset is out of range")],
      [["SETRANGE", "sr", "a", "x"], NOT_INT],
      [["SETRANGE", "sr", "1", ""], 10],
      [["SETRANGE", "nosr", "1", ""], 0],
      [["EXISTS", "nosr"], 0],
      [
        ["SETRANGE", "sr", "536870912", "x"],
        E("ERR string exceeds maximum allowed size (proto-max-bulk-len)"),
      ],
      [["CONFIG", "SET", "proto-max-bulk-len", "2mb"], "OK"],
      [
        ["SETRANGE", "sr", String(2 * 1024 * 1024), "x"],
        E("ERR string exceeds maximum allowed size (proto-max-bulk-len)"),
      ],
      [["SET", "big", "x".repeat(1024 * 1024)], "OK"],
      [
        ["APPEND", "big", "y".repeat(1024 * 1024 + 1)],
        E("ERR string exceeds maximum allowed size (proto-max-bulk-len)"),
      ],
      [["APPEND", "big", "y"], 1024 * 1024 + 1],
      [["ZADD", "zs", "1", "m"], 1],
      [["APPEND", "zs", "x"], WRONGTYPE],
      [["STRLEN", "zs"], WRONGTYPE],
      [["GETRANGE", "zs", "0", "1"], WRONGTYPE],
      [["SETRANGE", "zs", "0", "x"], WRONGTYPE],
    ]);
  }, OPTS);
});

Deno.test("INCR/DECR/INCRBY/DECRBY: int64 range, overflow and parse errors", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["INCR", "n"], 1],
      [["INCRBY", "n", "100"], 101],
      [["DECR", "n"], 100],
      [["DECRBY", "n", "50"], 50],
      [["INCRBY", "n", "abc"], NOT_INT],
      [["INCRBY", "n", "1.5"], NOT_INT],
      [["SET", "n", "9223372036854775806"], "OK"],
      [["INCR", "n"], 9223372036854775807],
      [["GET", "n"], "9223372036854775807"],
      [["INCR", "n"], E("ERR increment or decrement would overflow")],
      [["SET", "n", "-9223372036854775807"], "OK"],
      [["DECR", "n"], -9223372036854775808],
      [["GET", "n"], "-9223372036854775808"],
      [["DECR", "n"], E("ERR increment or decrement would overflow")],
      [["DECRBY", "n", "-9223372036854775808"], E("ERR decrement would overflow")],
      [["SET", "n", "9007199254740991"], "OK"],
      [["INCR", "n"], 9007199254740992],
      [["GET", "n"], "9007199254740992"],
      [["INCR", "n"], 9007199254740993],
      [["GET", "n"], "9007199254740993"],
      [["INCRBY", "n", "9007199254740993"], 18014398509481986],
      [["GET", "n"], "18014398509481986"],
      [["SET", "n", "17179869184"], "OK"],
      [["DECRBY", "n", "17179869185"], -1],
      [["SET", "n", "abc"], "OK"],
      [["INCR", "n"], NOT_INT],
      [["SET", "n", " 1"], "OK"],
      [["INCR", "n"], NOT_INT],
      [["SET", "n", "01"], "OK"],
      [["INCR", "n"], NOT_INT],
      [["SET", "n", "+1"], "OK"],
      [["INCR", "n"], NOT_INT],
      [["SET", "n", "-0"], "OK"],
      [["INCR", "n"], NOT_INT],
      [["SET", "n", "5"], "OK"],
      [["EXPIRE", "n", "100"], 1],
      [["INCR", "n"], 6],
      [["TTL", "n"], 100],
      [["ZADD", "zs", "1", "m"], 1],
      [["INCR", "zs"], WRONGTYPE],
      [["DECRBY", "zs", "1"], WRONGTYPE],
    ]);
  }, OPTS);
});

Deno.test("INCRBYFLOAT matches Redis's long double arithmetic and formatting", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["INCRBYFLOAT", "f", "10.5"], "10.5"],
      [["INCRBYFLOAT", "f", "0.1"], "10.6"],
      [["INCRBYFLOAT", "f", "-5e3"], "-4989.39999999999999991"],
      [["SET", "f", "0.1"], "OK"],
      [["INCRBYFLOAT", "f", "0.2"], "0.3"],
      [["SET", "f", "5.0e3"], "OK"],
      [["INCRBYFLOAT", "f", "2.0e2"], "5200"],
      [["SET", "f", "1.5"], "OK"],
      [["INCRBYFLOAT", "f", "-1.5"], "0"],
      [["INCRBYFLOAT", "f", "abc"], NOT_FLOAT],
      [["INCRBYFLOAT", "f", " 1"], NOT_FLOAT],
      [["INCRBYFLOAT", "f", "1 "], NOT_FLOAT],
      [["INCRBYFLOAT", "f", "nan"], NOT_FLOAT],
      [["INCRBYFLOAT", "f", "inf"], E("ERR increment would produce NaN or Infinity")],
      [["INCRBYFLOAT", "f2", "1e5000"], NOT_FLOAT],
      [["INCRBYFLOAT", "f3", "1.23456789012345678901234567890"], "1.23456789012345679"],
      [["INCRBYFLOAT", "f3", "1000000.1"], "1000001.33456789012348054"],
      [["INCRBYFLOAT", "f4", "-0.0"], "0"],
      [["INCRBYFLOAT", "f5", "0x10"], "16"],
      [["INCRBYFLOAT", "f6", "1e-20"], "0"],
      [["INCRBYFLOAT", "f7", "123456789012345678901234567890"], "123456789012345678899921813504"],
      [["INCRBYFLOAT", "f8", "0.00000000000000001"], "0.00000000000000001"],
      [["INCRBYFLOAT", "f8", "0.000000000000000005"], "0.00000000000000002"],
      [["SET", "s", "notanumber"], "OK"],
      [["INCRBYFLOAT", "s", "1"], NOT_FLOAT],
      [["SET", "f9", "3"], "OK"],
      [["EXPIRE", "f9", "100"], 1],
      [["INCRBYFLOAT", "f9", "1.25"], "4.25"],
      [["TTL", "f9"], 100],
      [["ZADD", "zs", "1", "m"], 1],
      [["INCRBYFLOAT", "zs", "1"], WRONGTYPE],
    ]);
    // 1e4000 is not exact in binary: Redis prints the long double's exact integer value.
    const huge = await c.call("INCRBYFLOAT", "f2", "1e4000") as string;
    assert.equal(huge.length, 4000);
    assert.ok(
      huge.startsWith("99999999999999999999654638730996237849324925835069576313015083330432"),
    );
  }, OPTS);
});

Deno.test("LCS: string, LEN, IDX with MINMATCHLEN/WITHMATCHLEN, RESP3 map", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["MSET", "a", "ohmytext", "b", "mynewtext"], "OK"],
      [["LCS", "a", "b"], "mytext"],
      [["LCS", "a", "b", "LEN"], 6],
      [["LCS", "a", "b", "IDX"], ["matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], "len", 6]],
      [["LCS", "a", "b", "IDX", "MINMATCHLEN", "4"], ["matches", [[[4, 7], [5, 8]]], "len", 6]],
      [["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"], [
        "matches",
        [[[4, 7], [5, 8], 4]],
        "len",
        6,
      ]],
      [
        ["LCS", "a", "b", "IDX", "LEN"],
        E("ERR If you want both the length and indexes, please just use IDX."),
      ],
      [["LCS", "a", "b", "FOO"], SYNTAX],
      [["LCS", "a", "b", "MINMATCHLEN"], SYNTAX],
      [["LCS", "a", "nokey"], ""],
      [["ZADD", "zs", "1", "m"], 1],
      [["LCS", "a", "zs"], E("ERR The specified keys must contain string values")],
    ]);
    await c.call("HELLO", "3");
    const r = await c.call("LCS", "a", "b", "IDX", "MINMATCHLEN", "4");
    assert.deepEqual(r, new Map<Reply, Reply>([["matches", [[[4, 7], [5, 8]]]], ["len", 6]]));
  }, OPTS);
});

Deno.test("binary-safe keys and values, RESP2 and RESP3 nulls", async () => {
  await withServer(async (c) => {
    const bin = "a\x00b\xff\r\n\x00";
    const key = "k\xff\x00";
    await check(c, [
      [["SET", key, bin], "OK"],
      [["GET", key], bin],
      [["STRLEN", key], 7],
      [["APPEND", key, "\xff"], 8],
      [["GETRANGE", key, "3", "3"], "\xff"],
      [["SETRANGE", key, "1", "\xfe\x00"], 8],
      [["GET", key], "a\xfe\x00\xff\r\n\x00\xff"],
      [["MGET", key, "nokey"], ["a\xfe\x00\xff\r\n\x00\xff", null]],
      [["EXISTS", key], 1],
    ]);
    await c.writeRaw("*2\r\n$3\r\nGET\r\n$5\r\nnokey\r\n");
    assert.equal(await c.readRaw(200), "$-1\r\n");
    await c.call("HELLO", "3");
    await c.writeRaw(
      "*2\r\n$3\r\nGET\r\n$5\r\nnokey\r\n*3\r\n$4\r\nMGET\r\n$5\r\nnokey\r\n$3\r\n" + key + "\r\n",
    );
    assert.equal(await c.readRaw(200), "_\r\n*2\r\n_\r\n$8\r\na\xfe\x00\xff\r\n\x00\xff\r\n");
    await c.writeRaw("*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\nf\r\n$3\r\n1.5\r\n");
    assert.equal(await c.readRaw(200), "$3\r\n1.5\r\n");
  }, OPTS);
});

Deno.test("keyspace notifications and hit/miss stats of string commands", async () => {
  await withServer(async (c, s) => {
    await c.call("CONFIG", "SET", "notify-keyspace-events", "KEAm");
    const sub = await s.client();
    await sub.call("PSUBSCRIBE", "__keyevent@0__:*");
    const cmds: string[][] = [
      ["SET", "k", "1"],
      ["SET", "k", "2", "EX", "100"],
      ["INCR", "k"],
      ["INCRBYFLOAT", "k", "1.5"],
      ["APPEND", "k", "x"],
      ["SETRANGE", "k", "0", "y"],
      ["GETEX", "k", "PERSIST"],
      ["GETDEL", "k"],
      ["MSET", "a", "1", "b", "2"],
      ["GET", "nokey"],
    ];
    for (const cmd of cmds) await c.call(...cmd);
    const events: string[] = [];
    for (let i = 0; i < 12; i++) {
      const m = await sub.read() as string[];
      events.push(`${m[2].split(":")[1]} ${m[3]}`);
    }
    assert.deepEqual(events, [
      "set k",
      "set k",
      "expire k",
      "incrby k",
      "incrbyfloat k",
      "append k",
      "setrange k",
      "persist k",
      "del k",
      "set a",
      "set b",
      "keymiss nokey",
    ]);
    sub.close();
    await c.call("CONFIG", "RESETSTAT");
    await c.call("GET", "a");
    await c.call("GET", "nokey");
    await c.call("MGET", "a", "b", "nokey");
    await c.call("INCR", "a"); // write lookups do not count
    const info = await c.call("INFO", "stats") as string;
    assert.match(info, /keyspace_hits:3\r\n/);
    assert.match(info, /keyspace_misses:2\r\n/);
  }, OPTS);
});

/** Executes commands on an in-process server and returns what was propagated per command. */

Deno.test("replication rewrites of string commands", () => {
  const now = Date.now();
  const res = propagated([
    ["SET", "k", "v", "EX", "100"],
    ["SET", "k", "v", "PX", "100000", "NX"],
    ["SET", "k", "v", "PXAT", "99999999999999", "XX"],
    ["SET", "k", "v2", "GET", "KEEPTTL", "get"],
    ["SETEX", "k", "100", "v"],
    ["PSETEX", "k", "100000", "v"],
    ["SETNX", "k", "x"],
    ["GETSET", "k", "w"],
    ["INCRBYFLOAT", "f", "1.10"],
    ["GETEX", "k", "EX", "100"],
    ["GETEX", "k", "PERSIST"],
    ["GETEX", "k", "PERSIST"],
    ["GETEX", "k", "PXAT", "1"],
    ["SET", "k", "v"],
    ["GETDEL", "k"],
    ["GET", "k"],
    ["INCR", "n"],
    ["SET", "k", "v", "EXAT", "9223372036854775"],
  ]);
  const pxat = (cmd: string[]) => Number(cmd[4]);
  assert.deepEqual(res[0][0].slice(0, 4), ["SET", "k", "v", "PXAT"]);
  assert.ok(Math.abs(pxat(res[0][0]) - (now + 100000)) < 2000);
  assert.deepEqual(res[1], []); // NX failed: nothing changed, nothing propagated
  assert.deepEqual(res[2], [["SET", "k", "v", "PXAT", "99999999999999"]]);
  assert.deepEqual(res[3], [["SET", "k", "v2", "KEEPTTL"]]);
  assert.equal(res[4][0][3], "PXAT");
  assert.ok(Math.abs(pxat(res[4][0]) - (now + 100000)) < 2000);
  assert.ok(Math.abs(pxat(res[5][0]) - (now + 100000)) < 2000);
  assert.deepEqual(res[6], []);
  assert.deepEqual(res[7], [["SET", "k", "w"]]);
  assert.deepEqual(res[8], [["SET", "f", "1.1", "KEEPTTL"]]);
  assert.deepEqual(res[9][0].slice(0, 2), ["PEXPIREAT", "k"]);
  assert.ok(Math.abs(Number(res[9][0][2]) - (now + 100000)) < 2000);
  assert.deepEqual(res[10], [["PERSIST", "k"]]);
  assert.deepEqual(res[11], []);
  assert.deepEqual(res[12], [["DEL", "k"]]);
  assert.deepEqual(res[14], [["DEL", "k"]]);
  assert.deepEqual(res[15], []);
  assert.deepEqual(res[16], [["INCR", "n"]]);
  assert.deepEqual(res[17], [["SET", "k", "v", "PXAT", "9223372036854775000"]]);

  const lazy = propagated([["SET", "k", "v"], ["GETDEL", "k"], ["SET", "k", "v"], [
    "GETEX",
    "k",
    "EXAT",
    "1",
  ]], [
    ["lazyfree-lazy-user-del", "yes"],
    ["lazyfree-lazy-expire", "yes"],
  ]);
  assert.deepEqual(lazy[1], [["UNLINK", "k"]]);
  assert.deepEqual(lazy[3], [["UNLINK", "k"]]);
});
