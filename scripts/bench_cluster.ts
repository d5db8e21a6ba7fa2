// deno task bench:cluster: what an idle Redis Cluster costs, tsredis next to redis-server.
// For each size (default 6 and 30 nodes) one cluster of tsredis nodes and one of redis-server
// nodes run side by side: N cluster-enabled nodes on free ports, CLUSTER MEET, masters get
// ADDSLOTSRANGE (spread evenly), the other nodes CLUSTER REPLICATE a master, then once every
// node reports cluster_state:ok and knows all N nodes, each process's CPU is read from /proc
// over --idle seconds of idleness, with the cluster bus traffic from CLUSTER INFO
// (cluster_stats_messages_sent/received deltas) and the bytes that implies: a PING/PONG/MEET is
// a 2256-byte header plus 104 bytes per gossip entry, and Redis 7.0 puts max(3, N/10) entries
// (capped by N-2) plus the PFAIL nodes in each. (/proc/PID/io is no cross-check: Deno sends
// with sendto(2), which wchar does not count, while Redis uses write(2).)
//
//   deno task bench:cluster [--sizes 6,30] [--idle 20] [--replicas 1] [--node-timeout 15000]
//                           [--only tsredis|redis]
//
// Every process started is killed at the end, on error, and on Ctrl-C.
import { parseArgs } from "node:util";
import { cpuNs } from "./proc_cpu.ts";

const { values: opt } = parseArgs({
  options: {
    sizes: { type: "string", default: "6,30" },
    idle: { type: "string", default: "20" },
    replicas: { type: "string", default: "1" },
    "node-timeout": { type: "string", default: "15000" },
    only: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (opt.help) {
  console.log(
    "deno task bench:cluster [--sizes 6,30] [--idle 20] [--replicas 1] [--node-timeout 15000] [--only tsredis|redis]",
  );
  Deno.exit(0);
}

const ROOT = new URL("..", import.meta.url).pathname;
const SIZES = opt.sizes!.split(",").map(Number).filter((n) => n >= 3);
const IDLE_S = Number(opt.idle);
const REPLICAS = Number(opt.replicas);
const KINDS = (opt.only ? [opt.only] : ["tsredis", "redis"]) as Kind[];
const HEADER_BYTES = 2256;
const GOSSIP_BYTES = 104;

type Kind = "tsredis" | "redis";
const SIGNALS = ["SIGINT", "SIGTERM"] as const;

interface Node {
  kind: Kind;
  port: number;
  dir: string;
  proc: Deno.ChildProcess;
  pid: number;
  id: string;
}

/** Every process started; killed whatever happens. */
const procs = new Set<Deno.ChildProcess>();
const dirs: string[] = [];
const usedPorts = new Set<number>();

function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** A client port whose bus port (+10000) is free too. */
function freePortPair(): number {
  for (let i = 0; i < 1000; i++) {
    const p = 20000 + Math.floor(Math.random() * 35000);
    if (usedPorts.has(p) || usedPorts.has(p + 10000)) continue;
    if (portFree(p) && portFree(p + 10000)) {
      usedPorts.add(p);
      usedPorts.add(p + 10000);
      return p;
    }
  }
  throw new Error("no free port pair");
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const r = await new Deno.Command("redis-cli", {
    args: ["-p", String(port), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(r.stdout).trim();
}

function info(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s*(\\S+)`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

function startNode(kind: Kind, nodeTimeout: number): Node {
  const port = freePortPair();
  const dir = Deno.makeTempDirSync({ prefix: `bench-cluster-${kind}-` });
  dirs.push(dir);
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    "nodes.conf",
    "--cluster-node-timeout",
    String(nodeTimeout),
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
  ];
  const argv = kind === "redis"
    ? ["redis-server", ...args]
    : [Deno.execPath(), "run", "--allow-all", "--no-check", "--quiet", `${ROOT}main.ts`, ...args];
  const proc = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  procs.add(proc);
  return { kind, port, dir, proc, pid: proc.pid, id: "" };
}

async function waitFor(what: string, timeoutMs: number, ok: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts and forms one cluster: MEET, slots over the masters, replicas, cluster_state:ok. */
async function formCluster(kind: Kind, n: number): Promise<Node[]> {
  const timeout = Number(opt["node-timeout"]);
  const nodes = Array.from({ length: n }, () => startNode(kind, timeout));
  await waitFor(`${kind} nodes to start`, 60000, async () => {
    const r = await Promise.all(nodes.map((x) => cli(x.port, "ping")));
    return r.every((x) => x === "PONG");
  });
  for (const x of nodes) x.id = await cli(x.port, "cluster", "myid");
  for (const x of nodes.slice(1)) {
    await cli(nodes[0].port, "cluster", "meet", "127.0.0.1", String(x.port));
  }
  const masters = Math.max(1, Math.ceil(n / (1 + REPLICAS)));
  for (let i = 0; i < masters; i++) {
    const from = Math.floor((16384 * i) / masters);
    const to = Math.floor((16384 * (i + 1)) / masters) - 1;
    await cli(nodes[i].port, "cluster", "addslotsrange", String(from), String(to));
  }
  await waitFor(`${kind}: every node to know all ${n}`, 120000, async () => {
    const r = await Promise.all(nodes.map((x) => cli(x.port, "cluster", "info")));
    return r.every((t) => info(t, "cluster_known_nodes") === n);
  });
  for (let i = masters; i < n; i++) {
    const master = nodes[(i - masters) % masters];
    await cli(nodes[i].port, "cluster", "replicate", master.id);
  }
  await waitFor(`${kind}: cluster_state:ok on all ${n} nodes`, 120000, async () => {
    const r = await Promise.all(nodes.map((x) => cli(x.port, "cluster", "info")));
    return r.every((t) => /cluster_state:ok/.test(t) && info(t, "cluster_known_nodes") === n);
  });
  return nodes;
}

interface Snap {
  cpu: number;
  sent: number;
  recv: number;
  pfail: number;
}

async function snap(x: Node): Promise<Snap> {
  const t = await cli(x.port, "cluster", "info");
  const nodes = await cli(x.port, "cluster", "nodes");
  return {
    cpu: cpuNs(x.pid),
    sent: info(t, "cluster_stats_messages_sent"),
    recv: info(t, "cluster_stats_messages_received"),
    pfail: nodes.split("\n").filter((l) => /\bfail\?/.test(l)).length,
  };
}

interface Result {
  cpuPct: number;
  cpuPctMax: number;
  sent: number;
  recv: number;
  entries: number;
  impliedKBs: number;
}

/** Per-node averages over the idle window (all clusters of this size measured together). */
async function measure(clusters: Node[][]): Promise<Result[]> {
  const before = await Promise.all(clusters.map((c) => Promise.all(c.map(snap))));
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const after = await Promise.all(clusters.map((c) => Promise.all(c.map(snap))));
  const secs = (performance.now() - t0) / 1000;
  return clusters.map((c, k) => {
    const n = c.length;
    const wanted = Math.min(Math.max(3, Math.floor(n / 10)), n - 2);
    const pfail = after[k].reduce((a, s) => a + s.pfail, 0) / n;
    const entries = wanted + pfail;
    let cpu = 0, cpuMax = 0, sent = 0, recv = 0;
    for (let i = 0; i < n; i++) {
      const b = before[k][i], a = after[k][i];
      const pct = (a.cpu - b.cpu) / 1e7 / secs; // ns -> % of one core
      cpu += pct;
      cpuMax = Math.max(cpuMax, pct);
      sent += a.sent - b.sent;
      recv += a.recv - b.recv;
    }
    const sentPerS = sent / n / secs;
    return {
      cpuPct: cpu / n,
      cpuPctMax: cpuMax,
      sent: sentPerS,
      recv: recv / n / secs,
      entries,
      impliedKBs: (sentPerS * (HEADER_BYTES + GOSSIP_BYTES * entries)) / 1024,
    };
  });
}

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";
}

async function stopAll(): Promise<void> {
  for (const p of procs) {
    try {
      p.kill("SIGKILL");
    } catch { /* gone */ }
  }
  for (const p of [...procs]) {
    await p.status;
    procs.delete(p);
  }
}

async function main(): Promise<void> {
  const onSignal = () => {
    for (const p of procs) {
      try {
        p.kill("SIGKILL");
      } catch { /* gone */ }
    }
    for (const d of dirs) Deno.removeSync(d, { recursive: true });
    Deno.exit(130);
  };
  for (const sig of SIGNALS) Deno.addSignalListener(sig, onSignal);
  const version = new TextDecoder().decode(
    (await new Deno.Command("redis-server", { args: ["--version"], stdout: "piped" }).output())
      .stdout,
  ).match(/v=(\S+)/)?.[1];
  console.log(
    `# Idle cluster cost: tsredis vs redis-server ${version}; ${IDLE_S} s of idle after cluster_state:ok, ${REPLICAS} replica(s) per master, cluster-node-timeout ${
      opt["node-timeout"]
    } ms`,
  );
  console.log(
    "CPU in % of one core (all threads, from /proc); bus messages per node per second from CLUSTER INFO; implied bytes = messages x (2256 + 104 x gossip entries)\n",
  );
  console.log(
    "| nodes | server | CPU %/node (avg) | CPU %/node (max) | CPU % all nodes | msgs sent/s/node | msgs recv/s/node | gossip entries/msg | implied bus KB/s/node |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  const ratios: string[] = [];
  try {
    for (const n of SIZES) {
      const clusters: Node[][] = [];
      for (const kind of KINDS) clusters.push(await formCluster(kind, n));
      await new Promise((r) => setTimeout(r, 3000)); // let replication and gossip settle
      const res = await measure(clusters);
      KINDS.forEach((kind, k) => {
        const r = res[k];
        console.log(
          `| ${n} | ${kind} | ${fmt(r.cpuPct)} | ${fmt(r.cpuPctMax)} | ${fmt(r.cpuPct * n)} | ${
            fmt(r.sent)
          } | ${fmt(r.recv)} | ${fmt(r.entries, 1)} | ${fmt(r.impliedKBs)} |`,
        );
      });
      if (KINDS.length === 2) {
        const [a, b] = res;
        ratios.push(
          `${n} nodes, tsredis/redis: CPU ${fmt(a.cpuPct / b.cpuPct)}x, messages sent ${
            fmt(a.sent / b.sent)
          }x, implied bus bytes ${fmt(a.impliedKBs / b.impliedKBs)}x`,
        );
      }
      await stopAll();
    }
    if (ratios.length > 0) console.log("\n" + ratios.join("\n"));
  } finally {
    for (const sig of SIGNALS) Deno.removeSignalListener(sig, onSignal);
    await stopAll();
    for (const d of dirs) {
      try {
        Deno.removeSync(d, { recursive: true });
      } catch { /* already gone */ }
    }
  }
}

main().catch((e) => {
  console.error(`bench:cluster: ${(e as Error).message}`);
  Deno.exitCode = 1;
});
