// The server: databases, clients, the command table, and the hooks every subsystem shares
// (WATCH, keyspace notifications, propagation, snapshots). Sockets live in listener.ts,
// command execution in dispatch.ts.
import { Config } from "../config/config.ts";
import { Db, type KeyspaceHooks } from "../store/keyspace.ts";
import { Stats } from "./stats.ts";
import { PubSub } from "./pubsub.ts";
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

/** Something that wants to see every propagated write (replication, AOF). */
export type PropagateSink = (dbIndex: number, argv: string[]) => void;

/** Copy-on-write observer used by point-in-time snapshots. */
export interface SnapshotObserver {
  beforeModify(db: Db, key: string): void;
}

/** Keyspace event classes, as notify-keyspace-events letters. */
export type EventClass = "g" | "$" | "l" | "s" | "h" | "z" | "x" | "e" | "t" | "m" | "d";

/** The running server. */
export class Server {
  dbs: Db[] = [];
  clients = new Map<number, Client>();
  stats = new Stats();
  pubsub = new PubSub();
  blocking = new Blocking();
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
  snapshotObservers = new Set<SnapshotObserver>();
  /** Set while executing a command, for nested propagation decisions. */
  currentClient: Client | null = null;
  /** True when this node replicates from a master (keys do not expire locally). */
  isReplica = false;
  /** Extra sections for INFO, keyed by section name (cluster, replication ...). */
  infoSections = new Map<string, () => string>();
  /** Functions run by the 100 ms cron. */
  cronHooks: (() => void)[] = [];
  /** Shutdown hooks (final save, nodes.conf); `save` null means "as configured". */
  shutdownHooks: ((save: boolean | null) => Promise<void> | void)[] = [];
  shuttingDown = false;
  private keyspaceHooks: KeyspaceHooks;

  constructor(public config: Config) {
    this.keyspaceHooks = {
      beforeModify: (db, key) => {
        if (this.watchers.size > 0) this.touchWatchedKey(db.id, key);
        if (this.snapshotObservers.size > 0) for (const o of this.snapshotObservers) o.beforeModify(db, key);
      },
      onExpired: (db, key) => {
        this.stats.expiredKeys++;
        if (this.watchers.size > 0) this.touchWatchedKey(db.id, key);
        if (this.snapshotObservers.size > 0) for (const o of this.snapshotObservers) o.beforeModify(db, key);
        this.notify("x", "expired", key, db.id);
        this.propagate(db.id, ["DEL", key]);
      },
      isReplica: () => this.isReplica,
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

  /** Marks clients watching db/key as dirty (their EXEC will fail). */
  touchWatchedKey(db: number, key: string): void {
    const set = this.watchers.get(db + "\0" + key);
    if (!set) return;
    for (const c of set) c.watchDirty = true;
  }

  /** Marks every watcher of a db (or all dbs for -1) dirty: FLUSHDB/FLUSHALL/SWAPDB. */
  touchAllWatched(db: number, onlyExisting = true): void {
    for (const [id, set] of this.watchers) {
      const sep = id.indexOf("\0");
      const d = Number(id.slice(0, sep));
      if (db !== -1 && d !== db) continue;
      if (onlyExisting && !this.dbs[d].dict.has(id.slice(sep + 1))) continue;
      for (const c of set) c.watchDirty = true;
    }
  }

  /** Publishes a keyspace notification if enabled by notify-keyspace-events. */
  notify(cls: EventClass, event: string, key: string, dbIndex: number): void {
    const flags = this.config.str("notify-keyspace-events");
    if (flags === "") return;
    const all = flags.includes("A");
    const classOk = flags.includes(cls) || (all && cls !== "m" && cls !== "t" && cls !== "d") ||
      (cls === "t" && flags.includes("t"));
    if (!classOk) return;
    if (flags.includes("K")) this.pubsub.publish(`__keyspace@${dbIndex}__:${key}`, event);
    if (flags.includes("E")) this.pubsub.publish(`__keyevent@${dbIndex}__:${event}`, key);
  }

  /** Sends a write to replicas/AOF. Handlers call it only for rewritten forms; dispatch
   * propagates the original argv of write commands that changed the dataset. */
  propagate(dbIndex: number, argv: string[]): void {
    for (const s of this.propagateSinks) s(dbIndex, argv);
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
    c.watchDirty = false;
  }

  /** Active expiry: checks keys with a TTL in bounded slices so the loop never stalls. */
  activeExpireCycle(budgetMs = 25): void {
    if (!this.activeExpire || this.isReplica) return;
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

  /** Adds a slowlog entry when the command was slow enough. */
  slowlogPush(c: Client, argv: string[], usec: number): void {
    const limit = this.config.int("slowlog-log-slower-than");
    if (limit < 0 || usec < limit) return;
    const args = argv.slice(0, 32).map((a) => a.length > 128 ? `${a.slice(0, 128)}... (${a.length - 128} more bytes)` : a);
    if (argv.length > 32) args[31] = `... (${argv.length - 31} more arguments)`;
    this.slowlog.unshift({
      id: this.slowlogNextId++,
      time: Math.floor(Date.now() / 1000),
      usec,
      argv: args,
      addr: c.addr,
      name: c.name,
    });
    const max = this.config.int("slowlog-max-len");
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
