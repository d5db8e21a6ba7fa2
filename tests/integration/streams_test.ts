// Stream commands (XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID, XREAD, XGROUP,
// XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO) over a real socket against a tsredis
// process: replies and error texts (the expectations pass against redis-server 7.0.15 with
// TSREDIS_TEST_REAL=1), RESP3 maps, approximate trimming by node, blocking reads, keyspace
// events, MULTI and WATCH, propagation (in-process, and through replicas: a tsredis replica, a
// redis-server replica of tsredis), cluster routing, COMMAND INFO against redis-server, and
// randomized comparisons with a real redis-server: valid sequences, junk arguments, and what the
// replicas of both end with.
import assert from "node:assert/strict";
import {
  hasBinary,
  type Reply,
  type RespClient,
  rng,
  type ServerProcess,
  startServer,
  waitBlocked,
  withServer,
  withTsredisAndRedis,
} from "../helpers.ts";
import { check, E, OPTS, propagated } from "../command_checks.ts";

const WRONGTYPE = E("WRONGTYPE Operation against a key holding the wrong kind of value");
const SYNTAX = E("ERR syntax error");
const NOT_INT = E("ERR value is not an integer or out of range");
const BAD_ID = E("ERR Invalid stream ID specified as stream command argument");
const TOP_ITEM = E(
  "ERR The ID specified in XADD is equal or smaller than the target stream top item",
);
const NO_KEY_GROUP = (k: string, g: string) =>
  E(`NOGROUP No such key '${k}' or consumer group '${g}'`);

Deno.test("XADD/XLEN/XRANGE/XREVRANGE: IDs, ranges, COUNT, errors", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["XADD", "s", "1-1", "a", "1"], "1-1"],
      [["XADD", "s", "1-*", "b", "2"], "1-2"],
      [["XADD", "s", "2", "c", "3", "d", "4"], "2-0"],
      [["XADD", "s", "2-*", "e", "5"], "2-1"],
      [["XADD", "s", "5-0", "f", "6"], "5-0"],
      [["XLEN", "s"], 5],
      [["XLEN", "nokey"], 0],
      [["XRANGE", "s", "-", "+"], [
        ["1-1", ["a", "1"]],
        ["1-2", ["b", "2"]],
        ["2-0", ["c", "3", "d", "4"]],
        ["2-1", ["e", "5"]],
        ["5-0", ["f", "6"]],
      ]],
      [["XRANGE", "s", "2", "2"], [["2-0", ["c", "3", "d", "4"]], ["2-1", ["e", "5"]]]],
      [["XRANGE", "s", "(1-1", "(2-1"], [["1-2", ["b", "2"]], ["2-0", ["c", "3", "d", "4"]]]],
      [["XRANGE", "s", "-", "+", "COUNT", "2"], [["1-1", ["a", "1"]], ["1-2", ["b", "2"]]]],
      [["XRANGE", "s", "-", "+", "count", "0"], null],
      [["XRANGE", "s", "-", "+", "COUNT", "-5"], null],
      [["XRANGE", "s", "3", "1"], []],
      [["XRANGE", "nokey", "-", "+"], []],
      [["XREVRANGE", "s", "+", "-", "COUNT", "2"], [["5-0", ["f", "6"]], ["2-1", ["e", "5"]]]],
      // "(5" is 5-18446744073709551615 excluded: 5-0 is in.
      [["XREVRANGE", "s", "(5", "(1-2"], [
        ["5-0", ["f", "6"]],
        ["2-1", ["e", "5"]],
        ["2-0", ["c", "3", "d", "4"]],
      ]],
      [["XREVRANGE", "s", "(5-0", "(1-2"], [["2-1", ["e", "5"]], ["2-0", ["c", "3", "d", "4"]]]],
      [["XRANGE", "s", "(-", "+"], BAD_ID],
      [["XRANGE", "s", "-", "(+"], BAD_ID],
      [
        ["XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"],
        E(
          "ERR invalid start ID for the interval",
        ),
      ],
      [["XRANGE", "s", "-", "(0-0"], E("ERR invalid end ID for the interval")],
      [["XRANGE", "s", "x", "+"], BAD_ID],
      [["XRANGE", "s", "1-x", "+"], BAD_ID],
      [["XRANGE", "s", "-", "+", "COUNT"], SYNTAX],
      [["XRANGE", "s", "-", "+", "COUNT", "x"], NOT_INT],
      [["XRANGE", "s", "-", "+", "LIMIT", "1"], SYNTAX],
      // string2ull: leading zeros and a sign are accepted by strtoull, negative numbers are not.
      [["XRANGE", "s", "0001-01", "+", "COUNT", "1"], [["1-1", ["a", "1"]]]],
      [["XRANGE", "s", "1-+2", "1-2"], [["1-2", ["b", "2"]]]],
      [["XRANGE", "s", "1--1", "+"], BAD_ID],
      [["XRANGE", "s", "18446744073709551616", "+"], BAD_ID],
      // Errors of XADD.
      [["XADD", "s", "5-0", "x", "y"], TOP_ITEM],
      [["XADD", "s", "4-9", "x", "y"], TOP_ITEM],
      [["XADD", "s", "0-0", "x", "y"], E("ERR The ID specified in XADD must be greater than 0-0")],
      [
        ["XADD", "new", "0-0", "x", "y"],
        E("ERR The ID specified in XADD must be greater than 0-0"),
      ],
      [["EXISTS", "new"], 0],
      [["XADD", "new", "0-*", "x", "y"], "0-1"],
      [["XADD", "s", "-", "x", "y"], BAD_ID],
      [["XADD", "s", "+", "x", "y"], BAD_ID],
      [["XADD", "s", "abc", "x", "y"], BAD_ID],
      [["XADD", "s", "*", "x"], E("ERR wrong number of arguments for 'xadd' command")],
      [["XADD", "s", "*", "x", "y", "z"], E("ERR wrong number of arguments for 'xadd' command")],
      [["XADD", "s", "MAXLEN", "x", "*", "a", "b"], NOT_INT],
      [["XADD", "s", "MAXLEN", "-1", "*", "a", "b"], E("ERR The MAXLEN argument must be >= 0.")],
      [
        ["XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "a", "b"],
        E(
          "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
        ),
      ],
      [
        ["XADD", "s", "LIMIT", "10", "*", "a", "b"],
        E(
          "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ),
      ],
      [
        ["XADD", "s", "MAXLEN", "10", "LIMIT", "10", "*", "a", "b"],
        E(
          "ERR syntax error, LIMIT cannot be used without the special ~ option",
        ),
      ],
      [
        ["XADD", "s", "MAXLEN", "~", "10", "LIMIT", "-1", "*", "a", "b"],
        E(
          "ERR The LIMIT argument must be >= 0.",
        ),
      ],
      [["XADD", "s", "MINID", "-", "*", "a", "b"], BAD_ID],
      [["XADD", "nokey", "NOMKSTREAM", "*", "a", "b"], null],
      [["EXISTS", "nokey"], 0],
      [["XADD", "s", "NOMKSTREAM", "6-0", "a", "b"], "6-0"],
      [["SET", "str", "x"], "OK"],
      [["XADD", "str", "*", "a", "b"], WRONGTYPE],
      [["XLEN", "str"], WRONGTYPE],
      [["XRANGE", "str", "-", "+"], WRONGTYPE],
      [["LPUSH", "s", "x"], WRONGTYPE],
      [["TYPE", "s"], "stream"],
      [["OBJECT", "ENCODING", "s"], "stream"],
      // The last possible ID.
      [
        ["XADD", "max", "18446744073709551615-18446744073709551615", "a", "b"],
        "18446744073709551615-18446744073709551615",
      ],
      [
        ["XADD", "max", "*", "a", "b"],
        E(
          "ERR The stream has exhausted the last possible ID, unable to add more items",
        ),
      ],
      [["XADD", "seqmax", "5-18446744073709551615", "a", "b"], "5-18446744073709551615"],
      [["XADD", "seqmax", "5-*", "a", "b"], E("ERR Elements are too large to be stored")],
    ]);
    // Auto IDs use the clock and move forward even when the clock does not.
    const id1 = String(await c.call("XADD", "auto", "*", "f", "v"));
    assert.match(id1, /^\d{13}-0$/);
    await c.call("XADD", "auto", `${Number(id1.split("-")[0]) + 100000}-5`, "f", "v");
    assert.equal(
      await c.call("XADD", "auto", "*", "f", "v"),
      `${Number(id1.split("-")[0]) + 100000}-6`,
    );
    const scan = await c.call("SCAN", "0", "TYPE", "stream", "COUNT", "100") as Reply[];
    assert.deepEqual((scan[1] as string[]).sort(), ["auto", "max", "new", "s", "seqmax"]);
  }, OPTS);
});

Deno.test("XTRIM/XADD trimming: exact, approximate by node, LIMIT, MINID; XDEL; XSETID", async () => {
  await withServer(async (c) => {
    await check(c, [[["CONFIG", "SET", "stream-node-max-entries", "10"], "OK"]]);
    for (let j = 1; j <= 100; j++) await c.call("XADD", "s", `${j}-0`, "xitem", "v");
    await check(c, [
      [["XADD", "s", "MAXLEN", "~", "55", "LIMIT", "30", "101-0", "xitem", "v"], "101-0"],
      [["XLEN", "s"], 71],
      [["XADD", "s", "MAXLEN", "~", "55", "LIMIT", "30", "102-0", "xitem", "v"], "102-0"],
      [["XLEN", "s"], 62],
      [["XTRIM", "s", "MAXLEN", "~", "55"], 0],
      [["XTRIM", "s", "MAXLEN", "~", "50"], 10],
      [["XLEN", "s"], 52],
      [["XTRIM", "s", "MAXLEN", "=", "50"], 2],
      [["XRANGE", "s", "-", "+", "COUNT", "1"], [["53-0", ["xitem", "v"]]]],
      [["XTRIM", "s", "MINID", "~", "65"], 8],
      [["XTRIM", "s", "MINID", "65"], 4],
      [["XRANGE", "s", "-", "+", "COUNT", "1"], [["65-0", ["xitem", "v"]]]],
      [
        ["XTRIM", "s", "MAXLEN", "0", "LIMIT", "5"],
        E(
          "ERR syntax error, LIMIT cannot be used without the special ~ option",
        ),
      ],
      [["XTRIM", "s"], E("ERR wrong number of arguments for 'xtrim' command")],
      [["XTRIM", "s", "FOO", "1"], SYNTAX],
      [["XTRIM", "s", "LIMIT", "1", "x"], SYNTAX],
      [
        ["XTRIM", "s", "LIMIT", "1", "MAXLEN"],
        SYNTAX,
      ],
      [["XTRIM", "nokey", "MAXLEN", "1"], 0],
      [["XTRIM", "s", "NOMKSTREAM", "MAXLEN", "1"], SYNTAX],
      [["XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "0"], 38],
      [["XLEN", "s"], 0],
      [["EXISTS", "s"], 1], // an emptied stream stays
      [["XINFO", "STREAM", "s"], [
        "length",
        0,
        "radix-tree-keys",
        0,
        "radix-tree-nodes",
        1,
        "last-generated-id",
        "102-0",
        "max-deleted-entry-id",
        "0-0",
        "entries-added",
        102,
        "recorded-first-entry-id",
        "0-0",
        "groups",
        0,
        "first-entry",
        null,
        "last-entry",
        null,
      ]],
      [["CONFIG", "SET", "stream-node-max-entries", "1"], "OK"],
    ]);
    for (let j = 0; j < 102; j++) await c.call("XADD", "one", "*", "xitem", "v");
    await check(c, [
      [["XTRIM", "one", "MAXLEN", "~", "1"], 100],
      [["XLEN", "one"], 2],
      [["XTRIM", "one", "MAXLEN", "1"], 1],
      [["CONFIG", "SET", "stream-node-max-entries", "2"], "OK"],
      [["XADD", "two", "1-0", "a", "1"], "1-0"],
      [["XADD", "two", "2-0", "a", "2"], "2-0"],
      [["XADD", "two", "3-0", "a", "3"], "3-0"],
      [["XTRIM", "two", "MAXLEN", "~", "0", "LIMIT", "1"], 0],
      [["XTRIM", "two", "MAXLEN", "~", "0", "LIMIT", "2"], 2],
      // XDEL: tombstones, max-deleted-entry-id, the emptied node is freed.
      [["XADD", "d", "1-0", "a", "1"], "1-0"],
      [["XADD", "d", "2-0", "a", "2"], "2-0"],
      [["XADD", "d", "3-0", "a", "3"], "3-0"],
      [["XDEL", "d", "2-0", "9-0", "2-0"], 1],
      [["XDEL", "d", "1-0", "x"], BAD_ID],
      [["XDEL", "d", "-"], BAD_ID],
      [["XDEL", "nokey", "x"], 0],
      [["XDEL", "str2", "1-0"], 0],
      [["XRANGE", "d", "-", "+"], [["1-0", ["a", "1"]], ["3-0", ["a", "3"]]]],
      [["XINFO", "STREAM", "d"], [
        "length",
        2,
        "radix-tree-keys",
        2,
        "radix-tree-nodes",
        6,
        "last-generated-id",
        "3-0",
        "max-deleted-entry-id",
        "2-0",
        "entries-added",
        3,
        "recorded-first-entry-id",
        "1-0",
        "groups",
        0,
        "first-entry",
        ["1-0", ["a", "1"]],
        "last-entry",
        ["3-0", ["a", "3"]],
      ]],
      [["XDEL", "d", "1-0"], 1],
      [["XINFO", "STREAM", "d"], [
        "length",
        1,
        "radix-tree-keys",
        1,
        "radix-tree-nodes",
        2,
        "last-generated-id",
        "3-0",
        "max-deleted-entry-id",
        "2-0",
        "entries-added",
        3,
        "recorded-first-entry-id",
        "3-0",
        "groups",
        0,
        "first-entry",
        ["3-0", ["a", "3"]],
        "last-entry",
        ["3-0", ["a", "3"]],
      ]],
      // XSETID
      [
        ["XSETID", "d", "2-0"],
        E(
          "ERR The ID specified in XSETID is smaller than the target stream top item",
        ),
      ],
      [
        ["XSETID", "d", "5-0", "ENTRIESADDED", "0"],
        E(
          "ERR The entries_added specified in XSETID is smaller than the target stream length",
        ),
      ],
      [["XSETID", "d", "5-0", "ENTRIESADDED", "-1"], E("ERR entries_added must be positive")],
      [
        ["XSETID", "d", "5-0", "MAXDELETEDID", "6-0"],
        E(
          "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
        ),
      ],
      [["XSETID", "d", "5-0", "FOO", "1"], SYNTAX],
      [["XSETID", "d", "5-0", "ENTRIESADDED"], SYNTAX],
      [["XSETID", "d", "+"], BAD_ID],
      [["XSETID", "nokey", "5-0"], E("ERR no such key")],
      [["XSETID", "d", "5-0", "ENTRIESADDED", "10", "MAXDELETEDID", "4-0"], "OK"],
      [["XADD", "d", "5-0", "a", "b"], TOP_ITEM],
    ]);
    const info = await c.call("XINFO", "STREAM", "d") as Reply[];
    assert.deepEqual(info.slice(6, 12), [
      "last-generated-id",
      "5-0",
      "max-deleted-entry-id",
      "4-0",
      "entries-added",
      10,
    ]);
  }, OPTS);
});

Deno.test("consumer groups: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO", async () => {
  await withServer(async (c) => {
    await check(c, [
      [
        ["XGROUP", "CREATE", "s", "g", "$"],
        E(
          "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
        ),
      ],
      [["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], "OK"],
      [["XGROUP", "CREATE", "s", "g", "$"], E("BUSYGROUP Consumer Group name already exists")],
      [
        ["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "-2"],
        E(
          "ERR value for ENTRIESREAD must be positive or -1",
        ),
      ],
      [
        ["XGROUP", "CREATE", "s", "g2", "0", "FOO"],
        E(
          "ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.",
        ),
      ],
      [["XGROUP", "CREATE", "s", "g2", "-"], BAD_ID],
      [
        ["XGROUP", "SETID", "s", "nog", "0"],
        E("NOGROUP No such consumer group 'nog' for key name 's'"),
      ],
      [["XGROUP", "FOO", "s", "g"], E("ERR unknown subcommand 'FOO'. Try XGROUP HELP.")],
      [["XGROUP", "DESTROY", "s"], E("ERR wrong number of arguments for 'xgroup|destroy' command")],
      [["XGROUP", "CREATECONSUMER", "s", "g", "c0"], 1],
      [["XGROUP", "CREATECONSUMER", "s", "g", "c0"], 0],
      [["XGROUP", "DELCONSUMER", "s", "g", "c0"], 0],
      [["XGROUP", "DELCONSUMER", "s", "g", "c0"], 0],
      [["XADD", "s", "1-0", "f", "1"], "1-0"],
      [["XADD", "s", "2-0", "f", "2"], "2-0"],
      [["XADD", "s", "3-0", "f", "3"], "3-0"],
      [["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"], [
        ["s", [["1-0", ["f", "1"]], ["2-0", ["f", "2"]]]],
      ]],
      [["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"], [["s", [["3-0", ["f", "3"]]]]]],
      [["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"], null],
      [["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"], [
        ["s", [["1-0", ["f", "1"]], ["2-0", ["f", "2"]]]],
      ]],
      [["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "1-0"], [["s", [["2-0", ["f", "2"]]]]]],
      [["XREADGROUP", "GROUP", "g", "c9", "STREAMS", "s", "0"], [["s", []]]],
      [
        ["XREADGROUP", "GROUP", "nog", "c1", "STREAMS", "s", ">"],
        E(
          "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option",
        ),
      ],
      [
        ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "$"],
        E(
          "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
        ),
      ],
      [
        ["XREADGROUP", "COUNT", "1", "COUNT", "1", "STREAMS", "s", ">"],
        E(
          "ERR Missing GROUP option for XREADGROUP",
        ),
      ],
      [
        ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s"],
        E(
          "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        ),
      ],
      [
        ["XREAD", "GROUP", "g", "c1", "STREAMS", "s", ">"],
        E(
          "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
        ),
      ],
      [
        ["XREAD", "NOACK", "STREAMS", "s", "0"],
        E(
          "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
        ),
      ],
      [
        ["XREAD", "STREAMS", "s", ">"],
        E(
          "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
        ),
      ],
      [["XREAD", "COUNT", "1", "STREAMS", "s", "nokey", "0", "0"], [["s", [["1-0", ["f", "1"]]]]]],
      [["XREAD", "STREAMS", "s", "$"], null],
      [["XREAD", "BLOCK", "-1", "STREAMS", "s", "$"], E("ERR timeout is negative")],
      [
        ["XREAD", "BLOCK", "x", "STREAMS", "s", "$"],
        E(
          "ERR timeout is not an integer or out of range",
        ),
      ],
      [["XREAD", "FOO", "STREAMS", "s", "$"], SYNTAX],
      [["XREAD", "COUNT", "1", "s", "$"], SYNTAX],
      [["XPENDING", "s", "g"], [3, "1-0", "3-0", [["c1", "2"], ["c2", "1"]]]],
      [["XPENDING", "s", "nog"], NO_KEY_GROUP("s", "nog")],
      [["XPENDING", "nokey", "g"], NO_KEY_GROUP("nokey", "g")],
      [["XPENDING", "s", "g", "-"], SYNTAX],
      [["XPENDING", "s", "g", "IDLE", "10", "-", "+"], SYNTAX],
      [["XPENDING", "s", "g", "-", "+", "x"], NOT_INT],
      [["XPENDING", "s", "g", "-", "+", "10", "nobody"], []],
      [["XACK", "s", "g", "1-0", "9-0"], 1],
      [["XACK", "s", "g", "x"], BAD_ID],
      [["XACK", "s", "nog", "x"], 0],
      [["XACK", "nokey", "g", "1-0"], 0],
      [["XPENDING", "s", "g"], [2, "2-0", "3-0", [["c1", "1"], ["c2", "1"]]]],
      [["XCLAIM", "s", "g", "c3", "0", "2-0", "JUSTID"], ["2-0"]],
      [["XCLAIM", "s", "g", "c3", "0", "3-0", "9-0"], [["3-0", ["f", "3"]]]],
      [["XCLAIM", "s", "g", "c3", "3600000", "3-0"], []],
      [["XCLAIM", "s", "g", "c3", "x", "3-0"], E("ERR Invalid min-idle-time argument for XCLAIM")],
      [
        ["XCLAIM", "s", "g", "c3", "0", "3-0", "IDLE", "x"],
        E(
          "ERR Invalid IDLE option argument for XCLAIM",
        ),
      ],
      [
        ["XCLAIM", "s", "g", "c3", "0", "3-0", "TIME", "x"],
        E(
          "ERR Invalid TIME option argument for XCLAIM",
        ),
      ],
      [
        ["XCLAIM", "s", "g", "c3", "0", "3-0", "RETRYCOUNT", "x"],
        E(
          "ERR Invalid RETRYCOUNT option argument for XCLAIM",
        ),
      ],
      [["XCLAIM", "s", "g", "c3", "0", "3-0", "BAR"], E("ERR Unrecognized XCLAIM option 'BAR'")],
      [["XCLAIM", "s", "g", "c3", "0", "3-0", "LASTID", "+"], BAD_ID],
      [["XCLAIM", "s", "nog", "c3", "0", "3-0"], NO_KEY_GROUP("s", "nog")],
      [["XCLAIM", "s", "g", "c4", "0", "1-0", "FORCE", "RETRYCOUNT", "7", "JUSTID"], ["1-0"]],
      [["XAUTOCLAIM", "s", "g", "c5", "0", "0", "COUNT", "2"], [
        "3-0",
        [["1-0", ["f", "1"]], ["2-0", ["f", "2"]]],
        [],
      ]],
      [["XDEL", "s", "3-0"], 1],
      [["XAUTOCLAIM", "s", "g", "c5", "0", "(2-0", "JUSTID"], ["0-0", [], ["3-0"]]],
      [["XAUTOCLAIM", "s", "g", "c5", "0", "0", "COUNT", "0"], E("ERR COUNT must be > 0")],
      [
        ["XAUTOCLAIM", "s", "g", "c5", "0", "0", "COUNT", "100000000000000"],
        E(
          "ERR Insufficient memory, failed allocating transient memory, COUNT too high.",
        ),
      ],
      [
        ["XAUTOCLAIM", "s", "g", "c5", "0", "0", "COUNT", "8070450532247928833"],
        E(
          "ERR COUNT must be > 0",
        ),
      ],
      [
        ["XAUTOCLAIM", "s", "g", "c5", "x", "0"],
        E(
          "ERR Invalid min-idle-time argument for XAUTOCLAIM",
        ),
      ],
      [["XAUTOCLAIM", "s", "g", "c5", "0", "0", "FOO"], SYNTAX],
      [["XAUTOCLAIM", "s", "nog", "c5", "0", "0"], NO_KEY_GROUP("s", "nog")],
      [["XCLAIM", "s", "g", "c6", "0", "3-0", "FORCE"], []],
      [["XPENDING", "s", "g"], [2, "1-0", "2-0", [["c5", "2"]]]],
      [["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0"], "OK"],
      [["XINFO", "GROUPS", "s"], [[
        "name",
        "g",
        "consumers",
        6,
        "pending",
        2,
        "last-delivered-id",
        "0-0",
        "entries-read",
        0,
        "lag",
        null,
      ]]],
      [["XGROUP", "SETID", "s", "g", "$"], "OK"],
      [["XINFO", "GROUPS", "s"], [[
        "name",
        "g",
        "consumers",
        6,
        "pending",
        2,
        "last-delivered-id",
        "3-0",
        "entries-read",
        null,
        "lag",
        0,
      ]]],
      [["XGROUP", "DELCONSUMER", "s", "g", "c5"], 2],
      [["XPENDING", "s", "g"], [0, null, null, null]],
      [
        ["XINFO", "CONSUMERS", "s", "nog"],
        E("NOGROUP No such consumer group 'nog' for key name 's'"),
      ],
      [["XINFO", "CONSUMERS", "nokey", "g"], E("ERR no such key")],
      [
        ["XINFO", "STREAM", "s", "FULL", "COUNT"],
        E(
          "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.",
        ),
      ],
      [
        ["XINFO", "STREAM", "s", "FOO"],
        E(
          "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.",
        ),
      ],
      [["XINFO", "STREAM", "s", "FULL", "COUNT", "x"], NOT_INT],
      [["XGROUP", "DESTROY", "s", "g"], 1],
      [["XGROUP", "DESTROY", "s", "g"], 0],
      [["XINFO", "GROUPS", "s"], []],
      [["XINFO", "HELP"], [
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
      ]],
    ]);
  }, OPTS);
});

Deno.test("RESP3: XREAD and XREADGROUP reply maps, XINFO maps, nulls", async () => {
  await withServer(async (c) => {
    await c.call("HELLO", "3");
    await check(c, [
      [["XADD", "s", "1-0", "f", "v"], "1-0"],
      [["XREAD", "STREAMS", "s", "0"], new Map([["s", [["1-0", ["f", "v"]]]]])],
      [["XREAD", "STREAMS", "s", "$"], null],
      [["XRANGE", "s", "-", "+", "COUNT", "0"], null],
      [["XADD", "nokey", "NOMKSTREAM", "*", "f", "v"], null],
      [["XGROUP", "CREATE", "s", "g", "0"], "OK"],
      [
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
        new Map([
          ["s", [["1-0", ["f", "v"]]]],
        ]),
      ],
      [["XINFO", "GROUPS", "s"], [
        new Map<Reply, Reply>([
          ["name", "g"],
          ["consumers", 1],
          ["pending", 1],
          ["last-delivered-id", "1-0"],
          ["entries-read", 1],
          ["lag", 0],
        ]),
      ]],
      [["XPENDING", "s", "nog"], NO_KEY_GROUP("s", "nog")],
      [["XACK", "s", "g", "1-0"], 1],
      [["XPENDING", "s", "g"], [0, null, null, null]],
    ]);
    const full = await c.call("XINFO", "STREAM", "s", "FULL") as Map<Reply, Reply>;
    assert.equal(full.get("length"), 1);
    assert.deepEqual(full.get("entries"), [["1-0", ["f", "v"]]]);
    const groups = full.get("groups") as Map<Reply, Reply>[];
    assert.equal(groups[0].get("name"), "g");
    assert.equal(groups[0].get("pel-count"), 0);
    const consumers = groups[0].get("consumers") as Map<Reply, Reply>[];
    assert.equal(consumers[0].get("name"), "c");
    assert.equal(typeof consumers[0].get("seen-time"), "number");
  }, OPTS);
});

Deno.test("blocking: XREAD BLOCK served by XADD (FIFO), timeouts, XREADGROUP errors, CLIENT UNBLOCK", async () => {
  await withServer(async (c, srv) => {
    const b1 = await srv.client();
    const b2 = await srv.client();
    try {
      // XREAD BLOCK 0 waits forever; both readers of $ get the new entry.
      await c.call("XADD", "s", "1-0", "f", "1");
      await b1.send("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
      await b2.send("XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "nokey", "s", "$", "$");
      await waitBlocked(c, 2);
      await c.call("XADD", "s", "2-0", "f", "2");
      assert.deepEqual(await b1.read(), [["s", [["2-0", ["f", "2"]]]]]);
      assert.deepEqual(await b2.read(), [["s", [["2-0", ["f", "2"]]]]]);
      // Timeout: a null array.
      const t0 = Date.now();
      assert.equal(await b1.call("XREAD", "BLOCK", "100", "STREAMS", "s", "$"), null);
      assert.ok(Date.now() - t0 >= 90);
      // Inside MULTI a blocking read does not block.
      await check(b1, [
        [["MULTI"], "OK"],
        [["XREAD", "BLOCK", "0", "STREAMS", "s", "$"], "QUEUED"],
        [["EXEC"], [null]],
      ]);
      // XREADGROUP: FIFO between consumers of a group, each served entry goes to one client.
      await c.call("XGROUP", "CREATE", "s", "g", "$");
      await b1.send("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">");
      await waitBlocked(c, 1);
      await b2.send("XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", "s", ">");
      await waitBlocked(c, 2);
      await c.call("XADD", "s", "3-0", "f", "3");
      assert.deepEqual(await b1.read(), [["s", [["3-0", ["f", "3"]]]]]);
      await waitBlocked(c, 1);
      await c.call("XADD", "s", "4-0", "f", "4");
      assert.deepEqual(await b2.read(), [["s", [["4-0", ["f", "4"]]]]]);
      assert.deepEqual(await c.call("XPENDING", "s", "g"), [2, "3-0", "4-0", [["c1", "1"], [
        "c2",
        "1",
      ]]]);
      // Group destroyed, key deleted, key overwritten: blocked XREADGROUP clients fail.
      await b1.send("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">");
      await waitBlocked(c, 1);
      await c.call("XGROUP", "DESTROY", "s", "g");
      assert.deepEqual(
        await b1.read(),
        new Error("NOGROUP the consumer group this client was blocked on no longer exists"),
      );
      await c.call("XGROUP", "CREATE", "s", "g", "$");
      await b1.send("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">");
      await waitBlocked(c, 1);
      await c.call("DEL", "s");
      assert.deepEqual(await b1.read(), new Error("UNBLOCKED the stream key no longer exists"));
      await c.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
      await b1.send("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">");
      await waitBlocked(c, 1);
      await c.call("SET", "s", "x");
      assert.deepEqual(await b1.read(), new Error("UNBLOCKED the stream key no longer exists"));
      await c.call("DEL", "s");
      await c.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
      await b1.send("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">");
      await waitBlocked(c, 1);
      await c.call("FLUSHALL");
      assert.deepEqual(await b1.read(), new Error("UNBLOCKED the stream key no longer exists"));
      // A plain XREAD keeps waiting when its key is deleted.
      await c.call("XADD", "s", "5-0", "f", "5");
      await b1.send("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
      await waitBlocked(c, 1);
      await c.call("DEL", "s");
      await c.call("XADD", "s", "6-0", "f", "6");
      assert.deepEqual(await b1.read(), [["s", [["6-0", ["f", "6"]]]]]);
      // CLIENT UNBLOCK: TIMEOUT gives the null reply, ERROR the UNBLOCKED error.
      const id = await b1.call("CLIENT", "ID");
      await b1.send("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
      await waitBlocked(c, 1);
      assert.equal(await c.call("CLIENT", "UNBLOCK", id as number), 1);
      assert.equal(await b1.read(), null);
      await b1.send("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">");
      assert.ok((await b1.read()) instanceof Error); // no group g any more
      await c.call("XGROUP", "CREATE", "s", "g", "$");
      await b1.send("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">");
      await waitBlocked(c, 1);
      assert.equal(await c.call("CLIENT", "UNBLOCK", id as number, "ERROR"), 1);
      assert.deepEqual(
        await b1.read(),
        new Error("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
      );
      // A stream that expires fails its blocked XREADGROUP clients too (active expiry).
      await c.call("XGROUP", "CREATE", "e", "g", "$", "MKSTREAM");
      await b1.send("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "e", ">");
      await waitBlocked(c, 1);
      await c.call("PEXPIRE", "e", "50");
      assert.deepEqual(await b1.read(), new Error("UNBLOCKED the stream key no longer exists"));
      // RESP3: the served reply is a map.
      await b2.call("HELLO", "3");
      await b2.send("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
      await waitBlocked(c, 1);
      await c.call("XADD", "s", "7-0", "f", "7");
      assert.deepEqual(await b2.read(), new Map([["s", [["7-0", ["f", "7"]]]]]));
      // Without COUNT a blocked reader gets at most 1000 entries.
      await b2.send("XREAD", "BLOCK", "0", "STREAMS", "s", "7-0");
      await waitBlocked(c, 1);
      await c.call("MULTI");
      for (let i = 0; i < 1100; i++) await c.call("XADD", "s", `${8 + i}-0`, "f", "x");
      await c.call("EXEC");
      const got = await b2.read() as Map<Reply, Reply[]>;
      assert.equal(got.get("s")!.length, 1000);
    } finally {
      b1.close();
      b2.close();
    }
  }, OPTS);
});

Deno.test("propagation: XADD ID and ~ trims rewritten, group reads as XCLAIM / XGROUP", () => {
  const p = propagated([
    ["XADD", "s", "5-*", "f", "v"],
    ["XADD", "s", "MAXLEN", "~", "1", "6-0", "f", "v"],
    ["XADD", "s", "MAXLEN", "1", "7-0", "f", "v"],
    ["XADD", "s", "MINID", "~", "0", "LIMIT", "10", "8-*", "f", "v"],
    ["XTRIM", "s", "MAXLEN", "~", "0"],
    ["XTRIM", "s", "MAXLEN", "5"],
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
    ["XADD", "s", "9-0", "f", "v"],
    ["XADD", "s", "10-0", "f", "v"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "c2", "NOACK", "STREAMS", "s", ">"],
    ["XADD", "s", "11-0", "f", "v"],
    ["XREADGROUP", "GROUP", "g", "c2", "NOACK", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
    ["XACK", "s", "g", "9-0", "1-0"],
    ["XCLAIM", "s", "g", "c3", "0", "10-0", "JUSTID", "LASTID", "11-0"],
    ["XCLAIM", "s", "g", "c3", "0", "1-0", "LASTID", "12-0"],
    ["XDEL", "s", "10-0"],
    ["XAUTOCLAIM", "s", "g", "c4", "0", "0"],
    ["XREAD", "STREAMS", "s", "0"],
  ], [["stream-node-max-entries", "1"]]);
  const strip = (cmds: string[][]) =>
    cmds.map((a) => a[0] === "XCLAIM" ? [...a.slice(0, 6), "TIME", "<t>", ...a.slice(8)] : a);
  assert.deepEqual(p[0], [["XADD", "s", "5-0", "f", "v"]]);
  assert.deepEqual(p[1], [["XADD", "s", "MAXLEN", "=", "1", "6-0", "f", "v"]]);
  assert.deepEqual(p[2], [["XADD", "s", "MAXLEN", "1", "7-0", "f", "v"]]);
  assert.deepEqual(p[3], [["XADD", "s", "MINID", "=", "7-0", "LIMIT", "10", "8-0", "f", "v"]]);
  assert.deepEqual(p[4], [["XTRIM", "s", "MAXLEN", "=", "0"]]);
  assert.deepEqual(p[5], []); // nothing trimmed, nothing propagated
  assert.deepEqual(p[6], [["XGROUP", "CREATE", "s", "g", "0"]]);
  assert.deepEqual(p[7], []); // the stream is empty: nothing served
  // streamPropagateXCLAIM's form (the TIME argument is the delivery time: not compared).
  const claim = (consumer: string, id: string, count: number, lastId: string) => [
    ...["XCLAIM", "s", "g", consumer, "0", id, "TIME", "<t>", "RETRYCOUNT", String(count)],
    ...["FORCE", "JUSTID", "LASTID", lastId],
  ];
  assert.deepEqual(strip(p[10]), [
    ["MULTI"],
    claim("c", "9-0", 1, "9-0"),
    claim("c", "10-0", 1, "10-0"),
    ["EXEC"],
  ]);
  assert.deepEqual(p[11], []); // nothing to serve: not even the consumer is created
  assert.deepEqual(p[13], [
    ["MULTI"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "c2"],
    ["XGROUP", "SETID", "s", "g", "11-0", "ENTRIESREAD", "7"],
    ["EXEC"],
  ]);
  assert.deepEqual(p[14], []); // history reads propagate nothing (they count a delivery)
  assert.deepEqual(p[15], [["XACK", "s", "g", "9-0", "1-0"]]);
  assert.deepEqual(strip(p[16]), [claim("c3", "10-0", 2, "11-0")]);
  assert.deepEqual(p[17], [["XGROUP", "SETID", "s", "g", "12-0", "ENTRIESREAD", "7"]]);
  assert.deepEqual(p[18], [["XDEL", "s", "10-0"]]);
  // The claimed-but-deleted entry is propagated as an XCLAIM that drops the NACK.
  assert.deepEqual(strip(p[19]), [claim("c3", "10-0", 2, "12-0")]);
  assert.deepEqual(p[20], []);
});

Deno.test("keyspace events, WATCH, MULTI and dirty of the stream commands", async () => {
  await withServer(async (c, srv) => {
    const sub = await srv.client();
    try {
      await c.call("CONFIG", "SET", "notify-keyspace-events", "Et");
      await sub.call("PSUBSCRIBE", "__keyevent@0__:*");
      const cmds: (string | number)[][] = [
        ["XADD", "s", "1-0", "f", "v"],
        ["XADD", "s", "MAXLEN", "0", "2-0", "f", "v"],
        ["XADD", "s", "3-0", "f", "v"],
        ["XDEL", "s", "3-0"],
        ["XDEL", "s", "3-0"],
        ["XTRIM", "s", "MAXLEN", "0"],
        ["XSETID", "s", "9-0"],
        ["XGROUP", "CREATE", "s", "g", "0"],
        ["XGROUP", "CREATECONSUMER", "s", "g", "c"],
        ["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"],
        ["XGROUP", "DELCONSUMER", "s", "g", "c"],
        ["XGROUP", "SETID", "s", "g", "$"],
        ["XGROUP", "DESTROY", "s", "g"],
      ];
      for (const cmd of cmds) await c.call(...cmd);
      // Then one more write: the next event must be its own (no stray events above).
      await c.call("XADD", "s", "10-0", "f", "v");
      const events: string[] = [];
      for (let i = 0; i < 12; i++) {
        const m = await sub.read() as string[];
        events.push(m[2].split(":")[1]);
      }
      assert.deepEqual(events, [
        "xadd",
        "xadd",
        "xtrim",
        "xadd",
        "xdel",
        "xsetid",
        "xgroup-create",
        "xgroup-createconsumer",
        "xgroup-delconsumer",
        "xgroup-setid",
        "xgroup-destroy",
        "xadd",
      ]);
    } finally {
      sub.close();
    }
    // WATCH: XADD/XDEL/XTRIM invalidate, group commands do not (no signalModifiedKey).
    const other = await srv.client();
    try {
      await c.call("XGROUP", "CREATE", "w", "g", "$", "MKSTREAM");
      await c.call("XADD", "w", "1-0", "f", "v");
      for (
        const [cmd, dirty] of [
          [["XREADGROUP", "GROUP", "g", "c", "STREAMS", "w", ">"], false],
          [["XACK", "w", "g", "1-0"], false],
          [["XGROUP", "SETID", "w", "g", "0"], false],
          [["XADD", "w", "2-0", "f", "v"], true],
          [["XDEL", "w", "9-0"], false],
          [["XDEL", "w", "1-0"], true],
        ] as [string[], boolean][]
      ) {
        await c.call("WATCH", "w");
        await other.call(...cmd);
        await c.call("MULTI");
        await c.call("PING");
        assert.deepEqual(await c.call("EXEC"), dirty ? null : ["PONG"], cmd.join(" "));
      }
      // Inside MULTI: the queued commands run in order.
      await check(c, [
        [["MULTI"], "OK"],
        [["XADD", "m", "1-0", "a", "b"], "QUEUED"],
        [["XLEN", "m"], "QUEUED"],
        [["XRANGE", "m", "-", "+"], "QUEUED"],
        [["EXEC"], ["1-0", 1, [["1-0", ["a", "b"]]]]],
      ]);
    } finally {
      other.close();
    }
  }, OPTS);
});

const STREAM_COMMANDS = [
  "xadd",
  "xrange",
  "xrevrange",
  "xlen",
  "xdel",
  "xtrim",
  "xsetid",
  "xread",
  "xreadgroup",
  "xgroup",
  "xack",
  "xpending",
  "xclaim",
  "xautoclaim",
  "xinfo",
];

/** COMMAND INFO entry with the subcommands in name order (Redis lists them in dict order). */
function normalizeInfo(r: Reply): Reply {
  if (!Array.isArray(r)) return r;
  const out = r.slice();
  if (Array.isArray(out[9])) {
    out[9] = (out[9] as Reply[][]).slice().sort((a, b) => String(a[0]) < String(b[0]) ? -1 : 1);
  }
  return out;
}

/** The COMMAND DOCS fields tsredis serves (Redis adds arguments and history). */
function docsSubset(r: Reply): Reply {
  if (!Array.isArray(r)) return r;
  const out: Reply[] = [];
  for (let i = 0; i < r.length; i += 2) {
    const k = r[i] as string;
    if (["summary", "since", "group", "complexity"].includes(k)) out.push(k, r[i + 1]);
    if (k === "subcommands") {
      const subs = r[i + 1] as Reply[];
      const pairs: [string, Reply][] = [];
      for (let j = 0; j < subs.length; j += 2) {
        pairs.push([subs[j] as string, docsSubset(subs[j + 1])]);
      }
      pairs.sort((a, b) => a[0] < b[0] ? -1 : 1);
      out.push(k, pairs.flat());
    }
  }
  return out;
}

Deno.test({
  name: "COMMAND INFO / DOCS / GETKEYS of the stream commands equal redis-server's",
  ignore: !hasBinary("redis-server"),
  fn: async () => {
    await withTsredisAndRedis(async (ts, real) => {
      for (const name of STREAM_COMMANDS) {
        const [a] = await ts.call("COMMAND", "INFO", name) as Reply[];
        const [b] = await real.call("COMMAND", "INFO", name) as Reply[];
        assert.deepEqual(normalizeInfo(a), normalizeInfo(b), name);
        const [, da] = await ts.call("COMMAND", "DOCS", name) as Reply[];
        const [, db] = await real.call("COMMAND", "DOCS", name) as Reply[];
        assert.deepEqual(docsSubset(da), docsSubset(db), name);
      }
      for (
        const args of [
          ["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"],
          ["XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "k", ">"],
          ["XADD", "k", "*", "f", "v"],
          ["XGROUP", "CREATE", "k", "g", "$"],
          ["XINFO", "STREAM", "k"],
        ]
      ) {
        assert.deepEqual(
          await ts.call("COMMAND", "GETKEYS", ...args),
          await real.call("COMMAND", "GETKEYS", ...args),
          args.join(" "),
        );
      }
    });
  },
});

/** A deterministic random command sequence over two streams and two groups. */
function randomCommands(seed: number, n: number, base = 0n): (string | number)[][] {
  const rnd = rng(seed);
  const int = (m: number) => Math.floor(rnd() * m);
  const pick = <T>(a: T[]): T => a[int(a.length)];
  const keys = ["s0", "s1"];
  const next = new Map<string, number>([["s0", 1], ["s1", 1]]);
  const key = () => pick(keys);
  // Milliseconds from `base` on: past 2^53 and up to 2^64-1 the IDs take the BigInt paths.
  const ms = (n: number) => String(base + BigInt(n));
  const anyId = (k: string) => `${ms(int((next.get(k) ?? 1) + 2))}-${int(3)}`;
  const bound = (k: string) =>
    pick(["-", "+", anyId(k), `(${anyId(k)}`, ms(int(next.get(k) ?? 1))]);
  const out: (string | number)[][] = [];
  for (let i = 0; i < n; i++) {
    const k = key();
    const what = int(20);
    if (what < 6) {
      const at = next.get(k)! + int(3);
      next.set(k, at);
      const id = pick([`${ms(at)}-*`, `${ms(at)}-${int(3)}`, ms(at), anyId(k)]);
      const cmd: (string | number)[] = ["XADD", k];
      const t = int(6);
      if (t === 0) cmd.push("MAXLEN", pick(["~", "=", "~"]), int(12));
      else if (t === 1) cmd.push("MINID", pick(["~", "="]), anyId(k));
      else if (t === 2) cmd.push("MAXLEN", "~", int(12), "LIMIT", int(8));
      if (int(10) === 0) cmd.push("NOMKSTREAM");
      cmd.push(id);
      const nf = 1 + int(3);
      for (let f = 0; f < nf; f++) {
        const value = int(4) === 0 ? "v".repeat(int(300)) : String(int(100000) - 50000);
        cmd.push(pick(["f", "g", "12", "x"]), value);
      }
      out.push(cmd);
    } else if (what === 6) {
      const ids = [anyId(k), anyId(k)];
      out.push(["XDEL", k, ...ids]);
    } else if (what === 7) {
      out.push(
        pick([
          ["XTRIM", k, "MAXLEN", pick(["~", "=", "~"]), int(10)],
          ["XTRIM", k, "MINID", pick(["~", "="]), anyId(k)],
          ["XTRIM", k, "MAXLEN", "~", int(10), "LIMIT", int(6)],
        ]),
      );
    } else if (what === 8) {
      const cnt = int(4);
      const cmd = [pick(["XRANGE", "XREVRANGE"]), k, bound(k), bound(k)];
      out.push(cnt > 0 ? [...cmd, "COUNT", cnt - 1] : cmd);
    } else if (what === 9) {
      out.push([
        "XGROUP",
        "CREATE",
        k,
        pick(["g1", "g2"]),
        pick(["$", "0", anyId(k)]),
        ...(int(2) ? ["MKSTREAM"] : []),
      ]);
    } else if (what === 10) {
      out.push(["XGROUP", "SETID", k, pick(["g1", "g2"]), pick(["$", "0", anyId(k)])]);
    } else if (what <= 13) {
      const cmd: (string | number)[] = [
        "XREADGROUP",
        "GROUP",
        pick(["g1", "g2"]),
        pick([
          "c1",
          "c2",
          "c3",
        ]),
      ];
      if (int(2)) cmd.push("COUNT", int(4));
      if (int(6) === 0) cmd.push("NOACK");
      cmd.push("STREAMS", k, pick([">", ">", "0", anyId(k)]));
      out.push(cmd);
    } else if (what === 14) {
      out.push(["XACK", k, pick(["g1", "g2"]), anyId(k), anyId(k)]);
    } else if (what === 15) {
      out.push([
        "XCLAIM",
        k,
        pick(["g1", "g2"]),
        pick(["c1", "c2", "c3"]),
        "0",
        anyId(k),
        anyId(k),
        ...(int(2) ? ["JUSTID"] : []),
        ...(int(4) === 0 ? ["FORCE"] : []),
      ]);
    } else if (what === 16) {
      out.push([
        "XAUTOCLAIM",
        k,
        pick(["g1", "g2"]),
        pick(["c1", "c2", "c3"]),
        "0",
        pick(["0", anyId(k), `(${anyId(k)}`]),
        "COUNT",
        1 + int(3),
        ...(int(2) ? ["JUSTID"] : []),
      ]);
    } else if (what === 17) {
      out.push(pick([["XPENDING", k, pick(["g1", "g2"])], ["XINFO", "GROUPS", k], [
        "XREAD",
        "COUNT",
        1 + int(3),
        "STREAMS",
        k,
        anyId(k),
      ]]));
    } else if (what === 18) {
      out.push(["XINFO", "STREAM", k]);
    } else {
      out.push(pick([["XLEN", k], ["XPENDING", k, pick(["g1", "g2"]), "-", "+", 10], [
        "XINFO",
        "CONSUMERS",
        k,
        pick(["g1", "g2"]),
      ]]));
    }
  }
  for (const k of keys) out.push(["XINFO", "STREAM", k], ["XRANGE", k, "-", "+"]);
  return out;
}

/** Drops what depends on the clock: idle times (XPENDING rows, XINFO CONSUMERS). */
function timeless(cmd: (string | number)[], r: Reply): Reply {
  if (!Array.isArray(r)) return r;
  if (cmd[0] === "XPENDING" && cmd.length > 3) {
    return r.map((row) => Array.isArray(row) ? [row[0], row[1], row[3]] : row);
  }
  if (cmd[0] === "XINFO" && cmd[1] === "CONSUMERS") {
    return r.map((m) => Array.isArray(m) ? m.slice(0, 4) : m);
  }
  return r;
}

Deno.test({
  name: "randomized stream commands: tsredis replies equal redis-server's",
  ignore: !hasBinary("redis-server"),
  fn: async () => {
    await withTsredisAndRedis(async (ts, real) => {
      for (let round = 0; round < 6; round++) {
        const seed = (Date.now() + round * 7919) >>> 0;
        // Nodes end by entries, or by bytes (the listpack size Redis computes).
        const maxEntries = String([1, 2, 3, 5, 100, 4][round]);
        const maxBytes = String([4096, 4096, 200, 4096, 120, 700][round]);
        for (const s of [ts, real]) {
          assert.equal(await s.call("FLUSHALL"), "OK");
          assert.equal(await s.call("CONFIG", "SET", "stream-node-max-bytes", maxBytes), "OK");
          assert.equal(
            await s.call("CONFIG", "SET", "stream-node-max-entries", maxEntries),
            "OK",
          );
        }
        // The last rounds use IDs around 2^53 and near 2^64-1.
        const base = [0n, 0n, 0n, 0n, 9007199254740000n, 18446744073709550000n][round];
        for (const cmd of randomCommands(seed, 1500, base)) {
          const want = timeless(cmd, await real.call(...cmd));
          const got = timeless(cmd, await ts.call(...cmd));
          assert.deepEqual(got, want, `seed ${seed}: ${JSON.stringify(cmd)}`);
        }
      }
    });
  },
});

/** Stream commands with arguments drawn from a vocabulary of options, IDs, numbers and junk:
 * mostly error paths, which must answer exactly like Redis and never break the server. */
function junkCommands(seed: number, n: number): (string | number)[][] {
  const rnd = rng(seed);
  const int = (m: number) => Math.floor(rnd() * m);
  const pick = <T>(a: T[]): T => a[int(a.length)];
  const words = [
    "s",
    "s",
    "g",
    "c",
    "*",
    "$",
    ">",
    "-",
    "+",
    "0",
    "1",
    "1-1",
    "2-*",
    "(1",
    "(+",
    "0-0",
    "18446744073709551615-18446744073709551615",
    "18446744073709551616",
    "-1",
    "x",
    "",
    "MAXLEN",
    "MINID",
    "~",
    "=",
    "LIMIT",
    "NOMKSTREAM",
    "COUNT",
    "BLOCK",
    "STREAMS",
    "GROUP",
    "NOACK",
    "IDLE",
    "TIME",
    "RETRYCOUNT",
    "FORCE",
    "JUSTID",
    "LASTID",
    "MKSTREAM",
    "ENTRIESREAD",
    "ENTRIESADDED",
    "MAXDELETEDID",
    "FULL",
    "1.5",
    " 1",
    "01",
    "1-01",
    "9",
  ];
  const cmds = [
    ["XADD"],
    ["XRANGE"],
    ["XREVRANGE"],
    ["XLEN"],
    ["XDEL"],
    ["XTRIM"],
    ["XSETID"],
    ["XREAD"],
    ["XREADGROUP"],
    ["XACK"],
    ["XPENDING"],
    ["XCLAIM"],
    ["XAUTOCLAIM"],
    ["XGROUP", "CREATE"],
    ["XGROUP", "SETID"],
    ["XGROUP", "DESTROY"],
    ["XGROUP", "CREATECONSUMER"],
    ["XGROUP", "DELCONSUMER"],
    ["XGROUP", "HELP"],
    ["XINFO", "STREAM"],
    ["XINFO", "GROUPS"],
    ["XINFO", "CONSUMERS"],
    ["XINFO", "HELP"],
  ];
  const out: (string | number)[][] = [];
  for (let i = 0; i < n; i++) {
    if (int(8) === 0) {
      out.push(["XADD", "s", `${i + 1}-0`, "f", "v"]);
      continue;
    }
    if (int(12) === 0) {
      out.push(["XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"]);
      continue;
    }
    const cmd: (string | number)[] = [...pick(cmds)];
    if (cmd.length === 1 || int(4) > 0) cmd.push("s");
    const extra = int(9);
    for (let j = 0; j < extra; j++) cmd.push(pick(words));
    // BLOCK would wait: keep reads non-blocking.
    const b = cmd.findIndex((a) => a === "BLOCK");
    if (b >= 0) cmd[b] = "COUNT";
    out.push(cmd);
  }
  return out;
}

/** IDs made from the clock ("*") and timestamps differ between two servers: masked. */
function clockIds(r: Reply): Reply {
  if (typeof r === "string") return /^1\d{12}-\d+$/.test(r) ? "<clock-id>" : r;
  if (typeof r === "number") return r > 1e12 ? "<clock>" : r; // delivery and seen times
  if (Array.isArray(r)) return r.map(clockIds);
  return r;
}

Deno.test({
  name: "randomized junk arguments: tsredis errors and replies equal redis-server's",
  ignore: !hasBinary("redis-server"),
  fn: async () => {
    await withTsredisAndRedis(async (ts, real) => {
      for (let round = 0; round < 4; round++) {
        const seed = (Date.now() + round * 104729) >>> 0;
        for (const s of [ts, real]) assert.equal(await s.call("FLUSHALL"), "OK");
        for (const cmd of junkCommands(seed, 3000)) {
          const want = clockIds(timeless(cmd, await real.call(...cmd)));
          const got = clockIds(timeless(cmd, await ts.call(...cmd)));
          assert.deepEqual(got, want, `seed ${seed}: ${JSON.stringify(cmd)}`);
        }
      }
      assert.equal(await ts.call("PING"), "PONG");
    });
  },
});

async function infoField(c: RespClient, field: string): Promise<string> {
  const text = String(await c.call("INFO", "replication"));
  return text.split("\r\n").find((l) => l.startsWith(field + ":"))?.slice(field.length + 1) ?? "";
}

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Masks a group's entries-read and lag: XCLAIM ... LASTID moves a replica's group without its
 * read counter, so Redis's own replicas differ there (checked with TSREDIS_TEST_REAL=1). */
function noReadCounter(r: Reply): Reply {
  if (!Array.isArray(r)) return r;
  const out = r.map(noReadCounter);
  for (let i = 0; i + 1 < out.length; i++) {
    if (out[i] === "entries-read" || out[i] === "lag") out[i + 1] = "<counter>";
  }
  return out;
}

/** Runs stream writes on a master and checks its replica ends with the same streams. */
async function replicaCheck(master: { redis?: boolean }, replica: { redis?: boolean }) {
  const ms = await startServer(master);
  const rs = await startServer(replica);
  const m = await ms.client();
  const r = await rs.client();
  const b = await ms.client();
  try {
    assert.equal(await r.call("REPLICAOF", "127.0.0.1", ms.port), "OK");
    await until("link up", async () => await infoField(r, "master_link_status") === "up");
    await m.call("CONFIG", "SET", "stream-node-max-entries", "3");
    await r.call("CONFIG", "SET", "stream-node-max-entries", "3");
    for (let i = 0; i < 20; i++) await m.call("XADD", "s", "*", "f", String(i));
    await m.call("XADD", "s", "MAXLEN", "~", "10", "*", "f", "x");
    await m.call("XTRIM", "s", "MINID", "~", "0", "LIMIT", "3");
    await m.call("XGROUP", "CREATE", "s", "g", "0");
    await m.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">");
    await m.call("XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "NOACK", "STREAMS", "s", ">");
    await m.call("XREADGROUP", "GROUP", "g", "carol", "COUNT", "2", "STREAMS", "s", ">");
    const pending = await m.call("XPENDING", "s", "g", "-", "+", 10) as Reply[][];
    await m.call("XDEL", "s", pending[1][0] as string);
    await m.call("XCLAIM", "s", "g", "dave", "0", pending[0][0] as string, pending[1][0] as string);
    await m.call("XAUTOCLAIM", "s", "g", "erin", "0", "0", "COUNT", "1");
    await m.call("XACK", "s", "g", pending[2][0] as string);
    await m.call("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", ">"); // the rest
    await b.send("XREADGROUP", "GROUP", "g", "frank", "BLOCK", "0", "STREAMS", "s", ">");
    await waitBlocked(m, 1);
    await m.call("XADD", "s", "*", "f", "late");
    await b.read();
    await m.call("XGROUP", "CREATE", "s", "g2", "$");
    await m.call("XGROUP", "CREATECONSUMER", "s", "g2", "zed");
    await m.call("XSETID", "s", "99999999999999-0", "ENTRIESADDED", "100");
    await until(
      "replica offset",
      async () =>
        await infoField(r, "slave_repl_offset") === await infoField(m, "master_repl_offset"),
    );
    for (
      const cmd of [
        ["XRANGE", "s", "-", "+"],
        ["XINFO", "STREAM", "s"],
        ["XINFO", "STREAM", "s", "FULL"],
        ["XINFO", "GROUPS", "s"],
        ["XPENDING", "s", "g"],
        ["XPENDING", "s", "g", "-", "+", 100],
      ]
    ) {
      assert.deepEqual(
        noReadCounter(clockIds(timeless(cmd, await r.call(...cmd)))),
        noReadCounter(clockIds(timeless(cmd, await m.call(...cmd)))),
        cmd.join(" "),
      );
    }
  } finally {
    for (const c of [m, r, b]) c.close();
    await rs.stop();
    await ms.stop();
  }
}

Deno.test("replication: a replica ends with the master's streams, groups and PELs", async () => {
  await replicaCheck(OPTS, OPTS);
});

Deno.test({
  name: "replication: a redis-server replica of tsredis applies the propagated stream commands",
  ignore: !hasBinary("redis-server"),
  fn: () => replicaCheck({}, { redis: true }),
});

Deno.test({
  name: "randomized: what tsredis propagates leaves a redis-server replica as redis-server's does",
  ignore: !hasBinary("redis-server"),
  fn: async () => {
    // tsredis -> redis-server replica, and redis-server -> redis-server replica, fed alike: the
    // two replicas must end equal (a replica may differ from its master: history reads are not
    // propagated, XCLAIM ... LASTID leaves the group's read counter).
    const servers: ServerProcess[] = [];
    const clients: RespClient[] = [];
    try {
      for (const opts of [{}, { redis: true }, { redis: true }, { redis: true }]) {
        const sp = await startServer(opts);
        servers.push(sp);
        clients.push(await sp.client());
      }
      const [m1, m2, r1, r2] = clients;
      for (const [r, m] of [[r1, servers[0]], [r2, servers[1]]] as [RespClient, ServerProcess][]) {
        assert.equal(await r.call("REPLICAOF", "127.0.0.1", m.port), "OK");
        await until("link up", async () => await infoField(r, "master_link_status") === "up");
      }
      for (let round = 0; round < 3; round++) {
        const seed = (Date.now() + round * 15485863) >>> 0;
        const maxEntries = String([2, 3, 100][round]);
        for (const c of clients) {
          if (c === m1 || c === m2) await c.call("FLUSHALL");
          await c.call("CONFIG", "SET", "stream-node-max-entries", maxEntries);
        }
        for (const cmd of randomCommands(seed, 1500)) {
          await m1.call(...cmd);
          await m2.call(...cmd);
        }
        for (const [m, r] of [[m1, r1], [m2, r2]]) {
          await until(
            "replica offset",
            async () =>
              await infoField(r, "slave_repl_offset") === await infoField(m, "master_repl_offset"),
          );
        }
        for (const k of ["s0", "s1"]) {
          const checks: (string | number)[][] = [
            ["XRANGE", k, "-", "+"],
            ["XINFO", "STREAM", k],
            ["XINFO", "GROUPS", k],
          ];
          for (const g of ["g1", "g2"]) {
            checks.push(["XPENDING", k, g], ["XPENDING", k, g, "-", "+", 1000]);
            checks.push(["XINFO", "CONSUMERS", k, g]);
          }
          for (const cmd of checks) {
            assert.deepEqual(
              clockIds(timeless(cmd, await r1.call(...cmd))),
              clockIds(timeless(cmd, await r2.call(...cmd))),
              `seed ${seed}: ${cmd.join(" ")}`,
            );
          }
        }
      }
    } finally {
      for (const c of clients) c.close();
      for (const s of servers.reverse()) await s.stop();
    }
  },
});

Deno.test("cluster mode: stream commands are routed by their keys (STREAMS, XGROUP, XINFO)", async () => {
  await withServer(async (c) => {
    await c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
    await until(
      "cluster ok",
      async () => String(await c.call("CLUSTER", "INFO")).includes("cluster_state:ok"),
    );
    const CROSSSLOT = E("CROSSSLOT Keys in request don't hash to the same slot");
    await check(c, [
      [["XADD", "{t}a", "1-0", "f", "v"], "1-0"],
      [["XADD", "{t}b", "1-0", "f", "v"], "1-0"],
      [["XREAD", "STREAMS", "{t}a", "{t}b", "0", "0"], [
        ["{t}a", [["1-0", ["f", "v"]]]],
        ["{t}b", [["1-0", ["f", "v"]]]],
      ]],
      [["XREAD", "STREAMS", "a", "b", "0", "0"], CROSSSLOT],
      [["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">"], CROSSSLOT],
      [["XGROUP", "CREATE", "{t}a", "g", "0"], "OK"],
      [["XINFO", "GROUPS", "{t}a"], [[
        "name",
        "g",
        "consumers",
        0,
        "pending",
        0,
        "last-delivered-id",
        "0-0",
        "entries-read",
        null,
        "lag",
        1,
      ]]],
    ]);
  }, { ...OPTS, args: ["--cluster-enabled", "yes"] });
});
