// MIGRATE between two servers: single key and KEYS forms, COPY, REPLACE, TTLs, destination db,
// AUTH, NOKEY, target errors and connection errors; RESTORE-ASKING; key positions.
import assert from "node:assert/strict";
import { freePort, type Reply, startServer, withServer } from "../helpers.ts";

/** TEST_REAL_REDIS=1 runs the same assertions against redis-server, to check the tests themselves. */
const REAL = { redis: Deno.env.get("TEST_REAL_REDIS") === "1" };

function errText(r: Reply): string {
  assert.ok(r instanceof Error, `expected an error, got ${JSON.stringify(r)}`);
  return r.message;
}

Deno.test("MIGRATE: move, copy, replace, TTL, db, KEYS, errors", async () => {
  const target = await startServer({ ...REAL, args: ["--requirepass", "sekret"] });
  const t = await target.client();
  await t.call("AUTH", "sekret");
  try {
    await withServer(async (c) => {
      const tp = String(target.port);
      await c.call("SET", "k", "v");
      await c.call("PEXPIRE", "k", "100000");
      await c.call("RPUSH", "l", "a", "b");
      // The target wants a password.
      assert.match(
        errText(await c.call("MIGRATE", "127.0.0.1", tp, "k", "0", "5000")),
        /^ERR Target instance replied with error: NOAUTH/,
      );
      assert.equal(await c.call("EXISTS", "k"), 1);
      assert.equal(
        await c.call("MIGRATE", "127.0.0.1", tp, "k", "0", "5000", "AUTH", "sekret"),
        "OK",
      );
      assert.equal(await c.call("EXISTS", "k"), 0);
      assert.equal(await t.call("GET", "k"), "v");
      const pttl = await t.call("PTTL", "k") as number;
      assert.ok(pttl > 90000 && pttl <= 100000, `pttl ${pttl}`);

      // COPY keeps the source; an existing target key needs REPLACE.
      await c.call("SET", "k", "v2");
      assert.equal(
        errText(
          await c.call("MIGRATE", "127.0.0.1", tp, "k", "0", "5000", "COPY", "AUTH", "sekret"),
        ),
        "ERR Target instance replied with error: BUSYKEY Target key name already exists.",
      );
      assert.equal(
        await c.call(
          "MIGRATE",
          "127.0.0.1",
          tp,
          "k",
          "0",
          "5000",
          "COPY",
          "REPLACE",
          "AUTH2",
          "default",
          "sekret",
        ),
        "OK",
      );
      assert.equal(await c.call("GET", "k"), "v2");
      assert.equal(await t.call("GET", "k"), "v2");
      assert.equal(await t.call("PTTL", "k"), -1);

      // KEYS form into another db; missing keys are skipped.
      await c.call("SET", "k2", "x");
      assert.equal(
        await c.call(
          "MIGRATE",
          "127.0.0.1",
          tp,
          "",
          "3",
          "5000",
          "AUTH",
          "sekret",
          "KEYS",
          "l",
          "nosuch",
          "k2",
        ),
        "OK",
      );
      assert.equal(await c.call("EXISTS", "l", "k2"), 0);
      await t.call("SELECT", "3");
      assert.deepEqual(await t.call("LRANGE", "l", "0", "-1"), ["a", "b"]);
      assert.equal(await t.call("GET", "k2"), "x");
      await t.call("SELECT", "0");

      assert.equal(
        await c.call("MIGRATE", "127.0.0.1", tp, "", "0", "5000", "KEYS", "nosuch"),
        "NOKEY",
      );
      assert.equal(await c.call("MIGRATE", "127.0.0.1", tp, "nosuch", "0", "5000"), "NOKEY");
      assert.equal(
        errText(await c.call("MIGRATE", "127.0.0.1", tp, "k", "0", "5000", "KEYS", "k")),
        "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
      );
      assert.equal(
        errText(await c.call("MIGRATE", "127.0.0.1", tp, "k", "0", "5000", "FOO")),
        "ERR syntax error",
      );
      assert.equal(
        errText(await c.call("MIGRATE", "127.0.0.1", tp, "k", "0", "x")),
        "ERR value is not an integer or out of range",
      );
      assert.equal(
        errText(await c.call("MIGRATE", "127.0.0.1", String(freePort()), "k", "0", "1000")),
        "IOERR error or timeout writing to target instance",
      );
      assert.equal(await c.call("GET", "k"), "v2");
      assert.deepEqual(
        await c.call(
          "COMMAND",
          "GETKEYS",
          "MIGRATE",
          "h",
          "1",
          "",
          "0",
          "5",
          "AUTH2",
          "u",
          "p",
          "KEYS",
          "a",
          "b",
        ),
        ["a", "b"],
      );
      assert.deepEqual(await c.call("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "5"), [
        "k",
      ]);
      assert.match(String(await c.call("INFO", "stats")), /migrate_cached_sockets:1\r\n/);
    }, REAL);
  } finally {
    t.close();
    await target.stop();
  }
});

Deno.test("RESTORE-ASKING restores like RESTORE", async () => {
  await withServer(async (c) => {
    await c.call("SET", "k", "v");
    const payload = await c.call("DUMP", "k") as string;
    assert.equal(await c.call("RESTORE-ASKING", "k2", "0", payload), "OK");
    assert.equal(await c.call("GET", "k2"), "v");
    assert.equal(
      errText(await c.call("RESTORE-ASKING", "k2", "0", payload)),
      "BUSYKEY Target key name already exists.",
    );
  }, REAL);
});
