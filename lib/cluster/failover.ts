// Replica elections, votes, manual failover (CLUSTER FAILOVER [FORCE|TAKEOVER]) and replica
// migration, after Redis 7.0's clusterHandleSlaveFailover and friends. Runs from the cluster
// cron and from bus messages; state lives here, cluster state in ClusterState.
import type { ClusterRuntime } from "./runtime.ts";
import type { ClusterNode, NodeLink } from "./node.ts";
import {
  type BusMessage,
  MF_FORCEACK,
  MSG_FAILOVER_AUTH_ACK,
  MSG_FAILOVER_AUTH_REQUEST,
  MSG_MFSTART,
  MSG_PING,
  TODO_FSYNC_CONFIG,
  TODO_SAVE_CONFIG,
  TODO_UPDATE_STATE,
} from "./state.ts";
import { CLUSTER_SLOTS, NODE_NOFAILOVER } from "./node.ts";
import { log } from "../log.ts";

const MF_TIMEOUT = 5000;
const MF_PAUSE_MULT = 2;
const MIGRATION_DELAY = 5000;
const RELOG_PERIOD = 300_000;

type CantReason = "none" | "data-age" | "waiting-delay" | "expired" | "waiting-votes";

const CANT_MSG: Record<Exclude<CantReason, "none">, string> = {
  "data-age":
    "Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.",
  "waiting-delay": "Waiting the delay before I can start a new failover.",
  "expired": "Failover attempt expired.",
  "waiting-votes": "Waiting for votes, but majority still not reached.",
};

/** Election and manual-failover state of this node. */
export class Failover {
  authTime = 0;
  authCount = 0;
  authSent = false;
  authRank = 0;
  authEpoch = 0n;
  mfEnd = 0;
  mfCanStart = false;
  mfSlave: ClusterNode | null = null;
  mfMasterOffset = -1;
  private cantReason: CantReason = "none";
  private lastLog = 0;

  constructor(public rt: ClusterRuntime) {
    const io = rt.st.io;
    io.onAuthRequest = (sender, msg) => this.onAuthRequest(sender, msg);
    io.onAuthAck = (sender, msg) => this.onAuthAck(sender, msg);
    io.onMfStart = (sender, link) => this.onMfStart(sender, link);
    io.onMasterPausedOffset = (sender) => {
      if (this.mfEnd && this.mfMasterOffset === -1) {
        this.mfMasterOffset = sender.replOffset;
        log.warning(
          `Received replication offset for paused master manual failover: ${this.mfMasterOffset}`,
        );
        this.handleManualFailover();
      }
    };
    rt.failoverHandler = (force, takeover) => this.userFailover(force, takeover);
    rt.mfPaused = () => rt.st.myself.isMaster && this.mfEnd !== 0;
    rt.cronExtensions.push(() => this.cron());
  }

  private get st() {
    return this.rt.st;
  }

  private offset(): number {
    return this.rt.myReplicationOffset();
  }

  /** Forgets any manual failover in progress (and unpauses clients on a master). */
  resetManual(): void {
    if (this.mfSlave) {
      this.rt.server.pauseUntil = 0;
      this.rt.server.pauseWritesOnly = false;
    }
    this.mfEnd = 0;
    this.mfCanStart = false;
    this.mfSlave = null;
    this.mfMasterOffset = -1;
  }

  private logCant(reason: Exclude<CantReason, "none">): void {
    const now = Date.now();
    if (reason === this.cantReason && now - this.lastLog < RELOG_PERIOD) return;
    this.cantReason = reason;
    const master = this.st.myself.slaveof;
    if (master && master.failed && now - master.failTime < this.st.nodeTimeout + 5000) return;
    this.lastLog = now;
    log.warning(`Currently unable to failover: ${CANT_MSG[reason]}`);
  }

  /** Rank among my master's replicas by replication offset (0 = best). */
  rank(): number {
    const me = this.st.myself;
    const master = me.slaveof;
    if (!master) return 0;
    const mine = this.offset();
    let rank = 0;
    for (const r of master.replicas) {
      if (r !== me && !(r.flags & NODE_NOFAILOVER) && r.replOffset > mine) rank++;
    }
    return rank;
  }

  /** The per-cron work: manual failover timeout and progress, elections, replica migration. */
  cron(): void {
    if (this.mfEnd && this.mfEnd < Date.now()) {
      log.warning("Manual failover timed out.");
      this.resetManual();
    }
    const me = this.st.myself;
    if (!me.isReplica) return;
    this.handleManualFailover();
    this.handleReplicaFailover();
    this.handleMigration();
  }

  /** Replica side: wait for the master's paused offset, then allow the election. */
  handleManualFailover(): void {
    if (this.mfEnd === 0 || this.mfCanStart || this.mfMasterOffset === -1) return;
    if (this.mfMasterOffset === this.offset()) {
      this.mfCanStart = true;
      log.warning("All master replication stream processed, manual failover can start.");
      this.handleReplicaFailover();
    }
  }

  /** The election state machine (Redis's clusterHandleSlaveFailover). */
  handleReplicaFailover(): void {
    const st = this.st;
    const me = st.myself;
    const now = Date.now();
    const authAge = now - this.authTime;
    const quorum = Math.floor(st.size / 2) + 1;
    const manual = this.mfEnd !== 0 && this.mfCanStart;
    const authTimeout = Math.max(st.nodeTimeout * 2, 2000);
    const authRetry = authTimeout * 2;
    const cfg = this.rt.server.config;
    const master = me.slaveof;
    if (
      me.isMaster || !master || (!master.failed && !manual) ||
      (cfg.bool("cluster-replica-no-failover") && !manual) || master.numslots === 0
    ) {
      this.cantReason = "none";
      return;
    }
    let dataAge = this.rt.replication?.dataAgeMs?.() ?? 0;
    if (dataAge > st.nodeTimeout) dataAge -= st.nodeTimeout;
    const factor = cfg.int("cluster-replica-validity-factor");
    if (factor && dataAge > cfg.int("repl-ping-replica-period") * 1000 + st.nodeTimeout * factor) {
      if (!manual) {
        this.logCant("data-age");
        return;
      }
    }
    if (authAge > authRetry) {
      this.authTime = now + 500 + Math.floor(Math.random() * 500);
      this.authCount = 0;
      this.authSent = false;
      this.authRank = this.rank();
      this.authTime += this.authRank * 1000;
      if (this.mfEnd) {
        this.authTime = now;
        this.authRank = 0;
      }
      log.warning(
        `Start of election delayed for ${
          this.authTime - now
        } milliseconds (rank #${this.authRank}, offset ${this.offset()}).`,
      );
      this.rt.broadcastPong(true);
      if (!this.mfEnd) return;
    }
    if (!this.authSent && this.mfEnd === 0) {
      const newRank = this.rank();
      if (newRank > this.authRank) {
        const added = (newRank - this.authRank) * 1000;
        this.authTime += added;
        this.authRank = newRank;
        log.warning(`Replica rank updated to #${newRank}, added ${added} milliseconds of delay.`);
      }
    }
    if (Date.now() < this.authTime) {
      this.logCant("waiting-delay");
      return;
    }
    if (Date.now() - this.authTime > authTimeout) {
      this.logCant("expired");
      return;
    }
    if (!this.authSent) {
      st.currentEpoch++;
      this.authEpoch = st.currentEpoch;
      log.warning(`Starting a failover election for epoch ${st.currentEpoch}.`);
      const msg = this.rt.buildHeader(MSG_FAILOVER_AUTH_REQUEST);
      if (this.mfEnd) msg.mflags |= MF_FORCEACK;
      this.rt.broadcast(msg);
      this.authSent = true;
      st.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE | TODO_FSYNC_CONFIG);
      return;
    }
    if (this.authCount >= quorum) {
      log.warning("Failover election won: I'm the new master.");
      if (BigInt(me.configEpoch) < this.authEpoch) {
        me.configEpoch = Number(this.authEpoch);
        log.warning(`configEpoch set to ${me.configEpoch} after successful failover`);
      }
      this.replaceMyMaster();
    } else {
      this.logCant("waiting-votes");
    }
  }

  /** Takes over the master's slots and announces it. */
  replaceMyMaster(): void {
    const st = this.st;
    const me = st.myself;
    const old = me.slaveof;
    if (me.isMaster || !old) return;
    st.setNodeAsMaster(me);
    this.rt.replication?.setMaster(null, 0);
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (old.hasSlot(j)) {
        st.delSlot(j);
        st.addSlot(me, j);
      }
    }
    st.updateState(false);
    this.rt.saveConfig(true);
    this.rt.broadcastPong(false);
    this.resetManual();
  }

  /** Master side: decide whether to vote for a replica's election. */
  onAuthRequest(node: ClusterNode, msg: BusMessage): void {
    const st = this.st;
    const me = st.myself;
    const master = node.slaveof;
    const reqCurrent = msg.currentEpoch;
    const reqConfig = Number(msg.configEpoch);
    const force = (msg.mflags & MF_FORCEACK) !== 0;
    if (me.isReplica || me.numslots === 0) return;
    if (reqCurrent < st.currentEpoch) {
      log.warning(
        `Failover auth denied to ${node.name}: reqEpoch (${reqCurrent}) < curEpoch(${st.currentEpoch})`,
      );
      return;
    }
    if (st.lastVoteEpoch === st.currentEpoch) {
      log.warning(
        `Failover auth denied to ${node.name}: already voted for epoch ${st.currentEpoch}`,
      );
      return;
    }
    if (node.isMaster || !master || (!master.failed && !force)) {
      const why = node.isMaster
        ? "it is a master node"
        : !master
        ? "I don't know its master"
        : "its master is up";
      log.warning(`Failover auth denied to ${node.name}: ${why}`);
      return;
    }
    const since = Date.now() - master.votedTime;
    if (since < st.nodeTimeout * 2) {
      log.warning(
        `Failover auth denied to ${node.name}: can't vote about this master before ${
          st.nodeTimeout * 2 - since
        } milliseconds`,
      );
      return;
    }
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (!(msg.myslots[j >> 3] & (1 << (j & 7)))) continue;
      if (st.slotUnclaimed(j) || st.slots[j]!.configEpoch <= reqConfig) continue;
      log.warning(
        `Failover auth denied to ${node.name}: slot ${j} epoch (${
          st.slots[j]!.configEpoch
        }) > reqEpoch (${reqConfig})`,
      );
      return;
    }
    st.lastVoteEpoch = st.currentEpoch;
    master.votedTime = Date.now();
    st.doBeforeSleep(TODO_SAVE_CONFIG | TODO_FSYNC_CONFIG);
    this.rt.sendTo(node, MSG_FAILOVER_AUTH_ACK);
    log.warning(`Failover auth granted to ${node.name} for epoch ${st.currentEpoch}`);
  }

  /** Replica side: count a vote. */
  onAuthAck(sender: ClusterNode, msg: BusMessage): void {
    if (sender.isMaster && sender.numslots > 0 && msg.currentEpoch >= this.authEpoch) {
      this.authCount++;
      this.handleReplicaFailover();
    }
  }

  /** Master side: a replica asks for a manual failover; pause writes and tell it our offset. */
  onMfStart(sender: ClusterNode, link: NodeLink): void {
    this.resetManual();
    const now = Date.now();
    this.mfEnd = now + MF_TIMEOUT;
    this.mfSlave = sender;
    const server = this.rt.server;
    server.pauseUntil = now + MF_TIMEOUT * MF_PAUSE_MULT;
    server.pauseWritesOnly = true;
    log.warning(`Manual failover requested by replica ${sender.name}.`);
    this.rt.sendPing(link, MSG_PING);
  }

  /** CLUSTER FAILOVER [FORCE|TAKEOVER] after the checks common to all forms. */
  userFailover(force: boolean, takeover: boolean): string | null {
    const me = this.st.myself;
    const master = me.slaveof!;
    if (!force && (master.failed || !master.link)) {
      return "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE";
    }
    this.resetManual();
    this.mfEnd = Date.now() + MF_TIMEOUT;
    if (takeover) {
      log.warning("Taking over the master (user request).");
      this.rt.bumpEpochWithoutConsensus();
      this.replaceMyMaster();
    } else if (force) {
      log.warning("Forced failover user request accepted.");
      this.mfCanStart = true;
    } else {
      log.warning("Manual failover user request accepted.");
      this.rt.sendTo(master, MSG_MFSTART);
    }
    return null;
  }

  /** Replica migration to orphaned masters (Redis's clusterHandleSlaveMigration). */
  handleMigration(): void {
    const st = this.st;
    const me = st.myself;
    const cfg = this.rt.server.config;
    if (!cfg.bool("cluster-allow-replica-migration") || st.state !== "ok" || !me.slaveof) return;
    let orphaned = 0;
    let maxReplicas = 0;
    let mine = 0;
    for (const n of st.nodes.values()) {
      if (!n.isMaster || n.failed || n === me) continue;
      const ok = n.okReplicas();
      if (ok === 0 && n.numslots > 0 && n.flags & 256 /* MIGRATE_TO */) orphaned++;
      if (ok > maxReplicas) maxReplicas = ok;
      if (me.slaveof === n) mine = ok;
    }
    if (!(orphaned && maxReplicas >= 2 && mine === maxReplicas)) return;
    const myMaster = me.slaveof;
    const okHere = myMaster.replicas.filter((r) => !r.failed && !r.timedOut).length;
    if (okHere <= cfg.int("cluster-migration-barrier")) return;
    let target: ClusterNode | null = null;
    let candidate: ClusterNode = me;
    const now = Date.now();
    for (const n of st.nodes.values()) {
      let isOrphan = !(n.isReplica || n.failed) && (n.flags & 256) !== 0;
      const ok = n.isMaster ? n.okReplicas() : 0;
      if (ok > 0) isOrphan = false;
      if (isOrphan) {
        if (!target && n.numslots > 0) target = n;
        if (!n.orphanedTime) n.orphanedTime = now;
      } else n.orphanedTime = 0;
      if (ok === maxReplicas) {
        for (const r of n.replicas) if (r.name < candidate.name) candidate = r;
      }
    }
    if (target && candidate === me && now - target.orphanedTime > MIGRATION_DELAY) {
      log.warning(`Migrating to orphaned master ${target.name}`);
      st.setMyMaster(target);
      st.doBeforeSleep(TODO_SAVE_CONFIG | TODO_UPDATE_STATE);
    }
  }
}
