/**
 * The contract every feature package's scenarios follow, so the CLI can list, validate, run
 * and report them without knowing what they model. Options are described as data (the CLI
 * turns them into validators); results carry figures measured from the running model.
 */
import type { Arch } from './plugin/types.js';
import type { TraceEvent } from './trace.js';

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
  run(input: ScenarioRunInput): ScenarioResult;
}

/**
 * A value the caller chose that a scenario cannot run with: an option out of its range, or
 * options that contradict each other (hot set larger than the working set). It is the
 * caller's mistake, not the model's, so a front end reports it as a usage error (the CLI: exit
 * 2, one line naming the option, the value and the rule). A RangeError, so code that caught
 * RangeError before this class existed still catches it.
 */
export class ScenarioOptionError extends RangeError {
  override readonly name = 'ScenarioOptionError';
  /** The option's key in ScenarioDef.options (camelCase), when one option is at fault. */
  readonly option: string | undefined;
  /** The value given, when one option is at fault. */
  readonly value: unknown;
  /** The rule the value broke, e.g. "must be ≤ 64" or "must be ≤ --wss-mib (32)". */
  readonly rule: string;
  readonly scenario: string | undefined;

  constructor(rule: string, at: { readonly option?: string; readonly value?: unknown; readonly scenario?: string } = {}) {
    const where = at.option !== undefined ? `option ${at.option}${at.value !== undefined ? ` = ${String(at.value)}` : ''}: ` : '';
    super(`${at.scenario !== undefined ? `${at.scenario}: ` : ''}${where}${rule}`);
    this.option = at.option;
    this.value = at.value;
    this.rule = rule;
    this.scenario = at.scenario;
  }
}

/** Fills defaults and checks types and ranges; throws ScenarioOptionError (a RangeError) naming the option. */
export function resolveScenarioOptions(def: ScenarioDef, given: Readonly<Record<string, unknown>> = {}): ScenarioOptionValues {
  const out: Record<string, number | boolean | string> = {};
  const scenario = def.name;
  for (const k of Object.keys(given)) {
    if (!(k in def.options)) throw new ScenarioOptionError(`scenario ${def.name} has no option "${k}"`, { scenario });
  }
  for (const [k, spec] of Object.entries(def.options)) {
    const v = given[k] ?? spec.default;
    const bad = (rule: string): ScenarioOptionError => new ScenarioOptionError(rule, { option: k, value: v, scenario });
    if (spec.type === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('must be a number');
      if (spec.integer === true && !Number.isInteger(v)) throw bad('must be an integer');
      if (spec.min !== undefined && v < spec.min) throw bad(`must be ≥ ${spec.min}`);
      if (spec.max !== undefined && v > spec.max) throw bad(`must be ≤ ${spec.max}`);
    } else if (spec.type === 'boolean') {
      if (typeof v !== 'boolean') throw bad('must be true or false');
    } else if (typeof v !== 'string' || !spec.values.includes(v)) {
      throw bad(`must be one of ${spec.values.join(', ')}`);
    }
    out[k] = v as number | boolean | string;
  }
  return out;
}
