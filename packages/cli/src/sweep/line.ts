/**
 * One line of runs.jsonl: a run's parameters, its status and its result as `kvmlab run --json`
 * prints it (without series and details under --compact). `crashed`: the scenario threw;
 * `killed`: its worker died (out of memory, exit) or ran past --timeout.
 */
import type { ResultJson } from '../json-output.js';
import type { OptionValue } from './plan.js';

export type RunStatus = 'done' | 'crashed' | 'killed';

export interface RunLine {
  readonly index: number;
  readonly seed: number;
  readonly variant: string;
  /** Every option the run used (defaults, randomised draws, --set values). */
  readonly options: Readonly<Record<string, OptionValue>>;
  readonly status: RunStatus;
  /** `kvmlab run …` that reproduces this run exactly. */
  readonly command: string;
  readonly result?: ResultJson | Omit<ResultJson, 'series' | 'details'>;
  /** crashed/killed: what was thrown, or why the worker died. */
  readonly error?: string;
}

/** The text of one line (no trailing newline). */
export const lineText = (l: RunLine): string => JSON.stringify(l);
