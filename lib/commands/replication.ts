// Replication commands: SYNC, PSYNC, REPLCONF (internal, used by replicas and masters),
// REPLICAOF / SLAVEOF, and WAIT. The machinery lives in lib/replication/.
import { cmd, type CommandSpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { clientInfoLine } from "./client_cmd.ts";
import { parseInteger } from "./util.ts";
import { replicationOf } from "../replication/state.ts";
import { log } from "../log.ts";

function replicaofCommand(c: Client, argv: string[]): void {
  const s = c.server;
  const repl = replicationOf(s);
  if (s.config.bool("cluster-enabled")) {
    return c.error("ERR REPLICAOF not allowed in cluster mode.");
  }
  if (argv[1].toLowerCase() === "no" && argv[2].toLowerCase() === "one") {
    if (repl.isReplica) {
      repl.replica.unsetMaster();
      s.config.values.set("replicaof", []);
      log.notice(`MASTER MODE enabled (user request from '${clientInfoLine(c)}')`);
    }
    return c.out.status("OK");
  }
  // Switching masters flushes our replicas, this client included.
  if (c.isReplica) return c.error("ERR Command is not valid when client is a replica.");
  const port = parseInteger(argv[2]);
  if (port === null || port < 0 || port > 65535) return c.error("ERR Invalid master port");
  const r = repl.replica;
  if (r.host !== null && r.host.toLowerCase() === argv[1].toLowerCase() && r.port === port) {
    log.notice(
      "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.",
    );
    return c.out.status("OK Already connected to specified master");
  }
  r.setMaster(argv[1], port);
  s.config.values.set("replicaof", [argv[1], String(port)]);
  log.notice(`REPLICAOF ${argv[1]}:${port} enabled (user request from '${clientInfoLine(c)}')`);
  c.out.status("OK");
}

const replicaofDoc = {
  group: "server",
  summary: "Make the server a replica of another instance, or promote it as master.",
  complexity: "O(1)",
};

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("sync", 1, ["admin", "noscript", "no_async_loading", "no_multi"], [0, 0, 0], (c, argv) => {
    replicationOf(c.server).primary.sync(c, argv);
  }, { group: "server", since: "1.0.0", summary: "Internal command used for replication" }),
  cmd("psync", -3, ["admin", "noscript", "no_async_loading", "no_multi"], [0, 0, 0], (c, argv) => {
    replicationOf(c.server).primary.sync(c, argv);
  }, { group: "server", since: "2.8.0", summary: "Internal command used for replication" }),
  cmd(
    "replconf",
    -1,
    ["admin", "noscript", "loading", "stale", "allow_busy"],
    [0, 0, 0],
    (c, argv) => {
      replicationOf(c.server).primary.replconf(c, argv);
    },
    {
      group: "server",
      since: "3.0.0",
      summary: "An internal command for configuring the replication stream",
      complexity: "O(1)",
    },
  ),
  cmd(
    "replicaof",
    3,
    ["admin", "noscript", "stale", "no_async_loading"],
    [0, 0, 0],
    replicaofCommand,
    {
      ...replicaofDoc,
      since: "5.0.0",
    },
  ),
  cmd(
    "slaveof",
    3,
    ["admin", "noscript", "stale", "no_async_loading"],
    [0, 0, 0],
    replicaofCommand,
    {
      ...replicaofDoc,
      since: "1.0.0",
    },
  ),
  cmd("wait", 3, ["noscript"], [0, 0, 0], (c, argv) => {
    replicationOf(c.server).primary.waiters.wait(c, argv);
  }, {
    categories: ["connection"],
    group: "generic",
    since: "3.0.0",
    summary:
      "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
    complexity: "O(1)",
    tips: ["request_policy:all_shards", "response_policy:agg_min"],
  }),
];
