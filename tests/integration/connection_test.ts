// Connection and CLIENT commands over real sockets: PING/ECHO/QUIT/RESET/AUTH/HELLO, RESP3
// encodings, CLIENT LIST/KILL/PAUSE/REPLY/SETNAME/TRACKING, requirepass, maxclients, timeout.
import assert from "node:assert/strict";
import { RespClient, startServer, waitBlocked, withServer } from "../helpers.ts";

function err(r: unknown): string {
  assert.ok(r instanceof Error, `expected an error reply, got ${JSON.stringify(r)}`);
  return r.message;
}

Deno.test("PING, ECHO, QUIT and the pub/sub PING form", async () => {
  await withServer(async (c, s) => {
    assert.equal(await c.call("PING"), "PONG");
    assert.equal(await c.call("PING", "hi"), "hi");
    assert.equal(
      err(await c.call("PING", "a", "b")),
      "ERR wrong number of arguments for 'ping' command",
    );
    assert.equal(await c.call("ECHO", "x\x00y"), "x\x00y");
    assert.equal(err(await c.call("ECHO")), "ERR wrong number of arguments for 'echo' command");
    const sub = await s.client();
    await sub.writeRaw("*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n");
    await sub.read();
    assert.deepEqual(await sub.call("PING"), ["pong", ""]);
    assert.deepEqual(await sub.call("PING", "m"), ["pong", "m"]);
    sub.close();
    const q = await s.client();
    await q.writeRaw("*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n");
    assert.equal(await q.readRaw(300), "+OK\r\n");
    assert.ok(await q.closedByPeer(500));
    q.close();
  });
});

Deno.test("HELLO: map reply, RESP3 switch, errors, SETNAME, AUTH", async () => {
  await withServer(async (c) => {
    const id = await c.call("CLIENT", "ID");
    await c.writeRaw("*1\r\n$5\r\nHELLO\r\n");
    const r2 = await c.readRaw(300);
    assert.equal(
      r2,
      `*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:${id}\r\n` +
        "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n",
    );
    assert.equal(err(await c.call("HELLO", "4")), "NOPROTO unsupported protocol version");
    assert.equal(
      err(await c.call("HELLO", "x")),
      "ERR Protocol version is not an integer or out of range",
    );
    assert.equal(err(await c.call("HELLO", "3", "foo")), "ERR Syntax error in HELLO option 'foo'");
    assert.equal(
      err(await c.call("HELLO", "3", "SETNAME", "a b")),
      "ERR Client names cannot contain spaces, newlines or special characters.",
    );
    // No password configured: any password for "default" is accepted, other users are not.
    assert.equal(
      err(await c.call("HELLO", "3", "AUTH", "bob", "x")),
      "WRONGPASS invalid username-password pair or user is disabled.",
    );
    const m = await c.call("HELLO", "3", "AUTH", "default", "whatever", "SETNAME", "conn1");
    assert.ok(m instanceof Map);
    assert.equal(m.get("proto"), 3);
    assert.equal(m.get("server"), "redis");
    assert.equal(await c.call("CLIENT", "GETNAME"), "conn1");
    // RESP3 encodings: null, double, map, set, boolean, verbatim.
    await c.writeRaw("*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n");
    assert.equal(await c.readRaw(300), "_\r\n");
    await c.writeRaw("*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$6\r\ndouble\r\n");
    const dbg = await c.readRaw(300);
    if (!dbg.startsWith("-ERR DEBUG command not allowed")) assert.equal(dbg, ",3.141\r\n");
    await c.writeRaw("*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nport\r\n");
    assert.match(await c.readRaw(300), /^%1\r\n\$4\r\nport\r\n\$\d+\r\n\d+\r\n$/);
    await c.writeRaw("*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n");
    assert.match(await c.readRaw(300), /^=\d+\r\ntxt:id=\d+ .* resp=3\n\r\n$/);
    // Back to RESP2.
    assert.deepEqual(await c.call("HELLO", "2"), [
      "server",
      "redis",
      "version",
      "7.0.15",
      "proto",
      2,
      "id",
      id,
      "mode",
      "standalone",
      "role",
      "master",
      "modules",
      [],
    ]);
    await c.writeRaw("*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n");
    assert.equal(await c.readRaw(300), "$-1\r\n");
  }, { args: ["--enable-debug-command", "yes"] });
});

Deno.test("AUTH and requirepass, set at start and by CONFIG SET", async () => {
  await withServer(async (c, s) => {
    assert.equal(
      err(await c.call("AUTH", "x")),
      "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
    );
    assert.equal(await c.call("AUTH", "default", "anything"), "OK");
    assert.equal(err(await c.call("AUTH", "a", "b", "c")), "ERR syntax error");
    // Setting a password keeps already-connected clients authenticated (they were "nopass").
    assert.equal(await c.call("CONFIG", "SET", "requirepass", "s3cret"), "OK");
    assert.equal(await c.call("PING"), "PONG");
    const d = await s.client();
    assert.equal(err(await d.call("PING")), "NOAUTH Authentication required.");
    assert.equal(
      err(await d.call("HELLO", "3")),
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
    assert.equal(
      err(await d.call("AUTH", "wrong")),
      "WRONGPASS invalid username-password pair or user is disabled.",
    );
    assert.equal(
      err(await d.call("AUTH", "bob", "s3cret")),
      "WRONGPASS invalid username-password pair or user is disabled.",
    );
    assert.equal(await d.call("AUTH", "s3cret"), "OK");
    assert.equal(await d.call("PING"), "PONG");
    // RESET de-authenticates when a password is set.
    assert.equal(await d.call("RESET"), "RESET");
    assert.equal(err(await d.call("PING")), "NOAUTH Authentication required.");
    const h = await d.call("HELLO", "3", "AUTH", "default", "s3cret");
    assert.ok(h instanceof Map);
    assert.deepEqual(await d.call("ACL", "WHOAMI"), "default");
    assert.match(
      String((await d.call("ACL", "LIST") as string[])[0]),
      /^user default on #[0-9a-f]{64} ~\* &\* \+@all$/,
    );
    d.close();
    assert.equal(await c.call("CONFIG", "SET", "requirepass", ""), "OK");
    const e = await s.client();
    assert.equal(await e.call("PING"), "PONG");
    e.close();
  });
  await withServer(async (c) => {
    assert.equal(err(await c.call("GET", "x")), "NOAUTH Authentication required.");
    assert.equal(await c.call("AUTH", "pw"), "OK");
    assert.equal(await c.call("GET", "x"), null);
  }, { args: ["--requirepass", "pw"], noWait: false });
});

Deno.test("RESET clears db, protocol, name, MULTI, subscriptions, reply mode", async () => {
  await withServer(async (c) => {
    assert.equal(await c.call("SELECT", "3"), "OK");
    assert.equal(await c.call("CLIENT", "SETNAME", "n1"), "OK");
    assert.ok((await c.call("HELLO", "3")) instanceof Map);
    assert.equal(await c.call("MULTI"), "OK");
    assert.equal(await c.call("RESET"), "RESET");
    assert.equal(await c.call("CLIENT", "GETNAME"), null);
    const info = String(await c.call("CLIENT", "INFO"));
    assert.match(info, / db=0 /);
    assert.match(info, / multi=-1 /);
    assert.match(info, / resp=2\n$/);
    await c.writeRaw("*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nx\r\n");
    await c.read();
    assert.equal(await c.call("RESET"), "RESET");
    assert.equal(await c.call("GET", "k"), null);
    // RESET gets its reply even when replies were turned off.
    await c.writeRaw(
      "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n*1\r\n$4\r\nPING\r\n*1\r\n$5\r\nRESET\r\n*1\r\n$4\r\nPING\r\n",
    );
    assert.equal(await c.readRaw(300), "+RESET\r\n+PONG\r\n");
  });
});

Deno.test("CLIENT: ID, SETNAME/GETNAME, LIST fields, INFO, KILL, REPLY, NO-EVICT, HELP", async () => {
  await withServer(async (c, s) => {
    const id = await c.call("CLIENT", "ID") as number;
    assert.equal(typeof id, "number");
    assert.equal(await c.call("CLIENT", "GETNAME"), null);
    assert.equal(
      err(await c.call("CLIENT", "SETNAME", "a b")),
      "ERR Client names cannot contain spaces, newlines or special characters.",
    );
    assert.equal(
      err(await c.call("CLIENT", "SETNAME", "a\nb")),
      "ERR Client names cannot contain spaces, newlines or special characters.",
    );
    assert.equal(await c.call("CLIENT", "SETNAME", "main"), "OK");
    assert.equal(await c.call("CLIENT", "GETNAME"), "main");
    const list = String(await c.call("CLIENT", "LIST"));
    const fields = list.trim().split(" ").map((f) => f.split("=")[0]);
    assert.deepEqual(fields, [
      "id",
      "addr",
      "laddr",
      "fd",
      "name",
      "age",
      "idle",
      "flags",
      "db",
      "sub",
      "psub",
      "ssub",
      "multi",
      "qbuf",
      "qbuf-free",
      "argv-mem",
      "multi-mem",
      "rbs",
      "rbp",
      "obl",
      "oll",
      "omem",
      "tot-mem",
      "events",
      "cmd",
      "user",
      "redir",
      "resp",
    ]);
    assert.match(
      list,
      new RegExp(
        `^id=${id} addr=127\\.0\\.0\\.1:\\d+ laddr=127\\.0\\.0\\.1:${s.port} fd=\\d+ name=main age=\\d+ idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 .* argv-mem=10 .* cmd=client\\|list user=default redir=-1 resp=2\\n$`,
      ),
    );
    const other = await s.client();
    await other.call("CLIENT", "SETNAME", "victim");
    await other.writeRaw("*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n");
    await other.read();
    const pubsubList = String(await c.call("CLIENT", "LIST", "TYPE", "pubsub"));
    assert.match(pubsubList, /name=victim .*flags=P .*sub=1 /);
    assert.equal((pubsubList.match(/\n/g) ?? []).length, 1);
    assert.equal(String(await c.call("CLIENT", "LIST", "TYPE", "master")), "");
    assert.equal(
      err(await c.call("CLIENT", "LIST", "TYPE", "foo")),
      "ERR Unknown client type 'foo'",
    );
    assert.match(
      String(await c.call("CLIENT", "LIST", "ID", String(id), "999999")),
      new RegExp(`^id=${id} `),
    );
    assert.equal(err(await c.call("CLIENT", "LIST", "ID", "x")), "ERR Invalid client ID");
    assert.equal(err(await c.call("CLIENT", "LIST", "foo")), "ERR syntax error");
    // KILL: old form by address, new forms by filters.
    assert.equal(err(await c.call("CLIENT", "KILL", "1.2.3.4:5")), "ERR No such client");
    assert.equal(
      err(await c.call("CLIENT", "KILL", "ID", "0")),
      "ERR client-id should be greater than 0",
    );
    assert.equal(
      err(await c.call("CLIENT", "KILL", "TYPE", "bad")),
      "ERR Unknown client type 'bad'",
    );
    assert.equal(err(await c.call("CLIENT", "KILL", "USER", "bob")), "ERR No such user 'bob'");
    assert.equal(err(await c.call("CLIENT", "KILL", "SKIPME", "maybe")), "ERR syntax error");
    assert.equal(err(await c.call("CLIENT", "KILL", "ID", "1", "SKIPME")), "ERR syntax error");
    assert.equal(await c.call("CLIENT", "KILL", "TYPE", "pubsub"), 1);
    assert.ok(await other.closedByPeer(1000));
    other.close();
    const third = await s.client();
    const addr = String(await third.call("CLIENT", "INFO")).match(/addr=(\S+)/)![1];
    assert.equal(await c.call("CLIENT", "KILL", addr), "OK");
    assert.ok(await third.closedByPeer(1000));
    third.close();
    // SKIPME yes (default) spares the caller; ID of self with SKIPME no closes after the reply.
    assert.equal(await c.call("CLIENT", "KILL", "ID", String(id)), 0);
    // REPLY OFF / SKIP / ON.
    await c.writeRaw(
      "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\n*2\r\n$4\r\nECHO\r\n$1\r\nb\r\n" +
        "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n*2\r\n$4\r\nECHO\r\n$1\r\nc\r\n" +
        "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n*2\r\n$4\r\nECHO\r\n$1\r\nd\r\n",
    );
    assert.equal(await c.readRaw(400), "$1\r\nb\r\n+OK\r\n$1\r\nd\r\n");
    assert.equal(err(await c.call("CLIENT", "REPLY", "MAYBE")), "ERR syntax error");
    assert.equal(
      err(await c.call("CLIENT", "REPLY")),
      "ERR wrong number of arguments for 'client|reply' command",
    );
    assert.equal(await c.call("CLIENT", "NO-EVICT", "on"), "OK");
    assert.match(String(await c.call("CLIENT", "INFO")), / flags=e /);
    assert.equal(err(await c.call("CLIENT", "NO-EVICT", "x")), "ERR syntax error");
    assert.equal(
      err(await c.call("CLIENT", "FOO")),
      "ERR unknown subcommand 'FOO'. Try CLIENT HELP.",
    );
    const help = await c.call("CLIENT", "HELP") as string[];
    assert.equal(help[0], "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert.equal(help[help.length - 2], "HELP");
    assert.equal(help[help.length - 1], "    Prints this help.");
    assert.equal(help.length, 48);
    // SKIPME no kills the caller after replying.
    assert.equal(await c.call("CLIENT", "KILL", "ID", String(id), "SKIPME", "no"), 1);
    assert.ok(await c.closedByPeer(1000));
  });
});

Deno.test("CLIENT PAUSE: waiting clients count as blocked; the dataset, expiry included, stays still", async () => {
  await withServer(async (c, s) => {
    const stat = async (name: string) =>
      Number(new RegExp(`${name}:(\\d+)`).exec(String(await c.call("INFO")))![1]);
    assert.equal(await c.call("SET", "ttl", "v", "PX", "50"), "OK");
    assert.equal(await c.call("CLIENT", "PAUSE", "20000", "WRITE"), "OK");
    const w = await s.client();
    const pending = w.call("SET", "k", "v");
    await waitBlocked(c, 1);
    // The key's TTL passed: it reads as missing, but neither a lookup nor the active cycle
    // deletes it while the pause lasts.
    await new Promise((r) => setTimeout(r, 300));
    const expired = await stat("expired_keys");
    assert.equal(await c.call("GET", "ttl"), null);
    assert.equal(await c.call("DBSIZE"), 1);
    assert.equal(await stat("expired_keys"), expired);
    assert.equal(await c.call("CLIENT", "UNPAUSE"), "OK");
    assert.equal(await pending, "OK");
    assert.equal(await stat("blocked_clients"), 0);
    assert.equal(await c.call("GET", "ttl"), null);
    assert.equal(await stat("expired_keys"), expired + 1);
    assert.equal(await c.call("DBSIZE"), 1); // k
    w.close();
  });
});

Deno.test("CLIENT PAUSE / UNPAUSE and TRACKING state", async () => {
  await withServer(async (c, s) => {
    assert.equal(
      err(await c.call("CLIENT", "PAUSE", "x")),
      "ERR timeout is not an integer or out of range",
    );
    assert.equal(err(await c.call("CLIENT", "PAUSE", "-1")), "ERR timeout is negative");
    assert.equal(
      err(await c.call("CLIENT", "PAUSE", "10", "READ")),
      "ERR CLIENT PAUSE mode must be WRITE or ALL",
    );
    const w = await s.client();
    assert.equal(await c.call("CLIENT", "PAUSE", "700", "WRITE"), "OK");
    const t0 = Date.now();
    assert.equal(await w.call("GET", "k"), null); // reads pass
    assert.ok(Date.now() - t0 < 600, `read waited ${Date.now() - t0} ms`);
    assert.equal(await w.call("SET", "k", "v"), "OK"); // writes wait
    assert.ok(Date.now() - t0 >= 650, `write waited ${Date.now() - t0} ms`);
    // ALL pauses reads too.
    assert.equal(await c.call("CLIENT", "PAUSE", "300", "ALL"), "OK");
    const t1 = Date.now();
    assert.equal(await w.call("GET", "k"), "v");
    assert.ok(Date.now() - t1 >= 250, `read waited ${Date.now() - t1} ms`);
    // UNPAUSE (not a write) releases a long WRITE pause at once.
    assert.equal(await c.call("CLIENT", "PAUSE", "5000", "WRITE"), "OK");
    const t2 = Date.now();
    const pending = w.call("SET", "k", "v2");
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await c.call("CLIENT", "UNPAUSE"), "OK");
    assert.equal(await pending, "OK");
    assert.ok(Date.now() - t2 < 2000);
    w.close();
    const x = await startServer();
    try {
      const xc = await x.client();
      assert.deepEqual(
        await xc.call("CLIENT", "TRACKINGINFO"),
        ["flags", ["off"], "redirect", -1, "prefixes", []],
      );
      assert.equal(
        err(await xc.call("CLIENT", "TRACKING", "on", "PREFIX", "a")),
        "ERR PREFIX option requires BCAST mode to be enabled",
      );
      assert.equal(
        err(await xc.call("CLIENT", "TRACKING", "on", "BCAST", "OPTIN")),
        "ERR OPTIN and OPTOUT are not compatible with BCAST",
      );
      assert.equal(
        err(await xc.call("CLIENT", "TRACKING", "on", "REDIRECT", "99999")),
        "ERR The client ID you want redirect to does not exist",
      );
      assert.equal(
        err(await xc.call("CLIENT", "CACHING", "yes")),
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
      );
      assert.equal(await xc.call("CLIENT", "TRACKING", "on", "OPTIN"), "OK");
      assert.equal(await xc.call("CLIENT", "CACHING", "yes"), "OK");
      assert.equal(
        err(await xc.call("CLIENT", "CACHING", "no")),
        "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
      );
      assert.deepEqual(
        await xc.call("CLIENT", "TRACKINGINFO"),
        ["flags", ["on", "optin", "caching-yes"], "redirect", 0, "prefixes", []],
      );
      assert.equal(await xc.call("CLIENT", "GETREDIR"), 0);
      assert.match(String(await xc.call("CLIENT", "INFO")), / flags=t .* redir=0 /);
      assert.equal(await xc.call("CLIENT", "TRACKING", "off"), "OK");
      assert.equal(await xc.call("CLIENT", "GETREDIR"), -1);
      assert.equal(await xc.call("CLIENT", "UNBLOCK", "99999"), 0);
      assert.equal(
        err(await xc.call("CLIENT", "UNBLOCK", "1", "MAYBE")),
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
      );
      xc.close();
    } finally {
      await x.stop();
    }
  });
});

Deno.test("maxclients refuses extra connections; timeout closes idle ones", async () => {
  await withServer(async (c, s) => {
    // Set at run time: the limit applies to the next accepted connection.
    assert.equal(await c.call("CONFIG", "SET", "maxclients", "2"), "OK");
    const b = await s.client();
    assert.equal(await b.call("PING"), "PONG");
    const extra = await RespClient.connect(s.port);
    assert.equal(await extra.readRaw(500), "-ERR max number of clients reached\r\n");
    extra.close();
    b.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await c.call("CONFIG", "SET", "maxclients", "3"), "OK");
    assert.equal(await c.call("CONFIG", "SET", "timeout", "1"), "OK");
    const idle = await s.client();
    assert.equal(await idle.call("PING"), "PONG");
    const closed = idle.closedByPeer(3500);
    // Keep the main client busy meanwhile so only the idle one times out.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await c.call("PING"), "PONG");
    }
    assert.ok(await closed, "idle client closed by timeout");
    idle.close();
    const info = String(await c.call("INFO", "stats"));
    assert.match(info, /rejected_connections:1\r\n/);
  });
});
