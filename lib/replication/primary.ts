// The master side of replication: SYNC/PSYNC (partial resync from the backlog, or a full sync
// through fullsync.ts), REPLCONF, feeding the stream to replicas, the once-a-second duties of
// replicationCron (PING, newlines to replicas waiting for their RDB, timeouts, backlog TTL,
// min-replicas good count) and WAIT.
import type { Client } from "../server/client.ts";
import type { ClientOutputLimits } from "../config/directives.ts";
import { clientInfoLine } from "../commands/client_cmd.ts";
import { parseInteger } from "../commands/util.ts";
import { log } from "../log.ts";
import type { Replication } from "./state.ts";
import { type Announced, emptyAnnounced, ReplicaLink, replicaName } from "./link.ts";
import { FullSync } from "./fullsync.ts";
import { Waiters } from "./wait.ts";
import { unixTime } from "./wire.ts";

const E_NOT_INT = "ERR value is not an integer or out of range";

/** Connected replicas and everything a master does for them. */
export class Primary {
  links: ReplicaLink[] = [];
  /** REPLCONF announcements of clients that have not sent SYNC/PSYNC yet. */
  private announced = new WeakMap<Client, Announced>();
  private byClient = new WeakMap<Client, ReplicaLink>();
  readonly fullSync: FullSync;
  readonly waiters: Waiters;
  /** Replicas online with lag <= min-replicas-max-lag (refreshGoodSlavesCount). */
  goodReplicas = 0;
  private cronLoops = 0;

  constructor(public repl: Replication) {
    this.fullSync = new FullSync(this);
    this.waiters = new Waiters(this);
  }

  private get server() {
    return this.repl.server;
  }

  /** The link of a replica client, if it is one. */
  linkOf(c: Client): ReplicaLink | undefined {
    return this.byClient.get(c);
  }

  /** Output buffer limits from the config. */
  limits(): ClientOutputLimits {
    return this.server.config.get("client-output-buffer-limit") as ClientOutputLimits;
  }

  /** Sends stream bytes to every replica that takes them. */
  distribute(b: Uint8Array): void {
    if (this.links.length === 0) return;
    const limits = this.limits();
    for (const l of [...this.links]) l.feed(b, limits);
  }

  /** Closes every replica link (they reconnect and PSYNC). */
  disconnectAll(): void {
    for (const l of [...this.links]) l.close();
  }

  private gone(l: ReplicaLink): void {
    const i = this.links.indexOf(l);
    if (i < 0) return;
    this.links.splice(i, 1);
    log.notice(`Connection with replica ${l.name} lost.`);
    if (this.links.length === 0) this.repl.noReplicasSince = unixTime();
    this.refreshGoodReplicas();
  }

  /** Turns a client into a replica link (its socket now carries RDB and stream bytes only). */
  private attach(c: Client): ReplicaLink {
    const l = new ReplicaLink(
      c,
      c.transport!,
      this.announced.get(c) ?? emptyAnnounced(),
      (x) => this.gone(x),
    );
    this.byClient.set(c, l);
    this.links.push(l);
    return l;
  }

  /** SYNC / PSYNC <replid> <offset> [FAILOVER]. */
  sync(c: Client, argv: string[]): void {
    const repl = this.repl;
    if (c.isReplica || c.isMonitor) return;
    const psync = argv[0].toLowerCase() === "psync";
    if (psync && argv.length > 3 && argv[3].toLowerCase() === "failover") {
      log.warning(`Failover request received for replid ${argv[1]}.`);
      if (!repl.isReplica) return c.error("ERR PSYNC FAILOVER can't be sent to a master.");
      if (argv[1].toLowerCase() !== repl.replid) {
        return c.error("ERR PSYNC FAILOVER replid must match my replid.");
      }
      repl.replica.unsetMaster();
      log.notice(`MASTER MODE enabled (failover request from '${clientInfoLine(c)}')`);
    }
    if (repl.isReplica && repl.replica.state !== "connected") {
      return c.error("NOMASTERLINK Can't SYNC while not connected with my master");
    }
    if (c.out.len > 0) return c.error("ERR SYNC and PSYNC are invalid with pending output");
    const ann = this.announced.get(c) ?? emptyAnnounced();
    if (ann.noData && !ann.capaEof) return c.error("ERR Filtered replica requires EOF capability");
    const name = replicaName(c, ann);
    log.notice(`Replica ${name} asks for synchronization`);
    let prePsync = false;
    if (psync) {
      const offset = parseInteger(argv[2]);
      if (offset === null) {
        log.warning(`Replica ${name} asks for synchronization but with a wrong offset`);
        return c.error(E_NOT_INT);
      }
      if (this.tryPartial(c, argv[1], offset, name)) {
        this.server.stats.syncPartialOk++;
        return;
      }
      if (argv[1] !== "?") this.server.stats.syncPartialErr++;
    } else prePsync = true;

    this.server.stats.syncFull++;
    const l = this.attach(c);
    l.prePsync = prePsync;
    l.state = "wait_bgsave_start";
    if (this.links.length === 1 && repl.backlog === null) {
      // A backlog created from scratch starts a new history.
      repl.changeReplicationId();
      repl.clearReplicationId2();
      repl.createBacklog();
      log.notice(
        `Replication backlog created, my new replication IDs are '${repl.replid}' and '${repl.replid2}'`,
      );
    }
    this.fullSync.onNewReplica(l);
  }

  /** masterTryPartialResynchronization: true when the replica continues from the backlog. */
  private tryPartial(c: Client, replid: string, offset: number, name: string): boolean {
    const repl = this.repl;
    const id = replid.toLowerCase();
    if (id !== repl.replid && (id !== repl.replid2 || offset > repl.secondReplOffset)) {
      if (replid[0] !== "?") {
        if (id !== repl.replid && id !== repl.replid2) {
          log.notice(
            `Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '${replid}', my replication IDs are '${repl.replid}' and '${repl.replid2}')`,
          );
        } else {
          log.notice(
            `Partial resynchronization not accepted: Requested offset for second ID was ${offset}, but I can reply up to ${repl.secondReplOffset}`,
          );
        }
      } else log.notice(`Full resync requested by replica ${name}`);
      return false;
    }
    const bl = repl.backlog;
    if (bl === null || offset < bl.offset || offset > bl.offset + bl.histlen) {
      log.notice(
        `Unable to partial resync with replica ${name} for lack of backlog (Replica request was: ${offset}).`,
      );
      if (offset > repl.masterReplOffset) {
        log.warning(
          `Warning: replica ${name} tried to PSYNC with an offset that is greater than the master replication offset.`,
        );
      }
      return false;
    }
    const l = this.attach(c);
    l.state = "online";
    l.ackTime = unixTime();
    l.write(l.announced.capaPsync2 ? `+CONTINUE ${repl.replid}\r\n` : "+CONTINUE\r\n");
    const data = bl.copyFrom(offset);
    l.write(data);
    l.startStream();
    log.notice(
      `Partial resynchronization request from ${name} accepted. Sending ${data.length} bytes of backlog starting from offset ${offset}.`,
    );
    this.refreshGoodReplicas();
    return true;
  }

  /** A replica received its RDB: online (replicaPutOnline); false if it must be closed. */
  putOnline(l: ReplicaLink): boolean {
    if (l.announced.rdbOnly) {
      log.notice(
        `RDB transfer completed, rdb only replica (${l.name}) should be disconnected asap`,
      );
      return false;
    }
    l.state = "online";
    l.ackTime = unixTime();
    this.refreshGoodReplicas();
    log.notice(`Synchronization with replica ${l.name} succeeded`);
    return true;
  }

  /** REPLCONF <option> <value> ... */
  replconf(c: Client, argv: string[]): void {
    if (argv.length % 2 === 0) return c.error("ERR syntax error");
    const ann = this.announced.get(c) ?? emptyAnnounced();
    this.announced.set(c, ann);
    for (let j = 1; j < argv.length; j += 2) {
      const opt = argv[j].toLowerCase();
      const val = argv[j + 1];
      if (opt === "listening-port") {
        const port = parseInteger(val);
        if (port === null) return c.error(E_NOT_INT);
        ann.listeningPort = port;
      } else if (opt === "ip-address") {
        if (val.length >= 256) {
          return c.error(
            `ERR REPLCONF ip-address provided by replica instance is too long: ${val.length} bytes`,
          );
        }
        ann.ip = val;
      } else if (opt === "capa") {
        // Capabilities this master does not know are ignored.
        const v = val.toLowerCase();
        if (v === "eof") ann.capaEof = true;
        else if (v === "psync2") ann.capaPsync2 = true;
      } else if (opt === "ack") {
        // No reply: ACKs travel on the replication link.
        const l = this.byClient.get(c);
        const off = parseInteger(val);
        if (!l || off === null) return;
        if (off > l.ackOff) l.ackOff = off;
        l.ackTime = unixTime();
        if (l.startStreamOnAck && l.state === "online") l.startStream();
        this.waiters.process();
        return;
      } else if (opt === "getack") {
        if (this.repl.isReplica) this.repl.replica.sendAck();
        return;
      } else if (opt === "rdb-only") {
        const v = parseInteger(val);
        if (v === null || v < 0 || v > 1) {
          return c.error("ERR value is out of range, must be between 0 and 1");
        }
        ann.rdbOnly = v === 1;
      } else if (opt === "rdb-filter-only") {
        // Only "functions" may be included, and this server has no functions: no data at all.
        for (const f of val.split(" ").filter((x) => x !== "")) {
          if (f.toLowerCase() !== "functions") {
            return c.error(`ERR Unsupported rdb-filter-only option: ${f}`);
          }
        }
        ann.noData = true;
      } else return c.error(`ERR Unrecognized REPLCONF option: ${argv[j]}`);
    }
    c.out.status("OK");
  }

  /** Replicas online that acknowledged at least `offset`. */
  countAcks(offset: number): number {
    let n = 0;
    for (const l of this.links) if (l.state === "online" && l.ackOff >= offset) n++;
    return n;
  }

  /** refreshGoodSlavesCount: online replicas within min-replicas-max-lag. */
  refreshGoodReplicas(): void {
    const cfg = this.server.config;
    const maxLag = cfg.int("min-replicas-max-lag");
    if (cfg.int("min-replicas-to-write") === 0 || maxLag === 0) return;
    const now = unixTime();
    let good = 0;
    for (const l of this.links) if (l.state === "online" && now - l.ackTime <= maxLag) good++;
    this.goodReplicas = good;
  }

  /** checkGoodReplicasStatus: may a write run under min-replicas-to-write? */
  enoughGoodReplicas(): boolean {
    const hot = this.server.config.hot;
    const min = hot.minReplicasToWrite;
    return min === 0 || this.repl.isReplica || hot.minReplicasMaxLag === 0 ||
      this.goodReplicas >= min;
  }

  /** Every 100 ms: start pending full syncs, enforce the soft output limit. */
  cronFast(): void {
    this.fullSync.startPending();
    if (this.links.length > 0) {
      const limits = this.limits();
      for (const l of [...this.links]) l.checkLimits(limits);
    }
  }

  /** Once a second: the master half of replicationCron. */
  cron(): void {
    const repl = this.repl;
    const cfg = this.server.config;
    const period = cfg.int("repl-ping-replica-period");
    // A PING while clients are paused (manual failover) would move the offsets being compared.
    if (
      this.cronLoops % period === 0 && this.links.length > 0 && this.server.pauseUntil <= Date.now()
    ) {
      repl.feedCommand(repl.slaveseldb, ["PING"]);
    }
    const socketJob = this.fullSync.socketJobRunning;
    for (const l of [...this.links]) {
      // Replicas waiting for their RDB get newlines so they do not time out.
      if (
        l.state === "wait_bgsave_start" || (l.state === "wait_bgsave_end" && l.target === "disk")
      ) l.write("\n");
    }
    const timeout = cfg.int("repl-timeout");
    const now = unixTime();
    for (const l of [...this.links]) {
      if (l.state === "online" && !l.prePsync && now - l.ackTime > timeout) {
        log.warning(`Disconnecting timedout replica (streaming sync): ${l.name}`);
        l.close();
      } else if (
        l.state === "wait_bgsave_end" && l.target === "socket" && socketJob && l.queuedBytes > 0 &&
        Date.now() - l.lastProgress > timeout * 1000
      ) {
        log.warning(`Disconnecting timedout replica (full sync): ${l.name}`);
        l.close();
      }
    }
    const ttl = cfg.int("repl-backlog-ttl");
    if (this.links.length === 0 && ttl > 0 && repl.backlog !== null && !repl.isReplica) {
      if (now - repl.noReplicasSince > ttl) {
        repl.changeReplicationId();
        repl.clearReplicationId2();
        repl.freeBacklog();
        log.notice(`Replication backlog freed after ${ttl} seconds without connected replicas.`);
      }
    }
    this.refreshGoodReplicas();
    this.cronLoops++;
  }
}
