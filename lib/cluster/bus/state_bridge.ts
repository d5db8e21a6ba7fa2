// Converts between the codec's messages and the flat BusMessage shape the cluster state machine
// (lib/cluster/state.ts) works with, with the signatures lib/cluster/bus/adapter.ts expects.
import type { BusMessage as StateMessage } from "../state.ts";
import {
  bodyKindForType,
  type BusBody,
  type BusMessage,
  decodeMessage,
  encodeMessage,
  type PingExtension,
} from "./codec.ts";
import { newSlotBitmap } from "./bitmap.ts";

const NULL_NAME = "\0".repeat(40);

/** Builds the codec body for a state-machine message from its optional per-type fields. */
function bodyOf(m: StateMessage): BusBody {
  switch (bodyKindForType(m.type)) {
    case "ping": {
      const extensions: PingExtension[] = [];
      if (m.hostname !== null && m.hostname !== "") {
        extensions.push({ kind: "hostname", hostname: m.hostname });
      }
      return { kind: "ping", gossip: m.gossip, extensions };
    }
    case "fail":
      return { kind: "fail", nodename: m.failNode ?? NULL_NAME };
    case "publish":
      return {
        kind: "publish",
        channel: m.publish?.channel ?? "",
        message: m.publish?.message ?? "",
      };
    case "update":
      return {
        kind: "update",
        configEpoch: m.update?.configEpoch ?? 0n,
        nodename: m.update?.nodename ?? NULL_NAME,
        slots: m.update?.slots ?? newSlotBitmap(),
      };
    case "module":
      return { kind: "module", moduleId: 0n, moduleType: 0, payload: new Uint8Array(0) };
    case "empty":
      return { kind: "empty" };
    case "unknown":
      return { kind: "unknown", data: new Uint8Array(0) };
  }
}

/** The codec message for a state-machine message. */
export function fromStateMessage(m: StateMessage): BusMessage {
  return {
    type: m.type,
    sender: m.sender,
    currentEpoch: m.currentEpoch,
    configEpoch: m.configEpoch,
    offset: m.offset,
    myslots: m.myslots,
    slaveof: m.slaveof,
    myip: m.myip,
    port: m.port,
    pport: m.pport,
    cport: m.cport,
    flags: m.flags,
    state: m.state,
    mflags: m.mflags,
    body: bodyOf(m),
  };
}

/** The state-machine message for a decoded codec message. */
export function toStateMessage(msg: BusMessage): StateMessage {
  const out: StateMessage = {
    type: msg.type,
    sender: msg.sender,
    currentEpoch: msg.currentEpoch,
    configEpoch: msg.configEpoch,
    offset: msg.offset,
    myslots: msg.myslots,
    slaveof: msg.slaveof,
    myip: msg.myip,
    port: msg.port,
    pport: msg.pport,
    cport: msg.cport,
    flags: msg.flags,
    state: msg.state,
    mflags: msg.mflags,
    gossip: [],
    hostname: null,
  };
  const b = msg.body;
  if (b.kind === "ping") {
    out.gossip = b.gossip;
    // Redis keeps the last hostname extension it walks past.
    for (const e of b.extensions) if (e.kind === "hostname") out.hostname = e.hostname;
  } else if (b.kind === "fail") out.failNode = b.nodename;
  else if (b.kind === "publish") out.publish = { channel: b.channel, message: b.message };
  else if (b.kind === "update") {
    out.update = { configEpoch: b.configEpoch, nodename: b.nodename, slots: b.slots };
  }
  return out;
}

/** Encodes a state-machine message (adapter.ts's encodeBus). */
export function encodeBus(m: StateMessage): Uint8Array {
  return encodeMessage(fromStateMessage(m));
}

/** Decodes a packet into a state-machine message, or a reason (adapter.ts's decodeBus). */
export function decodeBus(b: Uint8Array): StateMessage | string {
  const r = decodeMessage(b);
  return r.ok ? toStateMessage(r.msg) : r.reason;
}

export { PacketFramer } from "./framer.ts";
