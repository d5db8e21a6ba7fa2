// Streams in RDB_TYPE_STREAM_LISTPACKS (15) and RDB_TYPE_STREAM_LISTPACKS_2 (19), as Redis 7.0
// rdb.c saves and loads them: the radix tree of listpack nodes (each keyed by its master entry's
// ID, 16 bytes big endian), the stream metadata, then every consumer group with its pending
// entries list (PEL) and its consumers.
//
// A node's listpack (t_stream.c streamAppendItem):
//   master entry: <count> <deleted> <num-fields> <field>... <0>
//   entry:        <flags> <ms-delta> <seq-delta> <num-fields> <field> <value>... <lp-count>
// Deltas are against the node key, as int64 (uint64 differences). An entry with the SAMEFIELDS
// flag has the master's fields and stores <flags> <ms-delta> <seq-delta> <value>... <lp-count>;
// a DELETED entry is a tombstone.
//
// tsredis keeps a stream's live entries in arrays, and its nodes as boundaries only
// (StreamValue.nodes: master ID, master fields, live and deleted counts, bytes), not listpacks.
// Loading decodes every node, drops tombstones (keeping their count and bytes in the node), after
// checking each listpack the way streamValidateListpackIntegrity does (always: the entries are
// all decoded anyway). Saving writes each node's live entries under its master ID and fields,
// without tombstones (their content is gone); a stream whose nodes are not known is laid out the
// way streamAppendItem builds nodes with stream-node-max-entries/-bytes. Either way a stream
// built only by XADD saves byte for byte as Redis saves it.
import type { RdbValueReader } from "./rdb_reader.ts";
import {
  ListpackBuilder,
  lpDecode,
  type LpItem,
  lpItemBytes,
  lpItemString,
  strictInt64,
} from "./listpack.ts";
import { RdbError, T } from "./rdb_format.ts";
import {
  nodeBytes,
  raxNodeCount,
  StreamConsumer,
  StreamGroup,
  type StreamId,
  type StreamNack,
  type StreamNode,
  StreamValue,
  ZERO_ID,
} from "../store/stream.ts";

const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;
/** STREAM_LISTPACK_MAX_SIZE: a node never grows past this whatever stream-node-max-bytes says. */
const LISTPACK_MAX_SIZE = 1 << 30;
/** STREAM_LISTPACK_MAX_PRE_ALLOCATE: bytes a new tail node is allocated with. */
const MAX_PREALLOC = 4096;

/** stream-node-max-entries and stream-node-max-bytes. */
export interface StreamNodeLimits {
  maxEntries: number;
  maxBytes: number;
}

/** Redis 7.0 defaults. */
export const DEFAULT_NODE_LIMITS: StreamNodeLimits = { maxEntries: 100, maxBytes: 4096 };

/** An unsigned 64-bit number: a JS number while exact, a bigint beyond 2^53. */
type U64 = number | bigint;

const TWO32 = 4294967296;
const SAFE_LIMIT = 9007199254740992;
const SAFE_LIMIT_N = 9007199254740992n;

function u32At(k: string, at: number): number {
  return ((k.charCodeAt(at) << 24) | (k.charCodeAt(at + 1) << 16) |
    (k.charCodeAt(at + 2) << 8) | k.charCodeAt(at + 3)) >>> 0;
}

/** The ms (at 0) or seq (at 8) half of an ID. */
export function idPart(id: StreamId, at: 0 | 8): U64 {
  const hi = u32At(id, at);
  const lo = u32At(id, at + 4);
  if (hi < 0x200000) return hi * TWO32 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function u32Chars(n: number): string {
  return String.fromCharCode(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

function u64Chars(v: U64): string {
  if (typeof v === "number") return u32Chars(Math.floor(v / TWO32)) + u32Chars(v >>> 0);
  return u32Chars(Number(v >> 32n)) + u32Chars(Number(v & 0xffffffffn));
}

/** The ID ms-seq (both already in 0 ..= 2^64-1). */
export function idOf(ms: U64, seq: U64): StreamId {
  return u64Chars(ms) + u64Chars(seq);
}

/** a - b as Redis stores a delta: the uint64 difference read as an int64. */
function delta(a: U64, b: U64): number | bigint {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return BigInt.asIntN(64, BigInt(a) - BigInt(b));
}

/** base + d modulo 2^64 (streamIteratorGetID adds deltas with uint64 arithmetic). */
function addDelta(base: U64, d: number | bigint): U64 {
  if (typeof base === "number" && typeof d === "number") {
    const r = base + d;
    if (r >= 0 && r < SAFE_LIMIT) return r;
  }
  const r = BigInt.asUintN(64, BigInt(base) + BigInt(d));
  return r < SAFE_LIMIT_N ? Number(r) : r;
}

// ---- loading ----

function badListpack(): never {
  throw new RdbError("Stream listpack integrity check failed.");
}

/** Reads a node's listpack elements in order, as streamValidateListpackIntegrity walks them. */
class NodeCursor {
  p = 0;
  constructor(public items: LpItem[]) {}

  /** An integer element (a string holding a canonical int64 counts, as lpGetIntegerIfValid). */
  int(): number | bigint {
    if (this.p >= this.items.length) badListpack();
    const it = this.items[this.p++];
    if (typeof it !== "string") return it;
    const v = strictInt64(it);
    if (v === null) badListpack();
    return v;
  }

  /** A count: an integer from 0 to the number of elements. */
  count(): number {
    const v = this.int();
    if (typeof v !== "number" || v < 0 || v > this.items.length) badListpack();
    return v;
  }

  str(): string {
    if (this.p >= this.items.length) badListpack();
    return lpItemString(this.items[this.p++]);
  }
}

/** Decodes one node into `s`: its live entries (in ascending ID order, none below the node key)
 * and its boundaries (`lpBytes` is the listpack's size). */
function decodeNode(s: StreamValue, key: StreamId, items: LpItem[], lpBytes: number): void {
  const cur = new NodeCursor(items);
  const live = cur.count();
  const deleted = cur.count();
  const masterCount = cur.count();
  const master: string[] = [];
  for (let j = 0; j < masterCount; j++) master.push(cur.str());
  if (cur.int() !== 0) badListpack();
  const baseMs = idPart(key, 0);
  const baseSeq = idPart(key, 8);
  let seenLive = 0;
  let seenDeleted = 0;
  let lastId = key;
  for (let e = live + deleted; e > 0; e--) {
    const flags = cur.int();
    if (typeof flags !== "number") badListpack();
    const msDelta = cur.int();
    const seqDelta = cur.int();
    const same = (flags & FLAG_SAMEFIELDS) !== 0;
    // SAMEFIELDS: the values only; otherwise num-fields, then field, value, field, value ...
    const n = same ? masterCount : cur.count();
    const fv: string[] = new Array(2 * n);
    for (let j = 0; j < n; j++) {
      fv[2 * j] = same ? master[j] : cur.str();
      fv[2 * j + 1] = cur.str();
    }
    if (cur.int() !== (same ? n + 3 : 2 * n + 4)) badListpack();
    const id = idOf(addDelta(baseMs, msDelta), addDelta(baseSeq, seqDelta));
    lastId = id;
    if (flags & FLAG_DELETED) {
      seenDeleted++;
      continue;
    }
    seenLive++;
    const n0 = s.ids.length;
    if (id < key || (n0 > 0 && s.ids[n0 - 1] >= id)) {
      throw new RdbError("Stream entries out of ID order");
    }
    s.ids.push(id);
    s.entries.push(fv);
  }
  if (cur.p !== items.length) badListpack();
  if (seenLive !== live || seenDeleted !== deleted) badListpack();
  // A node may hold tombstones only (MINID trimming can leave one): Redis keeps it, so do we.
  const node: StreamNode = { masterId: key, lastId, live, deleted, masterFields: master, bytes: 0 };
  node.bytes = lpBytes - (nodeBytes(node) - node.bytes);
  s.nodes.push(node);
  s.nodeLive += live;
}

function readId(vr: RdbValueReader): StreamId {
  const ms = vr.readLenU64();
  const seq = vr.readLenU64();
  return idOf(ms, seq);
}

/** A counter tsredis holds as a JS number (entries_added, delivery counts). */
function counter(v: bigint, what: string): number {
  if (v >= SAFE_LIMIT_N) throw new RdbError(`Stream ${what} out of range`);
  return Number(v);
}

/** A millisecond time as rdbLoadMillisecondTime reads it (int64 little endian). */
function readMs(vr: RdbValueReader): number {
  return Number(vr.r.i64le());
}

/** streamEstimateDistanceFromFirstEverEntry: a group's entries_read when the file (type 15)
 * predates the counter. */
function estimateEntriesRead(s: StreamValue, id: StreamId): number {
  if (s.entriesAdded === 0) return 0;
  if (s.length === 0 && id <= s.lastId) return s.entriesAdded;
  if (id === s.lastId) return s.entriesAdded;
  if (id > s.lastId) return -1;
  const first = s.firstId;
  if (s.maxDeletedId === ZERO_ID || s.maxDeletedId < first) {
    if (id < first) return s.entriesAdded - s.length;
    if (id === first) return s.entriesAdded - s.length + 1;
  }
  return -1;
}

/** Loads a stream value (rdbLoadObject for types 15 and 19); throws RdbError on damage. */
export function readStream(vr: RdbValueReader, type: number): StreamValue {
  const s = new StreamValue();
  const nodes = vr.readLen();
  const keys = new Set<string>();
  for (let i = 0; i < nodes; i++) {
    const key = vr.readString();
    if (key.length !== 16) {
      throw new RdbError("Stream node key entry is not the size of a stream ID");
    }
    const blob = vr.readBlob();
    let items: LpItem[];
    try {
      items = lpDecode(blob);
    } catch {
      badListpack();
    }
    if (items.length === 0) throw new RdbError("Empty listpack inside stream");
    if (keys.has(key)) throw new RdbError("Listpack re-added with existing key");
    keys.add(key);
    decodeNode(s, key, items, blob.length);
  }
  const length = vr.readLenU64();
  const lastId = readId(vr);
  if (type === T.STREAM_LISTPACKS_2) {
    readId(vr); // first_id: always the first live entry's ID here
    s.maxDeletedId = readId(vr);
    s.entriesAdded = counter(vr.readLenU64(), "entries_added");
  } else s.entriesAdded = s.ids.length;
  if (length !== BigInt(s.ids.length)) {
    throw new RdbError("Stream length inconsistent with rax entries");
  }
  if (s.ids.length > 0 && lastId < s.ids[s.ids.length - 1]) {
    throw new RdbError("Stream last ID smaller than its last entry");
  }
  s.lastId = lastId;

  const groups = vr.readLen();
  for (let g = 0; g < groups; g++) {
    const name = vr.readString();
    const groupLast = readId(vr);
    let entriesRead: number;
    if (type === T.STREAM_LISTPACKS_2) {
      const v = BigInt.asIntN(64, vr.readLenU64());
      if (v < -1n || v >= SAFE_LIMIT_N) throw new RdbError("Stream cgroup offset out of range");
      entriesRead = Number(v);
    } else entriesRead = estimateEntriesRead(s, groupLast);
    if (s.groups.has(name)) throw new RdbError(`Duplicated consumer group name ${name}`);
    const group = new StreamGroup(groupLast, entriesRead);
    s.groups.set(name, group);
    readGroupPels(vr, group);
  }
  return s;
}

/** The global PEL (IDs, delivery times and counts), then the consumers, whose PELs name the
 * entries they own: the NACK objects are shared between the two, as in Redis. */
function readGroupPels(vr: RdbValueReader, group: StreamGroup): void {
  const global = new Map<StreamId, [number, number]>();
  const pelSize = vr.readLen();
  for (let i = 0; i < pelSize; i++) {
    const id = vr.r.latin1(16);
    const time = readMs(vr);
    const count = counter(vr.readLenU64(), "delivery count");
    if (global.has(id)) {
      throw new RdbError("Duplicated global PEL entry loading stream consumer group");
    }
    global.set(id, [time, count]);
  }
  const owned = new Map<StreamId, StreamNack>();
  const consumers = vr.readLen();
  for (let i = 0; i < consumers; i++) {
    const name = vr.readString();
    if (group.consumers.has(name)) throw new RdbError("Duplicate stream consumer detected.");
    const consumer = new StreamConsumer(name, readMs(vr));
    group.consumers.set(name, consumer);
    const n = vr.readLen();
    for (let j = 0; j < n; j++) {
      const id = vr.r.latin1(16);
      const g = global.get(id);
      if (g === undefined) throw new RdbError("Consumer entry not found in group global PEL");
      if (owned.has(id)) {
        throw new RdbError("Duplicated consumer PEL entry loading a stream consumer group");
      }
      const nack: StreamNack = { deliveryTime: g[0], deliveryCount: g[1], consumer };
      owned.set(id, nack);
      consumer.pel.set(id, nack);
    }
  }
  for (const id of global.keys()) {
    const nack = owned.get(id);
    if (nack === undefined) throw new RdbError("Stream CG PEL entry without consumer");
    group.pel.set(id, nack);
  }
}

// ---- saving ----

/** Builds one node's listpack: the master entry, then entries appended as streamAppendItem
 * does (SAMEFIELDS when an entry's fields are the master's), no tombstones. */
class NodeWriter {
  private b = new ListpackBuilder();
  private baseMs: U64;
  private baseSeq: U64;
  /** Entries appended so far. */
  count = 0;

  constructor(public key: StreamId, private master: string[]) {
    this.baseMs = idPart(key, 0);
    this.baseSeq = idPart(key, 8);
    const b = this.b;
    b.push(0); // deleted
    b.push(master.length);
    for (const f of master) b.push(f);
    b.push(0); // master entry terminator
  }

  /** lpBytes of the listpack as it stands (its count element included). */
  get bytes(): number {
    return this.b.size + lpItemBytes(this.count);
  }

  add(id: StreamId, fv: string[]): void {
    const b = this.b;
    const master = this.master;
    const n = fv.length >> 1;
    let same = n === master.length;
    for (let j = 0; same && j < n; j++) same = fv[2 * j] === master[j];
    this.count++;
    b.push(same ? FLAG_SAMEFIELDS : 0);
    b.push(delta(idPart(id, 0), this.baseMs));
    b.push(delta(idPart(id, 8), this.baseSeq));
    if (same) {
      for (let j = 0; j < n; j++) b.push(fv[2 * j + 1]);
      b.push(n + 3);
    } else {
      b.push(n);
      for (let j = 0; j < fv.length; j++) b.push(fv[j]);
      b.push(2 * n + 4);
    }
  }

  /** The listpack, with the live count as its first element. */
  finish(): Uint8Array {
    return this.b.finish(this.count);
  }
}

/** True when `s.nodes` describes the live entries (see StreamValue.nodes). */
function nodesInStep(s: StreamValue): boolean {
  return s.nodeLive === s.ids.length && (s.nodes.length > 0 || s.ids.length === 0);
}

function fieldsOf(fv: string[]): string[] {
  const out: string[] = [];
  for (let j = 0; j < fv.length; j += 2) out.push(fv[j]);
  return out;
}

/**
 * The stream's listpack nodes in ID order: `node` gets each node's key (its master ID), its
 * listpack and its entry count, and stops the walk by returning false. The nodes are the
 * stream's own when it keeps them in step with its entries; otherwise the live entries are laid
 * out the way streamAppendItem builds nodes when they are added one by one: a new node when the
 * tail holds `maxEntries` entries or its bytes plus the new entry's field and value lengths
 * reach `maxBytes`, the master entry holding the node's first entry's fields.
 */
export function forEachStreamNode(
  s: StreamValue,
  lim: StreamNodeLimits,
  node: (key: StreamId, lp: Uint8Array, entries: number) => boolean | void,
): void {
  const ids = s.ids;
  const entries = s.entries;
  if (nodesInStep(s)) {
    let i = 0;
    for (const n of s.nodes) {
      const w = new NodeWriter(n.masterId, n.masterFields);
      for (const end = i + n.live; i < end; i++) w.add(ids[i], entries[i]);
      if (node(n.masterId, w.finish(), n.live) === false) return;
    }
    return;
  }
  let maxBytes = lim.maxBytes;
  if (maxBytes <= 0 || maxBytes > LISTPACK_MAX_SIZE) maxBytes = LISTPACK_MAX_SIZE;
  let w: NodeWriter | null = null;
  for (let i = 0; i < ids.length; i++) {
    const fv = entries[i];
    if (w !== null) {
      let total = 0;
      for (let j = 0; j < fv.length; j++) total += fv[j].length;
      if (w.bytes + total >= maxBytes || (lim.maxEntries > 0 && w.count >= lim.maxEntries)) {
        if (node(w.key, w.finish(), w.count) === false) return;
        w = null;
      }
    }
    if (w === null) w = new NodeWriter(ids[i], fieldsOf(fv));
    w.add(ids[i], fv);
  }
  if (w !== null) node(w.key, w.finish(), w.count);
}

// ---- memory ----

/** jemalloc's size class for an allocation of n bytes (zmalloc_size). */
function allocSize(n: number): number {
  if (n <= 8) return 8;
  if (n <= 128) return (n + 15) & ~15;
  const group = 2 ** Math.floor(Math.log2(n - 1));
  const step = group / 4;
  return Math.ceil(n / step) * step;
}

/** streamRadixTreeMemoryUsage of a rax holding these keys. */
function raxUsage(keys: string[]): number {
  const nodes = raxNodeCount(keys);
  return keys.length * 16 + nodes * 4 + nodes * 8 * 30;
}

/**
 * MEMORY USAGE of a stream, in the spirit of objectComputeSize: the stream header, the node
 * tree, the listpacks (the first `samples` nodes measured, 0 = all, their average standing for
 * the others but the tail, which is measured and keeps its preallocation), then each group with
 * its PEL and NACKs, each consumer with its name and PEL.
 */
export function streamMemoryUsage(
  s: StreamValue,
  samples: number,
  lim: StreamNodeLimits = DEFAULT_NODE_LIMITS,
): number {
  const sizes: number[] = [];
  const keys: StreamId[] = [];
  if (nodesInStep(s)) {
    for (const n of s.nodes) {
      sizes.push(nodeBytes(n));
      keys.push(n.masterId);
    }
  } else {
    forEachStreamNode(s, lim, (key, lp) => {
      sizes.push(lp.length);
      keys.push(key);
    });
  }
  const prealloc = lim.maxBytes > 0 && lim.maxBytes < MAX_PREALLOC ? lim.maxBytes : MAX_PREALLOC;
  const alloc = sizes.map(allocSize);
  // The tail node was created with a preallocation and is only shrunk once full.
  if (alloc.length > 0) {
    alloc[alloc.length - 1] = Math.max(alloc[alloc.length - 1], allocSize(prealloc));
  }
  let size = 16 + 80; // robj + stream
  const nodes = alloc.length;
  size += raxUsage(keys);
  const sampled = samples === 0 ? nodes : Math.min(samples, nodes);
  let lp = 0;
  for (let i = 0; i < sampled; i++) lp += alloc[i];
  if (nodes <= sampled) size += lp;
  else size += Math.round(lp / sampled) * (nodes - 1) + alloc[nodes - 1];
  for (const g of s.groups.values()) {
    size += 40 + raxUsage([...g.pel.keys()].sort()) + 24 * g.pel.size;
    for (const c of g.consumers.values()) {
      size += 24 + c.name.length + raxUsage([...c.pel.keys()].sort());
    }
  }
  return size;
}
