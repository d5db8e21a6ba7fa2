// Encodings and opcodes older Redis versions wrote and Redis 7.0 still loads (ziplists,
// zipmaps, text scores, quicklist v1, EXPIRETIME in seconds, IDLE/FREQ, MODULE_AUX, FUNCTION2),
// plus data tsredis must refuse (streams, modules) or treat as corruption.
import assert from "node:assert/strict";
import { writeLen, writeString } from "../../lib/persistence/rdb_writer.ts";
import { OP, RdbError, T } from "../../lib/persistence/rdb_format.ts";
import { ByteWriter } from "../../lib/persistence/bytes_io.ts";
import { crc64 } from "../../lib/persistence/crc64.ts";
import { lpEncode } from "../../lib/persistence/listpack.ts";
import { load, plain } from "./rdb_fixtures.ts";

/** A ziplist, written the way Redis 6 did. */
function ziplist(items: (string | number)[]): Uint8Array {
  const entries: number[][] = [];
  let prev = 0;
  let tail = 10;
  let off = 10;
  for (const it of items) {
    const e: number[] = prev < 254
      ? [prev]
      : [254, prev & 255, (prev >> 8) & 255, (prev >> 16) & 255, prev >>> 24];
    if (typeof it === "string") {
      const n = it.length;
      if (n <= 63) e.push(n);
      else if (n <= 16383) e.push(0x40 | (n >> 8), n & 255);
      else e.push(0x80, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255);
      for (let i = 0; i < n; i++) e.push(it.charCodeAt(i));
    } else if (it >= 0 && it <= 12) e.push(0xf1 + it);
    else if (it >= -128 && it <= 127) e.push(0xfe, it & 255);
    else if (it >= -32768 && it <= 32767) e.push(0xc0, it & 255, (it >> 8) & 255);
    else if (it >= -8388608 && it <= 8388607) {
      e.push(0xf0, it & 255, (it >> 8) & 255, (it >> 16) & 255);
    } else e.push(0xd0, it & 255, (it >> 8) & 255, (it >> 16) & 255, (it >>> 24) & 255);
    entries.push(e);
    tail = off;
    off += e.length;
    prev = e.length;
  }
  const total = off + 1;
  const out = [total & 255, (total >> 8) & 255, (total >> 16) & 255, total >>> 24];
  out.push(
    tail & 255,
    (tail >> 8) & 255,
    (tail >> 16) & 255,
    tail >>> 24,
    items.length & 255,
    items.length >> 8,
  );
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
    writeLen(w, 5),
      writeString(w, "module data", false),
      writeLen(w, 4),
      w.f64le(1.5),
      writeLen(w, 0);
    w.u8(OP.FUNCTION2),
      writeString(w, "#!lua name=lib\nredis.register_function('f', function() end)", false);
    w.u8(OP.SELECTDB), writeLen(w, 2);
    w.u8(OP.EXPIRETIME), w.u32le(future);
    w.u8(OP.IDLE), writeLen(w, 100);
    w.u8(T.LIST),
      writeString(w, "list", false),
      writeLen(w, 2),
      writeString(w, "a", false),
      writeString(w, "7", false);
    w.u8(OP.FREQ), w.u8(5);
    w.u8(T.LIST_ZIPLIST),
      writeString(w, "zl", false),
      blob(w, ziplist(["x", 5, -7, 300, -70000, 8000000, "y".repeat(70)]));
    w.u8(T.LIST_QUICKLIST), writeString(w, "ql", false), writeLen(w, 2);
    blob(w, ziplist(["a", "b"])), blob(w, ziplist([1, 2]));
    w.u8(T.ZSET), writeString(w, "zs", false), writeLen(w, 3);
    writeString(w, "a", false), w.u8(3), w.latin1("1.5");
    writeString(w, "b", false), w.u8(254);
    writeString(w, "c", false), w.u8(255);
    w.u8(T.ZSET_ZIPLIST), writeString(w, "zz", false), blob(w, ziplist(["m", 3, "n", "4.5"]));
    w.u8(T.HASH_ZIPLIST), writeString(w, "hz", false), blob(w, ziplist(["f", "v", "n", 12]));
    w.u8(T.HASH_ZIPMAP),
      writeString(w, "hm", false),
      blob(w, zipmap([["k1", "v1"], ["k2", "value2"]]));
    w.u8(T.HASH),
      writeString(w, "hh", false),
      writeLen(w, 1),
      writeString(w, "f", false),
      writeString(w, "v", false);
  });
  const got = load(data);
  assert.deepEqual(got.get("list"), {
    db: 2,
    value: got.get("list")!.value,
    expire: future * 1000,
  });
  assert.deepEqual(plain(got.get("list")!.value), { list: ["a", "7"] });
  assert.equal(got.get("zl")!.expire, -1, "expire applies to one key only");
  assert.deepEqual(plain(got.get("zl")!.value), {
    list: ["x", "5", "-7", "300", "-70000", "8000000", "y".repeat(70)],
  });
  assert.deepEqual(plain(got.get("ql")!.value), { list: ["a", "b", "1", "2"] });
  assert.deepEqual(plain(got.get("zs")!.value), {
    zset: [["c", -Infinity], ["a", 1.5], ["b", Infinity]],
    lp: true,
  });
  assert.deepEqual(plain(got.get("zz")!.value), { zset: [["m", 3], ["n", 4.5]], lp: true });
  assert.deepEqual(plain(got.get("hz")!.value), { hash: [["f", "v"], ["n", "12"]], lp: true });
  assert.deepEqual(plain(got.get("hm")!.value), {
    hash: [["k1", "v1"], ["k2", "value2"]],
    lp: true,
  });
  assert.deepEqual(plain(got.get("hh")!.value), { hash: [["f", "v"]], lp: true });
  // Version 4 files have no checksum trailer.
  const v4 = rawRdb(
    4,
    (w) => void (w.u8(T.STRING), writeString(w, "k", false), writeString(w, "v", false)),
  );
  assert.deepEqual(load(v4).get("k"), { db: 0, value: "v", expire: -1 });
});

Deno.test("module values are refused, not silently dropped (streams: rdb_stream_test.ts)", () => {
  for (const type of [T.MODULE, T.MODULE_2]) {
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
    w.u8(T.SET),
      writeString(w, "s", false),
      writeLen(w, 2),
      writeString(w, "x", false),
      writeString(w, "x", false);
  });
  assert.throws(() => load(dupSet), RdbError);
});
