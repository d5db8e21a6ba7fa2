// SORT / SORT_RO over real sockets: numeric and ALPHA order, BY (keys and hash fields), constant
// BY (no sorting), GET (#, keys, hash fields, missing), LIMIT edge cases, STORE (list result,
// empty result deletes the destination, blocked clients woken, WATCH touched), errors, key
// positions (COMMAND GETKEYS) and keyspace events.
import assert from "node:assert/strict";
import { type Reply, withServer } from "../helpers.ts";

/** TEST_REAL_REDIS=1 runs the same assertions against redis-server, to check the tests themselves. */
const REAL = { redis: Deno.env.get("TEST_REAL_REDIS") === "1" };

function errText(r: Reply): string {
  assert.ok(r instanceof Error, `expected an error, got ${JSON.stringify(r)}`);
  return r.message;
}

Deno.test("SORT: numeric, DESC, ALPHA, LIMIT", async () => {
  await withServer(async (c) => {
    await c.call("RPUSH", "l", "3", "1", "2", "10", "-5", "2.5");
    assert.deepEqual(await c.call("SORT", "l"), ["-5", "1", "2", "2.5", "3", "10"]);
    assert.deepEqual(await c.call("SORT", "l", "DESC"), ["10", "3", "2.5", "2", "1", "-5"]);
    assert.deepEqual(await c.call("SORT", "l", "ALPHA"), ["-5", "1", "10", "2", "2.5", "3"]);
    assert.deepEqual(await c.call("SORT", "l", "LIMIT", "1", "2"), ["1", "2"]);
    assert.deepEqual(await c.call("SORT", "l", "LIMIT", "-1", "2"), ["-5", "1"]);
    assert.deepEqual(await c.call("SORT", "l", "LIMIT", "4", "-1"), ["3", "10"]);
    assert.deepEqual(await c.call("SORT", "l", "LIMIT", "10", "2"), []);
    assert.deepEqual(await c.call("SORT", "l", "ALPHA", "DESC", "LIMIT", "0", "3"), [
      "3",
      "2.5",
      "2",
    ]);
    // Equal scores fall back to byte order of the elements.
    await c.call("RPUSH", "eq", "01", "1", "1.0");
    assert.deepEqual(await c.call("SORT", "eq"), ["01", "1", "1.0"]);
    assert.deepEqual(await c.call("SORT", "eq", "DESC"), ["1.0", "1", "01"]);
    // strtod rules: hex and leading blanks are numbers, an empty string is 0.
    await c.call("RPUSH", "odd", "", "0x10", " 2");
    assert.deepEqual(await c.call("SORT", "odd"), ["", " 2", "0x10"]);
    await c.call("RPUSH", "bad", "1", "x");
    assert.equal(
      errText(await c.call("SORT", "bad")),
      "ERR One or more scores can't be converted into double",
    );
    assert.deepEqual(await c.call("SORT", "nosuchkey"), []);
    await c.call("SADD", "s", "5", "1", "3");
    assert.deepEqual(await c.call("SORT", "s"), ["1", "3", "5"]);
    await c.call("ZADD", "z", "3", "a", "1", "b", "2", "c");
    assert.deepEqual(await c.call("SORT", "z", "ALPHA", "DESC"), ["c", "b", "a"]);
    // Out of double range (last: Redis never clears errno, so its later numeric sorts would fail).
    await c.call("RPUSH", "big", "1e400");
    assert.equal(
      errText(await c.call("SORT", "big")),
      "ERR One or more scores can't be converted into double",
    );
  }, REAL);
});

Deno.test("SORT: BY and GET patterns, constant BY keeps the native order", async () => {
  await withServer(async (c) => {
    await c.call("RPUSH", "l", "3", "1", "2");
    await c.call("MSET", "w_1", "30", "w_2", "10", "w_3", "20");
    await c.call("HSET", "h_1", "f", "c", "n", "3");
    await c.call("HSET", "h_2", "f", "a", "n", "1");
    assert.deepEqual(await c.call("SORT", "l", "BY", "w_*"), ["2", "3", "1"]);
    assert.deepEqual(await c.call("SORT", "l", "BY", "h_*->n"), ["3", "2", "1"]);
    // Missing BY values sort first (ALPHA) / weigh 0 (numeric).
    assert.deepEqual(await c.call("SORT", "l", "BY", "h_*->f", "ALPHA"), ["3", "2", "1"]);
    assert.deepEqual(
      await c.call("SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "h_*->f", "GET", "k"),
      ["2", "10", "a", null, "3", "20", null, null, "1", "30", "c", null],
    );
    // A hash pattern on a string key, or a string pattern on a hash, gives nil.
    assert.deepEqual(await c.call("SORT", "l", "GET", "w_*->f", "GET", "h_*"), [
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    assert.deepEqual(await c.call("SORT", "l", "BY", "nosort"), ["3", "1", "2"]);
    assert.deepEqual(await c.call("SORT", "l", "BY", "nosort", "DESC"), ["2", "1", "3"]);
    assert.deepEqual(await c.call("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "5"), [
      "1",
      "3",
    ]);
    await c.call("ZADD", "z", "3", "a", "1", "b", "2", "c");
    assert.deepEqual(await c.call("SORT", "z", "BY", "nosort"), ["b", "c", "a"]);
    assert.deepEqual(await c.call("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "1"), ["c"]);
  }, REAL);
});

Deno.test("SORT STORE: list result, empty result deletes, sets are sorted, wakes BLPOP", async () => {
  await withServer(async (c, s) => {
    await c.call("RPUSH", "l", "3", "1", "2");
    await c.call("SET", "dst", "old");
    await c.call("EXPIRE", "dst", "100");
    assert.equal(await c.call("SORT", "l", "STORE", "dst"), 3);
    assert.deepEqual(await c.call("LRANGE", "dst", "0", "-1"), ["1", "2", "3"]);
    assert.equal(await c.call("TTL", "dst"), -1);
    assert.equal(await c.call("SORT", "l", "GET", "nosuch_*", "GET", "#", "STORE", "dst"), 6);
    assert.deepEqual(await c.call("LRANGE", "dst", "0", "-1"), ["", "1", "", "2", "", "3"]);
    assert.equal(await c.call("SORT", "nosuchkey", "STORE", "dst"), 0);
    assert.equal(await c.call("EXISTS", "dst"), 0);
    // A set with a constant BY is still sorted (ALPHA) when stored.
    await c.call("SADD", "s", "b", "c", "a");
    assert.equal(await c.call("SORT", "s", "BY", "nosort", "STORE", "dst"), 3);
    assert.deepEqual(await c.call("LRANGE", "dst", "0", "-1"), ["a", "b", "c"]);

    const b = await s.client();
    await b.send("BLPOP", "target", "0");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await c.call("SORT", "l", "STORE", "target"), 3);
    assert.deepEqual(await b.read(), ["target", "1"]);
    b.close();

    // STORE of an empty result still touches a WATCHed destination that existed.
    const w = await s.client();
    await w.call("RPUSH", "foo", "bar");
    await w.call("WATCH", "foo");
    await c.call("SORT", "emptylist", "STORE", "foo");
    await w.call("MULTI");
    await w.call("PING");
    assert.equal(await w.call("EXEC"), null);
    w.close();
  }, REAL);
});

Deno.test("SORT / SORT_RO: errors, key positions, events", async () => {
  await withServer(async (c, s) => {
    await c.call("RPUSH", "l", "1");
    await c.call("SET", "str", "x");
    assert.equal(
      errText(await c.call("SORT", "str")),
      "WRONGTYPE Operation against a key holding the wrong kind of value",
    );
    assert.equal(errText(await c.call("SORT", "l", "foo")), "ERR syntax error");
    assert.equal(errText(await c.call("SORT", "l", "LIMIT", "1")), "ERR syntax error");
    assert.equal(
      errText(await c.call("SORT", "l", "LIMIT", "a", "1")),
      "ERR value is not an integer or out of range",
    );
    assert.equal(errText(await c.call("SORT_RO", "l", "STORE", "x")), "ERR syntax error");
    assert.deepEqual(await c.call("SORT_RO", "l", "DESC"), ["1"]);
    assert.deepEqual(
      await c.call(
        "COMMAND",
        "GETKEYS",
        "SORT",
        "a",
        "STORE",
        "b",
        "LIMIT",
        "0",
        "1",
        "STORE",
        "c",
      ),
      ["a", "c"],
    );
    assert.deepEqual(await c.call("COMMAND", "GETKEYS", "SORT", "a", "GET", "store"), ["a"]);
    assert.deepEqual(await c.call("COMMAND", "GETKEYS", "SORT_RO", "a"), ["a"]);

    await c.call("CONFIG", "SET", "notify-keyspace-events", "KEA");
    const sub = await s.client();
    assert.deepEqual(await sub.call("PSUBSCRIBE", "__keyspace@0__:dst"), [
      "psubscribe",
      "__keyspace@0__:dst",
      1,
    ]);
    await c.call("SORT", "l", "STORE", "dst");
    assert.deepEqual(await sub.read(), [
      "pmessage",
      "__keyspace@0__:dst",
      "__keyspace@0__:dst",
      "sortstore",
    ]);
    await c.call("SORT", "nosuch", "STORE", "dst");
    assert.deepEqual(await sub.read(), [
      "pmessage",
      "__keyspace@0__:dst",
      "__keyspace@0__:dst",
      "del",
    ]);
    sub.close();
  }, REAL);
});

Deno.test("SORT in cluster mode: BY patterns and GET are refused, constant BY is fine", async () => {
  await withServer(async (c) => {
    await c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
    for (let i = 0; i < 100; i++) {
      if (String(await c.call("CLUSTER", "INFO")).includes("cluster_state:ok")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await c.call("RPUSH", "l", "2", "1");
    assert.equal(
      errText(await c.call("SORT", "l", "BY", "w_*")),
      "ERR BY option of SORT denied in Cluster mode.",
    );
    assert.equal(
      errText(await c.call("SORT", "l", "GET", "#")),
      "ERR GET option of SORT denied in Cluster mode.",
    );
    assert.deepEqual(await c.call("SORT", "l", "BY", "nosort"), ["2", "1"]);
    assert.deepEqual(await c.call("SORT", "l"), ["1", "2"]);
  }, { ...REAL, args: ["--cluster-enabled", "yes"] });
});
