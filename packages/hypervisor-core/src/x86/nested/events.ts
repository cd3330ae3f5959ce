/**
 * When L2 has to give the CPU back to L1: vmx_check_nested_events() (events L0 sees pending, in
 * KVM's priority order) and nested_vmx_exit_reflected() (hardware exits from L2 that L1 asked
 * for), arch/x86/kvm/vmx/nested.c of v5.4.
 */
import * as F from '../vmcs-fields.js';
import {
  CPU_BASED_CR3_LOAD_EXITING, CPU_BASED_HLT_EXITING, CPU_BASED_UNCOND_IO_EXITING, CPU_BASED_USE_IO_BITMAPS,
  CPU_BASED_VIRTUAL_INTR_PENDING, CPU_BASED_VIRTUAL_NMI_PENDING, INTR_INFO_VALID_MASK, INTR_TYPE_NMI_INTR,
  NMI_VECTOR, PIN_BASED_EXT_INTR_MASK, PIN_BASED_NMI_EXITING, PIN_BASED_VMX_PREEMPTION_TIMER,
} from '../vmx-controls.js';
import {
  EXIT_REASON_CPUID, EXIT_REASON_CR_ACCESS, EXIT_REASON_EPT_MISCONFIG, EXIT_REASON_EPT_VIOLATION,
  EXIT_REASON_EXCEPTION_NMI, EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_HLT, EXIT_REASON_INVALID_STATE,
  EXIT_REASON_INVEPT, EXIT_REASON_INVVPID, EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_NMI_WINDOW,
  EXIT_REASON_PENDING_INTERRUPT, EXIT_REASON_PML_FULL, EXIT_REASON_PREEMPTION_TIMER, EXIT_REASON_TRIPLE_FAULT,
  EXIT_REASON_VMCALL, EXIT_REASON_VMCLEAR, EXIT_REASON_VMLAUNCH, EXIT_REASON_VMOFF, EXIT_REASON_VMON,
  EXIT_REASON_VMPTRLD, EXIT_REASON_VMPTRST, EXIT_REASON_VMREAD, EXIT_REASON_VMRESUME, EXIT_REASON_VMWRITE,
} from '../vmx-exit-reasons.js';
import type { NestedVcpuState } from './shapes.js';
import { getVmcs12 } from './state.js';
import type { Vmcs12 } from './vmcs12.js';
import { nestedVmxVmexit } from './vmexit.js';
import { hasInterrupt } from './wake-sources.js';

/** 'busy' = -EBUSY: an event is due but nested_run_pending blocks the exit for now. */
export type NestedEventsResult = 'none' | 'exited' | 'busy';

/**
 * models vmx_check_nested_events() (nested.c): INIT > pending exception > preemption timer (52) >
 * NMI (if L1 exits on NMIs) > external interrupt (1, if L1 exits on them). INIT signals and
 * exceptions for L2 have no source in the model.
 */
export function checkNestedEvents(nv: NestedVcpuState): NestedEventsResult {
  if (!nv.vcpu.x86.guestMode || nv.currentVmptr === -1n) return 'none';
  const v12 = getVmcs12(nv);
  const block = nv.nestedRunPending;
  if (v12.has(F.PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_VMX_PREEMPTION_TIMER) && nv.preemptionTimerExpired) {
    if (block) return 'busy';
    nestedVmxVmexit(nv, EXIT_REASON_PREEMPTION_TIMER, 0, 0n);
    return 'exited';
  }
  if (nv.nmiPending > 0 && v12.has(F.PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_NMI_EXITING)) {
    if (block) return 'busy';
    nestedVmxVmexit(nv, EXIT_REASON_EXCEPTION_NMI, (NMI_VECTOR | INTR_TYPE_NMI_INTR | INTR_INFO_VALID_MASK) >>> 0, 0n);
    nv.nmiPending = 0; // the NMI-triggered exit counts as its injection
    return 'exited';
  }
  if (hasInterrupt(nv) && v12.has(F.PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_EXT_INTR_MASK)) {
    if (block) return 'busy';
    nestedVmxVmexit(nv, EXIT_REASON_EXTERNAL_INTERRUPT, 0, 0n);
    return 'exited';
  }
  return 'none';
}

/** nested_vmx_exit_handled_io() (nested.c): I/O bitmaps if L1 uses them, else unconditional I/O exiting. */
function ioExitReflected(nv: NestedVcpuState, v12: Vmcs12, port: number, size: number): boolean {
  if (!v12.has(F.CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_USE_IO_BITMAPS)) return v12.has(F.CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_UNCOND_IO_EXITING);
  const mem = nv.vcpu.vm.memory;
  for (let p = port; p < port + size; p++) {
    const bitmap = v12.get(p & 0x8000 ? F.IO_BITMAP_B : F.IO_BITMAP_A) + BigInt((p & 0x7fff) >> 3);
    if (p > 0xffff || !mem.isMapped(bitmap, 1)) return true;
    if (((mem.read(bitmap, 1)[0] ?? 0) >> (p & 7)) & 1) return true;
  }
  return false;
}

/** Exit details the reflection decision needs. */
export interface HardwareExit {
  readonly reason: number;
  /** EXIT_REASON_IO_INSTRUCTION: the port and access size. */
  readonly port?: number;
  readonly size?: number;
}

/**
 * models nested_vmx_exit_reflected() (nested.c) for the exits L2 can cause in the model: true if
 * the exit goes to L1, false if L0 handles it and L2 continues.
 */
export function nestedVmxExitReflected(nv: NestedVcpuState, exit: HardwareExit): boolean {
  if (nv.nestedRunPending) return false;
  const v12 = getVmcs12(nv);
  const exec = (bit: number): boolean => v12.has(F.CPU_BASED_VM_EXEC_CONTROL, bit);
  switch (exit.reason) {
    case EXIT_REASON_EXTERNAL_INTERRUPT:
    case EXIT_REASON_PREEMPTION_TIMER: // L0's own
    case EXIT_REASON_EPT_VIOLATION: // L0 always handles it; an EPT12 miss is injected by the MMU
    case EXIT_REASON_EPT_MISCONFIG:
    case EXIT_REASON_PML_FULL: // PML is emulated for L1
      return false;
    case EXIT_REASON_TRIPLE_FAULT:
    case EXIT_REASON_CPUID:
    case EXIT_REASON_INVALID_STATE:
    case EXIT_REASON_VMCALL: case EXIT_REASON_VMCLEAR: case EXIT_REASON_VMLAUNCH: case EXIT_REASON_VMPTRLD:
    case EXIT_REASON_VMPTRST: case EXIT_REASON_VMRESUME: case EXIT_REASON_VMOFF: case EXIT_REASON_VMON:
    case EXIT_REASON_INVEPT: case EXIT_REASON_INVVPID: case EXIT_REASON_VMREAD: case EXIT_REASON_VMWRITE:
      return true; // VMX instructions trap unconditionally (the VMREAD/VMWRITE bitmaps need shadow VMCS)
    case EXIT_REASON_PENDING_INTERRUPT:
      return exec(CPU_BASED_VIRTUAL_INTR_PENDING);
    case EXIT_REASON_NMI_WINDOW:
      return exec(CPU_BASED_VIRTUAL_NMI_PENDING);
    case EXIT_REASON_HLT:
      return exec(CPU_BASED_HLT_EXITING);
    case EXIT_REASON_CR_ACCESS:
      return exec(CPU_BASED_CR3_LOAD_EXITING); // MOV to CR3 is the only CR access L2 makes here
    case EXIT_REASON_IO_INSTRUCTION:
      return ioExitReflected(nv, v12, exit.port ?? 0, exit.size ?? 1);
    default:
      return true;
  }
}
