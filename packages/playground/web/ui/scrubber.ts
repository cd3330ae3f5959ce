/** The step-through: a slider over a result's events, previous / next, and a jump to the first symptom. */
import type { RunReport } from '../protocol.js';
import { firstBad } from '../steps/index.js';
import type { State } from '../state.js';
import { h, table } from './dom.js';

export function scrubberView(r: RunReport, s: State, set: (patch: Partial<State>) => void): HTMLElement | null {
  const view = Math.min(s.view, r.results.length - 1);
  const steps = r.steps[view] ?? [];
  if (steps.length === 0) return null;
  const step = Math.min(Math.max(s.step, 0), steps.length - 1);
  const cur = steps[step]!;
  const bad = firstBad(steps);
  const which = r.results.length > 1
    ? h('select', { 'data-testid': 'view' }, ...r.results.map((x, i) => h('option', { value: String(i), selected: i === view }, x.variant)))
    : null;
  if (which !== null) which.onchange = () => set({ view: Number(which.value), step: 0 });
  const slider = h('input', { type: 'range', min: '0', max: String(steps.length - 1), value: String(step), 'data-testid': 'slider' });
  slider.oninput = () => set({ step: Number(slider.value) });
  const prev = h('button', { type: 'button', 'data-testid': 'prev', disabled: step === 0 }, '◀ previous');
  prev.onclick = () => set({ step: step - 1 });
  const next = h('button', { type: 'button', 'data-testid': 'next', disabled: step === steps.length - 1 }, 'next ▶');
  next.onclick = () => set({ step: step + 1 });
  const first = h('button', { type: 'button', 'data-testid': 'first-bad', disabled: bad < 0 }, bad < 0 ? 'no symptom in this run' : 'jump to the first symptom');
  first.onclick = () => set({ step: bad });
  const nBad = steps.filter((x) => x.bad).length;
  return h('section', { class: 'scrubber', 'data-testid': 'scrubber' },
    h('h2', {}, 'Step through'),
    h('div', { class: 'controls' }, which, which !== null ? ' ' : null, prev, ' ', slider, ' ', next, ' ', first),
    h('p', { class: 'meta' }, `step ${step + 1} of ${steps.length} · ${nBad} step${nBad === 1 ? '' : 's'} with the symptom`),
    h('div', { class: `step${cur.bad ? ' bad' : ''}`, 'data-testid': 'step', 'data-bad': String(cur.bad) },
      h('div', { class: 'where' }, cur.where),
      h('h3', {}, cur.title),
      table(['', ''], cur.fields.map(([k, v]) => [k, h('code', {}, v)])),
      cur.log !== undefined ? h('pre', { class: 'log', 'data-testid': 'log-line' }, cur.log) : null));
}
