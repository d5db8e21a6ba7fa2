// The pipeline look-ahead (RespParser.keyHashes) and KeyDict.prefetch that use it: the hashes
// must be exactly those the lookups compute, or prefetching loads the wrong lines.
import assert from "node:assert/strict";
import { RespParser } from "../../lib/protocol/parser.ts";
import { rng } from "../helpers.ts";
import { hashBytes, hashKey, KeyDict, PREFETCH_MAX } from "../../lib/store/dict.ts";

const enc = new TextEncoder();
function resp(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${enc.encode(a).length}\r\n${a}\r\n`).join("");
}
function parserWith(text: string): RespParser {
  const p = new RespParser();
  p.feed(enc.encode(text));
  return p;
}

Deno.test("keyHashes: first-argument hashes of the complete commands buffered ahead", () => {
  const keys = ["key:000000000001", "k", "", "x".repeat(64), "\u00e9t\u00e9"];
  const text = resp("GET", keys[0]) + resp("SET", keys[1], "v") + resp("HSET", keys[2], "f", "v") +
    resp("GET", keys[3]) + resp("DEL", keys[4]);
  const p = parserWith(text);
  assert.equal(p.keyHashes(PREFETCH_MAX), 5);
  // Keys are decoded as latin1, so hashKey of the latin1 string is what lookups compute.
  const latin1 = (s: string) => String.fromCharCode(...enc.encode(s));
  assert.deepEqual([...p.aheadHashes.subarray(0, 5)], keys.map((k) => hashKey(latin1(k))));
  // Read-only: next() still parses everything from the start.
  assert.deepEqual(p.next(), ["GET", keys[0]]);
  assert.equal(p.keyHashes(2), 2);
  assert.equal(p.aheadHashes[0], hashKey(keys[1]));
  assert.equal(p.aheadHashes[1], hashKey(keys[2]));
});

Deno.test("keyHashes stops at what next() must parse the exact way", () => {
  const two = resp("GET", "a") + resp("GET", "b");
  // Fewer than two commands: nothing to overlap.
  assert.equal(parserWith(resp("GET", "a")).keyHashes(PREFETCH_MAX), 0);
  // A partial command, an inline one, a command without arguments or a long key ends the scan.
  assert.equal(parserWith(two + resp("GET", "c").slice(0, 12)).keyHashes(16), 2);
  assert.equal(parserWith(two + "GET c\r\n" + resp("GET", "d")).keyHashes(16), 2);
  assert.equal(parserWith(two + resp("PING") + resp("GET", "d")).keyHashes(16), 2);
  assert.equal(parserWith(two + resp("GET", "y".repeat(65))).keyHashes(16), 2);
  assert.equal(parserWith(two + "*2\r\n$x\r\n").keyHashes(16), 2);
  assert.equal(parserWith(two + two + two).keyHashes(4), 4);
  // Mid-command (a bulk still arriving), the scan does not start.
  const p = parserWith(two.slice(0, 10));
  assert.equal(p.next(), null);
  p.feed(enc.encode(two.slice(10) + two));
  assert.equal(p.keyHashes(16), 0);
  assert.deepEqual(p.next(), ["GET", "a"]);
  assert.equal(p.keyHashes(16), 3);
});

Deno.test("KeyDict.prefetch leaves the table as it was, whatever the hashes", () => {
  const d = new KeyDict<unknown>();
  for (let i = 0; i < 1000; i++) d.set(`k${i}`, i % 3 === 0 ? `v${i}` : i % 3 === 1 ? [i] : null);
  for (let i = 0; i < 1000; i += 7) d.delete(`k${i}`);
  const before = [...d];
  const hs = new Int32Array(PREFETCH_MAX);
  for (let q = 0; q < PREFETCH_MAX; q++) hs[q] = q % 2 ? hashKey(`k${q * 13}`) : -q * 0x12345677;
  d.prefetch(hs, PREFETCH_MAX);
  assert.deepEqual([...d], before);
  for (const [k, v] of before) assert.equal(d.get(k), v);
  assert.equal(d.get("k0"), undefined);
});

Deno.test("hashes found ahead are reused only for the bytes they were computed from", () => {
  // Random keys fed in random pieces into a small buffer (so it is compacted and regrown),
  // keyHashes and next() interleaved: every parsed key must carry its own hash.
  const random = rng(12345);
  const rnd = (n: number) => Math.floor(random() * n);
  const p = new RespParser(64);
  let pending = new Uint8Array(0);
  let parsed = 0;
  for (let step = 0; step < 3000; step++) {
    const op = rnd(3);
    if (op === 0 || pending.length === 0) {
      const key = "k" + "x".repeat(rnd(20)) + rnd(1000);
      const more = enc.encode(resp(rnd(2) ? "GET" : "SET", key, ...(rnd(2) ? ["v"] : [])));
      const all = new Uint8Array(pending.length + more.length);
      all.set(pending);
      all.set(more, pending.length);
      pending = all;
    }
    if (op === 1 && pending.length > 0) {
      const n = 1 + rnd(pending.length);
      p.feed(pending.subarray(0, n));
      pending = pending.slice(n);
    }
    if (rnd(4) === 0) p.keyHashes(1 + rnd(PREFETCH_MAX));
    for (let k = rnd(4); k > 0; k--) {
      const argv = p.next();
      if (argv === null) break;
      parsed++;
      const bytes = enc.encode(argv[1]);
      // hashKey of the argument returns the hash the parser recorded for it.
      assert.equal(hashKey(argv[1]), hashBytes(bytes, 0, bytes.length), argv[1]);
    }
  }
  assert.ok(parsed > 500, `parsed ${parsed}`);
});

Deno.test("a hash found ahead is dropped when the buffered bytes move", () => {
  // A and B are buffered and hashed ahead; A runs; feeding C moves B to the buffer's start, so
  // C's key lands where B's was. C must get its own hash, not B's.
  const p = new RespParser(64);
  const [a, b, c] = [resp("GET", "aaaa"), resp("GET", "bbbb"), resp("GET", "cccc")];
  p.feed(enc.encode(a + b));
  assert.equal(p.keyHashes(PREFETCH_MAX), 2);
  assert.deepEqual(p.next(), ["GET", "aaaa"]);
  p.feed(enc.encode(c));
  for (const key of ["bbbb", "cccc"]) {
    const argv = p.next()!;
    assert.equal(argv[1], key);
    assert.equal(hashKey(argv[1]), hashBytes(enc.encode(key), 0, 4));
  }
});
