/** What the main thread sends a sweep worker, and what comes back (structured-clone data). */
import type { Arch } from '@kvmlab/hypervisor-core';
import type { OptionValue } from './plan.js';

export interface WorkerTask {
  /** An ES module exporting `scenarios` (ScenarioDef[]); undefined: the installed packages. */
  readonly scenariosModule?: string;
  readonly scenario: string;
  readonly arch: Arch;
  readonly variant: string;
  readonly seed: number;
  readonly options: Readonly<Record<string, OptionValue>>;
  readonly compact: boolean;
}

/** ok: the result's JSON text (as `kvmlab run --json` has it); else what the run threw. */
export type WorkerReply = { readonly ok: true; readonly json: string } | { readonly ok: false; readonly error: string };
