/**
 * Compose a hypervisor as the page describes it and report what KVM_CHECK_EXTENSION answers
 * (on /dev/kvm and on a VM, with the chosen kernel's answers) and what a guest discovers.
 * A composition mistake is reported with the plugin at fault (CompositionError.plugin).
 */
import { CompositionError, createHypervisor, type Hypervisor } from '@kvmlab/hypervisor-core';
import { capsReport } from '../../../cli/src/caps.js';
import { namesByValue } from '../../../cli/src/symbols.js';
import type { ComposeReport, Composition } from '../protocol.js';
import { PLUGINS } from './catalog.js';

function build(c: Composition): Hypervisor {
  const plugins = PLUGINS.filter((p) => p.name in c.plugins).map((p) => p.create(c.plugins[p.name] === '' ? undefined : c.plugins[p.name]));
  return createHypervisor({ arch: c.arch, seed: 0, plugins, ...(c.kernel !== '' ? { kernel: c.kernel } : {}) });
}

export function compose(c: Composition): ComposeReport {
  const names = PLUGINS.filter((p) => p.name in c.plugins).map((p) => p.name);
  let hv: Hypervisor;
  try {
    hv = build(c);
  } catch (e) {
    if (e instanceof CompositionError) {
      return { ok: false, error: { plugin: e.plugin, code: e.code, message: e.message }, plugins: names, variants: [], capabilities: [], discovery: [] };
    }
    if (e instanceof RangeError) return { ok: false, error: { plugin: '', code: 'RangeError', message: e.message }, plugins: names, variants: [], capabilities: [], discovery: [] };
    throw e;
  }
  const vm = hv.createVm();
  const capNames = namesByValue(/^KVM_CAP_/);
  const caps = [...new Set<number>([...capNames.keys(), ...hv.registry.capabilities.keys()])].sort((a, b) => a - b);
  // The guest's probes are `kvmlab caps`'s (cli/src/caps.ts), reused as they are: capsReport
  // composes the same plugins in their default variants without a kernel (it takes no others).
  const discovery = capsReport(c.arch, names).discovery;
  return {
    ok: true,
    plugins: hv.plugins,
    variants: hv.variantChoices.map((v) => ({ series: v.series, variant: v.variant, ...(v.kernelVariant !== undefined ? { kernelVariant: v.kernelVariant } : {}), mismatch: v.mismatch })),
    capabilities: caps.map((cap) => ({ cap, name: capNames.get(cap) ?? `cap ${cap}`, system: hv.checkExtension(cap), vm: vm.checkExtension(cap), owner: hv.registry.capabilities.get(cap)?.owner ?? null })),
    discovery,
  };
}
