/**
 * The shapes of the nested-VMX engine, types only: the per-vCPU state (struct nested_vmx and the
 * parts of struct kvm_vcpu_arch nested VMX touches), the per-hypervisor engine state, and the
 * hook table plugins fill (NvmxOps, in the manner of kvm-x86-ops.h). Every mechanism module
 * imports these and nothing imports the mechanisms back, so each layer reads on its own:
 * shapes → state → mechanisms (entry, exit, run loop) → instruction boundary → engine.
 */
import type { EventHandle } from '../../sim/scheduler.js';
import type { Vcpu } from '../../vcpu/vcpu.js';
import type { Vm } from '../../vm/vm.js';
import type { X86Insn } from '../isa.js';
import type { Vmcs } from '../vmcs.js';
import type { KvmIntelParams } from './params.js';
import type { NestedVmxMsrs } from './vmx-msrs.js';
import type { Vmcs12 } from './vmcs12.js';

/** KVM requests the engine uses (arch/x86/include/asm/kvm_host.h KVM_REQ_*). */
export type KvmRequest = 'MMU_RELOAD' | 'MMU_SYNC' | 'LOAD_CR3' | 'TLB_FLUSH' | 'EVENT';

export type KvmMmuName = 'root_mmu' | 'guest_mmu';

/** A root of an MMU context: the host page of its top table and the CR3 (or EPTP) it was built for. */
export interface MmuRoot {
  readonly key: bigint;
  readonly hpa: bigint;
}

/** struct kvm_mmu, reduced to its roots: the current one and the previous-roots cache. */
export interface KvmMmuContext {
  readonly name: KvmMmuName;
  /** root_hpa (null = INVALID_PAGE). */
  root: MmuRoot | null;
  readonly prevRoots: (MmuRoot | null)[];
}

/**
 * A JS guest program that runs as L2 code (see guest/program.ts): a generator that yields the
 * instructions it executes; a load's value comes back as the result of its `yield`. Any iterator
 * will do: the processor calls next() with the last load's value and is done with an instruction
 * (and its result object) before it calls next() again, so a hand-written iterator may reuse
 * both (a hot store loop does: no generator resume, no new object per instruction).
 */
export type GuestProgram = () => Iterator<X86Insn, void, bigint>;

/** A running instance of a GuestProgram, bound to one vmcs12 of one vCPU. */
export interface ProgramInstance {
  readonly gen: Iterator<X86Insn, void, bigint>;
  /** The instruction fetched but not completed (a nested exit interrupted it): re-executed next time. */
  pending: X86Insn | null;
  /** The value the next `next()` passes in (a load's result). */
  input: bigint;
  done: boolean;
}

/** Something the engine did, for scenarios, charts, traces and tests (never seen by guests). */
export type NvmxEvent =
  | { readonly kind: 'nested-entry'; readonly at: bigint; readonly vmptr: bigint; readonly launch: boolean; readonly squashed: boolean; readonly vmreads: number; readonly vmwrites: number; readonly cr3Vmreads: number; readonly cr3Vmwrites: number }
  | { readonly kind: 'nested-exit'; readonly at: bigint; readonly vmptr: bigint; readonly reason: number; readonly guestCr3: bigint; readonly vmcs02Cr3: bigint; readonly vmreads: number; readonly vmwrites: number; readonly cr3Vmreads: number; readonly cr3Vmwrites: number }
  | { readonly kind: 'l2-run'; readonly at: bigint; readonly dur: bigint; readonly vmptr: bigint; readonly cr3: bigint }
  | { readonly kind: 'l2-halt'; readonly at: bigint; readonly vmptr: bigint }
  | { readonly kind: 'hw-exit'; readonly at: bigint; readonly vmptr: bigint; readonly reason: number; readonly reflected: boolean };

export interface NvmxStats {
  nestedEntries: number;
  squashedEntries: number;
  failedEntries: number;
  /** Nested VM exits by basic exit reason. */
  readonly nestedExits: Record<number, number>;
  /** Hardware exits from L2 that L0 handled itself (not reflected), by reason. */
  readonly l0Exits: Record<number, number>;
  /** Every exit the engine handled (L1's VMX instructions, L2's exits), by basic reason. */
  readonly exits: Record<number, number>;
  l2Interrupts: number;
  l1Interrupts: number;
  /** Returns to userspace for a signal (KVM_EXIT_INTR) while in guest mode. */
  userspaceExits: number;
  /** VMREAD/VMWRITE on vmcs01/vmcs02 during nested entries and exits (all fields, and GUEST_CR3). */
  entryVmreads: number;
  entryVmwrites: number;
  entryCr3Vmreads: number;
  entryCr3Vmwrites: number;
  exitVmreads: number;
  exitVmwrites: number;
  exitCr3Vmreads: number;
  exitCr3Vmwrites: number;
}

/** VMCS operation totals when a measured nested entry or exit began. */
export interface CountMark {
  readonly r: number;
  readonly w: number;
  readonly fr: number;
  readonly fw: number;
}

/** Per-vCPU nested state (struct nested_vmx + what of kvm_vcpu_arch the engine keeps). */
export interface NestedVcpuState {
  readonly vcpu: Vcpu;
  readonly engine: NvmxEngineState;
  readonly vmcs01: Vmcs;
  /** vmx->nested.vmcs02: one per vCPU, reused for every vmcs12 L1 runs. */
  readonly vmcs02: Vmcs;
  /** vmx->loaded_vmcs: the VMCS VMREAD/VMWRITE act on. */
  loaded: Vmcs;
  vmxon: boolean;
  vmxonPtr: bigint;
  /** vmx->nested.current_vmptr (-1 = none). */
  currentVmptr: bigint;
  /** vmx->nested.cached_vmcs12: the current vmcs12; the others live in L1's memory. */
  cachedVmcs12: Vmcs12 | null;
  /** vmx->nested.cached_shadow_vmcs12: the VMCS linked to vmcs12 while L2 runs (VMCS shadowing). */
  cachedShadowVmcs12: Vmcs12 | null;
  vmcs02Initialized: boolean;
  /** vmcs12 changed in fields prepare_vmcs02_rare() copies (vmx->nested.dirty_vmcs12). */
  dirtyVmcs12: boolean;
  /** vmcs02's rarely-read guest fields still have to be copied into vmcs12 (need_sync_vmcs02_to_vmcs12_rare). */
  needSyncRare: boolean;
  /** vcpu->arch.regs_avail / regs_dirty (bit numbers: asm/kvm_host.h enum kvm_reg). */
  regsAvail: number;
  regsDirty: number;
  nestedRunPending: boolean;
  readonly requests: Set<KvmRequest>;
  readonly rootMmu: KvmMmuContext;
  readonly guestMmu: KvmMmuContext;
  /** vcpu->arch.mmu */
  mmu: KvmMmuContext;
  /** Roots allocated so far (numbers the default root pages). */
  rootAllocs: number;
  /** The hrtimer emulating L1's VMX-preemption timer, and its expired flag. */
  preemptionTimer: EventHandle | null;
  /** The hrtimer's expiry: kept after hrtimer_cancel(), as struct hrtimer keeps it (the exit reads the remaining time after cancelling). */
  preemptionTimerExpires: bigint | null;
  preemptionTimerExpired: boolean;
  /** Interrupt vectors pending in the local APIC (oldest first), and pending NMIs. */
  readonly pendingIrqs: number[];
  nmiPending: number;
  /** Interrupts a device will raise (wake sources a blocked vCPU waits for). */
  readonly scheduledIrqs: { readonly at: bigint; readonly handle: EventHandle }[];
  /** A kick arrived (kvm_vcpu_kick): the running guest leaves at its next instruction boundary. */
  kicked: boolean;
  /**
   * A signal is pending for the vCPU thread (the VMM wants it out of KVM_RUN, e.g. to pause it):
   * at the next point where vcpu_run() checks signal_pending() in guest mode, KVM returns to
   * userspace (KVM_EXIT_INTR) and this handler — the VMM's work while the vCPU is out — runs.
   */
  signal: (() => void) | null;
  /** L2 loops without end and nothing can interrupt it: VMLAUNCH/VMRESUME never completes. */
  spinningForever: boolean;
  /** vmx->msr_ia32_feature_control. */
  featureControl: bigint;
  /** JS guest programs running as L2, by vmcs12 pointer. */
  readonly programs: Map<bigint, ProgramInstance>;
  readonly stats: NvmxStats;
  readonly listeners: ((e: NvmxEvent) => void)[];
  entryMark: CountMark | null;
  entryLaunch: boolean;
  exitMark: CountMark | null;
  lastExit: { readonly vmptr: bigint; readonly reason: number; readonly guestCr3: bigint } | null;
}

/**
 * The hooks through which feature packages change the engine (the nVMX counterpart of
 * kvm-x86-ops.h). A hook marked "default" always exists: the engine supplies Linux 5.3/5.4's
 * behaviour and a plugin may replace it; a hook marked "optional" may be absent, and then nothing
 * happens at that point. Every hook has one owner: two plugins filling the same one is a
 * composition error naming both.
 */
export interface NvmxOps {
  /** default — vmx_set_cr3() (vmx.c) under EPT: the GUEST_CR3 to write into the loaded VMCS, or null to leave it. */
  readonly vmxSetCr3GuestCr3: (nv: NestedVcpuState) => bigint | null;
  /** optional — nested_vmx_load_cr3() (nested.c) after its validity checks, before kvm_mmu_new_cr3(). */
  readonly nestedLoadCr3?: (nv: NestedVcpuState, cr3: bigint) => void;
  /** optional — prepare_vmcs02() (nested.c) right after nested_vmx_load_cr3(). */
  readonly prepareVmcs02Cr3?: (nv: NestedVcpuState, vmcs12: Vmcs12) => void;
  /** default — vmx_decache_cr3() (vmx.c): refresh vcpu->arch.cr3 from the loaded VMCS. */
  readonly decacheCr3: (nv: NestedVcpuState) => void;
  /** default — mmu_alloc_roots() (mmu.c): the host address of a root for `key` (CR3, or EPTP12 for guest_mmu). */
  readonly mmuAllocRoot: (nv: NestedVcpuState, mmu: KvmMmuName, key: bigint) => bigint;
  /** optional — nested_ept_init_mmu_context() (nested.c): L2 now runs on the shadow of EPTP12. */
  readonly nestedEptInit?: (nv: NestedVcpuState, eptp12: bigint) => void;
  /** optional — nested_ept_uninit_mmu_context() (nested.c). */
  readonly nestedEptUninit?: (nv: NestedVcpuState) => void;
  /** optional — kvm_mmu_sync_roots() (mmu.c), for KVM_REQ_MMU_SYNC. */
  readonly mmuSyncRoots?: (nv: NestedVcpuState) => void;
  /** optional — the processor loading EPT_POINTER and the controls of the current VMCS at VM entry. */
  readonly hardwareEntry?: (nv: NestedVcpuState, vmcs: Vmcs) => void;
  /** optional — page_to_phys(vmx->pml_pg) (vmx.c); present = L0 has PML (cpu_has_vmx_pml). */
  readonly pmlAddress?: (nv: NestedVcpuState) => bigint;
  /** optional — vmx_flush_pml_buffer() (vmx.c): the first thing vmx_handle_exit() does. */
  readonly flushPml?: (nv: NestedVcpuState) => void;
  /** optional — what handle_invept() (nested.c) does after its checks; 5.3/5.4 do nothing there. */
  readonly invept?: (nv: NestedVcpuState, type: number, eptp: bigint) => void;
}

export type NvmxOpName = keyof NvmxOps;

/** What a plugin gives the engine: the module parameters it fixes and the hooks it fills. */
export interface NvmxContribution {
  readonly params?: Partial<KvmIntelParams>;
  readonly ops?: Partial<NvmxOps>;
  /** Virtual ns one exit handled by L0 costs (default 1000); one value per hypervisor. */
  readonly exitCostNs?: bigint;
}

/** The per-hypervisor engine, once composition is done. */
export interface NvmxEngineState {
  /** kvm_intel parameters after hardware_setup(). */
  readonly params: KvmIntelParams;
  readonly msrs: NestedVmxMsrs;
  readonly ops: NvmxOps;
  /** Virtual ns one exit handled by L0 costs (an exit + entry round trip). */
  readonly exitCostNs: bigint;
  /** JS guest programs loaded into each VM, by guest-physical address. */
  readonly programs: WeakMap<Vm, Map<bigint, GuestProgram>>;
}

/** The VMX instructions of the L1-facing boundary (SDM vol. 3 chapter 30). */
export type VmxInstruction = 'vmxon' | 'vmxoff' | 'vmclear' | 'vmptrld' | 'vmptrst' | 'vmread' | 'vmwrite' | 'vmlaunch' | 'vmresume' | 'invept' | 'invvpid';

/** What a VMX instruction leaves behind, architecturally. */
export interface VmxInstructionResult {
  /** RFLAGS after it: CF = VMfailInvalid, ZF = VMfailValid (the error number is in the current VMCS). */
  readonly rflags: bigint;
  /** The destination of VMREAD / VMPTRST. */
  readonly value: bigint;
  /** An exception instead of completion: #UD or #GP(0). */
  readonly fault: 'ud' | 'gp' | null;
  /** VMLAUNCH/VMRESUME: L2 halted or spins with nothing that could ever wake it, so control never returns to L1. */
  readonly hung: boolean;
}

/** What a vCPU hands to the engine (core's Vcpu calls these; feature code uses NestedVmxApi). */
export interface NestedVmxBoundary {
  instruction(vcpu: Vcpu, insn: VmxInstruction, operands: readonly bigint[]): VmxInstructionResult;
  getNestedState(vcpu: Vcpu, buf?: Uint8Array): Uint8Array;
  setNestedState(vcpu: Vcpu, buf: Uint8Array): void;
  /** For an MMU without shadow EPT: the L1 GPA of an L2 access, or null if it became an EPT violation for L1. */
  translateL2(vcpu: Vcpu, l2Gpa: bigint, write: boolean): bigint | null;
}

/** KVM_SET_SREGS as far as the engine is concerned (vcpu->arch control registers). */
export interface NestedSregs {
  readonly cr3: bigint;
  readonly cr0?: bigint;
  readonly cr4?: bigint;
  readonly efer?: bigint;
}

/** What plugins, VMMs, scenarios and tests reach the engine through (ctx.nestedVmx(), hv.nestedVmx). */
export interface NestedVmxApi {
  /** kvm_intel parameters after hardware_setup() (available once composition is done). */
  readonly params: KvmIntelParams;
  /** The VMX capability MSRs L1 is offered. */
  readonly msrs: NestedVmxMsrs;
  /** Which plugin fills which hook. */
  readonly opsOwners: ReadonlyMap<NvmxOpName, string>;
  /** The nested state of an x86 vCPU of this hypervisor. */
  state(vcpu: Vcpu): NestedVcpuState;
  /** nested_vmx_vmexit(): for an MMU that reflects an EPT-violation (or PML-full) exit to L1. */
  nestedVmxVmexit(vcpu: Vcpu, reason: number, intrInfo: number, qualification: bigint): void;
  /** The bookkeeping after any hardware exit (the register cache, nested_run_pending), for exits an MMU takes. */
  hardwareExit(vcpu: Vcpu): void;
  /** KVM_SET_SREGS of L1's control registers (models __set_sregs(), arch/x86/kvm/x86.c), then L1 runs. */
  setSregs(vcpu: Vcpu, sregs: NestedSregs): void;
  /** A device raises external interrupt `vector` at absolute virtual time `at` (KVM_IRQ_LINE → LAPIC). */
  raiseInterrupt(vcpu: Vcpu, vector: number, at: bigint): void;
  /** KVM_NMI. */
  raiseNmi(vcpu: Vcpu): void;
  /** Puts a JS guest program in the VM's image at `gpa`: an L2 whose GUEST_RIP is `gpa` runs it. */
  loadProgram(vm: Vm, gpa: bigint, program: GuestProgram): void;
  /**
   * Signals the vCPU thread (pthread_kill, as QEMU's qemu_cpu_kick does): the vCPU is kicked out
   * of L2 and, at the next point where vcpu_run() checks for a signal while in guest mode, leaves
   * KVM_RUN with KVM_EXIT_INTR; `handler` runs then, as the VMM's code between two KVM_RUNs
   * (GET_NESTED_STATE, GET_REGS, … see a consistent vCPU), and the vCPU re-enters when it
   * returns. A handler that throws abandons the run (a migration source that stopped for good):
   * the exception reaches whoever is running the vCPU. While the vCPU is in L1 the signal waits
   * for L1's next VMLAUNCH/VMRESUME (L1's code is a JS program of the model, resumable only at
   * its VMX instructions). EBUSY if a signal is already pending.
   */
  requestUserspaceExit(vcpu: Vcpu, handler: () => void): void;
  /** A signal is pending for this vCPU (requestUserspaceExit, not yet delivered). */
  signalPending(vcpu: Vcpu): boolean;
  /** Takes back a pending signal (the VMM saw the vCPU come out by other means); false if none was pending. */
  cancelUserspaceExit(vcpu: Vcpu): boolean;
  /** KVM_RUN for a vCPU left in guest mode (e.g. after KVM_SET_NESTED_STATE): runs until L1 is back. */
  runNested(vcpu: Vcpu): boolean;
  /** The vmcs12 at `ptr`: the cached one if current, else a copy of L1's memory there. */
  vmcs12At(vcpu: Vcpu, ptr: bigint): Vmcs12 | undefined;
}

