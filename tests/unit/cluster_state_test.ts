// Cluster state transitions with virtual time and no sockets: nodes.conf round trips, the
// CLUSTER NODES line format, slot ownership by configEpoch, collisions and failure reports.
import assert from "node:assert/strict";
import {
  type BusMessage,
  type ClusterIO,
  ClusterState,
  MSG_PONG,
  MSG_UPDATE,
} from "../../lib/cluster/state.ts";
import {
  ClusterNode,
  NODE_MASTER,
  NODE_PFAIL,
  NODE_SLAVE,
  type NodeLink,
} from "../../lib/cluster/node.ts";
import { formatNodesConf, parseNodesConf } from "../../lib/cluster/nodes_conf.ts";

function fakeIO(
  clock: { t: number },
  logs: string[] = [],
): ClusterIO & { pings: number[]; fails: string[] } {
  const io = {
    pings: [] as number[],
    fails: [] as string[],
    now: () => clock.t,
    log: (_l: string, m: string) => void logs.push(m),
    sendPing: (_l: NodeLink, t: number) => void io.pings.push(t),
    broadcastFail: (n: string) => void io.fails.push(n),
    sendUpdate: () => {},
    delKeysInSlot: () => {},
    countKeysInSlot: () => 0,
    setReplicationMaster: () => {},
    publish: () => {},
    freeLink: () => {},
  };
  return io;
}

function fakeLink(node: ClusterNode | null, inbound: boolean): NodeLink {
  return { ctime: 0, inbound, node, send() {}, close() {}, sendBufferBytes: () => 0 };
}

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);

function slotsBitmap(from: number, to: number): Uint8Array {
  const b = new Uint8Array(2048);
  for (let s = from; s <= to; s++) b[s >> 3] |= 1 << (s & 7);
  return b;
}

function msgFrom(name: string, fields: Partial<BusMessage>): BusMessage {
  return {
    type: MSG_PONG,
    sender: name,
    currentEpoch: 0n,
    configEpoch: 0n,
    offset: 0n,
    myslots: new Uint8Array(2048),
    slaveof: null,
    myip: "127.0.0.1",
    port: 7001,
    pport: 0,
    cport: 17001,
    flags: NODE_MASTER,
    state: 0,
    mflags: 0,
    gossip: [],
    hostname: null,
    ...fields,
  };
}

Deno.test("nodes.conf round trip keeps ids, roles, epochs, slots and migration markers", () => {
  const clock = { t: 1000 };
  const text = [
    `${A} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 [5461->-${B}]`,
    `${B} 127.0.0.1:7001@17001,host-b master - 0 1700000000000 2 connected 5461-10922`,
    `${C} 127.0.0.1:7002@17002 slave ${B} 0 1700000000000 2 connected`,
    "vars currentEpoch 5 lastVoteEpoch 3",
    "",
  ].join("\n");
  const st = new ClusterState(fakeIO(clock));
  parseNodesConf(st, text);
  assert.equal(st.myself.name, A);
  assert.equal(st.currentEpoch, 5n);
  assert.equal(st.lastVoteEpoch, 3n);
  assert.equal(st.slots[0], st.myself);
  assert.equal(st.slots[5460], st.myself);
  assert.equal(st.slots[5461]!.name, B);
  assert.equal(st.migratingTo[5461]!.name, B);
  assert.equal(st.lookup(C)!.slaveof!.name, B);
  assert.equal(st.lookup(B)!.hostname, "host-b");
  const out = formatNodesConf(st);
  // pong times are reset to "now" on load, so compare fields other than ping/pong.
  const norm = (s: string) =>
    s.split("\n").map((l) => l.split(" ").filter((_, i) => i !== 4 && i !== 5).join(" "));
  assert.deepEqual(
    norm(out).sort(),
    // Links are not restored from disk: peers read back as disconnected until the bus reconnects.
    norm(text.replaceAll(" 2 connected", " 2 disconnected")).sort(),
  );
});

Deno.test("corrupt nodes.conf is rejected", () => {
  const st = new ClusterState(fakeIO({ t: 0 }));
  assert.throws(() => parseNodesConf(st, "garbage line\n"), /fewer than 8 fields/);
  assert.throws(
    () => parseNodesConf(st, `${A} 127.0.0.1:7000@17000 master - 0 0 1 connected\n`),
    /myself/,
  );
  assert.throws(
    () => parseNodesConf(st, `${A} 127.0.0.1:7000@17000 myself,bogus - 0 0 1 connected\n`),
    /unknown flag/,
  );
  assert.throws(
    () => parseNodesConf(st, `${A} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 9-99999\n`),
    /slot/,
  );
});

Deno.test("CLUSTER NODES line format matches Redis", () => {
  const st = new ClusterState(fakeIO({ t: 0 }), A);
  st.myself.ip = "127.0.0.1";
  st.myself.port = 7000;
  st.myself.cport = 17000;
  st.myself.configEpoch = 3;
  for (const s of [0, 1, 2, 3, 10, 16383]) st.addSlot(st.myself, s);
  assert.equal(
    st.describeNode(st.myself),
    `${A} 127.0.0.1:7000@17000 myself,master - 0 0 3 connected 0-3 10 16383`,
  );
  const b = new ClusterNode(B, NODE_SLAVE, 0);
  b.ip = "::1";
  b.port = 7001;
  b.cport = 17001;
  b.slaveof = st.myself;
  b.flags |= NODE_PFAIL;
  st.addNode(b);
  assert.equal(st.describeNode(b), `${B} ::1:7001@17001 slave,fail? ${A} 0 0 3 disconnected`);
});

Deno.test("handshake: a PONG on the outbound link renames the node and learns its slots", () => {
  const clock = { t: 5000 };
  const st = new ClusterState(fakeIO(clock), A);
  assert.ok(st.startHandshake("127.0.0.1", 7001, 17001));
  assert.ok(
    !st.startHandshake("127.0.0.1", 7001, 17001),
    "second MEET while in handshake is a no-op",
  );
  const hs = [...st.nodes.values()].find((n) => n !== st.myself)!;
  assert.ok(hs.inHandshake);
  const link = fakeLink(hs, false);
  hs.link = link;
  st.processPacket(
    link,
    msgFrom(B, { configEpoch: 1n, myslots: slotsBitmap(100, 200) }),
    "127.0.0.1",
    "127.0.0.1",
  );
  const b = st.lookup(B)!;
  assert.equal(b, hs);
  assert.ok(!b.inHandshake);
  assert.ok(b.isMaster);
  assert.equal(st.slots[100], b);
  assert.equal(st.slots[200], b);
  assert.equal(st.slots[201], null);
  assert.equal(b.pongReceived, 5000);
});

Deno.test("slot ownership follows the higher configEpoch; UPDATE moves slots", () => {
  const clock = { t: 0 };
  const st = new ClusterState(fakeIO(clock), A);
  const b = new ClusterNode(B, NODE_MASTER, 0);
  const c = new ClusterNode(C, NODE_MASTER, 0);
  b.configEpoch = 1;
  c.configEpoch = 1;
  st.addNode(b);
  st.addNode(c);
  st.updateSlotsConfigWith(b, 1, slotsBitmap(0, 10));
  assert.equal(st.slots[5], b);
  st.updateSlotsConfigWith(c, 1, slotsBitmap(0, 10)); // same epoch: no takeover
  assert.equal(st.slots[5], b);
  const link = fakeLink(c, true);
  st.processPacket(
    link,
    msgFrom(C, {
      type: MSG_UPDATE,
      update: { configEpoch: 7n, nodename: C, slots: slotsBitmap(5, 6) },
    }),
    "127.0.0.1",
    "127.0.0.1",
  );
  assert.equal(st.slots[5], c);
  assert.equal(st.slots[6], c);
  assert.equal(st.slots[7], b);
  assert.equal(c.configEpoch, 7);
});

Deno.test("configEpoch collision: the node with the smaller id moves to a new epoch", () => {
  const st = new ClusterState(fakeIO({ t: 0 }), A);
  st.myself.configEpoch = 2;
  st.currentEpoch = 4n;
  const b = new ClusterNode(B, NODE_MASTER, 0);
  b.configEpoch = 2;
  st.addNode(b);
  st.handleConfigEpochCollision(b);
  assert.equal(st.myself.configEpoch, 5);
  const st2 = new ClusterState(fakeIO({ t: 0 }), C);
  st2.myself.configEpoch = 2;
  const b2 = new ClusterNode(B, NODE_MASTER, 0);
  b2.configEpoch = 2;
  st2.addNode(b2);
  st2.handleConfigEpochCollision(b2);
  assert.equal(st2.myself.configEpoch, 2, "greater id keeps its epoch");
});

Deno.test("PFAIL becomes FAIL when a majority of masters report it", () => {
  const clock = { t: 100000 };
  const io = fakeIO(clock);
  const st = new ClusterState(io, A);
  st.nodeTimeout = 1000;
  const masters = [B, C, "d".repeat(40)].map((n) => {
    const node = new ClusterNode(n, NODE_MASTER, 0);
    st.addNode(node);
    return node;
  });
  for (const [i, m] of masters.entries()) {
    st.updateSlotsConfigWith(m, 1, slotsBitmap(i * 100, i * 100 + 50));
  }
  st.updateSlotsConfigWith(st.myself, 1, new Uint8Array(2048));
  st.addSlot(st.myself, 16000);
  st.updateState(false);
  assert.equal(st.size, 4);
  const victim = masters[2];
  victim.flags |= NODE_PFAIL;
  const gossipAboutVictim = {
    nodename: victim.name,
    pingSent: 0,
    pongReceived: 0,
    ip: "127.0.0.1",
    port: 1,
    cport: 2,
    flags: NODE_PFAIL | NODE_MASTER,
    pport: 0,
  };
  st.processGossip(msgFrom(B, { gossip: [gossipAboutVictim] }), masters[0]);
  assert.ok(!victim.failed, "2 of 4 (with myself) is not a majority");
  st.processGossip(msgFrom(C, { gossip: [gossipAboutVictim] }), masters[1]);
  assert.ok(victim.failed, "3 of 4 is");
  assert.deepEqual(io.fails, [victim.name]);
  clock.t += 10000; // reports expire after 2 * node timeout
  assert.equal(st.failureReportsCount(victim), 0);
});
