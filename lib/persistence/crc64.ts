// CRC-64/Jones as Redis uses it for RDB files and DUMP payloads: reflected polynomial
// 0xad93d23594c935a9, initial value 0, no final xor. JavaScript has no fast 64-bit integers,
// so the register is kept as two uint32 halves and bytes are folded 8 at a time
// (slicing-by-8) to keep checksumming cheap next to writing.

const REV_POLY_HI = 0x95ac9329;
const REV_POLY_LO = 0xac4bc9b5;

/** 8 tables x 256 entries x (lo, hi) words. */
const T = new Uint32Array(8 * 512);

(function buildTables() {
  for (let i = 0; i < 256; i++) {
    let lo = i;
    let hi = 0;
    for (let b = 0; b < 8; b++) {
      const lsb = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi = hi >>> 1;
      if (lsb) {
        lo = (lo ^ REV_POLY_LO) >>> 0;
        hi = (hi ^ REV_POLY_HI) >>> 0;
      }
    }
    T[2 * i] = lo;
    T[2 * i + 1] = hi;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const plo = T[(k - 1) * 512 + 2 * i];
      const phi = T[(k - 1) * 512 + 2 * i + 1];
      const idx = plo & 0xff;
      T[k * 512 + 2 * i] = (((plo >>> 8) | (phi << 24)) ^ T[2 * idx]) >>> 0;
      T[k * 512 + 2 * i + 1] = ((phi >>> 8) ^ T[2 * idx + 1]) >>> 0;
    }
  }
})();

/** Incremental CRC-64 (Redis flavour); feed chunks with update(). */
export class Crc64 {
  lo = 0;
  hi = 0;

  /** Folds more bytes into the checksum. */
  update(b: Uint8Array, start = 0, end = b.length): void {
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    while (i + 8 <= end) {
      lo ^= b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
      hi ^= b[i + 4] | (b[i + 5] << 8) | (b[i + 6] << 16) | (b[i + 7] << 24);
      const a0 = 7 * 512 + 2 * (lo & 0xff);
      const a1 = 6 * 512 + 2 * ((lo >>> 8) & 0xff);
      const a2 = 5 * 512 + 2 * ((lo >>> 16) & 0xff);
      const a3 = 4 * 512 + 2 * (lo >>> 24);
      const a4 = 3 * 512 + 2 * (hi & 0xff);
      const a5 = 2 * 512 + 2 * ((hi >>> 8) & 0xff);
      const a6 = 1 * 512 + 2 * ((hi >>> 16) & 0xff);
      const a7 = 2 * (hi >>> 24);
      lo = T[a0] ^ T[a1] ^ T[a2] ^ T[a3] ^ T[a4] ^ T[a5] ^ T[a6] ^ T[a7];
      hi = T[a0 + 1] ^ T[a1 + 1] ^ T[a2 + 1] ^ T[a3 + 1] ^ T[a4 + 1] ^ T[a5 + 1] ^ T[a6 + 1] ^
        T[a7 + 1];
      i += 8;
    }
    for (; i < end; i++) {
      const idx = 2 * ((lo ^ b[i]) & 0xff);
      lo = ((lo >>> 8) | (hi << 24)) ^ T[idx];
      hi = (hi >>> 8) ^ T[idx + 1];
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** The checksum as a bigint. */
  value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** The checksum as 8 little-endian bytes, the way RDB and DUMP store it. */
  bytesLE(): Uint8Array {
    const out = new Uint8Array(8);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, this.lo, true);
    dv.setUint32(4, this.hi, true);
    return out;
  }
}

/** CRC-64 of a byte range, as a bigint (crc64(0, p, len) in Redis). */
export function crc64(b: Uint8Array, start = 0, end = b.length): bigint {
  const c = new Crc64();
  c.update(b, start, end);
  return c.value();
}
