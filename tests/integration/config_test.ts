// CONFIG GET/SET/RESETSTAT/REWRITE/HELP over real sockets, including a REWRITE round trip on a
// real config file that a restarted server picks up.
import assert from "node:assert/strict";
import { freePort, startServer, withServer } from "../helpers.ts";

function err(r: unknown): string {
  assert.ok(r instanceof Error, `expected an error reply, got ${JSON.stringify(r)}`);
  return r.message;
}

function asMap(r: unknown): Map<string, string> {
  const a = r as string[];
  const m = new Map<string, string>();
  for (let i = 0; i < a.length; i += 2) m.set(a[i], a[i + 1]);
  return m;
}

Deno.test("CONFIG GET patterns and CONFIG SET pairs with Redis's errors", async () => {
  await withServer(async (c, s) => {
    assert.deepEqual(await c.call("CONFIG", "GET", "maxmemory"), ["maxmemory", "0"]);
    assert.deepEqual(await c.call("CONFIG", "GET", "SLAVE-read-only"), ["SLAVE-read-only", "yes"]);
    const ro = asMap(await c.call("CONFIG", "GET", "*read-only*"));
    assert.deepEqual([...ro.keys()].sort(), ["replica-read-only", "slave-read-only"]);
    const several = asMap(await c.call("CONFIG", "GET", "port", "hz", "nosuch", "port"));
    assert.deepEqual([...several], [["port", String(s.port)], ["hz", "10"]]);
    assert.deepEqual(await c.call("CONFIG", "GET", "dir"), ["dir", s.dir]);
    const all = asMap(await c.call("CONFIG", "GET", "*"));
    assert.ok(all.size > 150, `CONFIG GET * returned ${all.size} entries`);
    assert.equal(all.get("save"), "");
    assert.equal(
      all.get("client-output-buffer-limit"),
      "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    );
    assert.equal(
      err(await c.call("CONFIG", "GET")),
      "ERR wrong number of arguments for 'config|get' command",
    );

    assert.equal(
      await c.call(
        "CONFIG",
        "SET",
        "hz",
        "20",
        "maxmemory",
        "1mb",
        "maxmemory-policy",
        "allkeys-lru",
      ),
      "OK",
    );
    assert.deepEqual(
      await c.call("CONFIG", "GET", "hz", "maxmemory", "maxmemory-policy"),
      ["hz", "20", "maxmemory", "1048576", "maxmemory-policy", "allkeys-lru"],
    );
    // All or nothing: a bad second pair leaves the first unchanged.
    assert.equal(
      err(await c.call("CONFIG", "SET", "hz", "30", "maxmemory", "abc")),
      "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
    );
    assert.deepEqual(await c.call("CONFIG", "GET", "hz"), ["hz", "20"]);
    assert.equal(
      err(await c.call("CONFIG", "SET", "hz", "5", "hz", "6")),
      "ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter",
    );
    assert.equal(err(await c.call("CONFIG", "SET", "hz", "5", "maxmemory")), "ERR syntax error");
    assert.equal(
      err(await c.call("CONFIG", "SET", "hz")),
      "ERR wrong number of arguments for 'config|set' command",
    );
    assert.equal(
      err(await c.call("CONFIG", "SET", "nosuch", "1")),
      "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'",
    );
    assert.equal(
      err(await c.call("CONFIG", "SET", "daemonize", "yes")),
      "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config",
    );
    assert.equal(
      err(await c.call("CONFIG", "SET", "dir", "/tmp")),
      "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config",
    );
    assert.equal(
      err(await c.call("CONFIG", "SET", "save", "1 2 3")),
      "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters",
    );
    assert.equal(await c.call("CONFIG", "SET", "save", "100 10 200 20"), "OK");
    assert.deepEqual(await c.call("CONFIG", "GET", "save"), ["save", "100 10 200 20"]);
    assert.equal(
      await c.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 2mb 3"),
      "OK",
    );
    assert.deepEqual(
      await c.call("CONFIG", "GET", "client-output-buffer-limit"),
      [
        "client-output-buffer-limit",
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2097152 3",
      ],
    );
    assert.equal(await c.call("CONFIG", "SET", "maxmemory-clients", "5%"), "OK");
    assert.deepEqual(await c.call("CONFIG", "GET", "maxmemory-clients"), [
      "maxmemory-clients",
      "5%",
    ]);
    // slowlog-max-len trims the existing log at once.
    assert.equal(await c.call("CONFIG", "SET", "slowlog-log-slower-than", "0"), "OK");
    for (let i = 0; i < 5; i++) await c.call("PING");
    assert.equal(await c.call("CONFIG", "SET", "slowlog-max-len", "2"), "OK");
    assert.equal(await c.call("SLOWLOG", "LEN"), 2);
    assert.equal(await c.call("CONFIG", "SET", "appendonly", "no"), "OK");
    const help = await c.call("CONFIG", "HELP") as string[];
    assert.deepEqual(help, [
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "REWRITE",
      "    Rewrite the configuration file.",
      "HELP",
      "    Prints this help.",
    ]);
    assert.equal(
      err(await c.call("CONFIG", "REWRITE")),
      "ERR The server is running without a config file",
    );
    assert.equal(
      err(await c.call("CONFIG", "FOO")),
      "ERR unknown subcommand 'FOO'. Try CONFIG HELP.",
    );
  });
});

Deno.test("CONFIG SET dir changes the working directory when protected configs are enabled", async () => {
  await withServer(async (c, s) => {
    const sub = `${s.dir}/sub`;
    Deno.mkdirSync(sub);
    assert.equal(await c.call("CONFIG", "SET", "dir", sub), "OK");
    assert.deepEqual(await c.call("CONFIG", "GET", "dir"), ["dir", sub]);
    assert.equal(
      err(await c.call("CONFIG", "SET", "dir", `${s.dir}/missing`)),
      "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory",
    );
    assert.deepEqual(await c.call("CONFIG", "GET", "dir"), ["dir", sub]);
  }, { args: ["--enable-protected-configs", "yes"] });
});

Deno.test("CONFIG RESETSTAT clears INFO stats, commandstats and errorstats", async () => {
  await withServer(async (c) => {
    await c.call("ECHO", "x");
    await c.call("NOSUCHCMD");
    let info = String(await c.call("INFO", "all"));
    assert.match(info, /cmdstat_echo:calls=1,/);
    assert.match(info, /errorstat_ERR:count=1\r\n/);
    assert.match(info, /total_error_replies:1\r\n/);
    assert.equal(await c.call("CONFIG", "RESETSTAT"), "OK");
    info = String(await c.call("INFO", "all"));
    assert.doesNotMatch(info, /cmdstat_echo/);
    assert.doesNotMatch(info, /errorstat_ERR/);
    assert.match(info, /total_error_replies:0\r\n/);
    assert.match(info, /cmdstat_config\|resetstat:calls=1,/);
    assert.match(info, /total_connections_received:0\r\n/);
  });
});

Deno.test("CONFIG REWRITE keeps comments, replaces values in place, restart picks it up", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "tsredis-rewrite-" });
  const port = freePort();
  const conf = `# top comment\n\n# memory\nmaxmemory 100mb\nslave-read-only no\nhz 10\n\n# end\n`;
  let s = await startServer({ dir, port, conf, args: ["--maxclients", "1000"] });
  try {
    const c = await s.client();
    assert.equal(
      await c.call(
        "CONFIG",
        "SET",
        "maxmemory",
        "2gb",
        "hz",
        "15",
        "requirepass",
        "p w",
        "timeout",
        "7",
      ),
      "OK",
    );
    assert.equal(await c.call("CONFIG", "REWRITE"), "OK");
    const text = Deno.readTextFileSync(`${dir}/redis.conf`);
    assert.equal(
      text,
      `# top comment\n\n# memory\nmaxmemory 2gb\nreplica-read-only no\nhz 15\n\n# end\n` +
        `# Generated by CONFIG REWRITE\nrequirepass "p w"\nport ${port}\ntimeout 7\nmaxclients 1000\n` +
        `dir "${dir}"\nsave ""\n`,
    );
    // No temp files are left next to the config.
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("redis.conf")),
      [
        "redis.conf",
      ],
    );
    c.close();
    await s.stop();
    // Restart with only the config file: the rewritten values are in effect.
    s = await startServer({ dir, port, conf: Deno.readTextFileSync(`${dir}/redis.conf`) });
    const c2 = await s.client();
    assert.equal(err(await c2.call("PING")), "NOAUTH Authentication required.");
    assert.equal(await c2.call("AUTH", "p w"), "OK");
    assert.deepEqual(
      await c2.call(
        "CONFIG",
        "GET",
        "maxmemory",
        "hz",
        "timeout",
        "maxclients",
        "replica-read-only",
      ),
      [
        "maxmemory",
        "2147483648",
        "hz",
        "15",
        "timeout",
        "7",
        "maxclients",
        "1000",
        "replica-read-only",
        "no",
      ],
    );
    // Back to defaults: lines of directives present in the file are kept with the new value,
    // and a cleared password loses its line.
    assert.equal(await c2.call("CONFIG", "SET", "hz", "10", "requirepass", ""), "OK");
    assert.equal(await c2.call("CONFIG", "REWRITE"), "OK");
    const text2 = Deno.readTextFileSync(`${dir}/redis.conf`);
    assert.match(text2, /\nhz 10\n/);
    assert.doesNotMatch(text2, /requirepass/);
    assert.equal((text2.match(/# Generated by CONFIG REWRITE/g) ?? []).length, 1);
    c2.close();
  } finally {
    await s.stop();
  }
});
