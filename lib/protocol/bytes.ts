// Latin1 (one char per byte) conversions: node:buffer's native latin1Slice (present at run time,
// absent from types), short decodes through String.fromCharCode, and putLatin1 for writes.
import { Buffer } from "node:buffer";
import { decodeShort, SHORT_MAX } from "./latin1_short.ts";

interface Latin1Buffer {
  latin1Slice(start: number, end: number): string;
}

/** Decodes buf[start,end) as latin1 (one char per byte). */
export function latin1Slice(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as Latin1Buffer).latin1Slice(start, end);
}

const encoder = new TextEncoder();

/** Writes latin1 text into buf at p (the caller reserved s.length bytes); returns the end. A JS
 * loop for short strings; longer ones through TextEncoder.encodeInto, exact for ASCII (it then
 * reads every char into exactly n bytes) and several times faster. Deno's Buffer#latin1Write is
 * a JS polyfill that first builds an array of the char codes: avoid it on hot paths. */
export function putLatin1(buf: Uint8Array, s: string, p: number): number {
  const n = s.length;
  if (n > 32) {
    const view = new Uint8Array(buf.buffer, buf.byteOffset + p, n);
    if (encoder.encodeInto(s, view).read === n) return p + n;
  }
  for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
  return p;
}

/** Decodes buf[s,end) as latin1. Up to 32 bytes (command names, most keys, fields, members and
 * small values) go through unrolled String.fromCharCode calls (latin1_short.ts), about twice as
 * fast as the native latin1Slice call. */
export function latin1Decode(b: Buffer, s: number, end: number): string {
  const n = end - s;
  if (n <= SHORT_MAX) return decodeShort(b, s, n);
  return (b as unknown as Latin1Buffer).latin1Slice(s, end);
}
