// RDB and DUMP interoperability with real redis-server 7.0: files written by tsredis pass
// redis-check-rdb and load in redis-server with the same data; files written by redis-server
// (every type, compact and plain encodings, ints, LZF, TTLs, several dbs) load in tsredis; DUMP
// payloads RESTORE both ways. Skipped when redis-server or redis-check-rdb is missing.
import assert from "node:assert/strict";
import {
  checkRdb,
  hasBinary,
  type RespClient,
  startServer,
  tempDir as makeTempDir,
} from "../helpers.ts";

const HAVE = hasBinary("redis-server") && hasBinary("redis-check-rdb");
if (!HAVE) console.log("rdb_interop_test: redis-server/redis-check-rdb not installed, skipping");

const tempDir = () => makeTempDir("tsredis-interop-");

const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

/** A dataset covering every type with both compact and plain encodings. */
async function populate(c: RespClient): Promise<void> {
  const cmds: (string | number)[][] = [
    ["SET", "s:small", "hello"],
    ["SET", "s:empty", ""],
    ["SET", "s:int8", "-100"],
    ["SET", "s:int32", "2147483647"],
    ["SET", "s:int64", "9223372036854775807"],
    ["SET", "s:neg", "-9223372036854775808"],
    ["SET", "s:notint", "0123"],
    ["SET", "s:lzf", "compress me please ".repeat(50)],
    ["SET", "s:binary", range(256, (i) => String.fromCharCode(i)).join("")],
    ["SET", "s:embstr44", "e".repeat(44)],
    ["SET", "s:raw45", "r".repeat(45)],
    ["SET", "s:ttl", "expiring", "PX", "500000"],
    ["HSET", "h:lp", "a", "1", "b", "-5000000000", "c", "text"],
    ["HSET", "h:ht", ...range(300, (i) => [`f${i}`, `v${i}`]).flat()],
    ["HSET", "h:longval", "f", "v".repeat(100)],
    ["RPUSH", "l:small", "a", "1", "-100", "100000", "x".repeat(70), ""],
    ["RPUSH", "l:big", ...range(5000, (i) => (i % 3 === 0 ? String(i) : `elem-${i}`))],
    ["SADD", "set:int", "1", "2", "-32768", "100000", "9223372036854775807"],
    ["SADD", "set:bigint", ...range(600, (i) => String(i * 7))],
    ["SADD", "set:str", "a", "b", "c", "1"],
    ["ZADD", "z:lp", "1", "a", "2.5", "b", "-inf", "c", "inf", "d", "1e20", "e", "0.1", "f"],
    ["ZADD", "z:sl", ...range(200, (i) => [String(i / 7 - 3), `m${i}`]).flat()],
    ["ZADD", "z:longmember", "1", "m".repeat(100)],
    ["PEXPIRE", "h:lp", "600000"],
    ["SELECT", "5"],
    ["SET", "db5:key", "five"],
    ["RPUSH", "db5:list", "q"],
    ["SELECT", "0"],
  ];
  for (const cmd of cmds) {
    const r = await c.call(...cmd);
    assert.ok(!(r instanceof Error), `${cmd[0]} ${cmd[1]}: ${r}`);
  }
}

interface KeyState {
  type: string;
  value: unknown;
  hasTtl: boolean;
  encoding: unknown;
}

/** Reads back every key of the given dbs with type-specific commands. */
async function readAll(c: RespClient, dbs = [0, 5]): Promise<Map<string, KeyState>> {
  const out = new Map<string, KeyState>();
  for (const db of dbs) {
    await c.call("SELECT", db);
    const keys = ((await c.call("KEYS", "*")) as string[]).sort();
    for (const k of keys) {
      const type = (await c.call("TYPE", k)) as string;
      let value: unknown;
      if (type === "string") value = await c.call("GET", k);
      else if (type === "list") value = await c.call("LRANGE", k, 0, -1);
      else if (type === "set") value = ((await c.call("SMEMBERS", k)) as string[]).sort();
      else if (type === "zset") value = await c.call("ZRANGE", k, 0, -1, "WITHSCORES");
      else if (type === "hash") {
        const flat = (await c.call("HGETALL", k)) as string[];
        value = range(flat.length / 2, (i) => `${flat[2 * i]}=${flat[2 * i + 1]}`).sort();
      }
      const pttl = (await c.call("PTTL", k)) as number;
      out.set(`${db}:${k}`, {
        type,
        value,
        hasTtl: pttl > 0,
        encoding: await c.call("OBJECT", "ENCODING", k),
      });
    }
  }
  await c.call("SELECT", 0);
  return out;
}

function assertSameData(
  actual: Map<string, KeyState>,
  expected: Map<string, KeyState>,
  what: string,
): void {
  assert.deepEqual([...actual.keys()], [...expected.keys()], `${what}: same keys`);
  for (const [k, e] of expected) assert.deepEqual(actual.get(k), e, `${what}: key ${k}`);
}

Deno.test({
  name:
    "an RDB written by tsredis passes redis-check-rdb and loads in redis-server with the same data",
  ignore: !HAVE,
  async fn() {
    const dir = tempDir();
    const ts = await startServer({ dir });
    let tsData: Map<string, KeyState>;
    try {
      const c = await ts.client();
      await populate(c);
      tsData = await readAll(c);
      assert.equal(await c.call("SAVE"), "OK");
      c.close();
    } finally {
      await ts.stop();
    }
    const report = await checkRdb(`${dir}/dump.rdb`);
    assert.match(report, /RDB looks OK/);
    assert.match(report, /25 keys read/);
    const rs = await startServer({ dir, redis: true });
    try {
      const c = await rs.client();
      assertSameData(await readAll(c), tsData, "redis-server reading tsredis's dump");
      c.close();
    } finally {
      await rs.stop();
    }
  },
});

Deno.test({
  name: "an RDB written by redis-server loads in tsredis with the same data",
  ignore: !HAVE,
  async fn() {
    const dir = tempDir();
    const rs = await startServer({ dir, redis: true });
    let redisData: Map<string, KeyState>;
    try {
      const c = await rs.client();
      await populate(c);
      redisData = await readAll(c);
      assert.equal(await c.call("SAVE"), "OK");
      c.close();
    } finally {
      await rs.stop();
    }
    const ts = await startServer({ dir });
    try {
      const c = await ts.client();
      assertSameData(await readAll(c), redisData, "tsredis reading redis-server's dump");
      assert.match(ts.output, /Loading RDB produced by version 7\.0\.15/);
      assert.match(ts.output, /Done loading RDB, keys loaded: 25, keys expired: 0\./);
      c.close();
    } finally {
      await ts.stop();
    }
  },
});

Deno.test({
  name: "DUMP payloads RESTORE both ways, byte-identical for deterministic encodings",
  ignore: !HAVE,
  async fn() {
    const rs = await startServer({ redis: true });
    const ts = await startServer({});
    try {
      const r = await rs.client();
      const t = await ts.client();
      await populate(r);
      const redisData = await readAll(r, [0]);
      const keys = [...redisData.keys()].map((k) => k.slice(2));
      const payloads = new Map<string, string>();
      for (const k of keys) {
        const p = (await r.call("DUMP", k)) as string;
        payloads.set(k, p);
        assert.equal(await t.call("RESTORE", k, 0, p), "OK", `RESTORE ${k} in tsredis`);
        const ttl = (await r.call("PTTL", k)) as number;
        if (ttl > 0) await t.call("PEXPIRE", k, ttl);
      }
      assertSameData(await readAll(t, [0]), redisData, "tsredis RESTOREd from redis DUMPs");
      // Back again: tsredis DUMPs into an empty redis database.
      await r.call("SELECT", 9);
      for (const k of keys) {
        const p = (await t.call("DUMP", k)) as string;
        assert.equal(await r.call("RESTORE", k, 0, p), "OK", `RESTORE ${k} in redis-server`);
        // Listpack, intset, quicklist and string payloads have one possible encoding.
        const enc = redisData.get(`0:${k}`)!.encoding;
        if (enc !== "hashtable" && enc !== "skiplist") {
          assert.equal(p, payloads.get(k), `DUMP ${k} identical`);
        }
      }
      const back = await readAll(r, [9]);
      for (const [k, v] of redisData) {
        assert.deepEqual(
          back.get(`9:${k.slice(2)}`),
          { ...v, hasTtl: false },
          `redis RESTOREd ${k}`,
        );
      }
      r.close();
      t.close();
    } finally {
      await rs.stop();
      await ts.stop();
    }
  },
});
