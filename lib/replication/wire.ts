// Small pieces both replication roles share: the stream encoding of a command, Redis's
// unixtime, and a buffered connection for the replica's line-oriented handshake and RDB transfer.
import { Buffer } from "node:buffer";
import { putLatin1 } from "../protocol/bytes.ts";

/** An all-zero replication id (cleared replid2). */
export const ZERO_ID = "0".repeat(40);

/** Seconds since the epoch (Redis's server.unixtime). */
export function unixTime(): number {
  return Math.floor(Date.now() / 1000);
}

/** Writes `<prefix><n>\r\n` at p; returns the end. */
function putHeader(b: Uint8Array, p: number, prefix: number, n: number): number {
  b[p++] = prefix;
  if (n < 10) b[p++] = 48 + n;
  else p = putLatin1(b, String(n), p);
  b[p++] = 13;
  b[p++] = 10;
  return p;
}

/** Bytes of `<prefix><n>\r\n`. */
function headerLen(n: number): number {
  return (n < 10 ? 1 : n < 100 ? 2 : String(n).length) + 3;
}

/** Encodes argv as a RESP multibulk (the replication stream format). Runs for every write a
 * master with a backlog executes, so it writes the bytes itself (no string concatenation). */
export function encodeCommand(argv: string[]): Uint8Array {
  let len = headerLen(argv.length);
  for (let i = 0; i < argv.length; i++) len += headerLen(argv[i].length) + argv[i].length + 2;
  const b = new Uint8Array(len);
  let o = putHeader(b, 0, 42, argv.length);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    o = putHeader(b, o, 36, a.length);
    o = putLatin1(b, a, o);
    b[o++] = 13;
    b[o++] = 10;
  }
  return b;
}

/** Latin1 bytes of a string. */
export function bytesOf(s: string): Uint8Array {
  return Buffer.from(s, "latin1");
}

/** Joins chunks into one array. */
export function concatBytes(chunks: Uint8Array[], total?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const n = total ?? chunks.reduce((a, c) => a + c.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Writes all of `b` to a connection. */
export async function writeAll(
  conn: { write(b: Uint8Array): Promise<number> },
  b: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < b.length) off += await conn.write(b.subarray(off));
}

/** A connection with a read buffer: lines for the handshake, raw chunks for the transfer. */
export class BufferedConn {
  private buf: Buffer = Buffer.alloc(0);

  /** `onRead` sees every byte count read from the socket (I/O time, stats). */
  constructor(public conn: Deno.Conn, private onRead: (n: number) => void = () => {}) {}

  private async fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    this.onRead(n);
    this.buf = this.buf.length === 0
      ? Buffer.from(chunk.buffer, 0, n)
      : Buffer.concat([this.buf, chunk.subarray(0, n)]);
    return true;
  }

  /** Reads one line (without CR LF), like Redis's syncReadLine; throws when the link closes. */
  async readLine(): Promise<string> {
    while (true) {
      const i = this.buf.indexOf(10);
      if (i >= 0) {
        const end = i > 0 && this.buf[i - 1] === 13 ? i - 1 : i;
        const line = this.buf.toString("latin1", 0, end);
        this.buf = this.buf.subarray(i + 1);
        return line;
      }
      if (!(await this.fill())) throw new Error("connection lost");
    }
  }

  /** Buffered bytes if any, else the next socket read; null at EOF. */
  async readChunk(): Promise<Uint8Array | null> {
    if (this.buf.length === 0 && !(await this.fill())) return null;
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }

  /** Puts bytes back in front of the buffer (read past the end of the RDB payload). */
  unread(b: Uint8Array): void {
    if (b.length === 0) return;
    this.buf = this.buf.length === 0 ? Buffer.from(b) : Buffer.concat([b, this.buf]);
  }

  /** Takes whatever is buffered. */
  drain(): Uint8Array {
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }

  /** Writes a latin1 string or bytes. */
  write(data: string | Uint8Array): Promise<void> {
    return writeAll(this.conn, typeof data === "string" ? bytesOf(data) : data);
  }

  /** Closes the socket (idempotent). */
  close(): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

/** Reads exactly `size` payload bytes ($len transfer); bytes past the end stay buffered. */
export async function readExactly(
  bc: BufferedConn,
  size: number,
  progress: (n: number) => void,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < size) {
    const b = await bc.readChunk();
    if (b === null) throw new Error("connection lost");
    const take = Math.min(b.length, size - total);
    chunks.push(b.subarray(0, take));
    if (take < b.length) bc.unread(b.subarray(take));
    total += take;
    progress(take);
  }
  return concatBytes(chunks, total);
}

/** Reads an EOF-marked payload ($EOF:<mark> transfer) up to the mark, which is consumed. */
export async function readUntilMark(
  bc: BufferedConn,
  mark: Uint8Array,
  progress: (n: number) => void,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let tail: Buffer = Buffer.alloc(0);
  while (true) {
    const b = await bc.readChunk();
    if (b === null) throw new Error("connection lost");
    progress(b.length);
    // The mark may straddle two reads: search the previous tail plus this chunk.
    const win = Buffer.concat([tail, b]);
    const at = win.indexOf(mark);
    if (at >= 0) {
      const end = total - tail.length + at;
      const all = concatBytes([...chunks, b], total + b.length);
      bc.unread(all.subarray(end + mark.length));
      return all.subarray(0, end);
    }
    chunks.push(b);
    total += b.length;
    tail = win.subarray(Math.max(0, win.length - (mark.length - 1)));
  }
}
