/**
 * The lead figure of each scenario section: the figure designed for it (lead-*.ts), or a
 * scenario with variant axes its grid, or else the first of its secondary charts — its key
 * figure per variant when it has one (chartSpecs puts that first).
 */
import type { ResultJson } from '../../json-output.js';
import type { MatrixGrid } from '../../matrix.js';
import { matrixLead } from './lead-matrix.js';
import { nestedMigrationLead } from './lead-nested-migration.js';
import { nvmxHltCr3Lead } from './lead-nvmx-hlt-cr3.js';
import { ptpSyncLead } from './lead-ptp-sync.js';
import { vmxDirtyLogLead } from './lead-vmx-dirty-log.js';
import type { ChartSpec } from './series-charts.js';
import type { LeadFigure } from './types.js';

export type Lead = { readonly kind: 'figure'; readonly figure: LeadFigure } | { readonly kind: 'chart'; readonly chart: ChartSpec };

const BUILDERS: Readonly<Record<string, (rs: readonly ResultJson[], id: string) => LeadFigure | undefined>> = {
  'nvmx-hlt-cr3': nvmxHltCr3Lead,
  'vmx-dirty-log': vmxDirtyLogLead,
  'nested-migration': nestedMigrationLead,
  'ptp-sync': ptpSyncLead,
};

/** `rs`: one scenario's results on one arch; `charts`: its secondary charts, in order. */
export function leadFor(rs: readonly ResultJson[], grids: readonly MatrixGrid[], charts: readonly ChartSpec[]): Lead | undefined {
  const r0 = rs[0];
  if (r0 === undefined) return undefined;
  const id = `lead-${r0.scenario}-${r0.arch}`;
  const grid = grids.find((g) => g.scenario === r0.scenario && g.arch === r0.arch);
  const figure = grid !== undefined ? matrixLead(grid, id) : BUILDERS[r0.scenario]?.(rs, id);
  if (figure !== undefined) return { kind: 'figure', figure };
  const chart = charts[0];
  return chart !== undefined ? { kind: 'chart', chart } : undefined;
}
