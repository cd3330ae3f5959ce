/**
 * A BitGridPanel as SVG: per cell two squares, E (expected) and R (reported), dark when the bit
 * is set; an R that differs from its E is red; the failed check's cell is outlined in red; a
 * sync that never ran is a grey "not run". The test's result line sits under the grid.
 */
import type { BitGridPanel } from '../chart-specs/types.js';
import { axisOption } from './axis.js';
import { renderSvg, textWidth } from './echarts-svg.js';

const SET = '#374151';
const CLEAR = '#e5e7eb';
const WRONG = '#d62728';

export function renderBitGridPanel(p: BitGridPanel, width: number): string {
  const ran = p.cells.filter((c) => c.expected !== null && c.reported !== null);
  const square = (which: 'E' | 'R', offset: number) => ({
    type: 'scatter',
    name: which === 'E' ? 'expected' : 'reported',
    symbol: 'rect',
    symbolSize: 24,
    symbolOffset: [offset, 0],
    data: ran.map((c) => {
      const v = which === 'E' ? c.expected : c.reported;
      const wrong = which === 'R' && c.reported !== c.expected;
      return {
        value: [c.column, c.row],
        itemStyle: { color: wrong ? WRONG : v === 1 ? SET : CLEAR },
        label: { show: true, position: 'inside', formatter: `${which}${String(v)}`, fontSize: 11, color: wrong || v === 1 ? '#ffffff' : '#1d2433' },
      };
    }),
  });
  const left = Math.max(...p.rows.map((r) => textWidth(r))) + 40;
  return renderSvg(
    {
      title: { text: p.title, left: 8, top: 6, textStyle: { fontSize: 13, fontWeight: 600, color: '#1d2433' } },
      grid: { left, right: 12, top: 36, bottom: 70 },
      xAxis: axisOption({ name: p.columnAxis, categories: p.columns }, 26, { splitLine: { show: false } }),
      yAxis: axisOption({ name: p.rowAxis, categories: p.rows, format: 'hex' }, left - 16, { inverse: true }),
      series: [
        square('E', -13),
        square('R', 13),
        {
          type: 'scatter',
          name: 'not run',
          symbol: 'rect',
          symbolSize: [52, 24],
          itemStyle: { color: '#f3f4f6', borderColor: '#d1d5db', borderWidth: 1 },
          label: { show: true, position: 'inside', formatter: 'not run', fontSize: 10, color: '#6b7280' },
          data: p.cells.filter((c) => c.expected === null || c.reported === null).map((c) => [c.column, c.row]),
        },
        {
          type: 'scatter',
          name: 'failed check',
          symbol: 'rect',
          symbolSize: [60, 32],
          itemStyle: { color: 'rgba(0,0,0,0)', borderColor: WRONG, borderWidth: 3 },
          z: 5,
          data: p.cells.filter((c) => c.failed).map((c) => [c.column, c.row]),
        },
      ],
      graphic: [{ type: 'text', left: 8, bottom: 8, style: { text: p.message, width: width - 16, overflow: 'break', fontSize: 12, lineHeight: 16, fill: p.cells.some((c) => c.failed) ? WRONG : '#14532d' } }],
    },
    width,
    p.height,
  );
}
