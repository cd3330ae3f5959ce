/**
 * `kvmlab sweep` throughput (issue 20): a sweep of nested-migration at its default size with
 * 2 workers, 1,000 runs (both variants, seeds 0..499; target ≤ 5 min on these 2-core
 * machines), and the speed-up of 2 workers over 1 on a shorter sweep, as interleaved pairs
 * (1 worker, 2 workers, …) so a slow phase of the shared machine hits both sides.
 *
 * Each sample is the built binary run as a user runs it (`node packages/cli/bin/kvmlab.js
 * sweep …` into a fresh directory: nothing resumed), timed by tinybench — one iteration and
 * no warm-up: harness.ts's meanMs always warms up with 16 iterations, which here would be 16
 * extra sweeps. Sizes: KVMLAB_BENCH_SWEEP_RUNS (default 1000) and
 * KVMLAB_BENCH_SWEEP_PAIR_RUNS (default 40) for a quick check.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import type { Figure, Suite } from '../harness.js';
import { median, verdictOf } from '../paired.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'kvmlab.js');
const PAIRS = 3;

const envInt = (name: string, dflt: number): number => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v >= 2 ? v : dflt;
};

interface SweepSample {
  readonly ms: number;
  readonly runs: number;
  readonly bugRate: Record<string, number>;
}

/** One sweep of `runs` nested-migration runs (half per variant) with `workers` workers. */
async function timedSweep(runs: number, workers: number): Promise<SweepSample> {
  let out = '';
  let status: number | null = null;
  let stderr = '';
  const bench = new Bench({ warmup: false, iterations: 1, time: 0 });
  // async: tinybench calls a plain function once more, untimed, to see whether it is async.
  bench.add(`sweep ${runs} runs, ${workers} worker(s)`, async () => {
    out = join(mkdtempSync(join(tmpdir(), 'kvmlab-bench-sweep-')), 'out');
    const args = [BIN, 'sweep', 'nested-migration', '--variant', 'all', '--seeds', `0..${Math.ceil(runs / 2) - 1}`, '--workers', String(workers), '--compact', '--out', out];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    status = r.status;
    stderr = r.stderr;
  });
  await bench.run();
  const res = bench.tasks[0]!.result;
  if (status !== 0 || res === undefined || !('latency' in res)) throw new Error(`kvmlab sweep failed (status ${String(status)}): ${stderr.split('\n')[0]}`);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { recorded: number; cells: { variant: string; bugRate: number }[] };
  return { ms: res.latency.mean, runs: summary.recorded, bugRate: Object.fromEntries(summary.cells.map((c) => [c.variant, c.bugRate])) };
}

export const sweepSuite: Suite = {
  name: 'sweep',
  async run() {
    const runs = envInt('KVMLAB_BENCH_SWEEP_RUNS', 1000);
    const pairRuns = envInt('KVMLAB_BENCH_SWEEP_PAIR_RUNS', 40);
    const big = await timedSweep(runs, 2);
    const s = big.ms / 1000;
    const targetS = (300 * runs) / 1000;
    const out: Figure[] = [{
      suite: 'sweep',
      id: `nested-migration-${runs}-runs-2-workers`,
      description: `kvmlab sweep nested-migration, default size, ${big.runs} runs (pre-fix and merged), 2 workers; bug reproduced in ${(100 * (big.bugRate['pre-fix'] ?? 0)).toFixed(0)} % pre-fix, ${(100 * (big.bugRate['merged'] ?? 0)).toFixed(0)} % merged`,
      value: s,
      unit: 's wall',
      baseline: { description: 'per run', value: s / big.runs, unit: 's wall' },
      ratio: s / targetS,
      target: runs === 1000 ? '≤ 300 s (5 min)' : `≤ ${targetS.toFixed(0)} s (5 min per 1000 runs, scaled)`,
      met: s <= targetS,
    }];
    const ratios: number[] = [];
    const one: number[] = [];
    const two: number[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const a = await timedSweep(pairRuns, 1);
      const b = await timedSweep(pairRuns, 2);
      one.push(a.ms / 1000);
      two.push(b.ms / 1000);
      ratios.push(a.ms / b.ms);
    }
    const r = { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
    out.push({
      suite: 'sweep',
      id: `nested-migration-speedup-2-vs-1-workers`,
      description: `kvmlab sweep nested-migration, ${pairRuns} runs: 1 worker / 2 workers wall time (${PAIRS} interleaved pairs)`,
      value: median(two),
      unit: 's wall (2 workers)',
      baseline: { description: '1 worker', value: median(one), unit: 's wall' },
      ratio: r.median,
      spread: { min: r.min, max: r.max, reps: PAIRS },
      target: '≥ 1.8× speed-up',
      verdict: verdictOf(r, (m) => m >= 1.8),
      met: r.median >= 1.8,
    });
    return out;
  },
};
