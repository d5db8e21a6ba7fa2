// COMMAND INFO / DOCS metadata of the bitmap family, transcribed from Redis 7.0.15's
// src/commands/{setbit,getbit,bitcount,bitpos,bitop,bitfield,bitfield_ro}.json.
import type { CommandSpec } from "./types.ts";

/** Docs, ACL categories and key specs by command name. */
export const BITOPS_META: Record<string, Partial<CommandSpec>> = {
  "setbit": {
    summary: "Sets or clears the bit at offset in the string value stored at key",
    since: "2.2.0",
    group: "bitmap",
    complexity: "O(1)",
    categories: ["bitmap"],
    keySpecs: [{
      flags: ["RW", "ACCESS", "UPDATE"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "getbit": {
    summary: "Returns the bit value at offset in the string value stored at key",
    since: "2.2.0",
    group: "bitmap",
    complexity: "O(1)",
    categories: ["bitmap"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "bitcount": {
    summary: "Count set bits in a string",
    since: "2.6.0",
    group: "bitmap",
    complexity: "O(N)",
    categories: ["bitmap"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "bitpos": {
    summary: "Find first bit set or clear in a string",
    since: "2.8.7",
    group: "bitmap",
    complexity: "O(N)",
    categories: ["bitmap"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
  "bitop": {
    summary: "Perform bitwise operations between strings",
    since: "2.6.0",
    group: "bitmap",
    complexity: "O(N)",
    categories: ["bitmap"],
    keySpecs: [{
      flags: ["OW", "UPDATE"],
      beginSearch: { index: 2 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }, {
      flags: ["RO", "ACCESS"],
      beginSearch: { index: 3 },
      findKeys: { lastkey: -1, keystep: 1, limit: 0 },
    }],
  },
  "bitfield": {
    summary: "Perform arbitrary bitfield integer operations on strings",
    since: "3.2.0",
    group: "bitmap",
    complexity: "O(1) for each subcommand specified",
    categories: ["bitmap"],
    keySpecs: [{
      flags: ["RW", "UPDATE", "ACCESS", "VARIABLE_FLAGS"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
      notes: "This command allows both access and modification of the key",
    }],
  },
  "bitfield_ro": {
    summary:
      "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
    since: "6.0.0",
    group: "bitmap",
    complexity: "O(1) for each subcommand specified",
    categories: ["bitmap"],
    keySpecs: [{
      flags: ["RO", "ACCESS"],
      beginSearch: { index: 1 },
      findKeys: { lastkey: 0, keystep: 1, limit: 0 },
    }],
  },
};
