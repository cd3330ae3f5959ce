/**
 * nested-migration's lead: pages lost per variant (both workloads, value labels, 0 shown as
 * 0), and per pre-copy round of the nested workload the pages the dirty log reported against
 * the pages the guest really wrote (the migration's own oracle, details.nested.precopy.rounds).
 */
import type { ResultJson } from '../../json-output.js';
import { at, figure, num, objects } from './read.js';
import type { LeadFigure, XyPanel } from './types.js';

const lost = (r: ResultJson, label: string): number | null => {
  const v = figure(r, label)?.value;
  return typeof v === 'number' ? v : null;
};

export function nestedMigrationLead(rs: readonly ResultJson[], id: string): LeadFigure | undefined {
  const r0 = rs[0];
  if (r0 === undefined) return undefined;
  const variants = rs.map((r) => r.variant);
  const rounds = rs.flatMap((r) => (objects(at(r.details, 'nested', 'precopy', 'rounds')) ?? []).map((x) => ({ variant: r.variant, round: num(x['round']), reported: num(x['dirtyPagesAtSync']), written: num(x['pagesWritten']), missed: num(x['writtenNotReported']) })));
  if (rounds.length === 0 || rounds.some((x) => x.round === undefined || x.reported === undefined || x.written === undefined || x.missed === undefined)) return undefined;
  const height = Math.max(110 + 40 * variants.length, 96 + 46 * rounds.length);
  const compared = num(at(r0.details, 'nested', 'precopy', 'pagesCompared'));
  const lostPanel: XyPanel = {
    kind: 'xy',
    title: 'Pages lost after the switch-over',
    horizontal: true,
    y: { name: 'variant', categories: variants },
    x: { name: compared !== undefined ? `pages lost (of ${compared} compared, nested)` : 'pages lost', min: 0 },
    series: [
      { name: 'nested L2 workload', type: 'bar', label: 'value', points: rs.map((r, i) => [i, lost(r, 'pages lost (nested L2 workload)')] as const) },
      { name: 'plain L1 workload', type: 'bar', label: 'value', points: rs.map((r, i) => [i, lost(r, 'pages lost (plain L1 workload)')] as const) },
    ],
    legend: true,
    height,
    weight: 1,
  };
  const cats = rounds.map((x) => `${x.variant}, round ${String(x.round)}`);
  const roundPanel: XyPanel = {
    kind: 'xy',
    title: 'Nested L2 workload, each round: reported vs really written',
    horizontal: true,
    y: { name: 'sync at the end of', categories: cats },
    x: { name: 'pages', min: 0 },
    series: [
      { name: 'reported dirty', type: 'bar', label: 'value', points: rounds.map((x, i) => [i, x.reported ?? null] as const) },
      { name: 'really written', type: 'bar', label: 'value', points: rounds.map((x, i) => [i, x.written ?? null] as const) },
      { name: 'written, not reported', type: 'bar', label: 'value', color: '#e15759', points: rounds.map((x, i) => [i, x.missed ?? null] as const) },
    ],
    legend: true,
    height,
    weight: 1.35,
  };
  return {
    id, scenario: r0.scenario, arch: r0.arch, columns: 2,
    title: `Pages lost per variant, and what the dirty log reported against what the guest wrote — ${r0.scenario} (${r0.arch})`,
    caption: 'Left: pages whose destination copy differs from the source after the migration (the plain L1 workload loses none in either variant). '
      + 'Right: at each pre-copy sync, the pages KVM_GET_DIRTY_LOG reported, the distinct pages the guest really wrote since the previous sync, and how many of those the log did not report. '
      + 'Pre-fix, PML logs L2 addresses as L1 frame numbers, so most written pages go unreported.',
    panels: [lostPanel, roundPanel],
  };
}
