// KeyDict: the keyspace's hash table (string key -> value), with a Map-like API.
//
// Why not a JS Map: every command looks up a key string that was just decoded from the socket,
// and V8 hashes a fresh string in a runtime call that costs about 100 ns whatever its length
// (measured on Deno 2.9 / V8 15: Map.get of a fresh 16-byte key 130-180 ns, of an already hashed
// one 30 ns). Hashing the key in JS (FNV-1a with a per-process random basis, then a 32-bit
// finaliser) costs a few ns per byte and no runtime call.
//
// Layout, like V8's OrderedHashMap or CPython's compact dict: entries in insertion order, key
// and value side by side in one array, hash, chain link and one int32 of per-key metadata side by
// side in an Int32Array, and a bucket array of chain heads. A lookup of a random key in a big
// table then costs about as many cache misses as in Redis's dict (bucket, entry, key, value):
// with one array per field it took two more (measured: Db.set was 22% of the server's CPU in
// SET -P 16 over 100000 keys). A delete leaves a hole (key undefined) and unlinks the entry; holes are
// squeezed out when the entry arrays fill up (or the table shrinks to a quarter), which rebuilds
// the buckets from the stored hashes.
//
// Iteration is in insertion order and, as with a Map, stays valid while the table changes:
// deleted entries are skipped and appended ones are visited. When the arrays were rebuilt during
// an iteration, the iterator finishes the old arrays and yields only keys still present, with
// their current value (entries appended after the rebuild are then not visited).
//
// `meta` is one int32 per key for the keyspace's bookkeeping (the LRU/LFU access clock that
// Redis keeps in the object header): 0 for a new key, kept when the value is replaced.

/** Per-process random basis, so collisions cannot be precomputed (Redis seeds siphash too). */
const SEED = (Math.random() * 0x100000000) ^ 0x811c9dc5;

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Hashes of the current command's first two arguments, computed by the request parser from
 * the bytes it decoded them from (hashBytes, about 1 ns a byte against 3-4 ns a character for
 * charCodeAt): hashKey on the same string (one pointer comparison) then costs nothing. A stale
 * entry is still right, since a hash depends only on the string's content. */
let memoK1 = "";
let memoH1 = finish(SEED);
let memoK2 = "";
let memoH2 = memoH1;

/** Records the hash of argument 1 or 2 of the command being parsed. */
export function rememberArgHash(slot: number, k: string, h: number): void {
  if (slot === 1) {
    memoK1 = k;
    memoH1 = h;
  } else {
    memoK2 = k;
    memoH2 = h;
  }
}

/** hashKey of the latin1 string that buf[s, s+n) decodes to. */
export function hashBytes(buf: Uint8Array, s: number, n: number): number {
  let h = SEED;
  for (let i = s, e = s + n; i < e; i++) h = Math.imul(h ^ buf[i], 16777619);
  return finish(h);
}

/** 32-bit hash of a key (FNV-1a over UTF-16 code units with a murmur3 finaliser). */
export function hashKey(k: string): number {
  if (k === memoK1) return memoH1;
  if (k === memoK2) return memoH2;
  let h = SEED;
  const n = k.length;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ k.charCodeAt(i), 16777619);
  return finish(h);
}

const MIN_CAPACITY = 8;
/** Most keys KeyDict.prefetch takes at once. */
export const PREFETCH_MAX = 16;
const PREFETCH_IX = new Int32Array(PREFETCH_MAX);
/** Where prefetch leaves the sum of what it loaded, so the loads are not optimised away. */
export let prefetchSink = 0;
/** Slots per entry in `en`: key, value, hash, next entry in the bucket chain (-1 ends), meta. */
const E = 5;
const KEY = 0;
const VAL = 1;
const HASH = 2;
const NEXT = 3;
const META = 4;
/** Hashes are stored as small integers (V8 Smis: no boxing, no write barrier). */
const SMI_MASK = 0x3fffffff;

/** String-keyed hash table in insertion order; see the file comment. */
export class KeyDict<V> {
  /** Entries: key, value, hash, chain link and metadata of entry i at E*i.. side by side, so a
   * chain step touches one cache line; key undefined marks a hole. */
  private en: unknown[];
  /** Bucket heads: first entry of each chain, -1 when empty. */
  private bk: Int32Array;
  private mask: number;
  /** Entry capacity. */
  private cap: number;
  /** Entry slots used so far (live entries and holes). */
  private used = 0;
  private count = 0;
  /** Index of the last entry found or added: the metadata update that follows a lookup of the
   * same key (the access clock on every read) skips hashing it again. */
  private hint = 0;

  constructor(capacity = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < capacity) cap *= 2;
    this.cap = cap;
    this.en = new Array(E * cap);
    this.bk = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }

  /** Number of keys. */
  get size(): number {
    return this.count;
  }

  /** Entry index of a key whose hash is `h`, or -1. */
  indexOf(k: string, h: number): number {
    const en = this.en;
    const hs = h & SMI_MASK;
    for (let i = this.bk[h & this.mask]; i >= 0; i = en[E * i + NEXT] as number) {
      if (en[E * i + HASH] === hs && en[E * i + KEY] === k) return this.hint = i;
    }
    return -1;
  }

  /** Entry index of a key, trying the last hit first. */
  private find(k: string): number {
    const i = this.hint;
    return this.en[E * i + KEY] === k ? i : this.indexOf(k, hashKey(k));
  }

  /** Value stored at an entry index returned by indexOf. */
  valueAt(i: number): V {
    return this.en[E * i + VAL] as V;
  }

  /** Metadata of a key (0 when absent or never set). */
  getMeta(k: string): number {
    const i = this.find(k);
    return i < 0 ? 0 : this.en[E * i + META] as number;
  }

  /** Sets the metadata (a 31-bit integer) of a key; false when the key is absent. */
  setMeta(k: string, m: number): boolean {
    const i = this.find(k);
    if (i < 0) return false;
    this.en[E * i + META] = m | 0;
    return true;
  }

  get(k: string): V | undefined {
    const i = this.indexOf(k, hashKey(k));
    return i < 0 ? undefined : this.en[E * i + VAL] as V;
  }

  has(k: string): boolean {
    return this.indexOf(k, hashKey(k)) >= 0;
  }

  set(k: string, v: V): this {
    // A read-modify-write (ZADD's score update, HINCRBY ...) sets the key it just looked up:
    // the last hit then takes one comparison instead of hashing and a chain walk.
    const o = E * this.hint;
    if (this.en[o + KEY] === k) this.en[o + VAL] = v;
    else this.setHashed(k, hashKey(k), v);
    return this;
  }

  /** set() with the key's hash already computed; returns true when the key is new. */
  setHashed(k: string, h: number, v: V): boolean {
    const i = this.indexOf(k, h);
    if (i >= 0) {
      this.en[E * i + VAL] = v;
      return false;
    }
    if (this.used === this.cap) this.rebuild(this.count + 1);
    const j = this.used++;
    const en = this.en;
    const b = h & this.mask;
    const o = E * j;
    en[o + KEY] = k;
    en[o + VAL] = v;
    en[o + HASH] = h & SMI_MASK;
    en[o + NEXT] = this.bk[b];
    en[o + META] = 0;
    this.bk[b] = j;
    this.hint = j;
    this.count++;
    return true;
  }

  delete(k: string): boolean {
    return this.deleteHashed(k, hashKey(k));
  }

  /** delete() with the key's hash already computed. */
  deleteHashed(k: string, h: number): boolean {
    const b = h & this.mask;
    const en = this.en;
    const hs = h & SMI_MASK;
    let prev = -1;
    for (let i = this.bk[b]; i >= 0; prev = i, i = en[E * i + NEXT] as number) {
      if (en[E * i + HASH] !== hs || en[E * i + KEY] !== k) continue;
      if (prev < 0) this.bk[b] = en[E * i + NEXT] as number;
      else en[E * prev + NEXT] = en[E * i + NEXT];
      en[E * i + KEY] = undefined;
      en[E * i + VAL] = undefined;
      this.count--;
      if (this.cap > MIN_CAPACITY && this.count * 4 < this.cap) this.rebuild(this.count);
      return true;
    }
    return false;
  }

  /** Loads, without using them, what lookups of keys with these hashes will read: bucket head,
   * entry, key string and value, one level at a time for all keys. The loads of one level are
   * independent, so the CPU overlaps their cache misses (see the file comment); the lookups
   * that follow then find those lines cached. Only the first entry of each chain is touched. */
  prefetch(hs: Int32Array, n: number): void {
    if (n > PREFETCH_MAX) n = PREFETCH_MAX;
    const en = this.en;
    const bk = this.bk;
    const mask = this.mask;
    const ix = PREFETCH_IX;
    for (let q = 0; q < n; q++) ix[q] = bk[hs[q] & mask];
    let acc = 0;
    for (let q = 0; q < n; q++) {
      const i = ix[q];
      if (i >= 0) acc += en[E * i + HASH] as number;
    }
    for (let q = 0; q < n; q++) {
      const i = ix[q];
      if (i < 0) continue;
      const k = en[E * i + KEY];
      const v = en[E * i + VAL];
      if (typeof k === "string") acc += k.length;
      if (typeof v === "string") acc += v.length;
      else if (typeof v === "object" && v !== null) acc++;
    }
    prefetchSink = acc;
  }

  /** Removes every key (the arrays shrink back to the minimum). */
  clear(): void {
    const cap = MIN_CAPACITY;
    this.cap = cap;
    this.en = new Array(E * cap);
    this.bk = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    this.used = 0;
    this.count = 0;
    this.hint = 0;
  }

  /** Squeezes out holes into arrays sized for `need` live entries: the smallest power of two
   * with room for half as many again, so a full table doubles and appends stay amortised. */
  private rebuild(need: number): void {
    let cap = MIN_CAPACITY;
    while (cap < need * 1.5) cap *= 2;
    const old = this.en;
    const en: unknown[] = new Array(E * cap);
    const bk = new Int32Array(cap).fill(-1);
    const mask = cap - 1;
    let j = 0;
    for (let i = 0; i < this.used; i++) {
      const o = E * i;
      const k = old[o + KEY];
      if (k === undefined) continue;
      const h = old[o + HASH] as number;
      const p = E * j;
      en[p + KEY] = k;
      en[p + VAL] = old[o + VAL];
      en[p + HASH] = h;
      en[p + NEXT] = bk[h & mask];
      en[p + META] = old[o + META];
      bk[h & mask] = j;
      j++;
    }
    this.en = en;
    this.bk = bk;
    this.mask = mask;
    this.cap = cap;
    this.used = j;
    this.hint = 0;
  }

  /** Walks entries in insertion order; see the file comment for changes during the walk. */
  private *walk(): Generator<number> {
    const en = this.en;
    for (let i = 0; en === this.en ? i < this.used : E * i < en.length; i++) {
      const k = en[E * i + KEY] as string | undefined;
      if (k === undefined) continue;
      if (en === this.en) {
        yield i;
      } else {
        const j = this.indexOf(k, hashKey(k));
        if (j >= 0) yield j;
      }
    }
  }

  *keys(): Generator<string> {
    for (const i of this.walk()) yield this.en[E * i + KEY] as string;
  }

  *values(): Generator<V> {
    for (const i of this.walk()) yield this.en[E * i + VAL] as V;
  }

  *entries(): Generator<[string, V]> {
    for (const i of this.walk()) yield [this.en[E * i + KEY] as string, this.en[E * i + VAL] as V];
  }

  [Symbol.iterator](): Generator<[string, V]> {
    return this.entries();
  }

  /** A copy with the same keys, values and metadata, in the same order. */
  clone(): KeyDict<V> {
    const d = new KeyDict<V>(this.count);
    for (const i of this.walk()) {
      d.setHashed(
        this.en[E * i + KEY] as string,
        this.en[E * i + HASH] as number,
        this.en[E * i + VAL] as V,
      );
      d.en[E * d.hint + META] = this.en[E * i + META];
    }
    return d;
  }

  forEach(fn: (value: V, key: string) => void): void {
    for (const i of this.walk()) fn(this.en[E * i + VAL] as V, this.en[E * i + KEY] as string);
  }
}

/** A set of strings on a KeyDict (members of a Redis set): the Set methods the commands use. */
export class KeySet {
  private d = new KeyDict<true>();

  constructor(items?: Iterable<string>) {
    if (items) { for (const m of items) this.d.set(m, true); }
  }

  get size(): number {
    return this.d.size;
  }

  add(m: string): this {
    this.d.set(m, true);
    return this;
  }

  has(m: string): boolean {
    return this.d.has(m);
  }

  delete(m: string): boolean {
    return this.d.delete(m);
  }

  clear(): void {
    this.d.clear();
  }

  keys(): Generator<string> {
    return this.d.keys();
  }

  values(): Generator<string> {
    return this.d.keys();
  }

  [Symbol.iterator](): Generator<string> {
    return this.d.keys();
  }

  forEach(fn: (m: string) => void): void {
    for (const k of this.d.keys()) fn(k);
  }
}
