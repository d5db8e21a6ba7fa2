// Blocked clients (BLPOP, BLMOVE, BZPOPMIN ...): a FIFO of clients per db/key, woken when a
// write makes the key ready, and timed out by the cron.
import type { BlockState, Client } from "./client.ts";
import { statsOnUnblock } from "./dispatch.ts";

/** Tracks which clients wait on which keys. */
export class Blocking {
  private waiting = new Map<string, Client[]>();
  private ready = new Set<string>();
  blockedCount = 0;

  /** Blocks the client; the command handler already decided nothing can be served now. */
  block(c: Client, st: BlockState): void {
    c.blocked = st;
    this.blockedCount++;
    for (const k of st.keys) {
      const id = st.db + "\0" + k;
      let q = this.waiting.get(id);
      if (!q) this.waiting.set(id, q = []);
      q.push(c);
    }
  }

  /** Removes the client from every wait queue (served, timed out, killed). */
  unblock(c: Client): void {
    const st = c.blocked;
    if (!st) return;
    c.blocked = null;
    this.blockedCount--;
    for (const k of st.keys) {
      const id = st.db + "\0" + k;
      const q = this.waiting.get(id);
      if (!q) continue;
      const i = q.indexOf(c);
      if (i >= 0) q.splice(i, 1);
      if (q.length === 0) this.waiting.delete(id);
    }
  }

  /** Marks a key as possibly able to serve waiting clients (after a push/add). */
  signal(db: number, key: string): void {
    const id = db + "\0" + key;
    if (this.waiting.has(id)) this.ready.add(id);
  }

  /** Marks every waited-on key of the databases `inDb` accepts as possibly ready (FLUSHDB,
   * FLUSHALL, SWAPDB): each waiter's retry decides whether it is served, fails or waits on. */
  signalDbs(inDb: (db: number) => boolean): void {
    for (const id of this.waiting.keys()) {
      if (inDb(Number(id.slice(0, id.indexOf("\0"))))) this.ready.add(id);
    }
  }

  /** Serves clients whose keys became ready, in FIFO order; repeats while progress is made. */
  handleReady(): void {
    while (this.ready.size > 0) {
      const ids = [...this.ready];
      this.ready.clear();
      for (const id of ids) {
        const q = this.waiting.get(id);
        if (!q) continue;
        const key = id.slice(id.indexOf("\0") + 1);
        for (const c of [...q]) {
          const st = c.blocked;
          if (!st) continue;
          const errors = c.server.stats.totalErrorReplies;
          const t0 = performance.now();
          if (st.retry(key)) {
            const usec = (performance.now() - t0) * 1000;
            statsOnUnblock(c, st.spec, st.argv, usec, c.server.stats.totalErrorReplies !== errors);
            this.unblock(c);
            if (c.resume) c.resume();
            else c.flush();
          }
        }
      }
    }
  }

  /** Times out clients whose deadline passed. */
  checkTimeouts(now: number, clients: Iterable<Client>): void {
    if (this.blockedCount === 0) return;
    for (const c of clients) {
      const st = c.blocked;
      if (st && st.deadline > 0 && st.deadline <= now) {
        this.unblock(c);
        st.onTimeout();
        if (c.resume) c.resume();
        else c.flush();
      }
    }
  }
}
