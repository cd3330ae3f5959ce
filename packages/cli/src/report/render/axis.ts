/**
 * ECharts axis options from a spec's PanelAxis: named, hex or decimal labels, categories, and
 * the room (in px) its tick labels need, so the axis name sits clear of them.
 */
import type { PanelAxis } from '../chart-specs/types.js';
import { hex, textWidth } from './echarts-svg.js';

export function formatValue(axis: PanelAxis, v: number): string {
  return axis.format === 'hex' ? hex(v) : Number.isInteger(v) ? v.toLocaleString('en-US') : String(Math.round(v * 1000) / 1000);
}

/** The widest tick label the axis can show, for data within [lo, hi]. */
export function tickRoom(axis: PanelAxis, lo: number, hi: number): number {
  if (axis.categories !== undefined) return Math.max(0, ...axis.categories.map((c) => textWidth(c)));
  const ends = [axis.min ?? lo, axis.max ?? hi];
  return Math.max(...ends.map((v) => textWidth(formatValue(axis, v))), textWidth(formatValue(axis, -Math.abs(hi - lo)))) + 4;
}

export function axisOption(axis: PanelAxis, nameGap: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base = { name: axis.name, nameLocation: 'middle', nameGap, nameTextStyle: { color: '#374151' } };
  if (axis.categories !== undefined) return { type: 'category', data: [...axis.categories], axisLabel: { interval: 0 }, axisTick: { alignWithLabel: true }, ...base, ...extra };
  return {
    type: 'value',
    ...base,
    ...(axis.min !== undefined ? { min: axis.min } : {}),
    ...(axis.max !== undefined ? { max: axis.max } : {}),
    scale: axis.min === undefined,
    axisLabel: { formatter: (v: number) => formatValue(axis, v), hideOverlap: true },
    ...extra,
  };
}
