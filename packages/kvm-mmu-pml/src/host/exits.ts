/**
 * The exits this MMU takes in the middle of an access (EPT violation, PML full), handled as
 * vmx_handle_exit() does (arch/x86/kvm/vmx/vmx.c): the engine's post-exit bookkeeping, the PML log
 * drained first, then the handler. EPT violations go to the vCPU's current MMU: L1's TDP
 * (tdp_page_fault) or, while L2 runs on EPT12, the shadow-EPT walker (ept_page_fault). Neither
 * is ever reflected to L1 as such (nested_vmx_exit_reflected() says no); an EPT12 miss is
 * injected by the walker.
 */
import { EXIT_REASON_EPT_VIOLATION, EXIT_REASON_NAMES, EXIT_REASON_PML_FULL, traceHex, traceVmxExit } from '@kvmlab/hypervisor-core';
import { eptPageFault } from './ept-fault.js';
import { vmxFlushPmlBuffer } from './pml.js';
import type { ExitResult, KvmMmuState } from './shapes.js';
import { tdpPageFault } from './tdp-fault.js';
import type { VcpuVmx } from './vcpu-vmx.js';

export interface FaultInfo {
  /** The faulting guest-physical address (GUEST_PHYSICAL_ADDRESS): L2's while L2 runs. */
  readonly gpa: bigint;
  readonly write: boolean;
}

export type { ExitResult } from './shapes.js';

// models vmx_handle_exit() (arch/x86/kvm/vmx/vmx.c): flush PML first, then the handler
export function vmxHandleExit(m: KvmMmuState, v: VcpuVmx, reason: number, fault?: FaultInfo): ExitResult {
  m.nested.hardwareExit(v.vcpu);
  if (m.cfg.pml) vmxFlushPmlBuffer(m, v);
  v.countExit(reason);
  const name = EXIT_REASON_NAMES.get(reason) ?? `EXIT_${reason}`;
  v.vcpu.countExit(name);
  const tr = m.vm.hv.trace;
  if (tr.enabled) {
    // kvm_exit (+ kvm_nested_vmexit while L2 runs), then the handler's own tracepoint:
    // handle_ept_violation() → kvm_page_fault(GPA, exit qualification), handle_pml_full() → kvm_pml_full.
    const qual = fault === undefined ? 0n : eptViolationQualification(fault);
    traceVmxExit(v.vcpu, reason, qual);
    const now = m.vm.hv.sim.now;
    if (fault !== undefined && reason === EXIT_REASON_EPT_VIOLATION) tr.tracepoint(v.vcpu.track, 'kvm_page_fault', now, { fault_address: traceHex(fault.gpa), error_code: traceHex(qual) });
    else if (reason === EXIT_REASON_PML_FULL) tr.tracepoint(v.vcpu.track, 'kvm_pml_full', now, { vcpu_id: v.vcpu.id });
  }
  if (reason === EXIT_REASON_EPT_VIOLATION && fault !== undefined) return handleEptViolation(m, v, fault);
  // handle_pml_full() only restores NMI blocking; the access is retried after re-entry.
  return 'retry';
}

/**
 * The exit qualification of an EPT violation as far as the model knows it: bit 0 (data read) or
 * bit 1 (data write) (Intel SDM vol. 3 table 27-7). The fetch bit and the EPT entry's permission
 * bits (3-5) are not modelled and read 0.
 */
function eptViolationQualification(f: FaultInfo): bigint {
  return f.write ? 0x2n : 0x1n;
}

// models handle_ept_violation() → kvm_mmu_page_fault() (vmx.c, mmu.c)
function handleEptViolation(m: KvmMmuState, v: VcpuVmx, f: FaultInfo): ExitResult {
  if (v.vcpu.x86.guestMode && v.nestedEpt) return eptPageFault(m, v, f.gpa, f.write);
  return tdpPageFault(m, v, Number(f.gpa >> 12n), f.write);
}
