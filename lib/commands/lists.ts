// List commands: the command table. Single-key commands live in lists_ops.ts, the moving and
// blocking ones (LMOVE, LMPOP, BLPOP ...) in lists_blocking.ts.
import { cmd, type CommandSpec, type KeySpec } from "./types.ts";
import {
  lindex,
  linsert,
  llen,
  lpop,
  lpos,
  lpush,
  lpushx,
  lrange,
  lrem,
  lset,
  ltrim,
  rpop,
  rpush,
  rpushx,
} from "./lists_ops.ts";
import {
  blmove,
  blmpop,
  blpop,
  brpop,
  brpoplpush,
  lmove,
  lmpop,
  mpopKeys,
  rpoplpush,
} from "./lists_blocking.ts";

const LIST = { group: "list" };

function ks(flags: string[], index = 1, lastkey = 0): KeySpec {
  return { flags, beginSearch: { index }, findKeys: { lastkey, keystep: 1, limit: 0 } };
}

function numkeysSpec(index: number): KeySpec[] {
  return [{
    flags: ["RW", "access", "delete"],
    beginSearch: { index },
    findKeys: { keynumidx: 0, firstkey: 1, keystep: 1 },
  }];
}

const INSERT = [ks(["RW", "insert"])];
const POP = [ks(["RW", "access", "delete"])];
const MOVE = [ks(["RW", "access", "delete"]), ks(["RW", "insert"], 2)];
const BPOP = [ks(["RW", "access", "delete"], 1, -2)];
const PUSH_N =
  "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";
const MPOP_N =
  "O(N+M) where N is the number of provided keys and M is the number of elements returned.";

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("lpush", -3, ["write", "denyoom", "fast"], [1, 1, 1], lpush, {
    ...LIST,
    summary: "Prepend one or multiple elements to a list",
    since: "1.0.0",
    complexity: PUSH_N,
    keySpecs: INSERT,
  }),
  cmd("rpush", -3, ["write", "denyoom", "fast"], [1, 1, 1], rpush, {
    ...LIST,
    summary: "Append one or multiple elements to a list",
    since: "1.0.0",
    complexity: PUSH_N,
    keySpecs: INSERT,
  }),
  cmd("lpushx", -3, ["write", "denyoom", "fast"], [1, 1, 1], lpushx, {
    ...LIST,
    summary: "Prepend an element to a list, only if the list exists",
    since: "2.2.0",
    complexity: PUSH_N,
    keySpecs: INSERT,
  }),
  cmd("rpushx", -3, ["write", "denyoom", "fast"], [1, 1, 1], rpushx, {
    ...LIST,
    summary: "Append an element to a list, only if the list exists",
    since: "2.2.0",
    complexity: PUSH_N,
    keySpecs: INSERT,
  }),
  cmd("lpop", -2, ["write", "fast"], [1, 1, 1], lpop, {
    ...LIST,
    summary: "Remove and get the first elements in a list",
    since: "1.0.0",
    complexity: "O(N) where N is the number of elements returned",
    keySpecs: POP,
  }),
  cmd("rpop", -2, ["write", "fast"], [1, 1, 1], rpop, {
    ...LIST,
    summary: "Remove and get the last elements in a list",
    since: "1.0.0",
    complexity: "O(N) where N is the number of elements returned",
    keySpecs: POP,
  }),
  cmd("llen", 2, ["readonly", "fast"], [1, 1, 1], llen, {
    ...LIST,
    summary: "Get the length of a list",
    since: "1.0.0",
    complexity: "O(1)",
    keySpecs: [ks(["RO"])],
  }),
  cmd("lindex", 3, ["readonly"], [1, 1, 1], lindex, {
    ...LIST,
    summary: "Get an element from a list by its index",
    since: "1.0.0",
    complexity:
      "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
    keySpecs: [ks(["RO", "access"])],
  }),
  cmd("lset", 4, ["write", "denyoom"], [1, 1, 1], lset, {
    ...LIST,
    summary: "Set the value of an element in a list by its index",
    since: "1.0.0",
    complexity:
      "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
    keySpecs: [ks(["RW", "update"])],
  }),
  cmd("lrange", 4, ["readonly"], [1, 1, 1], lrange, {
    ...LIST,
    summary: "Get a range of elements from a list",
    since: "1.0.0",
    complexity:
      "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
    keySpecs: [ks(["RO", "access"])],
  }),
  cmd("ltrim", 4, ["write"], [1, 1, 1], ltrim, {
    ...LIST,
    summary: "Trim a list to the specified range",
    since: "1.0.0",
    complexity: "O(N) where N is the number of elements to be removed by the operation.",
    keySpecs: [ks(["RW", "delete"])],
  }),
  cmd("lrem", 4, ["write"], [1, 1, 1], lrem, {
    ...LIST,
    summary: "Remove elements from a list",
    since: "1.0.0",
    complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
    keySpecs: [ks(["RW", "delete"])],
  }),
  cmd("linsert", 5, ["write", "denyoom"], [1, 1, 1], linsert, {
    ...LIST,
    summary: "Insert an element before or after another element in a list",
    since: "2.2.0",
    complexity:
      "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
    keySpecs: INSERT,
  }),
  cmd("lpos", -3, ["readonly"], [1, 1, 1], lpos, {
    ...LIST,
    summary: "Return the index of matching elements on a list",
    since: "6.0.6",
    complexity:
      "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
    keySpecs: [ks(["RO", "access"])],
  }),
  cmd("lmove", 5, ["write", "denyoom"], [1, 2, 1], lmove, {
    ...LIST,
    summary: "Pop an element from a list, push it to another list and return it",
    since: "6.2.0",
    complexity: "O(1)",
    keySpecs: MOVE,
  }),
  cmd("rpoplpush", 3, ["write", "denyoom"], [1, 2, 1], rpoplpush, {
    ...LIST,
    summary: "Remove the last element in a list, prepend it to another list and return it",
    since: "1.2.0",
    complexity: "O(1)",
    keySpecs: MOVE,
  }),
  cmd("lmpop", -4, ["write"], [0, 0, 0], lmpop, {
    ...LIST,
    summary: "Pop elements from a list",
    since: "7.0.0",
    complexity: MPOP_N,
    getKeys: (argv) => mpopKeys(argv, 1),
    keySpecs: numkeysSpec(1),
  }),
  cmd("blpop", -3, ["write", "noscript", "blocking"], [1, -2, 1], blpop, {
    ...LIST,
    summary: "Remove and get the first element in a list, or block until one is available",
    since: "2.0.0",
    complexity: "O(N) where N is the number of provided keys.",
    keySpecs: BPOP,
  }),
  cmd("brpop", -3, ["write", "noscript", "blocking"], [1, -2, 1], brpop, {
    ...LIST,
    summary: "Remove and get the last element in a list, or block until one is available",
    since: "2.0.0",
    complexity: "O(N) where N is the number of provided keys.",
    keySpecs: BPOP,
  }),
  cmd("blmove", 6, ["write", "denyoom", "noscript", "blocking"], [1, 2, 1], blmove, {
    ...LIST,
    summary:
      "Pop an element from a list, push it to another list and return it; or block until one is available",
    since: "6.2.0",
    complexity: "O(1)",
    keySpecs: MOVE,
  }),
  cmd("brpoplpush", 4, ["write", "denyoom", "noscript", "blocking"], [1, 2, 1], brpoplpush, {
    ...LIST,
    summary:
      "Pop an element from a list, push it to another list and return it; or block until one is available",
    since: "2.2.0",
    complexity: "O(1)",
    keySpecs: MOVE,
  }),
  cmd("blmpop", -5, ["write", "blocking"], [0, 0, 0], blmpop, {
    ...LIST,
    summary: "Pop elements from a list, or block until one is available",
    since: "7.0.0",
    complexity: MPOP_N,
    getKeys: (argv) => mpopKeys(argv, 2),
    keySpecs: numkeysSpec(2),
  }),
];
