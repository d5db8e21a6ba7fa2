// INFO latencystats (latency-tracking, latency-tracking-info-percentiles), commandstats
// failed_calls/rejected_calls and errorstats for errors inside MULTI/EXEC, rejected commands and
// blocked clients, and MONITOR's feed order (after the command ran).
import assert from "node:assert/strict";
import { type Reply, type RespClient, waitBlocked, withServer } from "../helpers.ts";

/** TEST_REAL_REDIS=1 runs the same assertions against redis-server, to check the tests themselves. */
const REAL = {
  redis: Deno.env.get("TEST_REAL_REDIS") === "1",
  args: ["--enable-debug-command", "yes"],
};

function errText(r: Reply): string {
  assert.ok(r instanceof Error, `expected an error, got ${JSON.stringify(r)}`);
  return r.message;
}

/** The value of one `name:value` line of INFO <section>, or "" when absent. */
async function infoField(c: RespClient, section: string, name: string): Promise<string> {
  const text = String(await c.call("INFO", section));
  for (const line of text.split("\r\n")) {
    if (line.startsWith(name + ":")) return line.slice(name.length + 1);
  }
  return "";
}

const latency = (c: RespClient, cmd: string) =>
  infoField(c, "latencystats", `latency_percentiles_usec_${cmd}`);
const cmdstat = (c: RespClient, cmd: string) => infoField(c, "commandstats", `cmdstat_${cmd}`);
const errorstat = (c: RespClient, code: string) => infoField(c, "errorstats", `errorstat_${code}`);

Deno.test("latencystats: tracking switch, percentiles config, RESETSTAT", async () => {
  await withServer(async (c) => {
    assert.deepEqual(await c.call("CONFIG", "GET", "latency-tracking"), [
      "latency-tracking",
      "yes",
    ]);
    assert.deepEqual(await c.call("CONFIG", "GET", "latency-tracking-info-percentiles"), [
      "latency-tracking-info-percentiles",
      "50 99 99.9",
    ]);
    await c.call("CONFIG", "RESETSTAT");
    await c.call("CONFIG", "SET", "latency-tracking", "no");
    await c.call("SET", "a", "b");
    assert.equal(await latency(c, "set"), "");
    await c.call("CONFIG", "SET", "latency-tracking", "yes");
    await c.call("SET", "a", "b");
    await c.call("GET", "a");
    assert.match(await latency(c, "set"), /^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$/);
    assert.match(await latency(c, "get"), /^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$/);
    // Subcommands have their own histograms.
    await c.call("CLIENT", "ID");
    assert.match(await latency(c, "client|id"), /^p50=/);
    assert.match(await latency(c, "config|set"), /^p50=/);

    assert.equal(
      await c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "0.0 50.0 100.0"),
      "OK",
    );
    assert.deepEqual(await c.call("CONFIG", "GET", "latency-tracking-info-percentiles"), [
      "latency-tracking-info-percentiles",
      "0 50 100",
    ]);
    assert.match(await latency(c, "set"), /^p0=\d+\.\d{3},p50=\d+\.\d{3},p100=\d+\.\d{3}$/);
    await c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "12.5");
    assert.match(await latency(c, "set"), /^p12\.5=\d+\.\d{3}$/);
    await c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "");
    assert.deepEqual(await c.call("CONFIG", "GET", "latency-tracking-info-percentiles"), [
      "latency-tracking-info-percentiles",
      "",
    ]);
    assert.equal(await latency(c, "set"), "");
    assert.match(String(await c.call("INFO", "latencystats")), /latency_percentiles_usec_set:\r\n/);

    await c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9");
    assert.equal(
      errText(await c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "10.0 50.0 a")),
      "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - Invalid latency-tracking-info-percentiles parameters",
    );
    assert.equal(
      errText(await c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "10 101.0")),
      "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
    );
    assert.deepEqual(await c.call("CONFIG", "GET", "latency-tracking-info-percentiles"), [
      "latency-tracking-info-percentiles",
      "50 99 99.9",
    ]);
    await c.call("CONFIG", "RESETSTAT");
    assert.equal(await latency(c, "set"), "");
  }, REAL);
});

Deno.test("latencystats: measured values and blocked commands", async () => {
  await withServer(async (c, s) => {
    await c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50.0");
    await c.call("DEBUG", "SLEEP", "0.05");
    const m = (await latency(c, "debug")).match(/^p50=(\d+\.\d{3})$/);
    assert.ok(m, "debug latency line");
    const p50 = Number(m[1]);
    assert.ok(p50 >= 50000 && p50 < 200000, `p50 of DEBUG SLEEP 0.05 is ${p50}`);

    // A blocked BLPOP gets its sample when it is served.
    const b = await s.client();
    await b.send("BLPOP", "list", "0");
    await waitBlocked(c, 1);
    assert.equal(await latency(c, "blpop"), "");
    await c.call("LPUSH", "list", "a");
    assert.deepEqual(await b.read(), ["list", "a"]);
    assert.match(await latency(c, "blpop"), /^p50=\d+\.\d{3}$/);
    b.close();
  }, REAL);
});

Deno.test("errorstats / commandstats: MULTI/EXEC, rejections, blocked clients", async () => {
  await withServer(async (c, s) => {
    await c.call("CONFIG", "RESETSTAT");
    // An error of a command run by EXEC belongs to that command, not to EXEC.
    await c.call("MULTI");
    await c.call("SET", "a", "b");
    await c.call("AUTH", "a");
    const r = await c.call("EXEC") as Reply[];
    assert.equal(r[0], "OK");
    assert.match(errText(r[1]), /^ERR AUTH/);
    assert.match(await cmdstat(c, "set"), /^calls=1,.*,rejected_calls=0,failed_calls=0$/);
    assert.match(await cmdstat(c, "auth"), /^calls=1,.*,rejected_calls=0,failed_calls=1$/);
    assert.match(await cmdstat(c, "exec"), /^calls=1,.*,rejected_calls=0,failed_calls=0$/);
    assert.equal(await errorstat(c, "ERR"), "count=1");
    assert.equal(errText(await c.call("EXEC")), "ERR EXEC without MULTI");
    assert.match(await cmdstat(c, "exec"), /^calls=2,.*,rejected_calls=0,failed_calls=1$/);
    assert.equal(await infoField(c, "stats", "total_error_replies"), "2");

    // A rejected command is not charged to the next command.
    await c.call("CONFIG", "RESETSTAT");
    assert.equal(
      errText(await c.call("SET", "k")),
      "ERR wrong number of arguments for 'set' command",
    );
    await c.call("SET", "k1", "v1");
    await c.call("SET", "k2", "v2");
    assert.match(await cmdstat(c, "set"), /^calls=2,.*,rejected_calls=1,failed_calls=0$/);

    // Rejected inside MULTI: the command is rejected, EXEC fails with EXECABORT.
    await c.call("CONFIG", "RESETSTAT");
    await c.call("MULTI");
    errText(await c.call("SET"));
    assert.match(errText(await c.call("EXEC")), /^EXECABORT/);
    assert.match(await cmdstat(c, "set"), /^calls=0,.*,rejected_calls=1,failed_calls=0$/);
    assert.match(await cmdstat(c, "multi"), /^calls=1,.*,rejected_calls=0,failed_calls=0$/);
    assert.match(await cmdstat(c, "exec"), /^calls=1,.*,rejected_calls=0,failed_calls=1$/);
    assert.equal(await errorstat(c, "EXECABORT"), "count=1");

    // CLIENT UNBLOCK ... ERROR: the blocked command failed.
    await c.call("CONFIG", "RESETSTAT");
    const b = await s.client();
    const id = await b.call("CLIENT", "ID") as number;
    await b.send("BLPOP", "list1", "0");
    await waitBlocked(c, 1);
    assert.equal(await c.call("CLIENT", "UNBLOCK", id, "ERROR"), 1);
    assert.equal(errText(await b.read()), "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    assert.equal(await errorstat(c, "UNBLOCKED"), "count=1");
    assert.match(await cmdstat(c, "blpop"), /^calls=1,.*,rejected_calls=0,failed_calls=1$/);
    assert.equal(await infoField(c, "stats", "total_error_replies"), "1");
    b.close();
  }, REAL);
});

Deno.test("MONITOR shows a command after it ran, inner EXEC commands before EXEC", async () => {
  await withServer(async (c, s) => {
    const m = await s.client();
    assert.equal(await m.call("MONITOR"), "OK");
    await c.call("SELECT", "2");
    await c.call("MULTI");
    await c.call("SET", "k", "v");
    await c.call("EXEC");
    const lines: string[] = [];
    for (let i = 0; i < 4; i++) lines.push(String(await m.read()));
    // SELECT is shown with the db it selected; MULTI runs when EXEC does.
    assert.match(lines[0], /^\d+\.\d{6} \[2 127\.0\.0\.1:\d+\] "SELECT" "2"$/);
    assert.match(lines[1], /^\d+\.\d{6} \[2 127\.0\.0\.1:\d+\] "MULTI"$/);
    assert.match(lines[2], /^\d+\.\d{6} \[2 127\.0\.0\.1:\d+\] "SET" "k" "v"$/);
    assert.match(lines[3], /^\d+\.\d{6} \[2 127\.0\.0\.1:\d+\] "EXEC"$/);
    m.close();
  }, REAL);
});
