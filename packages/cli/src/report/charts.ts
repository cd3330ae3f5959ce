/**
 * The secondary charts (one per scenario series, variants overlaid) — specs in
 * chart-specs/series-charts.ts, SVG in render/series-chart-svg.ts; re-exported here for the
 * package's public API.
 */
export { chartSpecs, headlineChart, MAX_OVERLAID_LINES, ZOOM_RATIO, MAX_POINTS_PER_LINE, type ChartLine, type ChartSpec } from './chart-specs/series-charts.js';
export { renderChartSvg, CHART_WIDTH, CHART_HEIGHT } from './render/series-chart-svg.js';
