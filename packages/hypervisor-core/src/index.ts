// @kvmlab/hypervisor-core: the public API. See README.md and ../../../shared/DESIGN.md.
export { createHypervisor, Hypervisor, type HypervisorOptions } from './hypervisor.js';
export { definePlugin } from './plugin/define-plugin.js';
export { checkPluginOptions, type PluginOptionRule } from './plugin/plugin-options.js';
export type {
  Arch,
  ArmTrapAction,
  ArmTrapPolicy,
  CapabilityDef,
  Conduit,
  ExitHandler,
  ExitInfo,
  HypercallArgs,
  HypercallHandler,
  OneRegDef,
  Plugin,
  PluginContext,
  SmcccHandler,
} from './plugin/types.js';
export { orderPlugins } from './plugin/compose.js';
export { Registry } from './plugin/registry.js';
export * from './errors.js';
export { bytesEqual, HOST_LITTLE_ENDIAN, isZeroBytes } from './bytes.js';
export { divFrac, kvmGetTimeScale, type TimeScale } from './x86/pvclock-scale.js';
export { KERNEL_ERAS, kernelLimits, type KernelEraName, type KernelLimits } from './kernel-era.js';
export { atLeastRelease, branchOf, parseKernelVersion, type KernelVersion } from './kernel-version.js';
export {
  changeVerdict, KERNEL_RELEASES, kernelVerdicts, MODELLED_CHANGES, releaseOf, type ChangeStatus, type ChangeVerdict, type HypervisorKernel,
  type KernelRelease, type ModelledChange, type SeriesId, type VariantChoice,
} from './kernel-releases.js';
export * from './constants.js';
export * from './bigint.js';
export { Scheduler, type EventFn, type EventHandle } from './sim/scheduler.js';
export { Simulation } from './sim/simulation.js';
export { Rng, drawLatency, type Latency } from './sim/rng.js';
export { HostClock, DEFAULT_REALTIME_START_NS, type HostOptions, type KtimeSnapshot } from './host/host-clock.js';
export {
  clocksCalcMultShift,
  clocksourceInfo,
  cyc2ns,
  type ClocksourceId,
  type ClocksourceInfo,
  type MultShift,
  type VdsoClockMode,
} from './host/clocksource.js';
export { Vm, type ClearDirtyLogArgs, type MmioHandler, type VmOptions, type VmStats } from './vm/vm.js';
export { Memslot, Memslots, KVM_MEM_MAX_NR_PAGES, type MemslotChange, type UserMemoryRegion } from './vm/memslots.js';
export { GuestMemory } from './vm/guest-memory.js';
export { SparsePages, PAGE_BYTES } from './vm/sparse-pages.js';
export { PageMap } from './vm/page-map.js';
export { GuestPage, MAX_WORDS as GUEST_PAGE_MAX_WORDS, type FrameSource } from './vm/guest-page.js';
export { blockPoolBytes, giveBlock, takeBlock, trimBlockPool } from './vm/block-pool.js';
export { DirtyBitmap, bitmapPages, popcount32 } from './vm/dirty-bitmap.js';
export { WriteProtectMmu, type Mmu, type MmuStats } from './vm/mmu.js';
export {
  Vcpu,
  VMX_DEFAULT_TSC_RATIO,
  X86_INITIAL_CR0,
  X86_INITIAL_CR4,
  X86_INITIAL_EFER,
  VMX_TSC_RATIO_FRAC_BITS,
  type VcpuStats,
  type VmcallOptions,
  type X86State,
} from './vcpu/vcpu.js';
export { Tracer, type TraceArgs, type TraceEvent } from './trace.js';
export { hex as traceHex, isKvmTracepoint, KVM_ISA_VMX, KVM_TRACEPOINTS, MODEL_TRACE_SYSTEM, type KvmTracepointName, type TracepointDef, type TracepointFields } from './tracepoints.js';
export * from './x86/vmx-constants.js';
export { exitReasonSymbol, traceVmxExit } from './x86/exit-trace.js';
export * from './x86/isa.js';
export * from './x86/nested/index.js';
export * from './x86/guest/vmx.js';
export * from './x86/guest/vmx-lib.js';
export { assemble, type AsmLine } from './x86/guest/assembler.js';
export * as program from './x86/guest/program.js';
export * from './x86/ept.js';
export * from './x86/ept-walk-halves.js';
export { Vmcs, vmcsFieldName, vmcsFieldWidth, isValidVmcsEncoding, isHighAccess, type VmcsCounts, type VmcsWidth } from './x86/vmcs.js';
export {
  resolveScenarioOptions,
  ScenarioOptionError,
  type ScenarioDef,
  type ScenarioEstimate,
  type ScenarioFigure,
  type ScenarioOptionSpec,
  type ScenarioOptionValues,
  type ScenarioResult,
  type ScenarioRunInput,
  type ScenarioSeries,
  type ScenarioVerdict,
} from './scenario.js';
export {
  checkLimits, checkScenarioBudget, DEFAULT_SCENARIO_LIMITS, LIMIT_FLAGS, ScenarioBudgetError, type ScenarioLimits,
} from './scenario-budget.js';
export {
  allocOrEnomem, assertBool, assertBytes, assertInt, assertOneOf, assertReg32, assertReg64, assertStruct, assertU32, assertU64, show,
} from './validate.js';
export {
  bernoulli, dependent, describeRandomize, drawRandomized, logUniform, logUniformInt, oneOf, uniformInt, uniformReal,
  type Distribution, type RandomValue, type ScenarioRandomize,
} from './scenario-randomize.js';
export {
  cellOf, defaultCell, parseVariantCell, selectVariants, variantCellName, variantCellNames, variantCells, type VariantAxes, type VariantCell,
} from './scenario-variants.js';
export {
  ArmVmTimer, armTimerEra, arm64SysReg, KVM_ARM_SET_COUNTER_OFFSET, KVM_CAP_COUNTER_OFFSET, KVM_REG_ARM_PTIMER_CNT, KVM_REG_ARM_TIMER_CNT,
  KVM_REG_ARM_TIMER_CVAL, type ArmTimerEra, type KvmArmCounterOffset,
} from './arm64/arch-timer.js';
export { ARM64_HOST_CHANGES, arm64HostHas, type Arm64HostChange, type Arm64HostChangeName } from './arm64/host-timeline.js';
