// Value types held in the keyspace. Strings are JS latin1 strings (one char per byte).
import type { ZSetValue } from "./zset.ts";
import type { StreamValue } from "./stream.ts";
import { KeyDict, KeySet } from "./dict.ts";

// Containers are small classes so OBJECT ENCODING and RDB can see which encoding Redis would use.

/** Random picks and SCAN cursors over the keys of a Map or Set, built lazily on first use so
 * containers that are never sampled or scanned pay nothing. The owner reports new keys
 * (`added`) and removals (`removed`); entries of removed keys are skipped when met. */
export class KeyIndex {
  // Random access: every live key once, plus `stale` entries of removed keys.
  private pool: string[] | null = null;
  private stale = 0;
  private poolDirty = false;
  // SCAN: keys in insertion order with increasing sequence numbers. A cursor is a sequence
  // number, so keys present for the whole scan are returned even when others come and go.
  private log: string[] | null = null;
  private seq: number[] | null = null;
  private nextSeq = 1;

  constructor(
    private c: { has(k: string): boolean; readonly size: number; keys(): Iterable<string> },
  ) {}

  /** The owner added a key that was absent. */
  added(k: string): void {
    if (this.pool !== null) {
      // Pushing is safe only when no stale copy of k can be in the pool.
      if (this.stale === 0) this.pool.push(k);
      else this.poolDirty = true;
    }
    if (this.log !== null) this.logPush(k);
  }

  /** The owner removed a key. */
  removed(): void {
    if (this.pool !== null) this.stale++;
  }

  /** A uniformly random live key (the container must not be empty). */
  pick(): string {
    const i = this.pickIndex();
    return this.pool![i];
  }

  /** Removes and returns a random key from the index; the caller deletes it from the container. */
  take(): string {
    const i = this.pickIndex();
    const pool = this.pool!;
    const k = pool[i];
    pool[i] = pool[pool.length - 1];
    pool.pop();
    return k;
  }

  private pickIndex(): number {
    let pool = this.pool;
    if (pool === null || this.poolDirty || pool.length > 2 * this.c.size + 16) {
      pool = this.pool = Array.from(this.c.keys());
      this.stale = 0;
      this.poolDirty = false;
    }
    for (;;) {
      // Keys added behind the owner's back could leave only stale entries: start over.
      if (pool.length === 0) pool = this.pool = Array.from(this.c.keys());
      const i = Math.floor(Math.random() * pool.length);
      if (this.c.has(pool[i])) return i;
      pool[i] = pool[pool.length - 1];
      pool.pop();
      this.stale--;
    }
  }

  /** Visits up to `count` live keys from `cursor`; returns the next cursor, 0 when done. */
  scan(cursor: number, count: number, fn: (k: string) => void): number {
    if (this.log === null) {
      this.log = [];
      this.seq = [];
      for (const k of this.c.keys()) this.logPush(k);
    }
    const log = this.log;
    const seq = this.seq!;
    let lo = 0;
    let hi = seq.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seq[mid] < cursor) lo = mid + 1;
      else hi = mid;
    }
    let n = 0;
    for (let i = lo; i < log.length; i++) {
      if (!this.c.has(log[i])) continue;
      if (n >= count) return seq[i];
      fn(log[i]);
      n++;
    }
    return 0;
  }

  private logPush(k: string): void {
    const log = this.log!;
    const seq = this.seq!;
    log.push(k);
    seq.push(this.nextSeq++);
    if (log.length > 2 * this.c.size + 64) {
      // Compact: keep the newest entry of each live key, preserving sequence numbers.
      const seen = new Set<string>();
      const keep: number[] = [];
      for (let i = log.length - 1; i >= 0; i--) {
        const x = log[i];
        if (seen.has(x) || !this.c.has(x)) continue;
        seen.add(x);
        keep.push(i);
      }
      keep.reverse();
      this.log = keep.map((i) => log[i]);
      this.seq = keep.map((i) => seq[i]);
    }
  }
}

/** Hash: field -> value. `listpack` mirrors Redis's compact-encoding state. */
export class HashValue {
  readonly type = "hash";
  m = new KeyDict<string>();
  listpack = true;
  private ix: KeyIndex | null = null;

  /** Sets a field; returns true when it was created. Mutate through this so HRANDFIELD and
   * HSCAN see new fields. */
  set(field: string, value: string): boolean {
    const m = this.m;
    const n = m.size;
    m.set(field, value);
    if (m.size === n) return false;
    if (this.ix !== null) this.ix.added(field);
    return true;
  }

  /** Deletes a field; returns true if it existed. */
  delete(field: string): boolean {
    if (!this.m.delete(field)) return false;
    if (this.ix !== null) this.ix.removed();
    return true;
  }

  /** Random sampling and scan cursors (created on first use). */
  index(): KeyIndex {
    return this.ix ??= new KeyIndex(this.m);
  }

  /** Deep copy with the same encoding flag. */
  clone(): HashValue {
    const h = new HashValue();
    h.m = this.m.clone();
    h.listpack = this.listpack;
    return h;
  }
}

/** List as a deque (array with a moving head). Redis 7.0 always reports "quicklist". */
export class ListValue {
  readonly type = "list";
  a: string[] = [];
  head = 0;
  get length(): number {
    return this.a.length - this.head;
  }
  /** Element at index i (0-based from the head). */
  at(i: number): string {
    return this.a[this.head + i];
  }
  /** Replaces element i. */
  setAt(i: number, v: string): void {
    this.a[this.head + i] = v;
  }
  /** Pushes to the tail. */
  pushTail(v: string): void {
    this.a.push(v);
  }
  /** Pushes to the head. */
  pushHead(v: string): void {
    if (this.head > 0) this.a[--this.head] = v;
    else {
      // Reserve headroom proportional to size so repeated LPUSH stays amortised O(1).
      const room = Math.max(16, this.a.length);
      const na = new Array<string>(room + this.a.length);
      for (let i = 0; i < this.a.length; i++) na[room + i] = this.a[i];
      this.a = na;
      this.head = room - 1;
      this.a[this.head] = v;
    }
  }
  /** Pops from the head. */
  popHead(): string | undefined {
    if (this.length === 0) return undefined;
    const v = this.a[this.head];
    (this.a as (string | undefined)[])[this.head] = undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.a.length) this.compact();
    return v;
  }
  /** Pops from the tail. */
  popTail(): string | undefined {
    if (this.length === 0) return undefined;
    return this.a.pop();
  }
  /** Inserts v so that it becomes element i (0 <= i <= length). */
  insertAt(i: number, v: string): void {
    if (i === 0) this.pushHead(v);
    else if (i === this.length) this.pushTail(v);
    else this.a.splice(this.head + i, 0, v);
  }
  /** Deep copy. */
  clone(): ListValue {
    const l = new ListValue();
    l.a = this.toArray();
    return l;
  }
  /** Copies the live elements into a plain array. */
  toArray(): string[] {
    return this.a.slice(this.head);
  }
  /** Replaces content with the given array. */
  replace(items: string[]): void {
    this.a = items;
    this.head = 0;
  }
  private compact(): void {
    this.a = this.a.slice(this.head);
    this.head = 0;
  }
}

/** Set of members. `enc` mirrors Redis 7.0: intset or hashtable. */
export class SetValue {
  readonly type = "set";
  s = new KeySet();
  enc: "intset" | "hashtable" = "intset";
  private ix: KeyIndex | null = null;

  /** Adds a member; returns true when it was absent. Mutate through this so SRANDMEMBER, SPOP
   * and SSCAN see new members. */
  add(member: string): boolean {
    const s = this.s;
    const n = s.size;
    s.add(member);
    if (s.size === n) return false;
    if (this.ix !== null) this.ix.added(member);
    return true;
  }

  /** Removes a member; returns true if it was present. */
  delete(member: string): boolean {
    if (!this.s.delete(member)) return false;
    if (this.ix !== null) this.ix.removed();
    return true;
  }

  /** Removes and returns a uniformly random member (the set must not be empty). */
  popRandom(): string {
    const m = this.index().take();
    this.s.delete(m);
    return m;
  }

  /** Random sampling and scan cursors (created on first use). */
  index(): KeyIndex {
    return this.ix ??= new KeyIndex(this.s);
  }

  /** Members in Redis's iteration order: an intset is sorted by value. */
  members(): string[] {
    const out = Array.from(this.s);
    if (this.enc === "intset") out.sort(cmpIntStrings);
    return out;
  }

  /** Deep copy with the same encoding. */
  clone(): SetValue {
    const v = new SetValue();
    v.s = new KeySet(this.s);
    v.enc = this.enc;
    return v;
  }
}

/** Orders canonical integer strings numerically without losing 64-bit precision. */
function cmpIntStrings(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (na !== nb) return na - nb;
  if (Number.isSafeInteger(na)) return 0;
  const ba = BigInt(a);
  const bb = BigInt(b);
  return ba < bb ? -1 : ba > bb ? 1 : 0;
}

/** Any value stored under a key. */
export type Value = string | HashValue | ListValue | SetValue | ZSetValue | StreamValue;

/** The Redis type name of a value, as TYPE reports it. */
export function typeName(v: Value): string {
  return typeof v === "string" ? "string" : v.type;
}
