// maxmemory with the noeviction policy: commands that may grow memory (denyoom) are refused with
// OOM, other commands run; inside MULTI every queued command is refused except EXEC/DISCARD, and
// EXEC fails when it queued a denyoom command. Stats count them as rejected calls.
import assert from "node:assert/strict";
import { type Reply, withServer } from "../helpers.ts";

/** TEST_REAL_REDIS=1 runs the same assertions against redis-server, to check the tests themselves. */
const REAL = { redis: Deno.env.get("TEST_REAL_REDIS") === "1" };

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

function errText(r: Reply): string {
  assert.ok(r instanceof Error, `expected an error, got ${JSON.stringify(r)}`);
  return r.message;
}

Deno.test("maxmemory noeviction: OOM for denyoom commands and in MULTI", async () => {
  await withServer(async (c, s) => {
    const admin = await s.client();
    await c.call("SET", "x", "value");
    await c.call("CONFIG", "RESETSTAT");
    assert.equal(await admin.call("CONFIG", "SET", "maxmemory", "1"), "OK");
    assert.equal(errText(await c.call("SET", "a", "b")), OOM);
    assert.equal(errText(await c.call("LPUSH", "l", "a")), OOM);
    assert.equal(await c.call("GET", "x"), "value");
    assert.equal(await c.call("DEL", "nosuch"), 0);
    assert.match(
      String(await c.call("INFO", "commandstats")),
      /cmdstat_set:calls=0,usec=0,usec_per_call=0\.00,rejected_calls=1,failed_calls=0/,
    );
    assert.match(String(await c.call("INFO", "errorstats")), /errorstat_OOM:count=2/);

    // In MULTI everything but EXEC/DISCARD is refused; DISCARD still works.
    assert.equal(await c.call("MULTI"), "OK");
    assert.equal(errText(await c.call("GET", "x")), OOM);
    assert.equal(await c.call("DISCARD"), "OK");
    assert.equal(await c.call("PING"), "PONG");

    // Queued before the limit: EXEC of reads runs, EXEC with a denyoom command aborts.
    await admin.call("CONFIG", "SET", "maxmemory", "0");
    await c.call("MULTI");
    await c.call("GET", "x");
    await c.call("PING");
    await admin.call("CONFIG", "SET", "maxmemory", "1");
    assert.deepEqual(await c.call("EXEC"), ["value", "PONG"]);
    await admin.call("CONFIG", "SET", "maxmemory", "0");
    await c.call("MULTI");
    await c.call("SET", "x", "1");
    await c.call("GET", "x");
    await admin.call("CONFIG", "SET", "maxmemory", "1");
    assert.equal(
      errText(await c.call("EXEC")),
      `EXECABORT Transaction discarded because of: ${OOM}`,
    );
    await admin.call("CONFIG", "SET", "maxmemory", "0");
    assert.equal(await c.call("GET", "x"), "value");
    assert.equal(await c.call("SET", "a", "b"), "OK");
    admin.close();
  }, REAL);
});
