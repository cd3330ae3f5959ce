/**
 * Resource bounds of a scenario run, announced before it starts: a scenario estimates its peak
 * memory and its work (events) from its options (ScenarioDef.estimate), and a combination
 * beyond the limits is refused with the estimate, the limit and the option that raises it,
 * rather than growing past the machine's memory or running for hours.
 */
import type { Arch } from './plugin/types.js';
import { ScenarioOptionError, type ScenarioDef, type ScenarioEstimate, type ScenarioOptionValues } from './scenario.js';

export interface ScenarioLimits {
  /** Peak memory a run may need, in MiB (CLI: --max-memory-mib). */
  readonly maxMemoryMiB: number;
  /** Work units a run may do (CLI: --max-events). */
  readonly maxEvents: number;
}

/**
 * 2 GiB of memory and 10^8 events: a default run of every scenario is far below both (the
 * largest, nested-migration, estimates about 6·10^6 events and 450 MiB, and takes ~10 s), and
 * 10^8 of its events are about 2–3 minutes of one core.
 */
export const DEFAULT_SCENARIO_LIMITS: ScenarioLimits = { maxMemoryMiB: 2048, maxEvents: 100_000_000 };

/** The flag names front ends give the limits (the CLI's spelling). */
export const LIMIT_FLAGS: Readonly<Record<keyof ScenarioLimits, string>> = { maxMemoryMiB: '--max-memory-mib', maxEvents: '--max-events' };

/** A run the limits refuse: `option` is the limit (maxMemoryMiB or maxEvents), `value` the estimate. */
export class ScenarioBudgetError extends ScenarioOptionError {
  override readonly name: string = 'ScenarioBudgetError';
  readonly estimate: ScenarioEstimate;
  readonly limit: number;

  constructor(def: ScenarioDef, limit: keyof ScenarioLimits, estimate: ScenarioEstimate, limits: ScenarioLimits) {
    const needs = limit === 'maxMemoryMiB' ? `about ${formatMiB(estimate.memoryBytes)} of memory` : `about ${formatCount(estimate.events)} events`;
    const has = limit === 'maxMemoryMiB' ? `${limits.maxMemoryMiB} MiB` : formatCount(limits.maxEvents);
    super(limit, limit === 'maxMemoryMiB' ? estimate.memoryBytes / 2 ** 20 : estimate.events,
      `exceeded: scenario ${def.name} with these options needs ${needs}, the limit is ${has}; use smaller options or raise it with ${LIMIT_FLAGS[limit]}`);
    this.message = `scenario ${def.name} with these options needs ${needs}, beyond the limit of ${has} (raise it with ${LIMIT_FLAGS[limit]})`;
    this.estimate = estimate;
    this.limit = limit === 'maxMemoryMiB' ? limits.maxMemoryMiB : limits.maxEvents;
  }
}

function formatMiB(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return mib >= 10240 ? `${(mib / 1024).toFixed(0)} GiB` : `${Math.ceil(mib)} MiB`;
}

function formatCount(n: number): string {
  return n >= 1e6 ? n.toExponential(2).replace('e+', 'e') : String(Math.ceil(n));
}

/** Checks a limit value given by a user (positive, finite); throws ScenarioOptionError naming it. */
export function checkLimits(limits: Partial<Record<keyof ScenarioLimits, unknown>>): ScenarioLimits {
  const out = { ...DEFAULT_SCENARIO_LIMITS };
  for (const k of ['maxMemoryMiB', 'maxEvents'] as const) {
    const v = limits[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ScenarioOptionError(k, v, 'must be a positive number');
    out[k] = v;
  }
  return out;
}

/**
 * The scenario's estimate for these options, or ScenarioBudgetError if it is beyond `limits`.
 * A scenario without an estimate counts as free (nothing to announce).
 */
export function checkScenarioBudget(def: ScenarioDef, options: ScenarioOptionValues, arch: Arch, limits: ScenarioLimits = DEFAULT_SCENARIO_LIMITS): ScenarioEstimate {
  def.checkOptions?.(options, arch);
  const est = def.estimate?.(options, arch) ?? { memoryBytes: 0, events: 0 };
  if (!(est.memoryBytes <= limits.maxMemoryMiB * 2 ** 20)) throw new ScenarioBudgetError(def, 'maxMemoryMiB', est, limits);
  if (!(est.events <= limits.maxEvents)) throw new ScenarioBudgetError(def, 'maxEvents', est, limits);
  return est;
}
