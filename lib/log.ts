// Redis's log line format: "pid:R dd Mon yyyy hh:mm:ss.mmm <level char> message".
// Role char: M master, S replica, C child (unused: no fork), X sentinel.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const LEVELS = ["debug", "verbose", "notice", "warning"] as const;
const MARKS = [".", "-", "*", "#"];

/** Log verbosity. */
export type LogLevel = typeof LEVELS[number];

/** Writes Redis-style log lines to stdout or a file. */
export class Logger {
  level = 2;
  role: "M" | "S" = "M";
  private file: Deno.FsFile | null = null;
  private enc = new TextEncoder();

  /** Sets the verbosity by name. */
  setLevel(name: string): void {
    const i = LEVELS.indexOf(name as LogLevel);
    if (i >= 0) this.level = i;
  }

  /** Sends output to a file (append), or stdout for "". */
  setFile(path: string): void {
    this.file?.close();
    this.file = path === "" ? null : Deno.openSync(path, { append: true, create: true });
  }

  /** Formats the time prefix. */
  static stamp(d = new Date()): string {
    const p = (n: number, w = 2) => String(n).padStart(w, "0");
    return `${p(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${p(d.getHours())}:${
      p(d.getMinutes())
    }:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  }

  /** Writes text without a prefix (the start-up logo). */
  raw(text: string): void {
    const b = this.enc.encode(text);
    if (this.file) this.file.writeSync(b);
    else Deno.stdout.writeSync(b);
  }

  private write(level: number, msg: string): void {
    if (level < this.level) return;
    this.raw(`${Deno.pid}:${this.role} ${Logger.stamp()} ${MARKS[level]} ${msg}\n`);
  }

  /** Debug-level line (`.`). */
  debug(msg: string): void {
    this.write(0, msg);
  }
  /** Verbose line (`-`). */
  verbose(msg: string): void {
    this.write(1, msg);
  }
  /** Notice line (`*`). */
  notice(msg: string): void {
    this.write(2, msg);
  }
  /** Warning line (`#`). */
  warning(msg: string): void {
    this.write(3, msg);
  }
}

/** The process-wide logger. */
export const log: Logger = new Logger();
