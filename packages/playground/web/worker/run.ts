/**
 * Run one scenario in one variant or in all of them, as `kvmlab run` does (core's option
 * defaults, the cell of a variant-axes scenario), and draw the results with the report's own
 * chart specs and SVG renderers (cli/src/report): the lead figure first, then the other charts.
 */
import { cellOf, resolveScenarioOptions, type ScenarioDef } from '@kvmlab/hypervisor-core';
import { resultToJson, type ResultJson } from '../../../cli/src/json-output.js';
import { buildMatrix } from '../../../cli/src/matrix.js';
import { leadFor } from '../../../cli/src/report/chart-specs/leads.js';
import { chartSpecs, type ChartSpec } from '../../../cli/src/report/chart-specs/series-charts.js';
import { escapeHtml } from '../../../cli/src/report/escape.js';
import { LEAD_WIDTH, leadHtml } from '../../../cli/src/report/render/lead-html.js';
import { renderChartSvg } from '../../../cli/src/report/render/series-chart-svg.js';
import type { RunReport, RunRequest } from '../protocol.js';
import { stepsOf } from '../steps/index.js';
import { scenarioDef } from './catalog.js';

/** A secondary chart as the report shows one (report/html.ts draws the same figure). */
function chartHtml(c: ChartSpec, role: string): string {
  return `<figure class="chart" id="${escapeHtml(c.id)}" data-role="${role}" data-chart="${escapeHtml(c.title)}">
<h3>${escapeHtml(c.title)}</h3>
${renderChartSvg(c, LEAD_WIDTH)}
<figcaption>${escapeHtml(c.caption)} x axis: ${escapeHtml(c.xLabel)}; y axis: ${escapeHtml(c.yLabel)}.</figcaption>
</figure>`;
}

let last: { readonly def: ScenarioDef; readonly req: RunRequest; readonly results: readonly ResultJson[]; readonly rest: readonly ChartSpec[] } | undefined;

/** The lead figure of the last run (remembering its other charts for chartsHtml). */
export function leadFigureHtml(def: ScenarioDef, req: RunRequest, results: readonly ResultJson[]): string {
  if (results.length === 0) return '';
  const grids = def.variantAxes !== undefined && results.length > 1 ? [buildMatrix(def, req.arch, req.seed, results)] : [];
  const charts = chartSpecs(results);
  const lead = leadFor(results, grids, charts);
  last = { def, req, results, rest: lead?.kind === 'chart' ? charts.filter((c) => c !== lead.chart) : charts };
  return lead !== undefined ? leadHtml(lead, chartHtml) : '';
}

/** The last run's secondary charts. */
export function chartsHtml(): { html: string; count: number } {
  const rest = last?.rest ?? [];
  return { html: rest.map((c) => chartHtml(c, 'secondary')).join('\n'), count: rest.length };
}

export function runScenarios(req: RunRequest, progress: (fraction: number, label: string) => void): RunReport & { readonly def: ScenarioDef } {
  const t0 = performance.now();
  const def = scenarioDef(req.scenario, req.arch);
  if (def === undefined) throw new RangeError(`no scenario ${req.scenario} on ${req.arch}`);
  const options = resolveScenarioOptions(def, req.options);
  const results: ResultJson[] = [];
  const errors: { variant: string; message: string }[] = [];
  req.variants.forEach((variant, i) => {
    const label = `${def.name} ${variant}`;
    progress(i / req.variants.length, label);
    try {
      if (!def.variants.includes(variant)) throw new RangeError(`scenario ${def.name} has no variant "${variant}"`);
      const cell = def.variantAxes !== undefined ? cellOf(def, variant) : undefined;
      const r = def.run({
        variant, ...(cell !== undefined ? { variants: cell } : {}), arch: req.arch, seed: req.seed, options,
        onProgress: (f) => progress((i + f) / req.variants.length, label),
      });
      results.push(resultToJson(r, def.package, options));
    } catch (e) {
      errors.push({ variant, message: e instanceof Error ? e.message : String(e) });
    }
  });
  progress(1, 'done');
  return { def, results, errors, steps: results.map(stepsOf), ms: performance.now() - t0 };
}
