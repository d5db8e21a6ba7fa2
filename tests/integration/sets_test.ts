// Set commands over real sockets with exact replies (texts checked against redis-server 7.0.15),
// intset/hashtable encodings, random and scan semantics, and (in process) SPOP's propagation.
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
  return r instanceof Error ? `ERR:${r.message}` : Array.isArray(r) ? r.map(norm) : r;
}

/** Asserter bound to a client: e(args, reply) compares the parsed reply exactly. */
function expecter(c: RespClient) {
  return async (args: (string | number)[], want: Reply): Promise<void> => {
    assert.deepEqual(norm(await c.call(...args)), norm(want), args.join(" "));
  };
}

/** Like expecter, for replies whose order is unspecified (hashtable-encoded sets). */
function sortedExpecter(c: RespClient) {
  return async (args: (string | number)[], want: string[]): Promise<void> => {
    const got = await c.call(...args);
    assert.ok(Array.isArray(got), `${args.join(" ")}: ${String(got)}`);
    assert.deepEqual([...(got as string[])].sort(), [...want].sort(), args.join(" "));
  };
}

const err = (m: string) => new Error(m);
const WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value");
const NOT_INT = err("ERR value is not an integer or out of range");
const SYNTAX = err("ERR syntax error");

Deno.test("SADD/SREM/SMOVE/SISMEMBER/SCARD and encodings", async () => {
  await withServer(async (c) => {
    const e = expecter(c);
    const es = sortedExpecter(c);
    await e(["SADD", "s", 3, 1, 2], 3);
    await e(["SADD", "s", 2, 4], 1);
    await e(["OBJECT", "ENCODING", "s"], "intset");
    // An intset iterates in numeric order.
    await e(["SMEMBERS", "s"], ["1", "2", "3", "4"]);
    await e(["SADD", "s", "a"], 1);
    await e(["OBJECT", "ENCODING", "s"], "hashtable");
    await es(["SMEMBERS", "s"], ["1", "2", "3", "4", "a"]);
    await e(["SADD", "i", 5, -1, 10, 0, -100], 5);
    await e(["SMEMBERS", "i"], ["-100", "-1", "0", "5", "10"]);
    await e(["SADD", "i2", "9223372036854775807", "-9223372036854775808", 0], 3);
    await e(["OBJECT", "ENCODING", "i2"], "intset");
    await e(["SMEMBERS", "i2"], ["-9223372036854775808", "0", "9223372036854775807"]);
    // Non-canonical or out-of-range integers are strings.
    for (const m of ["007", "-0", "9223372036854775808", " 1", "1.0"]) {
      await e(["DEL", "x"], m === "007" ? 0 : 1);
      await e(["SADD", "x", m], 1);
      await e(["OBJECT", "ENCODING", "x"], "hashtable");
    }
    await e(["CONFIG", "SET", "set-max-intset-entries", 3], "OK");
    await e(["SADD", "lim", 1, 2, 3], 3);
    await e(["OBJECT", "ENCODING", "lim"], "intset");
    await e(["SADD", "lim", 4], 1);
    await e(["OBJECT", "ENCODING", "lim"], "hashtable");
    await e(["SREM", "lim", 4, 3, 2], 3);
    await e(["OBJECT", "ENCODING", "lim"], "hashtable");
    await e(["CONFIG", "SET", "set-max-intset-entries", 512], "OK");
    // SREM
    await e(["SREM", "s", 1, "a", "zz"], 2);
    await e(["SREM", "s", "zz"], 0);
    await e(["SREM", "nokey", "a"], 0);
    await e(["SREM", "s", 2, 3, 4], 3);
    await e(["EXISTS", "s"], 0);
    // SMOVE
    await e(["SADD", "x1", 1], 1);
    await e(["SMOVE", "x1", "y", 1], 1);
    await e(["EXISTS", "x1"], 0);
    await e(["SMEMBERS", "y"], ["1"]);
    await e(["OBJECT", "ENCODING", "y"], "intset");
    await e(["SMOVE", "x1", "y", 1], 0);
    await e(["SET", "str", "v"], "OK");
    await e(["SMOVE", "nokey", "str", 1], 0);
    await e(["SMOVE", "y", "str", 1], WRONGTYPE);
    await e(["SMOVE", "str", "y", 1], WRONGTYPE);
    await e(["SADD", "y", 2], 1);
    await e(["SMOVE", "y", "y", 2], 1);
    await e(["SMOVE", "y", "y", 5], 0);
    await e(["SADD", "z", "a"], 1);
    await e(["SMOVE", "y", "z", 1], 1);
    await es(["SMEMBERS", "z"], ["1", "a"]);
    await e(["SADD", "ints", 5], 1);
    await e(["SADD", "strs", "a", "b"], 2);
    await e(["SMOVE", "strs", "ints", "a"], 1);
    await e(["OBJECT", "ENCODING", "ints"], "hashtable");
    await e(["SMOVE", "z", "strs", "a"], 1);
    await es(["SMEMBERS", "strs"], ["a", "b"]);
    // Membership
    await e(["SISMEMBER", "z", 1], 1);
    await e(["SISMEMBER", "z", "q"], 0);
    await e(["SISMEMBER", "nokey", "q"], 0);
    await e(["SMISMEMBER", "strs", "a", "q", "b"], [1, 0, 1]);
    await e(["SMISMEMBER", "nokey", "a"], [0]);
    await e(["SCARD", "strs"], 2);
    await e(["SCARD", "nokey"], 0);
    await e(["SMEMBERS", "nokey"], []);
    await e(["SADD", "bin", "a\x00\xff\r\n"], 1);
    await e(["SMEMBERS", "bin"], ["a\x00\xff\r\n"]);
    // Every set command against a string.
    for (
      const args of [
        ["SADD", "str", "a"],
        ["SREM", "str", "a"],
        ["SISMEMBER", "str", "a"],
        ["SMISMEMBER", "str", "a"],
        ["SCARD", "str"],
        ["SMEMBERS", "str"],
        ["SPOP", "str"],
        ["SPOP", "str", 2],
        ["SRANDMEMBER", "str"],
        ["SRANDMEMBER", "str", 2],
        ["SINTER", "str"],
        ["SINTER", "nokey", "str"],
        ["SUNION", "str"],
        ["SDIFF", "str"],
        ["SINTERSTORE", "d", "str"],
        ["SUNIONSTORE", "d", "str"],
        ["SDIFFSTORE", "d", "nokey", "str"],
        ["SINTERCARD", 1, "str"],
        ["SSCAN", "str", 0],
      ]
    ) await e(args, WRONGTYPE);
    await e(["SADD", "k"], err("ERR wrong number of arguments for 'sadd' command"));
    await e(["SINTER"], err("ERR wrong number of arguments for 'sinter' command"));
    await e(["SMOVE", "a", "b"], err("ERR wrong number of arguments for 'smove' command"));
  });
});

Deno.test("set algebra: SINTER/SUNION/SDIFF, STORE forms and SINTERCARD", async () => {
  await withServer(async (c) => {
    const e = expecter(c);
    const es = sortedExpecter(c);
    await e(["SADD", "a", 1, 2, 3, 4, 5], 5);
    await e(["SADD", "b", 2, 3, 4, "x"], 4);
    await e(["SADD", "c", 3, 4, 5, "y"], 4);
    await es(["SINTER", "a", "b"], ["2", "3", "4"]);
    await es(["SINTER", "a", "b", "c"], ["3", "4"]);
    await es(["SINTER", "b", "c"], ["3", "4"]);
    await e(["SINTER", "a", "nokey"], []);
    await e(["SINTER", "a", "a"], ["1", "2", "3", "4", "5"]);
    await es(["SUNION", "a", "b"], ["1", "2", "3", "4", "5", "x"]);
    await e(["SUNION", "a", "nokey"], ["1", "2", "3", "4", "5"]);
    await e(["SUNION", "nokey"], []);
    await e(["SDIFF", "a", "b"], ["1", "5"]);
    await e(["SDIFF", "a", "b", "c"], ["1"]);
    await e(["SDIFF", "a", "a"], []);
    await e(["SDIFF", "nokey", "a"], []);
    await e(["SDIFF", "b", "a"], ["x"]);
    await e(["SDIFF", "a", "nokey"], ["1", "2", "3", "4", "5"]);
    // STORE forms: results stored with their own encoding, TTL dropped, empty deletes.
    await e(["SINTERSTORE", "d", "a", "b"], 3);
    await e(["SMEMBERS", "d"], ["2", "3", "4"]);
    await e(["OBJECT", "ENCODING", "d"], "intset");
    await e(["SINTERSTORE", "d", "a", "nokey"], 0);
    await e(["EXISTS", "d"], 0);
    await e(["SINTERSTORE", "d", "a", "nokey"], 0);
    await e(["SUNIONSTORE", "d", "a", "b"], 6);
    await e(["OBJECT", "ENCODING", "d"], "hashtable");
    await e(["SUNIONSTORE", "d", "nokey"], 0);
    await e(["EXISTS", "d"], 0);
    await e(["SDIFFSTORE", "d", "a", "b"], 2);
    await e(["SMEMBERS", "d"], ["1", "5"]);
    await e(["SDIFFSTORE", "d", "b", "a"], 1);
    await e(["SMEMBERS", "d"], ["x"]);
    await e(["SET", "d", "x"], "OK");
    await e(["SINTERSTORE", "d", "a", "b"], 3);
    await e(["TYPE", "d"], "set");
    await e(["EXPIRE", "d", 100], 1);
    await e(["SUNIONSTORE", "d", "a", "c"], 6);
    await e(["TTL", "d"], -1);
    await e(["SDIFFSTORE", "d", "d", "a"], 1);
    await e(["SMEMBERS", "d"], ["y"]);
    // SINTERCARD
    await e(["SINTERCARD", 2, "a", "b"], 3);
    await e(["SINTERCARD", 2, "a", "b", "LIMIT", 1], 1);
    await e(["SINTERCARD", 2, "a", "b", "limit", 0], 3);
    await e(["SINTERCARD", 1, "nokey"], 0);
    await e(["SINTERCARD", 0, "a"], err("ERR numkeys should be greater than 0"));
    await e(["SINTERCARD", "abc", "a"], err("ERR numkeys should be greater than 0"));
    await e(
      ["SINTERCARD", 3, "a", "b"],
      err("ERR Number of keys can't be greater than number of args"),
    );
    await e(["SINTERCARD", 2, "a", "b", "limit", -1], err("ERR LIMIT can't be negative"));
    await e(["SINTERCARD", 2, "a", "b", "limit", "abc"], err("ERR LIMIT can't be negative"));
    await e(["SINTERCARD", 2, "a", "b", "foo"], SYNTAX);
    await e(["SINTERCARD", 2, "a", "b", "limit"], SYNTAX);
    await e(["COMMAND", "GETKEYS", "SINTERCARD", 2, "a", "b", "LIMIT", 1], ["a", "b"]);
    await e(["COMMAND", "GETKEYS", "SINTERSTORE", "d", "a", "b"], ["d", "a", "b"]);

    // RESP3 replies are sets.
    await c.call("HELLO", 3);
    await c.send("SMEMBERS", "a");
    let raw = "";
    for (let i = 0; i < 50 && raw.length < 34; i++) raw += await c.readRaw(20);
    assert.equal(raw, "~5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n");
    for (const args of [["SMEMBERS", "nokey"], ["SINTER", "a", "nokey"], ["SPOP", "nokey", "2"]]) {
      await c.send(...args);
      assert.equal(await c.readRaw(100), "~0\r\n", args.join(" "));
    }
    await c.send("SRANDMEMBER", "nokey", "2");
    assert.equal(await c.readRaw(100), "*0\r\n");
    await c.send("SPOP", "nokey");
    assert.equal(await c.readRaw(100), "_\r\n");
  });
});

Deno.test("SPOP, SRANDMEMBER and SSCAN", async () => {
  await withServer(async (c) => {
    const e = expecter(c);
    const es = sortedExpecter(c);
    await e(["SPOP", "nokey"], null);
    await e(["SPOP", "nokey", 2], []);
    await e(["SPOP", "nokey", "abc"], err("ERR value is out of range, must be positive"));
    await e(["SADD", "z", "a"], 1);
    await e(["SPOP", "z", -1], err("ERR value is out of range, must be positive"));
    await e(["SPOP", "z", 1, 2], SYNTAX);
    await e(["SPOP", "z", 0], []);
    await e(["SPOP", "z"], "a");
    await e(["EXISTS", "z"], 0);
    await e(["SRANDMEMBER", "nokey"], null);
    await e(["SRANDMEMBER", "nokey", 3], []);
    await e(["SADD", "z", "a", "b", "c"], 3);
    await e(["SRANDMEMBER", "z", 0], []);
    await e(["SRANDMEMBER", "z", 1, 2], SYNTAX);
    await e(["SRANDMEMBER", "z", "abc"], NOT_INT);
    await e(
      ["SRANDMEMBER", "z", "-9223372036854775808"],
      err(
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
      ),
    );
    await es(["SRANDMEMBER", "z", 10], ["a", "b", "c"]);
    await es(["SPOP", "z", 10], ["a", "b", "c"]);
    await e(["EXISTS", "z"], 0);
    // SPOP with counts drains the set exactly once per member, for both encodings.
    for (
      const members of [
        ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
        Array.from({ length: 30 }, (_, i) => String(i)),
      ]
    ) {
      await e(["DEL", "p"], 0);
      await e(["SADD", "p", ...members], members.length);
      const got: string[] = [];
      for (const n of [1, 2, 0, 7, 1]) got.push(...await c.call("SPOP", "p", n) as string[]);
      while ((await c.call("SCARD", "p")) as number > 0) {
        got.push(await c.call("SPOP", "p") as string);
      }
      assert.deepEqual(got.sort(), [...members].sort());
      await e(["EXISTS", "p"], 0);
    }
    // Popping most of a large set: the survivors get a fresh encoding.
    const ints = Array.from({ length: 600 }, (_, i) => String(i));
    await e(["SADD", "big", ...ints], 600);
    await e(["OBJECT", "ENCODING", "big"], "hashtable");
    const popped = await c.call("SPOP", "big", 590) as string[];
    assert.equal(new Set(popped).size, 590);
    await e(["SCARD", "big"], 10);
    await e(["OBJECT", "ENCODING", "big"], "intset");
    const left = await c.call("SMEMBERS", "big") as string[];
    assert.deepEqual([...popped, ...left].map(Number).sort((x, y) => x - y), ints.map(Number));
    // SRANDMEMBER: distinct for positive counts, repeats for negative ones.
    await e(["DEL", "r"], 0);
    const names = Array.from({ length: 50 }, (_, i) => `m${i}`);
    await e(["SADD", "r", ...names], 50);
    for (const n of [2, 10, 20, 45]) {
      const r = await c.call("SRANDMEMBER", "r", n) as string[];
      assert.equal(r.length, n);
      assert.equal(new Set(r).size, n);
      for (const m of r) assert.ok(names.includes(m));
    }
    const rep = await c.call("SRANDMEMBER", "r", -500) as string[];
    assert.equal(rep.length, 500);
    assert.ok(new Set(rep).size > 40, "negative counts sample the whole set");
    await e(["SCARD", "r"], 50);
    // Rough uniformity of single picks (each member expected 100 times out of 5000).
    const counts = new Map<string, number>();
    for (const m of await c.call("SRANDMEMBER", "r", -5000) as string[]) {
      counts.set(m, (counts.get(m) ?? 0) + 1);
    }
    for (const n of counts.values()) assert.ok(n > 40 && n < 200, `pick count ${n}`);

    // SSCAN: intsets come back whole, hashtables in steps.
    await e(["SADD", "si", 3, 1, 2], 3);
    await e(["SSCAN", "si", 0], ["0", ["1", "2", "3"]]);
    await e(["SSCAN", "si", 0, "MATCH", "1*"], ["0", ["1"]]);
    await e(["SSCAN", "nokey", 0], ["0", []]);
    await e(["SSCAN", "si", "abc"], err("ERR invalid cursor"));
    await e(["SSCAN", "si", 0, "COUNT", 0], SYNTAX);
    await e(["SSCAN", "si", 0, "COUNT", "x"], NOT_INT);
    await e(["SSCAN", "si", 0, "foo", "bar"], SYNTAX);
    const seen = new Set<string>();
    let cursor = "0";
    let calls = 0;
    do {
      const r = await c.call("SSCAN", "r", cursor, "COUNT", 5) as [string, string[]];
      cursor = r[0];
      for (const m of r[1]) seen.add(m);
      calls++;
    } while (cursor !== "0");
    assert.equal(seen.size, 50);
    assert.ok(calls > 3, `SSCAN took ${calls} calls`);
  });
});

Deno.test("SSCAN returns every member present for the whole scan, despite writes", async () => {
  await withServer(async (c) => {
    const members = Array.from({ length: 400 }, (_, i) => `k${i}`);
    await c.call("SADD", "s", ...members);
    const seen = new Set<string>();
    let cursor = "0";
    let round = 0;
    do {
      const r = await c.call("SSCAN", "s", cursor, "COUNT", 20) as [string, string[]];
      cursor = r[0];
      for (const m of r[1]) seen.add(m);
      // Churn: remove some not-yet-checked members and add new ones between calls.
      await c.call("SREM", "s", `k${399 - round}`);
      await c.call("SADD", "s", `new${round}`);
      round++;
    } while (cursor !== "0");
    for (let i = 0; i < 400 - round; i++) assert.ok(seen.has(`k${i}`), `k${i} missing`);
  });
});

Deno.test("set keyspace notifications", async () => {
  await withServer(async (c, s) => {
    await c.call("CONFIG", "SET", "notify-keyspace-events", "EA");
    const sub = await s.client();
    try {
      await sub.call("PSUBSCRIBE", "__keyevent@0__:*");
      for (
        const a of [
          ["SADD", "s", "a", "b", "c"],
          ["SADD", "s", "a"],
          ["SREM", "s", "zz"],
          ["SREM", "s", "c"],
          ["SMOVE", "s", "t", "b"],
          ["SINTERSTORE", "u", "s", "s"],
          ["SUNIONSTORE", "u", "s", "t"],
          ["SDIFFSTORE", "u", "s", "t"],
          ["SPOP", "s"],
          ["SDIFFSTORE", "u", "s", "t"],
        ]
      ) await c.call(...a);
      const want = [
        ["sadd", "s"],
        ["srem", "s"],
        ["srem", "s"],
        ["sadd", "t"],
        ["sinterstore", "u"],
        ["sunionstore", "u"],
        ["sdiffstore", "u"],
        ["spop", "s"],
        ["del", "s"],
        ["del", "u"],
      ];
      for (const [ev, key] of want) {
        assert.deepEqual(await sub.read(), [
          "pmessage",
          "__keyevent@0__:*",
          `__keyevent@0__:${ev}`,
          key,
        ]);
      }
    } finally {
      sub.close();
    }
  });
});

Deno.test("set commands propagate as Redis 7.0 does", () => {
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
  assert.deepEqual(run("SADD", "s", "a"), [["SADD", "s", "a"]]);
  assert.deepEqual(run("SADD", "s", "a"), []);
  assert.deepEqual(run("SPOP", "s"), [["SREM", "s", "a"]]);
  assert.deepEqual(run("SADD", "s", "a", "b", "c"), [["SADD", "s", "a", "b", "c"]]);
  const p = run("SPOP", "s", "2");
  assert.equal(p.length, 1);
  assert.deepEqual(p[0].slice(0, 2), ["SREM", "s"]);
  assert.equal(p[0].length, 4);
  assert.deepEqual(run("SPOP", "s", "5"), [["DEL", "s"]]);
  assert.deepEqual(run("SPOP", "s", "5"), []);
  assert.deepEqual(run("SMOVE", "nokey", "t", "a"), []);
});
