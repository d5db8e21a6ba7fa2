// Argument parsing and shared error texts, exactly as Redis 7.0 words them.

export const E_SYNTAX = "ERR syntax error";
export const E_WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
export const E_NOT_INT = "ERR value is not an integer or out of range";
export const E_NOT_FLOAT = "ERR value is not a valid float";
export const E_OVERFLOW = "ERR increment or decrement would overflow";
export const E_NO_KEY = "ERR no such key";
export const E_OUT_OF_RANGE = "ERR index out of range";
export const E_TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range";
export const E_TIMEOUT_NEGATIVE = "ERR timeout is negative";

const INT_RE = /^-?[1-9][0-9]{0,18}$|^0$/;

/** Parses a 64-bit signed integer like string2ll; null if invalid or out of range. */
export function parseInteger(s: string): number | null {
  if (!INT_RE.test(s)) return null;
  const n = Number(s);
  if (!Number.isSafeInteger(n)) {
    const b = BigInt(s);
    if (b > 9223372036854775807n || b < -9223372036854775808n) return null;
    return n; // precision loss beyond 2^53 is accepted; callers needing exactness use parseBigInt
  }
  return n;
}

/** Parses a 64-bit signed integer as bigint; null if invalid or out of range. */
export function parseBigInt(s: string): bigint | null {
  if (!INT_RE.test(s)) return null;
  const b = BigInt(s);
  if (b > 9223372036854775807n || b < -9223372036854775808n) return null;
  return b;
}

const FLOAT_RE = /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity)$/i;

/** Parses a double like Redis's string2d/strtod (accepts inf, rejects nan and spaces). */
export function parseFloatStrict(s: string): number | null {
  if (s.length === 0 || !FLOAT_RE.test(s)) return null;
  const lower = s.toLowerCase();
  if (lower.endsWith("inf") || lower.endsWith("infinity")) {
    return lower.startsWith("-") ? -Infinity : Infinity;
  }
  const d = Number(s);
  return Number.isNaN(d) ? null : d;
}

/** Glob-style pattern match, like Redis's stringmatchlen (supports * ? [..] [^..] \\x). */
export function globMatch(pattern: string, str: string, nocase = false): boolean {
  return matchAt(pattern, 0, str, 0, nocase, 0) === MATCH;
}

const MATCH = 1;
const NO_MATCH = 0;
/** The rest of the pattern after a '*' matched nowhere in the rest of the string: no longer
 * match of an earlier '*' can help either, so every enclosing '*' loop gives up (Redis's
 * skipLongerMatches, which keeps patterns like a*a*a*...b linear). */
const GIVE_UP = -1;

function matchAt(
  p: string,
  pi: number,
  s: string,
  si: number,
  nocase: boolean,
  depth: number,
): number {
  if (depth > 1000) return NO_MATCH;
  const eq = (a: string, b: string) => nocase ? a.toLowerCase() === b.toLowerCase() : a === b;
  while (pi < p.length) {
    const c = p[pi];
    if (c === "*") {
      while (p[pi + 1] === "*") pi++;
      if (pi + 1 === p.length) return MATCH;
      for (let k = si; k <= s.length; k++) {
        const r = matchAt(p, pi + 1, s, k, nocase, depth + 1);
        if (r !== NO_MATCH) return r;
      }
      return GIVE_UP;
    } else if (c === "?") {
      if (si >= s.length) return NO_MATCH;
      si++;
    } else if (c === "[") {
      if (si >= s.length) return NO_MATCH;
      pi++;
      const not = p[pi] === "^";
      if (not) pi++;
      let match = false;
      while (true) {
        if (pi >= p.length) {
          pi--;
          break;
        }
        if (p[pi] === "\\" && pi + 1 < p.length) {
          pi++;
          if (eq(p[pi], s[si])) match = true;
        } else if (p[pi] === "]") {
          break;
        } else if (pi + 2 < p.length && p[pi + 1] === "-") {
          let start = p.charCodeAt(pi);
          let end = p.charCodeAt(pi + 2);
          let ch = s.charCodeAt(si);
          if (start > end) [start, end] = [end, start];
          if (nocase) {
            start = String.fromCharCode(start).toLowerCase().charCodeAt(0);
            end = String.fromCharCode(end).toLowerCase().charCodeAt(0);
            ch = s[si].toLowerCase().charCodeAt(0);
          }
          pi += 2;
          if (ch >= start && ch <= end) match = true;
        } else if (eq(p[pi], s[si])) {
          match = true;
        }
        pi++;
      }
      if (not) match = !match;
      if (!match) return NO_MATCH;
      si++;
    } else if (c === "\\" && pi + 1 < p.length) {
      pi++;
      if (si >= s.length || !eq(p[pi], s[si])) return NO_MATCH;
      si++;
    } else {
      if (si >= s.length || !eq(c, s[si])) return NO_MATCH;
      si++;
    }
    pi++;
  }
  return si === s.length ? MATCH : NO_MATCH;
}

/** Encodes a JS (UTF-16) string as a latin1 byte string holding its UTF-8 bytes. */
export function utf8ToLatin1(s: string): string {
  const b = new TextEncoder().encode(s);
  let out = "";
  for (let i = 0; i < b.length; i += 8192) out += String.fromCharCode(...b.subarray(i, i + 8192));
  return out;
}

/** Converts a latin1 byte string to a Uint8Array. */
export function latin1ToBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** Converts bytes to a latin1 byte string. */
export function bytesToLatin1(b: Uint8Array): string {
  let out = "";
  for (let i = 0; i < b.length; i += 8192) out += String.fromCharCode(...b.subarray(i, i + 8192));
  return out;
}
