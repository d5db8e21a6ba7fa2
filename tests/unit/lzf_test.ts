// LZF and CRC-64 against Redis's own outputs: a DUMP payload produced by redis-server 7.0.15
// (saved here as hex) must decode and checksum exactly, and our compressor must reproduce it.
import assert from "node:assert/strict";
import { lzfCompress, lzfDecompress } from "../../lib/persistence/lzf.ts";
import { Crc64, crc64 } from "../../lib/persistence/crc64.ts";

const enc = new TextEncoder();

function hexBytes(h: string): Uint8Array {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// redis-server 7.0.15: SET k <ORIGINAL>; DUMP k.
const ORIGINAL = "Redis LZF test: " + "hello world! ".repeat(20) + "0123456789".repeat(5) + " end";
const REDIS_DUMP = hexBytes(
  "00c333414a1b5265646973204c5a4620746573743a2068656c6c6f20776f726c6421e0ef0c0930313233343536" +
    "373839e01f090320656e640a008985c9c92749de0d",
);

Deno.test("crc64 matches Redis's test vector", () => {
  assert.equal(crc64(enc.encode("123456789")), 0xe9c6d914c4b8d9can);
  assert.equal(crc64(new Uint8Array(0)), 0n);
});

Deno.test("crc64 is the same whether fed at once or in odd-sized pieces", () => {
  const data = new Uint8Array(10007);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
  const whole = crc64(data);
  const inc = new Crc64();
  for (let off = 0; off < data.length;) {
    const n = Math.min(1 + (off % 13), data.length - off);
    inc.update(data, off, off + n);
    off += n;
  }
  assert.equal(inc.value(), whole);
  const le = inc.bytesLE();
  assert.equal(new DataView(le.buffer).getBigUint64(0, true), whole);
});

Deno.test("a DUMP payload made by redis-server verifies with our crc64", () => {
  const body = REDIS_DUMP.subarray(0, REDIS_DUMP.length - 8);
  const stored = new DataView(REDIS_DUMP.buffer, REDIS_DUMP.length - 8, 8).getBigUint64(0, true);
  assert.equal(crc64(body), stored);
});

Deno.test("LZF data compressed by redis-server decompresses to the original", () => {
  // Payload: type 0, 0xC3 (LZF), clen (0x33), len (0x41 0x4a = 14-bit 330), data...
  assert.equal(REDIS_DUMP[1], 0xc3);
  const clen = REDIS_DUMP[2];
  const len = ((REDIS_DUMP[3] & 0x3f) << 8) | REDIS_DUMP[4];
  assert.equal(len, ORIGINAL.length);
  const compressed = REDIS_DUMP.subarray(5, 5 + clen);
  const out = lzfDecompress(compressed, len);
  assert.ok(out);
  assert.equal(new TextDecoder().decode(out), ORIGINAL);
  // Our compressor follows liblzf's strategy, so it produces the very same bytes.
  assert.deepEqual(lzfCompress(enc.encode(ORIGINAL), ORIGINAL.length - 4), compressed);
});

Deno.test("LZF round trip over random and repetitive inputs", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let t = 0; t < 2000; t++) {
    const n = 1 + Math.floor(rnd() * 3000);
    const alphabet = [1, 2, 4, 16, 256][t % 5];
    const src = new Uint8Array(n);
    for (let i = 0; i < n; i++) src[i] = Math.floor(rnd() * alphabet);
    // Worst case LZF grows by one header byte per 32 literals.
    const c = lzfCompress(src, n + Math.ceil(n / 32) + 4);
    assert.ok(c, `fits the worst-case bound (n=${n})`);
    const d = lzfDecompress(c, n);
    assert.ok(d, `decodes (n=${n}, alphabet=${alphabet})`);
    assert.deepEqual(d, src);
  }
});

Deno.test("LZF refuses incompressible data within the size limit", () => {
  const src = new Uint8Array(100);
  for (let i = 0; i < src.length; i++) src[i] = (i * 97 + 13) & 0xff;
  assert.equal(lzfCompress(src, src.length - 4), null);
  assert.equal(lzfCompress(enc.encode("a".repeat(100)), 5), null);
});

Deno.test("LZF decoder rejects corrupt streams instead of crashing", () => {
  const good = lzfCompress(enc.encode("abcabcabcabcabcabcabcabcabc"), 100)!;
  assert.equal(lzfDecompress(good, 26), null, "wrong expected length");
  assert.equal(lzfDecompress(good.subarray(0, good.length - 1), 27), null, "truncated");
  // A back reference before the start of the output.
  assert.equal(lzfDecompress(new Uint8Array([0x20, 0x05]), 3), null);
  // A literal run longer than the input.
  assert.equal(lzfDecompress(new Uint8Array([0x1f, 0x41]), 32), null);
});
