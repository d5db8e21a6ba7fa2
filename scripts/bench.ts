// deno task bench: tsredis next to redis-server in one interleaved run.
// Each server is pinned to core 0 and redis-benchmark to core 1 (taskset), several rounds,
// medians reported with the ratio tsredis/redis-server: requests/s, p50/p99 latency and server
// CPU microseconds per request (from /proc/PID/stat), plus RSS after loading 1,000,000 keys.
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    requests: { type: "string", default: "200000" },
    quick: { type: "boolean", default: false },
    keys: { type: "string", default: "1000000" },
    "skip-memory": { type: "boolean", default: false },
    only: { type: "string" },
  },
});
const ROUNDS = Number(opt.rounds);
const N = opt.quick ? 50000 : Number(opt.requests);
const ROOT = new URL("..", import.meta.url).pathname;
const TICK_US = 1_000_000 / 100; // USER_HZ is 100 on Linux

function have(bin: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${bin}`] }).outputSync().success;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

interface Srv {
  name: string;
  port: number;
  proc: Deno.ChildProcess;
  pid: number;
}

async function start(name: "tsredis" | "redis", dir: string): Promise<Srv> {
  const port = freePort();
  const common = ["--port", String(port), "--save", "", "--appendonly", "no", "--dir", dir];
  const pin = have("taskset") ? ["taskset", "-c", "0"] : [];
  const argv = name === "redis" ? [...pin, "redis-server", ...common] : [
    ...pin,
    Deno.execPath(),
    "run",
    "--allow-all",
    "--no-check",
    "--quiet",
    `${ROOT}main.ts`,
    ...common,
  ];
  const proc = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "null",
    stderr: "null",
    cwd: dir,
  }).spawn();
  for (let i = 0; i < 200; i++) {
    const r = new Deno.Command("redis-cli", {
      args: ["-p", String(port), "ping"],
      stdout: "piped",
      stderr: "null",
    })
      .outputSync();
    if (new TextDecoder().decode(r.stdout).includes("PONG")) {
      return { name, port, proc, pid: proc.pid };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not start`);
}

function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) : 0;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
}

function cli(port: number, ...args: string[]): string {
  const r = new Deno.Command("redis-cli", {
    args: ["-p", String(port), ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .outputSync();
  return new TextDecoder().decode(r.stdout).trim();
}

function runBench(s: Srv, test: string, c: number, p: number, d: number, n: number): Sample {
  cli(s.port, "flushall");
  const pin = have("taskset") ? ["taskset", "-c", "1"] : [];
  const args = [
    ...pin,
    "redis-benchmark",
    "-p",
    String(s.port),
    "-t",
    test,
    "-n",
    String(n),
    "-c",
    String(c),
    "-P",
    String(p),
    "-d",
    String(d),
    "-r",
    "100000",
    "--csv",
  ];
  const before = cpuTicks(s.pid);
  const out = new Deno.Command(args[0], { args: args.slice(1), stdout: "piped", stderr: "piped" })
    .outputSync();
  const after = cpuTicks(s.pid);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) =>
    !l.startsWith('"test"')
  );
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const f = lines[lines.length - 1].split(",").map((x) => x.replaceAll('"', ""));
  const cpuUs = ((after - before) * TICK_US) / n;
  return { rps: Number(f[1]), p50: Number(f[4]), p99: Number(f[6]), cpuUs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

async function main(): Promise<void> {
  if (!have("redis-server") || !have("redis-benchmark")) {
    console.error(
      "bench: redis-server and redis-benchmark are needed (apt-get install redis-server redis-tools)",
    );
    Deno.exit(1);
  }
  const dir = Deno.makeTempDirSync({ prefix: "tsredis-bench-" });
  const ts = await start("tsredis", dir);
  const rd = await start("redis", dir);
  const scenarios: { test: string; c: number; p: number; d: number }[] = [];
  const tests = (opt.only ?? "set,get,incr,lpush,lpop,sadd,hset,zadd,mset").split(",");
  for (const p of [1, 16]) for (const t of tests) scenarios.push({ test: t, c: 50, p, d: 16 });
  for (const t of ["set", "get"]) {
    if (tests.includes(t)) scenarios.push({ test: t, c: 50, p: 16, d: 1024 });
  }
  for (const t of ["set", "get"]) {
    if (tests.includes(t)) scenarios.push({ test: t, c: 1, p: 1, d: 16 });
  }

  console.log(
    `# tsredis vs redis-server ${cli(rd.port, "info", "server").match(/redis_version:(\S+)/)?.[1]}`,
  );
  console.log(
    `rounds=${ROUNDS} requests=${N} (medians; server on core 0, redis-benchmark on core 1)\n`,
  );
  console.log(
    "| test | -c | -P | -d | tsredis rps | redis rps | ratio | tsredis p50/p99 ms | redis p50/p99 ms | tsredis CPU us/req | redis CPU us/req | CPU ratio |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
  try {
    for (const sc of scenarios) {
      const n = sc.c === 1 ? Math.min(N, 20000) : N;
      const res: Record<string, Sample[]> = { tsredis: [], redis: [] };
      for (let r = 0; r < ROUNDS; r++) {
        for (const s of r % 2 === 0 ? [ts, rd] : [rd, ts]) {
          res[s.name].push(runBench(s, sc.test, sc.c, sc.p, sc.d, n));
        }
      }
      const m = (name: string, k: keyof Sample) => median(res[name].map((x) => x[k]));
      console.log(
        `| ${sc.test} | ${sc.c} | ${sc.p} | ${sc.d} | ${fmt(m("tsredis", "rps"))} | ${
          fmt(m("redis", "rps"))
        } | ${fmt(m("tsredis", "rps") / m("redis", "rps"), 2)} | ${fmt(m("tsredis", "p50"), 3)}/${
          fmt(m("tsredis", "p99"), 3)
        } | ${fmt(m("redis", "p50"), 3)}/${fmt(m("redis", "p99"), 3)} | ${
          fmt(m("tsredis", "cpuUs"), 2)
        } | ${fmt(m("redis", "cpuUs"), 2)} | ${
          fmt(m("tsredis", "cpuUs") / m("redis", "cpuUs"), 2)
        } |`,
      );
    }
    if (!opt["skip-memory"]) {
      const keys = Number(opt.keys);
      console.log(
        `\nRSS after DEBUG POPULATE ${keys} (MiB): peak right after loading, then settled after 15 s`,
      );
      const rows: string[] = [];
      const peak: Record<string, number> = {};
      for (const s of [ts, rd]) {
        cli(s.port, "flushall");
        const base = rssKiB(s.pid);
        cli(s.port, "debug", "populate", String(keys));
        peak[s.name] = rssKiB(s.pid);
        rows.push(`${s.name}: empty ${fmt(base / 1024)} MiB, dbsize ${cli(s.port, "dbsize")}`);
      }
      await new Promise((r) => setTimeout(r, 15000));
      const settled: Record<string, number> = { tsredis: rssKiB(ts.pid), redis: rssKiB(rd.pid) };
      for (const r of rows) console.log(`  ${r}`);
      console.log("| server | peak MiB | settled MiB |\n|---|---|---|");
      for (const n of ["tsredis", "redis"]) {
        console.log(`| ${n} | ${fmt(peak[n] / 1024)} | ${fmt(settled[n] / 1024)} |`);
      }
      console.log(`settled ratio tsredis/redis: ${fmt(settled.tsredis / settled.redis, 2)}`);
    }
  } finally {
    for (const s of [ts, rd]) {
      try {
        s.proc.kill("SIGKILL");
      } catch { /* gone */ }
      await s.proc.status;
    }
    Deno.removeSync(dir, { recursive: true });
  }
}

main();
