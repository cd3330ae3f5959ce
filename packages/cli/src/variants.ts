/**
 * `--variant` on the command line, over core's variant axes (scenario-variants.ts): which
 * variants a run selects, each variant's per-axis cell, and how `list` describes the axes. A
 * single-axis scenario is treated as one axis named `variant`, so the matrix code has one shape.
 */
import { cellOf, defaultCell, selectVariants, variantCellName, type ScenarioDef, type VariantCell } from '@kvmlab/hypervisor-core';
import { UsageError } from './errors.js';

export interface Axis {
  readonly name: string;
  readonly values: readonly string[];
}

/** The axis name a single-axis scenario's variants go by in matrices. */
export const SINGLE_AXIS = 'variant';

/** `--variant all`: every variant (every cell); it always prints the matrix form. */
export const isAll = (text: string | undefined): boolean => text?.trim() === 'all';

/** The variant names `--variant TEXT` selects, in the scenario's order; UsageError naming the value. */
export function selectRunVariants(def: ScenarioDef, text: string): readonly string[] {
  try {
    return selectVariants(def, text);
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  }
}

/** The scenario's axes in declaration order (one `variant` axis when it declares none). */
export function axesOf(def: Pick<ScenarioDef, 'variants' | 'variantAxes'>): readonly Axis[] {
  if (def.variantAxes === undefined) return [{ name: SINGLE_AXIS, values: def.variants }];
  return Object.entries(def.variantAxes).map(([name, values]) => ({ name, values }));
}

/** The per-axis variants of a variant name, what ScenarioRunInput.variants takes (undefined: single axis). */
export function runCellOf(def: ScenarioDef, variant: string): VariantCell | undefined {
  try {
    return cellOf(def, variant);
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  }
}

/** Like runCellOf, but a single-axis variant becomes `{ variant: name }` (matrix cells). */
export function matrixCellOf(def: ScenarioDef, variant: string): VariantCell {
  return runCellOf(def, variant) ?? { [SINGLE_AXIS]: variant };
}

/** `kvm-mmu-pml: pre-fix|merged × nvmx-cr3: pre-fix|rfc-muen|merged; default kvm-mmu-pml=merged,…` for `list`. */
export function describeAxes(def: ScenarioDef): string | undefined {
  const axes = def.variantAxes;
  if (axes === undefined) return undefined;
  const product = Object.entries(axes).map(([a, vs]) => `${a}: ${vs.join('|')}`).join(' × ');
  return `${product}; default ${variantCellName(axes, defaultCell(def) ?? {})}`;
}
