/**
 * The one place the report calls Apache ECharts: an option object in, a static SVG string out
 * (server-side rendering in Node, no script in the page). Text is set in Arial's metrics
 * (Liberation Sans where Arial is missing), which ECharts' own text measurement assumes in
 * Node, so labels it places apart stay apart in the browser.
 */
import type * as EChartsModule from 'echarts';
import { echarts } from './echarts-lib.js';

export const FONT = 'Arial, Liberation Sans, Helvetica, sans-serif';

/** Twenty distinguishable colours (Tableau 10, then D3's category colours), none repeated. */
export const PALETTE: readonly string[] = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
  '#1f77b4', '#8c564b', '#17becf', '#bcbd22', '#7f7f7f', '#d62728', '#2ca02c', '#9467bd', '#e377c2', '#ff7f0e',
];

export const hex = (v: number): string => `0x${Math.round(v).toString(16)}`;

/** Rough width of `text` at `size` px in Arial (for margins; ECharts measures the same way). */
export function textWidth(text: string, size = 12): number {
  let w = 0;
  for (const ch of text) w += /[ il.,:;|!'1]/.test(ch) ? 0.3 : /[A-Z#mw@%]/.test(ch) ? 0.75 : /[\x20-\x7e]/.test(ch) ? 0.56 : 1;
  return Math.ceil(w * size);
}

export function renderSvg(option: Record<string, unknown>, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, backgroundColor: '#ffffff', color: PALETTE, textStyle: { fontFamily: FONT }, ...option } as EChartsModule.EChartsCoreOption);
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
