// The server: databases, clients, the command table, and the hooks every subsystem shares
// (WATCH, keyspace notifications, propagation, snapshots). Sockets live in listener.ts,
// command execution in dispatch.ts.
import { Config } from "../config/config.ts";
import { Db, type KeyspaceHooks } from "../store/keyspace.ts";
import { Stats } from "./stats.ts";
import {
  keyspaceEventsToFlags,
  NOTIFY_KEYEVENT,
  NOTIFY_KEYSPACE,
  notifyClassBit,
  PubSub,
} from "./pubsub.ts";
import { Blocking } from "./blocking.ts";
import type { Client } from "./client.ts";
import type { CommandSpec } from "../commands/types.ts";
import { log } from "../log.ts";

export const VERSION = "7.0.15";
export const TSREDIS_VERSION = "0.1.0";

/** One slowlog entry. */
export interface SlowlogEntry {
  id: number;
  time: number;
  usec: number;
  argv: string[];
  addr: string;
  name: string;
}

/** Something that wants to see every propagated write (replication, AOF). `replOnly` marks
 * commands that go to replicas but not to the AOF (PUBLISH, SPUBLISH). */
export type PropagateSink = (dbIndex: number, argv: string[], replOnly?: boolean) => void;

/** A propagated command held back while EXEC runs. */
export interface PropagateOp {
  dbIndex: number;
  argv: string[];
  replOnly: boolean;
}

/** Copy-on-write observer used by point-in-time snapshots. */
export interface SnapshotObserver {
  beforeModify(db: Db, key: string): void;
}

/** Keyspace event classes, as notify-keyspace-events letters. */
export type EventClass = "g" | "$" | "l" | "s" | "h" | "z" | "x" | "e" | "t" | "m" | "d" | "n";

/** The running server. */
export class Server {
  dbs: Db[] = [];
  clients = new Map<number, Client>();
  stats = new Stats();
  pubsub = new PubSub();
  blocking = new Blocking();
  /** Clients whose next command waits for CLIENT PAUSE (Redis's BLOCKED_POSTPONE). */
  pausedClients = 0;
  commands = new Map<string, CommandSpec>();
  /** "db\0key" -> clients watching it. */
  watchers = new Map<string, Set<Client>>();
  monitors = new Set<Client>();
  dirty = 0;
  lastSave = Math.floor(Date.now() / 1000);
  lastBgsaveOk = true;
  loading = false;
  activeExpire = true;
  slowlog: SlowlogEntry[] = [];
  slowlogNextId = 0;
  /** CLIENT PAUSE: deadline in ms and whether only writes are paused. */
  pauseUntil = 0;
  pauseWritesOnly = false;
  propagateSinks: PropagateSink[] = [];
  /** Commands collected while EXEC runs; null when propagating directly. */
  propagateBatch: PropagateOp[] | null = null;
  /** notify-keyspace-events parsed once per distinct value. */
  private notifyStr = "";
  private notifyFlags = 0;
  snapshotObservers = new Set<SnapshotObserver>();
  /** Set while executing a command, for nested propagation decisions. */
  currentClient: Client | null = null;
  /** True when this node replicates from a master (keys do not expire locally). */
  isReplica = false;
  /** "db\0key" of keys a client (not the master) gave a TTL on a writable replica. */
  replicaKeysWithExpire = new Set<string>();
  /** Extra sections for INFO, keyed by section name (cluster, replication ...). */
  infoSections = new Map<string, () => string>();
  /** Functions run by the 100 ms cron. */
  cronHooks: (() => void)[] = [];
  /** Shutdown hooks (final save, nodes.conf); `save` null means "as configured". */
  shutdownHooks: ((save: boolean | null) => Promise<void> | void)[] = [];
  shuttingDown = false;
  /** Set by cluster mode before the dump loads: this node is a replica per nodes.conf. */
  loadAsReplica = false;
  /** Set by persistence: the MISCONF error text while writes must be refused, else null. */
  writeDenied: (() => string | null) | null = null;
  private keyspaceHooks: KeyspaceHooks;
  /** Open call() scopes: while > 0, WATCH invalidation by getForWrite waits in deferredTouches
   * ("db\0key") until the command is known to have changed the dataset (Redis touches watched
   * keys only on real modification: signalModifiedKey). */
  touchScope = 0;
  deferredTouches: string[] = [];

  constructor(public config: Config) {
    this.keyspaceHooks = {
      beforeModify: (db, key) => {
        if (this.watchers.size > 0) this.touchWatchedKey(db.id, key);
        // A key deleted or overwritten may have to fail blocked XREADGROUP clients (Redis
        // signals deleted streams as ready); other waiters just find nothing to serve.
        if (this.blocking.blockedCount > 0) this.blocking.signal(db.id, key);
        if (this.snapshotObservers.size > 0) {
          for (const o of this.snapshotObservers) o.beforeModify(db, key);
        }
      },
      beforeModifyInPlace: (db, key) => {
        if (this.watchers.size > 0) {
          if (this.touchScope > 0) this.deferredTouches.push(db.id + "\0" + key);
          else this.touchWatchedKey(db.id, key);
        }
        if (this.snapshotObservers.size > 0) {
          for (const o of this.snapshotObservers) o.beforeModify(db, key);
        }
      },
      onExpired: (db, key) => {
        this.stats.expiredKeys++;
        if (this.blocking.blockedCount > 0) this.blocking.signal(db.id, key);
        if (this.watchers.size > 0) this.touchWatchedKey(db.id, key, true);
        if (this.snapshotObservers.size > 0) {
          for (const o of this.snapshotObservers) o.beforeModify(db, key);
        }
        this.notify("x", "expired", key, db.id);
        this.propagate(db.id, ["DEL", key]);
      },
      onNew: (db, key) => this.notify("n", "new", key, db.id),
      onSetExpire: (db, key) => {
        // Redis rememberSlaveKeyWithExpire: a replica's master expires the keys it sent, but
        // keys a client wrote on a writable replica are expired by the replica itself.
        const c = this.currentClient;
        if (this.isReplica && c !== null && !c.isMaster) {
          this.replicaKeysWithExpire.add(db.id + "\0" + key);
        }
      },
      isReplica: () => this.isReplica,
      obeyMaster: () => this.currentClient?.isMaster === true,
      paused: () => this.clientsPaused(),
      now: () => Date.now(),
    };
    const n = config.int("databases");
    for (let i = 0; i < n; i++) this.dbs.push(new Db(i, this.keyspaceHooks));
  }

  /** Registers command specs (top-level names). */
  registerCommands(specs: CommandSpec[]): void {
    for (const s of specs) {
      s.fullname = s.name;
      s.flagSet = new Set(s.flags);
      if (s.subcommands) {
        for (const sub of s.subcommands.values()) {
          sub.fullname = `${s.name}|${sub.name}`;
          sub.flagSet = new Set(sub.flags);
        }
      }
      this.commands.set(s.name, s);
    }
  }

  /** Marks clients watching db/key as dirty (their EXEC will fail). `expiredDelete` is set when
   * an expired key is being removed: for clients that WATCHed it already expired, that is no
   * logical change (Redis 7.0 multi.c). */
  touchWatchedKey(db: number, key: string, expiredDelete = false): void {
    const id = db + "\0" + key;
    const set = this.watchers.get(id);
    if (!set) return;
    for (const c of set) {
      if (c.watchedStale.delete(id) && expiredDelete) continue;
      c.watchDirty = true;
    }
  }

  /** Ends a call() scope: the getForWrite touches recorded since `mark` invalidate WATCHes if
   * the command changed the dataset, and are dropped otherwise. */
  settleTouches(mark: number, modified: boolean): void {
    const list = this.deferredTouches;
    if (modified) {
      for (let i = mark; i < list.length; i++) {
        const id = list[i];
        const sep = id.indexOf("\0");
        this.touchWatchedKey(Number(id.slice(0, sep)), id.slice(sep + 1));
      }
    }
    list.length = mark;
  }

  /** True when the key has a TTL that already passed (it may still sit in the dict). */
  keyIsStale(db: Db, key: string): boolean {
    const when = db.expires.get(key);
    return when !== undefined && !this.loading && when <= Date.now();
  }

  /** FLUSHDB/FLUSHALL (db -1 = every db)/SWAPDB: marks watchers of keys that logically change.
   * Call before emptying. For SWAPDB call it for both dbs with `replacedWith` = the other db,
   * before swapping. `onlyExisting` false dirties every watcher of the db unconditionally. */
  touchAllWatched(db: number, onlyExisting = true, replacedWith = -1): void {
    for (const [id, set] of this.watchers) {
      const sep = id.indexOf("\0");
      const d = Number(id.slice(0, sep));
      if (db !== -1 && d !== db) continue;
      if (!onlyExisting) {
        for (const c of set) c.watchDirty = true;
        continue;
      }
      const key = id.slice(sep + 1);
      const emptied = this.dbs[d];
      const other = replacedWith >= 0 ? this.dbs[replacedWith] : null;
      const inEmptied = emptied.dict.has(key);
      const inOther = other !== null && other.dict.has(key);
      if (!inEmptied && !inOther) continue;
      for (const c of set) {
        if (c.watchedStale.has(id)) {
          // Watched while already expired: removing it, or replacing it with another expired
          // key, is no logical change.
          if (!inOther) {
            c.watchedStale.delete(id);
            continue;
          }
          if (this.keyIsStale(other!, key)) continue;
        } else if (!inEmptied && this.keyIsStale(other!, key)) {
          // A missing key replaced by an expired one still looks missing.
          c.watchedStale.add(id);
          continue;
        }
        c.watchDirty = true;
      }
    }
  }

  /** EXEC-time check: a watched key (not stale when WATCHed) has expired since. */
  watchedKeyExpired(c: Client): boolean {
    for (const id of c.watched) {
      if (c.watchedStale.has(id)) continue;
      const sep = id.indexOf("\0");
      if (this.keyIsStale(this.dbs[Number(id.slice(0, sep))], id.slice(sep + 1))) return true;
    }
    return false;
  }

  /** Publishes a keyspace notification if enabled by notify-keyspace-events (Redis notify.c:
   * the class must be enabled, and K and/or E pick the channel kinds). */
  notify(cls: EventClass, event: string, key: string, dbIndex: number): void {
    const str = this.config.hot.notifyKeyspaceEvents;
    if (str === "") return;
    if (str !== this.notifyStr) {
      this.notifyStr = str;
      this.notifyFlags = Math.max(0, keyspaceEventsToFlags(str));
    }
    const flags = this.notifyFlags;
    if (!(flags & notifyClassBit(cls))) return;
    if (flags & NOTIFY_KEYSPACE) this.pubsub.publish(`__keyspace@${dbIndex}__:${key}`, event);
    if (flags & NOTIFY_KEYEVENT) this.pubsub.publish(`__keyevent@${dbIndex}__:${event}`, key);
  }

  /** Sends a write to replicas/AOF. Handlers call it only for rewritten forms; dispatch
   * propagates the original argv of write commands that changed the dataset. While EXEC runs the
   * command is held in propagateBatch. */
  propagate(dbIndex: number, argv: string[], replOnly = false): void {
    if (this.propagateBatch) {
      this.propagateBatch.push({ dbIndex, argv, replOnly });
      return;
    }
    for (const s of this.propagateSinks) s(dbIndex, argv, replOnly);
  }

  /** Starts holding propagated commands (EXEC); false if a batch is already open (nested). */
  beginPropagateBatch(): boolean {
    if (this.propagateBatch) return false;
    this.propagateBatch = [];
    return true;
  }

  /** Sends the held commands: one goes alone, several are wrapped in MULTI/EXEC (Redis 7.0
   * propagatePendingCommands). `drop` discards them instead. */
  endPropagateBatch(drop = false): void {
    const ops = this.propagateBatch;
    this.propagateBatch = null;
    if (!ops || ops.length === 0 || drop) return;
    const wrap = ops.length > 1;
    if (wrap) { for (const s of this.propagateSinks) s(ops[0].dbIndex, ["MULTI"]); }
    for (const op of ops) for (const s of this.propagateSinks) s(op.dbIndex, op.argv, op.replOnly);
    if (wrap) { for (const s of this.propagateSinks) s(ops[ops.length - 1].dbIndex, ["EXEC"]); }
  }

  /** Removes a client from every registry (called by Client.close). */
  unlinkClient(c: Client): void {
    this.clients.delete(c.id);
    this.blocking.unblock(c);
    this.pubsub.removeClient(c);
    this.unwatchAll(c);
    this.monitors.delete(c);
  }

  /** Drops all WATCHed keys of a client. */
  unwatchAll(c: Client): void {
    for (const id of c.watched) {
      const set = this.watchers.get(id);
      if (set) {
        set.delete(c);
        if (set.size === 0) this.watchers.delete(id);
      }
    }
    c.watched.clear();
    c.watchedStale.clear();
    c.watchDirty = false;
  }

  /** Whether a CLIENT PAUSE (WRITE or ALL) is in force; one that ran out is cleared. While it
   * is, the dataset stays as it is: no active expiry, and expired keys are not deleted. */
  clientsPaused(): boolean {
    if (this.pauseUntil === 0) return false;
    if (Date.now() < this.pauseUntil) return true;
    this.pauseUntil = 0;
    return false;
  }

  /** Active expiry: checks keys with a TTL in bounded slices so the loop never stalls. A
   * replica only expires the keys its own clients gave a TTL (expireReplicaKeys). */
  activeExpireCycle(budgetMs = 25): void {
    if (!this.activeExpire || this.clientsPaused()) return;
    if (this.isReplica) {
      this.expireReplicaKeys(budgetMs);
      return;
    }
    if (this.replicaKeysWithExpire.size > 0) this.replicaKeysWithExpire.clear();
    const start = performance.now();
    const now = Date.now();
    for (const db of this.dbs) {
      if (db.expires.size === 0) continue;
      let checked = 0;
      let expired = 0;
      for (const [key, when] of db.expires) {
        if (when <= now) {
          db.expireIfNeeded(key);
          expired++;
        }
        if (++checked % 64 === 0) {
          if (performance.now() - start > budgetMs) return;
          if (expired * 4 < checked && checked >= 256) break;
        }
      }
    }
  }

  /** Redis expireSlaveKeys: deletes the remembered keys of a writable replica whose TTL passed,
   * and forgets the ones that are gone or lost their TTL. */
  private expireReplicaKeys(budgetMs: number): void {
    const set = this.replicaKeysWithExpire;
    if (set.size === 0) return;
    const start = performance.now();
    let n = 0;
    for (const id of set) {
      const sep = id.indexOf("\0");
      const db = this.dbs[Number(id.slice(0, sep))];
      const key = id.slice(sep + 1);
      if (db === undefined || db.getExpire(key) < 0 || db.deleteIfExpired(key)) set.delete(id);
      if (++n % 64 === 0 && performance.now() - start > budgetMs) return;
    }
  }

  /** Adds a slowlog entry when the command was slow enough. */
  slowlogPush(c: Client, argv: string[], usec: number): void {
    const limit = this.config.hot.slowlogLogSlowerThan;
    if (limit < 0 || usec < limit) return;
    const args = argv.slice(0, 32).map((a) =>
      a.length > 128 ? `${a.slice(0, 128)}... (${a.length - 128} more bytes)` : a
    );
    if (argv.length > 32) args[31] = `... (${argv.length - 31} more arguments)`;
    this.slowlog.unshift({
      id: this.slowlogNextId++,
      time: Math.floor(Date.now() / 1000),
      usec,
      argv: args,
      addr: c.addr,
      name: c.name,
    });
    const max = this.config.hot.slowlogMaxLen;
    if (this.slowlog.length > max) this.slowlog.length = max;
  }

  /** Logs at shutdown, runs the hooks (final save etc.) and exits. */
  async shutdown(save: boolean | null, code = 0): Promise<boolean> {
    if (this.shuttingDown) return false;
    this.shuttingDown = true;
    log.warning("User requested shutdown...");
    try {
      for (const h of this.shutdownHooks) await h(save);
    } catch (e) {
      log.warning(`Error trying to save the DB, can't exit: ${(e as Error).message}`);
      this.shuttingDown = false;
      return false;
    }
    log.warning("tsredis is now ready to exit, bye bye...");
    Deno.exit(code);
  }
}
