/**
 * A variant matrix as terminal text: with two axes a grid (rows = first axis, columns = second,
 * each cell the verdict and its values), otherwise one row per variant with a column per axis
 * and per figure. A legend line says what the values in a grid cell are.
 */
import type { MatrixCellJson } from './json-output.js';
import { isMissing, type GridCell, type MatrixGrid } from './matrix.js';
import { formatFigure, textTable } from './text-table.js';
import { SINGLE_AXIS } from './variants.js';

/** A figure's value for a cell: its value and unit, or — when the result has no such figure. */
export const cellValue = (f: MatrixCellJson['headline']): string => (f.value === null ? '—' : formatFigure(f));

const values = (c: GridCell): readonly string[] => (isMissing(c) ? [] : [c.headline, ...c.figures].map(cellValue));

export function renderMatrixText(grid: MatrixGrid): string {
  const count = grid.cells.reduce((n, row) => n + row.length, 0);
  const axes = grid.axes.length > 1 || grid.axes[0]?.name !== SINGLE_AXIS ? `, ${grid.axes.map((a) => a.name).join(' × ')}` : '';
  const title = `${grid.scenario} (${grid.arch}, seed ${grid.seed}): ${count} variants${axes}\n`;
  if (grid.rows !== undefined && grid.columns !== undefined) {
    const [rowAxis, colAxis] = grid.axes;
    const header = [`${grid.rows} \\ ${grid.columns}`, ...(colAxis?.values ?? [])];
    const rows = grid.cells.map((row, i) => [rowAxis?.values[i] ?? '', ...row.map((c) => [c.verdict, values(c).join(' / ')].join(' ').trimEnd())]);
    return `${title}${textTable(header, rows)}each cell: verdict, then ${grid.legend.join(' / ')}\n`;
  }
  const header = [...grid.axes.map((a) => a.name), 'verdict', ...grid.legend];
  const rows = grid.cells.flat().map((c) => [...grid.axes.map((a) => c.variants[a.name] ?? ''), c.verdict, ...values(c)]);
  return title + textTable(header, rows);
}
