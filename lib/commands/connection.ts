// Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO. (SELECT lives in keys.ts.)
import { cmd, type CommandSpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { VERSION } from "../server/server.ts";
import { parseInteger } from "./util.ts";

/** Flags shared by the connection commands that must work before AUTH and while loading. */
const CONN_FLAGS = ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"] as const;

/** Replies a HELP array the way Redis's addReplyHelp does (header, lines, HELP footer). */
export function replyHelp(c: Client, argv: string[], lines: string[]): void {
  c.out.array(lines.length + 3);
  c.out.status(`${argv[0].toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) c.out.status(l);
  c.out.status("HELP");
  c.out.status("    Prints this help.");
}

/** True when the client may run commands that need authentication. */
export function isAuthenticated(c: Client): boolean {
  return c.authenticated || c.server.config.str("requirepass") === "";
}

/** Checks a username/password pair against the single "default" user (requirepass). */
export function authenticate(c: Client, user: string, pass: string): boolean {
  if (user !== "default") return false;
  const required = c.server.config.str("requirepass");
  if (required !== "" && pass !== required) return false;
  c.authenticated = true;
  return true;
}

/** Validates a client name like clientSetName: printable ASCII without spaces. */
export function validClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 0x21 || ch > 0x7e) return false;
  }
  return true;
}

/** Error text for a name CLIENT SETNAME / HELLO SETNAME refuses. */
export const E_BAD_NAME = "ERR Client names cannot contain spaces, newlines or special characters.";

/** Hooks for state other modules own but RESET must clear (tracking, ...). */
export const resetHooks: ((c: Client) => void)[] = [];

function reset(c: Client): void {
  if (c.isMaster || c.isReplica) return c.error("ERR can only reset normal client connections");
  if (c.isMonitor) {
    c.server.monitors.delete(c);
    c.isMonitor = false;
  }
  for (const h of resetHooks) h(c);
  c.select(0);
  c.resp = 2;
  c.authenticated = c.server.config.str("requirepass") === "";
  c.multi = null;
  c.multiDirty = false;
  c.server.unwatchAll(c);
  c.server.pubsub.removeClient(c);
  c.name = "";
  c.asking = false;
  c.readonlyMode = false;
  c.replyMode = "on";
  c.skipNext = false;
  c.out.status("RESET");
}

function hello(c: Client, argv: string[]): void {
  let ver = 0;
  let i = 1;
  if (argv.length >= 2) {
    const v = parseInteger(argv[1]);
    if (v === null) return c.error("ERR Protocol version is not an integer or out of range");
    if (v < 2 || v > 3) return c.error("NOPROTO unsupported protocol version");
    ver = v;
    i = 2;
  }
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = argv[i].toLowerCase();
    if (opt === "auth" && more >= 2) {
      if (!authenticate(c, argv[i + 1], argv[i + 2])) {
        return c.error("WRONGPASS invalid username-password pair or user is disabled.");
      }
      i += 2;
    } else if (opt === "setname" && more >= 1) {
      const name = argv[i + 1];
      if (name !== "" && !validClientName(name)) return c.error(E_BAD_NAME);
      c.name = name;
      i++;
    } else {
      return c.error(`ERR Syntax error in HELLO option '${argv[i]}'`);
    }
  }
  if (!isAuthenticated(c)) {
    return c.error(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
  }
  if (ver) c.resp = ver as 2 | 3;
  const s = c.server;
  c.out.map(7);
  c.out.bulk("server");
  c.out.bulk("redis");
  c.out.bulk("version");
  c.out.bulk(VERSION);
  c.out.bulk("proto");
  c.out.int(c.resp);
  c.out.bulk("id");
  c.out.int(c.id);
  c.out.bulk("mode");
  c.out.bulk(s.config.bool("cluster-enabled") ? "cluster" : "standalone");
  c.out.bulk("role");
  c.out.bulk(s.isReplica ? "replica" : "master");
  c.out.bulk("modules");
  c.out.array(0);
}

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("ping", -1, ["fast"], [0, 0, 0], (c, argv) => {
    if (argv.length > 2) return c.error("ERR wrong number of arguments for 'ping' command");
    if (c.inPubSub && c.resp === 2) {
      c.out.array(2);
      c.out.bulk("pong");
      c.out.bulk(argv[1] ?? "");
    } else if (argv.length === 2) c.out.bulk(argv[1]);
    else c.out.status("PONG");
  }, {
    categories: ["connection"],
    group: "connection",
    since: "1.0.0",
    summary: "Ping the server",
    complexity: "O(1)",
    tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
  }),
  cmd("echo", 2, ["loading", "stale", "fast"], [0, 0, 0], (c, argv) => c.out.bulk(argv[1]), {
    categories: ["connection"],
    group: "connection",
    since: "1.0.0",
    summary: "Echo the given string",
    complexity: "O(1)",
  }),
  cmd("quit", -1, [...CONN_FLAGS], [0, 0, 0], (c) => {
    c.out.status("OK");
    c.closeAfterReply = true;
  }, {
    categories: ["connection"],
    group: "connection",
    since: "1.0.0",
    summary: "Close the connection",
    complexity: "O(1)",
  }),
  cmd("reset", 1, [...CONN_FLAGS], [0, 0, 0], reset, {
    categories: ["connection"],
    group: "connection",
    since: "6.2.0",
    summary: "Reset the connection",
    complexity: "O(1)",
  }),
  cmd("auth", -2, [...CONN_FLAGS], [0, 0, 0], (c, argv) => {
    if (argv.length > 3) return c.error("ERR syntax error");
    let user = "default";
    let pass = argv[1];
    if (argv.length === 2) {
      if (c.server.config.str("requirepass") === "") {
        return c.error(
          "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        );
      }
    } else {
      user = argv[1];
      pass = argv[2];
    }
    if (authenticate(c, user, pass)) c.out.status("OK");
    else c.error("WRONGPASS invalid username-password pair or user is disabled.");
  }, {
    categories: ["connection"],
    group: "connection",
    since: "1.0.0",
    summary: "Authenticate to the server",
    complexity: "O(N) where N is the number of passwords defined for the user",
  }),
  cmd("hello", -1, [...CONN_FLAGS], [0, 0, 0], hello, {
    categories: ["connection"],
    group: "connection",
    since: "6.0.0",
    summary: "Handshake with Redis",
    complexity: "O(1)",
  }),
];
