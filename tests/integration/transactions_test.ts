// MULTI/EXEC/DISCARD/WATCH/UNWATCH over real sockets: exact replies and error texts, EXECABORT,
// errors inside EXEC, and WATCH invalidation by other clients, expiry, FLUSHALL/FLUSHDB/SWAPDB.
import assert from "node:assert/strict";
import { type Reply, type RespClient, withServer } from "../helpers.ts";

/** TEST_REAL_REDIS=1 runs the same assertions against redis-server, to check the tests themselves. */
const REAL = {
  redis: Deno.env.get("TEST_REAL_REDIS") === "1",
  args: ["--enable-debug-command", "yes"],
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function errText(r: Reply): string {
  assert.ok(r instanceof Error, `expected an error, got ${JSON.stringify(r)}`);
  return r.message;
}

/** MULTI, the given commands (each must be QUEUED), EXEC; returns EXEC's reply. */
async function tx(c: RespClient, ...cmds: string[][]): Promise<Reply> {
  assert.equal(await c.call("MULTI"), "OK");
  for (const cmd of cmds) assert.equal(await c.call(...cmd), "QUEUED", `queue ${cmd.join(" ")}`);
  return await c.call("EXEC");
}

Deno.test("MULTI/EXEC/DISCARD: replies, nesting and state errors, EXECABORT", async () => {
  await withServer(async (c) => {
    assert.equal(errText(await c.call("EXEC")), "ERR EXEC without MULTI");
    assert.equal(errText(await c.call("DISCARD")), "ERR DISCARD without MULTI");

    // Exact bytes of the happy path.
    await c.send("MULTI");
    await c.send("PING");
    await c.send("ECHO", "hi");
    await c.send("EXEC");
    assert.equal(await c.readRaw(300), "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+PONG\r\n$2\r\nhi\r\n");
    await c.send("MULTI");
    await c.send("EXEC");
    assert.equal(await c.readRaw(300), "+OK\r\n*0\r\n");

    // Nested MULTI and WATCH inside MULTI are errors that do not abort the transaction.
    assert.equal(await c.call("MULTI"), "OK");
    assert.equal(errText(await c.call("MULTI")), "ERR MULTI calls can not be nested");
    assert.equal(errText(await c.call("WATCH", "x")), "ERR WATCH inside MULTI is not allowed");
    assert.equal(await c.call("PING"), "QUEUED");
    assert.deepEqual(await c.call("EXEC"), ["PONG"]);

    // A command rejected while queueing (unknown, wrong arity) makes EXEC fail and leave MULTI.
    assert.equal(await c.call("MULTI"), "OK");
    assert.equal(await c.call("PING"), "QUEUED");
    assert.equal(
      errText(await c.call("NOSUCHCMD", "a")),
      "ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' ",
    );
    assert.equal(errText(await c.call("ECHO")), "ERR wrong number of arguments for 'echo' command");
    assert.equal(await c.call("PING"), "QUEUED");
    assert.equal(
      errText(await c.call("EXEC")),
      "EXECABORT Transaction discarded because of previous errors.",
    );
    assert.equal(await c.call("PING"), "PONG");
    assert.equal(errText(await c.call("EXEC")), "ERR EXEC without MULTI");

    // EXEC itself refused: the transaction is discarded and the ERR code is dropped.
    const execArity =
      "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command";
    assert.equal(errText(await c.call("EXEC", "x")), execArity);
    assert.equal(await c.call("MULTI"), "OK");
    assert.equal(await c.call("PING"), "QUEUED");
    assert.equal(errText(await c.call("EXEC", "x")), execArity);
    assert.equal(await c.call("PING"), "PONG");

    // DISCARD drops the queue.
    assert.equal(await c.call("MULTI"), "OK");
    assert.equal(await c.call("SET", "x", "1"), "QUEUED");
    assert.equal(await c.call("DISCARD"), "OK");
    assert.equal(await c.call("GET", "x"), null);
    assert.equal(errText(await c.call("EXEC")), "ERR EXEC without MULTI");

    // Errors while running do not stop the other commands.
    assert.equal(await c.call("SET", "k", "v"), "OK");
    const res = await tx(
      c,
      ["LPUSH", "k", "a"],
      ["INCR", "k"],
      ["SET", "k2", "ok"],
      ["GET", "k2"],
      ["GET", "k"],
    );
    assert.deepEqual(res, [
      new Error("WRONGTYPE Operation against a key holding the wrong kind of value"),
      new Error("ERR value is not an integer or out of range"),
      "OK",
      "ok",
      "v",
    ]);

    // Blocking commands inside EXEC never block: they time out at once.
    assert.deepEqual(await tx(c, ["BLPOP", "empty", "0"], ["BRPOP", "empty", "0"]), [null, null]);
  }, REAL);
});

Deno.test("WATCH: writes by any client, UNWATCH, DISCARD, per-db keys, FLUSHALL/FLUSHDB/SWAPDB", async () => {
  await withServer(async (c, s) => {
    const w = await s.client();
    try {
      // Unmodified watched keys: EXEC runs.
      assert.equal(await c.call("WATCH", "x", "y", "z"), "OK");
      assert.equal(await c.call("WATCH", "k"), "OK");
      assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);

      // A write from another client fails EXEC with the null array.
      assert.equal(await c.call("SET", "x", "30"), "OK");
      assert.equal(await c.call("WATCH", "a", "x", "b"), "OK");
      assert.equal(await w.call("SET", "x", "40"), "OK");
      await c.send("MULTI");
      await c.send("PING");
      await c.send("EXEC");
      assert.equal(await c.readRaw(300), "+OK\r\n+QUEUED\r\n*-1\r\n");
      // After a failed EXEC nothing is watched any more.
      await w.call("SET", "x", "50");
      assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);

      // Own writes before MULTI count too; writes inside the transaction do not.
      await c.call("WATCH", "x");
      await c.call("SET", "x", "60");
      assert.equal(await tx(c, ["PING"]), null);
      await c.call("WATCH", "x");
      assert.deepEqual(await tx(c, ["SET", "x", "70"], ["GET", "x"]), ["OK", "70"]);
      // After a successful EXEC the key is no longer watched.
      await c.call("WATCH", "x");
      assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);
      await w.call("SET", "x", "80");
      assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);

      // UNWATCH and DISCARD clear the dirty state.
      await c.call("WATCH", "x");
      await w.call("SET", "x", "90");
      assert.equal(await c.call("UNWATCH"), "OK");
      assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);
      assert.equal(await c.call("UNWATCH"), "OK");
      await c.call("WATCH", "x");
      await w.call("SET", "x", "10");
      assert.equal(await c.call("MULTI"), "OK");
      assert.equal(await c.call("DISCARD"), "OK");
      assert.deepEqual(await tx(c, ["INCR", "x"]), [11]);

      // DEL of a missing watched key is no change; EXPIRE of a watched key is.
      await c.call("WATCH", "nokey");
      assert.equal(await w.call("DEL", "nokey"), 0);
      assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);
      await c.call("WATCH", "x");
      assert.equal(await w.call("EXPIRE", "x", "100"), 1);
      assert.equal(await tx(c, ["PING"]), null);

      // Keys are per database.
      assert.equal(await c.call("SELECT", "5"), "OK");
      await c.call("SET", "x", "30");
      await c.call("WATCH", "x");
      await w.call("SELECT", "1");
      await w.call("SET", "x", "10");
      assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);
      await c.call("WATCH", "x");
      await w.call("SELECT", "5");
      await w.call("SET", "x", "11");
      assert.equal(await tx(c, ["PING"]), null);
      assert.equal(await c.call("SELECT", "0"), "OK");
      assert.equal(await w.call("SELECT", "0"), "OK");

      // FLUSHALL/FLUSHDB touch watched keys that exist, and only those.
      await c.call("SET", "x", "30");
      await c.call("WATCH", "x");
      await w.call("FLUSHALL");
      assert.equal(await tx(c, ["PING"]), null);
      await c.call("WATCH", "x");
      await w.call("FLUSHALL");
      assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);
      await c.call("SET", "x", "30");
      await c.call("WATCH", "x");
      await w.call("FLUSHDB");
      assert.equal(await tx(c, ["PING"]), null);
      await c.call("WATCH", "x");
      await w.call("FLUSHDB");
      assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);

      // SWAPDB touches a watched key that exists in either db.
      await c.call("SET", "x", "30");
      await c.call("WATCH", "x");
      assert.equal(await w.call("SWAPDB", "0", "1"), "OK");
      assert.equal(await tx(c, ["PING"]), null);
      await c.call("FLUSHALL");
      await c.call("SELECT", "1");
      await c.call("SET", "x", "30");
      await c.call("SELECT", "0");
      await c.call("WATCH", "x");
      await w.call("SWAPDB", "0", "1");
      assert.equal(await tx(c, ["PING"]), null);

      // RESP3 replies the null type for a failed EXEC.
      await c.call("HELLO", "3");
      await c.call("WATCH", "x");
      await w.call("SET", "x", "1");
      await c.send("MULTI");
      await c.send("EXEC");
      assert.equal(await c.readRaw(300), "+OK\r\n_\r\n");
    } finally {
      w.close();
    }
  }, REAL);
});

Deno.test("WATCH and expiry: expired keys fail EXEC, keys already stale when watched do not", async () => {
  await withServer(async (c) => {
    // A watched key that expires (lazily or actively) fails EXEC.
    await c.call("SET", "x", "foo", "PX", "100");
    await c.call("WATCH", "x");
    await sleep(250);
    assert.equal(await tx(c, ["PING"]), null);

    assert.equal(await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), "OK");
    // Lazy expiry only: the key is still in memory at EXEC time.
    await c.call("SET", "x", "1", "PX", "100");
    await c.call("WATCH", "x");
    await sleep(150);
    assert.equal(await tx(c, ["INCR", "x"]), null);

    // Watching an already expired key, then it being deleted, or FLUSHDB: no change.
    await c.call("SET", "x", "foo", "PX", "1");
    await sleep(20);
    await c.call("WATCH", "x");
    assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);
    await c.call("SET", "x", "foo", "PX", "1");
    await sleep(20);
    await c.call("WATCH", "x");
    assert.equal(await c.call("EXISTS", "x"), 0);
    assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);
    await c.call("SET", "x", "foo", "PX", "1");
    await sleep(20);
    await c.call("WATCH", "x");
    await c.call("FLUSHDB");
    assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);
    // ... but recreating it after it was deleted is a change.
    await c.call("SET", "x", "foo", "PX", "1");
    await sleep(20);
    await c.call("WATCH", "x");
    assert.equal(await c.call("EXISTS", "x"), 0);
    await c.call("SET", "x", "bar");
    assert.equal(await tx(c, ["PING"]), null);

    // SWAPDB: a stale key replaced by nothing, or nothing replaced by a stale key, is no change.
    await c.call("FLUSHALL");
    await c.call("SELECT", "1");
    await c.call("SET", "x", "foo", "PX", "1");
    await sleep(20);
    await c.call("WATCH", "x");
    await c.call("SWAPDB", "0", "1");
    assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);
    await c.call("FLUSHALL");
    await c.call("SELECT", "0");
    await c.call("SET", "x", "foo", "PX", "1");
    await sleep(20);
    await c.call("SELECT", "1");
    await c.call("WATCH", "x");
    await c.call("SWAPDB", "0", "1");
    assert.deepEqual(await tx(c, ["PING"]), ["PONG"]);
    assert.equal(await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1"), "OK");
  }, REAL);
});

Deno.test("EXEC propagation: one command alone, several wrapped in MULTI/EXEC, none for reads", async () => {
  // In-process: a server object with a recording propagation sink (no replica needed).
  const { Config } = await import("../../lib/config/config.ts");
  const { Server } = await import("../../lib/server/server.ts");
  const { Client } = await import("../../lib/server/client.ts");
  const { processCommand } = await import("../../lib/server/dispatch.ts");
  const { allCommands } = await import("../../lib/commands/table.ts");
  const server = new Server(new Config());
  server.registerCommands(allCommands());
  const seen: string[] = [];
  server.propagateSinks.push((db, argv, replOnly) =>
    seen.push(`${db}:${argv.join(" ")}${replOnly ? " (repl)" : ""}`)
  );
  const c = new Client(server, null, "127.0.0.1:1", "127.0.0.1:2");
  const run = (...cmds: string[][]) => {
    for (const argv of cmds) processCommand(c, argv);
    const out = seen.splice(0);
    c.out.consume(c.out.len);
    return out;
  };
  assert.deepEqual(run(["MULTI"], ["PING"], ["PUBSUB", "NUMPAT"], ["EXEC"]), []);
  assert.deepEqual(run(["MULTI"], ["EXEC"]), []);
  assert.deepEqual(run(["MULTI"], ["PUBLISH", "a", "1"], ["EXEC"]), ["0:PUBLISH a 1 (repl)"]);
  assert.deepEqual(
    run(["MULTI"], ["PUBLISH", "a", "1"], ["PING"], ["PUBLISH", "b", "2"], ["EXEC"]),
    [
      "0:MULTI",
      "0:PUBLISH a 1 (repl)",
      "0:PUBLISH b 2 (repl)",
      "0:EXEC",
    ],
  );
  assert.deepEqual(run(["MULTI"], ["SET", "a", "1"], ["GET", "a"], ["SET", "b", "2"], ["EXEC"]), [
    "0:MULTI",
    "0:SET a 1",
    "0:SET b 2",
    "0:EXEC",
  ]);
  assert.deepEqual(run(["MULTI"], ["SET", "a", "3"], ["GET", "b"], ["EXEC"]), ["0:SET a 3"]);
  // A discarded or aborted transaction propagates nothing; outside MULTI, commands go alone.
  assert.deepEqual(run(["MULTI"], ["PUBLISH", "a", "1"], ["DISCARD"]), []);
  assert.deepEqual(run(["MULTI"], ["PUBLISH", "a", "1"], ["NOSUCH"], ["EXEC"]), []);
  assert.deepEqual(run(["PUBLISH", "a", "1"], ["PUBLISH", "b", "2"]), [
    "0:PUBLISH a 1 (repl)",
    "0:PUBLISH b 2 (repl)",
  ]);
  assert.equal(server.propagateBatch, null);
});
