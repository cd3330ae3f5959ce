/**
 * Figures with an absolute target (seconds of wall, MB of RSS): the measurement repeated,
 * quoted as the median with its min–max, and "noisy" when max/min is wider than the bound —
 * the same rule as the paired ratios (paired.ts), for figures that have no same-run baseline.
 */
import { median, spreadDecides, type Verdict } from './paired.js';

export interface Repeated {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly reps: number;
}

export function repeated(xs: readonly number[]): Repeated {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), reps: xs.length };
}

/** met / missed by the median, unless the repetitions spread wider than `maxSpread` (max/min) across the target (paired.ts, verdictOf). */
export function verdictOfRepeated(r: Repeated, ok: (median: number) => boolean, maxSpread = 1.5): Verdict {
  if (spreadDecides(r.min, r.max, ok, maxSpread)) return 'noisy';
  return ok(r.median) ? 'met' : 'missed';
}
