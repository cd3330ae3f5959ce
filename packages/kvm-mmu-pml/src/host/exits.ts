/**
 * L0's exit handling: the PML log is drained on every exit before anything else, then the
 * exit is dispatched. EPT violations go to the vCPU's current MMU: L1's TDP (tdp_page_fault)
 * or, while L2 runs with EPT12, the shadow-EPT walker (ept_page_fault).
 */
import { EXIT_REASON_EPT_VIOLATION, EXIT_REASON_NAMES } from '@kvmlab/hypervisor-core';
import { eptPageFault } from './ept-fault.js';
import type { KvmMmuPml } from './kvm-mmu.js';
import { vmxFlushPmlBuffer } from './pml.js';
import { tdpPageFault } from './tdp-fault.js';
import type { VcpuVmx } from './vcpu-vmx.js';

export interface FaultInfo {
  /** The faulting guest-physical address (GUEST_PHYSICAL_ADDRESS): L2's while L2 runs. */
  readonly gpa: bigint;
  readonly write: boolean;
}

/** 'retry': re-execute the access; 'mmio': emulate it as MMIO; 'reflected': L1 now runs. */
export type ExitResult = 'retry' | 'mmio' | 'reflected';

// models vmx_handle_exit() (arch/x86/kvm/vmx/vmx.c): flush PML first, then the handler
export function vmxHandleExit(m: KvmMmuPml, v: VcpuVmx, reason: number, fault?: FaultInfo, countInCore = true): ExitResult {
  if (m.cfg.pml) vmxFlushPmlBuffer(m, v);
  v.countExit(reason);
  // Exits raised through core's vcpu.exit() are already counted there under their own name.
  const name = EXIT_REASON_NAMES.get(reason) ?? `EXIT_${reason}`;
  if (countInCore) v.vcpu.countExit(name);
  const tr = m.vm.hv.trace;
  if (tr.enabled) tr.instant(v.vcpu.track, name, m.vm.hv.sim.now, fault === undefined ? { l2: v.vcpu.x86.guestMode } : { gpa: `0x${fault.gpa.toString(16)}`, write: fault.write, l2: v.vcpu.x86.guestMode });
  if (reason === EXIT_REASON_EPT_VIOLATION && fault !== undefined) return handleEptViolation(m, v, fault);
  // handle_pml_full() only restores NMI blocking; the access is retried after re-entry.
  return 'retry';
}

// models handle_ept_violation() → kvm_mmu_page_fault() (vmx.c, mmu.c)
function handleEptViolation(m: KvmMmuPml, v: VcpuVmx, f: FaultInfo): ExitResult {
  if (v.vcpu.x86.guestMode && v.nestedEpt) return eptPageFault(m, v, f.gpa, f.write);
  return tdpPageFault(m, v, Number(f.gpa >> 12n), f.write);
}
