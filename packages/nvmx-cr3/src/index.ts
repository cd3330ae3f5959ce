// @kvmlab/nvmx-cr3: nested VMX entry/exit with a shared vmcs02, the HLT squash, and the three
// GUEST_CR3 behaviours (Linux 5.3, Reto Buerki's RFC, Sean Christopherson's merged fix).
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { nvmxHltCr3 } from './scenarios/nvmx-hlt-cr3.js';

export * from './constants.js';
export * from './isa.js';
export { nvmxCr3, NVMX_SERVICE, CPUID_1_ECX_VMX, type NvmxCr3Options, type NvmxService } from './host/plugin.js';
export { NestedVcpu, NVMX_VARIANTS, type NvmxConfig, type NvmxEvent, type NvmxStats, type NvmxVariant } from './host/nested-state.js';
export { Vmcs12 } from './host/vmcs12.js';
export { preemptionTimeoutNs } from './host/wake-sources.js';
export { assemble, type AsmLine } from './guest/assembler.js';
export { vmclear, vmlaunch, vmptrld, vmread, vmresume, vmwrite, vmxon, type VmxOutcome } from './guest/vmx.js';
export { ada, MuenKernel, type MuenConfig, type MuenCorruption, type MuenSubject } from './guest/muen.js';
export { nvmxHltCr3, runNvmxHltCr3, type NvmxHltCr3Options } from './scenarios/nvmx-hlt-cr3.js';

/** Scenarios this package provides (the CLI registers every one). */
export const scenarios: readonly ScenarioDef[] = [nvmxHltCr3];
