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
  /** Which CPU of a multi-CPU Muen this kernel runs on (default 0): its VMXON region, state page and EPT tables. Subject ids are global. */
  readonly cpu?: number;
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

/**
 * Muen's scheduler state lives in L1's memory (one page per CPU), written and read with L1's own
 * stores and loads: it is what a live migration of L1 carries, so a destination resumes from
 * memory and vCPU state alone. Header: framesRun u32 @0, inFrame u8 @4 (a VMLAUNCH/VMRESUME is
 * in flight), enteredHalted u8 @5, inject u8 @6, halted u8 @7 ("Halting CPU"), frame u32 @8, subject slot u32 @12, RIP before
 * the entry u64 @16, next frame u32 @24. Subject slot k at 64 + 32k: launched u8 @0, frames u32
 * @4, known CR3 u64 @8, saved RAX u64 @16.
 */
const ST_FRAMES_RUN = 0n;
const ST_IN_FRAME = 4n;
const ST_ENTERED_HALTED = 5n;
const ST_INJECT = 6n;
const ST_HALTED = 7n;
const ST_FRAME = 8n;
const ST_SLOT = 12n;
const ST_RIP_BEFORE = 16n;
const ST_NEXT_FRAME = 24n;
const SUBJECT_RECORDS = 64n;
const SUBJECT_RECORD_BYTES = 32n;
const SR_LAUNCHED = 0n;
const SR_FRAMES = 4n;
const SR_KNOWN_CR3 = 8n;
const SR_RAX = 16n;

/** The VMCS region of subject `id` (how the host side names a subject by its vmcs12 pointer). */
export const muenVmcsGpa = (id: number): bigint => MUEN_VMCS_GPA + BigInt(id) * 0x1000n;

type Width = 1 | 2 | 4 | 8;

/** Where CPU `cpu`'s VMXON region, scheduler state and EPT tables are (VMCS regions are per subject). */
export const muenVmxonGpa = (cpu: number): bigint => MUEN_VMXON_GPA + BigInt(cpu) * 0x1000n;
export const MUEN_STATE_GPA = 0x80000n;
export const muenStateGpa = (cpu: number): bigint => MUEN_STATE_GPA + BigInt(cpu) * 0x1000n;
/** 64 table pages per CPU: 16 subjects of 4 EPT pages each. */
export const muenEptGpa = (cpu: number): bigint => MUEN_EPT_GPA + BigInt(cpu) * 0x40000n;
/** Subjects whose EPT tables (4 pages each) fit one CPU's range, and the state page's subject records. */
export const MUEN_MAX_SUBJECTS_PER_CPU = 16;
/** CPUs whose regions fit below the VMCS regions and the data region. */
export const MUEN_MAX_CPUS = 8;

export class MuenKernel {
  readonly log: string[] = [];
  readonly corruptions: MuenCorruption[] = [];
  private readonly vcpu: Vcpu;
  private readonly cfg: MuenConfig;
  /** Subject id → its slot in cfg.subjects (its state record). */
  private readonly slots = new Map<number, number>();
  private readonly state: bigint;
  private nextTablePage: bigint;
  /** Whether L0 offers EPT to L1 (IA32_VMX_PROCBASED_CTLS2 allowed-1); without it subjects see L1's addresses. */
  private ept = true;

  constructor(vcpu: Vcpu, cfg: MuenConfig) {
    const cpu = cfg.cpu ?? 0;
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= MUEN_MAX_CPUS) throw new RangeError(`Muen CPU ${cpu} is not 0..${MUEN_MAX_CPUS - 1}`);
    if (cfg.subjects.length > MUEN_MAX_SUBJECTS_PER_CPU) {
      throw new RangeError(`Muen CPU ${cpu}: ${cfg.subjects.length} subjects, but its EPT range holds ${MUEN_MAX_SUBJECTS_PER_CPU}`);
    }
    this.vcpu = vcpu;
    this.cfg = cfg;
    this.state = muenStateGpa(cpu);
    this.nextTablePage = muenEptGpa(cpu);
    cfg.subjects.forEach((s, k) => this.slots.set(s.id, k));
  }

  /**
   * Muen on a destination after a live migration: the same image and configuration, its state
   * read from L1's memory when it next runs. If the vCPU was stopped inside a VMLAUNCH/VMRESUME
   * (it is restored in guest mode), the VMM's KVM_RUN finishes that entry and L1 continues with
   * completeFrame(); it reads nothing before, since L1 does not run while its vCPU is in L2.
   */
  static resume(vcpu: Vcpu, cfg: MuenConfig): MuenKernel {
    return new MuenKernel(vcpu, cfg);
  }

  private ld(off: bigint, bytes: Width): bigint {
    return readLe(this.vcpu.read(this.state + off, bytes), 0, bytes);
  }

  private st(off: bigint, bytes: Width, v: bigint): void {
    this.vcpu.write(this.state + off, leBytes(bytes, v));
  }

  private rec(slot: number, off: bigint): bigint {
    return SUBJECT_RECORDS + BigInt(slot) * SUBJECT_RECORD_BYTES + off;
  }

  /**
   * The getters below are the host's view of Muen's state page (guest memory read by the VMM, not
   * an access by the vCPU): safe to call while the vCPU runs L2, where an L1 load is impossible.
   */
  private peek(off: bigint, bytes: Width): bigint {
    return readLe(this.vcpu.vm.memory.read(this.state + off, bytes), 0, bytes);
  }

  /** Muen logged "Halting CPU" and stopped scheduling (kept in its memory, so a resumed Muen stays halted). */
  get halted(): boolean {
    return this.peek(ST_HALTED, 1) !== 0n;
  }

  /** Minor frames completed on this CPU (Muen's own counter, in its memory). */
  get framesRun(): number {
    return Number(this.peek(ST_FRAMES_RUN, 4));
  }

  /** A VMLAUNCH/VMRESUME of a minor frame is in flight: the vCPU is (or was, when it stopped) in L2. */
  get inFrame(): boolean {
    return this.peek(ST_IN_FRAME, 1) !== 0n;
  }

  /** The frame after the last one begun (where a resumed Muen's plan continues). */
  get nextFrame(): number {
    return Number(this.peek(ST_NEXT_FRAME, 4));
  }

  /** The CR3 Muen knows for subject `id` (its check's reference). */
  knownCr3(id: number): bigint {
    const k = this.slots.get(id);
    if (k === undefined) throw new RangeError(`no subject ${id} on this CPU`);
    return this.peek(this.rec(k, SR_KNOWN_CR3), 8);
  }

  private must(o: VmxOutcome | boolean, what: string): boolean {
    if (o === true || (typeof o === 'object' && o.status === 'ok')) return true;
    this.log.push(`ERROR ${what} failed${typeof o === 'object' ? ` (${o.status})` : ''}`);
    this.haltCpu();
    return false;
  }

  private haltCpu(): void {
    this.log.push('ERROR Halting CPU');
    this.st(ST_HALTED, 1, 1n);
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
    v.write(this.state, new Uint8Array(4096));
    if (!this.must(prepareForVmxOperation(v, muenVmxonGpa(this.cfg.cpu ?? 0)), 'VMXON')) return false;
    this.ept = (((v.rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) ?? 0n) >> 32n) & BigInt(SECONDARY_EXEC_ENABLE_EPT)) !== 0n;
    const ad = ((v.rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) ?? 0n) & VMX_EPT_AD_BIT) !== 0n;
    for (const [k, s] of this.cfg.subjects.entries()) {
      const i = s.id;
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
      this.st(this.rec(k, SR_KNOWN_CR3), 8, s.cr3);
    }
    for (const s of this.cfg.subjects) {
      vmptrld(v, muenVmcsGpa(s.id));
      this.log.push(`PML4 address of subject ${ada(BigInt(s.id), 4)}: ${ada(vmread(v, GUEST_CR3).value, 16)}`);
    }
    return true;
  }

  /** Runs `frames` minor frames of the plan (stops early if the CPU halts). */
  run(frames: number): void {
    for (let f = 0; f < frames && !this.halted; f++) this.minorFrame(f);
  }

  /** The minor frame `frame` of the plan: schedule its subject, run it to the next exit, check its CR3. */
  minorFrame(frame: number): void {
    if (this.beginFrame(frame)) this.completeFrame();
  }

  /**
   * The first half of a minor frame, up to and including VMLAUNCH/VMRESUME: false if the frame
   * ended there (an error, or the subject never returned). What the second half needs is in
   * Muen's memory before the entry, so a migrated L1 can finish the frame on the destination.
   */
  beginFrame(frame: number): boolean {
    const v = this.vcpu;
    const id = this.cfg.plan[frame % this.cfg.plan.length] ?? 0;
    const k = this.slots.get(id);
    if (k === undefined) return false;
    const s = this.cfg.subjects[k]!;
    if (!this.must(vmptrld(v, muenVmcsGpa(id)), 'VMPTRLD')) return false;
    vmwrite(v, VMX_PREEMPTION_TIMER_VALUE, this.cfg.tickTimerValue);
    const frames = Number(this.ld(this.rec(k, SR_FRAMES), 4)) + 1;
    this.st(this.rec(k, SR_FRAMES), 4, BigInt(frames));
    const enteredHalted = Number(vmread(v, GUEST_ACTIVITY_STATE).value) === GUEST_ACTIVITY_HLT;
    const ripBefore = vmread(v, GUEST_RIP).value;
    const inject = enteredHalted && s.wakeEvery > 0 && frames % s.wakeEvery === 0;
    if (inject) vmwrite(v, VM_ENTRY_INTR_INFO_FIELD, BigInt((SUBJECT_EVENT_VECTOR | INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK) >>> 0));
    const launched = this.ld(this.rec(k, SR_LAUNCHED), 1) !== 0n;
    this.st(ST_FRAME, 4, BigInt(frame));
    this.st(ST_NEXT_FRAME, 4, BigInt(frame + 1));
    this.st(ST_SLOT, 4, BigInt(k));
    this.st(ST_RIP_BEFORE, 8, ripBefore);
    this.st(ST_ENTERED_HALTED, 1, enteredHalted ? 1n : 0n);
    this.st(ST_INJECT, 1, inject ? 1n : 0n);
    this.st(ST_IN_FRAME, 1, 1n);
    v.x86.regs.rax = this.ld(this.rec(k, SR_RAX), 8);
    const r = launched ? vmresume(v) : vmlaunch(v);
    if (!this.must(r, launched ? 'VMRESUME' : 'VMLAUNCH')) return false;
    if (r.hung) {
      this.log.push(`ERROR subject ${id} never returned`);
      this.haltCpu();
      return false;
    }
    return true;
  }

  /** The second half: L1 is back from the subject (after VMLAUNCH/VMRESUME returned): Muen's check, then the exit. */
  completeFrame(): void {
    const v = this.vcpu;
    if (this.ld(ST_IN_FRAME, 1) === 0n) throw new Error('Muen: no minor frame in flight');
    const k = Number(this.ld(ST_SLOT, 4));
    const s = this.cfg.subjects[k]!;
    const frame = Number(this.ld(ST_FRAME, 4));
    this.st(ST_IN_FRAME, 1, 0n);
    this.st(this.rec(k, SR_LAUNCHED), 1, 1n);
    this.st(this.rec(k, SR_RAX), 8, v.x86.regs.rax);
    this.st(ST_FRAMES_RUN, 4, this.ld(ST_FRAMES_RUN, 4) + 1n);
    const reason = Number(vmread(v, VM_EXIT_REASON).value);
    const cr3 = vmread(v, GUEST_CR3).value;
    const known = this.ld(this.rec(k, SR_KNOWN_CR3), 8);
    // Muen's check. A native subject's CR3 never changes; a VM subject that was entered
    // halted, got no event and is still halted at the same RIP ran no instruction, so its
    // CR3 cannot have changed either.
    let expected: bigint | null = null;
    if (s.kind === 'native') expected = known;
    else {
      const stillHalted = Number(vmread(v, GUEST_ACTIVITY_STATE).value) === GUEST_ACTIVITY_HLT;
      const enteredHalted = this.ld(ST_ENTERED_HALTED, 1) !== 0n;
      const inject = this.ld(ST_INJECT, 1) !== 0n;
      if (enteredHalted && !inject && stillHalted && vmread(v, GUEST_RIP).value === this.ld(ST_RIP_BEFORE, 8)) expected = known;
    }
    if (expected !== null && cr3 !== expected) {
      this.corruptions.push({ frame, subject: s.id, expected, found: cr3, exitReason: reason });
      this.log.push(`ERROR CR3 of subject ${s.id} changed: ${ada(cr3, 16)} exit ${ada(BigInt(reason), 4)}`);
      if (this.cfg.onCorruption === 'halt') {
        this.haltCpu();
        return;
      }
      vmwrite(v, GUEST_CR3, expected);
    } else {
      this.st(this.rec(k, SR_KNOWN_CR3), 8, cr3);
    }
    this.handleExit(s, reason);
  }

  private handleExit(s: MuenSubject, reason: number): void {
    const v = this.vcpu;
    if (reason === EXIT_REASON_PREEMPTION_TIMER || reason === EXIT_REASON_EXTERNAL_INTERRUPT) return; // tick / device IRQ
    if (reason === EXIT_REASON_VMCALL) {
      const rip = vmread(v, GUEST_RIP).value;
      vmwrite(v, GUEST_RIP, rip + vmread(v, VM_EXIT_INSTRUCTION_LEN).value);
      return;
    }
    this.log.push(`ERROR subject ${s.id}: unexpected exit ${ada(BigInt(reason), 4)}`);
    this.haltCpu();
  }
}
