// Hash commands (t_hash.c): HSET & co, HINCRBY/HINCRBYFLOAT, HRANDFIELD, HSCAN. The listpack
// flag of HashValue follows Redis's conversion rules so OBJECT ENCODING and RDB agree with it.
import { cmd, type CommandSpec, type KeySpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { HashValue } from "../store/types.ts";
import { E_NOT_INT, E_SYNTAX, E_WRONGTYPE, globMatch, parseBigInt, parseInteger } from "./util.ts";
import { LD_ZERO, ldAdd, ldFormatHuman, ldParse } from "./hashes_float.ts";
import { lookupRead } from "./keys_access.ts";

/** Looks a key up as a hash: the value, undefined when missing, null after a WRONGTYPE reply.
 * Read commands (the default) count keyspace hits/misses and emit "keymiss" (lookupKeyRead);
 * `write` is lookupKeyWrite, which does neither. */
function readHash(c: Client, key: string, write = false): HashValue | undefined | null {
  const v = write ? c.db.get(key) : lookupRead(c, key);
  if (v === undefined || v instanceof HashValue) return v;
  c.error(E_WRONGTYPE);
  return null;
}

/** hashTypeLookupWriteOrCreate: the hash to modify (created when missing), null after WRONGTYPE. */
function writeHash(c: Client, key: string): HashValue | null {
  const db = c.db;
  const v = db.getForWrite(key);
  if (v === undefined) {
    const h = new HashValue();
    db.add(key, h);
    return h;
  }
  if (v instanceof HashValue) return v;
  c.error(E_WRONGTYPE);
  return null;
}

/** Sets a field the way hashTypeSet does, converting to a hashtable past the listpack limits. */
function hashSet(c: Client, h: HashValue, field: string, value: string): boolean {
  if (h.listpack) {
    const maxValue = c.server.config.int("hash-max-listpack-value");
    if (field.length > maxValue || value.length > maxValue) h.listpack = false;
  }
  const created = h.set(field, value);
  if (h.listpack && created && h.m.size > c.server.config.int("hash-max-listpack-entries")) {
    h.listpack = false;
  }
  return created;
}

function hsetGeneric(c: Client, argv: string[], name: string): void {
  if (argv.length % 2 === 1) return c.error(`ERR wrong number of arguments for '${name}' command`);
  const key = argv[1];
  const h = writeHash(c, key);
  if (h === null) return;
  const cfg = c.server.config;
  if (h.listpack) {
    // hashTypeTryConversion: any long argument converts before anything is added.
    const maxValue = cfg.int("hash-max-listpack-value");
    for (let i = 2; i < argv.length; i++) {
      if (argv[i].length > maxValue) {
        h.listpack = false;
        break;
      }
    }
  }
  let created = 0;
  for (let i = 2; i < argv.length; i += 2) if (h.set(argv[i], argv[i + 1])) created++;
  if (h.listpack && h.m.size > cfg.int("hash-max-listpack-entries")) h.listpack = false;
  if (name === "hset") c.out.int(created);
  else c.out.status("OK");
  c.server.notify("h", "hset", key, c.dbIndex);
  c.server.dirty += (argv.length - 2) / 2;
}

function hsetnx(c: Client, argv: string[]): void {
  const key = argv[1];
  const v = readHash(c, key, true);
  if (v === null) return;
  if (v !== undefined && v.m.has(argv[2])) return c.out.int(0);
  const h = writeHash(c, key)!;
  hashSet(c, h, argv[2], argv[3]);
  c.out.int(1);
  c.server.notify("h", "hset", key, c.dbIndex);
  c.server.dirty++;
}

function hget(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  if (h === undefined) return c.out.null();
  c.out.bulkOrNull(h.m.get(argv[2]));
}

function hmget(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  c.out.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) c.out.bulkOrNull(h?.m.get(argv[i]));
}

function hdel(c: Client, argv: string[]): void {
  const key = argv[1];
  const h = readHash(c, key, true);
  if (h === null) return;
  if (h === undefined) return c.out.int(0);
  let deleted = 0;
  let keyRemoved = false;
  for (let i = 2; i < argv.length; i++) {
    if (!h.m.has(argv[i])) continue;
    if (deleted === 0) c.db.getForWrite(key);
    h.delete(argv[i]);
    deleted++;
    if (h.m.size === 0) {
      c.db.delete(key);
      keyRemoved = true;
      break;
    }
  }
  if (deleted > 0) {
    c.server.notify("h", "hdel", key, c.dbIndex);
    if (keyRemoved) c.server.notify("g", "del", key, c.dbIndex);
    c.server.dirty += deleted;
  }
  c.out.int(deleted);
}

function hlen(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h !== null) c.out.int(h === undefined ? 0 : h.m.size);
}

function hstrlen(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h !== null) c.out.int(h?.m.get(argv[2])?.length ?? 0);
}

function hexists(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h !== null) c.out.int(h !== undefined && h.m.has(argv[2]) ? 1 : 0);
}

const KEYS = 1;
const VALUES = 2;

function hgetallGeneric(c: Client, argv: string[], what: number): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  const out = c.out;
  const n = h === undefined ? 0 : h.m.size;
  if (what === (KEYS | VALUES)) out.map(n);
  else out.array(n);
  if (h === undefined) return;
  for (const [f, v] of h.m) {
    if (what & KEYS) out.bulk(f);
    if (what & VALUES) out.bulk(v);
  }
}

function hincrby(c: Client, argv: string[]): void {
  const incrStr = argv[3];
  const incr = parseInteger(incrStr);
  if (incr === null) return c.error(E_NOT_INT);
  const key = argv[1];
  const h = writeHash(c, key);
  if (h === null) return;
  const cur = h.m.get(argv[2]);
  let result: string;
  if (cur === undefined) result = incrStr;
  else {
    const old = parseInteger(cur);
    if (old === null) return c.error("ERR hash value is not an integer");
    const sum = old + incr;
    if (Number.isSafeInteger(old) && Number.isSafeInteger(incr) && Number.isSafeInteger(sum)) {
      result = String(sum);
    } else {
      // Beyond 2^53 only bigint arithmetic is exact.
      const b = parseBigInt(cur)! + parseBigInt(incrStr)!;
      if (b > 9223372036854775807n || b < -9223372036854775808n) {
        return c.error("ERR increment or decrement would overflow");
      }
      result = b.toString();
    }
  }
  hashSet(c, h, argv[2], result);
  c.out.raw(":" + result + "\r\n");
  c.server.notify("h", "hincrby", key, c.dbIndex);
  c.server.dirty++;
}

function hincrbyfloat(c: Client, argv: string[]): void {
  const incr = ldParse(argv[3]);
  if (incr === null) return c.error("ERR value is not a valid float");
  if (incr.inf) return c.error("ERR value is NaN or Infinity");
  const key = argv[1];
  const h = writeHash(c, key);
  if (h === null) return;
  const cur = h.m.get(argv[2]);
  let value = LD_ZERO;
  if (cur !== undefined) {
    const v = ldParse(cur);
    if (v === null) return c.error("ERR hash value is not a float");
    value = v;
  }
  const sum = ldAdd(value, incr);
  if (sum === null || sum.inf) return c.error("ERR increment would produce NaN or Infinity");
  const str = ldFormatHuman(sum);
  hashSet(c, h, argv[2], str);
  c.out.bulk(str);
  c.server.notify("h", "hincrbyfloat", key, c.dbIndex);
  c.server.dirty++;
  // Replicas get the result, so float formatting can never make them diverge.
  c.propagateArgv = ["HSET", key, argv[2], str];
}

/** Replies one HRANDFIELD entry: RESP3 nests field/value pairs, RESP2 flattens them. */
function replyField(c: Client, h: HashValue, f: string, withValues: boolean): void {
  if (withValues) {
    if (c.resp === 3) c.out.array(2);
    c.out.bulk(f);
    c.out.bulk(h.m.get(f)!);
  } else c.out.bulk(f);
}

function hrandfield(c: Client, argv: string[]): void {
  if (argv.length === 2) {
    const h = readHash(c, argv[1]);
    if (h === null) return;
    if (h === undefined) return c.out.null();
    return c.out.bulk(h.index().pick());
  }
  const l = parseInteger(argv[2]);
  if (l === null) return c.error(E_NOT_INT);
  if (argv[2] === "-9223372036854775808") {
    return c.error(
      "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
    );
  }
  if (argv.length > 4 || (argv.length === 4 && argv[3].toLowerCase() !== "withvalues")) {
    return c.error(E_SYNTAX);
  }
  const withValues = argv.length === 4;
  const half = 4611686018427387903n; // LONG_MAX / 2: count * 2 must not overflow
  if (
    withValues && !Number.isSafeInteger(l) && (BigInt(argv[2]) < -half || BigInt(argv[2]) > half)
  ) {
    return c.error("ERR value is out of range");
  }
  const h = readHash(c, argv[1]);
  if (h === null) return;
  if (h === undefined || l === 0) return c.out.array(0);
  const size = h.m.size;
  const out = c.out;
  const flat = withValues && c.resp === 2 ? 2 : 1;
  if (l < 0 || l === 1) {
    // With repetitions: independent uniform picks.
    const count = l < 0 ? -l : l;
    out.array(count * flat);
    const ix = h.index();
    for (let i = 0; i < count; i++) replyField(c, h, ix.pick(), withValues);
    return;
  }
  if (l >= size) {
    out.array(size * flat);
    for (const f of h.m.keys()) replyField(c, h, f, withValues);
    return;
  }
  out.array(l * flat);
  if (l * 3 > size) {
    // Close to the whole hash: drop random fields until `l` remain.
    const fields = Array.from(h.m.keys());
    while (fields.length > l) {
      const i = Math.floor(Math.random() * fields.length);
      fields[i] = fields[fields.length - 1];
      fields.pop();
    }
    for (const f of fields) replyField(c, h, f, withValues);
    return;
  }
  const seen = new Set<string>();
  const ix = h.index();
  while (seen.size < l) {
    const f = ix.pick();
    if (seen.has(f)) continue;
    seen.add(f);
    replyField(c, h, f, withValues);
  }
}

/** parseScanCursorOrReply (strtoul): the cursor, or null after replying the error. */
export function parseScanCursor(c: Client, s: string): number | null {
  if (s !== "" && !/^[+-]?[0-9]+$/.test(s)) {
    c.error("ERR invalid cursor");
    return null;
  }
  if (s.length < 16) {
    const n = Number(s);
    return n < 0 ? Number.MAX_SAFE_INTEGER : n;
  }
  const b = BigInt(s.replace(/^\+/, ""));
  if (b > 18446744073709551615n || b < -18446744073709551615n) {
    c.error("ERR invalid cursor");
    return null;
  }
  return b < 0n ? Number.MAX_SAFE_INTEGER : Number(b);
}

/** SCAN options after the cursor: COUNT (>= 1) and MATCH; null after replying the error. */
export function parseScanOptions(
  c: Client,
  argv: string[],
  from: number,
): { count: number; pattern: string | null } | null {
  let count = 10;
  let pattern: string | null = null;
  for (let i = from; i < argv.length; i += 2) {
    const opt = argv[i].toLowerCase();
    const more = argv.length - i >= 2;
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
      count = n;
    } else if (opt === "match" && more) {
      pattern = argv[i + 1] === "*" ? null : argv[i + 1];
    } else {
      c.error(E_SYNTAX);
      return null;
    }
  }
  return { count, pattern };
}

function hscan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(c, argv[2]);
  if (cursor === null) return;
  const h = readHash(c, argv[1]);
  if (h === null) return;
  if (h === undefined) return c.out.raw("*2\r\n$1\r\n0\r\n*0\r\n");
  const opts = parseScanOptions(c, argv, 3);
  if (opts === null) return;
  const { count, pattern } = opts;
  const items: string[] = [];
  let next = 0;
  const visit = (f: string) => {
    if (pattern === null || globMatch(pattern, f)) items.push(f, h.m.get(f)!);
  };
  // A listpack hash is small: everything is returned at once with cursor 0, as Redis does.
  if (h.listpack) { for (const f of h.m.keys()) visit(f); }
  else next = h.index().scan(cursor, count, visit);
  c.out.array(2);
  c.out.bulk(String(next));
  c.out.bulkArray(items);
}

const HASH = { group: "hash" };

function ks(flags: string[], index = 1): KeySpec {
  return { flags, beginSearch: { index }, findKeys: { lastkey: 0, keystep: 1, limit: 0 } };
}

const RO_ACCESS = [ks(["RO", "access"])];
const RO = [ks(["RO"])];

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("hset", -4, ["write", "denyoom", "fast"], [1, 1, 1], (c, a) => hsetGeneric(c, a, "hset"), {
    ...HASH,
    summary: "Set the string value of a hash field",
    since: "2.0.0",
    complexity:
      "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
    keySpecs: [ks(["RW", "update"])],
  }),
  cmd("hsetnx", 4, ["write", "denyoom", "fast"], [1, 1, 1], hsetnx, {
    ...HASH,
    summary: "Set the value of a hash field, only if the field does not exist",
    since: "2.0.0",
    complexity: "O(1)",
    keySpecs: [ks(["RW", "insert"])],
  }),
  cmd("hmset", -4, ["write", "denyoom", "fast"], [1, 1, 1], (c, a) => hsetGeneric(c, a, "hmset"), {
    ...HASH,
    summary: "Set multiple hash fields to multiple values",
    since: "2.0.0",
    complexity: "O(N) where N is the number of fields being set.",
    keySpecs: [ks(["RW", "update"])],
  }),
  cmd("hget", 3, ["readonly", "fast"], [1, 1, 1], hget, {
    ...HASH,
    summary: "Get the value of a hash field",
    since: "2.0.0",
    complexity: "O(1)",
    keySpecs: RO_ACCESS,
  }),
  cmd("hmget", -3, ["readonly", "fast"], [1, 1, 1], hmget, {
    ...HASH,
    summary: "Get the values of all the given hash fields",
    since: "2.0.0",
    complexity: "O(N) where N is the number of fields being requested.",
    keySpecs: RO_ACCESS,
  }),
  cmd("hgetall", 2, ["readonly"], [1, 1, 1], (c, a) => hgetallGeneric(c, a, KEYS | VALUES), {
    ...HASH,
    summary: "Get all the fields and values in a hash",
    since: "2.0.0",
    complexity: "O(N) where N is the size of the hash.",
    tips: ["nondeterministic_output_order"],
    keySpecs: RO_ACCESS,
  }),
  cmd("hkeys", 2, ["readonly"], [1, 1, 1], (c, a) => hgetallGeneric(c, a, KEYS), {
    ...HASH,
    summary: "Get all the fields in a hash",
    since: "2.0.0",
    complexity: "O(N) where N is the size of the hash.",
    tips: ["nondeterministic_output_order"],
    keySpecs: RO_ACCESS,
  }),
  cmd("hvals", 2, ["readonly"], [1, 1, 1], (c, a) => hgetallGeneric(c, a, VALUES), {
    ...HASH,
    summary: "Get all the values in a hash",
    since: "2.0.0",
    complexity: "O(N) where N is the size of the hash.",
    tips: ["nondeterministic_output_order"],
    keySpecs: RO_ACCESS,
  }),
  cmd("hdel", -3, ["write", "fast"], [1, 1, 1], hdel, {
    ...HASH,
    summary: "Delete one or more hash fields",
    since: "2.0.0",
    complexity: "O(N) where N is the number of fields to be removed.",
    keySpecs: [ks(["RW", "delete"])],
  }),
  cmd("hlen", 2, ["readonly", "fast"], [1, 1, 1], hlen, {
    ...HASH,
    summary: "Get the number of fields in a hash",
    since: "2.0.0",
    complexity: "O(1)",
    keySpecs: RO,
  }),
  cmd("hstrlen", 3, ["readonly", "fast"], [1, 1, 1], hstrlen, {
    ...HASH,
    summary: "Get the length of the value of a hash field",
    since: "3.2.0",
    complexity: "O(1)",
    keySpecs: RO,
  }),
  cmd("hexists", 3, ["readonly", "fast"], [1, 1, 1], hexists, {
    ...HASH,
    summary: "Determine if a hash field exists",
    since: "2.0.0",
    complexity: "O(1)",
    keySpecs: RO,
  }),
  cmd("hincrby", 4, ["write", "denyoom", "fast"], [1, 1, 1], hincrby, {
    ...HASH,
    summary: "Increment the integer value of a hash field by the given number",
    since: "2.0.0",
    complexity: "O(1)",
    keySpecs: [ks(["RW", "access", "update"])],
  }),
  cmd("hincrbyfloat", 4, ["write", "denyoom", "fast"], [1, 1, 1], hincrbyfloat, {
    ...HASH,
    summary: "Increment the float value of a hash field by the given amount",
    since: "2.6.0",
    complexity: "O(1)",
    keySpecs: [ks(["RW", "access", "update"])],
  }),
  cmd("hrandfield", -2, ["readonly"], [1, 1, 1], hrandfield, {
    ...HASH,
    summary: "Get one or multiple random fields from a hash",
    since: "6.2.0",
    complexity: "O(N) where N is the number of fields returned",
    tips: ["nondeterministic_output"],
    keySpecs: RO_ACCESS,
  }),
  cmd("hscan", -3, ["readonly"], [1, 1, 1], hscan, {
    ...HASH,
    summary: "Incrementally iterate hash fields and associated values",
    since: "2.8.0",
    complexity:
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
    tips: ["nondeterministic_output"],
    keySpecs: RO_ACCESS,
  }),
];
