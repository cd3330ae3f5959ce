/**
 * Plain-text tables for the terminal: left-aligned columns, a rule under the header; given a
 * width, the widest columns are narrowed and their cells word-wrapped so every line fits.
 * And the one number format per unit the CLI prints figures in (README, "Numbers").
 */
import { wrapText } from './io/terminal.js';

const GAP = 2;
/** A column is not narrowed below this (or its header), so wrapped cells stay readable. */
const MIN_COL = 10;

/**
 * Column widths that fit `width`: every column wider than a cap C is cut to C (never below its
 * minimum), with C the largest cap that fits — the wide columns share the cut evenly.
 */
function fitWidths(natural: readonly number[], mins: readonly number[], width: number): number[] {
  const room = width - GAP * (natural.length - 1);
  const at = (cap: number): number[] => natural.map((n, i) => Math.min(n, Math.max(cap, mins[i]!)));
  const sum = (w: readonly number[]): number => w.reduce((a, b) => a + b, 0);
  if (sum(natural) <= room) return [...natural];
  let cap = Math.max(...natural);
  while (cap > 1 && sum(at(cap)) > room) cap--;
  return at(cap);
}

export function textTable(header: readonly string[], rows: readonly (readonly string[])[], width = Infinity): string {
  const natural = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const mins = header.map((h, i) => Math.min(natural[i]!, Math.max(h.length, MIN_COL)));
  const widths = Number.isFinite(width) ? fitWidths(natural, mins, width) : natural;
  const lines = (cells: readonly string[]): string[] => {
    const wrapped = widths.map((w, i) => wrapText(cells[i] ?? '', w));
    const height = Math.max(...wrapped.map((c) => c.length));
    return [...Array(height).keys()].map((k) => wrapped.map((c, i) => (c[k] ?? '').padEnd(widths[i]!)).join(' '.repeat(GAP)).trimEnd());
  };
  return [...lines(header), widths.map((w) => '-'.repeat(w)).join(' '.repeat(GAP)), ...rows.flatMap(lines)].join('\n') + '\n';
}

/**
 * Decimal places per unit: every figure in a unit prints the same way ("0.5 ns", "41.5 ns",
 * "22.76 ms"), so a column of one unit lines up and two runs compare digit for digit.
 */
export const UNIT_DECIMALS: Readonly<Record<string, number>> = {
  ns: 1, 'ns/store': 1, 'µs': 2, us: 2, 'µs/flush': 2, ms: 2, s: 2,
  ppm: 2, Hz: 0, kHz: 0, MHz: 3, GHz: 3, '1/ms': 2, 'pages/s': 0,
  'MB/s': 1, MB: 1, MiB: 1, GiB: 2, '%': 1,
};

/** A figure as text: "12.5 ns", "3". */
export function formatFigure(f: { readonly value: number | string | null; readonly unit?: string }): string {
  const v = typeof f.value === 'number' ? formatNumber(f.value, f.unit) : String(f.value);
  return f.unit !== undefined && f.unit !== '' ? `${v} ${f.unit}` : v;
}

/**
 * A number in `unit`'s format (UNIT_DECIMALS). Without a unit (counts, ratios): integers as
 * they are, others with three significant digits and no trailing zeros.
 */
export function formatNumber(n: number, unit?: string): string {
  if (!Number.isFinite(n)) return String(n);
  const places = unit !== undefined ? UNIT_DECIMALS[unit] : undefined;
  if (places !== undefined) return (Object.is(n, -0) ? 0 : n).toFixed(places).replace(/^-(0\.?0*)$/, '$1');
  if (Number.isInteger(n)) return String(n);
  const a = Math.abs(n);
  const fixed = a >= 100 ? n.toFixed(1) : a >= 1 ? n.toFixed(2) : n.toPrecision(3);
  return fixed.includes('.') && !fixed.includes('e') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}
