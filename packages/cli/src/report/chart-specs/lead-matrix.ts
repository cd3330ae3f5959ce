/**
 * A scenario with variant axes leads with its grid of cells: verdict colour, headline and the
 * scenario's matrixFigures per cell (the same MatrixGrid the text table and the JSON use).
 */
import type { MatrixGrid } from '../../matrix.js';
import type { LeadFigure } from './types.js';

export function matrixLead(grid: MatrixGrid, id: string): LeadFigure {
  const dims = grid.rows !== undefined && grid.columns !== undefined ? `rows ${grid.rows}, columns ${grid.columns}` : 'one row per variant';
  return {
    id, scenario: grid.scenario, arch: grid.arch, columns: 1,
    title: `Every combination of ${grid.axes.map((a) => a.name).join(' × ')}, seed ${grid.seed} — ${grid.scenario} (${grid.arch})`,
    caption: `One cell per variant (${dims}), coloured by its verdict; each cell lists ${grid.legend.join(', ')}.`,
    panels: [{ kind: 'matrix', grid }],
  };
}
