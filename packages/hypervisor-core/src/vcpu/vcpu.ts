/**
 * A vCPU and the architectural boundary: the only entry points guest programs use.
 * arm64: HVC/SMC with the SMCCC register convention. x86_64: VMCALL with nr in RAX and args in
 * RBX, RCX, RDX, RSI. Both: memory reads/writes through the VM's MMU (so dirty tracking sees
 * them) and the guest-visible counter. Guest-visible failures are register values; nothing a
 * guest passes throws.
 */
import { leBytes, readLe, s64, u32, u64, U64_MASK } from '../bigint.js';
import { KVM_CPUID_FEATURES, KVM_CPUID_SIGNATURE, KVM_ENOSYS, KVM_EPERM, KVM_SIGNATURE } from '../constants.js';
import { KvmError } from '../errors.js';
import { assertBytes, assertInt, assertOneOf, assertReg32, assertReg64, assertU64, show } from '../validate.js';
import type { Conduit, ExitInfo, VmxInstruction, VmxInstructionResult } from '../plugin/types.js';
import type { Vm } from '../vm/vm.js';
import { hex } from '../tracepoints.js';
import { traceVmxExit } from '../x86/exit-trace.js';
import { EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE, EXIT_REASON_VMCALL } from '../x86/vmx-exit-reasons.js';
import {
  EFER_LMA, EFER_LME, KVM_MP_STATE_HALTED, KVM_MP_STATE_RUNNABLE, X86_CR0_NE, X86_CR0_PE, X86_CR0_PG, X86_CR4_PAE, X86_CR4_VMXE,
} from '../x86/x86-regs.js';

/** SMCCC_RET_NOT_SUPPORTED as a 64-bit x0 (include/linux/arm-smccc.h). */
const SMCCC_NOT_SUPPORTED_U64 = U64_MASK;

export interface VmcallOptions {
  /** Current privilege level; KVM refuses hypercalls from CPL > 0 (default: the vCPU's). */
  readonly cpl?: number;
  /** 64-bit mode; otherwise nr, args and the result are 32-bit (default: the vCPU's). */
  readonly longMode?: boolean;
}

export interface VcpuStats {
  /** Exits by reason name (e.g. "hvc", "smc", "vmcall", "mmio"). */
  readonly exits: Record<string, number>;
  hypercalls: number;
}

/**
 * x86 state the core keeps (vcpu->arch): the level that runs now owns it, so in guest mode the
 * control registers are L2's and the nested-VMX engine switches them at nested entry and exit.
 * Feature packages add their own per-vCPU state beside it.
 */
export interface X86State {
  /** is_guest_mode(): the vCPU runs L2 (a nested guest) on behalf of L1. */
  guestMode: boolean;
  cpl: number;
  longMode: boolean;
  rip: bigint;
  /** Guest TSC = host TSC scaled by ratio (48 fractional bits on VMX) plus offset. */
  tscOffset: bigint;
  tscScalingRatio: bigint;
  /** vcpu->arch.cr0 / cr3 / cr4 / efer and RFLAGS. */
  cr0: bigint;
  cr3: bigint;
  cr4: bigint;
  efer: bigint;
  rflags: bigint;
  /** vcpu->arch.mp_state (KVM_MP_STATE_*). */
  mpState: number;
  /** General-purpose registers: one set, shared by L1 and L2 (VMX transitions do not switch them). */
  readonly regs: { rax: bigint; rbx: bigint; rcx: bigint; rdx: bigint; rsi: bigint; rdi: bigint };
}

/**
 * A new x86 vCPU starts in 64-bit mode with paging on (CR0 = PE|NE|PG, CR4 = PAE, EFER = LME|LMA),
 * as the kvm selftests' library leaves it before guest code runs; KVM's own reset state is real
 * mode, which the model skips.
 */
export const X86_INITIAL_CR0 = X86_CR0_PG | X86_CR0_NE | X86_CR0_PE;
export const X86_INITIAL_CR4 = X86_CR4_PAE;
export const X86_INITIAL_EFER = EFER_LMA | EFER_LME;

/** kvm_default_tsc_scaling_ratio on VMX: 1.0 with 48 fractional bits (arch/x86/kvm/vmx). */
export const VMX_TSC_RATIO_FRAC_BITS = 48n;
export const VMX_DEFAULT_TSC_RATIO = 1n << VMX_TSC_RATIO_FRAC_BITS;

/** The instructions vcpu.vmx() emulates (VmxInstruction). */
const VMX_INSNS: readonly VmxInstruction[] = [
  'vmxon', 'vmxoff', 'vmclear', 'vmptrld', 'vmptrst', 'vmread', 'vmwrite', 'vmlaunch', 'vmresume', 'invept', 'invvpid',
];

/** The longest single guest access host code may ask for (1 GiB); a guest instruction moves at most a page or so. */
const MAX_ACCESS = 1 << 30;

export class Vcpu {
  readonly vm: Vm;
  readonly id: number;
  readonly stats: VcpuStats = { exits: {}, hypercalls: 0 };
  /** arm64 general-purpose registers x0..x30 (u64). */
  readonly x: bigint[] = Array.from({ length: 31 }, () => 0n);
  /**
   * arm64 before 6.3: this vCPU's CNTVOFF_EL2 (vcpu_vtimer(vcpu)->cntvoff), which
   * update_vtimer_cntvoff() keeps equal across the VM. Later kernels keep one VM-wide offset.
   */
  vtimerCntvoff = 0n;
  readonly x86: X86State = {
    guestMode: false,
    cpl: 0,
    longMode: true,
    rip: 0n,
    tscOffset: 0n,
    tscScalingRatio: VMX_DEFAULT_TSC_RATIO,
    cr0: X86_INITIAL_CR0,
    cr3: 0n,
    cr4: X86_INITIAL_CR4,
    efer: X86_INITIAL_EFER,
    rflags: 2n,
    mpState: KVM_MP_STATE_RUNNABLE,
    regs: { rax: 0n, rbx: 0n, rcx: 0n, rdx: 0n, rsi: 0n, rdi: 0n },
  };

  constructor(vm: Vm, id: number) {
    this.vm = vm;
    this.id = id;
    // kvm_timer_vcpu_init(): the VM's virtual count restarts at 0 for every vCPU (arm64/arch-timer.ts).
    if (vm.arch === 'arm64') vm.armTimer.vcpuInit(this);
  }

  /**
   * arm64: the virtual offset this vCPU runs with (CNTVOFF_EL2). Setting it writes what
   * timer_set_offset() writes: before 6.3 the offset of every vCPU of the VM, after it the VM's.
   */
  get cntvoff(): bigint {
    return this.vm.armTimer.voffsetOf(this);
  }

  set cntvoff(v: bigint) {
    this.vm.armTimer.setVoffset(this, v);
  }

  /** arm64: the physical offset (the VM's poffset from 6.4, 0 before: the guest's CNTPCT is the host counter). */
  get cntpoff(): bigint {
    return this.vm.armTimer.poffsetOf();
  }

  get track(): string {
    return `vm${this.vm.id}/vcpu${this.id}`;
  }

  private requireArch(arch: 'arm64' | 'x86_64', insn: string): void {
    if (this.vm.arch !== arch) {
      throw new KvmError('EINVAL', `${insn} is an ${arch} instruction; this vCPU is ${this.vm.arch}`, 'arch');
    }
  }

  private ran(): void {
    this.vm.hasRun = true;
  }

  countExit(reason: string): void {
    this.stats.exits[reason] = (this.stats.exits[reason] ?? 0) + 1;
  }

  /** arm64 HVC #imm: x = [x0 (function id), x1, …]; returns [x0, x1, x2, x3]. */
  hvc(x: readonly bigint[], imm = 0): bigint[] {
    return this.smcccTrap('hvc', x, imm);
  }

  /** arm64 SMC #imm (trapped to KVM by HCR_EL2.TSC). */
  smc(x: readonly bigint[], imm = 0): bigint[] {
    return this.smcccTrap('smc', x, imm);
  }

  private smcccTrap(conduit: Conduit, x: readonly bigint[], imm: number): bigint[] {
    this.requireArch('arm64', conduit.toUpperCase());
    // Host code may pass what no register holds; refuse it before the vCPU counts as having run.
    if (!Array.isArray(x)) throw new KvmError('EINVAL', `${conduit} registers ${show(x)} are not an array of bigints`, 'x');
    if (x.length > 31) throw new KvmError('EINVAL', `${conduit}: ${x.length} registers, arm64 has x0..x30`, 'x');
    for (let i = 0; i < x.length; i++) assertReg64(x[i], `${conduit} x${i}`, 'x');
    assertInt(imm, 0, 0xffff, `${conduit} #imm`, 'imm'); // imm16 of the HVC/SMC encoding
    this.ran();
    this.countExit(conduit);
    for (let i = 0; i < Math.min(x.length, 18); i++) this.x[i] = u64(x[i]!);
    const reg = this.vm.hv.registry;
    const fid = Number(u32(this.x[0]!));
    const tr = this.vm.hv.trace;
    // handle_hvc() / handle_smc() (arch/arm64/kvm/handle_exit.c) trace x0 and the immediate on entry.
    if (tr.enabled) tr.tracepoint(this.track, conduit === 'hvc' ? 'kvm_hvc_arm64' : 'kvm_smc_arm64', this.vm.hv.sim.now, { r0: hex(this.x[0]!), imm: hex(imm & 0xffff) });
    const action = reg.armTrapPolicy?.value(conduit, imm & 0xffff, this, fid) ?? 'dispatch';
    if (action === 'not-supported') {
      // handle_smc(): vcpu_set_reg(vcpu, 0, ~0UL) — x0 only; x1..x3 keep what the guest had.
      this.x[0] = SMCCC_NOT_SUPPORTED_U64;
    } else {
      let ret: readonly bigint[] = [SMCCC_NOT_SUPPORTED_U64, 0n, 0n, 0n];
      if (action === 'dispatch') {
        const h = reg.smccc.get(fid);
        if (h !== undefined) ret = h.value(this, this.x.slice(0, 18), conduit);
      } else if (action !== 'deny') {
        ret = action.regs;
      }
      // smccc_set_retval(): x0..x3 (missing values are 0).
      for (let i = 0; i < 4; i++) this.x[i] = u64(ret[i] ?? 0n);
    }
    return this.x.slice(0, 4);
  }

  /** x86 VMCALL: models ____kvm_emulate_hypercall() (arch/x86/kvm/x86.c). Returns RAX. */
  vmcall(nr: bigint | number, args: readonly bigint[] = [], opts: VmcallOptions = {}): bigint {
    this.requireArch('x86_64', 'VMCALL');
    if (typeof nr === 'number') assertReg32(nr, 'VMCALL nr (RAX)', 'nr');
    else assertReg64(nr, 'VMCALL nr (RAX)', 'nr');
    if (!Array.isArray(args)) throw new KvmError('EINVAL', `VMCALL args ${show(args)} are not an array of bigints`, 'args');
    if (args.length > 4) throw new KvmError('EINVAL', `VMCALL takes 4 args (RBX, RCX, RDX, RSI), got ${args.length}`, 'args');
    for (let i = 0; i < args.length; i++) assertReg64(args[i], `VMCALL arg ${i}`, 'args');
    if (typeof opts !== 'object' || opts === null) throw new KvmError('EINVAL', `VMCALL options ${show(opts)} are not an object`, 'opts');
    if (opts.cpl !== undefined) assertInt(opts.cpl, 0, 3, 'VMCALL cpl', 'cpl');
    if (opts.longMode !== undefined && typeof opts.longMode !== 'boolean') throw new KvmError('EINVAL', `VMCALL longMode ${show(opts.longMode)} is not a boolean`, 'longMode');
    this.ran();
    this.countExit('vmcall');
    const st = this.x86;
    const r = st.regs;
    r.rax = u64(BigInt(nr));
    r.rbx = u64(args[0] ?? 0n);
    r.rcx = u64(args[1] ?? 0n);
    r.rdx = u64(args[2] ?? 0n);
    r.rsi = u64(args[3] ?? 0n);
    const longMode = opts.longMode ?? st.longMode;
    const cpl = opts.cpl ?? st.cpl;
    this.stats.hypercalls++;
    const m = longMode ? u64 : u32;
    const call = { nr: m(r.rax), a0: m(r.rbx), a1: m(r.rcx), a2: m(r.rdx), a3: m(r.rsi), longMode };
    const tr = this.vm.hv.trace;
    if (tr.enabled) {
      // kvm_exit, then kvm_hypercall: ____kvm_emulate_hypercall() traces before its CPL check.
      traceVmxExit(this, EXIT_REASON_VMCALL);
      tr.tracepoint(this.track, 'kvm_hypercall', this.vm.hv.sim.now, { nr: hex(call.nr), a0: hex(call.a0), a1: hex(call.a1), a2: hex(call.a2), a3: hex(call.a3) });
    }
    let ret: bigint;
    if (cpl !== 0) {
      ret = -BigInt(KVM_EPERM);
    } else {
      const h = call.nr <= 0xffff_ffffn ? this.vm.hv.registry.hypercalls.get(Number(call.nr)) : undefined;
      ret = h === undefined ? -BigInt(KVM_ENOSYS) : s64(h.value(this, call));
    }
    r.rax = longMode ? u64(ret) : u32(ret);
    st.rip = u64(st.rip + 3n); // VMCALL is 3 bytes; complete_hypercall_exit skips it
    return r.rax;
  }

  /**
   * x86 CPUID (always exits on VMX). KVM answers from the CPUID table the VMM set; here the
   * core answers KVM_CPUID_SIGNATURE (KVM itself, not a feature) and plugins edit `data`
   * (EAX, EBX, ECX, EDX, 4 bytes LE each) in 'cpuid' exit handlers; a handler that only adds
   * bits returns false so later plugins add theirs. Leaves nobody answers read as zeros.
   */
  cpuid(leaf: number, subleaf = 0): readonly [bigint, bigint, bigint, bigint] {
    this.requireArch('x86_64', 'CPUID');
    assertReg32(leaf, 'CPUID leaf (EAX)', 'leaf');
    assertReg32(subleaf, 'CPUID subleaf (ECX)', 'subleaf');
    this.ran();
    const l = leaf >>> 0;
    const data = new Uint8Array(16);
    if (l === KVM_CPUID_SIGNATURE) {
      data.set(leBytes(4, BigInt(KVM_CPUID_FEATURES)), 0);
      for (let i = 0; i < 12; i++) data[4 + i] = KVM_SIGNATURE.charCodeAt(i);
    }
    this.exit({ reason: 'cpuid', leaf: l, subleaf: subleaf >>> 0, data, length: 16 });
    return [readLe(data, 0, 4), readLe(data, 4, 4), readLe(data, 8, 4), readLe(data, 12, 4)];
  }

  /**
   * x86 WRMSR (ECX = index, EDX:EAX = value). A plugin's 'wrmsr' exit handler claims the MSR
   * by returning true; false means KVM would inject #GP (kvm_set_msr_common's default case).
   */
  wrmsr(index: number, value: bigint): boolean {
    this.requireArch('x86_64', 'WRMSR');
    assertReg32(index, 'WRMSR index (ECX)', 'index');
    assertReg64(value, 'WRMSR value (EDX:EAX)', 'value');
    this.ran();
    const ok = this.exit({ reason: 'wrmsr', msr: index >>> 0, isWrite: true, data: leBytes(8, u64(value)), length: 8 });
    this.traceMsr(true, index, u64(value), !ok);
    return ok;
  }

  /** x86 RDMSR: the value, or undefined where KVM would inject #GP (no plugin claims it). */
  rdmsr(index: number): bigint | undefined {
    this.requireArch('x86_64', 'RDMSR');
    assertReg32(index, 'RDMSR index (ECX)', 'index');
    this.ran();
    const data = new Uint8Array(8);
    const ok = this.exit({ reason: 'rdmsr', msr: index >>> 0, isWrite: false, data, length: 8 });
    this.traceMsr(false, index, ok ? readLe(data, 0, 8) : 0n, !ok);
    return ok ? readLe(data, 0, 8) : undefined;
  }

  /** kvm_exit, then kvm_msr as handle_wrmsr()/handle_rdmsr() trace it (vmx.c of v5.4): the value, or exception = 1 for a #GP. */
  private traceMsr(write: boolean, index: number, data: bigint, gp: boolean): void {
    const tr = this.vm.hv.trace;
    if (!tr.enabled) return;
    traceVmxExit(this, write ? EXIT_REASON_MSR_WRITE : EXIT_REASON_MSR_READ);
    tr.tracepoint(this.track, 'kvm_msr', this.vm.hv.sim.now, { write: write ? 1 : 0, ecx: hex(index >>> 0), data: hex(data), exception: gp ? 1 : 0 });
  }

  /**
   * x86 VMX instruction executed by L1 (VMXON … INVVPID; SDM vol. 3 chapter 30): an exit the
   * nested-VMX engine emulates. Operands are register values: VMXON/VMCLEAR/VMPTRLD take the
   * pointer (the m64 the instruction names), VMREAD the field, VMWRITE field and value,
   * INVEPT/INVVPID the type and the descriptor's EPTP or VPID (and linear address). Without nested
   * VMX in the hypervisor every one is #UD. Use the wrappers in the guest module (`vmxon()` …).
   */
  vmx(insn: VmxInstruction, ...operands: bigint[]): VmxInstructionResult {
    this.requireArch('x86_64', 'VMX instructions');
    assertOneOf(insn, VMX_INSNS, 'VMX instruction', 'insn');
    if (operands.length > 3) throw new KvmError('EINVAL', `${insn}: ${operands.length} operands, at most 3`, 'operands');
    // Operands come from the guest-side wrappers' arithmetic: any bigint, wrapped by the engine as
    // a 64-bit register would hold it; only a value that is no integer at all is refused.
    for (let i = 0; i < operands.length; i++) {
      if (typeof operands[i] !== 'bigint') throw new KvmError('EINVAL', `${insn} operand ${i} ${show(operands[i])} is not a bigint`, 'operands');
    }
    this.ran();
    this.countExit(insn);
    const engine = this.vm.hv.registry.nestedVmx;
    if (engine === undefined) return { rflags: this.x86.rflags, value: 0n, fault: 'ud', hung: false };
    return engine.instruction(this, insn, operands);
  }

  /**
   * x86 MOV to CR0 or CR4 (KVM owns bits of both, so the write exits: handle_cr()). A plugin's
   * 'cr' exit handler applies it (nested VMX checks its VMX rules); without one the core applies
   * it, except that CR4.VMXE needs nested VMX. Returns false where the guest would get #GP.
   */
  movToCr(cr: 0 | 4, value: bigint): boolean {
    this.requireArch('x86_64', 'MOV to CR');
    assertOneOf(cr, [0, 4], 'MOV to CR: control register', 'cr');
    assertReg64(value, `MOV to CR${cr} value`, 'value');
    this.ran();
    const v = u64(value);
    const data = new Uint8Array(1);
    if (this.exit({ reason: 'cr', cr, value: v, data, length: 1 })) return data[0] === 0;
    if (cr === 4 && (v & X86_CR4_VMXE) !== 0n) return false; // CR4.VMXE is reserved without VMX in CPUID: #GP
    if (cr === 0) this.x86.cr0 = v;
    else this.x86.cr4 = v;
    return true;
  }

  /**
   * x86 port I/O (IN/OUT of `size` bytes): a KVM_EXIT_IO to the VMM (plugin 'io' exit handlers,
   * then `vm.onIo`). Returns what an IN reads (zeros if nobody answers).
   */
  io(port: number, size: 1 | 2 | 4, direction: 'in' | 'out', value = 0n): bigint {
    this.requireArch('x86_64', 'IN/OUT');
    assertInt(port, 0, 0xffff, 'I/O port', 'port');
    assertOneOf(size, [1, 2, 4], 'I/O size', 'size');
    assertOneOf(direction, ['in', 'out'], 'I/O direction', 'direction');
    assertReg64(value, 'OUT value', 'value');
    this.ran();
    return readLe(this.pioExit(port, size, direction === 'in', value), 0, size);
  }

  /** The KVM_EXIT_IO itself (also taken for L2's port I/O that L1 does not intercept). */
  pioExit(port: number, size: number, isIn: boolean, value: bigint): Uint8Array {
    const data = isIn ? new Uint8Array(size) : leBytes(size as 1 | 2 | 4, value);
    const exit: ExitInfo = { reason: 'io', port: port & 0xffff, size, isWrite: !isIn, data, length: size };
    if (!this.exit(exit)) this.vm.onIo?.(this, exit);
    return data;
  }

  /** kvm_set_msr() from inside KVM (e.g. a VM-entry MSR-load list): a plugin's 'wrmsr' handler, not counted as an exit. */
  kvmSetMsr(index: number, value: bigint): boolean {
    const info: ExitInfo = { reason: 'wrmsr', msr: index >>> 0, isWrite: true, data: leBytes(8, u64(value)), length: 8 };
    for (const h of this.vm.hv.registry.exitHandlers.get('wrmsr') ?? []) if (h.value(this, info)) return true;
    return false;
  }

  /** kvm_get_msr() from inside KVM: the value, or undefined (no plugin has the MSR). */
  kvmGetMsr(index: number): bigint | undefined {
    const data = new Uint8Array(8);
    const info: ExitInfo = { reason: 'rdmsr', msr: index >>> 0, isWrite: false, data, length: 8 };
    for (const h of this.vm.hv.registry.exitHandlers.get('rdmsr') ?? []) if (h.value(this, info)) return readLe(data, 0, 8);
    return undefined;
  }

  /** KVM_GET_NESTED_STATE (x86 with nested VMX; EINVAL otherwise, as without get_nested_state). */
  getNestedState(buf?: Uint8Array): Uint8Array {
    if (buf !== undefined) assertBytes(buf, 'struct kvm_nested_state', 'buf');
    return this.nestedEngine('KVM_GET_NESTED_STATE').getNestedState(this, buf);
  }

  /** KVM_SET_NESTED_STATE. */
  setNestedState(buf: Uint8Array): void {
    assertBytes(buf, 'struct kvm_nested_state', 'buf');
    this.nestedEngine('KVM_SET_NESTED_STATE').setNestedState(this, buf);
  }

  private nestedEngine(ioctl: string) {
    this.requireArch('x86_64', ioctl);
    const engine = this.vm.hv.registry.nestedVmx;
    if (engine === undefined) throw new KvmError('EINVAL', `${ioctl}: this hypervisor has no nested VMX`, 'ioctl');
    return engine;
  }

  /** KVM_GET_MP_STATE (x86: KVM_MP_STATE_RUNNABLE = 0, HALTED = 3). */
  getMpState(): number {
    this.requireArch('x86_64', 'KVM_GET_MP_STATE');
    return this.x86.mpState;
  }

  /** KVM_SET_MP_STATE: RUNNABLE or HALTED (the states the model has); others EINVAL. */
  setMpState(state: number): void {
    this.requireArch('x86_64', 'KVM_SET_MP_STATE');
    if (state !== KVM_MP_STATE_RUNNABLE && state !== KVM_MP_STATE_HALTED) {
      throw new KvmError('EINVAL', `mp_state ${show(state)} is not RUNNABLE (${KVM_MP_STATE_RUNNABLE}) or HALTED (${KVM_MP_STATE_HALTED})`, 'state');
    }
    this.x86.mpState = state;
  }

  /** A guest load of `length` bytes at `gpa` through the MMU. */
  read(gpa: bigint, length: number): Uint8Array {
    // A GPA is what a 64-bit register holds: 2^64 is no address (it would wrap to 0).
    if (typeof gpa !== 'bigint' || gpa < 0n || gpa > U64_MASK) assertU64(gpa, 'guest read GPA', 'gpa');
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > MAX_ACCESS) assertInt(length, 0, MAX_ACCESS, 'guest read length', 'length');
    this.ran();
    return this.vm.mmu.guestRead(this, gpa, length);
  }

  /** A guest store at `gpa` through the MMU (dirty tracking sees it). */
  write(gpa: bigint, bytes: Uint8Array): void {
    if (typeof gpa !== 'bigint' || gpa < 0n || gpa > U64_MASK) assertU64(gpa, 'guest write GPA', 'gpa');
    if (!(bytes instanceof Uint8Array)) assertBytes(bytes, 'guest write bytes', 'bytes');
    this.ran();
    this.vm.mmu.guestWrite(this, gpa, bytes);
  }

  /**
   * An access to a GPA no slot backs (or a write to a read-only slot): KVM_EXIT_MMIO. Plugin
   * exit handlers see it first, then the VMM's `vm.onMmio`; unclaimed reads return zeros.
   * Returns the bytes read.
   */
  mmioExit(gpa: bigint, isWrite: boolean, data: Uint8Array): Uint8Array {
    this.countExit('mmio');
    this.vm.stats.mmioExits++;
    const exit: ExitInfo = { reason: 'mmio', gpa, isWrite, data, length: data.length };
    for (const h of this.vm.hv.registry.exitHandlers.get('mmio') ?? []) if (h.value(this, exit)) return data;
    this.vm.onMmio?.(this, exit);
    return data;
  }

  /** Runs the exit handlers plugins registered for `reason`; true if one handled it. */
  exit(info: ExitInfo): boolean {
    this.countExit(info.reason);
    for (const h of this.vm.hv.registry.exitHandlers.get(info.reason) ?? []) if (h.value(this, info)) return true;
    return false;
  }

  /** arm64: CNTVCT_EL0 (virt) or CNTPCT_EL0 (phys) as the guest reads them. */
  readCounter(which: 'virt' | 'phys' = 'virt'): bigint {
    this.requireArch('arm64', 'MRS CNTxCT_EL0');
    assertOneOf(which, ['virt', 'phys'], 'counter', 'which');
    return this.vm.armTimer.getCnt(this, which);
  }

  /** x86: RDTSC as the guest sees it (kvm_read_l1_tsc of the host TSC now). */
  rdtsc(): bigint {
    this.requireArch('x86_64', 'RDTSC');
    return this.l1Tsc(this.vm.hv.host.counter());
  }

  /** kvm_read_l1_tsc(): offset + host TSC scaled by the ratio (mul_u64_u64_shr, 48 frac bits). */
  l1Tsc(hostTsc: bigint): bigint {
    const st = this.x86;
    const scaled = st.tscScalingRatio === VMX_DEFAULT_TSC_RATIO
      ? hostTsc
      : u64((u64(hostTsc) * st.tscScalingRatio) >> VMX_TSC_RATIO_FRAC_BITS);
    return u64(st.tscOffset + scaled);
  }

  /** KVM_GET_ONE_REG. */
  getOneReg(id: bigint): bigint {
    assertU64(id, 'KVM_GET_ONE_REG id', 'id');
    const def = this.vm.hv.registry.oneRegs.get(id);
    if (def === undefined) throw new KvmError('ENOENT', `no register 0x${id.toString(16)}`, 'id');
    return def.value.get(this);
  }

  /** KVM_SET_ONE_REG. */
  setOneReg(id: bigint, value: bigint): void {
    assertU64(id, 'KVM_SET_ONE_REG id', 'id');
    assertReg64(value, 'KVM_SET_ONE_REG value', 'value');
    const def = this.vm.hv.registry.oneRegs.get(id);
    if (def === undefined) throw new KvmError('ENOENT', `no register 0x${id.toString(16)}`, 'id');
    def.value.set(this, u64(value));
  }
}
