// Pub/Sub registry: channel, pattern and shard-channel subscribers, message delivery, and the
// notify-keyspace-events flag parsing shared by CONFIG and keyspace notifications.
import type { Client } from "./client.ts";
import { globMatch } from "../commands/util.ts";
import { keyHashSlot } from "../cluster/slot.ts";

/** Which registry a subscription lives in. */
export type SubKind = "channel" | "pattern" | "shard";

/** Cluster hook: forwards a PUBLISH/SPUBLISH to other nodes over the bus. */
export type ClusterPublish = (channel: string, message: string, shard: boolean) => void;

// notify-keyspace-events classes as bits; the values match Redis's NOTIFY_* so the flag string
// round-trips exactly the way CONFIG GET shows it.
/** 'K': publish on __keyspace@<db>__:<key>. */
export const NOTIFY_KEYSPACE = 1 << 0;
/** 'E': publish on __keyevent@<db>__:<event>. */
export const NOTIFY_KEYEVENT = 1 << 1;
const CLASS_BITS: Record<string, number> = {
  g: 1 << 2,
  $: 1 << 3,
  l: 1 << 4,
  s: 1 << 5,
  h: 1 << 6,
  z: 1 << 7,
  x: 1 << 8,
  e: 1 << 9,
  t: 1 << 10,
  m: 1 << 11,
  d: 1 << 13,
  n: 1 << 14,
};
/** 'A' covers every class except key-miss (m) and new-key (n), as in Redis. */
const NOTIFY_ALL = CLASS_BITS.g | CLASS_BITS.$ | CLASS_BITS.l | CLASS_BITS.s | CLASS_BITS.h |
  CLASS_BITS.z | CLASS_BITS.x | CLASS_BITS.e | CLASS_BITS.t | CLASS_BITS.d;

/** Bit of one event class letter (g $ l s h z x e t m d n); 0 if unknown. */
export function notifyClassBit(cls: string): number {
  return CLASS_BITS[cls] ?? 0;
}

/** Parses a notify-keyspace-events string into flag bits; -1 on an unknown character. */
export function keyspaceEventsToFlags(s: string): number {
  let flags = 0;
  for (const ch of s) {
    if (ch === "A") flags |= NOTIFY_ALL;
    else if (ch === "K") flags |= NOTIFY_KEYSPACE;
    else if (ch === "E") flags |= NOTIFY_KEYEVENT;
    else if (CLASS_BITS[ch] !== undefined) flags |= CLASS_BITS[ch];
    else return -1;
  }
  return flags;
}

/** Canonical flag string, the form CONFIG GET returns ("KEA" -> "AKE"). */
export function keyspaceFlagsToString(flags: number): string {
  let out = "";
  if ((flags & NOTIFY_ALL) === NOTIFY_ALL) out += "A";
  else {
    for (const ch of "g$lshzxetdn") if (flags & CLASS_BITS[ch]) out += ch;
  }
  if (flags & NOTIFY_KEYSPACE) out += "K";
  if (flags & NOTIFY_KEYEVENT) out += "E";
  if (flags & CLASS_BITS.m) out += "m";
  return out;
}

/** Normalizes a notify-keyspace-events value into the form the config stores; null when it has
 * an invalid character. That form keeps every flag: Redis's canonical string drops 'n' next to
 * 'A' ("KEAn" reads back "AKE"), yet Redis keeps the flag bits and still sends "new" events, so
 * the stored form appends the 'n' and CONFIG GET / REWRITE show keyspaceEventsDisplay(). */
export function normalizeKeyspaceEvents(s: string): string | null {
  const f = keyspaceEventsToFlags(s);
  if (f < 0) return null;
  const canonical = keyspaceFlagsToString(f);
  return (f & NOTIFY_ALL) === NOTIFY_ALL && f & CLASS_BITS.n ? canonical + "n" : canonical;
}

/** The stored notify-keyspace-events value as Redis shows it (CONFIG GET, CONFIG REWRITE). */
export function keyspaceEventsDisplay(stored: string): string {
  return keyspaceFlagsToString(Math.max(0, keyspaceEventsToFlags(stored)));
}

/** Starts a push message for `c`; returns the offset to hand to endPush. */
function beginPush(c: Client, n: number): number {
  const start = c.out.len;
  c.out.push(n);
  return start;
}

/** Ends a push message: it survives CLIENT REPLY OFF/SKIP, and other clients get flushed. */
function endPush(c: Client, start: number): void {
  if (c.pushKeep) c.pushKeep.push([start, c.out.len]);
  // The executing client is flushed by its read loop once the command finishes; flushing it
  // here would race with the listener trimming suppressed replies.
  if (c.server.currentClient !== c) c.flush();
}

/** Channel/pattern subscriptions across all clients. */
export class PubSub {
  channels = new Map<string, Set<Client>>();
  patterns = new Map<string, Set<Client>>();
  shardChannels = new Map<string, Set<Client>>();
  /** Set by cluster mode to forward publishes to the other nodes. */
  clusterPublish: ClusterPublish | null = null;

  /** Adds a subscription and replies the confirmation; returns false if it already existed. */
  subscribe(kind: SubKind, c: Client, name: string): boolean {
    const own = ownSet(c, kind);
    let added = false;
    if (!own.has(name)) {
      own.add(name);
      const reg = this.registry(kind);
      let set = reg.get(name);
      if (!set) reg.set(name, set = new Set());
      set.add(c);
      added = true;
    }
    const label = kind === "channel"
      ? "subscribe"
      : kind === "pattern"
      ? "psubscribe"
      : "ssubscribe";
    this.confirm(c, kind, label, name);
    return added;
  }

  /** Removes a subscription, replying the confirmation when `notify`; false if it did not exist. */
  unsubscribe(kind: SubKind, c: Client, name: string, notify = true): boolean {
    const own = ownSet(c, kind);
    const removed = own.delete(name);
    if (removed) {
      const reg = this.registry(kind);
      const set = reg.get(name);
      if (set) {
        set.delete(c);
        if (set.size === 0) reg.delete(name);
      }
    }
    if (notify) this.confirm(c, kind, unsubLabel(kind), name);
    return removed;
  }

  /** Unsubscribes from everything of one kind; with nothing subscribed it still replies once. */
  unsubscribeAll(kind: SubKind, c: Client, notify = true): number {
    let n = 0;
    for (const name of [...ownSet(c, kind)]) if (this.unsubscribe(kind, c, name, notify)) n++;
    if (notify && n === 0) this.confirm(c, kind, unsubLabel(kind), null);
    return n;
  }

  /** The registry for one kind of subscription. */
  registry(kind: SubKind): Map<string, Set<Client>> {
    return kind === "channel"
      ? this.channels
      : kind === "pattern"
      ? this.patterns
      : this.shardChannels;
  }

  /** Drops every subscription of a client silently (disconnect, RESET). */
  removeClient(c: Client): void {
    this.unsubscribeAll("channel", c, false);
    this.unsubscribeAll("pattern", c, false);
    this.unsubscribeAll("shard", c, false);
  }

  /** Delivers a message to channel and pattern subscribers; returns the receiver count. */
  publish(channel: string, message: string): number {
    let n = 0;
    const subs = this.channels.get(channel);
    if (subs) {
      for (const c of subs) {
        const at = beginPush(c, 3);
        c.out.bulk("message");
        c.out.bulk(channel);
        c.out.bulk(message);
        endPush(c, at);
        n++;
      }
    }
    if (this.patterns.size === 0) return n;
    for (const [pat, set] of this.patterns) {
      if (!globMatch(pat, channel)) continue;
      for (const c of set) {
        const at = beginPush(c, 4);
        c.out.bulk("pmessage");
        c.out.bulk(pat);
        c.out.bulk(channel);
        c.out.bulk(message);
        endPush(c, at);
        n++;
      }
    }
    return n;
  }

  /** Delivers a shard-channel message (patterns never match shard channels); returns receivers. */
  publishShard(channel: string, message: string): number {
    const subs = this.shardChannels.get(channel);
    if (!subs) return 0;
    for (const c of subs) {
      const at = beginPush(c, 3);
      c.out.bulk("smessage");
      c.out.bulk(channel);
      c.out.bulk(message);
      endPush(c, at);
    }
    return subs.size;
  }

  /** Shard channels hashing to a slot (cluster: the slot moved away). */
  shardChannelsInSlot(slot: number): string[] {
    const out: string[] = [];
    for (const ch of this.shardChannels.keys()) if (keyHashSlot(ch) === slot) out.push(ch);
    return out;
  }

  /** Unsubscribes every client of a shard channel, telling each (slot no longer served here). */
  shardUnsubscribeAllClients(channel: string): void {
    const subs = this.shardChannels.get(channel);
    if (!subs) return;
    for (const c of [...subs]) this.unsubscribe("shard", c, channel, true);
  }

  /** Writes a (un)subscribe confirmation with the client's remaining count. */
  private confirm(c: Client, kind: SubKind, label: string, name: string | null): void {
    const count = kind === "shard" ? c.shardChannels.size : c.channels.size + c.patterns.size;
    const at = beginPush(c, 3);
    c.out.bulk(label);
    if (name === null) c.out.null();
    else c.out.bulk(name);
    c.out.int(count);
    endPush(c, at);
  }
}

function ownSet(c: Client, kind: SubKind): Set<string> {
  return kind === "channel" ? c.channels : kind === "pattern" ? c.patterns : c.shardChannels;
}

function unsubLabel(kind: SubKind): string {
  return kind === "channel" ? "unsubscribe" : kind === "pattern" ? "punsubscribe" : "sunsubscribe";
}
