// Replication state shared by both roles: the replication ids and offsets (Redis's replid,
// replid2, master_repl_offset, second_replid_offset), the backlog, and the one place where stream
// bytes enter it. A master produces the stream from propagated commands (feedCommand: SELECT when
// the db changes, then the command as a RESP multibulk); a replica proxies the exact bytes it
// applied from its own master (feedStream), so its sub-replicas and backlog see an identical
// stream with identical offsets, and it can serve PSYNC after a promotion.
import type { Server } from "../server/server.ts";
import type { ReplAux } from "../persistence/rdb_writer.ts";
import { randomHex40 } from "../commands/info.ts";
import { log } from "../log.ts";
import { Backlog } from "./backlog.ts";
import { encodeCommand, unixTime, ZERO_ID } from "./wire.ts";
import { Primary } from "./primary.ts";
import { ReplicaSide } from "./replica.ts";

/** The replication state of one server. */
export class Replication {
  replid = randomHex40();
  replid2 = ZERO_ID;
  masterReplOffset = 0;
  secondReplOffset = -1;
  backlog: Backlog | null = null;
  /** Db of the last SELECT sent in the stream; -1 forces a SELECT before the next command. */
  slaveseldb = -1;
  /** When the last replica went away (backlog TTL). */
  noReplicasSince = unixTime();
  /** Master side: connected replicas, SYNC/PSYNC, WAIT. */
  readonly primary: Primary;
  /** Replica side: the link to our master. */
  readonly replica: ReplicaSide;

  constructor(public server: Server) {
    this.primary = new Primary(this);
    this.replica = new ReplicaSide(this);
  }

  /** True when this node replicates from a master (REPLICAOF host port). */
  get isReplica(): boolean {
    return this.replica.host !== null;
  }

  /** Starts a new replication history (changeReplicationId). */
  changeReplicationId(): void {
    this.replid = randomHex40();
  }

  /** Forgets the secondary id (clearReplicationId2). */
  clearReplicationId2(): void {
    this.replid2 = ZERO_ID;
    this.secondReplOffset = -1;
  }

  /** On promotion: the old id stays valid up to the current offset, and a new one starts. */
  shiftReplicationId(): void {
    this.replid2 = this.replid;
    // Replicas ask for the first byte they miss, hence +1.
    this.secondReplOffset = this.masterReplOffset + 1;
    this.changeReplicationId();
    log.warning(
      `Setting secondary replication ID to ${this.replid2}, valid up to offset: ${this.secondReplOffset}. New replication ID is ${this.replid}`,
    );
  }

  /** Creates the backlog (history starts after the current offset). */
  createBacklog(): void {
    this.backlog = new Backlog(this.server.config.int("repl-backlog-size"), this.masterReplOffset);
  }

  /** Drops the backlog. */
  freeBacklog(): void {
    this.backlog = null;
  }

  /** Propagation sink: a command executed here goes to the backlog and replicas. */
  feedCommand(dbIndex: number, argv: string[]): void {
    // A replica only proxies its master's stream, so offsets match the master's exactly.
    if (this.isReplica) return;
    if (this.backlog === null && this.primary.links.length === 0) return;
    if (this.slaveseldb !== dbIndex) {
      this.feedStream(encodeCommand(["SELECT", String(dbIndex)]));
      this.slaveseldb = dbIndex;
    }
    this.feedStream(encodeCommand(argv));
  }

  /** Adds stream bytes: offset, backlog, every replica that takes the stream. */
  feedStream(b: Uint8Array): void {
    if (this.backlog === null) return;
    this.masterReplOffset += b.length;
    this.backlog.append(b);
    this.primary.distribute(b);
  }

  /** The repl-* aux fields an RDB saved now carries (rdbPopulateSaveInfo), or null. */
  replAux(): ReplAux | null {
    const r = this.replica;
    if (!this.isReplica && this.backlog !== null) {
      return {
        replStreamDb: this.slaveseldb === -1 ? 0 : this.slaveseldb,
        replId: this.replid,
        replOffset: this.masterReplOffset,
      };
    }
    if (r.master !== null) {
      return {
        replStreamDb: r.master.dbIndex,
        replId: this.replid,
        replOffset: this.masterReplOffset,
      };
    }
    if (r.cached !== null) {
      return {
        replStreamDb: r.cached.dbIndex,
        replId: this.replid,
        replOffset: this.masterReplOffset,
      };
    }
    return null;
  }

  /** Our offset as the cluster bus reports it: processed stream on a replica, else ours. */
  offset(): number {
    return this.isReplica ? this.replica.processedOffset() : this.masterReplOffset;
  }
}

const instances = new WeakMap<Server, Replication>();

/** The replication state of a server (created on first use). */
export function replicationOf(server: Server): Replication {
  let r = instances.get(server);
  if (!r) {
    r = new Replication(server);
    instances.set(server, r);
  }
  return r;
}
