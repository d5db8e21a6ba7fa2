// Per-command latency histograms behind INFO latencystats (latency-tracking). Same shape as the
// HDR histogram Redis 7.0 keeps per command (1 ns .. 1 s, 2 significant digits): values below
// 256 ns are counted exactly, above that each power of two is split into 128 equal buckets, so a
// reported percentile is the top of the bucket holding it (at most 1/128 above the true value).

const MIN_NS = 1;
const MAX_NS = 1_000_000_000;
/** 256 exact slots, then 128 slots for each of the 22 powers of two from 2^8 up to 2^30. */
const SLOTS = 256 + 22 * 128;

/** Slot of a value in ns (MIN_NS..MAX_NS). */
function slotOf(v: number): number {
  if (v < 256) return v;
  const shift = 24 - Math.clz32(v); // bit length - 8: v >> shift lies in 128..255
  return 256 + (shift - 1) * 128 + ((v >>> shift) - 128);
}

/** Lowest and highest value counted in a slot. */
function slotRange(slot: number): [number, number] {
  if (slot < 256) return [slot, slot];
  const shift = Math.floor((slot - 256) / 128) + 1;
  const sub = (slot - 256) % 128 + 128;
  return [sub * 2 ** shift, (sub + 1) * 2 ** shift - 1];
}

/** A latency histogram in nanoseconds. */
export class LatencyHistogram {
  private counts = new Float64Array(SLOTS);
  total = 0;

  /** Records one duration, clamped to 1 ns .. 1 s. */
  record(ns: number): void {
    this.recordN(ns, 1);
  }

  /** Records `n` samples of the same duration. */
  recordN(ns: number, n: number): void {
    const v = ns < MIN_NS ? MIN_NS : ns > MAX_NS ? MAX_NS : Math.round(ns);
    this.counts[slotOf(v)] += n;
    this.total += n;
  }

  /** Value (ns) at a percentile 0..100: the top of the slot reaching that share of the samples
   * (the bottom for percentile 0). 0 when empty. */
  valueAt(percentile: number): number {
    const p = percentile < 100 ? percentile : 100;
    const want = Math.max(1, Math.floor((p / 100) * this.total + 0.5));
    let seen = 0;
    for (let i = 0; i < SLOTS; i++) {
      seen += this.counts[i];
      if (seen >= want) {
        const [lo, hi] = slotRange(i);
        return percentile === 0 ? lo : hi;
      }
    }
    return 0;
  }
}

/** Formats a percentile like Redis ("%f" without trailing zeros): 50 -> "50", 99.9 -> "99.9". */
export function formatPercentile(p: number): string {
  let s = p.toFixed(6);
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s;
}

/** One INFO latencystats line: `latency_percentiles_usec_<name>:p50=1.003,p99=...`. */
export function latencyLine(name: string, h: LatencyHistogram, percentiles: number[]): string {
  const parts = percentiles.map((p) =>
    `p${formatPercentile(p)}=${(h.valueAt(p) / 1000).toFixed(3)}`
  );
  return `latency_percentiles_usec_${name}:${parts.join(",")}`;
}
