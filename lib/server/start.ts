// Boot sequence: logger, working dir, server object, command table, dataset load, listeners,
// cron and signal handlers. Every subsystem attaches itself here through `installers`.
import { Config } from "../config/config.ts";
import { Server, TSREDIS_VERSION, VERSION } from "./server.ts";
import { listenAll } from "./listener.ts";
import { log } from "../log.ts";
import { allCommands } from "../commands/table.ts";
import { installConfigHooks } from "../commands/config_cmd.ts";

/** A subsystem that hooks into the server at start (persistence, cluster, replication). */
export type Installer = (server: Server) => Promise<void> | void;

/** Subsystems with their start rank. Modules register themselves in lib/server/subsystems.ts.
 * A hoisted `var` filled by a function declaration: subsystem modules reached through the command
 * table register before this module's body runs, when a `const` would still be uninitialized.
 * For the same reason the order of registration is not the start order: startServer sorts by
 * rank. */
// deno-lint-ignore no-var
export var installers: { inst: Installer; rank: number }[];

/** Adds an installer; safe to call while this module is still being evaluated. Lower ranks
 * start first. */
export function addInstaller(inst: Installer, rank: number): void {
  (installers ??= []).push({ inst, rank });
}

/** Starts a server with the given config; resolves once it is listening. */
export async function startServer(config: Config): Promise<Server> {
  log.setLevel(config.str("loglevel"));
  const logfile = config.str("logfile");
  const dir = config.get("dir") as string;
  try {
    Deno.chdir(dir);
  } catch (e) {
    log.warning(`Can't chdir to '${dir}': ${(e as Error).message}`);
    Deno.exit(1);
  }
  if (logfile !== "") log.setFile(logfile);
  log.notice("oO0OoO0OoO0Oo tsredis is starting oO0OoO0OoO0Oo");
  log.notice(
    `tsredis version=${TSREDIS_VERSION} (Redis ${VERSION} compatible), bits=64, pid=${Deno.pid}, just started`,
  );
  if (config.file) log.notice(`Configuration loaded`);
  else log.warning("Warning: no config file specified, using the default config.");
  if (config.bool("daemonize")) {
    log.warning(
      "daemonize yes is ignored: Deno cannot fork; run tsredis under a supervisor or with '&'.",
    );
  }

  const server = new Server(config);
  server.registerCommands(allCommands());
  const mode = config.bool("cluster-enabled") ? "cluster" : "standalone";
  const port = config.int("port");
  log.raw(banner(mode, port));
  log.notice(`Running mode=${mode}, port=${port}.`);

  config.onChange("loglevel", (v) => void log.setLevel(String(v)));
  config.onChange("databases", () => "can't set immutable config");

  installConfigHooks(server);
  for (const { inst } of [...(installers ?? [])].sort((a, b) => a.rank - b.rank)) {
    await inst(server);
  }

  const pidfile = config.str("pidfile");
  if (pidfile) {
    try {
      Deno.writeTextFileSync(pidfile, `${Deno.pid}\n`);
    } catch { /* not fatal, as in Redis */ }
  }
  log.notice("Server initialized");
  try {
    if (port !== 0) listenAll(server, port, config.get("bind") as string[]);
  } catch (e) {
    log.warning((e as Error).message);
    Deno.exit(1);
  }
  startCron(server);
  installSignals(server);
  log.notice("Ready to accept connections");
  return server;
}

function banner(mode: string, port: number): string {
  return `
     _                    _ _
    | |_ ___ _ __ ___  __| (_)___      tsredis ${TSREDIS_VERSION} (Redis ${VERSION} compatible) 64 bit
    | __/ __| '__/ _ \\/ _\` | / __|
    | |_\\__ \\ | |  __/ (_| | \\__ \\     Running in ${mode} mode
     \\__|___/_|  \\___|\\__,_|_|___/     Port: ${port}
                                       PID: ${Deno.pid}

`;
}

/** The 100 ms cron: expiry, blocked-client timeouts, idle clients, stats, subsystem hooks. */
function startCron(server: Server): void {
  let tick = 0;
  setInterval(() => {
    tick++;
    const now = Date.now();
    server.activeExpireCycle();
    // Keys that expired may wake blocked clients (a stream's XREADGROUP clients fail), as
    // handleClientsBlockedOnKeys in Redis's beforeSleep.
    if (server.blocking.blockedCount > 0) server.blocking.handleReady();
    server.blocking.checkTimeouts(now, server.clients.values());
    if (tick % 10 === 0) {
      server.stats.sample();
      const timeout = server.config.int("timeout");
      if (timeout > 0) {
        for (const c of server.clients.values()) {
          if (c.isMaster || c.isReplica || c.blocked || c.inPubSub) continue;
          if (now - c.lastInteraction > timeout * 1000) c.close();
        }
      }
    }
    for (const h of server.cronHooks) {
      try {
        h();
      } catch (e) {
        log.warning(`cron hook failed: ${(e as Error).stack}`);
      }
    }
  }, 100);
}

/** Last line of defence: an error escaping an async path is logged, never fatal. */
function installErrorGuards(): void {
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log.warning(
      `Unhandled error (the server keeps running): ${(e.reason as Error)?.stack ?? e.reason}`,
    );
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    log.warning(
      `Uncaught error (the server keeps running): ${(e.error as Error)?.stack ?? e.message}`,
    );
  });
}

function installSignals(server: Server): void {
  installErrorGuards();
  const handler = (name: string) => () => {
    if (server.shuttingDown) {
      log.warning(`You insist... exiting now.`);
      Deno.exit(1);
    }
    log.warning(`Received ${name} scheduling shutdown...`);
    server.shutdown(null);
  };
  Deno.addSignalListener("SIGINT", handler("SIGINT"));
  Deno.addSignalListener("SIGTERM", handler("SIGTERM"));
}
