// deno task bench: tsredis next to redis-server in one interleaved run.
// Each server is pinned to core 0 and redis-benchmark to core 1 (taskset), several rounds,
// medians reported with the ratio tsredis/reference: requests/s, p50/p99 latency and server CPU
// microseconds per request, plus RSS after loading 1,000,000 keys (fresh servers, peak and
// settled). A ratio is the median of the per-round ratios (the two servers' runs of a round are
// next to each other, in alternating order); the steal column is the share of CPU time the
// hypervisor took during the row's runs (/proc/stat), which says how far to trust the row.
//
//   deno task bench [--rounds 3] [--requests 200000 (x5 when pipelined)] [--quick] [--only set,get|none]
//                   [--pipeline 1,16] [--skip-memory] [--keys 1000000] [--keyspacelen 100000]
//                   [--vs redis|<dir of another tsredis tree>] [--warmup 300000|0] [--floor]
//
// Before measuring, both servers get the same untimed warm-up (every test of the run, pipelined,
// --warmup requests each): V8 compiles the hot path to optimised code only after it ran a while,
// and a cold tsredis in the first scenarios would measure the JIT rather than the server
// (measured: GET -P 16 at 0.38x cold, 0.96x warm). --warmup 0 measures cold servers.
//
// --vs <dir> compares against the tsredis in another checkout (A/B of an optimisation) instead
// of redis-server. Server CPU is read from /proc/PID/task/*/schedstat (nanoseconds, all threads),
// falling back to /proc/PID/stat ticks (10 ms) where schedstat is missing.
//
// Keys: every test runs with redis-benchmark -r --keyspacelen (100000 random keys, so lookups
// miss the CPU caches as they do in a real dataset). SET and GET at -c 50 also run once more
// without -r, redis-benchmark's default, where every request uses the one key "key:__rand_int__"
// (the "-r" column shows "-" for these rows): the usual way redis-benchmark figures are quoted.
//
// --floor adds a third server, scripts/bench_floor.ts: a minimal Deno RESP loop (GET, SET, INCR,
// MSET on a JS Map), interleaved in the same rounds. Its CPU per request is what Deno itself
// costs on this machine, the floor under tsredis; the extra columns give it and tsredis/floor.
import { parseArgs } from "node:util";
import { cpuNs, stealTicks } from "./proc_cpu.ts";

const { values: opt } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    requests: { type: "string", default: "200000" },
    quick: { type: "boolean", default: false },
    keys: { type: "string", default: "1000000" },
    "skip-memory": { type: "boolean", default: false },
    only: { type: "string" },
    vs: { type: "string", default: "redis" },
    pipeline: { type: "string", default: "1,16" },
    warmup: { type: "string", default: "300000" },
    floor: { type: "boolean", default: false },
    keyspacelen: { type: "string", default: "100000" },
  },
});
const ROUNDS = Number(opt.rounds);
const KEYSPACE = Number(opt.keyspacelen);
const N = opt.quick ? 50000 : Number(opt.requests);
const ROOT = new URL("..", import.meta.url).pathname;
const REF_DIR = opt.vs === "redis"
  ? null
  : new URL(opt.vs.replace(/\/?$/, "/"), `file://${Deno.cwd()}/`).pathname;
const REF = REF_DIR === null ? "redis" : "base";

function have(bin: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${bin}`] }).outputSync().success;
}
const PIN = have("taskset");

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

/** Every process started, killed at exit whatever happens. */
const started = new Set<Srv>();

async function start(name: string, dir: string): Promise<Srv> {
  const port = freePort();
  const common = [
    "--port",
    String(port),
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--enable-debug-command",
    "local",
  ];
  const pin = PIN ? ["taskset", "-c", "0"] : [];
  const tree = name === "base" ? REF_DIR! : ROOT;
  const deno = [Deno.execPath(), "run", "--allow-all", "--no-check", "--quiet"];
  const argv = name === "redis"
    ? [...pin, "redis-server", ...common]
    : name === "floor"
    ? [...pin, ...deno, `${ROOT}scripts/bench_floor.ts`, "--port", String(port)]
    : [...pin, ...deno, `${tree}main.ts`, ...common];
  const proc = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "null",
    stderr: "null",
    cwd: dir,
  }).spawn();
  const srv = { name, port, proc, pid: proc.pid };
  started.add(srv);
  for (let i = 0; i < 200; i++) {
    if (cli(port, "ping").includes("PONG")) return srv;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not start`);
}

async function stop(s: Srv): Promise<void> {
  try {
    s.proc.kill("SIGKILL");
  } catch { /* gone */ }
  await s.proc.status;
  started.delete(s);
}

function killAll(): void {
  for (const s of started) {
    try {
      s.proc.kill("SIGKILL");
    } catch { /* gone */ }
  }
}

function statusKiB(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) : 0;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
  /** Share of the machine's CPU time the hypervisor took (steal) during the run, in %. */
  steal: number;
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

/** What a test reads, loaded before it runs (untimed): GET reads the keys SET writes (-r keys,
 * -d bytes), LPOP pops what LPUSH pushed. Without it GET would only measure misses on an empty
 * database and LPOP replies to empty lists. */
const PREFILL: Record<string, string> = { get: "set", lpop: "lpush" };

function benchArgs(
  port: number,
  test: string,
  c: number,
  p: number,
  d: number,
  n: number,
  r: number,
): string[] {
  return [
    ...(PIN ? ["taskset", "-c", "1"] : []),
    "redis-benchmark",
    "-p",
    String(port),
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
    ...(r > 0 ? ["-r", String(r)] : []),
    "--csv",
  ];
}

/** One redis-benchmark run on a flushed server, after its prefill; r is its -r (0: no -r, every
 * request on one key). */
async function runBench(
  s: Srv,
  test: string,
  c: number,
  p: number,
  d: number,
  n: number,
  r = KEYSPACE,
): Promise<Sample> {
  cli(s.port, "flushall");
  const fill = PREFILL[test];
  if (fill !== undefined) {
    // Every -r key written about 5 times over (99% of them exist); LPOP gets an element per pop.
    const count = fill === "set" ? Math.max(5 * r, 1000) : n;
    const args = benchArgs(s.port, fill, 50, 16, d, count, r);
    await new Deno.Command(args[0], { args: args.slice(1), stdout: "null", stderr: "null" })
      .output();
  }
  const args = benchArgs(s.port, test, c, p, d, n, r);
  const before = cpuNs(s.pid);
  const stealBefore = stealTicks();
  // Asynchronous, so Ctrl-C is handled (and every server killed) while a run is going.
  const out = await new Deno.Command(args[0], {
    args: args.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const after = cpuNs(s.pid);
  const stealAfter = stealTicks();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) =>
    !l.startsWith('"test"')
  );
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const f = lines[lines.length - 1].split(",").map((x) => x.replaceAll('"', ""));
  const cpuUs = (after - before) / 1000 / n;
  const all = stealAfter.total - stealBefore.total;
  const steal = all > 0 ? 100 * (stealAfter.steal - stealBefore.steal) / all : 0;
  return { rps: Number(f[1]), p50: Number(f[4]), p99: Number(f[6]), cpuUs, steal };
}

/** Tests scripts/bench_floor.ts implements. */
const FLOOR_TESTS = new Set(["set", "get", "incr", "mset"]);

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

async function throughput(dir: string): Promise<void> {
  const scenarios: { test: string; c: number; p: number; d: number; r: number }[] = [];
  // --only none: the memory measurement alone.
  const tests = opt.only === "none"
    ? []
    : (opt.only ?? "set,get,incr,lpush,lpop,sadd,hset,zadd,mset").split(",");
  if (tests.length === 0) return;
  const pipelines = opt.pipeline.split(",").map(Number);
  const r = KEYSPACE;
  for (const p of pipelines) for (const t of tests) scenarios.push({ test: t, c: 50, p, d: 16, r });
  for (const t of ["set", "get"]) {
    if (tests.includes(t) && pipelines.includes(16)) {
      scenarios.push({ test: t, c: 50, p: 16, d: 1024, r });
    }
  }
  for (const t of ["set", "get"]) {
    if (tests.includes(t) && pipelines.includes(1)) {
      scenarios.push({ test: t, c: 1, p: 1, d: 16, r });
    }
  }
  // redis-benchmark's default: no -r, one key.
  if (r > 0) {
    for (const p of pipelines) {
      for (const t of ["set", "get"]) {
        if (tests.includes(t)) scenarios.push({ test: t, c: 50, p, d: 16, r: 0 });
      }
    }
  }
  const ts = await start("tsredis", dir);
  const rf = await start(REF, dir);
  const fl = opt.floor ? await start("floor", dir) : null;
  const warm = Number(opt.warmup);
  if (warm > 0) {
    for (const s of fl ? [ts, rf, fl] : [ts, rf]) {
      for (const t of tests) {
        if (s === fl && !FLOOR_TESTS.has(t)) continue;
        await runBench(s, t, 50, 16, 16, warm);
        await runBench(s, t, 50, 1, 16, Math.ceil(warm / 10));
      }
    }
  }
  console.log(
    `rounds=${ROUNDS} requests=${N} (${
      N * 5
    } pipelined) warm-up=${warm} per test (medians; ratios are medians of per-round ratios; steal: CPU time the hypervisor took, median of the row's runs; server on core 0, redis-benchmark on core 1)\n`,
  );
  console.log(
    `| test | -c | -P | -d | -r | tsredis rps | ${REF} rps | ratio | tsredis p50/p99 ms | ${REF} p50/p99 ms | tsredis CPU us/req | ${REF} CPU us/req | CPU ratio | steal % |${
      fl ? " floor CPU us/req | floor/" + REF + " | tsredis/floor |" : ""
    }`,
  );
  console.log(
    `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|${fl ? "---|---|---|" : ""}`,
  );
  for (const sc of scenarios) {
    // Pipelined runs get 5x the requests, so every run lasts about as long (at 600k requests/s,
    // 200000 requests are a third of a second: too short to measure CPU time well).
    const n = sc.c === 1 ? Math.min(N, 20000) : sc.p > 1 ? N * 5 : N;
    const res: Record<string, Sample[]> = { tsredis: [], [REF]: [], floor: [] };
    const withFloor = fl !== null && FLOOR_TESTS.has(sc.test);
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? [ts, rf] : [rf, ts];
      if (withFloor) order.splice(r % 3, 0, fl);
      for (const s of order) {
        res[s.name].push(await runBench(s, sc.test, sc.c, sc.p, sc.d, n, sc.r));
      }
    }
    const m = (name: string, k: keyof Sample) => median(res[name].map((x) => x[k]));
    // Ratios are medians of the per-round ratios of runs made next to each other, so a machine
    // that slows down for a while (steal) skews a round, not a whole row.
    const paired = (k: "rps" | "cpuUs", of = "tsredis") =>
      median(res[of].map((x, i) => x[k] / res[REF][i][k]));
    const steal = median([...res.tsredis, ...res[REF]].map((x) => x.steal));
    const floorCols = fl === null
      ? ""
      : withFloor
      ? ` ${fmt(m("floor", "cpuUs"), 2)} | ${fmt(paired("cpuUs", "floor"), 2)} | ${
        fmt(median(res.tsredis.map((x, i) => x.cpuUs / res.floor[i].cpuUs)), 2)
      } |`
      : " - | - | - |";
    console.log(
      `| ${sc.test} | ${sc.c} | ${sc.p} | ${sc.d} | ${sc.r > 0 ? sc.r : "-"} | ${
        fmt(m("tsredis", "rps"))
      } | ${fmt(m(REF, "rps"))} | ${fmt(paired("rps"), 2)} | ${fmt(m("tsredis", "p50"), 3)}/${
        fmt(m("tsredis", "p99"), 3)
      } | ${fmt(m(REF, "p50"), 3)}/${fmt(m(REF, "p99"), 3)} | ${fmt(m("tsredis", "cpuUs"), 2)} | ${
        fmt(m(REF, "cpuUs"), 2)
      } | ${fmt(paired("cpuUs"), 2)} | ${fmt(steal, 1)} |${floorCols}`,
    );
  }
  await stop(ts);
  await stop(rf);
  if (fl) await stop(fl);
}

/** RSS of freshly started servers around DEBUG POPULATE: peak is the high-water mark (VmHWM)
 * reached while loading, settled is VmRSS 15 s later. */
async function memory(dir: string): Promise<void> {
  const keys = Number(opt.keys);
  console.log(
    `\nRSS for DEBUG POPULATE ${keys} on fresh servers (MiB): peak (VmHWM) while loading, settled 15 s later`,
  );
  const servers = [await start("tsredis", dir), await start(REF, dir)];
  const row: Record<string, { empty: number; peak: number; settled: number; ms: number }> = {};
  for (const s of servers) {
    const empty = statusKiB(s.pid, "VmRSS");
    const t = performance.now();
    cli(s.port, "debug", "populate", String(keys));
    const ms = performance.now() - t;
    const size = cli(s.port, "dbsize");
    if (size !== String(keys)) throw new Error(`${s.name}: dbsize ${size} after DEBUG POPULATE`);
    row[s.name] = { empty, peak: statusKiB(s.pid, "VmHWM"), settled: 0, ms };
  }
  await new Promise((r) => setTimeout(r, 15000));
  for (const s of servers) {
    row[s.name].settled = statusKiB(s.pid, "VmRSS");
    row[s.name].peak = Math.max(row[s.name].peak, statusKiB(s.pid, "VmHWM"));
  }
  console.log(
    "| server | empty MiB | peak MiB | settled MiB | DEBUG POPULATE ms |\n|---|---|---|---|---|",
  );
  for (const n of ["tsredis", REF]) {
    const r = row[n];
    console.log(
      `| ${n} | ${fmt(r.empty / 1024)} | ${fmt(r.peak / 1024)} | ${fmt(r.settled / 1024)} | ${
        fmt(r.ms)
      } |`,
    );
  }
  console.log(
    `ratio tsredis/${REF}: settled ${fmt(row.tsredis.settled / row[REF].settled, 2)}, peak ${
      fmt(row.tsredis.peak / row[REF].peak, 2)
    }`,
  );
  for (const s of servers) await stop(s);
}

async function main(): Promise<void> {
  if (!have("redis-server") || !have("redis-benchmark")) {
    console.error(
      "bench: redis-server and redis-benchmark are needed (apt-get install redis-server redis-tools)",
    );
    Deno.exit(1);
  }
  if (REF_DIR !== null && !have(`test -f ${REF_DIR}main.ts && echo`)) {
    console.error(`bench: --vs ${opt.vs}: no main.ts there`);
    Deno.exit(1);
  }
  const onSignal = () => {
    killAll();
    Deno.exit(130);
  };
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const sig of signals) Deno.addSignalListener(sig, onSignal);
  const dir = Deno.makeTempDirSync({ prefix: "tsredis-bench-" });
  try {
    const v = new TextDecoder().decode(
      new Deno.Command("redis-server", { args: ["--version"], stdout: "piped" }).outputSync()
        .stdout,
    ).match(/v=(\S+)/)?.[1];
    console.log(`# tsredis vs ${REF === "redis" ? `redis-server ${v}` : `tsredis in ${REF_DIR}`}`);
    await throughput(dir);
    if (!opt["skip-memory"]) await memory(dir);
  } finally {
    for (const sig of signals) Deno.removeSignalListener(sig, onSignal);
    killAll();
    for (const s of [...started]) await stop(s);
    Deno.removeSync(dir, { recursive: true });
  }
}

main();
