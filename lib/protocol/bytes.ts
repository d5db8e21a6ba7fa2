// Latin1 (one char per byte) conversions: node:buffer's native latin1Slice (present at run time,
// absent from types), short decodes through String.fromCharCode, and putLatin1 for writes.
import { Buffer } from "node:buffer";

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

const fcc = String.fromCharCode;

/** Decodes buf[s,end) as latin1. Up to 16 bytes (command names, most keys and small values) go
 * through String.fromCharCode, about twice as fast as the native latin1Slice call. */
export function latin1Decode(b: Buffer, s: number, end: number): string {
  switch (end - s) {
    case 0:
      return "";
    case 1:
      return fcc(b[s]);
    case 2:
      return fcc(b[s], b[s + 1]);
    case 3:
      return fcc(b[s], b[s + 1], b[s + 2]);
    case 4:
      return fcc(b[s], b[s + 1], b[s + 2], b[s + 3]);
    case 5:
      return fcc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4]);
    case 6:
      return fcc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5]);
    case 7:
      return fcc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6]);
    case 8:
      return fcc(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7]);
    case 9:
      return fcc(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
      );
    case 10:
      return fcc(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
      );
    case 11:
      return fcc(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
        b[s + 10],
      );
    case 12:
      return fcc(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
        b[s + 10],
        b[s + 11],
      );
    case 13:
      return fcc(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
        b[s + 10],
        b[s + 11],
        b[s + 12],
      );
    case 14:
      return fcc(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
        b[s + 10],
        b[s + 11],
        b[s + 12],
        b[s + 13],
      );
    case 15:
      return fcc(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
        b[s + 10],
        b[s + 11],
        b[s + 12],
        b[s + 13],
        b[s + 14],
      );
    case 16:
      return fcc(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
        b[s + 10],
        b[s + 11],
        b[s + 12],
        b[s + 13],
        b[s + 14],
        b[s + 15],
      );
  }
  return (b as unknown as Latin1Buffer).latin1Slice(s, end);
}
