// The replica's side of a full sync payload: the bulk header the master sends before the RDB,
// and replacing the dataset with the received RDB (Redis's readSyncBulkPayload, second half).
import type { Server } from "../server/server.ts";
import { persistenceOf } from "../persistence/service.ts";
import { writeFileAtomicSync } from "../persistence/atomic_file.ts";
import { log } from "../log.ts";
import type { BufferedConn } from "./wire.ts";

/** Raised to abandon a handshake or transfer; `reconnect` retries at once. */
export class LinkFailure extends Error {
  constructor(msg: string, public reconnect = false) {
    super(msg);
  }
}

/** Reads "$<len>" or "$EOF:<mark>", skipping the newlines a master sends while it prepares. */
export async function readBulkHeader(bc: BufferedConn, cancelled: () => boolean): Promise<string> {
  while (true) {
    const line = await bc.readLine();
    if (cancelled()) throw new LinkFailure("");
    if (line === "") continue;
    if (line[0] === "-") {
      throw new LinkFailure(`MASTER aborted replication with an error: ${line.slice(1)}`);
    }
    if (line[0] !== "$") {
      throw new LinkFailure(
        `Bad protocol from MASTER, the first byte is not '$' (we received '${line}'), are you sure the host and port are right?`,
      );
    }
    return line;
  }
}

/** emptyData(-1): every database, after invalidating WATCHes. */
export function emptyData(s: Server): void {
  s.touchAllWatched(-1, true);
  for (const db of s.dbs) db.clear();
}

/** Flushes the dataset and loads the master's RDB; returns the stream's db (repl-stream-db).
 * With repl-diskless-load disabled the payload also becomes our dump file, as in Redis. */
export function replaceDataset(s: Server, data: Uint8Array, toDisk: boolean): number {
  const p = persistenceOf(s);
  if (p.bgsaveInProgress) {
    log.notice(
      `Replica is about to load the RDB file received from the master, but there is a pending RDB child running. Killing process ${Deno.pid} and removing its temp file to avoid any race`,
    );
    p.abortBgsave();
  }
  log.notice("MASTER <-> REPLICA sync: Flushing old data");
  emptyData(s);
  if (toDisk) {
    try {
      writeFileAtomicSync(p.filename, data);
    } catch (e) {
      throw new LinkFailure(
        `Failed trying to rename the temp DB into ${p.filename} in MASTER <-> REPLICA synchronization: ${
          (e as Error).message
        }`,
        true,
      );
    }
  }
  log.notice("MASTER <-> REPLICA sync: Loading DB in memory");
  try {
    const st = p.load(data, { verbose: true });
    const db = Number(st.aux.get("repl-stream-db") ?? "0");
    return db >= 0 && db < s.dbs.length ? db : 0;
  } catch (e) {
    emptyData(s);
    throw new LinkFailure(
      `Failed trying to load the MASTER synchronization DB from ${toDisk ? "disk" : "socket"}: ${
        (e as Error).message
      }`,
      true,
    );
  }
}
