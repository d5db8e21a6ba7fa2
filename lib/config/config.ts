// Config values keyed by directive name, filled from a redis-style file, command-line flags and
// TOML, and changed at run time by CONFIG SET. Parsing and validation live here; what a change
// does to the running server is an `onChange` hook the server installs.
import { type ConfigValue, DIRECTIVE_BY_NAME, DIRECTIVES, type Directive, parseMemory } from "./directives.ts";
import { splitArgs } from "../protocol/parser.ts";
import { globMatch } from "../commands/util.ts";

/** A config file error, reported the way Redis does before exiting with code 1. */
export class ConfigFileError extends Error {
  constructor(public line: number, public text: string, public reason: string, public file?: string) {
    super(reason);
  }
  /** Redis's "FATAL CONFIG FILE ERROR" block. */
  report(version: string): string {
    return `\n*** FATAL CONFIG FILE ERROR (tsredis ${version}) ***\n` +
      `Reading the configuration file${this.file ? ` ${this.file}` : ""}, at line ${this.line}\n` +
      `>>> '${this.text}'\n${this.reason}\n`;
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
      if (d.memory) {
        n = parseMemory(a);
        if (n === null) return new Error("argument must be a memory value");
      } else if (d.name === "maxmemory-clients" && a.endsWith("%")) {
        n = /^[0-9]+%$/.test(a) ? -parseInt(a, 10) : null;
        if (n === null) return new Error("argument must be a memory or percent value");
      } else {
        n = /^-?[0-9]+$/.test(a) ? parseInt(a, 10) : null;
        if (n === null) return new Error("argument couldn't be parsed into an integer");
      }
      if (n < d.min! || n > d.max!) {
        return new Error(`argument must be between ${d.min} and ${d.max} inclusive`);
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

/** Formats a value as CONFIG GET shows it. */
export function formatDirectiveValue(d: Directive, v: ConfigValue): string {
  if (d.format) return d.format(v);
  if (d.type === "bool") return v ? "yes" : "no";
  return String(v);
}

/** Hook run when a directive changes at run time; returns an error message to refuse it. */
export type ChangeHook = (value: ConfigValue, old: ConfigValue) => string | void;

/** The server's configuration. */
export class Config {
  values = new Map<string, ConfigValue>();
  /** Absolute path of the config file, for CONFIG REWRITE. */
  file: string | null = null;
  /** Directives that appeared in any source (file, flags, TOML). */
  explicitlySet = new Set<string>();
  private hooks = new Map<string, ChangeHook>();

  constructor() {
    for (const d of DIRECTIVES) this.values.set(d.name, d.default);
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

  /** Installs the hook for run-time changes of a directive. */
  onChange(name: string, hook: ChangeHook): void {
    this.hooks.set(name, hook);
  }

  /** Applies a directive from a file line or a flag (start-up). Throws Error with Redis's text. */
  applyStartup(name: string, argsIn: string[]): void {
    let args = argsIn;
    const d = DIRECTIVE_BY_NAME.get(name.toLowerCase());
    if (!d) throw new Error("Bad directive or wrong number of arguments");
    if (!d.multiArg && d.type !== "special" && args.length !== 1 && !d.name.startsWith("shutdown-on-")) {
      throw new Error("Bad directive or wrong number of arguments");
    }
    // A multi-word directive given as one quoted word ("900 1") is split on spaces, as Redis does.
    if (d.multiArg && args.length === 1 && args[0].includes(" ")) args = args[0].split(" ").filter((w) => w);
    const v = parseDirectiveValue(d, args, this.values.get(d.name)!, true);
    if (v instanceof Error) throw v;
    this.values.set(d.name, v);
    this.explicitlySet.add(d.name);
  }

  /** Parses redis.conf text; later lines override earlier ones. */
  loadText(text: string, file?: string): void {
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === "" || line.startsWith("#")) continue;
      const argv = splitArgs(line);
      if (argv === null) throw new ConfigFileError(i + 1, line, "Unbalanced quotes in configuration line", file);
      if (argv.length === 0) continue;
      const name = argv[0].toLowerCase();
      if (name === "include") {
        if (argv.length !== 2) throw new ConfigFileError(i + 1, line, "Bad directive or wrong number of arguments", file);
        this.loadText(Deno.readTextFileSync(argv[1]), argv[1]);
        continue;
      }
      if (name === "rename-command" || name === "user" || name === "loadmodule" || name === "sentinel") continue;
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

  /** CONFIG SET for one directive; returns an error text or null. Hooks run after validation. */
  set(name: string, raw: string, protectedAllowed = true): string | null {
    const d = DIRECTIVE_BY_NAME.get(name.toLowerCase());
    if (!d) return `Unknown option or number of arguments for CONFIG SET - '${name}'`;
    const prefix = `CONFIG SET failed (possibly related to argument '${name}') - `;
    if (d.immutable) return prefix + "can't set immutable config";
    if (!protectedAllowed && (d.name === "dir" || d.name === "dbfilename")) {
      return prefix + "can't set protected config";
    }
    const args = d.multiArg ? (raw === "" ? [""] : (splitArgs(raw) ?? [raw])) : [raw];
    const old = this.values.get(d.name)!;
    const v = parseDirectiveValue(d, args, old, false);
    if (v instanceof Error) return prefix + v.message;
    this.values.set(d.name, v);
    const hook = this.hooks.get(d.name);
    const err = hook?.(v, old);
    if (err) {
      this.values.set(d.name, old);
      return prefix + err;
    }
    return null;
  }

  /** Directive names and values matching a CONFIG GET pattern (names, then aliases). */
  getMatching(pattern: string): [string, string][] {
    const out: [string, string][] = [];
    const seen = new Set<string>();
    const lp = pattern.toLowerCase();
    for (const d of DIRECTIVES) {
      for (const name of [d.name, d.alias]) {
        if (!name || seen.has(name)) continue;
        if (lp === name || globMatch(lp, name, true)) {
          seen.add(name);
          out.push([name, formatDirectiveValue(d, this.values.get(d.name)!)]);
        }
      }
    }
    return out;
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
