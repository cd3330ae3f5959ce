/**
 * Variant axes: a scenario that composes several plugins (say kvm-mmu-pml and nvmx-cr3) runs any
 * combination of their variants. A cell is named `axis=variant,axis=variant` in the order the
 * axes are declared, so the name is canonical (one cell, one name) and sorts the way a matrix
 * reads: first axis = rows, second = columns.
 */
import type { ScenarioDef } from './scenario.js';

export type VariantAxes = Readonly<Record<string, readonly string[]>>;
export type VariantCell = Readonly<Record<string, string>>;

/** The canonical name of a cell: every axis, in declaration order. */
export function variantCellName(axes: VariantAxes, cell: VariantCell): string {
  return Object.keys(axes).map((a) => `${a}=${cell[a] ?? ''}`).join(',');
}

/** Every cell of the product, first axis outermost (row-major for a 2-axis matrix). */
export function variantCells(axes: VariantAxes): readonly VariantCell[] {
  let cells: Record<string, string>[] = [{}];
  for (const [axis, values] of Object.entries(axes)) {
    cells = cells.flatMap((c) => values.map((v) => ({ ...c, [axis]: v })));
  }
  return cells;
}

/** Every cell's name, in variantCells order: what a multi-axis ScenarioDef lists as `variants`. */
export const variantCellNames = (axes: VariantAxes): readonly string[] => variantCells(axes).map((c) => variantCellName(axes, c));

/**
 * Parses `axis=variant[,axis=variant…]` against a scenario's axes. Axes not named take their
 * value from `defaults` (the default cell). Throws RangeError naming the bad part.
 */
export function parseVariantCell(axes: VariantAxes, text: string, defaults: VariantCell): VariantCell {
  const out: Record<string, string> = { ...defaults };
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const m = /^\s*([^=\s]+)\s*=\s*([^=\s]+)\s*$/.exec(part);
    if (m === null) throw new RangeError(`"${part}" is not axis=variant (axes: ${Object.keys(axes).join(', ')})`);
    const [, axis, value] = m as unknown as [string, string, string];
    // Own keys only: `constructor=x` must be an unknown axis, not Object.prototype's.
    const values = Object.hasOwn(axes, axis) ? axes[axis] : undefined;
    if (values === undefined) throw new RangeError(`no variant axis "${axis}" (axes: ${Object.keys(axes).join(', ')})`);
    if (seen.has(axis)) throw new RangeError(`variant axis "${axis}" is given twice`);
    if (!values.includes(value)) throw new RangeError(`axis ${axis} has no variant "${value}" (variants: ${values.join(', ')})`);
    seen.add(axis);
    out[axis] = value;
  }
  return out;
}

/** A scenario's default cell (parsed from its defaultVariant), or undefined for a single-axis scenario. */
export function defaultCell(def: Pick<ScenarioDef, 'variantAxes' | 'defaultVariant'>): VariantCell | undefined {
  if (def.variantAxes === undefined) return undefined;
  const first = Object.fromEntries(Object.entries(def.variantAxes).map(([a, v]) => [a, v[0] ?? '']));
  return parseVariantCell(def.variantAxes, def.defaultVariant, first);
}

/**
 * What `--variant TEXT` selects: `all` → every variant (every cell); for a scenario with axes,
 * `axis=variant,…` (missing axes from the default cell) or a whole cell name; otherwise one of
 * `variants`. Returns variant names as ScenarioRunInput.variant takes them. Throws RangeError.
 */
export function selectVariants(def: Pick<ScenarioDef, 'name' | 'variants' | 'variantAxes' | 'defaultVariant'>, text: string): readonly string[] {
  if (text.trim() === 'all') return def.variants;
  const axes = def.variantAxes;
  if (axes === undefined || !text.includes('=')) {
    if (def.variants.includes(text)) return [text];
    const hint = axes !== undefined ? ` (give axis=variant for ${Object.keys(axes).join(', ')}, or all)` : ` (variants: ${def.variants.join(', ')}, or all)`;
    throw new RangeError(`scenario ${def.name} has no variant "${text}"${hint}`);
  }
  return [variantCellName(axes, parseVariantCell(axes, text, defaultCell(def)!))];
}

/** The per-axis variants of a variant name (a cell name for a scenario with axes), or undefined. */
export function cellOf(def: Pick<ScenarioDef, 'variantAxes' | 'defaultVariant'>, variant: string): VariantCell | undefined {
  return def.variantAxes === undefined ? undefined : parseVariantCell(def.variantAxes, variant, defaultCell(def)!);
}
