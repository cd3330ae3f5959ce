/**
 * Every feature package's plugin factory, imported statically: the playground's list (it
 * bundles all of them). The CLI composes only what is installed (host/installed.ts).
 */
import { kvmMmuPml } from '@kvmlab/kvm-mmu-pml';
import { nvmxCr3 } from '@kvmlab/nvmx-cr3';
import { psciConduit } from '@kvmlab/psci-conduit';
import { ptpKvmArm64 } from '@kvmlab/ptp-kvm-arm64';
import { ptpKvmX86 } from '@kvmlab/ptp-kvm-x86';
import type { PluginFactory } from './host/feature-packages.js';

export type { PluginFactory } from './host/feature-packages.js';

/** In an order that satisfies `requires` (composition re-orders anyway). */
export const ALL_PLUGIN_FACTORIES: readonly PluginFactory[] = [
  { name: 'psci-conduit', package: '@kvmlab/psci-conduit', arches: ['arm64'], create: () => psciConduit() },
  { name: 'ptp-kvm-arm64', package: '@kvmlab/ptp-kvm-arm64', arches: ['arm64'], create: () => ptpKvmArm64() },
  { name: 'ptp-kvm-x86', package: '@kvmlab/ptp-kvm-x86', arches: ['x86_64'], create: () => ptpKvmX86() },
  { name: 'kvm-mmu-pml', package: '@kvmlab/kvm-mmu-pml', arches: ['x86_64'], create: () => kvmMmuPml() },
  { name: 'nvmx-cr3', package: '@kvmlab/nvmx-cr3', arches: ['x86_64'], create: () => nvmxCr3() },
];
