/**
 * Runs a sweep (or one shard of it) into a directory: each run's options (defaults, the
 * randomised draws, the --set values), then the pool, appending every finished run to the
 * journal as it comes back — runs already recorded there are skipped (resume) — and at the
 * end the runs in grid order and the summary.
 *
 * An abort (the CLI's Ctrl-C / SIGTERM) stops the sweep at once: no new run starts, the pool
 * is torn down, and the runs that were under way are dropped, not recorded as killed — they
 * were interrupted by the user, not by their own doing, and the re-run (resume) runs them. The
 * journal then holds only whole lines of finished runs.
 */
import { join } from 'node:path';
import { drawRandomized, resolveScenarioOptions, type ScenarioDef } from '@kvmlab/hypervisor-core';
import { SCHEMA_VERSION, type ResultJson } from '../json-output.js';
import { finishSweep, type Finished } from './finish.js';
import type { RunLine, RunStatus } from './line.js';
import { gridRunAt, gridSize, shardIndices, shardSize, type OptionValue, type Shard, type SweepPlan } from './plan.js';
import { createPool } from './pool.js';
import { reproduceCommand } from './reproduce.js';
import type { ScenarioSource } from './scenario-source.js';
import { appendRun, openSweepDir, RUNS_FILE, writeInvocation } from './store.js';

export interface SweepProgress {
  start(total: number, skipped: number): void;
  tick(status: RunStatus): void;
  stop(): void;
}

export interface SweepRequest {
  readonly def: ScenarioDef;
  readonly plan: SweepPlan;
  readonly shard?: Shard;
  readonly dir: string;
  readonly workers: number;
  readonly timeoutMs?: number;
  /** What the workers load to find `def` again (the main thread loaded it from the same source). */
  readonly source: ScenarioSource;
  readonly progress?: SweepProgress;
  /** Aborted: stop now, keep what is recorded, write no summary (outcome.finished is undefined). */
  readonly signal?: AbortSignal;
}

export interface SweepOutcome {
  /** Runs this invocation recorded, and runs it found already recorded. */
  readonly ran: number;
  readonly skipped: number;
  /** Distinct worker threads that ran a task (a replaced worker counts again). */
  readonly threads: number;
  /** What resuming found wrong in the journal: bytes of a line a kill cut short (cut off), damaged lines (skipped). */
  readonly cutBytes: number;
  readonly damaged: number;
  /** The runs in grid order and the summary; undefined when the sweep was aborted. */
  readonly finished?: Finished;
}

/** The options of run `index`: defaults ← randomised draws ← --set values (a RangeError names a bad draw). */
export function runOptions(def: ScenarioDef, plan: SweepPlan, seed: number, set: Readonly<Record<string, OptionValue>>): Readonly<Record<string, OptionValue>> {
  const drawn = plan.randomize && def.randomize !== undefined ? drawRandomized(def.randomize, seed) : {};
  return resolveScenarioOptions(def, { ...drawn, ...set });
}

export async function runSweep(req: SweepRequest): Promise<SweepOutcome> {
  const { def, plan, signal } = req;
  // Not results: invocation.json's record of what this machine gave the sweep.
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const total = gridSize(plan);
  const { recorded, cutBytes, damaged } = openSweepDir(req.dir, { schemaVersion: SCHEMA_VERSION, kind: 'sweep', plan, shard: req.shard ?? null, runs: shardSize(total, req.shard) });
  const todo = [...shardIndices(total, req.shard)].filter((i) => !recorded.has(i));
  const skipped = shardSize(total, req.shard) - todo.length;
  const threads = new Set<number>();
  let ran = 0;
  req.progress?.start(todo.length, skipped);
  const pool = createPool(req.workers);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= pool.close());
  const onAbort = (): void => void close();
  signal?.addEventListener('abort', onAbort, { once: true });
  const record = (line: RunLine): void => {
    if (signal?.aborted === true) return;
    appendRun(req.dir, line);
    ran++;
    req.progress?.tick(line.status);
  };
  const runOne = async (index: number): Promise<void> => {
    const g = gridRunAt(plan, index);
    const base = { index, seed: g.seed, variant: g.variant };
    let options: Readonly<Record<string, OptionValue>>;
    try {
      options = runOptions(def, plan, g.seed, g.set);
    } catch (e) {
      // A draw outside the option's range is the scenario's randomize bug: recorded, not fatal.
      record({ ...base, options: { ...g.set }, status: 'crashed', command: reproduceCommand(def, plan.arch, g.variant, g.seed, g.set), error: `randomize drew invalid options: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    const command = reproduceCommand(def, plan.arch, g.variant, g.seed, options);
    const reply = await pool.run({ source: req.source, scenario: def.name, arch: plan.arch, variant: g.variant, seed: g.seed, options, compact: plan.compact }, req.timeoutMs);
    if ('thread' in reply) threads.add(reply.thread);
    if (reply.ok) record({ ...base, options, status: 'done', command, result: JSON.parse(reply.json) as ResultJson });
    else record({ ...base, options, status: 'killed' in reply ? 'killed' : 'crashed', command, error: reply.error });
  };
  try {
    // One run in flight per worker: a run's --timeout starts when a worker takes it, not
    // while it waits in a queue, and memory stays flat however long the grid.
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < todo.length && signal?.aborted !== true) await runOne(todo[next++]!);
    };
    await Promise.all(Array.from({ length: Math.max(1, req.workers) }, lane));
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await close();
    req.progress?.stop();
  }
  const cpu = process.cpuUsage(cpu0);
  const wallMs = Math.round(performance.now() - t0);
  writeInvocation(req.dir, { workers: req.workers, threads: threads.size, ran, skipped, interrupted: signal?.aborted === true, wallMs, cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
  const outcome = { ran, skipped, threads: threads.size, cutBytes, damaged };
  if (signal?.aborted === true) return outcome;
  return { ...outcome, finished: finishSweep(plan, [join(req.dir, RUNS_FILE)], req.dir) };
}
