// Sorted set commands over real sockets with exact replies (texts checked against redis-server
// 7.0.15). Set ZSETS_TEST_REDIS=1 to run the same assertions against the real redis-server.
import assert from "node:assert/strict";
import {
  type Reply,
  type RespClient,
  type ServerProcess,
  startServer,
  waitBlocked,
} from "../helpers.ts";

const USE_REDIS = Deno.env.get("ZSETS_TEST_REDIS") === "1";

/** Starts a server (tsredis, or redis-server when asked), runs fn, stops it. */
async function withZServer(fn: (c: RespClient, s: ServerProcess) => Promise<void>): Promise<void> {
  const s = await startServer({ redis: USE_REDIS });
  const c = await s.client();
  try {
    await fn(c, s);
  } finally {
    c.close();
    await s.stop();
  }
}

/** Asserter bound to a client: expect(args, reply) compares the parsed reply exactly. */
function expecter(c: RespClient) {
  return async (args: (string | number)[], want: Reply): Promise<void> => {
    const got = await c.call(...args);
    const norm = (r: Reply): unknown =>
      r instanceof Error ? `ERR:${r.message}` : Array.isArray(r) ? r.map(norm) : r;
    assert.deepEqual(norm(got), norm(want), `${args.join(" ")}`);
  };
}

const err = (m: string) => new Error(m);
const WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value");
const NOT_FLOAT = err("ERR value is not a valid float");
const NOT_INT = err("ERR value is not an integer or out of range");
const SYNTAX = err("ERR syntax error");

Deno.test("ZADD options, ZINCRBY, scores, ranks and errors", async () => {
  await withZServer(async (c) => {
    const e = expecter(c);
    await e(["ZADD", "z", 1, "a", 2, "b", 3, "c"], 3);
    await e(["ZADD", "z", 1], err("ERR wrong number of arguments for 'zadd' command"));
    await e(["ZADD", "z", 1, "a", 2], SYNTAX);
    await e(
      ["ZADD", "z", "nx", "xx", 1, "a"],
      err("ERR XX and NX options at the same time are not compatible"),
    );
    await e(
      ["ZADD", "z", "gt", "lt", 1, "a"],
      err("ERR GT, LT, and/or NX options at the same time are not compatible"),
    );
    await e(
      ["ZADD", "z", "nx", "gt", 1, "a"],
      err("ERR GT, LT, and/or NX options at the same time are not compatible"),
    );
    await e(
      ["ZADD", "z", "incr", 1, "a", 2, "b"],
      err("ERR INCR option supports a single increment-element pair"),
    );
    await e(["ZADD", "z", "abc", "a"], NOT_FLOAT);
    await e(["ZADD", "z", 1, "a", "nan", "b"], NOT_FLOAT);
    await e(["ZADD", "z", " 1", "a"], NOT_FLOAT);
    await e(["ZADD", "z", "1e400", "a"], NOT_FLOAT);
    await e(["ZADD", "z", "ch", 5, "a", 2, "b", 10, "d"], 2);
    await e(["ZADD", "z", "xx", "ch", 6, "a", 7, "q"], 1);
    await e(["ZADD", "z", "nx", 100, "a", 4, "e"], 1);
    await e(["ZSCORE", "z", "a"], "6");
    await e(["ZADD", "z", "gt", "ch", 1, "a", 9, "b"], 1);
    await e(["ZADD", "z", "lt", "ch", 1, "a", 90, "b"], 1);
    await e(["ZADD", "z", "xx", 5, "nonex"], 0);
    await e(["ZADD", "nokey", "xx", 5, "m"], 0);
    await e(["EXISTS", "nokey"], 0);
    await e(["ZRANGE", "z", 0, -1, "WITHSCORES"], [
      "a",
      "1",
      "c",
      "3",
      "e",
      "4",
      "b",
      "9",
      "d",
      "10",
    ]);
    await e(["ZINCRBY", "z", "2.5", "a"], "3.5");
    await e(["ZINCRBY", "z", "abc", "a"], NOT_FLOAT);
    await e(["ZINCRBY", "z", 1, "new"], "1");
    await e(["ZADD", "z", "incr", "nx", 1, "a"], null);
    await e(["ZADD", "z", "incr", "xx", 1, "nonex"], null);
    await e(["ZADD", "z", "incr", "gt", -1, "a"], null);
    await e(["ZADD", "z", "incr", "0x10", "hex"], "16");
    await e(["ZADD", "z", "+inf", "inf"], 1);
    await e(["ZINCRBY", "z", "-inf", "inf"], err("ERR resulting score is not a number (NaN)"));
    await e(["ZADD", "z", "incr", "-inf", "inf"], err("ERR resulting score is not a number (NaN)"));
    await e(["ZSCORE", "z", "inf"], "inf");
    await e(["ZADD", "z", "0.1", "tenth"], 1);
    await e(["ZSCORE", "z", "tenth"], "0.10000000000000001");
    await e(["ZSCORE", "z", "nonex"], null);
    await e(["ZSCORE", "nokey", "a"], null);
    await e(["ZMSCORE", "z", "a", "nonex", "d"], ["3.5", null, "10"]);
    await e(["ZMSCORE", "nokey", "a", "b"], [null, null]);
    await e(["ZCARD", "z"], 9);
    await e(["ZCARD", "nokey"], 0);
    await e(["ZRANK", "z", "tenth"], 0);
    await e(["ZRANK", "z", "inf"], 8);
    await e(["ZREVRANK", "z", "inf"], 0);
    await e(["ZREVRANK", "z", "tenth"], 8);
    await e(["ZRANK", "z", "nonex"], null);
    await e(["ZRANK", "nokey", "a"], null);
    await e(["ZREM", "z", "a", "nonex", "new"], 2);
    await e(["ZREM", "z", "nonex"], 0);
    await e(["ZREM", "nokey", "a"], 0);
    await e(["ZADD", "one", 1, "x"], 1);
    await e(["ZREM", "one", "x", "y"], 1);
    await e(["EXISTS", "one"], 0);
    await e(["SET", "str", "v"], "OK");
    for (
      const args of [
        ["ZADD", "str", 1, "a"],
        ["ZINCRBY", "str", 1, "a"],
        ["ZREM", "str", "a"],
        ["ZCARD", "str"],
        ["ZSCORE", "str", "a"],
        ["ZMSCORE", "str", "a"],
        ["ZRANK", "str", "a"],
        ["ZCOUNT", "str", 0, 1],
        ["ZLEXCOUNT", "str", "-", "+"],
        ["ZRANGE", "str", 0, -1],
        ["ZRANGESTORE", "d", "str", 0, -1],
        ["ZREMRANGEBYRANK", "str", 0, 1],
        ["ZPOPMIN", "str"],
        ["ZMPOP", 1, "str", "MIN"],
        ["BZPOPMIN", "str", 0],
        ["ZUNION", 2, "z", "str"],
        ["ZUNIONSTORE", "d", 1, "str"],
        ["ZRANDMEMBER", "str"],
        ["ZRANDMEMBER", "str", 2],
        ["ZSCAN", "str", 0],
      ]
    ) await e(args, WRONGTYPE);
  });
});

Deno.test("ZRANGE by rank, score and lex, legacy forms, ZCOUNT and ZLEXCOUNT", async () => {
  await withZServer(async (c) => {
    const e = expecter(c);
    await e(["ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"], 5);
    await e(["ZRANGE", "z", 0, -1], ["a", "b", "c", "d", "e"]);
    await e(["ZRANGE", "z", 1, 2, "WITHSCORES"], ["b", "2", "c", "3"]);
    await e(["ZRANGE", "z", -2, -1], ["d", "e"]);
    await e(["ZRANGE", "z", -100, 1], ["a", "b"]);
    await e(["ZRANGE", "z", 5, 10], []);
    await e(["ZRANGE", "z", 3, 1], []);
    await e(["ZRANGE", "z", 0, 1, "REV", "WITHSCORES"], ["e", "5", "d", "4"]);
    await e(["ZRANGE", "z", "(1", 5, "BYSCORE", "WITHSCORES"], [
      "b",
      "2",
      "c",
      "3",
      "d",
      "4",
      "e",
      "5",
    ]);
    await e(["ZRANGE", "z", 5, "(1", "BYSCORE", "REV"], ["e", "d", "c", "b"]);
    await e(["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 1, 2], ["b", "c"]);
    await e(["ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", 1, 2, "WITHSCORES"], [
      "d",
      "4",
      "c",
      "3",
    ]);
    await e(["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", -1, 2], []);
    await e(["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 3, -5], ["d", "e"]);
    await e(["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", 10, 1], []);
    await e(["ZRANGE", "z", "(3", "(3", "BYSCORE"], []);
    await e(["ZRANGE", "z", 3, 3, "BYSCORE"], ["c"]);
    await e(["ZRANGE", "z", "", "(2", "BYSCORE"], ["a"]);
    await e(["ZRANGE", "z", "(", 2, "BYSCORE"], ["a", "b"]);
    await e(["ZRANGE", "z", 0, -1, "LIMIT", 0, -1], ["a", "b", "c", "d", "e"]);
    await e(
      ["ZRANGE", "z", 0, -1, "LIMIT", 0, 1],
      err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"),
    );
    await e(
      ["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"],
      err("ERR syntax error, WITHSCORES not supported in combination with BYLEX"),
    );
    await e(["ZRANGE", "z", 0, -1, "BYSCORE", "BYLEX"], SYNTAX);
    await e(["ZRANGE", "z", 0, -1, "foo"], SYNTAX);
    await e(["ZRANGE", "z", "a", 1], NOT_INT);
    await e(["ZRANGE", "z", 0, 1, "BYSCORE", "LIMIT", "a", 1], NOT_INT);
    await e(["ZRANGE", "z", "nan", 1, "BYSCORE"], err("ERR min or max is not a float"));
    await e(["ZRANGE", "z", "a", "b", "BYLEX"], err("ERR min or max not valid string range item"));
    await e(["ZRANGE", "nokey", 0, -1], []);
    await e(["ZREVRANGE", "z", 0, 1, "WITHSCORES"], ["e", "5", "d", "4"]);
    await e(["ZREVRANGE", "z", 0, 1, "BYSCORE"], SYNTAX);
    await e(["ZRANGEBYSCORE", "z", 2, 4, "WITHSCORES", "LIMIT", 1, 5], ["c", "3", "d", "4"]);
    await e(["ZRANGEBYSCORE", "z", 1, 5, "REV"], SYNTAX);
    await e(["ZRANGEBYSCORE", "z", "0x1", "(0x3"], ["a", "b"]);
    await e(["ZREVRANGEBYSCORE", "z", "(5", "(1"], ["d", "c", "b"]);
    await e(["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", 0, 1, "WITHSCORES"], ["e", "5"]);
    await e(["ZCOUNT", "z", "-inf", "+inf"], 5);
    await e(["ZCOUNT", "z", "(1", "3"], 2);
    await e(["ZCOUNT", "z", 3, 1], 0);
    await e(["ZCOUNT", "z", "abc", 1], err("ERR min or max is not a float"));
    await e(["ZCOUNT", "nokey", 0, 1], 0);
    await e(["ZADD", "lex", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e", 0, "f", 0, "g"], 7);
    await e(["ZRANGEBYLEX", "lex", "-", "+"], ["a", "b", "c", "d", "e", "f", "g"]);
    await e(["ZRANGEBYLEX", "lex", "[b", "(e"], ["b", "c", "d"]);
    await e(["ZRANGEBYLEX", "lex", "(b", "[e", "LIMIT", 1, 2], ["d", "e"]);
    await e(["ZRANGEBYLEX", "lex", "+", "-"], []);
    await e(["ZRANGEBYLEX", "lex", "[bb", "[dd"], ["c", "d"]);
    await e(["ZRANGEBYLEX", "lex", "a", "b"], err("ERR min or max not valid string range item"));
    await e(["ZRANGEBYLEX", "lex", "[a", "+x"], err("ERR min or max not valid string range item"));
    await e(["ZRANGEBYLEX", "lex", "", "+"], err("ERR min or max not valid string range item"));
    await e(["ZREVRANGEBYLEX", "lex", "+", "-", "LIMIT", 0, 3], ["g", "f", "e"]);
    await e(["ZREVRANGEBYLEX", "lex", "[e", "(b", "LIMIT", 1, 1], ["d"]);
    await e(["ZRANGE", "lex", "[e", "-", "BYLEX", "REV"], ["e", "d", "c", "b", "a"]);
    await e(["ZLEXCOUNT", "lex", "-", "+"], 7);
    await e(["ZLEXCOUNT", "lex", "[b", "[d"], 3);
    await e(["ZLEXCOUNT", "lex", "(b", "(d"], 1);
    await e(["ZLEXCOUNT", "lex", "[d", "[b"], 0);
    await e(["ZLEXCOUNT", "lex", "a", "b"], err("ERR min or max not valid string range item"));
    await e(["ZLEXCOUNT", "nokey", "-", "+"], 0);
    // Binary members order by bytes.
    await e(["ZADD", "bin", 0, "\xff", 0, "\x00", 0, "a", 0, "\x80"], 4);
    await e(["ZRANGE", "bin", 0, -1], ["\x00", "a", "\x80", "\xff"]);
    await e(["ZRANGEBYLEX", "bin", "(a", "+"], ["\x80", "\xff"]);
  });
});

Deno.test("large sorted sets (skiplist encoding): ranks and ranges match a model", async () => {
  await withZServer(async (c) => {
    const e = expecter(c);
    const n = 600;
    const model: [string, number][] = [];
    const args: (string | number)[] = ["ZADD", "big"];
    for (let i = 0; i < n; i++) {
      const m = `m${(i * 7919) % n}`;
      const s = (i * 37) % 101;
      args.push(s, m);
      model.push([m, s]);
    }
    await e(args, n);
    model.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    await e(["OBJECT", "ENCODING", "big"], "skiplist");
    await e(["ZRANGE", "big", 0, -1], model.map((p) => p[0]));
    for (const i of [0, 1, 99, 300, 599]) {
      await e(["ZRANK", "big", model[i][0]], i);
      await e(["ZREVRANK", "big", model[i][0]], n - 1 - i);
    }
    await e(
      ["ZRANGE", "big", 250, 254, "WITHSCORES"],
      model.slice(250, 255).flatMap(([m, s]) => [m, String(s)]),
    );
    const inRange = model.filter(([, s]) => s > 20 && s <= 50);
    await e(["ZCOUNT", "big", "(20", 50], inRange.length);
    await e(
      ["ZRANGEBYSCORE", "big", "(20", 50, "LIMIT", 10, 5],
      inRange.slice(10, 15).map((p) => p[0]),
    );
    await e(
      ["ZREVRANGEBYSCORE", "big", 50, "(20", "LIMIT", 3, 4],
      inRange.slice().reverse().slice(3, 7).map((p) => p[0]),
    );
    await e(["ZREMRANGEBYSCORE", "big", "(20", 50], inRange.length);
    const left = model.filter(([, s]) => !(s > 20 && s <= 50));
    await e(["ZREMRANGEBYRANK", "big", 10, 19], 10);
    left.splice(10, 10);
    await e(["ZRANGE", "big", 0, -1], left.map((p) => p[0]));
    await e(["ZPOPMAX", "big", 3], left.slice(-3).reverse().flatMap(([m, s]) => [m, String(s)]));
    await e(["ZCARD", "big"], left.length - 3);
  });
});

Deno.test("ZRANGESTORE and ZREMRANGEBY{RANK,SCORE,LEX}", async () => {
  await withZServer(async (c) => {
    const e = expecter(c);
    await e(["ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d"], 4);
    await e(["ZRANGESTORE", "dst", "z", 0, 1], 2);
    await e(["ZRANGE", "dst", 0, -1, "WITHSCORES"], ["a", "1", "b", "2"]);
    await e(["ZRANGESTORE", "dst", "z", "(1", "+inf", "BYSCORE", "REV"], 0);
    await e(["EXISTS", "dst"], 0);
    await e(["ZRANGESTORE", "dst", "z", "+inf", "(1", "BYSCORE", "REV", "LIMIT", 0, 2], 2);
    await e(["ZRANGE", "dst", 0, -1, "WITHSCORES"], ["c", "3", "d", "4"]);
    await e(["ZRANGESTORE", "dst", "z", "[b", "+", "BYLEX", "LIMIT", 0, 2], 2);
    await e(["ZRANGE", "dst", 0, -1], ["b", "c"]);
    await e(["ZRANGESTORE", "dst", "z", 0, -1, "WITHSCORES"], SYNTAX);
    await e(["ZRANGESTORE", "dst", "nokey", 0, -1], 0);
    await e(["EXISTS", "dst"], 0);
    await e(["SET", "dst", "x"], "OK");
    await e(["ZRANGESTORE", "dst", "z", 5, 6], 0);
    await e(["EXISTS", "dst"], 0);
    await e(["ZREMRANGEBYRANK", "z", 0, 0], 1);
    await e(["ZREMRANGEBYRANK", "z", 5, 10], 0);
    await e(["ZREMRANGEBYRANK", "z", "a", 1], NOT_INT);
    await e(["ZREMRANGEBYSCORE", "z", "-inf", "(3"], 1);
    await e(["ZREMRANGEBYSCORE", "z", "abc", 1], err("ERR min or max is not a float"));
    await e(["ZREMRANGEBYSCORE", "nokey", 0, 1], 0);
    await e(["ZRANGE", "z", 0, -1], ["c", "d"]);
    await e(["ZREMRANGEBYRANK", "z", 0, -1], 2);
    await e(["EXISTS", "z"], 0);
    await e(["ZADD", "lex", 0, "a", 0, "b", 0, "c", 0, "d"], 4);
    await e(["ZREMRANGEBYLEX", "lex", "[a", "(c"], 2);
    await e(["ZREMRANGEBYLEX", "lex", "a", "c"], err("ERR min or max not valid string range item"));
    await e(["ZRANGE", "lex", 0, -1], ["c", "d"]);
    await e(["ZREMRANGEBYLEX", "lex", "-", "+"], 2);
    await e(["EXISTS", "lex"], 0);
  });
});

Deno.test("ZUNION/ZINTER/ZDIFF, STORE forms, ZINTERCARD", async () => {
  await withZServer(async (c) => {
    const e = expecter(c);
    await e(["ZADD", "a", 1, "x", 2, "y", 3, "z"], 3);
    await e(["ZADD", "b", 10, "y", 20, "z", 30, "w"], 3);
    await e(["ZUNION", 2, "a", "b", "WITHSCORES"], ["x", "1", "y", "12", "z", "23", "w", "30"]);
    await e(["ZUNION", 2, "a", "b", "WEIGHTS", 2, 3, "WITHSCORES"], [
      "x",
      "2",
      "y",
      "34",
      "z",
      "66",
      "w",
      "90",
    ]);
    await e(["ZUNION", 2, "a", "b", "AGGREGATE", "MIN", "WITHSCORES"], [
      "x",
      "1",
      "y",
      "2",
      "z",
      "3",
      "w",
      "30",
    ]);
    await e(["ZUNION", 2, "a", "b", "AGGREGATE", "max"], ["x", "y", "z", "w"]);
    await e(["ZUNION", 3, "a", "b", "nokey", "WITHSCORES"], [
      "x",
      "1",
      "y",
      "12",
      "z",
      "23",
      "w",
      "30",
    ]);
    await e(["ZINTER", 2, "a", "b", "WITHSCORES"], ["y", "12", "z", "23"]);
    await e(["ZINTER", 2, "a", "b", "WEIGHTS", 1, "0.5", "AGGREGATE", "MAX", "WITHSCORES"], [
      "y",
      "5",
      "z",
      "10",
    ]);
    await e(["ZINTER", 2, "a", "a", "WITHSCORES"], ["x", "2", "y", "4", "z", "6"]);
    await e(["ZINTER", 2, "a", "nokey"], []);
    await e(["ZDIFF", 2, "a", "b", "WITHSCORES"], ["x", "1"]);
    await e(["ZDIFF", 2, "a", "a"], []);
    await e(["ZDIFF", 1, "nokey"], []);
    await e(["ZDIFF", 2, "a", "b", "WEIGHTS", 1, 1], SYNTAX);
    await e(["ZINTERCARD", 2, "a", "b"], 2);
    await e(["ZINTERCARD", 2, "a", "b", "LIMIT", 1], 1);
    await e(["ZINTERCARD", 2, "a", "b", "LIMIT", 0], 2);
    await e(["ZINTERCARD", 1, "a", "LIMIT", -1], err("ERR LIMIT can't be negative"));
    await e(["ZINTERCARD", 1, "a", "LIMIT", "abc"], err("ERR LIMIT can't be negative"));
    await e(
      ["ZINTERCARD", 0, "a"],
      err("ERR at least 1 input key is needed for 'zintercard' command"),
    );
    await e(["ZINTERCARD", 1, "a", "WITHSCORES"], SYNTAX);
    await e(["ZUNION", 0, "a"], err("ERR at least 1 input key is needed for 'zunion' command"));
    await e(
      ["ZUNIONSTORE", "d", 0, "a"],
      err("ERR at least 1 input key is needed for 'zunionstore' command"),
    );
    await e(["ZUNION", "abc", "a"], NOT_INT);
    await e(["ZUNION", 3, "a", "b"], SYNTAX);
    await e(["ZUNION", 1, "a", "WEIGHTS", "abc"], err("ERR weight value is not a float"));
    await e(["ZUNION", 1, "a", "WEIGHTS", 1, 2], SYNTAX);
    await e(["ZUNION", 1, "a", "AGGREGATE", "foo"], SYNTAX);
    await e(["ZUNION", 1, "a", "AGGREGATE"], SYNTAX);
    await e(["ZADD", "pinf", "+inf", "m"], 1);
    await e(["ZADD", "ninf", "-inf", "m"], 1);
    await e(["ZUNION", 2, "pinf", "ninf", "WITHSCORES"], ["m", "0"]);
    await e(["ZUNION", 2, "pinf", "ninf", "WEIGHTS", 0, 1, "WITHSCORES"], ["m", "-inf"]);
    await e(["ZINTER", 2, "pinf", "ninf", "AGGREGATE", "MIN", "WITHSCORES"], ["m", "-inf"]);
    await e(["ZUNIONSTORE", "dst", 2, "a", "b"], 4);
    await e(["ZRANGE", "dst", 0, -1, "WITHSCORES"], ["x", "1", "y", "12", "z", "23", "w", "30"]);
    await e(["ZUNIONSTORE", "dst", 2, "a", "b", "WITHSCORES"], SYNTAX);
    await e(["ZINTERSTORE", "dst", 2, "a", "b", "WEIGHTS", 2, 2], 2);
    await e(["ZRANGE", "dst", 0, -1, "WITHSCORES"], ["y", "24", "z", "46"]);
    await e(["ZDIFFSTORE", "dst", 2, "b", "a"], 1);
    await e(["ZRANGE", "dst", 0, -1, "WITHSCORES"], ["w", "30"]);
    await e(["ZDIFFSTORE", "dst", 2, "a", "a"], 0);
    await e(["EXISTS", "dst"], 0);
    await e(["SET", "dst", "v"], "OK");
    await e(["ZINTERSTORE", "dst", 2, "a", "nokey"], 0);
    await e(["EXISTS", "dst"], 0);
  });
});

Deno.test("ZPOPMIN/ZPOPMAX, ZMPOP and non-blocking BZ* forms", async () => {
  await withZServer(async (c) => {
    const e = expecter(c);
    await e(["ZADD", "p", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"], 5);
    await e(["ZPOPMIN", "p"], ["a", "1"]);
    await e(["ZPOPMAX", "p"], ["e", "5"]);
    await e(["ZPOPMIN", "p", 2], ["b", "2", "c", "3"]);
    await e(["ZPOPMIN", "p", 0], []);
    await e(["ZPOPMIN", "p", -1], err("ERR value is out of range, must be positive"));
    await e(["ZPOPMIN", "p", "abc"], err("ERR value is out of range, must be positive"));
    await e(["ZPOPMIN", "p", 1, 2], SYNTAX);
    await e(["ZPOPMIN", "nokey"], []);
    await e(["ZPOPMAX", "p", 10], ["d", "4"]);
    await e(["EXISTS", "p"], 0);
    await e(["ZADD", "p", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"], 5);
    await e(["ZMPOP", 2, "nokey", "p", "MIN"], ["p", [["a", "1"]]]);
    await e(["ZMPOP", 2, "nokey", "p", "max", "COUNT", 2], ["p", [["e", "5"], ["d", "4"]]]);
    await e(["ZMPOP", 1, "nokey", "MIN"], null);
    await e(["ZMPOP", 0, "p", "MIN"], err("ERR numkeys should be greater than 0"));
    await e(["ZMPOP", "abc", "p", "MIN"], err("ERR numkeys should be greater than 0"));
    await e(["ZMPOP", 1, "p", "foo"], SYNTAX);
    await e(["ZMPOP", 2, "p", "MIN"], SYNTAX);
    await e(["ZMPOP", 1, "p", "MIN", "COUNT", 0], err("ERR count should be greater than 0"));
    await e(["ZMPOP", 1, "p", "MIN", "COUNT", 1, "COUNT", 1], SYNTAX);
    await e(["BZPOPMIN", "nokey", "p", 0], ["p", "b", "2"]);
    await e(["BZPOPMAX", "p", 0], ["p", "c", "3"]);
    await e(["EXISTS", "p"], 0);
    await e(["BZPOPMIN", "p", -1], err("ERR timeout is negative"));
    await e(["BZPOPMIN", "p", "abc"], err("ERR timeout is not a float or out of range"));
    await e(["BZPOPMIN", "p", "inf"], err("ERR timeout is negative"));
    await e(["BZPOPMIN", "p", "9.3e15"], err("ERR timeout is negative"));
    await e(["ZADD", "p", 1, "a", 2, "b", 3, "c"], 3);
    await e(["BZMPOP", 0, 1, "p", "MAX", "COUNT", 2], ["p", [["c", "3"], ["b", "2"]]]);
    await e(["BZMPOP", "abc", 1, "p", "MAX"], err("ERR timeout is not a float or out of range"));
    await e(["BZMPOP", 0, 0, "p", "MAX"], err("ERR numkeys should be greater than 0"));
    // Inside MULTI nothing blocks: an empty key replies like a timeout.
    await e(["MULTI"], "OK");
    await e(["BZPOPMIN", "nokey", 0], "QUEUED");
    await e(["BZMPOP", 0, 1, "nokey", "MIN"], "QUEUED");
    await e(["BZPOPMAX", "p", 0], "QUEUED");
    await e(["EXEC"], [null, null, ["p", "a", "1"]]);
  });
});

Deno.test("blocking BZPOPMIN/BZMPOP served by ZADD, FIFO order, timeouts", async () => {
  await withZServer(async (c, s) => {
    const e = expecter(c);
    const a = await s.client();
    const b = await s.client();
    try {
      await a.send("BZPOPMIN", "k1", "k2", 0);
      await waitBlocked(c, 1);
      await b.send("BZMPOP", 0, 2, "k2", "k3", "MAX", "COUNT", 5);
      await waitBlocked(c, 2);
      await e(["ZADD", "k2", 1, "a", 2, "b", 3, "c"], 3);
      assert.deepEqual(await a.read(), ["k2", "a", "1"]);
      assert.deepEqual(await b.read(), ["k2", [["c", "3"], ["b", "2"]]]);
      await e(["EXISTS", "k2"], 0);
      // Two waiters on one key are served in the order they blocked.
      await a.send("BZPOPMIN", "f", 0);
      await waitBlocked(c, 1);
      await b.send("BZPOPMAX", "f", 0);
      await waitBlocked(c, 2);
      await e(["ZADD", "f", 1, "a", 2, "b", 3, "c"], 3);
      assert.deepEqual(await a.read(), ["f", "a", "1"]);
      assert.deepEqual(await b.read(), ["f", "c", "3"]);
      await e(["ZRANGE", "f", 0, -1], ["b"]);
      // A non-zset value at the key does not serve the waiter; it times out.
      const t0 = Date.now();
      await a.send("BZPOPMIN", "w", "0.3");
      await waitBlocked(c, 1);
      await e(["SET", "w", "x"], "OK");
      assert.equal(await a.read(), null);
      const dt = Date.now() - t0;
      assert.ok(dt >= 250 && dt < 2000, `timed out after ${dt} ms`);
      // ZADD then ZREM in one transaction leaves nothing to serve.
      await a.send("BZPOPMIN", "m", 0);
      await waitBlocked(c, 1);
      await e(["MULTI"], "OK");
      await e(["ZADD", "m", 1, "a"], "QUEUED");
      await e(["ZREM", "m", "a"], "QUEUED");
      await e(["EXEC"], [1, 1]);
      await e(["ZADD", "m", 5, "z"], 1);
      assert.deepEqual(await a.read(), ["m", "z", "5"]);
      // A store command creating the key serves waiters too.
      await a.send("BZPOPMAX", "dst", 0);
      await waitBlocked(c, 1);
      await e(["ZADD", "src", 1, "x", 2, "y"], 2);
      await e(["ZUNIONSTORE", "dst", 1, "src"], 2);
      assert.deepEqual(await a.read(), ["dst", "y", "2"]);
      await e(["BZPOPMAX", "nothing", "0.05"], null);
    } finally {
      a.close();
      b.close();
    }
  });
});

Deno.test("ZRANDMEMBER and ZSCAN", async () => {
  await withZServer(async (c) => {
    const e = expecter(c);
    await e(["ZRANDMEMBER", "nokey"], null);
    await e(["ZRANDMEMBER", "nokey", 5], []);
    await e(["ZADD", "r", 1, "a", 2, "b", 3, "c"], 3);
    await e(["ZRANDMEMBER", "r", 0], []);
    await e(["ZRANDMEMBER", "r", 10, "WITHSCORES"], ["c", "3", "b", "2", "a", "1"]);
    await e(["ZRANDMEMBER", "r", 3], ["c", "b", "a"]);
    await e(
      ["ZRANDMEMBER", "r", "-9223372036854775808"],
      err(
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
      ),
    );
    await e(
      ["ZRANDMEMBER", "r", "4611686018427387904", "WITHSCORES"],
      err("ERR value is out of range"),
    );
    await e(["ZRANDMEMBER", "r", 1, "WITHSCORE"], SYNTAX);
    await e(["ZRANDMEMBER", "r", "abc"], NOT_INT);
    assert.ok(["a", "b", "c"].includes(await c.call("ZRANDMEMBER", "r") as string));
    const neg = await c.call("ZRANDMEMBER", "r", -20, "WITHSCORES") as string[];
    assert.equal(neg.length, 40);
    for (let i = 0; i < 40; i += 2) assert.equal(neg[i + 1], { a: "1", b: "2", c: "3" }[neg[i]]);
    const two = await c.call("ZRANDMEMBER", "r", 2) as string[];
    assert.equal(new Set(two).size, 2);
    await e(["ZSCAN", "r", 0], ["0", ["a", "1", "b", "2", "c", "3"]]);
    await e(["ZSCAN", "r", 0, "MATCH", "[ab]"], ["0", ["a", "1", "b", "2"]]);
    await e(["ZSCAN", "r", 0, "COUNT", 0], SYNTAX);
    await e(["ZSCAN", "r", 0, "COUNT", "abc"], NOT_INT);
    await e(["ZSCAN", "r", 0, "TYPE", "zset"], SYNTAX);
    await e(["ZSCAN", "r", "abc"], err("ERR invalid cursor"));
    await e(["ZSCAN", "r", "18446744073709551616"], err("ERR invalid cursor"));
    await e(["ZSCAN", "nokey", 0, "COUNT", 0], ["0", []]);
    await e(["ZADD", "sc", "0.1", "a", "1e20", "b", "123456789012345678", "c", "-0", "d"], 4);
    await e(["ZSCAN", "sc", 0], ["0", [
      "d",
      "0",
      "a",
      "0.10000000000000001",
      "c",
      "123456789012345680",
      "b",
      "1e+20",
    ]]);
    // A big (skiplist) set is scanned in several calls that together return every member once.
    const args: (string | number)[] = ["ZADD", "big"];
    for (let i = 0; i < 500; i++) args.push(i, `m${i}`);
    await e(args, 500);
    const seen = new Map<string, string>();
    let cursor = "0";
    let calls = 0;
    do {
      const r = await c.call("ZSCAN", "big", cursor, "COUNT", 50) as [string, string[]];
      cursor = r[0];
      for (let i = 0; i < r[1].length; i += 2) seen.set(r[1][i], r[1][i + 1]);
      calls++;
    } while (cursor !== "0" && calls < 1000);
    assert.ok(calls > 1);
    assert.equal(seen.size, 500);
    assert.equal(seen.get("m123"), "123");
  });
});

Deno.test("RESP3 replies: doubles, nested pairs", async () => {
  await withZServer(async (c) => {
    await c.call("HELLO", 3);
    // Collects raw bytes until the expected reply length arrived (or 2 s passed).
    let want = "";
    const raw = async (...args: (string | number)[]) => {
      await c.send(...args);
      let got = "";
      const deadline = Date.now() + 2000;
      while (got.length < want.length && Date.now() < deadline) got += await c.readRaw(20);
      return got;
    };
    const check = async (args: (string | number)[], expected: string) => {
      want = expected;
      assert.equal(await raw(...args), expected, args.join(" "));
    };
    await check(["ZADD", "z", 1, "a", "2.5", "b", "+inf", "c"], ":3\r\n");
    await check(["ZSCORE", "z", "b"], ",2.5\r\n");
    await check(["ZSCORE", "z", "c"], ",inf\r\n");
    await check(["ZINCRBY", "z", 1, "a"], ",2\r\n");
    await check(["ZADD", "z", "INCR", "NX", 1, "a"], "_\r\n");
    await check(["ZMSCORE", "z", "a", "x"], "*2\r\n,2\r\n_\r\n");
    await check(
      ["ZRANGE", "z", 0, 1, "WITHSCORES"],
      "*2\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n",
    );
    await check(["ZRANGE", "z", 0, 0], "*1\r\n$1\r\na\r\n");
    await check(["ZPOPMIN", "z"], "*2\r\n$1\r\na\r\n,2\r\n");
    await check(["ZPOPMIN", "z", 1], "*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
    await check(["ZPOPMIN", "nokey"], "*0\r\n");
    await check(["ZMPOP", 1, "nokey", "MIN"], "_\r\n");
    await check(["ZMPOP", 1, "z", "MIN"], "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nc\r\n,inf\r\n");
    await check(["ZADD", "u", 1, "a"], ":1\r\n");
    await check(["BZPOPMIN", "u", 0], "*3\r\n$1\r\nu\r\n$1\r\na\r\n,1\r\n");
    await check(["ZADD", "u", 1, "a", 2, "b"], ":2\r\n");
    await check(
      ["ZUNION", 1, "u", "WITHSCORES"],
      "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n",
    );
    await check(
      ["ZRANDMEMBER", "u", 5, "WITHSCORES"],
      "*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n",
    );
    await check(["ZSCORE", "nokey", "a"], "_\r\n");
    await check(["ZRANK", "nokey", "a"], "_\r\n");
    await check(["MULTI"], "+OK\r\n");
    await check(["BZPOPMIN", "nokey", 0], "+QUEUED\r\n");
    await check(["EXEC"], "*1\r\n_\r\n");
  });
});

Deno.test("encodings: listpack limits, conversions and stored results", async () => {
  await withZServer(async (c) => {
    const e = expecter(c);
    await e(["CONFIG", "SET", "zset-max-listpack-entries", 4], "OK");
    await e(["CONFIG", "SET", "zset-max-listpack-value", 8], "OK");
    await e(["ZADD", "e", 1, "a", 2, "b", 3, "c", 4, "d"], 4);
    await e(["OBJECT", "ENCODING", "e"], "listpack");
    await e(["ZADD", "e", 5, "e"], 1);
    await e(["OBJECT", "ENCODING", "e"], "skiplist");
    await e(["ZREM", "e", "a", "b", "c", "d"], 4);
    await e(["OBJECT", "ENCODING", "e"], "skiplist");
    await e(["ZADD", "long", 1, "aaaaaaaaa"], 1);
    await e(["OBJECT", "ENCODING", "long"], "skiplist");
    await e(["ZADD", "x", 1, "a"], 1);
    await e(["ZADD", "x", "XX", 1, "aaaaaaaaa"], 0);
    await e(["OBJECT", "ENCODING", "x"], "listpack");
    await e(["ZADD", "big", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e", 6, "f"], 6);
    await e(["ZUNIONSTORE", "d1", 1, "big"], 6);
    await e(["OBJECT", "ENCODING", "d1"], "skiplist");
    await e(["ZRANGESTORE", "d2", "big", 0, 2], 3);
    await e(["OBJECT", "ENCODING", "d2"], "listpack");
    await e(["ZRANGESTORE", "d3", "big", "-inf", "+inf", "BYSCORE", "LIMIT", 0, 3], 3);
    await e(["OBJECT", "ENCODING", "d3"], "listpack");
    await e(["ZINTERSTORE", "d4", 1, "long"], 1);
    await e(["OBJECT", "ENCODING", "d4"], "skiplist");
    await e(["ZADD", "small", 1, "a", 2, "b", 3, "c"], 3);
    await e(["ZDIFFSTORE", "d5", 2, "small", "x"], 2);
    await e(["OBJECT", "ENCODING", "d5"], "listpack");
    // -0 survives only in the skiplist encoding (a listpack stores it as integer 0).
    await e(["ZADD", "nz", "-0", "a"], 1);
    await e(["ZSCORE", "nz", "a"], "0");
    await e(["CONFIG", "SET", "zset-max-listpack-entries", 0], "OK");
    await e(["ZADD", "sz", "-0", "a"], 1);
    await e(["ZSCORE", "sz", "a"], "-0");
    await e(["CONFIG", "SET", "zset-max-listpack-entries", 128], "OK");
    await e(["ZUNIONSTORE", "lz", 1, "sz"], 1);
    await e(["OBJECT", "ENCODING", "lz"], "listpack");
    await e(["ZSCORE", "lz", "a"], "0");
  });
});

Deno.test("keyspace notifications of sorted set commands", async () => {
  await withZServer(async (c, s) => {
    const e = expecter(c);
    await e(["CONFIG", "SET", "notify-keyspace-events", "KEA"], "OK");
    const sub = await s.client();
    try {
      await sub.call("PSUBSCRIBE", "__keyevent@0__:*");
      const cmds: (string | number)[][] = [
        ["ZADD", "z", 1, "a", 2, "b", 3, "c"],
        ["ZADD", "z", 1, "a"],
        ["ZINCRBY", "z", 1, "a"],
        ["ZREM", "z", "nonex"],
        ["ZREM", "z", "a"],
        ["ZREMRANGEBYRANK", "z", 0, 0],
        ["ZADD", "z", 5, "e", 6, "f"],
        ["ZREMRANGEBYSCORE", "z", 5, 5],
        ["ZREMRANGEBYLEX", "z", "-", "+"],
        ["ZADD", "z", 1, "a", 2, "b", 3, "c"],
        ["ZPOPMIN", "z"],
        ["ZPOPMAX", "z", 5],
        ["ZADD", "x", 1, "a"],
        ["ZUNIONSTORE", "d", 1, "x"],
        ["ZINTERSTORE", "d", 1, "x"],
        ["ZDIFFSTORE", "d", 1, "x"],
        ["ZRANGESTORE", "d", "x", 0, -1],
        ["ZRANGESTORE", "d", "nokey", 0, -1],
        ["ZMPOP", 1, "x", "MAX"],
      ];
      for (const cmd of cmds) await c.call(...cmd);
      const want = [
        "zadd z",
        "zincr z",
        "zrem z",
        "zremrangebyrank z",
        "zadd z",
        "zremrangebyscore z",
        "zremrangebylex z",
        "del z",
        "zadd z",
        "zpopmin z",
        "zpopmax z",
        "del z",
        "zadd x",
        "zunionstore d",
        "zinterstore d",
        "zdiffstore d",
        "zrangestore d",
        "del d",
        "zpopmax x",
        "del x",
      ];
      for (const w of want) {
        const m = await sub.read() as string[];
        assert.equal(`${m[2].slice("__keyevent@0__:".length)} ${m[3]}`, w);
      }
    } finally {
      sub.close();
    }
  });
});
