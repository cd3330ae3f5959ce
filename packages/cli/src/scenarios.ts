/**
 * Every scenario the installed feature packages export (core's ScenarioDef contract). A
 * package whose `scenarios` array is empty simply adds nothing to the catalog.
 */
import type { ScenarioDef } from '@kvmlab/hypervisor-core';
import { scenarios as kvmMmuPml } from '@kvmlab/kvm-mmu-pml';
import { scenarios as linuxKvm } from '@kvmlab/linux-kvm';
import { scenarios as nvmxCr3 } from '@kvmlab/nvmx-cr3';
import { scenarios as psciConduit } from '@kvmlab/psci-conduit';
import { scenarios as ptpKvmArm64 } from '@kvmlab/ptp-kvm-arm64';
import { scenarios as ptpKvmCore } from '@kvmlab/ptp-kvm-core';
import { scenarios as ptpKvmX86 } from '@kvmlab/ptp-kvm-x86';
import { scenarios as x86Compose } from '@kvmlab/x86-compose';
import { ScenarioCatalog } from './catalog.js';

/** In package order (the catalog sorts by name for display). */
export const installedScenarios: readonly ScenarioDef[] = [
  ...psciConduit,
  ...ptpKvmCore,
  ...ptpKvmArm64,
  ...ptpKvmX86,
  ...kvmMmuPml,
  ...nvmxCr3,
  ...x86Compose,
  ...linuxKvm,
];

export function defaultCatalog(): ScenarioCatalog {
  return new ScenarioCatalog(installedScenarios);
}
