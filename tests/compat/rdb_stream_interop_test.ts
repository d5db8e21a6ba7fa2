// Streams across tsredis and real redis-server 7.0.15, through RDB files and DUMP payloads.
// redis-server builds streams with XADD/XDEL/XTRIM/XSETID/XGROUP/XREADGROUP/XCLAIM/XACK (several
// groups and consumers, pending entries, tombstones, multi-node streams, big values, numeric
// fields) and saves; tsredis loads the file (same DEBUG DIGEST-VALUE per key), reloads it, saves;
// redis-check-rdb accepts tsredis's file and redis-server loading it reports the same XINFO
// STREAM FULL (node keys included), XRANGE and digests as the original. DUMP payloads RESTORE
// both ways and tsredis's are byte-identical to Redis's unless the stream's nodes hold
// tombstones (tsredis keeps its nodes, not the deleted entries). Full syncs carry streams from
// either server to the other; MEMORY USAGE stays within 10% of Redis's. Skipped when
// redis-server or redis-check-rdb is missing.
import assert from "node:assert/strict";
import {
  checkRdb,
  hasBinary,
  type Reply,
  type RespClient,
  startServer,
  tempDir as makeTempDir,
  withTsredisAndRedis,
} from "../helpers.ts";
import { crc64 } from "../../lib/persistence/crc64.ts";

const HAVE = hasBinary("redis-server") && hasBinary("redis-check-rdb");
const DEBUG = ["--enable-debug-command", "yes"];
if (!HAVE) console.log("rdb_stream_interop_test: redis-server/redis-check-rdb missing, skipping");

const tempDir = () => makeTempDir("tsredis-stream-interop-");

const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

type Cmd = (string | number)[];

/** Streams built by XADD alone (explicit IDs): their DUMP must be byte-identical. */
function xaddOnlyCommands(): Cmd[] {
  const cmds: Cmd[] = [];
  for (let i = 1; i <= 5; i++) cmds.push(["XADD", "xs:basic", `1-${i}`, "name", `n${i}`, "i", i]);
  // Several nodes by entry count; the ms part moves so seq deltas go negative.
  for (let i = 0; i < 350; i++) {
    cmds.push(["XADD", "xs:multi", `${1700000000000 + (i >> 2)}-${i & 3}`, "f", `v${i}`, "n", i]);
  }
  // Nodes split by bytes; numeric fields and values in every integer encoding, and non-canonical.
  const nums = ["0", "127", "-1", "4095", "-4096", "32767", "-32768", "8388607", "2147483647"];
  for (let i = 0; i < 40; i++) {
    cmds.push([
      "XADD",
      "xs:big",
      `${5000 + i}-0`,
      "123",
      i % 5 === 0 ? "x".repeat(3000) : nums[i % nums.length],
      "-9223372036854775808",
      "9223372036854775807",
      "007",
      "3.14",
    ]);
  }
  // Fields that change from entry to entry (no SAMEFIELDS flag).
  for (let i = 0; i < 30; i++) {
    const fv = i % 3 === 0 ? ["a", i] : i % 3 === 1 ? ["b", i, "c", "x"] : ["a", i, "b", i];
    cmds.push(["XADD", "xs:mixed", `7-${i}`, ...fv]);
  }
  // Deltas wrapping around 2^64 inside one node.
  cmds.push(["XADD", "xs:wrap", "5-10", "f", "a"]);
  cmds.push(["XADD", "xs:wrap", "6-0", "f", "b"]);
  cmds.push(["XADD", "xs:wrap", "18446744073709551614-18446744073709551615", "f", "c"]);
  cmds.push(["XADD", "xs:wrap", "18446744073709551615-0", "f", "d"]);
  // Binary fields and values, a long field name, an empty value.
  cmds.push(["XADD", "xs:binary", "1-0", "\x00\xff", "\r\n\x01", "k".repeat(70), ""]);
  cmds.push(["XADD", "xs:binary", "2-0", "\x00\xff", "v".repeat(5000), "k".repeat(70), "e"]);
  return cmds;
}

/** Groups, consumers and PELs on top of entries added by XADD only. */
function groupCommands(): Cmd[] {
  const k = "xs:groups";
  const cmds: Cmd[] = range(150, (i) => ["XADD", k, `${100 + i}-1`, "job", `j${i}`, "try", 0]);
  cmds.push(
    ["XGROUP", "CREATE", k, "g1", "0"],
    ["XGROUP", "CREATE", k, "g2", "$"],
    ["XGROUP", "CREATE", k, "g3", "150-1", "ENTRIESREAD", "51"],
    ["XGROUP", "CREATE", k, "123", "0"],
    ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", 10, "STREAMS", k, ">"],
    ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", 5, "STREAMS", k, ">"],
    ["XREADGROUP", "GROUP", "g1", "carol", "COUNT", 120, "STREAMS", k, ">"],
    ["XACK", k, "g1", "100-1", "102-1", "111-1"],
    ["XCLAIM", k, "g1", "bob", 0, "101-1", "103-1", "RETRYCOUNT", 7],
    ["XCLAIM", k, "g1", "dave", 0, "104-1", "IDLE", 5000],
    ["XCLAIM", k, "g1", "alice", 0, "112-1", "JUSTID"],
    ["XREADGROUP", "GROUP", "g3", "erin", "NOACK", "COUNT", 3, "STREAMS", k, ">"],
    ["XREADGROUP", "GROUP", "123", "456", "COUNT", 2, "STREAMS", k, ">"],
    ["XGROUP", "CREATECONSUMER", k, "g2", "idle"],
  );
  return cmds;
}

/** Streams with tombstones, trims, an empty stream with a group, XSETID, a TTL, db 3. */
function otherCommands(): Cmd[] {
  const cmds: Cmd[] = [];
  const d = "xs:deleted";
  for (let i = 0; i < 300; i++) cmds.push(["XADD", d, `${i + 1}-0`, "f", i, "g", `x${i}`]);
  cmds.push(["XGROUP", "CREATE", d, "g", "0"]);
  cmds.push(["XREADGROUP", "GROUP", "g", "c", "COUNT", 20, "STREAMS", d, ">"]);
  // Pending entries that were deleted afterwards, the first entry, a whole node, the middle.
  cmds.push(["XDEL", d, "1-0", "5-0", "10-0", "150-0", "299-0"]);
  cmds.push(["XDEL", d, ...range(100, (i) => `${201 + i}-0`).filter((x) => x !== "299-0")]);
  cmds.push(["XADD", d, "400-0", "f", "after", "g", "dels"]);
  const t = "xs:trimmed";
  for (let i = 0; i < 500; i++) cmds.push(["XADD", t, `${i + 1}-0`, "v", "y".repeat(i % 50)]);
  cmds.push(["XTRIM", t, "MINID", "~", "250-0"]);
  cmds.push(["XTRIM", t, "MAXLEN", 190]);
  const a = "xs:approx";
  for (let i = 0; i < 350; i++) cmds.push(["XADD", a, `${i + 1}-0`, "v", i]);
  cmds.push(["XTRIM", a, "MAXLEN", "~", 150]);
  // MINID trimming up to a tombstone leaves a node with no live entry: Redis keeps it.
  const h = "xs:hollow";
  for (let i = 1; i <= 3; i++) cmds.push(["XADD", h, `${i}-0`, "f", i]);
  cmds.push(["XDEL", h, "3-0"], ["XTRIM", h, "MINID", "3-0"]);
  cmds.push(["XGROUP", "CREATE", "xs:empty", "g", "$", "MKSTREAM"]);
  cmds.push(["XGROUP", "CREATECONSUMER", "xs:empty", "g", "c"]);
  cmds.push(["XADD", "xs:alldel", "1-1", "a", "1"], ["XADD", "xs:alldel", "1-2", "a", "2"]);
  cmds.push(["XDEL", "xs:alldel", "1-1", "1-2"]);
  cmds.push(["XADD", "xs:setid", "10-0", "a", "1"], ["XADD", "xs:setid", "20-0", "a", "2"]);
  cmds.push(["XSETID", "xs:setid", "30-5", "ENTRIESADDED", 40, "MAXDELETEDID", "15-0"]);
  cmds.push(["XADD", "xs:ttl", "1-0", "a", "1"], ["PEXPIRE", "xs:ttl", 600000]);
  cmds.push(["SELECT", 3], ["XADD", "xs:db3", "1-0", "in", "db3"], ["SELECT", 0]);
  return cmds;
}

const XADD_ONLY = ["xs:basic", "xs:multi", "xs:big", "xs:mixed", "xs:wrap", "xs:binary"];
/** Streams whose nodes still hold tombstones: tsredis keeps the nodes (keys, master fields,
 * counts) but not the deleted entries' content, so its payload has the nodes without them. */
const TOMBSTONES = ["xs:deleted", "xs:trimmed", "xs:hollow"];

async function run(c: RespClient, cmds: Cmd[]): Promise<void> {
  for (const cmd of cmds) {
    const r = await c.call(...cmd);
    assert.ok(!(r instanceof Error), `${cmd.slice(0, 4).join(" ")}: ${r}`);
  }
}

async function buildAll(c: RespClient): Promise<void> {
  await run(c, xaddOnlyCommands());
  await run(c, groupCommands());
  await run(c, otherCommands());
}

interface StreamState {
  info: Reply;
  range: Reply;
  digest: Reply;
  hasTtl: boolean;
}

/** What redis-server reports for every stream key of dbs 0 and 3. */
async function redisView(c: RespClient): Promise<Map<string, StreamState>> {
  const out = new Map<string, StreamState>();
  for (const db of [0, 3]) {
    await c.call("SELECT", db);
    const keys = ((await c.call("KEYS", "*")) as string[]).sort();
    for (const k of keys) {
      assert.equal(await c.call("TYPE", k), "stream");
      out.set(`${db}:${k}`, {
        info: await c.call("XINFO", "STREAM", k, "FULL", "COUNT", 0),
        range: await c.call("XRANGE", k, "-", "+"),
        digest: await c.call("DEBUG", "DIGEST-VALUE", k),
        hasTtl: ((await c.call("PTTL", k)) as number) > 0,
      });
    }
  }
  await c.call("SELECT", 0);
  return out;
}

function assertSameStreams(
  actual: Map<string, StreamState>,
  expected: Map<string, StreamState>,
  what: string,
): void {
  assert.deepEqual([...actual.keys()], [...expected.keys()], `${what}: same keys`);
  for (const [k, e] of expected) {
    const a = actual.get(k)!;
    assert.deepEqual(a.info, e.info, `${what}: XINFO STREAM ${k} FULL`);
    assert.deepEqual(a.range, e.range, `${what}: XRANGE ${k}`);
    assert.deepEqual(a.digest, e.digest, `${what}: DEBUG DIGEST-VALUE ${k}`);
    assert.equal(a.hasTtl, e.hasTtl, `${what}: TTL of ${k}`);
  }
}

/** True when tsredis has the stream commands (another part of the project adds them). */
async function hasStreamCommands(c: RespClient): Promise<boolean> {
  const info = (await c.call("COMMAND", "INFO", "XRANGE", "XINFO")) as Reply[];
  return info.every((x) => x !== null);
}

/** tsredis's own view, checked against redis-server's for the same keys. */
async function checkTsredis(
  t: RespClient,
  expected: Map<string, StreamState>,
  what: string,
): Promise<void> {
  const direct = await hasStreamCommands(t);
  if (!direct) console.log(`${what}: no XRANGE/XINFO in tsredis yet, compared by digests`);
  for (const [k, e] of expected) {
    const [db, key] = [Number(k.slice(0, 1)), k.slice(2)];
    await t.call("SELECT", db);
    assert.equal(await t.call("TYPE", key), "stream", `${what}: TYPE ${k}`);
    assert.equal(await t.call("OBJECT", "ENCODING", key), "stream");
    assert.deepEqual(
      await t.call("DEBUG", "DIGEST-VALUE", key),
      e.digest,
      `${what}: digest of ${k}`,
    );
    assert.equal(((await t.call("PTTL", key)) as number) > 0, e.hasTtl, `${what}: TTL of ${k}`);
    if (direct) {
      assert.deepEqual(await t.call("XRANGE", key, "-", "+"), e.range, `${what}: XRANGE ${k}`);
      assert.deepEqual(
        await t.call("XINFO", "STREAM", key, "FULL", "COUNT", 0),
        e.info,
        `${what}: XINFO STREAM ${k} FULL`,
      );
    }
  }
  await t.call("SELECT", 0);
}

Deno.test({
  name: "streams saved by redis-server load in tsredis, and tsredis's file loads back unchanged",
  ignore: !HAVE,
  async fn() {
    const dir = tempDir();
    const rs = await startServer({ dir, redis: true, args: DEBUG });
    let orig: Map<string, StreamState>;
    let digest: Reply;
    try {
      const c = await rs.client();
      await buildAll(c);
      orig = await redisView(c);
      digest = await c.call("DEBUG", "DIGEST");
      assert.equal(await c.call("SAVE"), "OK");
      c.close();
    } finally {
      await rs.stop();
    }
    const keys = orig.size;
    const ts = await startServer({ dir, args: DEBUG });
    try {
      const t = await ts.client();
      assert.equal(await t.call("DEBUG", "DIGEST"), digest, "dataset digest");
      assert.match(
        ts.output,
        new RegExp(`Done loading RDB, keys loaded: ${keys}, keys expired: 0`),
      );
      await checkTsredis(t, orig, "tsredis loading redis's file");
      assert.equal(await t.call("DEBUG", "RELOAD"), "OK");
      assert.equal(await t.call("DEBUG", "DIGEST"), digest, "digest after DEBUG RELOAD");
      await checkTsredis(t, orig, "tsredis after DEBUG RELOAD");
      assert.equal(await t.call("SAVE"), "OK");
      t.close();
    } finally {
      await ts.stop();
    }
    const report = await checkRdb(`${dir}/dump.rdb`);
    assert.match(report, /RDB looks OK/);
    assert.match(report, new RegExp(`${keys} keys read`));
    const back = await startServer({ dir, redis: true, args: DEBUG });
    try {
      const c = await back.client();
      assertSameStreams(await redisView(c), orig, "redis-server reading tsredis's file");
      assert.equal(await c.call("DEBUG", "DIGEST"), digest);
      c.close();
    } finally {
      await back.stop();
    }
  },
});

Deno.test({
  name: "stream DUMP payloads RESTORE both ways, byte-identical unless tombstones remain",
  ignore: !HAVE,
  async fn() {
    await withTsredisAndRedis(async (t, r) => {
      await buildAll(r);
      const orig = await redisView(r);
      for (const [k, e] of orig) {
        const [db, key] = [Number(k.slice(0, 1)), k.slice(2)];
        await r.call("SELECT", db);
        const p = (await r.call("DUMP", key)) as string;
        const ttl = Math.max(0, (await r.call("PTTL", key)) as number);
        assert.equal(await t.call("RESTORE", key, ttl, p), "OK", `RESTORE ${key} in tsredis`);
        assert.deepEqual(await t.call("DEBUG", "DIGEST-VALUE", key), e.digest, `digest of ${key}`);
        const q = (await t.call("DUMP", key)) as string;
        if (!TOMBSTONES.includes(key)) assert.equal(q, p, `DUMP ${key} byte-identical`);
        else assert.ok(q.length < p.length, `DUMP ${key}: the nodes without their tombstones`);
        // Back into redis-server, under another name.
        assert.equal(await r.call("RESTORE", `${key}:back`, 0, q), "OK", `RESTORE ${key}:back`);
        assert.deepEqual(
          await r.call("XINFO", "STREAM", `${key}:back`, "FULL", "COUNT", 0),
          e.info,
          `XINFO STREAM ${key}:back FULL`,
        );
        assert.deepEqual(await r.call("XRANGE", `${key}:back`, "-", "+"), e.range);
        assert.equal(await t.call("DEL", key), 1);
      }
      await r.call("SELECT", 0);
      // The same XADDs in both servers give the same DUMP (once tsredis has XADD).
      const direct = await hasStreamCommands(t);
      if (direct) {
        await run(t, xaddOnlyCommands());
        for (const key of XADD_ONLY) {
          assert.equal(await t.call("DUMP", key), await r.call("DUMP", key), `XADD ${key}: DUMP`);
        }
      } else console.log("no XADD in tsredis yet: DUMP equality checked through RESTORE only");
      // Non-default node limits: both servers split nodes the same way.
      for (const c of [r, t]) {
        assert.equal(await c.call("CONFIG", "SET", "stream-node-max-entries", 7), "OK");
        assert.equal(await c.call("CONFIG", "SET", "stream-node-max-bytes", 300), "OK");
      }
      const small = range(60, (i) => ["XADD", "xs:small", `${i + 1}-0`, "f", "z".repeat(i)]);
      await run(r, small);
      const p = (await r.call("DUMP", "xs:small")) as string;
      assert.equal(await t.call("RESTORE", "xs:small", 0, p), "OK");
      assert.equal(await t.call("DUMP", "xs:small"), p, "DUMP with small nodes byte-identical");
      if (direct) {
        const again = small.map((c) => [c[0], "xs:small2", ...c.slice(2)]);
        await run(t, again);
        await run(r, again);
        assert.equal(await t.call("DUMP", "xs:small2"), await r.call("DUMP", "xs:small2"));
      }
    }, { args: DEBUG });
  },
});

/** A DUMP payload with its body changed by `edit` and its CRC fixed. */
function tamper(p: string, edit: (b: Uint8Array) => Uint8Array): string {
  const body = edit(Uint8Array.from(p.slice(0, -10), (ch) => ch.charCodeAt(0)));
  const out = new Uint8Array(body.length + 10);
  out.set(body);
  out.set(Uint8Array.from(p.slice(-10, -8), (ch) => ch.charCodeAt(0)), body.length);
  new DataView(out.buffer).setBigUint64(body.length + 2, crc64(out, 0, body.length + 2), true);
  return String.fromCharCode(...out);
}

Deno.test({
  name: "RESTORE of a damaged stream payload is refused like Redis does (Bad data format)",
  ignore: !HAVE,
  async fn() {
    // Uncompressed payloads, so the test can find what it damages.
    const rs = await startServer({
      redis: true,
      args: [...DEBUG, "--sanitize-dump-payload", "yes", "--rdbcompression", "no"],
    });
    const ts = await startServer({ args: DEBUG });
    try {
      const r = await rs.client();
      const t = await ts.client();
      await run(r, groupCommands());
      const p = (await r.call("DUMP", "xs:groups")) as string;
      const at = (s: string) => p.indexOf(s);
      const damaged: [string, string][] = [
        // A value byte inside the first listpack becomes a bogus encoding byte.
        [
          "listpack element",
          tamper(p, (b) => {
            const i = at("j0") - 1; // the element's string header
            b[i] = 0xf5;
            return b;
          }),
        ],
        // The first listpack's total-bytes header no longer matches (type, node count, key,
        // 2-byte blob length, then the listpack).
        [
          "listpack header",
          tamper(p, (b) => {
            b[21] ^= 0x01;
            return b;
          }),
        ],
        // alice's first pending ID is not in g1's PEL: change one byte of it.
        [
          "consumer PEL entry",
          tamper(p, (b) => {
            const i = at("alice") + 5 + 8 + 1 + 15;
            b[i] ^= 0x7f;
            return b;
          }),
        ],
        ["truncated", tamper(p, (b) => b.subarray(0, b.length - 3))],
      ];
      for (const [what, bad] of damaged) {
        const got = await t.call("RESTORE", "k", 0, bad);
        assert.ok(got instanceof Error, `${what}: refused by tsredis`);
        assert.equal(got.message, "ERR Bad data format", what);
        const want = await r.call("RESTORE", "k", 0, bad);
        assert.ok(
          want instanceof Error && want.message === "ERR Bad data format",
          `${what}: Redis`,
        );
      }
      assert.equal(await t.call("EXISTS", "k"), 0);
      // The intact payload still restores.
      assert.equal(await t.call("RESTORE", "k", 0, p), "OK");
      r.close();
      t.close();
    } finally {
      await rs.stop();
      await ts.stop();
    }
  },
});

Deno.test({
  name: "MEMORY USAGE of streams is within 10% of what redis-server reports",
  ignore: !HAVE,
  async fn() {
    await withTsredisAndRedis(async (t, r) => {
      await buildAll(r);
      for (const key of [...XADD_ONLY, "xs:groups", "xs:deleted", "xs:empty"]) {
        assert.equal(await t.call("RESTORE", key, 0, (await r.call("DUMP", key)) as string), "OK");
        for (const samples of [5, 0]) {
          const want = (await r.call("MEMORY", "USAGE", key, "SAMPLES", samples)) as number;
          const got = (await t.call("MEMORY", "USAGE", key, "SAMPLES", samples)) as number;
          assert.ok(Math.abs(got - want) <= want / 10, `${key}: tsredis ${got}, redis ${want}`);
        }
      }
    }, { args: DEBUG });
  },
});

async function waitFor(cond: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function linkUp(c: RespClient): Promise<boolean> {
  return /master_link_status:up/.test(String(await c.call("INFO", "replication")));
}

Deno.test({
  name: "full syncs carry streams between redis-server and tsredis, in both directions",
  ignore: !HAVE,
  async fn() {
    const fast = [...DEBUG, "--repl-diskless-sync-delay", "0"];
    const rs = await startServer({ redis: true, args: fast });
    const tsPrimary = await startServer({ args: fast });
    let ts = null;
    let rsReplica = null;
    try {
      const r = await rs.client();
      await buildAll(r);
      const orig = await redisView(r);
      const keys = orig.size;
      // redis-server primary, tsredis replica: the streams come in the RDB of the full sync.
      ts = await startServer({ args: ["--replicaof", "127.0.0.1", String(rs.port), ...fast] });
      const t = await ts.client();
      await waitFor(() => linkUp(t), "tsredis replica link");
      await waitFor(async () => (await t.call("DBSIZE")) === keys - 1, "keys in db 0");
      await checkTsredis(t, orig, "tsredis replica of redis-server");
      assert.deepEqual(await t.call("DEBUG", "DIGEST"), await r.call("DEBUG", "DIGEST"));
      // tsredis primary (streams RESTOREd from redis-server's DUMPs), redis-server replica.
      const p = await tsPrimary.client();
      for (const k of orig.keys()) {
        const [db, key] = [Number(k.slice(0, 1)), k.slice(2)];
        await r.call("SELECT", db);
        await p.call("SELECT", db);
        const ttl = Math.max(0, (await r.call("PTTL", key)) as number);
        const payload = (await r.call("DUMP", key)) as string;
        assert.equal(await p.call("RESTORE", key, ttl, payload), "OK");
      }
      await r.call("SELECT", 0);
      await p.call("SELECT", 0);
      rsReplica = await startServer({
        redis: true,
        args: [...DEBUG, "--replicaof", "127.0.0.1", String(tsPrimary.port)],
      });
      const rr = await rsReplica.client();
      await waitFor(() => linkUp(rr), "redis-server replica link");
      await waitFor(async () => (await rr.call("DBSIZE")) === keys - 1, "keys in db 0");
      assertSameStreams(await redisView(rr), orig, "redis-server replica of tsredis");
      assert.deepEqual(await rr.call("DEBUG", "DIGEST"), await r.call("DEBUG", "DIGEST"));
      for (const c of [r, t, p, rr]) c.close();
    } finally {
      await rsReplica?.stop();
      await tsPrimary.stop();
      await ts?.stop();
      await rs.stop();
    }
  },
});
