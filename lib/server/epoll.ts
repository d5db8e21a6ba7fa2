// Client sockets on Linux through the server's own epoll loop, the way redis-server's ae.c runs
// them: non-blocking sockets, level-triggered readiness, one read and one write per batch, all
// synchronous calls into libc through Deno's FFI (socket, bind, listen, accept4, read, write,
// epoll_*). Deno's own sockets cost a promise, an op dispatch and a tokio wake-up per read and
// per write; at -P 16 that was about a quarter of the CPU per request of a minimal server
// (ARCHITECTURE.md, "Client sockets are the server's own").
//
// The loop polls with epoll_wait on the JS thread while sockets are busy (sleeping there for at
// most 1 ms when none is ready yet), and waits on a Deno pool thread (a non-blocking FFI call,
// which returns a promise) once they are idle, or when it has held the thread for 10 ms: timers,
// signals and Deno's own sockets (cluster bus, replication links, MIGRATE) run in those turns.
//
// Used when the platform is Linux and libc loads (the --allow-all the launcher passes includes
// --allow-ffi); TSREDIS_IO=deno selects Deno's sockets instead. Listeners on names rather than
// IP literals use Deno's sockets too (listener.ts).
import { log } from "../log.ts";
import type { Transport } from "./client.ts";

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;
const EPOLLIN = 0x1;
const EPOLLOUT = 0x4;
const EPOLLERR = 0x8;
const EPOLLHUP = 0x10;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;
const EINTR = 4;
const EAGAIN = 11;
/** struct epoll_event: u32 events, then the 64-bit data word, packed on x86-64 (12 bytes) and
 * naturally aligned elsewhere (16 bytes). */
const EV_SIZE = Deno.build.arch === "x86_64" ? 12 : 16;
const EV_DATA = Deno.build.arch === "x86_64" ? 4 : 8;
/** Events fetched per epoll_wait. */
const MAX_EVENTS = 256;
/** Longest the loop keeps the JS thread while sockets stay ready, in ms. A turn of Deno's event
 * loop (timers, bus links, the master link) costs 100-200 us of wall time under load (the
 * epoll_wait on the pool thread): every 2 ms that was 2.3-4.7% of the time, every 10 ms 1-2%. */
const MAX_HOLD_MS = 10;
/** Accepts per readiness of a listening socket (Redis MAX_ACCEPTS_PER_CALL). */
const MAX_ACCEPTS = 1000;

// Lengths go as "usize" BigInts: a correct size_t on the C side and V8's fast call path (a
// "usize" passed a Number takes the slow path). Results of read/write are ssize_t, read as
// i32: every length passed is below 2^31.
const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  epoll_wait_blocking: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  strerror: { parameters: ["i32"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | null | undefined;
let errnoView: Deno.UnsafePointerView;

/** libc through FFI, or null where the epoll loop is not used. */
function lib(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  try {
    if (Deno.build.os !== "linux" || Deno.env.get("TSREDIS_IO") === "deno") return null;
    const l = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
    errnoView = new Deno.UnsafePointerView(l.__errno_location()!);
    libc = l;
  } catch {
    // no FFI permission or no glibc: Deno's sockets
  }
  return libc;
}

/** Whether client sockets go through the epoll loop. */
export function epollEnabled(): boolean {
  return lib() !== null;
}

/** errno of the last failed call on this (the JS) thread. */
function errno(): number {
  return errnoView.getInt32();
}

function errText(e: number): string {
  const p = libc!.strerror(e);
  return p === null ? `errno ${e}` : Deno.UnsafePointerView.getCString(p);
}

let beforeSleep: () => void = () => {};

/** Sets what runs after each batch of socket events (Redis's beforeSleep): the deferred writes. */
export function setBeforeSleep(fn: () => void): void {
  beforeSleep = fn;
}

/** Something registered with the loop: told when its socket is readable or writable. */
interface Handler {
  readable(): void;
  writable(): void;
}

/** The epoll set and the loop that drives it; runs while any socket is registered. */
class Loop {
  private ep = -1;
  private handlers = new Map<number, Handler>();
  private running = false;
  private events = new Uint8Array(EV_SIZE * MAX_EVENTS);
  private eventsView = new DataView(this.events.buffer);
  /** The epoll_event of epoll_ctl calls; its data word is the fd. */
  private ev = new Uint8Array(EV_SIZE);
  private evView = new DataView(this.ev.buffer);

  add(fd: number, h: Handler, events: number): void {
    if (this.ep < 0) this.ep = libc!.epoll_create1(SOCK_CLOEXEC);
    this.ctl(EPOLL_CTL_ADD, fd, events);
    this.handlers.set(fd, h);
    if (!this.running) this.run();
  }

  modify(fd: number, events: number): void {
    if (this.handlers.has(fd)) this.ctl(EPOLL_CTL_MOD, fd, events);
  }

  remove(fd: number): void {
    if (this.handlers.delete(fd)) this.ctl(EPOLL_CTL_DEL, fd, 0);
  }

  private ctl(op: number, fd: number, events: number): void {
    this.evView.setUint32(0, events, true);
    this.evView.setUint32(EV_DATA, fd, true);
    this.evView.setUint32(EV_DATA + 4, 0, true);
    libc!.epoll_ctl(this.ep, op, fd, this.ev);
  }

  private async run(): Promise<void> {
    this.running = true;
    const L = libc!;
    let held = performance.now();
    try {
      while (this.handlers.size > 0) {
        let n: number;
        if (performance.now() - held < MAX_HOLD_MS) {
          // Busy: the next requests are usually a few microseconds away. Sleeping for them in the
          // kernel on this thread (up to 1 ms; ready events return at once) costs far less than
          // a turn through the pool thread.
          n = L.epoll_wait(this.ep, this.events, MAX_EVENTS, 1);
          if (n > 0) {
            this.dispatch(n);
            await null; // let promise callbacks of this batch run
            continue;
          }
        } else {
          n = L.epoll_wait(this.ep, this.events, MAX_EVENTS, 0);
          if (n > 0) this.dispatch(n);
        }
        n = await L.epoll_wait_blocking(this.ep, this.events, MAX_EVENTS, n > 0 ? 0 : 1000);
        held = performance.now();
        if (n > 0) this.dispatch(n);
      }
    } finally {
      this.running = false;
    }
  }

  private dispatch(n: number): void {
    const v = this.eventsView;
    for (let i = 0; i < n; i++) {
      const flags = v.getUint32(i * EV_SIZE, true);
      const fd = v.getUint32(i * EV_SIZE + EV_DATA, true);
      try {
        if (flags & (EPOLLIN | EPOLLERR | EPOLLHUP)) this.handlers.get(fd)?.readable();
        if (flags & (EPOLLOUT | EPOLLERR | EPOLLHUP)) this.handlers.get(fd)?.writable();
      } catch (e) {
        log.warning(`Event loop: socket ${fd}: ${(e as Error).stack ?? e}`);
      }
    }
    try {
      beforeSleep();
    } catch (e) {
      log.warning(`Event loop: ${(e as Error).stack ?? e}`);
    }
  }
}

const loop = new Loop();

/** A connected, non-blocking client socket. */
export class SocketTransport implements Transport, Handler {
  closed = false;
  /** Called when the socket is readable (or hung up): the owner reads with read(). */
  onReadable: () => void = () => {};
  private events = EPOLLIN;
  private writeWaiters: (() => void)[] = [];

  constructor(readonly fd: number) {}

  /** Starts delivering readiness to onReadable. */
  start(): void {
    loop.add(this.fd, this, this.events);
  }

  /** Reads into b: bytes read, 0 at end of stream, -1 when nothing is ready. Throws on errors. */
  read(b: Uint8Array): number {
    while (true) {
      const n = libc!.read(this.fd, b, BigInt(b.length));
      if (n >= 0) return n;
      const e = errno();
      if (e === EAGAIN) return -1;
      if (e !== EINTR) throw new Error(errText(e));
    }
  }

  /** Writes the first n bytes of b as far as the socket takes them now: bytes written (0 when
   * its buffer is full), or -1 when the connection failed. */
  writeNow(b: Uint8Array, n: number): number {
    if (this.closed) return -1;
    while (true) {
      const w = libc!.write(this.fd, b, BigInt(n));
      if (w >= 0) return w;
      const e = errno();
      if (e === EAGAIN) return 0;
      if (e !== EINTR) return -1;
    }
  }

  /** Writes b, waiting for the socket to take at least a part of it; resolves to the bytes
   * written. */
  async write(b: Uint8Array): Promise<number> {
    if (b.length === 0) return 0;
    while (true) {
      const w = this.writeNow(b, b.length);
      if (w > 0) return w;
      if (w < 0 || this.closed) throw new Error("connection closed");
      await new Promise<void>((r) => {
        this.writeWaiters.push(r);
        this.watch(this.events | EPOLLOUT);
      });
    }
  }

  /** Stops (or resumes) reading: while a command waits for CLIENT PAUSE. */
  pauseReading(paused: boolean): void {
    this.watch(paused ? this.events & ~EPOLLIN : this.events | EPOLLIN);
  }

  readable(): void {
    this.onReadable();
  }

  writable(): void {
    this.watch(this.events & ~EPOLLOUT);
    this.wakeWriters();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    loop.remove(this.fd);
    libc!.close(this.fd);
    this.wakeWriters();
  }

  private watch(events: number): void {
    if (events === this.events || this.closed) return;
    this.events = events;
    loop.modify(this.fd, events);
  }

  private wakeWriters(): void {
    const w = this.writeWaiters;
    if (w.length === 0) return;
    this.writeWaiters = [];
    for (const r of w) r();
  }
}

/** A socket address in text form: host without brackets, and port. */
export interface SockAddr {
  host: string;
  port: number;
}

/** A listening socket; onAccept gets every connection with its peer and local address. */
export class SocketListener implements Handler {
  private sa = new Uint8Array(128);
  private saLen = new Uint32Array(1);
  private saLenBytes = new Uint8Array(this.saLen.buffer);
  private closed = false;

  private constructor(
    private fd: number,
    private onAccept: (t: SocketTransport, remote: SockAddr, local: SockAddr) => void,
  ) {}

  /** Listens on an IP literal (IPv6 sockets are IPv6-only, as in Redis). Throws with the
   * failing call and its error text ("bind: Address already in use"). */
  static open(
    host: string,
    port: number,
    onAccept: (t: SocketTransport, remote: SockAddr, local: SockAddr) => void,
  ): SocketListener {
    const L = lib()!;
    const sa = sockaddr(host, port);
    if (sa === null) throw new Error(`not an IP address: ${host}`);
    const v6 = sa.length === 28;
    const fd = L.socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`socket: ${errText(errno())}`);
    const fail = (call: string): never => {
      const e = errno();
      L.close(fd);
      throw new Error(`${call}: ${errText(e)}`);
    };
    if (L.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, int32(1), 4) < 0) fail("setsockopt");
    if (v6 && L.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, int32(1), 4) < 0) fail("setsockopt");
    if (L.bind(fd, sa, sa.length) < 0) fail("bind");
    if (L.listen(fd, 511) < 0) fail("listen");
    const l = new SocketListener(fd, onAccept);
    loop.add(fd, l, EPOLLIN);
    return l;
  }

  readable(): void {
    const L = libc!;
    for (let i = 0; i < MAX_ACCEPTS && !this.closed; i++) {
      this.saLen[0] = this.sa.length;
      const fd = L.accept4(this.fd, this.sa, this.saLenBytes, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const e = errno();
        if (e === EINTR) continue;
        if (e !== EAGAIN) log.warning(`Accepting client connection: ${errText(e)}`);
        return;
      }
      L.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, int32(1), 4);
      const remote = parseSockaddr(this.sa);
      this.onAccept(new SocketTransport(fd), remote, this.local(fd));
    }
  }

  writable(): void {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    loop.remove(this.fd);
    libc!.close(this.fd);
  }

  private local(fd: number): SockAddr {
    const sa = new Uint8Array(128);
    const len = new Uint32Array([128]);
    libc!.getsockname(fd, sa, new Uint8Array(len.buffer));
    return parseSockaddr(sa);
  }
}

function int32(v: number): Uint8Array {
  return new Uint8Array(new Int32Array([v]).buffer);
}

/** sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes) for an IP literal, else null. */
export function sockaddr(host: string, port: number): Uint8Array | null {
  const v4 = parseIPv4(host);
  if (v4 !== null) {
    const sa = new Uint8Array(16);
    new DataView(sa.buffer).setUint16(0, AF_INET, true);
    new DataView(sa.buffer).setUint16(2, port, false);
    sa.set(v4, 4);
    return sa;
  }
  const v6 = parseIPv6(host);
  if (v6 === null) return null;
  const sa = new Uint8Array(28);
  new DataView(sa.buffer).setUint16(0, AF_INET6, true);
  new DataView(sa.buffer).setUint16(2, port, false);
  sa.set(v6, 8);
  return sa;
}

/** The address in a sockaddr_in / sockaddr_in6 as text ("::1", "::ffff:127.0.0.1"). */
export function parseSockaddr(sa: Uint8Array): SockAddr {
  const v = new DataView(sa.buffer, sa.byteOffset, sa.byteLength);
  const port = v.getUint16(2, false);
  if (v.getUint16(0, true) === AF_INET) return { host: sa.subarray(4, 8).join("."), port };
  return { host: formatIPv6(sa.subarray(8, 24)), port };
}

/** Four bytes of a dotted-quad IPv4 address, or null. */
export function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i]) || Number(parts[i]) > 255) return null;
    out[i] = Number(parts[i]);
  }
  return out;
}

/** Sixteen bytes of an IPv6 address (with "::" and a trailing dotted quad), or null. */
export function parseIPv6(s: string): Uint8Array | null {
  if (s.includes("%")) return null; // zone ids: left to Deno's sockets
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (t: string): number[] | null => {
    if (t === "") return [];
    const out: number[] = [];
    const parts = t.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIPv4(p);
        if (v4 === null) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === null || tail === null) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const all = [...head, ...new Array(fill).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i] >> 8;
    out[2 * i + 1] = all[i] & 255;
  }
  return out;
}

/** RFC 5952 text of 16 address bytes, as inet_ntop writes it. */
export function formatIPv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i] << 8) | b[2 * i + 1]);
  // IPv4-mapped and IPv4-compatible forms end in a dotted quad.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0) {
    const quad = `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    if (g[5] === 0xffff) return `::ffff:${quad}`;
    if (g[5] === 0 && (g[6] !== 0 || g[7] > 1)) return `::${quad}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
