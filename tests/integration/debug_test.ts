// DEBUG over real sockets: the enable-debug-command gate, PROTOCOL in RESP2 and RESP3, OBJECT,
// DIGEST / DIGEST-VALUE (compared live with redis-server 7.0 when installed), POPULATE, SLEEP.
import assert from "node:assert/strict";
import { hasBinary, type Reply, startServer, withServer } from "../helpers.ts";

function err(r: unknown): string {
  assert.ok(r instanceof Error, `expected an error reply, got ${JSON.stringify(r)}`);
  return r.message;
}

Deno.test("DEBUG: gated by enable-debug-command, PROTOCOL, OBJECT, DIGEST, POPULATE, SLEEP, misc", async () => {
  await withServer(async (c) => {
    assert.equal(
      err(await c.call("DEBUG", "HELP")),
      'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.',
    );
  });
  await withServer(async (c) => {
    const protos: [string, string, string][] = [
      ["string", "$11\r\nHello World\r\n", "$11\r\nHello World\r\n"],
      ["integer", ":12345\r\n", ":12345\r\n"],
      ["double", "$5\r\n3.141\r\n", ",3.141\r\n"],
      [
        "bignum",
        "$37\r\n1234567999999999999999999999999999999\r\n",
        "(1234567999999999999999999999999999999\r\n",
      ],
      ["null", "$-1\r\n", "_\r\n"],
      ["array", "*3\r\n:0\r\n:1\r\n:2\r\n", "*3\r\n:0\r\n:1\r\n:2\r\n"],
      ["set", "*3\r\n:0\r\n:1\r\n:2\r\n", "~3\r\n:0\r\n:1\r\n:2\r\n"],
      [
        "map",
        "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n",
        "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
      ],
      [
        "attrib",
        "$39\r\nSome real reply following the attribute\r\n",
        "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n",
      ],
      [
        "push",
        "-ERR RESP2 is not supported by this command\r\n",
        ">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n",
      ],
      [
        "verbatim",
        "$25\r\nThis is a verbatim\nstring\r\n",
        "=29\r\ntxt:This is a verbatim\nstring\r\n",
      ],
      ["true", ":1\r\n", "#t\r\n"],
      ["false", ":0\r\n", "#f\r\n"],
    ];
    for (const resp of [2, 3]) {
      await c.call("HELLO", String(resp));
      for (const [type] of protos) await c.send("DEBUG", "PROTOCOL", type);
      // One pipelined batch: the raw bytes must be exactly the concatenated expected replies.
      assert.equal(
        await c.readRaw(300),
        protos.map(([, r2, r3]) => (resp === 2 ? r2 : r3)).join(""),
        `RESP${resp}`,
      );
    }
    await c.call("HELLO", "2");
    assert.equal(
      err(await c.call("DEBUG", "PROTOCOL", "foo")),
      "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
    );
    assert.equal(await c.call("DEBUG", "DIGEST"), "0".repeat(40));
    assert.equal(await c.call("DEBUG", "POPULATE", "3"), "OK");
    assert.equal(await c.call("DEBUG", "POPULATE", "2", "p", "3"), "OK");
    assert.deepEqual(
      await c.call("DEBUG", "DIGEST-VALUE", "p:1"),
      await c.call("DEBUG", "DIGEST-VALUE", "p:1"),
    );
    const keys = (await c.call("DEBUG", "DIGEST-VALUE", "key:0", "p:0", "nokey")) as string[];
    assert.equal(keys.length, 3);
    assert.equal(keys[2], "0".repeat(40));
    assert.notEqual(keys[0], keys[1]);
    assert.equal(
      err(await c.call("DEBUG", "POPULATE", "-1")),
      "ERR value is out of range, must be positive",
    );
    const digest = await c.call("DEBUG", "DIGEST") as string;
    assert.match(digest, /^[0-9a-f]{40}$/);
    assert.notEqual(digest, "0".repeat(40));
    assert.match(
      String(await c.call("DEBUG", "OBJECT", "key:1")),
      /^Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+$/,
    );
    assert.equal(err(await c.call("DEBUG", "OBJECT", "nokey")), "ERR no such key");
    assert.equal(
      err(await c.call("DEBUG", "OBJECT")),
      "ERR unknown subcommand or wrong number of arguments for 'OBJECT'. Try DEBUG HELP.",
    );
    assert.equal(
      err(await c.call("DEBUG", "NOSUCH")),
      "ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. Try DEBUG HELP.",
    );
    const t0 = Date.now();
    const other = c.call("DEBUG", "SLEEP", "0.3");
    assert.equal(await other, "OK");
    assert.ok(Date.now() - t0 >= 280, `DEBUG SLEEP 0.3 took ${Date.now() - t0} ms`);
    assert.equal(await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), "OK");
    assert.equal(await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1"), "OK");
    assert.equal(await c.call("DEBUG", "LOG", "hello from test"), "OK");
    assert.equal(err(await c.call("DEBUG", "ERROR", "CUSTOM thing")), "CUSTOM thing");
    assert.equal(await c.call("DEBUG", "JMAP"), "OK");
    assert.equal(await c.call("DEBUG", "CHANGE-REPL-ID"), "OK");
    assert.equal(await c.call("DEBUG", "DROP-CLUSTER-PACKET-FILTER", "-1"), "OK");
    assert.equal(await c.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"), "OK");
    assert.equal(
      err(await c.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb")),
      "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
    );
    assert.equal(await c.call("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"), "OK");
    assert.equal(await c.call("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "NEVER"), "OK");
    assert.equal(
      await c.call("DEBUG", "STRINGMATCH-TEST"),
      "Apparently Redis did not crash: test passed",
    );
    assert.equal(
      err(await c.call("DEBUG", "CLUSTERLINK", "KILL", "all", "abc")),
      "ERR Debug option only available for cluster mode enabled setup!",
    );
    const help = await c.call("DEBUG", "HELP") as string[];
    assert.equal(help[0], "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert.ok(help.includes("PROTOCOL <type>"));
  }, { args: ["--enable-debug-command", "yes"] });
});

Deno.test("DEBUG DIGEST equals redis-server's for the same dataset", async () => {
  if (!hasBinary("redis-server")) {
    console.log("redis-server not installed: skipped");
    return;
  }
  const cmds: (string | number)[][] = [
    ["DEBUG", "POPULATE", "20"],
    ["DEBUG", "POPULATE", "5", "big", "60"],
  ];
  const extra: (string | number)[][] = [
    ["SET", "n", "123"],
    ["RPUSH", "l", "a", "b", "c"],
    ["SADD", "s", "1", "2", "x"],
    ["HSET", "h", "f", "v", "g", "w"],
    ["ZADD", "z", "1.5", "a", "2", "b"],
    ["PEXPIRE", "n", "100000"],
  ];
  const digests: string[] = [];
  for (const redis of [false, true]) {
    const s = await startServer({ redis, args: ["--enable-debug-command", "yes"] });
    try {
      const c = await s.client();
      for (const cmd of cmds) assert.equal(await c.call(...cmd), "OK");
      if (!redis) {
        // Only the types whose commands this build already has take part.
        for (let i = extra.length - 1; i >= 0; i--) {
          const probe = await c.call("COMMAND", "INFO", String(extra[i][0])) as Reply[];
          if (probe[0] === null) extra.splice(i, 1);
        }
        console.log(
          `digest compared over populated strings plus ${extra.map((e) => e[0]).join(", ")}`,
        );
      }
      for (const e of extra) assert.ok(!((await c.call(...e)) instanceof Error), `${e[0]} failed`);
      digests.push(String(await c.call("DEBUG", "DIGEST")));
      c.close();
    } finally {
      await s.stop();
    }
  }
  assert.match(digests[0], /^[0-9a-f]{40}$/);
  assert.equal(digests[0], digests[1]);
});
