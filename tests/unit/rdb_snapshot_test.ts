// Point-in-time snapshots: copy-on-write through the Db hooks keeps the view of the creation
// instant; cooperative runs yield to the event loop and can be aborted.
import assert from "node:assert/strict";
import { Server } from "../../lib/server/server.ts";
import { Config } from "../../lib/config/config.ts";
import { RdbProducer, SaveAborted } from "../../lib/persistence/snapshot.ts";
import type { HashValue, ListValue, SetValue } from "../../lib/store/types.ts";
import type { ZSetValue } from "../../lib/store/zset.ts";
import { hash, list, load, OPTS, plain, set, zset } from "./rdb_fixtures.ts";

Deno.test("a snapshot keeps the view of its creation instant while the keyspace changes", () => {
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
  db0.set("created-later", "still no");
  assert.equal(producer.snapshot.dbs[0].saved.has("created-later"), false, "no copy of new keys");
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
  await assert.rejects(
    q.run(() => void calls++, { sliceMs: 0, isAborted: () => calls > 0 }),
    SaveAborted,
  );
  assert.equal(server.snapshotObservers.size, 0);
});
