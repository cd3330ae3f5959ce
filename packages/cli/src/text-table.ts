/** Plain-text tables for the terminal: left-aligned columns, a rule under the header. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

/** A figure as text: "12.5 ns", "3". */
export function formatFigure(f: { readonly value: number | string | null; readonly unit?: string }): string {
  const v = typeof f.value === 'number' ? formatNumber(f.value) : String(f.value);
  return f.unit !== undefined && f.unit !== '' ? `${v} ${f.unit}` : v;
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  const a = Math.abs(n);
  return a >= 100 ? n.toFixed(1) : a >= 1 ? n.toFixed(2) : n.toPrecision(3);
}
