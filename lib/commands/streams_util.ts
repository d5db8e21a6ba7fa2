// Shared pieces of the stream commands (Redis t_stream.c): ID parsing with Redis's exact
// acceptance rules and error texts, lookups, entry replies, the range reader that also feeds
// consumer groups (streamReplyWithRange) and the propagation helpers of consumer groups.
import type { Client } from "../server/client.ts";
import {
  idText,
  MAX_ID,
  type StreamConsumer,
  type StreamGroup,
  type StreamId,
  streamId,
  type StreamNack,
  StreamValue,
  ZERO_ID,
} from "../store/stream.ts";
import { E_WRONGTYPE, parseInteger } from "./util.ts";
import { lookupRead } from "./keys_access.ts";

export const E_INVALID_ID = "ERR Invalid stream ID specified as stream command argument";
export const E_NO_SUCH_KEY = "ERR no such key";

const U64_MAX = (1n << 64n) - 1n;

/** The argument as C string functions see it: cut at the first NUL byte. */
export function cstr(s: string): string {
  const i = s.indexOf("\0");
  return i < 0 ? s : s.slice(0, i);
}

/** An option word as strcasecmp compares it. */
export function optName(s: string): string {
  return cstr(s).toLowerCase();
}

function isCSpace(ch: number): boolean {
  return ch === 32 || (ch >= 9 && ch <= 13);
}

/** Redis string2ull: string2ll first (negative values refused), then strtoull's rules (leading
 * blanks, a sign, leading zeros, up to 2^64-1; "-n" wraps around). null when invalid. */
export function parseU64(s: string): bigint | null {
  const ll = parseInteger(s);
  if (ll !== null) {
    const b = BigInt(s);
    return b < 0n ? null : b;
  }
  let i = 0;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (s[i] === "+" || s[i] === "-") {
    neg = s[i] === "-";
    i++;
  }
  const digits = s.slice(i);
  if (s.length === 0 || digits.length === 0 || !/^[0-9]+$/.test(digits)) return null;
  const v = BigInt(digits);
  if (v > U64_MAX) return null;
  return neg ? (U64_MAX + 1n - v) & U64_MAX : v;
}

/** A parsed ID; `seqGiven` is false for the "ms-*" form (XADD). */
export interface ParsedId {
  id: StreamId;
  seqGiven: boolean;
}

/** streamGenericParseIDOrReply: "ms-seq", "ms" (seq = missingSeq), "-" and "+" (unless strict),
 * "ms-*" when `allowAutoSeq`. Replies the error (when `c` is given) and returns null. */
export function parseId(
  c: Client | null,
  arg: string,
  missingSeq: bigint,
  strict: boolean,
  allowAutoSeq = false,
): ParsedId | null {
  const fail = (): null => {
    if (c !== null) c.error(E_INVALID_ID);
    return null;
  };
  if (arg.length > 127) return fail();
  const buf = cstr(arg);
  if (strict && (buf === "-" || buf === "+")) return fail();
  if (buf === "-") return { id: ZERO_ID, seqGiven: true };
  if (buf === "+") return { id: MAX_ID, seqGiven: true };
  const dash = buf.indexOf("-");
  const ms = parseU64(dash < 0 ? buf : buf.slice(0, dash));
  if (ms === null) return fail();
  if (dash < 0) return { id: streamId(ms, missingSeq), seqGiven: true };
  const rest = buf.slice(dash + 1);
  if (allowAutoSeq && rest === "*") return { id: streamId(ms, 0n), seqGiven: false };
  const seq = parseU64(rest);
  if (seq === null) return fail();
  return { id: streamId(ms, seq), seqGiven: true };
}

/** Strict ID (no "-" / "+"), or null after replying the error. */
export function parseStrictId(c: Client | null, arg: string, missingSeq = 0n): StreamId | null {
  const p = parseId(c, arg, missingSeq, true);
  return p === null ? null : p.id;
}

/** streamParseIntervalIDOrReply: "(" makes the bound exclusive (then "-" / "+" are invalid). */
export function parseIntervalId(
  c: Client,
  arg: string,
  missingSeq: bigint,
): { id: StreamId; exclude: boolean } | null {
  const exclude = arg.length > 1 && arg[0] === "(";
  const p = parseId(c, exclude ? arg.slice(1) : arg, missingSeq, exclude);
  return p === null ? null : { id: p.id, exclude };
}

/** Looks a key up as a stream: the value, undefined when missing, null after WRONGTYPE. `read`
 * is lookupKeyRead (hits/misses, keymiss event, access clock); otherwise lookupKeyWrite. */
export function lookupStream(
  c: Client,
  key: string,
  read: boolean,
): StreamValue | undefined | null {
  const v = read ? lookupRead(c, key) : c.db.get(key);
  if (v === undefined) return undefined;
  if (!(v instanceof StreamValue)) {
    c.error(E_WRONGTYPE);
    return null;
  }
  return v;
}

/** Before a change Redis makes without signalModifiedKey (consumer groups, XSETID): snapshots
 * copy the old value, WATCH is left alone. */
export function beforeGroupChange(c: Client, dbIndex: number, key: string): void {
  const s = c.server;
  if (s.snapshotObservers.size === 0) return;
  const db = s.dbs[dbIndex];
  for (const o of s.snapshotObservers) o.beforeModify(db, key);
}

/** stream-node-max-entries and stream-node-max-bytes. */
export function nodeLimits(c: Client): [number, number] {
  const cfg = c.server.config;
  return [cfg.int("stream-node-max-entries"), cfg.int("stream-node-max-bytes")];
}

/** An entry to reply: its ID and fields/values, or null for a PEL entry whose message is gone. */
export type Item = [StreamId, string[] | null];

/** Replies one entry as [id, [field, value ...]] ([id, nil] when the message is gone). */
export function replyItem(c: Client, item: Item): void {
  c.out.array(2);
  c.out.bulk(idText(item[0]));
  const fv = item[1];
  if (fv === null) return c.out.nullArray();
  c.out.array(fv.length);
  for (const x of fv) c.out.bulk(x);
}

/** Replies entries as an array. */
export function replyItems(c: Client, items: Item[]): void {
  c.out.array(items.length);
  for (const it of items) replyItem(c, it);
}

/** Keys of a PEL (or any ID-keyed map) in ID order; only the first `limit` when it is above 0. */
export function sortedIds<T>(m: Map<StreamId, T>, limit = 0): StreamId[] {
  const ids = [...m.keys()].sort();
  return limit > 0 ? ids.slice(0, limit) : ids;
}

/** streamRangeHasTombstones: whether [start, end] may hold a deleted entry. */
export function rangeHasTombstones(s: StreamValue, start: StreamId, end: StreamId): boolean {
  if (s.length === 0 || s.maxDeletedId === ZERO_ID) return false;
  if (s.firstId > s.maxDeletedId) return false;
  return start <= s.maxDeletedId && s.maxDeletedId <= end;
}

/** streamEstimateDistanceFromFirstEverEntry: the read counter of an ID, or -1 when unknown. */
export function estimateEntriesRead(s: StreamValue, id: StreamId): number {
  if (s.entriesAdded === 0) return 0;
  if (s.length === 0 && id <= s.lastId) return s.entriesAdded;
  if (id === s.lastId) return s.entriesAdded;
  if (id > s.lastId) return -1;
  if (s.maxDeletedId === ZERO_ID || s.maxDeletedId < s.firstId) {
    if (id < s.firstId) return s.entriesAdded - s.length;
    if (id === s.firstId) return s.entriesAdded - s.length + 1;
  }
  return -1;
}

/** The lag of a group (streamReplyWithCGLag), null when it cannot be known. */
export function groupLag(s: StreamValue, g: StreamGroup): number | null {
  if (s.entriesAdded === 0) return 0;
  if (g.entriesRead !== -1 && !rangeHasTombstones(s, g.lastId, MAX_ID)) {
    return s.entriesAdded - g.entriesRead;
  }
  const read = estimateEntriesRead(s, g.lastId);
  return read !== -1 ? s.entriesAdded - read : null;
}

/** Where a group read propagates to (streamPropInfo). */
export interface PropInfo {
  dbIndex: number;
  key: string;
  group: string;
}

/** streamPropagateXCLAIM: the idempotent XCLAIM that recreates a NACK on replicas. */
export function propagateXclaim(
  c: Client,
  p: PropInfo,
  g: StreamGroup,
  idArg: string,
  nack: StreamNack,
): void {
  c.server.propagate(p.dbIndex, [
    "XCLAIM",
    p.key,
    p.group,
    nack.consumer.name,
    "0",
    idArg,
    "TIME",
    String(nack.deliveryTime),
    "RETRYCOUNT",
    String(nack.deliveryCount),
    "FORCE",
    "JUSTID",
    "LASTID",
    idText(g.lastId),
  ]);
}

/** streamPropagateGroupID: XGROUP SETID with the group's last ID and read counter. */
export function propagateGroupId(c: Client, p: PropInfo, g: StreamGroup): void {
  c.server.propagate(p.dbIndex, [
    "XGROUP",
    "SETID",
    p.key,
    p.group,
    idText(g.lastId),
    "ENTRIESREAD",
    String(g.entriesRead),
  ]);
}

/** streamPropagateConsumerCreation: XGROUP CREATECONSUMER. */
export function propagateConsumerCreation(c: Client, p: PropInfo, name: string): void {
  c.server.propagate(p.dbIndex, ["XGROUP", "CREATECONSUMER", p.key, p.group, name]);
}

/** streamLookupConsumer: the consumer, its seen time refreshed unless `noRefresh`. */
export function lookupConsumer(
  g: StreamGroup,
  name: string,
  noRefresh = false,
): StreamConsumer | undefined {
  const cons = g.consumers.get(name);
  if (cons !== undefined && !noRefresh) cons.seenTime = Date.now();
  return cons;
}

/** Entries of s in [start, end] (inclusive), at most `count` (0 = all), optionally reversed. */
export function plainRange(
  s: StreamValue,
  start: StreamId,
  end: StreamId,
  count: number,
  rev: boolean,
): Item[] {
  const out: Item[] = [];
  if (start > end) return out;
  const from = s.lowerBound(start);
  let to = s.lowerBound(end);
  if (to < s.length && s.ids[to] === end) to++;
  if (!rev) {
    for (let i = from; i < to && (count === 0 || out.length < count); i++) {
      out.push([s.ids[i], s.entries[i]]);
    }
  } else {
    for (let i = to - 1; i >= from && (count === 0 || out.length < count); i--) {
      out.push([s.ids[i], s.entries[i]]);
    }
  }
  return out;
}

/** The delivery part of streamReplyWithRange for a group: entries after `start` (inclusive),
 * at most `count` (0 = all); moves the group's last ID and read counter, and unless `noack`
 * creates (or reassigns) the NACKs, propagating each as XCLAIM (and XGROUP SETID for NOACK). */
export function groupRead(
  c: Client,
  s: StreamValue,
  start: StreamId,
  count: number,
  g: StreamGroup,
  consumer: StreamConsumer,
  noack: boolean,
  p: PropInfo,
): Item[] {
  const out: Item[] = [];
  let propagateLastId = false;
  const now = Date.now();
  for (let i = s.lowerBound(start); i < s.length; i++) {
    const id = s.ids[i];
    if (id > g.lastId) {
      if (g.entriesRead !== -1 && !rangeHasTombstones(s, id, MAX_ID)) g.entriesRead++;
      else if (s.entriesAdded > 0) g.entriesRead = estimateEntriesRead(s, id);
      g.lastId = id;
      if (noack) propagateLastId = true;
    }
    out.push([id, s.entries[i]]);
    if (!noack) {
      let nack = g.pel.get(id);
      if (nack === undefined) {
        nack = { deliveryTime: now, deliveryCount: 1, consumer };
        g.pel.set(id, nack);
        consumer.pel.set(id, nack);
      } else {
        nack.consumer.pel.delete(id);
        nack.consumer = consumer;
        nack.deliveryTime = now;
        nack.deliveryCount = 1;
        consumer.pel.set(id, nack);
      }
      propagateXclaim(c, p, g, idText(id), nack);
    }
    if (count > 0 && out.length === count) break;
  }
  if (propagateLastId) propagateGroupId(c, p, g);
  return out;
}

/** streamReplyWithRangeFromConsumerPEL: the consumer's pending entries from `start`, at most
 * `count` (0 = all); each delivered again (time and count updated), or [id, nil] when the
 * message was deleted. */
export function historyRead(
  s: StreamValue,
  start: StreamId,
  count: number,
  consumer: StreamConsumer,
): Item[] {
  const out: Item[] = [];
  const now = Date.now();
  for (const id of sortedIds(consumer.pel)) {
    if (id < start) continue;
    if (count > 0 && out.length >= count) break;
    const i = s.indexOf(id);
    if (i < 0) out.push([id, null]);
    else {
      out.push([id, s.entries[i]]);
      const nack = consumer.pel.get(id)!;
      nack.deliveryTime = now;
      nack.deliveryCount++;
    }
  }
  return out;
}
