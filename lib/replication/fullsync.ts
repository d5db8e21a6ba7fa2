// Full resynchronization, master side. A replica that cannot continue from the backlog waits for
// an RDB snapshot (wait_bgsave_start), gets "+FULLRESYNC <replid> <offset>" when the snapshot is
// taken (wait_bgsave_end; from then on the stream is held for it), receives the RDB, and goes
// online. Two targets, as in Redis: "disk" runs the persistence BGSAVE and then sends dump.rdb
// as "$<len>\r\n<bytes>" (send_bulk); "socket" (repl-diskless-sync, replica capa eof) streams
// the snapshot straight to the replicas as "$EOF:<mark>\r\n<rdb><mark>" and waits for the first
// REPLCONF ACK before starting the stream. Both are cooperative point-in-time snapshots
// (persistence/snapshot.ts), so the master keeps serving clients during the transfer.
import { log } from "../log.ts";
import { persistenceOf } from "../persistence/service.ts";
import { RdbProducer, SaveAborted } from "../persistence/snapshot.ts";
import { RdbWriter } from "../persistence/rdb_writer.ts";
import { randomHex40 } from "../commands/info.ts";
import type { Primary } from "./primary.ts";
import type { ReplicaLink } from "./link.ts";
import { unixTime } from "./wire.ts";

/** Read size when sending dump.rdb to a replica. */
const FILE_CHUNK = 64 * 1024;

/** Starting and delivering RDB snapshots to replicas. */
export class FullSync {
  /** Replicas of the diskless transfer in progress, or null. */
  private socketGroup: ReplicaLink[] | null = null;

  constructor(private primary: Primary) {}

  private get server() {
    return this.primary.repl.server;
  }

  /** True while a diskless transfer runs. */
  get socketJobRunning(): boolean {
    return this.socketGroup !== null;
  }

  /** syncCommand's three cases for a replica that needs a full sync. */
  onNewReplica(l: ReplicaLink): void {
    const p = persistenceOf(this.server);
    const cfg = this.server.config;
    if (p.bgsaveInProgress) {
      // A disk BGSAVE started for another replica is good if it has been recording the stream.
      const other = this.primary.links.find((x) =>
        x !== l && x.state === "wait_bgsave_end" && x.target === "disk"
      );
      const capaOk = other !== undefined && other.announced.noData === l.announced.noData &&
        (!other.announced.capaEof || l.announced.capaEof) &&
        (!other.announced.capaPsync2 || l.announced.capaPsync2);
      if (other && capaOk) {
        l.copyHeldFrom(other);
        l.target = "disk";
        this.setupFullResync(l, other.psyncInitialOffset);
        log.notice("Waiting for end of BGSAVE for SYNC");
      } else {
        log.notice(
          "Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC",
        );
      }
      return;
    }
    if (this.socketGroup !== null) {
      log.notice("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC");
      return;
    }
    if (
      cfg.bool("repl-diskless-sync") && l.announced.capaEof &&
      cfg.int("repl-diskless-sync-delay") > 0
    ) {
      // Started by the cron after the delay, so more replicas can share one transfer.
      log.notice("Delay next BGSAVE for diskless SYNC");
      return;
    }
    this.start();
  }

  /** shouldStartChildReplication + replicationStartPendingFork, from the cron. */
  startPending(): void {
    if (this.socketGroup !== null) return;
    const waiting = this.waitingGroup();
    if (waiting.length === 0) return;
    const cfg = this.server.config;
    const diskless = cfg.bool("repl-diskless-sync");
    const capaEof = waiting.every((l) => l.announced.capaEof);
    const socket = (diskless || waiting[0].announced.noData) && capaEof;
    if (!socket && persistenceOf(this.server).bgsaveInProgress) return;
    const now = unixTime();
    let maxIdle = 0;
    for (const l of waiting) {
      maxIdle = Math.max(maxIdle, now - Math.floor(l.client.lastInteraction / 1000));
    }
    const maxReplicas = cfg.int("repl-diskless-sync-max-replicas");
    if (
      !diskless || (maxReplicas > 0 && waiting.length >= maxReplicas) ||
      maxIdle >= cfg.int("repl-diskless-sync-delay")
    ) this.start();
  }

  /** Replicas waiting for a snapshot with the same requirement as the first one (slave_req). */
  private waitingGroup(): ReplicaLink[] {
    const waiting = this.primary.links.filter((l) => l.state === "wait_bgsave_start");
    if (waiting.length === 0) return waiting;
    const noData = waiting[0].announced.noData;
    return waiting.filter((l) => l.announced.noData === noData);
  }

  /** replicationSetupSlaveForFullResync: the snapshot is taken, tell the replica. */
  private setupFullResync(l: ReplicaLink, offset: number): void {
    const repl = this.primary.repl;
    l.psyncInitialOffset = offset;
    l.state = "wait_bgsave_end";
    // The stream held for this replica must start with a SELECT.
    repl.slaveseldb = -1;
    if (!l.prePsync) l.write(`+FULLRESYNC ${repl.replid} ${offset}\r\n`);
  }

  /** startBgsaveForReplication. */
  private start(): void {
    const group = this.waitingGroup();
    if (group.length === 0) return;
    const capaEof = group.every((l) => l.announced.capaEof);
    // A filtered RDB always goes to sockets, so it never overwrites the dump file.
    const socket = (this.server.config.bool("repl-diskless-sync") || group[0]?.announced.noData) &&
      capaEof;
    log.notice(`Starting BGSAVE for SYNC with target: ${socket ? "replicas sockets" : "disk"}`);
    if (socket) {
      void this.runSocket();
      return;
    }
    const waiting = group;
    if (!persistenceOf(this.server).startBgsave()) {
      log.warning("BGSAVE for replication failed");
      for (const l of waiting) {
        l.write("-ERR BGSAVE failed, replication can't continue\r\n").then(() => l.close());
      }
      return;
    }
    // The snapshot was taken synchronously by startBgsave: the offset is the current one.
    const offset = this.primary.repl.masterReplOffset;
    for (const l of waiting) {
      l.target = "disk";
      this.setupFullResync(l, offset);
    }
  }

  /** rdbSaveToSlavesSockets: one snapshot streamed to every waiting replica. */
  private async runSocket(): Promise<void> {
    const s = this.server;
    const group = this.waitingGroup();
    const opts = persistenceOf(s).fileOptions();
    const producer = group[0].announced.noData ? null : new RdbProducer(s, opts);
    const offset = this.primary.repl.masterReplOffset;
    const mark = randomHex40();
    for (const l of group) {
      l.target = "socket";
      this.setupFullResync(l, offset);
      l.write(`$EOF:${mark}\r\n`);
    }
    this.socketGroup = group;
    log.notice(`Background RDB transfer started by pid ${Deno.pid}`);
    const alive = () => group.filter((l) => !l.closed);
    let ok = false;
    try {
      const sink = async (chunk: Uint8Array) => {
        await Promise.all(alive().map((l) => l.write(chunk)));
      };
      if (producer === null) {
        // Filtered RDB: header and EOF only.
        const chunks: Uint8Array[] = [];
        const w = new RdbWriter(opts, (c) => chunks.push(c));
        w.header();
        w.finish();
        for (const c of chunks) await sink(c);
      } else {
        await producer.run(sink, {
          sliceMs: 5,
          keyDelayUs: () => s.config.int("rdb-key-save-delay"),
          isAborted: () => alive().length === 0,
        });
      }
      await Promise.all(alive().map((l) => l.write(mark)));
      ok = alive().length > 0;
      log.notice(
        `Diskless rdb transfer, done reading from pipe, ${alive().length} replicas still up.`,
      );
    } catch (e) {
      if (e instanceof SaveAborted) {
        log.warning("Diskless rdb transfer, last replica dropped, killing fork child.");
      } else log.warning(`Diskless rdb transfer failed: ${(e as Error).message}`);
    } finally {
      producer?.release();
      this.socketGroup = null;
    }
    if (ok) log.notice("Background RDB transfer terminated with success");
    else log.warning("Background transfer error");
    for (const l of alive()) {
      if (l.state !== "wait_bgsave_end") continue;
      if (!ok) {
        log.warning("SYNC failed. BGSAVE child returned an error");
        l.close();
        continue;
      }
      log.notice(
        `Streamed RDB transfer with replica ${l.name} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming`,
      );
      if (!this.primary.putOnline(l)) {
        l.close();
        continue;
      }
      l.startStreamOnAck = true;
    }
  }

  /** updateSlavesWaitingBgsave for a disk save that just ended. */
  onBgsaveDone(ok: boolean): void {
    for (const l of [...this.primary.links]) {
      if (l.state !== "wait_bgsave_end" || l.target !== "disk") continue;
      if (!ok) {
        log.warning("SYNC failed. BGSAVE child returned an error");
        l.close();
        continue;
      }
      void this.sendFile(l);
    }
  }

  /** sendBulkToSlave: "$<size>\r\n" then dump.rdb, then online with the held stream. */
  private async sendFile(l: ReplicaLink): Promise<void> {
    let f: Deno.FsFile;
    let size: number;
    try {
      f = await Deno.open(persistenceOf(this.server).filename, { read: true });
      size = (await f.stat()).size;
    } catch (e) {
      log.warning(`SYNC failed. Can't open/stat DB after BGSAVE: ${(e as Error).message}`);
      l.close();
      return;
    }
    l.state = "send_bulk";
    try {
      l.write(`$${size}\r\n`);
      let sent = 0;
      while (sent < size && !l.closed) {
        const buf = new Uint8Array(Math.min(FILE_CHUNK, size - sent));
        const n = await f.read(buf);
        if (n === null) {
          log.warning("Read error sending DB to replica: premature EOF");
          l.close();
          return;
        }
        await l.write(buf.subarray(0, n));
        sent += n;
      }
    } catch (e) {
      log.warning(`Read error sending DB to replica: ${(e as Error).message}`);
      l.close();
      return;
    } finally {
      f.close();
    }
    if (l.closed) return;
    if (!this.primary.putOnline(l)) {
      l.close();
      return;
    }
    l.startStream();
  }
}
