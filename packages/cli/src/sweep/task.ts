/** What the main thread sends a sweep worker, and what comes back (structured-clone data). */
import type { Arch } from '@kvmlab/hypervisor-core';
import type { OptionValue } from './plan.js';
import type { ScenarioSource } from './scenario-source.js';

export interface WorkerTask {
  /** Where the scenario comes from (the installed packages and config, or a --scenarios module). */
  readonly source: ScenarioSource;
  readonly scenario: string;
  readonly arch: Arch;
  readonly variant: string;
  readonly seed: number;
  readonly options: Readonly<Record<string, OptionValue>>;
  readonly compact: boolean;
}

/**
 * ok: the result's JSON text (as `kvmlab run --json` has it); else what the run threw.
 * `thread`: the worker thread's id (worker_threads.threadId), so a sweep can say how many
 * threads really ran its tasks.
 */
export type WorkerReply = ({ readonly ok: true; readonly json: string } | { readonly ok: false; readonly error: string }) & { readonly thread: number };
