// Cluster bus codec: hand-built Redis 7.0.15 packets (offsets typed in from cluster.h, not taken
// from the codec), round trips for every type, rejection of malformed input, and the framer.
import assert from "node:assert/strict";
import {
  type BusBody,
  type BusMessage,
  decodeMessage,
  encodeMessage,
  GOSSIP_ENTRY_SIZE,
  HEADER_SIZE,
  MsgFlag0,
  MsgType,
  NodeFlag,
  UPDATE_BODY_SIZE,
} from "../../lib/cluster/bus/codec.ts";
import {
  newSlotBitmap,
  slotBitmapClear,
  slotBitmapCount,
  slotBitmapFromRanges,
  slotBitmapGet,
  slotBitmapRanges,
  slotBitmapSet,
} from "../../lib/cluster/bus/bitmap.ts";
import { PacketFramer } from "../../lib/cluster/bus/framer.ts";
import { decodeBus, encodeBus } from "../../lib/cluster/bus/state_bridge.ts";

const A = "a".repeat(39) + "1";
const B = "0123456789abcdef0123456789abcdef01234567";
const C = "c".repeat(40);

function putStr(u8: Uint8Array, off: number, s: string): void {
  for (let i = 0; i < s.length; i++) u8[off + i] = s.charCodeAt(i);
}

/** A packet of totlen bytes with a header filled field by field at cluster.h's offsets. */
function handHeader(type: number, totlen: number, count = 0): { u8: Uint8Array; dv: DataView } {
  const u8 = new Uint8Array(totlen);
  const dv = new DataView(u8.buffer);
  putStr(u8, 0, "RCmb");
  dv.setUint32(4, totlen);
  dv.setUint16(8, 1); // ver
  dv.setUint16(10, 7000); // port
  dv.setUint16(12, type);
  dv.setUint16(14, count);
  dv.setBigUint64(16, 5n); // currentEpoch
  dv.setBigUint64(24, 3n); // configEpoch
  dv.setBigUint64(32, 123456789012n); // offset
  putStr(u8, 40, A); // sender
  u8[80] = 0x01; // myslots: slot 0
  u8[80 + 2047] = 0x80; // slot 16383
  putStr(u8, 2168, "10.0.0.1"); // myip
  dv.setUint16(2246, 0); // pport
  dv.setUint16(2248, 17000); // cport
  dv.setUint16(2250, NodeFlag.MASTER);
  u8[2252] = 1; // state: fail
  return { u8, dv };
}

function header(type: number, body: BusBody): BusMessage {
  return {
    type,
    sender: A,
    currentEpoch: 5n,
    configEpoch: 3n,
    offset: 123456789012n,
    myslots: slotBitmapFromRanges([[0, 0], [16383, 16383]]),
    slaveof: null,
    myip: "10.0.0.1",
    port: 7000,
    pport: 0,
    cport: 17000,
    flags: NodeFlag.MASTER,
    state: 1,
    mflags: 0,
    body,
  };
}

function decodeOk(u8: Uint8Array): BusMessage {
  const r = decodeMessage(u8);
  if (!r.ok) throw new Error(`decode failed: ${r.reason}`);
  return r.msg;
}

function reason(u8: Uint8Array): string {
  const r = decodeMessage(u8);
  assert.equal(r.ok, false, "expected rejection");
  return r.ok ? "" : r.reason;
}

Deno.test("sizes and offsets are cluster.h's", () => {
  assert.equal(HEADER_SIZE, 2256);
  assert.equal(GOSSIP_ENTRY_SIZE, 104);
  assert.equal(UPDATE_BODY_SIZE, 2096);
  const m = encodeMessage(header(MsgType.MFSTART, { kind: "empty" }));
  assert.equal(m.length, 2256);
});

/** A MEET with two gossip entries and a hostname extension, built by hand. */
function handMeet(): Uint8Array {
  const hostExt = 8 + 16; // "node-a.example" + NUL = 15 bytes, padded to 16
  const totlen = 2256 + 2 * 104 + hostExt;
  const { u8, dv } = handHeader(MsgType.MEET, totlen, 2);
  putStr(u8, 2128, B); // slaveof
  dv.setUint16(2214, 1); // extensions
  u8[2253] = MsgFlag0.EXT_DATA | MsgFlag0.PAUSED;
  u8[2254] = 0xab; // mflags[1]
  dv.setUint16(2250, NodeFlag.SLAVE | NodeFlag.MYSELF);
  for (let i = 0; i < 2; i++) {
    const g = 2256 + i * 104;
    putStr(u8, g, i ? C : B);
    dv.setUint32(g + 40, 1700000000 + i);
    dv.setUint32(g + 44, 1700000100 + i);
    putStr(u8, g + 48, i ? "::1" : "192.168.1.20");
    dv.setUint16(g + 94, 6379 + i);
    dv.setUint16(g + 96, 16379 + i);
    dv.setUint16(g + 98, i ? NodeFlag.SLAVE | NodeFlag.PFAIL : NodeFlag.MASTER);
    dv.setUint16(g + 100, i ? 6400 : 0);
  }
  const e = 2256 + 208;
  dv.setUint32(e, hostExt); // length incl. the 8-byte header
  dv.setUint16(e + 4, 0); // HOSTNAME
  putStr(u8, e + 8, "node-a.example");
  return u8;
}

Deno.test("decodes a hand-built MEET with gossip and a hostname extension", () => {
  const m = decodeOk(handMeet());
  assert.equal(m.type, MsgType.MEET);
  assert.equal(m.sender, A);
  assert.equal(m.currentEpoch, 5n);
  assert.equal(m.configEpoch, 3n);
  assert.equal(m.offset, 123456789012n);
  assert.deepEqual(slotBitmapRanges(m.myslots), [[0, 0], [16383, 16383]]);
  assert.equal(m.slaveof, B);
  assert.equal(m.myip, "10.0.0.1");
  assert.equal(m.port, 7000);
  assert.equal(m.pport, 0);
  assert.equal(m.cport, 17000);
  assert.equal(m.flags, NodeFlag.SLAVE | NodeFlag.MYSELF);
  assert.equal(m.state, 1);
  assert.equal(m.mflags, MsgFlag0.EXT_DATA | MsgFlag0.PAUSED | (0xab << 8));
  assert.deepEqual(m.body, {
    kind: "ping",
    gossip: [
      {
        nodename: B,
        pingSent: 1700000000,
        pongReceived: 1700000100,
        ip: "192.168.1.20",
        port: 6379,
        cport: 16379,
        flags: NodeFlag.MASTER,
        pport: 0,
      },
      {
        nodename: C,
        pingSent: 1700000001,
        pongReceived: 1700000101,
        ip: "::1",
        port: 6380,
        cport: 16380,
        flags: NodeFlag.SLAVE | NodeFlag.PFAIL,
        pport: 6400,
      },
    ],
    extensions: [{ kind: "hostname", hostname: "node-a.example" }],
  });
});

Deno.test("encoder reproduces the hand-built MEET byte for byte", () => {
  const m = decodeOk(handMeet());
  assert.deepEqual(encodeMessage(m), handMeet());
});

Deno.test("decodes hand-built FAIL, PUBLISH, UPDATE, MODULE, header-only and unknown types", () => {
  {
    const { u8 } = handHeader(MsgType.FAIL, 2296);
    putStr(u8, 2256, C);
    assert.deepEqual(decodeOk(u8).body, { kind: "fail", nodename: C });
  }
  for (const type of [MsgType.PUBLISH, MsgType.PUBLISHSHARD]) {
    const { u8, dv } = handHeader(type, 2256 + 8 + 3 + 6);
    dv.setUint32(2256, 3);
    dv.setUint32(2260, 6);
    putStr(u8, 2264, "chnhello\xff");
    assert.deepEqual(decodeOk(u8).body, { kind: "publish", channel: "chn", message: "hello\xff" });
  }
  {
    const { u8, dv } = handHeader(MsgType.UPDATE, 2256 + 2096);
    dv.setBigUint64(2256, 0x0102030405060708n);
    putStr(u8, 2264, B);
    u8[2304 + 12] = 0x0f; // slots 96..99
    const body = decodeOk(u8).body;
    assert.equal(body.kind, "update");
    if (body.kind !== "update") return;
    assert.equal(body.configEpoch, 0x0102030405060708n);
    assert.equal(body.nodename, B);
    assert.deepEqual(slotBitmapRanges(body.slots), [[96, 99]]);
  }
  {
    const { u8, dv } = handHeader(MsgType.MODULE, 2256 + 13 + 5);
    dv.setBigUint64(2256, 0x1122334455667788n, true); // raw host (little-endian) order
    dv.setUint32(2264, 5);
    u8[2268] = 200;
    putStr(u8, 2269, "hello");
    assert.deepEqual(decodeOk(u8).body, {
      kind: "module",
      moduleId: 0x1122334455667788n,
      moduleType: 200,
      payload: new TextEncoder().encode("hello"),
    });
  }
  for (const t of [MsgType.FAILOVER_AUTH_REQUEST, MsgType.FAILOVER_AUTH_ACK, MsgType.MFSTART]) {
    const { u8 } = handHeader(t, 2256);
    u8[2253] = MsgFlag0.FORCEACK;
    const m = decodeOk(u8);
    assert.deepEqual(m.body, { kind: "empty" });
    assert.equal(m.mflags, MsgFlag0.FORCEACK);
  }
  {
    const { u8 } = handHeader(42, 2256 + 3);
    u8.set([1, 2, 3], 2256);
    assert.deepEqual(decodeOk(u8).body, { kind: "unknown", data: new Uint8Array([1, 2, 3]) });
  }
});

Deno.test("slaveof of forty zero bytes decodes as null and encodes back to zeros", () => {
  const { u8 } = handHeader(MsgType.PING, 2256);
  const m = decodeOk(u8);
  assert.equal(m.slaveof, null);
  const out = encodeMessage(m);
  assert.deepEqual(out.subarray(2128, 2168), new Uint8Array(40));
  assert.deepEqual(out, u8);
});

Deno.test("unknown extension types are kept raw and skipped by length", () => {
  const totlen = 2256 + 24 + 16;
  const { u8, dv } = handHeader(MsgType.PONG, totlen);
  u8[2253] = MsgFlag0.EXT_DATA;
  dv.setUint16(2214, 2);
  dv.setUint32(2256, 24);
  dv.setUint16(2260, 3); // SHARDID in later versions; unknown to 7.0
  u8.fill(7, 2264, 2280);
  dv.setUint32(2280, 16);
  dv.setUint16(2284, 0);
  putStr(u8, 2288, "h");
  const m = decodeOk(u8);
  assert.deepEqual(m.body, {
    kind: "ping",
    gossip: [],
    extensions: [
      { kind: "unknown", type: 3, data: new Uint8Array(16).fill(7) },
      { kind: "hostname", hostname: "h" },
    ],
  });
  assert.deepEqual(encodeMessage(m), u8);
});

Deno.test("extension count is ignored without EXT_DATA, as Redis does", () => {
  const { u8, dv } = handHeader(MsgType.PING, 2256);
  dv.setUint16(2214, 3);
  const m = decodeOk(u8);
  assert.deepEqual(m.body, { kind: "ping", gossip: [], extensions: [] });
});

const bodies: [number, BusBody][] = [
  [MsgType.PING, { kind: "ping", gossip: [], extensions: [] }],
  [MsgType.PONG, {
    kind: "ping",
    gossip: [{
      nodename: C,
      pingSent: 0,
      pongReceived: 4294967295,
      ip: "",
      port: 65535,
      cport: 0,
      flags: NodeFlag.NOADDR | NodeFlag.HANDSHAKE,
      pport: 1,
    }],
    extensions: [{ kind: "hostname", hostname: "x".repeat(7) }],
  }],
  [MsgType.MEET, {
    kind: "ping",
    gossip: [],
    extensions: [{ kind: "hostname", hostname: "exactly8" }, {
      kind: "unknown",
      type: 9,
      data: new Uint8Array(8).fill(1),
    }],
  }],
  [MsgType.FAIL, { kind: "fail", nodename: B }],
  [MsgType.PUBLISH, { kind: "publish", channel: "news", message: "\x00\x01\xfe\xff".repeat(50) }],
  [MsgType.PUBLISHSHARD, { kind: "publish", channel: "", message: "" }],
  [MsgType.FAILOVER_AUTH_REQUEST, { kind: "empty" }],
  [MsgType.FAILOVER_AUTH_ACK, { kind: "empty" }],
  [MsgType.UPDATE, {
    kind: "update",
    configEpoch: 18446744073709551615n,
    nodename: C,
    slots: slotBitmapFromRanges([[5, 10], [16000, 16383]]),
  }],
  [MsgType.MFSTART, { kind: "empty" }],
  [MsgType.MODULE, {
    kind: "module",
    moduleId: 42n,
    moduleType: 255,
    payload: new Uint8Array([0, 1, 2]),
  }],
  [1000, { kind: "unknown", data: new Uint8Array([9, 9]) }],
];

Deno.test("encode then decode round-trips every message type", () => {
  for (const [type, body] of bodies) {
    const msg = header(type, body);
    msg.slaveof = B;
    if (body.kind === "ping" && body.extensions.length) msg.mflags = MsgFlag0.EXT_DATA;
    const bytes = encodeMessage(msg);
    const view = new DataView(bytes.buffer);
    assert.equal(view.getUint32(4), bytes.length, `totlen of type ${type}`);
    assert.deepEqual(decodeOk(bytes), msg, `type ${type}`);
    // Decoding must not depend on the packet starting at offset 0 of its buffer.
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    assert.deepEqual(decodeOk(shifted.subarray(3)), msg, `type ${type} at an offset`);
  }
});

Deno.test("encoder sets EXT_DATA when extensions are present", () => {
  const bytes = encodeMessage(header(MsgType.PING, {
    kind: "ping",
    gossip: [],
    extensions: [{ kind: "hostname", hostname: "h" }],
  }));
  assert.equal(bytes[2253] & MsgFlag0.EXT_DATA, MsgFlag0.EXT_DATA);
  assert.equal(new DataView(bytes.buffer).getUint16(2214), 1);
});

Deno.test("encoder refuses fields it cannot represent", () => {
  const ok = header(MsgType.PING, { kind: "ping", gossip: [], extensions: [] });
  assert.throws(() => encodeMessage({ ...ok, sender: "abc" }), RangeError);
  assert.throws(() => encodeMessage({ ...ok, slaveof: "x".repeat(41) }), RangeError);
  assert.throws(() => encodeMessage({ ...ok, myip: "1".repeat(46) }), RangeError);
  assert.throws(() => encodeMessage({ ...ok, port: 65536 }), RangeError);
  assert.throws(() => encodeMessage({ ...ok, state: 256 }), RangeError);
  assert.throws(() => encodeMessage({ ...ok, myslots: new Uint8Array(10) }), RangeError);
  assert.throws(() => encodeMessage({ ...ok, type: MsgType.FAIL }), RangeError);
  assert.throws(() => encodeMessage({ ...ok, sender: "\u0100".repeat(40) }), RangeError);
});

Deno.test("malformed packets are rejected with a reason", () => {
  const good = encodeMessage(header(MsgType.PING, bodies[1][1]));
  assert.match(reason(new Uint8Array(0)), /truncated/);
  assert.match(reason(good.subarray(0, 7)), /truncated/);
  const sig = good.slice();
  sig[3] = 0x42;
  assert.match(reason(sig), /signature/);
  assert.match(reason(good.subarray(0, good.length - 1)), /does not match/);
  assert.match(reason(good.subarray(0, 100)), /does not match/);
  const longer = new Uint8Array(good.length + 1);
  longer.set(good);
  assert.match(reason(longer), /does not match/);

  const small = handHeader(MsgType.PING, 2256);
  small.dv.setUint32(4, 100);
  assert.match(reason(small.u8.subarray(0, 100)), /minimum 2256/);

  const ver = handHeader(MsgType.PING, 2256);
  ver.dv.setUint16(8, 2);
  assert.match(reason(ver.u8), /version 2/);

  const count = handHeader(MsgType.PING, 2256 + 104, 2);
  assert.match(reason(count.u8), /too short for 2 gossip/);

  const trailing = handHeader(MsgType.PONG, 2256 + 8);
  assert.match(reason(trailing.u8), /pong packet of length 2264 but expected length 2256/);

  const pad = handHeader(MsgType.PING, 2256 + 16);
  pad.u8[2253] = MsgFlag0.EXT_DATA;
  pad.dv.setUint16(2214, 1);
  pad.dv.setUint32(2256, 12);
  assert.match(reason(pad.u8), /padding/);

  const over = handHeader(MsgType.PING, 2256 + 16);
  over.u8[2253] = MsgFlag0.EXT_DATA;
  over.dv.setUint16(2214, 1);
  over.dv.setUint32(2256, 24);
  assert.match(reason(over.u8), /exceeds total packet length/);

  const zero = handHeader(MsgType.PING, 2256 + 16);
  zero.u8[2253] = MsgFlag0.EXT_DATA;
  zero.dv.setUint16(2214, 1);
  assert.match(reason(zero.u8), /0 byte extension/);

  const tooMany = handHeader(MsgType.PING, 2256 + 16);
  tooMany.u8[2253] = MsgFlag0.EXT_DATA;
  tooMany.dv.setUint16(2214, 2);
  tooMany.dv.setUint32(2256, 16);
  assert.match(reason(tooMany.u8), /exceeds total packet length/);

  assert.match(reason(handHeader(MsgType.FAIL, 2256 + 39).u8), /expected length 2296/);
  assert.match(reason(handHeader(MsgType.UPDATE, 2256).u8), /expected length 4352/);
  assert.match(reason(handHeader(MsgType.MFSTART, 2257).u8), /expected length 2256/);
  assert.match(reason(handHeader(MsgType.PUBLISH, 2260).u8), /publish packet/);
  const pub = handHeader(MsgType.PUBLISH, 2256 + 8 + 4);
  pub.dv.setUint32(2256, 2);
  pub.dv.setUint32(2260, 3);
  assert.match(reason(pub.u8), /length 2268 but expected length 2269/);
  const hugePub = handHeader(MsgType.PUBLISHSHARD, 2256 + 8);
  hugePub.dv.setUint32(2256, 0xffffffff);
  hugePub.dv.setUint32(2260, 0xffffffff);
  assert.match(reason(hugePub.u8), /publishshard packet/);
  assert.match(reason(handHeader(MsgType.MODULE, 2256 + 12).u8), /module packet/);
  const mod = handHeader(MsgType.MODULE, 2256 + 13);
  mod.dv.setUint32(2264, 1);
  assert.match(reason(mod.u8), /expected length 2270/);
});

Deno.test("random corruption never throws", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const samples = bodies.map(([t, b]) => encodeMessage(header(t, b)));
  for (let i = 0; i < 3000; i++) {
    const base = samples[i % samples.length];
    let u8 = base.slice();
    const flips = 1 + Math.floor(rnd() * 6);
    for (let f = 0; f < flips; f++) {
      // Bias towards the header and the first body bytes where the lengths live.
      const pos = rnd() < 0.7
        ? Math.floor(rnd() * 2300) % u8.length
        : Math.floor(rnd() * u8.length);
      u8[pos] = Math.floor(rnd() * 256);
    }
    if (rnd() < 0.2) u8 = u8.subarray(0, Math.floor(rnd() * u8.length));
    const r = decodeMessage(u8);
    if (r.ok) assert.doesNotThrow(() => encodeMessage(r.msg));
    else assert.equal(typeof r.reason, "string");
  }
  for (let i = 0; i < 300; i++) {
    const u8 = new Uint8Array(Math.floor(rnd() * 3000));
    for (let j = 0; j < u8.length; j++) u8[j] = Math.floor(rnd() * 256);
    if (rnd() < 0.5) u8.set([0x52, 0x43, 0x6d, 0x62]);
    assert.equal(decodeMessage(u8).ok, false);
  }
});

Deno.test("slot bitmap bit order is Redis's (LSB first within each byte)", () => {
  const bm = newSlotBitmap();
  slotBitmapSet(bm, 0);
  slotBitmapSet(bm, 7);
  slotBitmapSet(bm, 8);
  slotBitmapSet(bm, 16383);
  assert.equal(bm[0], 0x81);
  assert.equal(bm[1], 0x01);
  assert.equal(bm[2047], 0x80);
  assert.equal(slotBitmapCount(bm), 4);
  assert.ok(slotBitmapGet(bm, 7) && !slotBitmapGet(bm, 6));
  slotBitmapClear(bm, 7);
  assert.equal(bm[0], 0x01);
  assert.deepEqual(slotBitmapRanges(bm), [[0, 0], [8, 8], [16383, 16383]]);
  const r = slotBitmapFromRanges([[0, 100], [200, 200], [8000, 16383]]);
  assert.deepEqual(slotBitmapRanges(r), [[0, 100], [200, 200], [8000, 16383]]);
  assert.equal(slotBitmapCount(r), 101 + 1 + 8384);
  assert.deepEqual(slotBitmapRanges(newSlotBitmap()), []);
});

Deno.test("framer reassembles packets fed byte by byte", () => {
  const pkts = bodies.map(([t, b]) => encodeMessage(header(t, b)));
  const all = new Uint8Array(pkts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of pkts) all.set(p, (o += p.length) - p.length);
  const f = new PacketFramer();
  const got: Uint8Array[] = [];
  const one = new Uint8Array(1);
  for (const b of all) {
    one[0] = b;
    f.push(one); // the same buffer every time: the framer must copy
    for (let p = f.next(); p !== null; p = f.next()) {
      assert.ok(p instanceof Uint8Array, String(p));
      got.push(p);
    }
  }
  assert.deepEqual(got, pkts);
  assert.equal(f.buffered, 0);
});

Deno.test("framer handles several packets per chunk and packets split across chunks", () => {
  const pkts = bodies.map(([t, b]) => encodeMessage(header(t, b)));
  const all = new Uint8Array(pkts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of pkts) all.set(p, (o += p.length) - p.length);
  for (const size of [5, 1000, 2256, 2257, 7000, all.length]) {
    const f = new PacketFramer();
    const got: Uint8Array[] = [];
    for (let i = 0; i < all.length; i += size) {
      const r = f.feed(all.subarray(i, i + size));
      assert.equal(r.error, null);
      got.push(...r.packets);
    }
    assert.deepEqual(got, pkts, `chunk size ${size}`);
    for (const p of got) assert.ok(decodeMessage(p).ok);
  }
});

Deno.test("framer rejects a bad signature or length, permanently", () => {
  const f = new PacketFramer();
  f.push(new TextEncoder().encode("PING\r\n\r\n"));
  assert.match(String(f.next()), /signature/);
  f.push(encodeMessage(header(MsgType.MFSTART, { kind: "empty" })));
  assert.match(String(f.next()), /signature/);
  assert.match(f.error ?? "", /signature/);

  const short = new Uint8Array([0x52, 0x43, 0x6d, 0x62, 0, 0, 0, 16]);
  assert.match(String(new PacketFramer().feed(short).error), /bad message length 16/);

  const huge = new Uint8Array([0x52, 0x43, 0x6d, 0x62, 0x7f, 0xff, 0xff, 0xff]);
  assert.match(String(new PacketFramer().feed(huge).error), /limit/);
  const capped = new PacketFramer({ maxPacketLength: 4096 });
  const big = encodeMessage(header(MsgType.UPDATE, bodies[8][1]));
  assert.match(String(capped.feed(big).error), /4352 over the 4096/);

  const partial = new PacketFramer();
  assert.equal(partial.feed(short.subarray(0, 7)).error, null);
});

Deno.test("state bridge converts to and from the state machine's message shape", () => {
  const bytes = encodeMessage(header(MsgType.PONG, bodies[1][1]));
  const s = decodeBus(bytes);
  assert.ok(typeof s !== "string");
  assert.equal(s.hostname, "xxxxxxx");
  assert.equal(s.gossip.length, 1);
  assert.deepEqual(encodeBus(s), bytes);
  const upd = decodeBus(encodeMessage(header(MsgType.UPDATE, bodies[8][1])));
  assert.ok(typeof upd !== "string" && upd.update?.nodename === C);
  const pub = decodeBus(encodeMessage(header(MsgType.PUBLISH, bodies[4][1])));
  assert.ok(typeof pub !== "string" && pub.publish?.channel === "news");
  assert.match(String(decodeBus(new Uint8Array(3))), /truncated/);
});
