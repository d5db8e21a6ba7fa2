// The shape of a command table entry. One entry drives dispatch, COMMAND INFO/DOCS,
// cluster routing (key positions), MULTI queuing and replication (the write flag).
import type { Client } from "../server/client.ts";
import type { LatencyHistogram } from "../server/latency.ts";

/** Command flags, as Redis 7.0 names them in COMMAND INFO. */
export type CommandFlag =
  | "write"
  | "readonly"
  | "denyoom"
  | "admin"
  | "pubsub"
  | "noscript"
  | "blocking"
  | "loading"
  | "stale"
  | "skip_monitor"
  | "skip_slowlog"
  | "asking"
  | "fast"
  | "no_auth"
  | "may_replicate"
  | "no_mandatory_keys"
  | "no_async_loading"
  | "no_multi"
  | "movablekeys"
  | "allow_busy"
  | "protected";

/** A Redis 7.0 key spec (COMMAND INFO element 9), in the shape Redis replies it. */
export interface KeySpec {
  flags: string[];
  beginSearch: { index: number } | { keyword: string; startfrom: number } | null;
  findKeys:
    | { lastkey: number; keystep: number; limit: number }
    | { keynumidx: number; firstkey: number; keystep: number }
    | null;
  notes?: string;
}

/** A command handler: reads argv (latin1 strings), writes replies to the client. */
export type Handler = (c: Client, argv: string[]) => void;

/** One command or subcommand. */
export interface CommandSpec {
  /** Lower-case name; for subcommands just the subcommand ("get" of CONFIG GET). */
  name: string;
  /** Redis arity: positive = exact, negative = at least -arity. Counts the command name. */
  arity: number;
  flags: CommandFlag[];
  /** First key argument index (0 = no keys), last key (-1 = last arg), step. */
  firstKey: number;
  lastKey: number;
  step: number;
  /** ACL categories without the '@' (e.g. "string", "fast"). */
  categories?: string[];
  /** For commands with movable keys (numkeys, STREAMS ...): returns argv indexes of keys. */
  getKeys?: (argv: string[]) => number[];
  /** One-line summary for COMMAND DOCS. */
  summary?: string;
  since?: string;
  group?: string;
  /** COMMAND DOCS complexity text. */
  complexity?: string;
  /** COMMAND INFO tips ("nondeterministic_output", "request_policy:all_shards" ...). */
  tips?: string[];
  /** COMMAND INFO key specs, when the default derived from firstKey/lastKey/step is wrong. */
  keySpecs?: KeySpec[];
  handler: Handler;
  /** Subcommand table for containers (CONFIG, CLIENT, CLUSTER ...). */
  subcommands?: Map<string, CommandSpec>;
  /** Filled in by the table: "config|get" style full name. */
  fullname?: string;
  /** Filled in by the table: flag set for fast checks. */
  flagSet?: Set<CommandFlag>;
  /** Runtime stats (INFO commandstats). */
  calls?: number;
  usec?: number;
  rejectedCalls?: number;
  failedCalls?: number;
  /** INFO latencystats histogram, created by the first tracked call. */
  latency?: LatencyHistogram;
}

/** Shorthand to build a spec. */
export function cmd(
  name: string,
  arity: number,
  flags: CommandFlag[],
  keys: [number, number, number],
  handler: Handler,
  extra: Partial<CommandSpec> = {},
): CommandSpec {
  return {
    name,
    arity,
    flags,
    firstKey: keys[0],
    lastKey: keys[1],
    step: keys[2],
    handler,
    ...extra,
  };
}

/** `cmd` bound to a family's metadata table (COMMAND INFO/DOCS by command name). */
export function cmdWithMeta(
  meta: Record<string, Partial<CommandSpec>>,
): (
  name: string,
  arity: number,
  flags: CommandFlag[],
  keys: [number, number, number],
  handler: Handler,
) => CommandSpec {
  return (name, arity, flags, keys, handler) => cmd(name, arity, flags, keys, handler, meta[name]);
}

/** Key argument indexes of argv for a spec (fixed positions or getKeys). */
export function commandKeys(spec: CommandSpec, argv: string[]): number[] {
  if (spec.getKeys) return spec.getKeys(argv);
  if (spec.firstKey === 0) return [];
  const last = spec.lastKey < 0 ? argv.length + spec.lastKey : spec.lastKey;
  const out: number[] = [];
  for (let i = spec.firstKey; i <= last && i < argv.length; i += spec.step) out.push(i);
  return out;
}
