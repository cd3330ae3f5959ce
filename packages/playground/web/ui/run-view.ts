/** The Run panel: scenario, variants, options, seed; progress and cancel; the results as the report shows them. */
import { formatFigure } from '../../../cli/src/text-table.js';
import type { RunReport, ScenarioInfo } from '../protocol.js';
import type { OptionValue, State } from '../state.js';
import { h, table } from './dom.js';

export interface RunHandlers {
  readonly set: (patch: Partial<State>) => void;
  readonly cancel: () => void;
  readonly rerun: () => void;
}

function optionInput(key: string, info: ScenarioInfo, s: State, set: RunHandlers['set']): HTMLElement {
  const spec = info.options[key]!;
  const value = s.options[key] ?? spec.default;
  const put = (v: OptionValue): void => {
    const next = { ...s.options };
    if (v === spec.default) delete next[key];
    else next[key] = v;
    set({ options: next, step: -1 });
  };
  let input: HTMLInputElement | HTMLSelectElement;
  if (spec.type === 'boolean') {
    const el = h('input', { type: 'checkbox', checked: value === true });
    el.onchange = () => put(el.checked);
    input = el;
  } else if (spec.type === 'enum') {
    const el = h('select', {}, ...spec.values.map((v) => h('option', { value: v, selected: v === value }, v)));
    el.onchange = () => put(el.value);
    input = el;
  } else {
    const el = h('input', { type: 'number', value: String(value), ...(spec.min !== undefined ? { min: String(spec.min) } : {}), ...(spec.max !== undefined ? { max: String(spec.max) } : {}), step: spec.integer === true ? '1' : 'any' });
    el.onchange = () => {
      const v = Number(el.value);
      if (el.value.trim() !== '' && el.checkValidity()) put(v);
      else el.value = String(value);
    };
    input = el;
  }
  input.setAttribute('data-testid', `opt-${key}`);
  const unit = spec.type === 'number' && spec.unit !== undefined ? ` ${spec.unit}` : '';
  return h('label', { class: 'opt', title: spec.description }, `${key}${unit} `, input);
}

export function runControls(scenarios: readonly ScenarioInfo[], info: ScenarioInfo | undefined, s: State, variants: readonly string[], canRun: boolean, on: RunHandlers): HTMLElement {
  const pick = h('select', { 'data-testid': 'scenario' }, ...scenarios.map((x) => h('option', { value: x.name, selected: x.name === s.scenario }, x.name)));
  pick.onchange = () => on.set({ scenario: pick.value, options: {}, view: 0, step: -1 });
  const matrix = h('input', { type: 'checkbox', 'data-testid': 'matrix', checked: s.matrix });
  matrix.onchange = () => on.set({ matrix: matrix.checked, view: 0 });
  const seed = h('input', { type: 'number', min: '0', max: '4294967295', step: '1', value: String(s.seed), 'data-testid': 'seed' });
  seed.onchange = () => (/^\d+$/.test(seed.value) && Number(seed.value) <= 0xffff_ffff ? on.set({ seed: Number(seed.value) }) : (seed.value = String(s.seed)));
  const run = h('button', { type: 'button', 'data-testid': 'run', disabled: !canRun }, 'Run again');
  run.onclick = on.rerun;
  const cancel = h('button', { type: 'button', 'data-testid': 'cancel' }, 'Cancel');
  cancel.onclick = on.cancel;
  return h('div', { class: 'controls' },
    h('label', {}, 'scenario ', pick), ' ',
    h('label', {}, matrix, ' every variant (the matrix)'), ' ',
    h('label', {}, 'seed ', seed), ' ', run, ' ', cancel,
    info !== undefined ? h('p', { class: 'meta' }, info.description, h('br'), `variant${variants.length === 1 ? '' : 's'}: `, h('span', { 'data-testid': 'run-variants' }, variants.join(' · '))) : null,
    info !== undefined ? h('div', { class: 'options' }, ...Object.keys(info.options).map((k) => optionInput(k, info, s, on.set))) : null);
}

export function progressView(fraction: number, label: string): HTMLElement {
  return h('div', { class: 'progress', 'data-testid': 'progress' }, h('progress', { max: '1', value: String(fraction) }), ` ${label} ${Math.round(fraction * 100)} %`);
}

export function resultsView(r: RunReport, figureHtml: string | undefined, charts: { html: string; count: number } | 'loading' | undefined, moreCharts: () => void): HTMLElement {
  const rows = r.results.map((x) => [x.variant, h('span', { class: `verdict v-${x.verdict}` }, x.verdict), `${x.headline.label}: ${formatFigure(x.headline)}`, x.summary]);
  const errors = r.errors.map((e) => h('li', {}, `${e.variant}: ${e.message}`));
  // The report's own figure HTML (escaped text, inline SVG), drawn in the worker.
  const figure = h('div', { class: 'figure', 'data-testid': 'figure' }, figureHtml === undefined ? h('p', { class: 'meta' }, 'drawing the figure…') : null);
  if (figureHtml !== undefined) figure.innerHTML = figureHtml;
  const more = h('div', { class: 'more' });
  if (charts === undefined) {
    const b = h('button', { type: 'button', 'data-testid': 'more-charts', disabled: figureHtml === undefined }, 'Draw the other charts');
    b.onclick = moreCharts;
    more.append(b);
  } else if (charts === 'loading') more.append(h('p', { class: 'meta' }, 'drawing…'));
  else if (charts.count === 0) more.append(h('p', { class: 'meta' }, 'No other charts.'));
  else more.innerHTML = charts.html;
  return h('div', { 'data-testid': 'results' },
    table(['variant', 'verdict', 'key figure', 'summary'], rows, { class: 'summary' }),
    errors.length > 0 ? h('ul', { class: 'error' }, ...errors) : null,
    h('p', { class: 'meta' }, `ran in ${Math.round(r.ms)} ms in the worker`),
    figure, more);
}
