// `deno task cluster:demo --no-wait` tells the whole tutorial story on free ports: nodes from
// configs, MEET, REPLICATE, ADDSLOTS, MOVED and -c, SIGINT on a master with its final snapshot,
// the replica's promotion, and the old master rejoining as a replica.
import assert from "node:assert/strict";
import { hasBinary } from "../helpers.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

function freeBase(): number {
  for (let tries = 0; tries < 100; tries++) {
    const base = 21000 + Math.floor(Math.random() * 8000);
    try {
      for (let i = 0; i < 6; i++) {
        Deno.listen({ port: base + i, hostname: "127.0.0.1" }).close();
        Deno.listen({ port: base + i + 10000, hostname: "127.0.0.1" }).close();
      }
      return base;
    } catch { /* try another range */ }
  }
  throw new Error("no free port range");
}

async function runDemo(env: Record<string, string>): Promise<void> {
  const base = freeBase();
  const dir = Deno.makeTempDirSync({ prefix: "tsredis-demo-" });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${ROOT}scripts/cluster_demo.ts`,
      "--base-port",
      String(base),
      "--node-timeout",
      "2000",
      "--no-wait",
      "--dir",
      `${dir}/cluster`,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /cluster_state:ok on all nodes/);
  assert.match(text, new RegExp(`MOVED 12182 127\\.0\\.0\\.1:${base + 2}`));
  assert.match(text, /Saving the final RDB snapshot before exiting\./);
  assert.match(
    text,
    new RegExp(`${base + 4} is now a master; first write on its slots \\d+ ms after the kill`),
  );
  assert.match(text, new RegExp(`${base + 1} is now: slave 127\\.0\\.0\\.1 ${base + 4}`));
}

Deno.test({
  name: "cluster:demo runs the tutorial end to end with the real redis-cli",
  ignore: !hasBinary("redis-cli"),
  fn: () => runDemo({}),
});

Deno.test({
  name: "cluster:demo runs without redis-tools installed (built-in minimal CLI)",
  fn: () => runDemo({ TSREDIS_DEMO_BUILTIN_CLI: "1" }),
});
