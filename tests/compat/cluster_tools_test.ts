// The real tools around Redis Cluster against tsredis nodes: `redis-cli --cluster create`
// and `--cluster check`, and the node-redis cluster client.
import assert from "node:assert/strict";
import { hasBinary } from "../helpers.ts";
import { clusterInfo, startNodes, stopNodes, waitFor } from "../cluster/helpers.ts";
import { createCluster } from "redis";

const HAVE_CLI = hasBinary("redis-cli");
if (!HAVE_CLI) {
  console.log(
    "cluster_tools_test skipped: redis-cli is not installed (apt-get install redis-tools)",
  );
}

async function cliOut(args: string[]): Promise<{ out: string; code: number }> {
  const r = await new Deno.Command("redis-cli", { args, stdout: "piped", stderr: "piped" })
    .output();
  // Strip colours: redis-cli --cluster prints ANSI sequences even to pipes.
  const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  return {
    out: text.replace(new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g"), ""),
    code: r.code,
  };
}

Deno.test({
  name:
    "redis-cli --cluster create with three tsredis masters, then --cluster check; node-redis cluster client",
  ignore: !HAVE_CLI,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const nodes = await startNodes(3);
    try {
      const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
      const create = await cliOut(["--cluster", "create", ...addrs, "--cluster-yes"]);
      assert.equal(create.code, 0, create.out);
      assert.match(create.out, /\[OK\] All nodes agree about slots configuration\./);
      assert.match(create.out, /\[OK\] All 16384 slots covered\./);
      const check = await cliOut(["--cluster", "check", addrs[1]]);
      assert.equal(check.code, 0, check.out);
      assert.match(check.out, /\[OK\] All 16384 slots covered\./);
      for (const n of nodes) {
        assert.match(check.out, new RegExp(`M: [0-9a-f]{40} 127\\.0\\.0\\.1:${n.port}`));
      }

      // As with redis-server, cluster_state turns ok a moment after the config converges.
      await waitFor("cluster_state:ok on every node", async () => {
        for (const n of nodes) if ((await clusterInfo(n.c)).cluster_state !== "ok") return false;
        return true;
      });
      const client = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${nodes[0].port}` }] });
      await client.connect();
      try {
        for (let i = 0; i < 200; i++) await client.set(`nr:${i}`, String(i * 7));
        for (let i = 0; i < 200; i++) assert.equal(await client.get(`nr:${i}`), String(i * 7));
        assert.equal(await client.incr("nr:counter"), 1);
      } finally {
        await client.disconnect();
      }
      const sizes = await Promise.all(nodes.map(async (n) => Number(await n.c.call("DBSIZE"))));
      assert.equal(sizes.reduce((a, b) => a + b, 0), 201);
      assert.ok(sizes.every((s) => s > 30), `keys spread over the masters: ${sizes}`);
    } finally {
      await stopNodes(nodes);
    }
  },
});
