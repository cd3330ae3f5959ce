/**
 * What the playground can compose and run: the model packages' plugin factories (by plugin
 * name, each taking its series' variant) and every scenario the packages export in their
 * `scenarios` arrays — as the CLI lists them (packages/cli/src/scenarios.ts), minus linux-kvm,
 * which needs /dev/kvm and stays out of the browser.
 */
import { KERNEL_RELEASES, type Arch, type Plugin, type ScenarioDef } from '@kvmlab/hypervisor-core';
import { kvmMmuPml, scenarios as kvmMmuPmlScenarios } from '@kvmlab/kvm-mmu-pml';
import { NVMX_VARIANTS, nvmxCr3, scenarios as nvmxCr3Scenarios } from '@kvmlab/nvmx-cr3';
import { psciConduit, scenarios as psciScenarios } from '@kvmlab/psci-conduit';
import { ptpKvmArm64, scenarios as ptpArm64Scenarios } from '@kvmlab/ptp-kvm-arm64';
import { scenarios as ptpCoreScenarios } from '@kvmlab/ptp-kvm-core';
import { ptpKvmX86, scenarios as ptpX86Scenarios } from '@kvmlab/ptp-kvm-x86';
import { MIGRATION_AXES, scenarios as x86ComposeScenarios } from '@kvmlab/x86-compose';
import { MATRIX_CSS } from '../../../cli/src/report/matrix-html.js';
import { LEAD_CSS } from '../../../cli/src/report/render/lead-html.js';
import type { CatalogInfo, PluginInfo } from '../protocol.js';

export interface PluginEntry extends PluginInfo {
  /** `variant` undefined: the kernel's variant, or the plugin's default (merged). */
  readonly create: (variant: string | undefined) => Plugin;
}

/** In an order that satisfies `requires` (as packages/cli/src/plugins.ts). */
export const PLUGINS: readonly PluginEntry[] = [
  { name: 'psci-conduit', arch: 'arm64', variants: [], create: () => psciConduit() },
  // ptp-kvm-arm64's plugin takes the RFC v4 or the merged service (host/plugin.ts).
  { name: 'ptp-kvm-arm64', arch: 'arm64', variants: ['rfc-v4', 'merged'], create: (v) => ptpKvmArm64(v !== undefined ? { variant: v as 'rfc-v4' | 'merged' } : {}) },
  { name: 'ptp-kvm-x86', arch: 'x86_64', variants: [], create: () => ptpKvmX86() },
  { name: 'kvm-mmu-pml', arch: 'x86_64', variants: MIGRATION_AXES['kvm-mmu-pml'], create: (v) => kvmMmuPml(v !== undefined ? { variant: v as 'pre-fix' | 'merged' } : {}) },
  { name: 'nvmx-cr3', arch: 'x86_64', variants: NVMX_VARIANTS, create: (v) => nvmxCr3(v !== undefined ? { variant: v as (typeof NVMX_VARIANTS)[number] } : {}) },
];

export const SCENARIOS: readonly ScenarioDef[] = [
  ...psciScenarios, ...ptpCoreScenarios, ...ptpArm64Scenarios, ...ptpX86Scenarios, ...kvmMmuPmlScenarios, ...nvmxCr3Scenarios, ...x86ComposeScenarios,
];

export function scenarioDef(name: string, arch: Arch): ScenarioDef | undefined {
  return SCENARIOS.find((d) => d.name === name && d.arches.includes(arch));
}

export function catalogInfo(): CatalogInfo {
  return {
    plugins: PLUGINS.map(({ name, arch, variants }) => ({ name, arch, variants: [...variants] })),
    scenarios: SCENARIOS.flatMap((d) =>
      d.arches.map((arch) => ({
        name: d.name, description: d.description, arch, package: d.package, variants: [...d.variants], defaultVariant: d.defaultVariant,
        ...(d.variantAxes !== undefined ? { variantAxes: d.variantAxes } : {}),
        options: d.options,
      })),
    ),
    kernels: KERNEL_RELEASES.map((k) => k.release),
    css: `${LEAD_CSS}${MATRIX_CSS}`,
  };
}
