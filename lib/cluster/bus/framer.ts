// Splits a cluster bus TCP stream into whole packets. Like clusterReadHandler, the first 8 bytes
// (signature + totlen) decide the packet size; a bad signature or length poisons the stream,
// since there is no way to find the next packet boundary.
import { HEADER_SIZE } from "./messages.ts";

/** Default largest accepted packet. Redis 7.0 has no cap; this bounds memory per link. */
export const DEFAULT_MAX_PACKET = 1 << 30;

/** Options for PacketFramer. */
export interface FramerOptions {
  /** Largest totlen accepted (bytes); larger ones are a stream error. */
  maxPacketLength?: number;
}

/** Incremental packet splitter: push() TCP chunks in any sizes, then next() until null. */
export class PacketFramer {
  private chunks: Uint8Array[] = [];
  /** Read position inside chunks[0]. */
  private head = 0;
  private size = 0;
  private failed: string | null = null;
  private readonly max: number;

  constructor(opts: FramerOptions = {}) {
    this.max = opts.maxPacketLength ?? DEFAULT_MAX_PACKET;
  }

  /** Bytes buffered and not yet returned as a packet. */
  get buffered(): number {
    return this.size;
  }

  /** The stream error, once one happened (it is permanent). */
  get error(): string | null {
    return this.failed;
  }

  /** Adds bytes read from the socket; they are copied, so the caller may reuse its buffer. */
  push(chunk: Uint8Array): void {
    if (this.failed || chunk.length === 0) return;
    this.chunks.push(chunk.slice());
    this.size += chunk.length;
  }

  /** The next whole packet, null if more bytes are needed, or an error string (then close). */
  next(): Uint8Array | string | null {
    if (this.failed) return this.failed;
    if (this.size < 8) return null;
    const first = this.peek(8);
    if (first[0] !== 0x52 || first[1] !== 0x43 || first[2] !== 0x6d || first[3] !== 0x62) {
      return this.fail("bad signature (expected RCmb)");
    }
    const totlen = ((first[4] << 24) | (first[5] << 16) | (first[6] << 8) | first[7]) >>> 0;
    if (totlen < HEADER_SIZE) return this.fail(`bad message length ${totlen}`);
    if (totlen > this.max) {
      return this.fail(`message length ${totlen} over the ${this.max} byte limit`);
    }
    if (this.size < totlen) return null;
    return this.take(totlen);
  }

  /** Pushes a chunk and drains every complete packet; error is set if the stream went bad. */
  feed(chunk: Uint8Array): { packets: Uint8Array[]; error: string | null } {
    this.push(chunk);
    const packets: Uint8Array[] = [];
    while (true) {
      const p = this.next();
      if (p === null) return { packets, error: null };
      if (typeof p === "string") return { packets, error: p };
      packets.push(p);
    }
  }

  private fail(reason: string): string {
    this.failed = reason;
    this.chunks = [];
    this.head = 0;
    this.size = 0;
    return reason;
  }

  /** The first n buffered bytes without consuming them (n <= size). */
  private peek(n: number): Uint8Array {
    const c = this.chunks[0];
    if (c.length - this.head >= n) return c.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let got = 0;
    for (let i = 0; got < n; i++) {
      const part = this.chunks[i].subarray(i === 0 ? this.head : 0);
      const k = Math.min(part.length, n - got);
      out.set(part.subarray(0, k), got);
      got += k;
    }
    return out;
  }

  /** Removes and returns the first n bytes (n <= size). */
  private take(n: number): Uint8Array {
    const c = this.chunks[0];
    if (c.length - this.head >= n) {
      // Chunks are private copies, so a view is safe to hand out.
      const out = c.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    let got = 0;
    let i = 0;
    let h = this.head;
    while (got < n) {
      const part = this.chunks[i];
      const k = Math.min(part.length - h, n - got);
      out.set(part.subarray(h, h + k), got);
      got += k;
      h += k;
      if (h === part.length) {
        i++;
        h = 0;
      }
    }
    // One splice, not a shift per chunk: byte-by-byte input must not go quadratic.
    this.chunks.splice(0, i);
    this.head = h;
    this.size -= n;
    return out;
  }

  private advance(n: number): void {
    this.head += n;
    this.size -= n;
    if (this.head === this.chunks[0].length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
