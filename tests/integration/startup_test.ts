// Start-up behaviour of the real process: config sources and their precedence, fatal config
// errors, busy ports, bind to IPv4+IPv6, pidfile, logfile and log line format, banner lines,
// protected mode, --help/--version, and how fast the first PING is answered.
import assert from "node:assert/strict";
import { freePort, RespClient, ServerProcess, startServer, waitForPing } from "../helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Runs tsredis to completion (for start-ups that must fail or print and exit). */
async function runToExit(
  args: string[],
  cwd: string,
  stdin?: string,
): Promise<{ code: number; out: string; err: string }> {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-check", "--quiet", MAIN, ...args],
    cwd,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const timer = setTimeout(() => p.kill("SIGKILL"), 20000);
  const o = await p.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

/** Spawns tsredis with exactly these arguments (no defaults added). */
function spawn(args: string[], cwd: string, port: number): ServerProcess {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-check", "--quiet", MAIN, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return new ServerProcess(p, port, cwd);
}

function tmp(): string {
  return Deno.makeTempDirSync({ prefix: "tsredis-startup-" });
}

Deno.test("bad directives stop start-up with Redis's FATAL CONFIG FILE ERROR block", async () => {
  const dir = tmp();
  Deno.writeTextFileSync(`${dir}/bad.conf`, "# comment\nport 7000\nnosuch-directive 1 2\n");
  let r = await runToExit([`${dir}/bad.conf`], dir);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    new RegExp(
      `\\*\\*\\* FATAL CONFIG FILE ERROR \\(tsredis [0-9.]+\\) \\*\\*\\*\\nReading the configuration file ${dir}/bad\\.conf, at line 3\\n>>> 'nosuch-directive 1 2'\\nBad directive or wrong number of arguments\\n`,
    ),
  );
  Deno.writeTextFileSync(`${dir}/bad2.conf`, "port notanumber\n");
  r = await runToExit([`${dir}/bad2.conf`], dir);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /at line 1\n>>> 'port notanumber'\nargument couldn't be parsed into an integer\n/,
  );
  r = await runToExit(["--maxmemory-policy", "sometimes"], dir);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /at line 1\n>>> 'maxmemory-policy sometimes'\nargument\(s\) must be one of the following: volatile-lru/,
  );
  r = await runToExit([`${dir}/missing.conf`], dir);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /Fatal error, can't open config file '.*missing\.conf': No such file or directory/,
  );
  Deno.writeTextFileSync(`${dir}/bad.toml`, 'port = "x"\n');
  r = await runToExit(["--config", `${dir}/bad.toml`], dir);
  assert.equal(r.code, 1);
  assert.match(r.err, /FATAL CONFIG FILE ERROR[\s\S]*argument couldn't be parsed into an integer/);
});

Deno.test("--version and --help print and exit 0", async () => {
  const dir = tmp();
  let r = await runToExit(["--version"], dir);
  assert.equal(r.code, 0);
  assert.match(r.out, /^tsredis server v=\S+ redis_version=7\.0\.15 bits=64\n$/);
  r = await runToExit(["--help"], dir);
  assert.equal(r.code, 0);
  assert.match(r.err, /Usage: \.\/tsredis \[\/path\/to\/redis\.conf\] \[options\]/);
});

Deno.test("a busy port fails with 'Failed listening on port N (TCP), aborting.' and exit 1", async () => {
  const dir = tmp();
  const port = freePort();
  const hold = Deno.listen({ hostname: "0.0.0.0", port });
  try {
    const r = await runToExit(["--port", String(port), "--save", ""], dir);
    assert.equal(r.code, 1);
    assert.match(
      r.out + r.err,
      new RegExp(`Failed listening on port ${port} \\(TCP\\), aborting\\.`),
    );
    // Redis's warning names the address and the failed call.
    assert.match(
      r.out,
      new RegExp(
        `Could not create server TCP listening socket \\*:${port}: bind: Address already in use`,
      ),
    );
  } finally {
    hold.close();
  }
});

Deno.test("config sources: file, stdin, flags, TOML; later ones win; banner, pidfile, log format", async () => {
  const dir = tmp();
  const port = freePort();
  Deno.writeTextFileSync(
    `${dir}/a.conf`,
    `port 1\nhz 11\nmaxmemory 1mb\ndaemonize yes\npidfile ${dir}/t.pid\n`,
  );
  Deno.writeTextFileSync(
    `${dir}/b.toml`,
    `hz = 12\nmaxmemory = "2mb"\nsave = ""\n[cluster]\nnode-timeout = 5000\n`,
  );
  const t0 = performance.now();
  const s = spawn(
    [`${dir}/a.conf`, "--port", String(port), "--config", `${dir}/b.toml`, "--hz", "13", "-"],
    dir,
    port,
  );
  // stdin is not piped here (config from "-" is exercised below), so "-" reads nothing.
  try {
    await waitForPing(port, s);
    const firstPingMs = performance.now() - t0;
    console.log(`first PING answered ${firstPingMs.toFixed(0)} ms after spawn`);
    assert.ok(firstPingMs < 5000, `first PING took ${firstPingMs} ms`);
    const c = await s.client();
    assert.deepEqual(
      await c.call(
        "CONFIG",
        "GET",
        "hz",
        "maxmemory",
        "port",
        "cluster-node-timeout",
        "save",
        "daemonize",
      ),
      [
        "hz",
        "13",
        "maxmemory",
        "2097152",
        "port",
        String(port),
        "cluster-node-timeout",
        "5000",
        "save",
        "",
        "daemonize",
        "yes",
      ],
    );
    const info = String(await c.call("INFO", "server"));
    const pid = Number(info.match(/process_id:(\d+)/)![1]);
    assert.equal(Deno.readTextFileSync(`${dir}/t.pid`), `${pid}\n`);
    assert.match(info, new RegExp(`config_file:${dir}/a\\.conf\\r\\n`));
    c.close();
    assert.match(s.output, new RegExp(` PID: ${pid}\\n`));
    assert.match(s.output, /Ready to accept connections/);
    assert.match(s.output, /daemonize yes is ignored/);
    // Redis's line format: "pid:M dd Mon yyyy hh:mm:ss.mmm <level> message".
    assert.match(
      s.output,
      new RegExp(
        `^${pid}:M \\d\\d [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\* Ready to accept connections$`,
        "m",
      ),
    );
    assert.equal(await s.stop(), 0);
    // The pidfile is removed on a clean shutdown.
    assert.throws(() => Deno.statSync(`${dir}/t.pid`));
  } finally {
    await s.stop();
  }
});

Deno.test("config from stdin ('-') and logfile honoured", async () => {
  const dir = tmp();
  const port = freePort();
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-check", "--quiet", MAIN, "-", "--save", ""],
    cwd: dir,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(
    new TextEncoder().encode(`port ${port}\nlogfile ${dir}/server.log\nloglevel verbose\n`),
  );
  await w.close();
  const s = new ServerProcess(p, port, dir);
  try {
    await waitForPing(port, s);
    const log = Deno.readTextFileSync(`${dir}/server.log`);
    assert.match(
      log,
      /^\d+:M \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} \* Ready to accept connections$/m,
    );
    assert.doesNotMatch(s.output, /Ready to accept connections/);
    const c = await s.client();
    assert.equal(
      await c.call("CONFIG", "GET", "loglevel").then((r) => (r as string[])[1]),
      "verbose",
    );
    c.close();
  } finally {
    await s.stop();
  }
});

Deno.test("bind 127.0.0.1 ::1 accepts IPv4 and IPv6 clients; CONFIG SET bind/port rebind", async () => {
  let v6 = true;
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
  } catch {
    v6 = false;
  }
  const s = await startServer({ args: ["--bind", "127.0.0.1", ...(v6 ? ["::1"] : [])] });
  try {
    const c4 = await RespClient.connect(s.port, "127.0.0.1");
    assert.equal(await c4.call("PING"), "PONG");
    if (v6) {
      const c6 = await RespClient.connect(s.port, "::1");
      assert.equal(await c6.call("PING"), "PONG");
      assert.match(
        String(await c6.call("CLIENT", "INFO")),
        new RegExp(`addr=\\[::1\\]:\\d+ laddr=\\[::1\\]:${s.port} `),
      );
      c6.close();
    } else console.log("IPv6 loopback not available: IPv6 part skipped");
    // Move to another port: the old one stops accepting, existing connections stay.
    const newPort = freePort();
    assert.equal(await c4.call("CONFIG", "SET", "port", String(newPort)), "OK");
    // Deno releases a closed listener's socket on the next event-loop turn.
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(() => RespClient.connect(s.port, "127.0.0.1"));
    const n = await RespClient.connect(newPort, "127.0.0.1");
    assert.equal(await n.call("PING"), "PONG");
    n.close();
    assert.equal(await c4.call("PING"), "PONG");
    const hold = Deno.listen({ hostname: "127.0.0.1", port: freePort() });
    const busy = (hold.addr as Deno.NetAddr).port;
    assert.equal(
      String((await c4.call("CONFIG", "SET", "port", String(busy)) as Error).message),
      "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.",
    );
    hold.close();
    assert.equal(
      await c4.call("CONFIG", "GET", "port").then((r) => (r as string[])[1]),
      String(newPort),
    );
    const again = await RespClient.connect(newPort, "127.0.0.1");
    assert.equal(await again.call("PING"), "PONG");
    again.close();
    assert.equal(await c4.call("CONFIG", "SET", "bind", "127.0.0.1"), "OK");
    assert.equal(
      await c4.call("CONFIG", "GET", "bind").then((r) => (r as string[])[1]),
      "127.0.0.1",
    );
    await new Promise((r) => setTimeout(r, 100));
    const v4 = await RespClient.connect(newPort, "127.0.0.1");
    assert.equal(await v4.call("PING"), "PONG");
    v4.close();
    if (v6) await assert.rejects(() => RespClient.connect(newPort, "::1"));
    assert.equal(
      String((await c4.call("CONFIG", "SET", "bind", "203.0.113.77") as Error).message),
      "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.",
    );
    assert.equal(
      await c4.call("CONFIG", "GET", "bind").then((r) => (r as string[])[1]),
      "127.0.0.1",
    );
    c4.close();
  } finally {
    await s.stop();
  }
});

Deno.test("protected mode refuses non-loopback clients without a password", async () => {
  const ext = Deno.networkInterfaces().find((i) =>
    i.family === "IPv4" && !i.address.startsWith("127.")
  );
  if (!ext) {
    console.log("no non-loopback IPv4 address: protected mode test skipped");
    return;
  }
  const s = await startServer();
  try {
    const c = await RespClient.connect(s.port, ext.address);
    assert.match(
      await c.readRaw(500),
      /^-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user\./,
    );
    c.close();
    const local = await s.client();
    assert.equal(await local.call("CONFIG", "SET", "protected-mode", "no"), "OK");
    const c2 = await RespClient.connect(s.port, ext.address);
    assert.equal(await c2.call("PING"), "PONG");
    c2.close();
    assert.equal(
      await local.call("CONFIG", "SET", "protected-mode", "yes", "requirepass", "pw"),
      "OK",
    );
    const c3 = await RespClient.connect(s.port, ext.address);
    assert.equal(
      String((await c3.call("PING") as Error).message),
      "NOAUTH Authentication required.",
    );
    c3.close();
    local.close();
  } finally {
    await s.stop();
  }
});
