// TEMPORARY placeholder until the wire codec lands.
import type { BusMessage } from "../state.ts";
/** Encodes a message. */
export function encodeBus(_m: BusMessage): Uint8Array {
  throw new Error("codec not available");
}
/** Decodes a packet or returns a reason. */
export function decodeBus(_b: Uint8Array): BusMessage | string {
  return "codec not available";
}
/** Splits a TCP stream into packets. */
export class PacketFramer {
  /** Adds bytes. */
  push(_b: Uint8Array): void {}
  /** Next packet, null if incomplete, or an error string. */
  next(): Uint8Array | string | null {
    return null;
  }
}
