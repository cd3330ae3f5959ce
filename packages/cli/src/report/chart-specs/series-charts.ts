/**
 * The secondary charts of the report, built from each result's `series`: the same series name
 * of one scenario on one arch is drawn once with every variant overlaid, so pre-fix and the
 * fix sit on the same axes. A scenario without a figure of its own (dedicated.ts) also gets its
 * key figure per variant, which then leads its section.
 */
import type { ResultJson } from '../../json-output.js';
import { hasDedicatedLead } from './dedicated.js';
import type { ValueFormat } from './types.js';

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
  /** A y range that leaves out outliers (the zoomed copy of a chart); else the data's. */
  readonly yRange?: readonly [number, number];
  /** Bar charts: names for the x values 0, 1, 2, … (else the x values themselves). */
  readonly categoryNames?: readonly string[];
  /** 'hex' for CR3 values and guest physical addresses (the way every text output writes them). */
  readonly yFormat?: ValueFormat;
  /** The key figure per variant (the section's lead when the scenario has no figure of its own). */
  readonly headline?: boolean;
}

/** Most lines on one chart when variants are overlaid; beyond that, one chart per variant. */
export const MAX_OVERLAID_LINES = 9;

/**
 * When a few points (a start-up transient, say) stretch the y axis more than this many times
 * the 5th–95th percentile spread, the chart also gets a copy zoomed near that spread.
 */
export const ZOOM_RATIO = 20;

/** Most points drawn per line; longer lines are thinned evenly (the JSON keeps them all). */
export const MAX_POINTS_PER_LINE = 1500;

/** Axis names that mean a CR3 value or a guest physical address: written in hex. */
export const HEX_AXIS = /\bCR3\b|\bGPA\b|\bgfn\b|physical address/i;

function thin<T>(xs: readonly T[]): readonly T[] {
  if (xs.length <= MAX_POINTS_PER_LINE) return xs;
  const step = xs.length / MAX_POINTS_PER_LINE;
  return Array.from({ length: MAX_POINTS_PER_LINE }, (_, i) => xs[Math.floor(i * step)]!);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))))]!;
}

/** Widens [a, b] to multiples of a round step (half the power of ten below its span). */
function niceRange(a: number, b: number): readonly [number, number] {
  const step = 10 ** Math.floor(Math.log10(b - a)) / 2;
  return [Math.floor(a / step) * step, Math.ceil(b / step) * step];
}

/** The zoomed copy of a chart whose y axis a few points stretch (see ZOOM_RATIO), if any. */
function zoomed(c: ChartSpec): ChartSpec | undefined {
  if (c.kind === 'bar' || c.yFormat === 'hex') return undefined;
  const ys = c.lines.flatMap((l) => l.points.map(([, y]) => y)).filter((y): y is number => y !== null && Number.isFinite(y)).sort((a, b) => a - b);
  if (ys.length < 20) return undefined;
  const lo = percentile(ys, 5);
  const hi = percentile(ys, 95);
  const full = ys[ys.length - 1]! - ys[0]!;
  if (hi - lo <= 0 || full <= ZOOM_RATIO * (hi - lo)) return undefined;
  const pad = hi - lo;
  const outside = ys.filter((y) => y < lo - pad || y > hi + pad).length;
  return {
    ...c,
    id: `${c.id}-zoom`,
    title: `${c.title}, zoomed`,
    caption: `${c.caption} Zoomed to the 5th–95th percentile of y widened by that spread on each side; ${outside} point(s) outside are cut off (the chart above shows them).`,
    yRange: niceRange(lo - pad, hi + pad),
  };
}

type Entry = { readonly r: ResultJson; readonly s: ResultJson['series'][number] };

function specFor(g: readonly Entry[], id: string): ChartSpec {
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
    id, scenario: r.scenario, arch: r.arch, title: `${s.title} — ${r.scenario} (${r.arch})`, caption, xLabel: s.xLabel, yLabel: s.yLabel, kind: s.kind ?? 'line', lines,
    ...(HEX_AXIS.test(s.yLabel) ? { yFormat: 'hex' as const } : {}),
  };
}

/**
 * The key figure of each variant side by side (pages lost, CR3 corruptions, …), for a scenario
 * that ran in more than one variant with a numeric headline.
 */
export function headlineChart(rs: readonly ResultJson[], id: string): ChartSpec | undefined {
  const numeric = rs.filter((r) => typeof r.headline.value === 'number');
  if (numeric.length < 2 || new Set(numeric.map((r) => r.headline.label)).size !== 1) return undefined;
  const { scenario, arch, headline } = numeric[0]!;
  const unit = headline.unit !== undefined && headline.unit !== '' ? ` (${headline.unit})` : '';
  return {
    id,
    scenario,
    arch,
    title: `${headline.label} per variant — ${scenario} (${arch})`,
    caption: `The key figure of each variant from the same seed: ${numeric.map((r) => `${r.variant} ${String(r.headline.value)}`).join(', ')}.`,
    xLabel: 'variant',
    yLabel: `${headline.label}${unit}`,
    kind: 'bar',
    lines: [{ name: headline.label, points: numeric.map((r, i) => [i, r.headline.value as number] as const) }],
    categoryNames: numeric.map((r) => r.variant),
    headline: true,
  };
}

/**
 * Per scenario and arch: the key figure per variant (when it is a number and the scenario has no
 * figure of its own), then one chart per series name with the variants overlaid in result
 * order, or one per variant when that would crowd the chart; plus a zoomed copy where outliers
 * stretch y.
 */
export function chartSpecs(results: readonly ResultJson[]): readonly ChartSpec[] {
  const out: ChartSpec[] = [];
  const byScenario = new Map<string, ResultJson[]>();
  for (const r of results) byScenario.set(`${r.scenario}|${r.arch}`, [...(byScenario.get(`${r.scenario}|${r.arch}`) ?? []), r]);
  const groups = new Map<string, Entry[]>();
  for (const rs of byScenario.values()) {
    if (hasDedicatedLead(rs)) continue;
    const h = headlineChart(rs, `chart-${out.length + 1}`);
    if (h !== undefined) out.push(h);
  }
  for (const r of results) {
    for (const s of r.series) {
      const key = `${r.scenario}|${r.arch}|${s.name}`;
      groups.set(key, [...(groups.get(key) ?? []), { r, s }]);
    }
  }
  for (const g of groups.values()) {
    const lines = g.reduce((n, e) => n + Object.keys(e.s.y).length, 0);
    const parts = lines <= MAX_OVERLAID_LINES ? [g] : g.map((e) => [e]);
    for (const part of parts) {
      const c = specFor(part, `chart-${out.length + 1}`);
      out.push(c);
      const z = zoomed(c);
      if (z !== undefined) out.push(z);
    }
  }
  return out;
}
