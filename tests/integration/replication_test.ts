// Replication between real tsredis processes over TCP: full sync (diskless and disk) of every
// value type, the live stream, expiry propagated as DEL, READONLY replicas, INFO replication and
// ROLE on both sides, WAIT, partial resync after a dropped link, promotion with REPLICAOF NO ONE
// and a sibling continuing from the promoted node, plus the raw wire protocol of the primary.
import assert from "node:assert/strict";
import { type Reply, RespClient, type ServerProcess, startServer } from "../helpers.ts";
import { parseNodes, waitFor } from "../cluster/helpers.ts";
import { Backlog } from "../../lib/replication/backlog.ts";

const T = { sanitizeResources: false, sanitizeOps: false };
/** Diskless syncs start at once instead of after the default 5 s delay. */
const PING = "*1\r\n$4\r\nPING\r\n";
const FAST = ["--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes"];

function err(r: Reply): string {
  assert.ok(r instanceof Error, `expected an error reply, got ${JSON.stringify(r)}`);
  return r.message;
}

async function info(c: RespClient, section = "replication"): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const l of String(await c.call("INFO", section)).split("\r\n")) {
    if (l === "" || l.startsWith("#")) continue;
    const i = l.indexOf(":");
    m.set(l.slice(0, i), l.slice(i + 1));
  }
  return m;
}

function keysOf(m: Map<string, string>): string[] {
  return [...m.keys()];
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

/** Writes one key of every type and encoding, in several databases. */
async function fillEveryType(c: RespClient): Promise<void> {
  await c.call("SET", "str", "hello");
  await c.call("SET", "int", 12345);
  await c.call("SET", "big", "x".repeat(5000) + "y".repeat(100));
  await c.call("SET", "bin\x00\xff", "\x00\x01\xfe\xff\r\n");
  await c.call("SET", "ttl", "soon", "EX", 1000);
  await c.call("RPUSH", "list", "a", "b", "c", 1, 2);
  const many = Array.from({ length: 300 }, (_, i) => `item-${i}`);
  await c.call("RPUSH", "biglist", ...many);
  await c.call("SADD", "intset", 1, 2, 3, -7);
  await c.call("SADD", "set", "a", "b", "c");
  await c.call("SADD", "bigset", ...many);
  await c.call("HSET", "hash", "f1", "v1", "f2", 2);
  await c.call("HSET", "bighash", ...many.flatMap((m) => [m, "v".repeat(80)]));
  await c.call("ZADD", "zset", 1, "a", 2.5, "b", -3, "c");
  await c.call("ZADD", "bigzset", ...many.flatMap((m, i) => [i / 3, m]));
  await c.call("SELECT", 3);
  await c.call("SET", "in-db3", "three");
  await c.call("HSET", "h3", "k", "v");
  await c.call("SELECT", 0);
}

async function waitLinkUp(r: RespClient): Promise<void> {
  await waitFor(
    "master_link_status:up",
    async () => (await info(r)).get("master_link_status") === "up",
    30000,
  );
}

/** Waits until the replica processed everything the master produced. */
async function waitSynced(m: RespClient, r: RespClient): Promise<void> {
  await waitLinkUp(r);
  await waitFor("replica offset to reach the master's", async () => {
    const mo = (await info(m)).get("master_repl_offset");
    return (await info(r)).get("slave_repl_offset") === mo;
  }, 30000);
}

async function startPair(
  margs: string[] = [],
  rargs: string[] = [],
): Promise<{ ms: ServerProcess; rs: ServerProcess; m: RespClient; r: RespClient }> {
  const ms = await startServer({ args: [...FAST, ...margs] });
  const rs = await startServer({ args: [...FAST, ...rargs] });
  return { ms, rs, m: await ms.client(), r: await rs.client() };
}

async function stopAll(...items: (ServerProcess | RespClient)[]): Promise<void> {
  for (const i of items) if (i instanceof RespClient) i.close();
  await Promise.all(
    items.filter((i): i is ServerProcess => !(i instanceof RespClient)).map((s) => s.stop()),
  );
}

Deno.test({
  ...T,
  name: "full sync (diskless) of every type, then the live stream, MULTI/EXEC and SELECT",
  fn: async () => {
    const { ms, rs, m, r } = await startPair();
    try {
      await fillEveryType(m);
      assert.equal(await r.call("REPLICAOF", "127.0.0.1", ms.port), "OK");
      await waitSynced(m, r);
      assert.deepEqual(await snapshot(r), await snapshot(m));
      assert.match(ms.output, /Starting BGSAVE for SYNC with target: replicas sockets/);
      assert.match(
        rs.output,
        /MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk/,
      );
      assert.match(rs.output, /MASTER <-> REPLICA sync: Finished with success/);

      // Live stream: many command shapes, other dbs, a transaction, rewritten forms.
      await m.call("INCRBY", "int", 5);
      await m.call("APPEND", "str", " world");
      await m.call("LPUSH", "list", "z");
      await m.call("SREM", "set", "a");
      await m.call("HDEL", "hash", "f1");
      await m.call("ZINCRBY", "zset", 10, "a");
      await m.call("SET", "ex", "v", "EX", 500);
      await m.call("INCRBYFLOAT", "float", "1.5");
      await m.call("DEL", "biglist");
      await m.call("SELECT", 5);
      await m.call("SET", "in-db5", "five");
      await m.call("MULTI");
      await m.call("SET", "tx1", "a");
      await m.call("RPUSH", "tx-list", "x", "y");
      assert.deepEqual(await m.call("EXEC"), ["OK", 2]);
      await m.call("SELECT", 0);
      await waitSynced(m, r);
      assert.deepEqual(await snapshot(r), await snapshot(m));
      assert.equal(await r.call("GET", "int"), "12350");
    } finally {
      await stopAll(m, r, ms, rs);
    }
  },
});

Deno.test({
  ...T,
  name: "full sync from disk ($len payload), replicaof directive at start-up",
  fn: async () => {
    const ms = await startServer({ args: [...FAST, "--repl-diskless-sync", "no"] });
    const m = await ms.client();
    await fillEveryType(m);
    const rs = await startServer({ args: ["--replicaof", "127.0.0.1", String(ms.port)] });
    const r = await rs.client();
    try {
      await waitSynced(m, r);
      assert.deepEqual(await snapshot(r), await snapshot(m));
      assert.match(ms.output, /Starting BGSAVE for SYNC with target: disk/);
      assert.match(rs.output, /MASTER <-> REPLICA sync: receiving \d+ bytes from master to disk/);
      await m.call("SET", "after", "1");
      await waitSynced(m, r);
      assert.equal(await r.call("GET", "after"), "1");
      // The replica persisted what it received, like redis-server does with repl-diskless-load disabled.
      assert.ok(Deno.statSync(`${rs.dir}/dump.rdb`).size > 0);
    } finally {
      await stopAll(m, r, ms, rs);
    }
  },
});

Deno.test({
  ...T,
  name: "replica: READONLY, INFO replication and ROLE on both sides",
  fn: async () => {
    const { ms, rs, m, r } = await startPair();
    try {
      const before = await info(m);
      assert.deepEqual(keysOf(before), [
        "role",
        "connected_slaves",
        "master_failover_state",
        "master_replid",
        "master_replid2",
        "master_repl_offset",
        "second_repl_offset",
        "repl_backlog_active",
        "repl_backlog_size",
        "repl_backlog_first_byte_offset",
        "repl_backlog_histlen",
      ]);
      assert.equal(before.get("repl_backlog_active"), "0");
      assert.deepEqual(await m.call("ROLE"), ["master", 0, []]);

      await r.call("REPLICAOF", "127.0.0.1", ms.port);
      await waitSynced(m, r);
      await m.call("SET", "k", "v");
      await waitSynced(m, r);
      assert.equal(
        err(await r.call("SET", "k", "other")),
        "READONLY You can't write against a read only replica.",
      );
      assert.equal(await r.call("MULTI"), "OK");
      assert.equal(
        err(await r.call("DEL", "k")),
        "READONLY You can't write against a read only replica.",
      );
      assert.equal(
        err(await r.call("EXEC")),
        "EXECABORT Transaction discarded because of previous errors.",
      );
      assert.equal(await r.call("GET", "k"), "v");

      await waitFor("replica ack", async () => {
        const mi = await info(m);
        return mi.get("slave0")?.includes(`offset=${mi.get("master_repl_offset")}`) ?? false;
      });
      const mi = await info(m);
      assert.deepEqual(keysOf(mi), [
        "role",
        "connected_slaves",
        "slave0",
        ...keysOf(before).slice(2),
      ]);
      const off = Number(mi.get("master_repl_offset"));
      assert.ok(off > 0);
      assert.equal(mi.get("role"), "master");
      assert.equal(mi.get("connected_slaves"), "1");
      assert.match(
        mi.get("slave0")!,
        new RegExp(`^ip=127\\.0\\.0\\.1,port=${rs.port},state=online,offset=${off},lag=[01]$`),
      );
      assert.match(mi.get("master_replid")!, /^[0-9a-f]{40}$/);
      assert.equal(mi.get("master_replid2"), "0".repeat(40));
      assert.equal(mi.get("second_repl_offset"), "-1");
      assert.equal(mi.get("repl_backlog_active"), "1");
      assert.equal(mi.get("repl_backlog_size"), "1048576");
      assert.equal(mi.get("repl_backlog_first_byte_offset"), "1");
      assert.equal(mi.get("repl_backlog_histlen"), String(off));

      const ri = await info(r);
      assert.deepEqual(keysOf(ri), [
        "role",
        "master_host",
        "master_port",
        "master_link_status",
        "master_last_io_seconds_ago",
        "master_sync_in_progress",
        "slave_read_repl_offset",
        "slave_repl_offset",
        "slave_priority",
        "slave_read_only",
        "replica_announced",
        "connected_slaves",
        ...keysOf(before).slice(2),
      ]);
      assert.equal(ri.get("role"), "slave");
      assert.equal(ri.get("master_host"), "127.0.0.1");
      assert.equal(ri.get("master_port"), String(ms.port));
      assert.equal(ri.get("master_sync_in_progress"), "0");
      assert.equal(ri.get("slave_repl_offset"), String(off));
      assert.equal(ri.get("slave_read_repl_offset"), String(off));
      assert.equal(ri.get("master_replid"), mi.get("master_replid"));
      assert.equal(ri.get("master_repl_offset"), String(off));
      assert.equal(ri.get("slave_read_only"), "1");

      assert.deepEqual(await m.call("ROLE"), ["master", off, [[
        "127.0.0.1",
        String(rs.port),
        String(off),
      ]]]);
      assert.deepEqual(await r.call("ROLE"), ["slave", "127.0.0.1", ms.port, "connected", off]);
      const list = String(await r.call("CLIENT", "LIST", "TYPE", "master"));
      assert.match(list, /flags=M /);
      assert.match(String(await m.call("CLIENT", "LIST", "TYPE", "replica")), /flags=S /);

      assert.equal(
        await r.call("REPLICAOF", "127.0.0.1", ms.port),
        "OK Already connected to specified master",
      );
      assert.equal(err(await r.call("REPLICAOF", "127.0.0.1", "70000")), "ERR Invalid master port");
      assert.match(
        err(await r.call("WAIT", 1, 0)),
        /^ERR WAIT cannot be used with replica instances\./,
      );
    } finally {
      await stopAll(m, r, ms, rs);
    }
  },
});

Deno.test({
  ...T,
  name: "expiry: the primary deletes and propagates DEL; the replica hides but keeps expired keys",
  fn: async () => {
    const { ms, rs, m, r } = await startPair();
    try {
      await r.call("REPLICAOF", "127.0.0.1", ms.port);
      await waitSynced(m, r);
      assert.equal(await m.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), "OK");
      await m.call("SET", "gone", "v", "PX", 300);
      await m.call("SET", "stay", "v");
      await waitSynced(m, r);
      assert.equal(await r.call("GET", "gone"), "v");
      await new Promise((res) => setTimeout(res, 450));
      // Logically expired on the replica: reads miss, but only the master may delete it.
      assert.equal(await r.call("GET", "gone"), null);
      assert.equal(await r.call("EXISTS", "gone"), 0);
      assert.equal(await r.call("DBSIZE"), 2);
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(await r.call("DBSIZE"), 2);
      // A read on the master expires the key and replicates a DEL.
      assert.equal(await m.call("GET", "gone"), null);
      await waitSynced(m, r);
      assert.equal(await r.call("DBSIZE"), 1);
      assert.equal((await info(m, "stats")).get("expired_keys"), "1");
    } finally {
      await stopAll(m, r, ms, rs);
    }
  },
});

Deno.test({
  ...T,
  name: "expiry: a writable replica deletes the keys its own clients gave a TTL, not the master's",
  fn: async () => {
    const { ms, rs, m, r } = await startPair();
    try {
      await r.call("REPLICAOF", "127.0.0.1", ms.port);
      await waitSynced(m, r);
      assert.equal(await m.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), "OK");
      assert.equal(await r.call("CONFIG", "SET", "replica-read-only", "no"), "OK");
      await m.call("SET", "from-master", "v", "PX", 100);
      await waitSynced(m, r);
      await r.call("SET", "own", "v", "PX", 100);
      await r.call("SET", "own-later", "v", "EX", 100);
      await r.call("SELECT", 3);
      await r.call("SET", "own3", "v");
      await r.call("PEXPIRE", "own3", 100);
      await r.call("SELECT", 0);
      // The replica's active expiry (Redis expireSlaveKeys) removes its own expired keys: two.
      await waitFor("the replica's own keys to expire", async () => {
        const stats = await info(r, "stats");
        return stats.get("expired_keys") === "2";
      }, 5000);
      assert.equal(await r.call("EXISTS", "own"), 0);
      assert.equal(await r.call("TTL", "own-later") as number > 0, true);
      // The master's key is only hidden: the replica waits for the master's DEL.
      assert.equal(await r.call("DBSIZE"), 2);
      assert.equal(await r.call("GET", "from-master"), null);
      await r.call("SELECT", 3);
      assert.equal(await r.call("DBSIZE"), 0);
    } finally {
      await stopAll(m, r, ms, rs);
    }
  },
});

Deno.test({
  ...T,
  name: "WAIT returns the number of replicas that acknowledged, or times out",
  fn: async () => {
    const ms = await startServer({ args: FAST });
    const r1s = await startServer({ args: [...FAST, "--replicaof", "127.0.0.1", String(ms.port)] });
    const r2s = await startServer({ args: [...FAST, "--replicaof", "127.0.0.1", String(ms.port)] });
    const [m, r1, r2] = [await ms.client(), await r1s.client(), await r2s.client()];
    try {
      await waitSynced(m, r1);
      await waitSynced(m, r2);
      await waitFor("both online", async () => (await info(m)).get("connected_slaves") === "2");
      await m.call("SET", "a", "1");
      await m.call("INCR", "a");
      let t0 = Date.now();
      assert.equal(await m.call("WAIT", 2, 5000), 2);
      const fast = Date.now() - t0;
      assert.equal(await r1.call("GET", "a"), "2");
      assert.equal(await r2.call("GET", "a"), "2");
      t0 = Date.now();
      assert.equal(await m.call("WAIT", 3, 400), 2);
      const slow = Date.now() - t0;
      assert.ok(slow >= 390, `WAIT 3 400 returned after ${slow} ms`);
      // A client that never wrote has nothing to wait for.
      const other = await ms.client();
      assert.equal(await other.call("WAIT", 2, 0), 2);
      other.close();
      assert.equal(await m.call("WAIT", 0, 0), 2);
      assert.equal(
        err(await m.call("WAIT", "x", 0)),
        "ERR value is not an integer or out of range",
      );
      assert.equal(err(await m.call("WAIT", 1, -1)), "ERR timeout is negative");
      console.log(`WAIT 2 acked in ${fast} ms; WAIT 3 400 returned after ${slow} ms`);
    } finally {
      await stopAll(m, r1, r2, ms, r1s, r2s);
    }
  },
});

Deno.test({
  ...T,
  name: "partial resync after the link drops (either side), no new full sync",
  fn: async () => {
    const { ms, rs, m, r } = await startPair();
    try {
      await fillEveryType(m);
      await r.call("REPLICAOF", "127.0.0.1", ms.port);
      await waitSynced(m, r);
      const st0 = await info(m, "stats");
      assert.equal(st0.get("sync_full"), "1");
      assert.equal(await r.call("CLIENT", "KILL", "TYPE", "master"), 1);
      await m.call("SET", "during", "1");
      await m.call("RPUSH", "list", "more");
      await waitSynced(m, r);
      let st = await info(m, "stats");
      assert.equal(st.get("sync_full"), "1");
      assert.equal(st.get("sync_partial_ok"), "1");
      assert.match(rs.output, /Successful partial resynchronization with master\./);
      assert.match(ms.output, /Partial resynchronization request from 127\.0\.0\.1:\d+ accepted\./);

      assert.equal(await m.call("CLIENT", "KILL", "TYPE", "replica"), 1);
      await m.call("SET", "during2", "2");
      await waitSynced(m, r);
      st = await info(m, "stats");
      assert.equal(st.get("sync_full"), "1");
      assert.equal(st.get("sync_partial_ok"), "2");
      assert.deepEqual(await snapshot(r), await snapshot(m));
    } finally {
      await stopAll(m, r, ms, rs);
    }
  },
});

Deno.test({
  ...T,
  name: "REPLICAOF NO ONE keeps the data, shifts ids; a sibling continues from the new master",
  fn: async () => {
    const ms = await startServer({ args: FAST });
    const r1s = await startServer({ args: [...FAST, "--replicaof", "127.0.0.1", String(ms.port)] });
    const r2s = await startServer({ args: [...FAST, "--replicaof", "127.0.0.1", String(ms.port)] });
    const [m, r1, r2] = [await ms.client(), await r1s.client(), await r2s.client()];
    try {
      await fillEveryType(m);
      await waitSynced(m, r1);
      await waitSynced(m, r2);
      const old = await info(r1);
      assert.equal(await r1.call("REPLICAOF", "NO", "ONE"), "OK");
      const now = await info(r1);
      assert.equal(now.get("role"), "master");
      assert.equal(now.get("master_replid2"), old.get("master_replid"));
      assert.equal(
        now.get("second_repl_offset"),
        String(Number(old.get("master_repl_offset")) + 1),
      );
      assert.notEqual(now.get("master_replid"), old.get("master_replid"));
      assert.match(r1s.output, /MASTER MODE enabled \(user request from/);
      assert.deepEqual(await snapshot(r1), await snapshot(m));
      assert.equal(await r1.call("SET", "writable", "yes"), "OK");

      assert.equal(await r2.call("REPLICAOF", "127.0.0.1", r1s.port), "OK");
      await waitSynced(r1, r2);
      const st = await info(r1, "stats");
      assert.equal(st.get("sync_partial_ok"), "1");
      assert.equal(st.get("sync_full"), "0");
      assert.match(r2s.output, /Master replication ID changed to [0-9a-f]{40}/);
      assert.equal(await r2.call("GET", "writable"), "yes");
      await r1.call("SET", "later", "1");
      await waitSynced(r1, r2);
      assert.deepEqual(await snapshot(r2), await snapshot(r1));
    } finally {
      await stopAll(m, r1, r2, ms, r1s, r2s);
    }
  },
});

Deno.test({
  ...T,
  name: "replica-serve-stale-data no, min-replicas-to-write, REPLICAOF in cluster mode",
  fn: async () => {
    const ms = await startServer({
      args: [...FAST, "--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"],
    });
    const m = await ms.client();
    const rs = await startServer({
      args: ["--replica-serve-stale-data", "no", "--replicaof", "127.0.0.1", "1"],
    });
    const r = await rs.client();
    const cs = await startServer({ args: ["--cluster-enabled", "yes"] });
    const c = await cs.client();
    try {
      assert.equal(
        err(await m.call("SET", "k", "v")),
        "NOREPLICAS Not enough good replicas to write.",
      );
      assert.equal(await m.call("GET", "k"), null);
      assert.equal(
        err(await r.call("GET", "k")),
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
      );
      assert.equal((await info(r)).get("master_link_status"), "down");
      assert.equal((await r.call("ROLE") as Reply[])[0], "slave");
      assert.equal(
        err(await c.call("REPLICAOF", "127.0.0.1", 6379)),
        "ERR REPLICAOF not allowed in cluster mode.",
      );
      await r.call("REPLICAOF", "127.0.0.1", ms.port);
      await waitLinkUp(r);
      assert.equal(await r.call("GET", "k"), null);
      await waitFor(
        "good replica",
        async () => (await info(m)).get("min_slaves_good_slaves") === "1",
      );
      assert.equal(await m.call("SET", "k", "v"), "OK");
    } finally {
      await stopAll(m, r, c, ms, rs, cs);
    }
  },
});

Deno.test({
  ...T,
  name: "primary wire protocol: FULLRESYNC, $EOF payload, SELECT + commands, GETACK, CONTINUE",
  fn: async () => {
    const ms = await startServer({ args: FAST });
    const m = await ms.client();
    const fake = await ms.client();
    try {
      await m.call("SET", "k", "v");
      assert.equal(await fake.call("REPLCONF", "listening-port", 7777), "OK");
      assert.equal(await fake.call("REPLCONF", "capa", "eof", "capa", "psync2"), "OK");
      assert.equal(
        err(await fake.call("REPLCONF", "bogus", 1)),
        "ERR Unrecognized REPLCONF option: bogus",
      );
      await fake.send("PSYNC", "?", -1);
      const head = await fake.readRaw(1500);
      const mm = head.match(/^\+FULLRESYNC ([0-9a-f]{40}) (\d+)\r\n\$EOF:([0-9a-f]{40})\r\n/);
      assert.ok(mm, `unexpected start ${JSON.stringify(head.slice(0, 120))}`);
      const [, replid, offset, mark] = mm!;
      assert.equal(offset, "0");
      assert.ok(head.includes("REDIS0010"));
      assert.ok(head.endsWith(mark), "payload ends with the EOF mark");
      // Nothing is streamed before the first ACK.
      await m.call("SELECT", 2);
      await m.call("SET", "x", "1");
      assert.equal(await fake.readRaw(300), "");
      await fake.send("REPLCONF", "ACK", 0);
      const stream = await fake.readRaw(500);
      // The cron may slip a PING in (repl-ping-replica-period); it counts in the offset.
      assert.equal(
        stream.replaceAll(PING, ""),
        "*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n",
      );
      const mi = await info(m);
      assert.equal(mi.get("master_replid"), replid);
      assert.equal(mi.get("master_repl_offset"), String(stream.length));
      assert.match(mi.get("slave0")!, /^ip=127\.0\.0\.1,port=7777,state=online,offset=0,/);
      // WAIT asks for an ACK through the stream.
      const waiting = m.call("WAIT", 1, 2000);
      const getack = await fake.readRaw(500);
      assert.equal(
        getack.replaceAll(PING, ""),
        "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n",
      );
      const acked = stream.length + getack.length;
      await fake.send("REPLCONF", "ACK", acked);
      assert.equal(await waiting, 1);
      fake.close();
      await waitFor("link gone", async () => (await info(m)).get("connected_slaves") === "0");

      // Reconnect and continue from the backlog.
      await m.call("SET", "y", "2");
      const again = await ms.client();
      await again.call("REPLCONF", "capa", "psync2");
      await again.send("PSYNC", replid, acked + 1);
      const cont = await again.readRaw(800);
      assert.equal(
        cont.replaceAll(PING, ""),
        `+CONTINUE ${replid}\r\n*3\r\n$3\r\nSET\r\n$1\r\ny\r\n$1\r\n2\r\n`,
      );
      again.close();
      const st = await info(m, "stats");
      assert.equal(st.get("sync_partial_ok"), "1");
      assert.equal(st.get("sync_full"), "1");
    } finally {
      await stopAll(m, ms);
    }
  },
});

Deno.test({
  ...T,
  name: "full sync of a large dataset keeps the primary responsive",
  fn: async () => {
    const { ms, rs, m, r } = await startPair();
    try {
      const n = 200000;
      assert.equal(await m.call("DEBUG", "POPULATE", n, "key", 64), "OK");
      const probe = await ms.client();
      let maxLatency = 0;
      let pings = 0;
      let done = false;
      const pinger = (async () => {
        while (!done) {
          const t = performance.now();
          assert.equal(await probe.call("PING"), "PONG");
          maxLatency = Math.max(maxLatency, performance.now() - t);
          pings++;
          await new Promise((res) => setTimeout(res, 5));
        }
      })();
      const t0 = Date.now();
      await r.call("REPLICAOF", "127.0.0.1", ms.port);
      await waitLinkUp(r);
      const syncMs = Date.now() - t0;
      done = true;
      await pinger;
      probe.close();
      assert.equal(await r.call("DBSIZE"), n);
      const sample = Array.from({ length: 2000 }, (_, i) => `key:${i * 97}`);
      assert.deepEqual(await r.call("MGET", ...sample), await m.call("MGET", ...sample));
      console.log(
        `full sync of ${n} keys: ${syncMs} ms; ${pings} PINGs meanwhile, max latency ${
          maxLatency.toFixed(1)
        } ms`,
      );
      assert.ok(pings >= 5, `primary answered only ${pings} PINGs during the sync`);
      assert.ok(maxLatency < 1000, `primary stalled ${maxLatency} ms during the sync`);
    } finally {
      await stopAll(m, r, ms, rs);
    }
  },
});

Deno.test({
  ...T,
  name: "cluster mode: CLUSTER REPLICATE starts replication, manual failover swaps roles",
  fn: async () => {
    const args = [...FAST, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000"];
    const as = await startServer({ args });
    const bs = await startServer({ args });
    const [a, b] = [await as.client(), await bs.client()];
    try {
      assert.equal(await a.call("CLUSTER", "ADDSLOTSRANGE", 0, 16383), "OK");
      assert.equal(await a.call("CLUSTER", "MEET", "127.0.0.1", bs.port), "OK");
      const idA = String(await a.call("CLUSTER", "MYID"));
      await waitFor(
        "b knows a",
        async () => String(await b.call("CLUSTER", "NODES")).includes(idA),
      );
      await waitFor(
        "cluster ok",
        async () => String(await a.call("CLUSTER", "INFO")).includes("cluster_state:ok"),
      );
      for (let i = 0; i < 50; i++) assert.equal(await a.call("SET", `{t}k${i}`, i), "OK");
      assert.equal(await b.call("CLUSTER", "REPLICATE", idA), "OK");
      await waitSynced(a, b);
      assert.equal(await b.call("DBSIZE"), 50);
      assert.equal(
        err(await b.call("REPLICAOF", "NO", "ONE")),
        "ERR REPLICAOF not allowed in cluster mode.",
      );
      await a.call("SET", "{t}live", "1");
      await waitSynced(a, b);
      assert.equal(await b.call("READONLY"), "OK");
      assert.equal(await b.call("GET", "{t}live"), "1");

      // Manual failover (MFSTART) needs the master to know b as its replica, then compares
      // replication offsets before b is elected.
      const idB = String(await b.call("CLUSTER", "MYID"));
      await waitFor("a sees b as its replica", async () => {
        const l = parseNodes(String(await a.call("CLUSTER", "NODES"))).find((x) => x.id === idB);
        return l !== undefined && l.flags.includes("slave") && l.master === idA;
      });
      assert.equal(await b.call("CLUSTER", "FAILOVER"), "OK");
      await waitFor("b promoted, a follows b", async () => {
        const ib = await info(b);
        const ia = await info(a);
        return ib.get("role") === "master" && ia.get("role") === "slave" &&
          ia.get("master_port") === String(bs.port) && ia.get("master_link_status") === "up";
      }, 30000);
      assert.equal(await b.call("SET", "{t}after", "x"), "OK");
      await waitSynced(b, a);
      assert.equal(await a.call("READONLY"), "OK");
      assert.equal(await a.call("GET", "{t}after"), "x");
      // a had the same history: it continued from b's backlog instead of a full sync.
      assert.equal((await info(b, "stats")).get("sync_partial_ok"), "1");
      assert.equal((await info(b, "stats")).get("sync_full"), "0");
    } finally {
      await stopAll(a, b, as, bs);
    }
  },
});

Deno.test({
  ...T,
  name:
    "slow full sync: wait_bgsave / sync states, writes meanwhile, a second replica shares the BGSAVE",
  fn: async () => {
    // 400 keys x 5 ms per key: the snapshot takes about 2 s to produce.
    const ms = await startServer({
      args: [
        ...FAST,
        "--repl-diskless-sync",
        "no",
        "--rdb-key-save-delay",
        "5000",
        "--masterauth",
        "x",
      ],
      conf: "requirepass secret\n",
    });
    const m = await ms.client();
    assert.equal(await m.call("AUTH", "secret"), "OK");
    for (let i = 0; i < 400; i++) await m.call("SET", `k${i}`, i);
    const r1s = await startServer({ args: [...FAST, "--masterauth", "secret"] });
    const r2s = await startServer({ args: [...FAST, "--masterauth", "secret"] });
    const [r1, r2] = [await r1s.client(), await r2s.client()];
    try {
      await r1.call("REPLICAOF", "127.0.0.1", ms.port);
      await waitFor("first replica waits for the BGSAVE", async () => {
        return (await info(m)).get("slave0")?.includes("state=wait_bgsave") ?? false;
      });
      await r2.call("REPLICAOF", "127.0.0.1", ms.port);
      await waitFor(
        "second replica attached",
        async () => (await info(m)).get("connected_slaves") === "2",
      );
      await waitFor(
        "replica in transfer",
        async () => (await info(r1)).get("master_sync_in_progress") === "1",
      );
      const ri = await info(r1);
      assert.equal(ri.get("master_link_status"), "down");
      assert.equal(ri.get("master_sync_total_bytes"), "-1", "still waiting for the $<len> header");
      assert.equal(ri.get("master_sync_read_bytes"), "0");
      assert.equal(ri.get("master_sync_perc"), "0.00");
      assert.match(ri.get("master_link_down_since_seconds")!, /^-?\d+$/);
      assert.deepEqual(await r1.call("ROLE"), ["slave", "127.0.0.1", ms.port, "sync", -1]);
      // Writes during the snapshot reach both replicas after their RDB.
      for (let i = 0; i < 20; i++) await m.call("INCR", "during");
      await waitSynced(m, r1);
      await waitSynced(m, r2);
      assert.match(ms.output, /Waiting for end of BGSAVE for SYNC/);
      assert.equal((await info(m, "stats")).get("sync_full"), "2");
      assert.equal((await info(m, "persistence")).get("rdb_saves"), "1", "one BGSAVE served both");
      for (const r of [r1, r2]) {
        assert.equal(await r.call("GET", "during"), "20");
        assert.equal(await r.call("DBSIZE"), 401);
      }
    } finally {
      await stopAll(m, r1, r2, ms, r1s, r2s);
    }
  },
});

Deno.test({
  ...T,
  name: "backlog limits: PSYNC continues from a wrapped backlog, a larger gap needs a full sync",
  fn: async () => {
    const { ms, rs, m, r } = await startPair(["--repl-backlog-size", "100000"]);
    const write = async (tag: string, n: number) => {
      for (let i = 0; i < n; i++) await m.call("SET", `${tag}:${i}`, "v".repeat(1000));
    };
    try {
      await r.call("REPLICAOF", "127.0.0.1", ms.port);
      await waitSynced(m, r);
      await write("wrap", 250); // ~260 KB: the 100 KB backlog wrapped around twice
      await waitSynced(m, r);
      const mi = await info(m);
      assert.equal(mi.get("repl_backlog_histlen"), "100000");
      assert.equal(
        Number(mi.get("repl_backlog_first_byte_offset")),
        Number(mi.get("master_repl_offset")) - 100000 + 1,
      );
      // Point the replica elsewhere: it keeps its cached master while we write 42 KB.
      await r.call("REPLICAOF", "127.0.0.1", 1);
      await write("gap", 40);
      await r.call("REPLICAOF", "127.0.0.1", ms.port);
      await waitSynced(m, r);
      let st = await info(m, "stats");
      assert.equal(st.get("sync_partial_ok"), "1");
      assert.equal(st.get("sync_full"), "1");
      assert.deepEqual(await snapshot(r), await snapshot(m));
      // A gap larger than the backlog: the replica must be fully resynchronized.
      await r.call("REPLICAOF", "127.0.0.1", 1);
      await write("big", 150);
      await r.call("REPLICAOF", "127.0.0.1", ms.port);
      await waitSynced(m, r);
      st = await info(m, "stats");
      assert.equal(st.get("sync_full"), "2");
      // The first sync also counted one: the replica offered its own (unknown) history.
      assert.equal(st.get("sync_partial_err"), "2");
      assert.match(
        ms.output,
        /Unable to partial resync with replica 127\.0\.0\.1:\d+ for lack of backlog/,
      );
      assert.deepEqual(await snapshot(r), await snapshot(m));
    } finally {
      await stopAll(m, r, ms, rs);
    }
  },
});

Deno.test("backlog: offsets, wrap-around, growth, copies from any held offset, resize", () => {
  // Reference: the whole stream; the backlog must return its last `size` bytes by offset.
  let stream = new Uint8Array(0);
  const same = (a: Uint8Array, b: Uint8Array) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  const bl = new Backlog(100_000, 41); // created when master_repl_offset was 41
  assert.equal(bl.offset, 42);
  assert.equal(bl.histlen, 0);
  assert.equal(bl.copyFrom(42).length, 0);
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; i < 400; i++) {
    const n = i % 50 === 0 ? 70_000 : rnd() % 3000;
    const b = new Uint8Array(n).map(() => rnd() & 0xff);
    bl.append(b);
    const grown = new Uint8Array(stream.length + n);
    grown.set(stream);
    grown.set(b, stream.length);
    stream = grown;
    const end = 41 + stream.length;
    assert.equal(bl.histlen, Math.min(stream.length, 100_000));
    assert.equal(bl.offset, end - bl.histlen + 1);
    if (i % 37 === 0) {
      for (const from of [bl.offset, bl.offset + 1, end - 5, end + 1]) {
        assert.ok(
          same(bl.copyFrom(from), stream.subarray(from - 42)),
          `copy from ${from} at step ${i}`,
        );
      }
    }
  }
  assert.throws(() => bl.copyFrom(bl.offset - 1), RangeError);
  const end = 41 + stream.length;
  bl.resize(5_000);
  assert.equal(bl.histlen, 5_000);
  assert.equal(bl.offset, end - 4_999);
  assert.ok(same(bl.copyFrom(bl.offset), stream.subarray(stream.length - 5_000)));
  bl.append(new Uint8Array([1, 2, 3]));
  assert.deepEqual([...bl.copyFrom(end + 1)], [1, 2, 3]);
});
