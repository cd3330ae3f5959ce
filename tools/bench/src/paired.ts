/**
 * Ratios that hold on a noisy machine: A (the baseline) and B (the figure) are measured as
 * `reps` pairs after a warm-up (tinybench). Within a pair the two sides take turns in chunks of
 * about CHUNK_MS — A B, B A, A B … — until each has had `timeMs`: the machine's slow phases last
 * seconds (a memory-bound loop timed in blocks shows them), so each phase falls on both sides
 * alike, where a pair of one 150 ms block per side could put it on one side only. The figure is
 * the median of the per-pair ratios B/A with its min–max; when max/min exceeds `maxSpread` the
 * pairs disagree and the figure is "noisy" rather than met or missed.
 */
import { meanMs } from './harness.js';

export interface PairOptions {
  /** Pairs measured (default 7). */
  readonly reps?: number;
  /** Time each side gets per pair, ms (default 150). */
  readonly timeMs?: number;
  /** Warm-up of each side before the first pair, ms (default 300). */
  readonly warmupMs?: number;
  readonly beforeEachA?: () => void;
  readonly beforeEachB?: () => void;
  /** The clock the pairs are timed by, in ms (default performance.now; a test gives a virtual one). */
  readonly now?: () => number;
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

/**
 * About this long per timed chunk of calls, ms: far shorter than a slow phase (seconds), long
 * enough that the timer's own cost vanishes and that each side runs mostly on its own warm
 * caches (a side that had to start cold after every call of the other would pay for both).
 */
export const CHUNK_MS = 10;

/** ms that `n` calls of `fn` take; with a `before` hook, each call is timed alone and the hook runs outside the clock. */
function timeChunk(fn: () => unknown, before: (() => void) | undefined, n: number, now: () => number): number {
  if (before !== undefined) {
    let ms = 0;
    for (let i = 0; i < n; i++) {
      before();
      const t0 = now();
      fn();
      ms += now() - t0;
    }
    return ms;
  }
  const t0 = now();
  for (let i = 0; i < n; i++) fn();
  return now() - t0;
}

/** Calls per chunk of `fn`, from a doubling trial (timed as the chunks are). */
function callsPerChunk(fn: () => unknown, before: (() => void) | undefined, now: () => number): number {
  for (let n = 1; ; n *= 2) {
    const dt = timeChunk(fn, before, n, now);
    if (dt >= CHUNK_MS / 4 || n >= 1 << 24) return Math.max(1, Math.round((n * CHUNK_MS) / Math.max(dt, 1e-6)));
  }
}

/** One pair: chunks of A and B in turns (A B, B A, …) until each side had `timeMs` and 3 chunks; per-call ms of each. */
function interleavedPair(a: () => unknown, b: () => unknown, o: PairOptions, ca: number, cb: number, timeMs: number, now: () => number): { am: number; bm: number } {
  let ta = 0;
  let tb = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; ta < timeMs || tb < timeMs || na < 3 * ca || nb < 3 * cb; k++) {
    const aFirst = k % 2 === 0;
    if (aFirst) {
      ta += timeChunk(a, o.beforeEachA, ca, now);
      na += ca;
    }
    tb += timeChunk(b, o.beforeEachB, cb, now);
    nb += cb;
    if (!aFirst) {
      ta += timeChunk(a, o.beforeEachA, ca, now);
      na += ca;
    }
  }
  return { am: ta / na, bm: tb / nb };
}

export async function pairedRatio(name: string, a: () => unknown, b: () => unknown, o: PairOptions = {}): Promise<PairResult> {
  const reps = o.reps ?? 7;
  const timeMs = o.timeMs ?? 150;
  const warm = { timeMs: o.warmupMs ?? 300, warmupMs: 100 };
  await meanMs(`${name} A warm-up`, a, { ...warm, ...(o.beforeEachA ? { beforeEach: o.beforeEachA } : {}) });
  await meanMs(`${name} B warm-up`, b, { ...warm, ...(o.beforeEachB ? { beforeEach: o.beforeEachB } : {}) });
  const as: number[] = [];
  const bs: number[] = [];
  const rs: number[] = [];
  const now = o.now ?? (() => performance.now());
  const ca = callsPerChunk(a, o.beforeEachA, now);
  const cb = callsPerChunk(b, o.beforeEachB, now);
  for (let i = 0; i < reps; i++) {
    const { am, bm } = interleavedPair(a, b, o, ca, cb, timeMs, now);
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
