/**
 * The vcpu_run() loop while L1 runs L2 (arch/x86/kvm/x86.c of v5.4; spec nvmx-pml.md §2 step 5):
 * check_nested_events() first on every iteration (kvm_vcpu_running), vcpu_enter_guest() when
 * RUNNABLE — requests, event injection, kvm_mmu_reload(), a real entry, the processor, the exit and
 * vmx_handle_exit() — and vcpu_block() while HALTED. Also the entry into L1 after an emulated
 * instruction or a nested exit.
 */
import * as F from '../vmcs-fields.js';
import {
  GUEST_INTR_STATE_MOV_SS, GUEST_INTR_STATE_STI, INTR_INFO_VALID_MASK, INTR_TYPE_EXT_INTR, INTR_TYPE_NMI_INTR,
  NMI_VECTOR,
} from '../vmx-controls.js';
import { EXIT_REASON_CR_ACCESS, EXIT_REASON_HLT, EXIT_REASON_IO_INSTRUCTION } from '../vmx-exit-reasons.js';
import { KVM_MP_STATE_HALTED, KVM_MP_STATE_RUNNABLE, X86_EFLAGS_IF } from '../x86-regs.js';
import { checkNestedEvents, nestedVmxExitReflected } from './events.js';
import { runL2, type L2Exit } from './l2-cpu.js';
import { kvmMmuLoadCr3, kvmMmuNewCr3, kvmMmuReload, kvmMmuUnload } from './mmu-roots.js';
import { finishEntryCount, finishExitCount } from './op-counts.js';
import { afterHardwareExit, kvmReadCr3, markCr3Available } from './reg-cache.js';
import type { NestedVcpuState } from './shapes.js';
import { emit, now } from './state.js';
import { traceVmEntry, traceVmxExit } from '../exit-trace.js';
import { nestedVmxVmexit } from './vmexit.js';
import { hasInterrupt, nextWakeAt } from './wake-sources.js';

/** The requests vcpu_enter_guest() handles, in its order (x86.c): MMU_RELOAD, MMU_SYNC, LOAD_CR3, TLB_FLUSH. */
function handleRequests(nv: NestedVcpuState): void {
  const r = nv.requests;
  if (r.delete('MMU_RELOAD')) kvmMmuUnload(nv);
  if (r.delete('MMU_SYNC')) nv.engine.ops.mmuSyncRoots?.(nv);
  if (r.delete('LOAD_CR3')) kvmMmuLoadCr3(nv);
  r.delete('TLB_FLUSH'); // the model has no TLB: every access reads the current tables
}

/** What a new root would be built for: mmu->get_cr3(), i.e. EPTP12 for guest_mmu, else kvm_read_cr3(). */
function rootKey(nv: NestedVcpuState): bigint {
  if (nv.mmu === nv.guestMmu && nv.cachedVmcs12 !== null) return nv.cachedVmcs12.get(F.EPT_POINTER);
  return kvmReadCr3(nv);
}

/** models vmx_interrupt_allowed() (vmx.c), reading the cached RFLAGS and interruptibility. */
function interruptAllowed(nv: NestedVcpuState): boolean {
  const intr = nv.loaded.peek(F.GUEST_INTERRUPTIBILITY_INFO);
  return !nv.nestedRunPending && (nv.loaded.peek(F.GUEST_RFLAGS) & X86_EFLAGS_IF) !== 0n &&
    (intr & BigInt(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)) === 0n;
}

/** models kvm_vcpu_has_events() (x86.c) for the events the model has. */
const hasEvents = (nv: NestedVcpuState): boolean => nv.nmiPending > 0 || (interruptAllowed(nv) && hasInterrupt(nv));

/** models kvm_vcpu_running() (x86.c): check_nested_events() comes first. */
function kvmVcpuRunning(nv: NestedVcpuState): boolean {
  if (nv.vcpu.x86.guestMode) checkNestedEvents(nv);
  return nv.vcpu.x86.mpState === KVM_MP_STATE_RUNNABLE;
}

/**
 * models vcpu_block() (x86.c): wait in virtual time until runnable. False if nothing the model
 * knows can wake it. A signal ends the wait too (kvm_vcpu_check_block() → -EINTR), leaving the
 * vCPU halted: vcpu_run() then returns to userspace.
 */
function vcpuBlock(nv: NestedVcpuState): boolean {
  const sim = nv.vcpu.vm.hv.sim;
  const signalled = (): boolean => nv.signal !== null;
  while (!(kvmVcpuRunning(nv) || hasEvents(nv))) {
    if (signalled()) return true;
    const t = nextWakeAt(nv);
    if (t === null) return false;
    sim.runUntilOr(t > sim.now ? t : sim.now, signalled);
  }
  nv.kicked = false;
  if (nv.vcpu.x86.mpState === KVM_MP_STATE_HALTED) nv.vcpu.x86.mpState = KVM_MP_STATE_RUNNABLE;
  return true;
}

/** models inject_pending_event() (x86.c): nested events first, then an NMI or interrupt for L2. */
function injectPendingEvent(nv: NestedVcpuState): 'ok' | 'busy' | 'exited' {
  const r = checkNestedEvents(nv);
  if (r !== 'none') return r;
  if (nv.nmiPending > 0 && !nv.nestedRunPending) {
    nv.nmiPending--;
    nv.vmcs02.vmwrite(F.VM_ENTRY_INTR_INFO_FIELD, BigInt((NMI_VECTOR | INTR_TYPE_NMI_INTR | INTR_INFO_VALID_MASK) >>> 0));
  } else if (hasInterrupt(nv) && interruptAllowed(nv)) {
    const vector = nv.pendingIrqs.shift()!;
    nv.vmcs02.vmwrite(F.VM_ENTRY_INTR_INFO_FIELD, BigInt((vector | INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK) >>> 0));
  }
  return 'ok';
}

/** kvm_skip_emulated_instruction(): RIP += the exit's instruction length. */
function skipInstruction(nv: NestedVcpuState): void {
  const len = nv.loaded.vmread(F.VM_EXIT_INSTRUCTION_LEN);
  nv.loaded.vmwrite(F.GUEST_RIP, nv.loaded.vmread(F.GUEST_RIP) + len);
}

/** models kvm_emulate_halt() (x86.c): skip HLT, then halt in place (L2 stays L2). */
function kvmEmulateHalt(nv: NestedVcpuState): void {
  skipInstruction(nv);
  nv.vcpu.x86.mpState = KVM_MP_STATE_HALTED;
  emit(nv, { kind: 'l2-halt', at: now(nv), vmptr: nv.currentVmptr });
}

/** models kvm_set_cr3() (x86.c) for a MOV to CR3 L0 intercepted (shadow paging). */
function kvmSetCr3(nv: NestedVcpuState, cr3: bigint): void {
  if (cr3 !== kvmReadCr3(nv)) kvmMmuNewCr3(nv, nv.mmu, cr3);
  nv.vcpu.x86.cr3 = cr3;
  markCr3Available(nv);
}

/** models kvm_fast_pio() → KVM_EXIT_IO → the VMM → complete_fast_pio_in(): L0's userspace handles the port. */
function emulatePio(nv: NestedVcpuState, exit: L2Exit): void {
  const regs = nv.vcpu.x86.regs;
  const data = nv.vcpu.pioExit(exit.port ?? 0, exit.size ?? 1, exit.isIn === true, regs.rax);
  if (exit.isIn === true) regs.rax = (regs.rax & ~0xffn) | BigInt(data[0] ?? 0);
  skipInstruction(nv);
}

/** models vmx_handle_exit() (vmx.c) for an exit from L2: flush PML, reflect it to L1 or handle it in L0. */
function vmxHandleExitL2(nv: NestedVcpuState, exit: L2Exit): void {
  if (nv.engine.params.pml) nv.engine.ops.flushPml?.(nv);
  nv.stats.exits[exit.reason] = (nv.stats.exits[exit.reason] ?? 0) + 1;
  traceVmxExit(nv.vcpu, exit.reason, exit.qualification, Number(nv.vmcs02.peek(F.VM_EXIT_INTR_INFO)));
  const vmptr = nv.currentVmptr;
  const reflected = nestedVmxExitReflected(nv, exit);
  emit(nv, { kind: 'hw-exit', at: now(nv), vmptr, reason: exit.reason, reflected });
  if (reflected) {
    nestedVmxVmexit(nv, exit.reason, Number(nv.vmcs02.peek(F.VM_EXIT_INTR_INFO)), exit.qualification);
    return;
  }
  nv.stats.l0Exits[exit.reason] = (nv.stats.l0Exits[exit.reason] ?? 0) + 1;
  if (exit.reason === EXIT_REASON_HLT) kvmEmulateHalt(nv);
  else if (exit.reason === EXIT_REASON_CR_ACCESS) {
    kvmSetCr3(nv, nv.vcpu.x86.regs.rax); // handle_cr(): MOV CR3, RAX is the only CR access L2 makes here
    skipInstruction(nv);
  } else if (exit.reason === EXIT_REASON_IO_INSTRUCTION) emulatePio(nv, exit);
}

/** What KVM does right after every hardware VM exit, before handling it (vmx_vcpu_run()'s tail). */
export function hardwareExitBookkeeping(nv: NestedVcpuState): void {
  afterHardwareExit(nv);
  nv.nestedRunPending = false;
}

/** models vcpu_enter_guest() (x86.c) with the vCPU in guest mode. */
function vcpuEnterGuestL2(nv: NestedVcpuState): void {
  handleRequests(nv);
  let immediateExit = false;
  if (nv.requests.delete('EVENT') || hasInterrupt(nv) || nv.preemptionTimerExpired || nv.nmiPending > 0) {
    const r = injectPendingEvent(nv);
    if (r === 'exited') return;
    if (r === 'busy') immediateExit = true; // request_immediate_exit(): come back for the event
  }
  kvmMmuReload(nv, rootKey);
  nv.engine.ops.hardwareEntry?.(nv, nv.vmcs02);
  traceVmEntry(nv.vcpu);
  finishEntryCount(nv, false, nv.currentVmptr);
  const exit = runL2(nv, immediateExit);
  if (exit === 'nested-exit') return; // the MMU took the exit to L1 inside an access
  hardwareExitBookkeeping(nv);
  nv.vcpu.vm.hv.sim.elapse(nv.engine.exitCostNs);
  vmxHandleExitL2(nv, exit);
}

/**
 * vcpu_run()'s signal_pending() check: KVM_EXIT_INTR to userspace, where the VMM's handler runs;
 * the next KVM_RUN continues the loop. The kick that carried the signal has done its work.
 */
function exitToUserspace(nv: NestedVcpuState): void {
  const handler = nv.signal!;
  nv.signal = null;
  nv.kicked = false;
  nv.stats.userspaceExits++;
  handler();
}

/** The vcpu_run() loop from a nested entry until L1 is back in charge. False = L2 can never be left. */
export function vcpuRunNested(nv: NestedVcpuState): boolean {
  while (nv.vcpu.x86.guestMode) {
    if (nv.signal !== null) exitToUserspace(nv);
    else if (kvmVcpuRunning(nv)) {
      if (nv.vcpu.x86.guestMode) vcpuEnterGuestL2(nv);
      if (nv.spinningForever) return false;
    } else if (!vcpuBlock(nv)) {
      return false;
    }
  }
  return true;
}

/**
 * models vcpu_enter_guest() for L1 (x86.c): requests (LOAD_CR3 → vmx_set_cr3 on vmcs01),
 * kvm_mmu_reload(), the hardware entry. L1 takes pending interrupts itself (its IDT is not
 * modelled: they are counted).
 */
export function vcpuEnterL1(nv: NestedVcpuState): void {
  handleRequests(nv);
  nv.requests.delete('EVENT');
  while (nv.pendingIrqs.length > 0 && !nv.vcpu.x86.guestMode) {
    nv.pendingIrqs.shift();
    nv.stats.l1Interrupts++;
  }
  nv.nmiPending = 0;
  kvmMmuReload(nv, rootKey);
  nv.engine.ops.hardwareEntry?.(nv, nv.vmcs01);
  traceVmEntry(nv.vcpu);
  finishExitCount(nv);
}
