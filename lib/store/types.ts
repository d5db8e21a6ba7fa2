// Value types held in the keyspace. Strings are JS latin1 strings (one char per byte).
import type { ZSetValue } from "./zset.ts";

// Containers are small classes so OBJECT ENCODING and RDB can see which encoding Redis would use.

/** Hash: field -> value. `listpack` mirrors Redis's compact-encoding state. */
export class HashValue {
  readonly type = "hash";
  m = new Map<string, string>();
  listpack = true;
}

/** List as a deque (array with a moving head). Redis 7.0 always reports "quicklist". */
export class ListValue {
  readonly type = "list";
  a: string[] = [];
  head = 0;
  get length(): number {
    return this.a.length - this.head;
  }
  /** Element at index i (0-based from the head). */
  at(i: number): string {
    return this.a[this.head + i];
  }
  /** Replaces element i. */
  setAt(i: number, v: string): void {
    this.a[this.head + i] = v;
  }
  /** Pushes to the tail. */
  pushTail(v: string): void {
    this.a.push(v);
  }
  /** Pushes to the head. */
  pushHead(v: string): void {
    if (this.head > 0) this.a[--this.head] = v;
    else {
      // Reserve headroom proportional to size so repeated LPUSH stays amortised O(1).
      const room = Math.max(16, this.a.length);
      const na = new Array<string>(room + this.a.length);
      for (let i = 0; i < this.a.length; i++) na[room + i] = this.a[i];
      this.a = na;
      this.head = room - 1;
      this.a[this.head] = v;
    }
  }
  /** Pops from the head. */
  popHead(): string | undefined {
    if (this.length === 0) return undefined;
    const v = this.a[this.head];
    (this.a as (string | undefined)[])[this.head] = undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.a.length) this.compact();
    return v;
  }
  /** Pops from the tail. */
  popTail(): string | undefined {
    if (this.length === 0) return undefined;
    return this.a.pop();
  }
  /** Copies the live elements into a plain array. */
  toArray(): string[] {
    return this.a.slice(this.head);
  }
  /** Replaces content with the given array. */
  replace(items: string[]): void {
    this.a = items;
    this.head = 0;
  }
  private compact(): void {
    this.a = this.a.slice(this.head);
    this.head = 0;
  }
}

/** Set of members. `enc` mirrors Redis 7.0: intset or hashtable. */
export class SetValue {
  readonly type = "set";
  s = new Set<string>();
  enc: "intset" | "hashtable" = "intset";
}


/** Stream placeholder type tag (streams are a later feature). */
export interface StreamLike {
  readonly type: "stream";
}

/** Any value stored under a key. */
export type Value = string | HashValue | ListValue | SetValue | ZSetValue | StreamLike;

/** The Redis type name of a value, as TYPE reports it. */
export function typeName(v: Value): string {
  return typeof v === "string" ? "string" : v.type;
}
