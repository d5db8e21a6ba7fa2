// Which node serves a command (Redis's getNodeByQuery) and the redirection replies:
// MOVED, ASK, CROSSSLOT, TRYAGAIN, CLUSTERDOWN.
import type { Client } from "../server/client.ts";
import { commandKeys, type CommandSpec } from "../commands/types.ts";
import { keyHashSlot } from "./slot.ts";
import type { ClusterState } from "./state.ts";
import type { ClusterNode } from "./node.ts";
import type { Config } from "../config/config.ts";

/** The endpoint a redirect names, per cluster-preferred-endpoint-type. */
export function preferredEndpoint(n: ClusterNode, config: Config): string {
  const t = config.str("cluster-preferred-endpoint-type");
  if (t === "hostname") return n.hostname !== "" ? n.hostname : "?";
  if (t === "unknown-endpoint") return "";
  return n.ip;
}

const SHARD_PUBSUB = new Set(["ssubscribe", "sunsubscribe", "spublish"]);

/** Returns the error reply for a command this node must not serve, or null to serve it. */
export function routeCommand(
  st: ClusterState,
  config: Config,
  c: Client,
  spec: CommandSpec,
  argv: string[],
): string | null {
  const isExec = spec.name === "exec";
  if (!isExec && spec.firstKey === 0 && !spec.getKeys) return null;
  const cmds: { spec: CommandSpec; argv: string[] }[] = isExec
    ? (c.multi ?? []).map((q) => ({ spec: q.spec, argv: q.argv }))
    : [{ spec, argv }];
  if (isExec && !c.multi) return null;
  let firstKey: string | null = null;
  let slot = 0;
  let n: ClusterNode | null = null;
  let migrating = false;
  let importing = false;
  let multipleKeys = false;
  let missing = 0;
  let existing = 0;
  let isShard = false;
  let anyWrite = false;
  for (const q of cmds) {
    if (SHARD_PUBSUB.has(q.spec.name)) isShard = true;
    if (q.spec.flagSet?.has("write")) anyWrite = true;
    for (const idx of commandKeys(q.spec, q.argv)) {
      const key = q.argv[idx];
      if (key === undefined) continue;
      const ks = keyHashSlot(key);
      if (firstKey === null) {
        firstKey = key;
        slot = ks;
        n = st.slots[slot];
        if (!n) return "CLUSTERDOWN Hash slot not served";
        if (n === st.myself && st.migratingTo[slot]) migrating = true;
        else if (st.importingFrom[slot]) importing = true;
      } else if (key !== firstKey) {
        if (ks !== slot) return "CROSSSLOT Keys in request don't hash to the same slot";
        multipleKeys = true;
      }
      if ((migrating || importing) && !isShard) {
        if (c.server.dbs[0].get(key) === undefined) missing++;
        else existing++;
      }
    }
  }
  if (n === null) return null;
  if (st.state !== "ok") {
    if (isShard) {
      if (!config.bool("cluster-allow-pubsubshard-when-down")) {
        return "CLUSTERDOWN The cluster is down";
      }
    } else if (!config.bool("cluster-allow-reads-when-down")) {
      return "CLUSTERDOWN The cluster is down";
    } else if (anyWrite) {
      return "CLUSTERDOWN The cluster is down and only accepts read commands";
    }
  }
  if ((migrating || importing) && spec.name === "migrate") return null;
  if (migrating && missing > 0) {
    if (existing > 0) return "TRYAGAIN Multiple keys request during rehashing of slot";
    const to = st.migratingTo[slot]!;
    return `ASK ${slot} ${preferredEndpoint(to, config)}:${to.port}`;
  }
  if (importing && (c.asking || spec.flagSet?.has("asking"))) {
    if (multipleKeys && missing > 0) {
      return "TRYAGAIN Multiple keys request during rehashing of slot";
    }
    return null;
  }
  if ((c.readonlyMode || isShard) && !anyWrite && st.myself.isReplica && st.myself.slaveof === n) {
    return null;
  }
  if (n !== st.myself) return `MOVED ${slot} ${preferredEndpoint(n, config)}:${n.port}`;
  return null;
}

/** Clients blocked on keys (BLPOP, BZPOPMIN ...) whose slot this node no longer serves get
 * MOVED, or CLUSTERDOWN when the cluster is down or the slot unassigned (Redis's
 * clusterRedirectBlockedClientIfNeeded, run from the clients cron). */
export function redirectBlockedClients(
  st: ClusterState,
  config: Config,
  clients: Iterable<Client>,
): void {
  for (const c of clients) {
    const b = c.blocked;
    if (b === null || b.keys.length === 0) continue;
    let err: string | null = null;
    if (st.state !== "ok") err = "CLUSTERDOWN The cluster is down";
    else {
      const slot = keyHashSlot(b.keys[0]);
      let n = st.slots[slot];
      if (
        c.readonlyMode && !b.spec.flagSet?.has("write") && st.myself.isReplica &&
        st.myself.slaveof === n
      ) n = st.myself;
      if (n !== st.myself && !st.importingFrom[slot]) {
        err = n
          ? `MOVED ${slot} ${preferredEndpoint(n, config)}:${n.port}`
          : "CLUSTERDOWN Hash slot not served";
      }
    }
    if (err === null) continue;
    c.server.blocking.unblock(c);
    c.error(err);
    if (c.resume) c.resume();
    else c.flush();
  }
}
