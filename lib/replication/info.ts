// INFO replication and ROLE, field for field as Redis 7.0's genRedisInfoString / roleCommand.
import type { Client } from "../server/client.ts";
import type { Replication } from "./state.ts";
import { unixTime } from "./wire.ts";

/** The body of INFO's "# Replication" section. */
export function replicationInfo(repl: Replication): string {
  const s = repl.server;
  const cfg = s.config;
  const r = repl.replica;
  const now = unixTime();
  const out: string[] = [`role:${repl.isReplica ? "slave" : "master"}`];
  if (r.host !== null) {
    let processed = 1;
    let read = 1;
    if (r.master) {
      processed = r.reploff;
      read = r.readReploff;
    } else if (r.cached) processed = read = r.cached.reploff;
    out.push(
      `master_host:${r.host}`,
      `master_port:${r.port}`,
      `master_link_status:${r.state === "connected" ? "up" : "down"}`,
      `master_last_io_seconds_ago:${r.master ? Math.floor((Date.now() - r.lastIo) / 1000) : -1}`,
      `master_sync_in_progress:${r.state === "transfer" ? 1 : 0}`,
      `slave_read_repl_offset:${read}`,
      `slave_repl_offset:${processed}`,
    );
    if (r.state === "transfer") {
      const total = Math.max(0, r.transferSize);
      const perc = total > 0 ? (r.transferRead / total) * 100 : 0;
      out.push(
        `master_sync_total_bytes:${r.transferSize}`,
        `master_sync_read_bytes:${r.transferRead}`,
        `master_sync_left_bytes:${r.transferSize - r.transferRead}`,
        `master_sync_perc:${perc.toFixed(2)}`,
        `master_sync_last_io_seconds_ago:${now - r.transferLastIo}`,
      );
    }
    if (r.state !== "connected") {
      out.push(`master_link_down_since_seconds:${r.downSince ? now - r.downSince : -1}`);
    }
    out.push(
      `slave_priority:${cfg.int("replica-priority")}`,
      `slave_read_only:${cfg.bool("replica-read-only") ? 1 : 0}`,
      `replica_announced:${cfg.bool("replica-announced") ? 1 : 0}`,
    );
  }
  const links = repl.primary.links;
  out.push(`connected_slaves:${links.length}`);
  if (cfg.int("min-replicas-to-write") > 0 && cfg.int("min-replicas-max-lag") > 0) {
    out.push(`min_slaves_good_slaves:${repl.primary.goodReplicas}`);
  }
  let id = 0;
  for (const l of links) {
    const state = l.state === "online"
      ? "online"
      : l.state === "send_bulk"
      ? "send_bulk"
      : "wait_bgsave";
    const lag = l.state === "online" ? now - l.ackTime : 0;
    out.push(
      `slave${id++}:ip=${l.ip},port=${l.announced.listeningPort},state=${state},offset=${l.ackOff},lag=${lag}`,
    );
  }
  const bl = repl.backlog;
  out.push(
    "master_failover_state:no-failover",
    `master_replid:${repl.replid}`,
    `master_replid2:${repl.replid2}`,
    `master_repl_offset:${repl.masterReplOffset}`,
    `second_repl_offset:${repl.secondReplOffset}`,
    `repl_backlog_active:${bl ? 1 : 0}`,
    `repl_backlog_size:${cfg.int("repl-backlog-size")}`,
    `repl_backlog_first_byte_offset:${bl ? bl.offset : 0}`,
    `repl_backlog_histlen:${bl ? bl.histlen : 0}`,
  );
  return out.join("\r\n");
}

/** ROLE: ["master", offset, [[ip, port, offset]...]] or ["slave", host, port, state, offset]. */
export function roleReply(repl: Replication, c: Client): void {
  const r = repl.replica;
  if (r.host === null) {
    const online = repl.primary.links.filter((l) => l.state === "online");
    c.out.array(3);
    c.out.bulk("master");
    c.out.int(repl.masterReplOffset);
    c.out.array(online.length);
    for (const l of online) {
      c.out.array(3);
      c.out.bulk(l.ip);
      c.out.bulk(String(l.announced.listeningPort));
      c.out.bulk(String(l.ackOff));
    }
    return;
  }
  const state = r.state === "transfer" ? "sync" : r.state;
  c.out.array(5);
  c.out.bulk("slave");
  c.out.bulk(r.host);
  c.out.int(r.port);
  c.out.bulk(state);
  c.out.int(r.master ? r.reploff : -1);
}
