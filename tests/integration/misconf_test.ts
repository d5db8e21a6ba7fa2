// stop-writes-on-bgsave-error: after a failed background save, writes (and PING) get MISCONF
// until a save succeeds again; reads keep working.
import assert from "node:assert/strict";
import { withServer } from "../helpers.ts";
import { waitFor } from "../cluster/helpers.ts";

Deno.test("MISCONF refuses writes after a failed BGSAVE, until a save succeeds", async () => {
  await withServer(async (c) => {
    const dir = Deno.makeTempDirSync({ prefix: "tsredis-misconf-" });
    assert.equal(await c.call("SET", "k", "v"), "OK");
    assert.equal(await c.call("CONFIG", "SET", "dir", dir), "OK");
    Deno.removeSync(dir, { recursive: true });
    assert.equal(await c.call("BGSAVE"), "Background saving started");
    await waitFor(
      "bgsave to fail",
      async () => /rdb_last_bgsave_status:err/.test(String(await c.call("INFO", "persistence"))),
    );
    const w = await c.call("SET", "k2", "v");
    assert.ok(w instanceof Error);
    assert.match(w.message, /^MISCONF Redis is configured to save RDB snapshots/);
    const p = await c.call("PING");
    assert.ok(p instanceof Error && p.message.startsWith("MISCONF"));
    assert.equal(await c.call("GET", "k"), "v", "reads still work");
    // The process's working directory is gone; point dir at a live one (as an operator would).
    const dir2 = Deno.makeTempDirSync({ prefix: "tsredis-misconf-" });
    assert.equal(await c.call("CONFIG", "SET", "dir", dir2), "OK");
    assert.equal(await c.call("BGSAVE"), "Background saving started");
    await waitFor(
      "bgsave to succeed",
      async () => /rdb_last_bgsave_status:ok/.test(String(await c.call("INFO", "persistence"))),
    );
    assert.equal(await c.call("SET", "k2", "v"), "OK");
  }, { args: ["--save", "3600 1", "--enable-protected-configs", "yes"] });
});
