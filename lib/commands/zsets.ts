// Sorted set commands: the command table. Handlers live in zsets_basic.ts (member commands and
// small queries), zsets_range.ts (ranges), zsets_setops.ts (set operations) and zsets_pop.ts
// (pops, blocking too); shared parsing and storing helpers in zsets_util.ts.
import { cmd, type CommandFlag, type CommandSpec, type Handler, type KeySpec } from "./types.ts";
import {
  zaddCmd,
  zcardCmd,
  zcountCmd,
  zincrbyCmd,
  zlexcountCmd,
  zmscoreCmd,
  zrandmemberCmd,
  zrankCmd,
  zremCmd,
  zrevrankCmd,
  zscanCmd,
  zscoreCmd,
} from "./zsets_basic.ts";
import {
  zrangebylexCmd,
  zrangebyscoreCmd,
  zrangeCmd,
  zrangestoreCmd,
  zremrangebylexCmd,
  zremrangebyrankCmd,
  zremrangebyscoreCmd,
  zrevrangebylexCmd,
  zrevrangebyscoreCmd,
  zrevrangeCmd,
} from "./zsets_range.ts";
import {
  zdiffCmd,
  zdiffstoreCmd,
  zinterCardCmd,
  zinterCmd,
  zinterstoreCmd,
  zunionCmd,
  zunionstoreCmd,
} from "./zsets_setops.ts";
import {
  bzmpopCmd,
  bzpopmaxCmd,
  bzpopminCmd,
  zmpopCmd,
  zpopmaxCmd,
  zpopminCmd,
} from "./zsets_pop.ts";

// ---- command table ----

const RW_UPDATE = ["RW", "update"];
const RW_ACCESS_UPDATE = ["RW", "access", "update"];
const RW_DELETE = ["RW", "delete"];
const RW_ACCESS_DELETE = ["RW", "access", "delete"];
const RO = ["RO"];
const RO_ACCESS = ["RO", "access"];
const OW_UPDATE = ["OW", "update"];

function range(flags: string[], index: number, lastkey = 0): KeySpec {
  return { flags, beginSearch: { index }, findKeys: { lastkey, keystep: 1, limit: 0 } };
}

function keynum(flags: string[], index: number): KeySpec {
  return { flags, beginSearch: { index }, findKeys: { keynumidx: 0, firstkey: 1, keystep: 1 } };
}

/** Key positions of numkeys commands, like Redis's genericGetKeys (atoi, store key last). */
function numkeysGetKeys(
  storeIdx: number,
  countIdx: number,
  firstIdx: number,
): (argv: string[]) => number[] {
  return (argv) => {
    const num = parseInt(argv[countIdx] ?? "", 10) || 0;
    if (num < 1 || num > argv.length - firstIdx) return [];
    const out: number[] = [];
    for (let i = 0; i < num; i++) out.push(firstIdx + i);
    if (storeIdx) out.push(storeIdx);
    return out;
  };
}

function zcmd(
  name: string,
  arity: number,
  flags: CommandFlag[],
  keys: [number, number, number],
  handler: Handler,
  keySpecs: KeySpec[],
  since: string,
  summary: string,
  complexity: string,
  extra: Partial<CommandSpec> = {},
): CommandSpec {
  return cmd(name, arity, flags, keys, handler, {
    categories: ["sortedset"],
    group: "sorted-set",
    since,
    summary,
    complexity,
    keySpecs,
    ...extra,
  });
}

const LOGN_M =
  "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.";
const LOGN_M_LIMIT =
  "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).";
const LOGN_M_REMOVED =
  "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.";
const LOGN = "O(log(N)) with N being the number of elements in the sorted set.";
const INTER =
  "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.";
const DIFF =
  "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.";
const MPOP =
  "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.";
const POP =
  "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.";

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  zcmd(
    "zadd",
    -4,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    zaddCmd,
    [range(RW_UPDATE, 1)],
    "1.2.0",
    "Add one or more members to a sorted set, or update its score if it already exists",
    "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
  ),
  zcmd(
    "zincrby",
    4,
    ["write", "denyoom", "fast"],
    [1, 1, 1],
    zincrbyCmd,
    [range(RW_ACCESS_UPDATE, 1)],
    "1.2.0",
    "Increment the score of a member in a sorted set",
    "O(log(N)) where N is the number of elements in the sorted set.",
  ),
  zcmd(
    "zrem",
    -3,
    ["write", "fast"],
    [1, 1, 1],
    zremCmd,
    [range(RW_DELETE, 1)],
    "1.2.0",
    "Remove one or more members from a sorted set",
    "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
  ),
  zcmd(
    "zcard",
    2,
    ["readonly", "fast"],
    [1, 1, 1],
    zcardCmd,
    [range(RO, 1)],
    "1.2.0",
    "Get the number of members in a sorted set",
    "O(1)",
  ),
  zcmd(
    "zscore",
    3,
    ["readonly", "fast"],
    [1, 1, 1],
    zscoreCmd,
    [range(RO_ACCESS, 1)],
    "1.2.0",
    "Get the score associated with the given member in a sorted set",
    "O(1)",
  ),
  zcmd(
    "zmscore",
    -3,
    ["readonly", "fast"],
    [1, 1, 1],
    zmscoreCmd,
    [range(RO_ACCESS, 1)],
    "6.2.0",
    "Get the score associated with the given members in a sorted set",
    "O(N) where N is the number of members being requested.",
  ),
  zcmd(
    "zrank",
    3,
    ["readonly", "fast"],
    [1, 1, 1],
    zrankCmd,
    [range(RO_ACCESS, 1)],
    "2.0.0",
    "Determine the index of a member in a sorted set",
    "O(log(N))",
  ),
  zcmd(
    "zrevrank",
    3,
    ["readonly", "fast"],
    [1, 1, 1],
    zrevrankCmd,
    [range(RO_ACCESS, 1)],
    "2.0.0",
    "Determine the index of a member in a sorted set, with scores ordered from high to low",
    "O(log(N))",
  ),
  zcmd(
    "zcount",
    4,
    ["readonly", "fast"],
    [1, 1, 1],
    zcountCmd,
    [range(RO_ACCESS, 1)],
    "2.0.0",
    "Count the members in a sorted set with scores within the given values",
    LOGN,
  ),
  zcmd(
    "zlexcount",
    4,
    ["readonly", "fast"],
    [1, 1, 1],
    zlexcountCmd,
    [range(RO_ACCESS, 1)],
    "2.8.9",
    "Count the number of members in a sorted set between a given lexicographical range",
    LOGN,
  ),
  zcmd(
    "zrange",
    -4,
    ["readonly"],
    [1, 1, 1],
    zrangeCmd,
    [range(RO_ACCESS, 1)],
    "1.2.0",
    "Return a range of members in a sorted set",
    LOGN_M,
  ),
  zcmd(
    "zrangestore",
    -5,
    ["write", "denyoom"],
    [1, 2, 1],
    zrangestoreCmd,
    [range(OW_UPDATE, 1), range(RO_ACCESS, 2)],
    "6.2.0",
    "Store a range of members from sorted set into another key",
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
  ),
  zcmd(
    "zrevrange",
    -4,
    ["readonly"],
    [1, 1, 1],
    zrevrangeCmd,
    [range(RO_ACCESS, 1)],
    "1.2.0",
    "Return a range of members in a sorted set, by index, with scores ordered from high to low",
    LOGN_M,
  ),
  zcmd(
    "zrangebyscore",
    -4,
    ["readonly"],
    [1, 1, 1],
    zrangebyscoreCmd,
    [range(RO_ACCESS, 1)],
    "1.0.5",
    "Return a range of members in a sorted set, by score",
    LOGN_M_LIMIT,
  ),
  zcmd(
    "zrevrangebyscore",
    -4,
    ["readonly"],
    [1, 1, 1],
    zrevrangebyscoreCmd,
    [range(RO_ACCESS, 1)],
    "2.2.0",
    "Return a range of members in a sorted set, by score, with scores ordered from high to low",
    LOGN_M_LIMIT,
  ),
  zcmd(
    "zrangebylex",
    -4,
    ["readonly"],
    [1, 1, 1],
    zrangebylexCmd,
    [range(RO_ACCESS, 1)],
    "2.8.9",
    "Return a range of members in a sorted set, by lexicographical range",
    LOGN_M_LIMIT,
  ),
  zcmd(
    "zrevrangebylex",
    -4,
    ["readonly"],
    [1, 1, 1],
    zrevrangebylexCmd,
    [range(RO_ACCESS, 1)],
    "2.8.9",
    "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
    LOGN_M_LIMIT,
  ),
  zcmd(
    "zremrangebyrank",
    4,
    ["write"],
    [1, 1, 1],
    zremrangebyrankCmd,
    [range(RW_DELETE, 1)],
    "2.0.0",
    "Remove all members in a sorted set within the given indexes",
    LOGN_M_REMOVED,
  ),
  zcmd(
    "zremrangebyscore",
    4,
    ["write"],
    [1, 1, 1],
    zremrangebyscoreCmd,
    [range(RW_DELETE, 1)],
    "1.2.0",
    "Remove all members in a sorted set within the given scores",
    LOGN_M_REMOVED,
  ),
  zcmd(
    "zremrangebylex",
    4,
    ["write"],
    [1, 1, 1],
    zremrangebylexCmd,
    [range(RW_DELETE, 1)],
    "2.8.9",
    "Remove all members in a sorted set between the given lexicographical range",
    LOGN_M_REMOVED,
  ),
  zcmd(
    "zpopmin",
    -2,
    ["write", "fast"],
    [1, 1, 1],
    zpopminCmd,
    [range(RW_ACCESS_DELETE, 1)],
    "5.0.0",
    "Remove and return members with the lowest scores in a sorted set",
    POP,
  ),
  zcmd(
    "zpopmax",
    -2,
    ["write", "fast"],
    [1, 1, 1],
    zpopmaxCmd,
    [range(RW_ACCESS_DELETE, 1)],
    "5.0.0",
    "Remove and return members with the highest scores in a sorted set",
    POP,
  ),
  zcmd(
    "zmpop",
    -4,
    ["write", "movablekeys"],
    [0, 0, 0],
    zmpopCmd,
    [keynum(RW_ACCESS_DELETE, 1)],
    "7.0.0",
    "Remove and return members with scores in a sorted set",
    MPOP,
    { getKeys: numkeysGetKeys(0, 1, 2) },
  ),
  zcmd(
    "bzpopmin",
    -3,
    ["write", "noscript", "blocking", "fast"],
    [1, -2, 1],
    bzpopminCmd,
    [range(RW_ACCESS_DELETE, 1, -2)],
    "5.0.0",
    "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
    "O(log(N)) with N being the number of elements in the sorted set.",
  ),
  zcmd(
    "bzpopmax",
    -3,
    ["write", "noscript", "blocking", "fast"],
    [1, -2, 1],
    bzpopmaxCmd,
    [range(RW_ACCESS_DELETE, 1, -2)],
    "5.0.0",
    "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
    "O(log(N)) with N being the number of elements in the sorted set.",
  ),
  zcmd(
    "bzmpop",
    -5,
    ["write", "blocking", "movablekeys"],
    [0, 0, 0],
    bzmpopCmd,
    [keynum(RW_ACCESS_DELETE, 2)],
    "7.0.0",
    "Remove and return members with scores in a sorted set or block until one is available",
    MPOP,
    { getKeys: numkeysGetKeys(0, 2, 3) },
  ),
  zcmd(
    "zunionstore",
    -4,
    ["write", "denyoom", "movablekeys"],
    [1, 1, 1],
    zunionstoreCmd,
    [range(OW_UPDATE, 1), keynum(RO_ACCESS, 2)],
    "2.0.0",
    "Add multiple sorted sets and store the resulting sorted set in a new key",
    "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
    { getKeys: numkeysGetKeys(1, 2, 3) },
  ),
  zcmd(
    "zinterstore",
    -4,
    ["write", "denyoom", "movablekeys"],
    [1, 1, 1],
    zinterstoreCmd,
    [range(OW_UPDATE, 1), keynum(RO_ACCESS, 2)],
    "2.0.0",
    "Intersect multiple sorted sets and store the resulting sorted set in a new key",
    INTER,
    { getKeys: numkeysGetKeys(1, 2, 3) },
  ),
  zcmd(
    "zdiffstore",
    -4,
    ["write", "denyoom", "movablekeys"],
    [1, 1, 1],
    zdiffstoreCmd,
    [range(OW_UPDATE, 1), keynum(RO_ACCESS, 2)],
    "6.2.0",
    "Subtract multiple sorted sets and store the resulting sorted set in a new key",
    DIFF,
    { getKeys: numkeysGetKeys(1, 2, 3) },
  ),
  zcmd(
    "zunion",
    -3,
    ["readonly", "movablekeys"],
    [0, 0, 0],
    zunionCmd,
    [keynum(RO_ACCESS, 1)],
    "6.2.0",
    "Add multiple sorted sets",
    "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
    { getKeys: numkeysGetKeys(0, 1, 2) },
  ),
  zcmd(
    "zinter",
    -3,
    ["readonly", "movablekeys"],
    [0, 0, 0],
    zinterCmd,
    [keynum(RO_ACCESS, 1)],
    "6.2.0",
    "Intersect multiple sorted sets",
    INTER,
    { getKeys: numkeysGetKeys(0, 1, 2) },
  ),
  zcmd(
    "zintercard",
    -3,
    ["readonly", "movablekeys"],
    [0, 0, 0],
    zinterCardCmd,
    [keynum(RO_ACCESS, 1)],
    "7.0.0",
    "Intersect multiple sorted sets and return the cardinality of the result",
    "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
    { getKeys: numkeysGetKeys(0, 1, 2) },
  ),
  zcmd(
    "zdiff",
    -3,
    ["readonly", "movablekeys"],
    [0, 0, 0],
    zdiffCmd,
    [keynum(RO_ACCESS, 1)],
    "6.2.0",
    "Subtract multiple sorted sets",
    DIFF,
    { getKeys: numkeysGetKeys(0, 1, 2) },
  ),
  zcmd(
    "zrandmember",
    -2,
    ["readonly"],
    [1, 1, 1],
    zrandmemberCmd,
    [range(RO_ACCESS, 1)],
    "6.2.0",
    "Get one or multiple random elements from a sorted set",
    "O(N) where N is the number of elements returned",
    { tips: ["nondeterministic_output"] },
  ),
  zcmd(
    "zscan",
    -3,
    ["readonly"],
    [1, 1, 1],
    zscanCmd,
    [range(RO_ACCESS, 1)],
    "2.8.0",
    "Incrementally iterate sorted sets elements and associated scores",
    "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
    { tips: ["nondeterministic_output"] },
  ),
];
