/**
 * `kvmlab sweep --report`: report.html beside the summary — the summary tables, a histogram of
 * each key figure over the runs (one bar series per variant, on the same bins), and for a
 * randomised or --set sweep how often the bug struck against each drawn option (the "under
 * which parameters" question). Charts are the report module's ChartSpec, drawn by its SVG
 * renderer; every bar counts measured runs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChartSpec } from '../report/chart-specs/series-charts.js';
import { escapeHtml } from '../report/escape.js';
import { renderChartSvg } from '../report/render/series-chart-svg.js';
import type { RunLine } from './line.js';
import { forEachRun, REPORT_FILE, RUNS_FILE } from './store.js';
import { summaryText } from './summary-text.js';
import type { SweepSummary } from './summary.js';

/** Key figures charted: the headline and up to this many more whose value varies. */
const MORE_FIGURES = 5;
const BINS = 16;
const OPTION_BINS = 6;

interface Run {
  readonly cell: string;
  readonly bug: boolean;
  readonly options: RunLine['options'];
  readonly figures: ReadonlyMap<string, number>;
}

const cellName = (l: RunLine, setKeys: readonly string[]): string =>
  [l.variant, ...setKeys.map((k) => `${k}=${String(l.options[k])}`)].join(' ');

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3))));

function bins(values: readonly number[], n: number): { edges: number[]; names: string[] } {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  if (Number.isInteger(lo) && Number.isInteger(hi) && values.every(Number.isInteger) && hi - lo < n) {
    const edges = Array.from({ length: hi - lo + 2 }, (_, i) => lo + i - 0.5);
    return { edges, names: edges.slice(0, -1).map((e) => String(e + 0.5)) };
  }
  const w = (hi - lo) / n || 1;
  const edges = Array.from({ length: n + 1 }, (_, i) => lo + i * w);
  return { edges, names: edges.slice(0, -1).map((e, i) => `${fmt(e)}–${fmt(edges[i + 1]!)}`) };
}

const binOf = (edges: readonly number[], v: number): number => Math.min(edges.length - 2, Math.max(0, edges.findIndex((e, i) => v >= e && v < (edges[i + 1] ?? Infinity))));

function histogram(s: SweepSummary, runs: readonly Run[], cells: readonly string[], label: string, unit: string | undefined): ChartSpec | undefined {
  const all = runs.flatMap((r) => (r.figures.has(label) ? [r.figures.get(label)!] : []));
  if (all.length === 0) return undefined;
  const { edges, names } = bins(all, BINS);
  return {
    id: `sweep-hist-${label.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`,
    scenario: s.scenario,
    arch: s.arch,
    title: `${label}: distribution over ${all.length} runs`,
    caption: `How many runs of each variant measured each value of “${label}”.`,
    xLabel: unit !== undefined ? `${label} (${unit})` : label,
    yLabel: 'runs',
    kind: 'bar',
    categoryNames: names,
    lines: cells.map((c) => {
      const counts = names.map(() => 0);
      for (const r of runs) if (r.cell === c && r.figures.has(label)) counts[binOf(edges, r.figures.get(label)!)]!++;
      return { name: c, points: counts.map((n, i) => [i, n] as const) };
    }),
  };
}

function bugRateBy(s: SweepSummary, runs: readonly Run[], cells: readonly string[], option: string): ChartSpec | undefined {
  const vals = runs.map((r) => r.options[option]);
  if (vals.some((v) => v === undefined)) return undefined;
  const numeric = vals.every((v) => typeof v === 'number');
  const cats = numeric ? undefined : [...new Set(vals.map(String))].sort();
  const nums = numeric ? (vals as number[]) : [];
  const { edges, names } = numeric ? bins(nums, OPTION_BINS) : { edges: [], names: cats! };
  if (names.length < 2) return undefined;
  const slot = (v: RunLine['options'][string]): number => (numeric ? binOf(edges, v as number) : cats!.indexOf(String(v)));
  return {
    id: `sweep-bugrate-${option.toLowerCase()}`,
    scenario: s.scenario,
    arch: s.arch,
    title: `Runs reproducing the bug, by ${option}`,
    caption: `Share of runs with verdict bug-reproduced in each range of ${option} (drawn per run).`,
    xLabel: option,
    yLabel: '% of runs',
    kind: 'bar',
    categoryNames: names,
    lines: cells.map((c) => {
      const n = names.map(() => 0);
      const bug = names.map(() => 0);
      for (const r of runs) {
        if (r.cell !== c) continue;
        const i = slot(r.options[option]!);
        n[i]!++;
        if (r.bug) bug[i]!++;
      }
      return { name: c, points: n.map((k, i) => [i, k === 0 ? null : Math.round((bug[i]! / k) * 1000) / 10] as const) };
    }),
  };
}

export function writeSweepReport(dir: string, s: SweepSummary, version: string): string {
  const setKeys = s.set.map((a) => a.option);
  const runs: Run[] = [];
  forEachRun(join(dir, RUNS_FILE), (l) => {
    if (l.result === undefined) return;
    const figures = new Map<string, number>();
    for (const f of [l.result.headline, ...l.result.figures]) if (typeof f.value === 'number' && Number.isFinite(f.value)) figures.set(f.label, f.value);
    runs.push({ cell: cellName(l, setKeys), bug: l.result.verdict === 'bug-reproduced', options: l.options, figures });
  });
  const cells = [...new Set(runs.map((r) => r.cell))];
  const first = s.cells[0];
  const varying = (first?.figures ?? []).filter((f) => f.label !== first?.headline && s.cells.some((c) => c.figures.some((g) => g.label === f.label && g.min !== g.max)));
  const labels = [...(first?.headline ? [first.headline] : []), ...varying.slice(0, MORE_FIGURES).map((f) => f.label)];
  const units = new Map(s.cells.flatMap((c) => c.figures.map((f) => [f.label, f.unit] as const)));
  const charts: ChartSpec[] = labels.flatMap((l) => histogram(s, runs, cells, l, units.get(l)) ?? []);
  const options = [...(s.randomize ? Object.keys(s.distributions) : []), ...setKeys];
  charts.push(...options.flatMap((o) => bugRateBy(s, runs, cells, o) ?? []));
  const title = `kvmlab sweep ${s.scenario} (${s.arch}): ${s.recorded} runs`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:20px auto;max-width:1168px;color:#1d2433;padding:0 16px}
figure{margin:12px 0;border:1px solid #d8dde6;border-radius:6px;padding:8px}figure svg{max-width:100%;height:auto;display:block}
figcaption{color:#4a5568;font-size:13px}pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>kvmlab ${escapeHtml(version)}; ${s.seeds} seeds${s.randomize ? ', randomised workloads' : ''}.</p>
<h2>Summary</h2><pre>${escapeHtml(summaryText(s))}</pre>
<h2>Distributions</h2>
${charts.map((c) => `<figure id="${c.id}"><h3>${escapeHtml(c.title)}</h3>${renderChartSvg(c)}<figcaption>${escapeHtml(c.caption)}</figcaption></figure>`).join('\n')}
</body></html>
`;
  const file = join(dir, REPORT_FILE);
  writeFileSync(file, html);
  return file;
}
