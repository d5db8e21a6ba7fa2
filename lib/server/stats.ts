// Counters behind INFO stats / errorstats / commandstats.

/** Server-wide statistics. */
export class Stats {
  startTime = Date.now();
  totalConnections = 0;
  rejectedConnections = 0;
  totalCommands = 0;
  netInput = 0;
  netOutput = 0;
  expiredKeys = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  totalErrorReplies = 0;
  unexpectedErrorReplies = 0;
  errors = new Map<string, number>();
  syncFull = 0;
  syncPartialOk = 0;
  syncPartialErr = 0;
  /** Rolling ops/sec samples. */
  private opsSamples: number[] = [];
  private lastSampleCmds = 0;
  private lastSampleTime = Date.now();
  opsPerSec = 0;

  /** Counts an error reply by its code (first word). */
  countError(msg: string): void {
    this.totalErrorReplies++;
    const sp = msg.indexOf(" ");
    const code = sp === -1 ? msg : msg.slice(0, sp);
    if (this.errors.size >= 128 && !this.errors.has(code)) return;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** Takes an ops/sec sample (called from the cron). */
  sample(): void {
    const now = Date.now();
    const dt = now - this.lastSampleTime;
    if (dt <= 0) return;
    const ops = ((this.totalCommands - this.lastSampleCmds) * 1000) / dt;
    this.lastSampleCmds = this.totalCommands;
    this.lastSampleTime = now;
    this.opsSamples.push(ops);
    if (this.opsSamples.length > 16) this.opsSamples.shift();
    this.opsPerSec = Math.round(
      this.opsSamples.reduce((a, b) => a + b, 0) / this.opsSamples.length,
    );
  }

  /** Resets what CONFIG RESETSTAT resets. */
  reset(): void {
    this.totalConnections = 0;
    this.rejectedConnections = 0;
    this.totalCommands = 0;
    this.netInput = 0;
    this.netOutput = 0;
    this.expiredKeys = 0;
    this.keyspaceHits = 0;
    this.keyspaceMisses = 0;
    this.totalErrorReplies = 0;
    this.unexpectedErrorReplies = 0;
    this.errors.clear();
    this.syncFull = 0;
    this.syncPartialOk = 0;
    this.syncPartialErr = 0;
  }
}
