// @kvmlab/kvm-mmu-pml: x86 dirty logging with PML and write protection, shadow EPT for L2,
// and the Sept 2019 nested live-migration fix. See README.md.
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { nestedMigrationScenario } from './scenarios/nested-migration.js';
import { vmxDirtyLogScenario } from './scenarios/vmx-dirty-log.js';

export * from './constants.js';
export { kvmMmuPml, kvmMmuOf, KVM_MMU_PML_PLUGIN } from './host/plugin.js';
export { l0Config, type KvmMmuPmlOptions, type L0Config } from './host/config.js';
export { KvmMmuPml, type KvmMmuStats } from './host/kvm-mmu.js';
export { VcpuVmx, type VcpuExitCounts } from './host/vcpu-vmx.js';
export type { Spte, SpteTable, TableKind } from './host/mmu-pages.js';
export {
  spteKinds,
  spteAdEnabled,
  spteAdNeedWriteProtect,
  spteKindName,
  isMmioSpte,
  VARIANTS,
  type SpteKinds,
  type Variant,
} from './host/spte.js';
// L1's VMX instructions are hypervisor-core's now (one guest-side module in the tree); re-exported
// under this package's earlier names.
export { vmwrite, vmread, vmreadz, vmlaunch, vmresume, invept, type VmxOutcome as VmxResult } from '@kvmlab/hypervisor-core';
export {
  getUcall, guestDone, guestSync, guestSyncAsm, ucall, ucallAsm, ucallProgram, UCALL_STRUCT_BYTES, type UcallArgs,
} from './guest/ucall.js';
export { Ept12Tracker } from './host/ept12-tracking.js';
export { NESTED_MMU_HOOKS } from './host/nested-hooks.js';

export { runVmxDirtyLogTest, type SelftestOptions, type SelftestReport, type SyncRecord } from './scenarios/selftest.js';
export { runMigration, type MigrationRun, type MigrationRunOptions } from './scenarios/migration-run.js';
export { Precopy, type PageNumbers, type PrecopyOptions, type PrecopyResult, type RoundRecord } from './scenarios/precopy.js';
export { vmxDirtyLogScenario } from './scenarios/vmx-dirty-log.js';
// The benchmarks (benchTasks, runBench, benchNestedMigration, benchFigures) moved to the
// repository-only subpath '@kvmlab/kvm-mmu-pml/bench': bench code is not in the published package.
export { nestedMigrationScenario } from './scenarios/nested-migration.js';

/** Scenarios this package provides (the CLI registers every one). */
export const scenarios: readonly ScenarioDef[] = [vmxDirtyLogScenario, nestedMigrationScenario];
