/**
 * Ratios that hold on a noisy machine: A (the baseline) and B (the figure) are measured as
 * interleaved pairs — A, B, A, B … — `reps` times after a warm-up, each sample a short tinybench
 * run, so a slow phase of the machine hits both sides of a pair. The figure is the median of the
 * per-pair ratios B/A with its min–max; when max/min exceeds `maxSpread` the pairs disagree and
 * the figure is "noisy" rather than met or missed.
 */
import { meanMs } from './harness.js';

export interface PairOptions {
  /** Pairs measured (default 7). */
  readonly reps?: number;
  /** tinybench time per sample, ms (default 150). */
  readonly timeMs?: number;
  /** Warm-up of each side before the first pair, ms (default 300). */
  readonly warmupMs?: number;
  readonly beforeEachA?: () => void;
  readonly beforeEachB?: () => void;
}

export interface PairResult {
  /** Median per-call ms of each side over the pairs. */
  readonly aMs: number;
  readonly bMs: number;
  /** B/A per pair: median, min, max. */
  readonly ratio: { readonly median: number; readonly min: number; readonly max: number };
  /**
   * B's per-call ms over the pairs: median (= bMs), min, max. For a target on B's own time (µs,
   * not a ratio): the pairs cancel a slow phase of the machine in the ratio, not in B alone.
   */
  readonly b: { readonly median: number; readonly min: number; readonly max: number };
  readonly reps: number;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function pairedRatio(name: string, a: () => unknown, b: () => unknown, o: PairOptions = {}): Promise<PairResult> {
  const reps = o.reps ?? 7;
  const timeMs = o.timeMs ?? 150;
  const warm = { timeMs: o.warmupMs ?? 300, warmupMs: 100 };
  await meanMs(`${name} A warm-up`, a, { ...warm, ...(o.beforeEachA ? { beforeEach: o.beforeEachA } : {}) });
  await meanMs(`${name} B warm-up`, b, { ...warm, ...(o.beforeEachB ? { beforeEach: o.beforeEachB } : {}) });
  const as: number[] = [];
  const bs: number[] = [];
  const rs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const am = await meanMs(`${name} A`, a, { timeMs, warmupMs: 0, iterations: 3, ...(o.beforeEachA ? { beforeEach: o.beforeEachA } : {}) });
    const bm = await meanMs(`${name} B`, b, { timeMs, warmupMs: 0, iterations: 3, ...(o.beforeEachB ? { beforeEach: o.beforeEachB } : {}) });
    as.push(am);
    bs.push(bm);
    rs.push(bm / am);
  }
  const bMs = median(bs);
  return { aMs: median(as), bMs, ratio: { median: median(rs), min: Math.min(...rs), max: Math.max(...rs) }, b: { median: bMs, min: Math.min(...bs), max: Math.max(...bs) }, reps };
}

export type Verdict = 'met' | 'missed' | 'noisy';

/**
 * met / missed against `ok(median)` (a threshold test: "≤ 2", "≥ 1.8"), unless the pairs spread
 * wider than `maxSpread` (max/min) *and* disagree on the verdict — the best pair meets the target,
 * the worst does not. A wide spread that lies wholly on one side of the target cannot change the
 * verdict (a 0.03–0.06 s run against 0.5 s is met, however much it jitters), so it is not noise
 * that matters; a wide spread across the target is, and then no verdict holds.
 */
export function verdictOf(r: PairResult['ratio'], ok: (median: number) => boolean, maxSpread = 1.5): Verdict {
  if (spreadDecides(r.min, r.max, ok, maxSpread)) return 'noisy';
  return ok(r.median) ? 'met' : 'missed';
}

/** Whether min..max is wider than `maxSpread` and straddles the target of `ok`. */
export function spreadDecides(min: number, max: number, ok: (x: number) => boolean, maxSpread: number): boolean {
  return min > 0 && max / min > maxSpread && ok(min) !== ok(max);
}
