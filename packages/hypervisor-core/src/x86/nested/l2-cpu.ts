/**
 * The processor running L2 on vmcs02 between a VM entry and the next VM exit (what hardware does,
 * not KVM): deliver an injected event, take window exits, then fetch and execute L2's
 * instructions — machine code at RIP, or a JS guest program bound to this vmcs12 — with every
 * memory access going through the VM's MMU in guest mode (EPT02 and PML when an EPT MMU is
 * installed). Guest state lives in vmcs02 as the processor changes it (RIP, CR3), so an exit
 * taken inside an access finds it there, as a VM exit saves it.
 */
import { leBytes, readLe, u64 } from '../../bigint.js';
import { decodeX86, X86_MAX_INSN_LEN, type X86Insn } from '../isa.js';
import * as F from '../vmcs-fields.js';
import { Vmcs } from '../vmcs.js';
import {
  CPU_BASED_CR3_LOAD_EXITING, CPU_BASED_HLT_EXITING, CPU_BASED_VIRTUAL_INTR_PENDING, CPU_BASED_VIRTUAL_NMI_PENDING,
  INTR_INFO_VALID_MASK,
} from '../vmx-controls.js';
import {
  EXIT_REASON_CR_ACCESS, EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_HLT, EXIT_REASON_IO_INSTRUCTION,
  EXIT_REASON_NMI_WINDOW, EXIT_REASON_PENDING_INTERRUPT, EXIT_REASON_PREEMPTION_TIMER, EXIT_REASON_TRIPLE_FAULT,
  EXIT_REASON_VMCALL,
} from '../vmx-exit-reasons.js';
import { X86_EFLAGS_IF } from '../x86-regs.js';
import type { NestedVcpuState, ProgramInstance } from './shapes.js';
import { emit } from './state.js';
import { nextWakeAt } from './wake-sources.js';

/** Cost of one ordinary instruction in virtual ns (a 1 GHz-ish guest; only ordering matters). */
export const L2_INSN_NS = 1n;
const L2_INSN_NS_NUMBER = Number(L2_INSN_NS);
/** A host tick ends a run that never yields (e.g. `jmp $`) so L0 regains control. */
export const L2_MAX_INSNS_PER_ENTRY = 100_000;

/** A hardware exit from L2, as vmcs02's exit-information fields describe it. */
export interface L2Exit {
  readonly reason: number;
  readonly len: number;
  readonly qualification: bigint;
  /** EXIT_REASON_IO_INSTRUCTION: port, access size and direction. */
  readonly port?: number;
  readonly size?: number;
  readonly isIn?: boolean;
}

/** The L2 code bound to this entry: a running JS program, one loaded at RIP, or machine code (null). */
function programFor(nv: NestedVcpuState, rip: bigint): ProgramInstance | null {
  const bound = nv.programs.get(nv.currentVmptr);
  if (bound !== undefined) return bound;
  const program = nv.engine.programs.get(nv.vcpu.vm)?.get(rip);
  if (program === undefined) return null;
  const inst: ProgramInstance = { gen: program(), pending: null, input: 0n, done: false };
  nv.programs.set(nv.currentVmptr, inst);
  return inst;
}

/** Fetch from a JS program: its next instruction (it does not depend on RIP). */
function fetchProgram(prog: ProgramInstance): X86Insn {
  if (prog.pending !== null) return prog.pending;
  if (prog.done) return { op: 'hlt', len: 1 }; // a finished program idles
  const r = prog.gen.next(prog.input);
  if (r.done === true) {
    prog.done = true;
    return { op: 'hlt', len: 1 };
  }
  prog.pending = r.value;
  return r.value;
}

/** Fetch machine code: a decode of the bytes at RIP (read through the MMU). */
function fetchCode(nv: NestedVcpuState, rip: bigint): X86Insn | 'nested-exit' {
  const bytes = nv.vcpu.vm.mmu.guestRead(nv.vcpu, rip, X86_MAX_INSN_LEN);
  return nv.vcpu.x86.guestMode ? decodeX86(bytes) : 'nested-exit';
}

/** A 64-bit store through the MMU: its guestWriteU64 when it has one (no bytes made), else guestWrite of the bytes. */
function store64(nv: NestedVcpuState, gpa: bigint, value: bigint): void {
  const mmu = nv.vcpu.vm.mmu;
  if (mmu.guestWriteU64 !== undefined) mmu.guestWriteU64(nv.vcpu, gpa, value);
  else mmu.guestWrite(nv.vcpu, gpa, leBytes(8, value));
}

/** Instruction lengths as bigints (an x86 instruction is at most 15 bytes), so advancing RIP allocates no length. */
const INSN_LEN: readonly bigint[] = Array.from({ length: 16 }, (_, n) => BigInt(n));
/** GUEST_RIP's value slot: the processor stores RIP after every instruction, past the encoding checks. */
const RIP_SLOT = Vmcs.fieldSlot(F.GUEST_RIP);
const EXEC_SLOT = Vmcs.numberFieldSlot(F.CPU_BASED_VM_EXEC_CONTROL);
const INTR_INFO_SLOT = Vmcs.numberFieldSlot(F.VM_ENTRY_INTR_INFO_FIELD);
/** Below this a RIP is exact in a double: a JS program's RIP then advances as a number. */
const EXACT_RIP = 2 ** 53;

/** Runs L2 from a VM entry to the next VM exit. 'nested-exit': an access inside L2 ended in an exit to L1. */
export function runL2(nv: NestedVcpuState, immediateExit: boolean): L2Exit | 'nested-exit' {
  const v02 = nv.vmcs02;
  const sim = nv.vcpu.vm.hv.sim;
  const regs = nv.vcpu.x86.regs;
  const start = sim.now;
  const vmptr = nv.currentVmptr;
  // Both fields are 32 bits wide: tested as numbers, converted once per store of the field.
  const exec = v02.peekNumberAt(EXEC_SLOT);
  const has = (bit: number): boolean => (exec & bit) !== 0;
  if ((v02.peekNumberAt(INTR_INFO_SLOT) & INTR_INFO_VALID_MASK) !== 0) {
    nv.stats.l2Interrupts++; // delivered through L2's IDT (not modelled); its handler returns to RIP
    v02.cpuWrite(F.VM_ENTRY_INTR_INFO_FIELD, v02.peek(F.VM_ENTRY_INTR_INFO_FIELD) & ~BigInt(INTR_INFO_VALID_MASK));
  }
  let exit: L2Exit | null = null;
  if (has(CPU_BASED_VIRTUAL_NMI_PENDING)) exit = { reason: EXIT_REASON_NMI_WINDOW, len: 0, qualification: 0n };
  else if (has(CPU_BASED_VIRTUAL_INTR_PENDING) && (v02.peek(F.GUEST_RFLAGS) & X86_EFLAGS_IF) !== 0n) exit = { reason: EXIT_REASON_PENDING_INTERRUPT, len: 0, qualification: 0n };
  else if (immediateExit) exit = { reason: EXIT_REASON_PREEMPTION_TIMER, len: 0, qualification: 0n }; // L0's request_immediate_exit()
  // RIP as a bigint (null while only its number is current) and as a number (exact below
  // EXACT_RIP). A JS program's RIP advances as a number, stored with no bigint made: only an
  // exit or a VMREAD reads it, and vmcs02 makes the bigint then. Machine code keeps the bigint,
  // which its fetch reads.
  let rip: bigint | null = v02.peek(F.GUEST_RIP);
  let ripN = Number(rip);
  const prog = exit === null ? programFor(nv, rip) : null;
  for (let n = 0; exit === null; n++) {
    if (nv.kicked || n >= L2_MAX_INSNS_PER_ENTRY) {
      // A guest that never yields and has nothing that could ever interrupt it spins forever.
      if (!nv.kicked && nextWakeAt(nv) === null) nv.spinningForever = true;
      nv.kicked = false;
      exit = { reason: EXIT_REASON_EXTERNAL_INTERRUPT, len: 0, qualification: 0n }; // the host interrupt that kicked the vCPU
      break;
    }
    const insn = prog !== null ? fetchProgram(prog) : fetchCode(nv, rip!);
    if (insn === 'nested-exit') return 'nested-exit';
    sim.elapseNs(insn.op === 'work' ? Number(insn.ns) : L2_INSN_NS_NUMBER);
    let result = 0n;
    switch (insn.op) {
      case 'hlt':
        if (has(CPU_BASED_HLT_EXITING)) exit = { reason: EXIT_REASON_HLT, len: 1, qualification: 0n };
        break;
      case 'vmcall':
        exit = { reason: EXIT_REASON_VMCALL, len: 3, qualification: 0n };
        break;
      case 'mov-rax-imm':
        regs.rax = insn.imm;
        break;
      case 'mov-rdi-imm':
        regs.rdi = insn.imm;
        break;
      case 'mov-edx-imm':
        regs.rdx = insn.imm & 0xffff_ffffn;
        break;
      case 'add-rdi-imm':
        regs.rdi = u64(regs.rdi + insn.imm);
        break;
      case 'mov-cr3-rax':
        if (has(CPU_BASED_CR3_LOAD_EXITING)) exit = { reason: EXIT_REASON_CR_ACCESS, len: 3, qualification: 3n }; // CR3, MOV to CR, from RAX
        else v02.cpuWrite(F.GUEST_CR3, regs.rax);
        break;
      case 'store-rdi-rax':
        store64(nv, regs.rdi, regs.rax);
        if (!nv.vcpu.x86.guestMode) return 'nested-exit';
        break;
      case 'load-rax-rdi': {
        const v = readLe(nv.vcpu.vm.mmu.guestRead(nv.vcpu, regs.rdi, 8), 0, 8);
        if (!nv.vcpu.x86.guestMode) return 'nested-exit';
        regs.rax = v;
        result = v;
        break;
      }
      case 'inc-mrdi': {
        const v = readLe(nv.vcpu.vm.mmu.guestRead(nv.vcpu, regs.rdi, 8), 0, 8);
        if (!nv.vcpu.x86.guestMode) return 'nested-exit';
        store64(nv, regs.rdi, v + 1n);
        if (!nv.vcpu.x86.guestMode) return 'nested-exit';
        break;
      }
      case 'in-al-dx':
      case 'out-dx-al': {
        const port = Number(regs.rdx & 0xffffn);
        const isIn = insn.op === 'in-al-dx';
        // exit qualification: size - 1, direction (1 = IN), port (SDM table 27-5)
        exit = { reason: EXIT_REASON_IO_INSTRUCTION, len: 1, qualification: BigInt(port << 16) | (isIn ? 8n : 0n), port, size: 1, isIn };
        break;
      }
      case 'jmp':
      case 'work':
        break;
      case 'invalid':
        exit = { reason: EXIT_REASON_TRIPLE_FAULT, len: 0, qualification: 0n }; // no IDT is modelled: #UD ends the guest
        break;
    }
    if (prog !== null) {
      prog.pending = null;
      prog.input = result;
    }
    // An exiting instruction leaves RIP on itself (and #UD on the faulting one).
    if (exit !== null) break;
    const nextN = ripN + insn.len;
    if (prog !== null && insn.op !== 'jmp' && nextN < EXACT_RIP) {
      ripN = nextN;
      rip = null;
      v02.cpuWriteExactNumberAt(RIP_SLOT, ripN);
    } else {
      const len = INSN_LEN[insn.len] ?? BigInt(insn.len);
      rip = u64((rip ?? BigInt(ripN)) + (insn.op === 'jmp' ? len + insn.rel : len));
      ripN = Number(rip);
      v02.cpuWriteAt(RIP_SLOT, rip); // u64() keeps it within the field's 64 bits
    }
  }
  return finishRun(nv, exit, start, vmptr);
}

/** The VM exit: the processor stores the exit information into vmcs02. */
function finishRun(nv: NestedVcpuState, exit: L2Exit, start: bigint, vmptr: bigint): L2Exit {
  const v02 = nv.vmcs02;
  const sim = nv.vcpu.vm.hv.sim;
  v02.cpuWrite(F.VM_EXIT_REASON, BigInt(exit.reason));
  v02.cpuWrite(F.VM_EXIT_INSTRUCTION_LEN, BigInt(exit.len));
  v02.cpuWrite(F.EXIT_QUALIFICATION, exit.qualification);
  if (nv.listeners.length > 0) emit(nv, { kind: 'l2-run', at: start, dur: sim.now - start, vmptr, cr3: v02.peek(F.GUEST_CR3) });
  return exit;
}
