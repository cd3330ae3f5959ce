/**
 * The plugin factories `kvmlab caps` can compose, by plugin name: each feature package's own
 * factory with its defaults (the merged variant).
 */
import type { Arch, Plugin } from '@kvmlab/hypervisor-core';
import { kvmMmuPml } from '@kvmlab/kvm-mmu-pml';
import { nvmxCr3 } from '@kvmlab/nvmx-cr3';
import { psciConduit } from '@kvmlab/psci-conduit';
import { ptpKvmArm64 } from '@kvmlab/ptp-kvm-arm64';
import { ptpKvmX86 } from '@kvmlab/ptp-kvm-x86';

export interface PluginFactory {
  readonly name: string;
  readonly package: string;
  readonly arches: readonly Arch[];
  readonly create: () => Plugin;
}

/** In an order that satisfies `requires` (composition re-orders anyway). */
export const PLUGIN_FACTORIES: readonly PluginFactory[] = [
  { name: 'psci-conduit', package: '@kvmlab/psci-conduit', arches: ['arm64'], create: () => psciConduit() },
  { name: 'ptp-kvm-arm64', package: '@kvmlab/ptp-kvm-arm64', arches: ['arm64'], create: () => ptpKvmArm64() },
  { name: 'ptp-kvm-x86', package: '@kvmlab/ptp-kvm-x86', arches: ['x86_64'], create: () => ptpKvmX86() },
  { name: 'kvm-mmu-pml', package: '@kvmlab/kvm-mmu-pml', arches: ['x86_64'], create: () => kvmMmuPml() },
  { name: 'nvmx-cr3', package: '@kvmlab/nvmx-cr3', arches: ['x86_64'], create: () => nvmxCr3() },
];
