/** Order statistics over samples; every figure the benchmark reports goes through here. */

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;

  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] ?? Number.NaN;
  const highValue = sorted[high] ?? Number.NaN;
  return lowValue + (highValue - lowValue) * (rank - low);
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** Rounds for the table and results.json: enough digits to compare, no false precision. */
export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
