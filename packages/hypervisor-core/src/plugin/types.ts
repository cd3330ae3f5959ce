import type { HypervisorKernel } from '../kernel-releases.js';
/**
 * The plugin contract. A feature exists in a hypervisor only if its plugin was installed
 * (DESIGN.md §7). Like Fastify plugins, a kvmlab plugin declares its name, the arch it runs
 * on and the plugins it requires; composition checks all of that before anything runs.
 * Like kvm-x86-ops.h, every extension point below says whether it is required or optional.
 */
import type { HostClock } from '../host/host-clock.js';
import type { Simulation } from '../sim/simulation.js';
import type { Tracer } from '../trace.js';
import type { Mmu } from '../vm/mmu.js';
import type { Vm } from '../vm/vm.js';
import type { Vcpu } from '../vcpu/vcpu.js';
import type { NestedVmxApi, NvmxContribution } from '../x86/nested/shapes.js';

export type { NestedVmxBoundary, VmxInstruction, VmxInstructionResult } from '../x86/nested/shapes.js';

export type Arch = 'arm64' | 'x86_64';
export type Conduit = 'hvc' | 'smc';

/** A KVM_CHECK_EXTENSION answer (and optionally KVM_ENABLE_CAP) for one capability. */
export interface CapabilityDef {
  /** The answer; `vm` is undefined for the system-wide /dev/kvm query. Required. */
  readonly check: (vm: Vm | undefined) => number;
  /** KVM_ENABLE_CAP on a VM. Optional: without it, enabling the cap fails with EINVAL. */
  readonly enable?: (vm: Vm, args: readonly bigint[], flags: number) => void;
}

/**
 * An SMCCC function handler (arm64). Receives x0..x17 as u64 and returns x0..x3 (missing
 * values are 0, as smccc_set_retval writes all four). Must not throw for any guest input.
 */
export type SmcccHandler = (vcpu: Vcpu, x: readonly bigint[], conduit: Conduit) => readonly bigint[];

/**
 * What KVM does with a trapped HVC/SMC before the function-id handler runs (arm64):
 * - 'dispatch': the handler for the function id (kvm_smccc_call_handler()'s HANDLE);
 * - 'not-supported': handle_smc()'s refusal, vcpu_set_reg(vcpu, 0, ~0UL) — x0 only;
 * - 'deny': smccc_set_retval(NOT_SUPPORTED, 0, 0, 0), as a DENY of the filter or bitmap does;
 * - `{ regs }`: x0..x3 as given (e.g. what the VMM left after a KVM_EXIT_HYPERCALL).
 */
export type ArmTrapAction = 'dispatch' | 'not-supported' | 'deny' | { readonly regs: readonly bigint[] };

/**
 * The trap policy (arm64): optional and single-owner; without one, every HVC and SMC is
 * dispatched. Gets the conduit, the immediate, the vCPU and the u32 function id in x0.
 */
export type ArmTrapPolicy = (conduit: Conduit, imm: number, vcpu: Vcpu, functionId: number) => ArmTrapAction;

/** Arguments of a KVM hypercall (x86): a0 = RBX, a1 = RCX, a2 = RDX, a3 = RSI. */
export interface HypercallArgs {
  readonly nr: bigint;
  readonly a0: bigint;
  readonly a1: bigint;
  readonly a2: bigint;
  readonly a3: bigint;
  /** Whether the vCPU is in 64-bit mode (args are already masked when it is not). */
  readonly longMode: boolean;
}

/** A KVM hypercall handler (x86): returns the value for RAX (negative = -KVM_E*). */
export type HypercallHandler = (vcpu: Vcpu, args: HypercallArgs) => bigint;

/** A KVM_GET_ONE_REG / KVM_SET_ONE_REG register; `set` throws KvmError like KVM. */
export interface OneRegDef {
  readonly get: (vcpu: Vcpu) => bigint;
  readonly set: (vcpu: Vcpu, value: bigint) => void;
}

/** An exit a guest access or instruction caused. */
export interface ExitInfo {
  readonly reason: string;
  readonly gpa?: bigint;
  readonly isWrite?: boolean;
  readonly data?: Uint8Array;
  readonly length?: number;
  /** x86 'wrmsr' / 'rdmsr': the MSR index (ECX). `data` holds the 8-byte value (EDX:EAX). */
  readonly msr?: number;
  /** x86 'cpuid': EAX and ECX on entry. `data` holds EAX, EBX, ECX, EDX (4 bytes each, LE). */
  readonly leaf?: number;
  readonly subleaf?: number;
  readonly [key: string]: unknown;
}

/** Returns true if it handled the exit (for reads, by filling `data`). */
export type ExitHandler = (vcpu: Vcpu, exit: ExitInfo) => boolean;

/** What a plugin's setup() registers through. */
export interface PluginContext {
  readonly arch: Arch;
  /** The name of the plugin being set up. */
  readonly plugin: string;
  /** The kernel the hypervisor is (createHypervisor's `kernel`): version, timeline release, backports. */
  readonly kernel: HypervisorKernel;
  /**
   * The variant this plugin's series runs: `explicit` if the caller gave one, else the kernel's
   * (when a kernel version was given), else `fallback`; recorded in hv.variantChoices.
   */
  chooseVariant(explicit: string | undefined, fallback: string): string;
  readonly sim: Simulation;
  readonly host: HostClock;
  readonly trace: Tracer;
  /** Answers KVM_CHECK_EXTENSION(cap); a cap answered twice is a composition error. */
  capability(cap: number, def: CapabilityDef): void;
  /** arm64: handles an SMCCC function id (u32) on both conduits. */
  smccc(functionId: number, handler: SmcccHandler): void;
  /** arm64: the HVC/SMC trap policy (one plugin at most). */
  armTrapPolicy(policy: ArmTrapPolicy): void;
  /** x86: handles KVM hypercall `nr`. */
  hypercall(nr: number, handler: HypercallHandler): void;
  /** A ONE_REG register id (bigint, e.g. 0x6030000000160002n). */
  oneReg(id: bigint, def: OneRegDef): void;
  /** Exit handlers run in plugin order until one returns true. */
  onExit(reason: string, handler: ExitHandler): void;
  onVmCreate(fn: (vm: Vm) => void): void;
  onVcpuCreate(fn: (vcpu: Vcpu) => void): void;
  /** Replaces the VM's MMU (and so its dirty tracker). One plugin at most. */
  setMmu(factory: (vm: Vm) => Mmu): void;
  /**
   * x86: turns the nested-VMX engine on (the first call) and gives it this plugin's kvm_intel
   * parameters and hooks (see NvmxOps: one owner per hook; two plugins fixing a parameter to
   * different values is a composition error). Returns the engine's API; its parameters and MSRs
   * are known once every plugin is set up.
   */
  nestedVmx(contribution?: NvmxContribution): NestedVmxApi;
  /** Offers a service to plugins that require this one (Fastify's decorate). */
  decorate<T>(key: string, value: T): void;
  /** A service decorated by a plugin this one requires; throws if none. */
  dependency<T>(key: string): T;
}

export interface Plugin {
  readonly name: string;
  /** The arches it runs on; undefined = any. */
  readonly arch?: Arch | readonly Arch[];
  /** Names of plugins that must be installed (and are set up first). */
  readonly requires?: readonly string[];
  readonly setup: (ctx: PluginContext) => void;
}
