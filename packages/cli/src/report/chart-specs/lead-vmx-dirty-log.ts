/**
 * vmx-dirty-log's lead: per variant the selftest's sync × page grid of slot 1, the dirty bit
 * its checks expect next to the one KVM_GET_DIRTY_LOG reported, the failing check's cell
 * marked, and the test's message. From details.bits (and the result's summary line).
 */
import type { ResultJson } from '../../json-output.js';
import { at, num, numbers, objects, strings } from './read.js';
import type { BitGridPanel, LeadFigure } from './types.js';

const bit = (v: number | undefined): 0 | 1 | null => (v === 0 || v === 1 ? v : null);

function panelFor(r: ResultJson): BitGridPanel | undefined {
  const pages = strings(at(r.details, 'bits', 'pageGpas'));
  const planned = num(at(r.details, 'bits', 'syncsPlanned'));
  const syncs = objects(at(r.details, 'bits', 'syncs'));
  if (pages === undefined || planned === undefined || syncs === undefined) return undefined;
  const bySync = new Map(syncs.map((s) => [s['sync'], s]));
  const cells: BitGridPanel['cells'][number][] = [];
  for (let column = 0; column < planned; column++) {
    const s = bySync.get(column + 1);
    const expected = numbers(s?.['expected']);
    const reported = numbers(s?.['reported']);
    pages.forEach((_, row) => {
      cells.push({ row, column, expected: bit(expected?.[row]), reported: bit(reported?.[row]), failed: s !== undefined && s['failedPage'] === row });
    });
  }
  return {
    kind: 'bitgrid',
    title: `${r.variant}: ${r.headline.label} ${String(r.headline.value)}`,
    rowAxis: 'page of slot 1 (GPA)',
    rows: pages,
    columnAxis: 'GUEST_SYNC',
    columns: Array.from({ length: planned }, (_, i) => String(i + 1)),
    cells,
    message: r.summary,
    height: 52 * pages.length + 118,
  };
}

export function vmxDirtyLogLead(rs: readonly ResultJson[], id: string): LeadFigure | undefined {
  const panels = rs.map(panelFor);
  if (panels.length === 0 || panels.some((p) => p === undefined)) return undefined;
  const r0 = rs[0]!;
  return {
    id, scenario: r0.scenario, arch: r0.arch, columns: Math.min(2, panels.length),
    title: `Dirty bits of slot 1 at each GUEST_SYNC: what the selftest expects (E) and what KVM_GET_DIRTY_LOG reported (R) — ${r0.scenario} (${r0.arch})`,
    caption: 'Each cell is one page of slot 1 at one sync: E is the bit the test\'s checks require, R the bit the dirty log reported (1 set, 0 clear). '
      + 'A red R differs from E; the outlined cell is the check that failed; grey syncs never ran because the test stopped. Under each grid, the test\'s own result line.',
    panels: panels as BitGridPanel[],
  };
}
