// Persistence over real processes and files: SAVE/BGSAVE/LASTSAVE, restart with data and TTLs,
// point-in-time BGSAVE under concurrent writes, save points, the final save on SIGTERM/SIGINT,
// refusing damaged dumps, save failures and DEBUG RELOAD. DUMP/RESTORE: dump_restore_test.ts.
import assert from "node:assert/strict";
import {
  type RespClient,
  type ServerProcess,
  startServer,
  tempDir as makeTempDir,
} from "../helpers.ts";

const DEBUG = ["--enable-debug-command", "yes"];

const tempDir = () => makeTempDir("tsredis-persist-");

async function info(c: RespClient, field: string): Promise<string> {
  const text = (await c.call("INFO", "persistence")) as string;
  const m = new RegExp(`^${field}:(.*)$`, "m").exec(text);
  assert.ok(m, `INFO has ${field}`);
  return m[1].trim();
}

async function waitFor(
  cond: () => Promise<boolean>,
  ms = 10000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function fill(c: RespClient): Promise<void> {
  assert.equal(await c.call("SET", "str", "hello"), "OK");
  assert.equal(await c.call("SET", "num", "12345"), "OK");
  assert.equal(await c.call("SET", "bin", "a\x00b\xffc\r\n"), "OK");
  assert.equal(await c.call("SET", "ttl", "v", "PX", "100000"), "OK");
  await c.call("HSET", "hash", "f1", "v1", "f2", "2");
  await c.call("ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c");
  await c.call("RPUSH", "list", "x", "y", "3");
  await c.call("SADD", "set", "1", "2", "30000");
  await c.call("SELECT", "3");
  await c.call("SET", "db3key", "three");
  await c.call("SELECT", "0");
}

async function checkFilled(c: RespClient): Promise<void> {
  assert.equal(await c.call("GET", "str"), "hello");
  assert.equal(await c.call("GET", "num"), "12345");
  assert.equal(await c.call("GET", "bin"), "a\x00b\xffc\r\n");
  const pttl = (await c.call("PTTL", "ttl")) as number;
  assert.ok(pttl > 80000 && pttl <= 100000, `TTL survived (${pttl})`);
  assert.equal(await c.call("PTTL", "str"), -1);
  assert.deepEqual(await c.call("HGETALL", "hash"), ["f1", "v1", "f2", "2"]);
  assert.deepEqual(await c.call("ZRANGE", "zset", "0", "-1", "WITHSCORES"), [
    "c",
    "-inf",
    "a",
    "1",
    "b",
    "2.5",
  ]);
  assert.deepEqual(await c.call("LRANGE", "list", "0", "-1"), ["x", "y", "3"]);
  assert.deepEqual(((await c.call("SMEMBERS", "set")) as string[]).sort(), ["1", "2", "30000"]);
  await c.call("SELECT", "3");
  assert.equal(await c.call("GET", "db3key"), "three");
  await c.call("SELECT", "0");
}

async function restart(s: ServerProcess, args: string[] = []): Promise<ServerProcess> {
  await s.stop("SIGKILL");
  return await startServer({ dir: s.dir, args });
}

Deno.test("SAVE writes dump.rdb; a restart restores every type, TTLs and databases", async () => {
  let s = await startServer({ dir: tempDir() });
  try {
    let c = await s.client();
    await fill(c);
    const before = (await c.call("LASTSAVE")) as number;
    assert.equal(await c.call("SAVE"), "OK");
    assert.ok(((await c.call("LASTSAVE")) as number) >= before);
    assert.equal(await info(c, "rdb_changes_since_last_save"), "0");
    assert.equal(await info(c, "rdb_saves"), "1");
    assert.ok(s.output.includes("DB saved on disk"));
    assert.deepEqual(
      Array.from(Deno.readDirSync(s.dir), (e) => e.name).filter((n) => n.endsWith(".rdb")),
      [
        "dump.rdb",
      ],
    );
    c.close();
    s = await restart(s);
    c = await s.client();
    await checkFilled(c);
    assert.match(s.output, /Done loading RDB, keys loaded: 9, keys expired: 0\./);
    assert.match(s.output, /DB loaded from disk: [0-9]+\.[0-9]{3} seconds/);
    assert.equal(await info(c, "rdb_last_load_keys_loaded"), "9");
    c.close();
  } finally {
    await s.stop();
  }
});

Deno.test("keys already expired when the dump is loaded are dropped and counted", async () => {
  let s = await startServer({ dir: tempDir() });
  try {
    let c = await s.client();
    await c.call("SET", "short", "v", "PX", "300");
    await c.call("SET", "long", "v", "EX", "1000");
    assert.equal(await c.call("SAVE"), "OK");
    c.close();
    await new Promise((r) => setTimeout(r, 400));
    s = await restart(s);
    c = await s.client();
    assert.equal(await c.call("EXISTS", "short"), 0);
    assert.equal(await c.call("EXISTS", "long"), 1);
    assert.equal(await info(c, "rdb_last_load_keys_expired"), "1");
    assert.match(s.output, /keys loaded: 1, keys expired: 1\./);
    c.close();
  } finally {
    await s.stop();
  }
});

Deno.test("BGSAVE keeps a point-in-time view while other clients write", async () => {
  let s = await startServer({ dir: tempDir() });
  try {
    let c = await s.client();
    const writer = await s.client();
    for (let i = 0; i < 400; i++) await c.send("SET", `k${i}`, `v${i}`);
    for (let i = 0; i < 400; i++) await c.read();
    await c.call("HSET", "h", "a", "1");
    // 2 ms per key: the save takes about a second, during which clients must be served.
    assert.equal(await c.call("CONFIG", "SET", "rdb-key-save-delay", "2000"), "OK");
    assert.equal(await c.call("BGSAVE"), "Background saving started");
    assert.equal(await info(c, "rdb_bgsave_in_progress"), "1");
    assert.equal(
      ((await c.call("BGSAVE")) as Error).message,
      "ERR Background save already in progress",
    );
    assert.equal(
      ((await c.call("SAVE")) as Error).message,
      "ERR Background save already in progress",
    );
    let worst = 0;
    for (let i = 0; i < 400; i += 4) {
      const t0 = performance.now();
      assert.equal(await writer.call("SET", `k${i}`, "changed"), "OK");
      worst = Math.max(worst, performance.now() - t0);
    }
    assert.equal(await writer.call("DEL", "k1", "k2"), 2);
    await writer.call("HSET", "h", "b", "2");
    await writer.call("SET", "created-during-save", "x");
    assert.ok(worst < 250, `writes served during the save (worst ${worst.toFixed(0)} ms)`);
    assert.equal(await info(c, "rdb_bgsave_in_progress"), "1", "the save was still running");
    assert.equal(await info(c, "current_save_keys_total"), "401");
    await waitFor(
      async () => (await info(c, "rdb_bgsave_in_progress")) === "0",
      20000,
      "bgsave end",
    );
    assert.equal(await info(c, "rdb_last_bgsave_status"), "ok");
    assert.ok(s.output.includes("Background saving terminated with success"));
    // Writes made during the save stay counted as unsaved changes.
    assert.ok(Number(await info(c, "rdb_changes_since_last_save")) >= 100);
    c.close();
    writer.close();
    s = await restart(s);
    c = await s.client();
    assert.equal(await c.call("DBSIZE"), 401);
    assert.equal(await c.call("GET", "k0"), "v0");
    assert.equal(await c.call("GET", "k1"), "v1");
    assert.equal(await c.call("GET", "k396"), "v396");
    assert.equal(await c.call("EXISTS", "created-during-save"), 0);
    assert.deepEqual(await c.call("HGETALL", "h"), ["a", "1"]);
    c.close();
  } finally {
    await s.stop();
  }
});

Deno.test("BGSAVE survives FLUSHALL during the save with the old contents", async () => {
  let s = await startServer({ dir: tempDir() });
  try {
    let c = await s.client();
    for (let i = 0; i < 100; i++) await c.call("SET", `k${i}`, "v");
    await c.call("CONFIG", "SET", "rdb-key-save-delay", "5000");
    assert.equal(await c.call("BGSAVE"), "Background saving started");
    assert.equal(await c.call("FLUSHALL"), "OK");
    await c.call("SET", "after", "flush");
    await waitFor(
      async () => (await info(c, "rdb_bgsave_in_progress")) === "0",
      20000,
      "bgsave end",
    );
    c.close();
    s = await restart(s);
    c = await s.client();
    assert.equal(await c.call("DBSIZE"), 100);
    assert.equal(await c.call("EXISTS", "after"), 0);
    c.close();
  } finally {
    await s.stop();
  }
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} with save points writes the final snapshot and exits 0`, async () => {
    let s = await startServer({ dir: tempDir(), args: ["--save", "3600 1"] });
    try {
      const c = await s.client();
      await fill(c);
      c.close();
      assert.equal(await s.stop(signal), 0);
      assert.ok(s.output.includes("Saving the final RDB snapshot before exiting."));
      assert.ok(s.output.includes("DB saved on disk"));
      s = await startServer({ dir: s.dir });
      const c2 = await s.client();
      await checkFilled(c2);
      c2.close();
    } finally {
      await s.stop();
    }
  });
}

Deno.test("shutdown during a BGSAVE cancels it and writes the final snapshot", async () => {
  let s = await startServer({ dir: tempDir(), args: ["--save", "3600 1"] });
  try {
    const c = await s.client();
    for (let i = 0; i < 200; i++) await c.call("SET", `k${i}`, "v");
    await c.call("CONFIG", "SET", "rdb-key-save-delay", "100000");
    assert.equal(await c.call("BGSAVE"), "Background saving started");
    await c.call("CONFIG", "SET", "rdb-key-save-delay", "0");
    await c.call("SET", "late", "write");
    c.close();
    assert.equal(await s.stop("SIGTERM"), 0);
    assert.ok(s.output.includes("There is a child saving an .rdb. Killing it!"));
    assert.ok(s.output.includes("Saving the final RDB snapshot before exiting."));
    const leftovers = Array.from(Deno.readDirSync(s.dir), (e) => e.name).filter((n) =>
      n.startsWith("temp")
    );
    assert.deepEqual(leftovers, [], "no temp files left behind");
    s = await startServer({ dir: s.dir });
    const c2 = await s.client();
    assert.equal(await c2.call("DBSIZE"), 201);
    assert.equal(await c2.call("GET", "late"), "write", "the final save includes later writes");
    c2.close();
  } finally {
    await s.stop();
  }
});

Deno.test("BGSAVE inside MULTI is scheduled and then run by the cron", async () => {
  const s = await startServer({ dir: tempDir() });
  try {
    const c = await s.client();
    await c.call("SET", "k", "v");
    assert.equal(((await c.call("BGSAVE", "NOW")) as Error).message, "ERR syntax error");
    assert.equal(await c.call("MULTI"), "OK");
    assert.equal(await c.call("BGSAVE"), "QUEUED");
    assert.deepEqual(await c.call("EXEC"), ["Background saving scheduled"]);
    await waitFor(async () => (await info(c, "rdb_saves")) === "1", 5000, "scheduled save");
    await waitFor(async () => (await info(c, "rdb_bgsave_in_progress")) === "0", 5000, "save end");
    assert.equal(await info(c, "rdb_last_bgsave_status"), "ok");
    assert.ok(Deno.statSync(`${s.dir}/dump.rdb`).isFile);
    assert.equal(await c.call("BGSAVE", "SCHEDULE"), "Background saving started");
    c.close();
  } finally {
    await s.stop();
  }
});

Deno.test("without save points a SIGTERM does not write a dump", async () => {
  const s = await startServer({ dir: tempDir() });
  const c = await s.client();
  await c.call("SET", "k", "v");
  c.close();
  assert.equal(await s.stop("SIGTERM"), 0);
  assert.ok(!s.output.includes("Saving the final RDB snapshot"));
  assert.throws(() => Deno.statSync(`${s.dir}/dump.rdb`), Deno.errors.NotFound);
});

Deno.test("save points trigger a background save from the cron", async () => {
  const s = await startServer({ dir: tempDir(), args: ["--save", "1 2"] });
  try {
    const c = await s.client();
    await c.call("SET", "a", "1");
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(await info(c, "rdb_saves"), "0", "1 change is below the threshold");
    await c.call("SET", "b", "2");
    await waitFor(async () => (await info(c, "rdb_saves")) === "1", 5000, "save point");
    await waitFor(
      async () => (await info(c, "rdb_changes_since_last_save")) === "0",
      5000,
      "save end",
    );
    assert.match(s.output, /2 changes in 1 seconds\. Saving\.\.\./);
    assert.ok(Deno.statSync(`${s.dir}/dump.rdb`).size > 0);
    c.close();
  } finally {
    await s.stop();
  }
});

async function damagedStart(
  mutate: (b: Uint8Array) => Uint8Array,
  expected: RegExp,
): Promise<void> {
  const dir = tempDir();
  const s = await startServer({ dir });
  const c = await s.client();
  await c.call("SET", "key", "a plain string value");
  await c.call("HSET", "h", "f", "v");
  assert.equal(await c.call("SAVE"), "OK");
  c.close();
  await s.stop();
  const bad = mutate(Deno.readFileSync(`${dir}/dump.rdb`));
  Deno.writeFileSync(`${dir}/dump.rdb`, bad);
  const s2 = await startServer({ dir, noWait: true });
  const code = await s2.exited();
  assert.equal(code, 1, s2.output);
  assert.match(s2.output, expected);
  assert.ok(!s2.output.includes("Ready to accept connections"));
  assert.deepEqual(Deno.readFileSync(`${dir}/dump.rdb`), bad, "the dump is left untouched");
}

Deno.test("a truncated dump refuses to start with exit code 1", async () => {
  await damagedStart(
    (b) => b.slice(0, b.length - 20),
    /Short read or OOM loading DB\. Unrecoverable error, aborting now\./,
  );
});

Deno.test("a dump with a wrong checksum refuses to start with exit code 1", async () => {
  await damagedStart((b) => {
    const at = new TextDecoder("latin1").decode(b).indexOf("a plain string value");
    b[at] ^= 0x01;
    return b;
  }, /Wrong RDB checksum expected: \([0-9a-f]+\) but got \([0-9a-f]+\)\. Aborting now\./);
});

Deno.test("a file that is not an RDB refuses to start with exit code 1", async () => {
  await damagedStart(
    () => new TextEncoder().encode("hello, not a dump"),
    /Wrong signature trying to load DB/,
  );
});

Deno.test("failed saves: SAVE errors, BGSAVE reports err, shutdown refuses to exit", async () => {
  const s = await startServer({ dir: tempDir(), args: ["--save", "3600 1"] });
  try {
    const c = await s.client();
    await c.call("SET", "k", "v");
    // A directory where the temp file must go makes opening it fail.
    Deno.mkdirSync(`${s.dir}/temp-${s.proc.pid}.rdb`);
    Deno.mkdirSync(`${s.dir}/temp-${s.proc.pid}-bg1.rdb`);
    assert.equal(((await c.call("SAVE")) as Error).message, "ERR");
    assert.match(s.output, /Failed opening the temp RDB file temp-[0-9]+\.rdb/);
    assert.equal(await c.call("BGSAVE"), "Background saving started");
    await waitFor(
      async () => (await info(c, "rdb_bgsave_in_progress")) === "0",
      5000,
      "bgsave end",
    );
    assert.equal(await info(c, "rdb_last_bgsave_status"), "err");
    assert.ok(s.output.includes("Background saving error"));
    s.proc.kill("SIGTERM");
    await waitFor(() => Promise.resolve(s.output.includes("can't exit")), 5000, "refusal");
    // Still serving after the refused shutdown; as in Redis, a failed background save makes
    // PING and writes answer MISCONF (stop-writes-on-bgsave-error) while reads keep working.
    assert.equal(
      await c.call("DBSIZE") instanceof Error,
      false,
      "still serving after the refused shutdown",
    );
    const ping = await c.call("PING");
    assert.ok(ping instanceof Error && ping.message.startsWith("MISCONF"), "PING answers MISCONF");
    Deno.removeSync(`${s.dir}/temp-${s.proc.pid}.rdb`);
    c.close();
    assert.equal(await s.stop("SIGTERM"), 0);
    assert.ok(Deno.statSync(`${s.dir}/dump.rdb`).isFile);
  } finally {
    await s.stop("SIGKILL");
  }
});

Deno.test("after a failed background save, save points retry only after 5 seconds", async () => {
  const s = await startServer({ dir: tempDir(), args: ["--save", "1 1"] });
  try {
    Deno.mkdirSync(`${s.dir}/temp-${s.proc.pid}-bg1.rdb`);
    const c = await s.client();
    await c.call("SET", "k", "v");
    await waitFor(
      async () => (await info(c, "rdb_last_bgsave_status")) === "err",
      5000,
      "first failure",
    );
    const failedAt = Date.now();
    await waitFor(async () => (await info(c, "rdb_last_bgsave_status")) === "ok", 10000, "retry");
    const waited = Date.now() - failedAt;
    assert.ok(waited >= 4000, `retried after ${waited} ms`);
    assert.equal(s.output.match(/1 changes in 1 seconds\. Saving\.\.\./g)?.length, 2);
    assert.ok(Deno.statSync(`${s.dir}/dump.rdb`).isFile);
    c.close();
  } finally {
    await s.stop();
  }
});

Deno.test("DEBUG RELOAD saves and reloads, keeping the data", async () => {
  const s = await startServer({ dir: tempDir(), args: DEBUG });
  try {
    const c = await s.client();
    await fill(c);
    assert.equal(await c.call("DEBUG", "RELOAD"), "OK");
    await checkFilled(c);
    assert.ok(s.output.includes("DB reloaded by DEBUG RELOAD"));
    assert.equal(
      ((await c.call("DEBUG", "RELOAD", "BOGUS")) as Error).message,
      "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
    );
    await c.call("SET", "str", "changed");
    assert.equal(await c.call("DEBUG", "RELOAD", "NOSAVE"), "OK");
    assert.equal(await c.call("GET", "str"), "hello", "NOSAVE reloads the file as it was");
    const obj = (await c.call("DEBUG", "OBJECT", "str")) as string;
    assert.match(obj, /serializedlength:6/);
    c.close();
  } finally {
    await s.stop();
  }
});

Deno.test("INFO persistence lists Redis's fields", async () => {
  const s = await startServer({ dir: tempDir() });
  try {
    const c = await s.client();
    const text = (await c.call("INFO", "persistence")) as string;
    for (
      const f of [
        "loading:0",
        "async_loading:0",
        "rdb_bgsave_in_progress:0",
        "rdb_last_bgsave_status:ok",
        "rdb_last_bgsave_time_sec:-1",
        "rdb_current_bgsave_time_sec:-1",
        "aof_enabled:0",
        "module_fork_in_progress:0",
      ]
    ) assert.ok(text.includes(`${f}\r\n`), `has ${f}`);
    assert.match(text, /^# Persistence\r\n/);
    c.close();
  } finally {
    await s.stop();
  }
});
