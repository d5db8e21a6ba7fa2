// KeyDict (lib/store/dict.ts) against a JS Map as the model: random operations, insertion
// order, metadata, iteration while the table changes.
import assert from "node:assert/strict";
import { hashKey, KeyDict } from "../../lib/store/dict.ts";

/** Deterministic PRNG so a failure can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 0x100000000;
  };
}

Deno.test("KeyDict matches a Map under random set/delete/get, order included", () => {
  const r = lcg(42);
  const d = new KeyDict<number>();
  const m = new Map<string, number>();
  for (let step = 0; step < 200_000; step++) {
    // A small key space makes deletes and re-inserts frequent; bursts grow and shrink the table.
    const space = step % 50_000 < 25_000 ? 5000 : 300;
    const k = `k${Math.floor(r() * space)}`;
    const op = r();
    if (op < 0.5) {
      const isNew = !m.has(k);
      m.set(k, step);
      assert.equal(d.setHashed(k, hashKey(k), step), isNew);
    } else if (op < 0.8) {
      assert.equal(d.delete(k), m.delete(k));
    } else {
      assert.equal(d.get(k), m.get(k));
      assert.equal(d.has(k), m.has(k));
    }
    assert.equal(d.size, m.size);
  }
  assert.deepEqual([...d.keys()], [...m.keys()]);
  assert.deepEqual([...d.entries()], [...m.entries()]);
  assert.deepEqual([...d.values()], [...m.values()]);
  const seen: string[] = [];
  d.forEach((v, k) => {
    assert.equal(v, m.get(k));
    seen.push(k);
  });
  assert.deepEqual(seen, [...m.keys()]);
});

Deno.test("KeyDict: re-setting a key keeps its position and metadata; a new key starts at 0", () => {
  const d = new KeyDict<string>();
  d.set("a", "1").set("b", "2").set("c", "3");
  assert.equal(d.setMeta("b", 1234), true);
  assert.equal(d.setMeta("zz", 1), false);
  d.set("b", "changed");
  assert.deepEqual([...d.keys()], ["a", "b", "c"]);
  assert.equal(d.getMeta("b"), 1234);
  assert.equal(d.getMeta("a"), 0);
  // Metadata survives the rebuilds of growth and shrinking.
  for (let i = 0; i < 10_000; i++) d.set(`x${i}`, "v");
  assert.equal(d.getMeta("b"), 1234);
  for (let i = 0; i < 10_000; i++) d.delete(`x${i}`);
  assert.equal(d.getMeta("b"), 1234);
  assert.equal(d.get("b"), "changed");
  d.delete("b");
  d.set("b", "again");
  assert.equal(d.getMeta("b"), 0, "a deleted and re-created key has no old metadata");
  d.clear();
  assert.equal(d.size, 0);
  assert.deepEqual([...d.keys()], []);
  assert.equal(d.get("a"), undefined);
});

Deno.test("KeyDict iteration: deleting visited and unvisited keys, even through a shrink", () => {
  const d = new KeyDict<number>();
  for (let i = 0; i < 4096; i++) d.set(`k${i}`, i);
  const visited: number[] = [];
  for (const [k, v] of d) {
    visited.push(v);
    // Delete this key and the next one: the next must never be visited. Deleting most of the
    // table forces shrinking rebuilds in the middle of the walk.
    d.delete(k);
    d.delete(`k${v + 1}`);
  }
  assert.deepEqual(visited, Array.from({ length: 2048 }, (_, i) => i * 2));
  assert.equal(d.size, 0);
});

Deno.test("KeyDict iteration sees keys appended during the walk and current values", () => {
  const d = new KeyDict<number>();
  d.set("a", 1).set("b", 2);
  const seen: string[] = [];
  for (const [k] of d) {
    seen.push(k);
    if (k === "a") {
      d.set("c", 3);
      d.set("b", 20);
    }
  }
  assert.deepEqual(seen, ["a", "b", "c"]);
  assert.deepEqual([...d.values()], [1, 20, 3]);
  // After a rebuild during the walk, keys still present are yielded with their current value.
  const e = new KeyDict<number>();
  for (let i = 0; i < 64; i++) e.set(`k${i}`, i);
  const vals: number[] = [];
  for (const [k, v] of e) {
    vals.push(v);
    if (k === "k0") {
      for (let i = 1; i < 60; i++) e.delete(`k${i}`); // shrinks
      e.set("k63", 630);
    }
  }
  assert.deepEqual(vals, [0, 60, 61, 62, 630]);
});

Deno.test("hashKey spreads similar keys over buckets", () => {
  const buckets = new Int32Array(1024);
  for (let i = 0; i < 100_000; i++) buckets[hashKey(`key:${String(i).padStart(12, "0")}`) & 1023]++;
  // Chi-square against the uniform spread: about 1023 +- 45 for a good hash whatever the
  // per-process seed; a hash that ignored some of the digits would be far above.
  const expected = 100_000 / 1024;
  let chi2 = 0;
  for (const b of buckets) chi2 += (b - expected) ** 2 / expected;
  assert.ok(chi2 < 1300, `chi-square ${chi2.toFixed(0)} over 1023 degrees of freedom`);
});
