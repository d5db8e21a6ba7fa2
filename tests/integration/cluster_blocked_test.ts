// Cluster mode: a client blocked on a key whose slot this node stops serving is unblocked with
// CLUSTERDOWN (slot unassigned or cluster down) or MOVED (slot now owned by another node).
import assert from "node:assert/strict";
import { type Reply, type RespClient, withServer } from "../helpers.ts";
import { keyHashSlot } from "../../lib/cluster/slot.ts";

/** TEST_REAL_REDIS=1 runs the same assertions against redis-server, to check the tests themselves. */
const REAL = Deno.env.get("TEST_REAL_REDIS") === "1";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function errText(r: Reply): string {
  assert.ok(r instanceof Error, `expected an error, got ${JSON.stringify(r)}`);
  return r.message;
}

async function waitState(c: RespClient, state: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (String(await c.call("CLUSTER", "INFO")).includes(`cluster_state:${state}`)) return;
    await sleep(50);
  }
  throw new Error(`cluster_state never became ${state}`);
}

Deno.test("cluster: blocked clients get CLUSTERDOWN when their slot goes away", async () => {
  await withServer(async (c, s) => {
    await c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
    await waitState(c, "ok");
    const slot = keyHashSlot("list");

    // Unassigned slot while the cluster stays up.
    const b = await s.client();
    await b.send("BLPOP", "list", "0");
    await sleep(100);
    await c.call("CLUSTER", "DELSLOTS", slot);
    assert.equal(errText(await b.read()), "CLUSTERDOWN Hash slot not served");
    await c.call("CLUSTER", "ADDSLOTS", slot);

    // The whole cluster down (full coverage required and a slot is missing).
    await c.call("CONFIG", "SET", "cluster-require-full-coverage", "yes");
    await b.send("BRPOP", "list", "0");
    await sleep(100);
    await c.call("CLUSTER", "DELSLOTS", keyHashSlot("other"));
    assert.equal(errText(await b.read()), "CLUSTERDOWN The cluster is down");
    assert.match(String(await c.call("INFO", "clients")), /blocked_clients:0\r\n/);
    b.close();
  }, {
    redis: REAL,
    args: ["--cluster-enabled", "yes", "--cluster-require-full-coverage", "no"],
  });
});
