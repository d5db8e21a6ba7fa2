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

/** Machine-wide CPU time counters from /proc/stat's "cpu" line, in ticks: steal (time the
 * hypervisor gave to others while a vCPU wanted to run) and the total of all columns. */
export function stealTicks(): { steal: number; total: number } {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice (guest counted in user)
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { steal: f[7] ?? 0, total };
  } catch {
    return { steal: 0, total: 0 };
  }
}
