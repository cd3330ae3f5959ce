/**
 * A secondary chart (series-charts.ts) as one SVG: named axes, a plain legend (above the plot
 * for up to four series, else in a column beside it; never paged), value labels on bars (0
 * shown as 0), x running over the data only, and CR3 / GPA values in hex — on a category axis
 * of the distinct values when there are few, so nearby addresses do not collapse into one.
 * The title is the figure's heading in the page, not part of the SVG.
 */
import type { ChartLine, ChartSpec } from '../chart-specs/series-charts.js';
import { hex, renderSvg, textWidth } from './echarts-svg.js';

export const CHART_WIDTH = 1100;
export const CHART_HEIGHT = 360;
/** Most distinct y values drawn as categories on a hex axis. */
const MAX_HEX_CATEGORIES = 40;

function extent(lines: readonly ChartLine[], pick: (p: readonly [number, number | null]) => number | null): readonly [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of lines) for (const p of l.points) {
    const v = pick(p);
    if (v === null || !Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

export function renderChartSvg(spec: ChartSpec, width = CHART_WIDTH, height = CHART_HEIGHT): string {
  const bar = spec.kind === 'bar';
  const many = spec.lines.some((l) => l.points.length > 60);
  const categories = bar ? [...new Set(spec.lines.flatMap((l) => l.points.map(([x]) => x)))].sort((a, b) => a - b) : [];
  const hexY = spec.yFormat === 'hex';
  const distinctY = hexY ? [...new Set(spec.lines.flatMap((l) => l.points.map(([, y]) => y)).filter((y): y is number => y !== null))].sort((a, b) => a - b) : [];
  const yCats = hexY && !bar && distinctY.length <= MAX_HEX_CATEGORIES ? distinctY : undefined;
  const yIndex = new Map((yCats ?? []).map((v, i) => [v, i]));
  const data = (l: ChartLine): unknown[] =>
    bar
      ? categories.map((c) => l.points.find(([x]) => x === c)?.[1] ?? null)
      : l.points.map(([x, y]) => [x, yCats !== undefined && y !== null ? (yIndex.get(y) ?? null) : y]);
  const [ylo, yhi] = spec.yRange ?? extent(spec.lines, ([, y]) => y);
  const tickText = yCats !== undefined ? yCats.map(hex) : hexY ? [hex(yhi)] : [Math.round(Math.max(Math.abs(ylo), Math.abs(yhi))).toLocaleString('en-US'), String(ylo)];
  const tickWidth = Math.max(...tickText.map((t) => textWidth(t)));
  const side = spec.lines.length > 4;
  const legendWidth = side ? Math.max(...spec.lines.map((l) => textWidth(l.name))) + 40 : 0;
  const [xlo, xhi] = extent(spec.lines, ([x]) => x);
  return renderSvg(
    {
      legend: side
        ? { type: 'plain', orient: 'vertical', right: 8, top: 'middle', itemGap: 6, data: spec.lines.map((l) => l.name) }
        : { type: 'plain', top: 6, data: spec.lines.map((l) => l.name) },
      grid: { left: tickWidth + 44, right: 24 + legendWidth, top: side ? 24 : 44, bottom: 56 },
      xAxis: bar
        ? { type: 'category', data: categories.map((c) => spec.categoryNames?.[c] ?? String(c)), name: spec.xLabel, nameLocation: 'middle', nameGap: 32, axisLabel: { interval: 0, hideOverlap: true } }
        : { type: 'value', name: spec.xLabel, nameLocation: 'middle', nameGap: 32, min: xlo, max: xhi, axisLabel: { showMinLabel: false, showMaxLabel: false } },
      yAxis: yCats !== undefined
        ? { type: 'category', data: yCats.map(hex), name: spec.yLabel, nameLocation: 'middle', nameGap: tickWidth + 16, axisLabel: { hideOverlap: true } }
        : {
            type: 'value', name: spec.yLabel, nameLocation: 'middle', nameGap: tickWidth + 16, scale: !bar,
            ...(hexY ? { axisLabel: { formatter: (v: number) => hex(v) } } : {}),
            ...(spec.yRange ? { min: spec.yRange[0], max: spec.yRange[1] } : {}),
          },
      series: spec.lines.map((l) => ({
        type: spec.kind,
        name: l.name,
        data: data(l),
        ...(spec.yRange ? { clip: true } : {}),
        ...(spec.kind === 'line' ? { showSymbol: !many, connectNulls: false } : {}),
        // many points: one compound path per series instead of one element per point (same picture, a fraction of the SVG and the render time)
        ...(spec.kind === 'scatter' ? { symbolSize: 5, ...(many ? { large: true, largeThreshold: 60 } : {}) } : {}),
        ...(bar ? { label: { show: true, position: 'top', fontSize: 11, formatter: (p: { value: number | null }) => (p.value === null ? '' : String(p.value)) }, labelLayout: { hideOverlap: true } } : {}),
      })),
    },
    width,
    height,
  );
}
