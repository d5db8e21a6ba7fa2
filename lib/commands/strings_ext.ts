// INCRBYFLOAT arithmetic and LCS. Redis computes INCRBYFLOAT in x87 80-bit long double
// (64-bit mantissa) and prints "%.17Lf" with trailing zeros trimmed; plain JS doubles would
// print e.g. 0.1+0.2 as 0.30000000000000004 where Redis says 0.3. So we emulate long double
// exactly with BigInt: correctly rounded strtold, one rounded addition, exact printf.
import type { Client } from "../server/client.ts";
import { E_SYNTAX, parseInteger } from "./util.ts";
import { lookupRead } from "./keys_access.ts";

/** An x87 long double: (-1)^neg * m * 2^e with m < 2^64, or an infinity. */
export interface LongDouble {
  neg: boolean;
  m: bigint;
  e: number;
  inf: boolean;
}

const MANT_BITS = 64;
/** Exponent of the smallest subnormal (2^-16445) and the overflow bound (2^16384). */
const MIN_EXP = -16445;
const MAX_BITS_EXP = 16384;
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

function bitLength(m: bigint): number {
  if (m === 0n) return 0;
  const hex = m.toString(16);
  return (hex.length - 1) * 4 + 32 - Math.clz32(parseInt(hex[0], 16));
}

/** Rounds m*2^e (plus a sticky bit for discarded non-zero tail) to nearest-even long double. */
function round(neg: boolean, m: bigint, e: number, sticky: boolean): LongDouble {
  if (m === 0n) return { neg, m, e: 0, inf: false };
  let shift = bitLength(m) - MANT_BITS;
  if (e + shift < MIN_EXP) shift = MIN_EXP - e;
  if (shift > 0) {
    const s = BigInt(shift);
    const dropped = m & ((1n << s) - 1n);
    const half = 1n << (s - 1n);
    m >>= s;
    e += shift;
    if (dropped > half || (dropped === half && (sticky || (m & 1n) === 1n))) m += 1n;
    if (m === 1n << BigInt(MANT_BITS)) {
      m >>= 1n;
      e++;
    }
  }
  if (m !== 0n && e + bitLength(m) > MAX_BITS_EXP) return { neg, m: 0n, e: 0, inf: true };
  return { neg, m, e: m === 0n ? 0 : e, inf: false };
}

function fromDecimal(neg: boolean, digits: string, exp10: number): LongDouble {
  digits = digits.replace(/^0+/, "");
  if (digits === "") return { neg, m: 0n, e: 0, inf: false };
  const magnitude = digits.length + exp10;
  if (magnitude > 4934) return { neg, m: 0n, e: 0, inf: true };
  if (magnitude < -4952) return { neg, m: 0n, e: 0, inf: false };
  const d = BigInt(digits);
  if (exp10 >= 0) return round(neg, d * 10n ** BigInt(exp10), 0, false);
  const den = 10n ** BigInt(-exp10);
  const k = Math.max(0, MANT_BITS + 2 + bitLength(den) - bitLength(d));
  const num = d << BigInt(k);
  const q = num / den;
  return round(neg, q, -k, q * den !== num);
}

const HEX_RE = /^([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?[0-9]+))?$/i;

function clampExp(e: string | undefined): number {
  return e === undefined ? 0 : Math.max(-100000, Math.min(100000, Number(e)));
}

const DEC_RE = /^([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/;

/** Parses like Redis's string2ld (strtold, no surrounding spaces, no NaN, no range errors). */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= MAX_LONG_DOUBLE_CHARS) return null;
  let i = 0;
  let neg = false;
  if (s[0] === "+" || s[0] === "-") {
    neg = s[0] === "-";
    i = 1;
  }
  const body = s.slice(i);
  const lower = body.toLowerCase();
  if (lower === "inf" || lower === "infinity") return { neg, m: 0n, e: 0, inf: true };
  let r: LongDouble | null;
  let mantissa: string;
  if (lower.startsWith("0x") && body.length > 2) {
    const m = HEX_RE.exec(body.slice(2));
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) return null;
    const frac = m[2] ?? "";
    mantissa = m[1] + frac;
    r = round(neg, BigInt("0x0" + mantissa), clampExp(m[3]) - 4 * frac.length, false);
  } else {
    const m = DEC_RE.exec(body);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) return null;
    const frac = m[2] ?? "";
    mantissa = m[1] + frac;
    r = fromDecimal(neg, mantissa, clampExp(m[3]) - frac.length);
  }
  if (r.inf) return null; // overflow is ERANGE with HUGE_VAL
  if (r.m === 0n && /[1-9a-f]/i.test(mantissa)) return null; // underflow to zero is ERANGE too
  return r;
}

/** a + b rounded once to long double (inf + -inf gives null: NaN). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg !== b.neg) return null;
    return a.inf ? a : b;
  }
  if (a.m === 0n) return b.m === 0n ? { neg: a.neg && b.neg, m: 0n, e: 0, inf: false } : b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const am = a.m << BigInt(a.e - e);
  const bm = b.m << BigInt(b.e - e);
  const sum = (a.neg ? -am : am) + (b.neg ? -bm : bm);
  if (sum === 0n) return { neg: false, m: 0n, e: 0, inf: false };
  return round(sum < 0n, sum < 0n ? -sum : sum, e, false);
}

/** Formats like ld2string(LD_STR_HUMAN): "%.17Lf" with trailing zeros (and '.') removed. */
export function formatLongDoubleHuman(x: LongDouble): string {
  if (x.inf) return x.neg ? "-inf" : "inf";
  let out: string;
  if (x.e >= 0) {
    out = (x.m << BigInt(x.e)).toString();
  } else {
    const sh = BigInt(-x.e);
    const scaled = x.m * 10n ** 17n;
    let q = scaled >> sh;
    const rem = scaled - (q << sh);
    const half = 1n << (sh - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
    const digits = q.toString().padStart(18, "0");
    const frac = digits.slice(-17).replace(/0+$/, "");
    out = digits.slice(0, -17) + (frac === "" ? "" : "." + frac);
  }
  if (x.neg && out !== "0") out = "-" + out;
  return out;
}

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] */
export function lcsCommand(c: Client, argv: string[]): void {
  const va = lookupRead(c, argv[1]);
  const vb = lookupRead(c, argv[2]);
  if (
    (va !== undefined && typeof va !== "string") || (vb !== undefined && typeof vb !== "string")
  ) {
    return c.error("ERR The specified keys must contain string values");
  }
  const a = (va as string | undefined) ?? "";
  const b = (vb as string | undefined) ?? "";
  let getLen = false, getIdx = false, withMatchLen = false, minMatchLen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === "idx") getIdx = true;
    else if (opt === "len") getLen = true;
    else if (opt === "withmatchlen") withMatchLen = true;
    else if (opt === "minmatchlen" && j + 1 < argv.length) {
      const n = parseInteger(argv[++j]);
      if (n === null) return c.error("ERR value is not an integer or out of range");
      minMatchLen = Math.max(0, n);
    } else return c.error(E_SYNTAX);
  }
  if (getLen && getIdx) {
    return c.error("ERR If you want both the length and indexes, please just use IDX.");
  }
  const alen = a.length, blen = b.length, w = blen + 1;
  const cells = (alen + 1) * (blen + 1);
  if (cells * 4 > c.server.config.int("proto-max-bulk-len")) {
    return c.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  }
  let t: Uint32Array;
  try {
    t = new Uint32Array(cells);
  } catch {
    return c.error("ERR Insufficient memory, failed allocating transient memory for LCS");
  }
  for (let i = 1; i <= alen; i++) {
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= blen; j++) {
      if (ai === b.charCodeAt(j - 1)) t[i * w + j] = t[(i - 1) * w + j - 1] + 1;
      else {
        const l1 = t[(i - 1) * w + j], l2 = t[i * w + j - 1];
        t[i * w + j] = l1 > l2 ? l1 : l2;
      }
    }
  }
  const total = t[alen * w + blen];
  if (getLen) return c.out.int(total);
  // Walk back from the end, collecting the LCS bytes and the matching ranges (Redis's order).
  const res: string[] = new Array(total);
  const ranges: number[][] = [];
  let idx = total, i = alen, j = blen;
  let aStart = alen, aEnd = 0, bStart = 0, bEnd = 0;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      res[idx - 1] = a[i - 1];
      if (aStart === alen) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else emit = true;
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (t[(i - 1) * w + j] > t[i * w + j - 1]) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    const matchLen = aEnd - aStart + 1;
    if (emit) {
      if (minMatchLen === 0 || matchLen >= minMatchLen) {
        ranges.push([aStart, aEnd, bStart, bEnd, matchLen]);
      }
      aStart = alen;
    }
  }
  if (!getIdx) return c.out.bulk(res.join(""));
  c.out.map(2);
  c.out.bulk("matches");
  c.out.array(ranges.length);
  for (const r of ranges) {
    c.out.array(withMatchLen ? 3 : 2);
    c.out.array(2);
    c.out.int(r[0]);
    c.out.int(r[1]);
    c.out.array(2);
    c.out.int(r[2]);
    c.out.int(r[3]);
    if (withMatchLen) c.out.int(r[4]);
  }
  c.out.bulk("len");
  c.out.int(total);
}
