// Set commands (t_set.c) on one or two keys: SADD, SREM, SMOVE, membership, SPOP, SRANDMEMBER,
// SSCAN, and the command table. The set algebra and the encoding rules live in sets_algebra.ts.
import { cmd, type CommandSpec, type KeySpec } from "./types.ts";
import type { Client } from "../server/client.ts";
import { SetValue } from "../store/types.ts";
import { E_NOT_INT, E_SYNTAX, E_WRONGTYPE, globMatch, parseInteger } from "./util.ts";
import { parseScanCursor, parseScanOptions } from "./hashes.ts";
import {
  createSetFor,
  maxIntset,
  readSet,
  replySet,
  setAdd,
  sintercard,
  sintercardKeys,
  sinterGeneric,
  sunionDiffGeneric,
} from "./sets_algebra.ts";

/** getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX): the count, or null after the error. */
function parseRandCount(c: Client, s: string): number | null {
  const n = parseInteger(s);
  if (n === null) {
    c.error(E_NOT_INT);
    return null;
  }
  if (s === "-9223372036854775808") {
    c.error(
      "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
    );
    return null;
  }
  return n;
}

function sadd(c: Client, argv: string[]): void {
  const db = c.db;
  const key = argv[1];
  let v = db.get(key);
  let touched = false;
  if (v === undefined) {
    v = createSetFor(argv[2]);
    db.add(key, v);
    touched = true;
  } else if (!(v instanceof SetValue)) return c.error(E_WRONGTYPE);
  const max = maxIntset(c);
  let added = 0;
  for (let i = 2; i < argv.length; i++) {
    const m = argv[i];
    if (!touched) {
      // WATCH and snapshots see the key change only when a member is really added.
      if (v.s.has(m)) continue;
      db.getForWrite(key);
      touched = true;
    }
    if (setAdd(v, m, max)) added++;
  }
  if (added > 0) {
    c.server.notify("s", "sadd", key, c.dbIndex);
    c.server.dirty += added;
  }
  c.out.int(added);
}

function srem(c: Client, argv: string[]): void {
  const key = argv[1];
  const v = readSet(c, key, true);
  if (v === null) return;
  if (v === undefined) return c.out.int(0);
  let deleted = 0;
  let keyRemoved = false;
  for (let i = 2; i < argv.length; i++) {
    if (!v.s.has(argv[i])) continue;
    if (deleted === 0) c.db.getForWrite(key);
    v.delete(argv[i]);
    deleted++;
    if (v.s.size === 0) {
      c.db.delete(key);
      keyRemoved = true;
      break;
    }
  }
  if (deleted > 0) {
    c.server.notify("s", "srem", key, c.dbIndex);
    if (keyRemoved) c.server.notify("g", "del", key, c.dbIndex);
    c.server.dirty += deleted;
  }
  c.out.int(deleted);
}

function smove(c: Client, argv: string[]): void {
  const db = c.db;
  const [, srcKey, dstKey, ele] = argv;
  const src = db.get(srcKey);
  const dst = db.get(dstKey);
  if (src === undefined) return c.out.int(0);
  if (!(src instanceof SetValue) || (dst !== undefined && !(dst instanceof SetValue))) {
    return c.error(E_WRONGTYPE);
  }
  if (src === dst) return c.out.int(src.s.has(ele) ? 1 : 0);
  if (!src.s.has(ele)) return c.out.int(0);
  db.getForWrite(srcKey);
  src.delete(ele);
  c.server.notify("s", "srem", srcKey, c.dbIndex);
  if (src.s.size === 0) {
    db.delete(srcKey);
    c.server.notify("g", "del", srcKey, c.dbIndex);
  }
  let target = dst;
  if (target === undefined) {
    target = createSetFor(ele);
    db.add(dstKey, target);
  } else if (!target.s.has(ele)) db.getForWrite(dstKey);
  c.server.dirty++;
  if (setAdd(target, ele, maxIntset(c))) {
    c.server.dirty++;
    c.server.notify("s", "sadd", dstKey, c.dbIndex);
  }
  c.out.int(1);
}

function sismember(c: Client, argv: string[]): void {
  const v = readSet(c, argv[1]);
  if (v !== null) c.out.int(v !== undefined && v.s.has(argv[2]) ? 1 : 0);
}

function smismember(c: Client, argv: string[]): void {
  const v = readSet(c, argv[1]);
  if (v === null) return;
  c.out.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) c.out.int(v !== undefined && v.s.has(argv[i]) ? 1 : 0);
}

function scard(c: Client, argv: string[]): void {
  const v = readSet(c, argv[1]);
  if (v !== null) c.out.int(v === undefined ? 0 : v.s.size);
}

function spopWithCount(c: Client, argv: string[]): void {
  const count = parseInteger(argv[2]);
  if (count === null || count < 0) return c.error("ERR value is out of range, must be positive");
  const key = argv[1];
  const v = readSet(c, key, true);
  if (v === null) return;
  if (v === undefined || count === 0) return c.out.set(0);
  const db = c.db;
  const size = v.s.size;
  c.server.notify("s", "spop", key, c.dbIndex);
  db.getForWrite(key);
  if (count >= size) {
    c.server.dirty += size;
    replySet(c, v.members());
    db.delete(key);
    c.server.notify("g", "del", key, c.dbIndex);
    c.propagateArgv = ["DEL", key];
    return;
  }
  c.server.dirty += count;
  // Replicated as one SREM with every popped member (Redis sends one SREM per member).
  const prop = ["SREM", key];
  const remaining = size - count;
  if (remaining * 5 > count) {
    c.out.set(count);
    for (let i = 0; i < count; i++) {
      const m = v.popRandom();
      c.out.bulk(m);
      prop.push(m);
    }
  } else {
    // Popping most of the set: pick the survivors instead and store them as a new set,
    // whose encoding is chosen afresh like setTypeCreate does.
    let survivors: SetValue | null = null;
    const max = maxIntset(c);
    for (let i = 0; i < remaining; i++) {
      const m = v.popRandom();
      survivors ??= createSetFor(m);
      setAdd(survivors, m, max);
    }
    const popped = v.members();
    c.out.set(popped.length);
    for (const m of popped) {
      c.out.bulk(m);
      prop.push(m);
    }
    db.set(key, survivors!, true);
  }
  c.propagateArgv = prop;
}

function spop(c: Client, argv: string[]): void {
  if (argv.length === 3) return spopWithCount(c, argv);
  if (argv.length > 3) return c.error(E_SYNTAX);
  const key = argv[1];
  const v = readSet(c, key, true);
  if (v === null) return;
  if (v === undefined) return c.out.null();
  c.db.getForWrite(key);
  const m = v.popRandom();
  c.server.notify("s", "spop", key, c.dbIndex);
  c.propagateArgv = ["SREM", key, m];
  c.out.bulk(m);
  if (v.s.size === 0) {
    c.db.delete(key);
    c.server.notify("g", "del", key, c.dbIndex);
  }
  c.server.dirty++;
}

function srandmember(c: Client, argv: string[]): void {
  if (argv.length > 3) return c.error(E_SYNTAX);
  if (argv.length === 2) {
    const v = readSet(c, argv[1]);
    if (v === null) return;
    if (v === undefined) return c.out.null();
    return c.out.bulk(v.index().pick());
  }
  const l = parseRandCount(c, argv[2]);
  if (l === null) return;
  const v = readSet(c, argv[1]);
  if (v === null) return;
  if (v === undefined || l === 0) return c.out.array(0);
  const out = c.out;
  if (l < 0 || l === 1) {
    const count = l < 0 ? -l : l;
    out.array(count);
    const ix = v.index();
    for (let i = 0; i < count; i++) out.bulk(ix.pick());
    return;
  }
  const size = v.s.size;
  if (l >= size) return out.bulkArray(v.members());
  out.array(l);
  if (l * 3 > size) {
    // Close to the whole set: drop random members until `l` remain.
    const members = v.members();
    while (members.length > l) {
      const i = Math.floor(Math.random() * members.length);
      members[i] = members[members.length - 1];
      members.pop();
    }
    for (const m of members) out.bulk(m);
    return;
  }
  const seen = new Set<string>();
  const ix = v.index();
  while (seen.size < l) {
    const m = ix.pick();
    if (seen.has(m)) continue;
    seen.add(m);
    out.bulk(m);
  }
}

function sscan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(c, argv[2]);
  if (cursor === null) return;
  const v = readSet(c, argv[1]);
  if (v === null) return;
  if (v === undefined) return c.out.raw("*2\r\n$1\r\n0\r\n*0\r\n");
  const opts = parseScanOptions(c, argv, 3);
  if (opts === null) return;
  const { count, pattern } = opts;
  const items: string[] = [];
  let next = 0;
  const visit = (m: string) => {
    if (pattern === null || globMatch(pattern, m)) items.push(m);
  };
  // An intset is small: everything is returned at once with cursor 0, as Redis does.
  if (v.enc === "intset") { for (const m of v.members()) visit(m); }
  else next = v.index().scan(cursor, count, visit);
  c.out.array(2);
  c.out.bulk(String(next));
  c.out.bulkArray(items);
}

const SET = { group: "set" };

function ks(flags: string[], index = 1, lastkey = 0): KeySpec {
  return { flags, beginSearch: { index }, findKeys: { lastkey, keystep: 1, limit: 0 } };
}

const RO_ACCESS = [ks(["RO", "access"])];
const RO_ALL = [ks(["RO", "access"], 1, -1)];
const ORDER = ["nondeterministic_output_order"];
const RANDOM = ["nondeterministic_output"];
const SIZE_N = "O(N) where N is the total number of elements in all given sets.";
const INTER_N =
  "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd("sadd", -3, ["write", "denyoom", "fast"], [1, 1, 1], sadd, {
    ...SET,
    summary: "Add one or more members to a set",
    since: "1.0.0",
    complexity:
      "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    keySpecs: [ks(["RW", "insert"])],
  }),
  cmd("srem", -3, ["write", "fast"], [1, 1, 1], srem, {
    ...SET,
    summary: "Remove one or more members from a set",
    since: "1.0.0",
    complexity: "O(N) where N is the number of members to be removed.",
    keySpecs: [ks(["RW", "delete"])],
  }),
  cmd("smove", 4, ["write", "fast"], [1, 2, 1], smove, {
    ...SET,
    summary: "Move a member from one set to another",
    since: "1.0.0",
    complexity: "O(1)",
    keySpecs: [ks(["RW", "access", "delete"]), ks(["RW", "insert"], 2)],
  }),
  cmd("sismember", 3, ["readonly", "fast"], [1, 1, 1], sismember, {
    ...SET,
    summary: "Determine if a given value is a member of a set",
    since: "1.0.0",
    complexity: "O(1)",
    keySpecs: [ks(["RO"])],
  }),
  cmd("smismember", -3, ["readonly", "fast"], [1, 1, 1], smismember, {
    ...SET,
    summary: "Returns the membership associated with the given elements for a set",
    since: "6.2.0",
    complexity: "O(N) where N is the number of elements being checked for membership",
    keySpecs: RO_ACCESS,
  }),
  cmd("scard", 2, ["readonly", "fast"], [1, 1, 1], scard, {
    ...SET,
    summary: "Get the number of members in a set",
    since: "1.0.0",
    complexity: "O(1)",
    keySpecs: [ks(["RO"])],
  }),
  cmd(
    "smembers",
    2,
    ["readonly"],
    [1, 1, 1],
    (c, a) => sinterGeneric(c, a.slice(1), null, false, 0),
    {
      ...SET,
      summary: "Get all the members in a set",
      since: "1.0.0",
      complexity: "O(N) where N is the set cardinality.",
      tips: ORDER,
      keySpecs: RO_ACCESS,
    },
  ),
  cmd("spop", -2, ["write", "fast"], [1, 1, 1], spop, {
    ...SET,
    summary: "Remove and return one or multiple random members from a set",
    since: "1.0.0",
    complexity:
      "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
    tips: RANDOM,
    keySpecs: [ks(["RW", "access", "delete"])],
  }),
  cmd("srandmember", -2, ["readonly"], [1, 1, 1], srandmember, {
    ...SET,
    summary: "Get one or multiple random members from a set",
    since: "1.0.0",
    complexity:
      "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
    tips: RANDOM,
    keySpecs: RO_ACCESS,
  }),
  cmd(
    "sinter",
    -2,
    ["readonly"],
    [1, -1, 1],
    (c, a) => sinterGeneric(c, a.slice(1), null, false, 0),
    {
      ...SET,
      summary: "Intersect multiple sets",
      since: "1.0.0",
      complexity: INTER_N,
      tips: ORDER,
      keySpecs: RO_ALL,
    },
  ),
  cmd("sintercard", -3, ["readonly"], [0, 0, 0], sintercard, {
    ...SET,
    summary: "Intersect multiple sets and return the cardinality of the result",
    since: "7.0.0",
    complexity: INTER_N,
    getKeys: sintercardKeys,
    keySpecs: [{
      flags: ["RO", "access"],
      beginSearch: { index: 1 },
      findKeys: { keynumidx: 0, firstkey: 1, keystep: 1 },
    }],
  }),
  cmd(
    "sinterstore",
    -3,
    ["write", "denyoom"],
    [1, -1, 1],
    (c, a) => sinterGeneric(c, a.slice(2), a[1], false, 0),
    {
      ...SET,
      summary: "Intersect multiple sets and store the resulting set in a key",
      since: "1.0.0",
      complexity: INTER_N,
      keySpecs: [ks(["RW", "update"]), ks(["RO", "access"], 2, -1)],
    },
  ),
  cmd(
    "sunion",
    -2,
    ["readonly"],
    [1, -1, 1],
    (c, a) => sunionDiffGeneric(c, a.slice(1), null, true),
    {
      ...SET,
      summary: "Add multiple sets",
      since: "1.0.0",
      complexity: SIZE_N,
      tips: ORDER,
      keySpecs: RO_ALL,
    },
  ),
  cmd(
    "sunionstore",
    -3,
    ["write", "denyoom"],
    [1, -1, 1],
    (c, a) => sunionDiffGeneric(c, a.slice(2), a[1], true),
    {
      ...SET,
      summary: "Add multiple sets and store the resulting set in a key",
      since: "1.0.0",
      complexity: SIZE_N,
      keySpecs: [ks(["OW", "update"]), ks(["RO", "access"], 2, -1)],
    },
  ),
  cmd(
    "sdiff",
    -2,
    ["readonly"],
    [1, -1, 1],
    (c, a) => sunionDiffGeneric(c, a.slice(1), null, false),
    {
      ...SET,
      summary: "Subtract multiple sets",
      since: "1.0.0",
      complexity: SIZE_N,
      tips: ORDER,
      keySpecs: RO_ALL,
    },
  ),
  cmd(
    "sdiffstore",
    -3,
    ["write", "denyoom"],
    [1, -1, 1],
    (c, a) => sunionDiffGeneric(c, a.slice(2), a[1], false),
    {
      ...SET,
      summary: "Subtract multiple sets and store the resulting set in a key",
      since: "1.0.0",
      complexity: SIZE_N,
      keySpecs: [ks(["OW", "update"]), ks(["RO", "access"], 2, -1)],
    },
  ),
  cmd("sscan", -3, ["readonly"], [1, 1, 1], sscan, {
    ...SET,
    summary: "Incrementally iterate Set elements",
    since: "2.8.0",
    complexity:
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
    tips: RANDOM,
    keySpecs: RO_ACCESS,
  }),
];
