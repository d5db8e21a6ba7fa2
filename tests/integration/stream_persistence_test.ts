// Streams through tsredis's own persistence paths, over real processes and files: RESTORE of a
// stream with groups, PELs and consumers, then SAVE + restart, BGSAVE while the streams change in
// place (the snapshot's copy) + restart, DEBUG RELOAD and a replica's full sync all give back the
// same DUMP payload and digest;
// DEBUG OBJECT, OBJECT ENCODING, MEMORY USAGE; damaged payloads are refused. Interop with
// redis-server: tests/compat/rdb_stream_interop_test.ts.
import assert from "node:assert/strict";
import {
  type RespClient,
  type ServerProcess,
  startServer,
  tempDir as makeTempDir,
} from "../helpers.ts";
import { createDumpPayload } from "../../lib/persistence/rdb_writer.ts";
import { crc64 } from "../../lib/persistence/crc64.ts";
import {
  StreamConsumer,
  StreamGroup,
  streamId,
  type StreamNack,
  StreamValue,
} from "../../lib/store/stream.ts";

const ARGS = ["--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0"];
const OPTS = { compression: true, listFill: -2 };

const tempDir = () => makeTempDir("tsredis-stream-");

const latin1 = (b: Uint8Array) => Array.from(b, (x) => String.fromCharCode(x)).join("");

/** 230 entries over several nodes, a big value, two groups with pending entries. */
function stream(): StreamValue {
  const s = new StreamValue();
  for (let i = 0; i < 230; i++) {
    const fv = ["sensor", `s${i % 4}`, "reading", String(i * 3 - 50)];
    if (i === 7) fv.push("blob", "b".repeat(6000));
    s.append(streamId(1700000000000n + BigInt(i >> 1), BigInt(i & 1)), fv);
  }
  const g = new StreamGroup(s.ids[40], 41);
  for (const [name, from, to] of [["ann", 0, 20], ["ben", 20, 41]] as const) {
    const c = new StreamConsumer(name, 1700000009000);
    g.consumers.set(name, c);
    for (let i = from; i < to; i += 3) {
      const n: StreamNack = { deliveryTime: 1700000005000 + i, deliveryCount: 1 + i, consumer: c };
      g.pel.set(s.ids[i], n);
      c.pel.set(s.ids[i], n);
    }
  }
  s.groups.set("workers", g);
  s.groups.set("late", new StreamGroup(s.lastId, 230));
  return s;
}

const PAYLOAD = latin1(createDumpPayload(stream(), OPTS));

async function waitFor(cond: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function infoField(c: RespClient, section: string, field: string): Promise<string> {
  const text = (await c.call("INFO", section)) as string;
  return new RegExp(`^${field}:(.*)$`, "m").exec(text)?.[1].trim() ?? "";
}

/** The stream keys hold exactly what was restored. */
async function check(c: RespClient, digest: unknown, what: string): Promise<void> {
  assert.equal(await c.call("DUMP", "s"), PAYLOAD, `${what}: DUMP s`);
  assert.deepEqual(await c.call("DEBUG", "DIGEST-VALUE", "s"), digest, `${what}: digest`);
  const ttl = (await c.call("PTTL", "s:ttl")) as number;
  assert.ok(ttl > 0 && ttl <= 900000, `${what}: TTL kept (${ttl})`);
  assert.equal(await c.call("TYPE", "s:ttl"), "stream");
}

Deno.test("streams survive SAVE, BGSAVE, DEBUG RELOAD and restarts byte for byte", async () => {
  let s: ServerProcess = await startServer({ dir: tempDir(), args: ARGS });
  try {
    let c = await s.client();
    assert.equal(await c.call("RESTORE", "s", 0, PAYLOAD), "OK");
    assert.equal(await c.call("RESTORE", "s:ttl", 900000, PAYLOAD), "OK");
    assert.equal(await c.call("TYPE", "s"), "stream");
    assert.equal(await c.call("OBJECT", "ENCODING", "s"), "stream");
    const digest = await c.call("DEBUG", "DIGEST-VALUE", "s");
    assert.ok(Array.isArray(digest) && digest.length === 1);
    assert.match(String(digest[0]), /^[0-9a-f]{40}$/);
    assert.notEqual(digest[0], "0".repeat(40));
    // serializedlength: the payload minus its type byte and 10-byte footer.
    assert.match(
      String(await c.call("DEBUG", "OBJECT", "s")),
      new RegExp(`encoding:stream serializedlength:${PAYLOAD.length - 11} `),
    );
    const mem = (await c.call("MEMORY", "USAGE", "s")) as number;
    assert.ok(mem > 6000 && mem < 100000, `MEMORY USAGE ${mem}`);
    await check(c, digest, "restored");

    assert.equal(await c.call("SAVE"), "OK");
    c.close();
    await s.stop("SIGKILL");
    s = await startServer({ dir: s.dir, args: ARGS });
    c = await s.client();
    await check(c, digest, "after SAVE and restart");

    // A slow BGSAVE (0.3 s per key) while the streams change in place: the file keeps them as
    // they were when the save started (the snapshot's copy of a stream).
    assert.equal(await c.call("CONFIG", "SET", "rdb-key-save-delay", 300000), "OK");
    assert.equal(await c.call("BGSAVE"), "Background saving started");
    const first = (await c.call("XRANGE", "s", "-", "+", "COUNT", 1)) as string[][];
    for (const key of ["s", "s:ttl"]) {
      assert.match(String(await c.call("XADD", key, "*", "during", "save")), /^\d+-\d+$/);
      assert.equal(await c.call("XDEL", key, first[0][0]), 1);
      assert.equal(await c.call("XACK", key, "workers", first[0][0]), 1);
      assert.equal(await c.call("XGROUP", "DESTROY", key, "late"), 1);
      await c.call("XREADGROUP", "GROUP", "workers", "zed", "COUNT", 5, "STREAMS", key, ">");
    }
    assert.equal(await infoField(c, "persistence", "rdb_bgsave_in_progress"), "1");
    assert.notDeepEqual(await c.call("DEBUG", "DIGEST-VALUE", "s"), digest);
    await waitFor(
      async () => (await infoField(c, "persistence", "rdb_bgsave_in_progress")) === "0",
      "BGSAVE end",
    );
    assert.equal(await infoField(c, "persistence", "rdb_last_bgsave_status"), "ok");
    c.close();
    await s.stop("SIGKILL");
    s = await startServer({ dir: s.dir, args: ARGS });
    c = await s.client();
    await check(c, digest, "after BGSAVE and restart");

    assert.equal(await c.call("DEBUG", "RELOAD"), "OK");
    await check(c, digest, "after DEBUG RELOAD");
    c.close();
  } finally {
    await s.stop();
  }
});

Deno.test("a replica receives streams in its full sync", async () => {
  const ms = await startServer({ args: ARGS });
  const rs = await startServer({ args: ARGS });
  try {
    const m = await ms.client();
    const r = await rs.client();
    assert.equal(await m.call("RESTORE", "s", 0, PAYLOAD), "OK");
    assert.equal(await m.call("RESTORE", "s:ttl", 900000, PAYLOAD), "OK");
    const digest = await m.call("DEBUG", "DIGEST-VALUE", "s");
    assert.equal(await r.call("REPLICAOF", "127.0.0.1", ms.port), "OK");
    await waitFor(
      async () => (await infoField(r, "replication", "master_link_status")) === "up",
      "replication link",
    );
    await waitFor(async () => (await r.call("EXISTS", "s", "s:ttl")) === 2, "keys on the replica");
    await check(r, digest, "replica");
    assert.equal(await r.call("DEBUG", "DIGEST"), await m.call("DEBUG", "DIGEST"));
    m.close();
    r.close();
  } finally {
    await rs.stop();
    await ms.stop();
  }
});

/** The payload with one body byte changed and its CRC fixed, so only the decoder can object. */
function damaged(at: number, value: number): string {
  const b = Uint8Array.from(PAYLOAD, (ch) => ch.charCodeAt(0));
  b[at] = value;
  new DataView(b.buffer).setBigUint64(b.length - 8, crc64(b, 0, b.length - 8), true);
  return latin1(b);
}

Deno.test("RESTORE of a damaged stream payload: ERR Bad data format, nothing stored", async () => {
  const s = await startServer({ args: ARGS });
  try {
    const c = await s.client();
    // Type, node count, key length, the 16-byte key, then the first (compressed) listpack. The
    // body ends with ben's PEL ("workers" sorts after "late", "ben" after "ann"): 7 raw IDs
    // after their count.
    const benPel = PAYLOAD.length - 10 - 7 * 16;
    assert.equal(PAYLOAD.charCodeAt(benPel - 1), 7);
    const cases: [string, string][] = [
      ["a 15-byte node key", damaged(2, 15)],
      ["60 nodes announced", damaged(1, 60)],
      ["the listpack blob becomes an 8-bit integer", damaged(19, 0xc0)],
      ["ben's last pending ID is not in the group PEL", damaged(PAYLOAD.length - 11, 5)],
      ["a group PEL entry without consumer", damaged(benPel - 1, 6)],
      ["ben's PEL runs into the footer", damaged(benPel - 1, 8)],
    ];
    for (const [what, p] of cases) {
      const r = await c.call("RESTORE", "k", 0, p);
      assert.ok(r instanceof Error, what);
      assert.equal(r.message, "ERR Bad data format", what);
      assert.equal(await c.call("EXISTS", "k"), 0);
    }
    const truncated = PAYLOAD.slice(0, 300) + PAYLOAD.slice(-10);
    const r = await c.call("RESTORE", "k", 0, truncated);
    assert.ok(
      r instanceof Error && /DUMP payload version or checksum are wrong|Bad data/.test(r.message),
    );
    assert.equal(await c.call("PING"), "PONG");
    c.close();
  } finally {
    await s.stop();
  }
});
