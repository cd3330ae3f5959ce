/**
 * The benchmark harness: tinybench measures; each figure is reported with a baseline measured
 * in the same run and the ratio, against a target. Benchmarks print figures; they never fail
 * a test run (a missed target is reported, not thrown).
 */
import { Bench } from 'tinybench';

export interface Figure {
  readonly suite: string;
  readonly id: string;
  readonly description: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: { readonly description: string; readonly value: number; readonly unit: string };
  /** value / baseline (or the figure that the target is stated in). */
  readonly ratio?: number;
  /** e.g. "≤ 2× baseline", "≥ 5e6 events/s". */
  readonly target?: string;
  readonly met?: boolean;
  /** Paired figures (paired.ts): the per-pair ratios' min and max, and the verdict (noisy: the pairs disagree). */
  readonly spread?: { readonly min: number; readonly max: number; readonly reps: number };
  readonly verdict?: 'met' | 'missed' | 'noisy';
}

export interface Suite {
  readonly name: string;
  run(): Promise<Figure[]>;
}

/** Mean time of one call of `fn`, in ms, measured by tinybench. */
export async function meanMs(
  name: string,
  fn: () => unknown,
  opts: { timeMs?: number; warmupMs?: number; beforeEach?: () => void; iterations?: number } = {},
): Promise<number> {
  const bench = new Bench({ time: opts.timeMs ?? 400, iterations: opts.iterations ?? 10, warmupTime: opts.warmupMs ?? 100 });
  bench.add(name, fn, opts.beforeEach ? { beforeEach: opts.beforeEach } : {});
  await bench.run();
  const task = bench.tasks[0]!;
  const r = task.result;
  if (r === undefined || !('latency' in r)) throw new Error(`benchmark ${name} produced no result`);
  return r.latency.mean;
}

export function ratioFigure(
  f: Omit<Figure, 'ratio' | 'met'> & { baseline: NonNullable<Figure['baseline']> },
  maxRatio: number,
): Figure {
  const ratio = f.value / f.baseline.value;
  return { ...f, ratio, target: `≤ ${maxRatio}× baseline`, met: ratio <= maxRatio };
}
