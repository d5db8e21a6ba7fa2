// A mixed cluster: two real redis-server 7.0 nodes and two tsredis nodes joined over the bus
// in both directions, with slots on both kinds. Every node must list all four as connected
// masters with the right slots, reach cluster_state:ok, and redirect to the right owner.
import assert from "node:assert/strict";
import { hasBinary } from "../helpers.ts";
import {
  clusterInfo,
  type Node,
  parseNodes,
  startNodes,
  stopNodes,
  waitFor,
} from "../cluster/helpers.ts";
import { keyHashSlot } from "../../lib/cluster/slot.ts";

const HAVE_REDIS = hasBinary("redis-server");
if (!HAVE_REDIS) {
  console.log(
    "mixed_cluster_test skipped: redis-server is not installed (apt-get install redis-server)",
  );
}

const RANGES: [number, number][] = [[0, 4000], [4001, 8000], [8001, 12000], [12001, 16383]];

Deno.test({
  name:
    "mixed cluster: redis-server 7.0 and tsredis nodes agree on members, slots, epochs and MOVED",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const real = await startNodes(2, { redis: true });
    const ours = await startNodes(2);
    const all: Node[] = [real[0], real[1], ours[0], ours[1]];
    try {
      // MEETs in both directions: real -> tsredis, tsredis -> real, tsredis -> real.
      assert.equal(await real[0].c.call("CLUSTER", "MEET", "127.0.0.1", ours[0].port), "OK");
      assert.equal(await ours[0].c.call("CLUSTER", "MEET", "127.0.0.1", real[1].port), "OK");
      assert.equal(await ours[1].c.call("CLUSTER", "MEET", "127.0.0.1", real[0].port), "OK");
      for (const [i, n] of all.entries()) {
        assert.equal(await n.c.call("CLUSTER", "ADDSLOTSRANGE", RANGES[i][0], RANGES[i][1]), "OK");
      }
      const ids = await Promise.all(
        all.map(async (n) => String(await n.c.call("CLUSTER", "MYID"))),
      );
      await waitFor(
        "all four nodes connected with all slots and cluster_state ok everywhere",
        async () => {
          for (const n of all) {
            const lines = parseNodes(String(await n.c.call("CLUSTER", "NODES")));
            if (lines.length !== 4) return false;
            for (const [i, id] of ids.entries()) {
              const l = lines.find((x) => x.id === id);
              if (!l || l.link !== "connected" || !l.flags.includes("master")) return false;
              if (l.slots.join(" ") !== `${RANGES[i][0]}-${RANGES[i][1]}`) return false;
            }
            if ((await clusterInfo(n.c)).cluster_state !== "ok") return false;
          }
          return true;
        },
        30000,
      );
      // Epochs converge to distinct values on every node, and every node sees the same ones.
      const views = await Promise.all(all.map(async (n) => {
        const lines = parseNodes(String(await n.c.call("CLUSTER", "NODES")));
        return ids.map((id) => lines.find((l) => l.id === id)!.epoch).join(",");
      }));
      await waitFor("epochs agree", async () => {
        const v = await Promise.all(all.map(async (n) => {
          const lines = parseNodes(String(await n.c.call("CLUSTER", "NODES")));
          return ids.map((id) => lines.find((l) => l.id === id)!.epoch).join(",");
        }));
        return new Set(v).size === 1 && new Set(v[0].split(",")).size === 4;
      }, 15000).catch((e) => {
        throw new Error(`${e.message}; views were ${JSON.stringify(views)}`);
      });
      for (const n of all) {
        const info = await clusterInfo(n.c);
        assert.equal(info.cluster_known_nodes, "4");
        assert.equal(info.cluster_size, "4");
      }
      // MOVED from every node points at the owner, whatever kind either side is.
      for (const key of ["foo", "a", "user:1000", "{x}y", "zzz"]) {
        const slot = keyHashSlot(key);
        const owner = RANGES.findIndex(([a, b]) => slot >= a && slot <= b);
        for (const [i, n] of all.entries()) {
          const r = await n.c.call("SET", key, "v");
          if (i === owner) assert.equal(r, "OK");
          else {
            assert.ok(r instanceof Error, `${key} on node ${i}`);
            assert.equal(r.message, `MOVED ${slot} 127.0.0.1:${all[owner].port}`);
          }
        }
      }
      assert.equal(await all[keyOwner("foo")].c.call("GET", "foo"), "v");
    } finally {
      await stopNodes(all);
    }
  },
});

function keyOwner(key: string): number {
  const slot = keyHashSlot(key);
  return RANGES.findIndex(([a, b]) => slot >= a && slot <= b);
}
