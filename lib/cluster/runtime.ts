// Cluster mode wired into the server: nodes.conf load/save, the bus listener and links, the
// 100 ms cluster cron, message building, redirections and the CLUSTER command back end.
import type { Server } from "../server/server.ts";
import type { Client } from "../server/client.ts";
import { rank, register } from "../server/subsystems.ts";
import { routing } from "../server/dispatch.ts";
import { log } from "../log.ts";
import {
  type BusMessage,
  ClusterState,
  type GossipEntry,
  MF_EXT_DATA,
  MF_PAUSED,
  MSG_FAIL,
  MSG_MEET,
  MSG_PING,
  MSG_PUBLISH,
  MSG_PUBLISHSHARD,
  MSG_UPDATE,
  TODO_FSYNC_CONFIG,
  TODO_SAVE_CONFIG,
  TODO_UPDATE_STATE,
} from "./state.ts";
import {
  CLUSTER_SLOTS,
  ClusterNode,
  NODE_FAIL,
  NODE_HANDSHAKE,
  NODE_MEET,
  NODE_MYSELF,
  NODE_NOADDR,
  NODE_NOFAILOVER,
  NODE_PFAIL,
  type NodeLink,
  randomNodeId,
} from "./node.ts";
import {
  atomicWriteFileSync,
  formatNodesConf,
  lockNodesConf,
  parseNodesConf,
} from "./nodes_conf.ts";
import { redirectBlockedClients, routeCommand } from "./routing.ts";
import { decodeBus, encodeBus, PacketFramer } from "./bus/adapter.ts";
import { Failover } from "./failover.ts";
import { debugHooks, debugState } from "../commands/debug.ts";
import { resolve } from "node:path";

/** Runtime hooks replication and failover attach to (issue: replicas and failover). */
export interface ClusterReplicationHooks {
  /** Start replicating from ip:port, or become a master when ip is null. */
  setMaster(ip: string | null, port: number): void;
  /** Our replication offset (master_repl_offset or the replica's processed offset). */
  offset(): number;
  /** Milliseconds since the last interaction with the master (or since the link went down). */
  dataAgeMs?(): number;
}

/** A bus connection. */
class BusLink implements NodeLink {
  ctime = Date.now();
  node: ClusterNode | null = null;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private writing = false;
  closed = false;
  framer = new PacketFramer();
  peerIp = "";
  localIp = "";
  constructor(public conn: Deno.Conn | null, public inbound: boolean) {}

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    this.queue.push(bytes);
    this.queued += bytes.length;
    if (!this.writing && this.conn) this.drain();
  }

  /** Starts writing queued packets (called again once connected). */
  async drain(): Promise<void> {
    if (this.writing || !this.conn) return;
    this.writing = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const b = this.queue.shift()!;
        let off = 0;
        while (off < b.length) off += await this.conn.write(b.subarray(off));
        this.queued -= b.length;
      }
    } catch {
      this.close();
    } finally {
      this.writing = false;
    }
  }

  sendBufferBytes(): number {
    return this.queued;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn?.close();
    } catch { /* closed */ }
  }
}

/** Cluster mode state attached to a server. */
export class ClusterRuntime {
  st: ClusterState;
  configFile: string;
  listeners: Deno.Listener[] = [];
  inbound = new Set<BusLink>();
  replication: ClusterReplicationHooks | null = null;
  private iteration = 0;
  /** ip:port replication was last pointed at (so the cron re-points it after address changes). */
  replicationTarget = "";
  private lockFile: Deno.FsFile | null = null;
  /** Extra per-iteration work (failover, replica migration), installed by later subsystems. */
  cronExtensions: ((rt: ClusterRuntime) => void)[] = [];

  constructor(public server: Server) {
    this.configFile = resolve(server.config.str("cluster-config-file"));
    this.st = new ClusterState({
      now: () => Date.now(),
      log: (level, msg) => this.log(level, msg),
      sendPing: (link, type) => this.sendPing(link, type),
      broadcastFail: (name) => this.broadcastFail(name),
      sendUpdate: (link, about) => this.sendUpdate(link, about),
      delKeysInSlot: (slot) => this.delKeysInSlot(slot),
      countKeysInSlot: (slot) => server.dbs[0].slotIndex?.count(slot) ?? 0,
      setReplicationMaster: (ip, port) => {
        this.replicationTarget = ip === null ? "" : `${ip}:${port}`;
        this.replication?.setMaster(ip, port);
      },
      publish: (ch, msg, shard) => {
        if (shard) server.pubsub.publishShard(ch, msg);
        else server.pubsub.publish(ch, msg);
      },
      freeLink: (link) => this.freeLink(link as BusLink),
    });
    this.applyConfig();
  }

  /** Logs through the server logger. */
  log(level: "debug" | "verbose" | "notice" | "warning", msg: string): void {
    log[level](msg);
  }

  /** Copies cluster-* directives into the state. */
  applyConfig(): void {
    const cfg = this.server.config;
    this.st.nodeTimeout = cfg.int("cluster-node-timeout");
    this.st.requireFullCoverage = cfg.bool("cluster-require-full-coverage");
    this.st.allowReplicaMigration = cfg.bool("cluster-allow-replica-migration");
    this.st.announceIp = cfg.str("cluster-announce-ip");
    this.st.myself.hostname = cfg.str("cluster-announce-hostname");
    const me = this.st.myself;
    // Gossiped so that the other replicas' election ranks ignore this node.
    if (cfg.bool("cluster-replica-no-failover")) me.flags |= NODE_NOFAILOVER;
    else me.flags &= ~NODE_NOFAILOVER;
    const ports = this.announcedPorts();
    me.port = ports.port;
    me.pport = ports.pport;
    me.cport = ports.cport;
    if (this.st.announceIp) me.ip = this.st.announceIp;
  }

  /** The ports this node announces: client port, plaintext port, bus port. */
  announcedPorts(): { port: number; pport: number; cport: number } {
    const cfg = this.server.config;
    const port = cfg.int("cluster-announce-port") || cfg.int("port");
    const cport = cfg.int("cluster-announce-bus-port") || this.busPort();
    return { port, pport: 0, cport };
  }

  /** The port the bus listens on. */
  busPort(): number {
    const cfg = this.server.config;
    return cfg.int("cluster-port") || cfg.int("port") + 10000;
  }

  /** Loads nodes.conf or creates a fresh identity; exits on a corrupt or locked file. */
  loadConfig(): void {
    this.lockFile = lockNodesConf(this.configFile);
    if (!this.lockFile) {
      log.warning(
        `Sorry, the cluster configuration file ${
          this.server.config.str("cluster-config-file")
        } is already used by a different Redis Cluster node. Please make sure that different nodes use different cluster configuration files.`,
      );
      Deno.exit(1);
    }
    let text = "";
    try {
      text = Deno.readTextFileSync(this.configFile);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        log.warning(
          `Loading the cluster node config from ${this.configFile}: ${(e as Error).message}`,
        );
        Deno.exit(1);
      }
    }
    if (text.trim() === "") {
      log.notice(`No cluster configuration found, I'm ${this.st.myself.name}`);
      this.saveConfig(true);
      return;
    }
    try {
      parseNodesConf(this.st, text);
    } catch (e) {
      log.warning(
        `Unrecoverable error: corrupted cluster config file "${this.configFile}": ${
          (e as Error).message
        }`,
      );
      Deno.exit(1);
    }
    log.notice(`Node configuration loaded, I'm ${this.st.myself.name}`);
    this.applyConfig();
  }

  /** Writes nodes.conf atomically. Throws on I/O errors. */
  saveConfig(_fsync: boolean): void {
    this.st.todo &= ~(TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG);
    atomicWriteFileSync(this.configFile, formatNodesConf(this.st));
  }

  /** Runs the work flagged during an event (Redis's clusterBeforeSleep). */
  afterCommand(): void {
    const todo = this.st.todo;
    if (todo === 0) return;
    this.st.todo = 0;
    if (todo & TODO_UPDATE_STATE) this.st.updateState();
    if (todo & TODO_SAVE_CONFIG) {
      try {
        this.saveConfig(!!(todo & TODO_FSYNC_CONFIG));
      } catch (e) {
        log.warning(`Fatal: can't update cluster config file: ${(e as Error).message}`);
        Deno.exit(1);
      }
    }
  }

  /** CLUSTER MEET. */
  meet(ip: string, port: number, cport: number): "ok" | "invalid" {
    const ok = this.st.startHandshake(ip, port, cport);
    if (!ok) {
      // "in progress" is not an error for MEET; only a malformed address is.
      const valid = port > 0 && port <= 65535 && cport > 0 && cport <= 65535 &&
        /^[0-9a-fA-F:.]+$/.test(ip);
      return valid && (ip.includes(":") || /^\d+\.\d+\.\d+\.\d+$/.test(ip)) ? "ok" : "invalid";
    }
    return "ok";
  }

  /** Our replication offset, for CLUSTER SHARDS/SLOTS and the bus header. */
  myReplicationOffset(): number {
    return this.replication?.offset() ?? 0;
  }

  /** CLUSTER BUMPEPOCH: true if the epoch moved. */
  bumpEpochWithoutConsensus(): boolean {
    const st = this.st;
    const max = st.maxEpoch();
    if (st.myself.configEpoch === 0 || BigInt(st.myself.configEpoch) !== max) {
      st.currentEpoch++;
      st.myself.configEpoch = Number(st.currentEpoch);
      st.doBeforeSleep(TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG);
      log.warning(`New configEpoch set to ${st.myself.configEpoch}`);
      return true;
    }
    return false;
  }

  /** CLUSTER FAILOVER back end; replaced by the failover subsystem. Returns an error or null. */
  manualFailover(_force: boolean, _takeover: boolean): string | null {
    const me = this.st.myself;
    if (me.isMaster) return "ERR You should send CLUSTER FAILOVER to a replica";
    if (!me.slaveof) return "ERR I'm a replica but my master is unknown to me";
    return this.failoverHandler
      ? this.failoverHandler(_force, _takeover)
      : "ERR manual failover is not available yet";
  }

  /** Installed by the failover subsystem. */
  failoverHandler: ((force: boolean, takeover: boolean) => string | null) | null = null;

  /** CLUSTER SETSLOT. */
  setSlot(c: Client, argv: string[]): void {
    const st = this.st;
    const me = st.myself;
    if (me.isReplica) return c.error("ERR Please use SETSLOT only with masters.");
    const slot = /^\d+$/.test(argv[2]) ? Number(argv[2]) : -1;
    if (slot < 0 || slot >= CLUSTER_SLOTS) return c.error("ERR Invalid or out of range slot");
    const action = argv[3].toLowerCase();
    const keysInSlot = () => this.server.dbs[0].slotIndex?.count(slot) ?? 0;
    if (action === "migrating" && argv.length === 5) {
      if (st.slots[slot] !== me) return c.error(`ERR I'm not the owner of hash slot ${slot}`);
      const n = st.lookup(argv[4]);
      if (!n) return c.error(`ERR I don't know about node ${argv[4]}`);
      if (n.isReplica) return c.error("ERR Target node is not a master");
      st.migratingTo[slot] = n;
    } else if (action === "importing" && argv.length === 5) {
      if (st.slots[slot] === me) return c.error(`ERR I'm already the owner of hash slot ${slot}`);
      const n = st.lookup(argv[4]);
      if (!n) return c.error(`ERR I don't know about node ${argv[4]}`);
      if (n.isReplica) return c.error("ERR Target node is not a master");
      st.importingFrom[slot] = n;
    } else if (action === "stable" && argv.length === 4) {
      st.importingFrom[slot] = null;
      st.migratingTo[slot] = null;
    } else if (action === "node" && argv.length === 5) {
      const n = st.lookup(argv[4]);
      if (!n) return c.error(`ERR Unknown node ${argv[4]}`);
      if (n.isReplica) return c.error("ERR Target node is not a master");
      if (st.slots[slot] === me && n !== me && keysInSlot() !== 0) {
        return c.error(
          `ERR Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`,
        );
      }
      if (keysInSlot() === 0 && st.migratingTo[slot]) st.migratingTo[slot] = null;
      const wasMine = st.slots[slot] === me;
      st.delSlot(slot);
      st.addSlot(n, slot);
      if (wasMine && n !== me && me.numslots === 0 && st.allowReplicaMigration) {
        log.warning(
          `Configuration change detected. Reconfiguring myself as a replica of ${n.name}`,
        );
        st.setMyMaster(n);
        st.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE | TODO_FSYNC_CONFIG);
      }
      if (n === me && st.importingFrom[slot]) {
        if (this.bumpEpochWithoutConsensus()) {
          log.warning(`configEpoch updated after importing slot ${slot}`);
        }
        st.importingFrom[slot] = null;
        this.broadcastPong(false);
      }
    } else {
      return c.error("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
    }
    st.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
    c.out.status("OK");
  }

  /** CLUSTER RESET [HARD]. */
  reset(hard: boolean): void {
    const st = this.st;
    const me = st.myself;
    if (me.isReplica) {
      st.setNodeAsMaster(me);
      this.replication?.setMaster(null, 0);
      for (const db of this.server.dbs) db.clear();
    }
    st.closeAllSlots();
    for (let j = 0; j < CLUSTER_SLOTS; j++) st.delSlot(j);
    for (const n of [...st.nodes.values()]) if (n !== me) st.delNode(n);
    if (hard) {
      st.currentEpoch = 0n;
      st.lastVoteEpoch = 0n;
      me.configEpoch = 0;
      log.warning("configEpoch set to 0 via CLUSTER RESET HARD");
      st.nodes.delete(me.name);
      me.name = randomNodeId();
      st.nodes.set(me.name, me);
      log.notice(`Node hard reset, now I'm ${me.name}`);
    }
    st.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE | TODO_FSYNC_CONFIG);
  }

  /** CLUSTER LINKS reply. */
  replyLinks(c: Client): void {
    const links: BusLink[] = [];
    for (const n of this.st.nodes.values()) {
      if (n.link) links.push(n.link as BusLink);
      if (n.inboundLink) links.push(n.inboundLink as BusLink);
    }
    c.out.array(links.length);
    for (const l of links) {
      c.out.map(6);
      c.out.bulk("direction");
      c.out.bulk(l.inbound ? "from" : "to");
      c.out.bulk("node");
      c.out.bulk(l.node!.name);
      c.out.bulk("create-time");
      c.out.int(l.ctime);
      c.out.bulk("events");
      c.out.bulk(l.sendBufferBytes() > 0 ? "rw" : "r");
      c.out.bulk("send-buffer-allocated");
      c.out.int(l.sendBufferBytes());
      c.out.bulk("send-buffer-used");
      c.out.int(l.sendBufferBytes());
    }
  }

  private delKeysInSlot(slot: number): void {
    const db = this.server.dbs[0];
    const keys = db.slotIndex?.keys(slot, Infinity) ?? [];
    for (const k of keys) {
      db.delete(k);
      this.server.propagate(0, ["DEL", k]);
    }
  }

  // ---- message building ----

  private header(type: number): BusMessage {
    const st = this.st;
    const me = st.myself;
    const master = me.isReplica && me.slaveof ? me.slaveof : me;
    const ports = this.announcedPorts();
    return {
      type,
      sender: me.name,
      currentEpoch: st.currentEpoch,
      configEpoch: BigInt(master.configEpoch),
      offset: BigInt(this.myReplicationOffset()),
      myslots: master.slots,
      slaveof: me.slaveof ? me.slaveof.name : null,
      myip: st.announceIp,
      port: ports.port,
      pport: ports.pport,
      cport: ports.cport,
      flags: me.flags,
      state: st.state === "ok" ? 0 : 1,
      mflags: this.mfPaused() ? MF_PAUSED : 0,
      gossip: [],
      hostname: null,
    };
  }

  /** Whether a manual failover paused us (set by the failover subsystem). */
  mfPaused: () => boolean = () => false;

  private sendMsg(link: NodeLink, msg: BusMessage): void {
    const bytes = encodeBus(msg);
    if (msg.type < this.st.statsSent.length) this.st.statsSent[msg.type]++;
    link.send(bytes);
  }

  /** Sends PING/PONG/MEET with gossip (and the hostname extension when announced). */
  sendPing(link: NodeLink, type: number): void {
    const msg = this.header(type);
    if (!link.inbound && type === MSG_PING && link.node) link.node.pingSent = Date.now();
    for (const n of this.st.gossipCandidates()) msg.gossip.push(gossipOf(n));
    const hostname = this.st.myself.hostname;
    if (hostname !== "") {
      msg.hostname = hostname;
      msg.mflags |= MF_EXT_DATA;
    }
    this.sendMsg(link, msg);
  }

  /** Broadcasts a PONG to all connected nodes (or only local replicas). */
  broadcastPong(localReplicasOnly: boolean): void {
    const me = this.st.myself;
    for (const n of this.st.nodes.values()) {
      if (!n.link || n === me || n.inHandshake) continue;
      if (localReplicasOnly) {
        const local = n.isReplica && n.slaveof && (n.slaveof === me || n.slaveof === me.slaveof);
        if (!local) continue;
      }
      this.sendPing(n.link, 1);
    }
  }

  /** Sends a message to every connected, handshaked node. */
  broadcast(msg: BusMessage): void {
    for (const n of this.st.nodes.values()) {
      if (!n.link || n.flags & (NODE_MYSELF | NODE_HANDSHAKE)) continue;
      this.sendMsg(n.link, msg);
    }
  }

  private broadcastFail(name: string): void {
    const msg = this.header(MSG_FAIL);
    msg.failNode = name;
    this.broadcast(msg);
  }

  private sendUpdate(link: NodeLink, about: ClusterNode): void {
    const msg = this.header(MSG_UPDATE);
    const slots = new Uint8Array(about.slots);
    for (let i = 0; i < slots.length; i++) slots[i] &= ~this.st.ownerNotClaiming[i];
    msg.update = { configEpoch: BigInt(about.configEpoch), nodename: about.name, slots };
    this.sendMsg(link, msg);
  }

  /** Propagates PUBLISH / SPUBLISH over the bus. */
  publish(channel: string, message: string, shard: boolean): void {
    const msg = this.header(shard ? MSG_PUBLISHSHARD : MSG_PUBLISH);
    msg.publish = { channel, message };
    if (!shard) return this.broadcast(msg);
    const me = this.st.myself;
    const master = me.isReplica && me.slaveof ? me.slaveof : me;
    for (const n of [master, ...master.replicas]) {
      if (n !== me && n.link) this.sendMsg(n.link, msg);
    }
  }

  /** Sends a message to one node's link (failover requests/acks). */
  sendTo(n: ClusterNode, type: number, fill?: (m: BusMessage) => void): void {
    if (!n.link) return;
    const msg = this.header(type);
    fill?.(msg);
    this.sendMsg(n.link, msg);
  }

  /** Builds a header-only message for broadcast by the failover subsystem. */
  buildHeader(type: number): BusMessage {
    return this.header(type);
  }

  // ---- links ----

  private freeLink(link: BusLink): void {
    link.close();
    this.inbound.delete(link);
    if (link.node) {
      if (link.node.link === link) link.node.link = null;
      if (link.node.inboundLink === link) link.node.inboundLink = null;
    }
  }

  /** Opens the bus listeners on every bind address. */
  listen(): void {
    const port = this.busPort();
    const binds = this.server.config.get("bind") as string[];
    const addrs = binds.length === 0 ? ["*", "-::*"] : binds;
    for (const raw of addrs) {
      const optional = raw.startsWith("-");
      const b = optional ? raw.slice(1) : raw;
      const hostname = b === "*" ? "0.0.0.0" : b === "::*" ? "::" : b;
      try {
        const l = Deno.listen({ hostname, port, transport: "tcp" });
        this.listeners.push(l);
        this.acceptLoop(l);
      } catch (e) {
        if (
          e instanceof Deno.errors.AddrInUse && (hostname === "::" || hostname === "0.0.0.0") &&
          this.listeners.length
        ) {
          continue;
        }
        if (optional) continue;
        log.warning(`Could not bind cluster bus port ${b}:${port}: ${(e as Error).message}`);
        log.warning(`Failed listening on port ${port} (cluster), aborting.`);
        Deno.exit(1);
      }
    }
  }

  private async acceptLoop(l: Deno.Listener): Promise<void> {
    try {
      for await (const conn of l) {
        const link = new BusLink(conn, true);
        link.peerIp = (conn.remoteAddr as Deno.NetAddr).hostname;
        link.localIp = (conn.localAddr as Deno.NetAddr).hostname;
        this.inbound.add(link);
        this.readLoop(link);
      }
    } catch { /* closed */ }
  }

  private async readLoop(link: BusLink): Promise<void> {
    const buf = new Uint8Array(65536);
    try {
      while (!link.closed) {
        const n = await link.conn!.read(buf);
        if (n === null) break;
        link.framer.push(buf.subarray(0, n));
        while (true) {
          const pkt = link.framer.next();
          if (pkt === null) break;
          if (typeof pkt === "string") {
            log.warning(`Bad message length or signature received from Cluster bus: ${pkt}`);
            this.freeLink(link);
            return;
          }
          const msg = decodeBus(pkt);
          if (typeof msg === "string") {
            log.warning(`Dropping malformed cluster bus packet from ${link.peerIp}: ${msg}`);
            continue;
          }
          this.st.dropPacketFilter = debugState.dropClusterPacketFilter;
          const alive = this.st.processPacket(link, msg, link.peerIp, link.localIp);
          this.afterCommand();
          if (!alive || link.closed) return;
        }
      }
    } catch { /* reset */ }
    this.freeLink(link);
  }

  private connect(node: ClusterNode): void {
    const link = new BusLink(null, false);
    link.node = node;
    node.link = link;
    const oldPingSent = node.pingSent;
    Deno.connect({ hostname: node.ip, port: node.cport }).then((conn) => {
      if (link.closed || node.link !== link) {
        conn.close();
        return;
      }
      link.conn = conn;
      link.peerIp = (conn.remoteAddr as Deno.NetAddr).hostname;
      link.localIp = (conn.localAddr as Deno.NetAddr).hostname;
      this.sendPing(link, node.flags & NODE_MEET ? MSG_MEET : MSG_PING);
      if (oldPingSent) node.pingSent = oldPingSent;
      node.flags &= ~NODE_MEET;
      link.drain();
      this.readLoop(link);
    }).catch((e) => {
      log.debug(
        `Connection with Node ${node.name} at ${node.ip}:${node.cport} failed: ${
          (e as Error).message
        }`,
      );
      if (node.pingSent === 0) node.pingSent = Date.now();
      this.freeLink(link);
    });
  }

  // ---- cron ----

  /** The 100 ms cluster cron (Redis's clusterCron). */
  cron(): void {
    const st = this.st;
    this.iteration++;
    const now = Date.now();
    const timeout = st.nodeTimeout;
    const handshakeTimeout = Math.max(timeout, 1000);
    st.myself.hostname = this.server.config.str("cluster-announce-hostname");
    st.statsPfailNodes = 0;
    for (const node of [...st.nodes.values()]) {
      if (node.flags & (NODE_MYSELF | NODE_NOADDR)) continue;
      if (node.flags & NODE_PFAIL) st.statsPfailNodes++;
      if (node.inHandshake && now - node.ctime > handshakeTimeout) {
        st.delNode(node);
        continue;
      }
      if (node.link === null) this.connect(node);
      const limit = this.server.config.int("cluster-link-sendbuf-limit");
      for (const l of [node.link, node.inboundLink]) {
        if (l && limit > 0 && l.sendBufferBytes() > limit) {
          log.warning(
            `Freeing cluster link(${
              l.inbound ? "from" : "to"
            } node ${node.name}) due to exceeding send buffer memory limit.`,
          );
          this.freeLink(l as BusLink);
          st.linksBufferLimitExceeded++;
        }
      }
    }
    if (this.iteration % 10 === 0) {
      // Ping the node with the oldest pong among five random ones.
      const all = [...st.nodes.values()];
      let minPong: ClusterNode | null = null;
      for (let j = 0; j < 5 && all.length > 0; j++) {
        const n = all[Math.floor(Math.random() * all.length)];
        if (n.link === null || n.pingSent !== 0 || n.flags & (NODE_MYSELF | NODE_HANDSHAKE)) {
          continue;
        }
        if (!minPong || minPong.pongReceived > n.pongReceived) minPong = n;
      }
      if (minPong) this.sendPing(minPong.link!, MSG_PING);
    }
    let updateState = false;
    for (const node of st.nodes.values()) {
      if (node.flags & (NODE_MYSELF | NODE_NOADDR | NODE_HANDSHAKE)) continue;
      const t = Date.now();
      const pingDelay = t - node.pingSent;
      const dataDelay = t - node.dataReceived;
      if (
        node.link && t - node.link.ctime > timeout && node.pingSent && pingDelay > timeout / 2 &&
        dataDelay > timeout / 2
      ) {
        this.freeLink(node.link as BusLink);
      }
      if (node.link && node.pingSent === 0 && t - node.pongReceived > timeout / 2) {
        this.sendPing(node.link, MSG_PING);
        continue;
      }
      if (node.pingSent === 0) continue;
      const delay = Math.min(pingDelay, dataDelay);
      if (delay > timeout && !(node.flags & (NODE_PFAIL | NODE_FAIL))) {
        log.debug(`*** NODE ${node.name} possibly failing`);
        node.flags |= NODE_PFAIL;
        updateState = true;
      }
    }
    // A replica makes sure replication follows its master's current address.
    const me = st.myself;
    if (me.isReplica && me.slaveof && me.slaveof.hasAddr && this.replication) {
      const addr = `${me.slaveof.ip}:${me.slaveof.port}`;
      if (this.replicationTarget !== addr) {
        this.replicationTarget = addr;
        this.replication.setMaster(me.slaveof.ip, me.slaveof.port);
      }
    } else if (me.isMaster) this.replicationTarget = "";
    for (const ext of this.cronExtensions) ext(this);
    if (updateState || st.state === "fail") st.updateState();
    this.afterCommand();
  }

  /** DEBUG CLUSTERLINK KILL to|from|all <node-id>: returns an error text or null. */
  killLinks(direction: string, id: string): string | null {
    const n = this.st.lookup(id);
    if (!n) return `ERR Unknown node ${id}`;
    const d = direction.toLowerCase();
    if (d !== "to" && d !== "from" && d !== "all") return `ERR Unknown direction ${direction}`;
    if ((d === "from" || d === "all") && n.inboundLink) this.freeLink(n.inboundLink as BusLink);
    if ((d === "to" || d === "all") && n.link) this.freeLink(n.link as BusLink);
    return null;
  }

  /** Stops listeners and links (shutdown). */
  close(): void {
    for (const l of this.listeners) {
      try {
        l.close();
      } catch { /* closed */ }
    }
    for (const n of this.st.nodes.values()) {
      n.link?.close();
      n.inboundLink?.close();
    }
    for (const l of this.inbound) l.close();
  }
}

function gossipOf(n: ClusterNode): GossipEntry {
  return {
    nodename: n.name,
    pingSent: Math.floor(n.pingSent / 1000),
    pongReceived: Math.floor(n.pongReceived / 1000),
    ip: n.ip,
    port: n.port,
    cport: n.cport,
    flags: n.flags,
    pport: n.pport,
  };
}

/** The cluster runtime of a server, or null when cluster mode is off. */
export function clusterOf(server: Server): ClusterRuntime | null {
  return (server as unknown as { cluster?: ClusterRuntime | null }).cluster ?? null;
}

register((server) => {
  if (!server.config.bool("cluster-enabled")) {
    server.infoSections.set("cluster", () => "cluster_enabled:0");
    return;
  }
  const rt = new ClusterRuntime(server);
  (server as unknown as { cluster: ClusterRuntime }).cluster = rt;
  rt.loadConfig();
  server.loadAsReplica = rt.st.myself.isReplica;
  server.dbs[0].enableSlotIndex();
  routing.check = (c, spec, argv) => routeCommand(rt.st, server.config, c, spec, argv);
  server.infoSections.set("cluster", () => "cluster_enabled:1");
  for (
    const name of [
      "cluster-node-timeout",
      "cluster-require-full-coverage",
      "cluster-allow-replica-migration",
      "cluster-replica-no-failover",
    ]
  ) {
    server.config.onChange(name, () => void rt.applyConfig());
  }
  server.config.onChange("cluster-announce-hostname", (v) => {
    const s = String(v);
    if (s.length >= 256) return "Hostnames must be less than 256 characters";
    if (!/^[a-zA-Z0-9.-]*$/.test(s)) {
      return "Hostnames may only contain alphanumeric characters, hyphens or dots";
    }
    rt.applyConfig();
  });
  for (
    const name of [
      "cluster-announce-ip",
      "cluster-announce-port",
      "cluster-announce-bus-port",
      "cluster-announce-tls-port",
    ]
  ) {
    server.config.onChange(name, () => {
      rt.applyConfig();
      rt.st.doBeforeSleep(TODO_SAVE_CONFIG);
    });
  }
  new Failover(rt);
  server.pubsub.clusterPublish = (channel, message, shard) => rt.publish(channel, message, shard);
  debugHooks.clusterLinkKill = (_s, direction, id) => rt.killLinks(direction, id);
  rt.listen();
  rt.st.updateState();
  server.cronHooks.push(() => rt.cron());
  server.cronHooks.push(() => {
    if (server.blocking.blockedCount > 0) {
      redirectBlockedClients(rt.st, server.config, server.clients.values());
    }
  });
  server.shutdownHooks.push(() => {
    try {
      rt.saveConfig(true);
    } catch (e) {
      log.warning(`Fatal: can't update cluster config file: ${(e as Error).message}`);
    }
    rt.close();
  });
}, rank("cluster"));
