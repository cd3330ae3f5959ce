/**
 * The contract every feature package's scenarios follow, so the CLI can list, validate, run
 * and report them without knowing what they model. Options are described as data (the CLI
 * turns them into validators); results carry figures measured from the running model.
 */
import { z } from 'zod';
import { CompositionError } from './errors.js';
import type { Arch } from './plugin/types.js';
import type { ScenarioRandomize } from './scenario-randomize.js';
import type { TraceEvent } from './trace.js';
import { show } from './validate.js';

export type ScenarioOptionSpec =
  | { readonly type: 'number'; readonly default: number; readonly min?: number; readonly max?: number; readonly integer?: boolean; readonly unit?: string; readonly description: string }
  | { readonly type: 'boolean'; readonly default: boolean; readonly description: string }
  | { readonly type: 'enum'; readonly default: string; readonly values: readonly string[]; readonly description: string };

export type ScenarioOptionValues = Readonly<Record<string, number | boolean | string>>;

export interface ScenarioRunInput {
  /** The variant; for a scenario with variant axes, the cell's name (variantCellName), e.g. `kvm-mmu-pml=pre-fix,nvmx-cr3=merged`. */
  readonly variant: string;
  /** A scenario with variant axes: each axis's variant in this cell (also parseable from `variant`). */
  readonly variants?: Readonly<Record<string, string>>;
  readonly arch: Arch;
  readonly seed: number;
  /** Validated option values (every declared option present). */
  readonly options: ScenarioOptionValues;
  /** Record trace events into the result. */
  readonly trace?: boolean;
  /** Called now and then with progress in [0, 1] (for progress bars). */
  readonly onProgress?: (fraction: number) => void;
}

/** 'bug-reproduced': the pre-fix symptom appeared; 'ok': no symptom; 'fail': a check failed. */
export type ScenarioVerdict = 'bug-reproduced' | 'ok' | 'pass' | 'fail';

export interface ScenarioFigure {
  readonly label: string;
  readonly value: number | string;
  readonly unit?: string;
}

/** A data series for charts: x values and one or more named y columns. */
export interface ScenarioSeries {
  readonly name: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly x: readonly number[];
  readonly y: Readonly<Record<string, readonly (number | null)[]>>;
  /** One sentence saying what the chart shows. */
  readonly caption: string;
  readonly kind?: 'line' | 'bar' | 'scatter';
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly variant: string;
  /** A scenario with variant axes: the cell's variant per axis. */
  readonly variants?: Readonly<Record<string, string>>;
  readonly arch: Arch;
  readonly seed: number;
  readonly verdict: ScenarioVerdict;
  /** One line a person reads first, e.g. "3 CR3 corruptions detected by Muen's check". */
  readonly summary: string;
  /** The key figure for summary tables. */
  readonly headline: ScenarioFigure;
  readonly figures: readonly ScenarioFigure[];
  readonly series: readonly ScenarioSeries[];
  /** Free-form details (tables, log lines), JSON-serialisable, no bigint. */
  readonly details: Readonly<Record<string, unknown>>;
  readonly trace?: readonly TraceEvent[];
}

/** A scenario's own upper estimate of one run (all its variants' work counted once). */
export interface ScenarioEstimate {
  /** Peak bytes the run holds: guest pages it touches, bitmaps, shadow structures, series. */
  readonly memoryBytes: number;
  /** Work units: scheduler events plus the guest accesses and exits the run simulates. */
  readonly events: number;
}

export interface ScenarioDef {
  readonly name: string;
  /** One line for `kvmlab list`. */
  readonly description: string;
  readonly arches: readonly Arch[];
  /** Variants in demo order (pre-fix first); with `variantAxes`, every cell's name (variantCells order). */
  readonly variants: readonly string[];
  /** The variant `run` takes when none is given (usually merged; with axes, the all-merged cell). */
  readonly defaultVariant: string;
  /**
   * A scenario that composes several plugins declares one axis per plugin (its package's short
   * name → that plugin's variants, pre-fix first) and runs any cell of the product; see
   * scenario-variants.ts. Absent: one axis, `variants`.
   */
  readonly variantAxes?: Readonly<Record<string, readonly string[]>>;
  /** Labels of the figures a matrix grid shows in each cell (after the headline). */
  readonly matrixFigures?: readonly string[];
  readonly options: Readonly<Record<string, ScenarioOptionSpec>>;
  /** Which package provides it (for `list`). */
  readonly package: string;
  /**
   * What a run with these (validated) options costs, computed from the options alone, so a
   * front end can refuse a combination beyond the machine before it starts (scenario-budget.ts).
   */
  estimate?(options: ScenarioOptionValues, arch: Arch): ScenarioEstimate;
  /**
   * Rules between options that ranges cannot say (hot ≤ wss ≤ L2 size); throws
   * ScenarioOptionError naming the option at fault. Runs before `estimate`.
   */
  checkOptions?(options: ScenarioOptionValues, arch: Arch): void;
  /**
   * Optional: how `kvmlab sweep --randomize` draws each run's workload from its seed — one
   * documented distribution per option (scenario-randomize.ts). Absent: the scenario sweeps
   * over seeds and --set values only.
   */
  readonly randomize?: ScenarioRandomize;
  run(input: ScenarioRunInput): ScenarioResult;
}

/**
 * A scenario option (or a resource limit) that cannot run: `option` names it as the scenario
 * declares it (`downtimeMs`), `value` is what was given, `rule` what it broke ("must be an
 * integer"). A configuration error (CompositionError code INVALID_OPTION), so a front end maps
 * it to a usage error (the CLI: exit 2, one line).
 */
export class ScenarioOptionError extends CompositionError {
  override readonly name: string = 'ScenarioOptionError';
  readonly option: string;
  readonly value: unknown;
  readonly rule: string;

  /** The scenario that refused it, when the thrower knows (a front end may add it). */
  readonly scenario: string | undefined;

  constructor(option: string, value: unknown, rule: string, scenario?: string) {
    super('INVALID_OPTION', 'scenario', '');
    this.option = option;
    this.value = value;
    this.rule = rule;
    this.scenario = scenario;
    this.message = `option ${option} ${show(value)} ${rule}`;
  }
}

/** The zod schema of one declared option: its type, integer-ness and range. */
function specSchema(spec: ScenarioOptionSpec): z.ZodType<number | boolean | string> {
  if (spec.type === 'number') {
    let n = z.number('must be a number').refine(Number.isFinite, 'must be a finite number');
    if (spec.integer === true) n = n.refine(Number.isInteger, 'must be an integer');
    if (spec.min !== undefined) n = n.refine((v) => v >= spec.min!, `must be ≥ ${spec.min}`);
    if (spec.max !== undefined) n = n.refine((v) => v <= spec.max!, `must be ≤ ${spec.max}`);
    return n;
  }
  if (spec.type === 'boolean') return z.boolean('must be true or false');
  return z.enum(spec.values as [string, ...string[]], `must be one of ${spec.values.join(', ')}`);
}

/** Fills defaults and checks types and ranges (zod); throws ScenarioOptionError naming the option. */
export function resolveScenarioOptions(def: ScenarioDef, given: Readonly<Record<string, unknown>> = {}): ScenarioOptionValues {
  if (typeof given !== 'object' || given === null) throw new ScenarioOptionError('(options)', given, 'must be an object of option values');
  const out: Record<string, number | boolean | string> = {};
  for (const k of Object.keys(given)) {
    if (!Object.hasOwn(def.options, k)) throw new ScenarioOptionError(k, given[k], `is not an option of scenario ${def.name} (options: ${Object.keys(def.options).join(', ')})`, def.name);
  }
  for (const [k, spec] of Object.entries(def.options)) {
    const v = given[k] ?? spec.default;
    const r = specSchema(spec).safeParse(v);
    if (!r.success) throw new ScenarioOptionError(k, v, r.error.issues[0]?.message ?? 'is invalid', def.name);
    out[k] = r.data;
  }
  return out;
}
