// The replica side: REPLICAOF host port makes this node connect to its master, run Redis's
// handshake (PING, AUTH, REPLCONF listening-port / ip-address / capa eof psync2, PSYNC), load the
// RDB of a full sync ($len or EOF-marked) or continue from the cached master (+CONTINUE), then
// apply the command stream through the normal dispatcher as the master client. The processed
// offset is acknowledged every second and on GETACK; applied bytes are proxied unchanged to our
// backlog and sub-replicas. A lost link caches the master (replid + offset); the cron reconnects
// with PSYNC, so a short disconnection costs only the missed bytes.
import { Client } from "../server/client.ts";
import { formatAddr } from "../server/listener.ts";
import { processCommand } from "../server/dispatch.ts";
import { log } from "../log.ts";
import type { Replication } from "./state.ts";
import { LinkFailure, readBulkHeader, replaceDataset } from "./transfer.ts";
import {
  BufferedConn,
  bytesOf,
  concatBytes,
  encodeCommand,
  readExactly,
  readUntilMark,
  unixTime,
  ZERO_ID,
} from "./wire.ts";

/** Link states (ROLE names: connect, connecting, handshake, sync, connected). */
export type LinkState = "none" | "connect" | "connecting" | "handshake" | "transfer" | "connected";

/** What survives a lost link for the next PSYNC (Redis's cached master). */
export interface CachedMaster {
  replid: string;
  reploff: number;
  dbIndex: number;
}

interface Attempt {
  bc: BufferedConn | null;
  cancelled: boolean;
}

/** The link to our master, and the replica half of replicationCron. */
export class ReplicaSide {
  host: string | null = null;
  port = 0;
  state: LinkState = "none";
  /** The master client while the link is up. */
  master: Client | null = null;
  cached: CachedMaster | null = null;
  /** The master's replication id and our applied / read offsets in its stream. */
  masterReplid = "";
  reploff = 0;
  readReploff = 0;
  /** A pre-PSYNC master (plain SYNC): no ACKs. */
  private prePsync = false;
  /** Last byte from the master (ms). */
  lastIo = 0;
  /** When the link went down (unix seconds, 0 = not down). */
  downSince = 0;
  transferSize = -1;
  transferRead = 0;
  transferLastIo = 0;
  private attempt: Attempt | null = null;
  private masterConn: BufferedConn | null = null;
  private ackChain: Promise<void> = Promise.resolve();

  constructor(private repl: Replication) {}

  private get server() {
    return this.repl.server;
  }

  /** replicationSetMaster: replicate from host:port. */
  setMaster(host: string, port: number): void {
    const wasMaster = this.host === null;
    this.host = null; // closing the old master client must not reconnect to it
    if (this.master) this.dropMaster(true);
    this.host = host;
    this.port = port;
    this.server.isReplica = true;
    log.role = "S";
    this.unblockAll();
    this.cancelHandshake();
    if (wasMaster) {
      this.discardCached();
      log.notice(
        "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.",
      );
      this.cached = { replid: this.repl.replid, reploff: this.repl.masterReplOffset, dbIndex: 0 };
    }
    this.state = "connect";
    log.notice(`Connecting to MASTER ${host}:${port}`);
    this.connect();
  }

  /** The `replicaof` directive at start-up: the cron connects (state "connect"). */
  configure(host: string, port: number): void {
    this.host = host;
    this.port = port;
    this.state = "connect";
    this.server.isReplica = true;
    log.role = "S";
  }

  /** replicationUnsetMaster: become a master, keeping the data and the history (replid2). */
  unsetMaster(): void {
    if (this.host === null) return;
    this.host = null;
    if (this.master) this.dropMaster(false);
    this.discardCached();
    this.cancelHandshake();
    this.repl.shiftReplicationId();
    // Replicas must learn the new id; they come back with a partial resync.
    this.repl.primary.disconnectAll();
    this.state = "none";
    this.repl.slaveseldb = -1;
    this.repl.noReplicasSince = unixTime();
    this.downSince = 0;
    this.server.isReplica = false;
    log.role = "M";
  }

  /** Offset of the stream applied so far (replicationGetSlaveOffset). */
  processedOffset(): number {
    const off = this.master ? this.reploff : this.cached ? this.cached.reploff : 0;
    return Math.max(0, off);
  }

  /** Milliseconds since the master was last heard (cluster failover data age). */
  dataAgeMs(): number {
    if (this.state === "connected") return Date.now() - this.lastIo;
    return (unixTime() - this.downSince) * 1000;
  }

  /** REPLCONF ACK <offset> to the master. */
  sendAck(): void {
    const bc = this.masterConn;
    if (!this.master || !bc) return;
    const b = encodeCommand(["REPLCONF", "ACK", String(this.reploff)]);
    this.ackChain = this.ackChain.then(() => bc.write(b)).catch(() => {});
  }

  private discardCached(): void {
    if (this.cached === null) return;
    log.notice("Discarding previously cached master state.");
    this.cached = null;
  }

  /** Clients blocked in BLPOP & co are released: this node's data now follows a master. */
  private unblockAll(): void {
    const s = this.server;
    for (const c of s.clients.values()) {
      if (!c.blocked) continue;
      s.blocking.unblock(c);
      c.error(
        "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
      );
      if (c.resume) c.resume();
      else c.flush();
    }
  }

  /** Aborts a connection attempt, handshake or transfer (cancelReplicationHandshake). */
  private cancelHandshake(): boolean {
    const a = this.attempt;
    if (a === null) return false;
    a.cancelled = true;
    a.bc?.close();
    this.attempt = null;
    if (this.state !== "connected" && this.state !== "none") this.state = "connect";
    return true;
  }

  /** Closes the master client; `cache` keeps its replid/offset for PSYNC. */
  private dropMaster(cache: boolean): void {
    const c = this.master!;
    this.master = null;
    this.masterConn = null;
    log.warning("Connection with master lost.");
    if (cache) {
      log.notice("Caching the disconnected master state.");
      this.cached = { replid: this.masterReplid, reploff: this.reploff, dbIndex: c.dbIndex };
    }
    c.multi = null;
    c.close();
    this.state = "connect";
    this.downSince = unixTime();
  }

  /** The link broke by itself: cache the master; the replication cron reconnects (within a
   * second, as Redis's replicationCron does — not at once, so a master that is being stopped
   * or paused is not hammered, and data age counts from this moment). */
  private masterLost(c: Client, cache: boolean): void {
    if (this.master !== c) return;
    this.dropMaster(cache);
  }

  /** connectWithMaster + syncWithMaster, as one async task. */
  private connect(): void {
    const host = this.host;
    if (host === null) return;
    this.cancelHandshake();
    const a: Attempt = { bc: null, cancelled: false };
    this.attempt = a;
    this.state = "connecting";
    this.transferLastIo = unixTime();
    log.notice("MASTER <-> REPLICA sync started");
    this.run(a, host, this.port).catch((e) => {
      if (a.cancelled) return;
      a.bc?.close();
      if (this.attempt === a) this.attempt = null;
      const f = e instanceof LinkFailure ? e : null;
      const msg = (e as Error).message;
      // A transfer that breaks reconnects at once (cancelReplicationHandshake(1)).
      let reconnect = f?.reconnect ?? false;
      if (f) {
        if (msg) log.warning(msg);
      } else if (this.state === "transfer") {
        log.warning(`I/O error trying to sync with MASTER: ${msg}`);
        reconnect = true;
      } else if (this.state === "handshake") {
        log.warning(`Master did not respond to command during SYNC handshake (${msg})`);
      } else log.warning(`Error condition on socket for SYNC: ${msg}`);
      if (this.state !== "connected") this.state = "connect";
      if (reconnect && this.host !== null) {
        log.notice(`Reconnecting to MASTER ${this.host}:${this.port} after failure`);
        this.connect();
      }
    });
  }

  private async run(a: Attempt, host: string, port: number): Promise<void> {
    const conn = await Deno.connect({ hostname: host, port });
    if (a.cancelled) {
      conn.close();
      return;
    }
    try {
      conn.setNoDelay(true);
    } catch { /* not tcp */ }
    const bc = new BufferedConn(conn, () => void (this.transferLastIo = unixTime()));
    a.bc = bc;
    const check = () => {
      if (a.cancelled) throw new LinkFailure("");
    };
    log.notice("Non blocking connect for SYNC fired the event.");
    this.state = "handshake";
    await bc.write(encodeCommand(["PING"]));
    let r = await bc.readLine();
    check();
    if (
      r[0] !== "+" && !r.startsWith("-NOAUTH") && !r.startsWith("-NOPERM") &&
      !r.startsWith("-ERR operation not permitted")
    ) {
      throw new LinkFailure(`Error reply to PING from master: '${r}'`);
    }
    log.notice("Master replied to PING, replication can continue...");
    const cfg = this.server.config;
    const auth = cfg.str("masterauth");
    const user = cfg.str("masteruser");
    const announceIp = cfg.str("replica-announce-ip");
    const port0 = cfg.int("replica-announce-port") || cfg.int("port");
    const out: Uint8Array[] = [];
    if (auth !== "") out.push(encodeCommand(user !== "" ? ["AUTH", user, auth] : ["AUTH", auth]));
    out.push(encodeCommand(["REPLCONF", "listening-port", String(port0)]));
    if (announceIp !== "") out.push(encodeCommand(["REPLCONF", "ip-address", announceIp]));
    out.push(encodeCommand(["REPLCONF", "capa", "eof", "capa", "psync2"]));
    await bc.write(concatBytes(out));
    if (auth !== "") {
      r = await bc.readLine();
      check();
      if (r[0] === "-") throw new LinkFailure(`Unable to AUTH to MASTER: ${r}`);
    }
    r = await bc.readLine();
    if (r[0] === "-") {
      log.notice(`(Non critical) Master does not understand REPLCONF listening-port: ${r}`);
    }
    if (announceIp !== "") {
      r = await bc.readLine();
      if (r[0] === "-") {
        log.notice(`(Non critical) Master does not understand REPLCONF ip-address: ${r}`);
      }
    }
    r = await bc.readLine();
    check();
    if (r[0] === "-") log.notice(`(Non critical) Master does not understand REPLCONF capa: ${r}`);
    await this.psync(a, bc);
  }

  /** slaveTryPartialResynchronization and what follows. */
  private async psync(a: Attempt, bc: BufferedConn): Promise<void> {
    let id = "?";
    let off = "-1";
    const cached = this.cached;
    if (cached) {
      id = cached.replid;
      off = String(cached.reploff + 1);
      log.notice(`Trying a partial resynchronization (request ${id}:${off}).`);
    } else log.notice("Partial resynchronization not possible (no cached master)");
    await bc.write(encodeCommand(["PSYNC", id, off]));
    let r = "";
    // Newlines keep the link alive while the master prepares its answer.
    while (r === "") r = await bc.readLine();
    if (a.cancelled) throw new LinkFailure("");
    let newReplid = ZERO_ID;
    let initialOffset = -1;
    if (r.startsWith("+FULLRESYNC")) {
      const parts = r.split(" ");
      if (parts.length < 3 || parts[1].length !== 40) {
        log.warning("Master replied with wrong +FULLRESYNC syntax.");
      } else {
        newReplid = parts[1];
        initialOffset = Number(parts[2]);
        log.notice(`Full resync from master: ${newReplid}:${initialOffset}`);
      }
    } else if (r.startsWith("+CONTINUE") && this.cached !== null) {
      this.continueSync(bc, r.slice(10).trim());
      return;
    } else if (r.startsWith("-NOMASTERLINK") || r.startsWith("-LOADING")) {
      throw new LinkFailure(
        `Master is currently unable to PSYNC but should be in the future: ${r}`,
      );
    } else {
      if (r.startsWith("-ERR")) {
        log.notice(`Master does not support PSYNC or is in error state (reply: ${r})`);
      } else log.warning(`Unexpected reply to PSYNC from master: ${r}`);
      log.notice("Retrying with SYNC...");
      await bc.write("SYNC\r\n");
    }
    await this.transfer(a, bc, newReplid, initialOffset);
  }

  /** +CONTINUE: resurrect the cached master on the new socket. */
  private continueSync(bc: BufferedConn, newId: string): void {
    const repl = this.repl;
    const cached = this.cached!;
    log.notice("Successful partial resynchronization with master.");
    if (newId.length === 40 && newId !== cached.replid) {
      log.warning(`Master replication ID changed to ${newId}`);
      repl.replid2 = cached.replid;
      repl.secondReplOffset = repl.masterReplOffset + 1;
      repl.replid = newId;
      cached.replid = newId;
      repl.primary.disconnectAll();
    }
    this.cached = null;
    this.attempt = null;
    this.prePsync = false;
    if (repl.backlog === null) repl.createBacklog();
    this.startMaster(bc, cached.replid, cached.reploff, cached.dbIndex);
    log.notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
  }

  /** readSyncBulkPayload: receive the RDB, replace the dataset, start the stream. */
  private async transfer(
    a: Attempt,
    bc: BufferedConn,
    replid: string,
    initialOffset: number,
  ): Promise<void> {
    const s = this.server;
    this.state = "transfer";
    this.transferSize = -1;
    this.transferRead = 0;
    this.transferLastIo = unixTime();
    const line = await readBulkHeader(bc, () => a.cancelled);
    const toDisk = s.config.str("repl-diskless-load") === "disabled";
    const where = toDisk ? "to disk" : "to parser";
    let data: Uint8Array;
    const progress = (n: number) => void (this.transferRead += n);
    const useMark = line.startsWith("$EOF:") && line.length - 5 >= 40;
    if (useMark) {
      this.transferSize = 0;
      log.notice(`MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF ${where}`);
      data = await readUntilMark(bc, bytesOf(line.slice(5, 45)), progress);
    } else {
      this.transferSize = Number(line.slice(1));
      log.notice(
        `MASTER <-> REPLICA sync: receiving ${this.transferSize} bytes from master ${where}`,
      );
      data = await readExactly(bc, this.transferSize, progress);
    }
    // replicationAttachToNewMaster: our replicas and backlog belong to the old history.
    this.discardCached();
    this.repl.primary.disconnectAll();
    this.repl.freeBacklog();
    const streamDb = replaceDataset(s, data, toDisk);
    if (!toDisk) s.dirty++;
    this.attempt = null;
    this.prePsync = initialOffset === -1;
    this.repl.replid = replid;
    this.repl.masterReplOffset = initialOffset;
    this.repl.clearReplicationId2();
    this.repl.createBacklog();
    this.startMaster(bc, replid, initialOffset, streamDb);
    log.notice("MASTER <-> REPLICA sync: Finished with success");
    // A diskless master waits for this ACK before sending the stream.
    if (useMark) this.sendAck();
  }

  /** replicationCreateMasterClient + the read loop of the master link. */
  private startMaster(bc: BufferedConn, replid: string, reploff: number, dbIndex: number): void {
    const s = this.server;
    const conn = bc.conn;
    const c: Client = new Client(
      s,
      {
        write: (b) => Promise.resolve(b.length),
        // CLIENT KILL of the master link takes effect at once (data age counts from now).
        close: () => {
          bc.close();
          this.masterLost(c, true);
        },
      },
      formatAddr(conn.remoteAddr),
      formatAddr(conn.localAddr),
    );
    c.isMaster = true;
    c.authenticated = true;
    c.parser.isMaster = true;
    c.select(dbIndex);
    s.clients.set(c.id, c);
    this.master = c;
    this.masterConn = bc;
    this.masterReplid = replid;
    this.reploff = reploff;
    this.readReploff = reploff;
    this.lastIo = Date.now();
    this.state = "connected";
    this.downSince = 0;
    void this.streamLoop(c, bc);
  }

  /** Reads and applies the master's stream until the link ends. */
  private async streamLoop(c: Client, bc: BufferedConn): Promise<void> {
    const p = c.parser;
    // Bytes read but not yet proxied to our backlog and sub-replicas; they start at fed + 1.
    let raw: Uint8Array[] = [];
    let fed = this.reploff;
    const proxy = () => {
      const n = this.reploff - fed;
      if (n <= 0) return;
      const all = concatBytes(raw);
      raw = all.length > n ? [all.subarray(n)] : [];
      fed = this.reploff;
      this.repl.feedStream(all.subarray(0, n));
    };
    let cache = true;
    const ingest = (b: Uint8Array) => {
      this.readReploff += b.length;
      this.lastIo = Date.now();
      raw.push(b);
      p.space(b.length).set(b);
      p.end += b.length;
      while (this.master === c && !c.closed) {
        const argv = p.next();
        if (argv === null) {
          if (p.error) {
            log.warning(
              `Protocol error (${p.error.reason}) from client: id=${c.id} addr=${c.addr} (master)`,
            );
            cache = false;
            c.close();
          }
          break;
        }
        processCommand(c, argv);
        c.out.len = 0; // the master gets no replies
        // The offset moves per complete command (GETACK reports it), a transaction once EXEC ran.
        if (c.multi === null) this.reploff = Math.max(this.reploff, this.readReploff - p.pending);
      }
      // Applied bytes go on unchanged, once per read.
      proxy();
    };
    try {
      const left = bc.drain();
      if (left.length > 0) ingest(new Uint8Array(left));
      const buf = new Uint8Array(64 * 1024);
      while (this.master === c && !c.closed) {
        const n = await bc.conn.read(buf);
        if (n === null) break;
        ingest(buf.slice(0, n));
      }
    } catch {
      // socket closed
    }
    this.masterLost(c, cache);
  }

  /** The replica half of replicationCron (once a second). */
  cron(): void {
    if (this.host === null) return;
    const timeout = this.server.config.int("repl-timeout");
    const now = unixTime();
    if (
      (this.state === "connecting" || this.state === "handshake") &&
      now - this.transferLastIo > timeout
    ) {
      log.warning("Timeout connecting to the MASTER...");
      this.cancelHandshake();
      log.notice(`Reconnecting to MASTER ${this.host}:${this.port} after failure`);
      this.connect();
    }
    if (this.state === "transfer" && now - this.transferLastIo > timeout) {
      log.warning(
        "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.",
      );
      this.cancelHandshake();
      log.notice(`Reconnecting to MASTER ${this.host}:${this.port} after failure`);
      this.connect();
    }
    if (this.state === "connected" && this.master && Date.now() - this.lastIo > timeout * 1000) {
      log.warning("MASTER timeout: no data nor PING received...");
      this.masterLost(this.master, true);
    }
    if (this.state === "connect") {
      log.notice(`Connecting to MASTER ${this.host}:${this.port}`);
      this.connect();
    }
    if (this.master && !this.prePsync) this.sendAck();
  }
}
