// Generic keyspace commands over a real socket: DEL/EXISTS/TYPE/TOUCH, RENAME/MOVE/COPY,
// OBJECT, KEYS/SCAN/RANDOMKEY, FLUSH*/SWAPDB/SELECT (with WATCH), cluster-mode refusals and
// keyspace events. TSREDIS_TEST_REAL=1 runs the same expectations against redis-server.
import assert from "node:assert/strict";
import { type Reply, RespClient, waitBlocked, withServer } from "../helpers.ts";
import { check, E, OPTS } from "../command_checks.ts";

const SYNTAX = E("ERR syntax error");
const NOT_INT = E("ERR value is not an integer or out of range");
const SAME = E("ERR source and destination objects are the same");
const RANGE = E("ERR DB index is out of range");
const arity = (n: string) => E(`ERR wrong number of arguments for '${n}' command`);

Deno.test("DEL, UNLINK, EXISTS, TYPE, TOUCH, DBSIZE", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["MSET", "a", "1", "b", "2", "c", "3"], "OK"],
      [["ZADD", "z", "1", "m"], 1],
      [["EXISTS", "a", "b", "a", "nokey"], 3],
      [["TYPE", "a"], "string"],
      [["TYPE", "z"], "zset"],
      [["TYPE", "nokey"], "none"],
      [["TOUCH", "a", "z", "nokey"], 2],
      [["DBSIZE"], 4],
      [["DEL", "a", "b", "nokey"], 2],
      [["DEL", "a"], 0],
      [["UNLINK", "z", "c", "x"], 2],
      [["DBSIZE"], 0],
      [["DEL"], arity("del")],
      [["UNLINK"], arity("unlink")],
      [["EXISTS"], arity("exists")],
      [["TOUCH"], arity("touch")],
      [["TYPE"], arity("type")],
      [["DBSIZE", "x"], arity("dbsize")],
    ]);
  }, OPTS);
});

Deno.test("RENAME, RENAMENX, MOVE, COPY keep values and TTLs", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["RENAME", "nokey", "x"], E("ERR no such key")],
      [["RENAMENX", "nokey", "x"], E("ERR no such key")],
      [["SET", "b", "v"], "OK"],
      [["EXPIRE", "b", "1000"], 1],
      [["RENAME", "b", "b"], "OK"],
      [["RENAMENX", "b", "b"], 0],
      [["RENAME", "b", "c"], "OK"],
      [["EXISTS", "b", "c"], 1],
      [["TTL", "c"], 1000],
      [["SET", "d", "x"], "OK"],
      [["RENAMENX", "c", "d"], 0],
      [["RENAMENX", "c", "e"], 1],
      [["EXPIRE", "d", "50"], 1],
      [["RENAME", "e", "d"], "OK"],
      [["GET", "d"], "v"],
      [["TTL", "d"], 1000],
      [["RENAME", "d"], arity("rename")],
      // MOVE
      [["MOVE", "d", "1"], 1],
      [["MOVE", "d", "1"], 0],
      [["MOVE", "nokey", "1"], 0],
      [["MOVE", "x", "0"], SAME],
      [["MOVE", "x", "abc"], NOT_INT],
      [["MOVE", "x", "16"], RANGE],
      [["MOVE", "x", "-1"], RANGE],
      [
        ["MOVE", "x", "99999999999"],
        E("ERR value is out of range, value must between -2147483648 and 2147483647"),
      ],
      [["SELECT", "1"], "OK"],
      [["GET", "d"], "v"],
      [["TTL", "d"], 1000],
      [["SET", "e", "db1"], "OK"],
      [["SELECT", "0"], "OK"],
      [["SET", "e", "db0"], "OK"],
      [["SELECT", "1"], "OK"],
      [["MOVE", "e", "0"], 0],
      [["SELECT", "0"], "OK"],
      // COPY
      [["SET", "src", "hello"], "OK"],
      [["COPY", "src", "dst"], 1],
      [["GET", "dst"], "hello"],
      [["COPY", "src", "dst"], 0],
      [["SET", "src", "world"], "OK"],
      [["COPY", "src", "dst", "REPLACE"], 1],
      [["GET", "dst"], "world"],
      [["COPY", "src", "src"], SAME],
      [["COPY", "src", "src", "DB", "1"], 1],
      [["COPY", "src", "dst", "DB"], SYNTAX],
      [["COPY", "src", "dst", "DB", "abc"], NOT_INT],
      [["COPY", "src", "dst", "DB", "100"], RANGE],
      [["COPY", "src", "dst", "FOO"], SYNTAX],
      [["COPY", "nokey", "dst"], 0],
      [["EXPIRE", "src", "100"], 1],
      [["COPY", "src", "dst2"], 1],
      [["TTL", "dst2"], 100],
      [["ZADD", "z", "1", "a", "2", "b"], 2],
      [["COPY", "z", "z2"], 1],
      [["ZADD", "z2", "3", "c"], 1],
      [["ZCARD", "z"], 2],
      [["ZCARD", "z2"], 3],
      [["SELECT", "1"], "OK"],
      [["GET", "src"], "world"],
      [["COPY"], arity("copy")],
    ]);
  }, OPTS);
});

Deno.test("OBJECT ENCODING/REFCOUNT/FREQ/HELP follow Redis 7.0's encodings", async () => {
  await withServer(async (c) => {
    await check(c, [
      [["SET", "i", "12345"], "OK"],
      [["OBJECT", "ENCODING", "i"], "int"],
      [["SET", "i", "-9223372036854775808"], "OK"],
      [["OBJECT", "ENCODING", "i"], "int"],
      [["SET", "i", "9223372036854775808"], "OK"],
      [["OBJECT", "ENCODING", "i"], "embstr"],
      [["SET", "i", "01"], "OK"],
      [["OBJECT", "ENCODING", "i"], "embstr"],
      [["SET", "i", "x".repeat(44)], "OK"],
      [["OBJECT", "ENCODING", "i"], "embstr"],
      [["SET", "i", "x".repeat(45)], "OK"],
      [["OBJECT", "ENCODING", "i"], "raw"],
      [["SET", "i", "1"], "OK"],
      [["APPEND", "i", "2"], 2],
      [["OBJECT", "ENCODING", "i"], "raw"],
      [["SET", "i", "1"], "OK"],
      [["OBJECT", "ENCODING", "i"], "int"],
      [["SETRANGE", "i", "0", "5"], 1],
      [["OBJECT", "ENCODING", "i"], "raw"],
      [["INCR", "i"], 6],
      [["OBJECT", "ENCODING", "i"], "int"],
      [["INCRBYFLOAT", "i", "1"], "7"],
      [["OBJECT", "ENCODING", "i"], "embstr"],
      [["ZADD", "z", "1", "m"], 1],
      [["OBJECT", "ENCODING", "z"], "listpack"],
      [["OBJECT", "ENCODING", "nokey"], null],
      [["SET", "i", "100"], "OK"],
      [["OBJECT", "REFCOUNT", "i"], 2147483647],
      [["SET", "i", "10000"], "OK"],
      [["OBJECT", "REFCOUNT", "i"], 1],
      [["SET", "i", "-1"], "OK"],
      [["INCR", "i"], 0],
      [["OBJECT", "REFCOUNT", "i"], 2147483647],
      [["OBJECT", "REFCOUNT", "nokey"], null],
      [["CONFIG", "SET", "maxmemory", "1gb"], "OK"],
      [["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"], "OK"],
      [["SET", "i", "100"], "OK"],
      [["OBJECT", "REFCOUNT", "i"], 1],
      [["OBJECT", "IDLETIME", "i"], 0],
      [
        ["OBJECT", "FREQ", "i"],
        E(
          "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ),
      ],
      [["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"], "OK"],
      [
        ["OBJECT", "IDLETIME", "i"],
        E(
          "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ),
      ],
      [["SET", "fresh", "v"], "OK"],
      [["OBJECT", "FREQ", "nokey"], null],
      [["CONFIG", "SET", "maxmemory", "0"], "OK"],
      [["OBJECT", "FOO", "x"], E("ERR unknown subcommand 'FOO'. Try OBJECT HELP.")],
      [["OBJECT", "ENCODING"], arity("object|encoding")],
      [["OBJECT", "HELP", "x"], arity("object|help")],
      [["OBJECT"], arity("object")],
    ]);
    const freq = await c.call("OBJECT", "FREQ", "fresh") as number;
    assert.ok(freq >= 5 && freq <= 6, `fresh key LFU counter ${freq}`);
    const help = await c.call("OBJECT", "HELP") as string[];
    assert.equal(help.length, 15);
    assert.equal(help[0], "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert.equal(help[14], "    Prints this help.");
  }, OPTS);
});

Deno.test("KEYS patterns and RANDOMKEY", async () => {
  await withServer(async (c) => {
    await c.call("MSET", "foo", "1", "foobar", "2", "bar", "3", "f*x", "4", "a\\b", "5");
    const sorted = async (p: string) => ((await c.call("KEYS", p)) as string[]).sort();
    assert.deepEqual(await sorted("*"), ["a\\b", "bar", "f*x", "foo", "foobar"]);
    assert.deepEqual(await sorted("foo*"), ["foo", "foobar"]);
    assert.deepEqual(await sorted("f?o"), ["foo"]);
    assert.deepEqual(await sorted("[a-b]*"), ["a\\b", "bar"]);
    assert.deepEqual(await sorted("[^f]*"), ["a\\b", "bar"]);
    assert.deepEqual(await sorted("f\\*x"), ["f*x"]);
    assert.deepEqual(await sorted("nomatch"), []);
    await check(c, [[["KEYS"], arity("keys")], [["RANDOMKEY", "x"], arity("randomkey")]]);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(await c.call("RANDOMKEY") as string);
    assert.deepEqual([...seen].sort(), ["a\\b", "bar", "f*x", "foo", "foobar"]);
    await c.call("FLUSHDB");
    assert.equal(await c.call("RANDOMKEY"), null);
    // Keys with an expired TTL are neither listed nor picked.
    await c.call("SET", "live", "1");
    await c.call("SET", "dead", "1", "PX", "1");
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await c.call("KEYS", "*"), ["live"]);
    for (let i = 0; i < 20; i++) assert.equal(await c.call("RANDOMKEY"), "live");
  }, OPTS);
});

/** Runs a full SCAN with the given extra args; returns all keys seen (with duplicates). */
async function scanAll(c: RespClient, ...extra: string[]): Promise<string[]> {
  let cursor = "0";
  const keys: string[] = [];
  do {
    const r = await c.call("SCAN", cursor, ...extra) as [string, string[]];
    cursor = r[0];
    keys.push(...r[1]);
  } while (cursor !== "0");
  return keys;
}

Deno.test("SCAN: full iteration, COUNT, MATCH, TYPE, errors", async () => {
  await withServer(async (c) => {
    const args: string[] = [];
    for (let i = 0; i < 1000; i++) args.push(`key:${i}`, String(i));
    await c.call("MSET", ...args);
    await c.call("ZADD", "zkey:1", "1", "m");
    for (const count of ["1", "10", "100", "5000"]) {
      const all = new Set(await scanAll(c, "COUNT", count));
      assert.equal(all.size, 1001, `COUNT ${count}`);
    }
    const matched = new Set(await scanAll(c, "MATCH", "key:1??", "COUNT", "50"));
    assert.equal(matched.size, 100);
    for (const k of matched) assert.match(k, /^key:1\d\d$/);
    assert.deepEqual(await scanAll(c, "TYPE", "zset"), ["zkey:1"]);
    assert.deepEqual(await scanAll(c, "TYPE", "ZSET", "MATCH", "zkey:*"), ["zkey:1"]);
    assert.deepEqual(await scanAll(c, "TYPE", "hash"), []);
    assert.equal(new Set(await scanAll(c, "TYPE", "string")).size, 1000);
    const first = await c.call("SCAN", "0") as [string, string[]];
    assert.notEqual(first[0], "0");
    assert.ok(first[1].length <= 10);
    await check(c, [
      [["SCAN", "abc"], E("ERR invalid cursor")],
      [["SCAN", " 0"], E("ERR invalid cursor")],
      [["SCAN", "18446744073709551616"], E("ERR invalid cursor")],
      [["SCAN", "0", "COUNT", "0"], SYNTAX],
      [["SCAN", "0", "COUNT", "-1"], SYNTAX],
      [["SCAN", "0", "COUNT", "x"], NOT_INT],
      [["SCAN", "0", "MATCH"], SYNTAX],
      [["SCAN", "0", "TYPE"], SYNTAX],
      [["SCAN", "0", "FOO", "bar"], SYNTAX],
      [["SCAN"], arity("scan")],
      [["FLUSHDB"], "OK"],
      [["SCAN", "0"], ["0", []]],
      [["SCAN", ""], ["0", []]],
    ]);
  }, OPTS);
});

Deno.test("SCAN returns every key that exists for the whole scan despite churn", async () => {
  await withServer(async (c) => {
    const stable = new Set<string>();
    const args: string[] = [];
    for (let i = 0; i < 2000; i++) {
      args.push(`s${i}`, "v");
      stable.add(`s${i}`);
    }
    for (let i = 0; i < 2000; i++) args.push(`tmp${i}`, "v");
    await c.call("MSET", ...args);
    let cursor = "0";
    const seen = new Set<string>();
    let round = 0;
    do {
      const r = await c.call("SCAN", cursor, "COUNT", "25") as [string, string[]];
      cursor = r[0];
      for (const k of r[1]) seen.add(k);
      // Between calls: delete temporary keys, add new ones, delete+recreate some more.
      const dels = [], adds = [];
      for (let j = 0; j < 20; j++) {
        dels.push(`tmp${(round * 20 + j) % 2000}`);
        adds.push(`new${round}_${j}`, "v");
      }
      await c.call("DEL", ...dels);
      await c.call("MSET", ...adds);
      round++;
    } while (cursor !== "0");
    for (const k of stable) assert.ok(seen.has(k), `stable key ${k} missed`);
  }, OPTS);
});

Deno.test("SELECT, SWAPDB, FLUSHDB, FLUSHALL and their effect on WATCH", async () => {
  await withServer(async (c, s) => {
    await check(c, [
      [["SELECT", "16"], RANGE],
      [["SELECT", "-1"], RANGE],
      [["SELECT", "abc"], NOT_INT],
      [
        ["SELECT", "99999999999"],
        E("ERR value is out of range, value must between -2147483648 and 2147483647"),
      ],
      [["SELECT"], arity("select")],
      [["SET", "k", "db0"], "OK"],
      [["SELECT", "1"], "OK"],
      [["SET", "k", "db1"], "OK"],
      [["SET", "only1", "x"], "OK"],
      [["SWAPDB", "0", "1"], "OK"],
      [["GET", "k"], "db0"],
      [["DBSIZE"], 1],
      [["SELECT", "0"], "OK"],
      [["GET", "k"], "db1"],
      [["DBSIZE"], 2],
      [["SWAPDB", "0", "0"], "OK"],
      [["SWAPDB", "a", "1"], E("ERR invalid first DB index")],
      [["SWAPDB", "0", "b"], E("ERR invalid second DB index")],
      [["SWAPDB", "0", "16"], RANGE],
      [["SWAPDB", "-1", "0"], RANGE],
      [["FLUSHDB", "foo"], SYNTAX],
      [["FLUSHDB", "ASYNC", "x"], SYNTAX],
      [["FLUSHALL", "SYNC", "x"], SYNTAX],
      [["FLUSHDB", "sync"], "OK"],
      [["DBSIZE"], 0],
      [["SELECT", "1"], "OK"],
      [["DBSIZE"], 1],
      [["FLUSHALL", "async"], "OK"],
      [["DBSIZE"], 0],
      [["FLUSHALL"], "OK"],
    ]);
    // WATCH: FLUSHDB and SWAPDB invalidate transactions watching keys that change.
    const w = await s.client();
    const watchExec = async (setup: () => Promise<unknown>, key: string): Promise<Reply> => {
      await w.call("WATCH", key);
      await setup();
      await w.call("MULTI");
      await w.call("PING");
      return await w.call("EXEC");
    };
    await c.call("SELECT", "0");
    await c.call("SET", "wk", "1");
    assert.equal(await watchExec(() => c.call("FLUSHDB"), "wk"), null);
    assert.deepEqual(await watchExec(() => c.call("FLUSHDB"), "wk"), ["PONG"]);
    await c.call("SELECT", "1");
    await c.call("SET", "wk", "in1");
    await c.call("SELECT", "0");
    assert.equal(await watchExec(() => c.call("SWAPDB", "0", "1"), "wk"), null);
    assert.equal(await w.call("GET", "wk"), "in1");
    assert.deepEqual(await watchExec(() => c.call("SWAPDB", "2", "3"), "wk"), ["PONG"]);
    await c.call("SET", "wk", "x");
    assert.equal(await watchExec(() => c.call("FLUSHALL"), "wk"), null);
    w.close();
  }, OPTS);
});

Deno.test("keyspace events of generic commands", async () => {
  await withServer(async (c, s) => {
    await c.call("CONFIG", "SET", "notify-keyspace-events", "KEA");
    const sub = await s.client();
    await sub.call("PSUBSCRIBE", "__keyevent@*__:*");
    const cmds: string[][] = [
      ["SET", "a", "1"],
      ["EXPIRE", "a", "100"],
      ["PERSIST", "a"],
      ["RENAME", "a", "b"],
      ["COPY", "b", "c", "DB", "2"],
      ["MOVE", "b", "1"],
      ["DEL", "c", "nokey"],
      ["SET", "d", "1"],
      ["EXPIRE", "d", "-1"],
    ];
    for (const cmd of cmds) await c.call(...cmd);
    const events: string[] = [];
    for (let i = 0; i < 10; i++) {
      const m = await sub.read() as string[];
      events.push(`${m[2]} ${m[3]}`);
    }
    assert.deepEqual(events, [
      "__keyevent@0__:set a",
      "__keyevent@0__:expire a",
      "__keyevent@0__:persist a",
      "__keyevent@0__:rename_from a",
      "__keyevent@0__:rename_to b",
      "__keyevent@2__:copy_to c",
      "__keyevent@0__:move_from b",
      "__keyevent@1__:move_to b",
      "__keyevent@0__:set d",
      "__keyevent@0__:del d",
    ]);
    sub.close();
  }, OPTS);
});

Deno.test("cluster mode refuses SELECT n, SWAPDB, MOVE and cross-db COPY", async () => {
  await withServer(async (c) => {
    assert.equal(await c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383"), "OK");
    const deadline = Date.now() + 5000;
    while (!String(await c.call("CLUSTER", "INFO")).includes("cluster_state:ok")) {
      assert.ok(Date.now() < deadline, "cluster state did not become ok");
      await new Promise((r) => setTimeout(r, 50));
    }
    await check(c, [
      [["SELECT", "0"], "OK"],
      [["SELECT", "1"], E("ERR SELECT is not allowed in cluster mode")],
      [["SWAPDB", "0", "1"], E("ERR SWAPDB is not allowed in cluster mode")],
      [["MOVE", "k", "1"], E("ERR MOVE is not allowed in cluster mode")],
      [
        ["COPY", "k{t}", "j{t}", "DB", "1"],
        E("ERR Copying to another database is not allowed in cluster mode"),
      ],
    ]);
  }, { ...OPTS, args: ["--cluster-enabled", "yes"] });
});

/** The next reply, or a failure when none arrives within 3 s (a blocked client left waiting). */
async function readWithin(b: RespClient): Promise<Reply> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => {
    t = setTimeout(() => rej(new Error("no reply within 3 s")), 3000);
  });
  try {
    return await Promise.race([b.read(), timeout]);
  } finally {
    clearTimeout(t);
  }
}

Deno.test("SWAPDB and FLUSHDB wake the clients blocked in the databases they change", async () => {
  await withServer(async (c, srv) => {
    const b = await RespClient.connect(srv.port);
    try {
      // BLPOP waiting in db 1 is served once SWAPDB brings db 0's list there.
      await c.call("RPUSH", "l", "x");
      await b.call("SELECT", 1);
      await b.send("BLPOP", "l", "0");
      await waitBlocked(c, 1);
      assert.equal(await c.call("SWAPDB", "0", "1"), "OK");
      assert.deepEqual(await readWithin(b), ["l", "x"]);
      // XREADGROUP waiting in db 1 fails when FLUSHDB of its db removes the stream.
      await c.call("SELECT", 1);
      await c.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
      await b.send("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "s", ">");
      await waitBlocked(c, 1);
      await c.call("FLUSHDB");
      assert.deepEqual(
        await readWithin(b),
        new Error("UNBLOCKED the stream key no longer exists"),
      );
    } finally {
      b.close();
    }
  });
});
