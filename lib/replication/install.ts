// Attaches replication to a starting server: the propagation sink, the cron (100 ms duties and
// the once-a-second replicationCron), INFO replication, ROLE, the dispatcher gate (MASTERDOWN,
// NOREPLICAS) and WAIT offsets, the repl-* aux fields of saved RDBs, CONFIG SET hooks, cluster
// mode's setMaster/offset hooks, and the `replicaof` directive at start-up.
import { rank, register } from "../server/subsystems.ts";
import type { Server } from "../server/server.ts";
import type { Client } from "../server/client.ts";
import type { CommandSpec } from "../commands/types.ts";
import { replicationHooks } from "../server/dispatch.ts";
import { roleHooks } from "../commands/server_cmds.ts";
import { persistenceOf } from "../persistence/service.ts";
import { clusterOf, type ClusterRuntime } from "../cluster/runtime.ts";
import { log } from "../log.ts";
import { type Replication, replicationOf } from "./state.ts";
import { replicationInfo, roleReply } from "./info.ts";
import { unixTime } from "./wire.ts";

/** Restores replication ids from the loaded RDB's aux fields (loadDataFromDisk). */
function restoreFromRdb(server: Server, asReplica: boolean): void {
  const repl = replicationOf(server);
  if (repl.backlog !== null) return;
  const aux = persistenceOf(server).lastLoadAux;
  const id = aux.get("repl-id");
  const off = Number(aux.get("repl-offset") ?? "-1");
  const db = Number(aux.get("repl-stream-db") ?? "-1");
  if (id === undefined || id.length !== 40 || !(off >= 0) || !(db >= 0)) return;
  if (asReplica) {
    // A restarted replica can PSYNC from where its dump left off.
    repl.replid = id;
    repl.masterReplOffset = off;
    repl.replica.cached = { replid: id, reploff: off, dbIndex: db < server.dbs.length ? db : 0 };
  } else {
    // A restarted master accepts PSYNCs that continue its old history.
    repl.replid2 = id;
    repl.secondReplOffset = off + 1;
    repl.masterReplOffset = off;
    repl.createBacklog();
    repl.noReplicasSince = unixTime();
  }
}

function gate(
  repl: Replication,
  server: Server,
  c: Client,
  spec: CommandSpec,
  isWrite: boolean,
): string | null {
  if (isWrite && !repl.primary.enoughGoodReplicas()) {
    return "NOREPLICAS Not enough good replicas to write.";
  }
  if (
    repl.isReplica && repl.replica.state !== "connected" &&
    !server.config.bool("replica-serve-stale-data")
  ) {
    const stale = spec.name === "exec"
      ? !(c.multi ?? []).some((q) => !q.spec.flagSet!.has("stale"))
      : spec.flagSet!.has("stale");
    if (!stale) {
      return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    }
  }
  return null;
}

/** Redis 7.0 shutdown: give lagging replicas up to shutdown-timeout seconds to acknowledge
 * everything, so none needs a full sync after a restart or failover. */
async function waitReplicasAtShutdown(server: Server): Promise<void> {
  const repl = replicationOf(server);
  const timeout = server.config.int("shutdown-timeout");
  const target = repl.masterReplOffset;
  const lagging = () =>
    repl.primary.links.filter((l) => l.state === "online" && !l.prePsync && l.ackOff < target);
  if (repl.isReplica || timeout === 0 || lagging().length === 0) return;
  log.notice("Waiting for replicas before shutting down.");
  repl.primary.waiters.requestAck();
  const deadline = Date.now() + timeout * 1000;
  while (lagging().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  for (const l of lagging()) {
    log.warning(
      `Lagging replica ${l.name} reported offset ${l.ackOff} behind master, lag=${
        unixTime() - l.ackTime
      }, state=online.`,
    );
  }
  const online = repl.primary.links.filter((l) => l.state === "online").length;
  log.notice(`${online - lagging().length} of ${online} replicas are synced when shutting down.`);
}

/** setMaster/offset/dataAge for cluster mode (CLUSTER REPLICATE, failover). */
function installClusterHooks(rt: ClusterRuntime, repl: Replication): void {
  rt.replication = {
    setMaster: (ip, port) => {
      if (ip === null) {
        if (repl.isReplica) {
          repl.replica.unsetMaster();
          log.notice("MASTER MODE enabled (cluster failover)");
        }
      } else if (repl.replica.host !== ip || repl.replica.port !== port) {
        repl.replica.setMaster(ip, port);
      }
    },
    offset: () => repl.offset(),
    dataAgeMs: () => repl.replica.dataAgeMs(),
  };
  // nodes.conf may have named our master before this hook existed: let the cluster cron re-point.
  rt.replicationTarget = "";
  restoreFromRdb(repl.server, rt.st.myself.isReplica);
}

register((server) => {
  const repl = replicationOf(server);
  const cfg = server.config;
  server.propagateSinks.push((dbIndex, argv) => repl.feedCommand(dbIndex, argv));
  server.infoSections.set("replication", () => replicationInfo(repl));
  roleHooks.reply = (c) => roleReply(repl, c);
  replicationHooks.gate = (c, spec, isWrite) => gate(repl, server, c, spec, isWrite);
  replicationHooks.afterCall = (c) => repl.primary.waiters.afterCall(c);
  const p = persistenceOf(server);
  p.replAux = () => repl.replAux();
  p.bgsaveListeners.push((ok) => repl.primary.fullSync.onBgsaveDone(ok));
  cfg.onChange("repl-backlog-size", (v) => void repl.backlog?.resize(Number(v)));

  let ticks = 0;
  server.cronHooks.push(() => {
    repl.primary.cronFast();
    repl.primary.waiters.flushGetAck();
    if (++ticks % 10 !== 0) return;
    repl.replica.cron();
    repl.primary.cron();
  });

  server.shutdownHooks.push(() => waitReplicasAtShutdown(server));

  const replicaof = cfg.get("replicaof") as string[];
  if (cfg.bool("cluster-enabled")) {
    // The cluster installer may run after this one (module order): hook in on the first tick.
    let hooked = false;
    const hook = () => {
      const rt = clusterOf(server);
      if (hooked || rt === null) return;
      hooked = true;
      installClusterHooks(rt, repl);
    };
    hook();
    server.cronHooks.push(hook);
    return;
  }
  restoreFromRdb(server, replicaof.length === 2);
  // Like Redis, the link is started by the cron (state "connect") once the server runs.
  if (replicaof.length === 2) repl.replica.configure(replicaof[0], Number(replicaof[1]));
}, rank("replication"));
