// Replication interop with real redis-server 7.0: a tsredis replica of a redis-server primary and
// a redis-server replica of a tsredis primary must hold exactly the primary's data (every key
// compared) after a full sync (diskless and disk), the live stream, and a partial resync after
// the link is dropped from either side. Also: a redis-server sub-replica behind a tsredis replica
// (the proxied stream keeps Redis's offsets), WAIT with a tsredis replica, and INFO replication
// field names equal to redis-server's in both roles.
import assert from "node:assert/strict";
import { hasBinary, type Reply, RespClient, type ServerProcess, startServer } from "../helpers.ts";
import { waitFor } from "../cluster/helpers.ts";

const HAVE_REDIS = hasBinary("redis-server");
if (!HAVE_REDIS) {
  console.log(
    "replication_interop_test skipped: redis-server is not installed (apt-get install redis-server)",
  );
}

const FAST = ["--repl-diskless-sync-delay", "0"];

async function info(c: RespClient, section = "replication"): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const l of String(await c.call("INFO", section)).split("\r\n")) {
    if (l === "" || l.startsWith("#")) continue;
    const i = l.indexOf(":");
    m.set(l.slice(0, i), l.slice(i + 1));
  }
  return m;
}

/** Every key of every db in a canonical text form (type, value, has-TTL). */
async function snapshot(c: RespClient): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let db = 0; db < 16; db++) {
    await c.call("SELECT", db);
    const keys = (await c.call("KEYS", "*")) as string[];
    for (const k of keys.sort()) {
      const type = String(await c.call("TYPE", k));
      let v: Reply;
      if (type === "string") v = await c.call("GET", k);
      else if (type === "list") v = await c.call("LRANGE", k, 0, -1);
      else if (type === "set") v = ((await c.call("SMEMBERS", k)) as string[]).sort();
      else if (type === "hash") {
        const a = (await c.call("HGETALL", k)) as string[];
        const pairs: string[] = [];
        for (let i = 0; i < a.length; i += 2) pairs.push(`${a[i]}=${a[i + 1]}`);
        v = pairs.sort();
      } else if (type === "zset") v = await c.call("ZRANGE", k, 0, -1, "WITHSCORES");
      else v = `?${type}`;
      const ttl = Number(await c.call("PTTL", k));
      out.set(`${db}/${k}`, `${type}:${JSON.stringify(v)}:${ttl > 0 ? "ttl" : ttl}`);
    }
  }
  await c.call("SELECT", 0);
  return out;
}

/** One key of every type and encoding, in two databases. */
async function fillEveryType(c: RespClient, tag: string): Promise<void> {
  const many = Array.from({ length: 300 }, (_, i) => `${tag}-${i}`);
  await c.call("SET", `str-${tag}`, "hello");
  await c.call("SET", `int-${tag}`, 12345);
  await c.call("SET", `big-${tag}`, "x".repeat(5000) + "y".repeat(100));
  await c.call("SET", `bin\x00\xff-${tag}`, "\x00\x01\xfe\xff\r\n");
  await c.call("SET", `ttl-${tag}`, "soon", "EX", 1000);
  await c.call("RPUSH", `list-${tag}`, "a", "b", 1, 2);
  await c.call("RPUSH", `biglist-${tag}`, ...many);
  await c.call("SADD", `intset-${tag}`, 1, 2, 3, -7);
  await c.call("SADD", `set-${tag}`, "a", "b", "c");
  await c.call("SADD", `bigset-${tag}`, ...many);
  await c.call("HSET", `hash-${tag}`, "f1", "v1", "f2", 2);
  await c.call("HSET", `bighash-${tag}`, ...many.flatMap((m) => [m, "v".repeat(80)]));
  await c.call("ZADD", `zset-${tag}`, 1, "a", 2.5, "b", -3, "c");
  await c.call("ZADD", `bigzset-${tag}`, ...many.flatMap((m, i) => [i / 3, m]));
  await c.call("SELECT", 4);
  await c.call("SET", `in-db4-${tag}`, "four");
  await c.call("MULTI");
  await c.call("INCR", `counter-${tag}`);
  await c.call("LPUSH", `tx-${tag}`, "x");
  await c.call("EXEC");
  await c.call("SELECT", 0);
}

async function waitSynced(m: RespClient, r: RespClient): Promise<void> {
  await waitFor("link up", async () => (await info(r)).get("master_link_status") === "up", 30000);
  await waitFor("replica offset to reach the master's", async () => {
    const mo = (await info(m)).get("master_repl_offset");
    return (await info(r)).get("slave_repl_offset") === mo;
  }, 30000);
}

async function stopAll(...items: (ServerProcess | RespClient)[]): Promise<void> {
  for (const i of items) if (i instanceof RespClient) i.close();
  await Promise.all(
    items.filter((i): i is ServerProcess => !(i instanceof RespClient)).map((s) => s.stop()),
  );
}

/** Full sync, live stream, a dropped link (killed on `killOn`), partial resync, every key equal. */
async function scenario(
  m: RespClient,
  r: RespClient,
  ms: ServerProcess,
  killOn: "replica" | "primary",
  diskless: boolean,
): Promise<void> {
  await m.call("CONFIG", "SET", "repl-diskless-sync", diskless ? "yes" : "no");
  await fillEveryType(m, "before");
  assert.equal(await r.call("REPLICAOF", "127.0.0.1", ms.port), "OK");
  await waitSynced(m, r);
  assert.deepEqual(await snapshot(r), await snapshot(m));
  await fillEveryType(m, "live");
  await m.call("DEL", "biglist-before");
  await m.call("ZINCRBY", "zset-before", 3, "a");
  await waitSynced(m, r);
  assert.deepEqual(await snapshot(r), await snapshot(m));
  const st0 = await info(m, "stats");
  assert.equal(st0.get("sync_full"), "1");
  if (killOn === "replica") assert.equal(await r.call("CLIENT", "KILL", "TYPE", "master"), 1);
  else assert.equal(await m.call("CLIENT", "KILL", "TYPE", "replica"), 1);
  await fillEveryType(m, "gap");
  await waitSynced(m, r);
  const st = await info(m, "stats");
  assert.equal(st.get("sync_full"), "1", "no second full sync");
  assert.equal(st.get("sync_partial_ok"), "1", "the replica continued from the backlog");
  assert.deepEqual(await snapshot(r), await snapshot(m));
  assert.ok((await snapshot(r)).size > 30);
}

for (const diskless of [true, false]) {
  const mode = diskless ? "diskless" : "disk";
  Deno.test({
    name:
      `interop: tsredis replica of a redis-server 7.0 primary (${mode} sync, link killed on the replica)`,
    ignore: !HAVE_REDIS,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const ms = await startServer({ redis: true, args: FAST });
      const rs = await startServer({ args: FAST });
      const m = await ms.client();
      const r = await rs.client();
      try {
        await scenario(m, r, ms, "replica", diskless);
        assert.match(rs.output, /Successful partial resynchronization with master\./);
        // The replica acknowledges: WAIT on redis-server counts it.
        await m.call("SET", "w", "1");
        assert.equal(await m.call("WAIT", 1, 5000), 1);
      } finally {
        await stopAll(m, r, ms, rs);
      }
    },
  });

  Deno.test({
    name:
      `interop: redis-server 7.0 replica of a tsredis primary (${mode} sync, link killed on the primary)`,
    ignore: !HAVE_REDIS,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const ms = await startServer({ args: FAST });
      const rs = await startServer({ redis: true, args: FAST });
      const m = await ms.client();
      const r = await rs.client();
      try {
        await scenario(m, r, ms, "primary", diskless);
        assert.match(
          ms.output,
          /Partial resynchronization request from 127\.0\.0\.1:\d+ accepted\./,
        );
        await m.call("SET", "w", "1");
        assert.equal(await m.call("WAIT", 1, 5000), 1);
      } finally {
        await stopAll(m, r, ms, rs);
      }
    },
  });
}

Deno.test({
  name:
    "interop: redis-server -> tsredis -> redis-server chain keeps the id and offsets at every hop",
  ignore: !HAVE_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const ms = await startServer({ redis: true, args: FAST });
    const mid = await startServer({ args: FAST });
    const leaf = await startServer({ redis: true, args: FAST });
    const [m, t, l] = [await ms.client(), await mid.client(), await leaf.client()];
    try {
      await fillEveryType(m, "chain");
      await t.call("REPLICAOF", "127.0.0.1", ms.port);
      await waitSynced(m, t);
      await l.call("REPLICAOF", "127.0.0.1", mid.port);
      await waitSynced(t, l);
      await fillEveryType(m, "flow");
      await waitSynced(m, t);
      await waitSynced(t, l);
      // Same history, same offsets, same replication id at every hop.
      const [mi, ti, li] = [await info(m), await info(t), await info(l)];
      assert.equal(ti.get("master_replid"), mi.get("master_replid"));
      assert.equal(li.get("master_replid"), mi.get("master_replid"));
      assert.equal(li.get("master_repl_offset"), mi.get("master_repl_offset"));
      const ref = await snapshot(m);
      assert.deepEqual(await snapshot(t), ref);
      assert.deepEqual(await snapshot(l), ref);
    } finally {
      await stopAll(m, t, l, ms, mid, leaf);
    }
  },
});

Deno.test({
  name: "interop: INFO replication field names and order equal redis-server's in both roles",
  ignore: !HAVE_REDIS,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // redis-server primary + tsredis replica, tsredis primary + redis-server replica.
    const rm = await startServer({ redis: true, args: FAST });
    const tr = await startServer({ args: FAST });
    const tm = await startServer({ args: FAST });
    const rr = await startServer({ redis: true, args: FAST });
    const cs = await Promise.all([rm, tr, tm, rr].map((x) => x.client()));
    const [a, b, c, d] = cs;
    try {
      const names = (x: Map<string, string>) => [...x.keys()];
      assert.deepEqual(names(await info(c)), names(await info(a)), "lone master");
      await b.call("REPLICAOF", "127.0.0.1", rm.port);
      await d.call("REPLICAOF", "127.0.0.1", tm.port);
      await a.call("SET", "k", "v");
      await c.call("SET", "k", "v");
      await waitSynced(a, b);
      await waitSynced(c, d);
      const [ia, ib, ic, id] = [await info(a), await info(b), await info(c), await info(d)];
      assert.deepEqual(names(ic), names(ia), "master with one replica");
      assert.deepEqual(names(ib), names(id), "replica");
      for (
        const f of [
          "role",
          "connected_slaves",
          "repl_backlog_active",
          "repl_backlog_size",
          "second_repl_offset",
        ]
      ) {
        assert.equal(ic.get(f), ia.get(f), f);
      }
      for (
        const f of [
          "role",
          "master_link_status",
          "master_sync_in_progress",
          "slave_priority",
          "slave_read_only",
        ]
      ) {
        assert.equal(ib.get(f), id.get(f), f);
      }
      assert.match(
        ic.get("slave0")!,
        new RegExp(`^ip=127\\.0\\.0\\.1,port=${rr.port},state=online,offset=\\d+,lag=\\d+$`),
      );
      assert.deepEqual((await c.call("ROLE") as Reply[])[0], "master");
      assert.deepEqual(await b.call("ROLE"), [
        "slave",
        "127.0.0.1",
        rm.port,
        "connected",
        Number(ib.get("slave_repl_offset")),
      ]);
    } finally {
      await stopAll(...cs, rm, tr, tm, rr);
    }
  },
});
