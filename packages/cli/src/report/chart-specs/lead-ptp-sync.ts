/**
 * ptp-sync's lead: the true guest − host offset after the servo converged, every ptp_kvm method
 * of every variant on one axis and labelled at its end; beside it the start-up step; below, each
 * method's true offset against what the guest itself measured (mean ± SD, from the scenario's
 * statistics), so a biased method (the RFC's half delay) shows as centred in its own eyes; and,
 * when the `none` variant ran, the NTP-only guest on its own axis in µs (it never converges to
 * the ns scale of the others). From series `offset` / `measured` and details.methods.
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

/** A method without ptp_kvm (NTP over the virtual NIC): drawn on its own µs panel. */
const isNtp = (m: Readonly<Record<string, unknown>>): boolean => m['method'] === 'ntp';

export function ptpSyncLead(rs: readonly ResultJson[], id: string): LeadFigure | undefined {
  const r0 = rs[0];
  if (r0 === undefined) return undefined;
  const all = rs.flatMap((r) => (objects(at(r.details, 'methods')) ?? []).map((m) => ({ r, ntp: isNtp(m), label: str(m['label']), conv: m['convergenceS'] === null ? null : num(m['convergenceS']), offset: stats(m['offset']), measured: stats(m['measured']) })));
  if (all.length === 0 || all.some((m) => m.label === undefined || m.conv === undefined || m.offset === undefined || m.measured === undefined)) return undefined;
  const methods = all.filter((m) => !m.ntp);
  const ntp = all.filter((m) => m.ntp);
  const phcResults = rs.filter((r) => methods.some((m) => m.r === r));
  const convs = methods.flatMap((m) => (m.conv === null ? [] : [m.conv!]));
  if (methods.length === 0 || convs.length === 0) return undefined;
  const converged = Math.max(...convs);
  const name = (r: ResultJson, col: string): string => (rs.length > 1 ? `${r.variant}: ${col}` : col);
  const after: XySeries[] = [];
  let startup: XySeries | undefined;
  let tEnd = converged;
  for (const r of phcResults) {
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
    // Beside the NTP panel (variant none) it keeps two thirds of the row, so its value labels fit.
    kind: 'xy', title: 'After convergence, mean ± SD: true vs measured', legend: true, height: Math.max(80 + 46 * cats.length, ntp.length > 0 ? 290 : 0), horizontal: true, weight: 2,
    y: { name: 'method', categories: cats }, x: { name: 'guest − host (ns)' }, series: [meanBars('offset'), meanBars('measured')],
  };
  const startPanel: XyPanel = {
    kind: 'xy', title: 'Start-up: the step to the host clock', legend: false, height, weight: 1,
    x: { name: 'virtual time (s)', min: 0, max: Math.ceil(converged * 1.5) }, y: { name: 'guest − host (µs)' }, series: [{ ...startup, name: 'every method' }],
  };
  // Without ptp_kvm: the NTP guest's true and measured offset over the run, in µs, after its start-up step.
  const ntpPanels: XyPanel[] = [];
  for (const m of ntp) {
    const off = seriesOf(m.r, 'offset');
    const meas = seriesOf(m.r, 'measured');
    const col = m.label!;
    if (off === undefined || meas === undefined || off.y[col] === undefined || meas.y[col] === undefined) continue;
    const skip = converged * 1.5; // past the shared start-up step
    const pts = (xs: readonly (number | null)[], ys: readonly (number | null)[]) =>
      xs.flatMap((x, j) => (x === null || x < skip ? [] : [[x, ys[j] === null || ys[j] === undefined ? null : round(ys[j]! / 1000)] as const]));
    ntpPanels.push({
      kind: 'xy', title: `Without ptp_kvm: ${col} (µs)`,
      legend: true, height: Math.max(height, 80 + 46 * cats.length), weight: 1,
      x: { name: 'virtual time (s)', min: Math.floor(skip) }, y: { name: 'guest − host (µs)' },
      series: [
        { name: 'true offset', type: 'line', points: pts(off.x, off.y[col]!), color: '#e15759' },
        { name: 'what the guest measured', type: 'line', points: pts(meas.x, meas.y[col]!), color: '#4e79a7' },
      ],
    });
  }
  return {
    id, scenario: r0.scenario, arch: r0.arch, columns: 2,
    title: `How far the guest clock really is from the host's, per method, and what the guest believed — ${r0.scenario} (${r0.arch})`,
    caption: 'Top left: the true offset of the disciplined guest clock after the servo converged, every ptp_kvm method on one axis. '
      + `Below: each method's mean true offset next to the mean of the offsets the guest measured itself${biased !== undefined ? `: a biased method (${biased}) measures itself as centred` : ''}. `
      + `Top right: the first ${Math.ceil(converged * 1.5)} s, where every method starts ${Math.round((startup.points[0]?.[1] ?? 0))} µs off and steps at the same poll (the methods' curves coincide until then; the JSON has each).`
      + (ntpPanels.length > 0 ? ' Last: a guest without ptp_kvm, on NTP over virtio-net, in µs — three orders of magnitude off the others, and its own θ hides the path asymmetry.' : ''),
    panels: [offsetPanel, startPanel, beliefPanel, ...ntpPanels],
  };
}
