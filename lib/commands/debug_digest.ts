// DEBUG DIGEST / DIGEST-VALUE: Redis's scheme (SHA1 mixing; xor makes keys and unordered
// elements order-independent; a TTL adds "!!expire!!", not its value) so digests stay stable
// across save/reload and equal Redis's for the same dataset.
import type { Server } from "../server/server.ts";
import type { Db } from "../store/keyspace.ts";
import type { Value } from "../store/types.ts";
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { formatDouble } from "../protocol/reply.ts";
import { idMs, idSeq } from "../store/stream.ts";

function sha1(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha1").update(data).digest());
}

function bytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "latin1"));
}

function xorDigest(digest: Uint8Array, data: Uint8Array): void {
  const h = sha1(data);
  for (let i = 0; i < 20; i++) digest[i] ^= h[i];
}

function mixDigest(digest: Uint8Array, data: Uint8Array): void {
  xorDigest(digest, data);
  digest.set(sha1(digest));
}

function u32be(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

const TYPE_CODE: Record<string, number> = {
  string: 0,
  list: 1,
  set: 2,
  zset: 3,
  hash: 4,
  stream: 6,
};

/** Lower-case hex of a digest. */
export function hex(d: Uint8Array): string {
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Mixes one value (and whether its key has a TTL) into `digest`, like xorObjectDigest. */
export function xorValueDigest(db: Db, key: string, digest: Uint8Array, v: Value): void {
  const type = typeof v === "string" ? "string" : v.type;
  mixDigest(digest, u32be(TYPE_CODE[type] ?? 5));
  if (typeof v === "string") mixDigest(digest, bytes(v));
  else if (v.type === "list") {
    for (let i = 0; i < v.length; i++) mixDigest(digest, bytes(v.at(i)));
  } else if (v.type === "set") {
    for (const m of v.s) xorDigest(digest, bytes(m));
  } else if (v.type === "zset") {
    for (const [m, score] of v.dict) {
      const el = new Uint8Array(20);
      mixDigest(el, bytes(m));
      mixDigest(el, bytes(formatDouble(score)));
      xorDigest(digest, el);
    }
  } else if (v.type === "hash") {
    for (const [f, x] of v.m) {
      const el = new Uint8Array(20);
      mixDigest(el, bytes(f));
      mixDigest(el, bytes(x));
      xorDigest(digest, el);
    }
  } else if (v.type === "stream") {
    // Entries in ID order as "ms.seq" then field, value ...; groups are not part of it.
    for (let i = 0; i < v.ids.length; i++) {
      const id = v.ids[i];
      mixDigest(digest, bytes(`${idMs(id)}.${idSeq(id)}`));
      for (const x of v.entries[i]) mixDigest(digest, bytes(x));
    }
  }
  if (db.expires.has(key)) xorDigest(digest, bytes("!!expire!!"));
}

/** DEBUG DIGEST of the whole dataset: 40 zeros when empty. */
export function datasetDigest(server: Server): string {
  const final = new Uint8Array(20);
  for (const db of server.dbs) {
    if (db.dict.size === 0) continue;
    mixDigest(final, u32be(db.id));
    for (const [key, v] of db.dict) {
      const d = new Uint8Array(20);
      mixDigest(d, bytes(key));
      xorValueDigest(db, key, d, v);
      xorDigest(final, d);
    }
  }
  return hex(final);
}
