// Streams in RDB (types 15 and 19): round trips with groups, PELs and consumers, node layout as
// Redis's XADD builds it, byte-exact DUMP payloads against redis-server 7.0.15 outputs (saved
// as hex), tombstones and type-15 files built by hand, and damaged input, which must raise
// RdbError (with Redis's message where rdb.c has one) and never anything else.
import assert from "node:assert/strict";
import {
  createDumpPayload,
  writeBlob,
  writeLen,
  writeLenU64,
  writeString,
} from "../../lib/persistence/rdb_writer.ts";
import { DEFAULT_LIMITS, readDumpValue } from "../../lib/persistence/rdb_reader.ts";
import { RdbError, T } from "../../lib/persistence/rdb_format.ts";
import { ListpackBuilder, lpDecode, type LpItem } from "../../lib/persistence/listpack.ts";
import { ByteWriter } from "../../lib/persistence/bytes_io.ts";
import { Crc64 } from "../../lib/persistence/crc64.ts";
import { forEachStreamNode, streamMemoryUsage } from "../../lib/persistence/stream_codec.ts";
import {
  idText,
  nodeBytes,
  StreamConsumer,
  StreamGroup,
  type StreamId,
  streamId,
  type StreamNack,
  StreamValue,
  ZERO_ID,
} from "../../lib/store/stream.ts";
import type { Value } from "../../lib/store/types.ts";
import { hex, load, OPTS, rdbFile, unhex } from "./rdb_fixtures.ts";

const id = (ms: number | bigint, seq: number | bigint = 0): StreamId =>
  streamId(BigInt(ms), BigInt(seq));

/** A comparable plain form of a stream: everything RDB keeps, NACK owners by name. */
function plainStream(v: Value | null): unknown {
  assert.ok(v instanceof StreamValue, "a stream");
  const s = v as StreamValue;
  const byKey = <V>(m: Map<string, V>) => [...m.keys()].sort().map((k) => [k, m.get(k)!] as const);
  return {
    entries: s.ids.map((x, i) => [idText(x), s.entries[i]]),
    lastId: idText(s.lastId),
    firstId: idText(s.firstId),
    maxDeletedId: idText(s.maxDeletedId),
    entriesAdded: s.entriesAdded,
    groups: byKey(s.groups).map(([name, g]) => ({
      name,
      lastId: idText(g.lastId),
      entriesRead: g.entriesRead,
      pel: byKey(g.pel).map((
        [x, n],
      ) => [idText(x), n.deliveryTime, n.deliveryCount, n.consumer.name]),
      consumers: byKey(g.consumers).map((
        [cn, c],
      ) => [cn, c.seenTime, [...c.pel.keys()].map(idText)]),
    })),
  };
}

/** Every NACK is one object shared by the group PEL and its owner's PEL. */
function assertSharedNacks(s: StreamValue): void {
  for (const g of s.groups.values()) {
    let owned = 0;
    for (const c of g.consumers.values()) {
      for (const [x, n] of c.pel) {
        assert.equal(g.pel.get(x), n, `${idText(x)}: same NACK object in group and consumer`);
        assert.equal(n.consumer, c);
        owned++;
      }
    }
    assert.equal(owned, g.pel.size);
  }
}

function addGroup(
  s: StreamValue,
  name: string,
  lastId: StreamId,
  entriesRead: number,
  consumers: [string, number, [StreamId, number, number][]][],
): StreamGroup {
  const g = new StreamGroup(lastId, entriesRead);
  for (const [cname, seen, pel] of consumers) {
    const c = new StreamConsumer(cname, seen);
    g.consumers.set(cname, c);
    for (const [x, time, count] of pel) {
      const n: StreamNack = { deliveryTime: time, deliveryCount: count, consumer: c };
      g.pel.set(x, n);
      c.pel.set(x, n);
    }
  }
  s.groups.set(name, g);
  return g;
}

/** A stream covering multi-node layouts, numeric and binary fields, big values and groups. */
function sampleStream(): StreamValue {
  const s = new StreamValue();
  for (let i = 0; i < 260; i++) {
    const fv = i % 7 === 3
      ? ["other", `v${i}`, "n", String(i * 1000)]
      : ["name", `item-${i}`, "count", String(i - 100)];
    if (i === 50) fv.push("big", "x".repeat(5000));
    if (i === 51) fv.push("bin", "\x00\xff\r\n");
    s.append(id(1700000000000 + Math.floor(i / 3), i % 3), fv);
  }
  s.maxDeletedId = id(1600000000000, 5);
  s.entriesAdded = 300;
  s.lastId = id(1800000000000, 7);
  addGroup(s, "g1", s.ids[100], 101, [
    ["alice", 1700000001000, [[s.ids[3], 1700000000500, 1], [s.ids[90], 1700000000600, 3]]],
    ["bob", 1700000002000, [[s.ids[10], 1700000000700, 2]]],
    ["idle", 1700000003000, []],
  ]);
  addGroup(s, "g0", ZERO_ID, -1, []);
  addGroup(s, "12345", s.ids[259], 300, [["99", 5, [[s.ids[259], 4, 9007199254740991]]]]);
  return s;
}

Deno.test("streams round trip through an RDB file with groups, PELs and consumers", () => {
  const s = sampleStream();
  const empty = new StreamValue();
  const emptyWithGroup = new StreamValue();
  emptyWithGroup.lastId = id(5, 5);
  emptyWithGroup.entriesAdded = 3;
  emptyWithGroup.maxDeletedId = id(5, 5);
  addGroup(emptyWithGroup, "g", id(5, 5), 3, [["c", 1, []]]);
  const huge = new StreamValue();
  huge.append(id(1n, 2n), ["a", "1"]);
  huge.append(id((1n << 64n) - 1n, (1n << 64n) - 1n), ["a", "2"]);
  huge.maxDeletedId = id((1n << 63n) + 5n, 1);
  huge.entriesAdded = 2 ** 53 - 1;
  for (const compression of [true, false]) {
    const data = rdbFile((w) => {
      w.db(0, 4, 0);
      w.key("s", s);
      w.key("empty", empty);
      w.key("empty-group", emptyWithGroup);
      w.key("huge", huge);
    }, { ...OPTS, compression });
    const got = load(data);
    assert.deepEqual(plainStream(got.get("s")!.value), plainStream(s));
    assert.deepEqual(plainStream(got.get("empty")!.value), plainStream(empty));
    assert.deepEqual(plainStream(got.get("empty-group")!.value), plainStream(emptyWithGroup));
    assert.deepEqual(plainStream(got.get("huge")!.value), plainStream(huge));
    assertSharedNacks(got.get("s")!.value as StreamValue);
    // The loaded stream knows its nodes: the ones the writer laid out.
    const counts: number[] = [];
    forEachStreamNode(s, { maxEntries: 100, maxBytes: 4096 }, (_k, _lp, n) => void counts.push(n));
    const loaded = got.get("s")!.value as StreamValue;
    assert.deepEqual(loaded.nodes.map((n) => n.live), counts);
    assert.equal(loaded.nodeLive, s.length);
  }
  // A DUMP payload too, and saving what was loaded gives the same bytes.
  const p = createDumpPayload(s, OPTS);
  assert.equal(p[0], T.STREAM_LISTPACKS_2);
  const back = readDumpValue(p, "k", DEFAULT_LIMITS);
  assert.deepEqual(plainStream(back), plainStream(s));
  assert.deepEqual(createDumpPayload(back, OPTS), p);
  // The snapshot copy (clone) encodes identically.
  assert.deepEqual(createDumpPayload(s.clone(), OPTS), p);
});

Deno.test("a stream's own node boundaries are what gets saved", () => {
  const s = new StreamValue();
  for (let i = 0; i < 25; i++) s.addEntry(id(i + 1), ["f", String(i)], 10, 4096);
  const counts: number[] = [];
  forEachStreamNode(s, { maxEntries: 100, maxBytes: 4096 }, (_k, _lp, n) => void counts.push(n));
  assert.deepEqual(counts, [10, 10, 5], "the stream's nodes, not the options' layout");
  const back = readDumpValue(createDumpPayload(s, OPTS), "k", DEFAULT_LIMITS) as StreamValue;
  assert.deepEqual(back.nodes.map((n) => [idText(n.masterId), n.live]), [
    ["1-0", 10],
    ["11-0", 10],
    ["21-0", 5],
  ]);
  assert.deepEqual(back.nodes.map(nodeBytes), s.nodes.map(nodeBytes));
});

Deno.test("nodes are laid out like streamAppendItem: entry and byte limits, master fields", () => {
  const s = new StreamValue();
  for (let i = 0; i < 250; i++) s.append(id(1000 + i), ["f", String(i)]);
  const nodes = (lim: { maxEntries: number; maxBytes: number }, st = s) => {
    const out: { key: string; items: LpItem[] }[] = [];
    forEachStreamNode(
      st,
      lim,
      (key, lp) => void out.push({ key: idText(key), items: lpDecode(lp) }),
    );
    return out;
  };
  const byCount = nodes({ maxEntries: 100, maxBytes: 4096 });
  assert.deepEqual(byCount.map((n) => n.items[0]), [100, 100, 50]);
  assert.deepEqual(byCount.map((n) => n.key), ["1000-0", "1100-0", "1200-0"]);
  // Master entry: count, deleted, 1 field "f", terminator; then SAMEFIELDS entries of 5 items.
  assert.deepEqual(byCount[1].items.slice(0, 5), [100, 0, 1, "f", 0]);
  assert.deepEqual(byCount[1].items.slice(5, 10), [2, 0, 0, 100, 4]);
  assert.deepEqual(byCount[1].items.slice(10, 15), [2, 1, 0, 101, 4]);
  // 0 entries = no limit; 0 bytes = the 1 GiB cap.
  assert.deepEqual(nodes({ maxEntries: 0, maxBytes: 0 }).map((n) => n.items[0]), [250]);
  // A byte limit: each node stays under it, counting the next entry's raw lengths.
  const byBytes = nodes({ maxEntries: 0, maxBytes: 200 });
  assert.ok(byBytes.length > 5);
  let total = 0;
  forEachStreamNode(s, { maxEntries: 0, maxBytes: 200 }, (_k, lp, n) => {
    assert.ok(lp.length < 200 + 16, `node of ${lp.length} bytes`);
    total += n;
  });
  assert.equal(total, 250);
  // Different fields: no SAMEFIELDS flag, fields written out.
  const mixed = new StreamValue();
  mixed.append(id(1), ["a", "1"]);
  mixed.append(id(2), ["b", "2"]);
  mixed.append(id(3), ["a", "3", "c", "4"]);
  const [node] = nodes({ maxEntries: 100, maxBytes: 4096 }, mixed);
  // deno-fmt-ignore
  assert.deepEqual(node.items, [
    3, 0, 1, "a", 0,
    2, 0, 0, 1, 4,
    0, 1, 0, 1, "b", 2, 6,
    0, 2, 0, 2, "a", 3, "c", 4, 8,
  ]);
  // Seq deltas go negative when ms grows.
  const seqs = new StreamValue();
  seqs.append(id(5, 10), ["f", "x"]);
  seqs.append(id(6, 0), ["f", "y"]);
  assert.deepEqual(nodes({ maxEntries: 100, maxBytes: 4096 }, seqs)[0].items.slice(10, 13), [
    2,
    1,
    -10,
  ]);
});

// redis-server 7.0.15 DUMP outputs (the commands in each, on an empty server).
const REDIS_STREAM_DUMPS: [string, string][] = [
  [
    "XADD k 1-1 a 1 b two",
    "1301100000000000000001000000000000000124240000000c00010100010201816102816202000102010001" +
    "000101018374776f040501ff0101010101000001000a00f6f086bee6856b41",
  ],
  [
    "XADD k 5-10 f x; XADD k 6-0 f y; XADD k 18446744073709551615-0 g z",
    "1301100000000000000005000000000000000a3b3b0000001600030100010101816602000102010001000181" +
    "7802040102010101dff60281790204010001dffa02dff6020101816702817a020601ff0381ffffffffffffff" +
    "ff00050a000003000a003233db463b008729",
  ],
  [
    "XADD k <i+1>-0 n <i> v item<i> for i in 0..119 (two nodes, LZF)",
    "13021000000000000000010000000000000000c3443d471311130700005e02640100010201816e0281760240" +
    "090000600107856974656d300605201a00012010000180100031601040230002801000326010000320210003" +
    "8010003360100004201000048010003460100005201000058010003560100006201000068010003660100007" +
    "20100007801000376010000820100008801000386010000920100009801000396010000a2010020a018640a9" +
    "0231300740aa000b2011000ba01100316011000c2011000ca01100326011000d2011000da01100336011000e" +
    "2011000ea01100346011000f2011000fa01100356011001020110010a01100366011001120110011a0110037" +
    "6011001220110012a01100386011001320110013a011003960110014201100148011003280b3001520110015" +
    "a01180b3001620110016a01180b3001720110017a01180b3001820110018a01180b3001920110019a01180b3" +
    "001a2011001aa01180b3001b2011001ba01180b3001c2011001ca01180b3001d2011001da01180b3001e2011" +
    "001e8011003380b3001f2011001fa01180b3002020110020a01180b3002120110021a01180b3002220110022" +
    "a01180b3002320110023a01180b3002420110024a01180b3002520110025a01180b3002620110026a01180b3" +
    "002720110027a01180b30028201100288011003480b3002920110029a01180b3002a2011002aa01180b3002b" +
    "2011002ba01180b3002c2011002ca01180b3002d2011002da01180b3002e2011002ea01180b3002f2011002f" +
    "a01180b3003020110030a01180b3003120110031a01180b30032201100328011003580b3003320110033a011" +
    "80b3003420110034a01180b3003520110035a01180b3003620110036a01180b3003720110037a01180b30038" +
    "20110038a01180b3003920110039a01180b3003a2011003aa01180b3003b2011003ba01180b3003c2011003c" +
    "8011003680b3003d2011003da01180b3003e2011003ea01180b3003f2011003fa01180b3004020110040a011" +
    "80b3004120110041a01180b3004220110042a01180b3004320110043a01180b3004420110044a01180b30045" +
    "20110045a01180b30046201100468011003780b3004720110047a01180b3004820110048a01180b300492011" +
    "0049a01180b3004a2011004aa01180b3004b2011004ba01180b3004c2011004ca01180b3004d2011004da011" +
    "80b3004e2011004ea01180b3004f2011004fa01180b30050201100508011003880b3005120110051a01180b3" +
    "005220110052a01180b3005320110053a01180b3005420110054a01180b3005520110055a01180b300562011" +
    "0056a01180b3005720110057a01180b3005820110058a01180b3005920110059a01180b3005a2011005a8011" +
    "003980b3005b2011005ba01180b3005c2011005ca01180b3005d2011005da01180b3005e2011005ea01180b3" +
    "005f2011005fa01180b3006020110060a01180b3006120110061a01180b3006220110062a01180b300632011" +
    "0063a01120b30101ff1000000000000000650000000000000000c340fb419111910100007e00140100010201" +
    "816e028176024009000020010b6401876974656d3130300805201c000120120065c0120031601240270066c0" +
    "1200326012000320250067c01200336012000420120068c01200346012000520120069c01200356012000620" +
    "12006ac0120036601200072012006bc0120037601200082012006cc0120038601200092012006dc012003960" +
    "12000a2012006ea012003180bd000b2012006fc01280bd000c20120070c01280bd000d20120071c01280bd00" +
    "0e20120072c01280bd000f20120073c01280bd001020120074c01280bd001120120075c01280bd0012201200" +
    "76c01280bd001320120077c01220bd0101ff4078407800010000004078000a00eeea341ca49dc740",
  ],
  [
    "XGROUP CREATE k g 0 MKSTREAM; XGROUP CREATECONSUMER k g c (empty stream with a group)",
    "13000000000000000000010167000081ffffffffffffffff000101638622cf16a2010000000a00b4c2e14a0f" +
    "306ca3",
  ],
  [
    "XADD k 1-0 a 1; XADD k 2-0 a 2; XADD k 3-0 b 3; XGROUP CREATE k g 0; XREADGROUP GROUP g alice COUNT 2 STREAMS k >; XGROUP CREATE k 7 $ ENTRIESREAD 3",
    "13011000000000000000010000000000000000c3303511350000001600030100010101816102000102200a40" +
    "0c000420090001200900022009400540130781620203010601ff030300010000000302c00703000300000167" +
    "02000202000000000000000100000000000000008a22cf16a201000001000000000000000200000000000000" +
    "008a22cf16a2010000010105616c6963658a22cf16a201000002000000000000000100000000000000000000" +
    "00000000000200000000000000000a00bbcb11893be93ef9",
  ],
];

/** XADD k 1-0 a 1; XADD k 2-0 a 2; XADD k 3-0 a 3; XDEL k 2-0: a node with a tombstone. */
const REDIS_TOMBSTONE_DUMP =
  "13011000000000000000010000000000000000303000000014000201010101018161020001020100010001010104010301010100010201040102010201000103010401ff0203000100020003000a00313b7e0c0544e674";

Deno.test("stream DUMP payloads are byte-identical to redis-server's", () => {
  assert.equal(REDIS_STREAM_DUMPS.length, 5);
  for (const [what, h] of REDIS_STREAM_DUMPS) {
    const v = readDumpValue(unhex(h), "k", DEFAULT_LIMITS) as StreamValue;
    assert.equal(hex(createDumpPayload(v, OPTS)), h, what);
    // The same entries without their nodes are laid out again the same way.
    const fresh = new StreamValue();
    for (let i = 0; i < v.ids.length; i++) fresh.append(v.ids[i], v.entries[i]);
    Object.assign(fresh, { lastId: v.lastId, entriesAdded: v.entriesAdded, groups: v.groups });
    assert.equal(hex(createDumpPayload(fresh, OPTS)), h, `${what}, laid out from scratch`);
  }
  const [, two] = REDIS_STREAM_DUMPS[2];
  const s = readDumpValue(unhex(two), "k", DEFAULT_LIMITS) as StreamValue;
  assert.deepEqual(s.nodes.map((n) => [idText(n.masterId), n.live]), [["1-0", 100], ["101-0", 20]]);
  const [, group] = REDIS_STREAM_DUMPS[4];
  const g = readDumpValue(unhex(group), "k", DEFAULT_LIMITS) as StreamValue;
  assert.deepEqual([...g.groups.keys()].sort(), ["7", "g"]);
  assert.equal(g.groups.get("7")!.entriesRead, 3);
  assert.deepEqual([...g.groups.get("g")!.pel.keys()].map(idText), ["1-0", "2-0"]);
  assertSharedNacks(g);
  const [, empty] = REDIS_STREAM_DUMPS[3];
  assert.equal(
    (readDumpValue(unhex(empty), "k", DEFAULT_LIMITS) as StreamValue).groups.get("g")!
      .entriesRead,
    -1,
  );
});

Deno.test("redis-server's tombstone: skipped, counted in its node, dropped when saved", () => {
  const s = readDumpValue(unhex(REDIS_TOMBSTONE_DUMP), "k", DEFAULT_LIMITS) as StreamValue;
  assert.deepEqual(s.ids.map(idText), ["1-0", "3-0"]);
  assert.deepEqual(s.entries, [["a", "1"], ["a", "3"]]);
  assert.equal(idText(s.maxDeletedId), "2-0");
  assert.equal(s.entriesAdded, 3);
  const [n] = s.nodes;
  assert.deepEqual([idText(n.masterId), idText(n.lastId), n.live, n.deleted], ["1-0", "3-0", 2, 1]);
  const p = createDumpPayload(s, OPTS);
  assert.ok(p.length < REDIS_TOMBSTONE_DUMP.length / 2);
  assert.deepEqual(plainStream(readDumpValue(p, "k", DEFAULT_LIMITS)), plainStream(s));
});

// ---- hand-built bodies: tombstones, type 15, damage ----

/** One node: its key and listpack elements. */
type RawNode = [StreamId | string, LpItem[]];

interface RawStream {
  nodes: RawNode[];
  length: number;
  lastId: StreamId;
  firstId?: StreamId;
  maxDeletedId?: StreamId;
  entriesAdded?: number;
  /** [name, lastId, entriesRead, PEL [id, time, count], consumers [name, seen, ids]] */
  groups?: [
    string,
    StreamId,
    number,
    [StreamId, number, number][],
    [string, number, StreamId[]][],
  ][];
}

function writeId(w: ByteWriter, x: StreamId): void {
  const b = Array.from(x, (c) => BigInt(c.charCodeAt(0)));
  let ms = 0n;
  let seq = 0n;
  for (let i = 0; i < 8; i++) ms = (ms << 8n) | b[i];
  for (let i = 8; i < 16; i++) seq = (seq << 8n) | b[i];
  writeLenU64(w, ms);
  writeLenU64(w, seq);
}

/** A DUMP payload of a hand-built stream body of the given type (15 or 19). */
function rawPayload(r: RawStream, type: number = T.STREAM_LISTPACKS_2): Uint8Array {
  const w = new ByteWriter();
  w.u8(type);
  writeLen(w, r.nodes.length);
  for (const [key, items] of r.nodes) {
    writeString(w, key, false);
    const b = new ListpackBuilder();
    for (const it of items) b.push(it);
    writeBlob(w, b.finish(), false);
  }
  writeLen(w, r.length);
  writeId(w, r.lastId);
  if (type === T.STREAM_LISTPACKS_2) {
    writeId(w, r.firstId ?? ZERO_ID);
    writeId(w, r.maxDeletedId ?? ZERO_ID);
    writeLenU64(w, r.entriesAdded ?? r.length);
  }
  const groups = r.groups ?? [];
  writeLen(w, groups.length);
  for (const [name, last, read, pel, consumers] of groups) {
    writeString(w, name, false);
    writeId(w, last);
    if (type === T.STREAM_LISTPACKS_2) writeLenU64(w, BigInt.asUintN(64, BigInt(read)));
    writeLen(w, pel.length);
    for (const [x, time, count] of pel) {
      w.latin1(x);
      w.i64le(time);
      writeLen(w, count);
    }
    writeLen(w, consumers.length);
    for (const [cname, seen, ids] of consumers) {
      writeString(w, cname, false);
      w.i64le(seen);
      writeLen(w, ids.length);
      for (const x of ids) w.latin1(x);
    }
  }
  w.u16le(10);
  const crc = new Crc64();
  crc.update(w.buf, 0, w.len);
  w.bytes(crc.bytesLE());
  return w.copy();
}

/** Node 1000-0: entries 1000-0 (a=1), 1000-1 deleted (a=2), 1001-0 (b=x, own fields). */
// deno-fmt-ignore
const NODE: RawNode = [id(1000), [
  2, 1, 1, "a", 0,
  2, 0, 0, 1, 4,
  3, 0, 1, 2, 4,
  0, 1, 0, 1, "b", "x", 6,
]];

const GOOD: RawStream = {
  nodes: [NODE],
  length: 2,
  lastId: id(1001),
  firstId: id(1000),
  maxDeletedId: id(1000, 1),
  entriesAdded: 3,
  groups: [["g", id(1000, 1), 2, [[id(1000), 77, 2], [id(1001), 88, 1]], [
    ["c1", 10, [id(1000)]],
    ["c2", 20, [id(1001)]],
  ]]],
};

function loadRaw(r: RawStream, type: number = T.STREAM_LISTPACKS_2): StreamValue {
  return readDumpValue(rawPayload(r, type), "k", DEFAULT_LIMITS) as StreamValue;
}

Deno.test("tombstones are skipped; ID deltas are against the node key", () => {
  const s = loadRaw(GOOD);
  assert.deepEqual(s.ids.map(idText), ["1000-0", "1001-0"]);
  assert.deepEqual(s.entries, [["a", "1"], ["b", "x"]]);
  assert.equal(idText(s.maxDeletedId), "1000-1");
  assert.equal(s.entriesAdded, 3);
  assertSharedNacks(s);
  assert.equal(s.groups.get("g")!.pel.get(id(1001))!.consumer.name, "c2");
  // The node is kept: key, master fields, live and deleted counts, listpack bytes, last ID.
  const lp = new ListpackBuilder();
  for (const it of NODE[1]) lp.push(it);
  assert.equal(s.nodes.length, 1);
  const [n] = s.nodes;
  assert.deepEqual(
    { ...n, masterId: idText(n.masterId), lastId: idText(n.lastId) },
    {
      masterId: "1000-0",
      lastId: "1001-0",
      live: 2,
      deleted: 1,
      masterFields: ["a"],
      bytes: n.bytes,
    },
  );
  assert.equal(nodeBytes(n), lp.finish().length);
  // Saved again without the tombstone, in one node with the same key.
  const again = readDumpValue(createDumpPayload(s, OPTS), "k", DEFAULT_LIMITS) as StreamValue;
  assert.deepEqual(plainStream(again), plainStream(s));
  assert.deepEqual(again.nodes.map((x) => [idText(x.masterId), x.live, x.deleted]), [[
    "1000-0",
    2,
    0,
  ]]);
  // A node whose master entry was deleted keeps its key and master fields.
  const headless = loadRaw({
    nodes: [[id(1000), [1, 1, 1, "a", 0, 3, 0, 0, 1, 4, 0, 1, 0, 1, "b", "x", 6]]],
    length: 1,
    lastId: id(1001),
  });
  assert.deepEqual(headless.ids.map(idText), ["1001-0"]);
  const saved: LpItem[][] = [];
  forEachStreamNode(headless, { maxEntries: 100, maxBytes: 4096 }, (key, bytes) => {
    assert.equal(idText(key), "1000-0");
    saved.push(lpDecode(bytes));
  });
  assert.deepEqual(saved, [[1, 0, 1, "a", 0, 0, 1, 0, 1, "b", "x", 6]]);
  // A seq delta goes negative when ms grows; deltas wrap modulo 2^64, as uint64 arithmetic does.
  const neg = loadRaw({
    nodes: [[id(5, 10), [1, 0, 1, "f", 0, 2, 1, -10, "v", 4]]],
    length: 1,
    lastId: id(6),
  });
  assert.deepEqual(neg.ids.map(idText), ["6-0"]);
  // An entry below its node key is not something Redis writes.
  assert.throws(
    () =>
      loadRaw({
        nodes: [[id(1, 5), [1, 0, 1, "f", 0, 2, -1, -5, "v", 4]]],
        length: 1,
        lastId: id(0),
      }),
    (e) => e instanceof RdbError && /out of ID order/.test(e.message),
  );
  const wide = loadRaw({
    nodes: [[id(1), [2, 0, 1, "f", 0, 2, 0, 0, "v", 4, 2, -2, 3, "w", 4]]],
    length: 2,
    lastId: id((1n << 64n) - 1n, 3),
  });
  assert.deepEqual(wide.ids.map(idText), ["1-0", "18446744073709551615-3"]);
});

Deno.test("RDB_TYPE_STREAM_LISTPACKS (15): entries_added = length, entries_read estimated", () => {
  const r: RawStream = {
    ...GOOD,
    groups: [
      ["at-last", id(1001), 0, [], []],
      ["before-first", id(999), 0, [], []],
      ["at-first", id(1000), 0, [], []],
      ["middle", id(1000, 5), 0, [], []],
      ["future", id(2000), 0, [], []],
    ],
  };
  const s = loadRaw(r, T.STREAM_LISTPACKS);
  assert.equal(s.entriesAdded, 2);
  assert.equal(s.maxDeletedId, ZERO_ID);
  const read = Object.fromEntries([...s.groups].map(([n, g]) => [n, g.entriesRead]));
  assert.deepEqual(read, {
    "at-last": 2,
    "before-first": 0,
    "at-first": 1,
    middle: -1,
    future: -1,
  });
});

Deno.test("damaged stream payloads raise RdbError with Redis's messages", () => {
  const cases: [string, RawStream | Uint8Array, RegExp][] = [
    ["short node key", { ...GOOD, nodes: [["12345", NODE[1]]] }, /not the size of a stream ID/],
    ["empty listpack", { ...GOOD, nodes: [[id(1000), []]] }, /Empty listpack inside stream/],
    ["duplicate node", { ...GOOD, nodes: [NODE, NODE], length: 4 }, /re-added with existing key/],
    [
      "master terminator",
      { ...GOOD, nodes: [[id(1000), [1, 0, 1, "a", 1, 2, 0, 0, 1, 4]]] },
      /Stream listpack integrity check failed/,
    ],
    [
      "lp-count",
      { ...GOOD, nodes: [[id(1000), [1, 0, 1, "a", 0, 2, 0, 0, 1, 5]]], length: 1 },
      /Stream listpack integrity check failed/,
    ],
    [
      "entry count",
      { ...GOOD, nodes: [[id(1000), [3, 0, 1, "a", 0, 2, 0, 0, 1, 4]]], length: 1 },
      /Stream listpack integrity check failed/,
    ],
    [
      "live count vs flags",
      { ...GOOD, nodes: [[id(1000), [2, 0, 1, "a", 0, 2, 0, 0, 1, 4, 3, 1, 0, 2, 4]]], length: 1 },
      /Stream listpack integrity check failed/,
    ],
    [
      "trailing elements",
      { ...GOOD, nodes: [[id(1000), [1, 0, 1, "a", 0, 2, 0, 0, 1, 4, 7]]], length: 1 },
      /Stream listpack integrity check failed/,
    ],
    [
      "non-integer flags",
      { ...GOOD, nodes: [[id(1000), [1, 0, 1, "a", 0, "x", 0, 0, 1, 4]]], length: 1 },
      /Stream listpack integrity check failed/,
    ],
    [
      "fields past the end",
      { ...GOOD, nodes: [[id(1000), [1, 0, 1, "a", 0, 0, 0, 0, 50, "a"]]], length: 1 },
      /Stream listpack integrity check failed/,
    ],
    ["length", { ...GOOD, length: 3 }, /Stream length inconsistent/],
    ["last id", { ...GOOD, lastId: id(1000, 9) }, /last ID smaller/],
    [
      "out of order",
      { ...GOOD, nodes: [NODE, [id(900), [1, 0, 1, "a", 0, 2, 0, 0, 1, 4]]], length: 3 },
      /out of ID order/,
    ],
    [
      "duplicate group",
      { ...GOOD, groups: [GOOD.groups![0], GOOD.groups![0]] },
      /Duplicated consumer group name g/,
    ],
    [
      "duplicate global PEL entry",
      { ...GOOD, groups: [["g", ZERO_ID, 0, [[id(1000), 1, 1], [id(1000), 1, 1]], []]] },
      /Duplicated global PEL entry/,
    ],
    [
      "duplicate consumer",
      { ...GOOD, groups: [["g", ZERO_ID, 0, [], [["c", 1, []], ["c", 1, []]]]] },
      /Duplicate stream consumer detected/,
    ],
    [
      "consumer PEL entry missing from the group PEL",
      { ...GOOD, groups: [["g", ZERO_ID, 0, [[id(1000), 1, 1]], [["c", 1, [id(1001)]]]]] },
      /Consumer entry not found in group global PEL/,
    ],
    [
      "PEL entry owned twice",
      {
        ...GOOD,
        groups: [["g", ZERO_ID, 0, [[id(1000), 1, 1]], [["c", 1, [id(1000)]], [
          "d",
          1,
          [id(1000)],
        ]]]],
      },
      /Duplicated consumer PEL entry/,
    ],
    [
      "PEL entry without consumer",
      { ...GOOD, groups: [["g", ZERO_ID, 0, [[id(1000), 1, 1]], [["c", 1, []]]]] },
      /Stream CG PEL entry without consumer/,
    ],
    [
      "entries_read below -1",
      { ...GOOD, groups: [["g", ZERO_ID, -2, [], []]] },
      /offset out of range/,
    ],
  ];
  for (const [what, r, re] of cases) {
    const p = r instanceof Uint8Array ? r : rawPayload(r);
    assert.throws(
      () => readDumpValue(p, "k", DEFAULT_LIMITS),
      (e) => e instanceof RdbError && re.test(e.message),
      what,
    );
  }
  // A listpack whose own header is broken.
  const p = rawPayload(GOOD);
  const bad = p.slice();
  bad[21] ^= 0x40; // type, node count, key length, key, blob length, then the listpack's size
  assert.throws(
    () => readDumpValue(bad, "k", DEFAULT_LIMITS),
    (e) => e instanceof RdbError && /Stream listpack integrity check failed/.test(e.message),
  );
});

Deno.test("truncated or randomly damaged stream payloads never crash the decoder", () => {
  const payloads = [createDumpPayload(sampleStream(), OPTS), rawPayload(GOOD)];
  for (const p of payloads) {
    for (let n = 1; n < p.length - 10; n += n < 400 ? 1 : 37) {
      const cut = new Uint8Array(n + 10);
      cut.set(p.subarray(0, n));
      assert.throws(
        () => readDumpValue(cut, "k", DEFAULT_LIMITS),
        (e) => e instanceof RdbError,
        `truncated at ${n}`,
      );
    }
  }
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (const p of payloads) {
    for (let t = 0; t < 400; t++) {
      const bad = p.slice();
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
        bad[Math.floor(rnd() * (p.length - 10))] = Math.floor(rnd() * 256);
      }
      try {
        const v = readDumpValue(bad, "k", DEFAULT_LIMITS) as StreamValue;
        // Whatever loads is a consistent stream that saves again.
        createDumpPayload(v, OPTS);
        for (let i = 1; i < v.ids.length; i++) assert.ok(v.ids[i - 1] < v.ids[i]);
        assertSharedNacks(v);
      } catch (e) {
        assert.ok(e instanceof RdbError, `unexpected ${(e as Error).stack}`);
      }
    }
  }
});

Deno.test("a stream's memory estimate grows with entries, node size and groups", () => {
  const small = new StreamValue();
  small.append(id(1), ["f", "v"]);
  const big = sampleStream();
  const m0 = streamMemoryUsage(new StreamValue(), 5);
  const m1 = streamMemoryUsage(small, 5);
  const m2 = streamMemoryUsage(big, 5);
  const all = streamMemoryUsage(big, 0);
  assert.ok(m0 > 0 && m0 < m1, `${m0} < ${m1}`);
  assert.ok(m1 >= 4096, "the tail node's preallocation counts");
  assert.ok(m2 > m1 * 3, `${m2}`);
  assert.ok(Math.abs(all - m2) / all < 0.5, `sampled ${m2} vs all ${all}`);
});
