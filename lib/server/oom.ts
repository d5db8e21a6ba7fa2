// maxmemory without eviction: Redis refuses commands that may grow memory (the `denyoom` flag,
// and anything queued in MULTI) with OOM while used memory is above maxmemory and the policy
// is noeviction. Eviction policies are not implemented: with them maxmemory is not enforced.
import type { Server } from "./server.ts";

export const E_OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** True when maxmemory is set, exceeded, and nothing may be evicted (performEvictions fails). */
export function outOfMemory(s: Server): boolean {
  const max = s.config.int("maxmemory");
  if (max <= 0 || s.loading) return false;
  if (s.config.str("maxmemory-policy") !== "noeviction") return false;
  // Replicas follow their master by default; a paused dataset must not change either.
  if (s.isReplica && s.config.bool("replica-ignore-maxmemory")) return false;
  if (s.pauseUntil > Date.now()) return false;
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external > max;
}
