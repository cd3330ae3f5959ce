/**
 * The feature packages the CLI can host. Each is an optional peer dependency of @kvmlab/cli:
 * the CLI imports it at run time (installed.ts) and lists, composes and runs only what it
 * finds. What each provides is also written here, so the CLI can say what is missing and how
 * to add it without loading it (test/installed.test.ts checks these lists against the real
 * exports). The import() calls are literal so type checking and bundlers still see them.
 */
import type { Arch, Plugin, ScenarioDef } from '@kvmlab/hypervisor-core';

/** A plugin `caps` / `conform --plugins` can compose: the package's factory with its defaults. */
export interface PluginFactory {
  readonly name: string;
  readonly package: string;
  readonly arches: readonly Arch[];
  readonly create: () => Plugin;
}

export interface LoadedPackage {
  /** The module's namespace (for the KVM constants it exports under their kernel names). */
  readonly module: Readonly<Record<string, unknown>>;
  readonly scenarios: readonly ScenarioDef[];
  readonly plugins: readonly PluginFactory[];
}

export interface FeaturePackage {
  readonly package: string;
  /** One line for "not installed" notes. */
  readonly about: string;
  /** Scenario names it exports (per arch), and plugin names it provides. */
  readonly scenarios: readonly string[];
  readonly plugins: readonly string[];
  readonly load: () => Promise<LoadedPackage>;
}

interface FeatureModule {
  readonly scenarios: readonly ScenarioDef[];
}

/** The one plugin a package provides: its arches and how to build it from the loaded module. */
interface PluginEntry<M> {
  readonly name: string;
  readonly arches: readonly Arch[];
  readonly create: (m: M) => Plugin;
}

/** A table row: the package, what it provides, its literal import(), and its plugin if any. */
function feature<M extends FeatureModule>(pkg: string, about: string, scenarios: readonly string[], load: () => Promise<M>, plugin?: PluginEntry<M>): FeaturePackage {
  return {
    package: pkg,
    about,
    scenarios,
    plugins: plugin !== undefined ? [plugin.name] : [],
    load: async () => {
      const m = await load();
      const plugins = plugin !== undefined ? [{ name: plugin.name, package: pkg, arches: plugin.arches, create: () => plugin.create(m) }] : [];
      return { module: m as unknown as Readonly<Record<string, unknown>>, scenarios: m.scenarios, plugins };
    },
  };
}

/** In an order that satisfies `requires` (composition re-orders anyway) and lists depend on. */
export const FEATURE_PACKAGES: readonly FeaturePackage[] = [
  feature('@kvmlab/psci-conduit', 'arm64 PSCI/SMCCC conduit', [], () => import('@kvmlab/psci-conduit'), { name: 'psci-conduit', arches: ['arm64'], create: (m) => m.psciConduit() }),
  feature('@kvmlab/ptp-kvm-core', 'ptp_kvm clock arithmetic shared by both arches', [], () => import('@kvmlab/ptp-kvm-core')),
  feature('@kvmlab/ptp-kvm-arm64', 'ptp_kvm on arm64', ['ptp-sync'], () => import('@kvmlab/ptp-kvm-arm64'), { name: 'ptp-kvm-arm64', arches: ['arm64'], create: (m) => m.ptpKvmArm64() }),
  feature('@kvmlab/ptp-kvm-x86', 'ptp_kvm / kvmclock on x86_64', ['ptp-sync'], () => import('@kvmlab/ptp-kvm-x86'), { name: 'ptp-kvm-x86', arches: ['x86_64'], create: (m) => m.ptpKvmX86() }),
  feature('@kvmlab/kvm-mmu-pml', 'nested PML dirty logging (x86_64)', ['vmx-dirty-log', 'nested-migration'], () => import('@kvmlab/kvm-mmu-pml'), { name: 'kvm-mmu-pml', arches: ['x86_64'], create: (m) => m.kvmMmuPml() }),
  feature('@kvmlab/nvmx-cr3', 'nested VMX CR3 on HLT (x86_64)', ['nvmx-hlt-cr3'], () => import('@kvmlab/nvmx-cr3'), { name: 'nvmx-cr3', arches: ['x86_64'], create: (m) => m.nvmxCr3() }),
  feature('@kvmlab/x86-compose', 'kvm-mmu-pml and nvmx-cr3 composed (x86_64)', ['nested-muen-migration'], () => import('@kvmlab/x86-compose')),
  // Also what `conform` runs; it brings koffi, a native FFI module.
  feature('@kvmlab/linux-kvm', 'the Linux KVM ABI: conformance against /dev/kvm (kvmlab conform)', [], () => import('@kvmlab/linux-kvm')),
];
