/**
 * The contract every feature package's scenarios follow, so the CLI can list, validate, run
 * and report them without knowing what they model. Options are described as data (the CLI
 * turns them into validators); results carry figures measured from the running model.
 */
import type { Arch } from './plugin/types.js';
import type { ScenarioRandomize } from './scenario-randomize.js';
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
  /**
   * Optional: how `kvmlab sweep --randomize` draws each run's workload from its seed — one
   * documented distribution per option (scenario-randomize.ts). Absent: the scenario sweeps
   * over seeds and --set values only.
   */
  readonly randomize?: ScenarioRandomize;
  run(input: ScenarioRunInput): ScenarioResult;
}

/** Fills defaults and checks types and ranges; throws RangeError naming the option. */
export function resolveScenarioOptions(def: ScenarioDef, given: Readonly<Record<string, unknown>> = {}): ScenarioOptionValues {
  const out: Record<string, number | boolean | string> = {};
  for (const k of Object.keys(given)) {
    if (!(k in def.options)) throw new RangeError(`scenario ${def.name} has no option "${k}"`);
  }
  for (const [k, spec] of Object.entries(def.options)) {
    const v = given[k] ?? spec.default;
    if (spec.type === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`option ${k} must be a number`);
      if (spec.integer === true && !Number.isInteger(v)) throw new RangeError(`option ${k} must be an integer`);
      if (spec.min !== undefined && v < spec.min) throw new RangeError(`option ${k} must be ≥ ${spec.min}`);
      if (spec.max !== undefined && v > spec.max) throw new RangeError(`option ${k} must be ≤ ${spec.max}`);
    } else if (spec.type === 'boolean') {
      if (typeof v !== 'boolean') throw new RangeError(`option ${k} must be true or false`);
    } else if (typeof v !== 'string' || !spec.values.includes(v)) {
      throw new RangeError(`option ${k} must be one of ${spec.values.join(', ')}`);
    }
    out[k] = v as number | boolean | string;
  }
  return out;
}
