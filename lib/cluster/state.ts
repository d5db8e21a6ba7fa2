// Cluster state and its transitions: nodes, slot owners, epochs, handshake, gossip, failure
// reports, UPDATE and configEpoch collision handling. No sockets and no clock of its own:
// the bus layer feeds decoded messages in, time comes from `io.now()`, and every effect on the
// outside world goes through `ClusterIO`, so this file is unit-testable with virtual time.
import {
  CLUSTER_SLOTS,
  ClusterNode,
  flagsToString,
  NODE_FAIL,
  NODE_HANDSHAKE,
  NODE_MASTER,
  NODE_MEET,
  NODE_MIGRATE_TO,
  NODE_MYSELF,
  NODE_NOADDR,
  NODE_NOFAILOVER,
  NODE_PFAIL,
  NODE_SLAVE,
  type NodeLink,
  randomNodeId,
} from "./node.ts";

/** Bus message types (Redis 7.0 numbering). */
export const MSG_PING = 0;
export const MSG_PONG = 1;
export const MSG_MEET = 2;
export const MSG_FAIL = 3;
export const MSG_PUBLISH = 4;
export const MSG_FAILOVER_AUTH_REQUEST = 5;
export const MSG_FAILOVER_AUTH_ACK = 6;
export const MSG_UPDATE = 7;
export const MSG_MFSTART = 8;
export const MSG_MODULE = 9;
export const MSG_PUBLISHSHARD = 10;
export const MSG_TYPE_COUNT = 11;
export const MSG_TYPE_NAMES = [
  "ping",
  "pong",
  "meet",
  "fail",
  "publish",
  "auth-req",
  "auth-ack",
  "update",
  "mfstart",
  "module",
  "publishshard",
];

/** mflags[0] bits. */
export const MF_PAUSED = 1;
export const MF_FORCEACK = 2;
export const MF_EXT_DATA = 4;

/** One gossip entry about a third node. */
export interface GossipEntry {
  nodename: string;
  pingSent: number; // seconds
  pongReceived: number; // seconds
  ip: string;
  port: number;
  cport: number;
  flags: number;
  pport: number;
}

/** What the state machine needs of a decoded bus message. */
export interface BusMessage {
  type: number;
  sender: string;
  currentEpoch: bigint;
  configEpoch: bigint;
  offset: bigint;
  myslots: Uint8Array;
  /** Master's name, or null when the sender is a master. */
  slaveof: string | null;
  myip: string;
  port: number;
  pport: number;
  cport: number;
  flags: number;
  state: number;
  mflags: number;
  gossip: GossipEntry[];
  hostname: string | null;
  failNode?: string;
  update?: { configEpoch: bigint; nodename: string; slots: Uint8Array };
  publish?: { channel: string; message: string };
}

/** Effects of the state machine on the world (bus, disk, replication, keyspace, logs). */
export interface ClusterIO {
  now(): number;
  log(level: "debug" | "verbose" | "notice" | "warning", msg: string): void;
  sendPing(link: NodeLink, type: number): void;
  broadcastFail(nodeName: string): void;
  sendUpdate(link: NodeLink, about: ClusterNode): void;
  /** Deletes every key of a slot (ownership lost). */
  delKeysInSlot(slot: number): void;
  countKeysInSlot(slot: number): number;
  /** Start replicating from ip:port (or stop with null). */
  setReplicationMaster(ip: string | null, port: number): void;
  publish(channel: string, message: string, shard: boolean): void;
  /** Frees a link (closes the socket). */
  freeLink(link: NodeLink): void;
  /** Handlers for failover messages (issue 4); optional. */
  onAuthRequest?(sender: ClusterNode, msg: BusMessage): void;
  onAuthAck?(sender: ClusterNode, msg: BusMessage): void;
  onMfStart?(sender: ClusterNode, link: NodeLink): void;
  /** My master told me its offset while paused for a manual failover. */
  onMasterPausedOffset?(master: ClusterNode): void;
}

export const TODO_HANDLE_FAILOVER = 1;
export const TODO_UPDATE_STATE = 2;
export const TODO_SAVE_CONFIG = 4;
export const TODO_FSYNC_CONFIG = 8;
export const TODO_HANDLE_MANUALFAILOVER = 16;

const FAIL_REPORT_VALIDITY_MULT = 2;
const FAIL_UNDO_TIME_MULT = 2;
const BLACKLIST_TTL = 60_000;

/** The whole cluster as this node knows it. */
export class ClusterState {
  nodes = new Map<string, ClusterNode>();
  myself: ClusterNode;
  slots: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  migratingTo: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  importingFrom: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  /** Slots whose owner stopped claiming them (Redis's owner_not_claiming_slot). */
  ownerNotClaiming = new Uint8Array(CLUSTER_SLOTS / 8);
  currentEpoch = 0n;
  lastVoteEpoch = 0n;
  state: "ok" | "fail" = "fail";
  size = 0;
  todo = 0;
  blacklist = new Map<string, number>();
  statsSent = new Array<number>(MSG_TYPE_COUNT).fill(0);
  statsReceived = new Array<number>(MSG_TYPE_COUNT).fill(0);
  statsPfailNodes = 0;
  linksBufferLimitExceeded = 0;
  nodeTimeout = 15000;
  requireFullCoverage = true;
  allowReplicaMigration = true;
  /** Debug: drop incoming packets of this type (-1 none). */
  dropPacketFilter = -1;
  private firstUpdateStateCall = 0;
  private amongMinorityTime = 0;
  pingsSent = 0;

  constructor(public io: ClusterIO, myName?: string) {
    this.myself = new ClusterNode(myName ?? randomNodeId(), NODE_MYSELF | NODE_MASTER, io.now());
    this.nodes.set(this.myself.name, this.myself);
  }

  /** Marks work to do before the event loop sleeps (save config, update state ...). */
  doBeforeSleep(flags: number): void {
    this.todo |= flags;
  }

  /** Looks a node up by name. */
  lookup(name: string): ClusterNode | undefined {
    return this.nodes.get(name);
  }

  /** Adds a node to the table. */
  addNode(n: ClusterNode): void {
    this.nodes.set(n.name, n);
  }

  /** Removes a node: its slots, its links, failure reports it filed. */
  delNode(n: ClusterNode): void {
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (this.importingFrom[j] === n) this.importingFrom[j] = null;
      if (this.migratingTo[j] === n) this.migratingTo[j] = null;
      if (this.slots[j] === n) this.delSlot(j);
    }
    for (const other of this.nodes.values()) other.failReports.delete(n.name);
    this.freeNode(n);
  }

  private freeNode(n: ClusterNode): void {
    if (n.isReplica && n.slaveof) n.slaveof.removeReplica(n);
    for (const r of n.replicas) if (r.slaveof === n) r.slaveof = null;
    this.nodes.delete(n.name);
    if (n.link) this.io.freeLink(n.link);
    if (n.inboundLink) this.io.freeLink(n.inboundLink);
    n.link = n.inboundLink = null;
  }

  /** Renames a node (handshake completion gives us its real id). */
  renameNode(n: ClusterNode, newName: string): void {
    this.io.log("debug", `Renaming node ${n.name} into ${newName}`);
    this.nodes.delete(n.name);
    n.name = newName;
    this.nodes.set(newName, n);
  }

  /** Assigns a slot to a node; false if the slot is already assigned. */
  addSlot(n: ClusterNode, slot: number): boolean {
    if (this.slots[slot]) return false;
    if (!n.hasSlot(slot)) {
      n.setSlotBit(slot);
      if (n.numslots === 1 && this.mastersHaveReplicas()) n.flags |= NODE_MIGRATE_TO;
    }
    this.slots[slot] = n;
    return true;
  }

  /** Unassigns a slot; false if it was not assigned. */
  delSlot(slot: number): boolean {
    const n = this.slots[slot];
    if (!n) return false;
    n.clearSlotBit(slot);
    this.slots[slot] = null;
    return true;
  }

  /** Unassigns every slot of a node; returns how many. */
  delNodeSlots(n: ClusterNode): number {
    let deleted = 0;
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (n.hasSlot(j)) {
        this.delSlot(j);
        deleted++;
      }
    }
    return deleted;
  }

  private mastersHaveReplicas(): boolean {
    for (const n of this.nodes.values()) if (n.isMaster && n.replicas.length > 0) return true;
    return false;
  }

  /** Highest configEpoch known. */
  maxEpoch(): bigint {
    let max = 0n;
    for (const n of this.nodes.values()) {
      if (BigInt(n.configEpoch) > max) max = BigInt(n.configEpoch);
    }
    return max > this.currentEpoch ? max : this.currentEpoch;
  }

  /** Starts a handshake with ip:port@cport (CLUSTER MEET); false if invalid or in progress. */
  startHandshake(ip: string, port: number, cport: number): boolean {
    if (port <= 0 || port > 65535 || cport <= 0 || cport > 65535) return false;
    const norm = normalizeIp(ip);
    if (norm === null) return false;
    for (const n of this.nodes.values()) {
      if (n.inHandshake && n.ip === norm && n.port === port && n.cport === cport) return false;
    }
    const n = new ClusterNode(randomNodeId(), NODE_HANDSHAKE | NODE_MEET, this.io.now());
    n.ip = norm;
    n.port = port;
    n.cport = cport;
    this.addNode(n);
    return true;
  }

  /** Adds a node id to the FORGET blacklist for a minute. */
  blacklistAdd(name: string): void {
    this.blacklistCleanup();
    this.blacklist.set(name, this.io.now() + BLACKLIST_TTL);
  }

  /** True if a node id is blacklisted. */
  blacklisted(name: string): boolean {
    this.blacklistCleanup();
    return this.blacklist.has(name);
  }

  private blacklistCleanup(): void {
    const now = this.io.now();
    for (const [k, t] of this.blacklist) if (t < now) this.blacklist.delete(k);
  }

  /** Makes a node a master (it was a replica). */
  setNodeAsMaster(n: ClusterNode): void {
    if (n.isMaster) return;
    if (n.slaveof) {
      n.slaveof.removeReplica(n);
      if (n !== this.myself) n.flags |= NODE_MIGRATE_TO;
    }
    n.flags &= ~NODE_SLAVE;
    n.flags |= NODE_MASTER;
    n.slaveof = null;
    this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
  }

  /** Makes myself a replica of n (CLUSTER REPLICATE, or a lost-slots reconfiguration). */
  setMyMaster(n: ClusterNode): void {
    const me = this.myself;
    if (me.isMaster) {
      me.flags &= ~(NODE_MASTER | NODE_MIGRATE_TO);
      me.flags |= NODE_SLAVE;
      this.closeAllSlots();
    } else if (me.slaveof) {
      me.slaveof.removeReplica(me);
    }
    me.slaveof = n;
    n.addReplica(me);
    this.io.setReplicationMaster(n.ip, n.port);
  }

  /** Clears all importing/migrating states. */
  closeAllSlots(): void {
    this.migratingTo.fill(null);
    this.importingFrom.fill(null);
  }

  /** Failure reports about `n` still valid (expired ones are dropped). */
  failureReportsCount(n: ClusterNode): number {
    const maxAge = this.nodeTimeout * FAIL_REPORT_VALIDITY_MULT;
    const now = this.io.now();
    for (const [k, t] of n.failReports) if (now - t > maxAge) n.failReports.delete(k);
    return n.failReports.size;
  }

  /** PFAIL -> FAIL when a majority of masters agree. */
  markNodeAsFailingIfNeeded(n: ClusterNode): void {
    const quorum = Math.floor(this.size / 2) + 1;
    if (!n.timedOut || n.failed) return;
    let failures = this.failureReportsCount(n);
    if (this.myself.isMaster) failures++;
    if (failures < quorum) return;
    this.io.log("notice", `Marking node ${n.name} as failing (quorum reached).`);
    n.flags &= ~NODE_PFAIL;
    n.flags |= NODE_FAIL;
    n.failTime = this.io.now();
    this.io.broadcastFail(n.name);
    this.doBeforeSleep(TODO_UPDATE_STATE | TODO_SAVE_CONFIG);
  }

  /** Clears FAIL when a node is reachable again (at once for replicas/slotless masters). */
  clearNodeFailureIfNeeded(n: ClusterNode): void {
    const now = this.io.now();
    if (n.isReplica || n.numslots === 0) {
      this.io.log(
        "notice",
        `Clear FAIL state for node ${n.name}: ${
          n.isReplica ? "replica" : "master without slots"
        } is reachable again.`,
      );
      n.flags &= ~NODE_FAIL;
      this.doBeforeSleep(TODO_UPDATE_STATE | TODO_SAVE_CONFIG);
    }
    if (n.isMaster && n.numslots > 0 && now - n.failTime > this.nodeTimeout * FAIL_UNDO_TIME_MULT) {
      this.io.log(
        "notice",
        `Clear FAIL state for node ${n.name}: is reachable again and nobody is serving its slots after some time.`,
      );
      n.flags &= ~NODE_FAIL;
      this.doBeforeSleep(TODO_UPDATE_STATE | TODO_SAVE_CONFIG);
    }
  }

  /** Resolves configEpoch collisions between masters: the smaller id moves forward. */
  handleConfigEpochCollision(sender: ClusterNode): void {
    const me = this.myself;
    if (sender.configEpoch !== me.configEpoch || !sender.isMaster || !me.isMaster) return;
    if (sender.name <= me.name) return;
    this.currentEpoch++;
    me.configEpoch = Number(this.currentEpoch);
    this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG);
    this.io.log(
      "verbose",
      `WARNING: configEpoch collision with node ${sender.name}. configEpoch set to ${me.configEpoch}`,
    );
  }

  /** Applies a master's slot claims with its configEpoch (PING/PONG or UPDATE). */
  updateSlotsConfigWith(sender: ClusterNode, senderEpoch: number, slots: Uint8Array): void {
    const me = this.myself;
    const curMaster = me.isMaster ? me : me.slaveof;
    if (sender === me) {
      this.io.log("warning", "Discarding UPDATE message about myself.");
      return;
    }
    const dirty: number[] = [];
    let newMaster: ClusterNode | null = null;
    let senderSlots = 0;
    let migratedOurSlots = 0;
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (slots[j >> 3] & (1 << (j & 7))) {
        senderSlots++;
        if (this.slots[j] === sender) {
          this.ownerNotClaiming[j >> 3] &= ~(1 << (j & 7));
          continue;
        }
        if (this.importingFrom[j]) continue;
        const owner = this.slots[j];
        if (!owner || this.slotUnclaimed(j) || owner.configEpoch < senderEpoch) {
          if (owner === me && this.io.countKeysInSlot(j) > 0) dirty.push(j);
          if (owner && owner === curMaster) {
            newMaster = sender;
            migratedOurSlots++;
          }
          this.delSlot(j);
          this.addSlot(sender, j);
          this.ownerNotClaiming[j >> 3] &= ~(1 << (j & 7));
          this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE | TODO_FSYNC_CONFIG);
        }
      } else if (this.slots[j] === sender) {
        this.ownerNotClaiming[j >> 3] |= 1 << (j & 7);
      }
    }
    if (
      newMaster && curMaster && curMaster.numslots === 0 &&
      (this.allowReplicaMigration || senderSlots === migratedOurSlots)
    ) {
      this.io.log(
        "warning",
        `Configuration change detected. Reconfiguring myself as a replica of ${sender.name}`,
      );
      this.setMyMaster(sender);
      this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE | TODO_FSYNC_CONFIG);
    } else if (me.slaveof && me.slaveof.slaveof && me.slaveof.slaveof !== me) {
      this.io.log(
        "warning",
        `I'm a sub-replica! Reconfiguring myself as a replica of grandmaster ${me.slaveof.slaveof.name}`,
      );
      this.setMyMaster(me.slaveof.slaveof);
      this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE | TODO_FSYNC_CONFIG);
    } else {
      for (const j of dirty) this.io.delKeysInSlot(j);
    }
  }

  /** A slot with no owner, or whose owner stopped claiming it. */
  slotUnclaimed(slot: number): boolean {
    return this.slots[slot] === null ||
      (this.ownerNotClaiming[slot >> 3] & (1 << (slot & 7))) !== 0;
  }

  /** Processes the gossip section of a PING/PONG/MEET. */
  processGossip(msg: BusMessage, sender: ClusterNode | undefined): void {
    const now = this.io.now();
    for (const g of msg.gossip) {
      const node = this.lookup(g.nodename);
      if (node) {
        if (sender && sender.isMaster && node !== this.myself) {
          if (g.flags & (NODE_FAIL | NODE_PFAIL)) {
            if (!node.failReports.has(sender.name)) {
              this.io.log(
                "verbose",
                `Node ${sender.name} reported node ${node.name} as not reachable.`,
              );
            }
            node.failReports.set(sender.name, now);
            this.markNodeAsFailingIfNeeded(node);
          } else if (node.failReports.delete(sender.name)) {
            this.io.log(
              "verbose",
              `Node ${sender.name} reported node ${node.name} is back online.`,
            );
          }
        }
        // Trust a fresher pong time from gossip when we have no ping pending to the node.
        if (
          !(g.flags & (NODE_FAIL | NODE_PFAIL)) && node.pingSent === 0 &&
          this.failureReportsCount(node) === 0
        ) {
          const pongtime = g.pongReceived * 1000;
          if (pongtime <= now + 500 && pongtime > node.pongReceived) node.pongReceived = pongtime;
        }
        // A failing node seen at a new address by a healthy reporter: switch addresses.
        if (
          node.flags & (NODE_FAIL | NODE_PFAIL) && !(g.flags & NODE_NOADDR) &&
          !(g.flags & (NODE_FAIL | NODE_PFAIL)) &&
          (node.ip !== g.ip || node.port !== g.port || node.cport !== g.cport)
        ) {
          if (node.link) this.io.freeLink(node.link);
          node.link = null;
          node.ip = g.ip;
          node.port = g.port;
          node.pport = g.pport;
          node.cport = g.cport;
          node.flags &= ~NODE_NOADDR;
        }
      } else if (
        sender && !(g.flags & NODE_NOADDR) && !this.blacklisted(g.nodename) &&
        g.nodename.length === 40
      ) {
        // Unknown node gossiped by a known one: add it; the cron connects and pings it.
        const n = new ClusterNode(g.nodename, g.flags & ~(NODE_MYSELF | NODE_MEET), now);
        n.ip = g.ip;
        n.port = g.port;
        n.pport = g.pport;
        n.cport = g.cport;
        this.addNode(n);
      }
    }
  }

  /** Updates a node's address from a packet on a link that is not its own outbound link. */
  updateAddressIfNeeded(
    node: ClusterNode,
    link: NodeLink,
    msg: BusMessage,
    peerIp: string,
  ): boolean {
    if (link === node.link) return false;
    const ip = msg.myip !== "" ? msg.myip : peerIp;
    if (
      node.port === msg.port && node.cport === msg.cport && node.pport === msg.pport &&
      node.ip === ip
    ) return false;
    node.ip = ip;
    node.port = msg.port;
    node.pport = msg.pport;
    node.cport = msg.cport;
    if (node.link) this.io.freeLink(node.link);
    node.link = null;
    node.flags &= ~NODE_NOADDR;
    this.io.log("warning", `Address updated for node ${node.name}, now ${node.ip}:${node.port}`);
    if (this.myself.isReplica && this.myself.slaveof === node) {
      this.io.setReplicationMaster(node.ip, node.port);
    }
    return true;
  }

  /** Handles one decoded packet received on `link` from peer address `peerIp`. Returns false if
   * the link was freed while processing. `localIp` is our address on that connection. */
  processPacket(link: NodeLink, msg: BusMessage, peerIp: string, localIp: string): boolean {
    const now = this.io.now();
    const type = msg.type;
    if (type < MSG_TYPE_COUNT) this.statsReceived[type]++;
    if (type === this.dropPacketFilter) {
      this.io.log("warning", "Dropping packet that matches debug drop filter");
      return true;
    }
    const me = this.myself;
    let sender: ClusterNode | undefined;
    if (link.node && !link.node.inHandshake) sender = link.node;
    else {
      sender = this.lookup(msg.sender);
      // An inbound link learns its node from the first packet that names a known sender.
      if (sender && !link.node && link.inbound) {
        if (sender.inboundLink && sender.inboundLink !== link) this.io.freeLink(sender.inboundLink);
        sender.inboundLink = link;
        link.node = sender;
      }
    }
    if (sender) sender.dataReceived = now;
    const senderConfigEpoch = Number(msg.configEpoch);
    if (sender && !sender.inHandshake) {
      if (msg.currentEpoch > this.currentEpoch) this.currentEpoch = msg.currentEpoch;
      if (senderConfigEpoch > sender.configEpoch) {
        sender.configEpoch = senderConfigEpoch;
        this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG);
      }
      sender.replOffset = Number(msg.offset);
      sender.replOffsetTime = now;
      if (me.isReplica && me.slaveof === sender && msg.mflags & MF_PAUSED) {
        this.io.onMasterPausedOffset?.(sender);
      }
    }

    if (type === MSG_PING || type === MSG_MEET) {
      // MEET tells us our own address as the peer sees it.
      if (
        (type === MSG_MEET || me.ip === "") && !this.announceIp && localIp !== "" &&
        localIp !== me.ip
      ) {
        me.ip = localIp;
        this.io.log("warning", `IP address for this node updated to ${me.ip}`);
        this.doBeforeSleep(TODO_SAVE_CONFIG);
      }
      if (!sender && type === MSG_MEET) {
        const n = new ClusterNode(randomNodeId(), NODE_HANDSHAKE, now);
        n.ip = msg.myip !== "" ? msg.myip : peerIp;
        n.port = msg.port;
        n.pport = msg.pport;
        n.cport = msg.cport;
        this.addNode(n);
        this.doBeforeSleep(TODO_SAVE_CONFIG);
        this.processGossip(msg, undefined);
      }
      this.io.sendPing(link, MSG_PONG);
    }

    if (type === MSG_PING || type === MSG_PONG || type === MSG_MEET) {
      if (!link.inbound && link.node) {
        const ln = link.node;
        if (ln.inHandshake) {
          if (sender && sender !== ln) {
            this.io.log(
              "verbose",
              `Handshake: we already know node ${sender.name}, updating the address if needed.`,
            );
            if (this.updateAddressIfNeeded(sender, link, msg, peerIp)) {
              this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
            }
            this.delNode(ln);
            return false;
          }
          this.renameNode(ln, msg.sender);
          this.io.log("debug", `Handshake with node ${ln.name} completed.`);
          ln.flags &= ~NODE_HANDSHAKE;
          ln.flags |= msg.flags & (NODE_MASTER | NODE_SLAVE);
          this.doBeforeSleep(TODO_SAVE_CONFIG);
          sender = ln;
        } else if (ln.name !== msg.sender) {
          this.io.log("debug", `PONG contains mismatching sender ID. About node ${ln.name}`);
          ln.flags |= NODE_NOADDR;
          ln.ip = "";
          ln.port = ln.pport = ln.cport = 0;
          this.io.freeLink(link);
          ln.link = null;
          this.doBeforeSleep(TODO_SAVE_CONFIG);
          return false;
        }
      }
      if (sender) {
        sender.flags = (sender.flags & ~NODE_NOFAILOVER) | (msg.flags & NODE_NOFAILOVER);
        if (msg.hostname !== null && sender.hostname !== msg.hostname) {
          sender.hostname = msg.hostname;
          this.doBeforeSleep(TODO_SAVE_CONFIG);
        } else if (msg.hostname === null && sender.hostname !== "") {
          sender.hostname = "";
          this.doBeforeSleep(TODO_SAVE_CONFIG);
        }
      }
      if (
        sender && type === MSG_PING && !sender.inHandshake &&
        this.updateAddressIfNeeded(sender, link, msg, peerIp)
      ) {
        this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
      }
      if (!link.inbound && type === MSG_PONG && link.node) {
        const ln = link.node;
        ln.pongReceived = now;
        ln.pingSent = 0;
        if (ln.timedOut) {
          ln.flags &= ~NODE_PFAIL;
          this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
        } else if (ln.failed) {
          this.clearNodeFailureIfNeeded(ln);
        }
      }
      if (sender) {
        if (msg.slaveof === null) {
          this.setNodeAsMaster(sender);
        } else {
          const master = this.lookup(msg.slaveof);
          if (sender.isMaster) {
            this.delNodeSlots(sender);
            sender.flags &= ~(NODE_MASTER | NODE_MIGRATE_TO);
            sender.flags |= NODE_SLAVE;
            this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
          }
          if (master && sender.slaveof !== master) {
            if (sender.slaveof) sender.slaveof.removeReplica(sender);
            master.addReplica(sender);
            sender.slaveof = master;
            this.doBeforeSleep(TODO_SAVE_CONFIG);
          }
        }
      }
      let senderMaster: ClusterNode | null = null;
      let dirtySlots = false;
      if (sender) {
        senderMaster = sender.isMaster ? sender : sender.slaveof;
        if (senderMaster) dirtySlots = !bytesEqual(senderMaster.slots, msg.myslots);
      }
      if (sender && sender.isMaster && dirtySlots) {
        this.updateSlotsConfigWith(sender, senderConfigEpoch, msg.myslots);
      }
      if (sender && dirtySlots) {
        for (let j = 0; j < CLUSTER_SLOTS; j++) {
          if (!(msg.myslots[j >> 3] & (1 << (j & 7)))) continue;
          const owner = this.slots[j];
          if (!owner || owner === sender || this.slotUnclaimed(j)) continue;
          if (owner.configEpoch > senderConfigEpoch) {
            this.io.log(
              "verbose",
              `Node ${sender.name} has old slots configuration, sending an UPDATE message about ${owner.name}`,
            );
            if (sender.link) this.io.sendUpdate(sender.link, owner);
            break;
          }
        }
      }
      if (sender && me.isMaster && sender.isMaster && senderConfigEpoch === me.configEpoch) {
        this.handleConfigEpochCollision(sender);
      }
      if (sender) this.processGossip(msg, sender);
    } else if (type === MSG_FAIL) {
      if (sender && msg.failNode) {
        const failing = this.lookup(msg.failNode);
        if (failing && !(failing.flags & (NODE_FAIL | NODE_MYSELF))) {
          this.io.log("notice", `FAIL message received from ${msg.sender} about ${msg.failNode}`);
          failing.flags |= NODE_FAIL;
          failing.failTime = now;
          failing.flags &= ~NODE_PFAIL;
          this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
        }
      } else {
        this.io.log(
          "notice",
          `Ignoring FAIL message from unknown node ${msg.sender} about ${msg.failNode}`,
        );
      }
    } else if (type === MSG_PUBLISH || type === MSG_PUBLISHSHARD) {
      if (sender && msg.publish) {
        this.io.publish(msg.publish.channel, msg.publish.message, type === MSG_PUBLISHSHARD);
      }
    } else if (type === MSG_FAILOVER_AUTH_REQUEST) {
      if (sender) this.io.onAuthRequest?.(sender, msg);
    } else if (type === MSG_FAILOVER_AUTH_ACK) {
      if (sender) this.io.onAuthAck?.(sender, msg);
    } else if (type === MSG_MFSTART) {
      if (sender && sender.slaveof === me) this.io.onMfStart?.(sender, link);
    } else if (type === MSG_UPDATE) {
      if (!sender || !msg.update) return true;
      const n = this.lookup(msg.update.nodename);
      if (!n) return true;
      const reported = Number(msg.update.configEpoch);
      if (n.configEpoch >= reported) return true;
      if (n.isReplica) this.setNodeAsMaster(n);
      n.configEpoch = reported;
      this.doBeforeSleep(TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG);
      this.updateSlotsConfigWith(n, reported, msg.update.slots);
    } else if (type !== MSG_MODULE) {
      this.io.log("warning", `Received unknown packet type: ${type}`);
    }
    return true;
  }

  /** cluster-announce-ip, when set (then MEET does not change our address). */
  announceIp = "";

  /** Recomputes cluster_state and size (Redis's clusterUpdateState). */
  updateState(isMasterStartup = true): void {
    const now = this.io.now();
    this.todo &= ~TODO_UPDATE_STATE;
    if (this.firstUpdateStateCall === 0) this.firstUpdateStateCall = now;
    // A restarted master waits a little before accepting writes, to learn the new config.
    if (
      isMasterStartup && this.myself.isMaster && this.state === "fail" &&
      now - this.firstUpdateStateCall < 2000
    ) {
      return;
    }
    let newState: "ok" | "fail" = "ok";
    if (this.requireFullCoverage) {
      for (let j = 0; j < CLUSTER_SLOTS; j++) {
        const n = this.slots[j];
        if (!n || n.failed) {
          newState = "fail";
          break;
        }
      }
    }
    let reachable = 0;
    this.size = 0;
    for (const n of this.nodes.values()) {
      if (n.isMaster && n.numslots > 0) {
        this.size++;
        if ((n.flags & (NODE_FAIL | NODE_PFAIL)) === 0) reachable++;
      }
    }
    if (reachable < Math.floor(this.size / 2) + 1) {
      newState = "fail";
      this.amongMinorityTime = now;
    }
    if (newState !== this.state) {
      const rejoinDelay = Math.min(5000, Math.max(500, this.nodeTimeout));
      if (newState === "ok" && this.myself.isMaster && now - this.amongMinorityTime < rejoinDelay) {
        return;
      }
      this.io.log("warning", `Cluster state changed: ${newState}`);
      this.state = newState;
    }
  }

  /** Nodes to gossip about in a ping: random fresh nodes plus every PFAIL node. */
  gossipCandidates(): ClusterNode[] {
    this.pingsSent++;
    const all = [...this.nodes.values()];
    let fresh = all.length - 2;
    let wanted = Math.max(3, Math.floor(all.length / 10));
    if (wanted > fresh) wanted = fresh;
    const out: ClusterNode[] = [];
    let maxIter = wanted * 3;
    while (fresh > 0 && out.length < wanted && maxIter-- > 0) {
      const n = all[Math.floor(Math.random() * all.length)];
      if (n === this.myself || n.timedOut) continue;
      if (n.flags & (NODE_HANDSHAKE | NODE_NOADDR) || (n.link === null && n.numslots === 0)) {
        fresh--;
        continue;
      }
      if (n.lastInPingGossip === this.pingsSent) continue;
      n.lastInPingGossip = this.pingsSent;
      out.push(n);
      fresh--;
    }
    for (const n of all) {
      if (n.flags & (NODE_HANDSHAKE | NODE_NOADDR) || !n.timedOut) continue;
      out.push(n);
    }
    return out;
  }

  /** The node description line used by CLUSTER NODES and nodes.conf. */
  describeNode(n: ClusterNode, usePport = false): string {
    const port = usePport && n.pport ? n.pport : n.port;
    let s = `${n.name} ${n.ip}:${port}@${n.cport}${n.hostname ? "," + n.hostname : ""} ${
      flagsToString(n.flags)
    } `;
    s += n.slaveof ? n.slaveof.name : "-";
    const epoch = n.isReplica && n.slaveof ? n.slaveof.configEpoch : n.configEpoch;
    s += ` ${n.pingSent} ${n.pongReceived} ${epoch} ${
      n.link || n.flags & NODE_MYSELF ? "connected" : "disconnected"
    }`;
    if (n.numslots > 0) {
      let start = -1;
      for (let j = 0; j <= CLUSTER_SLOTS; j++) {
        const own = j < CLUSTER_SLOTS && this.slots[j] === n;
        if (own && start === -1) start = j;
        if (!own && start !== -1) {
          s += start === j - 1 ? ` ${start}` : ` ${start}-${j - 1}`;
          start = -1;
        }
      }
    }
    if (n.flags & NODE_MYSELF) {
      for (let j = 0; j < CLUSTER_SLOTS; j++) {
        if (this.migratingTo[j]) s += ` [${j}->-${this.migratingTo[j]!.name}]`;
        else if (this.importingFrom[j]) s += ` [${j}-<-${this.importingFrom[j]!.name}]`;
      }
    }
    return s;
  }

  /** All node lines (CLUSTER NODES), skipping nodes with any of `filter`'s flags. */
  describeAll(filter = 0, usePport = false): string {
    let out = "";
    for (const n of this.nodes.values()) {
      if (n.flags & filter) continue;
      out += this.describeNode(n, usePport) + "\n";
    }
    return out;
  }
}

/** Normalizes an IPv4/IPv6 literal; null if invalid. */
export function normalizeIp(ip: string): string | null {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    const parts = ip.split(".").map(Number);
    return parts.every((p) => p <= 255) ? parts.join(".") : null;
  }
  if (ip.includes(":") && /^[0-9a-fA-F:.]+$/.test(ip)) {
    try {
      const u = new URL(`http://[${ip}]/`);
      return u.hostname.slice(1, -1);
    } catch {
      return null;
    }
  }
  return null;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
