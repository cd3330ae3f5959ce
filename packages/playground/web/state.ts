/**
 * The page's whole state, and its one encoding in the URL's query string, so a copied link
 * reproduces a view exactly: arch, plugins with their variants, kernel, scenario, every
 * variant or the composed one, options (those that differ from the default), seed, the
 * result shown in the scrubber and its step.
 */
import { defaultCell, variantCellName, type Arch } from '@kvmlab/hypervisor-core';
import type { CatalogInfo, ComposeReport, ScenarioInfo } from './protocol.js';

export type OptionValue = number | boolean | string;

export interface State {
  readonly arch: Arch;
  /** Chosen plugins → variant ('' = the kernel's choice, or the plugin's default). */
  readonly plugins: Readonly<Record<string, string>>;
  /** A kernel release ('' = none: 5.4's answers, each plugin's default variant). */
  readonly kernel: string;
  readonly scenario: string;
  /** Run every variant (the matrix) instead of the composed one. */
  readonly matrix: boolean;
  /** Options that differ from the scenario's defaults. */
  readonly options: Readonly<Record<string, OptionValue>>;
  readonly seed: number;
  /** Which result the scrubber shows (index into the run's results). */
  readonly view: number;
  /** The scrubber's step (-1: none chosen). */
  readonly step: number;
}

const ARCHES: readonly Arch[] = ['x86_64', 'arm64'];
const DEFAULT_SCENARIO: Readonly<Record<Arch, string>> = { x86_64: 'nvmx-hlt-cr3', arm64: 'ptp-sync' };

export function defaultState(cat: CatalogInfo, arch: Arch = 'x86_64'): State {
  const plugins = Object.fromEntries(cat.plugins.filter((p) => p.arch === arch).map((p) => [p.name, '']));
  const scenario = cat.scenarios.find((s) => s.arch === arch && s.name === DEFAULT_SCENARIO[arch])?.name ?? cat.scenarios.find((s) => s.arch === arch)?.name ?? '';
  return { arch, plugins, kernel: '', scenario, matrix: false, options: {}, seed: 0, view: 0, step: -1 };
}

export function scenarioInfo(cat: CatalogInfo, s: Pick<State, 'arch' | 'scenario'>): ScenarioInfo | undefined {
  return cat.scenarios.find((x) => x.arch === s.arch && x.name === s.scenario);
}

const int = (text: string | null, fallback: number, min: number, max: number): number => {
  if (text === null || !/^-?\d+$/.test(text)) return fallback;
  const n = Number(text);
  return n >= min && n <= max ? n : fallback;
};

/** The state a query string describes; anything unknown or out of range falls back to the default. */
export function parseState(search: string, cat: CatalogInfo): State {
  const q = new URLSearchParams(search);
  const archText = q.get('arch');
  const arch = ARCHES.find((a) => a === archText) ?? 'x86_64';
  const base = defaultState(cat, arch);
  const ofArch = new Map(cat.plugins.filter((p) => p.arch === arch).map((p) => [p.name, p]));
  let plugins = base.plugins;
  const pluginsText = q.get('plugins');
  if (pluginsText !== null) {
    const chosen: Record<string, string> = {};
    for (const item of pluginsText.split(',').filter((x) => x !== '')) {
      const [name = '', variant = ''] = item.split(':');
      const p = ofArch.get(name);
      if (p !== undefined) chosen[name] = p.variants.includes(variant) ? variant : '';
    }
    plugins = chosen;
  }
  const kernelText = q.get('kernel') ?? '';
  const kernel = cat.kernels.includes(kernelText) ? kernelText : '';
  const scenarioText = q.get('scenario');
  const scenario = scenarioText !== null && scenarioInfo(cat, { arch, scenario: scenarioText }) !== undefined ? scenarioText : base.scenario;
  const info = scenarioInfo(cat, { arch, scenario });
  const options: Record<string, OptionValue> = {};
  for (const [k, spec] of Object.entries(info?.options ?? {})) {
    const text = q.get(`o.${k}`);
    if (text === null) continue;
    if (spec.type === 'boolean' && (text === 'true' || text === 'false')) options[k] = text === 'true';
    else if (spec.type === 'enum' && spec.values.includes(text)) options[k] = text;
    else if (spec.type === 'number' && text.trim() !== '' && Number.isFinite(Number(text))) {
      const v = Number(text);
      if ((spec.min === undefined || v >= spec.min) && (spec.max === undefined || v <= spec.max) && (spec.integer !== true || Number.isInteger(v))) options[k] = v;
    }
  }
  return {
    arch, plugins, kernel, scenario, options,
    matrix: q.get('matrix') === '1',
    seed: int(q.get('seed'), 0, 0, 0xffff_ffff),
    view: int(q.get('view'), 0, 0, 1000),
    step: int(q.get('step'), -1, -1, 10_000_000),
  };
}

/** The query string of a state (keys in a fixed order; only what differs from a default is optional). */
export function stateToSearch(s: State): string {
  const q = new URLSearchParams();
  q.set('arch', s.arch);
  q.set('plugins', Object.entries(s.plugins).map(([n, v]) => (v === '' ? n : `${n}:${v}`)).join(','));
  if (s.kernel !== '') q.set('kernel', s.kernel);
  q.set('scenario', s.scenario);
  if (s.matrix) q.set('matrix', '1');
  for (const [k, v] of Object.entries(s.options).sort(([a], [b]) => a.localeCompare(b))) q.set(`o.${k}`, String(v));
  q.set('seed', String(s.seed));
  if (s.view !== 0) q.set('view', String(s.view));
  if (s.step >= 0) q.set('step', String(s.step));
  return `?${q.toString()}`;
}

/**
 * The variants a run takes: every variant (matrix), or the one the composition runs — a
 * variant-axes scenario's cell from each axis's plugin, a one-axis scenario's variant from
 * its package's plugin — falling back to the scenario's default where the plugin is absent.
 */
export function runVariants(info: ScenarioInfo, s: State, composed: ComposeReport | undefined): readonly string[] {
  if (s.matrix) return info.variants;
  const chosen = (series: string): string | undefined => composed?.variants.find((v) => v.series === series)?.variant ?? (s.plugins[series] || undefined);
  if (info.variantAxes !== undefined) {
    const defaults = defaultCell(info) ?? {};
    const cell = Object.fromEntries(Object.entries(info.variantAxes).map(([axis, values]) => {
      const v = chosen(axis);
      return [axis, v !== undefined && values.includes(v) ? v : (defaults[axis] ?? '')];
    }));
    const name = variantCellName(info.variantAxes, cell);
    return [info.variants.includes(name) ? name : info.defaultVariant];
  }
  const v = chosen(info.package.replace(/^@kvmlab\//, ''));
  return [v !== undefined && info.variants.includes(v) ? v : info.defaultVariant];
}
