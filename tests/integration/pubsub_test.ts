// Pub/Sub over real sockets: a subscriber and a publisher connection, exact replies (RESP2 and
// RESP3), pattern and shard channels, PUBSUB introspection, and keyspace notifications.
import assert from "node:assert/strict";
import { type Reply, type RespClient, startServer, withServer } from "../helpers.ts";

/** Reads one reply, failing instead of hanging when nothing comes. */
async function next(c: RespClient, ms = 3000): Promise<Reply> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const err = new Error(`no reply within ${ms} ms`); // created here so its stack shows the caller
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(err), ms);
  });
  try {
    return await Promise.race([c.read(), t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends a command and reads `n` replies (one per channel for (un)subscribe). */
async function callN(c: RespClient, n: number, ...args: string[]): Promise<Reply[]> {
  await c.send(...args);
  const out: Reply[] = [];
  for (let i = 0; i < n; i++) out.push(await next(c));
  return out;
}

/** TEST_REAL_REDIS=1 runs the same assertions against redis-server, to check the tests themselves. */
const REAL = { redis: Deno.env.get("TEST_REAL_REDIS") === "1" };

function errText(r: Reply): string {
  assert.ok(r instanceof Error, `expected an error, got ${JSON.stringify(r)}`);
  return r.message;
}

const CONTEXT_ERR = (cmd: string) =>
  `ERR Can't execute '${cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;

Deno.test("SUBSCRIBE/PUBLISH/UNSUBSCRIBE and PSUBSCRIBE in RESP2", async () => {
  await withServer(async (pub, s) => {
    const sub = await s.client();
    const sub2 = await s.client();
    try {
      // Exact bytes of a subscribe confirmation.
      await sub.send("SUBSCRIBE", "chan1", "chan2");
      assert.equal(
        await sub.readRaw(300),
        "*3\r\n$9\r\nsubscribe\r\n$5\r\nchan1\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$5\r\nchan2\r\n:2\r\n",
      );
      // Subscribing again keeps the count.
      assert.deepEqual(await callN(sub, 1, "SUBSCRIBE", "chan1"), [["subscribe", "chan1", 2]]);

      assert.equal(await pub.call("PUBLISH", "chan1", "hello"), 1);
      assert.deepEqual(await next(sub), ["message", "chan1", "hello"]);
      assert.equal(await pub.call("PUBLISH", "nobody", "x"), 0);

      // RESP2 subscribed context: PING is special, other commands are refused.
      assert.deepEqual(await sub.call("PING"), ["pong", ""]);
      assert.deepEqual(await sub.call("PING", "foo"), ["pong", "foo"]);
      assert.equal(errText(await sub.call("ECHO", "x")), CONTEXT_ERR("echo"));
      assert.equal(errText(await sub.call("PUBSUB", "NUMPAT")), CONTEXT_ERR("pubsub|numpat"));

      // Introspection from the publisher.
      const chans = await pub.call("PUBSUB", "CHANNELS") as string[];
      assert.deepEqual([...chans].sort(), ["chan1", "chan2"]);
      assert.deepEqual(await pub.call("PUBSUB", "CHANNELS", "*1"), ["chan1"]);
      assert.deepEqual(await pub.call("PUBSUB", "NUMSUB", "chan1", "nochan"), [
        "chan1",
        1,
        "nochan",
        0,
      ]);
      assert.deepEqual(await pub.call("PUBSUB", "NUMSUB"), []);

      // Patterns share the count with channels.
      assert.deepEqual(await callN(sub, 2, "PSUBSCRIBE", "foo.*", "bar.*"), [
        ["psubscribe", "foo.*", 3],
        ["psubscribe", "bar.*", 4],
      ]);
      assert.deepEqual(await callN(sub2, 1, "PSUBSCRIBE", "foo.*"), [["psubscribe", "foo.*", 1]]);
      assert.equal(await pub.call("PUBSUB", "NUMPAT"), 2, "unique patterns");
      assert.equal(await pub.call("PUBLISH", "foo.1", "hi"), 2);
      assert.deepEqual(await next(sub), ["pmessage", "foo.*", "foo.1", "hi"]);
      assert.deepEqual(await next(sub2), ["pmessage", "foo.*", "foo.1", "hi"]);
      assert.equal(await pub.call("PUBLISH", "foo1", "hi"), 0);
      assert.equal(await pub.call("PUBLISH", "barfoo.1", "hi"), 0);

      // A channel matching both a subscription and a pattern is delivered twice.
      assert.deepEqual(await callN(sub, 1, "SUBSCRIBE", "bar.x"), [["subscribe", "bar.x", 5]]);
      assert.equal(await pub.call("PUBLISH", "bar.x", "both"), 2);
      assert.deepEqual(await next(sub), ["message", "bar.x", "both"]);
      assert.deepEqual(await next(sub), ["pmessage", "bar.*", "bar.x", "both"]);

      // Unsubscribing: named, unknown, then everything.
      assert.deepEqual(await callN(sub, 2, "UNSUBSCRIBE", "chan1", "nosuch"), [
        ["unsubscribe", "chan1", 4],
        ["unsubscribe", "nosuch", 4],
      ]);
      assert.equal(await pub.call("PUBLISH", "chan1", "gone"), 0);
      const rest = await callN(sub, 2, "UNSUBSCRIBE");
      assert.deepEqual(rest.map((r) => (r as Reply[])[0]), ["unsubscribe", "unsubscribe"]);
      assert.deepEqual(rest.map((r) => (r as string[])[1]).sort(), ["bar.x", "chan2"]);
      assert.deepEqual(rest.map((r) => (r as Reply[])[2]), [3, 2]);
      assert.deepEqual(await callN(sub, 1, "PUNSUBSCRIBE", "foo.*"), [[
        "punsubscribe",
        "foo.*",
        1,
      ]]);
      assert.deepEqual(await callN(sub, 1, "PUNSUBSCRIBE"), [["punsubscribe", "bar.*", 0]]);
      // Out of the subscribed context, PING is a plain PONG again.
      assert.equal(await sub.call("PING"), "PONG");
      assert.equal(await pub.call("PUBSUB", "NUMPAT"), 1);

      // With nothing subscribed, each form still replies once, with a null name.
      await sub.send("UNSUBSCRIBE");
      await sub.send("PUNSUBSCRIBE");
      await sub.send("SUNSUBSCRIBE");
      assert.equal(
        await sub.readRaw(300),
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n" +
          "*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n",
      );
      assert.deepEqual(await callN(sub, 3, "UNSUBSCRIBE", "foo", "bar", "quux"), [
        ["unsubscribe", "foo", 0],
        ["unsubscribe", "bar", 0],
        ["unsubscribe", "quux", 0],
      ]);

      // A closed connection drops its subscriptions.
      sub2.close();
      let numpat: Reply = -1;
      for (let i = 0; i < 50 && numpat !== 0; i++) {
        numpat = await pub.call("PUBSUB", "NUMPAT");
        if (numpat !== 0) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(numpat, 0);
    } finally {
      sub.close();
      sub2.close();
    }
  }, REAL);
});

Deno.test("pub/sub argument errors and PUBSUB HELP", async () => {
  await withServer(async (c) => {
    assert.equal(
      errText(await c.call("SUBSCRIBE")),
      "ERR wrong number of arguments for 'subscribe' command",
    );
    assert.equal(
      errText(await c.call("PSUBSCRIBE")),
      "ERR wrong number of arguments for 'psubscribe' command",
    );
    assert.equal(
      errText(await c.call("SSUBSCRIBE")),
      "ERR wrong number of arguments for 'ssubscribe' command",
    );
    assert.equal(
      errText(await c.call("PUBLISH", "a")),
      "ERR wrong number of arguments for 'publish' command",
    );
    assert.equal(
      errText(await c.call("SPUBLISH", "a", "b", "c")),
      "ERR wrong number of arguments for 'spublish' command",
    );
    assert.equal(
      errText(await c.call("PUBSUB")),
      "ERR wrong number of arguments for 'pubsub' command",
    );
    assert.equal(
      errText(await c.call("PUBSUB", "foo")),
      "ERR unknown subcommand 'foo'. Try PUBSUB HELP.",
    );
    assert.equal(
      errText(await c.call("PUBSUB", "NUMPAT", "x")),
      "ERR wrong number of arguments for 'pubsub|numpat' command",
    );
    assert.equal(
      errText(await c.call("PUBSUB", "channels", "a", "b")),
      "ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP.",
    );
    assert.equal(
      errText(await c.call("PUBSUB", "SHARDCHANNELS", "a", "b")),
      "ERR unknown subcommand or wrong number of arguments for 'SHARDCHANNELS'. Try PUBSUB HELP.",
    );
    assert.deepEqual(await c.call("PUBSUB", "CHANNELS"), []);
    assert.equal(await c.call("PUBSUB", "NUMPAT"), 0);
    const help = await c.call("pubsub", "help") as string[];
    assert.equal(help.length, 14);
    assert.equal(help[0], "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert.equal(help[1], "CHANNELS [<pattern>]");
    assert.deepEqual(help.slice(12), ["HELP", "    Prints this help."]);
  }, REAL);
});

Deno.test("shard channels: SSUBSCRIBE/SPUBLISH/SUNSUBSCRIBE and their own counts", async () => {
  await withServer(async (pub, s) => {
    const sub = await s.client();
    try {
      assert.deepEqual(await callN(sub, 2, "SSUBSCRIBE", "s1", "s2"), [["ssubscribe", "s1", 1], [
        "ssubscribe",
        "s2",
        2,
      ]]);
      assert.deepEqual(await callN(sub, 1, "SSUBSCRIBE", "s1"), [["ssubscribe", "s1", 2]]);
      // Global and shard subscriptions are counted separately.
      assert.deepEqual(await callN(sub, 1, "SUBSCRIBE", "s1"), [["subscribe", "s1", 1]]);
      assert.deepEqual(await callN(sub, 1, "PSUBSCRIBE", "s*"), [["psubscribe", "s*", 2]]);

      // SPUBLISH reaches shard subscribers only; patterns never match shard channels.
      assert.equal(await pub.call("SPUBLISH", "s1", "m1"), 1);
      assert.deepEqual(await next(sub), ["smessage", "s1", "m1"]);
      assert.equal(await pub.call("PUBLISH", "s1", "m2"), 2);
      assert.deepEqual(await next(sub), ["message", "s1", "m2"]);
      assert.deepEqual(await next(sub), ["pmessage", "s*", "s1", "m2"]);
      assert.equal(await pub.call("SPUBLISH", "s3", "none"), 0);

      assert.deepEqual(await pub.call("PUBSUB", "SHARDNUMSUB", "s1", "x"), ["s1", 1, "x", 0]);
      assert.deepEqual(await pub.call("PUBSUB", "SHARDNUMSUB"), []);
      assert.deepEqual(((await pub.call("PUBSUB", "SHARDCHANNELS")) as string[]).sort(), [
        "s1",
        "s2",
      ]);
      assert.deepEqual(await pub.call("PUBSUB", "SHARDCHANNELS", "*2"), ["s2"]);
      assert.deepEqual(await pub.call("PUBSUB", "CHANNELS"), ["s1"]);

      assert.deepEqual(await callN(sub, 1, "SUNSUBSCRIBE", "s1"), [["sunsubscribe", "s1", 1]]);
      assert.deepEqual(await callN(sub, 1, "SUNSUBSCRIBE"), [["sunsubscribe", "s2", 0]]);
      assert.equal(await pub.call("SPUBLISH", "s2", "gone"), 0);
      // Still in the subscribed context through the global channel and pattern.
      assert.equal(errText(await sub.call("ECHO", "x")), CONTEXT_ERR("echo"));

      // SSUBSCRIBE is refused inside EXEC, SUBSCRIBE is not.
      assert.equal(await pub.call("MULTI"), "OK");
      assert.equal(await pub.call("SSUBSCRIBE", "q"), "QUEUED");
      assert.equal(await pub.call("SUBSCRIBE", "q"), "QUEUED");
      assert.deepEqual(await pub.call("EXEC"), [
        new Error("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client"),
        ["subscribe", "q", 1],
      ]);
    } finally {
      sub.close();
    }
  }, REAL);
});

Deno.test("RESP3: push messages, any command while subscribed, null unsubscribe", async () => {
  await withServer(async (pub, s) => {
    const sub = await s.client();
    try {
      const hello = await sub.call("HELLO", "3");
      assert.ok(hello instanceof Map, "HELLO 3 replies a map");
      await sub.send("UNSUBSCRIBE");
      assert.equal(await sub.readRaw(300), ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
      await sub.send("SUBSCRIBE", "a");
      assert.equal(await sub.readRaw(300), ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
      // Any command works while subscribed, and PING is the plain form.
      await sub.send("PING");
      await sub.send("ECHO", "x");
      assert.equal(await sub.readRaw(300), "+PONG\r\n$1\r\nx\r\n");
      assert.equal(await pub.call("PUBLISH", "a", "hi"), 1);
      assert.equal(await sub.readRaw(300), ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n");
      // Publishing to itself: the push comes before the PUBLISH reply.
      await sub.send("PSUBSCRIBE", "a*");
      assert.equal(await sub.readRaw(300), ">3\r\n$10\r\npsubscribe\r\n$2\r\na*\r\n:2\r\n");
      await sub.send("PUBLISH", "a", "me");
      assert.equal(
        await sub.readRaw(300),
        ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nme\r\n>4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$2\r\nme\r\n:2\r\n",
      );
      await sub.send("SSUBSCRIBE", "sh");
      assert.equal(await sub.readRaw(300), ">3\r\n$10\r\nssubscribe\r\n$2\r\nsh\r\n:1\r\n");
      assert.equal(await pub.call("SPUBLISH", "sh", "m"), 1);
      assert.equal(await sub.readRaw(300), ">3\r\n$8\r\nsmessage\r\n$2\r\nsh\r\n$1\r\nm\r\n");
    } finally {
      sub.close();
    }
  }, REAL);
});

Deno.test("pub/sub pushes get through CLIENT REPLY OFF", async () => {
  await withServer(async (pub, s) => {
    const sub = await s.client();
    try {
      await sub.send("CLIENT", "REPLY", "OFF");
      await sub.send("SUBSCRIBE", "ch");
      assert.equal(await sub.readRaw(300), "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
      assert.equal(await pub.call("PUBLISH", "ch", "hello"), 1);
      assert.deepEqual(await next(sub), ["message", "ch", "hello"]);
      // A regular reply stays suppressed.
      await sub.send("PING");
      await sub.send("UNSUBSCRIBE", "ch");
      assert.equal(await sub.readRaw(300), "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n");
    } finally {
      sub.close();
    }
  }, REAL);
});

Deno.test("keyspace notifications: classes, K/E, new keys, expiry and CONFIG GET form", async () => {
  const s = await startServer({ ...REAL, args: ["--notify-keyspace-events", "KEA"] });
  const c = await s.client();
  const sub = await s.client();
  try {
    assert.deepEqual(await c.call("CONFIG", "GET", "notify-keyspace-events"), [
      "notify-keyspace-events",
      "AKE",
    ]);
    assert.deepEqual(await callN(sub, 1, "PSUBSCRIBE", "*"), [["psubscribe", "*", 1]]);
    assert.equal(await c.call("SET", "foo", "bar"), "OK");
    assert.deepEqual(await next(sub), ["pmessage", "*", "__keyspace@0__:foo", "set"]);
    assert.deepEqual(await next(sub), ["pmessage", "*", "__keyevent@0__:set", "foo"]);

    // Only the enabled class (list) and only keyevent channels.
    assert.equal(await c.call("CONFIG", "SET", "notify-keyspace-events", "El"), "OK");
    assert.deepEqual(await c.call("CONFIG", "GET", "notify-keyspace-events"), [
      "notify-keyspace-events",
      "lE",
    ]);
    await c.call("SET", "foo", "baz");
    assert.equal(await c.call("LPUSH", "mylist", "a"), 1);
    assert.deepEqual(await next(sub), ["pmessage", "*", "__keyevent@0__:lpush", "mylist"]);

    // 'n' (new key) is not part of 'A'.
    assert.equal(await c.call("CONFIG", "SET", "notify-keyspace-events", "KA"), "OK");
    assert.deepEqual(await c.call("CONFIG", "GET", "notify-keyspace-events"), [
      "notify-keyspace-events",
      "AK",
    ]);
    await c.call("SET", "newkey", "1");
    assert.deepEqual(await next(sub), ["pmessage", "*", "__keyspace@0__:newkey", "set"]);
    assert.equal(await c.call("CONFIG", "SET", "notify-keyspace-events", "En"), "OK");
    await c.call("SET", "newkey", "2");
    await c.call("SET", "other", "1");
    assert.deepEqual(await next(sub), ["pmessage", "*", "__keyevent@0__:new", "other"]);
    // With 'A', CONFIG GET drops the 'n' as Redis does, but "new" events still flow.
    assert.equal(await c.call("CONFIG", "SET", "notify-keyspace-events", "EAn"), "OK");
    assert.deepEqual(await c.call("CONFIG", "GET", "notify-keyspace-events"), [
      "notify-keyspace-events",
      "AE",
    ]);
    await c.call("SET", "third", "1");
    assert.deepEqual(await next(sub), ["pmessage", "*", "__keyevent@0__:new", "third"]);
    assert.deepEqual(await next(sub), ["pmessage", "*", "__keyevent@0__:set", "third"]);
    await c.call("DEL", "third");
    assert.deepEqual(await next(sub), ["pmessage", "*", "__keyevent@0__:del", "third"]);

    // Generic and expired events; a class without K or E publishes nothing.
    assert.equal(await c.call("CONFIG", "SET", "notify-keyspace-events", "g"), "OK");
    await c.call("DEL", "other");
    assert.equal(await c.call("CONFIG", "SET", "notify-keyspace-events", "Egx"), "OK");
    await c.call("DEL", "newkey");
    assert.deepEqual(await next(sub), ["pmessage", "*", "__keyevent@0__:del", "newkey"]);
    await c.call("SET", "tmp", "1", "PX", "50");
    assert.deepEqual(await next(sub), ["pmessage", "*", "__keyevent@0__:expire", "tmp"]);
    // Active expiry publishes 'expired' without anyone touching the key.
    assert.deepEqual(await next(sub), ["pmessage", "*", "__keyevent@0__:expired", "tmp"]);

    const bad = await c.call("CONFIG", "SET", "notify-keyspace-events", "KEQ");
    assert.equal(
      errText(bad),
      "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
    );
    assert.equal(await sub.readRaw(200), "", "no stray notifications");
  } finally {
    c.close();
    sub.close();
    await s.stop();
  }
});
