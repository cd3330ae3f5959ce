/**
 * The variant matrix of one scenario on one arch: each variant's verdict and key figures placed
 * on the grid of its axes. With two axes the first is the rows and the second the columns (the
 * order core names cells in); with one axis, or more than two, one row per variant. The text
 * table, the HTML grid and the `matrix` JSON document are all drawn from this one shape.
 */
import { variantCellName, type Arch, type ScenarioDef, type VariantCell } from '@kvmlab/hypervisor-core';
import type { ScenarioCatalog } from './catalog.js';
import { SCHEMA_VERSION, type MatrixCellJson, type MatrixOutputJson, type ResultJson } from './json-output.js';
import { axesOf, matrixCellOf, type Axis } from './variants.js';

/** A variant with no result (its demo run threw): the grid still shows where it sits. */
export interface MissingCell {
  readonly variant: string;
  readonly variants: VariantCell;
  readonly verdict: 'error';
}
export type GridCell = MatrixCellJson | MissingCell;
export const isMissing = (c: GridCell): c is MissingCell => c.verdict === 'error';

export interface MatrixGrid {
  readonly scenario: string;
  readonly package: string;
  readonly arch: Arch;
  readonly seed: number;
  readonly axes: readonly Axis[];
  /** Set only with exactly two axes: the axis whose values are the rows / the columns. */
  readonly rows?: string;
  readonly columns?: string;
  /** cells[r][c]. */
  readonly cells: readonly (readonly GridCell[])[];
  /** What each cell's values are: the headline's label, then the scenario's matrixFigures. */
  readonly legend: readonly string[];
}

function cellFrom(def: ScenarioDef, r: ResultJson): MatrixCellJson {
  const figure = (label: string): MatrixCellJson['figures'][number] => {
    const f = label === r.headline.label ? r.headline : r.figures.find((x) => x.label === label);
    return f !== undefined ? { ...f } : { label, value: null };
  };
  return { variant: r.variant, variants: { ...matrixCellOf(def, r.variant) }, verdict: r.verdict, headline: { ...r.headline }, figures: (def.matrixFigures ?? []).map(figure) };
}

/** The grid of `def` on `arch` from whichever of its results are in `results`. */
export function buildMatrix(def: ScenarioDef, arch: Arch, seed: number, results: readonly ResultJson[]): MatrixGrid {
  const byVariant = new Map(results.filter((r) => r.scenario === def.name && r.arch === arch).map((r) => [r.variant, r]));
  const cell = (variant: string): GridCell => {
    const r = byVariant.get(variant);
    return r === undefined ? { variant, variants: matrixCellOf(def, variant), verdict: 'error' } : cellFrom(def, r);
  };
  const axes = axesOf(def);
  const headline = [...byVariant.values()][0]?.headline.label;
  const legend = [...(headline !== undefined ? [headline] : []), ...(def.matrixFigures ?? [])];
  const base = { scenario: def.name, package: def.package, arch, seed, axes, legend };
  if (def.variantAxes !== undefined && axes.length === 2) {
    const [rows, columns] = axes as readonly [Axis, Axis];
    const cells = rows.values.map((rv) => columns.values.map((cv) => cell(variantCellName(def.variantAxes!, { [rows.name]: rv, [columns.name]: cv }))));
    return { ...base, rows: rows.name, columns: columns.name, cells };
  }
  return { ...base, cells: def.variants.map((v) => [cell(v)]) };
}

/** The `matrix` JSON document of a complete grid (every variant ran), keys in a fixed order. */
export function matrixDocument(grid: MatrixGrid, kvmlabVersion: string, results: readonly ResultJson[]): MatrixOutputJson {
  const cells = grid.cells.map((row) =>
    row.map((c) => {
      if (isMissing(c)) throw new Error(`matrix of ${grid.scenario} (${grid.arch}): variant ${c.variant} has no result`);
      return c;
    }),
  );
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'matrix',
    kvmlabVersion,
    scenario: grid.scenario,
    package: grid.package,
    arch: grid.arch,
    seed: grid.seed,
    axes: grid.axes.map((a) => ({ name: a.name, values: [...a.values] })),
    ...(grid.rows !== undefined && grid.columns !== undefined ? { rows: grid.rows, columns: grid.columns } : {}),
    cells,
    results: [...results],
  };
}

/** The demo's grids: one per scenario with variant axes, per arch it ran on (single-axis ones get none). */
export function demoMatrices(catalog: ScenarioCatalog, seed: number, results: readonly ResultJson[]): readonly MatrixGrid[] {
  return catalog.entries().flatMap((e) =>
    e.defs
      .filter((d) => d.variantAxes !== undefined)
      .flatMap((d) => d.arches.filter((a) => results.some((r) => r.scenario === d.name && r.arch === a)).map((a) => buildMatrix(d, a, seed, results))),
  );
}
