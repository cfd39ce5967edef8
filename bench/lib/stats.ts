// Small statistics for benchmark reports: percentiles of samples, and the median of a per-round
// figure over several rounds (one disturbed round then moves the result less than a mean would).

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: readonly number[]): LatencySummary {
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples.length === 0 ? NaN : Math.max(...samples),
  };
}

/** The median over rounds of each numeric field of the rounds' figures. */
export function medianOfRounds<K extends string>(rounds: readonly Record<K, number>[]): Record<K, number> {
  const keys = Object.keys(rounds[0] ?? {}) as K[];
  return Object.fromEntries(keys.map((k) => [k, median(rounds.map((r) => r[k]))])) as Record<K, number>;
}

/** A figure for a table: fixed decimals, "n/a" for missing values. */
export function fmt(value: number | null | undefined, decimals = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  return value.toFixed(decimals);
}

export function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}
