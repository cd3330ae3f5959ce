/** Offset statistics for the ptp-sync result (all from samples the running model produced). */

export interface OffsetStats {
  readonly n: number;
  readonly meanNs: number;
  readonly rmsNs: number;
  readonly sdNs: number;
  readonly p50AbsNs: number;
  readonly p99AbsNs: number;
  readonly maxAbsNs: number;
  readonly minNs: number;
  readonly maxNs: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function offsetStats(values: readonly number[]): OffsetStats {
  const n = values.length;
  if (n === 0) {
    return { n, meanNs: NaN, rmsNs: NaN, sdNs: NaN, p50AbsNs: NaN, p99AbsNs: NaN, maxAbsNs: NaN, minNs: NaN, maxNs: NaN };
  }
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    sq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  const abs = values.map(Math.abs).sort((a, b) => a - b);
  return {
    n,
    meanNs: mean,
    rmsNs: Math.sqrt(sq / n),
    sdNs: Math.sqrt(Math.max(0, sq / n - mean * mean)),
    p50AbsNs: percentile(abs, 50),
    p99AbsNs: percentile(abs, 99),
    maxAbsNs: abs[n - 1]!,
    minNs: min,
    maxNs: max,
  };
}

/**
 * Convergence: the first sample time after which every |offset| stays within `thresholdNs`
 * (undefined if the last sample is still outside).
 */
export function convergenceIndex(values: readonly number[], thresholdNs: number): number | undefined {
  let idx: number | undefined;
  for (let i = values.length - 1; i >= 0; i--) {
    if (Math.abs(values[i]!) > thresholdNs) break;
    idx = i;
  }
  return idx;
}
