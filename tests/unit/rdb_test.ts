// RDB codec: round trips of every type and encoding, byte-exact DUMP payloads against
// redis-server 7.0.15 outputs (saved as hex), the legacy encodings older Redis versions wrote,
// and damaged input, which must raise RdbError and never anything else.
import assert from "node:assert/strict";
import {
  createDumpPayload,
  type EncodableValue,
  quicklistNodes,
  type RdbFileOptions,
  RdbWriter,
  writeLen,
  writeString,
} from "../../lib/persistence/rdb_writer.ts";
import { DEFAULT_LIMITS, parseRdb, readDumpValue } from "../../lib/persistence/rdb_reader.ts";
import { OP, RdbError, T } from "../../lib/persistence/rdb_format.ts";
import { ByteWriter } from "../../lib/persistence/bytes_io.ts";
import { crc64 } from "../../lib/persistence/crc64.ts";
import { lpDecode, lpEncode } from "../../lib/persistence/listpack.ts";
import { HashValue, ListValue, SetValue, type Value } from "../../lib/store/types.ts";
import { ZSetValue } from "../../lib/store/zset.ts";

const OPTS: RdbFileOptions = { compression: true, checksum: true, listFill: -2 };

/** Builds a whole RDB file from a writer script. */
function rdbFile(fn: (w: RdbWriter) => void, o: RdbFileOptions = OPTS): Uint8Array {
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

interface Loaded {
  db: number;
  value: Value | null;
  expire: number;
}

function load(data: Uint8Array, limits = DEFAULT_LIMITS): Map<string, Loaded> {
  const out = new Map<string, Loaded>();
  parseRdb(data, { key: (db, key, value, expire) => void out.set(key, { db, value, expire }) }, limits);
  return out;
}

/** A comparable plain form of a value, encoding flags included. */
function plain(v: Value | EncodableValue | null): unknown {
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

function hash(pairs: [string, string][], listpack = true): HashValue {
  const h = new HashValue();
  for (const [f, v] of pairs) h.m.set(f, v);
  h.listpack = listpack;
  return h;
}
function list(items: string[]): ListValue {
  const l = new ListValue();
  for (const i of items) l.pushTail(i);
  return l;
}
function set(members: string[], enc: "intset" | "hashtable"): SetValue {
  const s = new SetValue();
  for (const m of members) s.s.add(m);
  s.enc = enc;
  return s;
}
function zset(pairs: [string, number][], listpack = true): ZSetValue {
  const z = new ZSetValue();
  for (const [m, s] of pairs) z.add(m, s);
  z.listpack = listpack;
  return z;
}
function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
function unhex(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g)!, (x) => parseInt(x, 16));
}

const binary = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));

/** Every type and encoding tsredis writes; limits chosen so loading keeps each encoding. */
const SAMPLES: [string, Value][] = [
  ["empty", ""],
  ["int8", "-128"],
  ["int16", "32767"],
  ["int32", "-2147483648"],
  ["beyond-int32", "2147483648"],
  ["not-canonical", "007"],
  ["minus-zero", "-0"],
  ["int64", "9223372036854775807"],
  ["compressible", "abc".repeat(200)],
  ["binary", binary + binary],
  ["hash-lp", hash([["a", "1"], ["b", "two"], ["big", "-5000000000"], ["bin", "\x00\xff"]])],
  ["hash-ht", hash(range(300, (i) => `f${i}`).map((f) => [f, "v".repeat(i(f))]), false)],
  ["list-small", list(["a", "1", "-100", "100000", "x".repeat(70), ""])],
  ["list-big", list(range(5000, (i) => `element-${i}`))],
  ["set-int16", set(["1", "2", "3", "-32768"], "intset")],
  ["set-int32", set(["1", "-70000"], "intset")],
  ["set-int64", set(["9223372036854775807", "-9223372036854775808", "0"], "intset")],
  ["set-ht", set(["a", "b", "c", "1"], "hashtable")],
  ["zset-lp", zset([["a", 1], ["b", 2.5], ["c", -Infinity], ["d", 1e20], ["e", 0.1], ["f", 2 ** 60], ["g", Infinity]])],
  ["zset-sl", zset(range(200, (i) => `m${i}`).map((m, i) => [m, i / 7 - 3]), false)],
];
function i(f: string): number {
  return Number(f.slice(1)) % 90;
}
const KEEP_LIMITS = { ...DEFAULT_LIMITS, hashMaxListpackEntries: 128, zsetMaxListpackEntries: 128 };

Deno.test("round trip of every type and encoding, with TTLs and several databases", () => {
  const exp = Date.now() + 3_600_000;
  const data = rdbFile((w) => {
    w.db(0, SAMPLES.length, 1);
    for (const [k, v] of SAMPLES) w.key(k, v, k === "hash-lp" ? exp : undefined);
    w.db(9, 1, 0);
    w.key("in-db-9", "nine");
  });
  const got = load(data, KEEP_LIMITS);
  assert.equal(got.size, SAMPLES.length + 1);
  for (const [k, v] of SAMPLES) {
    assert.deepEqual(plain(got.get(k)!.value), plain(v), `key ${k}`);
    assert.equal(got.get(k)!.db, 0);
  }
  assert.equal(got.get("hash-lp")!.expire, exp);
  assert.equal(got.get("empty")!.expire, -1);
  assert.deepEqual(got.get("in-db-9"), { db: 9, value: "nine", expire: -1 });
});

Deno.test("without compression or checksum the file still round trips", () => {
  const o = { compression: false, checksum: false, listFill: 128 };
  const data = rdbFile((w) => {
    w.db(0, SAMPLES.length, 0);
    for (const [k, v] of SAMPLES) w.key(k, v);
  }, o);
  assert.deepEqual(data.subarray(data.length - 8), new Uint8Array(8));
  const got = load(data, KEEP_LIMITS);
  for (const [k, v] of SAMPLES) assert.deepEqual(plain(got.get(k)!.value), plain(v), k);
});

// redis-server 7.0.15 DUMP outputs for the same data (see the commands in each comment).
const REDIS_DUMPS: [string, Value][] = [
  // RPUSH l a b c 1 2 3 -100 100000 <70 x>
  [
    "120102c32740671f670000000900816102816202816302010102010301df9c02f2a0860104e04678e03c000148ff0a00b9d7a7abe3dbe68d",
    list(["a", "b", "c", "1", "2", "3", "-100", "100000", "x".repeat(70)]),
  ],
  // HSET h a 1 b 2 field -5000000000
  [
    "102222000000060081610201018162020201856669656c6406f4000efad5feffffff09ff0a00d74cf60520937157",
    hash([["a", "1"], ["b", "2"], ["field", "-5000000000"]]),
  ],
  // SADD s 1 2 3 -70000
  ["0b18040000000400000090eefeff0100000002000000030000000a00a8b63c622cbf2c9c", set(["1", "2", "3", "-70000"], "intset")],
  ["00c139300a009d94ea2793fc08b9", "12345"], // SET n 12345
  ["00c17fff0a001760822854808480", "-129"], // SET n2 -129
  // ZADD z 1 a 2.5 b -inf c 1e20 d 0.1 e
  [
    "11c3363f163f0000000a00816302842d696e660581650293302e3130e00500193114816102010181620283322e35048164028531652b323006ff0a00522a5c5e71d20121",
    zset([["a", 1], ["b", 2.5], ["c", -Infinity], ["d", 1e20], ["e", 0.1]]),
  ],
];

Deno.test("DUMP payloads are byte-identical to redis-server's and load back", () => {
  for (const [h, v] of REDIS_DUMPS) {
    assert.equal(hex(createDumpPayload(v, OPTS)), h, `DUMP of ${JSON.stringify(plain(v)).slice(0, 60)}`);
    assert.deepEqual(plain(readDumpValue(unhex(h), "k", DEFAULT_LIMITS)), plain(v));
  }
});

Deno.test("lists split into quicklist nodes like Redis (size and count limits)", () => {
  const items = range(1000, (i) => `item:${i}`);
  const bySize = quicklistNodes(items, -2);
  assert.ok(bySize.length > 1);
  for (const n of bySize) assert.ok(n.data.length <= 8192, "each node within 8 KiB");
  assert.deepEqual(bySize.flatMap((n) => lpDecode(n.data)), items);
  assert.deepEqual(quicklistNodes(items, 100).map((n) => lpDecode(n.data).length), Array(10).fill(100));
  // Elements at or above the packed threshold get their own plain node.
  const plainNodes = quicklistNodes(["a", "bbbbbb", "c"], -2, 5);
  assert.deepEqual(plainNodes.map((n) => n.container), [2, 1, 2]);
  const data = rdbFile((w) => w.key("l", list(["a", "bbbbbb", "c"])), { ...OPTS, packedThreshold: 5 });
  assert.deepEqual(plain(load(data).get("l")!.value), { list: ["a", "bbbbbb", "c"] });
});

Deno.test("loading picks encodings from the configured limits like Redis", () => {
  const data = rdbFile((w) => {
    w.key("h", hash(range(10, (i) => `f${i}`).map((f) => [f, "v"])));
    w.key("hlong", hash([["f", "x".repeat(100)]], false));
    w.key("s", set(range(10, (i) => String(i)), "intset"));
    w.key("sstr", set(["1", "x"], "hashtable"));
    w.key("z", zset(range(10, (i) => `m${i}`).map((m, i) => [m, i])));
    w.key("zsl", zset([["a", 1]], false));
  });
  const small = { ...DEFAULT_LIMITS, hashMaxListpackEntries: 5, setMaxIntsetEntries: 5, zsetMaxListpackEntries: 5 };
  const got = load(data, small);
  assert.equal((got.get("h")!.value as HashValue).listpack, false, "too many fields");
  assert.equal((got.get("hlong")!.value as HashValue).listpack, false, "value too long");
  assert.equal((got.get("s")!.value as SetValue).enc, "hashtable");
  assert.equal((got.get("sstr")!.value as SetValue).enc, "hashtable");
  assert.equal((got.get("z")!.value as ZSetValue).listpack, false);
  assert.equal((got.get("zsl")!.value as ZSetValue).listpack, true, "a 1-member skiplist converts back");
  const big = load(data);
  assert.equal((big.get("h")!.value as HashValue).listpack, true);
  assert.equal((big.get("s")!.value as SetValue).enc, "intset");
});

// ---- legacy encodings (Redis <= 6.2 and older RDB versions) ----

/** A ziplist, written the way Redis 6 did. */
function ziplist(items: (string | number)[]): Uint8Array {
  const entries: number[][] = [];
  let prev = 0;
  let tail = 10;
  let off = 10;
  for (const it of items) {
    const e: number[] = prev < 254 ? [prev] : [254, prev & 255, (prev >> 8) & 255, (prev >> 16) & 255, prev >>> 24];
    if (typeof it === "string") {
      const n = it.length;
      if (n <= 63) e.push(n);
      else if (n <= 16383) e.push(0x40 | (n >> 8), n & 255);
      else e.push(0x80, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255);
      for (let i = 0; i < n; i++) e.push(it.charCodeAt(i));
    } else if (it >= 0 && it <= 12) e.push(0xf1 + it);
    else if (it >= -128 && it <= 127) e.push(0xfe, it & 255);
    else if (it >= -32768 && it <= 32767) e.push(0xc0, it & 255, (it >> 8) & 255);
    else if (it >= -8388608 && it <= 8388607) e.push(0xf0, it & 255, (it >> 8) & 255, (it >> 16) & 255);
    else e.push(0xd0, it & 255, (it >> 8) & 255, (it >> 16) & 255, (it >>> 24) & 255);
    entries.push(e);
    tail = off;
    off += e.length;
    prev = e.length;
  }
  const total = off + 1;
  const out = [total & 255, (total >> 8) & 255, (total >> 16) & 255, total >>> 24];
  out.push(tail & 255, (tail >> 8) & 255, (tail >> 16) & 255, tail >>> 24, items.length & 255, items.length >> 8);
  for (const e of entries) out.push(...e);
  out.push(0xff);
  return Uint8Array.from(out);
}

/** A zipmap (Redis 2.4 small hash). */
function zipmap(pairs: [string, string][]): Uint8Array {
  const out = [pairs.length];
  for (const [k, v] of pairs) {
    out.push(k.length, ...Array.from(k, (c) => c.charCodeAt(0)));
    out.push(v.length, 1, ...Array.from(v, (c) => c.charCodeAt(0)), 0x21); // one free byte
  }
  out.push(0xff);
  return Uint8Array.from(out);
}

/** Hand-assembles an RDB of a given version from raw records. */
function rawRdb(version: number, body: (w: ByteWriter) => void, checksum = true): Uint8Array {
  const w = new ByteWriter();
  w.latin1(`REDIS${String(version).padStart(4, "0")}`);
  body(w);
  w.u8(OP.EOF);
  if (version >= 5) {
    const sum = checksum ? crc64(w.view()) : 0n;
    w.i64le(BigInt.asIntN(64, sum));
  }
  return w.copy();
}

function blob(w: ByteWriter, b: Uint8Array): void {
  writeLen(w, b.length);
  w.bytes(b);
}

Deno.test("older encodings and opcodes that Redis 7.0 still loads", () => {
  const future = Math.floor(Date.now() / 1000) + 1000;
  const data = rawRdb(9, (w) => {
    w.u8(OP.AUX), writeString(w, "redis-ver", false), writeString(w, "5.0.0", false);
    w.u8(OP.MODULE_AUX), writeLen(w, 12345), writeLen(w, 2), writeLen(w, 1);
    writeLen(w, 5), writeString(w, "module data", false), writeLen(w, 4), w.f64le(1.5), writeLen(w, 0);
    w.u8(OP.FUNCTION2), writeString(w, "#!lua name=lib\nredis.register_function('f', function() end)", false);
    w.u8(OP.SELECTDB), writeLen(w, 2);
    w.u8(OP.EXPIRETIME), w.u32le(future);
    w.u8(OP.IDLE), writeLen(w, 100);
    w.u8(T.LIST), writeString(w, "list", false), writeLen(w, 2), writeString(w, "a", false), writeString(w, "7", false);
    w.u8(OP.FREQ), w.u8(5);
    w.u8(T.LIST_ZIPLIST), writeString(w, "zl", false), blob(w, ziplist(["x", 5, -7, 300, -70000, 8000000, "y".repeat(70)]));
    w.u8(T.LIST_QUICKLIST), writeString(w, "ql", false), writeLen(w, 2);
    blob(w, ziplist(["a", "b"])), blob(w, ziplist([1, 2]));
    w.u8(T.ZSET), writeString(w, "zs", false), writeLen(w, 3);
    writeString(w, "a", false), w.u8(3), w.latin1("1.5");
    writeString(w, "b", false), w.u8(254);
    writeString(w, "c", false), w.u8(255);
    w.u8(T.ZSET_ZIPLIST), writeString(w, "zz", false), blob(w, ziplist(["m", 3, "n", "4.5"]));
    w.u8(T.HASH_ZIPLIST), writeString(w, "hz", false), blob(w, ziplist(["f", "v", "n", 12]));
    w.u8(T.HASH_ZIPMAP), writeString(w, "hm", false), blob(w, zipmap([["k1", "v1"], ["k2", "value2"]]));
    w.u8(T.HASH), writeString(w, "hh", false), writeLen(w, 1), writeString(w, "f", false), writeString(w, "v", false);
  });
  const got = load(data);
  assert.deepEqual(got.get("list"), { db: 2, value: got.get("list")!.value, expire: future * 1000 });
  assert.deepEqual(plain(got.get("list")!.value), { list: ["a", "7"] });
  assert.equal(got.get("zl")!.expire, -1, "expire applies to one key only");
  assert.deepEqual(plain(got.get("zl")!.value), { list: ["x", "5", "-7", "300", "-70000", "8000000", "y".repeat(70)] });
  assert.deepEqual(plain(got.get("ql")!.value), { list: ["a", "b", "1", "2"] });
  assert.deepEqual(plain(got.get("zs")!.value), { zset: [["c", -Infinity], ["a", 1.5], ["b", Infinity]], lp: true });
  assert.deepEqual(plain(got.get("zz")!.value), { zset: [["m", 3], ["n", 4.5]], lp: true });
  assert.deepEqual(plain(got.get("hz")!.value), { hash: [["f", "v"], ["n", "12"]], lp: true });
  assert.deepEqual(plain(got.get("hm")!.value), { hash: [["k1", "v1"], ["k2", "value2"]], lp: true });
  assert.deepEqual(plain(got.get("hh")!.value), { hash: [["f", "v"]], lp: true });
  // Version 4 files have no checksum trailer.
  const v4 = rawRdb(4, (w) => void (w.u8(T.STRING), writeString(w, "k", false), writeString(w, "v", false)));
  assert.deepEqual(load(v4).get("k"), { db: 0, value: "v", expire: -1 });
});

Deno.test("streams and module values are refused, not silently dropped", () => {
  for (const type of [T.STREAM_LISTPACKS, T.STREAM_LISTPACKS_2, T.MODULE_2]) {
    const data = rawRdb(10, (w) => void (w.u8(type), writeString(w, "s", false), writeLen(w, 0)));
    assert.throws(() => load(data), (e) => e instanceof RdbError && e.kind === "unsupported");
  }
});

Deno.test("empty collections are skipped and duplicates are corruption", () => {
  const empty = rawRdb(10, (w) => {
    w.u8(T.SET), writeString(w, "e", false), writeLen(w, 0);
    w.u8(T.STRING), writeString(w, "k", false), writeString(w, "v", false);
  });
  const got = load(empty);
  assert.equal(got.get("e")!.value, null);
  assert.equal(got.get("k")!.value, "v");
  const dupHash = rawRdb(10, (w) => {
    w.u8(T.HASH_LISTPACK), writeString(w, "h", false), blob(w, lpEncode(["a", "1", "a", "2"]));
  });
  assert.throws(() => load(dupHash), RdbError);
  const dupSet = rawRdb(10, (w) => {
    w.u8(T.SET), writeString(w, "s", false), writeLen(w, 2), writeString(w, "x", false), writeString(w, "x", false);
  });
  assert.throws(() => load(dupSet), RdbError);
});

Deno.test("truncation anywhere, bit flips, wrong magic or version raise RdbError only", () => {
  const data = rdbFile((w) => {
    w.db(0, SAMPLES.length, 0);
    for (const [k, v] of SAMPLES) w.key(k, v, Date.now() + 1000);
  });
  for (let n = 0; n < data.length; n += n < 600 ? 1 : 97) {
    assert.throws(() => load(data.subarray(0, n)), (e) => e instanceof RdbError, `truncated at ${n}`);
  }
  assert.throws(() => load(data.subarray(0, 100)), (e) => e instanceof RdbError && e.kind === "short");
  const flipped = data.slice();
  flipped[data.length - 100] ^= 0x01;
  assert.throws(() => load(flipped), (e) => e instanceof RdbError);
  // A flip inside a plain string value only shows up in the checksum.
  const strFile = rdbFile((w) => w.key("k", "plain value!"));
  const strFlip = strFile.slice();
  strFlip[strFile.length - 12] ^= 0x20;
  assert.throws(() => load(strFlip), (e) => e instanceof RdbError && e.kind === "checksum");
  // A zero checksum means "not computed": no verification.
  const noSum = strFlip.slice();
  noSum.fill(0, noSum.length - 8);
  assert.equal(load(noSum).get("k")!.value, "plain valUe!");
  const badMagic = data.slice();
  badMagic[0] = 0x58;
  assert.throws(() => load(badMagic), (e) => e instanceof RdbError && e.kind === "signature");
  const v11 = data.slice();
  v11.set([0x30, 0x30, 0x31, 0x31], 5);
  assert.throws(() => load(v11), (e) => e instanceof RdbError && /version 11/.test(e.message));
});

Deno.test("random corruption of DUMP payload bodies never crashes the decoder", () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (const [, v] of SAMPLES) {
    const p = createDumpPayload(v, OPTS);
    for (let t = 0; t < 50; t++) {
      const bad = p.slice();
      bad[Math.floor(rnd() * (p.length - 10))] = Math.floor(rnd() * 256);
      try {
        readDumpValue(bad, "k", DEFAULT_LIMITS);
      } catch (e) {
        assert.ok(e instanceof RdbError, `unexpected ${(e as Error).stack}`);
      }
    }
  }
});

// ---- point-in-time snapshots (copy-on-write through the Db hooks) ----

Deno.test("a snapshot keeps the view of its creation instant while the keyspace changes", async () => {
  const { Server } = await import("../../lib/server/server.ts");
  const { Config } = await import("../../lib/config/config.ts");
  const { RdbProducer } = await import("../../lib/persistence/snapshot.ts");
  const server = new Server(new Config());
  const [db0, db1] = server.dbs;
  const exp = Date.now() + 100_000;
  db0.set("str", "old");
  db0.set("gone", "was here");
  db0.set("ttl", "v");
  db0.setExpire("ttl", exp);
  db0.set("h", hash([["a", "1"]]));
  db0.set("l", list(["x"]));
  db0.set("s", set(["1"], "intset"));
  db0.set("z", zset([["m", 1]]));
  db1.set("flushed", "still in the snapshot");
  const producer = new RdbProducer(server, OPTS);
  // Everything below happens after the snapshot instant.
  db0.set("str", "new");
  db0.delete("gone");
  db0.set("gone", "recreated");
  db0.persist("ttl");
  (db0.getForWrite("h") as HashValue).m.set("b", "2");
  (db0.getForWrite("l") as ListValue).pushTail("y");
  (db0.getForWrite("s") as SetValue).s.add("2");
  (db0.getForWrite("z") as ZSetValue).add("m", 99);
  db0.set("created-later", "no");
  db1.clear();
  db1.set("after-flush", "no");
  const chunks: Uint8Array[] = [];
  producer.runSync((c) => chunks.push(c.slice()));
  assert.equal(server.snapshotObservers.size, 0, "observer released after the save");
  const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((off, c) => (data.set(c, off), off + c.length), 0);
  const got = load(data);
  assert.deepEqual([...got.keys()].sort(), ["flushed", "gone", "h", "l", "s", "str", "ttl", "z"]);
  assert.equal(got.get("str")!.value, "old");
  assert.equal(got.get("gone")!.value, "was here");
  assert.equal(got.get("ttl")!.expire, exp);
  assert.deepEqual(plain(got.get("h")!.value), { hash: [["a", "1"]], lp: true });
  assert.deepEqual(plain(got.get("l")!.value), { list: ["x"] });
  assert.deepEqual(plain(got.get("s")!.value), { set: ["1"], enc: "intset" });
  assert.deepEqual(plain(got.get("z")!.value), { zset: [["m", 1]], lp: true });
  assert.deepEqual(got.get("flushed"), { db: 1, value: "still in the snapshot", expire: -1 });
  // The live keyspace has the new state.
  assert.equal(db0.get("str"), "new");
  assert.equal((db0.get("h") as HashValue).m.get("b"), "2");
});

Deno.test("a cooperative run yields to the event loop and honours abort", async () => {
  const { Server } = await import("../../lib/server/server.ts");
  const { Config } = await import("../../lib/config/config.ts");
  const { RdbProducer, SaveAborted } = await import("../../lib/persistence/snapshot.ts");
  const server = new Server(new Config());
  for (let i = 0; i < 20000; i++) server.dbs[0].set(`key:${i}`, "x".repeat(50) + i);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const p = new RdbProducer(server, { ...OPTS, compression: false });
  let bytes = 0;
  await p.run((c) => void (bytes += c.length), { sliceMs: 2, keyDelayUs: () => 1 });
  clearInterval(timer);
  assert.equal(p.keysProcessed, 20000);
  assert.ok(ticks > 3, `timers ran during the save (${ticks})`);
  assert.ok(bytes > 20000 * 50);
  const q = new RdbProducer(server, OPTS);
  let calls = 0;
  await assert.rejects(q.run(() => void calls++, { sliceMs: 0, isAborted: () => calls > 0 }), SaveAborted);
  assert.equal(server.snapshotObservers.size, 0);
});
