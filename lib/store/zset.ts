// Sorted set value. Minimal version: a member->score map plus a sorted array index.
// (The zsets family owner replaces the index with a skiplist keeping this API.)

/** Sorted set: member -> score, ordered by (score, member). */
export class ZSetValue {
  readonly type = "zset";
  dict = new Map<string, number>();
  /** Mirrors Redis's encoding state: listpack until it grows past zset-max-listpack-*. */
  listpack = true;
  private sorted: [string, number][] | null = [];

  /** Number of members. */
  get size(): number {
    return this.dict.size;
  }

  /** Inserts or updates a member's score. */
  add(member: string, score: number): void {
    this.dict.set(member, score);
    this.sorted = null;
  }

  /** Removes a member; returns true if it existed. */
  remove(member: string): boolean {
    const had = this.dict.delete(member);
    if (had) this.sorted = null;
    return had;
  }

  /** Score of a member. */
  score(member: string): number | undefined {
    return this.dict.get(member);
  }

  /** Members with scores in ascending (score, member) order. */
  entries(): [string, number][] {
    if (this.sorted === null) {
      this.sorted = [...this.dict].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    }
    return this.sorted;
  }
}
