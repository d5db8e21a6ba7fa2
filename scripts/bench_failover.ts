// deno task bench:failover — failover time and write loss, tsredis next to redis-server.
// For each server kind and node timeout: a 3-master/3-replica cluster, a steady writer
// (one client, SET of increasing counters, each acknowledged write recorded), SIGKILL of one
// master, then: time from the kill to the first successful write on the moved slots (as a
// cluster client sees it), and how many acknowledged writes to that master's slots are missing
// afterwards (read back from the new master).
import { parseArgs } from "node:util";
import Redis from "ioredis";
import { keyHashSlot } from "../lib/cluster/slot.ts";

const { values: opt } = parseArgs({
  options: {
    timeouts: { type: "string", default: "2000,5000" },
    rounds: { type: "string", default: "1" },
  },
});
const ROOT = new URL("..", import.meta.url).pathname;

function freePort(): number {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 30000);
    try {
      Deno.listen({ port: p, hostname: "127.0.0.1" }).close();
      Deno.listen({ port: p + 10000, hostname: "127.0.0.1" }).close();
      return p;
    } catch { /* busy */ }
  }
}

function cli(port: number, ...args: string[]): string {
  const r = new Deno.Command("redis-cli", {
    args: ["-p", String(port), ...args],
    stdout: "piped",
    stderr: "null",
  })
    .outputSync();
  return new TextDecoder().decode(r.stdout).trim();
}

interface N {
  port: number;
  proc: Deno.ChildProcess;
  id: string;
}

async function until(fn: () => boolean, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    try {
      if (fn()) return true;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function cluster(kind: "tsredis" | "redis", timeout: number): Promise<N[]> {
  const nodes: N[] = [];
  for (let i = 0; i < 6; i++) {
    const port = freePort();
    const dir = Deno.makeTempDirSync({ prefix: "tsredis-fobench-" });
    const args = [
      "--port",
      String(port),
      "--cluster-enabled",
      "yes",
      "--cluster-node-timeout",
      String(timeout),
      "--save",
      "",
      "--dir",
      dir,
    ];
    const cmd = kind === "redis"
      ? new Deno.Command("redis-server", { args, stdout: "null", stderr: "null", cwd: dir })
      : new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", "--no-check", "--quiet", `${ROOT}main.ts`, ...args],
        stdout: "null",
        stderr: "null",
        cwd: dir,
      });
    nodes.push({ port, proc: cmd.spawn(), id: "" });
  }
  for (const n of nodes) await until(() => cli(n.port, "ping") === "PONG", 10000);
  for (const n of nodes) n.id = cli(n.port, "cluster", "myid");
  for (const n of nodes.slice(1)) {
    cli(nodes[0].port, "cluster", "meet", "127.0.0.1", String(n.port));
  }
  const ranges = [[0, 5460], [5461, 10922], [10923, 16383]];
  for (let i = 0; i < 3; i++) {
    cli(nodes[i].port, "cluster", "addslotsrange", String(ranges[i][0]), String(ranges[i][1]));
  }
  await until(
    () => nodes.every((n) => cli(n.port, "cluster", "nodes").split("\n").length === 6),
    20000,
  );
  for (let i = 3; i < 6; i++) cli(nodes[i].port, "cluster", "replicate", nodes[i - 3].id);
  await until(
    () => nodes.every((n) => cli(n.port, "cluster", "info").includes("cluster_state:ok")),
    30000,
  );
  await until(
    () => cli(nodes[3].port, "info", "replication").includes("master_link_status:up"),
    20000,
  );
  return nodes;
}

async function stopAll(nodes: N[]): Promise<void> {
  for (const n of nodes) {
    try {
      n.proc.kill("SIGKILL");
    } catch { /* gone */ }
    await n.proc.status;
  }
}

async function measure(
  kind: "tsredis" | "redis",
  timeout: number,
): Promise<{ ms: number; lost: number; acked: number }> {
  const nodes = await cluster(kind, timeout);
  const client = new Redis.Cluster([{ host: "127.0.0.1", port: nodes[1].port }], {
    clusterRetryStrategy: () => 100,
    redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 500 },
  });
  const victim = nodes[0];
  const acked = new Map<string, string>();
  let stop = false;
  let killedAt = 0;
  let firstOkAfterKill = 0;
  const writer = (async () => {
    let i = 0;
    while (!stop) {
      const k = `fo:${i}`;
      try {
        await client.set(k, String(i));
        acked.set(k, String(i));
        if (killedAt && !firstOkAfterKill && keyHashSlot(k) <= 5460) {
          firstOkAfterKill = Date.now();
        }
      } catch { /* failed writes are not acknowledged */ }
      i++;
    }
  })();
  await new Promise((r) => setTimeout(r, 1000));
  killedAt = Date.now();
  victim.proc.kill("SIGKILL");
  await victim.proc.status;
  await until(() => firstOkAfterKill !== 0, timeout * 10);
  await new Promise((r) => setTimeout(r, 500));
  stop = true;
  await writer;
  let lost = 0;
  let inVictim = 0;
  for (const [k, v] of acked) {
    if (keyHashSlot(k) > 5460) continue;
    inVictim++;
    if ((await client.get(k).catch(() => null)) !== v) lost++;
  }
  client.disconnect();
  await stopAll(nodes.slice(1));
  return { ms: firstOkAfterKill ? firstOkAfterKill - killedAt : -1, lost, acked: inVictim };
}

console.log(
  "| server | node timeout ms | kill → first write on moved slots (ms) | acked writes to that shard | lost |",
);
console.log("|---|---|---|---|---|");
for (const t of opt.timeouts!.split(",").map(Number)) {
  for (let r = 0; r < Number(opt.rounds); r++) {
    for (const kind of ["redis", "tsredis"] as const) {
      const m = await measure(kind, t);
      console.log(`| ${kind} | ${t} | ${m.ms} | ${m.acked} | ${m.lost} |`);
    }
  }
}
