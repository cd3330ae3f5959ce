/** The Compose panel: arch, kernel, plugins and their variants; what KVM answers and what a guest sees. */
import type { CatalogInfo, ComposeReport } from '../protocol.js';
import type { State } from '../state.js';
import { h, table } from './dom.js';

export interface ComposeHandlers {
  readonly set: (patch: Partial<State>) => void;
}

export function composeControls(cat: CatalogInfo, s: State, on: ComposeHandlers): HTMLElement {
  const arch = h('select', { id: 'arch', 'data-testid': 'arch' }, ...(['x86_64', 'arm64'] as const).map((a) => h('option', { value: a, selected: a === s.arch }, a)));
  arch.onchange = () => on.set({ arch: arch.value as State['arch'] });
  const kernel = h('select', { id: 'kernel', 'data-testid': 'kernel' }, h('option', { value: '' }, '(none: 5.4 answers, default variants)'), ...cat.kernels.map((k) => h('option', { value: k, selected: k === s.kernel }, `Linux ${k}`)));
  kernel.onchange = () => on.set({ kernel: kernel.value });
  const plugins = cat.plugins.filter((p) => p.arch === s.arch).map((p) => {
    const on_ = p.name in s.plugins;
    const box = h('input', { type: 'checkbox', id: `plugin-${p.name}`, 'data-testid': `plugin-${p.name}`, checked: on_ });
    box.onchange = () => {
      const next = { ...s.plugins };
      if (box.checked) next[p.name] = '';
      else delete next[p.name];
      on.set({ plugins: next });
    };
    const variant = p.variants.length === 0 ? null : h('select', { 'data-testid': `variant-${p.name}`, disabled: !on_ },
      h('option', { value: '' }, s.kernel !== '' ? `the kernel's` : 'default'),
      ...p.variants.map((v) => h('option', { value: v, selected: s.plugins[p.name] === v }, v)));
    if (variant !== null) variant.onchange = () => on.set({ plugins: { ...s.plugins, [p.name]: variant.value } });
    return h('div', { class: 'plugin' }, h('label', {}, box, ' ', p.name), variant !== null ? ' ' : null, variant);
  });
  return h('div', { class: 'controls' },
    h('label', {}, 'arch ', arch), ' ', h('label', {}, 'kernel ', kernel),
    h('div', { class: 'plugins' }, ...plugins));
}

export function composeReportView(r: ComposeReport | undefined): HTMLElement {
  if (r === undefined) return h('p', { class: 'meta' }, 'composing…');
  if (!r.ok) {
    return h('div', { class: 'error', 'data-testid': 'composition-error', 'data-plugin': r.error?.plugin ?? '' },
      h('strong', {}, 'Composition refused'), r.error?.plugin ? ` — plugin ${r.error.plugin}` : '', h('br'), r.error?.message ?? '');
  }
  const variants = r.variants.length > 0
    ? h('p', { class: 'meta' }, 'variants: ', ...r.variants.flatMap((v, i) => [i > 0 ? ', ' : '', `${v.series} ${v.variant}`, v.kernelVariant !== undefined ? ` (kernel's: ${v.kernelVariant}${v.mismatch ? ', mismatch' : ''})` : '']))
    : null;
  const caps = table(['cap', 'name', '/dev/kvm', 'VM', 'answered by'],
    r.capabilities.map((c) => [String(c.cap), c.name, String(c.system), String(c.vm), c.owner ?? '—']), { class: 'caps', 'data-testid': 'caps' });
  caps.querySelectorAll('tbody tr').forEach((tr, i) => tr.setAttribute('data-cap', r.capabilities[i]!.name));
  const disc = table(['guest probe', 'result', 'meaning'], r.discovery.map((d) => [d.probe, h('code', {}, d.result), d.meaning]), { class: 'discovery', 'data-testid': 'discovery' });
  return h('div', {},
    h('p', { class: 'meta' }, `plugins: ${r.plugins.join(', ') || '(core only)'}`), variants,
    h('h3', {}, 'KVM_CHECK_EXTENSION'), caps,
    h('h3', {}, 'What the guest discovers'), disc);
}
