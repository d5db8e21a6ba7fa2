// The bus codec against a real redis-server 7.0: fake cluster nodes built on the codec MEET it,
// complete handshakes, gossip, publish, update, vote and fail, and every packet the real node
// sends back must decode with the expected contents.
import assert from "node:assert/strict";
import { hasBinary, type RespClient, startServer } from "../helpers.ts";
import {
  type BusBody,
  type BusMessage,
  decodeMessage,
  encodeMessage,
  type GossipEntry,
  MsgFlag0,
  MsgType,
  NodeFlag,
} from "../../lib/cluster/bus/codec.ts";
import {
  newSlotBitmap,
  slotBitmapCount,
  slotBitmapFromRanges,
  slotBitmapRanges,
} from "../../lib/cluster/bus/bitmap.ts";
import { PacketFramer } from "../../lib/cluster/bus/framer.ts";
import { keyHashSlot } from "../../lib/cluster/slot.ts";

const HAVE_REDIS = hasBinary("redis-server");
if (!HAVE_REDIS) console.warn("bus_interop_test: redis-server not found, skipping");

/** A node id that sorts before any real one, so Redis never bumps its epoch on collisions. */
function lowNodeId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return "00000000" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function freeBusPort(): number {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    try {
      Deno.listen({ hostname: "127.0.0.1", port: port + 10000 }).close();
      return port;
    } catch { /* in use */ }
  }
  throw new Error("no free port");
}

interface Received {
  msg: BusMessage;
  /** "out": on our connection to Redis; "in": on the link Redis opened to us. */
  via: "in" | "out";
}

/** A cluster node made of the codec: listens on its bus port and answers PINGs with PONGs. */
class FakeNode {
  readonly id = lowNodeId();
  readonly port = freeBusPort();
  readonly cport = this.port + 10000;
  hostname = "";
  flags: number = NodeFlag.MASTER | NodeFlag.MYSELF;
  slaveof: string | null = null;
  myslots = newSlotBitmap();
  currentEpoch = 0n;
  configEpoch = 0n;
  /** When set, PINGs are left unanswered, as from a dead node. */
  muted = false;
  inbox: Received[] = [];
  errors: string[] = [];
  private listener = Deno.listen({ hostname: "127.0.0.1", port: this.cport });
  private conns: Deno.Conn[] = [];
  private loops: Promise<void>[] = [];
  private out: Deno.Conn | null = null;

  constructor() {
    this.loops.push(this.acceptLoop());
  }

  private async acceptLoop(): Promise<void> {
    try {
      for await (const conn of this.listener) {
        this.conns.push(conn);
        this.loops.push(this.readLoop(conn, "in"));
      }
    } catch { /* listener closed */ }
  }

  private async readLoop(conn: Deno.Conn, via: "in" | "out"): Promise<void> {
    const framer = new PacketFramer();
    const buf = new Uint8Array(65536);
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) return;
        const { packets, error } = framer.feed(buf.subarray(0, n));
        for (const p of packets) {
          const r = decodeMessage(p);
          if (!r.ok) {
            this.errors.push(r.reason);
            continue;
          }
          this.inbox.push({ msg: r.msg, via });
          const t = r.msg.type;
          if ((t === MsgType.PING || t === MsgType.MEET) && !this.muted) {
            await this.write(conn, this.message(MsgType.PONG));
          }
        }
        if (error) {
          this.errors.push(error);
          return;
        }
      }
    } catch { /* closed */ }
  }

  /** A message from this node with its current header fields. */
  message(type: number, body?: BusBody, gossip: GossipEntry[] = []): BusMessage {
    const ext = this.hostname ? [{ kind: "hostname" as const, hostname: this.hostname }] : [];
    return {
      type,
      sender: this.id,
      currentEpoch: this.currentEpoch,
      configEpoch: this.configEpoch,
      offset: 0n,
      myslots: this.myslots,
      slaveof: this.slaveof,
      myip: "",
      port: this.port,
      pport: 0,
      cport: this.cport,
      flags: this.flags,
      state: 0,
      mflags: 0,
      body: body ?? { kind: "ping", gossip, extensions: ext },
    };
  }

  /** This node as a gossip entry. */
  asGossip(): GossipEntry {
    return {
      nodename: this.id,
      pingSent: 0,
      pongReceived: Math.floor(Date.now() / 1000),
      ip: "127.0.0.1",
      port: this.port,
      cport: this.cport,
      flags: NodeFlag.MASTER,
      pport: 0,
    };
  }

  private async write(conn: Deno.Conn, msg: BusMessage): Promise<void> {
    const bytes = encodeMessage(msg);
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  }

  /** Opens our own link to Redis's bus port. */
  async connect(busPort: number): Promise<void> {
    this.out = await Deno.connect({ hostname: "127.0.0.1", port: busPort });
    this.conns.push(this.out);
    this.loops.push(this.readLoop(this.out, "out"));
  }

  /** Sends on our link to Redis. */
  send(msg: BusMessage): Promise<void> {
    assert.ok(this.out, "not connected");
    return this.write(this.out, msg);
  }

  /** The first message at or after inbox index `since` that matches, waiting up to timeoutMs. */
  async waitFor(
    pred: (r: Received) => boolean,
    since = 0,
    timeoutMs = 5000,
  ): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const hit = this.inbox.slice(since).find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) {
        const seen = this.inbox.slice(since).map((r) => `${r.via}:${r.msg.type}`).join(" ");
        throw new Error(`timed out; saw [${seen}], errors [${this.errors.join("; ")}]`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Closes every socket and waits for the loops to end. */
  async close(): Promise<void> {
    try {
      this.listener.close();
    } catch { /* closed */ }
    for (const c of this.conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await Promise.all(this.loops);
  }
}

/** CLUSTER NODES as a map from node id to its fields. */
async function clusterNodes(c: RespClient): Promise<Map<string, string[]>> {
  const text = await c.call("CLUSTER", "NODES");
  assert.equal(typeof text, "string");
  const m = new Map<string, string[]>();
  for (const line of String(text).trim().split("\n")) {
    const f = line.split(" ");
    m.set(f[0], f);
  }
  return m;
}

async function clusterInfo(c: RespClient, field: string): Promise<string> {
  const text = String(await c.call("CLUSTER", "INFO"));
  const m = text.match(new RegExp(`^${field}:(.*)$`, "m"));
  return m ? m[1].trim() : "";
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A channel name whose hash slot is within [lo, hi]. */
function channelInSlots(lo: number, hi: number): string {
  for (let i = 0;; i++) {
    const s = keyHashSlot(`ch${i}`);
    if (s >= lo && s <= hi) return `ch${i}`;
  }
}

Deno.test({
  name: "codec interoperates with a real redis-server 7.0 cluster bus",
  ignore: !HAVE_REDIS,
  async fn(t) {
    const server = await startServer({
      redis: true,
      args: [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-announce-hostname",
        "real-host.test",
        "--cluster-require-full-coverage",
        "no",
      ],
    });
    const c = await server.client();
    const sub = await server.client();
    const a = new FakeNode();
    const b = new FakeNode();
    a.hostname = "fake-a.test";
    try {
      const myid = String(await c.call("CLUSTER", "MYID"));
      const busPort = server.port + 10000;

      await t.step(
        "MEET is answered with a PONG that decodes to the real node's header",
        async () => {
          await a.connect(busPort);
          await a.send(a.message(MsgType.MEET));
          const { msg } = await a.waitFor((r) => r.via === "out" && r.msg.type === MsgType.PONG);
          assert.equal(msg.sender, myid);
          assert.equal(msg.port, server.port);
          assert.equal(msg.cport, server.port + 10000);
          assert.equal(msg.pport, 0);
          assert.equal(msg.flags, NodeFlag.MASTER | NodeFlag.MYSELF);
          assert.equal(msg.slaveof, null);
          assert.equal(msg.myip, "");
          assert.equal(slotBitmapCount(msg.myslots), 0);
          assert.equal(msg.state, 1); // fail: no slots yet
          assert.equal(msg.currentEpoch, 0n);
          assert.equal(msg.configEpoch, 0n);
          assert.equal(msg.mflags, MsgFlag0.EXT_DATA);
          assert.deepEqual(msg.body, {
            kind: "ping",
            gossip: [],
            extensions: [{ kind: "hostname", hostname: "real-host.test" }],
          });
        },
      );

      await t.step("the real node handshakes with the fake node and lists it", async () => {
        // Redis connects to our bus port and PINGs; the automatic PONG completes the handshake.
        const ping = await a.waitFor((r) => r.via === "in" && r.msg.type === MsgType.PING);
        assert.equal(ping.msg.sender, myid);
        await until("fake node A known", async () => (await clusterNodes(c)).has(a.id));
        // A PING from a known sender carries our hostname extension into its table.
        const mark = a.inbox.length;
        await a.send(a.message(MsgType.PING));
        await a.waitFor((r) => r.via === "out" && r.msg.type === MsgType.PONG, mark);
        await until("A listed with address and hostname", async () => {
          const f = (await clusterNodes(c)).get(a.id);
          return f?.[1] === `127.0.0.1:${a.port}@${a.cport},fake-a.test` && f?.[2] === "master";
        });
      });

      await t.step("PONG after ADDSLOTSRANGE carries exactly slots 0-100", async () => {
        assert.equal(await c.call("CLUSTER", "ADDSLOTSRANGE", 0, 100), "OK");
        await until(
          "cluster state ok",
          async () => (await clusterInfo(c, "cluster_state")) === "ok",
        );
        const mark = a.inbox.length;
        await a.send(a.message(MsgType.PING));
        const { msg } = await a.waitFor(
          (r) => r.via === "out" && r.msg.type === MsgType.PONG,
          mark,
        );
        assert.deepEqual(slotBitmapRanges(msg.myslots), [[0, 100]]);
        assert.equal(slotBitmapCount(msg.myslots), 101);
        assert.equal(msg.state, 0);
      });

      await t.step(
        "gossip from the fake node introduces a second node, and comes back",
        async () => {
          await a.send(a.message(MsgType.PING, undefined, [b.asGossip()]));
          // Redis trusts gossip from a known node: it adds B and connects to B's bus port.
          await b.waitFor((r) =>
            r.via === "in" && r.msg.type === MsgType.PING && r.msg.sender === myid
          );
          await until("B listed from gossip", async () => {
            const f = (await clusterNodes(c)).get(b.id);
            return f?.[1] === `127.0.0.1:${b.port}@${b.cport}` && f?.[2] === "master";
          });
          // With three nodes Redis puts one gossip entry in each PING/PONG.
          let entry: GossipEntry | undefined;
          for (let i = 0; i < 60 && !entry; i++) {
            const mark = a.inbox.length;
            await a.send(a.message(MsgType.PING));
            const { msg } = await a.waitFor(
              (r) => r.via === "out" && r.msg.type === MsgType.PONG,
              mark,
            );
            if (msg.body.kind !== "ping") throw new Error("PONG without ping body");
            entry = msg.body.gossip.find((g) => g.nodename === b.id);
          }
          assert.ok(entry, "a PONG gossiped about B");
          assert.equal(entry.ip, "127.0.0.1");
          assert.equal(entry.port, b.port);
          assert.equal(entry.cport, b.cport);
          assert.equal(entry.pport, 0);
          assert.equal(entry.flags, NodeFlag.MASTER);
          assert.ok(Math.abs(entry.pongReceived - Date.now() / 1000) < 60);
        },
      );

      await t.step("PUBLISH travels both ways", async () => {
        const mark = a.inbox.length;
        assert.equal(await c.call("PUBLISH", "news", "hi\x00\xff"), 0);
        const { msg } = await a.waitFor((r) => r.msg.type === MsgType.PUBLISH, mark);
        assert.equal(msg.sender, myid);
        assert.deepEqual(msg.body, { kind: "publish", channel: "news", message: "hi\x00\xff" });

        assert.deepEqual(await sub.call("SUBSCRIBE", "news"), ["subscribe", "news", 1]);
        await a.send(
          a.message(MsgType.PUBLISH, { kind: "publish", channel: "news", message: "from-a" }),
        );
        assert.deepEqual(await sub.read(), ["message", "news", "from-a"]);
        assert.deepEqual(await sub.call("UNSUBSCRIBE", "news"), ["unsubscribe", "news", 0]);
      });

      await t.step("a stale slot claim draws an UPDATE from the real node", async () => {
        assert.equal(await c.call("CLUSTER", "BUMPEPOCH"), "BUMPED 1");
        const mark = a.inbox.length;
        a.myslots = slotBitmapFromRanges([[0, 0]]);
        await a.send(a.message(MsgType.PING));
        const { msg } = await a.waitFor((r) => r.msg.type === MsgType.UPDATE, mark);
        a.myslots = newSlotBitmap();
        assert.equal(msg.sender, myid);
        assert.equal(msg.configEpoch, 1n);
        if (msg.body.kind !== "update") throw new Error("UPDATE without update body");
        assert.equal(msg.body.nodename, myid);
        assert.equal(msg.body.configEpoch, 1n);
        assert.deepEqual(slotBitmapRanges(msg.body.slots), [[0, 100]]);
      });

      await t.step("an UPDATE from the fake node reassigns slots on the real node", async () => {
        const slots = slotBitmapFromRanges([[200, 300]]);
        await a.send(
          a.message(MsgType.UPDATE, { kind: "update", configEpoch: 5n, nodename: b.id, slots }),
        );
        b.myslots = slots;
        b.configEpoch = 5n;
        await until("B owns 200-300 at epoch 5", async () => {
          const f = (await clusterNodes(c)).get(b.id);
          return f?.[6] === "5" && f?.[8] === "200-300";
        });
      });

      await t.step("a fake replica gets PUBLISHSHARD and a failover vote", async () => {
        b.flags = NodeFlag.SLAVE | NodeFlag.MYSELF;
        b.slaveof = myid;
        b.myslots = slotBitmapFromRanges([[0, 100]]);
        b.configEpoch = 1n;
        await b.connect(busPort);
        await b.send(b.message(MsgType.PING));
        await until("B is a replica of the real node", async () => {
          const f = (await clusterNodes(c)).get(b.id);
          return f?.[2] === "slave" && f?.[3] === myid;
        });

        const ch = channelInSlots(0, 100);
        let mark = b.inbox.length;
        assert.equal(await c.call("SPUBLISH", ch, "shard-msg"), 0);
        const shard = await b.waitFor((r) => r.msg.type === MsgType.PUBLISHSHARD, mark);
        assert.deepEqual(shard.msg.body, { kind: "publish", channel: ch, message: "shard-msg" });

        assert.deepEqual(await sub.call("SSUBSCRIBE", ch), ["ssubscribe", ch, 1]);
        await b.send(
          b.message(MsgType.PUBLISHSHARD, { kind: "publish", channel: ch, message: "up" }),
        );
        assert.deepEqual(await sub.read(), ["smessage", ch, "up"]);

        const epoch = BigInt(await clusterInfo(c, "cluster_current_epoch")) + 1n;
        b.currentEpoch = epoch;
        mark = b.inbox.length;
        const req = b.message(MsgType.FAILOVER_AUTH_REQUEST, { kind: "empty" });
        req.mflags = MsgFlag0.FORCEACK;
        await b.send(req);
        const ack = await b.waitFor((r) => r.msg.type === MsgType.FAILOVER_AUTH_ACK, mark);
        assert.equal(ack.msg.sender, myid);
        assert.equal(ack.msg.currentEpoch, epoch);
        assert.deepEqual(ack.msg.body, { kind: "empty" });
        assert.match(server.output, new RegExp(`Failover auth granted to ${b.id}`));

        mark = b.inbox.length;
        await b.send(b.message(MsgType.MFSTART, { kind: "empty" }));
        const paused = await b.waitFor(
          (r) => r.via === "out" && r.msg.type === MsgType.PING && (r.msg.mflags & 1) === 1,
          mark,
        );
        assert.equal(paused.msg.mflags & MsgFlag0.PAUSED, MsgFlag0.PAUSED);
        assert.match(server.output, new RegExp(`Manual failover requested by replica ${b.id}`));
      });

      await t.step("a FAIL from the fake node marks a node failed", async () => {
        a.muted = true;
        await b.send(b.message(MsgType.FAIL, { kind: "fail", nodename: a.id }));
        await until("A flagged fail", async () => {
          const f = (await clusterNodes(c)).get(a.id);
          return f?.[2].split(",").includes("fail") ?? false;
        });
        assert.match(server.output, new RegExp(`FAIL message received from ${b.id} about ${a.id}`));
      });

      assert.deepEqual(a.errors, []);
      assert.deepEqual(b.errors, []);
    } finally {
      c.close();
      sub.close();
      await a.close();
      await b.close();
      await server.stop();
    }
  },
});
