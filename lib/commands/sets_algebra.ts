// Set algebra (t_set.c): SINTER/SMEMBERS, SUNION, SDIFF, their STORE forms and SINTERCARD, plus
// the encoding rules every set command shares. SetValue.enc follows Redis 7.0: "intset" while
// every member is a canonical 64-bit integer and the count stays within set-max-intset-entries,
// else "hashtable". An intset iterates in numeric order, which replies show.
import type { Client } from "../server/client.ts";
import { SetValue } from "../store/types.ts";
import { E_SYNTAX, E_WRONGTYPE, parseInteger } from "./util.ts";
import { lookupRead } from "./keys_access.ts";

/** True for strings an intset can hold (string2ll succeeds: canonical, in int64 range). */
export function isIntMember(s: string): boolean {
  const ch = s.charCodeAt(0);
  if (!(ch >= 48 && ch <= 57) && ch !== 45) return false;
  return s.length <= 20 && parseInteger(s) !== null;
}

/** A new empty set with the encoding setTypeCreate picks for its first member. */
export function createSetFor(member: string): SetValue {
  const v = new SetValue();
  if (!isIntMember(member)) v.enc = "hashtable";
  return v;
}

/** setTypeAdd: adds a member, converting the encoding when Redis would. */
export function setAdd(v: SetValue, member: string, maxIntset: number): boolean {
  if (v.enc === "intset") {
    if (!isIntMember(member)) {
      v.enc = "hashtable";
      return v.add(member);
    }
    if (!v.add(member)) return false;
    if (v.s.size > Math.min(maxIntset, 1 << 30)) v.enc = "hashtable";
    return true;
  }
  return v.add(member);
}

/** set-max-intset-entries. */
export function maxIntset(c: Client): number {
  return c.server.config.int("set-max-intset-entries");
}

/** Looks a key up as a set: the value, undefined when missing, null after a WRONGTYPE reply.
 * Read commands (the default) count keyspace hits/misses and emit "keymiss" (lookupKeyRead);
 * `write` is lookupKeyWrite, which does neither. */
export function readSet(c: Client, key: string, write = false): SetValue | undefined | null {
  const v = write ? c.db.get(key) : lookupRead(c, key);
  if (v === undefined || v instanceof SetValue) return v;
  c.error(E_WRONGTYPE);
  return null;
}

/** Replies members as a set (RESP3 `~`, RESP2 array). */
export function replySet(c: Client, members: readonly string[]): void {
  c.out.set(members.length);
  for (const m of members) c.out.bulk(m);
}

/** Stores a computed set into dst (or deletes dst when empty), replying the cardinality. */
function storeSet(c: Client, dst: string, result: SetValue, event: string): void {
  const db = c.db;
  if (result.s.size > 0) {
    db.set(dst, result);
    c.out.int(result.s.size);
    c.server.notify("s", event, dst, c.dbIndex);
    c.server.dirty++;
  } else {
    c.out.int(0);
    if (db.delete(dst)) {
      c.server.dirty++;
      c.server.notify("g", "del", dst, c.dbIndex);
    }
  }
}

/** Collects the sets named by keys; null after a WRONGTYPE reply. Missing keys give undefined. */
function lookupSets(c: Client, keys: string[]): (SetValue | undefined)[] | null {
  const sets: (SetValue | undefined)[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const v = readSet(c, keys[i]);
    if (v === null) return null;
    sets[i] = v;
  }
  return sets;
}

/** sinterGenericCommand: SINTER/SMEMBERS (dst null), SINTERSTORE, SINTERCARD (cardOnly). */
export function sinterGeneric(
  c: Client,
  keys: string[],
  dst: string | null,
  cardOnly: boolean,
  limit: number,
): void {
  const found = lookupSets(c, keys);
  if (found === null) return;
  if (found.includes(undefined)) {
    if (dst !== null) {
      if (c.db.delete(dst)) {
        c.server.notify("g", "del", dst, c.dbIndex);
        c.server.dirty++;
      }
      c.out.int(0);
    } else if (cardOnly) c.out.int(0);
    else c.out.set(0);
    return;
  }
  const sets = (found as SetValue[]).slice().sort((a, b) => a.s.size - b.s.size);
  const first = sets[0];
  const result = dst !== null ? new SetValue() : null;
  const max = maxIntset(c);
  const members: string[] = [];
  let card = 0;
  for (const m of first.members()) {
    let j = 1;
    for (; j < sets.length; j++) {
      if (sets[j] !== first && !sets[j].s.has(m)) break;
    }
    if (j < sets.length) continue;
    if (cardOnly) {
      card++;
      if (limit > 0 && card >= limit) break;
    } else if (result !== null) setAdd(result, m, max);
    else members.push(m);
  }
  if (cardOnly) c.out.int(card);
  else if (result !== null) storeSet(c, dst!, result, "sinterstore");
  else replySet(c, members);
}

/** sunionDiffGenericCommand: SUNION/SDIFF and their STORE forms. */
export function sunionDiffGeneric(
  c: Client,
  keys: string[],
  dst: string | null,
  union: boolean,
): void {
  const sets = lookupSets(c, keys);
  if (sets === null) return;
  const result = new SetValue();
  const max = maxIntset(c);
  if (union) {
    for (const s of sets) {
      if (s !== undefined) {
        for (const m of s.members()) setAdd(result, m, max);
      }
    }
  } else if (sets[0] !== undefined && !sets.slice(1).includes(sets[0])) {
    for (const m of sets[0].members()) {
      let j = 1;
      for (; j < sets.length; j++) if (sets[j] !== undefined && sets[j]!.s.has(m)) break;
      if (j === sets.length) setAdd(result, m, max);
    }
  }
  if (dst === null) replySet(c, result.members());
  else storeSet(c, dst, result, union ? "sunionstore" : "sdiffstore");
}

/** Keys of SINTERCARD: numkeys at argv[1], then the keys; none when numkeys is invalid. */
export function sintercardKeys(argv: string[]): number[] {
  const n = parseInteger(argv[1]);
  if (n === null || n < 1 || n > argv.length - 2) return [];
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(2 + i);
  return out;
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit] */
export function sintercard(c: Client, argv: string[]): void {
  const numkeys = parseInteger(argv[1]);
  if (numkeys === null || numkeys < 1) return c.error("ERR numkeys should be greater than 0");
  if (numkeys > argv.length - 2) {
    return c.error("ERR Number of keys can't be greater than number of args");
  }
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    if (argv[j].toLowerCase() === "limit" && j + 1 < argv.length) {
      const l = parseInteger(argv[++j]);
      if (l === null || l < 0) return c.error("ERR LIMIT can't be negative");
      limit = l;
    } else return c.error(E_SYNTAX);
  }
  sinterGeneric(c, argv.slice(2, 2 + numkeys), null, true, limit);
}
