/**
 * report.html: one self-contained file (inline CSS and SVG, no script, no network) with a
 * summary table, each scenario's variant matrix when one is given, each result's figures, and
 * the charts of chartSpecs().
 */
import type { ResultJson } from '../json-output.js';
import type { MatrixGrid } from '../matrix.js';
import { formatFigure } from '../text-table.js';
import { chartSpecs, renderChartSvg, type ChartSpec } from './charts.js';
import { escapeHtml } from './escape.js';
import { MATRIX_CSS, matrixHtml } from './matrix-html.js';

export { escapeHtml };

export interface ReportInput {
  readonly title: string;
  readonly kvmlabVersion: string;
  readonly seed: number;
  readonly results: readonly ResultJson[];
  readonly errors?: readonly { readonly scenario: string; readonly arch: string; readonly variant: string; readonly message: string }[];
  /** Grids shown at the top of their scenario's section, above the per-variant results. */
  readonly matrices?: readonly MatrixGrid[];
}

/** Longest details JSON shown per result (the JSON output keeps all of it). */
const DETAILS_LIMIT = 20_000;

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:980px;color:#1d2433;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #d8dde6;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}table{border-collapse:collapse;margin:8px 0 12px;width:100%}
th,td{border:1px solid #d8dde6;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f5f9}
.verdict{display:inline-block;border-radius:4px;padding:0 6px;font-weight:600;font-size:12px}
.v-bug-reproduced{background:#fde2e1;color:#9b1c1c}.v-ok,.v-pass{background:#def7e5;color:#14532d}.v-fail{background:#9b1c1c;color:#fff}
figure.chart{margin:16px 0;border:1px solid #d8dde6;border-radius:6px;padding:8px}figure.chart svg{max-width:100%;height:auto;display:block}
figcaption{color:#4a5568;margin-top:4px}pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:320px;font-size:12px}
.meta{color:#4a5568}${MATRIX_CSS}`;

function verdict(v: string): string {
  return `<span class="verdict v-${escapeHtml(v)}">${escapeHtml(v)}</span>`;
}

function chartHtml(c: ChartSpec): string {
  return `<figure class="chart" id="${c.id}" data-chart="${escapeHtml(c.title)}">
<h3>${escapeHtml(c.title)}</h3>
${renderChartSvg(c)}
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

export function renderReportHtml(input: ReportInput): string {
  const charts = chartSpecs(input.results);
  const summary = input.results
    .map((r) => `<tr><td>${escapeHtml(r.scenario)}</td><td>${r.arch}</td><td>${escapeHtml(r.variant)}</td><td>${verdict(r.verdict)}</td><td>${escapeHtml(`${r.headline.label}: ${formatFigure(r.headline)}`)}</td><td>${escapeHtml(r.summary)}</td></tr>`)
    .join('\n');
  const errors = (input.errors ?? []).map((e) => `<li>${escapeHtml(`${e.scenario} (${e.arch}, ${e.variant}): ${e.message}`)}</li>`).join('');
  const groups = new Map<string, ResultJson[]>();
  for (const r of input.results) {
    const k = `${r.scenario} (${r.arch})`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const sections = [...groups].map(([k, rs]) => {
    const first = rs[0]!;
    const cs = charts.filter((c) => c.scenario === first.scenario && c.arch === first.arch);
    const grids = (input.matrices ?? []).filter((m) => m.scenario === first.scenario && m.arch === first.arch).map((m) => `${matrixHtml(m)}\n`);
    return `<section><h2>${escapeHtml(k)}</h2>\n${grids.join('')}${rs.map(resultHtml).join('\n')}\n${cs.map(chartHtml).join('\n')}</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(input.title)}</title><style>${CSS}</style></head>
<body>
<h1>${escapeHtml(input.title)}</h1>
<p class="meta">kvmlab ${escapeHtml(input.kvmlabVersion)}; seed ${input.seed}; ${input.results.length} run(s), ${charts.length} chart(s). Every figure was measured from the model in virtual time.</p>
<h2>Summary</h2>
<table><tr><th>scenario</th><th>arch</th><th>variant</th><th>verdict</th><th>key figure</th><th>summary</th></tr>
${summary}</table>
${errors ? `<h2>Runs that failed</h2><ul>${errors}</ul>` : ''}
${sections.join('\n')}
</body></html>
`;
}
