/**
 * ptp-sync's lead: the true guest − host offset after the servo converged, every method (and
 * variant) on one axis and labelled at its end; beside it each method's true offset against
 * what the guest itself measured (mean ± SD, from the scenario's statistics); and the start-up
 * step on its own axis. From series `offset` / `measured` and details.methods.
 */
import type { ResultJson } from '../../json-output.js';
import { at, num, objects, seriesOf, str } from './read.js';
import type { LeadFigure, XyPanel, XySeries } from './types.js';

type Stats = { readonly mean: number; readonly sd: number };
const stats = (v: unknown): Stats | undefined => {
  const mean = num(at(v, 'meanNs'));
  const sd = num(at(v, 'sdNs'));
  return mean !== undefined && sd !== undefined ? { mean, sd } : undefined;
};

const round = (v: number): number => Math.round(v * 10) / 10;

export function ptpSyncLead(rs: readonly ResultJson[], id: string): LeadFigure | undefined {
  const r0 = rs[0];
  if (r0 === undefined) return undefined;
  const methods = rs.flatMap((r) => (objects(at(r.details, 'methods')) ?? []).map((m) => ({ r, label: str(m['label']), conv: num(m['convergenceS']), offset: stats(m['offset']), measured: stats(m['measured']) })));
  if (methods.length === 0 || methods.some((m) => m.label === undefined || m.conv === undefined || m.offset === undefined || m.measured === undefined)) return undefined;
  const converged = Math.max(...methods.map((m) => m.conv!));
  const name = (r: ResultJson, col: string): string => (rs.length > 1 ? `${r.variant}: ${col}` : col);
  const after: XySeries[] = [];
  let startup: XySeries | undefined;
  let tEnd = converged;
  for (const r of rs) {
    const s = seriesOf(r, 'offset');
    if (s === undefined) return undefined;
    for (const [col, ys] of Object.entries(s.y)) {
      const pts = s.x.flatMap((x, j) => (x === null ? [] : [[x, ys[j] ?? null] as const]));
      tEnd = Math.max(tEnd, ...pts.map(([x]) => x));
      after.push({ name: name(r, col), type: 'line', label: 'end', points: pts.filter(([x]) => x >= converged) });
      // Until the step every method's clock is the same (the step comes from the same first poll).
      startup ??= { name: name(r, col), type: 'line', points: pts.filter(([x]) => x <= converged * 1.5).map(([x, y]) => [x, y === null ? null : y / 1000] as const) };
    }
  }
  if (startup === undefined) return undefined;
  const biased = methods.map((m) => m.label!).find((l) => /half-delay/i.test(l));
  const cats = methods.map((m) => name(m.r, m.label!));
  const meanBars = (pick: 'offset' | 'measured'): XySeries => ({
    name: pick === 'offset' ? 'true offset' : 'what the guest measured',
    type: 'bar',
    label: 'value',
    points: methods.map((m, i) => [i, round(m[pick]!.mean)] as const),
    labels: methods.map((m) => `${round(m[pick]!.mean)} ± ${round(m[pick]!.sd)}`),
    color: pick === 'offset' ? '#e15759' : '#4e79a7',
  });
  const height = 290;
  const offsetPanel: XyPanel = {
    kind: 'xy', title: `True offset after convergence (t ≥ ${Math.round(converged)} s)`, legend: false, height, weight: 1.5,
    x: { name: 'virtual time (s)', min: Math.floor(converged), max: Math.ceil(tEnd) }, y: { name: 'guest − host (ns)' }, series: after,
  };
  const beliefPanel: XyPanel = {
    kind: 'xy', title: 'After convergence, mean ± SD: true vs measured', legend: true, height: 80 + 46 * cats.length, horizontal: true,
    y: { name: 'method', categories: cats }, x: { name: 'guest − host (ns)' }, series: [meanBars('offset'), meanBars('measured')],
  };
  const startPanel: XyPanel = {
    kind: 'xy', title: 'Start-up: the step to the host clock', legend: false, height, weight: 1,
    x: { name: 'virtual time (s)', min: 0, max: Math.ceil(converged * 1.5) }, y: { name: 'guest − host (µs)' }, series: [{ ...startup, name: 'every method' }],
  };
  return {
    id, scenario: r0.scenario, arch: r0.arch, columns: 2,
    title: `How far the guest clock really is from the host's, per method, and what the guest believed — ${r0.scenario} (${r0.arch})`,
    caption: 'Top left: the true offset of the disciplined guest clock after the servo converged, every method on one axis. '
      + `Below: each method's mean true offset next to the mean of the offsets the guest measured itself${biased !== undefined ? `: a biased method (${biased}) measures itself as centred` : ''}. `
      + `Top right: the first ${Math.ceil(converged * 1.5)} s, where every method starts ${Math.round((startup.points[0]?.[1] ?? 0))} µs off and steps at the same poll (the methods' curves coincide until then; the JSON has each).`,
    panels: [offsetPanel, startPanel, beliefPanel],
  };
}
