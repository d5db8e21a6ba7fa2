// The Redis Cluster tutorial with tsredis nodes and the real redis-cli: six nodes, MEET,
// ADDSLOTS, REPLICATE, CLUSTER NODES/INFO field by field, MOVED, redis-cli -c, CROSSSLOT,
// ioredis's cluster client across all slots, and a full restart from nodes.conf.
import assert from "node:assert/strict";
import { hasBinary, redisCli } from "../helpers.ts";
import {
  clusterInfo,
  type Node,
  parseNodes,
  startNodes,
  stopNodes,
  waitFor,
  waitForConvergence,
} from "./helpers.ts";
import { keyHashSlot } from "../../lib/cluster/slot.ts";
import Redis from "ioredis";

const HAVE_CLI = hasBinary("redis-cli");

async function buildCluster(nodes: Node[]): Promise<void> {
  for (const n of nodes.slice(1)) {
    const r = await redisCli(nodes[0].port, ["cluster", "meet", "127.0.0.1", String(n.port)]);
    assert.equal(r.out, "OK");
  }
  const ranges = [[0, 5460], [5461, 10922], [10923, 16383]];
  // The tutorial's ADDSLOTS {0..5460} form through redis-cli for the first master.
  const slots0 = Array.from({ length: 5461 }, (_, i) => String(i));
  assert.equal((await redisCli(nodes[0].port, ["cluster", "addslots", ...slots0])).out, "OK");
  for (let i = 1; i < 3; i++) {
    assert.equal(
      await nodes[i].c.call("CLUSTER", "ADDSLOTSRANGE", ranges[i][0], ranges[i][1]),
      "OK",
    );
  }
  await waitFor("all nodes known everywhere", async () => {
    for (const n of nodes) {
      const lines = parseNodes(String(await n.c.call("CLUSTER", "NODES")));
      if (lines.length !== 6 || lines.some((l) => l.flags.includes("handshake"))) return false;
    }
    return true;
  });
  const ids = await Promise.all(nodes.map(async (n) => String(await n.c.call("CLUSTER", "MYID"))));
  for (let i = 3; i < 6; i++) {
    assert.equal(await nodes[i].c.call("CLUSTER", "REPLICATE", ids[i - 3]), "OK");
  }
  await waitForConvergence(nodes);
  await waitFor("every node to see three replicas", async () => {
    for (const n of nodes) {
      const lines = parseNodes(String(await n.c.call("CLUSTER", "NODES")));
      if (lines.filter((l) => l.flags.includes("slave")).length !== 3) return false;
    }
    return true;
  });
}

Deno.test({
  name:
    "cluster tutorial: six nodes, slots, MOVED, -c, CROSSSLOT, ioredis, restart from nodes.conf",
  ignore: !HAVE_CLI,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    let nodes = await startNodes(6, { args: ["--save", "3600 1"] });
    try {
      await buildCluster(nodes);
      const ids = await Promise.all(
        nodes.map(async (n) => String(await n.c.call("CLUSTER", "MYID"))),
      );
      for (const id of ids) assert.match(id, /^[0-9a-f]{40}$/);
      // Epoch collisions are resolved, and the new epochs spread, a few pings after convergence.
      await waitFor("distinct master config epochs, seen by the first node", async () => {
        const byId = new Map(
          parseNodes(String(await nodes[0].c.call("CLUSTER", "NODES"))).map((l) => [l.id, l]),
        );
        const epochs = [0, 1, 2].map((i) => byId.get(ids[i])?.epoch);
        return new Set(epochs).size === 3 &&
          [3, 4, 5].every((i) => byId.get(ids[i])?.epoch === epochs[i - 3]);
      });

      // CLUSTER NODES, field by field, from the first node's point of view.
      const lines = parseNodes(String(await nodes[0].c.call("CLUSTER", "NODES")));
      const byId = new Map(lines.map((l) => [l.id, l]));
      const me = byId.get(ids[0])!;
      assert.deepEqual(me.flags, ["myself", "master"]);
      assert.equal(me.addr, `127.0.0.1:${nodes[0].port}@${nodes[0].port + 10000}`);
      assert.equal(me.master, "-");
      assert.deepEqual(me.slots, ["0-5460"]);
      assert.equal(me.link, "connected");
      assert.deepEqual(byId.get(ids[1])!.slots, ["5461-10922"]);
      assert.deepEqual(byId.get(ids[2])!.slots, ["10923-16383"]);
      for (let i = 3; i < 6; i++) {
        const l = byId.get(ids[i])!;
        assert.deepEqual(l.flags, ["slave"]);
        assert.equal(l.master, ids[i - 3]);
        assert.deepEqual(l.slots, []);
        assert.equal(
          l.epoch,
          byId.get(ids[i - 3])!.epoch,
          "a replica shows its master's config epoch",
        );
      }
      const epochs = new Set([0, 1, 2].map((i) => byId.get(ids[i])!.epoch));
      assert.equal(epochs.size, 3, "configEpoch collisions are resolved to distinct epochs");

      const info = await clusterInfo(nodes[4].c);
      assert.equal(info.cluster_state, "ok");
      assert.equal(info.cluster_slots_assigned, "16384");
      assert.equal(info.cluster_slots_ok, "16384");
      assert.equal(info.cluster_known_nodes, "6");
      assert.equal(info.cluster_size, "3");
      assert.ok(Number(info.cluster_stats_messages_ping_sent) > 0);
      assert.ok(Number(info.cluster_stats_messages_pong_received) > 0);

      // MOVED from a plain redis-cli, and redis-cli -c following it.
      assert.equal(keyHashSlot("foo"), 12182);
      const moved = await redisCli(nodes[0].port, ["set", "foo", "bar"]);
      assert.match(moved.out, new RegExp(`MOVED 12182 127\\.0\\.0\\.1:${nodes[2].port}`));
      assert.equal((await redisCli(nodes[0].port, ["-c", "set", "foo", "bar"])).out, "OK");
      assert.equal((await redisCli(nodes[1].port, ["-c", "get", "foo"])).out, "bar");
      assert.equal(await nodes[2].c.call("GET", "foo"), "bar");

      // CROSSSLOT and hash tags.
      const cross = await nodes[0].c.call("MSET", "a", "1", "b", "2");
      assert.ok(cross instanceof Error);
      assert.equal(cross.message, "CROSSSLOT Keys in request don't hash to the same slot");
      const tagged = nodes.find((_, i) =>
        i < 3 && keyHashSlot("{user}") >= [0, 5461, 10923][i] &&
        keyHashSlot("{user}") <= [5460, 10922, 16383][i]
      )!;
      assert.equal(await tagged.c.call("MSET", "{user}:a", "1", "{user}:b", "2"), "OK");
      assert.equal(await nodes[0].c.call("CLUSTER", "KEYSLOT", "{user}:a"), keyHashSlot("user"));

      // ioredis's Cluster client reads and writes keys in every part of the slot space.
      const cluster = new Redis.Cluster([{ host: "127.0.0.1", port: nodes[0].port }], {
        redisOptions: { maxRetriesPerRequest: 3 },
      });
      try {
        for (let i = 0; i < 300; i++) await cluster.set(`key:${i}`, `value:${i}`);
        for (let i = 0; i < 300; i++) assert.equal(await cluster.get(`key:${i}`), `value:${i}`);
      } finally {
        cluster.disconnect();
      }
      let total = 0;
      for (let i = 0; i < 3; i++) {
        const own = Number(await nodes[i].c.call("DBSIZE"));
        assert.ok(own > 50, `master ${i} holds a share of the keys (${own})`);
        total += own;
      }
      assert.ok(total >= 302);
      const slot = keyHashSlot("key:1");
      const owner = nodes.find((_, i) =>
        i < 3 && slot >= [0, 5461, 10923][i] && slot <= [5460, 10922, 16383][i]
      )!;
      assert.ok(Number(await owner.c.call("CLUSTER", "COUNTKEYSINSLOT", slot)) >= 1);
      assert.ok(
        (await owner.c.call("CLUSTER", "GETKEYSINSLOT", slot, 10) as string[]).includes("key:1"),
      );

      // Stop every node, start them again on the same ports and dirs: nodes.conf restores the
      // cluster (ids, roles, slots, epochs) and the snapshots restore the data.
      const dirs = nodes.map((n) => n.sp.dir);
      const ports = nodes.map((n) => n.port);
      const before = String(await nodes[0].c.call("CLUSTER", "NODES"));
      await stopNodes(nodes);
      for (const d of dirs) {
        assert.match(
          Deno.readTextFileSync(`${d}/nodes.conf`),
          /vars currentEpoch \d+ lastVoteEpoch \d+/,
        );
      }
      nodes = await startNodes(6, { dirs, ports, args: ["--save", "3600 1"] });
      await waitForConvergence(nodes);
      const after = parseNodes(String(await nodes[0].c.call("CLUSTER", "NODES")));
      const strip = (ls: ReturnType<typeof parseNodes>) =>
        ls.map((l) =>
          `${l.id} ${l.addr} ${l.flags.join(",")} ${l.master} ${l.epoch} ${l.slots.join(" ")}`
        ).sort();
      assert.deepEqual(strip(after), strip(parseNodes(before)));
      assert.equal((await redisCli(nodes[0].port, ["-c", "get", "foo"])).out, "bar");
    } finally {
      await stopNodes(nodes);
    }
  },
});
