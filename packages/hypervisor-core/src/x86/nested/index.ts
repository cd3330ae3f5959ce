// The nested-VMX engine's public surface: what feature packages hook into, and what VMMs,
// scenarios and tests read. See ../../README.md for the hook table.
export type {
  CountMark, GuestProgram, KvmMmuContext, KvmMmuName, KvmRequest, MmuRoot, NestedSregs, NestedVcpuState,
  NestedVcpuState as NestedVcpu, NestedVmxApi, NestedVmxBoundary, NvmxContribution, NvmxEngineState, NvmxEvent, NvmxOpName,
  NvmxOps, NvmxStats, ProgramInstance, VmxInstruction, VmxInstructionResult,
} from './shapes.js';
export { NVMX_OPS_TABLE, DEFAULT_NVMX_OPS, type NvmxOpInfo } from './ops.js';
export { KVM_INTEL_DEFAULTS, KVM_INTEL_PARAM_NAMES, MODEL_HOST_CPU, hardwareSetup, type KvmIntelParamName, type KvmIntelParams } from './params.js';
export { nestedVmxSetupCtlsMsrs, vmxGetVmxMsr, vmxControlVerify, fixedBitsValid, type NestedVmxMsrs } from './vmx-msrs.js';
export * from './kvm-constants.js';
export * from './vmcs12-layout.js';
export { Vmcs12 } from './vmcs12.js';
export { isCr3Available, isPaging, kvmReadCr3, markCr3Available, vmxDecacheCr3, REGS_DROPPED_ON_EXIT } from './reg-cache.js';
export { constructEptp, defaultVmxSetCr3GuestCr3, nestedEptAdEnabled, vmxSetCr3 } from './set-cr3.js';
export { nestedCpuHas2, nestedCpuHasEpt, nestedCr3Valid, pageAddressValid, validEptAddress } from './checks.js';
export { getVmcs12, isGuestMode } from './state.js';
export { preemptionTimeoutNs, virtualTscKhz } from './wake-sources.js';
export { shouldSquashHlt } from './vmenter.js';
export { SIZEOF_VMCS12 } from './nested-state.js';
export { L2_INSN_NS, L2_MAX_INSNS_PER_ENTRY, type L2Exit } from './l2-cpu.js';
export { eptViolationQualification, injectEpt12Violation, l1TableEntries, l1TableMemory, translateL2Gpa, walkEpt12 } from './ept12-walk.js';
export { hardwareExitBookkeeping } from './vcpu-run.js';
