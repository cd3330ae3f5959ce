/**
 * A Muen-like L1 separation kernel: N subjects, each with its own VMCS (vmcs12) and EPT tables,
 * HLT exiting off, the VMX-preemption timer as the scheduler tick, external-interrupt exiting
 * with acknowledge-on-exit, and a static round-robin plan. Native subjects have one static CR3;
 * VM subjects load their own CR3 under EPT. After every exit it runs the check Reto Buerki added
 * to Muen and logs, in Muen's Ada hex style, `CR3 of subject N changed: 16#…# exit 16#…#`.
 * It uses only guest instructions: VMX instructions, RDMSR/WRMSR, MOV to CR4, and its own stores
 * (its EPT tables, its subjects' code).
 */
import {
  EptBuilder, EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_PREEMPTION_TIMER, EXIT_REASON_VMCALL, GUEST_ACTIVITY_HLT,
  GUEST_ACTIVITY_STATE, GUEST_CR3, GUEST_RIP, INTR_INFO_VALID_MASK, INTR_TYPE_EXT_INTR, leBytes, loadVmcs, makeEptp,
  MSR_IA32_VMX_EPT_VPID_CAP, MSR_IA32_VMX_PROCBASED_CTLS2, PIN_BASED_EXT_INTR_MASK, SECONDARY_EXEC_ENABLE_EPT, PIN_BASED_VMX_PREEMPTION_TIMER, prepareForVmxOperation, prepareVmcs,
  readLe, type Vcpu, VM_ENTRY_INTR_INFO_FIELD, VM_EXIT_ACK_INTR_ON_EXIT, VM_EXIT_INSTRUCTION_LEN, VM_EXIT_REASON,
  VMX_EPT_AD_BIT, VMX_PREEMPTION_TIMER_VALUE, X86_EFLAGS_FIXED, X86_EFLAGS_IF, assemble, type AsmLine, vmptrld, vmread,
  vmresume, vmlaunch, vmwrite, type VmxOutcome, type EptMemory,
} from '@kvmlab/hypervisor-core';

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
  /** Pages of its data region (L2 GPA MUEN_SUBJECT_DATA_GPA on) it increments a word of, each time it runs. */
  readonly writes?: readonly number[];
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
  /** Data pages per subject (default 16), at MUEN_DATA_GPA + subject × this many pages in L1. */
  readonly dataPages?: number;
}

/** Where things are in L1's memory. */
export const MUEN_VMXON_GPA = 0x10000n;
export const MUEN_VMCS_GPA = 0x20000n;
export const MUEN_CODE_GPA = 0x100000n;
export const MUEN_EPT_GPA = 0x200000n;
export const MUEN_DATA_GPA = 0x400000n;
/** Where a subject sees them (its L2 physical addresses, through its EPT tables). */
export const MUEN_SUBJECT_CODE_GPA = 0x1000n;
export const MUEN_SUBJECT_DATA_GPA = 0x100000n;
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

/** The VMCS region of subject index `i` (how the host side names a subject by its vmcs12 pointer). */
export const muenVmcsGpa = (i: number): bigint => MUEN_VMCS_GPA + BigInt(i) * 0x1000n;

export class MuenKernel {
  readonly log: string[] = [];
  readonly corruptions: MuenCorruption[] = [];
  halted = false;
  framesRun = 0;
  private readonly vcpu: Vcpu;
  private readonly cfg: MuenConfig;
  private readonly subjects = new Map<number, SubjectState>();
  private nextTablePage = MUEN_EPT_GPA;
  /** Whether L0 offers EPT to L1 (IA32_VMX_PROCBASED_CTLS2 allowed-1); without it subjects see L1's addresses. */
  private ept = true;

  constructor(vcpu: Vcpu, cfg: MuenConfig) {
    this.vcpu = vcpu;
    this.cfg = cfg;
  }

  private must(o: VmxOutcome | boolean, what: string): boolean {
    if (o === true || (typeof o === 'object' && o.status === 'ok')) return true;
    this.log.push(`ERROR ${what} failed${typeof o === 'object' ? ` (${o.status})` : ''}`);
    this.haltCpu();
    return false;
  }

  private haltCpu(): void {
    this.log.push('ERROR Halting CPU');
    this.halted = true;
  }

  /** Where subject `i` sees its code page and its data page `p`: its own L2 addresses under EPT, else L1's. */
  private codeGpa(i: number): bigint {
    return this.ept ? MUEN_SUBJECT_CODE_GPA : MUEN_CODE_GPA + BigInt(i) * 0x1000n;
  }

  private dataGpa(i: number, p: number): bigint {
    const pages = BigInt(this.cfg.dataPages ?? 16);
    return this.ept ? MUEN_SUBJECT_DATA_GPA + BigInt(p) * 0x1000n : MUEN_DATA_GPA + (BigInt(i) * pages + BigInt(p)) * 0x1000n;
  }

  private codeFor(i: number, s: MuenSubject): AsmLine[] {
    const incs: AsmLine[] = (s.writes ?? []).map((p) => ({ op: 'inc', gpa: this.dataGpa(i, p) }));
    if (s.kind === 'native') return [{ op: 'work', ns: s.workNs }, ...incs, { op: 'hlt' }, { op: 'jmp-start' }];
    const lines: AsmLine[] = [];
    for (const cr3 of s.loads ?? []) lines.push({ op: 'mov-cr3', value: cr3 }, { op: 'work', ns: s.workNs }, ...incs, { op: 'hlt' });
    lines.push({ op: 'jmp-start' });
    return lines;
  }

  /** L1's view of its own memory for building EPT tables: its loads and stores. */
  private tableMemory(): EptMemory {
    return {
      readU64: (pa) => readLe(this.vcpu.read(pa, 8), 0, 8),
      writeU64: (pa, v) => this.vcpu.write(pa, leBytes(8, v)),
    };
  }

  private allocTablePage = (): bigint => {
    const pa = this.nextTablePage;
    this.nextTablePage += 0x1000n;
    this.vcpu.write(pa, new Uint8Array(4096)); // a zeroed table page
    return pa;
  };

  /** The subject's EPT tables: its code page at 0x1000, its data pages from 0x100000, each to its own L1 pages. */
  private buildEpt(i: number, ad: boolean): bigint {
    const ept = new EptBuilder(this.tableMemory(), this.allocTablePage);
    ept.map4k(MUEN_SUBJECT_CODE_GPA, MUEN_CODE_GPA + BigInt(i) * 0x1000n);
    const pages = BigInt(this.cfg.dataPages ?? 16);
    for (let p = 0n; p < pages; p++) {
      ept.map4k(MUEN_SUBJECT_DATA_GPA + p * 0x1000n, MUEN_DATA_GPA + (BigInt(i) * pages + p) * 0x1000n);
    }
    return makeEptp(ept.pml4, ad);
  }

  /** Boot: VMX operation, then per subject its code, EPT tables and VMCS; logs each subject's PML4. */
  boot(): boolean {
    const v = this.vcpu;
    if (!this.must(prepareForVmxOperation(v, MUEN_VMXON_GPA), 'VMXON')) return false;
    this.ept = (((v.rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) ?? 0n) >> 32n) & BigInt(SECONDARY_EXEC_ENABLE_EPT)) !== 0n;
    const ad = ((v.rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) ?? 0n) & VMX_EPT_AD_BIT) !== 0n;
    for (const [i, s] of this.cfg.subjects.entries()) {
      const vmcs = muenVmcsGpa(i);
      v.write(MUEN_CODE_GPA + BigInt(i) * 0x1000n, assemble(this.codeFor(i, s)));
      const eptp = this.ept ? this.buildEpt(i, ad) : undefined;
      if (!this.must(loadVmcs(v, vmcs), 'VMCLEAR/VMPTRLD')) return false;
      const ok = prepareVmcs(v, {
        guestRip: this.codeGpa(i), guestCr3: s.cr3, ...(eptp !== undefined ? { eptp } : {}), hostCr3: this.cfg.kernelCr3,
        pin: PIN_BASED_EXT_INTR_MASK | PIN_BASED_VMX_PREEMPTION_TIMER, // the default1 controls leave HLT exiting off
        exit: VM_EXIT_ACK_INTR_ON_EXIT, guestRflags: X86_EFLAGS_FIXED | X86_EFLAGS_IF,
      });
      if (!this.must(ok, 'VMWRITE')) return false;
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

  /** The minor frame `frame` of the plan: schedule its subject, run it to the next exit, check its CR3. */
  minorFrame(frame: number): void {
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
