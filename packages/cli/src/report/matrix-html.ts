/**
 * A variant matrix in the report: with two axes an HTML grid (rows one axis, columns the other),
 * each cell coloured by its verdict with the same classes the report's verdict labels use, so a
 * reader sees at a glance which combinations reproduce a bug; else one row per variant.
 */
import { cellValue } from '../matrix-text.js';
import { isMissing, type GridCell, type MatrixGrid } from '../matrix.js';
import { escapeHtml } from './escape.js';

export const MATRIX_CSS = `
table.matrix td.mcell{font-size:12px}table.matrix td.mcell strong{display:block;font-size:13px}
table.matrix th.axis{font-weight:400;color:#4a5568;white-space:nowrap}table.matrix caption{text-align:left;font-weight:600;padding:4px 0}.v-error{background:#e5e7eb;color:#374151}`;

function cellHtml(c: GridCell): string {
  const lines = isMissing(c) ? ['the run failed (see above)'] : [c.headline, ...c.figures].map((f) => `${f.label}: ${cellValue(f)}`);
  const body = lines.map((l) => `<span>${escapeHtml(l)}</span>`).join('<br>');
  return `<td class="mcell v-${escapeHtml(c.verdict)}" data-variant="${escapeHtml(c.variant)}"><strong>${escapeHtml(c.verdict)}</strong>${body}</td>`;
}

/** `caption: false` when a heading right above already names the grid (the report's lead figure). */
export function matrixHtml(grid: MatrixGrid, opts: { readonly caption?: boolean } = {}): string {
  const caption = opts.caption === false ? '' : `<caption>Variant matrix of ${escapeHtml(grid.scenario)} (${grid.arch}), seed ${grid.seed}: ${escapeHtml(grid.axes.map((a) => a.name).join(' × '))}</caption>`;
  const open = `<table class="matrix" data-scenario="${escapeHtml(grid.scenario)}" data-arch="${grid.arch}">${caption}`;
  if (grid.rows !== undefined && grid.columns !== undefined) {
    const [rowAxis, colAxis] = grid.axes;
    const head = `<tr><th class="axis">${escapeHtml(`${grid.rows} \\ ${grid.columns}`)}</th>${(colAxis?.values ?? []).map((v) => `<th>${escapeHtml(v)}</th>`).join('')}</tr>`;
    const rows = grid.cells.map((row, i) => `<tr><th>${escapeHtml(rowAxis?.values[i] ?? '')}</th>${row.map(cellHtml).join('')}</tr>`);
    return `${open}\n${head}\n${rows.join('\n')}\n</table>`;
  }
  const head = `<tr>${grid.axes.map((a) => `<th class="axis">${escapeHtml(a.name)}</th>`).join('')}<th>result</th></tr>`;
  const rows = grid.cells.flat().map((c) => `<tr>${grid.axes.map((a) => `<th>${escapeHtml(c.variants[a.name] ?? '')}</th>`).join('')}${cellHtml(c)}</tr>`);
  return `${open}\n${head}\n${rows.join('\n')}\n</table>`;
}
