// A cluster node as this node sees it: identity, address, role, slots, epochs, timers.
// Flags and their CLUSTER NODES names are Redis 7.0's.

export const NODE_MASTER = 1;
export const NODE_SLAVE = 2;
export const NODE_PFAIL = 4;
export const NODE_FAIL = 8;
export const NODE_MYSELF = 16;
export const NODE_HANDSHAKE = 32;
export const NODE_NOADDR = 64;
export const NODE_MEET = 128;
export const NODE_MIGRATE_TO = 256;
export const NODE_NOFAILOVER = 512;

export const CLUSTER_SLOTS = 16384;

const FLAG_NAMES: [number, string][] = [
  [NODE_MYSELF, "myself"],
  [NODE_MASTER, "master"],
  [NODE_SLAVE, "slave"],
  [NODE_PFAIL, "fail?"],
  [NODE_FAIL, "fail"],
  [NODE_HANDSHAKE, "handshake"],
  [NODE_NOADDR, "noaddr"],
  [NODE_NOFAILOVER, "nofailover"],
];

/** Comma-separated flag names as CLUSTER NODES shows them ("noflags" when none). */
export function flagsToString(flags: number): string {
  const out: string[] = [];
  for (const [f, n] of FLAG_NAMES) if (flags & f) out.push(n);
  return out.length ? out.join(",") : "noflags";
}

/** Parses a flags field from nodes.conf; returns null on an unknown flag. */
export function flagsFromString(s: string): number | null {
  let flags = 0;
  for (const part of s.split(",")) {
    if (part === "noflags") continue;
    const e = FLAG_NAMES.find(([, n]) => n === part.toLowerCase());
    if (!e) return null;
    flags |= e[0];
  }
  return flags;
}

/** A random 40-hex-char node id. */
export function randomNodeId(): string {
  const b = new Uint8Array(20);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** True for a syntactically valid node id. */
export function isValidNodeId(s: string): boolean {
  return /^[0-9a-f]{40}$/.test(s);
}

/** A connection to a peer's bus port (the bus layer implements it). */
export interface NodeLink {
  /** Milliseconds timestamp of creation. */
  ctime: number;
  inbound: boolean;
  /** Queues a packet. */
  send(bytes: Uint8Array): void;
  /** Closes the link. */
  close(): void;
  /** Bytes waiting in the send buffer (CLUSTER LINKS). */
  sendBufferBytes(): number;
  node: ClusterNode | null;
}

/** One node of the cluster. */
export class ClusterNode {
  ip = "";
  port = 0;
  pport = 0;
  cport = 0;
  hostname = "";
  slaveof: ClusterNode | null = null;
  replicas: ClusterNode[] = [];
  slots = new Uint8Array(CLUSTER_SLOTS / 8);
  numslots = 0;
  configEpoch = 0;
  pingSent = 0;
  pongReceived = 0;
  dataReceived = 0;
  failTime = 0;
  votedTime = 0;
  replOffset = 0;
  replOffsetTime = 0;
  orphanedTime = 0;
  /** Outbound link (we connected) and inbound link (they connected). */
  link: NodeLink | null = null;
  inboundLink: NodeLink | null = null;
  /** Failure reports: reporter node name -> time of the report. */
  failReports = new Map<string, number>();
  /** Set by gossip bookkeeping (last ping in which this node was gossiped). */
  lastInPingGossip = 0;

  constructor(public name: string, public flags: number, public ctime: number) {}

  /** Whether the node is a master. */
  get isMaster(): boolean {
    return (this.flags & NODE_MASTER) !== 0;
  }
  /** Whether the node is a replica. */
  get isReplica(): boolean {
    return (this.flags & NODE_SLAVE) !== 0;
  }
  /** Whether the node is in the handshake stage. */
  get inHandshake(): boolean {
    return (this.flags & NODE_HANDSHAKE) !== 0;
  }
  /** Whether the node has a known address. */
  get hasAddr(): boolean {
    return (this.flags & NODE_NOADDR) === 0;
  }
  /** Whether the node is flagged FAIL. */
  get failed(): boolean {
    return (this.flags & NODE_FAIL) !== 0;
  }
  /** Whether the node is flagged PFAIL. */
  get timedOut(): boolean {
    return (this.flags & NODE_PFAIL) !== 0;
  }

  /** Tests a slot bit. */
  hasSlot(slot: number): boolean {
    return (this.slots[slot >> 3] & (1 << (slot & 7))) !== 0;
  }
  /** Sets a slot bit; returns the old value. */
  setSlotBit(slot: number): boolean {
    const old = this.hasSlot(slot);
    if (!old) {
      this.slots[slot >> 3] |= 1 << (slot & 7);
      this.numslots++;
    }
    return old;
  }
  /** Clears a slot bit; returns the old value. */
  clearSlotBit(slot: number): boolean {
    const old = this.hasSlot(slot);
    if (old) {
      this.slots[slot >> 3] &= ~(1 << (slot & 7));
      this.numslots--;
    }
    return old;
  }

  /** Adds a replica to this master's list. */
  addReplica(r: ClusterNode): void {
    if (!this.replicas.includes(r)) this.replicas.push(r);
  }
  /** Removes a replica from this master's list. */
  removeReplica(r: ClusterNode): void {
    const i = this.replicas.indexOf(r);
    if (i >= 0) this.replicas.splice(i, 1);
  }

  /** Number of replicas not flagged FAIL. */
  okReplicas(): number {
    return this.replicas.filter((r) => !r.failed).length;
  }
}

/** Slot ranges [start, end] of a bitmap-owning node, ascending. */
export function slotRanges(n: ClusterNode): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let j = 0; j <= CLUSTER_SLOTS; j++) {
    const bit = j < CLUSTER_SLOTS && n.hasSlot(j);
    if (bit && start === -1) start = j;
    if (!bit && start !== -1) {
      out.push([start, j - 1]);
      start = -1;
    }
  }
  return out;
}
