/**
 * The processor running L2 on vmcs02 between a VM entry and the next VM exit (what hardware
 * does, not KVM): load guest state, deliver an injected event, take window exits, execute the
 * subject's instructions from memory, and store guest state back into vmcs02 at the exit —
 * including the CR3 the guest may have loaded itself (MOV to CR3 is not intercepted under EPT).
 */
import {
  CPU_BASED_CR3_LOAD_EXITING, CPU_BASED_HLT_EXITING, CPU_BASED_INTR_WINDOW_EXITING, CPU_BASED_NMI_WINDOW_EXITING,
  CPU_BASED_VM_EXEC_CONTROL, EXIT_REASON_CR_ACCESS, EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_HLT,
  EXIT_REASON_INTERRUPT_WINDOW, EXIT_REASON_NMI_WINDOW, EXIT_REASON_PREEMPTION_TIMER, EXIT_REASON_TRIPLE_FAULT,
  EXIT_REASON_VMCALL, GUEST_CR3, GUEST_RFLAGS, GUEST_RIP, INTR_INFO_VALID_MASK, VM_ENTRY_INTR_INFO_FIELD,
  VM_EXIT_INSTRUCTION_LEN, VM_EXIT_REASON, u64,
} from '@kvmlab/hypervisor-core';
import { X86_EFLAGS_IF } from '../constants.js';
import { decodeL2, L2_MAX_INSN_LEN } from '../isa.js';
import type { NestedVcpu } from './nested-state.js';
import { nextWakeAt } from './wake-sources.js';

/** Cost of one ordinary instruction in virtual ns (a 1 GHz-ish guest; only ordering matters). */
export const L2_INSN_NS = 1n;
/** A host tick ends a run that never yields (e.g. `jmp $`) so L0 regains control. */
export const L2_MAX_INSNS_PER_ENTRY = 100_000;

/** Runs L2 from a VM entry to the next VM exit; returns the basic exit reason. */
export function runL2(nv: NestedVcpu, immediateExit: boolean): number {
  const v02 = nv.vmcs02;
  const sim = nv.vcpu.vm.hv.sim;
  const regs = nv.vcpu.x86.regs;
  const start = sim.now;
  // VM entry loads guest state from the current VMCS (processor loads, not VMREADs).
  let cr3 = v02.peek(GUEST_CR3);
  let rip = v02.peek(GUEST_RIP);
  const exec = v02.peek(CPU_BASED_VM_EXEC_CONTROL);
  const rflags = v02.peek(GUEST_RFLAGS);
  const intr = v02.peek(VM_ENTRY_INTR_INFO_FIELD);
  const has = (bit: number): boolean => (exec & BigInt(bit >>> 0)) !== 0n;
  let reason = -1;
  let len = 0;
  if ((intr & BigInt(INTR_INFO_VALID_MASK)) !== 0n) {
    nv.stats.l2Interrupts++; // delivered through L2's IDT; its handler returns to RIP
    v02.cpuWrite(VM_ENTRY_INTR_INFO_FIELD, intr & ~BigInt(INTR_INFO_VALID_MASK));
  }
  if (has(CPU_BASED_NMI_WINDOW_EXITING)) reason = EXIT_REASON_NMI_WINDOW;
  else if (has(CPU_BASED_INTR_WINDOW_EXITING) && (rflags & X86_EFLAGS_IF) !== 0n) reason = EXIT_REASON_INTERRUPT_WINDOW;
  else if (immediateExit) reason = EXIT_REASON_PREEMPTION_TIMER; // L0's request_immediate_exit()
  for (let n = 0; reason < 0; n++) {
    if (nv.kicked || n >= L2_MAX_INSNS_PER_ENTRY) {
      // A guest that never yields and has nothing that could ever interrupt it spins forever.
      if (!nv.kicked && nextWakeAt(nv) === null) nv.spinningForever = true;
      nv.kicked = false;
      reason = EXIT_REASON_EXTERNAL_INTERRUPT; // the host interrupt or IPI that kicked the vCPU
      break;
    }
    const mem = nv.vcpu.vm.memory;
    if (!mem.isMapped(rip, L2_MAX_INSN_LEN)) {
      reason = EXIT_REASON_TRIPLE_FAULT; // no IDT is modelled: a fetch fault ends the guest
      break;
    }
    const insn = decodeL2(mem.read(rip, L2_MAX_INSN_LEN));
    sim.elapse(insn.op === 'work' ? insn.ns : L2_INSN_NS);
    switch (insn.op) {
      case 'hlt':
        if (has(CPU_BASED_HLT_EXITING)) {
          reason = EXIT_REASON_HLT;
          len = insn.len;
        }
        break;
      case 'vmcall':
        reason = EXIT_REASON_VMCALL;
        len = insn.len;
        break;
      case 'mov-rax-imm':
        regs.rax = insn.imm;
        rip = u64(rip + 10n);
        break;
      case 'mov-cr3-rax':
        if (has(CPU_BASED_CR3_LOAD_EXITING)) {
          reason = EXIT_REASON_CR_ACCESS;
          len = insn.len;
        } else {
          cr3 = regs.rax;
          rip = u64(rip + 3n);
        }
        break;
      case 'jmp':
        rip = u64(rip + 5n + insn.rel);
        break;
      case 'work':
        rip = u64(rip + 7n);
        break;
      case 'invalid':
        reason = EXIT_REASON_TRIPLE_FAULT;
        break;
    }
  }
  // VM exit stores guest state into the current VMCS.
  v02.cpuWrite(GUEST_CR3, cr3);
  v02.cpuWrite(GUEST_RIP, rip);
  v02.cpuWrite(VM_EXIT_REASON, BigInt(reason));
  v02.cpuWrite(VM_EXIT_INSTRUCTION_LEN, BigInt(len));
  const vmptr = nv.currentVmptr;
  nv.emit({ kind: 'l2-run', at: start, dur: sim.now - start, vmptr, cr3 });
  return reason;
}
