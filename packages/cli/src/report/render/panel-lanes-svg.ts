/**
 * A LanesPanel as SVG: lanes top to bottom named on the left, each lane's note on the right,
 * marks drawn as thin bars (a frame ran), taller orange bars (an entry squashed) and red
 * crosses (a corruption caught), a three-entry legend on the first panel, a note line under it.
 */
import type { LaneMark, LanesPanel } from '../chart-specs/types.js';
import { axisOption } from './axis.js';
import { renderSvg, textWidth } from './echarts-svg.js';

const CROSS = 'path://M2,0L5,3L8,0L10,2L7,5L10,8L8,10L5,7L2,10L0,8L3,5L0,2Z';
const STYLE: Readonly<Record<LaneMark, Record<string, unknown>>> = {
  ran: { symbol: 'rect', symbolSize: [2, 9], itemStyle: { color: '#9aa5b8' }, z: 1 },
  squashed: { symbol: 'rect', symbolSize: [3, 14], itemStyle: { color: '#f28e2b' }, z: 2 },
  corruption: { symbol: CROSS, symbolSize: 10, itemStyle: { color: '#d62728' }, z: 3 },
};
const ORDER: readonly LaneMark[] = ['ran', 'squashed', 'corruption'];

export function renderLanesPanel(p: LanesPanel, width: number): string {
  const labels = p.lanes.map((l) => l.label);
  const notes = p.lanes.map((l) => l.note);
  const left = Math.max(...labels.map((t) => textWidth(t))) + 18;
  const right = Math.max(...[...notes, p.widestNote ?? ''].map((t) => textWidth(t, 11))) + 18;
  const top = p.legend ? 58 : 34;
  const bottom = 42 + (p.note !== undefined ? 20 : 0);
  const lane = { type: 'category', data: labels, inverse: true, axisTick: { show: false }, axisLine: { show: false }, splitLine: { show: true, lineStyle: { color: '#eef0f4' } } };
  return renderSvg(
    {
      title: { text: p.title, left: 8, top: 6, textStyle: { fontSize: 13, fontWeight: 600, color: '#1d2433' } },
      ...(p.legend ? { legend: { type: 'plain', left: 8, top: 28, itemGap: 16, data: ORDER.map((m) => p.markNames[m]) } } : {}),
      grid: { left, right, top, bottom },
      xAxis: axisOption(p.x, 26),
      yAxis: [
        { ...lane, axisLabel: { color: '#1d2433', fontSize: 12 } },
        { ...lane, data: notes, position: 'right', splitLine: { show: false }, axisLabel: { color: '#4a5568', fontSize: 11 } },
      ],
      series: ORDER.map((m) => ({
        type: 'scatter',
        name: p.markNames[m],
        yAxisIndex: 0,
        data: p.marks.filter((k) => k.mark === m).map((k) => [k.x, k.lane]),
        ...STYLE[m],
      })),
      ...(p.note !== undefined ? { graphic: [{ type: 'text', left: 8, bottom: 6, style: { text: p.note, fontSize: 11, fill: '#4a5568' } }] } : {}),
    },
    width,
    p.height,
  );
}
