// nodes.conf on disk with real processes: created at first start, identity kept across
// restarts, deleting it resets the node, a corrupt file refuses to start, a second process on
// the same file refuses (lock), and the bus works over IPv6.
import assert from "node:assert/strict";
import { freePort, startServer } from "../helpers.ts";
import { parseNodes, waitFor } from "./helpers.ts";

const CLUSTER = ["--cluster-enabled", "yes", "--cluster-node-timeout", "3000"];

Deno.test("nodes.conf: identity survives restarts, deletion resets, corruption and double use refuse", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "tsredis-nodesconf-" });
  const port = freePort(true);
  let sp = await startServer({ dir, port, args: CLUSTER });
  let c = await sp.client();
  const id = String(await c.call("CLUSTER", "MYID"));
  assert.equal(await c.call("CLUSTER", "ADDSLOTSRANGE", 0, 99), "OK");
  assert.equal(await c.call("CLUSTER", "SET-CONFIG-EPOCH", 7) instanceof Error, false);
  const text = Deno.readTextFileSync(`${dir}/nodes.conf`);
  // A node nobody has met does not know its own IP yet, exactly like Redis (":port@cport").
  assert.match(
    text,
    new RegExp(`^${id} :${port}@${port + 10000} myself,master - 0 0 7 connected 0-99$`, "m"),
  );
  assert.match(text, /^vars currentEpoch 7 lastVoteEpoch 0$/m);

  // A second process with the same nodes.conf refuses to start.
  const second = await startServer({ dir, port: freePort(true), args: CLUSTER, noWait: true });
  assert.equal(await second.exited(), 1);
  assert.match(second.output, /already used by a different Redis Cluster node/);

  c.close();
  assert.equal(await sp.stop(), 0);
  sp = await startServer({ dir, port, args: CLUSTER });
  c = await sp.client();
  assert.equal(await c.call("CLUSTER", "MYID"), id, "same id after restart");
  const me = parseNodes(String(await c.call("CLUSTER", "NODES")))[0];
  assert.deepEqual(me.slots, ["0-99"]);
  assert.equal(me.epoch, 7);
  c.close();
  await sp.stop();

  // Deleting nodes.conf resets the node: new id, no slots.
  Deno.removeSync(`${dir}/nodes.conf`);
  sp = await startServer({ dir, port, args: CLUSTER });
  c = await sp.client();
  const fresh = String(await c.call("CLUSTER", "MYID"));
  assert.notEqual(fresh, id);
  assert.deepEqual(parseNodes(String(await c.call("CLUSTER", "NODES")))[0].slots, []);
  c.close();
  await sp.stop();

  // A corrupt file refuses to start, and is left as it was.
  const corrupt = "this is not a nodes.conf\n";
  Deno.writeTextFileSync(`${dir}/nodes.conf`, corrupt);
  const bad = await startServer({ dir, port, args: CLUSTER, noWait: true });
  assert.equal(await bad.exited(), 1);
  assert.match(bad.output, /Unrecoverable error: corrupted cluster config file/);
  assert.equal(Deno.readTextFileSync(`${dir}/nodes.conf`), corrupt);
});

Deno.test({
  name: "two nodes meet over IPv6 (::1) on the cluster bus",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const a = await startServer({ args: [...CLUSTER, "--bind", "127.0.0.1", "::1"] });
    const b = await startServer({ args: [...CLUSTER, "--bind", "127.0.0.1", "::1"] });
    const ca = await a.client();
    const cb = await b.client();
    try {
      assert.equal(await ca.call("CLUSTER", "MEET", "::1", b.port), "OK");
      const idb = String(await cb.call("CLUSTER", "MYID"));
      await waitFor("handshake over IPv6", async () => {
        const lines = parseNodes(String(await ca.call("CLUSTER", "NODES")));
        const l = lines.find((x) => x.id === idb);
        return !!l && l.link === "connected" && l.addr === `::1:${b.port}@${b.port + 10000}`;
      });
    } finally {
      ca.close();
      cb.close();
      await a.stop();
      await b.stop();
    }
  },
});

Deno.test("a node that nodes.conf makes a replica keeps expired keys when it loads its dump", async () => {
  // Redis runs clusterInit before loadDataFromDisk: a replica keeps keys whose TTL passed while
  // it was down (its master will send the DELs), a master drops them.
  const dir = Deno.makeTempDirSync({ prefix: "tsredis-replica-load-" });
  const port = freePort(true);
  let sp = await startServer({ dir, port, args: CLUSTER });
  let c = await sp.client();
  const id = String(await c.call("CLUSTER", "MYID"));
  assert.equal(await c.call("CLUSTER", "ADDSLOTSRANGE", 0, 16383), "OK");
  await waitFor(
    "cluster_state:ok",
    async () => String(await c.call("CLUSTER", "INFO")).includes("cluster_state:ok"),
  );
  assert.equal(await c.call("SET", "live", "1"), "OK");
  assert.equal(await c.call("SET", "soon", "1", "PX", 300), "OK");
  assert.equal(await c.call("SAVE"), "OK");
  c.close();
  await sp.stop();
  await new Promise((r) => setTimeout(r, 500)); // "soon" is now expired in the dump

  sp = await startServer({ dir, port, args: CLUSTER });
  c = await sp.client();
  assert.equal(await c.call("DBSIZE"), 1, "a master drops the expired key at load");
  c.close();
  await sp.stop();

  // The same dump, but nodes.conf now says this node replicates another one.
  const master = "f".repeat(40);
  const conf = Deno.readTextFileSync(`${dir}/nodes.conf`)
    .replace(/^(\S+ \S+) myself,master - .*$/m, `$1 myself,slave ${master} 0 0 1 connected`)
    .replace(/^vars /m, `${master} 127.0.0.1:1@10001 master - 0 0 1 connected 0-16383\nvars `);
  Deno.writeTextFileSync(`${dir}/nodes.conf`, conf);
  sp = await startServer({ dir, port, args: CLUSTER });
  c = await sp.client();
  assert.equal(await c.call("CLUSTER", "MYID"), id);
  const me = parseNodes(String(await c.call("CLUSTER", "NODES"))).find((n) => n.id === id);
  assert.deepEqual(me?.flags, ["myself", "slave"], conf);
  assert.equal(await c.call("DBSIZE"), 2, "a replica keeps the expired key");
  assert.match(sp.output, /keys loaded: 2, keys expired: 0/);
  c.close();
  await sp.stop();
});
