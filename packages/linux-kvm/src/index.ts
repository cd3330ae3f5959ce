// @kvmlab/linux-kvm: the real /dev/kvm from TypeScript, differential conformance of the model
// against the running kernel, and the same dirty-log work timed on both.
import type { ScenarioDef } from '@kvmlab/hypervisor-core';

export * from './ffi/kvm-abi.js';
export { KvmSystem, KvmVm, type KvmMemoryRegion, type KvmClearDirtyLog, type Closable } from './ffi/kvm.js';
export { KvmVcpu, type KvmRegs, type KvmSregs, type KvmSegment, type KvmDtable, type KvmRunExit } from './ffi/vcpu.js';
export { HostMapping } from './ffi/mapping.js';
export { loadLibc, errnoError } from './ffi/libc.js';
export { isAvailable, type Availability } from './available.js';
export { generateGuestCode, MODE_LIMIT, type GuestMode, type GuestWrite } from './guest/codegen.js';
export { sregsFor } from './guest/cpu-mode.js';
export { runGuestWrites, findFreeGpa, type GuestRunResult } from './guest/run-guest.js';
export * from './conform/script.js';
export { ModelTarget, MODEL_STEP_NS, type AbiTarget, type KvmclockModel, type KvmclockVmm } from './conform/model-target.js';
export * from './conform/kvmclock-port.js';
export { KernelTarget } from './conform/kernel-target.js';
export {
  FIXTURE_DIR,
  eraFor,
  kvmclockEraFor,
  fixturePath,
  loadFixtures,
  machineFacts,
  recordKernel,
  runScript,
  readFixture,
  saveFixture,
  saveFixtureTo,
  type KernelFixture,
  type MachineFacts,
} from './conform/fixture.js';
export {
  SCRIPTS,
  compareWithModel,
  describeStep,
  formatConformanceTable,
  recordFixture,
  runConformance,
  type ConformanceOptions,
  type ConformanceReport,
  type ConformanceRow,
  type ModelContext,
  type SkippedStep,
} from './conform/conformance.js';
export { KVMCLOCK_SCRIPTS, kvmclockClockScript, kvmclockMsrScript, kvmclockTscKhzScript } from './conform/scripts-kvmclock.js';
export { capsScript, memslotScript } from './conform/scripts-caps-memslots.js';
export { clearDirtyLogScript, getDirtyLogScript, initiallySetScript, loggingToggleScript } from './conform/scripts-dirty.js';

// The /dev/kvm dirty-log benchmark (runDirtyLogBench, formatBenchTable, onePercentPages) moved to
// the repository-only subpath '@kvmlab/linux-kvm/bench': bench code is not in the published package.

/** Scenarios this package provides (the CLI registers every one): none, it drives a real kernel. */
export const scenarios: readonly ScenarioDef[] = [];
