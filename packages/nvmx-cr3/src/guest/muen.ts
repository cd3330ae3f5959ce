/**
 * A Muen-like L1 separation kernel: N subjects, each with its own VMCS (vmcs12), HLT exiting
 * off, the VMX-preemption timer as the scheduler tick, external-interrupt exiting with
 * acknowledge-on-exit, and a static round-robin plan. Native subjects have one static CR3;
 * VM subjects load their own CR3 under EPT. After every exit it runs the check Reto Buerki
 * added to Muen and logs, in Muen's Ada hex style, `CR3 of subject N changed: 16#…# exit 16#…#`.
 * It uses only VMX instructions, guest memory and its own registers.
 */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_VM_EXEC_CONTROL, EPT_POINTER, EXIT_REASON_EXTERNAL_INTERRUPT,
  EXIT_REASON_PREEMPTION_TIMER, EXIT_REASON_VMCALL, GUEST_ACTIVITY_HLT, GUEST_ACTIVITY_STATE, GUEST_CR3, GUEST_RFLAGS,
  GUEST_RIP, HOST_CR3, INTR_INFO_VALID_MASK, INTR_TYPE_EXT_INTR, leBytes, PIN_BASED_EXT_INTR_MASK,
  PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_VMX_PREEMPTION_TIMER, SECONDARY_EXEC_ENABLE_EPT, SECONDARY_VM_EXEC_CONTROL,
  type Vcpu, VM_ENTRY_INTR_INFO_FIELD, VM_EXIT_CONTROLS, VM_EXIT_INSTRUCTION_LEN, VM_EXIT_REASON,
  VMX_PREEMPTION_TIMER_VALUE,
} from '@kvmlab/hypervisor-core';
import { VM_EXIT_ACK_INTR_ON_EXIT, VM_EXIT_HOST_ADDR_SPACE_SIZE, VMCS12_REVISION, VMX_EPTP_MT_WB, VMX_EPTP_PWL_4, X86_EFLAGS_FIXED, X86_EFLAGS_IF } from '../constants.js';
import { assemble, type AsmLine } from './assembler.js';
import { vmclear, vmptrld, vmread, vmresume, vmlaunch, vmwrite, vmxon, type VmxOutcome } from './vmx.js';

export interface MuenSubject {
  readonly id: number;
  /** 'native': static page tables (CR3 never changes); 'vm': loads its own CR3s under EPT. */
  readonly kind: 'native' | 'vm';
  /** Native: the static PML4 address. VM: the CR3 the kernel sets up (0, as in Reto's log). */
  readonly cr3: bigint;
  /** VM subjects: the CR3 values they load in turn. */
  readonly loads?: readonly bigint[];
  /** ns of work before the subject idles with HLT. */
  readonly workNs: number;
  /** Inject a subject event (vector 0x20) every this many of its frames when it is halted (0 = never). */
  readonly wakeEvery: number;
}

export interface MuenConfig {
  readonly subjects: readonly MuenSubject[];
  /** Subject ids per minor frame of the major frame. */
  readonly plan: readonly number[];
  /** VMX-preemption timer value per minor frame (scheduler tick). */
  readonly tickTimerValue: bigint;
  readonly kernelCr3: bigint;
  /** 'halt': log "Halting CPU" and stop, as Muen does; 'repair': restore the known CR3 and go on. */
  readonly onCorruption: 'halt' | 'repair';
}

export const MUEN_VMXON_GPA = 0x10000n;
export const MUEN_VMCS_GPA = 0x20000n;
export const MUEN_CODE_GPA = 0x100000n;
export const MUEN_EPT_GPA = 0x200000n;
const SUBJECT_EVENT_VECTOR = 0x20;

/** Muen prints numbers as Ada based literals: 16#…#. */
export const ada = (v: bigint, digits: number): string => `16#${v.toString(16).padStart(digits, '0')}#`;

export interface MuenCorruption {
  readonly frame: number;
  readonly subject: number;
  readonly expected: bigint;
  readonly found: bigint;
  readonly exitReason: number;
}

interface SubjectState {
  readonly cfg: MuenSubject;
  readonly vmcs: bigint;
  launched: boolean;
  knownCr3: bigint;
  rax: bigint;
  frames: number;
}

export class MuenKernel {
  readonly log: string[] = [];
  readonly corruptions: MuenCorruption[] = [];
  halted = false;
  framesRun = 0;
  private readonly vcpu: Vcpu;
  private readonly cfg: MuenConfig;
  private readonly subjects = new Map<number, SubjectState>();

  constructor(vcpu: Vcpu, cfg: MuenConfig) {
    this.vcpu = vcpu;
    this.cfg = cfg;
  }

  private must(o: VmxOutcome, what: string): boolean {
    if (o.status === 'ok') return true;
    this.log.push(`ERROR ${what} failed (${o.status})`);
    this.haltCpu();
    return false;
  }

  private haltCpu(): void {
    this.log.push('ERROR Halting CPU');
    this.halted = true;
  }

  private codeFor(s: MuenSubject): AsmLine[] {
    if (s.kind === 'native') return [{ op: 'work', ns: s.workNs }, { op: 'hlt' }, { op: 'jmp-start' }];
    const lines: AsmLine[] = [];
    for (const cr3 of s.loads ?? []) lines.push({ op: 'mov-cr3', value: cr3 }, { op: 'work', ns: s.workNs }, { op: 'hlt' });
    lines.push({ op: 'jmp-start' });
    return lines;
  }

  /** Boot: VMXON, one VMCS per subject, subject code in memory; logs each subject's PML4. */
  boot(): boolean {
    const v = this.vcpu;
    v.write(MUEN_VMXON_GPA, leBytes(4, BigInt(VMCS12_REVISION)));
    if (!this.must(vmxon(v, MUEN_VMXON_GPA), 'VMXON')) return false;
    for (const [i, s] of this.cfg.subjects.entries()) {
      const vmcs = MUEN_VMCS_GPA + BigInt(i) * 0x1000n;
      const code = MUEN_CODE_GPA + BigInt(i) * 0x1000n;
      v.write(vmcs, leBytes(4, BigInt(VMCS12_REVISION)));
      v.write(code, assemble(this.codeFor(s)));
      if (!this.must(vmclear(v, vmcs), 'VMCLEAR') || !this.must(vmptrld(v, vmcs), 'VMPTRLD')) return false;
      const fields: [number, bigint][] = [
        [PIN_BASED_VM_EXEC_CONTROL, BigInt(PIN_BASED_EXT_INTR_MASK | PIN_BASED_VMX_PREEMPTION_TIMER)],
        [CPU_BASED_VM_EXEC_CONTROL, BigInt(CPU_BASED_ACTIVATE_SECONDARY_CONTROLS >>> 0)], // no HLT exiting
        [SECONDARY_VM_EXEC_CONTROL, BigInt(SECONDARY_EXEC_ENABLE_EPT)],
        [VM_EXIT_CONTROLS, BigInt(VM_EXIT_ACK_INTR_ON_EXIT | VM_EXIT_HOST_ADDR_SPACE_SIZE)],
        [EPT_POINTER, MUEN_EPT_GPA + BigInt(i) * 0x1000n + VMX_EPTP_MT_WB + VMX_EPTP_PWL_4],
        [GUEST_CR3, s.cr3],
        [GUEST_RIP, code],
        [GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_IF],
        [GUEST_ACTIVITY_STATE, 0n],
        [HOST_CR3, this.cfg.kernelCr3],
      ];
      for (const [f, val] of fields) if (!this.must(vmwrite(v, f, val), 'VMWRITE')) return false;
      this.subjects.set(s.id, { cfg: s, vmcs, launched: false, knownCr3: s.cr3, rax: 0n, frames: 0 });
    }
    for (const s of this.subjects.values()) {
      vmptrld(v, s.vmcs);
      this.log.push(`PML4 address of subject ${ada(BigInt(s.cfg.id), 4)}: ${ada(vmread(v, GUEST_CR3).value, 16)}`);
    }
    return true;
  }

  /** Runs `frames` minor frames of the plan (stops early if the CPU halts). */
  run(frames: number): void {
    for (let f = 0; f < frames && !this.halted; f++) this.minorFrame(f);
  }

  private minorFrame(frame: number): void {
    const v = this.vcpu;
    const id = this.cfg.plan[frame % this.cfg.plan.length] ?? 0;
    const s = this.subjects.get(id);
    if (s === undefined) return;
    if (!this.must(vmptrld(v, s.vmcs), 'VMPTRLD')) return;
    vmwrite(v, VMX_PREEMPTION_TIMER_VALUE, this.cfg.tickTimerValue);
    s.frames++;
    const enteredHalted = Number(vmread(v, GUEST_ACTIVITY_STATE).value) === GUEST_ACTIVITY_HLT;
    const ripBefore = vmread(v, GUEST_RIP).value;
    const inject = enteredHalted && s.cfg.wakeEvery > 0 && s.frames % s.cfg.wakeEvery === 0;
    if (inject) vmwrite(v, VM_ENTRY_INTR_INFO_FIELD, BigInt((SUBJECT_EVENT_VECTOR | INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK) >>> 0));
    v.x86.regs.rax = s.rax;
    const r = s.launched ? vmresume(v) : vmlaunch(v);
    if (!this.must(r, s.launched ? 'VMRESUME' : 'VMLAUNCH')) return;
    if (r.hung) {
      this.log.push(`ERROR subject ${id} never returned`);
      this.haltCpu();
      return;
    }
    s.launched = true;
    s.rax = v.x86.regs.rax;
    this.framesRun++;
    const reason = Number(vmread(v, VM_EXIT_REASON).value);
    const cr3 = vmread(v, GUEST_CR3).value;
    // Muen's check. A native subject's CR3 never changes; a VM subject that was entered
    // halted, got no event and is still halted at the same RIP ran no instruction, so its
    // CR3 cannot have changed either.
    let expected: bigint | null = null;
    if (s.cfg.kind === 'native') expected = s.knownCr3;
    else {
      const stillHalted = Number(vmread(v, GUEST_ACTIVITY_STATE).value) === GUEST_ACTIVITY_HLT;
      if (enteredHalted && !inject && stillHalted && vmread(v, GUEST_RIP).value === ripBefore) expected = s.knownCr3;
    }
    if (expected !== null && cr3 !== expected) {
      this.corruptions.push({ frame, subject: id, expected, found: cr3, exitReason: reason });
      this.log.push(`ERROR CR3 of subject ${id} changed: ${ada(cr3, 16)} exit ${ada(BigInt(reason), 4)}`);
      if (this.cfg.onCorruption === 'halt') {
        this.haltCpu();
        return;
      }
      vmwrite(v, GUEST_CR3, expected);
    } else {
      s.knownCr3 = cr3;
    }
    this.handleExit(s, reason);
  }

  private handleExit(s: SubjectState, reason: number): void {
    const v = this.vcpu;
    if (reason === EXIT_REASON_PREEMPTION_TIMER || reason === EXIT_REASON_EXTERNAL_INTERRUPT) return; // tick / device IRQ
    if (reason === EXIT_REASON_VMCALL) {
      const rip = vmread(v, GUEST_RIP).value;
      vmwrite(v, GUEST_RIP, rip + vmread(v, VM_EXIT_INSTRUCTION_LEN).value);
      return;
    }
    this.log.push(`ERROR subject ${s.cfg.id}: unexpected exit ${ada(BigInt(reason), 4)}`);
    this.haltCpu();
  }
}
