// Shared fixtures for the RDB unit tests: building files with RdbWriter, loading them with
// parseRdb, value constructors and a comparable plain form of values (encoding flags included).
import type { EncodableValue, RdbFileOptions } from "../../lib/persistence/rdb_writer.ts";
import { RdbWriter } from "../../lib/persistence/rdb_writer.ts";
import { DEFAULT_LIMITS, parseRdb } from "../../lib/persistence/rdb_reader.ts";
import { HashValue, ListValue, SetValue, type Value } from "../../lib/store/types.ts";
import { ZSetValue } from "../../lib/store/zset.ts";

/** Redis 7.0 defaults for writing. */
export const OPTS: RdbFileOptions = { compression: true, checksum: true, listFill: -2 };

/** Builds a whole RDB file from a writer script. */
export function rdbFile(fn: (w: RdbWriter) => void, o: RdbFileOptions = OPTS): Uint8Array {
  const chunks: Uint8Array[] = [];
  const w = new RdbWriter(o, (c) => chunks.push(c), 512);
  w.header();
  fn(w);
  w.finish();
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** One key as parseRdb reported it. */
export interface Loaded {
  db: number;
  value: Value | null;
  expire: number;
}

/** Parses a file into key -> {db, value, expire}. */
export function load(data: Uint8Array, limits = DEFAULT_LIMITS): Map<string, Loaded> {
  const out = new Map<string, Loaded>();
  parseRdb(
    data,
    { key: (db, key, value, expire) => void out.set(key, { db, value, expire }) },
    limits,
  );
  return out;
}

/** A comparable plain form of a value, encoding flags included. */
export function plain(v: Value | EncodableValue | null): unknown {
  if (v === null || typeof v === "string") return v;
  switch (v.type) {
    case "hash":
      return { hash: [...(v as HashValue).m], lp: (v as HashValue).listpack };
    case "list":
      return { list: (v as ListValue).toArray() };
    case "set":
      return { set: [...(v as SetValue).s].sort(), enc: (v as SetValue).enc };
    case "zset":
      return { zset: [...(v as ZSetValue).entries()], lp: (v as ZSetValue).listpack };
    default:
      return v;
  }
}

/** A hash value with the given encoding flag. */
export function hash(pairs: [string, string][], listpack = true): HashValue {
  const h = new HashValue();
  for (const [f, v] of pairs) h.m.set(f, v);
  h.listpack = listpack;
  return h;
}
/** A list value. */
export function list(items: string[]): ListValue {
  const l = new ListValue();
  for (const i of items) l.pushTail(i);
  return l;
}
/** A set value with the given encoding. */
export function set(members: string[], enc: "intset" | "hashtable"): SetValue {
  const s = new SetValue();
  for (const m of members) s.s.add(m);
  s.enc = enc;
  return s;
}
/** A sorted set value with the given encoding flag. */
export function zset(pairs: [string, number][], listpack = true): ZSetValue {
  const z = new ZSetValue();
  for (const [m, s] of pairs) z.add(m, s);
  z.listpack = listpack;
  return z;
}
/** Bytes as lowercase hex. */
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
/** Hex to bytes. */
export function unhex(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g)!, (x) => parseInt(x, 16));
}

/** Every byte value once, as a latin1 string. */
export const binary = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
/** [f(0), ..., f(n-1)]. */
export const range = (n: number, f: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => f(i));
