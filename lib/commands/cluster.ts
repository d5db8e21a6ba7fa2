// CLUSTER and its subcommands, plus READONLY, READWRITE and ASKING.
import { cmd, type CommandFlag, type CommandSpec, type Handler } from "./types.ts";
import type { Client } from "../server/client.ts";
import { keyHashSlot } from "../cluster/slot.ts";
import {
  CLUSTER_SLOTS,
  type ClusterNode,
  NODE_FAIL,
  NODE_MYSELF,
  NODE_PFAIL,
} from "../cluster/node.ts";
import {
  MSG_TYPE_COUNT,
  MSG_TYPE_NAMES,
  TODO_SAVE_CONFIG,
  TODO_UPDATE_STATE,
} from "../cluster/state.ts";
import { clusterOf } from "../cluster/runtime.ts";
import { preferredEndpoint } from "../cluster/routing.ts";
import { E_SYNTAX, parseInteger } from "./util.ts";

const HELP = [
  "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ADDSLOTS <slot> [<slot> ...]",
  "    Assign slots to current node.",
  "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
  "    Assign slots which are between <start-slot> and <end-slot> to current node.",
  "BUMPEPOCH",
  "    Advance the cluster config epoch.",
  "COUNT-FAILURE-REPORTS <node-id>",
  "    Return number of failure reports for <node-id>.",
  "COUNTKEYSINSLOT <slot>",
  "    Return the number of keys in <slot>.",
  "DELSLOTS <slot> [<slot> ...]",
  "    Delete slots information from current node.",
  "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
  "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
  "FAILOVER [FORCE|TAKEOVER]",
  "    Promote current replica node to being a master.",
  "FORGET <node-id>",
  "    Remove a node from the cluster.",
  "GETKEYSINSLOT <slot> <count>",
  "    Return key names stored by current node in a slot.",
  "FLUSHSLOTS",
  "    Delete current node own slots information.",
  "INFO",
  "    Return information about the cluster.",
  "KEYSLOT <key>",
  "    Return the hash slot for <key>.",
  "MEET <ip> <port> [<bus-port>]",
  "    Connect nodes into a working cluster.",
  "MYID",
  "    Return the node id.",
  "NODES",
  "    Return cluster configuration seen by node. Output format:",
  "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
  "REPLICATE <node-id>",
  "    Configure current node as replica to <node-id>.",
  "RESET [HARD|SOFT]",
  "    Reset current node (default: soft).",
  "SET-CONFIG-EPOCH <epoch>",
  "    Set config epoch of current node.",
  "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
  "    Set slot state.",
  "REPLICAS <node-id>",
  "    Return <node-id> replicas.",
  "SAVECONFIG",
  "    Force saving cluster configuration on disk.",
  "SLOTS",
  "    Return information about slots range mappings. Each range is made of:",
  "    start, end, master and replicas IP addresses, ports and ids",
  "SHARDS",
  "    Return information about slot range mappings and the nodes associated with them.",
  "LINKS",
  "    Return information about all network links between this node and its peers.",
  "    Output format is an array where each array element is a map containing attributes of a link",
  "HELP",
  "    Prints this help.",
];

/** Wraps a subcommand handler: refuses when cluster mode is off, and runs the state's
 * before-sleep work (save nodes.conf, update state) after it. */
function sub(
  name: string,
  arity: number,
  flags: CommandFlag[],
  h: (c: Client, argv: string[]) => void,
): CommandSpec {
  const handler: Handler = (c, argv) => {
    const rt = clusterOf(c.server);
    if (!rt) return c.error("ERR This instance has cluster support disabled");
    h(c, argv);
    rt.afterCommand();
  };
  return cmd(name, arity, flags, [0, 0, 0], handler);
}

function getSlot(c: Client, s: string): number {
  const n = parseInteger(s);
  if (n === null || n < 0 || n >= CLUSTER_SLOTS) {
    c.error("ERR Invalid or out of range slot");
    return -1;
  }
  return n;
}

function rt(c: Client) {
  return clusterOf(c.server)!;
}

/** Marks slots start..end in `mark`, checking ownership as Redis does; false after replying. */
function checkAssign(
  c: Client,
  mark: Uint8Array,
  del: boolean,
  start: number,
  end: number,
): boolean {
  const st = rt(c).st;
  for (let s = start; s <= end; s++) {
    if (del && st.slots[s] === null) {
      c.error(`ERR Slot ${s} is already unassigned`);
      return false;
    } else if (!del && st.slots[s] !== null) {
      c.error(`ERR Slot ${s} is already busy`);
      return false;
    }
    if (mark[s]++ === 1) {
      c.error(`ERR Slot ${s} specified multiple times`);
      return false;
    }
  }
  return true;
}

function applySlots(c: Client, mark: Uint8Array, del: boolean): void {
  const st = rt(c).st;
  for (let j = 0; j < CLUSTER_SLOTS; j++) {
    if (!mark[j]) continue;
    st.importingFrom[j] = null;
    if (del) st.delSlot(j);
    else st.addSlot(st.myself, j);
  }
  st.doBeforeSleep(TODO_UPDATE_STATE | TODO_SAVE_CONFIG);
  c.out.status("OK");
}

function slotsCmd(del: boolean, range: boolean) {
  return (c: Client, argv: string[]) => {
    const mark = new Uint8Array(CLUSTER_SLOTS);
    if (range) {
      if (argv.length % 2 === 1) {
        return c.error(
          `ERR wrong number of arguments for 'cluster|${argv[1].toLowerCase()}' command`,
        );
      }
      for (let j = 2; j < argv.length; j += 2) {
        const a = getSlot(c, argv[j]);
        if (a < 0) return;
        const b = getSlot(c, argv[j + 1]);
        if (b < 0) return;
        if (a > b) {
          return c.error(`ERR start slot number ${a} is greater than end slot number ${b}`);
        }
        if (!checkAssign(c, mark, del, a, b)) return;
      }
    } else {
      for (let j = 2; j < argv.length; j++) if (getSlot(c, argv[j]) < 0) return;
      for (let j = 2; j < argv.length; j++) {
        const s = getSlot(c, argv[j]);
        if (!checkAssign(c, mark, del, s, s)) return;
      }
    }
    applySlots(c, mark, del);
  };
}

function lookupOrReply(c: Client, id: string, fmt = "ERR Unknown node "): ClusterNode | null {
  const n = rt(c).st.lookup(id);
  if (!n) c.error(fmt + id);
  return n ?? null;
}

/** The [ip, port, id, {metadata}] entry of CLUSTER SLOTS. */
function nodeEntry(c: Client, n: ClusterNode): void {
  const cfg = c.server.config;
  const t = cfg.str("cluster-preferred-endpoint-type");
  c.out.array(4);
  if (t === "unknown-endpoint") c.out.null();
  else c.out.bulk(preferredEndpoint(n, cfg));
  c.out.int(n.port);
  c.out.bulk(n.name);
  const meta: [string, string][] = [];
  if (t !== "ip") meta.push(["ip", n.ip]);
  if (t !== "hostname" && n.hostname !== "") meta.push(["hostname", n.hostname]);
  c.out.map(meta.length);
  for (const [k, v] of meta) {
    c.out.bulk(k);
    c.out.bulk(v);
  }
}

function replicaAvailable(c: Client, n: ClusterNode): boolean {
  if (n.failed) return false;
  const off = n.flags & NODE_MYSELF ? rt(c).myReplicationOffset() : n.replOffset;
  return off !== 0;
}

function clusterSlots(c: Client): void {
  const st = rt(c).st;
  const ranges: [ClusterNode, number, number][] = [];
  let n: ClusterNode | null = null;
  let start = -1;
  for (let i = 0; i <= CLUSTER_SLOTS; i++) {
    const owner = i < CLUSTER_SLOTS ? st.slots[i] : null;
    if (n === null) {
      if (i === CLUSTER_SLOTS) break;
      n = owner;
      start = i;
      continue;
    }
    if (owner !== n) {
      ranges.push([n, start, i - 1]);
      n = owner;
      start = i;
    }
  }
  c.out.array(ranges.length);
  for (const [node, a, b] of ranges) {
    const reps = node.replicas.filter((r) => replicaAvailable(c, r));
    c.out.array(3 + reps.length);
    c.out.int(a);
    c.out.int(b);
    nodeEntry(c, node);
    for (const r of reps) nodeEntry(c, r);
  }
}

function shardNodeDetails(c: Client, n: ClusterNode): void {
  const fields: [string, string | number][] = [["id", n.name], ["port", n.port], ["ip", n.ip], [
    "endpoint",
    preferredEndpoint(n, c.server.config),
  ]];
  if (n.hostname !== "") fields.push(["hostname", n.hostname]);
  const off = n.flags & NODE_MYSELF ? rt(c).myReplicationOffset() : n.replOffset;
  fields.push(["role", n.isReplica ? "replica" : "master"]);
  fields.push(["replication-offset", off]);
  fields.push(["health", n.failed ? "fail" : n.isReplica && off === 0 ? "loading" : "online"]);
  c.out.map(fields.length);
  for (const [k, v] of fields) {
    c.out.bulk(k);
    if (typeof v === "number") c.out.int(v);
    else c.out.bulk(v);
  }
}

function clusterShards(c: Client): void {
  const st = rt(c).st;
  const masters = [...st.nodes.values()].filter((n) => n.isMaster);
  c.out.array(masters.length);
  for (const m of masters) {
    c.out.map(2);
    c.out.bulk("slots");
    const pairs: number[] = [];
    let start = -1;
    for (let j = 0; j <= CLUSTER_SLOTS; j++) {
      const own = j < CLUSTER_SLOTS && st.slots[j] === m;
      if (own && start === -1) start = j;
      if (!own && start !== -1) {
        pairs.push(start, j - 1);
        start = -1;
      }
    }
    c.out.array(pairs.length);
    for (const p of pairs) c.out.int(p);
    c.out.bulk("nodes");
    const nodes = [m, ...m.replicas];
    c.out.array(nodes.length);
    for (const n of nodes) shardNodeDetails(c, n);
  }
}

/** CLUSTER INFO text. */
export function clusterInfoText(c: Client): string {
  const r = rt(c);
  const st = r.st;
  let assigned = 0, ok = 0, pfail = 0, fail = 0;
  for (let j = 0; j < CLUSTER_SLOTS; j++) {
    const n = st.slots[j];
    if (!n) continue;
    assigned++;
    if (n.flags & NODE_FAIL) fail++;
    else if (n.flags & NODE_PFAIL) pfail++;
    else ok++;
  }
  const me = st.myself;
  const myEpoch = me.isReplica && me.slaveof ? me.slaveof.configEpoch : me.configEpoch;
  let s =
    `cluster_state:${st.state}\r\ncluster_slots_assigned:${assigned}\r\ncluster_slots_ok:${ok}\r\n` +
    `cluster_slots_pfail:${pfail}\r\ncluster_slots_fail:${fail}\r\ncluster_known_nodes:${st.nodes.size}\r\n` +
    `cluster_size:${st.size}\r\ncluster_current_epoch:${st.currentEpoch}\r\ncluster_my_epoch:${myEpoch}\r\n`;
  let sent = 0, recv = 0;
  for (let i = 0; i < MSG_TYPE_COUNT; i++) {
    if (!st.statsSent[i]) continue;
    sent += st.statsSent[i];
    s += `cluster_stats_messages_${MSG_TYPE_NAMES[i]}_sent:${st.statsSent[i]}\r\n`;
  }
  s += `cluster_stats_messages_sent:${sent}\r\n`;
  for (let i = 0; i < MSG_TYPE_COUNT; i++) {
    if (!st.statsReceived[i]) continue;
    recv += st.statsReceived[i];
    s += `cluster_stats_messages_${MSG_TYPE_NAMES[i]}_received:${st.statsReceived[i]}\r\n`;
  }
  s += `cluster_stats_messages_received:${recv}\r\n`;
  s += `total_cluster_links_buffer_limit_exceeded:${st.linksBufferLimitExceeded}\r\n`;
  return s;
}

const ADMIN: CommandFlag[] = ["no_async_loading", "admin", "stale"];

const subcommands: CommandSpec[] = [
  sub("help", 2, ["loading", "stale"], (c) => {
    c.out.array(HELP.length);
    for (const l of HELP) c.out.status(l);
  }),
  sub("meet", -4, ADMIN, (c, argv) => {
    if (argv.length > 5) return c.error("ERR wrong number of arguments for 'cluster|meet' command");
    const port = parseInteger(argv[3]);
    if (port === null) return c.error(`ERR Invalid TCP base port specified: ${argv[3]}`);
    let cport = port + 10000;
    if (argv.length === 5) {
      const cp = parseInteger(argv[4]);
      if (cp === null) return c.error(`ERR Invalid TCP bus port specified: ${argv[4]}`);
      cport = cp;
    }
    const r = rt(c);
    const res = r.meet(argv[2], port, cport);
    if (res === "invalid") {
      return c.error(`ERR Invalid node address specified: ${argv[2]}:${argv[3]}`);
    }
    c.out.status("OK");
  }),
  sub("nodes", 2, ["stale"], (c) => c.out.verbatim(rt(c).st.describeAll())),
  sub("myid", 2, ["stale"], (c) => c.out.bulk(rt(c).st.myself.name)),
  sub("slots", 2, ["stale"], clusterSlots),
  sub("shards", 2, ["stale"], clusterShards),
  sub("flushslots", 2, ADMIN, (c) => {
    if (c.server.dbs[0].size !== 0) {
      return c.error("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
    }
    const st = rt(c).st;
    st.delNodeSlots(st.myself);
    st.doBeforeSleep(TODO_UPDATE_STATE | TODO_SAVE_CONFIG);
    c.out.status("OK");
  }),
  sub("addslots", -3, ADMIN, slotsCmd(false, false)),
  sub("delslots", -3, ADMIN, slotsCmd(true, false)),
  sub("addslotsrange", -4, ADMIN, slotsCmd(false, true)),
  sub("delslotsrange", -4, ADMIN, slotsCmd(true, true)),
  sub("setslot", -4, ADMIN, (c, argv) => rt(c).setSlot(c, argv)),
  sub("bumpepoch", 2, ADMIN, (c) => {
    const r = rt(c);
    const bumped = r.bumpEpochWithoutConsensus();
    c.out.status(`${bumped ? "BUMPED" : "STILL"} ${r.st.myself.configEpoch}`);
  }),
  sub("info", 2, ["stale"], (c) => c.out.verbatim(clusterInfoText(c))),
  sub("saveconfig", 2, ADMIN, (c) => {
    try {
      rt(c).saveConfig(true);
      c.out.status("OK");
    } catch (e) {
      c.error(`ERR error saving the cluster node config: ${(e as Error).message}`);
    }
  }),
  sub("keyslot", 3, ["stale"], (c, argv) => c.out.int(keyHashSlot(argv[2]))),
  sub("countkeysinslot", 3, ["stale"], (c, argv) => {
    const slot = parseInteger(argv[2]);
    if (slot === null) return c.error("ERR value is not an integer or out of range");
    if (slot < 0 || slot >= CLUSTER_SLOTS) return c.error("ERR Invalid slot");
    c.out.int(c.server.dbs[0].slotIndex?.count(slot) ?? 0);
  }),
  sub("getkeysinslot", 4, ["stale"], (c, argv) => {
    const slot = parseInteger(argv[2]);
    const max = parseInteger(argv[3]);
    if (slot === null || max === null) {
      return c.error("ERR value is not an integer or out of range");
    }
    if (slot < 0 || slot >= CLUSTER_SLOTS || max < 0) {
      return c.error("ERR Invalid slot or number of keys");
    }
    c.out.bulkArray(c.server.dbs[0].slotIndex?.keys(slot, max) ?? []);
  }),
  sub("forget", 3, ADMIN, (c, argv) => {
    const st = rt(c).st;
    const n = lookupOrReply(c, argv[2]);
    if (!n) return;
    if (n === st.myself) return c.error("ERR I tried hard but I can't forget myself...");
    if (st.myself.isReplica && st.myself.slaveof === n) {
      return c.error("ERR Can't forget my master!");
    }
    st.blacklistAdd(n.name);
    st.delNode(n);
    st.doBeforeSleep(TODO_UPDATE_STATE | TODO_SAVE_CONFIG);
    c.out.status("OK");
  }),
  sub("replicate", 3, ADMIN, (c, argv) => {
    const r = rt(c);
    const st = r.st;
    const n = lookupOrReply(c, argv[2]);
    if (!n) return;
    if (n === st.myself) return c.error("ERR Can't replicate myself");
    if (n.isReplica) return c.error("ERR I can only replicate a master, not a replica.");
    if (st.myself.isMaster && (st.myself.numslots !== 0 || c.server.dbs[0].size !== 0)) {
      return c.error("ERR To set a master the node must be empty and without assigned slots.");
    }
    st.setMyMaster(n);
    st.doBeforeSleep(TODO_UPDATE_STATE | TODO_SAVE_CONFIG);
    c.out.status("OK");
  }),
  ...["slaves", "replicas"].map((name) =>
    sub(name, 3, ["admin", "stale"], (c, argv) => {
      const st = rt(c).st;
      const n = lookupOrReply(c, argv[2]);
      if (!n) return;
      if (n.isReplica) return c.error("ERR The specified node is not a master");
      c.out.array(n.replicas.length);
      for (const r of n.replicas) c.out.bulk(st.describeNode(r));
    })
  ),
  sub("count-failure-reports", 3, ["admin", "stale"], (c, argv) => {
    const n = lookupOrReply(c, argv[2]);
    if (!n) return;
    c.out.int(rt(c).st.failureReportsCount(n));
  }),
  sub("failover", -2, ADMIN, (c, argv) => {
    if (argv.length > 3) {
      return c.error("ERR wrong number of arguments for 'cluster|failover' command");
    }
    let force = false, takeover = false;
    if (argv.length === 3) {
      const o = argv[2].toLowerCase();
      if (o === "force") force = true;
      else if (o === "takeover") takeover = force = true;
      else return c.error(E_SYNTAX);
    }
    const err = rt(c).manualFailover(force, takeover);
    if (err) return c.error(err);
    c.out.status("OK");
  }),
  sub("set-config-epoch", 3, ADMIN, (c, argv) => {
    const st = rt(c).st;
    const epoch = parseInteger(argv[2]);
    if (epoch === null) return c.error("ERR value is not an integer or out of range");
    if (epoch < 0) return c.error(`ERR Invalid config epoch specified: ${epoch}`);
    if (st.nodes.size > 1) {
      return c.error(
        "ERR The user can assign a config epoch only when the node does not know any other node.",
      );
    }
    if (st.myself.configEpoch !== 0) return c.error("ERR Node config epoch is already non-zero");
    st.myself.configEpoch = epoch;
    rt(c).log("warning", `configEpoch set to ${epoch} via CLUSTER SET-CONFIG-EPOCH`);
    if (st.currentEpoch < BigInt(epoch)) st.currentEpoch = BigInt(epoch);
    st.doBeforeSleep(TODO_UPDATE_STATE | TODO_SAVE_CONFIG);
    c.out.status("OK");
  }),
  sub("reset", -2, ["admin", "stale", "noscript"], (c, argv) => {
    if (argv.length > 3) {
      return c.error("ERR wrong number of arguments for 'cluster|reset' command");
    }
    let hard = false;
    if (argv.length === 3) {
      const o = argv[2].toLowerCase();
      if (o === "hard") hard = true;
      else if (o !== "soft") return c.error(E_SYNTAX);
    }
    const r = rt(c);
    if (r.st.myself.isMaster && c.db.size !== 0) {
      return c.error("ERR CLUSTER RESET can't be called with master nodes containing keys");
    }
    r.reset(hard);
    c.out.status("OK");
  }),
  sub("links", 2, ["stale"], (c) => rt(c).replyLinks(c)),
];

/** Command table entries of this family. */
export const commands: CommandSpec[] = [
  cmd(
    "cluster",
    -2,
    [],
    [0, 0, 0],
    (c) => c.error("ERR wrong number of arguments for 'cluster' command"),
    {
      subcommands: new Map(subcommands.map((s) => [s.name, s])),
    },
  ),
  cmd("readonly", 1, ["fast", "loading", "stale"], [0, 0, 0], (c) => {
    if (!clusterOf(c.server)) return c.error("ERR This instance has cluster support disabled");
    c.readonlyMode = true;
    c.out.status("OK");
  }),
  cmd("readwrite", 1, ["fast", "loading", "stale"], [0, 0, 0], (c) => {
    if (!clusterOf(c.server)) return c.error("ERR This instance has cluster support disabled");
    c.readonlyMode = false;
    c.out.status("OK");
  }),
  cmd("asking", 1, ["fast"], [0, 0, 0], (c) => {
    if (!clusterOf(c.server)) return c.error("ERR This instance has cluster support disabled");
    c.asking = true;
    c.out.status("OK");
  }),
];
