// The command table: every family's entries, registered once. A newcomer finds a command by
// its family file name (strings.ts has GET/SET ..., cluster.ts has CLUSTER ...).
import type { CommandSpec } from "./types.ts";
import { commands as strings } from "./strings.ts";
import { commands as bitops } from "./bitops.ts";
import { commands as keys } from "./keys.ts";
import { commands as hashes } from "./hashes.ts";
import { commands as lists } from "./lists.ts";
import { commands as sets } from "./sets.ts";
import { commands as zsets } from "./zsets.ts";
import { commands as pubsub } from "./pubsub.ts";
import { commands as transactions } from "./transactions.ts";
import { commands as connection } from "./connection.ts";
import { commands as serverCmds } from "./server_cmds.ts";
import { commands as configCmd } from "./config_cmd.ts";
import { commands as clientCmd } from "./client_cmd.ts";
import { commands as debug } from "./debug.ts";
import { commands as info } from "./info.ts";
import { commands as persistence } from "./persistence.ts";
import { commands as cluster } from "./cluster.ts";
import { commands as replication } from "./replication.ts";
import { commands as sort } from "./sort.ts";
import { commands as migrate } from "./migrate.ts";
import { commands as streams } from "./streams.ts";

/** All command specs of every family. */
export function allCommands(): CommandSpec[] {
  return [
    ...strings,
    ...bitops,
    ...keys,
    ...hashes,
    ...lists,
    ...sets,
    ...zsets,
    ...pubsub,
    ...transactions,
    ...connection,
    ...serverCmds,
    ...configCmd,
    ...clientCmd,
    ...debug,
    ...info,
    ...persistence,
    ...cluster,
    ...replication,
    ...sort,
    ...migrate,
    ...streams,
  ];
}
