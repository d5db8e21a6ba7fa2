// The persistence subsystem's state and behaviour: SAVE (blocking), BGSAVE (cooperative,
// point-in-time), save points checked from the cron, the final save at shutdown, loading the
// dump at start-up, and INFO persistence. One instance per server (persistenceOf).
import type { Server } from "../server/server.ts";
import type { SavePoint } from "../config/directives.ts";
import { log } from "../log.ts";
import { type EncodeOptions, type RdbFileOptions, type ReplAux } from "./rdb_writer.ts";
import { RdbProducer } from "./snapshot.ts";
import {
  AtomicWriteError,
  removeTempFile,
  writeFileAtomic,
  writeFileAtomicSync,
} from "./atomic_file.ts";
import { type LoadOptions, loadRdbIntoServer, type LoadStats } from "./loader.ts";
import { RdbError } from "./rdb_format.ts";
import { debugState } from "../commands/debug.ts";

/** Seconds to wait before retrying a failed background save from save points (Redis: 5). */
const BGSAVE_RETRY_DELAY = 5;

interface BgsaveJob {
  producer: RdbProducer;
  aborted: boolean;
  start: number;
  tmp: string;
  done: Promise<boolean>;
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** Persistence state and operations of one server. */
export class Persistence {
  job: BgsaveJob | null = null;
  bgsaveScheduled = false;
  lastBgsaveTry = 0;
  lastBgsaveTimeSec = -1;
  rdbSaves = 0;
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  /** Aux fields of the last loaded file (repl-id, repl-offset ... for replication). */
  lastLoadAux = new Map<string, string>();
  /** Set by replication: the repl-* aux fields to store in saved files, or null. */
  replAux: (() => ReplAux | null) | null = null;
  /** Called after each background save ends (replication waits for BGSAVE this way). */
  bgsaveListeners: ((ok: boolean) => void)[] = [];
  private bgSeq = 0;

  constructor(public server: Server) {}

  /** dbfilename (relative to dir, which is the working directory). */
  get filename(): string {
    return this.server.config.str("dbfilename");
  }

  /** Value encoding options from the config. */
  encodeOptions(): EncodeOptions {
    const c = this.server.config;
    return {
      compression: c.bool("rdbcompression"),
      listFill: c.int("list-max-listpack-size"),
      packedThreshold: debugState.quicklistPackedThreshold,
      streamNodeMaxEntries: c.int("stream-node-max-entries"),
      streamNodeMaxBytes: c.int("stream-node-max-bytes"),
    };
  }

  /** Whole-file options from the config (plus replication aux fields when provided). */
  fileOptions(): RdbFileOptions {
    return {
      ...this.encodeOptions(),
      checksum: this.server.config.bool("rdbchecksum"),
      repl: this.replAux?.() ?? null,
    };
  }

  private keyDelay = (): number => this.server.config.int("rdb-key-save-delay");

  private logSaveError(e: unknown, tmp: string): void {
    let cwd = "(unknown: the directory was removed)";
    try {
      cwd = Deno.cwd();
    } catch { /* the working directory no longer exists */ }
    if (e instanceof AtomicWriteError && e.op === "open") {
      log.warning(
        `Failed opening the temp RDB file ${tmp} (in server root dir ${cwd}) for saving: ${e.reason.message}`,
      );
    } else if (e instanceof AtomicWriteError && e.op === "rename") {
      log.warning(
        `Error moving temp DB file ${tmp} on the final destination ${this.filename} (in server root dir ${cwd}): ${e.reason.message}`,
      );
    } else if (e instanceof AtomicWriteError) {
      const op = e.op === "write" ? "rdbSaveRio" : e.op;
      log.warning(`Write error saving DB on disk(${op}): ${e.reason.message}`);
    } else log.warning(`Write error saving DB on disk: ${(e as Error).message}`);
  }

  /** Blocking save to dbfilename (SAVE, shutdown, DEBUG RELOAD); false on error (logged). */
  saveSync(): boolean {
    const tmp = `temp-${Deno.pid}.rdb`;
    const producer = new RdbProducer(this.server, this.fileOptions());
    try {
      writeFileAtomicSync(this.filename, (write) => producer.runSync(write, this.keyDelay), tmp);
    } catch (e) {
      producer.release();
      this.logSaveError(e, tmp);
      return false;
    }
    log.notice("DB saved on disk");
    this.server.dirty = 0;
    this.server.lastSave = unixNow();
    this.server.lastBgsaveOk = true;
    return true;
  }

  /** True while a background save runs. */
  get bgsaveInProgress(): boolean {
    return this.job !== null;
  }

  /** Starts a background save; false if one is already running. */
  startBgsave(): boolean {
    if (this.job) return false;
    const s = this.server;
    this.rdbSaves++;
    this.lastBgsaveTry = unixNow();
    const dirtyBefore = s.dirty;
    const job: BgsaveJob = {
      producer: new RdbProducer(s, this.fileOptions()),
      aborted: false,
      start: Date.now(),
      tmp: `temp-${Deno.pid}-bg${++this.bgSeq}.rdb`,
      done: Promise.resolve(false),
    };
    this.job = job;
    log.notice(`Background saving started by pid ${Deno.pid}`);
    job.done = this.runJob(job, dirtyBefore);
    return true;
  }

  /** Resolves when the running background save ends (true on success); false if none. */
  waitBgsave(): Promise<boolean> {
    return this.job ? this.job.done : Promise.resolve(false);
  }

  private async runJob(job: BgsaveJob, dirtyBefore: number): Promise<boolean> {
    let ok = false;
    try {
      ok = await writeFileAtomic(
        this.filename,
        (write) =>
          job.producer.run(write, {
            sliceMs: 5,
            keyDelayUs: this.keyDelay,
            isAborted: () => job.aborted,
          }),
        job.tmp,
        () => !job.aborted,
      );
      if (ok) log.notice("DB saved on disk");
    } catch (e) {
      if (!job.aborted) this.logSaveError(e, job.tmp);
    } finally {
      job.producer.release();
    }
    if (this.job === job) this.job = null;
    this.lastBgsaveTimeSec = Math.floor((Date.now() - job.start) / 1000);
    const s = this.server;
    if (job.aborted) {
      // Like a child killed with SIGUSR1: not an error, nothing committed.
      log.warning("Background saving terminated by signal 10");
    } else if (ok) {
      log.notice("Background saving terminated with success");
      s.dirty = Math.max(0, s.dirty - dirtyBefore);
      s.lastSave = unixNow();
      s.lastBgsaveOk = true;
    } else {
      log.warning("Background saving error");
      s.lastBgsaveOk = false;
    }
    for (const l of this.bgsaveListeners) {
      try {
        l(ok);
      } catch (e) {
        log.warning(`bgsave listener failed: ${(e as Error).message}`);
      }
    }
    return ok;
  }

  /** Cancels a running background save and removes its temp file (killRDBChild). */
  abortBgsave(): void {
    const job = this.job;
    if (!job) return;
    job.aborted = true;
    this.job = null;
    removeTempFile(job.tmp);
  }

  /** Save points and scheduled BGSAVE, run from the server cron. */
  cron(): void {
    const s = this.server;
    if (this.job || s.loading) return;
    const now = unixNow();
    const retryOk = now - this.lastBgsaveTry > BGSAVE_RETRY_DELAY || s.lastBgsaveOk;
    if (this.bgsaveScheduled && retryOk) {
      this.bgsaveScheduled = false;
      this.startBgsave();
      return;
    }
    for (const sp of s.config.get("save") as SavePoint[]) {
      if (s.dirty >= sp.changes && now - s.lastSave > sp.seconds && retryOk) {
        log.notice(`${sp.changes} changes in ${sp.seconds} seconds. Saving...`);
        this.startBgsave();
        break;
      }
    }
  }

  /** Shutdown hook: stop a background save, then save when asked or when save points exist. */
  onShutdown(save: boolean | null): void {
    if (this.job) {
      log.warning("There is a child saving an .rdb. Killing it!");
      this.abortBgsave();
    }
    const points = this.server.config.get("save") as SavePoint[];
    if (save === false || (save === null && points.length === 0)) return;
    log.notice("Saving the final RDB snapshot before exiting.");
    if (!this.saveSync()) throw new Error("Error trying to save the DB");
  }

  /** Loads an RDB image into the server, updating the INFO counters. */
  load(data: Uint8Array, o: LoadOptions = {}): LoadStats {
    const s = this.server;
    const wasLoading = s.loading;
    s.loading = true;
    try {
      const st = loadRdbIntoServer(s, data, o);
      this.lastLoadKeysLoaded = st.loaded;
      this.lastLoadKeysExpired = st.expired;
      this.lastLoadAux = st.aux;
      return st;
    } finally {
      s.loading = wasLoading;
    }
  }

  /** Start-up: load dbfilename if present; exits with code 1 on a damaged file. */
  loadAtStartup(): void {
    let data: Uint8Array;
    try {
      data = Deno.readFileSync(this.filename);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      log.warning(`Fatal error loading the DB: ${(e as Error).message}. Exiting.`);
      Deno.exit(1);
    }
    const t0 = performance.now();
    try {
      this.load(data, { verbose: true });
    } catch (e) {
      reportLoadFailure(e);
      Deno.exit(1);
    }
    log.notice(`DB loaded from disk: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
  }

  /** The INFO persistence section body. */
  info(): string {
    const s = this.server;
    const job = this.job;
    const lines = [
      `loading:${s.loading ? 1 : 0}`,
      "async_loading:0",
      "current_cow_peak:0",
      "current_cow_size:0",
      "current_cow_size_age:0",
      "current_fork_perc:0.00",
      `current_save_keys_processed:${job ? job.producer.keysProcessed : 0}`,
      `current_save_keys_total:${job ? job.producer.keysTotal : 0}`,
      `rdb_changes_since_last_save:${s.dirty}`,
      `rdb_bgsave_in_progress:${job ? 1 : 0}`,
      `rdb_last_save_time:${s.lastSave}`,
      `rdb_last_bgsave_status:${s.lastBgsaveOk ? "ok" : "err"}`,
      `rdb_last_bgsave_time_sec:${this.lastBgsaveTimeSec}`,
      `rdb_current_bgsave_time_sec:${job ? Math.floor((Date.now() - job.start) / 1000) : -1}`,
      `rdb_saves:${this.rdbSaves}`,
      "rdb_last_cow_size:0",
      `rdb_last_load_keys_expired:${this.lastLoadKeysExpired}`,
      `rdb_last_load_keys_loaded:${this.lastLoadKeysLoaded}`,
      `aof_enabled:${s.config.bool("appendonly") ? 1 : 0}`,
      "aof_rewrite_in_progress:0",
      "aof_rewrite_scheduled:0",
      "aof_last_rewrite_time_sec:-1",
      "aof_current_rewrite_time_sec:-1",
      "aof_last_bgrewrite_status:ok",
      "aof_rewrites:0",
      "aof_rewrites_consecutive_failures:0",
      "aof_last_write_status:ok",
      "aof_last_cow_size:0",
      "module_fork_in_progress:0",
      "module_fork_last_cow_size:0",
    ];
    return lines.join("\r\n");
  }
}

/** Redis's MISCONF reply text. */
export const E_MISCONF =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/**
 * The error writes (and PING) must get after a failed background save when
 * stop-writes-on-bgsave-error is on and save points exist (writeCommandsDeniedByDiskError),
 * or null. For processCommand to call on non-master clients.
 */
export function diskErrorDenial(server: Server): string | null {
  const c = server.config;
  if (server.lastBgsaveOk || !c.bool("stop-writes-on-bgsave-error")) return null;
  return (c.get("save") as SavePoint[]).length > 0 ? E_MISCONF : null;
}

/** Logs why a start-up load failed, in Redis's words. */
export function reportLoadFailure(e: unknown): void {
  if (e instanceof RdbError) {
    const where = `Internal error in RDB reading offset ${Math.max(0, e.offset)} ->`;
    switch (e.kind) {
      case "short":
        log.warning("Short read or OOM loading DB. Unrecoverable error, aborting now.");
        log.warning(`${where} Unexpected EOF reading RDB file`);
        break;
      case "checksum":
        log.warning(`${e.message} Aborting now.`);
        log.warning(`${where} RDB CRC error`);
        break;
      case "signature":
        log.warning(e.message);
        log.warning("Fatal error loading the DB: Invalid argument. Exiting.");
        return;
      case "unsupported":
        log.warning(e.message);
        log.warning("Fatal error loading the DB: unsupported data. Exiting.");
        return;
      default:
        log.warning(`${where} ${e.message}`);
    }
    log.warning("Terminating server after rdb file reading failure.");
    return;
  }
  log.warning(`Fatal error loading the DB: ${(e as Error).message}. Exiting.`);
}

const instances = new WeakMap<Server, Persistence>();

/** The persistence state of a server (created on first use). */
export function persistenceOf(server: Server): Persistence {
  let p = instances.get(server);
  if (!p) {
    p = new Persistence(server);
    instances.set(server, p);
  }
  return p;
}
