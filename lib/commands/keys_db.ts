// Database-wide commands: KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, SELECT.
//
// SCAN cursors: a JS Map cannot resume iteration from a key, and positions shift when keys are
// deleted, so each db lazily gets a ScanIndex: an append-only log of keys in insertion order,
// each with a monotonically increasing sequence number. The cursor is the sequence number to
// resume from. A key that exists for the whole scan has one log entry whose sequence number
// never changes (compaction keeps sequence numbers), so it is returned at least once; deleted
// keys leave stale entries that are skipped and swept by compaction.
import type { Client } from "../server/client.ts";
import type { Db } from "../store/keyspace.ts";
import { typeName, type Value } from "../store/types.ts";
import { cmdWithMeta, type CommandSpec } from "./types.ts";
import { E_NOT_INT, E_SYNTAX, globMatch, parseInteger } from "./util.ts";
import { lookupRead, parseDbIndex } from "./keys_access.ts";
import { KEYS_META } from "./keys_meta.ts";
import type { KeyDict } from "../store/dict.ts";

/** Insertion-ordered key log with stable sequence numbers (see the file comment). */
export class ScanIndex {
  keys: string[] = [];
  seqs: number[] = [];
  private next = 1;

  constructor(public dict: KeyDict<Value>) {
    for (const k of dict.keys()) {
      this.keys.push(k);
      this.seqs.push(this.next++);
    }
  }

  /** Logs a key that was just created. */
  add(key: string): void {
    this.keys.push(key);
    this.seqs.push(this.next++);
    if (this.keys.length > 2 * this.dict.size + 1024) this.compact();
  }

  /** Drops entries of deleted keys and older duplicates, keeping each live key's newest entry
   * (the one logged by its current insertion) with its sequence number. */
  compact(): void {
    const seen = new Set<string>();
    const keys: string[] = [];
    const seqs: number[] = [];
    for (let i = this.keys.length - 1; i >= 0; i--) {
      const k = this.keys[i];
      if (seen.has(k) || !this.dict.has(k)) continue;
      seen.add(k);
      keys.push(k);
      seqs.push(this.seqs[i]);
    }
    this.keys = keys.reverse();
    this.seqs = seqs.reverse();
  }

  /** Index of the first entry whose sequence number is >= seq. */
  lowerBound(seq: number): number {
    let lo = 0, hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid] < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The db's scan index, built on first use (and rebuilt if the dict Map was replaced). */
export function scanIndexOf(db: Db): ScanIndex {
  const ix = db.scanIndex;
  if (ix instanceof ScanIndex && ix.dict === db.dict) return ix;
  const fresh = new ScanIndex(db.dict);
  db.scanIndex = fresh;
  return fresh;
}

/** Parses a SCAN cursor like strtoul (digits only here); replies "ERR invalid cursor". */
export function parseScanCursor(c: Client, s: string): number | null {
  if (s === "") return 0;
  if (!/^[+-]?[0-9]+$/.test(s) || (s[0] !== "-" && BigInt(s) > 18446744073709551615n)) {
    c.error("ERR invalid cursor");
    return null;
  }
  // strtoul wraps negative input to huge values: past the end of any scan.
  return s[0] === "-" && /[1-9]/.test(s) ? Number.MAX_SAFE_INTEGER : Number(s);
}

/** SCAN-family options: COUNT (>= 1), MATCH (null for "*") and, for SCAN, TYPE. */
export interface ScanOptions {
  count: number;
  pattern: string | null;
  type: string | null;
}

/** Parses [MATCH pattern] [COUNT n] [TYPE t] from argv[start]; replies and returns null on error. */
export function parseScanOptions(
  c: Client,
  argv: string[],
  start: number,
  allowType: boolean,
): ScanOptions | null {
  const o: ScanOptions = { count: 10, pattern: null, type: null };
  for (let i = start; i < argv.length; i += 2) {
    const opt = argv[i].toLowerCase();
    const more = i + 1 < argv.length;
    if (opt === "count" && more) {
      const n = parseInteger(argv[i + 1]);
      if (n === null) {
        c.error(E_NOT_INT);
        return null;
      }
      if (n < 1) {
        c.error(E_SYNTAX);
        return null;
      }
      o.count = n;
    } else if (opt === "match" && more) {
      o.pattern = argv[i + 1] === "*" ? null : argv[i + 1];
    } else if (opt === "type" && allowType && more) {
      o.type = argv[i + 1].toLowerCase();
    } else {
      c.error(E_SYNTAX);
      return null;
    }
  }
  return o;
}

function scanCommand(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(c, argv[1]);
  if (cursor === null) return;
  const o = parseScanOptions(c, argv, 2, true);
  if (o === null) return;
  const db = c.db;
  const ix = scanIndexOf(db);
  const n = ix.keys.length;
  let i = cursor === 0 ? 0 : ix.lowerBound(cursor);
  const found = new Set<string>();
  // Like dictScan's maxiterations: visit at most count*10 entries (stale ones included).
  for (let visited = 0; i < n && found.size < o.count && visited < o.count * 10; visited++) {
    const k = ix.keys[i++];
    if (db.dict.has(k)) found.add(k);
  }
  const next = i < n ? ix.seqs[i] : 0;
  const out: string[] = [];
  for (const k of found) {
    if (o.pattern !== null && !globMatch(o.pattern, k)) continue;
    if (o.type !== null) {
      const v = lookupRead(c, k, false);
      if ((v === undefined ? "none" : typeName(v)) !== o.type) continue;
    }
    if (db.expireIfNeeded(k)) continue;
    out.push(k);
  }
  c.out.array(2);
  c.out.bulk(String(next));
  c.out.bulkArray(out);
}

function keysCommand(c: Client, argv: string[]): void {
  const db = c.db;
  const pattern = argv[1];
  const all = pattern === "*";
  const now = Date.now();
  const checkTtl = db.expires.size > 0 && !c.server.loading;
  const out: string[] = [];
  for (const k of db.dict.keys()) {
    if (!all && !globMatch(pattern, k)) continue;
    if (checkTtl) {
      const when = db.expires.get(k);
      if (when !== undefined && when <= now) continue;
    }
    out.push(k);
  }
  c.out.bulkArray(out);
}

/** A random live key (expired picks are deleted and retried, like dbRandomKey). */
export function randomKey(db: Db, isReplica: boolean): string | null {
  let tries = 100;
  const allVolatile = db.dict.size === db.expires.size;
  while (db.dict.size > 0) {
    const key = pickRandom(db);
    if (db.expires.has(key)) {
      if (allVolatile && isReplica && --tries === 0) return key;
      if (db.expireIfNeeded(key)) continue;
    }
    return key;
  }
  return null;
}

function pickRandom(db: Db): string {
  const ix = scanIndexOf(db);
  for (let t = 0; t < 16; t++) {
    const k = ix.keys[Math.floor(Math.random() * ix.keys.length)];
    if (db.dict.has(k)) return k;
  }
  // Mostly stale log (small db after many deletions): walk the dict instead.
  let skip = Math.floor(Math.random() * db.dict.size);
  for (const k of db.dict.keys()) if (skip-- === 0) return k;
  return db.dict.keys().next().value as string;
}

/** Validates FLUSHDB/FLUSHALL's optional [ASYNC|SYNC]. */
function flushArgsOk(c: Client, argv: string[]): boolean {
  if (argv.length === 1) return true;
  const o = argv[1].toLowerCase();
  if (argv.length === 2 && (o === "sync" || o === "async")) return true;
  c.error(E_SYNTAX);
  return false;
}

/** Empties one db (or all for -1) after invalidating WATCHes; returns the keys removed. */
export function emptyData(c: Client, dbIndex: number): number {
  const s = c.server;
  s.touchAllWatched(dbIndex, true);
  let removed = 0;
  for (const db of s.dbs) {
    if (dbIndex !== -1 && db.id !== dbIndex) continue;
    removed += db.size;
    db.clear();
  }
  // Blocked XREADGROUP clients of a flushed stream fail (scanDatabaseForDeletedStreams).
  if (s.blocking.blockedCount > 0) {
    s.blocking.signalDbs((db) => dbIndex === -1 || db === dbIndex);
  }
  return removed;
}

function flushCommand(c: Client, argv: string[], all: boolean): void {
  if (!flushArgsOk(c, argv)) return;
  const s = c.server;
  const removed = emptyData(c, all ? -1 : c.dbIndex);
  s.dirty += removed;
  // Redis forces propagation even when nothing was removed (the dataset may differ on replicas).
  if (removed === 0) s.propagate(c.dbIndex, argv);
  c.out.raw("+OK\r\n");
}

function swapdbCommand(c: Client, argv: string[]): void {
  const s = c.server;
  if (s.config.bool("cluster-enabled")) return c.error("ERR SWAPDB is not allowed in cluster mode");
  const id1 = parseInt32(argv[1]);
  if (id1 === null) return c.error("ERR invalid first DB index");
  const id2 = parseInt32(argv[2]);
  if (id2 === null) return c.error("ERR invalid second DB index");
  if (id1 < 0 || id1 >= s.dbs.length || id2 < 0 || id2 >= s.dbs.length) {
    return c.error("ERR DB index is out of range");
  }
  if (id1 !== id2) {
    const a = s.dbs[id1], b = s.dbs[id2];
    // Watched keys of either db whose logical value changes by the swap (an expired key that
    // was WATCHed expired, or replaced by nothing or another expired key, is no change).
    if (s.watchers.size > 0) {
      s.touchAllWatched(id1, true, id2);
      s.touchAllWatched(id2, true, id1);
    }
    [a.dict, b.dict] = [b.dict, a.dict];
    [a.expires, b.expires] = [b.expires, a.expires];
    [a.avgTtl, b.avgTtl] = [b.avgTtl, a.avgTtl];
    [a.scanIndex, b.scanIndex] = [b.scanIndex, a.scanIndex];
    [a.slotIndex, b.slotIndex] = [b.slotIndex, a.slotIndex];
    // Clients blocked in either db may now find their key (scanDatabaseForReadyKeys), or lost
    // their stream (scanDatabaseForDeletedStreams): their retry decides.
    if (s.blocking.blockedCount > 0) s.blocking.signalDbs((db) => db === id1 || db === id2);
  }
  s.dirty++;
  c.out.raw("+OK\r\n");
}

function parseInt32(s: string): number | null {
  const n = parseInteger(s);
  return n === null || n < -2147483648 || n > 2147483647 ? null : n;
}

function selectCommand(c: Client, argv: string[]): void {
  const id = parseDbIndex(c, argv[1]);
  if (id === null) return;
  if (c.server.config.bool("cluster-enabled") && id !== 0) {
    return c.error("ERR SELECT is not allowed in cluster mode");
  }
  if (id < 0 || id >= c.server.dbs.length) return c.error("ERR DB index is out of range");
  c.select(id);
  c.out.raw("+OK\r\n");
}

const mk = cmdWithMeta(KEYS_META);

/** Command table entries for the database-wide commands (exported through keys.ts). */
export const dbCommands: CommandSpec[] = [
  mk("keys", 2, ["readonly"], [0, 0, 0], keysCommand),
  mk("scan", -2, ["readonly"], [0, 0, 0], scanCommand),
  mk("randomkey", 1, ["readonly"], [0, 0, 0], (c) => {
    const k = randomKey(c.db, c.server.isReplica);
    if (k === null) c.out.null();
    else c.out.bulk(k);
  }),
  mk("dbsize", 1, ["readonly", "fast"], [0, 0, 0], (c) => c.out.int(c.db.size)),
  mk("flushdb", -1, ["write"], [0, 0, 0], (c, argv) => flushCommand(c, argv, false)),
  mk("flushall", -1, ["write"], [0, 0, 0], (c, argv) => flushCommand(c, argv, true)),
  mk("swapdb", 3, ["write", "fast"], [0, 0, 0], swapdbCommand),
  mk("select", 2, ["loading", "stale", "fast"], [0, 0, 0], selectCommand),
];
