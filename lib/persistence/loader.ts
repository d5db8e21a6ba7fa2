// Loading an RDB image into the server's databases, with Redis's log lines and counters.
// Used at start-up, by DEBUG RELOAD, and by replication (full sync payloads).
import type { Server } from "../server/server.ts";
import type { Db } from "../store/keyspace.ts";
import type { Config } from "../config/config.ts";
import { log } from "../log.ts";
import { type LoadLimits, parseRdb } from "./rdb_reader.ts";
import { RdbError } from "./rdb_format.ts";
import { debugState } from "../commands/debug.ts";

/** Encoding thresholds from the config. */
export function limitsFromConfig(config: Config): LoadLimits {
  return {
    hashMaxListpackEntries: config.int("hash-max-listpack-entries"),
    hashMaxListpackValue: config.int("hash-max-listpack-value"),
    setMaxIntsetEntries: config.int("set-max-intset-entries"),
    zsetMaxListpackEntries: config.int("zset-max-listpack-entries"),
    zsetMaxListpackValue: config.int("zset-max-listpack-value"),
  };
}

/** Options for loading. */
export interface LoadOptions {
  /** Replace keys that already exist (DEBUG RELOAD MERGE); otherwise a duplicate is an error. */
  allowDup?: boolean;
  /** Drop keys whose TTL already passed (true for masters; replicas keep them). */
  skipExpired?: boolean;
  /** Databases to fill (default: the server's). */
  dbs?: Db[];
  /** Log the aux-field lines Redis prints while loading. */
  verbose?: boolean;
}

/** What a load did. */
export interface LoadStats {
  loaded: number;
  expired: number;
  emptySkipped: number;
  /** Aux fields (repl-id, repl-offset, repl-stream-db ... for replication). */
  aux: Map<string, string>;
  functionsSkipped: number;
}

function logAux(k: string, v: string): void {
  const key = k.toLowerCase();
  if (k.startsWith("%")) log.notice(`RDB '${k}': ${v}`);
  else if (key === "redis-ver") log.notice(`Loading RDB produced by version ${v}`);
  else if (key === "ctime") {
    const age = Math.max(0, Math.floor(Date.now() / 1000) - (parseInt(v, 10) || 0));
    log.notice(`RDB age ${age} seconds`);
  } else if (key === "used-mem") {
    log.notice(
      `RDB memory usage when created ${((parseInt(v, 10) || 0) / (1024 * 1024)).toFixed(2)} Mb`,
    );
  } else if (key === "aof-base" && v !== "0") log.notice("RDB is base AOF");
  else if (key === "aof-preamble" && v !== "0") log.notice("RDB has an AOF tail");
}

/** Parses `data` and adds its keys; throws RdbError (the databases may hold a partial load). */
export function loadRdbIntoServer(
  server: Server,
  data: Uint8Array,
  o: LoadOptions = {},
): LoadStats {
  const dbs = o.dbs ?? server.dbs;
  const skipExpired = o.skipExpired ?? !(server.isReplica || server.loadAsReplica);
  const now = Date.now();
  const stats: LoadStats = {
    loaded: 0,
    expired: 0,
    emptySkipped: 0,
    aux: new Map(),
    functionsSkipped: 0,
  };
  const res = parseRdb(
    data,
    {
      aux(k, v) {
        stats.aux.set(k, v);
        if (o.verbose) logAux(k, v);
      },
      selectDb(id) {
        if (id >= dbs.length) {
          throw new RdbError(
            `FATAL: Data file was created with a Redis server configured to handle more than ${dbs.length} databases.`,
          );
        }
      },
      functionLibrary() {
        stats.functionsSkipped++;
        if (stats.functionsSkipped === 1) {
          log.warning(
            "The RDB file contains function libraries: tsredis has no FUNCTION support, skipping them",
          );
        }
      },
      moduleAux(id) {
        log.warning(
          `The RDB file contains AUX module data for module id ${id}: skipped (no module support)`,
        );
      },
      key(dbId, key, value, expire) {
        if (value === null) {
          if (stats.emptySkipped++ < 10) log.warning(`rdbLoadObject skipping empty key: ${key}`);
          return;
        }
        if (skipExpired && expire !== -1 && expire < now) {
          stats.expired++;
          return;
        }
        const db = dbs[dbId];
        if (o.allowDup && db.dict.has(key)) {
          db.hooks.beforeModify(db, key);
          db.remove(key);
        }
        // Straight into the maps: a load is not a client write (no watch/snapshot bookkeeping).
        const before = db.dict.size;
        db.dict.set(key, value);
        if (db.dict.size === before) {
          log.warning(`RDB has duplicated key '${key}' in DB ${dbId}`);
          throw new RdbError("Duplicated key found in RDB file");
        }
        db.slotIndex?.add(key);
        if (expire !== -1) db.expires.set(key, expire);
        stats.loaded++;
      },
    },
    limitsFromConfig(server.config),
    server.config.bool("rdbchecksum") && !debugState.skipChecksumValidation,
  );
  if (res.storedChecksum === 0n && server.config.bool("rdbchecksum")) {
    log.warning("RDB file was saved with checksum disabled: no check performed.");
  }
  if (stats.emptySkipped > 0) {
    log.warning(
      `Done loading RDB, keys loaded: ${stats.loaded}, keys expired: ${stats.expired}, empty keys skipped: ${stats.emptySkipped}.`,
    );
  } else if (o.verbose) {
    log.notice(`Done loading RDB, keys loaded: ${stats.loaded}, keys expired: ${stats.expired}.`);
  }
  return stats;
}
