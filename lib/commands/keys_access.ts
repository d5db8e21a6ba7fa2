// Per-key bookkeeping that Redis keeps inside its robj header but our plain values cannot:
// the LRU/LFU access clock (OBJECT IDLETIME/FREQ, RESTORE IDLETIME/FREQ) and which string
// encoding (int/embstr/raw) Redis would report. All tables are keyed by the db's dict Map, so
// FLUSHDB/reload (new Map) drops them and SWAPDB (swapped Maps) carries them along.
// Also: the read lookup that keeps keyspace_hits/misses and "keymiss" events like Redis.
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import type { Db } from "../store/keyspace.ts";
import { HashValue, ListValue, SetValue, type Value } from "../store/types.ts";
import { ZSetValue } from "../store/zset.ts";
import { E_NOT_INT, parseInteger } from "./util.ts";
import { type KeyDict, KeySet } from "../store/dict.ts";

type Dict = KeyDict<Value>;

// The access clock lives in the keyspace dict's per-key metadata (KeyDict meta, an int32): the
// second of the last access counted from LRU_EPOCH_S (LRU; Redis's LRU clock has a 1 s
// resolution too), or -(minutes << 8 | counter) - 1 (LFU); 0 when never observed.
const LRU_EPOCH_S = 1577836800; // 2020-01-01

function lruNow(ms: number): number {
  return Math.max(1, Math.floor(ms / 1000) - LRU_EPOCH_S);
}
/** key -> the string value it had when Redis would have made it "raw" (APPEND, SETRANGE). */
const rawByDict = new WeakMap<Dict, Map<string, string>>();
/** key -> the int-looking string value Redis would keep "embstr" (INCRBYFLOAT results). */
const embstrByDict = new WeakMap<Dict, Map<string, string>>();

const LFU_INIT_VAL = 5;

function tableFor<T>(w: WeakMap<Dict, Map<string, T>>, dict: Dict): Map<string, T> {
  let m = w.get(dict);
  if (m === undefined) w.set(dict, m = new Map());
  else if (m.size > 1024 && m.size > dict.size * 2) {
    // Entries of keys deleted by other families are never removed eagerly; sweep them here.
    for (const k of m.keys()) if (!dict.has(k)) m.delete(k);
  }
  return m;
}

/** Coarse clock and policy flag for touchKey, refreshed by the 100 ms cron: Date.now() and a
 * config lookup per GET would cost more than the rest of the lookup (Redis's LRU clock is
 * coarse too). */
let clockLru = 0;
let lfuPolicy = false;
let clockServer: Server | null = null;

function refreshClock(s: Server): void {
  clockLru = lruNow(Date.now());
  lfuPolicy = s.config.str("maxmemory-policy").includes("lfu");
}

function minutesNow(): number {
  return Math.floor(Date.now() / 60000) & 0xffff;
}

function lfuDecay(s: Server, packed: number): number {
  const ldt = packed >> 8;
  let counter = packed & 255;
  const now = minutesNow();
  const elapsed = now >= ldt ? now - ldt : 65535 - ldt + now;
  const period = s.config.int("lfu-decay-time");
  const n = period > 0 ? Math.floor(elapsed / period) : 0;
  if (n > 0) counter = n > counter ? 0 : counter - n;
  return counter;
}

/** Records an access to a key (Redis updates the LRU clock or the LFU counter on lookups). */
export function touchKey(s: Server, db: Db, key: string): void {
  if (s !== clockServer) {
    clockServer = s;
    refreshClock(s);
    s.cronHooks.push(() => refreshClock(s));
  }
  const dict = db.dict;
  if (!lfuPolicy) {
    dict.setMeta(key, clockLru);
    return;
  }
  const old = dict.getMeta(key);
  let counter = old >= 0 ? LFU_INIT_VAL : lfuDecay(s, -old - 1);
  if (counter < 255) {
    const base = Math.max(0, counter - LFU_INIT_VAL);
    if (Math.random() < 1 / (base * s.config.int("lfu-log-factor") + 1)) counter++;
  }
  dict.setMeta(key, -((minutesNow() << 8) | counter) - 1);
}

/** The access clock in seconds: the cron-refreshed one once a server touched keys (Redis's
 * server.lruclock), else the wall clock. Idle times are differences of this clock only. */
function accessClock(): number {
  return clockServer !== null ? clockLru : lruNow(Date.now());
}

/** Milliseconds since the last access (0 when never observed, as for a new object). */
export function idleMs(db: Db, key: string): number {
  const t = db.dict.getMeta(key);
  if (t <= 0) return 0;
  // Like Redis's estimateObjectIdleTime: the access clock (seconds, refreshed by the cron) minus
  // the stored one. Against the wall clock in ms, a key touched a moment ago read up to 1 s idle.
  return Math.max(0, accessClock() - t) * 1000;
}

/** The LFU counter after decay (LFU_INIT_VAL when never observed). */
export function lfuFreq(s: Server, db: Db, key: string): number {
  const t = db.dict.getMeta(key);
  if (t >= 0) return LFU_INIT_VAL;
  return lfuDecay(s, -t - 1);
}

/** Sets the idle time of a key (RESTORE ... IDLETIME). */
export function setIdle(db: Db, key: string, ms: number): void {
  // Against the same clock idleMs reads (Redis: LRU_CLOCK() - idle): from the wall clock, a
  // cron tick behind it could read back one second less than was set.
  db.dict.setMeta(key, Math.max(1, accessClock() - Math.floor(ms / 1000)));
}

/** Sets the LFU counter of a key (RESTORE ... FREQ). */
export function setFreq(db: Db, key: string, freq: number): void {
  db.dict.setMeta(key, -((minutesNow() << 8) | Math.min(255, freq)) - 1);
}

/** Copies (or moves) the access/encoding metadata of a key, for RENAME/MOVE/COPY. */
export function carryMeta(from: Db, key: string, to: Db, newKey: string, move: boolean): void {
  to.dict.setMeta(newKey, from.dict.getMeta(key));
  for (const w of [rawByDict, embstrByDict] as WeakMap<Dict, Map<string, unknown>>[]) {
    const src = w.get(from.dict);
    if (src === undefined || !src.has(key)) continue;
    const v = src.get(key);
    if (move) src.delete(key);
    tableFor(w, to.dict).set(newKey, v);
  }
}

/** Set once any encoding mark exists, so hot write paths skip the clearing lookups. */
let marksUsed = false;

/** Forgets the encoding mark of a key whose string value was replaced by a plain SET. */
export function clearEncodingMark(db: Db, key: string): void {
  if (!marksUsed) return;
  // Map.delete of a freshly decoded key pays V8's string hashing: skip empty tables.
  const raw = rawByDict.get(db.dict);
  if (raw !== undefined && raw.size > 0) raw.delete(key);
  const embstr = embstrByDict.get(db.dict);
  if (embstr !== undefined && embstr.size > 0) embstr.delete(key);
}

/** Marks a string value as "raw" encoded (APPEND/SETRANGE in Redis unshare into a raw sds). */
export function markRaw(db: Db, key: string, value: string): void {
  if (value.length > 44) return;
  marksUsed = true;
  tableFor(rawByDict, db.dict).set(key, value);
}

/** Marks an int-looking string as "embstr" (values Redis creates without trying int encoding). */
export function markEmbstr(db: Db, key: string, value: string): void {
  if (!isIntString(value)) return;
  marksUsed = true;
  tableFor(embstrByDict, db.dict).set(key, value);
}

function isIntString(s: string): boolean {
  return s.length <= 20 && parseInteger(s) !== null;
}

/** The encoding name OBJECT ENCODING reports for a value, as Redis 7.0 would store it. */
export function encodingOf(db: Db, key: string, v: Value): string {
  if (typeof v === "string") {
    if (rawByDict.get(db.dict)?.get(key) === v) return "raw";
    if (isIntString(v)) return embstrByDict.get(db.dict)?.get(key) === v ? "embstr" : "int";
    return v.length <= 44 ? "embstr" : "raw";
  }
  if (v instanceof HashValue) return v.listpack ? "listpack" : "hashtable";
  if (v instanceof ListValue) return "quicklist";
  if (v instanceof SetValue) return v.enc;
  if (v instanceof ZSetValue) return v.listpack ? "listpack" : "skiplist";
  return v.type;
}

/** OBJECT REFCOUNT: shared integers 0..9999 report INT_MAX unless an LRU/LFU maxmemory policy
 * disables sharing; everything else has a single reference. */
export function refcountOf(s: Server, db: Db, key: string, v: Value): number {
  if (typeof v !== "string" || encodingOf(db, key, v) !== "int") return 1;
  const n = Number(v);
  if (n < 0 || n >= 10000) return 1;
  const pol = s.config.str("maxmemory-policy");
  if (s.config.int("maxmemory") !== 0 && (pol.includes("lru") || pol.includes("lfu"))) return 1;
  return 2147483647;
}

/** Read lookup like lookupKeyRead: lazy expiry, hit/miss stats, keymiss event, access clock.
 * `touch` false is LOOKUP_NOTOUCH, `notifyMiss` false is LOOKUP_NONOTIFY. */
export function lookupRead(
  c: Client,
  key: string,
  touch = true,
  notifyMiss = true,
): Value | undefined {
  const v = c.db.get(key);
  const s = c.server;
  if (v === undefined) {
    s.stats.keyspaceMisses++;
    if (notifyMiss) s.notify("m", "keymiss", key, c.dbIndex);
    return undefined;
  }
  s.stats.keyspaceHits++;
  if (touch) touchKey(s, c.db, key);
  return v;
}

/** Past absolute expiry on a master outside loading: the key is deleted instead (a replica or
 * a loading server keeps it with a past TTL and waits for the master's DEL). */
export function alreadyExpired(c: Client, when: number): boolean {
  return when <= Date.now() && !c.server.loading && !c.server.isReplica;
}

/** A deep copy of a value for COPY (containers must not be shared between keys). */
export function dupValue(v: Value): Value {
  if (typeof v === "string") return v;
  const withClone = v as unknown as { clone?: () => Value };
  if (typeof withClone.clone === "function") return withClone.clone();
  if (v instanceof HashValue) {
    const h = new HashValue();
    h.m = v.m.clone();
    h.listpack = v.listpack;
    return h;
  }
  if (v instanceof ListValue) {
    const l = new ListValue();
    l.replace(v.toArray());
    return l;
  }
  if (v instanceof SetValue) {
    const st = new SetValue();
    st.s = new KeySet(v.s);
    st.enc = v.enc;
    return st;
  }
  if (v instanceof ZSetValue) {
    const z = new ZSetValue();
    for (const [m, sc] of v.entries()) z.add(m, sc);
    z.listpack = v.listpack;
    return z;
  }
  throw new Error("unknown type object");
}

/** Parses a C int like getIntFromObjectOrReply; replies Redis's error and returns null. */
export function parseDbIndex(c: Client, s: string): number | null {
  const n = parseInteger(s);
  if (n === null) {
    c.error(E_NOT_INT);
    return null;
  }
  if (n < -2147483648 || n > 2147483647) {
    c.error("ERR value is out of range, value must between -2147483648 and 2147483647");
    return null;
  }
  return n;
}
