// Redis 7.0.15 cluster bus message layout (src/cluster.h) and the typed message objects that the
// codec reads and writes. Sizes and offsets are the C structs' as static_assert'ed in cluster.h.

/** Packet signature, "Redis Cluster message bus". */
export const BUS_SIGNATURE = "RCmb";
/** The only protocol version Redis 7.0 accepts (CLUSTER_PROTO_VER). */
export const BUS_PROTO_VER = 1;
/** Node id length in bytes (CLUSTER_NAMELEN). */
export const NODE_NAME_LEN = 40;
/** IP field width incl. the NUL terminator (NET_IP_STR_LEN). */
export const IP_FIELD_LEN = 46;
/** Bytes in a 16384-slot bitmap (CLUSTER_SLOTS/8). */
export const SLOT_BITMAP_BYTES = 2048;
/** Fixed header size, i.e. CLUSTERMSG_MIN_LEN = offsetof(clusterMsg, data). */
export const HEADER_SIZE = 2256;
/** sizeof(clusterMsgDataGossip). */
export const GOSSIP_ENTRY_SIZE = 104;
/** sizeof(clusterMsgDataFail). */
export const FAIL_BODY_SIZE = 40;
/** Fixed part of a PUBLISH body (channel_len + message_len) before the bulk data. */
export const PUBLISH_BODY_FIXED = 8;
/** sizeof(clusterMsgDataUpdate). */
export const UPDATE_BODY_SIZE = 2096;
/** Fixed part of a MODULE body (module_id, len, type) before the payload. */
export const MODULE_BODY_FIXED = 13;
/** sizeof(clusterMsgPingExt) without its payload: length(32) type(16) unused(16). */
export const PING_EXT_HEADER_SIZE = 8;

/** Byte offsets of the clusterMsg header fields. */
export const HeaderOffset = {
  sig: 0,
  totlen: 4,
  ver: 8,
  port: 10,
  type: 12,
  count: 14,
  currentEpoch: 16,
  configEpoch: 24,
  offset: 32,
  sender: 40,
  myslots: 80,
  slaveof: 2128,
  myip: 2168,
  extensions: 2214,
  notused1: 2216,
  pport: 2246,
  cport: 2248,
  flags: 2250,
  state: 2252,
  mflags: 2253,
} as const;

/** Byte offsets inside one clusterMsgDataGossip entry. */
export const GossipOffset = {
  nodename: 0,
  pingSent: 40,
  pongReceived: 44,
  ip: 48,
  port: 94,
  cport: 96,
  flags: 98,
  pport: 100,
  notused1: 102,
} as const;

/** Message types (CLUSTERMSG_TYPE_*). */
export const MsgType = {
  PING: 0,
  PONG: 1,
  MEET: 2,
  FAIL: 3,
  PUBLISH: 4,
  FAILOVER_AUTH_REQUEST: 5,
  FAILOVER_AUTH_ACK: 6,
  UPDATE: 7,
  MFSTART: 8,
  MODULE: 9,
  PUBLISHSHARD: 10,
} as const;

/** Number of known message types (CLUSTERMSG_TYPE_COUNT), the size of the stats arrays. */
export const MSG_TYPE_COUNT = 11;

/** Node flags as carried in the header and gossip entries (CLUSTER_NODE_*). */
export const NodeFlag = {
  MASTER: 1,
  SLAVE: 2,
  PFAIL: 4,
  FAIL: 8,
  MYSELF: 16,
  HANDSHAKE: 32,
  NOADDR: 64,
  MEET: 128,
  MIGRATE_TO: 256,
  NOFAILOVER: 512,
} as const;

/** Bits of mflags[0] (CLUSTERMSG_FLAG0_*); mflags[1] and [2] are unused in 7.0. */
export const MsgFlag0 = {
  PAUSED: 1,
  FORCEACK: 2,
  EXT_DATA: 4,
} as const;

/** Cluster state byte in the header (CLUSTER_OK / CLUSTER_FAIL). */
export const ClusterStateByte = { OK: 0, FAIL: 1 } as const;

/** Ping extension types. 7.0.15 defines only HOSTNAME; later versions' types are skipped. */
export const PingExtType = { HOSTNAME: 0 } as const;

/** Redis's name for a message type (clusterGetMessageTypeString), "unknown" otherwise. */
export function messageTypeName(type: number): string {
  return TYPE_NAMES[type] ?? "unknown";
}

const TYPE_NAMES: Record<number, string> = {
  0: "ping",
  1: "pong",
  2: "meet",
  3: "fail",
  4: "publish",
  5: "auth-req",
  6: "auth-ack",
  7: "update",
  8: "mfstart",
  9: "module",
  10: "publishshard",
};

/** One gossip entry about a third node (clusterMsgDataGossip). */
export interface GossipEntry {
  /** 40-char node id. */
  nodename: string;
  /** Seconds (Unix time / 1000, truncated to 32 bits) the sender last pinged it. */
  pingSent: number;
  /** Seconds the sender last got a PONG from it. */
  pongReceived: number;
  /** Last known IP, "" if unknown. */
  ip: string;
  port: number;
  cport: number;
  flags: number;
  pport: number;
}

/** A ping extension: the hostname, or any other type kept as its raw (padded) payload. */
export type PingExtension =
  | { kind: "hostname"; hostname: string }
  | { kind: "unknown"; type: number; data: Uint8Array };

/** Body of PING, PONG and MEET. */
export interface PingBody {
  kind: "ping";
  gossip: GossipEntry[];
  extensions: PingExtension[];
}

/** Body of FAIL: the node being declared failed. */
export interface FailBody {
  kind: "fail";
  nodename: string;
}

/** Body of PUBLISH and PUBLISHSHARD; channel and message are latin1 byte strings. */
export interface PublishBody {
  kind: "publish";
  channel: string;
  message: string;
}

/** Body of UPDATE: another node's slot configuration. */
export interface UpdateBody {
  kind: "update";
  configEpoch: bigint;
  nodename: string;
  slots: Uint8Array;
}

/** Body of MODULE. moduleId travels in host byte order; Redis on x86 means little-endian. */
export interface ModuleBody {
  kind: "module";
  moduleId: bigint;
  moduleType: number;
  payload: Uint8Array;
}

/** Header-only messages: FAILOVER_AUTH_REQUEST, FAILOVER_AUTH_ACK, MFSTART. */
export interface EmptyBody {
  kind: "empty";
}

/** A type Redis 7.0 does not know: everything after the header, kept as is. */
export interface UnknownBody {
  kind: "unknown";
  data: Uint8Array;
}

/** The per-type part of a message, discriminated by kind. */
export type BusBody =
  | PingBody
  | FailBody
  | PublishBody
  | UpdateBody
  | ModuleBody
  | EmptyBody
  | UnknownBody;

/** The header fields a sender fills (clusterBuildMessageHdr); lengths and counts are derived. */
export interface BusHeader {
  /** Message type, see MsgType. */
  type: number;
  /** Sender's 40-char node id. */
  sender: string;
  currentEpoch: bigint;
  /** The sender's configEpoch, or its master's if it is a replica. */
  configEpoch: bigint;
  /** Replication offset (unsigned 64-bit on the wire). */
  offset: bigint;
  /** Slots the sender (or its master) serves: Uint8Array(2048), bit order as Redis. */
  myslots: Uint8Array;
  /** Master's node id, or null when the field is all zero bytes (no master). */
  slaveof: string | null;
  /** Announced IP, "" when not announced (receivers then use the socket peer address). */
  myip: string;
  port: number;
  /** Plaintext port when the base port is TLS, else 0. */
  pport: number;
  cport: number;
  flags: number;
  /** ClusterStateByte. */
  state: number;
  /** mflags[0] | mflags[1] << 8 | mflags[2] << 16. */
  mflags: number;
}

/** A whole cluster bus message. */
export interface BusMessage extends BusHeader {
  body: BusBody;
}

/** Result of decoding one packet: never throws, malformed input yields a reason. */
export type DecodeResult = { ok: true; msg: BusMessage } | { ok: false; reason: string };

/** The body kind each known type carries. */
export function bodyKindForType(type: number): BusBody["kind"] {
  switch (type) {
    case MsgType.PING:
    case MsgType.PONG:
    case MsgType.MEET:
      return "ping";
    case MsgType.FAIL:
      return "fail";
    case MsgType.PUBLISH:
    case MsgType.PUBLISHSHARD:
      return "publish";
    case MsgType.FAILOVER_AUTH_REQUEST:
    case MsgType.FAILOVER_AUTH_ACK:
    case MsgType.MFSTART:
      return "empty";
    case MsgType.UPDATE:
      return "update";
    case MsgType.MODULE:
      return "module";
    default:
      return "unknown";
  }
}
