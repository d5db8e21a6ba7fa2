// List commands over real sockets with exact replies (texts checked against redis-server 7.0.15),
// blocking pops served across clients, and (in process) what the commands propagate.
// Set HSL_TEST_REDIS=1 to run the socket tests against the real redis-server.
import assert from "node:assert/strict";
import {
  type Reply,
  type RespClient,
  type ServerProcess,
  startServer,
  waitBlocked,
} from "../helpers.ts";
import { Config } from "../../lib/config/config.ts";
import { Server } from "../../lib/server/server.ts";
import { Client } from "../../lib/server/client.ts";
import { processCommand } from "../../lib/server/dispatch.ts";
import { allCommands } from "../../lib/commands/table.ts";

const USE_REDIS = Deno.env.get("HSL_TEST_REDIS") === "1";

async function withServer(fn: (c: RespClient, s: ServerProcess) => Promise<void>): Promise<void> {
  const s = await startServer({ redis: USE_REDIS });
  const c = await s.client();
  try {
    await fn(c, s);
  } finally {
    c.close();
    await s.stop();
  }
}

function norm(r: Reply): unknown {
  return r instanceof Error ? `ERR:${r.message}` : Array.isArray(r) ? r.map(norm) : r;
}

/** Asserter bound to a client: e(args, reply) compares the parsed reply exactly. */
function expecter(c: RespClient) {
  return async (args: (string | number)[], want: Reply): Promise<void> => {
    assert.deepEqual(norm(await c.call(...args)), norm(want), args.join(" "));
  };
}

const err = (m: string) => new Error(m);
const WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value");
const NOT_INT = err("ERR value is not an integer or out of range");
const SYNTAX = err("ERR syntax error");
const POSITIVE = err("ERR value is out of range, must be positive");

Deno.test("list pushes, pops, LINDEX/LSET/LRANGE/LTRIM/LREM/LINSERT", async () => {
  await withServer(async (c) => {
    const e = expecter(c);
    await e(["LPUSH", "l", "a", "b", "c"], 3);
    await e(["RPUSH", "l", "d", "e"], 5);
    await e(["LRANGE", "l", 0, -1], ["c", "b", "a", "d", "e"]);
    await e(["LPUSHX", "nokey", "a"], 0);
    await e(["RPUSHX", "nokey", "a"], 0);
    await e(["EXISTS", "nokey"], 0);
    await e(["LPUSHX", "l", "x"], 6);
    await e(["RPUSHX", "l", "y", "z"], 8);
    await e(["LLEN", "l"], 8);
    await e(["LLEN", "nokey"], 0);
    await e(["LINDEX", "l", 0], "x");
    await e(["LINDEX", "l", -1], "z");
    await e(["LINDEX", "l", 100], null);
    await e(["LINDEX", "l", -100], null);
    await e(["LINDEX", "l", "abc"], NOT_INT);
    await e(["LINDEX", "nokey", "abc"], null);
    await e(["LSET", "l", 0, "X"], "OK");
    await e(["LSET", "l", -1, "Z"], "OK");
    await e(["LSET", "l", 100, "v"], err("ERR index out of range"));
    await e(["LSET", "l", "abc", "v"], NOT_INT);
    await e(["LSET", "nokey", 0, "v"], err("ERR no such key"));
    await e(["LRANGE", "l", 0, -1], ["X", "c", "b", "a", "d", "e", "y", "Z"]);
    await e(["LRANGE", "l", -100, 100], ["X", "c", "b", "a", "d", "e", "y", "Z"]);
    await e(["LRANGE", "l", 1, 2], ["c", "b"]);
    await e(["LRANGE", "l", -2, -1], ["y", "Z"]);
    await e(["LRANGE", "l", 5, 2], []);
    await e(["LRANGE", "l", 100, 200], []);
    await e(["LRANGE", "l", "abc", 1], NOT_INT);
    await e(["LRANGE", "nokey", 0, 1], []);
    // Pops, with and without count.
    await e(["LPOP", "l"], "X");
    await e(["RPOP", "l"], "Z");
    await e(["LPOP", "l", 2], ["c", "b"]);
    await e(["RPOP", "l", 2], ["y", "e"]);
    await e(["LPOP", "l", 0], []);
    await e(["LPOP", "nokey"], null);
    await e(["LPOP", "nokey", 0], null);
    await e(["LPOP", "l", -1], POSITIVE);
    await e(["LPOP", "l", "abc"], POSITIVE);
    await e(["LPOP", "l", 1, 2], err("ERR wrong number of arguments for 'lpop' command"));
    await e(["RPOP", "l", 100], ["d", "a"]);
    await e(["EXISTS", "l"], 0);
    // LREM from the head, the tail, and all.
    await e(["RPUSH", "l", "a", "b", "a", "c", "a", "d", "a"], 7);
    await e(["LREM", "l", 2, "a"], 2);
    await e(["LRANGE", "l", 0, -1], ["b", "c", "a", "d", "a"]);
    await e(["LREM", "l", -1, "a"], 1);
    await e(["LRANGE", "l", 0, -1], ["b", "c", "a", "d"]);
    await e(["LREM", "l", 0, "a"], 1);
    await e(["LREM", "l", 0, "zz"], 0);
    await e(["LREM", "l", "abc", "a"], NOT_INT);
    await e(["LREM", "nokey", 1, "a"], 0);
    await e(["LREM", "l", 0, "b"], 1);
    // LINSERT
    await e(["LINSERT", "l", "before", "c", "X"], 3);
    await e(["LINSERT", "l", "AFTER", "d", "Y"], 4);
    await e(["LINSERT", "l", "after", "zz", "Y"], -1);
    await e(["LINSERT", "l", "middle", "c", "Y"], SYNTAX);
    await e(["LINSERT", "nokey", "before", "a", "b"], 0);
    await e(["LINSERT", "nokey", "middle", "a", "b"], SYNTAX);
    await e(["LRANGE", "l", 0, -1], ["X", "c", "d", "Y"]);
    // LTRIM
    await e(["LTRIM", "l", 1, 2], "OK");
    await e(["LRANGE", "l", 0, -1], ["c", "d"]);
    await e(["LTRIM", "l", 5, 10], "OK");
    await e(["EXISTS", "l"], 0);
    await e(["LTRIM", "nokey", 0, 1], "OK");
    await e(["LTRIM", "l", "abc", 1], NOT_INT);
    await e(["RPUSH", "l", "a", "b", "c", "d", "e", "f"], 6);
    await e(["LTRIM", "l", -3, -1], "OK");
    await e(["LRANGE", "l", 0, -1], ["d", "e", "f"]);
    await e(["LTRIM", "l", 0, -100], "OK");
    await e(["EXISTS", "l"], 0);
    // Long lists: many pushes at both ends keep the order.
    for (let i = 0; i < 300; i++) await c.send("LPUSH", "big", `h${i}`);
    for (let i = 0; i < 300; i++) await c.send("RPUSH", "big", `t${i}`);
    for (let i = 0; i < 600; i++) await c.read();
    await e(["LLEN", "big"], 600);
    await e(["LINDEX", "big", 0], "h299");
    await e(["LINDEX", "big", 299], "h0");
    await e(["LINDEX", "big", 300], "t0");
    await e(["LRANGE", "big", 298, 301], ["h1", "h0", "t0", "t1"]);
    await e(["LPOS", "big", "t0"], 300);
    await e(["OBJECT", "ENCODING", "big"], "quicklist");
    // Binary-safe elements.
    await e(["RPUSH", "bin", "a\x00b\r\n\xff"], 1);
    await e(["LRANGE", "bin", 0, -1], ["a\x00b\r\n\xff"]);
  });
});

Deno.test("LPOS options, wrong types and arity", async () => {
  await withServer(async (c) => {
    const e = expecter(c);
    await e(["RPUSH", "p", "a", "b", "c", "1", "2", "3", "c", "c"], 8);
    await e(["LPOS", "p", "c"], 2);
    await e(["LPOS", "p", "c", "RANK", 2], 6);
    await e(["LPOS", "p", "c", "rank", -1], 7);
    await e(["LPOS", "p", "c", "rank", -2], 6);
    await e(["LPOS", "p", "c", "COUNT", 0], [2, 6, 7]);
    await e(["LPOS", "p", "c", "count", 2], [2, 6]);
    await e(["LPOS", "p", "c", "rank", -1, "count", 0], [7, 6, 2]);
    await e(["LPOS", "p", "c", "rank", 2, "count", 2], [6, 7]);
    await e(["LPOS", "p", "c", "maxlen", 1], null);
    await e(["LPOS", "p", "c", "maxlen", 3], 2);
    await e(["LPOS", "p", "c", "rank", -1, "maxlen", 2, "count", 0], [7, 6]);
    await e(["LPOS", "p", "zz"], null);
    await e(["LPOS", "p", "zz", "count", 0], []);
    await e(["LPOS", "p", "c", "rank", 10], null);
    await e(
      ["LPOS", "p", "c", "rank", 0],
      err(
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
      ),
    );
    await e(["LPOS", "p", "c", "count", -1], err("ERR COUNT can't be negative"));
    await e(["LPOS", "p", "c", "maxlen", -1], err("ERR MAXLEN can't be negative"));
    await e(["LPOS", "p", "c", "rank", "abc"], NOT_INT);
    await e(["LPOS", "p", "c", "foo"], SYNTAX);
    await e(["LPOS", "p", "c", "rank"], SYNTAX);
    await e(["LPOS", "nokey", "c"], null);
    await e(["LPOS", "nokey", "c", "count", 1], []);
    // Every list command against a string.
    await e(["SET", "str", "v"], "OK");
    for (
      const args of [
        ["LPUSH", "str", "a"],
        ["RPUSHX", "str", "a"],
        ["LPOP", "str"],
        ["RPOP", "str", 2],
        ["LLEN", "str"],
        ["LINDEX", "str", 0],
        ["LSET", "str", 0, "a"],
        ["LRANGE", "str", 0, 1],
        ["LTRIM", "str", 0, 1],
        ["LREM", "str", 0, "a"],
        ["LINSERT", "str", "before", "a", "b"],
        ["LPOS", "str", "a"],
        ["LMOVE", "str", "x", "left", "left"],
        ["RPOPLPUSH", "str", "x"],
        ["LMPOP", 1, "str", "left"],
        ["BLPOP", "str", 0],
        ["BRPOP", "nokey", "str", 0],
        ["BLMPOP", 0, 1, "str", "left"],
        ["BLMOVE", "str", "x", "left", "left", 0],
      ]
    ) await e(args, WRONGTYPE);
    await e(["LPUSH"], err("ERR wrong number of arguments for 'lpush' command"));
    await e(["LPUSH", "k"], err("ERR wrong number of arguments for 'lpush' command"));
    await e(["LPOP"], err("ERR wrong number of arguments for 'lpop' command"));
    await e(["BLPOP", "k"], err("ERR wrong number of arguments for 'blpop' command"));
    await e(["BLMPOP", 0, 1], err("ERR wrong number of arguments for 'blmpop' command"));
    await e(["LMPOP", 1, "x"], err("ERR wrong number of arguments for 'lmpop' command"));
  });
});

Deno.test("LMOVE, RPOPLPUSH and LMPOP", async () => {
  await withServer(async (c) => {
    const e = expecter(c);
    await e(["RPUSH", "s", 1, 2, 3], 3);
    await e(["LMOVE", "s", "d", "LEFT", "RIGHT"], "1");
    await e(["LMOVE", "s", "d", "right", "left"], "3");
    await e(["LRANGE", "d", 0, -1], ["3", "1"]);
    await e(["LMOVE", "s", "d", "middle", "left"], SYNTAX);
    await e(["LMOVE", "s", "d", "left", "middle"], SYNTAX);
    await e(["SET", "str", "x"], "OK");
    await e(["LMOVE", "s", "str", "left", "left"], WRONGTYPE);
    await e(["LRANGE", "s", 0, -1], ["2"]);
    await e(["LMOVE", "nokey", "d", "left", "left"], null);
    await e(["LMOVE", "nokey", "str", "left", "left"], null);
    await e(["LMOVE", "s", "s", "left", "right"], "2");
    await e(["LRANGE", "s", 0, -1], ["2"]);
    await e(["RPOPLPUSH", "s", "d"], "2");
    await e(["EXISTS", "s"], 0);
    await e(["RPOPLPUSH", "nokey", "d"], null);
    await e(["LRANGE", "d", 0, -1], ["2", "3", "1"]);
    await e(["RPUSH", "r", "a", "b", "c"], 3);
    await e(["RPOPLPUSH", "r", "r"], "c");
    await e(["LRANGE", "r", 0, -1], ["c", "a", "b"]);
    // LMPOP
    await e(["LMPOP", 2, "nokey", "d", "left"], ["d", ["2"]]);
    await e(["LMPOP", 2, "nokey", "d", "RIGHT", "COUNT", 5], ["d", ["1", "3"]]);
    await e(["EXISTS", "d"], 0);
    await e(["LMPOP", 1, "nokey", "left"], null);
    await e(["LMPOP", 0, "d", "left"], err("ERR numkeys should be greater than 0"));
    await e(["LMPOP", -1, "d", "left"], err("ERR numkeys should be greater than 0"));
    await e(["LMPOP", "abc", "d", "left"], err("ERR numkeys should be greater than 0"));
    await e(["LMPOP", 1, "d", "middle"], SYNTAX);
    await e(["LMPOP", 2, "d", "left"], SYNTAX);
    await e(["LMPOP", 1, "d", "left", "count", 0], err("ERR count should be greater than 0"));
    await e(["LMPOP", 1, "d", "left", "count", 1, "count", 2], SYNTAX);
    await e(["LMPOP", 1, "d", "left", "foo"], SYNTAX);
    await e(["LMPOP", 2, "r", "r", "left", "count", 2], ["r", ["c", "a"]]);
    await e(["COMMAND", "GETKEYS", "LMPOP", 2, "a", "b", "left"], ["a", "b"]);
    await e(["COMMAND", "GETKEYS", "BLMPOP", 0, 2, "a", "b", "left"], ["a", "b"]);
    await e(["COMMAND", "GETKEYS", "BLPOP", "a", "b", 0], ["a", "b"]);
    await e(["COMMAND", "GETKEYS", "LMOVE", "a", "b", "left", "left"], ["a", "b"]);
  });
});

Deno.test("RESP3 null and array shapes of list replies", async () => {
  await withServer(async (c) => {
    await c.call("HELLO", 3);
    await c.call("RPUSH", "r", "a", "b", "c");
    const cases: [string[], string][] = [
      [["LPOP", "nokey"], "_\r\n"],
      [["LPOP", "nokey", "2"], "_\r\n"],
      [["LPOP", "r", "0"], "*0\r\n"],
      [["LMPOP", "1", "nokey", "left"], "_\r\n"],
      [["LPOS", "nokey", "a"], "_\r\n"],
      [["LPOS", "nokey", "a", "count", "1"], "*0\r\n"],
      [["LINDEX", "r", "9"], "_\r\n"],
      [["BLPOP", "nokey", "0.01"], "_\r\n"],
      [["BRPOPLPUSH", "nokey", "x", "0.01"], "_\r\n"],
      [["LMPOP", "1", "r", "left", "count", "2"], "*2\r\n$1\r\nr\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"],
    ];
    for (const [args, want] of cases) {
      await c.send(...args);
      let got = "";
      for (let i = 0; i < 100 && got.length < want.length; i++) got += await c.readRaw(50);
      assert.equal(got, want, args.join(" "));
    }
  });
});

Deno.test("blocking pops: served by pushes, FIFO, timeouts, errors", async () => {
  await withServer(async (c, s) => {
    const e = expecter(c);
    const [b1, b2, b3] = [await s.client(), await s.client(), await s.client()];
    try {
      // Argument errors come before anything else.
      await e(["BLPOP", "k", "abc"], err("ERR timeout is not a float or out of range"));
      await e(["BLPOP", "k", " 1"], err("ERR timeout is not a float or out of range"));
      await e(["BLPOP", "k", "nan"], err("ERR timeout is not a float or out of range"));
      await e(["BLPOP", "k", "-1"], err("ERR timeout is negative"));
      await e(["BLPOP", "k", "1e20"], err("ERR timeout is negative"));
      await e(["BRPOP", "k", "1x"], err("ERR timeout is not a float or out of range"));
      await e(
        ["BLMOVE", "a", "b", "left", "right", "abc"],
        err("ERR timeout is not a float or out of range"),
      );
      await e(["BLMOVE", "a", "b", "foo", "right", "1"], SYNTAX);
      await e(["BRPOPLPUSH", "a", "b", "abc"], err("ERR timeout is not a float or out of range"));
      await e(["BLMPOP", "abc", 1, "a", "left"], err("ERR timeout is not a float or out of range"));
      await e(["BLMPOP", 0.1, 0, "a", "left"], err("ERR numkeys should be greater than 0"));
      await e(["BLMPOP", 0.1, 1, "a", "foo"], SYNTAX);
      await e(
        ["BLMPOP", 0.1, 1, "a", "left", "count", 0],
        err("ERR count should be greater than 0"),
      );
      // Served at once when data is there.
      await e(["RPUSH", "bl", "a", "b", "c"], 3);
      await e(["BLPOP", "nokey", "bl", 0], ["bl", "a"]);
      await e(["BRPOP", "nokey", "bl", 0], ["bl", "c"]);
      await e(["BLMPOP", 0, 2, "nokey", "bl", "right", "count", 5], ["bl", ["b"]]);

      // Three blocked clients are served in the order they blocked.
      await b1.send("BLPOP", "q", 0);
      await waitBlocked(c, 1);
      await b2.send("BLPOP", "q", 0);
      await waitBlocked(c, 2);
      await b3.send("BRPOP", "other", "q", 0);
      await waitBlocked(c, 3);
      await e(["LPUSH", "q", "x"], 1);
      assert.deepEqual(await b1.read(), ["q", "x"]);
      await e(["RPUSH", "q", "y", "z"], 2);
      assert.deepEqual(await b2.read(), ["q", "y"]);
      assert.deepEqual(await b3.read(), ["q", "z"]);
      await waitBlocked(c, 0);
      await e(["EXISTS", "q"], 0);
      // The client keeps working after being served.
      assert.equal(await b1.call("PING"), "PONG");

      // Same key several times; a later key of the list.
      await b1.send("BLPOP", "k1", "k2", "k2", "k1", 0);
      await waitBlocked(c, 1);
      await e(["LPUSH", "k2", "b"], 1);
      assert.deepEqual(await b1.read(), ["k2", "b"]);

      // Timeout: a null array after roughly the timeout.
      let t0 = Date.now();
      assert.equal(await b1.call("BLPOP", "nokey", 0.3), null);
      let dt = Date.now() - t0;
      assert.ok(dt >= 250 && dt < 2000, `BLPOP waited ${dt} ms`);
      t0 = Date.now();
      assert.equal(await b1.call("BLMPOP", 0.2, 1, "nokey", "left"), null);
      assert.equal(await b1.call("BRPOPLPUSH", "nokey", "dst", 0.2), null);
      assert.equal(await b1.call("BLMOVE", "nokey", "dst", "left", "left", 0.2), null);
      dt = Date.now() - t0;
      assert.ok(dt >= 550 && dt < 4000, `three timeouts took ${dt} ms`);
      await e(["EXISTS", "dst"], 0);

      // BLMPOP with counts: each blocked client takes what it asked for.
      await b1.send("BLMPOP", 0, 2, "m1", "m2", "left", "count", 1);
      await waitBlocked(c, 1);
      await b2.send("BLMPOP", 0, 2, "m1", "m2", "right", "count", 10);
      await waitBlocked(c, 2);
      await e(["RPUSH", "m2", 1, 2, 3], 3);
      assert.deepEqual(await b1.read(), ["m2", ["1"]]);
      assert.deepEqual(await b2.read(), ["m2", ["3", "2"]]);

      // A push of the wrong type does not wake anybody; a later list push does.
      await b1.send("BLPOP", "w", 0);
      await waitBlocked(c, 1);
      await e(["SET", "w", "string"], "OK");
      await e(["DEL", "w"], 1);
      await e(["RPUSH", "w", "v"], 1);
      assert.deepEqual(await b1.read(), ["w", "v"]);
    } finally {
      b1.close();
      b2.close();
      b3.close();
    }
  });
});

Deno.test("BLMOVE and BRPOPLPUSH: served, chained, circular, wrong destination", async () => {
  await withServer(async (c, s) => {
    const e = expecter(c);
    const [b1, b2] = [await s.client(), await s.client()];
    try {
      await b1.send("BLMOVE", "src", "dst", "RIGHT", "LEFT", 0);
      await waitBlocked(c, 1);
      await e(["RPUSH", "src", "a", "b"], 2);
      assert.equal(await b1.read(), "b");
      await e(["LRANGE", "src", 0, -1], ["a"]);
      await e(["LRANGE", "dst", 0, -1], ["b"]);
      // With data present BLMOVE acts at once.
      await e(["BLMOVE", "src", "dst", "left", "right", 0], "a");
      await e(["LRANGE", "dst", 0, -1], ["b", "a"]);
      await e(["EXISTS", "src"], 0);

      // Linked moves: list1 -> list2 -> list3.
      await b1.send("BLMOVE", "list1", "list2", "right", "left", 0);
      await waitBlocked(c, 1);
      await b2.send("BLMOVE", "list2", "list3", "left", "right", 0);
      await waitBlocked(c, 2);
      await e(["RPUSH", "list1", "foo"], 1);
      assert.equal(await b1.read(), "foo");
      assert.equal(await b2.read(), "foo");
      await e(["LRANGE", "list1", 0, -1], []);
      await e(["LRANGE", "list2", 0, -1], []);
      await e(["LRANGE", "list3", 0, -1], ["foo"]);

      // Circular BRPOPLPUSH ends with the element back in list1.
      await b1.send("BRPOPLPUSH", "c1", "c2", 0);
      await waitBlocked(c, 1);
      await b2.send("BRPOPLPUSH", "c2", "c1", 0);
      await waitBlocked(c, 2);
      await e(["RPUSH", "c1", "foo"], 1);
      assert.equal(await b1.read(), "foo");
      assert.equal(await b2.read(), "foo");
      await e(["LRANGE", "c1", 0, -1], ["foo"]);
      await e(["EXISTS", "c2"], 0);

      // Destination of the wrong type: the blocked client gets the error, the element stays.
      await e(["SET", "target", "nolist"], "OK");
      await b1.send("BRPOPLPUSH", "blist", "target", 0);
      await waitBlocked(c, 1);
      await e(["RPUSH", "blist", "foo"], 1);
      assert.deepEqual(norm(await b1.read()), norm(WRONGTYPE));
      await e(["LRANGE", "blist", 0, -1], ["foo"]);
      await waitBlocked(c, 0);
    } finally {
      b1.close();
      b2.close();
    }
  });
});

Deno.test("blocked clients and MULTI/EXEC", async () => {
  await withServer(async (c, s) => {
    const e = expecter(c);
    const b1 = await s.client();
    try {
      // A blocked client sees the whole transaction's effect: the last pushed element.
      await b1.send("BLPOP", "list", 0);
      await waitBlocked(c, 1);
      await e(["MULTI"], "OK");
      await e(["LPUSH", "list", "a"], "QUEUED");
      await e(["LPUSH", "list", "b"], "QUEUED");
      await e(["LPUSH", "list", "c"], "QUEUED");
      await e(["EXEC"], [1, 2, 3]);
      assert.deepEqual(await b1.read(), ["list", "c"]);
      await e(["DEL", "list"], 1);

      // LPUSH + DEL inside a transaction does not wake it.
      await b1.send("BLPOP", "list", 0);
      await waitBlocked(c, 1);
      await e(["MULTI"], "OK");
      await e(["LPUSH", "list", "a"], "QUEUED");
      await e(["DEL", "list"], "QUEUED");
      await e(["EXEC"], [1, 1]);
      await waitBlocked(c, 1);
      await e(["LPUSH", "list", "b"], 1);
      assert.deepEqual(await b1.read(), ["list", "b"]);

      // Blocking commands inside MULTI never block: they behave as timed out.
      await e(["MULTI"], "OK");
      await e(["BLMOVE", "nokey", "b", "left", "right", 0], "QUEUED");
      await e(["BRPOPLPUSH", "nokey", "b", 0], "QUEUED");
      await e(["BLPOP", "nokey", 0], "QUEUED");
      await e(["BLMPOP", 0, 1, "nokey", "left"], "QUEUED");
      await e(["EXEC"], [null, null, null, null]);
      await c.writeRaw("MULTI\r\nBLPOP nokey 0\r\nBRPOPLPUSH nokey b 0\r\nEXEC\r\n");
      let raw = "";
      for (let i = 0; i < 50 && !raw.endsWith("*-1\r\n$-1\r\n"); i++) raw += await c.readRaw(20);
      assert.equal(raw, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n*-1\r\n$-1\r\n");
    } finally {
      b1.close();
    }
  });
});

Deno.test("list keyspace notifications", async () => {
  await withServer(async (c, s) => {
    const e = expecter(c);
    await e(["CONFIG", "SET", "notify-keyspace-events", "EA"], "OK");
    const sub = await s.client();
    try {
      assert.deepEqual(await sub.call("PSUBSCRIBE", "__keyevent@0__:*"), [
        "psubscribe",
        "__keyevent@0__:*",
        1,
      ]);
      const cmds: (string | number)[][] = [
        ["RPUSH", "l", "a", "b", "c"],
        ["LPUSH", "l", "z"],
        ["LSET", "l", 0, "y"],
        ["LINSERT", "l", "before", "y", "x"],
        ["LREM", "l", 1, "x"],
        ["LTRIM", "l", 0, 2],
        ["LMOVE", "l", "l2", "left", "right"],
        ["RPOP", "l", 5],
        ["RPOPLPUSH", "l2", "l3"],
        ["LPOP", "l3"],
      ];
      for (const a of cmds) await c.call(...a);
      const want = [
        ["rpush", "l"],
        ["lpush", "l"],
        ["lset", "l"],
        ["linsert", "l"],
        ["lrem", "l"],
        ["ltrim", "l"],
        ["rpush", "l2"],
        ["lpop", "l"],
        ["rpop", "l"],
        ["del", "l"],
        ["lpush", "l3"],
        ["rpop", "l2"],
        ["del", "l2"],
        ["lpop", "l3"],
        ["del", "l3"],
      ];
      for (const [ev, key] of want) {
        const m = await sub.read() as Reply[];
        assert.deepEqual(m, ["pmessage", "__keyevent@0__:*", `__keyevent@0__:${ev}`, key]);
      }
    } finally {
      sub.close();
    }
  });
});

/** Runs commands on an in-process server; returns what each propagated. */
function propagated(cmds: string[][]): string[][][] {
  const server = new Server(new Config());
  server.registerCommands(allCommands());
  const out: string[][] = [];
  server.propagateSinks.push((_db, argv) => out.push([...argv]));
  const clients = [0, 1].map((i) => {
    const c = new Client(server, null, `127.0.0.1:${i + 1}`, "127.0.0.1:9");
    server.clients.set(c.id, c);
    return c;
  });
  const res: string[][][] = [];
  for (const cmd of cmds) {
    out.length = 0;
    // "@1 CMD ..." runs on the second client (the one that blocks).
    const c = cmd[0] === "@1" ? clients[1] : clients[0];
    processCommand(c, cmd[0] === "@1" ? cmd.slice(1) : cmd);
    res.push(out.map((a) => a));
  }
  return res;
}

Deno.test("list commands propagate as Redis 7.0 does", () => {
  const res = propagated([
    ["RPUSH", "l", "a", "b", "c", "d", "e"],
    ["BLPOP", "l", "0"],
    ["BRPOP", "nokey", "l", "0"],
    ["BLMPOP", "0", "1", "l", "left", "count", "5"],
    ["LMPOP", "1", "nokey", "left"],
    ["RPUSH", "l", "a", "b"],
    ["LMPOP", "1", "l", "right", "count", "1"],
    ["BLMOVE", "l", "d", "left", "right", "0"],
    ["@1", "BLPOP", "q", "0"],
    ["LPUSH", "q", "x"],
    ["@1", "BRPOPLPUSH", "s", "d", "0"],
    ["RPUSH", "s", "y"],
    ["@1", "BLMOVE", "s", "d", "left", "right", "0"],
    ["RPUSH", "s", "z"],
    ["@1", "BLMPOP", "0", "1", "s", "right", "count", "3"],
    ["RPUSH", "s", "1", "2"],
    ["LPOP", "nokey"],
    ["BRPOPLPUSH", "d", "e", "0"],
  ]);
  assert.deepEqual(res, [
    [["RPUSH", "l", "a", "b", "c", "d", "e"]],
    [["LPOP", "l"]],
    [["RPOP", "l"]],
    [["LPOP", "l", "3"]],
    [],
    [["RPUSH", "l", "a", "b"]],
    [["RPOP", "l", "1"]],
    [["LMOVE", "l", "d", "left", "right"]],
    [],
    [["LPUSH", "q", "x"], ["LPOP", "q"]],
    [],
    [["RPUSH", "s", "y"], ["RPOPLPUSH", "s", "d"]],
    [],
    [["RPUSH", "s", "z"], ["LMOVE", "s", "d", "LEFT", "RIGHT"]],
    [],
    [["RPUSH", "s", "1", "2"], ["RPOP", "s", "2"]],
    [],
    [["RPOPLPUSH", "d", "e"]],
  ]);
});
