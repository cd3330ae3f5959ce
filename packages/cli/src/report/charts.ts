/**
 * Charts for the report, built from each result's `series` and rendered to SVG in Node with
 * Apache ECharts' server-side renderer (no browser, no network, no script in the page). The
 * same series name of one scenario on one arch is drawn once with every variant overlaid, so
 * pre-fix and the fix sit on the same axes.
 */
import * as echarts from 'echarts';
import type { ResultJson } from '../json-output.js';

export interface ChartLine {
  readonly name: string;
  readonly points: readonly (readonly [number, number | null])[];
}

export interface ChartSpec {
  readonly id: string;
  readonly scenario: string;
  readonly arch: string;
  readonly title: string;
  readonly caption: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly kind: 'line' | 'bar' | 'scatter';
  readonly lines: readonly ChartLine[];
}

/** Most points drawn per line; longer lines are thinned evenly (the JSON keeps them all). */
export const MAX_POINTS_PER_LINE = 1500;

function thin<T>(xs: readonly T[]): readonly T[] {
  if (xs.length <= MAX_POINTS_PER_LINE) return xs;
  const step = xs.length / MAX_POINTS_PER_LINE;
  return Array.from({ length: MAX_POINTS_PER_LINE }, (_, i) => xs[Math.floor(i * step)]!);
}

/** One chart per (scenario, arch, series name), variants overlaid in result order. */
export function chartSpecs(results: readonly ResultJson[]): readonly ChartSpec[] {
  const groups = new Map<string, { r: ResultJson; s: ResultJson['series'][number] }[]>();
  for (const r of results) {
    for (const s of r.series) {
      const key = `${r.scenario}|${r.arch}|${s.name}`;
      const g = groups.get(key) ?? [];
      g.push({ r, s });
      groups.set(key, g);
    }
  }
  return [...groups.values()].map((g, i) => {
    const { r, s } = g[0]!;
    const variants = [...new Set(g.map((e) => e.r.variant))];
    const lines: ChartLine[] = g.flatMap((e) =>
      Object.entries(e.s.y).map(([col, ys]) => ({
        name: variants.length > 1 ? `${e.r.variant}: ${col}` : col,
        points: thin(e.s.x.map((x, j): readonly [number, number | null] => [x ?? Number.NaN, ys[j] ?? null]).filter(([x]) => Number.isFinite(x))),
      })),
    );
    const caption = variants.length > 1 ? `${s.caption} Variants shown: ${variants.join(', ')}.` : `${s.caption} Variant: ${r.variant}.`;
    return {
      id: `chart-${i + 1}`,
      scenario: r.scenario,
      arch: r.arch,
      title: `${s.title} — ${r.scenario} (${r.arch})`,
      caption,
      xLabel: s.xLabel,
      yLabel: s.yLabel,
      kind: s.kind ?? 'line',
      lines,
    };
  });
}

export const CHART_WIDTH = 900;
export const CHART_HEIGHT = 380;

/** The chart as a standalone SVG string (title, legend, named axes). */
export function renderChartSvg(spec: ChartSpec, width = CHART_WIDTH, height = CHART_HEIGHT): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    const many = spec.lines.some((l) => l.points.length > 60);
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      title: { text: spec.title, left: 'center', top: 4, textStyle: { fontSize: 14 } },
      legend: { type: 'scroll', top: 28, data: spec.lines.map((l) => l.name) },
      grid: { left: 80, right: 40, top: 72, bottom: 56 },
      xAxis: { type: 'value', name: spec.xLabel, nameLocation: 'middle', nameGap: 30, scale: true },
      yAxis: { type: 'value', name: spec.yLabel, nameLocation: 'middle', nameGap: 60, scale: spec.kind !== 'bar' },
      series: spec.lines.map((l) => ({
        type: spec.kind,
        name: l.name,
        data: l.points.map(([x, y]) => [x, y]),
        ...(spec.kind === 'line' ? { showSymbol: !many, connectNulls: false } : {}),
        ...(spec.kind === 'scatter' ? { symbolSize: 5 } : {}),
      })),
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
