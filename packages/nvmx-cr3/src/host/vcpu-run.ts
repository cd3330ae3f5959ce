/**
 * The vcpu_run() loop while L1 runs L2 (spec §2 step 5): check_nested_events() first on every
 * iteration (kvm_vcpu_running), vcpu_enter_guest() when RUNNABLE — requests, event injection,
 * kvm_mmu_reload(), a real entry and exit — and vcpu_block() while HALTED.
 */
import { EPT_POINTER, EXIT_REASON_CR_ACCESS, EXIT_REASON_HLT, GUEST_RFLAGS, VM_EXIT_INSTRUCTION_LEN, GUEST_RIP, INTR_INFO_VALID_MASK, INTR_TYPE_EXT_INTR, PIN_BASED_EXT_INTR_MASK, PIN_BASED_VM_EXEC_CONTROL, VM_ENTRY_INTR_INFO_FIELD } from '@kvmlab/hypervisor-core';
import { KVM_MP_STATE_HALTED, KVM_MP_STATE_RUNNABLE, X86_EFLAGS_IF } from '../constants.js';
import { runL2 } from './l2-cpu.js';
import { kvmMmuLoadCr3, kvmMmuNewCr3, kvmMmuReload, kvmMmuUnload } from './mmu-roots.js';
import type { NestedVcpu } from './nested-state.js';
import { nestedCpuHasEpt } from './nested-vmenter.js';
import { checkNestedEvents, nestedVmxExitReflected, nestedVmxVmexit } from './nested-vmexit.js';
import { finishEntryCount, finishExitCount } from './op-counts.js';
import { afterHardwareExit, kvmReadCr3, markCr3Available } from './reg-cache.js';
import { hasInterrupt, nextWakeAt } from './wake-sources.js';

/** Handles KVM_REQ_MMU_RELOAD and KVM_REQ_LOAD_CR3 in vcpu_enter_guest()'s order (arch/x86/kvm/x86.c). */
function handleMmuRequests(nv: NestedVcpu): void {
  if (nv.requests.delete('MMU_RELOAD')) kvmMmuUnload(nv);
  if (nv.requests.delete('LOAD_CR3')) kvmMmuLoadCr3(nv);
}

/** What a new root would be built for: EPTP12 for shadow EPT, else the guest CR3. */
function rootKey(nv: NestedVcpu): bigint {
  const v12 = nv.vmcs12;
  if (nv.guestMode && v12 !== undefined && nv.cfg.enableEpt && nestedCpuHasEpt(v12)) return v12.get(EPT_POINTER);
  return nv.cr3;
}

/** models vmx_interrupt_allowed() (arch/x86/kvm/vmx/vmx.c). */
function interruptAllowed(nv: NestedVcpu): boolean {
  if (nv.nestedRunPending) return false;
  const v12 = nv.vmcs12;
  if (nv.guestMode && v12?.has(PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_EXT_INTR_MASK) === true) return true;
  return (nv.loaded.peek(GUEST_RFLAGS) & X86_EFLAGS_IF) !== 0n;
}

/** models kvm_vcpu_has_events() (arch/x86/kvm/x86.c), interrupts only. */
function hasEvents(nv: NestedVcpu): boolean {
  return interruptAllowed(nv) && hasInterrupt(nv);
}

/** models kvm_vcpu_running() (arch/x86/kvm/x86.c): check_nested_events() comes first. */
function kvmVcpuRunning(nv: NestedVcpu): boolean {
  if (nv.guestMode) checkNestedEvents(nv);
  return nv.mpState === KVM_MP_STATE_RUNNABLE;
}

/**
 * models vcpu_block() (arch/x86/kvm/x86.c): wait in virtual time until the vCPU is runnable.
 * False if nothing this model knows of can ever wake it.
 */
function vcpuBlock(nv: NestedVcpu): boolean {
  const sim = nv.vcpu.vm.hv.sim;
  while (!(kvmVcpuRunning(nv) || hasEvents(nv))) {
    const t = nextWakeAt(nv);
    if (t === null) return false;
    sim.runUntil(t > sim.now ? t : sim.now);
  }
  nv.kicked = false;
  if (nv.mpState === KVM_MP_STATE_HALTED) nv.mpState = KVM_MP_STATE_RUNNABLE;
  return true;
}

/** models inject_pending_event() (arch/x86/kvm/x86.c): nested events first, then an IRQ for L2. */
function injectPendingEvent(nv: NestedVcpu): 'ok' | 'busy' | 'exited' {
  if (nv.guestMode) {
    const r = checkNestedEvents(nv);
    if (r !== 'none') return r;
  }
  if (nv.guestMode && hasInterrupt(nv) && interruptAllowed(nv)) {
    const vector = nv.pendingIrqs.shift() ?? 0;
    nv.vmcs02.vmwrite(VM_ENTRY_INTR_INFO_FIELD, BigInt((vector | INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK) >>> 0));
  }
  return 'ok';
}

/** models kvm_emulate_halt() (arch/x86/kvm/x86.c): skip HLT, then halt in place (L2 stays L2). */
function kvmEmulateHalt(nv: NestedVcpu): void {
  skipInstruction(nv);
  nv.mpState = KVM_MP_STATE_HALTED;
  nv.emit({ kind: 'l2-halt', at: nv.now, vmptr: nv.currentVmptr });
}

/** kvm_skip_emulated_instruction(): RIP += the exit's instruction length. */
function skipInstruction(nv: NestedVcpu): void {
  const len = nv.loaded.vmread(VM_EXIT_INSTRUCTION_LEN);
  nv.loaded.vmwrite(GUEST_RIP, nv.loaded.vmread(GUEST_RIP) + len);
}

/** models kvm_set_cr3() (arch/x86/kvm/x86.c) for a MOV to CR3 L0 intercepted (shadow paging, no EPT). */
function kvmSetCr3(nv: NestedVcpu, cr3: bigint): void {
  if (cr3 !== kvmReadCr3(nv)) kvmMmuNewCr3(nv, nv.mmu, cr3);
  nv.cr3 = cr3;
  markCr3Available(nv);
}

/** models vcpu_enter_guest() (arch/x86/kvm/x86.c) with the vCPU in guest mode. */
function vcpuEnterGuestL2(nv: NestedVcpu): void {
  handleMmuRequests(nv);
  let immediateExit = false;
  if (nv.requests.delete('EVENT') || hasInterrupt(nv) || nv.preemptionTimerExpired) {
    const r = injectPendingEvent(nv);
    if (r === 'exited') return;
    if (r === 'busy') immediateExit = true; // request_immediate_exit(): come back for the event
  }
  kvmMmuReload(nv, rootKey(nv));
  const vmptr = nv.currentVmptr;
  finishEntryCount(nv, false, vmptr);
  const reason = runL2(nv, immediateExit);
  afterHardwareExit(nv);
  nv.nestedRunPending = false;
  nv.vcpu.vm.hv.sim.elapse(nv.cfg.exitCostNs);
  const v12 = nv.vmcs12;
  if (v12 !== undefined && nestedVmxExitReflected(v12, reason)) {
    nv.emit({ kind: 'hw-exit', at: nv.now, vmptr, reason, reflected: true });
    nestedVmxVmexit(nv, reason, 0, 0n);
    return;
  }
  nv.stats.l0Exits[reason] = (nv.stats.l0Exits[reason] ?? 0) + 1;
  nv.emit({ kind: 'hw-exit', at: nv.now, vmptr, reason, reflected: false });
  if (reason === EXIT_REASON_HLT) kvmEmulateHalt(nv);
  if (reason === EXIT_REASON_CR_ACCESS) {
    kvmSetCr3(nv, nv.vcpu.x86.regs.rax); // handle_cr(): MOV CR3, RAX is the only CR access L2 makes here
    skipInstruction(nv);
  }
}

/** The vcpu_run() loop from a nested entry until L1 is back in charge. False = stuck forever. */
export function vcpuRunNested(nv: NestedVcpu): boolean {
  while (nv.guestMode) {
    if (kvmVcpuRunning(nv)) {
      if (nv.guestMode) vcpuEnterGuestL2(nv);
      if (nv.spinningForever) return false;
    } else if (!vcpuBlock(nv)) {
      return false;
    }
  }
  return true;
}

/**
 * models vcpu_enter_guest() for L1 (arch/x86/kvm/x86.c): requests (LOAD_CR3 → vmx_set_cr3 on
 * vmcs01), kvm_mmu_reload(); L1 takes pending interrupts itself (its IDT is not modelled).
 */
export function vcpuEnterL1(nv: NestedVcpu): void {
  handleMmuRequests(nv);
  nv.requests.delete('EVENT');
  while (nv.pendingIrqs.length > 0 && !nv.guestMode) {
    nv.pendingIrqs.shift();
    nv.stats.l1Interrupts++;
  }
  kvmMmuReload(nv, nv.cr3);
  finishExitCount(nv);
}
