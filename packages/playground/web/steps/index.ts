/** The scrubber's events of a result, for the scenarios that have them. */
import type { ResultJson } from '../../../cli/src/json-output.js';
import { nestedMigrationSteps } from './nested-migration.js';
import { nvmxHltCr3Steps } from './nvmx-hlt-cr3.js';
import { vmxDirtyLogSteps } from './vmx-dirty-log.js';
import type { Step } from './types.js';

export type { Step } from './types.js';

const BUILDERS: Readonly<Record<string, (r: ResultJson) => readonly Step[]>> = {
  'nvmx-hlt-cr3': nvmxHltCr3Steps,
  'vmx-dirty-log': vmxDirtyLogSteps,
  'nested-migration': nestedMigrationSteps,
};

export function stepsOf(r: ResultJson): readonly Step[] {
  return BUILDERS[r.scenario]?.(r) ?? [];
}

/** Index of the first step where the symptom showed, or -1. */
export const firstBad = (steps: readonly Step[]): number => steps.findIndex((s) => s.bad);
