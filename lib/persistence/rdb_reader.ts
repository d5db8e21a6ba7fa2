// RDB decoder for everything Redis 7.0 can load: RDB versions 1..10, every value type it
// still reads (plain, ziplist, zipmap, intset, listpack and quicklist forms; streams are decoded
// in stream_codec.ts), integer and LZF strings, expire/LRU/LFU/aux/module-aux/function opcodes
// and the CRC-64 trailer. Input is one in-memory buffer; every read is bounds-checked so corrupt
// data raises an RdbError instead of crashing. Values come back with the encoding flags Redis
// would pick for them on load.
import { ByteReader } from "./bytes_io.ts";
import { lzfDecompressScratch } from "./lzf.ts";
import { lpDecode, type LpItem, lpItemString, strictInt64 } from "./listpack.ts";
import { intsetDecode } from "./intset.ts";
import { ziplistDecode, zipmapDecode } from "./legacy.ts";
import { crc64 } from "./crc64.ts";
import {
  ENC,
  isObjectType,
  OP,
  QL_PACKED,
  QL_PLAIN,
  RDB_VERSION,
  RdbError,
  T,
} from "./rdb_format.ts";
import { HashValue, ListValue, SetValue, type Value } from "../store/types.ts";
import { ZSetValue } from "../store/zset.ts";
import { parseFloatStrict } from "../commands/util.ts";
import { bytesLatin1 } from "./bytes_io.ts";
import { readStream } from "./stream_codec.ts";

/** Encoding thresholds (from the config) used to pick compact or plain encodings on load. */
export interface LoadLimits {
  hashMaxListpackEntries: number;
  hashMaxListpackValue: number;
  setMaxIntsetEntries: number;
  zsetMaxListpackEntries: number;
  zsetMaxListpackValue: number;
}

/** Redis 7.0 defaults, for callers without a config. */
export const DEFAULT_LIMITS: LoadLimits = {
  hashMaxListpackEntries: 128,
  hashMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
};

/** A string's decompressed size may not exceed this (guards allocations on corrupt input). */
const MAX_STRING = 512 * 1024 * 1024;

/** Reads RDB primitives and values from a buffer. */
export class RdbValueReader {
  constructor(public r: ByteReader, public limits: LoadLimits = DEFAULT_LIMITS) {}

  /** A length; `encoded` is set when the byte announces a special string encoding. */
  readLenEnc(): { len: number; encoded: boolean } {
    const r = this.r;
    const b = r.u8();
    const kind = b >> 6;
    if (kind === 3) return { len: b & 0x3f, encoded: true };
    if (kind === 0) return { len: b & 0x3f, encoded: false };
    if (kind === 1) return { len: ((b & 0x3f) << 8) | r.u8(), encoded: false };
    if (b === 0x80) return { len: r.u32be(), encoded: false };
    if (b === 0x81) {
      const v = r.u64be();
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RdbError("Length out of range");
      return { len: Number(v), encoded: false };
    }
    throw new RdbError(`Unknown length encoding ${kind} in rdbLoadLen()`);
  }

  /** A plain length (an encoded-string marker here is corruption). */
  readLen(): number {
    const { len, encoded } = this.readLenEnc();
    if (encoded) throw new RdbError("Unexpected string encoding where a length was expected");
    return len;
  }

  /** A plain length as the full unsigned 64-bit value (stream IDs and counters). */
  readLenU64(): bigint {
    const r = this.r;
    const b = r.u8();
    if (b === 0x81) return r.u64be();
    if (b === 0x80) return BigInt(r.u32be());
    const kind = b >> 6;
    if (kind === 0) return BigInt(b & 0x3f);
    if (kind === 1) return BigInt(((b & 0x3f) << 8) | r.u8());
    if (kind === 3) throw new RdbError("Unexpected string encoding where a length was expected");
    throw new RdbError(`Unknown length encoding ${kind} in rdbLoadLen()`);
  }

  /** A string in any RDB string form, as latin1. */
  readString(): string {
    const { len, encoded } = this.readLenEnc();
    if (!encoded) return this.r.latin1(len);
    switch (len) {
      case ENC.INT8:
        return String((this.r.u8() << 24) >> 24);
      case ENC.INT16: {
        const v = this.r.u16le();
        return String((v << 16) >> 16);
      }
      case ENC.INT32:
        return String(this.r.i32le());
      case ENC.LZF:
        return bytesLatin1(this.readLzf());
      default:
        throw new RdbError(`Unknown RDB string encoding type ${len}`);
    }
  }

  /** A string as raw bytes (listpack/ziplist/intset blobs); valid until the next read. */
  readBlob(): Uint8Array {
    const { len, encoded } = this.readLenEnc();
    if (!encoded) return this.r.bytes(len);
    if (len === ENC.LZF) return this.readLzf();
    // An integer-encoded blob is valid RDB, just never a valid container.
    const s = this.readStringFromEnc(len);
    return new TextEncoder().encode(s);
  }

  private readStringFromEnc(enc: number): string {
    if (enc === ENC.INT8) return String((this.r.u8() << 24) >> 24);
    if (enc === ENC.INT16) return String((this.r.u16le() << 16) >> 16);
    if (enc === ENC.INT32) return String(this.r.i32le());
    throw new RdbError(`Unknown RDB string encoding type ${enc}`);
  }

  /** Decompresses into a scratch buffer: consume the result before the next read. */
  private readLzf(): Uint8Array {
    const clen = this.readLen();
    const len = this.readLen();
    const c = this.r.bytes(clen);
    if (len > MAX_STRING || len > clen * 100 + 64) {
      throw new RdbError("Invalid LZF compressed string");
    }
    const out = lzfDecompressScratch(c, len);
    if (!out) throw new RdbError("Invalid LZF compressed string");
    return out;
  }

  /** A score stored as text (RDB_TYPE_ZSET): length byte, 253 nan, 254 +inf, 255 -inf. */
  readTextDouble(): number {
    const n = this.r.u8();
    if (n === 255) return -Infinity;
    if (n === 254) return Infinity;
    if (n === 253) return NaN;
    const d = parseFloatStrict(this.r.latin1(n));
    if (d === null) throw new RdbError("Invalid double value");
    return d;
  }

  /** A value of the given RDB type; null for an empty collection (skipped, as Redis does). */
  readValue(type: number, key: string): Value | null {
    const lim = this.limits;
    switch (type) {
      case T.STRING:
        return this.readString();
      case T.LIST: {
        const n = this.readLen();
        const l = new ListValue();
        for (let i = 0; i < n; i++) l.pushTail(this.readString());
        return n === 0 ? null : l;
      }
      case T.SET: {
        const n = this.readLen();
        const s = new SetValue();
        let ints = n <= lim.setMaxIntsetEntries;
        for (let i = 0; i < n; i++) {
          const m = this.readString();
          if (s.s.has(m)) throw new RdbError("Duplicate set members detected");
          if (ints && strictInt64(m) === null) ints = false;
          s.s.add(m);
        }
        s.enc = ints ? "intset" : "hashtable";
        return n === 0 ? null : s;
      }
      case T.ZSET:
      case T.ZSET_2: {
        const n = this.readLen();
        const z = new ZSetValue();
        const seen = new Set<string>();
        let maxLen = 0;
        for (let i = 0; i < n; i++) {
          const m = this.readString();
          const score = type === T.ZSET_2 ? this.r.f64le() : this.readTextDouble();
          if (Number.isNaN(score)) throw new RdbError("Zset with NAN score detected");
          if (seen.has(m)) throw new RdbError("Duplicate zset fields detected");
          seen.add(m);
          if (m.length > maxLen) maxLen = m.length;
          z.add(m, score);
        }
        z.listpack = n <= lim.zsetMaxListpackEntries && maxLen <= lim.zsetMaxListpackValue;
        return n === 0 ? null : z;
      }
      case T.HASH: {
        const n = this.readLen();
        const h = new HashValue();
        let small = n <= lim.hashMaxListpackEntries;
        for (let i = 0; i < n; i++) {
          const f = this.readString();
          const v = this.readString();
          if (h.m.has(f)) throw new RdbError("Duplicate hash fields detected");
          if (f.length > lim.hashMaxListpackValue || v.length > lim.hashMaxListpackValue) {
            small = false;
          }
          h.m.set(f, v);
        }
        h.listpack = small;
        return n === 0 ? null : h;
      }
      case T.LIST_QUICKLIST:
      case T.LIST_QUICKLIST_2: {
        const nodes = this.readLen();
        const items: string[] = [];
        for (let i = 0; i < nodes; i++) {
          let container = QL_PACKED;
          if (type === T.LIST_QUICKLIST_2) {
            container = this.readLen();
            if (container !== QL_PACKED && container !== QL_PLAIN) {
              throw new RdbError("Quicklist integrity check failed.");
            }
          }
          const blob = this.readBlob();
          if (blob.length === 0) throw new RdbError("Quicklist integrity check failed.");
          if (container === QL_PLAIN) {
            items.push(bytesLatin1(blob));
            continue;
          }
          const els = type === T.LIST_QUICKLIST_2 ? lpDecode(blob) : ziplistDecode(blob);
          for (const e of els) items.push(lpItemString(e));
        }
        if (items.length === 0) return null;
        const l = new ListValue();
        l.replace(items);
        return l;
      }
      case T.HASH_ZIPMAP: {
        const pairs = zipmapDecode(this.readBlob());
        const h = new HashValue();
        let maxLen = 0;
        for (const [f, v] of pairs) {
          if (h.m.has(f)) throw new RdbError("Hash zipmap with dup elements");
          maxLen = Math.max(maxLen, f.length, v.length);
          h.m.set(f, v);
        }
        h.listpack = h.m.size <= lim.hashMaxListpackEntries && maxLen <= lim.hashMaxListpackValue;
        return h.m.size === 0 ? null : h;
      }
      case T.LIST_ZIPLIST: {
        const els = ziplistDecode(this.readBlob());
        if (els.length === 0) return null;
        const l = new ListValue();
        l.replace(els.map(lpItemString));
        return l;
      }
      case T.SET_INTSET: {
        const members = intsetDecode(this.readBlob());
        const s = new SetValue();
        for (const m of members) s.s.add(m);
        s.enc = members.length > lim.setMaxIntsetEntries ? "hashtable" : "intset";
        return members.length === 0 ? null : s;
      }
      case T.ZSET_ZIPLIST:
      case T.ZSET_LISTPACK: {
        const blob = this.readBlob();
        const els = type === T.ZSET_LISTPACK ? lpDecode(blob) : ziplistDecode(blob);
        if (els.length % 2 !== 0) throw new RdbError("Zset listpack integrity check failed.");
        const z = new ZSetValue();
        for (let i = 0; i < els.length; i += 2) {
          const m = lpItemString(els[i]);
          if (z.score(m) !== undefined) throw new RdbError("Zset listpack integrity check failed.");
          z.add(m, itemScore(els[i + 1]));
        }
        z.listpack = z.size <= lim.zsetMaxListpackEntries;
        return z.size === 0 ? null : z;
      }
      case T.HASH_ZIPLIST:
      case T.HASH_LISTPACK: {
        const blob = this.readBlob();
        const els = type === T.HASH_LISTPACK ? lpDecode(blob) : ziplistDecode(blob);
        if (els.length % 2 !== 0) throw new RdbError("Hash listpack integrity check failed.");
        const h = new HashValue();
        for (let i = 0; i < els.length; i += 2) {
          const f = lpItemString(els[i]);
          if (h.m.has(f)) throw new RdbError("Hash listpack integrity check failed.");
          h.m.set(f, lpItemString(els[i + 1]));
        }
        h.listpack = h.m.size <= lim.hashMaxListpackEntries;
        return h.m.size === 0 ? null : h;
      }
      case T.STREAM_LISTPACKS:
      case T.STREAM_LISTPACKS_2:
        return readStream(this, type);
      case T.MODULE:
      case T.MODULE_2:
        throw new RdbError(
          `The RDB file contains module data (key '${key}'): modules are not supported by tsredis`,
          false,
          "unsupported",
        );
      default:
        throw new RdbError(`Unknown RDB encoding type ${type}`);
    }
  }
}

function itemScore(it: LpItem): number {
  if (typeof it !== "string") return Number(it);
  const d = parseFloatStrict(it);
  if (d === null || Number.isNaN(d)) throw new RdbError("Zset listpack integrity check failed.");
  return d;
}

/** What a full-file parse reports to its consumer. */
export interface RdbVisitor {
  /** An AUX field. */
  aux?(key: string, value: string): void;
  /** SELECTDB; throw to refuse an out-of-range db. */
  selectDb?(id: number): void;
  /** A key; `expireMs` is -1 without TTL; `value` null for an empty collection (skipped). */
  key(dbId: number, key: string, value: Value | null, expireMs: number): void;
  /** A function library (FUNCTION2, or the 7.0-rc FUNCTION format rebuilt as its payload). */
  functionLibrary?(code: string): void;
  /** Module aux data that was skipped (module id as text). */
  moduleAux?(moduleId: string): void;
}

/** Result of a parse. */
export interface RdbParseResult {
  version: number;
  /** Stored checksum (0n when the writer disabled it, null for versions < 5). */
  storedChecksum: bigint | null;
  /** Bytes consumed, checksum included. */
  length: number;
}

/** Parses a whole RDB file from memory, calling `v` for each key; throws RdbError on damage. */
export function parseRdb(
  data: Uint8Array,
  v: RdbVisitor,
  limits: LoadLimits = DEFAULT_LIMITS,
  verifyChecksum = true,
): RdbParseResult {
  const r = new ByteReader(data);
  const vr = new RdbValueReader(r, limits);
  if (data.length < 9) throw new RdbError("Unexpected EOF reading RDB file", true);
  if (bytesLatin1(data.subarray(0, 5)) !== "REDIS") {
    throw new RdbError("Wrong signature trying to load DB from file", false, "signature");
  }
  const verText = bytesLatin1(data.subarray(5, 9));
  const version = /^[0-9]{4}$/.test(verText) ? Number(verText) : 0;
  if (version < 1 || version > RDB_VERSION) {
    throw new RdbError(`Can't handle RDB format version ${version}`, false, "signature");
  }
  r.pos = 9;
  try {
    return parseBody(r, vr, v, data, version, verifyChecksum);
  } catch (e) {
    if (e instanceof RdbError && e.offset < 0) e.offset = r.pos;
    throw e;
  }
}

function parseBody(
  r: ByteReader,
  vr: RdbValueReader,
  v: RdbVisitor,
  data: Uint8Array,
  version: number,
  verifyChecksum: boolean,
): RdbParseResult {
  let dbId = 0;
  let expire = -1;
  while (true) {
    const type = r.u8();
    if (type === OP.EXPIRETIME) {
      expire = r.i32le() * 1000;
      continue;
    }
    if (type === OP.EXPIRETIME_MS) {
      expire = Number(r.i64le());
      continue;
    }
    if (type === OP.FREQ) {
      r.u8();
      continue;
    }
    if (type === OP.IDLE) {
      vr.readLen();
      continue;
    }
    if (type === OP.EOF) break;
    if (type === OP.SELECTDB) {
      dbId = vr.readLen();
      v.selectDb?.(dbId);
      continue;
    }
    if (type === OP.RESIZEDB) {
      vr.readLen();
      vr.readLen();
      continue;
    }
    if (type === OP.AUX) {
      const k = vr.readString();
      const val = vr.readString();
      v.aux?.(k, val);
      continue;
    }
    if (type === OP.MODULE_AUX) {
      const id = vr.readLen();
      if (vr.readLen() !== 2) throw new RdbError("bad when_opcode");
      vr.readLen();
      skipModuleValue(vr);
      v.moduleAux?.(String(id));
      continue;
    }
    if (type === OP.FUNCTION2) {
      const code = vr.readString();
      v.functionLibrary?.(code);
      continue;
    }
    if (type === OP.FUNCTION) {
      const name = vr.readString();
      const engine = vr.readString();
      if (vr.readLen()) vr.readString();
      const blob = vr.readString();
      v.functionLibrary?.(`#!${engine} name=${name}\n${blob}`);
      continue;
    }
    if (!isObjectType(type)) throw new RdbError(`Unknown RDB encoding type ${type}`);
    const key = vr.readString();
    const value = vr.readValue(type, key);
    v.key(dbId, key, value, expire);
    expire = -1;
  }
  let stored: bigint | null = null;
  if (version >= 5) {
    const end = r.pos;
    const sum = r.bytes(8);
    stored = new DataView(sum.buffer, sum.byteOffset, 8).getBigUint64(0, true);
    if (verifyChecksum && stored !== 0n) {
      const expected = crc64(data, 0, end);
      if (expected !== stored) {
        throw new RdbError(
          `Wrong RDB checksum expected: (${expected.toString(16)}) but got (${
            stored.toString(16)
          }).`,
          false,
          "checksum",
        );
      }
    }
  }
  return { version, storedChecksum: stored, length: r.pos };
}

/** Skips a module value saved with opcodes (module type 2 / module aux), up to its EOF mark. */
function skipModuleValue(vr: RdbValueReader): void {
  while (true) {
    const op = vr.readLen();
    if (op === 0) return;
    if (op === 1 || op === 2) vr.readLen();
    else if (op === 3) vr.r.bytes(4);
    else if (op === 4) vr.r.bytes(8);
    else if (op === 5) vr.readString();
    else throw new RdbError(`Unknown module opcode ${op}`);
  }
}

/** Decodes a DUMP payload's value (the footer must have been verified); throws on damage. */
export function readDumpValue(payload: Uint8Array, key: string, limits: LoadLimits): Value {
  const r = new ByteReader(payload, payload.length - 10);
  const type = r.u8();
  if (!isObjectType(type)) throw new RdbError("Bad data format");
  const v = new RdbValueReader(r, limits).readValue(type, key);
  if (v === null) throw new RdbError("Bad data format");
  return v;
}
