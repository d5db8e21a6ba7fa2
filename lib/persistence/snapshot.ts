// Point-in-time snapshots without fork(). At creation a Snapshot records, per database, the
// dict/expires Maps and their key list; it then watches every modification through the
// server's SnapshotObserver hook and keeps a deep copy of a key's old value and TTL the first
// time the key changes (copy-on-write at key granularity). Keys created afterwards are not in
// the key list, so they never appear; FLUSHALL swaps in new Maps, so the old ones stay intact.
// RdbProducer turns a snapshot into RDB chunks, synchronously (SAVE) or in time slices that
// yield to the event loop (BGSAVE, replication full syncs) while clients keep being served.
import type { Server, SnapshotObserver } from "../server/server.ts";
import type { Db } from "../store/keyspace.ts";
import { type KeyDict, KeySet } from "../store/dict.ts";
import { HashValue, ListValue, SetValue, type Value } from "../store/types.ts";
import {
  type EncodableValue,
  type RdbFileOptions,
  RdbWriter,
  type ZsetLike,
} from "./rdb_writer.ts";

interface SavedKey {
  value: EncodableValue;
  expire: number | undefined;
}

/** One database as of the snapshot. */
export interface FrozenDb {
  id: number;
  dict: KeyDict<Value>;
  expires: KeyDict<number>;
  keys: string[];
  saved: Map<string, SavedKey>;
  /** Keys created after the snapshot (never written, so never copied). */
  created: Set<string>;
  /** Number of keys with a TTL at snapshot time (RESIZEDB hint). */
  expiresSize: number;
}

/** A copy of a value that later in-place changes cannot reach. */
export function freezeValue(v: Value): EncodableValue {
  if (typeof v === "string") return v;
  switch (v.type) {
    case "hash": {
      const h = new HashValue();
      h.m = v.m.clone();
      h.listpack = v.listpack;
      return h;
    }
    case "list": {
      const l = new ListValue();
      l.replace(v.toArray());
      return l;
    }
    case "set": {
      const s = new SetValue();
      s.s = new KeySet(v.s);
      s.enc = v.enc;
      return s;
    }
    case "zset": {
      const items: [string, number][] = Array.from(v.entries(), ([m, s]) => [m, s]);
      const frozen: ZsetLike = {
        type: "zset",
        listpack: v.listpack,
        size: items.length,
        entries: () => items,
      };
      return frozen;
    }
    case "stream":
      return v.clone();
    default:
      return v as EncodableValue;
  }
}

/** Copy-on-write view of the whole keyspace at one instant. */
export class Snapshot implements SnapshotObserver {
  dbs: FrozenDb[] = [];
  private byDict = new Map<KeyDict<Value>, FrozenDb>();
  private server: Server | null;

  constructor(server: Server) {
    this.server = server;
    for (const db of server.dbs) {
      if (db.dict.size === 0) continue;
      const f: FrozenDb = {
        id: db.id,
        dict: db.dict,
        expires: db.expires,
        keys: Array.from(db.dict.keys()),
        saved: new Map(),
        created: new Set(),
        expiresSize: db.expires.size,
      };
      this.dbs.push(f);
      this.byDict.set(db.dict, f);
    }
    server.snapshotObservers.add(this);
  }

  /** Total keys in the snapshot. */
  get totalKeys(): number {
    let n = 0;
    for (const f of this.dbs) n += f.keys.length;
    return n;
  }

  /** Called by Db before a key changes: keep its old value the first time. */
  beforeModify(db: Db, key: string): void {
    const f = this.byDict.get(db.dict);
    if (f === undefined || f.saved.has(key) || f.created.has(key)) return;
    const v = f.dict.get(key);
    if (v === undefined) {
      // Being created now: not part of the snapshot, and later changes need no copy either.
      f.created.add(key);
      return;
    }
    f.saved.set(key, { value: freezeValue(v), expire: f.expires.get(key) });
  }

  /** The key's value and TTL as of the snapshot; undefined if it vanished without a hook. */
  entry(f: FrozenDb, key: string): SavedKey | undefined {
    const saved = f.saved.get(key);
    if (saved !== undefined) return saved;
    const value = f.dict.get(key);
    if (value === undefined) return undefined;
    return { value, expire: f.expires.get(key) };
  }

  /** Writes the key as of the snapshot (allocation-free fast path of entry()). */
  writeKey(w: RdbWriter, f: FrozenDb, key: string): void {
    if (f.saved.size > 0) {
      const saved = f.saved.get(key);
      if (saved !== undefined) return w.key(key, saved.value, saved.expire);
    }
    const value = f.dict.get(key);
    if (value === undefined) return;
    w.key(key, value, f.expires.size > 0 ? f.expires.get(key) : undefined);
  }

  /** Stops tracking a database that was fully written (no more copies needed). */
  doneWith(f: FrozenDb): void {
    this.byDict.delete(f.dict);
    f.saved.clear();
    f.created.clear();
    f.keys = [];
  }

  /** Stops observing and drops every reference. */
  release(): void {
    this.server?.snapshotObservers.delete(this);
    this.server = null;
    this.byDict.clear();
    for (const f of this.dbs) {
      f.saved.clear();
      f.created.clear();
    }
    this.dbs = [];
  }
}

/** Raised inside a cooperative save when it was cancelled. */
export class SaveAborted extends Error {
  constructor() {
    super("save aborted");
  }
}

/** Options for a cooperative run. */
export interface RunOptions {
  /** Work per slice before yielding to the event loop (ms). */
  sliceMs?: number;
  /** rdb-key-save-delay: microseconds to wait per key (negative: 1 us with probability 1/|n|). */
  keyDelayUs?: () => number;
  /** Polled between keys; true stops the run with SaveAborted. */
  isAborted?: () => boolean;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function delayUnits(us: number): number {
  if (us >= 0) return us;
  return Math.floor(Math.random() * -us) === 0 ? 1 : 0;
}

/** Produces an RDB file from a snapshot taken when the producer is created. */
export class RdbProducer {
  readonly snapshot: Snapshot;
  keysTotal: number;
  keysProcessed = 0;
  private released = false;

  constructor(server: Server, private opts: RdbFileOptions) {
    this.snapshot = new Snapshot(server);
    this.keysTotal = this.snapshot.totalKeys;
  }

  /** Writes the whole RDB synchronously (SAVE, DEBUG RELOAD, shutdown). */
  runSync(sink: (chunk: Uint8Array) => void, keyDelayUs: () => number = () => 0): void {
    try {
      const w = new RdbWriter(this.opts, sink);
      w.header();
      for (const f of this.snapshot.dbs) {
        w.db(f.id, f.keys.length, f.expiresSize);
        for (const key of f.keys) {
          this.snapshot.writeKey(w, f, key);
          this.keysProcessed++;
          const us = delayUnits(keyDelayUs());
          if (us > 0) Atomics.wait(sleepCell, 0, 0, us / 1000);
        }
        this.snapshot.doneWith(f);
      }
      w.finish();
    } finally {
      this.release();
    }
  }

  /**
   * Writes the RDB cooperatively: keys are encoded in slices of `sliceMs`, chunks are awaited
   * through `sink`, and the event loop runs between slices. The snapshot is already fixed.
   */
  async run(sink: (chunk: Uint8Array) => Promise<void> | void, o: RunOptions = {}): Promise<void> {
    const sliceMs = o.sliceMs ?? 5;
    const pending: Uint8Array[] = [];
    const drain = async () => {
      while (pending.length > 0) await sink(pending.shift()!);
    };
    const check = () => {
      if (o.isAborted?.()) throw new SaveAborted();
    };
    try {
      const w = new RdbWriter(this.opts, (c) => pending.push(c));
      w.header();
      let sliceStart = performance.now();
      let debtUs = 0;
      for (const f of this.snapshot.dbs) {
        w.db(f.id, f.keys.length, f.expiresSize);
        for (let i = 0; i < f.keys.length; i++) {
          this.snapshot.writeKey(w, f, f.keys[i]);
          this.keysProcessed++;
          if (o.keyDelayUs) debtUs += delayUnits(o.keyDelayUs());
          if (debtUs >= 1000) {
            await drain();
            await new Promise((r) => setTimeout(r, Math.floor(debtUs / 1000)));
            debtUs %= 1000;
            check();
            sliceStart = performance.now();
          } else if ((i & 31) === 31 && performance.now() - sliceStart >= sliceMs) {
            await drain();
            await new Promise((r) => setTimeout(r, 0));
            check();
            sliceStart = performance.now();
          }
        }
        this.snapshot.doneWith(f);
      }
      w.finish();
      await drain();
      check();
    } finally {
      this.release();
    }
  }

  /** Stops copy-on-write tracking (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.snapshot.release();
  }
}
