// COMMAND INFO / DOCS metadata of the stream family, transcribed from Redis 7.0.15's
// src/commands/x*.json (XGROUP and XINFO are containers: their subcommands are "xgroup|create"
// style entries here).
import type { CommandSpec } from "./types.ts";

/** Docs, ACL categories, tips and key specs by command name. */
export const STREAMS_META: Record<string, Partial<CommandSpec>> = {
  "xack": {
    summary:
      "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1) for each message ID processed.",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RW", "UPDATE"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xadd": {
    summary: "Appends a new entry to a stream",
    since: "5.0.0",
    group: "stream",
    complexity:
      "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
    categories: ["stream"],
    tips: ["nondeterministic_output"],
    keySpecs: [{
      flags: ["RW", "UPDATE"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
      notes: "UPDATE instead of INSERT because of the optional trimming feature",
    }],
  },
  "xautoclaim": {
    summary:
      "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
    since: "6.2.0",
    group: "stream",
    complexity: "O(1) if COUNT is small.",
    categories: ["stream"],
    tips: ["nondeterministic_output"],
    keySpecs: [{
      flags: ["RW", "DELETE"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xclaim": {
    summary:
      "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
    since: "5.0.0",
    group: "stream",
    complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
    categories: ["stream"],
    tips: ["nondeterministic_output"],
    keySpecs: [{
      flags: ["RW", "UPDATE"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xdel": {
    summary:
      "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RW", "DELETE"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xgroup|create": {
    summary: "Create a consumer group.",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1)",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RW", "INSERT"],
      beginSearch: { index: 2 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xgroup|createconsumer": {
    summary: "Create a consumer in a consumer group.",
    since: "6.2.0",
    group: "stream",
    complexity: "O(1)",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RW", "INSERT"],
      beginSearch: { index: 2 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xgroup|delconsumer": {
    summary: "Delete a consumer from a consumer group.",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1)",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RW", "DELETE"],
      beginSearch: { index: 2 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xgroup|destroy": {
    summary: "Destroy a consumer group.",
    since: "5.0.0",
    group: "stream",
    complexity: "O(N) where N is the number of entries in the group's pending entries list (PEL).",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RW", "DELETE"],
      beginSearch: { index: 2 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xgroup|help": {
    summary: "Show helpful text about the different subcommands",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1)",
    categories: ["stream"],
  },
  "xgroup|setid": {
    summary: "Set a consumer group to an arbitrary last delivered ID value.",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1)",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RW", "UPDATE"],
      beginSearch: { index: 2 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xgroup": {
    summary: "A container for consumer groups commands",
    since: "5.0.0",
    group: "stream",
    complexity: "Depends on subcommand.",
  },
  "xinfo|consumers": {
    summary: "List the consumers in a consumer group",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1)",
    categories: ["stream"],
    tips: ["nondeterministic_output"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      beginSearch: { index: 2 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xinfo|groups": {
    summary: "List the consumer groups of a stream",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1)",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      beginSearch: { index: 2 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xinfo|help": {
    summary: "Show helpful text about the different subcommands",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1)",
    categories: ["stream"],
  },
  "xinfo|stream": {
    summary: "Get information about a stream",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1)",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      beginSearch: { index: 2 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xinfo": {
    summary: "A container for stream introspection commands",
    since: "5.0.0",
    group: "stream",
    complexity: "Depends on subcommand.",
  },
  "xlen": {
    summary: "Return the number of entries in a stream",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1)",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RO"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xpending": {
    summary:
      "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
    since: "5.0.0",
    group: "stream",
    complexity:
      "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
    categories: ["stream"],
    tips: ["nondeterministic_output"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xrange": {
    summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval",
    since: "5.0.0",
    group: "stream",
    complexity:
      "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xread": {
    summary:
      "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
    since: "5.0.0",
    group: "stream",
    complexity:
      "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      beginSearch: { keyword: "STREAMS", startfrom: 1 },
      findKeys: { lastkey: -1, keystep: 1, limit: 2 },
    }],
  },
  "xreadgroup": {
    summary:
      "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
    since: "5.0.0",
    group: "stream",
    complexity:
      "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      beginSearch: { keyword: "STREAMS", startfrom: 4 },
      findKeys: { lastkey: -1, keystep: 1, limit: 2 },
    }],
  },
  "xrevrange": {
    summary:
      "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
    since: "5.0.0",
    group: "stream",
    complexity:
      "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xsetid": {
    summary: "An internal command for replicating stream values",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1)",
    categories: ["stream"],
    keySpecs: [{
      flags: ["RW", "UPDATE"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "xtrim": {
    summary: "Trims the stream to (approximately if '~' is passed) a certain size",
    since: "5.0.0",
    group: "stream",
    complexity:
      "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
    categories: ["stream"],
    tips: ["nondeterministic_output"],
    keySpecs: [{
      flags: ["RW", "DELETE"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
};
