/**
 * The plugin: `kvmMmuPml({ variant, enablePml, eptAd })` installs L0's EPT/PML MMU for every
 * VM and handles the exits of L1's VMX instructions and L2's VMCALL.
 */
import { definePlugin, EXIT_REASON_EPT_MISCONFIG, EXIT_REASON_NAMES, type Plugin, type Vcpu } from '@kvmlab/hypervisor-core';
import { EXIT_REASON_IO_INSTRUCTION } from '../constants.js';
import { l0Config, type KvmMmuPmlOptions } from './config.js';
import { KvmMmuPml } from './kvm-mmu.js';
import { vmxFlushPmlBuffer } from './pml.js';
import { handleVmxInsnExit, VMX_INSN_EXITS, type VmxInsnExit } from './vmx-insn.js';

export const KVM_MMU_PML_PLUGIN = 'kvm-mmu-pml';

/** The L0 state of a VM built with this plugin (for VMMs, tests and reports). */
export function kvmMmuOf(vm: { readonly mmu: unknown }): KvmMmuPml {
  const m = vm.mmu;
  if (!(m instanceof KvmMmuPml)) throw new TypeError('this VM does not run the kvm-mmu-pml MMU');
  return m;
}

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
  const cfg = l0Config(opts);
  return definePlugin({
    name: KVM_MMU_PML_PLUGIN,
    arch: 'x86_64',
    setup(ctx) {
      ctx.setMmu((vm) => new KvmMmuPml(vm, cfg));
      for (const name of Object.keys(VMX_INSN_EXITS) as VmxInsnExit[]) {
        ctx.onExit(name, (vcpu, exit) => handleVmxInsnExit(vcpu, name, exit));
      }
      ctx.onExit('io', (vcpu) => exitToUser(vcpu, EXIT_REASON_IO_INSTRUCTION));
      ctx.onExit('mmio', (vcpu) => exitToUser(vcpu, EXIT_REASON_EPT_MISCONFIG)); // how EPT reaches MMIO
      ctx.decorate('kvm-mmu-pml', { config: cfg, exitReasonNames: EXIT_REASON_NAMES });
    },
  });
}
