// CLIENT: ID, INFO, LIST, KILL, SETNAME/GETNAME, PAUSE/UNPAUSE, REPLY, NO-EVICT, UNBLOCK,
// TRACKING (state only), CACHING, GETREDIR, TRACKINGINFO, HELP.
import { cmd, type CommandFlag, type CommandSpec, type Handler } from "./types.ts";
import type { Client } from "../server/client.ts";
import { E_BAD_NAME, replyHelp, validClientName } from "./connection.ts";
import {
  clientCaching,
  clientExtra,
  clientTracking,
  extras,
  trackingInfo,
} from "./client_tracking.ts";

export { trackingClients } from "./client_tracking.ts";
import { E_SYNTAX, parseInteger } from "./util.ts";
import { statsOnUnblock } from "../server/dispatch.ts";

/** Client class as Redis's getClientType sees it. */
function clientType(c: Client): "master" | "replica" | "pubsub" | "normal" {
  if (c.isMaster) return "master";
  if (c.isReplica && !c.isMonitor) return "replica";
  if (c.inPubSub) return "pubsub";
  return "normal";
}

function typeByName(name: string): string | null {
  const l = name.toLowerCase();
  if (l === "slave" || l === "replica") return "replica";
  if (l === "normal" || l === "pubsub" || l === "master") return l;
  return null;
}

/** The flags field of CLIENT LIST, in Redis's order. */
function flagsOf(c: Client): string {
  const e = extras.get(c);
  let f = "";
  if (c.isMonitor) f += "O";
  else if (c.isReplica) f += "S";
  if (c.isMaster) f += "M";
  if (c.inPubSub) f += "P";
  if (c.multi) f += "x";
  if (c.blocked) f += "b";
  if (e?.tracking) f += "t";
  if (e?.bcast) f += "B";
  if (c.watchDirty) f += "d";
  if (c.closeAfterReply) f += "c";
  if (c.readonlyMode) f += "r";
  if (e?.noEvict) f += "e";
  return f || "N";
}

function argvLen(argv: string[]): number {
  let n = 0;
  for (const a of argv) n += a.length;
  return n;
}

/** One CLIENT LIST / CLIENT INFO line (without the trailing newline). */
export function clientInfoLine(
  c: Client,
  self: Client | null = null,
  selfArgv: string[] = [],
): string {
  const now = Date.now();
  const e = extras.get(c);
  const qbuf = c.parser.pending;
  const qfree = c.parser.buf.length - qbuf;
  const argvMem = c === self ? argvLen(selfArgv) : 0;
  let multiMem = 0;
  if (c.multi) { for (const q of c.multi) multiMem += argvLen(q.argv); }
  const rbs = c.out.buf.length;
  const obl = Math.min(c.out.len, rbs);
  const totMem = 1024 + c.parser.buf.length + rbs + argvMem + multiMem;
  const fd = c.fd >= 0 ? c.fd : c.transport ? 7 + (c.id % 1000) : -1;
  const fields = [
    `id=${c.id}`,
    `addr=${c.addr}`,
    `laddr=${c.laddr}`,
    `fd=${fd}`,
    `name=${c.name}`,
    `age=${Math.floor((now - c.createdAt) / 1000)}`,
    `idle=${Math.floor((now - c.lastInteraction) / 1000)}`,
    `flags=${flagsOf(c)}`,
    `db=${c.dbIndex}`,
    `sub=${c.channels.size}`,
    `psub=${c.patterns.size}`,
    `ssub=${c.shardChannels.size}`,
    `multi=${c.multi ? c.multi.length : -1}`,
    `qbuf=${qbuf}`,
    `qbuf-free=${qfree}`,
    `argv-mem=${argvMem}`,
    `multi-mem=${multiMem}`,
    `rbs=${rbs}`,
    `rbp=${rbs}`,
    `obl=${obl}`,
    `oll=0`,
    `omem=0`,
    `tot-mem=${totMem}`,
    `events=${c.transport ? "r" : ""}`,
    `cmd=${c.lastCmd}`,
    `user=default`,
    `redir=${e?.tracking ? e.redirect : -1}`,
    `resp=${c.resp}`,
  ];
  return fields.join(" ");
}

function clientList(c: Client, argv: string[]): void {
  let out = "";
  if (argv.length === 4 && argv[2].toLowerCase() === "type") {
    const type = typeByName(argv[3]);
    if (!type) return c.error(`ERR Unknown client type '${argv[3]}'`);
    for (const cl of c.server.clients.values()) {
      if (clientType(cl) === type) out += clientInfoLine(cl, c, argv) + "\n";
    }
  } else if (argv.length > 3 && argv[2].toLowerCase() === "id") {
    const ids: number[] = [];
    for (let i = 3; i < argv.length; i++) {
      const id = parseInteger(argv[i]);
      if (id === null) return c.error("ERR Invalid client ID");
      ids.push(id);
    }
    for (const id of ids) {
      const cl = c.server.clients.get(id);
      if (cl) out += clientInfoLine(cl, c, argv) + "\n";
    }
  } else if (argv.length !== 2) {
    return c.error(E_SYNTAX);
  } else {
    for (const cl of c.server.clients.values()) out += clientInfoLine(cl, c, argv) + "\n";
  }
  c.out.verbatim(out);
}

function clientKill(c: Client, argv: string[]): void {
  let addr: string | null = null;
  let laddr: string | null = null;
  let type: string | null = null;
  let id = 0;
  let maxAge = 0;
  let skipme = true;
  if (argv.length === 3) {
    addr = argv[2];
    skipme = false; // the old form may kill the caller itself
  } else {
    for (let i = 2; i < argv.length; i += 2) {
      const opt = argv[i].toLowerCase();
      if (i + 1 >= argv.length) return c.error(E_SYNTAX);
      const val = argv[i + 1];
      if (opt === "id") {
        const n = parseInteger(val);
        if (n === null || n < 1) return c.error("ERR client-id should be greater than 0");
        id = n;
      } else if (opt === "type") {
        type = typeByName(val);
        if (!type) return c.error(`ERR Unknown client type '${val}'`);
      } else if (opt === "addr") addr = val;
      else if (opt === "laddr") laddr = val;
      else if (opt === "user") {
        if (val !== "default") return c.error(`ERR No such user '${val}'`);
      } else if (opt === "skipme") {
        const l = val.toLowerCase();
        if (l === "yes") skipme = true;
        else if (l === "no") skipme = false;
        else return c.error(E_SYNTAX);
      } else if (opt === "maxage") {
        const n = parseInteger(val);
        if (n === null || n < 1) return c.error(E_SYNTAX);
        maxAge = n;
      } else return c.error(E_SYNTAX);
    }
  }
  const now = Date.now();
  let killed = 0;
  let closeSelf = false;
  for (const cl of [...c.server.clients.values()]) {
    if (addr !== null && cl.addr !== addr) continue;
    if (laddr !== null && cl.laddr !== laddr) continue;
    if (type !== null && clientType(cl) !== type) continue;
    if (id !== 0 && cl.id !== id) continue;
    if (maxAge !== 0 && now - cl.createdAt < maxAge * 1000) continue;
    if (cl === c && skipme) continue;
    if (cl === c) closeSelf = true;
    else cl.close();
    killed++;
  }
  if (argv.length === 3) {
    if (killed === 0) c.error("ERR No such client");
    else c.out.status("OK");
  } else c.out.int(killed);
  if (closeSelf) c.closeAfterReply = true;
}

function clientPause(c: Client, argv: string[]): void {
  let writeOnly = false;
  if (argv.length === 4) {
    const m = argv[3].toLowerCase();
    if (m === "write") writeOnly = true;
    else if (m !== "all") return c.error("ERR CLIENT PAUSE mode must be WRITE or ALL");
  }
  const ms = parseInteger(argv[2]);
  if (ms === null) return c.error("ERR timeout is not an integer or out of range");
  if (ms < 0) return c.error("ERR timeout is negative");
  const s = c.server;
  const end = ms > 0 ? Date.now() + ms : 0;
  const active = s.clientsPaused();
  // A second pause never shortens the first one nor downgrades ALL to WRITE.
  s.pauseWritesOnly = active ? s.pauseWritesOnly && writeOnly : writeOnly;
  s.pauseUntil = active ? Math.max(s.pauseUntil, end) : end;
  c.out.status("OK");
}

function clientUnblock(c: Client, argv: string[]): void {
  let asError = false;
  if (argv.length === 4) {
    const r = argv[3].toLowerCase();
    if (r === "error") asError = true;
    else if (r !== "timeout") {
      return c.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    }
  }
  const id = parseInteger(argv[2]);
  if (id === null) return c.error("ERR value is not an integer or out of range");
  const target = c.server.clients.get(id);
  const st = target?.blocked;
  if (!target || !st) return c.out.int(0);
  c.server.blocking.unblock(target);
  if (asError) target.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
  else st.onTimeout();
  // Redis 7.0 counts a failed call for either reason (networking.c, CLIENT UNBLOCK).
  statsOnUnblock(target, st.spec, st.argv, 0, true);
  if (target.resume) target.resume();
  else target.flush();
  c.out.int(1);
}

const HELP = [
  "CACHING (YES|NO)",
  "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
  "GETREDIR",
  "    Return the client ID we are redirecting to when tracking is enabled.",
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are:",
  "    * ADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made from the specified address",
  "    * LADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made to specified local address",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Kill connections by type.",
  "    * USER <username>",
  "      Kill connections authenticated by <username>.",
  "    * SKIPME (YES|NO)",
  "      Skip killing current connection (default: yes).",
  "LIST [options ...]",
  "    Return information about client connections. Options:",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Return clients of specified type.",
  "UNPAUSE",
  "    Stop the current client pause, resuming traffic.",
  "PAUSE <timeout> [WRITE|ALL]",
  "    Suspend all, or just write, clients for <timeout> milliseconds.",
  "REPLY (ON|OFF|SKIP)",
  "    Control the replies sent to the current connection.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "UNBLOCK <clientid> [TIMEOUT|ERROR]",
  "    Unblock the specified blocked client.",
  "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
  "         [OPTIN] [OPTOUT] [NOLOOP]",
  "    Control server assisted client side caching.",
  "TRACKINGINFO",
  "    Report tracking status for the current connection.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
];

const BASE: CommandFlag[] = ["noscript", "loading", "stale"];
const ADMIN: CommandFlag[] = ["admin", "noscript", "loading", "stale"];

function sub(
  name: string,
  arity: number,
  flags: CommandFlag[],
  handler: Handler,
  summary: string,
  since: string,
  tips?: string[],
): [string, CommandSpec] {
  return [
    name,
    cmd(name, arity, flags, [0, 0, 0], handler, {
      categories: ["connection"],
      group: "connection",
      summary,
      since,
      tips,
      complexity: "O(1)",
    }),
  ];
}

const subcommands = new Map<string, CommandSpec>([
  sub(
    "id",
    2,
    BASE,
    (c) => c.out.int(c.id),
    "Returns the client ID for the current connection",
    "5.0.0",
  ),
  sub(
    "info",
    2,
    BASE,
    (c, argv) => c.out.verbatim(clientInfoLine(c, c, argv) + "\n"),
    "Returns information about the current client connection.",
    "6.2.0",
    ["nondeterministic_output"],
  ),
  sub("list", -2, ADMIN, clientList, "Get the list of client connections", "2.4.0", [
    "nondeterministic_output",
  ]),
  sub("kill", -3, ADMIN, clientKill, "Kill the connection of a client", "2.4.0"),
  sub(
    "setname",
    3,
    BASE,
    (c, argv) => {
      if (argv[2] !== "" && !validClientName(argv[2])) return c.error(E_BAD_NAME);
      c.name = argv[2];
      c.out.status("OK");
    },
    "Set the current connection name",
    "2.6.9",
  ),
  sub(
    "getname",
    2,
    BASE,
    (c) => c.name === "" ? c.out.null() : c.out.bulk(c.name),
    "Get the current connection name",
    "2.6.9",
  ),
  sub(
    "pause",
    -3,
    ADMIN,
    (c, argv) => {
      if (argv.length > 4) {
        return c.error(
          `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try CLIENT HELP.`,
        );
      }
      clientPause(c, argv);
    },
    "Stop processing commands from clients for some time",
    "3.0.0",
  ),
  sub(
    "unpause",
    2,
    ADMIN,
    (c) => {
      c.server.pauseUntil = 0;
      c.server.pauseWritesOnly = false;
      c.out.status("OK");
    },
    "Resume processing of clients that were paused",
    "6.2.0",
  ),
  sub(
    "reply",
    3,
    BASE,
    (c, argv) => {
      const m = argv[2].toLowerCase();
      if (m === "on") {
        c.replyMode = "on";
        c.skipNext = false;
        c.out.status("OK");
      } else if (m === "off") c.replyMode = "off";
      else if (m === "skip") {
        if (c.replyMode !== "off") c.skipNext = true;
      } else c.error(E_SYNTAX);
    },
    "Instruct the server whether to reply to commands",
    "3.2.0",
  ),
  sub(
    "no-evict",
    3,
    ADMIN,
    (c, argv) => {
      const m = argv[2].toLowerCase();
      if (m !== "on" && m !== "off") return c.error(E_SYNTAX);
      clientExtra(c).noEvict = m === "on";
      c.out.status("OK");
    },
    "Set client eviction mode for the current connection",
    "7.0.0",
  ),
  sub(
    "unblock",
    -3,
    ADMIN,
    (c, argv) => {
      if (argv.length > 4) {
        return c.error(
          `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try CLIENT HELP.`,
        );
      }
      clientUnblock(c, argv);
    },
    "Unblock a client blocked in a blocking command from a different connection",
    "5.0.0",
  ),
  sub(
    "tracking",
    -3,
    BASE,
    clientTracking,
    "Enable or disable server assisted client side caching support",
    "6.0.0",
  ),
  sub(
    "caching",
    3,
    BASE,
    clientCaching,
    "Instruct the server about tracking or not keys in the next request",
    "6.0.0",
  ),
  sub(
    "getredir",
    2,
    BASE,
    (c) => {
      const e = extras.get(c);
      c.out.int(e?.tracking ? e.redirect : -1);
    },
    "Get tracking notifications redirection client ID if any",
    "6.0.0",
  ),
  sub(
    "trackinginfo",
    2,
    BASE,
    trackingInfo,
    "Return information about server assisted client side caching for the current connection",
    "6.2.0",
  ),
  sub(
    "help",
    2,
    ["loading", "stale"],
    (c, argv) => replyHelp(c, argv, HELP),
    "Show helpful text about the different subcommands",
    "5.0.0",
  ),
]);

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("client", -2, [], [0, 0, 0], (c, argv) => {
    c.error(`ERR unknown subcommand '${argv[1]}'. Try CLIENT HELP.`);
  }, {
    subcommands,
    group: "connection",
    since: "2.4.0",
    summary: "A container for client connection commands",
    complexity: "Depends on subcommand.",
  }),
];
