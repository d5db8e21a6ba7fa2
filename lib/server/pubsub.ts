// Pub/Sub registry: channel and pattern subscribers, shard channels, message delivery.
import type { Client } from "./client.ts";
import { globMatch } from "../commands/util.ts";

/** Channel/pattern subscriptions across all clients. */
export class PubSub {
  channels = new Map<string, Set<Client>>();
  patterns = new Map<string, Set<Client>>();
  shardChannels = new Map<string, Set<Client>>();

  /** Adds a subscription; returns false if it already existed. */
  subscribe(kind: "channel" | "pattern" | "shard", c: Client, name: string): boolean {
    const own = kind === "channel" ? c.channels : kind === "pattern" ? c.patterns : c.shardChannels;
    if (own.has(name)) return false;
    own.add(name);
    const reg = this.registry(kind);
    let set = reg.get(name);
    if (!set) reg.set(name, set = new Set());
    set.add(c);
    return true;
  }

  /** Removes a subscription; returns false if it did not exist. */
  unsubscribe(kind: "channel" | "pattern" | "shard", c: Client, name: string): boolean {
    const own = kind === "channel" ? c.channels : kind === "pattern" ? c.patterns : c.shardChannels;
    if (!own.delete(name)) return false;
    const reg = this.registry(kind);
    const set = reg.get(name);
    if (set) {
      set.delete(c);
      if (set.size === 0) reg.delete(name);
    }
    return true;
  }

  /** The registry for one kind of subscription. */
  registry(kind: "channel" | "pattern" | "shard"): Map<string, Set<Client>> {
    return kind === "channel" ? this.channels : kind === "pattern" ? this.patterns : this.shardChannels;
  }

  /** Drops every subscription of a client (disconnect, RESET). */
  removeClient(c: Client): void {
    for (const ch of [...c.channels]) this.unsubscribe("channel", c, ch);
    for (const p of [...c.patterns]) this.unsubscribe("pattern", c, p);
    for (const s of [...c.shardChannels]) this.unsubscribe("shard", c, s);
  }

  /** Delivers a message to channel and pattern subscribers; returns the receiver count. */
  publish(channel: string, message: string): number {
    let n = 0;
    const subs = this.channels.get(channel);
    if (subs) {
      for (const c of subs) {
        c.out.push(3);
        c.out.bulk("message");
        c.out.bulk(channel);
        c.out.bulk(message);
        c.flush();
        n++;
      }
    }
    for (const [pat, set] of this.patterns) {
      if (!globMatch(pat, channel)) continue;
      for (const c of set) {
        c.out.push(4);
        c.out.bulk("pmessage");
        c.out.bulk(pat);
        c.out.bulk(channel);
        c.out.bulk(message);
        c.flush();
        n++;
      }
    }
    return n;
  }

  /** Delivers a shard-channel message; returns the receiver count. */
  publishShard(channel: string, message: string): number {
    const subs = this.shardChannels.get(channel);
    if (!subs) return 0;
    for (const c of subs) {
      c.out.push(3);
      c.out.bulk("smessage");
      c.out.bulk(channel);
      c.out.bulk(message);
      c.flush();
    }
    return subs.size;
  }
}
