// The replication backlog: the last `size` bytes of the replication stream, so a replica that
// lost its link can continue (PSYNC) from the offset it reached instead of a full sync.
// Offsets are Redis's: the stream's first byte is offset 1, master_repl_offset is the offset of
// the last byte written. Memory grows with the data up to `size`, then the buffer is circular.

const MIN_CAPACITY = 64 * 1024;

/** A circular byte buffer addressed by replication offsets. */
export class Backlog {
  private buf: Uint8Array;
  /** Write position in buf (equals histlen until the buffer wraps). */
  private idx = 0;
  /** Bytes of history held (repl_backlog_histlen). */
  histlen = 0;
  /** Offset of the last byte held; histlen bytes end here. */
  private end: number;

  /** `lastOffset` is master_repl_offset when the backlog is created (no history yet). */
  constructor(public size: number, lastOffset: number) {
    this.buf = new Uint8Array(Math.min(size, MIN_CAPACITY));
    this.end = lastOffset;
  }

  /** Offset of the first byte held (repl_backlog_first_byte_offset). */
  get offset(): number {
    return this.end - this.histlen + 1;
  }

  /** Bytes allocated (mem_replication_backlog). */
  get allocated(): number {
    return this.buf.length;
  }

  /** Appends stream bytes. */
  append(b: Uint8Array): void {
    const n = b.length;
    if (n === 0) return;
    this.end += n;
    if (this.buf.length < this.size && this.histlen + n > this.buf.length) {
      // Not wrapped yet (data at [0, histlen)): grow toward the configured size.
      const want = Math.min(this.size, Math.max(this.buf.length * 2, this.histlen + n));
      const nb = new Uint8Array(want);
      nb.set(this.buf.subarray(0, this.histlen));
      this.buf = nb;
      this.idx = this.histlen;
    }
    this.appendCircular(b);
  }

  private appendCircular(b: Uint8Array): void {
    const cap = this.buf.length;
    if (this.idx + b.length < cap) {
      // The usual case: no wrap.
      this.buf.set(b, this.idx);
      this.idx += b.length;
      this.histlen = Math.min(cap, this.histlen + b.length);
      return;
    }
    let src = b;
    if (src.length >= cap) {
      src = src.subarray(src.length - cap);
      this.buf.set(src, 0);
      this.idx = 0;
      this.histlen = cap;
      return;
    }
    const first = Math.min(src.length, cap - this.idx);
    this.buf.set(src.subarray(0, first), this.idx);
    if (first < src.length) this.buf.set(src.subarray(first), 0);
    this.idx = (this.idx + src.length) % cap;
    this.histlen = Math.min(cap, this.histlen + src.length);
  }

  /** A copy of the bytes from absolute offset `from` (inclusive) to the end. */
  copyFrom(from: number): Uint8Array {
    const skip = from - this.offset;
    const n = this.histlen - skip;
    if (skip < 0 || n < 0) throw new RangeError(`offset ${from} is outside the backlog`);
    const out = new Uint8Array(n);
    if (n === 0) return out;
    const cap = this.buf.length;
    // The oldest byte is at idx when full, at 0 when not yet wrapped.
    const oldest = this.histlen === cap ? this.idx : (this.idx - this.histlen + cap) % cap;
    const start = (oldest + skip) % cap;
    const first = Math.min(n, cap - start);
    out.set(this.buf.subarray(start, start + first));
    if (first < n) out.set(this.buf.subarray(0, n - first), first);
    return out;
  }

  /** Changes the size, keeping the newest history that still fits (CONFIG SET repl-backlog-size). */
  resize(size: number): void {
    if (size === this.size) return;
    const keep = Math.min(this.histlen, size);
    const data = this.copyFrom(this.end - keep + 1);
    this.size = size;
    this.buf = new Uint8Array(Math.min(size, Math.max(MIN_CAPACITY, keep)));
    this.idx = 0;
    this.histlen = 0;
    const endBefore = this.end;
    this.end -= keep;
    this.append(data);
    this.end = endBefore;
  }
}
