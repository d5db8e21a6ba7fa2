// One logical database: keys -> values, keys -> absolute expiry (ms), with the hooks that
// WATCH, snapshots (copy-on-write), cluster slot indexing and replication need.
import type { Value } from "./types.ts";
import { keyHashSlot } from "../cluster/slot.ts";
import { hashKey, KeyDict } from "./dict.ts";

/** Observers of keyspace changes, installed by the server. */
export interface KeyspaceHooks {
  /** Called before a key's value is modified or removed (snapshot copy-on-write, WATCH). */
  beforeModify(db: Db, key: string): void;
  /** Called by getForWrite: the value may be modified in place, or the command may turn out to
   * change nothing (SADD of an existing member). Copy-on-write must happen now; WATCH
   * invalidation may wait until the command is known to have changed the dataset. */
  beforeModifyInPlace?(db: Db, key: string): void;
  /** Called when a key expires lazily or actively, so the server can propagate a DEL. */
  onExpired(db: Db, key: string): void;
  /** Called after a key is created (the 'n' keyspace event class). */
  onNew?(db: Db, key: string): void;
  /** Called after a TTL is set (a writable replica remembers its own keys with a TTL). */
  onSetExpire?(db: Db, key: string): void;
  /** True when this server must not delete expired keys itself (replicas). */
  isReplica(): boolean;
  /** True while a replica runs its master's commands: for them no key is expired yet. */
  obeyMaster?(): boolean;
  /** True while CLIENT PAUSE keeps the dataset still: expired keys read as missing but are not
   * deleted (Redis checkClientPauseTimeoutAndReturnIfPaused). */
  paused?(): boolean;
  /** Current time in ms. */
  now(): number;
}

/** Per-slot key index, maintained only in cluster mode. */
export class SlotIndex {
  slots: (Set<string> | undefined)[] = new Array(16384);
  /** Adds a key. */
  add(key: string): void {
    const s = keyHashSlot(key);
    (this.slots[s] ??= new Set()).add(key);
  }
  /** Removes a key. */
  delete(key: string): void {
    const set = this.slots[keyHashSlot(key)];
    if (set) set.delete(key);
  }
  /** Number of keys in a slot. */
  count(slot: number): number {
    return this.slots[slot]?.size ?? 0;
  }
  /** Up to `n` keys of a slot. */
  keys(slot: number, n: number): string[] {
    const out: string[] = [];
    const set = this.slots[slot];
    if (!set) return out;
    for (const k of set) {
      if (out.length >= n) break;
      out.push(k);
    }
    return out;
  }
  /** Drops everything. */
  clear(): void {
    this.slots = new Array(16384);
  }
}

/** A numbered database. */
export class Db {
  dict = new KeyDict<Value>();
  expires = new KeyDict<number>();
  slotIndex: SlotIndex | null = null;
  /** Insertion-order key log for SCAN/RANDOMKEY, created on first use (commands/keys_db.ts). */
  scanIndex: { add(key: string): void } | null = null;
  /** Average TTL estimate kept for INFO keyspace avg_ttl. */
  avgTtl = 0;

  constructor(public id: number, public hooks: KeyspaceHooks) {}

  /** Number of keys. */
  get size(): number {
    return this.dict.size;
  }

  /** Deletes the key if its TTL passed; returns true if the key is (logically) expired. */
  expireIfNeeded(key: string): boolean {
    const when = this.expires.get(key);
    return when !== undefined && this.expireAt(key, when);
  }

  /** expireIfNeeded for a key whose expiry time is already known. */
  private expireAt(key: string, when: number): boolean {
    if (when > this.hooks.now()) return false;
    if (this.hooks.isReplica()) return !this.hooks.obeyMaster?.();
    if (this.hooks.paused?.()) return true;
    this.hooks.onExpired(this, key);
    this.remove(key);
    return true;
  }

  /** Value for reading, honouring expiry. */
  get(key: string): Value | undefined {
    const h = hashKey(key);
    const i = this.dict.indexOf(key, h);
    if (i < 0) return undefined;
    if (this.expires.size > 0) {
      // One probe of expires with the hash already computed, not a second lookup.
      const j = this.expires.indexOf(key, h);
      if (j >= 0 && this.expireAt(key, this.expires.valueAt(j))) return undefined;
    }
    return this.dict.valueAt(i);
  }

  /** Value that the caller is about to modify in place (runs copy-on-write / watch hooks). */
  getForWrite(key: string): Value | undefined {
    const v = this.get(key);
    if (v !== undefined) {
      if (this.hooks.beforeModifyInPlace) this.hooks.beforeModifyInPlace(this, key);
      else this.hooks.beforeModify(this, key);
    }
    return v;
  }

  /** Sets a value; clears the TTL unless keepTtl. */
  set(key: string, value: Value, keepTtl = false): void {
    this.hooks.beforeModify(this, key);
    const h = hashKey(key);
    const isNew = this.dict.setHashed(key, h, value);
    if (!keepTtl && this.expires.size > 0) this.expires.deleteHashed(key, h);
    if (isNew) {
      if (this.slotIndex) this.slotIndex.add(key);
      if (this.scanIndex !== null) this.scanIndex.add(key);
      this.hooks.onNew?.(this, key);
    }
  }

  /** Adds a new key known not to exist (after get() returned undefined). */
  add(key: string, value: Value): void {
    this.set(key, value);
  }

  /** Deletes a key; returns true if it existed. */
  delete(key: string): boolean {
    if (!this.dict.has(key)) return false;
    if (this.expires.size > 0 && this.expireIfNeeded(key)) return false;
    this.hooks.beforeModify(this, key);
    this.remove(key);
    return true;
  }

  /** Removes a key unconditionally (no hooks besides the slot index). */
  remove(key: string): void {
    this.dict.delete(key);
    this.expires.delete(key);
    if (this.slotIndex) this.slotIndex.delete(key);
  }

  /** Sets an absolute expiry time in ms. */
  setExpire(key: string, whenMs: number): void {
    this.hooks.beforeModify(this, key);
    this.expires.set(key, whenMs);
    this.hooks.onSetExpire?.(this, key);
  }

  /** Deletes a key whose TTL passed even on a replica (a writable replica's own keys, Redis
   * expireSlaveKeys); returns true when it was deleted. */
  deleteIfExpired(key: string): boolean {
    const when = this.expires.get(key);
    if (when === undefined || when > this.hooks.now()) return false;
    this.hooks.onExpired(this, key);
    this.remove(key);
    return true;
  }

  /** Removes the TTL; returns true if there was one. */
  persist(key: string): boolean {
    if (!this.expires.has(key)) return false;
    this.hooks.beforeModify(this, key);
    this.expires.delete(key);
    return true;
  }

  /** Absolute expiry in ms or -1. */
  getExpire(key: string): number {
    return this.expires.get(key) ?? -1;
  }

  /** Removes every key. */
  clear(): void {
    this.dict = new KeyDict();
    this.expires = new KeyDict();
    this.slotIndex?.clear();
    this.scanIndex = null;
  }

  /** Turns on the per-slot key index (cluster mode). */
  enableSlotIndex(): void {
    this.slotIndex = new SlotIndex();
    for (const k of this.dict.keys()) this.slotIndex.add(k);
  }
}
