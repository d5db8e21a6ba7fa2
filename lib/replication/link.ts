// One replica as its master sees it: the client that sent SYNC/PSYNC, its replication state
// (wait_bgsave -> send_bulk -> online), what it announced (REPLCONF listening-port, ip-address,
// capa), its acknowledged offset, and its own ordered writer. Once a client becomes a replica
// its socket is taken away from the normal reply path: RDB bytes and the stream go through this
// writer, and anything the dispatcher would reply on that link is discarded (Redis never replies
// to replicas).
import type { Client, Transport } from "../server/client.ts";
import { clientInfoLine } from "../commands/client_cmd.ts";
import type { ClientOutputLimits } from "../config/directives.ts";
import { log } from "../log.ts";
import { bytesOf, concatBytes, unixTime } from "./wire.ts";

/** Replica states as INFO shows them ("wait_bgsave" covers both waiting states). */
export type ReplicaState = "wait_bgsave_start" | "wait_bgsave_end" | "send_bulk" | "online";

/** What a client announced with REPLCONF before SYNC/PSYNC. */
export interface Announced {
  listeningPort: number;
  ip: string | null;
  capaEof: boolean;
  capaPsync2: boolean;
  rdbOnly: boolean;
  /** REPLCONF rdb-filter-only: the RDB carries no keys (functions only; we have none). */
  noData: boolean;
}

/** Default announcement of a client that sent no REPLCONF. */
export function emptyAnnounced(): Announced {
  return {
    listeningPort: 0,
    ip: null,
    capaEof: false,
    capaPsync2: false,
    rdbOnly: false,
    noData: false,
  };
}

/** The peer address of a client without the port (and without IPv6 brackets). */
export function peerIp(c: Client): string {
  const a = c.addr;
  const i = a.lastIndexOf(":");
  const host = i >= 0 ? a.slice(0, i) : a;
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** ip:port of a replica for logs (replicationGetSlaveName). */
export function replicaName(c: Client, ann: Announced): string {
  const ip = ann.ip ?? peerIp(c);
  const host = ip.includes(":") ? `[${ip}]` : ip;
  return ann.listeningPort ? `${host}:${ann.listeningPort}` : `${ip}:<unknown-replica-port>`;
}

/** Max bytes joined into one socket write. */
const MAX_WRITE = 4 * 1024 * 1024;

/** A connected replica. */
export class ReplicaLink {
  state: ReplicaState = "wait_bgsave_start";
  /** Offset the replica acknowledged (REPLCONF ACK) and when (unix seconds). */
  ackOff = 0;
  ackTime = unixTime();
  /** Offset of the snapshot it was given (FULLRESYNC reply). */
  psyncInitialOffset = -1;
  /** Came with SYNC (no PSYNC, no ACKs expected). */
  prePsync = false;
  /** RDB target of its full sync. */
  target: "disk" | "socket" | null = null;
  /** Diskless: the stream starts once the first ACK confirms the RDB was loaded. */
  startStreamOnAck = false;
  closed = false;
  /** Stream bytes held back until the RDB is delivered. */
  private held: Uint8Array[] = [];
  heldBytes = 0;
  /** True once stream bytes flow to the socket. */
  streaming = false;
  private queue: Uint8Array[] = [];
  queuedBytes = 0;
  private writing = false;
  private drainWaiters: (() => void)[] = [];
  /** Last time a write made progress (full-sync timeout). */
  lastProgress = Date.now();
  /** Since when the output is above the soft limit (0 = not above). */
  private softSince = 0;

  constructor(
    public client: Client,
    private conn: Transport,
    public announced: Announced,
    private onGone: (l: ReplicaLink) => void,
  ) {
    // Replies the dispatcher produces on this link are dropped; closing the client (CLIENT KILL,
    // EOF) ends the link.
    client.transport = {
      write: (b) => Promise.resolve(b.length),
      close: () => this.dropped(),
    };
    client.isReplica = true;
  }

  /** Address shown in INFO/ROLE: the announced ip or the peer address. */
  get ip(): string {
    return this.announced.ip ?? peerIp(this.client);
  }

  /** ip:port for logs (replicationGetSlaveName). */
  get name(): string {
    return replicaName(this.client, this.announced);
  }

  /** Queues bytes for the socket; resolves once everything queued so far is written. */
  write(b: Uint8Array | string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.enqueue(typeof b === "string" ? bytesOf(b) : b);
    return new Promise((r) => this.drainWaiters.push(r));
  }

  private enqueue(b: Uint8Array): void {
    if (b.length === 0) return;
    this.queue.push(b);
    this.queuedBytes += b.length;
    if (!this.writing) this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        let n = 0;
        let k = 0;
        while (k < this.queue.length && (k === 0 || n + this.queue[k].length <= MAX_WRITE)) {
          n += this.queue[k++].length;
        }
        const chunk = concatBytes(this.queue.splice(0, k), n);
        let off = 0;
        while (off < chunk.length) {
          off += await this.conn.write(chunk.subarray(off));
          this.lastProgress = Date.now();
        }
        this.queuedBytes -= n;
      }
    } catch {
      this.close();
    } finally {
      this.writing = false;
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const r of w) r();
    }
  }

  /** Takes stream bytes: written now when streaming, else held until the RDB is delivered. */
  feed(b: Uint8Array, limits: ClientOutputLimits): void {
    if (this.closed || this.state === "wait_bgsave_start" || this.announced.rdbOnly) return;
    if (this.streaming) this.enqueue(b);
    else {
      this.held.push(b);
      this.heldBytes += b.length;
    }
    this.checkLimits(limits);
  }

  /** Joins another replica's full sync: same snapshot, so the same held stream. */
  copyHeldFrom(other: ReplicaLink): void {
    this.held = [...other.held];
    this.heldBytes = other.heldBytes;
  }

  /** Starts the stream: held bytes first (replicaStartCommandStream). */
  startStream(): void {
    if (this.streaming || this.closed) return;
    this.streaming = true;
    this.startStreamOnAck = false;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const b of held) this.enqueue(b);
  }

  /** Bytes waiting to reach the replica (output buffer size). */
  get pendingBytes(): number {
    return this.heldBytes + (this.streaming ? this.queuedBytes : 0);
  }

  /** client-output-buffer-limit replica: hard limit, or soft limit held for too long. */
  checkLimits(limits: ClientOutputLimits): void {
    const [hard, soft, secs] = limits.replica;
    const used = this.pendingBytes;
    let over = hard > 0 && used >= hard;
    if (!over && soft > 0 && used >= soft) {
      if (this.softSince === 0) this.softSince = Date.now();
      else if (Date.now() - this.softSince >= secs * 1000) over = true;
    } else if (!over) this.softSince = 0;
    if (over) {
      log.warning(
        `Client ${
          clientInfoLine(this.client)
        } scheduled to be closed ASAP for overcoming of output buffer limits.`,
      );
      this.close();
    }
  }

  /** Closes the link (and the client). */
  close(): void {
    this.client.close();
    this.dropped();
  }

  private dropped(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
    this.held = [];
    this.heldBytes = 0;
    this.onGone(this);
  }
}
