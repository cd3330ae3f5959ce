/**
 * report.html: one self-contained file (inline CSS and SVG, no script, no network). It opens
 * with the summary table, then one section per scenario and arch that starts with the
 * scenario's lead figure (chart-specs/leads.ts) — the one picture of its bug, pre-fix beside
 * the fix — and keeps the per-variant figure tables, the secondary charts and the raw details
 * in collapsed sections below it.
 */
import type { ResultJson } from '../json-output.js';
import type { MatrixGrid } from '../matrix.js';
import { formatFigure } from '../text-table.js';
import { leadFor } from './chart-specs/leads.js';
import { chartSpecs, type ChartSpec } from './chart-specs/series-charts.js';
import { escapeHtml } from './escape.js';
import { MATRIX_CSS } from './matrix-html.js';
import { LEAD_CSS, LEAD_WIDTH, leadHtml } from './render/lead-html.js';
import { renderChartSvg } from './render/series-chart-svg.js';

export { escapeHtml };

export interface ReportInput {
  readonly title: string;
  readonly kvmlabVersion: string;
  readonly seed: number;
  readonly results: readonly ResultJson[];
  readonly errors?: readonly { readonly scenario: string; readonly arch: string; readonly variant: string; readonly message: string }[];
  /** Grids of scenarios with variant axes: each leads its scenario's section. */
  readonly matrices?: readonly MatrixGrid[];
}

/** Longest details JSON shown per result (the JSON output keeps all of it). */
const DETAILS_LIMIT = 20_000;

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:20px auto;max-width:1168px;color:#1d2433;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:22px 0 6px;border-bottom:1px solid #d8dde6;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 6px}table{border-collapse:collapse;margin:8px 0 12px;width:100%}
th,td{border:1px solid #d8dde6;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f5f9}
table.summary td{font-size:13px}
.verdict{display:inline-block;border-radius:4px;padding:0 6px;font-weight:600;font-size:12px;white-space:nowrap}
.v-bug-reproduced{background:#fde2e1;color:#9b1c1c}.v-ok,.v-pass{background:#def7e5;color:#14532d}.v-fail{background:#9b1c1c;color:#fff}
figure.chart{margin:12px 0;border:1px solid #d8dde6;border-radius:6px;padding:8px}figure.chart svg{max-width:100%;height:auto;display:block}
figure.chart h3{margin:2px 4px 6px}
figcaption{color:#4a5568;margin:4px 4px 0;font-size:13px}pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:320px;font-size:12px}
details.more{margin:4px 0 8px}details.more>summary{cursor:pointer;color:#1f4b99;padding:2px 0}
.meta{color:#4a5568}${MATRIX_CSS}${LEAD_CSS}`;

function verdict(v: string): string {
  return `<span class="verdict v-${escapeHtml(v)}">${escapeHtml(v)}</span>`;
}

function chartHtml(c: ChartSpec, role: string): string {
  return `<figure class="chart" id="${c.id}" data-role="${role}" data-chart="${escapeHtml(c.title)}" data-x-axis="${escapeHtml(c.xLabel)}" data-y-axis="${escapeHtml(c.yLabel)}">
<h3>${escapeHtml(c.title)}</h3>
${renderChartSvg(c, LEAD_WIDTH)}
<figcaption>${escapeHtml(c.caption)} x axis: ${escapeHtml(c.xLabel)}; y axis: ${escapeHtml(c.yLabel)}.</figcaption>
</figure>`;
}

function resultHtml(r: ResultJson): string {
  const figures = [r.headline, ...r.figures.filter((f) => f.label !== r.headline.label)];
  const rows = figures.map((f) => `<tr><td>${escapeHtml(f.label)}</td><td>${escapeHtml(formatFigure(f))}</td></tr>`).join('');
  let details = JSON.stringify(r.details, null, 2);
  if (details.length > DETAILS_LIMIT) details = `${details.slice(0, DETAILS_LIMIT)}\n… (truncated; run with --json for all of it)`;
  const opts = Object.entries(r.options).map(([k, v]) => `${k}=${String(v)}`).join(', ');
  return `<h3>${escapeHtml(r.variant)} ${verdict(r.verdict)}</h3>
<p>${escapeHtml(r.summary)}</p>
<p class="meta">package ${escapeHtml(r.package)}; seed ${r.seed}${opts ? `; options ${escapeHtml(opts)}` : ''}</p>
<table><tr><th>figure</th><th>value</th></tr>${rows}</table>
<details><summary>details</summary><pre>${escapeHtml(details)}</pre></details>`;
}

function sectionHtml(rs: readonly ResultJson[], charts: readonly ChartSpec[], grids: readonly MatrixGrid[]): string {
  const first = rs[0]!;
  const own = charts.filter((c) => c.scenario === first.scenario && c.arch === first.arch);
  const lead = leadFor(rs, grids, own);
  const rest = lead?.kind === 'chart' ? own.filter((c) => c !== lead.chart) : own;
  const more = [
    `<details class="more"><summary>Figures and details of each variant (${rs.length})</summary>\n${rs.map(resultHtml).join('\n')}\n</details>`,
    ...(rest.length > 0 ? [`<details class="more"><summary>More charts (${rest.length})</summary>\n${rest.map((c) => chartHtml(c, 'secondary')).join('\n')}\n</details>`] : []),
  ];
  return `<section data-scenario="${escapeHtml(first.scenario)}" data-arch="${first.arch}"><h2>${escapeHtml(`${first.scenario} (${first.arch})`)}</h2>
${lead !== undefined ? leadHtml(lead, chartHtml) : ''}
${more.join('\n')}</section>`;
}

export function renderReportHtml(input: ReportInput): string {
  const charts = chartSpecs(input.results);
  const summary = input.results
    .map((r) => `<tr><td>${escapeHtml(r.scenario)}</td><td>${r.arch}</td><td>${escapeHtml(r.variant)}</td><td>${verdict(r.verdict)}</td><td>${escapeHtml(`${r.headline.label}: ${formatFigure(r.headline)}`)}</td><td>${escapeHtml(r.summary)}</td></tr>`)
    .join('\n');
  const errors = (input.errors ?? []).map((e) => `<li>${escapeHtml(`${e.scenario} (${e.arch}, ${e.variant}): ${e.message}`)}</li>`).join('');
  const groups = new Map<string, ResultJson[]>();
  for (const r of input.results) groups.set(`${r.scenario}|${r.arch}`, [...(groups.get(`${r.scenario}|${r.arch}`) ?? []), r]);
  const sections = [...groups.values()].map((rs) => sectionHtml(rs, charts, input.matrices ?? []));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(input.title)}</title><style>${CSS}</style></head>
<body>
<h1>${escapeHtml(input.title)}</h1>
<p class="meta">kvmlab ${escapeHtml(input.kvmlabVersion)}; seed ${input.seed}; ${input.results.length} run(s). Every figure was measured from the model in virtual time. Each section opens with the one figure that shows its bug; the tables and further charts are folded under it.</p>
<h2>Summary</h2>
<table class="summary"><tr><th>scenario</th><th>arch</th><th>variant</th><th>verdict</th><th>key figure</th><th>summary</th></tr>
${summary}</table>
${errors ? `<h2>Runs that failed</h2><ul>${errors}</ul>` : ''}
${sections.join('\n')}
</body></html>
`;
}
