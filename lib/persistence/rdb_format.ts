// RDB v10 constants (Redis 7.0 rdb.h) and the error type every decoder throws.

/** RDB format version written by Redis 7.0. */
export const RDB_VERSION = 10;

/** Value type bytes. */
export const T = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
} as const;

/** Opcodes that may appear where a value type is expected. */
export const OP = {
  FUNCTION2: 245,
  FUNCTION: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

/** Special string encodings (length byte 11xxxxxx). */
export const ENC = { INT8: 0, INT16: 1, INT32: 2, LZF: 3 } as const;

/** Quicklist node containers in RDB_TYPE_LIST_QUICKLIST_2. */
export const QL_PLAIN = 1;
/** Listpack-packed quicklist node. */
export const QL_PACKED = 2;

/** True for bytes that start a key/value pair (rdbIsObjectType). */
export function isObjectType(t: number): boolean {
  return (t >= 0 && t <= 7) || (t >= 9 && t <= 19);
}

/** Why a load failed: the class decides the log lines and whether the file was ours to read. */
export type RdbErrorKind = "short" | "corrupt" | "signature" | "checksum" | "unsupported";

/**
 * A malformed or truncated RDB stream. A premature end of input ("short") is reported
 * differently by Redis ("Short read ...") from structural corruption.
 */
export class RdbError extends Error {
  kind: RdbErrorKind;
  /** Byte offset where decoding stopped, when known. */
  offset = -1;
  constructor(message: string, short = false, kind?: RdbErrorKind) {
    super(message);
    this.kind = kind ?? (short ? "short" : "corrupt");
  }
}
