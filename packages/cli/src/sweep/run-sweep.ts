/**
 * Runs a sweep (or one shard of it) into a directory: each run's options (defaults, the
 * randomised draws, the --set values), then the pool, appending every finished run to the
 * journal as it comes back — runs already recorded there are skipped (resume) — and at the
 * end the runs in grid order and the summary.
 */
import { join } from 'node:path';
import { drawRandomized, resolveScenarioOptions, type ScenarioDef } from '@kvmlab/hypervisor-core';
import { SCHEMA_VERSION, type ResultJson } from '../json-output.js';
import { finishSweep, type Finished } from './finish.js';
import type { RunLine, RunStatus } from './line.js';
import { gridRunAt, gridSize, shardIndices, shardSize, type OptionValue, type Shard, type SweepPlan } from './plan.js';
import { createPool } from './pool.js';
import { reproduceCommand } from './reproduce.js';
import { appendRun, openSweepDir, RUNS_FILE } from './store.js';

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
  readonly scenariosModule?: string;
  readonly progress?: SweepProgress;
}

export interface SweepOutcome extends Finished {
  /** Runs this invocation ran, and runs it found already recorded. */
  readonly ran: number;
  readonly skipped: number;
}

/** The options of run `index`: defaults ← randomised draws ← --set values (a RangeError names a bad draw). */
export function runOptions(def: ScenarioDef, plan: SweepPlan, seed: number, set: Readonly<Record<string, OptionValue>>): Readonly<Record<string, OptionValue>> {
  const drawn = plan.randomize && def.randomize !== undefined ? drawRandomized(def.randomize, seed) : {};
  return resolveScenarioOptions(def, { ...drawn, ...set });
}

export async function runSweep(req: SweepRequest): Promise<SweepOutcome> {
  const { def, plan } = req;
  const total = gridSize(plan);
  const recorded = openSweepDir(req.dir, { schemaVersion: SCHEMA_VERSION, kind: 'sweep', plan, shard: req.shard ?? null, runs: shardSize(total, req.shard) });
  const todo = [...shardIndices(total, req.shard)].filter((i) => !recorded.has(i));
  const skipped = shardSize(total, req.shard) - todo.length;
  req.progress?.start(todo.length, skipped);
  const pool = createPool(req.workers);
  const record = (line: RunLine): void => {
    appendRun(req.dir, line);
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
    const reply = await pool.run({ ...(req.scenariosModule !== undefined ? { scenariosModule: req.scenariosModule } : {}), scenario: def.name, arch: plan.arch, variant: g.variant, seed: g.seed, options, compact: plan.compact }, req.timeoutMs);
    if (reply.ok) record({ ...base, options, status: 'done', command, result: JSON.parse(reply.json) as ResultJson });
    else record({ ...base, options, status: 'killed' in reply ? 'killed' : 'crashed', command, error: reply.error });
  };
  try {
    // One run in flight per worker: a run's --timeout starts when a worker takes it, not
    // while it waits in a queue, and memory stays flat however long the grid.
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < todo.length) await runOne(todo[next++]!);
    };
    await Promise.all(Array.from({ length: Math.max(1, req.workers) }, lane));
  } finally {
    await pool.close();
    req.progress?.stop();
  }
  const finished = finishSweep(plan, [join(req.dir, RUNS_FILE)], req.dir);
  return { ...finished, ran: todo.length, skipped };
}
