/**
 * An XyPanel as SVG: the panel title top left, a short legend under it when asked, lines
 * labelled at their ends, bars labelled with their values (0 shown as 0) in the margin beside
 * or above them, horizontal bars listing their categories top to bottom.
 */
import type { XyPanel } from '../chart-specs/types.js';
import { axisOption, tickRoom } from './axis.js';
import { renderSvg, textWidth } from './echarts-svg.js';

const TITLE = { left: 8, top: 6, textStyle: { fontSize: 13, fontWeight: 600, color: '#1d2433' } };

export function renderXyPanel(p: XyPanel, width: number): string {
  const ys = p.series.flatMap((s) => s.points.map(([, y]) => y)).filter((y): y is number => y !== null);
  const xs = p.series.flatMap((s) => s.points.map(([x]) => x));
  const labelText = (s: XyPanel['series'][number], i: number, v: number | null): string => (v === null ? '' : (s.labels?.[i] ?? String(v)));
  const valueLabels = p.series.filter((s) => s.label === 'value').flatMap((s) => s.points.map(([, y], i) => labelText(s, i, y)));
  const endLabels = p.series.filter((s) => s.label === 'end').map((s) => s.name);
  const yRoom = p.horizontal === true ? tickRoom(p.y, 0, 0) : tickRoom(p.y, Math.min(...ys), Math.max(...ys));
  const right = 16 + Math.max(endLabels.length > 0 ? Math.max(...endLabels.map((t) => textWidth(t))) + 10 : 0, p.horizontal === true && valueLabels.length > 0 ? Math.max(...valueLabels.map((t) => textWidth(t, 11))) + 6 : 0);
  const top = (p.legend === true ? 58 : 36) + (p.horizontal !== true && valueLabels.length > 0 ? 12 : 0);
  const horizontal = p.horizontal === true;
  const option = {
    title: { text: p.title, ...TITLE },
    ...(p.legend === true ? { legend: { type: 'plain', left: 8, top: 28, itemGap: 14, data: p.series.map((s) => s.name) } } : {}),
    grid: { left: yRoom + 38, right, top, bottom: 48 },
    xAxis: horizontal
      ? axisOption(p.x, 28)
      : axisOption(p.x, 28, p.x.categories === undefined && p.x.min === undefined ? { min: Math.min(...xs), max: Math.max(...xs) } : {}),
    yAxis: axisOption(p.y, yRoom + 12, horizontal ? { inverse: true } : {}),
    series: p.series.map((s) => ({
      type: s.type,
      name: s.name,
      data: s.points.map(([x, y]) => (horizontal ? [y, x] : [x, y])),
      ...(s.color !== undefined ? { itemStyle: { color: s.color }, lineStyle: { color: s.color } } : {}),
      ...(s.type === 'line' ? { showSymbol: s.points.length <= 60, connectNulls: false, lineStyle: { width: 1.5, ...(s.color !== undefined ? { color: s.color } : {}) } } : {}),
      ...(s.type === 'scatter' ? { symbolSize: 6 } : {}),
      ...(s.type === 'bar' ? { barMaxWidth: 18, barGap: '15%' } : {}),
      ...(s.label === 'end' ? { endLabel: { show: true, formatter: s.name, fontSize: 12, distance: 6 }, labelLayout: { moveOverlap: 'shiftY' } } : {}),
      ...(s.label === 'value'
        ? { label: { show: true, position: horizontal ? 'right' : 'top', fontSize: 11, color: '#1d2433', formatter: (q: { dataIndex: number; value: readonly (number | null)[] }) => labelText(s, q.dataIndex, q.value[horizontal ? 0 : 1] ?? null) } }
        : {}),
    })),
  };
  return renderSvg(option, width, p.height);
}
