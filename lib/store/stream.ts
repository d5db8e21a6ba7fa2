// The stream type (Redis t_stream.c / stream.h): entries ordered by ID, consumer groups with
// their pending entries lists (PEL) and consumers.
//
// A stream ID is two unsigned 64-bit numbers, milliseconds and sequence. Here an ID is held as a
// 16-char latin1 string, the two numbers big-endian one after the other (Redis's rax key): string
// order is ID order, so IDs compare with < and key Maps. `idText` gives the "ms-seq" form.

import { lpIntBytes, lpItemBytes } from "../persistence/listpack.ts";

/** An ID as a 16-char big-endian key (see the top of this file). */
export type StreamId = string;

const U64_MAX = (1n << 64n) - 1n;

function u64Chars(n: bigint): string {
  let s = "";
  for (let shift = 56n; shift >= 0n; shift -= 8n) {
    s += String.fromCharCode(Number((n >> shift) & 0xffn));
  }
  return s;
}

function u64At(k: string, at: number): bigint {
  let n = 0n;
  for (let i = at; i < at + 8; i++) n = (n << 8n) | BigInt(k.charCodeAt(i));
  return n;
}

/** The ID ms-seq (both 0 ..= 2^64-1). */
export function streamId(ms: bigint, seq: bigint): StreamId {
  if (ms < 0n || ms > U64_MAX || seq < 0n || seq > U64_MAX) {
    throw new RangeError("stream ID part out of range");
  }
  return u64Chars(ms) + u64Chars(seq);
}

/** Milliseconds part of an ID. */
export function idMs(id: StreamId): bigint {
  return u64At(id, 0);
}

/** Sequence part of an ID. */
export function idSeq(id: StreamId): bigint {
  return u64At(id, 8);
}

const TWO32 = 4294967296;

function u32At(k: string, at: number): number {
  return ((k.charCodeAt(at) << 24) | (k.charCodeAt(at + 1) << 16) | (k.charCodeAt(at + 2) << 8) |
    k.charCodeAt(at + 3)) >>> 0;
}

/** The 64-bit part at `at` (0: ms, 8: seq) as a Number when below 2^53, else -1: the common case
 * without BigInt arithmetic. */
export function idPartNumber(id: StreamId, at: 0 | 8): number {
  const hi = u32At(id, at);
  return hi < 0x200000 ? hi * TWO32 + u32At(id, at + 4) : -1;
}

function u64CharsNumber(n: number): string {
  const hi = Math.floor(n / TWO32);
  const lo = n >>> 0;
  return String.fromCharCode(
    hi >>> 24,
    (hi >>> 16) & 255,
    (hi >>> 8) & 255,
    hi & 255,
    lo >>> 24,
    (lo >>> 16) & 255,
    (lo >>> 8) & 255,
    lo & 255,
  );
}

/** streamId for two safe integers (0 ..= 2^53-1), without BigInt arithmetic. */
export function streamIdFromNumbers(ms: number, seq: number): StreamId {
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(seq) || ms < 0 || seq < 0) {
    throw new RangeError("stream ID part out of range");
  }
  return u64CharsNumber(ms) + u64CharsNumber(seq);
}

/** "ms-seq", as replies show IDs. */
export function idText(id: StreamId): string {
  const ms = idPartNumber(id, 0);
  const seq = idPartNumber(id, 8);
  return (ms >= 0 ? String(ms) : String(idMs(id))) + "-" +
    (seq >= 0 ? String(seq) : String(idSeq(id)));
}

/** 0-0: a stream's last ID before any entry was added. */
export const ZERO_ID: StreamId = streamId(0n, 0n);
/** 18446744073709551615-18446744073709551615, the largest ID. */
export const MAX_ID: StreamId = streamId(U64_MAX, U64_MAX);

/** The ID right after id (Redis streamIncrID); null past MAX_ID. */
export function idIncr(id: StreamId): StreamId | null {
  const msn = idPartNumber(id, 0);
  const seqn = idPartNumber(id, 8);
  if (msn >= 0 && seqn >= 0 && seqn < Number.MAX_SAFE_INTEGER) {
    return streamIdFromNumbers(msn, seqn + 1);
  }
  const ms = idMs(id);
  const seq = idSeq(id);
  if (seq < U64_MAX) return streamId(ms, seq + 1n);
  if (ms < U64_MAX) return streamId(ms + 1n, 0n);
  return null;
}

/** The ID right before id (Redis streamDecrID); null before ZERO_ID. */
export function idDecr(id: StreamId): StreamId | null {
  const ms = idMs(id);
  const seq = idSeq(id);
  if (seq > 0n) return streamId(ms, seq - 1n);
  if (ms > 0n) return streamId(ms - 1n, U64_MAX);
  return null;
}

/** A message delivered to a consumer and not acknowledged yet (Redis streamNACK). The group's
 * PEL and its consumer's PEL hold the same object. */
export interface StreamNack {
  /** Last delivery, ms since the epoch. */
  deliveryTime: number;
  deliveryCount: number;
  consumer: StreamConsumer;
}

/** A consumer of a group (Redis streamConsumer). */
export class StreamConsumer {
  /** Pending entries delivered to this consumer: ID -> NACK (iterate in ID order: sort keys). */
  pel = new Map<StreamId, StreamNack>();
  constructor(public name: string, public seenTime: number) {}
}

/** A consumer group (Redis streamCG). */
export class StreamGroup {
  /** Pending entries of the whole group: ID -> NACK (iterate in ID order: sort keys). */
  pel = new Map<StreamId, StreamNack>();
  /** Consumers by name (Redis lists them in name order: sort keys). */
  consumers = new Map<string, StreamConsumer>();
  constructor(
    /** Last ID delivered to the group. */
    public lastId: StreamId,
    /** Redis entries_read; -1 is SCG_INVALID_ENTRIES_READ (unknown). */
    public entriesRead: number,
  ) {}
}

/** STREAM_LISTPACK_MAX_SIZE: the cap on a node's listpack (and stream-node-max-bytes 0). */
export const STREAM_LISTPACK_MAX_SIZE = 1 << 30;

/** One listpack node of Redis's stream radix tree (a "macro node"). Redis trims with `~` only
 * by whole nodes and starts a new node when the tail one reached stream-node-max-entries
 * entries (live + deleted) or stream-node-max-bytes bytes, so node boundaries are
 * Redis-visible: they decide what approximate trimming removes and XINFO STREAM's
 * radix-tree-keys/nodes. RDB keeps them (one listpack per node, keyed by `masterId`). */
export interface StreamNode {
  /** The rax key: ID of the first entry added to the node (its master entry ID). */
  masterId: StreamId;
  /** ID of the last entry added to the node, live or deleted (MINID trimming compares it). */
  lastId: StreamId;
  /** Live entries (the listpack's count header). The node's live entries are the next `live`
   * entries of `StreamValue.ids` after those of the nodes before it. */
  live: number;
  /** Entries flagged deleted that still sit in the listpack (XDEL, exact trimming). */
  deleted: number;
  /** The master entry's fields: entries with exactly these fields store only their values. */
  masterFields: string[];
  /** Listpack bytes without the count and deleted headers (nodeBytes adds them). */
  bytes: number;
}

/**
 * Nodes of a radix tree holding these 16-byte keys (ascending): the root, one per key, and where
 * two neighbours part, the branching node and its two children. Keys of one length end in
 * distinct leaves, and rax compresses every other chain into one node.
 */
export function raxNodeCount(keys: string[]): number {
  const starts = new Set<string>([""]);
  for (let i = 0; i < keys.length; i++) {
    const b = keys[i];
    starts.add(b);
    if (i === 0) continue;
    const a = keys[i - 1];
    let d = 0;
    while (d < a.length && a.charCodeAt(d) === b.charCodeAt(d)) d++;
    starts.add(a.slice(0, d));
    starts.add(a.slice(0, d + 1));
    starts.add(b.slice(0, d + 1));
  }
  return starts.size;
}

/** lpBytes of a node's listpack. */
export function nodeBytes(n: StreamNode): number {
  return n.bytes + lpIntBytes(n.live) + lpIntBytes(n.deleted);
}

function sameFields(master: string[], fv: string[]): boolean {
  if (master.length * 2 !== fv.length) return false;
  for (let i = 0; i < master.length; i++) if (master[i] !== fv[2 * i]) return false;
  return true;
}

/** lpIntSize of the int64 difference of two ID parts (the entry's delta from its master). */
function deltaSize(id: StreamId, master: StreamId, at: 0 | 8): number {
  const a = idPartNumber(id, at);
  const b = idPartNumber(master, at);
  if (a >= 0 && b >= 0) return lpIntBytes(a - b);
  const big = (k: StreamId) => at === 0 ? idMs(k) : idSeq(k);
  return lpIntBytes(BigInt.asIntN(64, big(id) - big(master)));
}

/** Bytes an entry takes in a node whose master entry has ID `masterId` and `masterFields`. */
function entryBytes(
  id: StreamId,
  fv: string[],
  masterId: StreamId,
  masterFields: string[],
): number {
  const same = sameFields(masterFields, fv);
  let n = 2; // flags
  n += deltaSize(id, masterId, 0);
  n += deltaSize(id, masterId, 8);
  const numfields = fv.length / 2;
  if (!same) n += lpIntBytes(numfields);
  for (let i = same ? 1 : 0; i < fv.length; i += same ? 2 : 1) n += lpItemBytes(fv[i]);
  n += lpIntBytes(numfields + 3 + (same ? 0 : numfields + 1)); // lp-count
  return n;
}

/** A new node holding the master entry for `fv` (no entries yet). */
function newNode(id: StreamId, fv: string[]): StreamNode {
  const masterFields: string[] = [];
  for (let i = 0; i < fv.length; i += 2) masterFields.push(fv[i]);
  // Listpack header (6) + end byte (1) + num-fields + fields + the master terminator (0).
  let bytes = 7 + lpIntBytes(masterFields.length) + 2;
  for (const f of masterFields) bytes += lpItemBytes(f);
  return { masterId: id, lastId: id, live: 0, deleted: 0, masterFields, bytes };
}

/** Trimming arguments (Redis streamAddTrimArgs). */
export interface TrimArgs {
  strategy: "maxlen" | "minid";
  maxlen: number;
  minid: StreamId;
  approx: boolean;
  /** Most entries to remove; 0 = no limit. */
  limit: number;
}

/** A stream: live entries in ID order, plus the metadata Redis keeps. */
export class StreamValue {
  readonly type = "stream";
  /** IDs of the live entries, ascending. */
  ids: StreamId[] = [];
  /** Per entry (same index as `ids`): field, value, field, value ... */
  entries: string[][] = [];
  /** Largest ID ever added (also after it was deleted); ZERO_ID when none. */
  lastId: StreamId = ZERO_ID;
  /** Largest ID removed by XDEL or trimming; ZERO_ID when none. */
  maxDeletedId: StreamId = ZERO_ID;
  /** Entries ever added (Redis entries_added). */
  entriesAdded = 0;
  /** Consumer groups by name (Redis lists them in name order: sort keys). */
  groups = new Map<string, StreamGroup>();

  /** Listpack nodes in ID order (see StreamNode). Kept by addEntry/deleteEntry/trim; when
   * entries were added by other means (`append`, RDB loading without node boundaries) the
   * node counts no longer add up to the length and `ensureNodes` rebuilds them as if the live
   * entries had been added one by one. */
  nodes: StreamNode[] = [];
  /** Sum of the nodes' live counts, to detect nodes out of step with `ids` (whoever fills
   * `nodes` directly, like an RDB loader, sets it too). */
  nodeLive = 0;

  /** Number of live entries (XLEN). */
  get length(): number {
    return this.ids.length;
  }

  /** ID of the first live entry, ZERO_ID when empty (Redis first_id). */
  get firstId(): StreamId {
    return this.ids.length > 0 ? this.ids[0] : ZERO_ID;
  }

  /** Index of the first entry with ID >= id (ids.length when none). */
  lowerBound(id: StreamId): number {
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the entry with this ID, or -1. */
  indexOf(id: StreamId): number {
    const i = this.lowerBound(id);
    return i < this.ids.length && this.ids[i] === id ? i : -1;
  }

  /** Appends an entry whose ID is greater than every ID in the stream (the caller checked). */
  append(id: StreamId, fieldsAndValues: string[]): void {
    this.ids.push(id);
    this.entries.push(fieldsAndValues);
    this.lastId = id;
    this.entriesAdded++;
  }

  /** Rebuilds the nodes when they do not describe the live entries (see `nodes`). */
  ensureNodes(maxEntries: number, maxBytes: number): void {
    if (this.nodeLive === this.ids.length && (this.nodes.length > 0 || this.ids.length === 0)) {
      return;
    }
    this.nodes = [];
    this.nodeLive = 0;
    for (let i = 0; i < this.ids.length; i++) {
      this.placeEntry(this.ids[i], this.entries[i], maxEntries, maxBytes);
    }
  }

  /** Adds an entry to the tail node, or to a new node when the tail is full (the node part of
   * streamAppendItem). */
  private placeEntry(id: StreamId, fv: string[], maxEntries: number, maxBytes: number): void {
    let tail: StreamNode | undefined = this.nodes[this.nodes.length - 1];
    if (tail !== undefined) {
      let total = 0;
      for (const x of fv) total += x.length;
      const cap = maxBytes === 0 || maxBytes > STREAM_LISTPACK_MAX_SIZE
        ? STREAM_LISTPACK_MAX_SIZE
        : maxBytes;
      if (nodeBytes(tail) + total >= cap) tail = undefined;
      else if (maxEntries > 0 && tail.live + tail.deleted >= maxEntries) tail = undefined;
    }
    if (tail === undefined) {
      tail = newNode(id, fv);
      this.nodes.push(tail);
    }
    tail.bytes += entryBytes(id, fv, tail.masterId, tail.masterFields);
    tail.live++;
    tail.lastId = id;
    this.nodeLive++;
  }

  /** XADD's append: like `append`, keeping the nodes (stream-node-max-entries/-bytes). */
  addEntry(id: StreamId, fv: string[], maxEntries: number, maxBytes: number): void {
    this.ensureNodes(maxEntries, maxBytes);
    this.placeEntry(id, fv, maxEntries, maxBytes);
    this.ids.push(id);
    this.entries.push(fv);
    this.lastId = id;
    this.entriesAdded++;
  }

  /** Index in `nodes` of the node holding the ID (the last node whose master ID is <= id). */
  private nodeIndexOf(id: StreamId): number {
    const nodes = this.nodes;
    let lo = 0;
    let hi = nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (nodes[mid].masterId <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Deletes a live entry (XDEL: streamIteratorRemoveEntry flags it deleted, and frees its node
   * when it was the node's last live entry). Returns false when there is no such entry. Does
   * not touch maxDeletedId. */
  deleteEntry(id: StreamId, maxEntries: number, maxBytes: number): boolean {
    const i = this.indexOf(id);
    if (i < 0) return false;
    this.ensureNodes(maxEntries, maxBytes);
    const ni = this.nodeIndexOf(id);
    const node = this.nodes[ni];
    if (node.live === 1) this.nodes.splice(ni, 1);
    else {
      node.live--;
      node.deleted++;
    }
    this.nodeLive--;
    this.ids.splice(i, 1);
    this.entries.splice(i, 1);
    return true;
  }

  /** Redis streamTrim: removes entries from the head; returns how many. Approximate trimming
   * only removes whole nodes; `limit` caps the entries removed (whole nodes only). */
  trim(args: TrimArgs, maxEntries: number, maxBytes: number): number {
    this.ensureNodes(maxEntries, maxBytes);
    const nodes = this.nodes;
    let removedNodes = 0;
    let removed = 0;
    let length = this.ids.length;
    while (removedNodes < nodes.length) {
      if (args.strategy === "maxlen" && length <= args.maxlen) break;
      const node = nodes[removedNodes];
      const entries = node.live;
      if (args.limit > 0 && removed + entries > args.limit) break;
      const whole = args.strategy === "maxlen"
        ? length - entries >= args.maxlen
        : node.lastId < args.minid;
      if (whole) {
        removedNodes++;
        length -= entries;
        removed += entries;
        continue;
      }
      if (args.approx) break;
      // Flag the node's first live entries deleted.
      let k = 0;
      for (; k < entries; k++) {
        if (
          args.strategy === "maxlen" ? length <= args.maxlen : this.ids[removed + k] >= args.minid
        ) {
          break;
        }
        length--;
      }
      node.live -= k;
      node.deleted += k;
      removed += k;
      break;
    }
    if (removedNodes > 0) nodes.splice(0, removedNodes);
    if (removed > 0) {
      this.ids.splice(0, removed);
      this.entries.splice(0, removed);
      this.nodeLive -= removed;
    }
    return removed;
  }

  /** Nodes of the radix tree holding the nodes' master IDs (XINFO STREAM radix-tree-nodes):
   * the root, every key, every branching point and every child of a branching point. */
  raxNodeCount(): number {
    return raxNodeCount(this.nodes.map((n) => n.masterId));
  }

  /** Deep copy: entries, metadata, groups, consumers and PELs (NACKs shared between a group and
   * its consumer stay shared in the copy). */
  clone(): StreamValue {
    const s = new StreamValue();
    s.ids = this.ids.slice();
    s.entries = this.entries.map((e) => e.slice());
    s.lastId = this.lastId;
    s.maxDeletedId = this.maxDeletedId;
    s.entriesAdded = this.entriesAdded;
    s.nodes = this.nodes.map((n) => ({ ...n }));
    s.nodeLive = this.nodeLive;
    for (const [name, g] of this.groups) {
      const ng = new StreamGroup(g.lastId, g.entriesRead);
      const consumers = new Map<StreamConsumer, StreamConsumer>();
      for (const [cname, c] of g.consumers) {
        const nc = new StreamConsumer(c.name, c.seenTime);
        consumers.set(c, nc);
        ng.consumers.set(cname, nc);
      }
      for (const [id, n] of g.pel) {
        const owner = consumers.get(n.consumer)!;
        const nn: StreamNack = {
          deliveryTime: n.deliveryTime,
          deliveryCount: n.deliveryCount,
          consumer: owner,
        };
        ng.pel.set(id, nn);
        owner.pel.set(id, nn);
      }
      s.groups.set(name, ng);
    }
    return s;
  }
}
