// Failure detection and failover with real processes: a master killed (SIGINT, then SIGKILL)
// is marked fail, its replica wins the election and takes its slots, the cluster stays ok, the
// data is readable with redis-cli -c, and the old master rejoins as a replica of the winner.
// Manual CLUSTER FAILOVER and TAKEOVER swap roles without a failure.
import assert from "node:assert/strict";
import { hasBinary, redisCli } from "../helpers.ts";
import { clusterInfo, type Node, parseNodes, startNodes, stopNodes, waitFor } from "./helpers.ts";
import { startServer } from "../helpers.ts";

const HAVE_CLI = hasBinary("redis-cli");
const TIMEOUT = "1500";

/** Three masters (0,1,2) with one replica each (3,4,5). */
async function sixNodeCluster(extra: string[] = []): Promise<{ nodes: Node[]; ids: string[] }> {
  const nodes = await startNodes(6, {
    args: ["--cluster-node-timeout", TIMEOUT, "--repl-diskless-sync-delay", "0", ...extra],
  });
  for (const n of nodes.slice(1)) await nodes[0].c.call("CLUSTER", "MEET", "127.0.0.1", n.port);
  const ranges = [[0, 5460], [5461, 10922], [10923, 16383]];
  for (let i = 0; i < 3; i++) {
    await nodes[i].c.call("CLUSTER", "ADDSLOTSRANGE", ranges[i][0], ranges[i][1]);
  }
  const ids = await Promise.all(nodes.map(async (n) => String(await n.c.call("CLUSTER", "MYID"))));
  await waitFor("all nodes known", async () => {
    for (const n of nodes) {
      const lines = parseNodes(String(await n.c.call("CLUSTER", "NODES")));
      if (lines.length !== 6 || lines.some((l) => l.flags.includes("handshake"))) return false;
    }
    return true;
  });
  for (let i = 3; i < 6; i++) {
    assert.equal(await nodes[i].c.call("CLUSTER", "REPLICATE", ids[i - 3]), "OK");
  }
  await waitFor("roles and cluster_state ok everywhere", async () => {
    for (const n of nodes) {
      const lines = parseNodes(String(await n.c.call("CLUSTER", "NODES")));
      if (lines.filter((l) => l.flags.includes("slave")).length !== 3) return false;
      if ((await clusterInfo(n.c)).cluster_state !== "ok") return false;
    }
    return true;
  }, 30000);
  await waitFor("replicas to finish their first sync", async () => {
    for (let i = 3; i < 6; i++) {
      if (!String(await nodes[i].c.call("INFO", "replication")).includes("master_link_status:up")) {
        return false;
      }
    }
    return true;
  }, 30000);
  return { nodes, ids };
}

async function viewOf(n: Node, id: string) {
  return parseNodes(String(await n.c.call("CLUSTER", "NODES"))).find((l) => l.id === id)!;
}

for (const signal of ["SIGINT", "SIGKILL"] as const) {
  Deno.test({
    name:
      `failover after ${signal} on a master: replica promoted, slots moved, old master rejoins as replica`,
    ignore: !HAVE_CLI,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const { nodes, ids } = await sixNodeCluster(["--save", "3600 1"]);
      const live = [...nodes];
      try {
        // Data in master 0's slots, written before the failure.
        for (let i = 0; i < 50; i++) await redisCli(nodes[1].port, ["-c", "set", `k${i}`, `v${i}`]);
        const victim = nodes[0];
        const dir = victim.sp.dir;
        const port = victim.port;
        victim.c.close();
        const t0 = Date.now();
        const code = await victim.sp.stop(signal);
        if (signal === "SIGINT") assert.equal(code, 0, "SIGINT exits cleanly after the final save");
        live.splice(live.indexOf(victim), 1);
        await waitFor("replica promoted with the master's slots", async () => {
          const l = await viewOf(nodes[1], ids[3]);
          return l.flags.includes("master") && l.slots.join(" ") === "0-5460";
        }, 30000);
        const took = Date.now() - t0;
        console.log(
          `  ${signal}: promotion seen ${took} ms after the kill (node timeout ${TIMEOUT} ms)`,
        );
        const old = await viewOf(nodes[1], ids[0]);
        assert.ok(old.flags.includes("fail"), `old master flagged fail: ${old.flags}`);
        for (const n of live) {
          await waitFor(
            "cluster ok on survivors",
            async () => (await clusterInfo(n.c)).cluster_state === "ok",
          );
        }
        // Every key written before the failure is readable through the cluster.
        for (let i = 0; i < 50; i++) {
          assert.equal(
            (await redisCli(nodes[2].port, ["-c", "get", `k${i}`])).out,
            `v${i}`,
            `k${i} after failover`,
          );
        }
        const promotedKeys = Number(await nodes[3].c.call("DBSIZE"));
        assert.ok(promotedKeys > 0, "the promoted replica holds the shard's data");
        // Restart the old master on its dir: it must rejoin as a replica of the winner.
        const sp = await startServer({
          dir,
          port,
          args: [
            "--cluster-enabled",
            "yes",
            "--cluster-node-timeout",
            TIMEOUT,
            "--repl-diskless-sync-delay",
            "0",
          ],
        });
        const back: Node = { sp, port, c: await sp.client() };
        live.push(back);
        await waitFor("old master rejoins as a replica of the new master", async () => {
          const l = await viewOf(back, ids[0]);
          return l.flags.includes("slave") && l.master === ids[3];
        }, 30000);
        await waitFor("the old master resyncs the shard's data from the new master", async () => {
          const info = String(await back.c.call("INFO", "replication"));
          return info.includes("master_link_status:up") &&
            Number(await back.c.call("DBSIZE")) === promotedKeys;
        }, 30000);
        await waitFor("others see it as a replica without fail", async () => {
          const l = await viewOf(nodes[1], ids[0]);
          return l.flags.includes("slave") && !l.flags.includes("fail");
        }, 30000);
      } finally {
        await stopNodes(live);
      }
    },
  });
}

Deno.test({
  name: "manual CLUSTER FAILOVER and TAKEOVER swap master and replica",
  ignore: !HAVE_CLI,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { nodes, ids } = await sixNodeCluster();
    try {
      const err = await nodes[1].c.call("CLUSTER", "FAILOVER");
      assert.ok(err instanceof Error);
      assert.equal(err.message, "ERR You should send CLUSTER FAILOVER to a replica");
      const bad = await nodes[4].c.call("CLUSTER", "FAILOVER", "bogus");
      assert.ok(bad instanceof Error && bad.message === "ERR syntax error");
      assert.equal(await nodes[4].c.call("CLUSTER", "FAILOVER"), "OK");
      await waitFor("replica 4 became master of 5461-10922, old master 1 its replica", async () => {
        const a = await viewOf(nodes[2], ids[4]);
        const b = await viewOf(nodes[2], ids[1]);
        return a.flags.includes("master") && a.slots.join(" ") === "5461-10922" &&
          b.flags.includes("slave") &&
          b.master === ids[4];
      }, 20000);
      assert.equal(await nodes[5].c.call("CLUSTER", "FAILOVER", "TAKEOVER"), "OK");
      await waitFor("takeover: replica 5 owns 10923-16383", async () => {
        const a = await viewOf(nodes[0], ids[5]);
        const b = await viewOf(nodes[0], ids[2]);
        return a.flags.includes("master") && a.slots.join(" ") === "10923-16383" &&
          b.flags.includes("slave");
      }, 20000);
      const epochs = parseNodes(String(await nodes[0].c.call("CLUSTER", "NODES"))).filter((l) =>
        l.flags.includes("master")
      ).map((l) => l.epoch);
      assert.equal(new Set(epochs).size, 3, "masters have distinct config epochs");
    } finally {
      await stopNodes(nodes);
    }
  },
});
