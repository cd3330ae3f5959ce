/**
 * The plugin: `kvmMmuPml({ variant, enablePml, eptAd })` installs L0's EPT/PML MMU for every VM
 * and fills the MMU and PML hooks of hypervisor-core's nested-VMX engine, so L2 runs on shadow
 * EPT under PML in whatever nested VMX the hypervisor has (nvmx-cr3's GUEST_CR3 variants among it).
 */
import { checkPluginOptions, definePlugin, EXIT_REASON_EPT_MISCONFIG, EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_NAMES, type Plugin, type Vcpu } from '@kvmlab/hypervisor-core';
import { l0Config, type KvmMmuPmlOptions } from './config.js';
import type { Variant } from './spte.js';
import { KvmMmuPml } from './kvm-mmu.js';

export { kvmMmuOf } from './kvm-mmu.js';
import { NESTED_MMU_HOOKS } from './nested-hooks.js';
import { vmxFlushPmlBuffer } from './pml.js';

export const KVM_MMU_PML_PLUGIN = 'kvm-mmu-pml';

// An exit to userspace (I/O, MMIO) is an exit too: vmx_handle_exit() drains PML first.
function exitToUser(vcpu: Vcpu, reason: number): boolean {
  const m = vcpu.vm.mmu;
  if (!(m instanceof KvmMmuPml)) return false;
  const v = m.vcpuVmx(vcpu);
  if (m.cfg.pml) vmxFlushPmlBuffer(m, v);
  v.countExit(reason);
  return false; // not handled here: the VMM's handler (or core) completes it
}

export function kvmMmuPml(opts: KvmMmuPmlOptions = {}): Plugin {
  checkPluginOptions(KVM_MMU_PML_PLUGIN, opts, { variant: { oneOf: ['pre-fix', 'merged'] }, enablePml: 'boolean', eptAd: 'boolean' });
  l0Config(opts); // a bad explicit option is an error at once, not at composition
  return definePlugin({
    name: KVM_MMU_PML_PLUGIN,
    arch: 'x86_64',
    setup(ctx) {
      // The kernel's variant when createHypervisor was given a kernel (pre-fix before 5.4).
      const cfg = l0Config({ ...opts, variant: ctx.chooseVariant(opts.variant, 'merged') as Variant });
      // An EPT MMU: it needs kvm_intel.ept, and it is what decides ept_ad and pml.
      const nested = ctx.nestedVmx({ params: { ept: true, eptAd: cfg.eptAd, pml: opts.enablePml ?? true }, ops: NESTED_MMU_HOOKS });
      ctx.setMmu((vm) => new KvmMmuPml(vm, cfg, nested));
      ctx.onExit('io', (vcpu) => exitToUser(vcpu, EXIT_REASON_IO_INSTRUCTION));
      ctx.onExit('mmio', (vcpu) => exitToUser(vcpu, EXIT_REASON_EPT_MISCONFIG)); // how EPT reaches MMIO
      ctx.decorate('kvm-mmu-pml', { config: cfg, exitReasonNames: EXIT_REASON_NAMES });
    },
  });
}
