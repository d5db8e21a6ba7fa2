// Connection commands: PING, ECHO, SELECT, QUIT ...
import { cmd, type CommandSpec } from "./types.ts";

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
  }),
  cmd("echo", 2, ["fast"], [0, 0, 0], (c, argv) => c.out.bulk(argv[1])),
];
