// LZF, the compressor Redis uses for RDB strings. The stream format is:
//   000LLLLL + L+1 literal bytes
//   LLLooooo oooooooo          back reference of L+2 bytes at distance o+1 (L = 1..6)
//   111ooooo LLLLLLLL oooooooo back reference of L+9 bytes at distance o+1
// The compressor follows liblzf's greedy "very fast" strategy (3-byte hash, 8 KiB window) so
// our output has the same shape as Redis's; any valid stream decodes the same either way.

const HLOG = 16;
const HSIZE = 1 << HLOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

// Hash slots hold input positions; a generation stamp per slot lets us reuse the table across
// calls without clearing 64K entries for every short string.
const slotPos = new Int32Array(HSIZE);
const slotGen = new Uint32Array(HSIZE);
let generation = 0;

function idx(h: number): number {
  return ((h >>> (3 * 8 - HLOG)) - Math.imul(h, 5)) & (HSIZE - 1);
}

let scratch = new Uint8Array(4096);

/**
 * Compresses `input` into at most `maxOut` bytes; returns null when it does not fit
 * (Redis then stores the string verbatim).
 */
export function lzfCompress(input: Uint8Array, maxOut: number): Uint8Array | null {
  const r = lzfCompressScratch(input, input.length, maxOut);
  return r === null ? null : r.slice();
}

/**
 * Like lzfCompress for the first `inLen` bytes of `input`, but returns a view into a shared
 * scratch buffer that the next call overwrites: for hot paths that copy the result at once.
 */
export function lzfCompressScratch(
  input: Uint8Array,
  inLen: number,
  maxOut: number,
): Uint8Array | null {
  if (inLen === 0 || maxOut <= 0) return null;
  if (++generation === 0xffffffff) {
    slotGen.fill(0);
    generation = 1;
  }
  const gen = generation;
  let out: Uint8Array;
  if (maxOut + 1 > 1 << 20) out = new Uint8Array(maxOut + 1); // don't pin huge buffers
  else {
    if (scratch.length < maxOut + 1) {
      scratch = new Uint8Array(Math.max(maxOut + 1, scratch.length * 2));
    }
    out = scratch;
  }
  const outEnd = maxOut;
  const inEnd = inLen;
  let ip = 0;
  let op = 1; // room for the first literal-run header
  let lit = 0;
  let hval = (input[0] << 8) | input[1];

  while (ip < inEnd - 2) {
    hval = ((hval << 8) | input[ip + 2]) >>> 0;
    const slot = idx(hval);
    const ref = slotGen[slot] === gen ? slotPos[slot] : -1;
    slotGen[slot] = gen;
    slotPos[slot] = ip;
    const off = ip - ref - 1;
    if (
      ref > 0 && off < MAX_OFF && input[ref + 2] === input[ip + 2] &&
      input[ref] === input[ip] && input[ref + 1] === input[ip + 1]
    ) {
      let len = 2;
      let maxlen = inEnd - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;
      if (op + 3 + 1 >= outEnd && op - (lit === 0 ? 1 : 0) + 3 + 1 >= outEnd) return null;
      out[op - lit - 1] = lit - 1; // close the literal run
      if (lit === 0) op--; // drop an empty run header
      // liblzf first checks 16 bytes without the maxlen bound (only when maxlen > 16), which
      // can let a match run to the very end of the input; mirror that to produce its output.
      let mismatch = false;
      if (maxlen > 16) {
        for (let k = 0; k < 16; k++) {
          len++;
          if (input[ref + len] !== input[ip + len]) {
            mismatch = true;
            break;
          }
        }
      }
      if (!mismatch) {
        do len++; while (len < maxlen && input[ref + len] === input[ip + len]);
      }
      len -= 2;
      ip++;
      if (len < 7) {
        out[op++] = (off >>> 8) + (len << 5);
      } else {
        out[op++] = (off >>> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // start a new run
      ip += len + 1;
      if (ip >= inEnd - 2) break;
      // Re-hash the last two positions of the match so later data can refer into it.
      ip -= 2;
      hval = (input[ip] << 8) | input[ip + 1];
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      let s = idx(hval);
      slotGen[s] = gen;
      slotPos[s] = ip;
      ip++;
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      s = idx(hval);
      slotGen[s] = gen;
      slotPos[s] = ip;
      ip++;
    } else {
      if (op >= outEnd) return null;
      lit++;
      out[op++] = input[ip++];
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1;
        lit = 0;
        op++;
      }
    }
  }
  if (op + 3 > outEnd) return null;
  while (ip < inEnd) {
    lit++;
    out[op++] = input[ip++];
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = lit - 1;
  if (lit === 0) op--;
  if (op > maxOut) return null;
  return out.subarray(0, op);
}

let dscratch = new Uint8Array(4096);

/** Decompresses an LZF stream that must expand to exactly `outLen` bytes; null if corrupt. */
export function lzfDecompress(input: Uint8Array, outLen: number): Uint8Array | null {
  return lzfDecode(input, new Uint8Array(outLen), outLen);
}

/**
 * Like lzfDecompress, but into a shared scratch buffer that the next call overwrites (for
 * callers that turn the bytes into a string or parse them right away).
 */
export function lzfDecompressScratch(input: Uint8Array, outLen: number): Uint8Array | null {
  if (outLen > 1 << 20) return lzfDecompress(input, outLen);
  if (dscratch.length < outLen) dscratch = new Uint8Array(Math.max(outLen, dscratch.length * 2));
  return lzfDecode(input, dscratch, outLen);
}

function lzfDecode(input: Uint8Array, out: Uint8Array, outLen: number): Uint8Array | null {
  let ip = 0;
  let op = 0;
  const inEnd = input.length;
  while (ip < inEnd) {
    const ctrl = input[ip++];
    if (ctrl < 32) {
      const n = ctrl + 1;
      if (op + n > outLen || ip + n > inEnd) return null;
      out.set(input.subarray(ip, ip + n), op);
      op += n;
      ip += n;
    } else {
      let len = ctrl >>> 5;
      if (len === 7) {
        if (ip >= inEnd) return null;
        len += input[ip++];
      }
      if (ip >= inEnd) return null;
      const ref = op - ((ctrl & 0x1f) << 8) - input[ip++] - 1;
      len += 2;
      if (ref < 0 || op + len > outLen) return null;
      // Overlapping copies repeat the pattern, so this must go byte by byte.
      for (let k = 0; k < len; k++) out[op + k] = out[ref + k];
      op += len;
    }
  }
  return op === outLen ? out.subarray(0, outLen) : null;
}
