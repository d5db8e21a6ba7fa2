// Per-connection state: protocol version, selected db, auth, MULTI queue, subscriptions,
// blocking state and the output buffer with its write loop.
import { ReplyBuffer } from "../protocol/reply.ts";
import { RespParser } from "../protocol/parser.ts";
import type { CommandSpec } from "../commands/types.ts";
import type { Server } from "./server.ts";
import type { Db } from "../store/keyspace.ts";

/** A queued MULTI command. */
export interface QueuedCommand {
  spec: CommandSpec;
  argv: string[];
}

/** What a blocked client waits for. */
export interface BlockState {
  keys: string[];
  db: number;
  /** Absolute deadline in ms, 0 = forever. */
  deadline: number;
  /** Re-runs the command for the key that became ready; returns true when it was served (and
   * replied). */
  retry: (key: string) => boolean;
  /** Replies for a timeout. */
  onTimeout: () => void;
  spec: CommandSpec;
  argv: string[];
}

/** Transport a client writes to: a socket, or a capture for internal callers. */
export interface Transport {
  write(b: Uint8Array): Promise<number>;
  /** Optional synchronous write of b's first n bytes (the epoll loop's sockets): bytes the
   * socket took now, or -1 when the connection failed. */
  writeNow?(b: Uint8Array, n: number): number;
  close(): void;
}

const DONE = Promise.resolve();

let nextId = 1;

/** A connected client. */
export class Client {
  id = nextId++;
  out = new ReplyBuffer();
  parser = new RespParser();
  name = "";
  dbIndex = 0;
  db: Db;
  /** Connections made while no password is set are authenticated (the nopass default user),
   * and stay so when one is set later, as in Redis. */
  authenticated: boolean;
  createdAt = Date.now();
  lastInteraction = Date.now();
  lastCmd = "NULL";
  /** MULTI state: null when not in a transaction. */
  multi: QueuedCommand[] | null = null;
  multiDirty = false;
  /** True while EXEC runs the queued commands: blocking commands must not block then. */
  inExec = false;
  /** Keys watched: "db\0key" entries. */
  watched = new Set<string>();
  /** Watched keys that were already logically expired when WATCHed (their deletion is no change). */
  watchedStale = new Set<string>();
  watchDirty = false;
  channels = new Set<string>();
  patterns = new Set<string>();
  shardChannels = new Set<string>();
  /** While replies are suppressed (CLIENT REPLY OFF/SKIP): byte ranges of push messages to keep. */
  pushKeep: [number, number][] | null = null;
  blocked: BlockState | null = null;
  /** CLIENT REPLY mode. */
  replyMode: "on" | "off" | "skip" = "on";
  skipNext = false;
  closeAfterReply = false;
  /** Queued for a write after the current batch of socket events (listener.ts). */
  flushPending = false;
  /** Continues processing buffered input after the client is unblocked. */
  resume: (() => void) | null = null;
  closed = false;
  /** Flags shown by CLIENT LIST: M master, S replica, O monitor, r readonly ... */
  isMaster = false;
  isReplica = false;
  isMonitor = false;
  readonlyMode = false;
  asking = false;
  /** A handler sets this to propagate a rewritten form (SET EX -> SET PXAT ...). */
  propagateArgv: string[] | null = null;
  /** Set by handlers that propagate by themselves (EXEC, expiry) instead of their argv. */
  suppressPropagation = false;
  libName = "";
  libVer = "";
  /** Bytes read/written, for INFO stats. */
  netIn = 0;
  netOut = 0;
  private writing = false;
  private onDrain: (() => void)[] = [];

  constructor(
    public server: Server,
    public transport: Transport | null,
    public addr: string,
    public laddr: string,
    public fd = -1,
  ) {
    this.db = server.dbs[0];
    this.authenticated = server.config.str("requirepass") === "";
  }

  get resp(): 2 | 3 {
    return this.out.resp;
  }
  set resp(v: 2 | 3) {
    this.out.resp = v;
  }

  /** True when subscribed to anything (RESP2 pub/sub context). */
  get inPubSub(): boolean {
    return this.channels.size + this.patterns.size + this.shardChannels.size > 0;
  }

  /** Whether a blocking command may block now (never inside EXEC or for the master link). */
  get canBlock(): boolean {
    return !this.inExec && !this.isMaster;
  }

  /** Selects a database by index. */
  select(i: number): void {
    this.dbIndex = i;
    this.db = this.server.dbs[i];
  }

  /** Replies an error and counts it (INFO errorstats). */
  error(msg: string): void {
    this.server.stats.countError(msg);
    this.out.error(msg);
  }

  /** Starts writing buffered output; concurrent callers share one write loop. */
  flush(): Promise<void> {
    if (this.writing) return new Promise((r) => this.onDrain.push(r));
    if (this.out.len === 0 || !this.transport) {
      if (this.closeAfterReply) this.close();
      return DONE;
    }
    let off = 0;
    if (this.transport.writeNow !== undefined) {
      // One synchronous write; only what the socket does not take goes through writeLoop.
      const n = this.out.len;
      off = this.transport.writeNow(this.out.buf, n);
      if (off < 0) {
        this.close();
        return DONE;
      }
      if (off === n) {
        this.written(n);
        if (this.closeAfterReply) this.close();
        return DONE;
      }
    }
    return this.writeLoop(off);
  }

  /** Writes the buffered output, the first `done` bytes of which are already written. */
  private async writeLoop(done: number): Promise<void> {
    this.writing = true;
    try {
      while (this.out.len > 0 && !this.closed) {
        const n = this.out.len;
        const buf = this.out.buf;
        let off = done;
        done = 0;
        // A plain Uint8Array view: Buffer#subarray goes through the species constructor.
        if (off === 0) {
          off = await this.transport!.write(new Uint8Array(buf.buffer, buf.byteOffset, n));
        }
        while (off < n) {
          off += await this.transport!.write(
            new Uint8Array(buf.buffer, buf.byteOffset + off, n - off),
          );
        }
        this.written(n);
      }
    } catch {
      this.close();
    } finally {
      this.writing = false;
      if (this.onDrain.length > 0) {
        const waiters = this.onDrain;
        this.onDrain = [];
        for (const w of waiters) w();
      }
    }
    if (this.closeAfterReply) this.close();
  }

  /** Counts n bytes of output as written and drops them from the buffer. */
  private written(n: number): void {
    this.netOut += n;
    this.server.stats.netOutput += n;
    this.out.consume(n);
  }

  /** Closes the connection and releases server-side state. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.unlinkClient(this);
    try {
      this.transport?.close();
    } catch {
      // already closed
    }
  }

  /** Flags string as CLIENT LIST shows it. */
  flagString(): string {
    let f = "";
    if (this.isMaster) f += "M";
    if (this.isReplica) f += "S";
    if (this.isMonitor) f += "O";
    if (this.multi) f += "x";
    if (this.blocked) f += "b";
    if (this.watchDirty) f += "d";
    if (this.closeAfterReply) f += "c";
    if (this.readonlyMode) f += "r";
    if (this.inPubSub) f += "P";
    return f || "N";
  }
}
