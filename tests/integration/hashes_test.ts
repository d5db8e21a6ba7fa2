// Hash commands over real sockets with exact replies (texts checked against redis-server 7.0.15),
// encodings, HSCAN/HRANDFIELD semantics, and (in process) what HINCRBYFLOAT propagates.
// Set HSL_TEST_REDIS=1 to run the socket tests against the real redis-server.
import assert from "node:assert/strict";
import { type Reply, type RespClient, type ServerProcess, startServer } from "../helpers.ts";
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
  if (r instanceof Map) return new Map([...r].map(([k, v]) => [norm(k), norm(v)]));
  return r instanceof Error ? `ERR:${r.message}` : Array.isArray(r) ? r.map(norm) : r;
}

/** Asserter bound to a client: e(args, reply) compares the parsed reply exactly. */
function expecter(c: RespClient) {
  return async (args: (string | number)[], want: Reply): Promise<void> => {
    assert.deepEqual(norm(await c.call(...args)), norm(want), args.join(" "));
  };
}

/** Sends a command and compares the raw reply bytes. */
async function raw(c: RespClient, args: (string | number)[], want: string): Promise<void> {
  await c.send(...args);
  let got = "";
  for (let i = 0; i < 100 && got.length < want.length; i++) got += await c.readRaw(20);
  assert.equal(got, want, args.join(" "));
}

const err = (m: string) => new Error(m);
const WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value");
const NOT_INT = err("ERR value is not an integer or out of range");
const SYNTAX = err("ERR syntax error");

Deno.test("hash field commands: exact replies and errors", async () => {
  await withServer(async (c) => {
    const e = expecter(c);
    await e(["HSET", "h", "a", 1, "b", 2, "c", 3], 3);
    await e(["HSET", "h", "a", 1, "b"], err("ERR wrong number of arguments for 'hset' command"));
    await e(["HMSET", "h", "a", 1, "b"], err("ERR wrong number of arguments for 'hmset' command"));
    await e(["HSET", "h", "a", 10], 0);
    await e(["HMSET", "h", "x", 1, "y", 2], "OK");
    await e(["HSETNX", "h", "a", 5], 0);
    await e(["HSETNX", "h", "new", 5], 1);
    await e(["HGET", "h", "a"], "10");
    await e(["HGET", "h", "nofield"], null);
    await e(["HGET", "nokey", "a"], null);
    await e(["HMGET", "h", "a", "b", "nofield"], ["10", "2", null]);
    await e(["HMGET", "nokey", "a", "b"], [null, null]);
    await e(["HGETALL", "h"], ["a", "10", "b", "2", "c", "3", "x", "1", "y", "2", "new", "5"]);
    await e(["HKEYS", "h"], ["a", "b", "c", "x", "y", "new"]);
    await e(["HVALS", "h"], ["10", "2", "3", "1", "2", "5"]);
    await e(["HGETALL", "nokey"], []);
    await e(["HKEYS", "nokey"], []);
    await e(["HLEN", "h"], 6);
    await e(["HLEN", "nokey"], 0);
    await e(["HSTRLEN", "h", "a"], 2);
    await e(["HSTRLEN", "h", "nofield"], 0);
    await e(["HSTRLEN", "nokey", "a"], 0);
    await e(["HEXISTS", "h", "a"], 1);
    await e(["HEXISTS", "h", "zz"], 0);
    await e(["HDEL", "h", "a", "b", "zz"], 2);
    await e(["HDEL", "nokey", "a"], 0);
    await e(["HSETNX", "h2", "f", "v"], 1);
    await e(["HDEL", "h2", "f"], 1);
    await e(["EXISTS", "h2"], 0);
    await e(["HSET", "bin", "f\x00\xff", "v\r\n\x00"], 1);
    await e(["HGET", "bin", "f\x00\xff"], "v\r\n\x00");
    // HINCRBY
    await e(["HINCRBY", "h", "cnt", 5], 5);
    await e(["HINCRBY", "h", "cnt", -10], -5);
    await e(["HINCRBY", "h", "cnt", "abc"], NOT_INT);
    await e(["HINCRBY", "h", "cnt", "9223372036854775808"], NOT_INT);
    await e(["HSET", "h", "s", "abc", "sp", " 1"], 2);
    await e(["HINCRBY", "h", "s", 1], err("ERR hash value is not an integer"));
    await e(["HINCRBY", "h", "sp", 1], err("ERR hash value is not an integer"));
    await e(["HSET", "h", "big", "9223372036854775800"], 1);
    await raw(c, ["HINCRBY", "h", "big", 7], ":9223372036854775807\r\n");
    await e(["HINCRBY", "h", "big", 1], err("ERR increment or decrement would overflow"));
    await e(["HINCRBY", "h", "big", "-9223372036854775807"], 0);
    await e(["HSET", "h", "neg", "-9223372036854775800"], 1);
    await raw(c, ["HINCRBY", "h", "neg", -8], ":-9223372036854775808\r\n");
    await e(["HINCRBY", "h", "neg", -1], err("ERR increment or decrement would overflow"));
    await e(["HGET", "h", "neg"], "-9223372036854775808");
    // HINCRBYFLOAT prints like Redis's long double "%.17Lf".
    await e(["HINCRBYFLOAT", "h", "f", "0.1"], "0.1");
    await e(["HINCRBYFLOAT", "h", "f", "0.2"], "0.3");
    await e(["HINCRBYFLOAT", "h", "g", "10.5"], "10.5");
    await e(["HINCRBYFLOAT", "h", "g", "0.1"], "10.6");
    await e(["HINCRBYFLOAT", "h", "u", "123456789.123456789"], "123456789.12345678899873747");
    await e(["HINCRBYFLOAT", "h", "u", "1.1"], "123456790.22345678899728227");
    await e(["HINCRBYFLOAT", "h", "v", "3.0e3"], "3000");
    await e(["HINCRBYFLOAT", "h", "v", "-1e-5"], "2999.99998999999999993");
    await e(["HINCRBYFLOAT", "h", "w", "0.00000000000000000001"], "0");
    await e(["HINCRBYFLOAT", "h", "cnt", "0.5"], "-4.5");
    await e(["HINCRBYFLOAT", "h", "f", "abc"], err("ERR value is not a valid float"));
    await e(["HINCRBYFLOAT", "h", "f", "inf"], err("ERR value is NaN or Infinity"));
    await e(["HINCRBYFLOAT", "h", "s", "1"], err("ERR hash value is not a float"));
    await e(["HINCRBYFLOAT", "h", "sp", "1"], err("ERR hash value is not a float"));
    await e(["HSET", "h", "huge", "1e4000"], 1);
    const huge = await c.call("HINCRBYFLOAT", "h", "huge", "1");
    assert.equal(typeof huge, "string");
    assert.equal((huge as string).length, 4000);
    assert.ok((huge as string).startsWith("99999999999999999999654638730996237849"));
    await e(["HSET", "h", "inf", "inf"], 1);
    await e(["HINCRBYFLOAT", "h", "inf", "1"], err("ERR increment would produce NaN or Infinity"));
    await e(["HINCRBY", "h", "inf", 1], err("ERR hash value is not an integer"));
    // Every hash command against a string.
    await e(["SET", "str", "x"], "OK");
    for (
      const args of [
        ["HSET", "str", "a", "b"],
        ["HMSET", "str", "a", "b"],
        ["HSETNX", "str", "a", "b"],
        ["HGET", "str", "a"],
        ["HMGET", "str", "a"],
        ["HGETALL", "str"],
        ["HKEYS", "str"],
        ["HVALS", "str"],
        ["HDEL", "str", "a"],
        ["HLEN", "str"],
        ["HSTRLEN", "str", "a"],
        ["HEXISTS", "str", "a"],
        ["HINCRBY", "str", "a", 1],
        ["HINCRBYFLOAT", "str", "a", 1],
        ["HRANDFIELD", "str"],
        ["HRANDFIELD", "str", 2],
        ["HSCAN", "str", 0],
      ]
    ) await e(args, WRONGTYPE);
    await e(["HSET", "h"], err("ERR wrong number of arguments for 'hset' command"));
    await e(["HGET", "h"], err("ERR wrong number of arguments for 'hget' command"));
    await e(["HSETNX", "h", "a"], err("ERR wrong number of arguments for 'hsetnx' command"));
    await e(["HRANDFIELD"], err("ERR wrong number of arguments for 'hrandfield' command"));
    await e(["HSCAN", "h"], err("ERR wrong number of arguments for 'hscan' command"));
  });
});

Deno.test("hash encodings follow hash-max-listpack-entries/value", async () => {
  await withServer(async (c) => {
    const e = expecter(c);
    await e(["CONFIG", "SET", "hash-max-listpack-entries", 4], "OK");
    await e(["CONFIG", "SET", "hash-max-listpack-value", 8], "OK");
    await e(["HSET", "small", "a", 1, "b", 2, "c", 3, "d", 4], 4);
    await e(["OBJECT", "ENCODING", "small"], "listpack");
    await e(["HSET", "small", "e", 5], 1);
    await e(["OBJECT", "ENCODING", "small"], "hashtable");
    await e(["HDEL", "small", "a", "b", "c", "d"], 4);
    await e(["OBJECT", "ENCODING", "small"], "hashtable");
    // A long value converts, even when the field only gets updated.
    await e(["HSET", "v", "a", 1], 1);
    await e(["HSET", "v", "a", "123456789"], 0);
    await e(["OBJECT", "ENCODING", "v"], "hashtable");
    await e(["HSET", "f", "123456789", 1], 1);
    await e(["OBJECT", "ENCODING", "f"], "hashtable");
    await e(["HSETNX", "n", "a", "12345678"], 1);
    await e(["OBJECT", "ENCODING", "n"], "listpack");
    await e(["HINCRBYFLOAT", "n", "b", "0.123456789"], "0.123456789");
    await e(["OBJECT", "ENCODING", "n"], "hashtable");
    await e(["HINCRBY", "i", "123456789", 1], 1);
    await e(["OBJECT", "ENCODING", "i"], "hashtable");
  });
});

Deno.test("HSCAN and HRANDFIELD", async () => {
  await withServer(async (c) => {
    const e = expecter(c);
    await e(["HSET", "sm", "f1", "v1", "f2", "v2", "g3", "v3"], 3);
    await e(["HSCAN", "sm", 0], ["0", ["f1", "v1", "f2", "v2", "g3", "v3"]]);
    await e(["HSCAN", "sm", 0, "MATCH", "f*"], ["0", ["f1", "v1", "f2", "v2"]]);
    await e(["HSCAN", "sm", 0, "match", "f*", "COUNT", 1], ["0", ["f1", "v1", "f2", "v2"]]);
    await e(["HSCAN", "nokey", 0], ["0", []]);
    await e(["HSCAN", "nokey", "abc"], err("ERR invalid cursor"));
    await e(["HSCAN", "sm", "abc"], err("ERR invalid cursor"));
    await e(["HSCAN", "sm", "18446744073709551616"], err("ERR invalid cursor"));
    await e(["HSCAN", "sm", 0, "COUNT", 0], SYNTAX);
    await e(["HSCAN", "sm", 0, "COUNT", "abc"], NOT_INT);
    await e(["HSCAN", "sm", 0, "MATCH"], SYNTAX);
    await e(["HSCAN", "sm", 0, "TYPE", "string"], SYNTAX);
    // A hashtable-encoded hash is iterated in steps; every field comes back once.
    const fields = new Map<string, string>();
    const args: (string | number)[] = ["HSET", "big"];
    for (let i = 0; i < 1000; i++) args.push(`field:${i}`, `value:${i}`);
    await e(args, 1000);
    await e(["OBJECT", "ENCODING", "big"], "hashtable");
    let cursor = "0";
    let calls = 0;
    do {
      const r = await c.call("HSCAN", "big", cursor, "COUNT", 100) as [string, string[]];
      cursor = r[0];
      for (let i = 0; i < r[1].length; i += 2) fields.set(r[1][i], r[1][i + 1]);
      calls++;
    } while (cursor !== "0");
    assert.equal(fields.size, 1000);
    assert.equal(fields.get("field:999"), "value:999");
    assert.ok(calls > 3, `HSCAN took ${calls} calls`);
    const m = await c.call("HSCAN", "big", 0, "MATCH", "field:99?", "COUNT", 2000) as [
      string,
      string[],
    ];
    assert.equal(m[0], "0");
    assert.equal(m[1].length, 20);

    // HRANDFIELD
    await e(["HRANDFIELD", "nokey"], null);
    await e(["HRANDFIELD", "nokey", 5], []);
    await e(["HRANDFIELD", "nokey", -5, "withvalues"], []);
    await e(["HRANDFIELD", "sm", 0], []);
    await e(["HRANDFIELD", "sm", 5, "withvalues", "x"], SYNTAX);
    await e(["HRANDFIELD", "sm", 5, "foo"], SYNTAX);
    await e(["HRANDFIELD", "sm", "abc"], NOT_INT);
    await e(
      ["HRANDFIELD", "sm", "-9223372036854775808"],
      err(
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
      ),
    );
    await e(
      ["HRANDFIELD", "sm", "-9223372036854770000", "withvalues"],
      err("ERR value is out of range"),
    );
    await e(["HRANDFIELD", "sm", 10], ["f1", "f2", "g3"]);
    await e(["HRANDFIELD", "sm", 3, "withvalues"], ["f1", "v1", "f2", "v2", "g3", "v3"]);
    const one = await c.call("HRANDFIELD", "sm");
    assert.ok(["f1", "f2", "g3"].includes(one as string));
    const rep = await c.call("HRANDFIELD", "sm", -20, "WITHVALUES") as string[];
    assert.equal(rep.length, 40);
    for (let i = 0; i < 40; i += 2) assert.equal(rep[i + 1], "v" + rep[i].slice(1));
    for (const [h, n] of [["sm", 2], ["big", 10], ["big", 900]] as const) {
      const r = await c.call("HRANDFIELD", h, n) as string[];
      assert.equal(r.length, n);
      assert.equal(new Set(r).size, n, "distinct fields");
    }
    // Negative counts repeat; over many picks every field shows up.
    const seen = new Set(await c.call("HRANDFIELD", "sm", -100) as string[]);
    assert.deepEqual([...seen].sort(), ["f1", "f2", "g3"]);

    // RESP3: HGETALL is a map, HRANDFIELD WITHVALUES nests pairs.
    await c.call("HELLO", 3);
    await e(["HGETALL", "sm"], new Map([["f1", "v1"], ["f2", "v2"], ["g3", "v3"]]));
    await e(["HGETALL", "nokey"], new Map());
    await e(["HRANDFIELD", "sm", 3, "withvalues"], [["f1", "v1"], ["f2", "v2"], ["g3", "v3"]]);
    const pairs = await c.call("HRANDFIELD", "sm", -4, "withvalues") as string[][];
    assert.equal(pairs.length, 4);
    for (const p of pairs) assert.equal(p[1], "v" + p[0].slice(1));
  });
});

Deno.test("hash keyspace notifications", async () => {
  await withServer(async (c, s) => {
    await c.call("CONFIG", "SET", "notify-keyspace-events", "EA");
    const sub = await s.client();
    try {
      await sub.call("PSUBSCRIBE", "__keyevent@0__:*");
      for (
        const a of [
          ["HSET", "h", "a", "1"],
          ["HSETNX", "h", "a", "2"],
          ["HSETNX", "h", "b", "2"],
          ["HINCRBY", "h", "a", "1"],
          ["HINCRBYFLOAT", "h", "a", "1.5"],
          ["HDEL", "h", "zz"],
          ["HDEL", "h", "a", "b"],
        ]
      ) await c.call(...a);
      for (const ev of ["hset", "hset", "hincrby", "hincrbyfloat", "hdel", "del"]) {
        assert.deepEqual(await sub.read(), [
          "pmessage",
          "__keyevent@0__:*",
          `__keyevent@0__:${ev}`,
          "h",
        ]);
      }
    } finally {
      sub.close();
    }
  });
});

Deno.test("hash commands propagate as Redis 7.0 does", () => {
  const server = new Server(new Config());
  server.registerCommands(allCommands());
  const out: string[][] = [];
  server.propagateSinks.push((_db, argv) => out.push([...argv]));
  const c = new Client(server, null, "127.0.0.1:1", "127.0.0.1:2");
  server.clients.set(c.id, c);
  const run = (...argv: string[]) => {
    out.length = 0;
    processCommand(c, argv);
    return out.map((a) => a);
  };
  assert.deepEqual(run("HSET", "h", "a", "1"), [["HSET", "h", "a", "1"]]);
  assert.deepEqual(run("HINCRBYFLOAT", "h", "a", "0.5"), [["HSET", "h", "a", "1.5"]]);
  assert.deepEqual(run("HINCRBYFLOAT", "h", "a", "abc"), []);
  assert.deepEqual(run("HSETNX", "h", "a", "x"), []);
  assert.deepEqual(run("HDEL", "h", "zz"), []);
  assert.deepEqual(run("HDEL", "h", "a"), [["HDEL", "h", "a"]]);
});
