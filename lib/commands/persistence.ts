// Persistence commands: SAVE, BGSAVE [SCHEDULE], LASTSAVE, DUMP, RESTORE and DEBUG RELOAD.
// The RDB machinery lives in lib/persistence; this file parses arguments and replies with
// Redis 7.0's texts (rdb.c saveCommand/bgsaveCommand, cluster.c dump/restoreCommand).
import { cmd, type CommandSpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { E_NOT_INT, E_SYNTAX, parseInteger } from "./util.ts";
import { persistenceOf } from "../persistence/service.ts";
import { createDumpPayload } from "../persistence/rdb_writer.ts";
import { readDumpValue } from "../persistence/rdb_reader.ts";
import { limitsFromConfig } from "../persistence/loader.ts";
import { crc64 } from "../persistence/crc64.ts";
import { RDB_VERSION } from "../persistence/rdb_format.ts";
import { bytesLatin1, latin1Bytes } from "../persistence/bytes_io.ts";
import { debugState, debugSubcommands } from "./debug.ts";
import { alreadyExpired, clearEncodingMark, lookupRead, setFreq, setIdle } from "./keys_access.ts";
import { signalIfReady } from "./keys.ts";
import { log } from "../log.ts";
import type { Value } from "../store/types.ts";

const E_BGSAVE_RUNNING = "ERR Background save already in progress";

function save(c: Client): void {
  const p = persistenceOf(c.server);
  if (p.bgsaveInProgress) return c.error(E_BGSAVE_RUNNING);
  p.rdbSaves++;
  if (p.saveSync()) c.out.status("OK");
  else c.error("ERR");
}

function bgsave(c: Client, argv: string[]): void {
  if (argv.length > 1 && !(argv.length === 2 && argv[1].toLowerCase() === "schedule")) {
    return c.error(E_SYNTAX);
  }
  const p = persistenceOf(c.server);
  if (p.bgsaveInProgress) return c.error(E_BGSAVE_RUNNING);
  // There is no other child process kind, so SCHEDULE only matters inside EXEC, as in Redis.
  if (c.inExec) {
    p.bgsaveScheduled = true;
    c.out.status("Background saving scheduled");
    return;
  }
  if (p.startBgsave()) c.out.status("Background saving started");
  else c.error("ERR");
}

/** True when the payload footer (RDB version, CRC-64) is acceptable (verifyDumpPayload). */
export function verifyDumpPayload(p: Uint8Array): boolean {
  if (p.length < 10) return false;
  const footer = p.length - 10;
  const ver = p[footer] | (p[footer + 1] << 8);
  if (ver > RDB_VERSION) return false;
  if (debugState.skipChecksumValidation) return true;
  const stored = new DataView(p.buffer, p.byteOffset + footer + 2, 8).getBigUint64(0, true);
  return crc64(p, 0, p.length - 8) === stored;
}

function dump(c: Client, argv: string[]): void {
  const v = lookupRead(c, argv[1]);
  if (v === undefined) return c.out.null();
  c.out.bulk(bytesLatin1(createDumpPayload(v, persistenceOf(c.server).encodeOptions())));
}

export function restore(c: Client, argv: string[]): void {
  const s = c.server;
  let replace = false;
  let absttl = false;
  let idle = -1;
  let freq = -1;
  for (let j = 4; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const more = argv.length - j - 1;
    if (opt === "replace") replace = true;
    else if (opt === "absttl") absttl = true;
    else if (opt === "idletime" && more >= 1 && freq === -1) {
      const n = parseInteger(argv[++j]);
      if (n === null) return c.error(E_NOT_INT);
      if (n < 0) return c.error("ERR Invalid IDLETIME value, must be >= 0");
      idle = n;
    } else if (opt === "freq" && more >= 1 && idle === -1) {
      const n = parseInteger(argv[++j]);
      if (n === null) return c.error(E_NOT_INT);
      if (n < 0 || n > 255) return c.error("ERR Invalid FREQ value, must be >= 0 and <= 255");
      freq = n;
    } else return c.error(E_SYNTAX);
  }
  const key = argv[1];
  const db = c.db;
  if (!replace && db.get(key) !== undefined) {
    return c.error("BUSYKEY Target key name already exists.");
  }
  let ttl = parseInteger(argv[2]);
  if (ttl === null) return c.error(E_NOT_INT);
  if (ttl < 0) return c.error("ERR Invalid TTL value, must be >= 0");
  const payload = latin1Bytes(argv[3]);
  if (!verifyDumpPayload(payload)) return c.error("ERR DUMP payload version or checksum are wrong");
  let value: Value;
  try {
    value = readDumpValue(payload, key, limitsFromConfig(s.config));
  } catch (e) {
    log.verbose(`RESTORE of '${key}' refused: ${(e as Error).message}`);
    return c.error("ERR Bad data format");
  }
  const deleted = replace && db.delete(key);
  if (ttl && !absttl) ttl += Date.now();
  if (ttl && alreadyExpired(c, ttl)) {
    if (deleted) {
      c.propagateArgv = ["DEL", key];
      s.notify("g", "del", key, c.dbIndex);
      s.dirty++;
    }
    c.out.status("OK");
    return;
  }
  db.set(key, value);
  clearEncodingMark(db, key);
  if (ttl) {
    db.setExpire(key, ttl);
    // Replicas must get the absolute time, not a TTL relative to their own clock.
    if (!absttl) c.propagateArgv = [argv[0], argv[1], String(ttl), ...argv.slice(3), "ABSTTL"];
  }
  if (idle >= 0) setIdle(db, key, idle * 1000);
  if (freq >= 0) setFreq(db, key, freq);
  signalIfReady(c, c.dbIndex, key, value);
  s.notify("g", "restore", key, c.dbIndex);
  c.out.status("OK");
  s.dirty++;
}

function debugReload(c: Client, argv: string[]): void {
  let flush = true;
  let doSave = true;
  let merge = false;
  for (let j = 2; j < argv.length; j++) {
    const o = argv[j].toLowerCase();
    if (o === "merge") merge = true;
    else if (o === "noflush") flush = false;
    else if (o === "nosave") doSave = false;
    else return c.error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
  }
  const s = c.server;
  const p = persistenceOf(s);
  if (doSave && !p.saveSync()) return c.error("ERR");
  if (flush) {
    s.touchAllWatched(-1);
    for (const db of s.dbs) db.clear();
  }
  try {
    p.load(Deno.readFileSync(p.filename), { allowDup: merge });
  } catch (e) {
    log.warning(`DEBUG RELOAD failed loading ${p.filename}: ${(e as Error).message}`);
    return c.error("ERR Error trying to load the RDB dump");
  }
  log.warning("DB reloaded by DEBUG RELOAD");
  c.out.status("OK");
}

debugSubcommands.set("reload", debugReload);

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("save", 1, ["admin", "noscript", "no_async_loading", "no_multi"], [0, 0, 0], save, {
    categories: ["admin", "slow", "dangerous"],
    summary: "Synchronously save the dataset to disk",
    since: "1.0.0",
    group: "server",
  }),
  cmd("bgsave", -1, ["admin", "noscript", "no_async_loading"], [0, 0, 0], bgsave, {
    categories: ["admin", "slow", "dangerous"],
    summary: "Asynchronously save the dataset to disk",
    since: "1.0.0",
    group: "server",
  }),
  cmd("lastsave", 1, ["loading", "stale", "fast"], [0, 0, 0], (c) => c.out.int(c.server.lastSave), {
    categories: ["admin", "fast", "dangerous"],
    summary: "Get the UNIX time stamp of the last successful save to disk",
    since: "1.0.0",
    group: "server",
  }),
  cmd("dump", 2, ["readonly"], [1, 1, 1], dump, {
    categories: ["keyspace", "read", "slow"],
    summary: "Return a serialized version of the value stored at the specified key.",
    since: "2.6.0",
    group: "generic",
  }),
  cmd("restore", -4, ["write", "denyoom"], [1, 1, 1], restore, {
    categories: ["keyspace", "write", "slow", "dangerous"],
    summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
    since: "2.6.0",
    group: "generic",
  }),
];
