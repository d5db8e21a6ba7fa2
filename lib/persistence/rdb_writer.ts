// RDB v10 encoder, byte-compatible with Redis 7.0.15's rdbSaveRio: header and aux fields, per-db
// SELECTDB/RESIZEDB, key/value pairs with EXPIRETIME_MS, EOF and the CRC-64 trailer. Output is
// produced in chunks through a sink so a save can stream to a file or a replica socket without
// building the whole file in memory. Values are encoded the way Redis picks encodings:
// listpack/intset forms when the value's encoding flag says so, plain forms otherwise; streams
// as Redis 7.0 lays out their listpack nodes (stream_codec.ts).
import { ByteWriter, latin1Bytes, latin1Into } from "./bytes_io.ts";
import { Crc64 } from "./crc64.ts";
import { lzfCompressScratch } from "./lzf.ts";
import { ListpackBuilder, type LpItem } from "./listpack.ts";
import { intsetEncode } from "./intset.ts";
import { ENC, OP, QL_PACKED, QL_PLAIN, RDB_VERSION, T } from "./rdb_format.ts";
import { formatDouble } from "../protocol/reply.ts";
import { VERSION } from "../server/server.ts";
import type { HashValue, ListValue, SetValue, Value } from "../store/types.ts";
import type { StreamId, StreamValue } from "../store/stream.ts";
import { DEFAULT_NODE_LIMITS, forEachStreamNode, idPart } from "./stream_codec.ts";

/** The parts of a sorted set the encoder needs (a ZSetValue, or a frozen copy of one). */
export interface ZsetLike {
  readonly type: "zset";
  listpack: boolean;
  readonly size: number;
  entries(): Iterable<[string, number]>;
}

/** Anything the encoder can serialize: keyspace values or frozen snapshot copies. */
export type EncodableValue = Value | ZsetLike;

/** Encoding knobs, normally taken from the server config. */
export interface EncodeOptions {
  /** rdbcompression: LZF-compress strings longer than 20 bytes when it saves space. */
  compression: boolean;
  /** list-max-listpack-size, which decides how lists are split into quicklist nodes. */
  listFill: number;
  /** Elements this long or longer get their own plain quicklist node (default 1 GiB). */
  packedThreshold?: number;
  /** stream-node-max-entries (default 100), which decides how streams are split into nodes. */
  streamNodeMaxEntries?: number;
  /** stream-node-max-bytes (default 4096). */
  streamNodeMaxBytes?: number;
}

/** Replication fields stored as aux fields (rdbSaveInfo in Redis). */
export interface ReplAux {
  replStreamDb: number;
  replId: string;
  replOffset: number;
}

/** Options for a whole RDB file. */
export interface RdbFileOptions extends EncodeOptions {
  /** rdbchecksum: write the CRC-64 trailer (else 8 zero bytes). */
  checksum: boolean;
  repl?: ReplAux | null;
  aofBase?: boolean;
}

const QL_OPT_LEVELS = [4096, 8192, 16384, 32768, 65536];
const QL_SIZE_SAFETY_LIMIT = 8192;
const QL_SIZE_ESTIMATE_OVERHEAD = 8;
const INT_ENC_RE = /^(?:0|-?[1-9][0-9]{0,10})$/;

/** Writes an RDB length (6/14/32/64-bit forms). */
export function writeLen(w: ByteWriter, n: number): void {
  if (n < 64) w.u8(n);
  else if (n < 16384) {
    w.u8(0x40 | (n >>> 8));
    w.u8(n & 0xff);
  } else if (n <= 0xffffffff) {
    w.u8(0x80);
    w.u32be(n);
  } else {
    w.u8(0x81);
    w.u64be(BigInt(n));
  }
}

/** Writes an unsigned 64-bit RDB length (stream IDs and counters). */
export function writeLenU64(w: ByteWriter, n: number | bigint): void {
  if (typeof n === "number" ? n <= 0xffffffff : n <= 0xffffffffn) writeLen(w, Number(n));
  else {
    w.u8(0x81);
    w.u64be(n);
  }
}

/** The int8/16/32 special encoding for canonical small integers; false when not applicable. */
function tryIntEncoding(w: ByteWriter, s: string): boolean {
  if (s.length > 11 || !INT_ENC_RE.test(s)) return false;
  const v = Number(s);
  if (v >= -128 && v <= 127) {
    w.u8(0xc0 | ENC.INT8);
    w.u8(v & 0xff);
  } else if (v >= -32768 && v <= 32767) {
    w.u8(0xc0 | ENC.INT16);
    w.u16le(v & 0xffff);
  } else if (v >= -2147483648 && v <= 2147483647) {
    w.u8(0xc0 | ENC.INT32);
    w.u32le(v);
  } else return false;
  return true;
}

function tryLzf(w: ByteWriter, b: Uint8Array, len: number): boolean {
  if (len <= 4) return false;
  const c = lzfCompressScratch(b, len, len - 4);
  if (!c) return false;
  w.u8(0xc0 | ENC.LZF);
  writeLen(w, c.length);
  writeLen(w, len);
  w.bytes(c);
  return true;
}

let strScratch = new Uint8Array(4096);

/** Writes a string like rdbSaveRawString: integer form, LZF, or length + bytes. */
export function writeString(w: ByteWriter, s: string, compression: boolean): void {
  if (s.length <= 11 && tryIntEncoding(w, s)) return;
  if (compression && s.length > 20) {
    let buf: Uint8Array;
    if (s.length > 1 << 20) buf = latin1Bytes(s);
    else {
      if (strScratch.length < s.length) {
        strScratch = new Uint8Array(Math.max(s.length, strScratch.length * 2));
      }
      buf = strScratch;
      latin1Into(s, buf);
    }
    if (tryLzf(w, buf, s.length)) return;
  }
  writeLen(w, s.length);
  w.latin1(s);
}

/** Writes a binary blob (listpack, intset) like rdbSaveRawString. */
export function writeBlob(w: ByteWriter, b: Uint8Array, compression: boolean): void {
  if (compression && b.length > 20 && tryLzf(w, b, b.length)) return;
  writeLen(w, b.length);
  w.bytes(b);
}

function isZset(v: EncodableValue): v is ZsetLike {
  return typeof v !== "string" && v.type === "zset";
}

/** The RDB type byte Redis 7.0 uses for a value. */
export function rdbTypeOf(v: EncodableValue): number {
  if (typeof v === "string") return T.STRING;
  switch (v.type) {
    case "list":
      return T.LIST_QUICKLIST_2;
    case "set":
      return (v as SetValue).enc === "intset" && intsetCandidate(v as SetValue)
        ? T.SET_INTSET
        : T.SET;
    case "zset":
      return (v as ZsetLike).listpack ? T.ZSET_LISTPACK : T.ZSET_2;
    case "hash":
      return (v as HashValue).listpack ? T.HASH_LISTPACK : T.HASH;
    case "stream":
      return T.STREAM_LISTPACKS_2;
    default:
      throw new Error(`cannot serialize a value of type ${(v as { type: string }).type}`);
  }
}

function intsetCandidate(v: SetValue): boolean {
  // The set's encoding flag is trusted, but a non-integer member must never break a save.
  for (const m of v.s) if (!/^(?:0|-?[1-9][0-9]*)$/.test(m) || m.length > 20) return false;
  return true;
}

/** True when a double is stored as an integer in listpacks (double2ll). */
function scoreAsInt(d: number): number | bigint | null {
  if (!Number.isInteger(d) || d < -4611686018427387904 || d > 4611686018427387904) return null;
  if (Object.is(d, -0)) return 0;
  return Number.isSafeInteger(d) ? d : BigInt(d);
}

/** A quicklist node as stored in RDB_TYPE_LIST_QUICKLIST_2. */
export interface QuicklistNode {
  container: number;
  data: Uint8Array;
}

/**
 * Splits list elements into nodes the way quicklist pushes at the tail: listpack nodes bounded
 * by list-max-listpack-size, and plain nodes for elements of `packedThreshold` bytes or more.
 */
export function quicklistNodes(
  items: Iterable<string>,
  fillIn: number,
  packedThreshold = 1 << 30,
): QuicklistNode[] {
  const fill = fillIn > 32767 ? 32767 : fillIn < -5 ? -5 : fillIn;
  const nodes: QuicklistNode[] = [];
  let cur: ListpackBuilder | null = null;
  for (const s of items) {
    if (s.length >= packedThreshold) {
      if (cur !== null) nodes.push({ container: QL_PACKED, data: cur.finish() });
      cur = null;
      nodes.push({ container: QL_PLAIN, data: latin1Bytes(s) });
      continue;
    }
    if (cur !== null) {
      const newSz = cur.size + s.length + QL_SIZE_ESTIMATE_OVERHEAD;
      let allow: boolean;
      if (fill < 0 && newSz <= QL_OPT_LEVELS[-fill - 1]) allow = true;
      else if (newSz > QL_SIZE_SAFETY_LIMIT) allow = false;
      else allow = cur.count < fill;
      if (!allow) {
        nodes.push({ container: QL_PACKED, data: cur.finish() });
        cur = null;
      }
    }
    if (cur === null) cur = new ListpackBuilder();
    cur.push(s);
  }
  if (cur !== null) nodes.push({ container: QL_PACKED, data: cur.finish() });
  return nodes;
}

function writeStreamId(w: ByteWriter, id: StreamId): void {
  writeLenU64(w, idPart(id, 0));
  writeLenU64(w, idPart(id, 8));
}

function sortedKeys<V>(m: Map<string, V>): string[] {
  // Byte order, as Redis's radix trees iterate (latin1: one char per byte).
  return [...m.keys()].sort();
}

/** A stream as RDB_TYPE_STREAM_LISTPACKS_2 (rdbSaveObject): listpack nodes laid out as Redis
 * would have built them (stream_codec.ts), metadata, groups with their PELs and consumers. */
function writeStream(w: ByteWriter, s: StreamValue, o: EncodeOptions): void {
  const c = o.compression;
  const lim = {
    maxEntries: o.streamNodeMaxEntries ?? DEFAULT_NODE_LIMITS.maxEntries,
    maxBytes: o.streamNodeMaxBytes ?? DEFAULT_NODE_LIMITS.maxBytes,
  };
  const nodes: [StreamId, Uint8Array][] = [];
  forEachStreamNode(s, lim, (key, lp) => void nodes.push([key, lp]));
  writeLen(w, nodes.length);
  for (const [key, lp] of nodes) {
    writeString(w, key, c);
    writeBlob(w, lp, c);
  }
  writeLen(w, s.length);
  writeStreamId(w, s.lastId);
  writeStreamId(w, s.firstId);
  writeStreamId(w, s.maxDeletedId);
  writeLenU64(w, s.entriesAdded);
  writeLen(w, s.groups.size);
  for (const name of sortedKeys(s.groups)) {
    const g = s.groups.get(name)!;
    writeString(w, name, c);
    writeStreamId(w, g.lastId);
    writeLenU64(w, BigInt.asUintN(64, BigInt(g.entriesRead)));
    writeLen(w, g.pel.size);
    for (const id of sortedKeys(g.pel)) {
      const nack = g.pel.get(id)!;
      w.latin1(id);
      w.i64le(Math.trunc(nack.deliveryTime));
      writeLenU64(w, nack.deliveryCount);
    }
    writeLen(w, g.consumers.size);
    for (const cname of sortedKeys(g.consumers)) {
      const consumer = g.consumers.get(cname)!;
      writeString(w, cname, c);
      w.i64le(Math.trunc(consumer.seenTime));
      writeLen(w, consumer.pel.size);
      for (const id of sortedKeys(consumer.pel)) w.latin1(id);
    }
  }
}

/** Writes a value's body (rdbSaveObject), without the type byte. */
export function writeValue(w: ByteWriter, v: EncodableValue, o: EncodeOptions): void {
  const c = o.compression;
  if (typeof v === "string") return writeString(w, v, c);
  switch (v.type) {
    case "list": {
      const l = v as ListValue;
      const items = (function* () {
        for (let i = 0; i < l.length; i++) yield l.at(i);
      })();
      const nodes = quicklistNodes(items, o.listFill, o.packedThreshold);
      writeLen(w, nodes.length);
      for (const n of nodes) {
        writeLen(w, n.container);
        writeBlob(w, n.data, c);
      }
      return;
    }
    case "set": {
      const s = v as SetValue;
      if (rdbTypeOf(s) === T.SET_INTSET) {
        writeBlob(w, intsetEncode(s.s)!, c);
        return;
      }
      writeLen(w, s.s.size);
      for (const m of s.s) writeString(w, m, c);
      return;
    }
    case "hash": {
      const h = v as HashValue;
      if (h.listpack) {
        const b = new ListpackBuilder();
        for (const [f, val] of h.m) {
          b.push(f);
          b.push(val);
        }
        writeBlob(w, b.finish(), c);
        return;
      }
      writeLen(w, h.m.size);
      for (const [f, val] of h.m) {
        writeString(w, f, c);
        writeString(w, val, c);
      }
      return;
    }
    case "stream":
      return writeStream(w, v as StreamValue, o);
    default: {
      if (!isZset(v)) {
        throw new Error(`cannot serialize a value of type ${(v as { type: string }).type}`);
      }
      if (v.listpack) {
        const b = new ListpackBuilder();
        for (const [m, score] of v.entries()) {
          b.push(m);
          const si = scoreAsInt(score);
          b.push(si !== null ? si : formatDouble(score) as LpItem);
        }
        writeBlob(w, b.finish(), c);
        return;
      }
      // Highest score first, so loading inserts at the skiplist head (as Redis writes them).
      const all = Array.from(v.entries());
      writeLen(w, all.length);
      for (let i = all.length - 1; i >= 0; i--) {
        writeString(w, all[i][0], c);
        w.f64le(all[i][1]);
      }
    }
  }
}

/** Bytes rdbSaveObject would write for a value (DEBUG OBJECT serializedlength). */
export function serializedLength(v: EncodableValue, o: EncodeOptions): number {
  const w = new ByteWriter(256);
  writeValue(w, v, o);
  return w.len;
}

/** A DUMP payload: type byte, value, RDB version (u16le), CRC-64 (u64le) of all before. */
export function createDumpPayload(v: EncodableValue, o: EncodeOptions): Uint8Array {
  const w = new ByteWriter(256);
  w.u8(rdbTypeOf(v));
  writeValue(w, v, o);
  w.u16le(RDB_VERSION);
  const crc = new Crc64();
  crc.update(w.buf, 0, w.len);
  w.bytes(crc.bytesLE());
  return w.copy();
}

/** Streams an RDB file as chunks; call header(), then db()/key() pairs, then finish(). */
export class RdbWriter {
  private w: ByteWriter;
  private crc: Crc64 | null;
  /** Bytes handed to the sink so far. */
  written = 0;

  constructor(
    private opts: RdbFileOptions,
    private sink: (chunk: Uint8Array) => void,
    private chunkSize = 64 * 1024,
  ) {
    this.w = new ByteWriter(chunkSize + 1024);
    this.crc = opts.checksum ? new Crc64() : null;
  }

  /** Hands buffered bytes to the sink. */
  flush(): void {
    if (this.w.len === 0) return;
    const chunk = this.w.copy();
    this.crc?.update(chunk);
    this.w.reset();
    this.written += chunk.length;
    this.sink(chunk);
  }

  private maybeFlush(): void {
    if (this.w.len >= this.chunkSize) this.flush();
  }

  /** One AUX field. */
  aux(key: string, val: string): void {
    this.w.u8(OP.AUX);
    writeString(this.w, key, this.opts.compression);
    writeString(this.w, val, this.opts.compression);
  }

  /** Magic and the aux fields Redis 7.0 writes. */
  header(ctime = Math.floor(Date.now() / 1000), usedMem = Deno.memoryUsage().rss): void {
    this.w.latin1(`REDIS${String(RDB_VERSION).padStart(4, "0")}`);
    this.aux("redis-ver", VERSION);
    this.aux("redis-bits", "64");
    this.aux("ctime", String(ctime));
    this.aux("used-mem", String(usedMem));
    const r = this.opts.repl;
    if (r) {
      this.aux("repl-stream-db", String(r.replStreamDb));
      this.aux("repl-id", r.replId);
      this.aux("repl-offset", String(r.replOffset));
    }
    this.aux("aof-base", this.opts.aofBase ? "1" : "0");
    this.maybeFlush();
  }

  /** SELECTDB + RESIZEDB before a non-empty database's keys. */
  db(id: number, size: number, expiresSize: number): void {
    this.w.u8(OP.SELECTDB);
    writeLen(this.w, id);
    this.w.u8(OP.RESIZEDB);
    writeLen(this.w, size);
    writeLen(this.w, expiresSize);
  }

  /** One key with its value and optional absolute expiry in ms. */
  key(key: string, value: EncodableValue, expireMs?: number): void {
    const w = this.w;
    if (expireMs !== undefined) {
      w.u8(OP.EXPIRETIME_MS);
      w.i64le(BigInt(expireMs));
    }
    w.u8(rdbTypeOf(value));
    writeString(w, key, this.opts.compression);
    writeValue(w, value, this.opts);
    this.maybeFlush();
  }

  /** EOF opcode and checksum; flushes everything. */
  finish(): void {
    this.w.u8(OP.EOF);
    this.flush();
    const sum = this.crc ? this.crc.bytesLE() : new Uint8Array(8);
    this.written += 8;
    this.sink(sum);
  }
}
