// Bit commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO) over a real socket
// against a tsredis process: replies and error texts checked against redis-server 7.0.15,
// growth and zero padding, negative and BIT/BYTE ranges, overflow modes, WRONGTYPE, dirty
// counting, keyspace events, WATCH, propagation (in-process), and a randomized comparison with
// a real redis-server when one is installed.
import assert from "node:assert/strict";
import { hasBinary, type RespClient, rng, withServer, withTsredisAndRedis } from "../helpers.ts";
import { check, E, OPTS, propagated } from "../command_checks.ts";

const WRONGTYPE = E("WRONGTYPE Operation against a key holding the wrong kind of value");
const SYNTAX = E("ERR syntax error");
const NOT_INT = E("ERR value is not an integer or out of range");
const BAD_OFFSET = E("ERR bit offset is not an integer or out of range");
const BAD_BIT = E("ERR bit is not an integer or out of range");
const BAD_TYPE = E(
  "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
);

Deno.test("SETBIT/GETBIT: replies, growth with zero padding, errors, WRONGTYPE", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["SETBIT", "k", "1", "1"], 0],
      [["GET", "k"], "\x40"],
      [["SETBIT", "k", "1", "1"], 1],
      [["SETBIT", "k", "1", "0"], 1],
      [["SETBIT", "k", "23", "1"], 0],
      [["GET", "k"], "\x00\x00\x01"],
      [["STRLEN", "k"], 3],
      [["GETBIT", "k", "23"], 1],
      [["GETBIT", "k", "22"], 0],
      [["GETBIT", "k", "24"], 0],
      [["GETBIT", "k", "100000"], 0],
      [["GETBIT", "nokey", "0"], 0],
      [["SETBIT", "z", "0", "0"], 0], // a new key is created even when the bit stays 0
      [["GET", "z"], "\x00"],
      [["SET", "n", "1"], "OK"], // "1" is 0x31: 00110001
      [["GETBIT", "n", "2"], 1],
      [["GETBIT", "n", "7"], 1],
      [["SETBIT", "n", "6", "1"], 0],
      [["GET", "n"], "3"],
      [["OBJECT", "ENCODING", "n"], "raw"],
      [["SETBIT", "k", "-1", "1"], BAD_OFFSET],
      [["SETBIT", "k", "abc", "1"], BAD_OFFSET],
      [["SETBIT", "k", "1.5", "1"], BAD_OFFSET],
      [["SETBIT", "k", "4294967296", "1"], BAD_OFFSET],
      [["SETBIT", "k", "99999999999999999999", "1"], BAD_OFFSET],
      [["SETBIT", "k", "#1", "1"], BAD_OFFSET],
      [["GETBIT", "k", "-1"], BAD_OFFSET],
      [["GETBIT", "nokey", "4294967296"], BAD_OFFSET],
      [["SETBIT", "k", "0", "2"], BAD_BIT],
      [["SETBIT", "k", "0", "-1"], BAD_BIT],
      [["SETBIT", "k", "0", "x"], BAD_BIT],
      [["SETBIT", "k", "-1", "x"], BAD_OFFSET], // the offset is checked first
      [["LPUSH", "l", "a"], 1],
      [["SETBIT", "l", "0", "1"], WRONGTYPE],
      [["GETBIT", "l", "0"], WRONGTYPE],
      [["GETBIT", "l", "-1"], BAD_OFFSET],
      [["SETBIT", "k"], E("ERR wrong number of arguments for 'setbit' command")],
      [["GETBIT", "k", "1", "2"], E("ERR wrong number of arguments for 'getbit' command")],
      // The offset limit follows proto-max-bulk-len (in bytes).
      [["CONFIG", "SET", "proto-max-bulk-len", "1mb"], "OK"],
      [["SETBIT", "big", String(8 * 1024 * 1024), "1"], BAD_OFFSET],
      [["GETBIT", "big", String(8 * 1024 * 1024)], BAD_OFFSET],
      [["SETBIT", "big", String(8 * 1024 * 1024 - 1), "1"], 0],
      [["STRLEN", "big"], 1024 * 1024],
      [["GETBIT", "big", String(8 * 1024 * 1024 - 1)], 1],
      [["BITCOUNT", "big"], 1],
    ]);
    // SETBIT keeps the TTL.
    await check(c, [
      [["SET", "t", "a"], "OK"],
      [["EXPIRE", "t", "100"], 1],
      [["SETBIT", "t", "7", "0"], 1],
      [["TTL", "t"], 100],
      [["GET", "t"], "`"],
    ]);
  }, OPTS);
});

Deno.test("BITCOUNT: BYTE and BIT ranges, negative indexes, errors", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["BITCOUNT", "nokey"], 0],
      [["BITCOUNT", "nokey", "0", "1000", "bit"], 0],
      [["BITCOUNT", "nokey", "a", "b"], 0], // a missing key answers before parsing
      [["BITCOUNT", "nokey", "0"], 0],
      [["SET", "s", "foobar"], "OK"],
      [["BITCOUNT", "s"], 26],
      [["BITCOUNT", "s", "0", "0"], 4],
      [["BITCOUNT", "s", "1", "1"], 6],
      [["BITCOUNT", "s", "1", "-2"], 18],
      [["BITCOUNT", "s", "-2", "1"], 0],
      [["BITCOUNT", "s", "0", "1000"], 26],
      [["BITCOUNT", "s", "-100", "-1"], 26],
      [["BITCOUNT", "s", "-1", "-2"], 0],
      [["BITCOUNT", "s", "5", "30"], 4],
      [["BITCOUNT", "s", "0", "-1", "BIT"], 26],
      [["BITCOUNT", "s", "5", "30", "bit"], 17],
      [["BITCOUNT", "s", "10", "14", "bit"], 4],
      [["BITCOUNT", "s", "3", "29", "BiT"], 16],
      [["BITCOUNT", "s", "10", "-34", "bit"], 4],
      [["BITCOUNT", "s", "-6", "-15", "bit"], 0],
      [["BITCOUNT", "s", "-2", "1", "bit"], 0],
      [["BITCOUNT", "s", "0", "1000", "bit"], 26],
      [["BITCOUNT", "s", "1", "1", "byte"], 6],
      [["BITCOUNT", "s", "7", "7", "bit"], 0],
      [["BITCOUNT", "s", "1", "1", "bit"], 1],
      [["BITCOUNT", "s", "-9223372036854775807", "-9223372036854775808"], 0],
      [["BITCOUNT", "s", "-9223372036854775808", "9223372036854775807", "bit"], 26],
      [["BITCOUNT", "s", "0"], SYNTAX],
      [["BITCOUNT", "s", "0", "1", "hello"], SYNTAX],
      [["BITCOUNT", "s", "0", "1", "bit", "x"], SYNTAX],
      [["BITCOUNT", "s", "a", "1"], NOT_INT],
      [["BITCOUNT", "s", "0", "9223372036854775808"], NOT_INT],
      [["BITCOUNT", "s", "-1", "-2", "hello"], 0], // Redis returns before reading BIT|BYTE
      [["SET", "e", ""], "OK"],
      [["BITCOUNT", "e"], 0],
      [["BITCOUNT", "e", "0", "-1", "bit"], 0],
      [["SET", "i", "123"], "OK"],
      [["BITCOUNT", "i"], 10],
      [["LPUSH", "l", "a"], 1],
      [["BITCOUNT", "l"], WRONGTYPE],
      [["BITCOUNT", "l", "x", "y"], WRONGTYPE],
      [["BITCOUNT"], E("ERR wrong number of arguments for 'bitcount' command")],
    ]);
  }, OPTS);
});

Deno.test("BITPOS: intervals, BIT ranges, end given vs not, errors", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["BITPOS", "nokey", "0"], 0],
      [["BITPOS", "nokey", "1"], -1],
      [["BITPOS", "nokey", "1", "a", "b", "c"], -1],
      [["BITPOS", "nokey", "2"], E("ERR The bit argument must be 1 or 0.")],
      [["BITPOS", "nokey", "x"], NOT_INT],
      [["SET", "s", "\xff\xf0\x00"], "OK"],
      [["BITPOS", "s", "0"], 12],
      [["BITPOS", "s", "0", "1"], 12],
      [["BITPOS", "s", "0", "0", "-1", "bit"], 12],
      [["BITPOS", "s", "1", "2"], -1],
      [["BITPOS", "s", "1", "-1"], -1],
      [["BITPOS", "s", "1", "-2"], 8],
      [["BITPOS", "s", "1", "9", "-1", "bit"], 9],
      [["BITPOS", "s", "1", "12", "-1", "bit"], -1],
      [["BITPOS", "s", "0", "3", "5", "bit"], -1],
      [["BITPOS", "s", "0", "3", "12", "bit"], 12],
      [["SET", "s", "\xff\xff\xff"], "OK"],
      [["BITPOS", "s", "0"], 24], // no end: the right side is zero padded
      [["BITPOS", "s", "0", "0"], 24],
      [["BITPOS", "s", "0", "0", "-1"], -1], // explicit end: no padding
      [["BITPOS", "s", "0", "0", "-1", "bit"], -1],
      [["BITPOS", "s", "0", "5"], -1], // empty range
      [["SET", "s", "\x00\xff\x00"], "OK"],
      [["BITPOS", "s", "0", "1", "1"], -1],
      [["BITPOS", "s", "0", "2", "200"], 16],
      [["BITPOS", "s", "1", "1", "1"], 8],
      [["BITPOS", "s", "1", "16", "200", "bit"], -1],
      [["BITPOS", "s", "1", "8", "8", "bit"], 8],
      [["BITPOS", "s", "1", "-9223372036854775808", "9223372036854775807", "bit"], 8],
      [["BITPOS", "s", "1", "0", "-1", "foo"], SYNTAX],
      [["BITPOS", "s", "1", "0", "-1", "bit", "x"], SYNTAX],
      [["BITPOS", "s", "1", "x"], NOT_INT],
      [["BITPOS", "s", "1", "0", "x"], NOT_INT],
      [["BITPOS", "s", "1", "x", "0", "foo"], NOT_INT], // start before the option
      [["BITPOS", "s", "1", "0", "x", "foo"], SYNTAX], // the option before end
      [["SET", "e", ""], "OK"],
      [["BITPOS", "e", "0"], -1],
      [["BITPOS", "e", "1"], -1],
      [["LPUSH", "l", "a"], 1],
      [["BITPOS", "l", "1"], WRONGTYPE],
      [["BITPOS", "l", "3"], E("ERR The bit argument must be 1 or 0.")],
    ]);
  }, OPTS);
});

Deno.test("BITOP: AND/OR/XOR/NOT, zero padding, missing keys, delete, TTL, errors", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["SET", "a", "\x01\x02\xff\xff"], "OK"],
      [["SET", "b", "\x01\x02\xff"], "OK"],
      [["BITOP", "AND", "r", "a", "b"], 4],
      [["GET", "r"], "\x01\x02\xff\x00"],
      [["BITOP", "or", "r", "a", "b"], 4],
      [["GET", "r"], "\x01\x02\xff\xff"],
      [["BITOP", "Xor", "r", "a", "b"], 4],
      [["GET", "r"], "\x00\x00\x00\xff"],
      [["BITOP", "NOT", "r", "b"], 3],
      [["GET", "r"], "\xfe\xfd\x00"],
      [["BITOP", "and", "r", "nokey", "a"], 4],
      [["GET", "r"], "\x00\x00\x00\x00"],
      [["BITOP", "xor", "r", "nokey", "b", "a", "b"], 4],
      [["GET", "r"], "\x01\x02\xff\xff"],
      [["SET", "x", "1"], "OK"],
      [["SET", "y", "2"], "OK"],
      [["BITOP", "xor", "r", "x", "y", "x"], 1],
      [["GET", "r"], "2"],
      [["BITOP", "not", "a", "a"], 4],
      [["GET", "a"], "\xfe\xfd\x00\x00"],
      [["EXPIRE", "r", "100"], 1],
      [["BITOP", "or", "r", "a"], 4],
      [["TTL", "r"], -1], // the destination is replaced, its TTL dropped
      [["BITOP", "or", "r", "nokey", "nokey2"], 0],
      [["EXISTS", "r"], 0], // all sources empty: the destination is deleted
      [["SET", "e", ""], "OK"],
      [["BITOP", "not", "r", "e"], 0],
      [["EXISTS", "r"], 0],
      [
        ["BITOP", "NOT", "r", "a", "b"],
        E("ERR BITOP NOT must be called with a single source key."),
      ],
      [["BITOP", "nand", "r", "a"], SYNTAX],
      [["LPUSH", "l", "v"], 1],
      [["BITOP", "or", "r", "a", "l", "nokey"], WRONGTYPE],
      [["BITOP", "or", "l", "a"], 4], // the destination may hold any type
      [["TYPE", "l"], "string"],
      [["BITOP", "or", "r"], E("ERR wrong number of arguments for 'bitop' command")],
    ]);
    const big = "\xaa".repeat(1000);
    await c.call("SET", "big", big);
    assert.equal(await c.call("BITOP", "NOT", "nb", "big"), 1000);
    assert.equal(await c.call("GET", "nb"), "\x55".repeat(1000));
    assert.equal(await c.call("BITCOUNT", "nb"), 4000);
  }, OPTS);
});

Deno.test("BITFIELD: GET/SET/INCRBY, signed and unsigned, #N offsets, errors", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["BITFIELD", "bits", "SET", "i8", "0", "-100"], [0]],
      [["BITFIELD", "bits", "set", "i8", "0", "101"], [-100]],
      [["BITFIELD", "bits", "get", "i8", "0"], [101]],
      [["DEL", "bits"], 1],
      [["BITFIELD", "bits", "set", "i8", "0", "255", "set", "i8", "0", "100", "get", "i8", "0"], [
        0,
        -1,
        100,
      ]],
      [["DEL", "bits"], 1],
      [
        ["BITFIELD", "bits", "set", "u8", "0", "255", "incrby", "u8", "0", "100", "get", "u8", "0"],
        [
          0,
          99,
          99,
        ],
      ],
      [["BITFIELD", "bits"], []],
      [["BITFIELD", "nokey"], []],
      [["BITFIELD", "nokey", "get", "u8", "0"], [0]],
      [["EXISTS", "nokey"], 0], // GET-only BITFIELD does not create the key
      [["DEL", "bits"], 1],
      [[
        "BITFIELD",
        "bits",
        "set",
        "u8",
        "#0",
        "65",
        "set",
        "u8",
        "#1",
        "66",
        "set",
        "u8",
        "#2",
        "67",
      ], [
        0,
        0,
        0,
      ]],
      [["GET", "bits"], "ABC"],
      [["BITFIELD", "bits", "get", "u4", "#1", "get", "u4", "#3", "get", "i4", "4"], [1, 2, 1]],
      // Unaligned fields across byte boundaries.
      [["DEL", "bits"], 1],
      [["BITFIELD", "bits", "set", "u5", "7", "23"], [0]],
      [["GET", "bits"], "\x01\x70"],
      [["BITFIELD", "bits", "get", "u5", "7", "get", "i5", "7", "get", "u63", "0"], [
        23,
        -9,
        51791395714760704,
      ]],
      [["BITFIELD", "bits", "set", "i64", "3", "-1", "get", "i64", "3", "get", "u8", "64"], [
        828662331436171264,
        -1,
        224,
      ]],
      [["STRLEN", "bits"], 9],
      // Errors: the first bad operation wins, nothing is executed.
      [["BITFIELD", "bits", "get", "u64", "0"], BAD_TYPE],
      [["BITFIELD", "bits", "get", "i65", "0"], BAD_TYPE],
      [["BITFIELD", "bits", "get", "i0", "0"], BAD_TYPE],
      [["BITFIELD", "bits", "get", "I8", "0"], BAD_TYPE],
      [["BITFIELD", "bits", "get", "x8", "0"], BAD_TYPE],
      [["BITFIELD", "bits", "get", "u08", "0"], BAD_TYPE],
      [["BITFIELD", "bits", "get", "u8", "-1"], BAD_OFFSET],
      [["BITFIELD", "bits", "get", "u8", "#-1"], BAD_OFFSET],
      [["BITFIELD", "bits", "get", "u8", "#"], BAD_OFFSET],
      [["BITFIELD", "bits", "get", "u8", "4294967296"], BAD_OFFSET],
      [["BITFIELD", "bits", "get", "u8", "#536870912"], BAD_OFFSET],
      [["BITFIELD", "bits", "set", "u8", "0", "x"], NOT_INT],
      [["BITFIELD", "bits", "set", "u8", "0"], SYNTAX],
      [["BITFIELD", "bits", "get", "u8"], SYNTAX],
      [["BITFIELD", "bits", "foo", "u8", "0"], SYNTAX],
      [["BITFIELD", "bits", "overflow"], SYNTAX],
      [
        ["BITFIELD", "bits", "overflow", "foo", "get", "u8", "0"],
        E(
          "ERR Invalid OVERFLOW type specified",
        ),
      ],
      [["BITFIELD", "bits", "set", "u8", "0", "1", "get", "u64", "0"], BAD_TYPE],
      [["BITFIELD", "bits", "get", "u8", "0"], [31]], // the failed command above changed nothing
      [["LPUSH", "l", "a"], 1],
      [["BITFIELD", "l", "get", "u8", "0"], WRONGTYPE],
      [["BITFIELD", "l"], WRONGTYPE],
      [["BITFIELD", "l", "set", "u8", "0", "1"], WRONGTYPE],
      [["BITFIELD", "l", "get", "u64", "0"], BAD_TYPE], // arguments are checked before the key
      [["BITFIELD"], E("ERR wrong number of arguments for 'bitfield' command")],
    ]);
  }, OPTS);
});

Deno.test("BITFIELD overflow: WRAP, SAT, FAIL (nulls in RESP2 and RESP3)", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["BITFIELD", "b", "set", "u8", "#0", "100"], [0]],
      [["BITFIELD", "b", "overflow", "wrap", "incrby", "u8", "#0", "257"], [101]],
      [["BITFIELD", "b", "overflow", "wrap", "incrby", "u8", "#0", "255"], [100]],
      [["BITFIELD", "b", "overflow", "sat", "incrby", "u8", "#0", "257"], [255]],
      [["BITFIELD", "b", "overflow", "sat", "incrby", "u8", "#0", "-256"], [0]],
      [["BITFIELD", "b", "set", "i8", "#0", "100"], [0]],
      [["BITFIELD", "b", "overflow", "wrap", "incrby", "i8", "#0", "257"], [101]],
      [["BITFIELD", "b", "incrby", "i8", "#0", "255"], [100]],
      [["BITFIELD", "b", "overflow", "SAT", "incrby", "i8", "#0", "257"], [127]],
      [["BITFIELD", "b", "overflow", "sat", "incrby", "i8", "#0", "-255"], [-128]],
      [["BITFIELD", "b", "overflow", "fail", "incrby", "i8", "#0", "-1"], [null]],
      [["BITFIELD", "b", "get", "i8", "#0"], [-128]],
      [["BITFIELD", "b", "overflow", "fail", "set", "u2", "0", "4", "set", "u2", "0", "3"], [
        null,
        2,
      ]],
      [["BITFIELD", "b", "overflow", "sat", "set", "u8", "0", "-1", "get", "u8", "0"], [192, 255]],
      [["BITFIELD", "b", "overflow", "wrap", "set", "u8", "0", "-1", "get", "u8", "0"], [255, 255]],
      [["BITFIELD", "b", "overflow", "sat", "set", "i8", "0", "-9223372036854775808"], [-1]],
      [["BITFIELD", "b", "get", "i8", "0"], [127]], // Redis's int64 wrap in its overflow check
      [["BITFIELD", "b", "overflow", "sat", "set", "i8", "0", "1000"], [127]],
      [["BITFIELD", "b", "overflow", "wrap", "set", "i8", "0", "1000", "get", "i8", "0"], [
        127,
        -24,
      ]],
      [["BITFIELD", "b", "overflow", "fail", "incrby", "u63", "0", "-9223372036854775808"], [null]],
      // OVERFLOW applies to the operations after it only.
      [["BITFIELD", "c", "incrby", "u2", "0", "5", "overflow", "fail", "incrby", "u2", "0", "5"], [
        1,
        null,
      ]],
      // A new key is created (zero filled) even when every write fails.
      [["BITFIELD", "n", "overflow", "fail", "set", "u2", "8", "8"], [null]],
      [["GET", "n"], "\x00\x00"],
    ]);
    await c.call("HELLO", "3");
    await c.writeRaw(
      "*8\r\n$8\r\nBITFIELD\r\n$1\r\nz\r\n$8\r\nOVERFLOW\r\n$4\r\nFAIL\r\n" +
        "$3\r\nSET\r\n$2\r\nu2\r\n$1\r\n0\r\n$1\r\n9\r\n",
    );
    assert.equal(await c.readRaw(300), "*1\r\n_\r\n");
    await c.call("HELLO", "2");
    await c.writeRaw(
      "*8\r\n$8\r\nBITFIELD\r\n$1\r\nz\r\n$8\r\nOVERFLOW\r\n$4\r\nFAIL\r\n" +
        "$3\r\nSET\r\n$2\r\nu2\r\n$1\r\n0\r\n$1\r\n9\r\n",
    );
    assert.equal(await c.readRaw(300), "*1\r\n$-1\r\n");
  }, OPTS);
});

Deno.test("BITFIELD_RO: GET only, empty, errors", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["BITFIELD", "b", "set", "u8", "0", "200"], [0]],
      [["BITFIELD_RO", "b", "get", "u8", "0", "get", "i8", "0", "get", "u4", "#1"], [200, -56, 8]],
      [["BITFIELD_RO", "b"], []],
      [["BITFIELD_RO", "nokey", "get", "i16", "100"], [0]],
      [
        ["BITFIELD_RO", "b", "set", "u8", "0", "100", "get", "u8", "0"],
        E(
          "ERR BITFIELD_RO only supports the GET subcommand",
        ),
      ],
      [
        ["BITFIELD_RO", "b", "incrby", "u8", "0", "1"],
        E(
          "ERR BITFIELD_RO only supports the GET subcommand",
        ),
      ],
      [["BITFIELD_RO", "b", "overflow", "sat", "get", "u8", "0"], [200]],
      [["BITFIELD_RO", "b", "get", "u64", "0"], BAD_TYPE],
      [["BITFIELD_RO", "b", "set", "u64", "0", "1"], BAD_TYPE],
      [["LPUSH", "l", "a"], 1],
      [["BITFIELD_RO", "l", "get", "u8", "0"], WRONGTYPE],
      [
        ["BITFIELD_RO", "l", "set", "u8", "0", "1"],
        E(
          "ERR BITFIELD_RO only supports the GET subcommand",
        ),
      ],
      [["GET", "b"], "\xc8"],
    ]);
  }, OPTS);
});

/** INFO persistence's rdb_changes_since_last_save. */
async function dirty(c: RespClient): Promise<number> {
  const info = await c.call("INFO", "persistence") as string;
  return Number(/rdb_changes_since_last_save:(\d+)/.exec(info)![1]);
}

Deno.test("SETBIT/BITFIELD count dirty only for real changes; keyspace events", async () => {
  await withServer(async (c, s) => {
    const d0 = await dirty(c);
    await c.call("SETBIT", "foo", "0", "0");
    await c.call("BITFIELD", "foo2", "SET", "i5", "0", "0");
    assert.equal(await dirty(c), d0 + 2); // new keys
    await c.call("SETBIT", "foo", "0", "0");
    await c.call("BITFIELD", "foo2", "SET", "i5", "0", "0");
    assert.equal(await dirty(c), d0 + 2); // no change
    for (const v of ["1", "1", "0", "0"]) {
      await c.call("SETBIT", "foo", "0", v);
      await c.call("BITFIELD", "foo2", "SET", "i5", "0", v);
    }
    assert.equal(await dirty(c), d0 + 6);
    await c.call("BITFIELD", "foo3", "INCRBY", "i5", "0", "1", "INCRBY", "i5", "0", "1");
    assert.equal(await dirty(c), d0 + 8);
    await c.call("SETBIT", "foo", "90", "0"); // only the length changes
    await c.call("BITFIELD", "foo2", "SET", "i5", "90", "0");
    assert.equal(await dirty(c), d0 + 10);
    await c.call("BITFIELD", "foo2", "GET", "i5", "90");
    await c.call("BITOP", "NOT", "foo4", "nokey");
    assert.equal(await dirty(c), d0 + 10);

    await c.call("CONFIG", "SET", "notify-keyspace-events", "KE$gnm");
    const sub = await s.client();
    await sub.call("PSUBSCRIBE", "__keyevent@0__:*");
    const cmds: string[][] = [
      ["SETBIT", "k", "3", "1"],
      ["SETBIT", "k", "3", "1"], // no change, no event
      ["BITFIELD", "k", "INCRBY", "u4", "0", "1"],
      ["BITFIELD", "k", "SET", "u4", "0", "2"], // no change, no event
      ["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u4", "0", "100"],
      ["BITOP", "OR", "dest", "k"],
      ["BITOP", "OR", "dest", "nokey"],
      ["BITFIELD_RO", "k", "GET", "u4", "0"],
    ];
    for (const cmd of cmds) await c.call(...cmd);
    const events: string[] = [];
    for (let i = 0; i < 7; i++) {
      const m = await sub.read() as string[];
      events.push(`${m[2].split(":")[1]} ${m[3]}`);
    }
    assert.deepEqual(events, [
      "new k",
      "setbit k",
      "setbit k",
      "new dest",
      "set dest",
      "keymiss nokey",
      "del dest",
    ]);
    sub.close();
  }, OPTS);
});

Deno.test("WATCH: only real changes of SETBIT/BITFIELD abort EXEC", async () => {
  await withServer(async (c, s) => {
    const o = await s.client();
    await o.call("SET", "w", "\x80");
    const survives = async (cmd: string[]) => {
      assert.equal(await c.call("WATCH", "w"), "OK");
      await o.call(...cmd);
      await c.call("MULTI");
      await c.call("PING");
      return (await c.call("EXEC")) !== null;
    };
    assert.equal(await survives(["SETBIT", "w", "0", "1"]), true);
    assert.equal(await survives(["BITFIELD", "w", "SET", "u1", "0", "1"]), true);
    assert.equal(await survives(["BITFIELD", "w", "GET", "u8", "0"]), true);
    assert.equal(await survives(["SETBIT", "w", "1", "1"]), false);
    assert.equal(await survives(["BITFIELD", "w", "INCRBY", "u8", "0", "1"]), false);
    assert.equal(await survives(["BITOP", "NOT", "w", "w"]), false);
    o.close();
  }, OPTS);
});

/** Executes commands on an in-process server and returns what was propagated per command. */

Deno.test("propagation: verbatim, and only when something changed", () => {
  const res = propagated([
    ["SETBIT", "k", "7", "1"],
    ["SETBIT", "k", "7", "1"],
    ["SETBIT", "k", "7", "0"],
    ["GETBIT", "k", "7"],
    ["BITFIELD", "k", "SET", "u8", "0", "0"],
    ["BITFIELD", "k", "SET", "u8", "0", "5", "GET", "u8", "0"],
    ["BITFIELD", "k", "GET", "u8", "0"],
    ["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"],
    ["BITOP", "AND", "d", "k", "k"],
    ["BITOP", "AND", "d", "none"],
    ["BITOP", "AND", "d", "none"],
    ["BITCOUNT", "k"],
  ]);
  assert.deepEqual(res, [
    [["SETBIT", "k", "7", "1"]],
    [],
    [["SETBIT", "k", "7", "0"]],
    [],
    [],
    [["BITFIELD", "k", "SET", "u8", "0", "5", "GET", "u8", "0"]],
    [],
    [],
    [["BITOP", "AND", "d", "k", "k"]],
    [["BITOP", "AND", "d", "none"]], // deleted the destination
    [],
    [],
  ]);
});

/** Random bit commands over a few keys, with valid and invalid arguments. */
function randomCommands(seed: number, n: number): string[][] {
  const r = rng(seed);
  const int = (k: number) => Math.floor(r() * k);
  const pick = <T>(a: T[]): T => a[int(a.length)];
  const keys = ["k0", "k1", "k2", "k3", "nokey", "list"];
  const key = () => pick(keys);
  const bytes = (max: number) => {
    let s = "";
    const len = int(max + 1);
    const style = int(3);
    for (let i = 0; i < len; i++) {
      s += String.fromCharCode(
        style === 0 ? int(256) : style === 1 ? pick([0, 255]) : 48 + int(10),
      );
    }
    return s;
  };
  const idx = () =>
    pick([
      () => String(int(40) - 20),
      () => String(int(400) - 200),
      () => pick(["0", "-1", "9223372036854775807", "-9223372036854775808", "x", "1.5"]),
    ])();
  const unit = () => pick(["BIT", "BYTE", "bit", "byte", "bits"]);
  /** Appends 0-2 range indexes, sometimes a unit and sometimes an extra argument. */
  const withRange = (a: string[]) => {
    const m = int(5);
    if (m >= 1) a.push(idx());
    if (m >= 2) a.push(idx());
    if (m >= 3) a.push(unit());
    if (m === 4 && int(3) === 0) a.push("x");
    return a;
  };
  const offset = () =>
    pick([
      () => String(int(300)),
      () => String(int(300)),
      () =>
        pick(["-1", "abc", "8388608", "8388607", "8388600", "#3", "#1048575", String(int(2000))]),
    ])();
  const type = () =>
    pick([
      () => (r() < 0.5 ? "i" : "u") + (1 + int(64)),
      () => pick(["i64", "u63", "u64", "i0", "x8", "U8", "i8", "u1"]),
    ])();
  const value = () =>
    pick([
      () => String(int(600) - 300),
      () => String(Math.floor((r() - 0.5) * 2 ** 53)),
      () =>
        pick([
          "9223372036854775807",
          "-9223372036854775808",
          "9223372036854775808",
          "4294967296",
          "-1",
          "0",
          "nan",
        ]),
    ])();
  const out: string[][] = [["RPUSH", "list", "a"]];
  for (let i = 0; i < n; i++) {
    switch (int(12)) {
      case 0:
        out.push(["SET", pick(["k0", "k1", "k2", "k3"]), bytes(int(2) ? 12 : 60)]);
        break;
      case 1:
      case 2:
        out.push(["SETBIT", key(), offset(), pick(["0", "1", "1", "2", "-1", "x"])]);
        break;
      case 3:
        out.push(["GETBIT", key(), offset()]);
        break;
      case 4:
        out.push(withRange(["BITCOUNT", key()]));
        break;
      case 5:
        out.push(withRange(["BITPOS", key(), pick(["0", "1", "1", "0", "2", "x"])]));
        break;
      case 6: {
        const op = pick(["AND", "OR", "XOR", "NOT", "and", "nand"]);
        const a = ["BITOP", op, pick(["k0", "k1", "k2", "k3", "list"])];
        const m = op === "NOT" && int(4) > 0 ? 1 : 1 + int(4);
        for (let j = 0; j < m; j++) a.push(key());
        out.push(a);
        break;
      }
      case 7:
      case 8:
      case 9: {
        const ro = int(6) === 0;
        const a = [ro ? "BITFIELD_RO" : "BITFIELD", key()];
        const m = int(4);
        for (let j = 0; j < m; j++) {
          const what = int(10);
          if (what < 3) a.push("GET", type(), offset());
          else if (what < 5 && !ro) a.push("SET", type(), offset(), value());
          else if (what < 8 && !ro) a.push("INCRBY", type(), offset(), value());
          else if (what < 9) a.push("OVERFLOW", pick(["WRAP", "SAT", "FAIL", "fail", "sat", "x"]));
          else a.push(pick(["GET", "SET", "foo"]));
        }
        out.push(a);
        break;
      }
      case 10:
        out.push(["GET", pick(["k0", "k1", "k2", "k3"])]);
        break;
      default:
        out.push(int(3) === 0 ? ["DEL", key()] : ["STRLEN", key()]);
    }
  }
  for (const k of keys) out.push(["GET", k]);
  return out;
}

Deno.test({
  name: "randomized bit commands: tsredis replies equal redis-server's",
  ignore: !hasBinary("redis-server"),
  fn: async () => {
    await withTsredisAndRedis(async (ts, real) => {
      for (const s of [ts, real]) {
        assert.equal(await s.call("CONFIG", "SET", "proto-max-bulk-len", "1mb"), "OK");
      }
      for (let round = 0; round < 4; round++) {
        const seed = (Date.now() + round * 7919) >>> 0;
        await ts.call("FLUSHALL");
        await real.call("FLUSHALL");
        for (const cmd of randomCommands(seed, 1500)) {
          const want = await real.call(...cmd);
          const got = await ts.call(...cmd);
          assert.deepEqual(got, want, `seed ${seed}: ${JSON.stringify(cmd)}`);
        }
      }
    });
  },
});
