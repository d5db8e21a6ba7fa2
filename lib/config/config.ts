// Config values keyed by directive name, filled from a redis-style file, command-line flags and
// TOML, and changed at run time by CONFIG SET. Parsing and validation live here; what a change
// does to the running server is an `onChange` hook the server installs.
import {
  type ConfigValue,
  type Directive,
  DIRECTIVE_BY_NAME,
  DIRECTIVES,
  parseMemory,
} from "./directives.ts";
import { splitArgs } from "../protocol/parser.ts";
import { globMatch } from "../commands/util.ts";

/** A config file error, reported the way Redis does before exiting with code 1. */
export class ConfigFileError extends Error {
  constructor(
    public line: number,
    public text: string,
    public reason: string,
    public file?: string,
  ) {
    super(reason);
  }
  /** Redis's "FATAL CONFIG FILE ERROR" block. */
  report(version: string): string {
    const where = this.line > 0
      ? `Reading the configuration file${
        this.file ? ` ${this.file}` : ""
      }, at line ${this.line}\n` +
        `>>> '${this.text}'\n`
      : "";
    return `\n*** FATAL CONFIG FILE ERROR (tsredis ${version}) ***\n${where}${this.reason}\n`;
  }
}

/** Validates and converts raw words into a directive's value; returns an Error with Redis's text. */
export function parseDirectiveValue(
  d: Directive,
  args: string[],
  current: ConfigValue,
  fromFile: boolean,
): ConfigValue | Error {
  if (d.type === "special") return d.parse!(args, current, fromFile);
  if (d.type === "enum" && d.name.startsWith("shutdown-on-")) {
    const words = args.join(" ").toLowerCase().split(/\s+/).filter((w) => w);
    if (words.length === 0 || !words.every((w) => d.values!.includes(w))) {
      return new Error(`argument(s) must be one of the following: ${d.values!.join(", ")}`);
    }
    return words.join(" ");
  }
  if (args.length !== 1) return new Error("wrong number of arguments");
  const a = args[0];
  switch (d.type) {
    case "bool": {
      const l = a.toLowerCase();
      if (l === "yes") return true;
      if (l === "no") return false;
      return new Error("argument must be 'yes' or 'no'");
    }
    case "int": {
      let n: number | null;
      if (d.name === "maxmemory-clients" && a.endsWith("%")) {
        n = /^[0-9]+%$/.test(a) ? -parseInt(a, 10) : null;
        if (n === null) return new Error("argument must be a memory or percent value");
      } else if (d.memory) {
        n = parseMemory(a);
        if (n === null) return new Error("argument must be a memory value");
      } else {
        n = /^-?[0-9]+$/.test(a) ? parseInt(a, 10) : null;
        if (n === null) return new Error("argument couldn't be parsed into an integer");
      }
      if (n < d.min! || n > d.max!) {
        return new Error(
          `argument must be between ${boundText(d.min!)} and ${boundText(d.max!)} inclusive`,
        );
      }
      return n;
    }
    case "enum": {
      const l = a.toLowerCase();
      if (!d.values!.includes(l)) {
        return new Error(`argument(s) must be one of the following: ${d.values!.join(", ")}`);
      }
      return l;
    }
    default:
      return a;
  }
}

/** JS numbers stop at 2^53: bounds at that limit stand for C's LLONG_MAX/LLONG_MIN in messages. */
function boundText(n: number): string {
  if (n >= Number.MAX_SAFE_INTEGER) return "9223372036854775807";
  if (n <= -Number.MAX_SAFE_INTEGER) return "-9223372036854775808";
  return String(n);
}

/** Formats a value as CONFIG GET shows it. */
export function formatDirectiveValue(d: Directive, v: ConfigValue): string {
  if (d.format) return d.format(v);
  if (d.type === "bool") return v ? "yes" : "no";
  if (d.name === "maxmemory-clients" && (v as number) < 0) return `${-(v as number)}%`;
  return String(v);
}

/** The current working directory, which is what `dir` reports (like getcwd in Redis). */
function cwd(): string {
  try {
    return Deno.cwd();
  } catch {
    return "";
  }
}

/** Hook run when a directive changes at run time; returns an error message to refuse it. */
export type ChangeHook = (value: ConfigValue, old: ConfigValue) => string | void;

/** Directives read on every command, kept as plain fields (a Map lookup per read costs more
 * than the check itself). Updated by Config.store whenever the directive changes. */
export class HotConfig {
  maxmemory = 0;
  requirepass = "";
  slowlogLogSlowerThan = 10000;
  slowlogMaxLen = 128;
  latencyTracking = true;
  protoMaxBulkLen = 512 * 1024 * 1024;
  clientQueryBufferLimit = 1024 * 1024 * 1024;
  replicaReadOnly = true;
  notifyKeyspaceEvents = "";
  minReplicasToWrite = 0;
  minReplicasMaxLag = 10;

  /** Mirrors one directive's new value. */
  update(name: string, v: ConfigValue): void {
    switch (name) {
      case "maxmemory":
        this.maxmemory = v as number;
        break;
      case "requirepass":
        this.requirepass = v as string;
        break;
      case "slowlog-log-slower-than":
        this.slowlogLogSlowerThan = v as number;
        break;
      case "slowlog-max-len":
        this.slowlogMaxLen = v as number;
        break;
      case "latency-tracking":
        this.latencyTracking = v as boolean;
        break;
      case "proto-max-bulk-len":
        this.protoMaxBulkLen = v as number;
        break;
      case "client-query-buffer-limit":
        this.clientQueryBufferLimit = v as number;
        break;
      case "replica-read-only":
        this.replicaReadOnly = v as boolean;
        break;
      case "notify-keyspace-events":
        this.notifyKeyspaceEvents = v as string;
        break;
      case "min-replicas-to-write":
        this.minReplicasToWrite = v as number;
        break;
      case "min-replicas-max-lag":
        this.minReplicasMaxLag = v as number;
        break;
    }
  }
}

/** The server's configuration. */
export class Config {
  values = new Map<string, ConfigValue>();
  /** Hot-path copies of a few directives; see HotConfig. */
  hot = new HotConfig();
  /** Absolute path of the config file, for CONFIG REWRITE. */
  file: string | null = null;
  /** Directives that appeared in any source (file, flags, TOML). */
  explicitlySet = new Set<string>();
  private hooks = new Map<string, ChangeHook>();

  constructor() {
    for (const d of DIRECTIVES) this.store(d.name, d.default);
  }

  /** Sets a directive's value (and its hot-path copy). */
  store(name: string, v: ConfigValue): void {
    this.values.set(name, v);
    this.hot.update(name, v);
  }

  /** Raw value by directive name. */
  get(name: string): ConfigValue {
    return this.values.get(name)!;
  }
  /** Integer value. */
  int(name: string): number {
    return this.values.get(name) as number;
  }
  /** Boolean value. */
  bool(name: string): boolean {
    return this.values.get(name) as boolean;
  }
  /** String value. */
  str(name: string): string {
    return this.values.get(name) as string;
  }

  /** Whether a run-time hook is installed for a directive. */
  hasHook(name: string): boolean {
    return this.hooks.has(name);
  }

  /** Installs the hook for run-time changes of a directive. */
  onChange(name: string, hook: ChangeHook): void {
    this.hooks.set(name, hook);
  }

  /** Applies a directive from a file line or a flag (start-up). Throws Error with Redis's text. */
  applyStartup(name: string, argsIn: string[]): void {
    let args = argsIn;
    const d = DIRECTIVE_BY_NAME.get(name.toLowerCase());
    if (!d) throw new Error("Bad directive or wrong number of arguments");
    if (
      !d.multiArg && d.type !== "special" && args.length !== 1 && !d.name.startsWith("shutdown-on-")
    ) {
      throw new Error("Bad directive or wrong number of arguments");
    }
    // A multi-word directive given as one quoted word ("900 1") is split on spaces, as Redis does.
    if (d.multiArg && args.length === 1 && args[0].includes(" ")) {
      args = args[0].split(" ").filter((w) => w);
    }
    const v = parseDirectiveValue(d, args, this.values.get(d.name)!, true);
    if (v instanceof Error) throw v;
    this.store(d.name, v);
    this.explicitlySet.add(d.name);
  }

  /** Parses redis.conf text; later lines override earlier ones. */
  loadText(text: string, file?: string): void {
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === "" || line.startsWith("#")) continue;
      const argv = splitArgs(line);
      if (argv === null) {
        throw new ConfigFileError(i + 1, line, "Unbalanced quotes in configuration line", file);
      }
      if (argv.length === 0) continue;
      const name = argv[0].toLowerCase();
      if (name === "include") {
        if (argv.length !== 2) {
          throw new ConfigFileError(
            i + 1,
            line,
            "Bad directive or wrong number of arguments",
            file,
          );
        }
        this.loadText(Deno.readTextFileSync(argv[1]), argv[1]);
        continue;
      }
      if (
        name === "rename-command" || name === "user" || name === "loadmodule" || name === "sentinel"
      ) continue;
      try {
        // A directive with no value on the command line (--cluster-enabled) means "yes".
        const d = DIRECTIVE_BY_NAME.get(name);
        const args = argv.slice(1);
        if (d?.type === "bool" && args.length === 0) args.push("yes");
        this.applyStartup(name, args);
      } catch (e) {
        throw new ConfigFileError(i + 1, line, (e as Error).message, file);
      }
    }
  }

  /** Applies a flat TOML-like object: keys are directive names, values scalars or arrays. */
  loadObject(obj: Record<string, unknown>, file?: string): void {
    let n = 0;
    for (const [k, v] of Object.entries(obj)) {
      n++;
      const args = Array.isArray(v)
        ? v.flatMap((x) => String(x).split(/\s+/))
        : typeof v === "boolean"
        ? [v ? "yes" : "no"]
        : [String(v)];
      try {
        this.applyStartup(k.replaceAll("_", "-"), args);
      } catch (e) {
        throw new ConfigFileError(n, `${k} = ${JSON.stringify(v)}`, (e as Error).message, file);
      }
    }
  }

  /** CONFIG SET for one directive; returns an error text (without "ERR ") or null. */
  set(name: string, raw: string, protectedAllowed = true): string | null {
    return this.setMany([[name, raw]], protectedAllowed);
  }

  /** CONFIG SET for several directives at once: all are applied or none (Redis 7.0 rules:
   * first invalid name/immutable/duplicate wins, then values are parsed, then hooks run once
   * per changed directive; any failure restores every old value). */
  setMany(pairs: [string, string][], protectedAllowed = true, loading = false): string | null {
    const found: Directive[] = [];
    for (const [name] of pairs) {
      const d = DIRECTIVE_BY_NAME.get(name.toLowerCase());
      if (!d) return `Unknown option or number of arguments for CONFIG SET - '${name}'`;
      const prefix = `CONFIG SET failed (possibly related to argument '${name}') - `;
      if (d.immutable) return prefix + "can't set immutable config";
      if (!protectedAllowed && (d.name === "dir" || d.name === "dbfilename")) {
        return prefix + "can't set protected config";
      }
      if (
        loading && (d.name === "dir" || d.name === "appendonly" || d.name === "repl-diskless-load")
      ) {
        return "LOADING Redis is loading the dataset in memory";
      }
      if (found.includes(d)) return prefix + "duplicate parameter";
      found.push(d);
    }
    const olds = found.map((d) => this.values.get(d.name)!);
    const changed: number[] = [];
    const restore = () => found.forEach((d, i) => this.store(d.name, olds[i]));
    for (let i = 0; i < pairs.length; i++) {
      const d = found[i];
      const raw = pairs[i][1];
      const name = pairs[i][0].toLowerCase();
      const args = d.multiArg ? (raw === "" ? [""] : (splitArgs(raw) ?? [raw])) : [raw];
      const v = parseDirectiveValue(d, args, olds[i], false);
      if (v instanceof Error) {
        restore();
        return `CONFIG SET failed (possibly related to argument '${name}') - ${v.message}`;
      }
      this.store(d.name, v);
      if (d.name === "dir" || JSON.stringify(v) !== JSON.stringify(olds[i])) changed.push(i);
    }
    const applied: number[] = [];
    for (const i of changed) {
      const d = found[i];
      const hook = this.hooks.get(d.name);
      const err = hook?.(this.values.get(d.name)!, olds[i]);
      if (err) {
        const news = found.map((x) => this.values.get(x.name)!);
        restore();
        // Undo what earlier hooks did, as Redis re-applies the restored settings.
        for (const j of applied) this.hooks.get(found[j].name)?.(olds[j], news[j]);
        return `CONFIG SET failed (possibly related to argument '${
          pairs[i][0].toLowerCase()
        }') - ${err}`;
      }
      applied.push(i);
    }
    return null;
  }

  /** CONFIG GET for several patterns: exact names as given, globs over names and aliases. */
  getMatching(patterns: string | string[]): [string, string][] {
    const list = typeof patterns === "string" ? [patterns] : patterns;
    const out: [string, string][] = [];
    const seen = new Set<string>();
    for (const pattern of list) {
      if (!/[[*?]/.test(pattern)) {
        const d = DIRECTIVE_BY_NAME.get(pattern.toLowerCase());
        if (!d || seen.has(pattern)) continue;
        seen.add(pattern);
        out.push([pattern, this.display(d)]);
        continue;
      }
      for (const d of DIRECTIVES) {
        for (const name of [d.name, d.alias]) {
          if (!name || seen.has(name)) continue;
          if (globMatch(pattern, name, true)) {
            seen.add(name);
            out.push([name, this.display(d)]);
          }
        }
      }
    }
    return out;
  }

  /** A directive's value as CONFIG GET shows it. */
  display(d: Directive): string {
    if (d.name === "dir") return cwd();
    return formatDirectiveValue(d, this.values.get(d.name)!);
  }

  /** Lines CONFIG REWRITE writes for a directive (empty when at its default). */
  rewriteLines(d: Directive): string[] {
    const v = this.values.get(d.name)!;
    const isDefault = JSON.stringify(v) === JSON.stringify(d.default);
    if (isDefault) return [];
    if (d.rewriteLines) return d.rewriteLines(v);
    const s = formatDirectiveValue(d, v);
    return [`${d.name} ${quoteIfNeeded(s, !!d.multiArg)}`];
  }
}

/** Quotes a config value for a rewritten file when it has spaces or is empty. */
export function quoteIfNeeded(s: string, multi: boolean): string {
  if (multi && s !== "") return s;
  if (s === "" || /[\s"'\\]/.test(s) || /[^\x20-\x7e]/.test(s)) {
    let out = '"';
    for (const ch of s) {
      const c = ch.charCodeAt(0);
      if (ch === "\\" || ch === '"') out += "\\" + ch;
      else if (ch === "\n") out += "\\n";
      else if (ch === "\r") out += "\\r";
      else if (ch === "\t") out += "\\t";
      else if (c < 32 || c > 126) out += "\\x" + c.toString(16).padStart(2, "0");
      else out += ch;
    }
    return out + '"';
  }
  return s;
}
