// nodes.conf: Redis's text format (the CLUSTER NODES lines plus a "vars currentEpoch N
// lastVoteEpoch N" line). Parsing and formatting are pure; saving is atomic (temp file, fsync,
// rename, directory fsync) and a lock file keeps two processes off the same config.
import {
  ClusterNode,
  flagsFromString,
  isValidNodeId,
  NODE_FAIL,
  NODE_HANDSHAKE,
  NODE_MYSELF,
} from "./node.ts";
import type { ClusterState } from "./state.ts";
import { splitArgs } from "../protocol/parser.ts";
import { dirname } from "node:path";

/** The text written to nodes.conf for the current state. */
export function formatNodesConf(st: ClusterState): string {
  return st.describeAll(NODE_HANDSHAKE) +
    `vars currentEpoch ${st.currentEpoch} lastVoteEpoch ${st.lastVoteEpoch}\n`;
}

/** Loads nodes.conf text into an empty state (which has a provisional myself). Throws on a
 * corrupt file with a message for the log. */
export function parseNodesConf(st: ClusterState, text: string): void {
  const now = st.io.now();
  const provisional = st.myself;
  st.nodes.clear();
  let myself: ClusterNode | null = null;
  const get = (name: string): ClusterNode => {
    let n = st.nodes.get(name);
    if (!n) {
      n = new ClusterNode(name, 0, now);
      st.nodes.set(name, n);
    }
    return n;
  };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    const argv = splitArgs(line);
    if (argv === null) throw new Error(`line ${i + 1}: unbalanced quotes`);
    if (argv[0].toLowerCase() === "vars") {
      if (argv.length % 2 === 0) throw new Error(`line ${i + 1}: bad vars line`);
      for (let j = 1; j < argv.length; j += 2) {
        const k = argv[j].toLowerCase();
        if (k === "currentepoch") st.currentEpoch = BigInt(argv[j + 1]);
        else if (k === "lastvoteepoch") st.lastVoteEpoch = BigInt(argv[j + 1]);
      }
      continue;
    }
    if (argv.length < 8) throw new Error(`line ${i + 1}: fewer than 8 fields`);
    if (!isValidNodeId(argv[0])) throw new Error(`line ${i + 1}: invalid node id`);
    const n = get(argv[0]);
    let addr = argv[1];
    const comma = addr.indexOf(",");
    n.hostname = comma >= 0 ? addr.slice(comma + 1) : "";
    if (comma >= 0) addr = addr.slice(0, comma);
    const colon = addr.lastIndexOf(":");
    if (colon < 0) throw new Error(`line ${i + 1}: bad address`);
    n.ip = addr.slice(0, colon);
    const [p, bus] = addr.slice(colon + 1).split("@");
    n.port = parseInt(p, 10) || 0;
    n.cport = bus !== undefined ? parseInt(bus, 10) || 0 : n.port + 10000;
    const flags = flagsFromString(argv[2]);
    if (flags === null) throw new Error(`line ${i + 1}: unknown flag in '${argv[2]}'`);
    n.flags = flags;
    if (flags & NODE_MYSELF) {
      if (myself) throw new Error(`line ${i + 1}: two 'myself' nodes`);
      myself = n;
    }
    if (flags & NODE_FAIL) n.failTime = now;
    if (argv[3] !== "-") {
      if (!isValidNodeId(argv[3])) throw new Error(`line ${i + 1}: invalid master id`);
      const master = get(argv[3]);
      n.slaveof = master;
      master.addReplica(n);
    }
    if (parseInt(argv[4], 10)) n.pingSent = now;
    if (parseInt(argv[5], 10)) n.pongReceived = now;
    n.configEpoch = n.isReplica && n.slaveof ? 0 : Number(argv[6]);
    for (let j = 8; j < argv.length; j++) {
      const f = argv[j];
      if (f.startsWith("[")) {
        const m = /^\[(\d+)-([<>])-([0-9a-f]{40})\]$/.exec(f);
        if (!m) throw new Error(`line ${i + 1}: bad migration field '${f}'`);
        const slot = Number(m[1]);
        if (slot >= 16384) throw new Error(`line ${i + 1}: slot out of range`);
        const other = get(m[3]);
        if (m[2] === ">") st.migratingTo[slot] = other;
        else st.importingFrom[slot] = other;
        continue;
      }
      const [a, b] = f.split("-");
      const start = Number(a);
      const stop = b === undefined ? start : Number(b);
      if (
        !Number.isInteger(start) || !Number.isInteger(stop) || start < 0 || stop > 16383 ||
        start > stop
      ) {
        throw new Error(`line ${i + 1}: bad slot range '${f}'`);
      }
      for (let s = start; s <= stop; s++) st.addSlot(n, s);
    }
  }
  if (!myself) {
    st.nodes.clear();
    st.nodes.set(provisional.name, provisional);
    throw new Error("no 'myself' node");
  }
  st.myself = myself;
  const max = st.maxEpoch();
  if (max > st.currentEpoch) st.currentEpoch = max;
}

/** Writes a file atomically: temp file in the same directory, fsync, rename, dir fsync. */
export function atomicWriteFileSync(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${Deno.pid}`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const f = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  try {
    let off = 0;
    while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
    f.syncSync();
  } finally {
    f.close();
  }
  Deno.renameSync(tmp, path);
  try {
    const d = Deno.openSync(dirname(path) || ".", { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  } catch { /* directories cannot be fsynced on every platform */ }
}

/** Holds an exclusive lock on `<config>.lock` for the life of the process; null if another
 * process holds it. Redis locks nodes.conf itself; we replace nodes.conf by rename, so the lock
 * lives in a file that is never replaced. */
export function lockNodesConf(path: string): Deno.FsFile | null {
  const f = Deno.openSync(`${path}.lock`, { write: true, create: true });
  if (f.tryLockSync(true)) return f;
  f.close();
  return null;
}
