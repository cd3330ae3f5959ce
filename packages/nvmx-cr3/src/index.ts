// @kvmlab/nvmx-cr3: the three GUEST_CR3 behaviours of nested VMX (Linux 5.3, Reto Buerki's RFC,
// Sean Christopherson's merged fix) as hooks into hypervisor-core's nested-VMX engine, and the
// Muen-like L1 that shows the bug.
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { nvmxHltCr3 } from './scenarios/nvmx-hlt-cr3.js';

export * from './constants.js';
export * from './isa.js';
export { nvmxCr3, NVMX_SERVICE, type NvmxConfig, type NvmxCr3Options, type NvmxService } from './host/plugin.js';
export { guestCr3Hooks, NVMX_VARIANTS, type NvmxVariant } from './host/guest-cr3.js';
// Moved into hypervisor-core with the engine; re-exported under their earlier names.
export {
  assemble, preemptionTimeoutNs, Vmcs12, vmclear, vmlaunch, vmptrld, vmread, vmresume, vmwrite, vmxon, type AsmLine,
  type NestedVcpu, type NvmxEvent, type NvmxStats, type VmxOutcome,
} from '@kvmlab/hypervisor-core';
export {
  ada, MuenKernel, muenVmcsGpa, MUEN_CODE_GPA, MUEN_DATA_GPA, MUEN_SUBJECT_CODE_GPA, MUEN_SUBJECT_DATA_GPA, MUEN_VMCS_GPA,
  MUEN_VMXON_GPA, MUEN_EPT_GPA, MUEN_STATE_GPA, MUEN_MAX_CPUS, muenEptGpa, muenStateGpa, muenVmxonGpa, type MuenConfig, type MuenCorruption, type MuenSubject,
} from './guest/muen.js';
export { MUEN_KERNEL_CR3, MUEN_PLAN, REPORT_PML4, muenSubjects } from './scenarios/muen-system.js';
export { nvmxHltCr3, runNvmxHltCr3, type NvmxHltCr3Options } from './scenarios/nvmx-hlt-cr3.js';

/** Scenarios this package provides (the CLI registers every one). */
export const scenarios: readonly ScenarioDef[] = [nvmxHltCr3];
