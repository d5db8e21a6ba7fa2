// deno task cluster:demo — the Redis Cluster tutorial on one machine with tsredis nodes and the
// real redis-cli: start nodes from redis-style configs, MEET, REPLICATE, ADDSLOTS, write keys,
// MOVED and -c, kill a master with SIGINT, watch its replica take over, restart it as a replica,
// then keep the cluster running with a live table until Ctrl-C stops every node cleanly.
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import Redis from "ioredis";

const { values: opt } = parseArgs({
  options: {
    "base-port": { type: "string", default: "6379" },
    masters: { type: "string", default: "3" },
    "replicas-per-master": { type: "string", default: "1" },
    "node-timeout": { type: "string", default: "5000" },
    keep: { type: "boolean", default: false },
    dir: { type: "string", default: "cluster-demo" },
    "no-wait": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (opt.help) {
  console.log(`deno task cluster:demo [--base-port 6379] [--masters 3] [--replicas-per-master 1]
                       [--node-timeout 5000] [--dir cluster-demo] [--keep] [--no-wait]
  --keep      keep the data directory (nodes.conf, dumps, logs) after exit
  --no-wait   run the story and stop (no live view)`);
  Deno.exit(0);
}

const ROOT = new URL("..", import.meta.url).pathname;
const BASE = Number(opt["base-port"]);
const MASTERS = Number(opt.masters);
const REPLICAS = Number(opt["replicas-per-master"]);
const TIMEOUT = Number(opt["node-timeout"]);
const N = MASTERS * (1 + REPLICAS);
const WORK = resolve(opt.dir!);
const TTY = Deno.stdout.isTerminal();
const enc = new TextEncoder();

const bold = (s: string) => TTY ? `\x1b[1m${s}\x1b[0m` : s;
const dim = (s: string) => TTY ? `\x1b[2m${s}\x1b[0m` : s;
const green = (s: string) => TTY ? `\x1b[32m${s}\x1b[0m` : s;

function step(title: string): void {
  console.log(`\n${bold("==> " + title)}`);
}

// The real redis-cli when installed; otherwise scripts/resp_cli.ts, a minimal stand-in, so the
// demo runs on a machine with nothing but Node.js/npm (Deno comes from npm).
const HAVE_REDIS_CLI = Deno.env.get("TSREDIS_DEMO_BUILTIN_CLI") !== "1" &&
  new Deno.Command("sh", { args: ["-c", "command -v redis-cli"], stdout: "null", stderr: "null" })
    .outputSync().success;

function cli(port: number, ...args: string[]): string {
  const argv = ["-p", String(port), ...args];
  const r = HAVE_REDIS_CLI
    ? new Deno.Command("redis-cli", { args: argv, stdout: "piped", stderr: "piped" }).outputSync()
    : new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--no-check", "--quiet", `${ROOT}scripts/resp_cli.ts`, ...argv],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
  return (new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr)).trim();
}

function show(port: number, ...args: string[]): string {
  const shown = args.length > 8 ? [...args.slice(0, 4), "...", ...args.slice(-2)] : args;
  const out = cli(port, ...args);
  console.log(`${dim("$")} redis-cli -p ${port} ${shown.join(" ")}`);
  console.log(out.split("\n").map((l) => "  " + l).join("\n"));
  return out;
}

interface DemoNode {
  port: number;
  proc: Deno.ChildProcess | null;
  id: string;
}

const nodes: DemoNode[] = [];

function confFor(port: number): string {
  return [
    `port ${port}`,
    "bind 127.0.0.1 ::1",
    "cluster-enabled yes",
    `cluster-config-file nodes-${port}.conf`,
    `cluster-node-timeout ${TIMEOUT}`,
    `dir ./redis${port}`,
    `dbfilename dump-${port}.rdb`,
    "save 900 1",
    "appendonly no",
    `logfile redis${port}.log`,
    "",
  ].join("\n");
}

function startNode(n: DemoNode): void {
  n.proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--no-check",
      "--quiet",
      `${ROOT}main.ts`,
      `redis${n.port}/redis${n.port}cluster.conf`,
    ],
    cwd: WORK,
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function waitUntil(what: string, fn: () => boolean, timeoutMs = 60000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    try {
      if (fn()) return Date.now() - t0;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function stopNode(n: DemoNode, signal: Deno.Signal): Promise<void> {
  if (!n.proc) return;
  try {
    n.proc.kill(signal);
  } catch { /* gone */ }
  await n.proc.status;
  n.proc = null;
}

async function stopAll(): Promise<void> {
  await Promise.all(nodes.map((n) => stopNode(n, "SIGINT")));
}

function nodesTable(): string {
  const rows: string[][] = [["id", "address", "role", "master", "slots", "keys", "ops/s", "link"]];
  const view = cli(nodes.find((n) => n.proc)?.port ?? BASE, "cluster", "nodes");
  for (const line of view.split("\n")) {
    const f = line.split(" ");
    if (f.length < 8) continue;
    const port = Number(f[1].split("@")[0].split(":").pop());
    const live = nodes.find((n) => n.port === port)?.proc != null;
    const keys = live ? cli(port, "dbsize") : "-";
    const ops = live
      ? (cli(port, "info", "stats").match(/instantaneous_ops_per_sec:(\d+)/)?.[1] ?? "?")
      : "-";
    const role = f[2].replace("myself,", "");
    rows.push([
      f[0].slice(0, 8),
      f[1].split("@")[0],
      role,
      f[3] === "-" ? "-" : f[3].slice(0, 8),
      f.slice(8).join(" ") || "-",
      keys,
      ops,
      f[7],
    ]);
  }
  rows.sort((a, b) => a[1] < b[1] ? -1 : 1);
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r, j) => {
    const line = r.map((c, i) => c.padEnd(w[i])).join("  ");
    return j === 0 ? bold(line) : line;
  }).join("\n");
}

async function main(): Promise<void> {
  Deno.mkdirSync(WORK, { recursive: true });
  for (let i = 0; i < N; i++) {
    const port = BASE + i;
    Deno.mkdirSync(`${WORK}/redis${port}`, { recursive: true });
    Deno.writeTextFileSync(`${WORK}/redis${port}/redis${port}cluster.conf`, confFor(port));
    nodes.push({ port, proc: null, id: "" });
  }
  Deno.addSignalListener("SIGINT", async () => {
    console.log("\nStopping every node (SIGINT: final snapshot, then exit)...");
    await stopAll();
    if (!opt.keep) Deno.removeSync(WORK, { recursive: true });
    Deno.exit(0);
  });

  step(`Starting ${N} tsredis nodes (${MASTERS} masters, ${REPLICAS} replica(s) each) in ${WORK}`);
  for (const n of nodes) {
    startNode(n);
    console.log(`${dim("$")} ./tsredis redis${n.port}/redis${n.port}cluster.conf`);
  }
  for (const n of nodes) {
    await waitUntil(`node ${n.port}`, () => cli(n.port, "ping") === "PONG", 20000);
  }
  for (const n of nodes) n.id = cli(n.port, "cluster", "myid");

  step("Joining them with CLUSTER MEET");
  for (const n of nodes.slice(1)) show(BASE, "cluster", "meet", "127.0.0.1", String(n.port));
  await waitUntil("everyone to know everyone", () =>
    nodes.every((n) => {
      const v = cli(n.port, "cluster", "nodes");
      return v.split("\n").length === N && !v.includes("handshake");
    }));

  step("Assigning the 16384 slots with CLUSTER ADDSLOTS");
  // Same split as redis-cli --cluster create: 0-5460, 5461-10922, 10923-16383 for three.
  const per = 16384 / MASTERS;
  for (let m = 0; m < MASTERS; m++) {
    const start = Math.round(m * per);
    const end = Math.round((m + 1) * per) - 1;
    const slots = Array.from({ length: end - start + 1 }, (_, i) => String(start + i));
    show(nodes[m].port, "cluster", "addslots", ...slots);
  }

  step("Making replicas with CLUSTER REPLICATE");
  for (let r = 0; r < MASTERS * REPLICAS; r++) {
    const rep = nodes[MASTERS + r];
    const master = nodes[r % MASTERS];
    show(rep.port, "cluster", "replicate", master.id);
  }
  const okAfter = await waitUntil(
    "cluster_state:ok everywhere",
    () => nodes.every((n) => cli(n.port, "cluster", "info").includes("cluster_state:ok")),
  );
  console.log(green(`cluster_state:ok on all nodes after ${okAfter} ms`));
  const syncAfter = await waitUntil(
    "every replica to finish its first sync (repl-diskless-sync-delay is 5 s by default, as in Redis)",
    () =>
      nodes.slice(MASTERS).every((n) =>
        cli(n.port, "info", "replication").includes("master_link_status:up")
      ),
  );
  console.log(green(`replicas in sync with their masters after ${syncAfter} ms more`));
  show(BASE, "cluster", "nodes");

  step("Writing 1000 keys through a cluster client (ioredis)");
  const client = new Redis.Cluster([{ host: "127.0.0.1", port: BASE }]);
  for (let i = 0; i < 1000; i++) await client.set(`user:${i}`, `value-${i}`);
  console.log(
    nodes.slice(0, MASTERS).map((n) => `  ${n.port}: ${cli(n.port, "dbsize")} keys`).join("\n"),
  );

  step("A key in another node's slot: MOVED, and redis-cli -c follows it");
  show(BASE, "set", "foo", "bar");
  show(BASE, "-c", "set", "foo", "bar");
  show(BASE, "-c", "get", "foo");

  const victim = nodes[1 % MASTERS];
  const replica = nodes.find((_n, i) => i >= MASTERS && (i - MASTERS) % MASTERS === 1 % MASTERS)!;
  step(
    `Ctrl-C (SIGINT) on master ${victim.port}: final snapshot, then its replica ${replica.port} takes over`,
  );
  const key = Array.from({ length: 1000 }, (_, i) => `user:${i}`).find((k) =>
    cli(victim.port, "exists", k) === "1"
  )!;
  const t0 = Date.now();
  await stopNode(victim, "SIGINT");
  console.log(
    `  stopped ${victim.port}; its log says: ${
      lastLines(`${WORK}/redis${victim.port}/redis${victim.port}.log`, 6)
    }`,
  );
  let promoted = -1;
  try {
    await waitUntil(
      "the replica to be promoted",
      () => cli(replica.port, "role").startsWith("master"),
      TIMEOUT * 6,
    );
    await waitUntil("a successful write on the moved slots", () => {
      return cli(replica.port, "set", key, "after-failover") === "OK";
    }, TIMEOUT * 6);
    promoted = Date.now() - t0;
    console.log(
      green(
        `  ${replica.port} is now a master; first write on its slots ${promoted} ms after the kill`,
      ),
    );
    show(replica.port, "-c", "get", "user:1");
  } catch (e) {
    console.log(`  ${(e as Error).message} (automatic failover needs replication + elections)`);
  }
  show(BASE, "cluster", "nodes");

  step(`Restarting ${victim.port}: it rejoins as a replica of the new master`);
  startNode(victim);
  await waitUntil(`node ${victim.port}`, () => cli(victim.port, "ping") === "PONG", 20000);
  try {
    await waitUntil(
      "the old master to become a replica",
      () => cli(victim.port, "role").startsWith("slave"),
      30000,
    );
    console.log(
      green(
        `  ${victim.port} is now: ${cli(victim.port, "role").split("\n").slice(0, 3).join(" ")}`,
      ),
    );
  } catch (e) {
    console.log(`  ${(e as Error).message}`);
  }
  client.disconnect();

  if (opt["no-wait"]) {
    await stopAll();
    if (!opt.keep) Deno.removeSync(WORK, { recursive: true });
    return;
  }
  step("The cluster keeps running: try `redis-cli -c -p " + BASE + "`. Ctrl-C stops every node.");
  if (!TTY) {
    console.log(nodesTable());
    await new Promise(() => {});
  }
  while (true) {
    const table = nodesTable();
    Deno.stdout.writeSync(
      enc.encode("\x1b[s" + table + "\n" + dim(new Date().toLocaleTimeString()) + "\x1b[u"),
    );
    await new Promise((r) => setTimeout(r, 1000));
    Deno.stdout.writeSync(enc.encode("\x1b[J"));
  }
}

function lastLines(path: string, n: number): string {
  try {
    return "\n    " + Deno.readTextFileSync(path).trim().split("\n").slice(-n).join("\n    ");
  } catch {
    return "(no log)";
  }
}

main().catch(async (e) => {
  console.error(e);
  await stopAll();
  Deno.exit(1);
});
