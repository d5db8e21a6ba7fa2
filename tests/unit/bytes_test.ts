// latin1 conversions at the socket edge: the unrolled short decoder must agree byte for byte with
// node:buffer's latin1Slice at every length, for every byte value.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { latin1Decode, latin1Slice, putLatin1 } from "../../lib/protocol/bytes.ts";

Deno.test("latin1Decode matches latin1Slice for every length up to 80 and every byte value", () => {
  const buf = Buffer.alloc(4096);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + 7) & 255;
  for (let n = 0; n <= 80; n++) {
    for (const start of [0, 1, 255, 1000, 4096 - n]) {
      const got = latin1Decode(buf, start, start + n);
      assert.equal(got.length, n);
      assert.equal(got, latin1Slice(buf, start, start + n), `length ${n} at ${start}`);
    }
  }
  // Every byte value at every position of a 32-byte decode.
  const all = Buffer.alloc(256 + 32);
  for (let i = 0; i < all.length; i++) all[i] = i & 255;
  for (let s = 0; s < 256; s++) {
    const str = latin1Decode(all, s, s + 32);
    for (let i = 0; i < 32; i++) assert.equal(str.charCodeAt(i), (s + i) & 255);
  }
});

Deno.test("putLatin1 round-trips what latin1Decode read", () => {
  const src = Buffer.alloc(300);
  for (let i = 0; i < src.length; i++) src[i] = (i * 97) & 255;
  for (const n of [0, 1, 16, 17, 31, 32, 33, 64, 300]) {
    const s = latin1Decode(src, 0, n);
    const out = new Uint8Array(n + 4);
    assert.equal(putLatin1(out, s, 2), n + 2);
    assert.deepEqual(out.subarray(2, n + 2), new Uint8Array(src.subarray(0, n)));
  }
});
