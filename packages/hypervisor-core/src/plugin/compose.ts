/**
 * Puts plugins in setup order: every plugin after the ones it requires, otherwise in the order
 * given. Fails with a CompositionError naming the culprit.
 */
import { CompositionError } from '../errors.js';
import type { Arch, Plugin } from './types.js';

export function orderPlugins(plugins: readonly Plugin[], arch: Arch): Plugin[] {
  const byName = new Map<string, Plugin>();
  for (const p of plugins) {
    if (byName.has(p.name)) throw new CompositionError('DUPLICATE_PLUGIN', p.name, 'installed twice');
    byName.set(p.name, p);
  }
  for (const p of plugins) {
    const arches = p.arch === undefined ? undefined : Array.isArray(p.arch) ? p.arch : [p.arch];
    if (arches !== undefined && !arches.includes(arch)) {
      throw new CompositionError('WRONG_ARCH', p.name, `runs on ${arches.join(', ')}, not on ${arch}`);
    }
    for (const r of p.requires ?? []) {
      if (!byName.has(r)) throw new CompositionError('MISSING_REQUIREMENT', p.name, `requires plugin "${r}", which is not installed`);
    }
  }
  const order: Plugin[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: Plugin, path: string[]): void => {
    const s = state.get(p.name);
    if (s === 'done') return;
    if (s === 'visiting') {
      throw new CompositionError('DEPENDENCY_CYCLE', p.name, `requirement cycle: ${[...path, p.name].join(' → ')}`);
    }
    state.set(p.name, 'visiting');
    for (const r of p.requires ?? []) visit(byName.get(r)!, [...path, p.name]);
    state.set(p.name, 'done');
    order.push(p);
  };
  for (const p of plugins) visit(p, []);
  return order;
}
