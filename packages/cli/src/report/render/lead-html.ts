/**
 * A lead figure as HTML: its heading, its panels in a grid (each an SVG drawn at the width it
 * is shown at, or the variant matrix as a table), and its caption. Each panel names its axes
 * in data attributes, so a test can find the CR3 and GPA axes.
 */
import type { Lead } from '../chart-specs/leads.js';
import type { ChartSpec } from '../chart-specs/series-charts.js';
import type { LeadFigure, Panel } from '../chart-specs/types.js';
import { escapeHtml } from '../escape.js';
import { matrixHtml } from '../matrix-html.js';
import { renderBitGridPanel } from './panel-bitgrid-svg.js';
import { renderLanesPanel } from './panel-lanes-svg.js';
import { renderXyPanel } from './panel-xy-svg.js';

/** Inner width of a lead figure on the page (see the report's CSS), and the gap between panels. */
export const LEAD_WIDTH = 1150;
export const PANEL_GAP = 8;

export const LEAD_CSS = `
figure.lead{margin:10px 0 14px;border:1px solid #d8dde6;border-radius:6px;padding:8px}
figure.lead h3{margin:2px 4px 8px}figure.lead .panels{display:grid;gap:${PANEL_GAP}px}
figure.lead .panel svg{display:block;max-width:100%;height:auto}figure.lead table.matrix{margin:0}`;

function axes(p: Panel): { x: string; y: string } {
  switch (p.kind) {
    case 'xy':
      return { x: p.x.name, y: p.y.name };
    case 'lanes':
      return { x: p.x.name, y: 'subject (its CR3)' };
    case 'bitgrid':
      return { x: p.columnAxis, y: p.rowAxis };
    case 'matrix':
      return { x: p.grid.columns ?? '', y: p.grid.rows ?? '' };
  }
}

function panelBody(p: Panel, width: number): string {
  switch (p.kind) {
    case 'xy':
      return renderXyPanel(p, width);
    case 'lanes':
      return renderLanesPanel(p, width);
    case 'bitgrid':
      return renderBitGridPanel(p, width);
    case 'matrix':
      return matrixHtml(p.grid, { caption: false });
  }
}

const weight = (p: Panel): number => (p.kind === 'matrix' ? 1 : (p.weight ?? 1));

function figureHtml(f: LeadFigure): string {
  const rows: Panel[][] = [];
  f.panels.forEach((p, i) => (i % f.columns === 0 ? rows.push([p]) : rows[rows.length - 1]!.push(p)));
  const body = rows.map((row) => {
    const total = row.reduce((a, p) => a + weight(p), 0);
    const free = LEAD_WIDTH - PANEL_GAP * (row.length - 1);
    const widths = row.map((p) => Math.floor((free * weight(p)) / total));
    const cells = row.map((p, i) => {
      const a = axes(p);
      return `<div class="panel" data-kind="${p.kind}" data-x-axis="${escapeHtml(a.x)}" data-y-axis="${escapeHtml(a.y)}">${panelBody(p, widths[i]!)}</div>`;
    });
    return `<div class="panels" style="grid-template-columns:${widths.map((w) => `${w}fr`).join(' ')}">${cells.join('')}</div>`;
  });
  return `<figure class="lead" id="${escapeHtml(f.id)}" data-scenario="${escapeHtml(f.scenario)}" data-arch="${escapeHtml(f.arch)}">
<h3>${escapeHtml(f.title)}</h3>
${body.join('\n')}
<figcaption>${escapeHtml(f.caption)}</figcaption>
</figure>`;
}

/** A fallback lead is one of the scenario's charts, drawn as charts are, marked as the lead. */
export function leadHtml(lead: Lead, chartHtml: (c: ChartSpec, role: string) => string): string {
  return lead.kind === 'figure' ? figureHtml(lead.figure) : chartHtml(lead.chart, 'lead');
}
