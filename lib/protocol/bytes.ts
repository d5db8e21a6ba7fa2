// Typed access to node:buffer's fast latin1 primitives (present at run time, absent from types).
import { Buffer } from "node:buffer";

interface Latin1Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number): number;
}

/** Decodes buf[start,end) as latin1 (one char per byte). */
export function latin1Slice(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as Latin1Buffer).latin1Slice(start, end);
}

/** Writes a latin1 string at offset; returns bytes written. The caller reserves room. */
export function latin1Write(buf: Buffer, s: string, offset: number): number {
  return (buf as unknown as Latin1Buffer).latin1Write(s, offset);
}
