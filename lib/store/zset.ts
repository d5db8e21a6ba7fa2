// Sorted set value: a member -> score KeyDict (Redis's dict) plus an ordered index by (score, member).
// The index is a list of sorted chunks (at most CHUNK_MAX members each, scores kept in unboxed
// double arrays) with the last key of every chunk for binary search and a Fenwick tree of chunk
// sizes for ranks. Rank, lookup and range queries are O(log n); an insert or delete moves at most
// CHUNK_MAX array slots. In V8 this beats a pointer-based skiplist by several times: a skiplist
// hop costs several dependent cache misses (node, level array, boxed score) per level.
// Members are latin1 byte strings, so `<` on strings compares bytes like memcmp.
import { KeyDict } from "./dict.ts";

/** Largest chunk; a chunk splits in two halves beyond it. */
const CHUNK_MAX = 256;
/** A chunk shorter than this is merged with a neighbour when both fit in one chunk. */
const CHUNK_MIN = 32;

/** One sorted run of the index. */
interface Chunk {
  sc: number[];
  el: string[];
}

/** A lexicographic range bound: `inf` -1 is "-" (below everything), 1 is "+" (above everything). */
export interface LexBound {
  s: string;
  ex: boolean;
  inf: -1 | 0 | 1;
}

/** Compares a member with a lex bound like Redis's sdscmplex. */
export function cmpLex(v: string, b: LexBound): number {
  if (b.inf !== 0) return -b.inf;
  return v < b.s ? -1 : v > b.s ? 1 : 0;
}

/** True when (s1, e1) sorts before (s2, e2). */
function before(s1: number, e1: string, s2: number, e2: string): boolean {
  return s1 < s2 || (s1 === s2 && e1 < e2);
}

/** Sorted set: member -> score, ordered by (score, member). */
export class ZSetValue {
  readonly type = "zset";
  /** member -> score. Read it freely; mutate only through add/insert/remove so the index stays right. */
  dict = new KeyDict<number>();
  /** Mirrors Redis's encoding state: listpack until it grows past zset-max-listpack-*. */
  listpack = true;
  /** Score of the member returned by the last popFirst/popLast. */
  popScore = 0;
  private chunks: Chunk[] = [];
  /** Last (highest) score and member of each chunk. */
  private maxSc: number[] = [];
  private maxEl: string[] = [];
  /** Fenwick tree over chunk sizes (1-based); null after a structural change until next use. */
  private fen: Int32Array | null = null;
  // ZSCAN support (built lazily on the first scan): members in insertion order with increasing
  // sequence numbers. A cursor is a sequence number, so members present for the whole scan are
  // returned even when others are removed or added meanwhile. Stale entries are skipped.
  private scanOrder: string[] | null = null;
  private scanSeq: number[] | null = null;
  private nextSeq = 1;

  /** Number of members. */
  get size(): number {
    return this.dict.size;
  }

  /** Score of a member. */
  score(member: string): number | undefined {
    return this.dict.get(member);
  }

  /** Inserts or updates a member's score. */
  add(member: string, score: number): void {
    const cur = this.dict.get(member);
    if (cur === undefined) this.insert(member, score);
    else if (cur !== score) this.updateScore(member, cur, score);
  }

  /** Inserts a member known to be absent. */
  insert(member: string, score: number): void {
    if (this.listpack && score === 0) score = 0; // a listpack stores -0 as integer 0
    this.dict.set(member, score);
    if (this.scanOrder !== null) this.scanPush(member);
    this.ixInsert(score, member);
  }

  /** Changes the score of a present member from `cur` to `score`. */
  updateScore(member: string, cur: number, score: number): void {
    if (this.listpack && score === 0) score = 0;
    this.dict.set(member, score);
    this.ixRemove(cur, member);
    this.ixInsert(score, member);
  }

  /** Removes a member; returns true if it existed. */
  remove(member: string): boolean {
    const score = this.dict.get(member);
    if (score === undefined) return false;
    this.dict.delete(member);
    this.ixRemove(score, member);
    return true;
  }

  /** Switches to the listpack state, normalising -0 scores as a listpack would store them. */
  toListpack(): void {
    this.listpack = true;
    for (const ch of this.chunks) {
      for (let i = 0; i < ch.sc.length; i++) {
        if (Object.is(ch.sc[i], -0)) {
          ch.sc[i] = 0;
          this.dict.set(ch.el[i], 0);
        }
      }
    }
    for (let i = 0; i < this.maxSc.length; i++) if (Object.is(this.maxSc[i], -0)) this.maxSc[i] = 0;
  }

  /** 0-based rank of a member (from the highest when reverse), or -1 when absent. */
  rank(member: string, reverse = false): number {
    const score = this.dict.get(member);
    if (score === undefined) return -1;
    const ci = this.chunkFor(score, member);
    const r = this.prefix(ci) + this.posIn(this.chunks[ci], score, member);
    return reverse ? this.dict.size - 1 - r : r;
  }

  /** Member at a 0-based rank (undefined when out of range). */
  memberAt(rank: number): string | undefined {
    if (rank < 0 || rank >= this.dict.size) return undefined;
    const ci = this.locate(rank);
    return this.chunks[ci].el[this.locOff];
  }

  /** Calls fn for `count` members from rank `start`, upwards, or downwards when rev; fn may
   * return false to stop. */
  range(
    start: number,
    count: number,
    rev: boolean,
    fn: (member: string, score: number) => boolean | void,
  ): void {
    if (count <= 0 || start < 0 || start >= this.dict.size) return;
    let ci = this.locate(start);
    let i = this.locOff;
    const chunks = this.chunks;
    if (!rev) {
      while (count > 0 && ci < chunks.length) {
        const ch = chunks[ci];
        const n = ch.el.length;
        for (; i < n && count > 0; i++, count--) if (fn(ch.el[i], ch.sc[i]) === false) return;
        ci++;
        i = 0;
      }
    } else {
      while (count > 0 && ci >= 0) {
        const ch = chunks[ci];
        for (; i >= 0 && count > 0; i--, count--) if (fn(ch.el[i], ch.sc[i]) === false) return;
        ci--;
        if (ci >= 0) i = chunks[ci].el.length - 1;
      }
    }
  }

  /** Number of members below a score bound: score < min, or score <= min when exclusive. */
  countBelowScore(min: number, ex: boolean): number {
    // First chunk whose last score is not below the bound.
    const ms = this.maxSc;
    let lo = 0;
    let hi = ms.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ex ? ms[mid] <= min : ms[mid] < min) lo = mid + 1;
      else hi = mid;
    }
    if (lo === ms.length) return this.dict.size;
    const sc = this.chunks[lo].sc;
    let a = 0;
    let b = sc.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (ex ? sc[mid] <= min : sc[mid] < min) a = mid + 1;
      else b = mid;
    }
    return this.prefix(lo) + a;
  }

  /** Number of members up to a score bound: score <= max, or score < max when exclusive. */
  countThroughScore(max: number, ex: boolean): number {
    return this.countBelowScore(max, !ex);
  }

  /** Number of members that sort before a lex min bound (assumes equal scores, like Redis). */
  countBelowLex(min: LexBound): number {
    return this.countLex(min, min.ex);
  }

  /** Number of members that sort up to a lex max bound. */
  countThroughLex(max: LexBound): number {
    return this.countLex(max, !max.ex);
  }

  /** Members e with cmpLex(e, b) < 0, or <= 0 when `orEqual`. */
  private countLex(b: LexBound, orEqual: boolean): number {
    const me = this.maxEl;
    let lo = 0;
    let hi = me.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = cmpLex(me[mid], b);
      if (orEqual ? c <= 0 : c < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === me.length) return this.dict.size;
    const el = this.chunks[lo].el;
    let a = 0;
    let z = el.length;
    while (a < z) {
      const mid = (a + z) >>> 1;
      const c = cmpLex(el[mid], b);
      if (orEqual ? c <= 0 : c < 0) a = mid + 1;
      else z = mid;
    }
    return this.prefix(lo) + a;
  }

  /** Removes the members at 0-based ranks start..end (inclusive, already clamped); returns count. */
  deleteRange(start: number, end: number): number {
    if (start < 0) start = 0;
    if (end >= this.dict.size) end = this.dict.size - 1;
    let todo = end - start + 1;
    if (todo <= 0) return 0;
    const removed = todo;
    let ci = this.locate(start);
    let off = this.locOff;
    while (todo > 0) {
      const ch = this.chunks[ci];
      const k = Math.min(todo, ch.el.length - off);
      for (let i = off; i < off + k; i++) this.dict.delete(ch.el[i]);
      ch.el.splice(off, k);
      ch.sc.splice(off, k);
      todo -= k;
      if (ch.el.length === 0) {
        this.dropChunk(ci);
      } else {
        this.setMax(ci);
        ci++;
      }
      off = 0;
    }
    this.fen = null;
    this.rebalance();
    return removed;
  }

  /** Removes and returns the lowest member (its score goes to popScore). */
  popFirst(): string | undefined {
    if (this.chunks.length === 0) return undefined;
    const ch = this.chunks[0];
    const m = ch.el.shift()!;
    this.popScore = ch.sc.shift()!;
    this.dict.delete(m);
    this.afterRemove(0, ch);
    return m;
  }

  /** Removes and returns the highest member (its score goes to popScore). */
  popLast(): string | undefined {
    const ci = this.chunks.length - 1;
    if (ci < 0) return undefined;
    const ch = this.chunks[ci];
    const m = ch.el.pop()!;
    this.popScore = ch.sc.pop()!;
    this.dict.delete(m);
    this.afterRemove(ci, ch);
    return m;
  }

  /** Members with scores in ascending (score, member) order. */
  entries(): [string, number][] {
    const out: [string, number][] = new Array(this.dict.size);
    let k = 0;
    for (const ch of this.chunks) {
      for (let i = 0; i < ch.el.length; i++) out[k++] = [ch.el[i], ch.sc[i]];
    }
    return out;
  }

  /** Calls fn for each member in ascending order. */
  forEach(fn: (member: string, score: number) => void): void {
    for (const ch of this.chunks) for (let i = 0; i < ch.el.length; i++) fn(ch.el[i], ch.sc[i]);
  }

  /** Deep copy with the same encoding flag (COPY, snapshots). */
  clone(): ZSetValue {
    const z = new ZSetValue();
    z.listpack = this.listpack;
    z.dict = this.dict.clone();
    z.chunks = this.chunks.map((ch) => ({ sc: ch.sc.slice(), el: ch.el.slice() }));
    z.maxSc = this.maxSc.slice();
    z.maxEl = this.maxEl.slice();
    return z;
  }

  /** Scans from a cursor, calling fn for at most `count` live members; returns the next cursor (0 = done). */
  scan(cursor: number, count: number, fn: (member: string, score: number) => void): number {
    if (this.scanOrder === null) this.scanInit();
    const order = this.scanOrder!;
    const seq = this.scanSeq!;
    let lo = 0;
    let hi = seq.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seq[mid] < cursor) lo = mid + 1;
      else hi = mid;
    }
    let n = 0;
    for (let i = lo; i < order.length; i++) {
      if (n >= count) return seq[i];
      const s = this.dict.get(order[i]);
      if (s === undefined) continue;
      fn(order[i], s);
      n++;
    }
    return 0;
  }

  private scanInit(): void {
    this.scanOrder = [];
    this.scanSeq = [];
    for (const m of this.dict.keys()) {
      this.scanOrder.push(m);
      this.scanSeq.push(this.nextSeq++);
    }
  }

  private scanPush(member: string): void {
    const order = this.scanOrder!;
    const seq = this.scanSeq!;
    order.push(member);
    seq.push(this.nextSeq++);
    if (order.length > 2 * this.dict.size + 64) {
      // Compact: keep the newest entry of each live member, preserving sequence numbers.
      const seen = new Set<string>();
      const keep: number[] = [];
      for (let i = order.length - 1; i >= 0; i--) {
        const m = order[i];
        if (seen.has(m) || !this.dict.has(m)) continue;
        seen.add(m);
        keep.push(i);
      }
      keep.reverse();
      this.scanOrder = keep.map((i) => order[i]);
      this.scanSeq = keep.map((i) => seq[i]);
    }
  }

  // ---- index internals ----

  /** Index of the first chunk whose last key is >= (score, ele); the last chunk when none is. */
  private chunkFor(score: number, ele: string): number {
    const ms = this.maxSc;
    const me = this.maxEl;
    let lo = 0;
    let hi = ms.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(ms[mid], me[mid], score, ele)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Position of the first key >= (score, ele) inside a chunk. */
  private posIn(ch: Chunk, score: number, ele: string): number {
    const sc = ch.sc;
    const el = ch.el;
    let lo = 0;
    let hi = sc.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(sc[mid], el[mid], score, ele)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private ixInsert(score: number, ele: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push({ sc: [score], el: [ele] });
      this.maxSc.push(score);
      this.maxEl.push(ele);
      this.fen = null;
      return;
    }
    const ci = this.chunkFor(score, ele);
    const ch = this.chunks[ci];
    const pos = this.posIn(ch, score, ele);
    if (pos === ch.el.length) {
      ch.sc.push(score);
      ch.el.push(ele);
      this.maxSc[ci] = score;
      this.maxEl[ci] = ele;
    } else {
      // Shift in place: splice would allocate its (empty) result array on every call.
      const sc = ch.sc;
      const el = ch.el;
      let i = el.length;
      sc.push(sc[i - 1]);
      el.push(el[i - 1]);
      for (i--; i > pos; i--) {
        sc[i] = sc[i - 1];
        el[i] = el[i - 1];
      }
      sc[pos] = score;
      el[pos] = ele;
    }
    if (ch.el.length > CHUNK_MAX) this.split(ci);
    else if (this.fen !== null) this.fenAdd(ci, 1);
  }

  private ixRemove(score: number, ele: string): void {
    const ci = this.chunkFor(score, ele);
    const ch = this.chunks[ci];
    const pos = this.posIn(ch, score, ele);
    if (pos === ch.el.length - 1) {
      ch.el.pop();
      ch.sc.pop();
    } else {
      const sc = ch.sc;
      const el = ch.el;
      const n = el.length - 1;
      for (let i = pos; i < n; i++) {
        sc[i] = sc[i + 1];
        el[i] = el[i + 1];
      }
      sc.pop();
      el.pop();
    }
    this.afterRemove(ci, ch);
  }

  /** Fixes the chunk's max, drops it when empty, merges it when small. */
  private afterRemove(ci: number, ch: Chunk): void {
    if (ch.el.length === 0) {
      this.dropChunk(ci);
      this.fen = null;
      return;
    }
    this.setMax(ci);
    if (ch.el.length < CHUNK_MIN && this.chunks.length > 1) {
      this.mergeAround(ci);
    } else if (this.fen !== null) this.fenAdd(ci, -1);
  }

  private setMax(ci: number): void {
    const ch = this.chunks[ci];
    const n = ch.el.length - 1;
    this.maxSc[ci] = ch.sc[n];
    this.maxEl[ci] = ch.el[n];
  }

  private dropChunk(ci: number): void {
    this.chunks.splice(ci, 1);
    this.maxSc.splice(ci, 1);
    this.maxEl.splice(ci, 1);
  }

  private split(ci: number): void {
    const ch = this.chunks[ci];
    const half = ch.el.length >>> 1;
    const right: Chunk = { sc: ch.sc.splice(half), el: ch.el.splice(half) };
    this.chunks.splice(ci + 1, 0, right);
    this.maxSc.splice(ci + 1, 0, right.sc[right.sc.length - 1]);
    this.maxEl.splice(ci + 1, 0, right.el[right.el.length - 1]);
    this.setMax(ci);
    this.fen = null;
  }

  /** Merges a small chunk into a neighbour when the result fits in one chunk. */
  private mergeAround(ci: number): void {
    const chunks = this.chunks;
    const ch = chunks[ci];
    if (ci + 1 < chunks.length && ch.el.length + chunks[ci + 1].el.length <= CHUNK_MAX) {
      const nx = chunks[ci + 1];
      for (let i = 0; i < nx.el.length; i++) {
        ch.sc.push(nx.sc[i]);
        ch.el.push(nx.el[i]);
      }
      this.dropChunk(ci + 1);
      this.setMax(ci);
      this.fen = null;
    } else if (ci > 0 && ch.el.length + chunks[ci - 1].el.length <= CHUNK_MAX) {
      const pv = chunks[ci - 1];
      for (let i = 0; i < ch.el.length; i++) {
        pv.sc.push(ch.sc[i]);
        pv.el.push(ch.el[i]);
      }
      this.dropChunk(ci);
      this.setMax(ci - 1);
      this.fen = null;
    } else if (this.fen !== null) this.fenAdd(ci, -1);
  }

  /** Merges runs of small chunks after a bulk delete. */
  private rebalance(): void {
    for (let ci = 0; ci < this.chunks.length; ci++) {
      while (
        this.chunks[ci].el.length < CHUNK_MIN && ci + 1 < this.chunks.length &&
        this.chunks[ci].el.length + this.chunks[ci + 1].el.length <= CHUNK_MAX
      ) {
        const ch = this.chunks[ci];
        const nx = this.chunks[ci + 1];
        for (let i = 0; i < nx.el.length; i++) {
          ch.sc.push(nx.sc[i]);
          ch.el.push(nx.el[i]);
        }
        this.dropChunk(ci + 1);
        this.setMax(ci);
      }
    }
    this.fen = null;
  }

  private fenBuild(): Int32Array {
    const n = this.chunks.length;
    const f = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) {
      const j = i + 1;
      f[j] += this.chunks[i].el.length;
      const p = j + (j & -j);
      if (p <= n) f[p] += f[j];
    }
    this.fen = f;
    return f;
  }

  private fenAdd(ci: number, d: number): void {
    const f = this.fen!;
    for (let j = ci + 1; j < f.length; j += j & -j) f[j] += d;
  }

  /** Number of members in chunks before ci. */
  private prefix(ci: number): number {
    if (ci === 0) return 0;
    const f = this.fen ?? this.fenBuild();
    let s = 0;
    for (let j = ci; j > 0; j -= j & -j) s += f[j];
    return s;
  }

  /** Offset inside the chunk found by the last locate(). */
  private locOff = 0;

  /** Chunk holding 0-based rank r (which must be in range); the offset goes to locOff. */
  private locate(r: number): number {
    const first = this.chunks[0].el.length;
    if (r < first) {
      this.locOff = r;
      return 0;
    }
    const f = this.fen ?? this.fenBuild();
    const n = f.length - 1;
    let pos = 0;
    let rem = r;
    let step = 1;
    while (step * 2 <= n) step *= 2;
    for (; step > 0; step >>= 1) {
      const nx = pos + step;
      if (nx <= n && f[nx] <= rem) {
        pos = nx;
        rem -= f[nx];
      }
    }
    this.locOff = rem;
    return pos;
  }
}
