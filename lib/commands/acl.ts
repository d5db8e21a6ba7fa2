// ACL for the single "default" user that requirepass backs: WHOAMI, USERS, LIST, GETUSER,
// SETUSER (password changes only), DELUSER, CAT, GENPASS, LOG, DRYRUN, SAVE/LOAD errors.
import { cmd, type CommandFlag, type CommandSpec, type Handler } from "./types.ts";
import type { Client } from "../server/client.ts";
import { replyHelp } from "./connection.ts";
import { parseInteger } from "./util.ts";
import { ACL_CATEGORIES, categoriesOf } from "./command_cmd.ts";
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";

const ADMIN: CommandFlag[] = ["admin", "noscript", "loading", "stale"];
const HELPFLAGS: CommandFlag[] = ["loading", "stale"];

function sub(
  name: string,
  arity: number,
  flags: CommandFlag[],
  handler: Handler,
  extra: Partial<CommandSpec> = {},
): [string, CommandSpec] {
  return [name, cmd(name, arity, flags, [0, 0, 0], handler, { group: "server", ...extra })];
}

const ACL_HELP = [
  "CAT [<category>]",
  "    List all commands that belong to <category>, or all command categories",
  "    when no category is specified.",
  "DELUSER <username> [<username> ...]",
  "    Delete a list of users.",
  "DRYRUN <username> <command> [<arg> ...]",
  "    Returns whether the user can execute the given command without executing the command.",
  "GETUSER <username>",
  "    Get the user's details.",
  "GENPASS [<bits>]",
  "    Generate a secure 256-bit user password. The optional `bits` argument can",
  "    be used to specify a different size.",
  "LIST",
  "    Show users details in config file format.",
  "LOAD",
  "    Reload users from the ACL file.",
  "LOG [<count> | RESET]",
  "    Show the ACL log entries.",
  "SAVE",
  "    Save the current config to the ACL file.",
  "SETUSER <username> <attribute> [<attribute> ...]",
  "    Create or modify a user with the specified attributes.",
  "USERS",
  "    List all the registered usernames.",
  "WHOAMI",
  "    Return the current connection username.",
];

const NO_ACLFILE =
  "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/** SHA-256 of the password, as ACL LIST/GETUSER show it (null = nopass). */
function passwordHash(c: Client): string | null {
  const pass = c.server.config.str("requirepass");
  if (pass === "") return null;
  return createHash("sha256").update(Buffer.from(pass, "latin1")).digest("hex");
}

function userDescription(c: Client): string {
  const h = passwordHash(c);
  return `user default on ${h === null ? "nopass" : `#${h}`} ~* &* +@all`;
}

function aclSetuser(c: Client, argv: string[]): void {
  if (argv[2] !== "default") return c.error("ERR tsredis supports only the 'default' user");
  let pass: string | null = null;
  for (const op of argv.slice(3)) {
    const l = op.toLowerCase();
    if (op.startsWith(">")) pass = op.slice(1);
    else if (l === "nopass" || l === "resetpass") pass = "";
    else if (
      ["on", "~*", "&*", "+@all", "allkeys", "allchannels", "allcommands", "resetchannels"]
        .includes(l)
    ) {
      continue;
    } else return c.error(`ERR Error in ACL SETUSER modifier '${op}': Syntax error`);
  }
  if (pass !== null) {
    const err = c.server.config.set("requirepass", pass);
    if (err) return c.error("ERR " + err);
  }
  c.out.status("OK");
}

function aclGetuser(c: Client, argv: string[]): void {
  if (argv[2] !== "default") return c.out.null();
  const h = passwordHash(c);
  c.out.map(6);
  c.out.bulk("flags");
  c.out.set(h === null ? 2 : 1);
  c.out.bulk("on");
  if (h === null) c.out.bulk("nopass");
  c.out.bulk("passwords");
  c.out.bulkArray(h === null ? [] : [h]);
  c.out.bulk("commands");
  c.out.bulk("+@all");
  c.out.bulk("keys");
  c.out.bulk("~*");
  c.out.bulk("channels");
  c.out.bulk("&*");
  c.out.bulk("selectors");
  c.out.array(0);
}

function aclCat(c: Client, argv: string[]): void {
  if (argv.length === 2) return c.out.bulkArray(ACL_CATEGORIES);
  const cat = argv[2].toLowerCase();
  if (!ACL_CATEGORIES.includes(cat)) return c.error(`ERR Unknown category '${argv[2]}'`);
  const names: string[] = [];
  for (const spec of c.server.commands.values()) {
    if (categoriesOf(spec).includes(cat)) names.push(spec.name);
    if (spec.subcommands) {
      for (const s of spec.subcommands.values()) {
        if (categoriesOf(s, spec).includes(cat)) names.push(s.fullname!);
      }
    }
  }
  c.out.bulkArray(names);
}

const aclBase = { categories: [] as string[] };
const aclSubs = new Map<string, CommandSpec>([
  sub("whoami", 2, ["noscript", "loading", "stale"], (c) => c.out.bulk("default"), aclBase),
  sub("users", 2, ADMIN, (c) => c.out.bulkArray(["default"]), aclBase),
  sub("list", 2, ADMIN, (c) => c.out.bulkArray([userDescription(c)]), aclBase),
  sub("setuser", -3, ADMIN, aclSetuser, aclBase),
  sub("getuser", 3, ADMIN, aclGetuser, aclBase),
  sub("deluser", -3, ADMIN, (c, argv) => {
    if (argv.slice(2).includes("default")) {
      return c.error("ERR The 'default' user cannot be removed");
    }
    c.out.int(0);
  }, aclBase),
  sub("cat", -2, ["noscript", "loading", "stale"], aclCat, aclBase),
  sub("genpass", -2, ["noscript", "loading", "stale"], (c, argv) => {
    let bits = 256;
    if (argv.length > 2) {
      const n = parseInteger(argv[2]);
      if (n === null || n <= 0 || n > 4096) {
        return c.error(
          "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
        );
      }
      bits = n;
    }
    const chars = Math.ceil(bits / 4);
    const b = new Uint8Array(Math.ceil(chars / 2));
    crypto.getRandomValues(b);
    c.out.bulk(Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").slice(0, chars));
  }, aclBase),
  sub("log", -2, ADMIN, (c, argv) => {
    if (argv.length > 2 && argv[2].toLowerCase() === "reset") return c.out.status("OK");
    if (argv.length > 2 && parseInteger(argv[2]) === null) {
      return c.error("ERR value is not an integer or out of range");
    }
    c.out.array(0);
  }, aclBase),
  sub("save", 2, ADMIN, (c) => c.error(NO_ACLFILE), aclBase),
  sub("load", 2, ADMIN, (c) => c.error(NO_ACLFILE), aclBase),
  sub("dryrun", -4, ADMIN, (c, argv) => {
    if (argv[2] !== "default") return c.error(`ERR User '${argv[2]}' not found`);
    if (!c.server.commands.has(argv[3].toLowerCase())) {
      return c.error(`ERR Command '${argv[3]}' not found`);
    }
    c.out.status("OK");
  }, aclBase),
  sub("help", 2, HELPFLAGS, (c, argv) => replyHelp(c, argv, ACL_HELP), aclBase),
]);

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd(
    "acl",
    -2,
    [],
    [0, 0, 0],
    (c, argv) => c.error(`ERR unknown subcommand '${argv[1]}'. Try ACL HELP.`),
    {
      subcommands: aclSubs,
      group: "server",
      since: "6.0.0",
      summary: "A container for Access List Control commands",
      complexity: "Depends on subcommand.",
    },
  ),
];
