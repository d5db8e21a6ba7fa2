// CONFIG GET/SET/RESETSTAT/REWRITE/HELP, and the hooks that make CONFIG SET act at once.
import { cmd, type CommandSpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { replyHelp } from "./connection.ts";
import { E_SYNTAX } from "./util.ts";
import { errnoText, rewriteConfigFile } from "../config/rewrite.ts";
import { relisten } from "../server/listener.ts";
import { log } from "../log.ts";
import { resolve } from "node:path";
import { sampleMemoryPeak } from "./info.ts";

/** True for clients Redis calls local (loopback or unix socket). */
export function isLocalClient(c: Client): boolean {
  return c.addr.startsWith("127.0.0.1:") || c.addr.startsWith("[::1]:") || c.addr.startsWith("/") ||
    c.addr === "";
}

function protectedAllowed(c: Client, directive: string): boolean {
  const v = c.server.config.str(directive);
  return v === "yes" || (v === "local" && isLocalClient(c));
}

/** Resets every command's INFO commandstats counters (CONFIG RESETSTAT). */
export function resetCommandStats(server: Server): void {
  for (const spec of server.commands.values()) {
    const all = [spec, ...(spec.subcommands?.values() ?? [])];
    for (const s of all) {
      s.calls = 0;
      s.usec = 0;
      s.rejectedCalls = 0;
      s.failedCalls = 0;
      s.latency = undefined;
    }
  }
}

const HELP = [
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
];

function configSet(c: Client, argv: string[]): void {
  if (argv.length % 2 !== 0) return c.error(E_SYNTAX);
  const pairs: [string, string][] = [];
  for (let i = 2; i < argv.length; i += 2) pairs.push([argv[i], argv[i + 1]]);
  const err = c.server.config.setMany(
    pairs,
    protectedAllowed(c, "enable-protected-configs"),
    c.server.loading,
  );
  if (err === null) return c.out.status("OK");
  c.error(err.startsWith("LOADING ") ? err : "ERR " + err);
}

function configGet(c: Client, argv: string[]): void {
  const found = c.server.config.getMatching(argv.slice(2));
  c.out.map(found.length);
  for (const [k, v] of found) {
    c.out.bulk(k);
    c.out.bulk(v);
  }
}

function configRewrite(c: Client): void {
  const file = c.server.config.file;
  if (!file) return c.error("ERR The server is running without a config file");
  try {
    rewriteConfigFile(c.server.config, file);
    log.notice("CONFIG REWRITE executed with success.");
    c.out.status("OK");
  } catch (e) {
    log.warning(`CONFIG REWRITE failed: ${errnoText(e)}`);
    c.error(`ERR Rewriting config file: ${errnoText(e)}`);
  }
}

/** Installs the CONFIG SET hooks whose effect must be immediate (called at start-up, before
 * subsystems, so a subsystem may replace a hook with its own). */
export function installConfigHooks(server: Server): void {
  const cfg = server.config;
  cfg.onChange("requirepass", (v, old) => {
    // Connections made while there was no password were authenticated as the nopass default
    // user; like Redis they stay authenticated when a password is set.
    if (old === "" && v !== "") {
      for (const cl of server.clients.values()) cl.authenticated = true;
    }
  });
  cfg.onChange("dir", (v) => {
    try {
      Deno.chdir(String(v));
    } catch (e) {
      return errnoText(e);
    }
  });
  cfg.onChange("port", (v, old) => {
    const binds = cfg.get("bind") as string[];
    if (!relisten(server, v as number, binds, old as number, binds)) {
      return "Unable to listen on this port. Check server logs.";
    }
  });
  cfg.onChange("bind", (v, old) => {
    const port = cfg.int("port");
    if (!relisten(server, port, v as string[], port, old as string[])) {
      return "Failed to bind to specified addresses.";
    }
  });
  cfg.onChange("slowlog-max-len", (v) => {
    if (server.slowlog.length > (v as number)) server.slowlog.length = v as number;
  });
  // Like Redis, a clean exit removes the pidfile (Deno runs "unload" on Deno.exit too).
  const pidfile = cfg.str("pidfile") ? resolve(cfg.str("pidfile")) : "";
  globalThis.addEventListener("unload", () => {
    if (pidfile) {
      try {
        Deno.removeSync(pidfile);
      } catch { /* already gone */ }
    }
  });
  let tick = 0;
  server.cronHooks.push(() => {
    if (++tick % 10 === 0) sampleMemoryPeak();
  });
  // Accepted until the AOF subsystem installs its own hook.
  if (!cfg.hasHook("appendonly")) cfg.onChange("appendonly", () => {});
}

const FLAGS = ["admin", "noscript", "loading", "stale"] as const;

function sub(
  name: string,
  arity: number,
  handler: (c: Client, argv: string[]) => void,
  extra: Partial<CommandSpec>,
) {
  return [
    name,
    cmd(name, arity, [...FLAGS], [0, 0, 0], handler, { group: "server", ...extra }),
  ] as const;
}

const subcommands = new Map<string, CommandSpec>([
  sub("get", -3, configGet, {
    since: "2.0.0",
    summary: "Get the values of configuration parameters",
    complexity: "O(N) when N is the number of configuration parameters provided",
  }),
  sub("set", -4, configSet, {
    since: "2.0.0",
    summary: "Set configuration parameters to the given values",
    complexity: "O(N) when N is the number of configuration parameters provided",
    tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
  }),
  sub("resetstat", 2, (c) => {
    c.server.stats.reset();
    resetCommandStats(c.server);
    c.out.status("OK");
  }, { since: "2.0.0", summary: "Reset the stats returned by INFO", complexity: "O(1)" }),
  sub("rewrite", 2, configRewrite, {
    since: "2.8.0",
    summary: "Rewrite the configuration file with the in memory configuration",
    complexity: "O(1)",
  }),
  [
    "help",
    cmd("help", 2, ["loading", "stale"], [0, 0, 0], (c, argv) => replyHelp(c, argv, HELP), {
      group: "server",
      since: "5.0.0",
      summary: "Show helpful text about the different subcommands",
      complexity: "O(1)",
    }),
  ],
]);

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd(
    "config",
    -2,
    [],
    [0, 0, 0],
    (c, argv) => c.error(`ERR unknown subcommand '${argv[1]}'. Try CONFIG HELP.`),
    {
      subcommands,
      group: "server",
      since: "2.0.0",
      summary: "A container for server configuration commands",
      complexity: "Depends on subcommand.",
    },
  ),
];
