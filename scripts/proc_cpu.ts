// CPU time of a process from /proc, shared by the benchmark scripts.

/** Linux USER_HZ: /proc/PID/stat counts CPU time in 10 ms ticks. */
const TICK_NS = 1e9 / 100;

/** CPU time of every thread of pid, in ns: /proc/PID/task/*\/schedstat (nanoseconds), falling
 * back to /proc/PID/stat ticks (utime + stime) where schedstat is missing. */
export function cpuNs(pid: number): number {
  try {
    let total = 0;
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(
          Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/schedstat`).split(" ")[0],
        );
      } catch { /* thread exited */ }
    }
    if (total > 0) return total;
  } catch { /* no schedstat */ }
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * TICK_NS;
}
