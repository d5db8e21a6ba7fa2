// COMMAND [COUNT|LIST|INFO|DOCS|GETKEYS|GETKEYSANDFLAGS|HELP]: the command table as Redis 7.0
// describes it (10-element entries, ACL categories derived like setImplicitACLCategories).
import { cmd, commandKeys, type CommandSpec, type KeySpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { replyHelp } from "./connection.ts";
import { E_SYNTAX, globMatch } from "./util.ts";
import { checkArity } from "../server/dispatch.ts";

/** Flags COMMAND INFO shows, in Redis's order (may_replicate and protected are hidden). */
const FLAG_ORDER = [
  "write",
  "readonly",
  "denyoom",
  "module",
  "admin",
  "pubsub",
  "noscript",
  "blocking",
  "loading",
  "stale",
  "skip_monitor",
  "skip_slowlog",
  "asking",
  "fast",
  "no_auth",
  "no_mandatory_keys",
  "no_async_loading",
  "no_multi",
  "movablekeys",
  "allow_busy",
];

/** ACL categories in Redis's table order. */
export const ACL_CATEGORIES = [
  "keyspace",
  "read",
  "write",
  "set",
  "sortedset",
  "list",
  "hash",
  "string",
  "bitmap",
  "hyperloglog",
  "geo",
  "stream",
  "pubsub",
  "admin",
  "fast",
  "slow",
  "blocking",
  "dangerous",
  "connection",
  "transaction",
  "scripting",
];

/** Category implied by a command group, for specs that do not list their categories. */
const GROUP_CATEGORY: Record<string, string> = {
  generic: "keyspace",
  string: "string",
  list: "list",
  set: "set",
  sorted_set: "sortedset",
  "sorted-set": "sortedset",
  hash: "hash",
  pubsub: "pubsub",
  transactions: "transaction",
  connection: "connection",
  scripting: "scripting",
  hyperloglog: "hyperloglog",
  geo: "geo",
  stream: "stream",
  bitmap: "bitmap",
};

/** Flags of a spec as COMMAND INFO lists them. */
export function infoFlags(spec: CommandSpec): string[] {
  const set = new Set<string>(spec.flags);
  if (spec.getKeys) set.add("movablekeys");
  return FLAG_ORDER.filter((f) => set.has(f));
}

/** ACL categories (without '@'): explicit ones plus those implied by the flags. */
export function categoriesOf(spec: CommandSpec, parent?: CommandSpec): string[] {
  const cats = new Set<string>();
  if (spec.categories) { for (const c of spec.categories) cats.add(c.replace(/^@/, "")); }
  else {
    const g = spec.group ?? parent?.group;
    if (g && GROUP_CATEGORY[g] && (parent || !spec.subcommands)) cats.add(GROUP_CATEGORY[g]);
  }
  const f = new Set(spec.flags);
  if (f.has("write")) cats.add("write");
  if (f.has("readonly") && !cats.has("scripting")) cats.add("read");
  if (f.has("admin")) {
    cats.add("admin");
    cats.add("dangerous");
  }
  if (f.has("pubsub")) cats.add("pubsub");
  if (f.has("fast")) cats.add("fast");
  if (f.has("blocking")) cats.add("blocking");
  if (!cats.has("fast")) cats.add("slow");
  return ACL_CATEGORIES.filter((c) => cats.has(c));
}

/** Key specs of a spec: explicit, or derived from the legacy first/last/step triple. */
export function keySpecsOf(spec: CommandSpec): KeySpec[] {
  if (spec.keySpecs) return spec.keySpecs;
  if (spec.firstKey <= 0) return [];
  const flags = spec.flags.includes("write")
    ? ["RW", "update"]
    : spec.flags.includes("readonly")
    ? ["RO", "access"]
    : ["RO"];
  return [{
    flags,
    beginSearch: { index: spec.firstKey },
    findKeys: {
      lastkey: spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey,
      keystep: spec.step,
      limit: 0,
    },
  }];
}

/** Key-spec flags in Redis's reply order; the four access kinds are upper case. */
const KEY_FLAG_ORDER = [
  "RO",
  "RW",
  "OW",
  "RM",
  "access",
  "update",
  "insert",
  "delete",
  "not_key",
  "incomplete",
  "variable_flags",
];

/** Normalizes key-spec flags however a spec spelled them ("ACCESS" -> "access"), in order. */
export function keySpecFlags(flags: string[]): string[] {
  const set = new Set(
    flags.map((
      f,
    ) => (["ro", "rw", "ow", "rm"].includes(f.toLowerCase()) ? f.toUpperCase() : f.toLowerCase())),
  );
  return KEY_FLAG_ORDER.filter((f) => set.has(f));
}

function replyKeySpecs(c: Client, specs: KeySpec[]): void {
  c.out.set(specs.length);
  for (const ks of specs) {
    c.out.map(ks.notes ? 4 : 3);
    if (ks.notes) {
      c.out.bulk("notes");
      c.out.bulk(ks.notes);
    }
    c.out.bulk("flags");
    const flags = keySpecFlags(ks.flags);
    c.out.set(flags.length);
    for (const f of flags) c.out.status(f);
    c.out.bulk("begin_search");
    c.out.map(2);
    c.out.bulk("type");
    const bs = ks.beginSearch;
    if (bs === null) {
      c.out.bulk("unknown");
      c.out.bulk("spec");
      c.out.map(0);
    } else if ("index" in bs) {
      c.out.bulk("index");
      c.out.bulk("spec");
      c.out.map(1);
      c.out.bulk("index");
      c.out.int(bs.index);
    } else {
      c.out.bulk("keyword");
      c.out.bulk("spec");
      c.out.map(2);
      c.out.bulk("keyword");
      c.out.bulk(bs.keyword);
      c.out.bulk("startfrom");
      c.out.int(bs.startfrom);
    }
    c.out.bulk("find_keys");
    c.out.map(2);
    c.out.bulk("type");
    const fk = ks.findKeys;
    if (fk === null) {
      c.out.bulk("unknown");
      c.out.bulk("spec");
      c.out.map(0);
    } else if ("lastkey" in fk) {
      c.out.bulk("range");
      c.out.bulk("spec");
      c.out.map(3);
      c.out.bulk("lastkey");
      c.out.int(fk.lastkey);
      c.out.bulk("keystep");
      c.out.int(fk.keystep);
      c.out.bulk("limit");
      c.out.int(fk.limit);
    } else {
      c.out.bulk("keynum");
      c.out.bulk("spec");
      c.out.map(3);
      c.out.bulk("keynumidx");
      c.out.int(fk.keynumidx);
      c.out.bulk("firstkey");
      c.out.int(fk.firstkey);
      c.out.bulk("keystep");
      c.out.int(fk.keystep);
    }
  }
}

/** One COMMAND INFO entry (null for unknown commands). */
export function replyCommandInfo(c: Client, spec: CommandSpec | null, parent?: CommandSpec): void {
  if (!spec) return c.out.nullArray();
  c.out.array(10);
  c.out.bulk(spec.fullname ?? spec.name);
  c.out.int(spec.arity);
  const flags = infoFlags(spec);
  c.out.set(flags.length);
  for (const f of flags) c.out.status(f);
  c.out.int(spec.firstKey);
  c.out.int(spec.lastKey);
  c.out.int(spec.step);
  const cats = categoriesOf(spec, parent);
  c.out.set(cats.length);
  for (const cat of cats) c.out.status("@" + cat);
  const tips = spec.tips ?? [];
  c.out.set(tips.length);
  for (const t of tips) c.out.bulk(t);
  replyKeySpecs(c, keySpecsOf(spec));
  // Redis answers an empty set when there is no subcommand table, an array otherwise.
  if (!spec.subcommands) return c.out.set(0);
  c.out.array(spec.subcommands.size);
  for (const s of spec.subcommands.values()) replyCommandInfo(c, s, spec);
}

function docGroup(spec: CommandSpec, parent?: CommandSpec): string {
  const g = spec.group ?? parent?.group ?? "generic";
  return g === "sorted_set" ? "sorted-set" : g;
}

function replyCommandDocs(c: Client, spec: CommandSpec, parent?: CommandSpec): void {
  const subs = spec.subcommands ? [...spec.subcommands.values()] : [];
  let n = 1;
  if (spec.summary) n++;
  if (spec.since) n++;
  if (spec.complexity) n++;
  if (subs.length) n++;
  c.out.map(n);
  if (spec.summary) {
    c.out.bulk("summary");
    c.out.bulk(spec.summary);
  }
  if (spec.since) {
    c.out.bulk("since");
    c.out.bulk(spec.since);
  }
  c.out.bulk("group");
  c.out.bulk(docGroup(spec, parent));
  if (spec.complexity) {
    c.out.bulk("complexity");
    c.out.bulk(spec.complexity);
  }
  if (subs.length) {
    c.out.bulk("subcommands");
    c.out.map(subs.length);
    for (const s of subs) {
      c.out.bulk(s.fullname ?? `${spec.name}|${s.name}`);
      replyCommandDocs(c, s, spec);
    }
  }
}

/** Looks a command up by "name" or "container|sub" (COMMAND INFO/DOCS arguments). */
function lookupByFullname(
  c: Client,
  name: string,
): { spec: CommandSpec; parent?: CommandSpec } | null {
  const l = name.toLowerCase();
  const bar = l.indexOf("|");
  if (bar < 0) {
    const spec = c.server.commands.get(l);
    return spec ? { spec } : null;
  }
  const parent = c.server.commands.get(l.slice(0, bar));
  const spec = parent?.subcommands?.get(l.slice(bar + 1));
  return parent && spec ? { spec, parent } : null;
}

function* allSpecs(c: Client): Generator<[CommandSpec, CommandSpec | undefined]> {
  for (const spec of c.server.commands.values()) {
    yield [spec, undefined];
    if (spec.subcommands) { for (const s of spec.subcommands.values()) yield [s, spec]; }
  }
}

/** Argument positions one key spec selects in argv (Redis's getKeysUsingKeySpecs). */
function keySpecPositions(ks: KeySpec, argv: string[]): number[] {
  const bs = ks.beginSearch;
  const fk = ks.findKeys;
  if (!bs || !fk) return [];
  let first: number;
  if ("index" in bs) first = bs.index;
  else {
    first = -1;
    const kw = bs.keyword.toLowerCase();
    const start = bs.startfrom >= 0 ? bs.startfrom : argv.length + bs.startfrom;
    const step = bs.startfrom >= 0 ? 1 : -1;
    for (let i = start; i > 0 && i < argv.length; i += step) {
      if (argv[i].toLowerCase() === kw) {
        first = i + 1;
        break;
      }
    }
    if (first < 0) return [];
  }
  const out: number[] = [];
  if ("lastkey" in fk) {
    let last = fk.lastkey >= 0 ? first + fk.lastkey : argv.length + fk.lastkey;
    if (fk.lastkey < 0 && fk.limit > 1) {
      last = first + Math.floor((argv.length - first - 1) / fk.limit);
    }
    for (let i = first; i <= last && i < argv.length; i += fk.keystep) out.push(i);
  } else {
    const n = Number(argv[first + fk.keynumidx]);
    if (!Number.isInteger(n) || n < 0) return [];
    const base = first + fk.firstkey;
    for (let i = 0; i < n && base + i * fk.keystep < argv.length; i++) {
      out.push(base + i * fk.keystep);
    }
  }
  return out;
}

function getKeys(c: Client, argv: string[], withFlags: boolean): void {
  const args = argv.slice(2);
  const top = c.server.commands.get(args[0].toLowerCase());
  let spec: CommandSpec | undefined = top;
  if (top?.subcommands && args.length >= 2) spec = top.subcommands.get(args[1].toLowerCase());
  if (!spec) return c.error("ERR Invalid command specified");
  if (spec.firstKey <= 0 && !spec.getKeys && !spec.keySpecs?.length) {
    return c.error("ERR The command has no key arguments");
  }
  if (checkArity(spec, args.length)) {
    return c.error("ERR Invalid number of arguments specified for command");
  }
  let keys: number[];
  const ks = spec.keySpecs ?? [];
  const specsReliable = ks.length > 0 &&
    ks.every((k) =>
      k.beginSearch && k.findKeys &&
      !keySpecFlags(k.flags).some((f) => f === "incomplete" || f === "variable_flags")
    );
  try {
    // Like Redis, trust complete key specs (their order: e.g. destination first), else getKeys.
    keys = specsReliable ? ks.flatMap((k) => keySpecPositions(k, args)) : commandKeys(spec, args);
    keys = keys.filter((i) => i < args.length);
  } catch {
    keys = [];
  }
  if (keys.length === 0) {
    if (spec.flags.includes("no_mandatory_keys")) return c.out.array(0);
    return c.error("ERR Invalid arguments specified for command");
  }
  const specs = keySpecsOf(spec);
  const flagsAt = (i: number) => {
    const ks = specs.find((k) => keySpecPositions(k, args).includes(i)) ?? specs[0];
    return keySpecFlags(ks?.flags ?? []);
  };
  c.out.array(keys.length);
  for (const i of keys) {
    if (!withFlags) c.out.bulk(args[i]);
    else {
      const flags = flagsAt(i);
      c.out.array(2);
      c.out.bulk(args[i]);
      c.out.set(flags.length);
      for (const f of flags) c.out.status(f);
    }
  }
}

function commandList(c: Client, argv: string[]): void {
  let filter: ((s: CommandSpec, p?: CommandSpec) => boolean) | null = null;
  for (let i = 2; i < argv.length; i++) {
    if (argv[i].toLowerCase() === "filterby" && argv.length - 1 - i === 2) {
      const type = argv[i + 1].toLowerCase();
      const arg = argv[i + 2];
      if (type === "module") filter = () => false;
      else if (type === "aclcat") {
        const cat = arg.toLowerCase();
        filter = ACL_CATEGORIES.includes(cat)
          ? (s, p) => categoriesOf(s, p).includes(cat)
          : () => false;
      } else if (type === "pattern") filter = (s) => globMatch(arg, s.fullname ?? s.name, true);
      else return c.error(E_SYNTAX);
      i += 2;
    } else return c.error(E_SYNTAX);
  }
  const names: string[] = [];
  for (const [s, p] of allSpecs(c)) if (!filter || filter(s, p)) names.push(s.fullname ?? s.name);
  c.out.bulkArray(names);
}

const HELP = [
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
  "GETKEYSANDFLAGS <full-command>",
  "    Return the keys and the access flags from a full Redis command.",
];

function allInfo(c: Client): void {
  c.out.array(c.server.commands.size);
  for (const s of c.server.commands.values()) replyCommandInfo(c, s);
}

const base = { categories: ["connection"], group: "server" };

const subcommands = new Map<string, CommandSpec>([
  [
    "count",
    cmd("count", 2, ["loading", "stale"], [0, 0, 0], (c) => c.out.int(c.server.commands.size), {
      ...base,
      since: "2.8.13",
      summary: "Get total number of Redis commands",
      complexity: "O(1)",
    }),
  ],
  [
    "list",
    cmd("list", -2, ["loading", "stale"], [0, 0, 0], commandList, {
      ...base,
      since: "7.0.0",
      summary: "Get an array of Redis command names",
      complexity: "O(N) where N is the total number of Redis commands",
      tips: ["nondeterministic_output_order"],
    }),
  ],
  [
    "info",
    cmd("info", -2, ["loading", "stale"], [0, 0, 0], (c, argv) => {
      if (argv.length === 2) return allInfo(c);
      c.out.array(argv.length - 2);
      for (const name of argv.slice(2)) {
        const r = lookupByFullname(c, name);
        replyCommandInfo(c, r?.spec ?? null, r?.parent);
      }
    }, {
      ...base,
      since: "2.8.13",
      summary: "Get array of specific Redis command details, or all when no argument is given.",
      complexity: "O(N) where N is the number of commands to look up",
      tips: ["nondeterministic_output_order"],
    }),
  ],
  [
    "docs",
    cmd("docs", -2, ["loading", "stale"], [0, 0, 0], (c, argv) => {
      const found: [CommandSpec, CommandSpec | undefined][] = [];
      if (argv.length === 2) {
        for (const s of c.server.commands.values()) found.push([s, undefined]);
      } else {
        for (const name of argv.slice(2)) {
          const r = lookupByFullname(c, name);
          if (r) found.push([r.spec, r.parent]);
        }
      }
      c.out.map(found.length);
      for (const [s, p] of found) {
        c.out.bulk(s.fullname ?? s.name);
        replyCommandDocs(c, s, p);
      }
    }, {
      ...base,
      since: "7.0.0",
      summary: "Get array of specific Redis command documentation",
      complexity: "O(N) where N is the number of commands to look up",
      tips: ["nondeterministic_output_order"],
    }),
  ],
  [
    "getkeys",
    cmd("getkeys", -4, ["loading", "stale"], [0, 0, 0], (c, argv) => getKeys(c, argv, false), {
      ...base,
      since: "2.8.13",
      summary: "Extract keys given a full Redis command",
      complexity: "O(N) where N is the number of arguments to the command",
    }),
  ],
  [
    "getkeysandflags",
    cmd(
      "getkeysandflags",
      -4,
      ["loading", "stale"],
      [0, 0, 0],
      (c, argv) => getKeys(c, argv, true),
      {
        ...base,
        since: "7.0.0",
        summary: "Extract keys and access flags given a full Redis command",
        complexity: "O(N) where N is the number of arguments to the command",
      },
    ),
  ],
  [
    "help",
    cmd("help", 2, ["loading", "stale"], [0, 0, 0], (c, argv) => replyHelp(c, argv, HELP), {
      ...base,
      since: "5.0.0",
      summary: "Show helpful text about the different subcommands",
      complexity: "O(1)",
    }),
  ],
]);

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("command", -1, ["loading", "stale"], [0, 0, 0], (c, argv) => {
    if (argv.length === 1) return allInfo(c);
    c.error(`ERR unknown subcommand '${argv[1]}'. Try COMMAND HELP.`);
  }, {
    ...base,
    subcommands,
    since: "2.8.13",
    summary: "Get array of Redis command details",
    complexity: "O(N) where N is the total number of Redis commands",
    tips: ["nondeterministic_output_order"],
  }),
];
