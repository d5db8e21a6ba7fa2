// Command line -> Config, like redis-server: `[config-file] [--directive value ...]`,
// plus `--config file.toml`, `--help`, `--version`. Later sources override earlier ones.
import { parseArgs } from "node:util";
import { Config, ConfigFileError, quoteIfNeeded } from "./config.ts";
import { resolve } from "node:path";
import { errnoText } from "./rewrite.ts";

/** What main should do. */
export type CliResult =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "run"; config: Config };

/** Groups argv into `name value...` directives, as redis-server does. */
export function groupDirectives(args: string[]): { file: string | null; directives: string[][] } {
  const { tokens } = parseArgs({ args, strict: false, allowPositionals: true, tokens: true });
  let file: string | null = null;
  const directives: string[][] = [];
  let cur: string[] | null = null;
  for (const t of tokens) {
    if (t.kind === "option" && t.rawName.startsWith("--")) {
      cur = [t.name];
      directives.push(cur);
      if (t.inlineValue && t.value !== undefined) cur.push(t.value);
    } else {
      // Positionals and things that look like short options ("-1") are values.
      const value = t.kind === "positional" ? t.value : t.kind === "option" ? t.rawName : "--";
      if (cur) cur.push(value);
      else if (file === null && t.kind === "positional") file = value;
      else throw new Error(`Unexpected argument '${value}'`);
    }
  }
  return { file, directives };
}

/** Reads all of stdin as text (config from "-"). */
async function readStdin(): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of Deno.stdin.readable) chunks.push(c);
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all);
}

/** Parses the process arguments into a Config (throws ConfigFileError for bad directives).
 * Precedence as in Redis: config file, then stdin ("-"), then --options in order. */
export async function parseCommandLine(args: string[]): Promise<CliResult> {
  if (args[0] === "--help" || args[0] === "-h") return { kind: "help" };
  if (args[0] === "--version" || args[0] === "-v") return { kind: "version" };
  let rest = args;
  let fromStdin = false;
  if (rest.length && rest[0] === "-") {
    fromStdin = true;
    rest = rest.slice(1);
  } else if (rest.length > 1 && rest[rest.length - 1] === "-") {
    fromStdin = true;
    rest = rest.slice(0, -1);
  }
  const { file, directives } = groupDirectives(rest);
  const config = new Config();
  if (file !== null) {
    const path = resolve(file);
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (e) {
      throw new ConfigFileError(
        0,
        file,
        `Fatal error, can't open config file '${path}': ${errnoText(e)}`,
      );
    }
    config.file = path;
    config.loadText(text, file);
  }
  if (fromStdin) config.loadText(await readStdin(), "(stdin)");
  const lines: string[] = [];
  for (const d of directives) {
    if (d[0] === "config") {
      // TOML file: applied in order with the other flags.
      if (lines.length) config.loadText(lines.splice(0).join("\n"), "(command line)");
      if (d.length !== 2) throw new ConfigFileError(0, "--config", "--config takes one TOML file");
      const { parse } = await import("smol-toml");
      let obj: Record<string, unknown>;
      try {
        obj = parse(Deno.readTextFileSync(d[1])) as Record<string, unknown>;
      } catch (e) {
        const msg = e instanceof Deno.errors.NotFound
          ? `Fatal error, can't open config file '${resolve(d[1])}': ${errnoText(e)}`
          : `Invalid TOML in ${d[1]}: ${(e as Error).message.split("\n")[0]}`;
        throw new ConfigFileError(0, d[1], msg, d[1]);
      }
      config.loadObject(flattenToml(obj), d[1]);
      continue;
    }
    lines.push([d[0], ...d.slice(1).map((v) => quoteIfNeeded(v, false))].join(" "));
  }
  if (lines.length) config.loadText(lines.join("\n"), "(command line)");
  return { kind: "run", config };
}

/** TOML tables become prefixes: [cluster] enabled = true -> cluster-enabled yes. */
function flattenToml(obj: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const name = prefix ? `${prefix}-${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v)) {
      Object.assign(out, flattenToml(v as Record<string, unknown>, name));
    } else out[name] = v;
  }
  return out;
}

/** Usage text for --help. */
export const USAGE = `Usage: ./tsredis [/path/to/redis.conf] [options] [-]
       ./tsredis - (read config from stdin)
       ./tsredis -v or --version
       ./tsredis -h or --help
       ./tsredis --config tsredis.toml [options]

Examples:
       ./tsredis (run the server with default config)
       ./tsredis redis6379/redis6379cluster.conf
       ./tsredis --port 7777
       ./tsredis --port 6379 --cluster-enabled
       ./tsredis /etc/myredis.conf --loglevel verbose
`;
