// Encoder and decoder for Redis 7.0.15 cluster bus packets. Pure functions over bytes: all
// integers are big-endian (network order) except MODULE's module_id, which Redis copies raw.
// decodeMessage applies the same acceptance rules as clusterReadHandler + clusterProcessPacket.
import { Buffer } from "node:buffer";
import {
  bodyKindForType,
  BUS_PROTO_VER,
  type BusBody,
  type BusMessage,
  type DecodeResult,
  FAIL_BODY_SIZE,
  GOSSIP_ENTRY_SIZE,
  type GossipEntry,
  GossipOffset,
  HEADER_SIZE,
  HeaderOffset as H,
  IP_FIELD_LEN,
  messageTypeName,
  MODULE_BODY_FIXED,
  MsgFlag0,
  NODE_NAME_LEN,
  PING_EXT_HEADER_SIZE,
  type PingExtension,
  PingExtType,
  PUBLISH_BODY_FIXED,
  SLOT_BITMAP_BYTES,
  UPDATE_BODY_SIZE,
} from "./messages.ts";

export * from "./messages.ts";

const SIG = [0x52, 0x43, 0x6d, 0x62]; // "RCmb"

/** Rounds up to a multiple of 8, as Redis pads ping extensions (EIGHT_BYTE_ALIGN). */
export function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function extensionSize(ext: PingExtension): number {
  if (ext.kind === "hostname") return PING_EXT_HEADER_SIZE + align8(ext.hostname.length + 1);
  return PING_EXT_HEADER_SIZE + align8(ext.data.length);
}

/** The exact totlen encodeMessage will produce for msg. */
export function encodedLength(msg: BusMessage): number {
  const b = msg.body;
  switch (b.kind) {
    case "ping": {
      let n = HEADER_SIZE + GOSSIP_ENTRY_SIZE * b.gossip.length;
      for (const e of b.extensions) n += extensionSize(e);
      return n;
    }
    case "fail":
      return HEADER_SIZE + FAIL_BODY_SIZE;
    case "publish":
      return HEADER_SIZE + PUBLISH_BODY_FIXED + b.channel.length + b.message.length;
    case "update":
      return HEADER_SIZE + UPDATE_BODY_SIZE;
    case "module":
      return HEADER_SIZE + MODULE_BODY_FIXED + b.payload.length;
    case "empty":
      return HEADER_SIZE;
    case "unknown":
      return HEADER_SIZE + b.data.length;
  }
}

// ---- encoding ----

function fail(what: string): never {
  throw new RangeError(`cluster bus encode: ${what}`);
}

function checkUint(v: number, bits: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) fail(`${what} out of range: ${v}`);
  return v;
}

/** Writes a latin1 string into a zeroed fixed-width field; maxLen leaves room for a NUL. */
function putString(u8: Uint8Array, off: number, s: string, maxLen: number, what: string): void {
  if (s.length > maxLen) fail(`${what} longer than ${maxLen} bytes`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) fail(`${what} has a non-latin1 character`);
    u8[off + i] = c;
  }
}

function putName(u8: Uint8Array, off: number, name: string, what: string): void {
  if (name.length !== NODE_NAME_LEN) fail(`${what} must be ${NODE_NAME_LEN} characters`);
  putString(u8, off, name, NODE_NAME_LEN, what);
}

function putBitmap(u8: Uint8Array, off: number, bm: Uint8Array, what: string): void {
  if (bm.length !== SLOT_BITMAP_BYTES) fail(`${what} must be ${SLOT_BITMAP_BYTES} bytes`);
  u8.set(bm, off);
}

function putGossip(u8: Uint8Array, dv: DataView, off: number, g: GossipEntry): void {
  putName(u8, off + GossipOffset.nodename, g.nodename, "gossip nodename");
  // Like C's htonl(ms/1000) into a uint32: silently keep the low 32 bits.
  dv.setUint32(off + GossipOffset.pingSent, g.pingSent >>> 0);
  dv.setUint32(off + GossipOffset.pongReceived, g.pongReceived >>> 0);
  putString(u8, off + GossipOffset.ip, g.ip, IP_FIELD_LEN - 1, "gossip ip");
  dv.setUint16(off + GossipOffset.port, checkUint(g.port, 16, "gossip port"));
  dv.setUint16(off + GossipOffset.cport, checkUint(g.cport, 16, "gossip cport"));
  dv.setUint16(off + GossipOffset.flags, checkUint(g.flags, 16, "gossip flags"));
  dv.setUint16(off + GossipOffset.pport, checkUint(g.pport, 16, "gossip pport"));
}

function putExtension(u8: Uint8Array, dv: DataView, off: number, ext: PingExtension): number {
  const size = extensionSize(ext);
  dv.setUint32(off, size);
  if (ext.kind === "hostname") {
    if (ext.hostname.includes("\0")) fail("hostname contains NUL");
    dv.setUint16(off + 4, PingExtType.HOSTNAME);
    putString(u8, off + PING_EXT_HEADER_SIZE, ext.hostname, ext.hostname.length, "hostname");
  } else {
    dv.setUint16(off + 4, checkUint(ext.type, 16, "extension type"));
    u8.set(ext.data, off + PING_EXT_HEADER_SIZE);
  }
  return size;
}

/** Encodes a message into one packet. Throws RangeError on fields that cannot be represented. */
export function encodeMessage(msg: BusMessage): Uint8Array {
  const body = msg.body;
  const expected = bodyKindForType(checkUint(msg.type, 16, "type"));
  if (expected !== body.kind) {
    fail(`type ${messageTypeName(msg.type)} needs a ${expected} body, got ${body.kind}`);
  }
  const totlen = encodedLength(msg);
  if (totlen > 0xffffffff) fail("message longer than 4 GiB");
  const u8 = new Uint8Array(totlen);
  const dv = new DataView(u8.buffer);

  u8.set(SIG, H.sig);
  dv.setUint32(H.totlen, totlen);
  dv.setUint16(H.ver, BUS_PROTO_VER);
  dv.setUint16(H.port, checkUint(msg.port, 16, "port"));
  dv.setUint16(H.type, msg.type);
  dv.setBigUint64(H.currentEpoch, BigInt.asUintN(64, msg.currentEpoch));
  dv.setBigUint64(H.configEpoch, BigInt.asUintN(64, msg.configEpoch));
  dv.setBigUint64(H.offset, BigInt.asUintN(64, msg.offset));
  putName(u8, H.sender, msg.sender, "sender");
  putBitmap(u8, H.myslots, msg.myslots, "myslots");
  // "No master" is forty zero bytes (CLUSTER_NODE_NULL_NAME); the buffer is already zeroed.
  if (msg.slaveof !== null) putName(u8, H.slaveof, msg.slaveof, "slaveof");
  putString(u8, H.myip, msg.myip, IP_FIELD_LEN - 1, "myip");
  dv.setUint16(H.pport, checkUint(msg.pport, 16, "pport"));
  dv.setUint16(H.cport, checkUint(msg.cport, 16, "cport"));
  dv.setUint16(H.flags, checkUint(msg.flags, 16, "flags"));
  u8[H.state] = checkUint(msg.state, 8, "state");
  let mflags = checkUint(msg.mflags, 24, "mflags");

  const at = HEADER_SIZE;
  switch (body.kind) {
    case "ping": {
      dv.setUint16(H.count, checkUint(body.gossip.length, 16, "gossip count"));
      let off = at;
      for (const g of body.gossip) {
        putGossip(u8, dv, off, g);
        off += GOSSIP_ENTRY_SIZE;
      }
      dv.setUint16(H.extensions, checkUint(body.extensions.length, 16, "extension count"));
      // Receivers only look at extensions when EXT_DATA is set, so it must accompany them.
      if (body.extensions.length > 0) mflags |= MsgFlag0.EXT_DATA;
      for (const e of body.extensions) off += putExtension(u8, dv, off, e);
      break;
    }
    case "fail":
      putName(u8, at, body.nodename, "fail nodename");
      break;
    case "publish": {
      dv.setUint32(at, body.channel.length);
      dv.setUint32(at + 4, body.message.length);
      const buf = Buffer.from(u8.buffer, u8.byteOffset, u8.length);
      buf.write(body.channel, at + PUBLISH_BODY_FIXED, "latin1");
      buf.write(body.message, at + PUBLISH_BODY_FIXED + body.channel.length, "latin1");
      break;
    }
    case "update":
      dv.setBigUint64(at, BigInt.asUintN(64, body.configEpoch));
      putName(u8, at + 8, body.nodename, "update nodename");
      putBitmap(u8, at + 8 + NODE_NAME_LEN, body.slots, "update slots");
      break;
    case "module":
      dv.setBigUint64(at, BigInt.asUintN(64, body.moduleId), true);
      dv.setUint32(at + 8, body.payload.length);
      u8[at + 12] = checkUint(body.moduleType, 8, "module type");
      u8.set(body.payload, at + MODULE_BODY_FIXED);
      break;
    case "empty":
      break;
    case "unknown":
      u8.set(body.data, at);
      break;
  }
  u8[H.mflags] = mflags & 0xff;
  u8[H.mflags + 1] = (mflags >> 8) & 0xff;
  u8[H.mflags + 2] = (mflags >> 16) & 0xff;
  return u8;
}

// ---- decoding ----

function latin1(u8: Uint8Array, start: number, end: number): string {
  if (end - start < 64) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(u8[i]);
    return s;
  }
  return Buffer.from(u8.buffer, u8.byteOffset + start, end - start).toString("latin1");
}

/** A NUL-terminated string inside a fixed-width field (the whole field if no NUL). */
function cString(u8: Uint8Array, off: number, width: number): string {
  let end = off;
  while (end < off + width && u8[end] !== 0) end++;
  return latin1(u8, off, end);
}

function isAllZero(u8: Uint8Array, off: number, len: number): boolean {
  for (let i = off; i < off + len; i++) if (u8[i] !== 0) return false;
  return true;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

function parsePingBody(
  u8: Uint8Array,
  dv: DataView,
  totlen: number,
  tname: string,
): Parsed<BusBody> {
  const count = dv.getUint16(H.count);
  let explen = HEADER_SIZE + GOSSIP_ENTRY_SIZE * count;
  if (explen > totlen) {
    return {
      ok: false,
      reason: `${tname} packet of length ${totlen} too short for ${count} gossip entries`,
    };
  }
  const gossip: GossipEntry[] = [];
  for (let i = 0; i < count; i++) {
    const o = HEADER_SIZE + i * GOSSIP_ENTRY_SIZE;
    gossip.push({
      nodename: latin1(u8, o + GossipOffset.nodename, o + GossipOffset.nodename + NODE_NAME_LEN),
      pingSent: dv.getUint32(o + GossipOffset.pingSent),
      pongReceived: dv.getUint32(o + GossipOffset.pongReceived),
      ip: cString(u8, o + GossipOffset.ip, IP_FIELD_LEN),
      port: dv.getUint16(o + GossipOffset.port),
      cport: dv.getUint16(o + GossipOffset.cport),
      flags: dv.getUint16(o + GossipOffset.flags),
      pport: dv.getUint16(o + GossipOffset.pport),
    });
  }
  const extensions: PingExtension[] = [];
  // Like Redis, the extensions count is only honoured when EXT_DATA says they are present.
  if (u8[H.mflags] & MsgFlag0.EXT_DATA) {
    let n = dv.getUint16(H.extensions);
    while (n--) {
      if (totlen - explen < PING_EXT_HEADER_SIZE) {
        return {
          ok: false,
          reason: `${tname} packet with extension data that exceeds total packet length`,
        };
      }
      const extlen = dv.getUint32(explen);
      const type = dv.getUint16(explen + 4);
      if (extlen % 8 !== 0) {
        return { ok: false, reason: `${tname} packet without proper padding (${extlen} bytes)` };
      }
      // Redis would accept a zero length and then misread; a header-less extension is malformed.
      if (extlen < PING_EXT_HEADER_SIZE) {
        return { ok: false, reason: `${tname} packet with a ${extlen} byte extension` };
      }
      if (totlen - explen < extlen) {
        return {
          ok: false,
          reason: `${tname} packet with extension data that exceeds total packet length`,
        };
      }
      const dataStart = explen + PING_EXT_HEADER_SIZE;
      if (type === PingExtType.HOSTNAME) {
        extensions.push({
          kind: "hostname",
          hostname: cString(u8, dataStart, extlen - PING_EXT_HEADER_SIZE),
        });
      } else {
        extensions.push({ kind: "unknown", type, data: u8.slice(dataStart, explen + extlen) });
      }
      explen += extlen;
    }
  }
  if (explen !== totlen) return lengthMismatch(tname, totlen, explen);
  return { ok: true, value: { kind: "ping", gossip, extensions } };
}

function lengthMismatch(tname: string, totlen: number, explen: number): Parsed<never> {
  return {
    ok: false,
    reason: `${tname} packet of length ${totlen} but expected length ${explen}`,
  };
}

function parseBody(u8: Uint8Array, dv: DataView, type: number, totlen: number): Parsed<BusBody> {
  const tname = messageTypeName(type);
  const at = HEADER_SIZE;
  switch (bodyKindForType(type)) {
    case "ping":
      return parsePingBody(u8, dv, totlen, tname);
    case "fail": {
      const explen = HEADER_SIZE + FAIL_BODY_SIZE;
      if (totlen !== explen) return lengthMismatch(tname, totlen, explen);
      return { ok: true, value: { kind: "fail", nodename: latin1(u8, at, at + NODE_NAME_LEN) } };
    }
    case "publish": {
      if (totlen < at + PUBLISH_BODY_FIXED) {
        return lengthMismatch(tname, totlen, at + PUBLISH_BODY_FIXED);
      }
      const clen = dv.getUint32(at);
      const mlen = dv.getUint32(at + 4);
      const explen = at + PUBLISH_BODY_FIXED + clen + mlen;
      if (totlen !== explen) return lengthMismatch(tname, totlen, explen);
      const c0 = at + PUBLISH_BODY_FIXED;
      return {
        ok: true,
        value: {
          kind: "publish",
          channel: latin1(u8, c0, c0 + clen),
          message: latin1(u8, c0 + clen, c0 + clen + mlen),
        },
      };
    }
    case "update": {
      const explen = HEADER_SIZE + UPDATE_BODY_SIZE;
      if (totlen !== explen) return lengthMismatch(tname, totlen, explen);
      const s0 = at + 8 + NODE_NAME_LEN;
      return {
        ok: true,
        value: {
          kind: "update",
          configEpoch: dv.getBigUint64(at),
          nodename: latin1(u8, at + 8, at + 8 + NODE_NAME_LEN),
          slots: u8.slice(s0, s0 + SLOT_BITMAP_BYTES),
        },
      };
    }
    case "module": {
      if (totlen < at + MODULE_BODY_FIXED) {
        return lengthMismatch(tname, totlen, at + MODULE_BODY_FIXED);
      }
      const len = dv.getUint32(at + 8);
      const explen = at + MODULE_BODY_FIXED + len;
      if (totlen !== explen) return lengthMismatch(tname, totlen, explen);
      return {
        ok: true,
        value: {
          kind: "module",
          moduleId: dv.getBigUint64(at, true),
          moduleType: u8[at + 12],
          payload: u8.slice(at + MODULE_BODY_FIXED, explen),
        },
      };
    }
    case "empty":
      if (totlen !== HEADER_SIZE) return lengthMismatch(tname, totlen, HEADER_SIZE);
      return { ok: true, value: { kind: "empty" } };
    case "unknown":
      // Redis assumes packets of unknown types are well formed (explen = totlen).
      return { ok: true, value: { kind: "unknown", data: u8.slice(at, totlen) } };
  }
}

/** Decodes one whole packet (exactly totlen bytes). Never throws; bad input yields a reason. */
export function decodeMessage(bytes: Uint8Array): DecodeResult {
  try {
    return decodeUnchecked(bytes);
  } catch (e) {
    // Defensive only: every read above is bounds-checked first.
    return { ok: false, reason: `undecodable packet: ${e instanceof Error ? e.message : e}` };
  }
}

function decodeUnchecked(u8: Uint8Array): DecodeResult {
  if (u8.length < 8) return { ok: false, reason: `truncated packet: ${u8.length} bytes` };
  if (u8[0] !== SIG[0] || u8[1] !== SIG[1] || u8[2] !== SIG[2] || u8[3] !== SIG[3]) {
    return { ok: false, reason: "bad signature (expected RCmb)" };
  }
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const totlen = dv.getUint32(H.totlen);
  if (totlen < HEADER_SIZE) {
    return { ok: false, reason: `bad message length ${totlen} (minimum ${HEADER_SIZE})` };
  }
  if (totlen !== u8.length) {
    return { ok: false, reason: `totlen ${totlen} does not match the ${u8.length} bytes given` };
  }
  const ver = dv.getUint16(H.ver);
  if (ver !== BUS_PROTO_VER) return { ok: false, reason: `unsupported protocol version ${ver}` };
  const type = dv.getUint16(H.type);
  const body = parseBody(u8, dv, type, totlen);
  if (!body.ok) return body;
  const slaveofRaw = isAllZero(u8, H.slaveof, NODE_NAME_LEN);
  return {
    ok: true,
    msg: {
      type,
      sender: latin1(u8, H.sender, H.sender + NODE_NAME_LEN),
      currentEpoch: dv.getBigUint64(H.currentEpoch),
      configEpoch: dv.getBigUint64(H.configEpoch),
      offset: dv.getBigUint64(H.offset),
      myslots: u8.slice(H.myslots, H.myslots + SLOT_BITMAP_BYTES),
      slaveof: slaveofRaw ? null : latin1(u8, H.slaveof, H.slaveof + NODE_NAME_LEN),
      myip: cString(u8, H.myip, IP_FIELD_LEN),
      port: dv.getUint16(H.port),
      pport: dv.getUint16(H.pport),
      cport: dv.getUint16(H.cport),
      flags: dv.getUint16(H.flags),
      state: u8[H.state],
      mflags: u8[H.mflags] | (u8[H.mflags + 1] << 8) | (u8[H.mflags + 2] << 16),
      body: body.value,
    },
  };
}

/** True for a node id Redis would look up (verifyClusterNodeId: 40 chars of [a-z0-9]). */
export function isBusNodeId(s: string): boolean {
  return /^[a-z0-9]{40}$/.test(s);
}
