// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw]
// [KEYS key ...] and RESTORE-ASKING (Redis 7.0 cluster.c semantics and texts).
//
// Redis runs MIGRATE with blocking socket calls. tsredis cannot block its event loop, so the
// values are serialized when the command runs, the client is blocked (like WAIT) while the
// RESTORE commands travel, and the reply, the deletion of the migrated keys and the DEL that
// replicas get come when the target answered. Connections are cached per host:port for 10 s
// (migrate_cached_sockets) and remember the last db selected on them.
import type { Client } from "../server/client.ts";
import { cmd, type CommandSpec } from "./types.ts";
import { E_NOT_INT, E_SYNTAX, parseInteger } from "./util.ts";
import { lookupRead } from "./keys_access.ts";
import { persistenceOf } from "../persistence/service.ts";
import { createDumpPayload } from "../persistence/rdb_writer.ts";
import { bytesLatin1, latin1Bytes } from "../persistence/bytes_io.ts";
import { restore } from "./persistence.ts";

const CACHE_TTL_MS = 10_000;
const CACHE_MAX = 64;

/** A cached connection to a MIGRATE target. */
class TargetSocket {
  lastDbid = -1;
  private buf = new Uint8Array(0);
  private idle: ReturnType<typeof setTimeout> | null = null;
  /** Serializes the MIGRATE exchanges of concurrent clients on this socket. */
  queue: Promise<void> = Promise.resolve();
  closed = false;

  constructor(public name: string, public conn: Deno.TcpConn) {
    this.touch();
  }

  /** Restarts the idle timer that closes the socket after 10 s without use. */
  touch(): void {
    if (this.idle !== null) clearTimeout(this.idle);
    const t = setTimeout(() => closeSocket(this.name), CACHE_TTL_MS);
    Deno.unrefTimer(t);
    this.idle = t;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idle !== null) clearTimeout(this.idle);
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  async write(data: Uint8Array, timeoutMs: number): Promise<void> {
    let off = 0;
    while (off < data.length) {
      off += await withTimeout(this.conn.write(data.subarray(off)), timeoutMs);
    }
  }

  /** Reads one reply line (without CRLF). */
  async readLine(timeoutMs: number): Promise<string> {
    for (;;) {
      for (let i = 0; i + 1 < this.buf.length; i++) {
        if (this.buf[i] === 13 && this.buf[i + 1] === 10) {
          const line = bytesLatin1(this.buf.subarray(0, i));
          this.buf = this.buf.slice(i + 2);
          return line;
        }
      }
      const chunk = new Uint8Array(16384);
      const n = await withTimeout(this.conn.read(chunk), timeoutMs);
      if (n === null) throw new IoError(false);
      const next = new Uint8Array(this.buf.length + n);
      next.set(this.buf);
      next.set(chunk.subarray(0, n), this.buf.length);
      this.buf = next;
    }
  }
}

class IoError extends Error {
  constructor(public timedOut: boolean) {
    super(timedOut ? "timeout" : "connection error");
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IoError(true)), ms);
  });
  return Promise.race([p, t]).catch((e) => {
    throw e instanceof IoError ? e : new IoError(false);
  }).finally(() => clearTimeout(timer));
}

const sockets = new Map<string, TargetSocket>();

function closeSocket(name: string): void {
  const cs = sockets.get(name);
  if (!cs) return;
  cs.close();
  sockets.delete(name);
}

/** Connections currently cached (INFO migrate_cached_sockets). */
export function migrateCachedSockets(): number {
  return sockets.size;
}

async function getSocket(host: string, port: string, timeoutMs: number): Promise<TargetSocket> {
  const name = `${host}:${port}`;
  const cached = sockets.get(name);
  if (cached && !cached.closed) {
    cached.touch();
    return cached;
  }
  if (sockets.size >= CACHE_MAX) {
    const names = [...sockets.keys()];
    closeSocket(names[Math.floor(Math.random() * names.length)]);
  }
  const conn = await withTimeout(
    Deno.connect({ hostname: host, port: Number.parseInt(port, 10) || 0 }),
    timeoutMs,
  );
  conn.setNoDelay(true);
  const cs = new TargetSocket(name, conn);
  sockets.set(name, cs);
  return cs;
}

function bulk(s: string): string {
  return `$${s.length}\r\n${s}\r\n`;
}

function request(args: string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += bulk(a);
  return out;
}

/** Key argument indexes of MIGRATE (migrateGetKeys). */
function migrateKeys(argv: string[]): number[] {
  for (let i = 6; i < argv.length; i++) {
    const a = argv[i].toLowerCase();
    if (a === "keys") {
      if (argv[3].length > 0) return [];
      const out: number[] = [];
      for (let j = i + 1; j < argv.length; j++) out.push(j);
      return out;
    }
    if (a === "auth") i += 1;
    else if (a === "auth2") i += 2;
  }
  return [3];
}

interface Job {
  host: string;
  port: string;
  timeout: number;
  dbid: number;
  copy: boolean;
  replace: boolean;
  username: string | null;
  password: string | null;
  keys: string[];
  /** RESTORE(-ASKING) commands, one per key still alive. */
  restores: string[];
}

function migrate(c: Client, argv: string[]): void {
  let copy = false;
  let replace = false;
  let username: string | null = null;
  let password: string | null = null;
  let first = 3;
  let num = 1;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const o = argv[j].toLowerCase();
    if (o === "copy") copy = true;
    else if (o === "replace") replace = true;
    else if (o === "auth") {
      if (!more) return c.error(E_SYNTAX);
      password = argv[++j];
    } else if (o === "auth2") {
      if (more < 2) return c.error(E_SYNTAX);
      username = argv[++j];
      password = argv[++j];
    } else if (o === "keys") {
      if (argv[3].length !== 0) {
        return c.error(
          "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
        );
      }
      first = j + 1;
      num = argv.length - j - 1;
      break;
    } else return c.error(E_SYNTAX);
  }
  let timeout = parseInteger(argv[5]);
  if (timeout === null) return c.error(E_NOT_INT);
  const dbid = parseInteger(argv[4]);
  if (dbid === null) return c.error(E_NOT_INT);
  if (timeout <= 0) timeout = 1000;

  const s = c.server;
  const keys: string[] = [];
  const restores: string[] = [];
  let found = 0;
  const opts = persistenceOf(s).encodeOptions();
  const cluster = s.config.bool("cluster-enabled");
  for (let j = 0; j < num; j++) {
    const key = argv[first + j];
    const v = lookupRead(c, key);
    if (v === undefined) continue;
    found++;
    let ttl = 0;
    const at = c.db.getExpire(key);
    if (at !== -1) {
      ttl = at - Date.now();
      if (ttl < 0) continue;
      if (ttl < 1) ttl = 1;
    }
    keys.push(key);
    const payload = bytesLatin1(createDumpPayload(v, opts));
    const args = [cluster ? "RESTORE-ASKING" : "RESTORE", key, String(ttl), payload];
    if (replace) args.push("REPLACE");
    restores.push(request(args));
  }
  if (found === 0) {
    c.out.status("NOKEY");
    return;
  }
  if (c.inExec || !c.canBlock) {
    return c.error("ERR MIGRATE cannot run inside MULTI/EXEC in tsredis");
  }
  const job: Job = {
    host: argv[1],
    port: argv[2],
    timeout,
    dbid,
    copy,
    replace,
    username,
    password,
    keys,
    restores,
  };
  const dbIndex = c.dbIndex;
  c.server.blocking.block(c, {
    keys: [],
    db: dbIndex,
    deadline: 0,
    retry: () => false,
    onTimeout: () => {},
    spec: c.server.commands.get("migrate")!,
    argv,
  });
  runJob(job).then((outcome) => finish(c, dbIndex, job, outcome));
}

/** What the target said: an error text for the client, and how many keys it accepted. */
interface Outcome {
  error: string | null;
  accepted: boolean[];
}

async function runJob(job: Job): Promise<Outcome> {
  let mayRetry = true;
  for (;;) {
    let cs: TargetSocket;
    try {
      cs = await getSocket(job.host, job.port, job.timeout);
    } catch (e) {
      if (e instanceof IoError && e.timedOut) {
        return { error: "IOERR error or timeout connecting to the client", accepted: [] };
      }
      // Redis's non-blocking connect "succeeds" on a refused connection and the first write
      // fails: it retries once and reports a write error.
      if (mayRetry) {
        mayRetry = false;
        continue;
      }
      return { error: "IOERR error or timeout writing to target instance", accepted: [] };
    }
    // One exchange at a time per socket.
    let release!: () => void;
    const prev = cs.queue;
    cs.queue = new Promise<void>((r) => release = r);
    await prev;
    try {
      const select = cs.lastDbid !== job.dbid;
      let out = "";
      if (job.password !== null) {
        out += request(
          job.username !== null ? ["AUTH", job.username, job.password] : ["AUTH", job.password],
        );
      }
      if (select) out += request(["SELECT", String(job.dbid)]);
      for (const r of job.restores) out += r;
      let stage = "writing";
      let authReply = "";
      let selectReply = "";
      try {
        await cs.write(latin1Bytes(out), job.timeout);
        stage = "reading";
        if (job.password !== null) authReply = await cs.readLine(job.timeout);
        if (select) selectReply = await cs.readLine(job.timeout);
      } catch (e) {
        closeSocket(cs.name);
        if (!(e instanceof IoError && e.timedOut) && mayRetry) {
          mayRetry = false;
          continue;
        }
        return { error: `IOERR error or timeout ${stage} to target instance`, accepted: [] };
      }
      const accepted: boolean[] = [];
      let error: string | null = null;
      let socketError: IoError | null = null;
      for (let j = 0; j < job.restores.length; j++) {
        let line: string;
        try {
          line = await cs.readLine(job.timeout);
        } catch (e) {
          socketError = e instanceof IoError ? e : new IoError(false);
          break;
        }
        const authBad = job.password !== null && authReply[0] === "-";
        const selectBad = select && selectReply[0] === "-";
        if (authBad || selectBad || line[0] === "-") {
          accepted.push(false);
          if (error === null) {
            cs.lastDbid = -1;
            const errLine = authBad ? authReply : selectBad ? selectReply : line;
            error = `ERR Target instance replied with error: ${errLine.slice(1)}`;
          }
        } else accepted.push(true);
      }
      if (socketError !== null) {
        closeSocket(cs.name);
        // Nothing was accepted yet: the cached socket may just have been stale, try once more.
        if (error === null && accepted.length === 0 && mayRetry && !socketError.timedOut) {
          mayRetry = false;
          continue;
        }
        if (error === null) {
          return { error: "IOERR error or timeout reading to target instance", accepted };
        }
        return { error, accepted };
      }
      if (error === null) cs.lastDbid = job.dbid;
      cs.touch();
      return { error, accepted };
    } finally {
      release();
    }
  }
}

function finish(c: Client, dbIndex: number, job: Job, outcome: Outcome): void {
  const s = c.server;
  // Keys the target accepted move even when the client went away meanwhile.
  if (!job.copy) {
    const db = s.dbs[dbIndex];
    const deleted: string[] = [];
    outcome.accepted.forEach((ok, j) => {
      if (!ok) return;
      const key = job.keys[j];
      if (db.delete(key)) {
        s.notify("g", "del", key, dbIndex);
        s.dirty++;
      }
      deleted.push(key);
    });
    if (deleted.length > 0) s.propagate(dbIndex, ["DEL", ...deleted]);
  }
  if (c.closed) return;
  s.blocking.unblock(c);
  if (outcome.error !== null) c.error(outcome.error);
  else c.out.status("OK");
  if (c.resume) c.resume();
  else c.flush();
}

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("migrate", -6, ["write"], [3, 3, 1], migrate, {
    group: "generic",
    categories: ["keyspace", "dangerous"],
    getKeys: migrateKeys,
    summary: "Atomically transfer a key from a Redis instance to another one.",
    since: "2.6.0",
    complexity:
      "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
    tips: ["nondeterministic_output"],
    keySpecs: [
      {
        flags: ["RW", "access", "delete"],
        beginSearch: { index: 3 },
        findKeys: { lastkey: 0, keystep: 1, limit: 0 },
      },
      {
        flags: ["RW", "access", "delete", "incomplete"],
        beginSearch: { keyword: "KEYS", startfrom: -2 },
        findKeys: { lastkey: -1, keystep: 1, limit: 0 },
      },
    ],
  }),
  cmd("restore-asking", -4, ["write", "denyoom", "asking"], [1, 1, 1], restore, {
    group: "server",
    categories: ["keyspace", "dangerous"],
    summary: "An internal command for migrating keys in a cluster",
    since: "3.0.0",
    complexity:
      "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
    keySpecs: [{
      flags: ["OW", "update"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  }),
];
