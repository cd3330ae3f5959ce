/**
 * nested_vmx_load_cr3() (arch/x86/kvm/vmx/nested.c of v5.4): L2's CR3 at nested VM-Enter, L1's
 * at nested VM-Exit. It sets vcpu->arch.cr3 and marks it available, and without nested EPT asks
 * the MMU for a new root — but it does not touch GUEST_CR3: that is the bug's opening. The RFC
 * writes GUEST_CR3 here (the `nestedLoadCr3` hook).
 */
import { ENTRY_FAIL_DEFAULT } from '../vmx-controls.js';
import { nestedCr3Valid } from './checks.js';
import { kvmMmuNewCr3 } from './mmu-roots.js';
import { kvmReadCr3, markCr3Available } from './reg-cache.js';
import type { NestedVcpuState } from './shapes.js';

/** Returns null on success, else the exit qualification of the failed entry (PAE PDPTEs are not modelled: guests run in long mode). */
export function nestedVmxLoadCr3(nv: NestedVcpuState, cr3: bigint, nestedEpt: boolean): number | null {
  if (cr3 !== kvmReadCr3(nv) && !nestedCr3Valid(cr3)) return ENTRY_FAIL_DEFAULT;
  nv.engine.ops.nestedLoadCr3?.(nv, cr3);
  if (!nestedEpt) kvmMmuNewCr3(nv, nv.mmu, cr3);
  nv.vcpu.x86.cr3 = cr3;
  markCr3Available(nv);
  return null;
}
