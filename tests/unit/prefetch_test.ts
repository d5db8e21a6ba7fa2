// The pipeline look-ahead (RespParser.keyHashes) and KeyDict.prefetch that use it: the hashes
// must be exactly those the lookups compute, or prefetching loads the wrong lines.
import assert from "node:assert/strict";
import { RespParser } from "../../lib/protocol/parser.ts";
import { hashKey, KeyDict, PREFETCH_MAX } from "../../lib/store/dict.ts";

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
  const hs = new Int32Array(PREFETCH_MAX);
  assert.equal(p.keyHashes(hs, PREFETCH_MAX), 5);
  // Keys are decoded as latin1, so hashKey of the latin1 string is what lookups compute.
  const latin1 = (s: string) => String.fromCharCode(...enc.encode(s));
  assert.deepEqual([...hs.subarray(0, 5)], keys.map((k) => hashKey(latin1(k))));
  // Read-only: next() still parses everything from the start.
  assert.deepEqual(p.next(), ["GET", keys[0]]);
  assert.equal(p.keyHashes(hs, 2), 2);
  assert.equal(hs[0], hashKey(keys[1]));
  assert.equal(hs[1], hashKey(keys[2]));
});

Deno.test("keyHashes stops at what next() must parse the exact way", () => {
  const hs = new Int32Array(PREFETCH_MAX);
  const two = resp("GET", "a") + resp("GET", "b");
  // Fewer than two commands: nothing to overlap.
  assert.equal(parserWith(resp("GET", "a")).keyHashes(hs, PREFETCH_MAX), 0);
  // A partial command, an inline one, a command without arguments or a long key ends the scan.
  assert.equal(parserWith(two + resp("GET", "c").slice(0, 12)).keyHashes(hs, 16), 2);
  assert.equal(parserWith(two + "GET c\r\n" + resp("GET", "d")).keyHashes(hs, 16), 2);
  assert.equal(parserWith(two + resp("PING") + resp("GET", "d")).keyHashes(hs, 16), 2);
  assert.equal(parserWith(two + resp("GET", "y".repeat(65))).keyHashes(hs, 16), 2);
  assert.equal(parserWith(two + "*2\r\n$x\r\n").keyHashes(hs, 16), 2);
  assert.equal(parserWith(two + two + two).keyHashes(hs, 4), 4);
  // Mid-command (a bulk still arriving), the scan does not start.
  const p = parserWith(two.slice(0, 10));
  assert.equal(p.next(), null);
  p.feed(enc.encode(two.slice(10) + two));
  assert.equal(p.keyHashes(hs, 16), 0);
  assert.deepEqual(p.next(), ["GET", "a"]);
  assert.equal(p.keyHashes(hs, 16), 3);
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
