// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. Queuing happens in dispatch.ts
// (processCommand); WATCH invalidation hooks live in server.ts (touchWatchedKey and friends).
import { cmd, type CommandSpec } from "./types.ts";
import { call } from "../server/dispatch.ts";
import type { Client } from "../server/client.ts";

/** Leaves MULTI state and forgets watched keys (after EXEC, DISCARD or an aborted EXEC). */
export function discardTransaction(c: Client): void {
  c.multi = null;
  c.multiDirty = false;
  c.server.unwatchAll(c);
}

/** Adds db/key to the client's watched keys, remembering whether it was already expired. */
function watchKey(c: Client, key: string): void {
  const s = c.server;
  const id = c.dbIndex + "\0" + key;
  if (c.watched.has(id)) return;
  c.watched.add(id);
  let set = s.watchers.get(id);
  if (!set) s.watchers.set(id, set = new Set());
  set.add(c);
  if (s.keyIsStale(c.db, key)) c.watchedStale.add(id);
}

/** Runs the queued commands; replies their replies as one array. */
function exec(c: Client): void {
  const s = c.server;
  if (!c.multi) return c.error("ERR EXEC without MULTI");
  if (!c.watchDirty && s.watchedKeyExpired(c)) c.watchDirty = true;
  if (c.multiDirty || c.watchDirty) {
    if (c.multiDirty) c.error("EXECABORT Transaction discarded because of previous errors.");
    else c.out.nullArray();
    discardTransaction(c);
    return;
  }
  const queue = c.multi;
  // Unwatch first: the transaction's own writes must not mark it dirty.
  s.unwatchAll(c);
  const wasReplica = s.isReplica;
  const ownBatch = s.beginPropagateBatch();
  const wasInExec = c.inExec;
  c.inExec = true;
  c.out.array(queue.length);
  try {
    for (const q of queue) call(c, q.spec, q.argv);
  } finally {
    c.inExec = wasInExec;
    c.multi = null;
    c.multiDirty = false;
    // A transaction that turned this node into a replica (REPLICAOF inside MULTI) is not
    // propagated: the old replication stream ends with the commands before it.
    if (ownBatch) s.endPropagateBatch(!wasReplica && s.isReplica);
  }
}

const TX = { group: "transactions" };

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("multi", 1, ["noscript", "loading", "stale", "fast", "allow_busy"], [0, 0, 0], (c) => {
    if (c.multi) return c.error("ERR MULTI calls can not be nested");
    c.multi = [];
    c.multiDirty = false;
    c.out.status("OK");
  }, {
    ...TX,
    categories: ["fast", "transaction"],
    summary: "Mark the start of a transaction block",
    since: "1.2.0",
  }),
  cmd("exec", 1, ["noscript", "loading", "stale", "skip_slowlog"], [0, 0, 0], exec, {
    ...TX,
    categories: ["slow", "transaction"],
    summary: "Execute all commands issued after MULTI",
    since: "1.2.0",
  }),
  cmd("discard", 1, ["noscript", "loading", "stale", "fast", "allow_busy"], [0, 0, 0], (c) => {
    if (!c.multi) return c.error("ERR DISCARD without MULTI");
    discardTransaction(c);
    c.out.status("OK");
  }, {
    ...TX,
    categories: ["fast", "transaction"],
    summary: "Discard all commands issued after MULTI",
    since: "2.0.0",
  }),
  cmd(
    "watch",
    -2,
    ["noscript", "loading", "stale", "fast", "allow_busy"],
    [1, -1, 1],
    (c, argv) => {
      if (c.multi) return c.error("ERR WATCH inside MULTI is not allowed");
      // Already dirty: EXEC will fail anyway, nothing more to track.
      if (!c.watchDirty) { for (let i = 1; i < argv.length; i++) watchKey(c, argv[i]); }
      c.out.status("OK");
    },
    {
      ...TX,
      categories: ["fast", "transaction"],
      keySpecs: [{
        flags: ["RO"],
        beginSearch: { index: 1 },
        findKeys: { lastkey: -1, keystep: 1, limit: 0 },
      }],
      summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
      since: "2.2.0",
    },
  ),
  cmd("unwatch", 1, ["noscript", "loading", "stale", "fast", "allow_busy"], [0, 0, 0], (c) => {
    c.server.unwatchAll(c);
    c.out.status("OK");
  }, {
    ...TX,
    categories: ["fast", "transaction"],
    summary: "Forget about all watched keys",
    since: "2.2.0",
  }),
];
