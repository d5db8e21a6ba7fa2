// Crash-safe file replacement: write a temp file in the same directory, fsync it, rename it over
// the target, then fsync the directory so the rename itself is durable. Readers therefore see
// either the old file or the complete new one, never a torn write. Used for dump.rdb and
// reusable for other state files (nodes.conf).

/** A failed step of an atomic write; `op` names the syscall-level step for log lines. */
export class AtomicWriteError extends Error {
  constructor(public op: string, public reason: Error) {
    super(`${op}: ${reason.message}`);
  }
}

/** Default temp path: same directory, "temp-<pid>-<name>". */
export function tempPathFor(path: string): string {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash + 1) : "";
  return `${dir}temp-${Deno.pid}-${path.slice(slash + 1)}`;
}

function dirOf(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}

/** fsyncs the directory holding `path` (makes a rename durable). */
export function fsyncDirOf(path: string): void {
  const d = Deno.openSync(dirOf(path), { read: true });
  try {
    d.syncSync();
  } finally {
    d.close();
  }
}

/** Removes a temp file we created; never a directory or anything else in the way. */
export function removeTempFile(path: string): void {
  try {
    if (Deno.lstatSync(path).isFile) Deno.removeSync(path);
  } catch { /* already gone */ }
}

function writeAllSync(f: Deno.FsFile, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += f.writeSync(b.subarray(off));
}

async function writeAll(f: Deno.FsFile, b: Uint8Array): Promise<void> {
  let off = 0;
  while (off < b.length) off += await f.write(b.subarray(off));
}

function step<T>(op: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw e instanceof AtomicWriteError ? e : new AtomicWriteError(op, e as Error);
  }
}

/**
 * Replaces `path` atomically with the bytes `produce` emits through `write` (synchronous).
 * On any failure the temp file is removed and `path` is left untouched.
 */
export function writeFileAtomicSync(
  path: string,
  produce: Uint8Array | ((write: (chunk: Uint8Array) => void) => void),
  tmp = tempPathFor(path),
): void {
  let f: Deno.FsFile | null = null;
  try {
    f = step("open", () => Deno.openSync(tmp, { write: true, create: true, truncate: true }));
    const file = f;
    step("write", () => {
      if (produce instanceof Uint8Array) writeAllSync(file, produce);
      else produce((chunk) => writeAllSync(file, chunk));
    });
    step("fsync", () => file.syncSync());
    f = null;
    step("close", () => file.close());
    step("rename", () => Deno.renameSync(tmp, path));
    step("fsyncFileDir", () => fsyncDirOf(path));
  } catch (e) {
    try {
      f?.close();
    } catch { /* closed */ }
    if (!(e instanceof AtomicWriteError && e.op === "open")) removeTempFile(tmp);
    throw e;
  }
}

/**
 * Async variant: `produce` awaits `write` for each chunk, so a long save can yield to the
 * event loop. `shouldCommit` is checked before the rename (false aborts and cleans up).
 */
export async function writeFileAtomic(
  path: string,
  produce: (write: (chunk: Uint8Array) => Promise<void>) => Promise<void>,
  tmp = tempPathFor(path),
  shouldCommit: () => boolean = () => true,
): Promise<boolean> {
  let f: Deno.FsFile | null = null;
  try {
    try {
      f = await Deno.open(tmp, { write: true, create: true, truncate: true });
    } catch (e) {
      throw new AtomicWriteError("open", e as Error);
    }
    const file = f;
    try {
      await produce((chunk) => writeAll(file, chunk));
    } catch (e) {
      throw e instanceof AtomicWriteError ? e : new AtomicWriteError("write", e as Error);
    }
    if (!shouldCommit()) {
      f = null;
      file.close();
      removeTempFile(tmp);
      return false;
    }
    try {
      await file.sync();
    } catch (e) {
      throw new AtomicWriteError("fsync", e as Error);
    }
    f = null;
    file.close();
    if (!shouldCommit()) {
      removeTempFile(tmp);
      return false;
    }
    step("rename", () => Deno.renameSync(tmp, path));
    step("fsyncFileDir", () => fsyncDirOf(path));
    return true;
  } catch (e) {
    try {
      f?.close();
    } catch { /* closed */ }
    if (!(e instanceof AtomicWriteError && e.op === "open")) removeTempFile(tmp);
    throw e;
  }
}
