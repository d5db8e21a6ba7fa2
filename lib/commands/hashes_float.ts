// 80-bit x87 long double emulation with bigints, so HINCRBYFLOAT parses, adds and prints exactly
// like Redis on x86-64 (strtold, long double addition, "%.17Lf"): e.g. 0.1 + 0.2 is "0.3", and
// values beyond the double range such as 1e4000 stay finite. A value is sign * m * 2^e, m < 2^64.

/** An x87 extended-precision value. */
export interface LongDouble {
  neg: boolean;
  m: bigint;
  e: number;
  inf: boolean;
}

/** Positive zero. */
export const LD_ZERO: LongDouble = { neg: false, m: 0n, e: 0, inf: false };
/** Values at or above 2^16384 overflow to infinity. */
const LD_MAX_EXP = 16384;
const LD_RE = /^([+-]?)(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))(?:[eE]([+-]?[0-9]+))?$/;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Rounds n * 2^e (n >= 0, `sticky` = nonzero bits below n) to a 64-bit mantissa, half to even. */
function ldRound(neg: boolean, n: bigint, e: number, sticky: boolean): LongDouble {
  const bl = bitLength(n);
  if (bl === 0) return LD_ZERO;
  let m = n;
  if (bl > 64) {
    const shift = BigInt(bl - 64);
    m = n >> shift;
    const rem = n & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (sticky || (m & 1n) === 1n))) m++;
    e += bl - 64;
    if (m === 1n << 64n) {
      m >>= 1n;
      e++;
    }
  }
  if (e + 64 > LD_MAX_EXP) return { neg, m: 0n, e: 0, inf: true };
  return { neg, m, e, inf: false };
}

/** Parses like Redis's string2ld (strtold on the whole string); null when invalid. */
export function ldParse(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= 5120) return null;
  const lower = s.toLowerCase();
  const bare = lower[0] === "+" || lower[0] === "-" ? lower.slice(1) : lower;
  if (bare === "inf" || bare === "infinity") {
    return { neg: lower[0] === "-", m: 0n, e: 0, inf: true };
  }
  if (/^[+-]?0x[0-9a-f]+$/.test(lower)) {
    const neg = lower[0] === "-";
    return ldRound(neg, BigInt(lower.slice(lower.indexOf("x") - 1)), 0, false);
  }
  const p = LD_RE.exec(s);
  if (p === null) return null;
  const neg = p[1] === "-";
  const intPart = p[2] ?? "";
  const frac = p[3] ?? p[4] ?? "";
  const digits = (intPart + frac).replace(/^0+/, "");
  if (digits === "") return neg ? { ...LD_ZERO, neg } : LD_ZERO;
  const exp10 = Number(p[5] ?? "0") - frac.length;
  // Magnitude is about 10^(digits + exp10): reject what strtold reports as ERANGE.
  const mag = digits.length + exp10;
  if (mag > 4933) return null;
  if (mag < -4950) return null;
  const d = BigInt(digits);
  if (exp10 >= 0) {
    const r = ldRound(neg, d * 10n ** BigInt(exp10), 0, false);
    return r.inf ? null : r;
  }
  const den = 10n ** BigInt(-exp10);
  const k = Math.max(0, 66 + bitLength(den) - bitLength(d));
  const num = d << BigInt(k);
  const q = num / den;
  return ldRound(neg, q, -k, num - q * den !== 0n);
}

/** a + b rounded to long double; null for NaN (inf - inf). */
export function ldAdd(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg !== b.neg) return null;
    return a.inf ? a : b;
  }
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const x = a.m << BigInt(a.e - e);
  const y = b.m << BigInt(b.e - e);
  const sum = (a.neg ? -x : x) + (b.neg ? -y : y);
  return sum < 0n ? ldRound(true, -sum, e, false) : ldRound(false, sum, e, false);
}

const P17 = 10n ** 17n;

/** Formats like ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros, "-0" as "0". */
export function ldFormatHuman(x: LongDouble): string {
  if (x.inf) return x.neg ? "-inf" : "inf";
  let q: bigint;
  if (x.e >= 0) q = (x.m << BigInt(x.e)) * P17;
  else {
    const num = x.m * P17;
    const sh = BigInt(-x.e);
    q = num >> sh;
    const rem = num - (q << sh);
    const half = 1n << (sh - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q++;
  }
  const s = q.toString().padStart(18, "0");
  const frac = s.slice(-17).replace(/0+$/, "");
  const out = frac === "" ? s.slice(0, -17) : s.slice(0, -17) + "." + frac;
  return x.neg && out !== "0" ? "-" + out : out;
}
