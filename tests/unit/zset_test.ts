// Unit tests of the sorted set index (ranks, ranges, range deletes, random operations checked
// against a naive sorted array), plus in-process checks of propagation and key extraction.
import assert from "node:assert/strict";
import { ZSetValue } from "../../lib/store/zset.ts";
import { Server } from "../../lib/server/server.ts";
import { Config } from "../../lib/config/config.ts";
import { Client } from "../../lib/server/client.ts";
import { processCommand } from "../../lib/server/dispatch.ts";
import { commands as zsetCommands } from "../../lib/commands/zsets.ts";
import { commandKeys } from "../../lib/commands/types.ts";

type Pair = [string, number];

function naiveSort(m: Map<string, number>): Pair[] {
  return [...m].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Checks every derived view of z against the naive model. */
function check(z: ZSetValue, model: Map<string, number>): void {
  const want = naiveSort(model);
  assert.equal(z.size, want.length);
  assert.deepEqual(z.entries(), want);
  const back: Pair[] = [];
  z.range(want.length - 1, want.length, true, (m, s) => {
    back.push([m, s]);
  });
  assert.deepEqual(back.reverse(), want);
  for (let i = 0; i < want.length; i++) {
    assert.equal(z.rank(want[i][0]), i);
    assert.equal(z.rank(want[i][0], true), want.length - 1 - i);
    assert.equal(z.memberAt(i), want[i][0]);
  }
  if (want.length > 0) {
    const mid = want.length >> 1;
    const part: Pair[] = [];
    z.range(mid, 5, false, (m, s) => {
      part.push([m, s]);
    });
    assert.deepEqual(part, want.slice(mid, mid + 5));
  }
  assert.equal(z.memberAt(want.length), undefined);
  assert.equal(z.memberAt(-1), undefined);
}

Deno.test("zset index: insert, update, rank, nodeAt, remove", () => {
  const z = new ZSetValue();
  z.add("b", 2);
  z.add("a", 1);
  z.add("c", 3);
  z.add("aa", 1);
  assert.deepEqual(z.entries(), [["a", 1], ["aa", 1], ["b", 2], ["c", 3]]);
  assert.equal(z.rank("aa"), 1);
  assert.equal(z.rank("zz"), -1);
  z.add("a", 10);
  assert.deepEqual(z.entries(), [["aa", 1], ["b", 2], ["c", 3], ["a", 10]]);
  assert.equal(z.score("a"), 10);
  assert.equal(z.remove("b"), true);
  assert.equal(z.remove("b"), false);
  assert.deepEqual(z.entries(), [["aa", 1], ["c", 3], ["a", 10]]);
  assert.equal(z.popFirst(), "aa");
  assert.equal(z.popScore, 1);
  assert.equal(z.popLast(), "a");
  assert.equal(z.popScore, 10);
  assert.deepEqual(z.entries(), [["c", 3]]);
  assert.equal(z.popLast(), "c");
  assert.equal(z.popLast(), undefined);
  assert.equal(z.popFirst(), undefined);
  assert.equal(z.size, 0);
  assert.deepEqual(z.entries(), []);
});

Deno.test("zset index: score and lex range counts", () => {
  const z = new ZSetValue();
  for (let i = 0; i < 100; i++) z.add("m" + String(i).padStart(3, "0"), i % 10);
  // 10 members per score 0..9
  assert.equal(z.countBelowScore(3, false), 30);
  assert.equal(z.countBelowScore(3, true), 40);
  assert.equal(z.countThroughScore(3, false), 40);
  assert.equal(z.countThroughScore(3, true), 30);
  assert.equal(z.countBelowScore(-Infinity, false), 0);
  assert.equal(z.countThroughScore(Infinity, false), 100);
  const y = new ZSetValue();
  for (const m of ["a", "b", "c", "d", "e"]) y.add(m, 0);
  assert.equal(y.countBelowLex({ s: "b", ex: false, inf: 0 }), 1);
  assert.equal(y.countBelowLex({ s: "b", ex: true, inf: 0 }), 2);
  assert.equal(y.countThroughLex({ s: "d", ex: false, inf: 0 }), 4);
  assert.equal(y.countThroughLex({ s: "d", ex: true, inf: 0 }), 3);
  assert.equal(y.countBelowLex({ s: "", ex: false, inf: -1 }), 0);
  assert.equal(y.countThroughLex({ s: "", ex: false, inf: 1 }), 5);
  assert.equal(y.countThroughLex({ s: "", ex: false, inf: -1 }), 0);
  assert.equal(y.countBelowLex({ s: "", ex: false, inf: 1 }), 5);
  assert.equal(y.countBelowLex({ s: "bb", ex: false, inf: 0 }), 2);
});

Deno.test("zset index: deleteRange, -0 handling and clone", () => {
  const z = new ZSetValue();
  for (let i = 0; i < 50; i++) z.add("k" + i, i);
  assert.equal(z.deleteRange(10, 19), 10);
  assert.equal(z.size, 40);
  assert.equal(z.memberAt(10), "k20");
  assert.equal(z.score("k15"), undefined);
  assert.equal(z.deleteRange(0, 39), 40);
  assert.equal(z.size, 0);
  assert.deepEqual(z.entries(), []);
  const l = new ZSetValue();
  l.add("a", -0);
  assert.ok(Object.is(l.score("a"), 0), "listpack stores -0 as 0");
  const s = new ZSetValue();
  s.listpack = false;
  s.add("a", -0);
  assert.ok(Object.is(s.score("a"), -0), "skiplist keeps -0");
  s.toListpack();
  assert.ok(Object.is(s.score("a"), 0));
  const big = new ZSetValue();
  for (let i = 0; i < 300; i++) big.add("x" + i, Math.floor(i / 3));
  const cp = big.clone();
  big.remove("x5");
  assert.equal(cp.size, 300);
  assert.equal(cp.rank("x299"), 299);
  check(cp, new Map(cp.entries()));
});

Deno.test("zset index: scan cursor survives removals and covers all members", () => {
  const z = new ZSetValue();
  z.listpack = false;
  for (let i = 0; i < 1000; i++) z.add("m" + i, i);
  const seen = new Set<string>();
  let cursor = 0;
  let rounds = 0;
  do {
    cursor = z.scan(cursor, 10, (m) => seen.add(m));
    // Churn between calls: remove some early members, add new ones.
    z.remove("m" + rounds);
    seen.add("m" + rounds);
    z.add("new" + rounds, rounds);
    rounds++;
  } while (cursor !== 0 && rounds < 100000);
  for (let i = 0; i < 1000; i++) assert.ok(seen.has("m" + i), "m" + i);
  // A scan of an unchanged set returns each member exactly once.
  const all: string[] = [];
  cursor = 0;
  do cursor = z.scan(cursor, 7, (m) => all.push(m)); while (cursor !== 0);
  assert.equal(all.length, z.size);
  assert.equal(new Set(all).size, z.size);
});

/** Random operations against a naive model; `members` sets how many chunks the index uses. */
function randomOps(members: number, steps: number, checkEvery: number, seed: number): number {
  let maxSize = 0;
  let x32 = seed;
  const rnd = (n: number) => {
    x32 ^= x32 << 13;
    x32 >>>= 0;
    x32 ^= x32 >>> 17;
    x32 ^= x32 << 5;
    x32 >>>= 0;
    return x32 % n;
  };
  const z = new ZSetValue();
  z.listpack = false;
  const model = new Map<string, number>();
  const cmp = (a: Pair, b: Pair) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  for (let step = 0; step < steps; step++) {
    const op = rnd(48);
    const m = "e" + rnd(members);
    if (op < 34) {
      const sc = rnd(50) - 25 + (rnd(2) ? 0.5 : 0);
      z.add(m, sc);
      model.set(m, sc);
    } else if (op < 40) {
      assert.equal(z.remove(m), model.delete(m));
    } else if (op === 40 && model.size > 0) {
      const sorted = naiveSort(model);
      const a = rnd(sorted.length);
      const b = Math.min(sorted.length - 1, a + rnd(rnd(50) === 0 ? 600 : 5));
      assert.equal(z.deleteRange(a, b), b - a + 1);
      for (let i = a; i <= b; i++) model.delete(sorted[i][0]);
    } else if (op === 41 && model.size > 0) {
      const sorted = naiveSort(model);
      const r = rnd(sorted.length);
      assert.equal(z.memberAt(r), sorted[r][0]);
      assert.equal(z.rank(sorted[r][0]), r);
    } else if (op < 46) {
      const lo = rnd(60) - 30;
      const hi = lo + rnd(20);
      const ex = rnd(2) === 1;
      let below = 0;
      let through = 0;
      for (const s of model.values()) {
        if (ex ? s <= lo : s < lo) below++;
        if (ex ? s < hi : s <= hi) through++;
      }
      assert.equal(z.countBelowScore(lo, ex), below);
      assert.equal(z.countThroughScore(hi, ex), through);
    } else if (model.size > 0) {
      let lo: Pair | null = null;
      let hi: Pair | null = null;
      for (const p of model) {
        if (lo === null || cmp(p, lo) < 0) lo = p;
        if (hi === null || cmp(p, hi) > 0) hi = p;
      }
      const fromHead = op === 46;
      const want = fromHead ? lo! : hi!;
      assert.equal(fromHead ? z.popFirst() : z.popLast(), want[0]);
      assert.equal(z.popScore, want[1]);
      model.delete(want[0]);
    }
    if (step % checkEvery === 0) check(z, model);
    maxSize = Math.max(maxSize, model.size);
  }
  check(z, model);
  return maxSize;
}

Deno.test("zset index: random operations match a naive sorted array (small)", () => {
  randomOps(400, 6000, 50, 2463534242);
});

Deno.test("zset index: random operations match a naive sorted array (many chunks)", () => {
  assert.ok(randomOps(6000, 20000, 2000, 88172645) > 2000, "the set spans many chunks");
});

Deno.test("zset index: lex counts over a constant-score set with many chunks", () => {
  const z = new ZSetValue();
  z.listpack = false;
  const names: string[] = [];
  for (let i = 0; i < 3000; i++) names.push(`k${String(i * 7 % 3000).padStart(5, "0")}`);
  for (const n of names) z.add(n, 0);
  names.sort();
  const bounds: [string, boolean][] = [
    ["k00000", false],
    ["k01500", true],
    ["k01500", false],
    ["k0299", false],
    ["k03000", false],
    ["a", true],
  ];
  for (const [b, ex] of bounds) {
    const lb = { s: b, ex, inf: 0 as const };
    assert.equal(
      z.countBelowLex(lb),
      names.filter((n) => ex ? n <= b : n < b).length,
      `below ${b} ${ex}`,
    );
    assert.equal(
      z.countThroughLex(lb),
      names.filter((n) => ex ? n < b : n <= b).length,
      `through ${b} ${ex}`,
    );
  }
  assert.equal(z.countBelowLex({ s: "", ex: true, inf: -1 }), 0);
  assert.equal(z.countThroughLex({ s: "", ex: true, inf: 1 }), 3000);
  assert.equal(z.deleteRange(100, 2899), 2800);
  assert.deepEqual(z.entries().map((p) => p[0]), [...names.slice(0, 100), ...names.slice(2900)]);
  check(z, new Map(z.entries()));
});

// ---- command-level checks that need the server internals (propagation, key extraction) ----

function output(c: Client): string {
  const s = c.out.buf.toString("latin1", 0, c.out.len);
  c.out.len = 0;
  return s;
}

Deno.test("zset commands propagate pops as ZPOPMIN/ZPOPMAX, served blocked pops included", () => {
  const server = new Server(new Config());
  server.registerCommands(zsetCommands);
  const log: string[] = [];
  server.propagateSinks.push((db, argv) => log.push(`${db} ${argv.join(" ")}`));
  const c = new Client(server, null, "127.0.0.1:1", "127.0.0.1:2");
  const w = new Client(server, null, "127.0.0.1:3", "127.0.0.1:2");
  const run = (cl: Client, ...argv: string[]) => {
    processCommand(cl, argv);
    return output(cl);
  };
  assert.equal(run(c, "ZADD", "z", "1", "a", "2", "b", "3", "c"), ":3\r\n");
  assert.equal(run(c, "ZADD", "z", "1", "a"), ":0\r\n");
  assert.equal(run(c, "ZPOPMIN", "z", "0"), "*0\r\n");
  assert.equal(
    run(c, "ZMPOP", "1", "z", "MAX", "COUNT", "1"),
    "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
  );
  assert.equal(run(c, "BZPOPMIN", "z", "0"), "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n");
  assert.equal(
    run(c, "BZMPOP", "0", "1", "z", "MIN", "COUNT", "9"),
    "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
  );
  assert.deepEqual(log, ["0 ZADD z 1 a 2 b 3 c", "0 ZPOPMAX z 1", "0 ZPOPMIN z", "0 ZPOPMIN z 1"]);
  log.length = 0;
  // Blocked clients: served by a later ZADD, replicated right after it.
  processCommand(w, ["BZPOPMAX", "k", "0"]);
  assert.equal(output(w), "");
  assert.ok(w.blocked !== null);
  assert.equal(run(c, "ZADD", "k", "1", "x", "2", "y"), ":2\r\n");
  assert.equal(w.blocked, null);
  assert.equal(output(w), "*3\r\n$1\r\nk\r\n$1\r\ny\r\n$1\r\n2\r\n");
  processCommand(w, ["BZMPOP", "0", "2", "j", "k", "MIN", "COUNT", "5"]);
  assert.equal(output(w), "*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n");
  processCommand(w, ["BZMPOP", "0", "2", "j", "k", "MIN", "COUNT", "5"]);
  assert.equal(output(w), "");
  assert.equal(run(c, "ZADD", "j", "7", "q"), ":1\r\n");
  assert.equal(output(w), "*2\r\n$1\r\nj\r\n*1\r\n*2\r\n$1\r\nq\r\n$1\r\n7\r\n");
  assert.deepEqual(log, [
    "0 ZADD k 1 x 2 y",
    "0 ZPOPMAX k",
    "0 ZPOPMIN k 1",
    "0 ZADD j 7 q",
    "0 ZPOPMIN j 1",
  ]);
  assert.equal(server.dbs[0].size, 0);
});

Deno.test("numkeys commands extract key positions like Redis's getkeys procs", () => {
  const spec = (name: string) => zsetCommands.find((s) => s.name === name)!;
  assert.deepEqual(commandKeys(spec("zunion"), ["zunion", "2", "a", "b", "WITHSCORES"]), [2, 3]);
  assert.deepEqual(commandKeys(spec("zunionstore"), ["zunionstore", "d", "2", "a", "b"]), [
    3,
    4,
    1,
  ]);
  assert.deepEqual(commandKeys(spec("zinterstore"), ["zinterstore", "d", "3", "a", "b"]), []);
  assert.deepEqual(commandKeys(spec("zintercard"), ["zintercard", "0", "a"]), []);
  assert.deepEqual(commandKeys(spec("zmpop"), ["zmpop", "2", "a", "b", "MIN"]), [2, 3]);
  assert.deepEqual(commandKeys(spec("bzmpop"), ["bzmpop", "0", "1", "a", "MIN"]), [3]);
  assert.deepEqual(commandKeys(spec("bzpopmin"), ["bzpopmin", "a", "b", "0"]), [1, 2]);
  assert.deepEqual(commandKeys(spec("zrangestore"), ["zrangestore", "d", "s", "0", "1"]), [1, 2]);
});
