// Memory reducer. After a burst of allocation (loading a dataset, DEBUG POPULATE, a big
// MSET) V8 keeps its young generation grown to its maximum (tens of MiB of mostly empty
// semi-space) and the old-space pages it had to add, and Deno never tells V8 the process went
// idle, so the RSS stays at its peak. Once the heap has grown a lot since the last reduction
// and no command ran for a while, one full GC gives that memory back, which is what a settled
// Redis-like footprint needs. It never runs while commands are flowing.
import v8 from "node:v8";
import vm from "node:vm";
import type { Server } from "./server.ts";
import { log } from "../log.ts";

/** Growth of the committed heap since the last reduction that makes one worthwhile. */
const GROWTH_BYTES = 32 * 1024 * 1024;
/** Idle time (no command executed) before reducing. Not shorter: the collection also shrinks
 * the young generation, and the next burst of commands pays for growing it back (measured: 10-15%
 * more CPU per request in a benchmark whose runs were 1-2 s apart with a 1 s threshold). */
const IDLE_MS = 5000;

type GcFn = (opts?: { type?: string; execution?: string }) => void;
let gcFn: GcFn | null | undefined;

/** V8's gc() (--expose-gc, set at run time and fetched from a fresh context). */
function gc(): GcFn | null {
  if (gcFn === undefined) {
    try {
      v8.setFlagsFromString("--expose-gc");
      gcFn = vm.runInNewContext("gc") as GcFn;
      if (typeof gcFn !== "function") gcFn = null;
    } catch {
      gcFn = null;
    }
  }
  return gcFn;
}

const installed = new WeakSet<Server>();

/** Installs the reducer in the server's cron (once per server). */
export function installMemoryReducer(server: Server): void {
  if (installed.has(server)) return;
  installed.add(server);
  let lastCommands = -1;
  let lastActive = Date.now();
  /** Committed heap after the last reduction (or the lowest seen since). */
  let floor = heapTotal();
  let tick = 0;
  server.cronHooks.push(() => {
    const now = Date.now();
    const cmds = server.stats.totalCommands;
    if (cmds !== lastCommands) {
      lastCommands = cmds;
      lastActive = now;
      return;
    }
    // Once a second while idle; V8's own statistics (Deno.memoryUsage reads /proc).
    if (now - lastActive < IDLE_MS || ++tick % 10 !== 0) return;
    const total = heapTotal();
    if (total < floor) floor = total;
    if (total < floor + GROWTH_BYTES || server.snapshotObservers.size > 0) return;
    const collect = gc();
    if (collect === null) {
      floor = Infinity; // not available: stop checking
      return;
    }
    const t0 = performance.now();
    collect({ type: "major" });
    floor = heapTotal();
    log.verbose(
      `Memory reducer: full GC in ${Math.round(performance.now() - t0)} ms, heap ${mib(total)} -> ${
        mib(floor)
      } MiB`,
    );
  });
}

function heapTotal(): number {
  return v8.getHeapStatistics().total_heap_size;
}

function mib(n: number): number {
  return Math.round(n / 1048576);
}
