// WAIT numreplicas timeout: blocks the client until enough replicas acknowledged the offset its
// last write reached (Redis's c->woff), or until the timeout. Blocked clients ask replicas for an
// ACK right away with REPLCONF GETACK, sent once per event-loop turn for all of them.
import type { BlockState, Client } from "../server/client.ts";
import { parseInteger } from "../commands/util.ts";
import type { Primary } from "./primary.ts";

interface Waiting {
  offset: number;
  numreplicas: number;
  st: BlockState;
}

/** Clients blocked in WAIT and the per-client write offsets. */
export class Waiters {
  private waiting = new Map<Client, Waiting>();
  /** Replication offset right after each client's last write that reached the stream. */
  private woff = new WeakMap<Client, number>();
  private lastSeen = 0;
  private getAckPending = false;
  private getAckScheduled = false;

  constructor(private primary: Primary) {}

  /** After every command: a command that moved the offset owns it (c->woff). */
  afterCall(c: Client): void {
    const off = this.primary.repl.masterReplOffset;
    if (off !== this.lastSeen) {
      this.lastSeen = off;
      this.woff.set(c, off);
    }
  }

  /** The WAIT command. */
  wait(c: Client, argv: string[]): void {
    const repl = this.primary.repl;
    if (repl.isReplica) {
      return c.error(
        "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
      );
    }
    const numreplicas = parseInteger(argv[1]);
    if (numreplicas === null) return c.error("ERR value is not an integer or out of range");
    const timeout = parseInteger(argv[2]);
    if (timeout === null) return c.error("ERR timeout is not an integer or out of range");
    if (timeout < 0) return c.error("ERR timeout is negative");
    const offset = this.woff.get(c) ?? 0;
    const acked = this.primary.countAcks(offset);
    if (acked >= numreplicas || c.multi !== null || c.inExec) return c.out.int(acked);
    const st: BlockState = {
      keys: [],
      db: c.dbIndex,
      deadline: timeout > 0 ? Date.now() + timeout : 0,
      retry: () => false,
      onTimeout: () => {
        this.waiting.delete(c);
        c.out.int(this.primary.countAcks(offset));
      },
      spec: c.server.commands.get("wait")!,
      argv,
    };
    c.server.blocking.block(c, st);
    this.waiting.set(c, { offset, numreplicas, st });
    this.requestAck();
  }

  /** Asks every replica for an ACK at the end of this event-loop turn. */
  requestAck(): void {
    this.getAckPending = true;
    if (this.getAckScheduled) return;
    this.getAckScheduled = true;
    setTimeout(() => {
      this.getAckScheduled = false;
      this.flushGetAck();
    }, 0);
  }

  /** Sends the pending GETACK unless clients are paused (it would move the offset). */
  flushGetAck(): void {
    const repl = this.primary.repl;
    if (!this.getAckPending || repl.server.pauseUntil > Date.now()) return;
    this.getAckPending = false;
    if (repl.isReplica || this.primary.links.length === 0) return;
    repl.feedCommand(repl.slaveseldb, ["REPLCONF", "GETACK", "*"]);
  }

  /** Unblocks the WAIT clients whose replicas acknowledged enough (after an ACK). */
  process(): void {
    if (this.waiting.size === 0) return;
    const blocking = this.primary.repl.server.blocking;
    for (const [c, w] of [...this.waiting]) {
      if (c.blocked !== w.st || c.closed) {
        this.waiting.delete(c);
        continue;
      }
      const n = this.primary.countAcks(w.offset);
      if (n < w.numreplicas) continue;
      this.waiting.delete(c);
      blocking.unblock(c);
      c.out.int(n);
      if (c.resume) c.resume();
      else c.flush();
    }
  }
}
