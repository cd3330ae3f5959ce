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

const plugin = (pkg: string, name: string, arches: readonly Arch[], create: () => Plugin): PluginFactory => ({ name, package: pkg, arches, create });

/** In an order that satisfies `requires` (composition re-orders anyway) and lists depend on. */
export const FEATURE_PACKAGES: readonly FeaturePackage[] = [
  {
    package: '@kvmlab/psci-conduit', about: 'arm64 PSCI/SMCCC conduit', scenarios: [], plugins: ['psci-conduit'],
    load: async () => {
      const m = await import('@kvmlab/psci-conduit');
      return { module: m, scenarios: m.scenarios, plugins: [plugin('@kvmlab/psci-conduit', 'psci-conduit', ['arm64'], () => m.psciConduit())] };
    },
  },
  {
    package: '@kvmlab/ptp-kvm-core', about: 'ptp_kvm clock arithmetic shared by both arches', scenarios: [], plugins: [],
    load: async () => {
      const m = await import('@kvmlab/ptp-kvm-core');
      return { module: m, scenarios: m.scenarios, plugins: [] };
    },
  },
  {
    package: '@kvmlab/ptp-kvm-arm64', about: 'ptp_kvm on arm64', scenarios: ['ptp-sync'], plugins: ['ptp-kvm-arm64'],
    load: async () => {
      const m = await import('@kvmlab/ptp-kvm-arm64');
      return { module: m, scenarios: m.scenarios, plugins: [plugin('@kvmlab/ptp-kvm-arm64', 'ptp-kvm-arm64', ['arm64'], () => m.ptpKvmArm64())] };
    },
  },
  {
    package: '@kvmlab/ptp-kvm-x86', about: 'ptp_kvm / kvmclock on x86_64', scenarios: ['ptp-sync'], plugins: ['ptp-kvm-x86'],
    load: async () => {
      const m = await import('@kvmlab/ptp-kvm-x86');
      return { module: m, scenarios: m.scenarios, plugins: [plugin('@kvmlab/ptp-kvm-x86', 'ptp-kvm-x86', ['x86_64'], () => m.ptpKvmX86())] };
    },
  },
  {
    package: '@kvmlab/kvm-mmu-pml', about: 'nested PML dirty logging (x86_64)', scenarios: ['vmx-dirty-log', 'nested-migration'], plugins: ['kvm-mmu-pml'],
    load: async () => {
      const m = await import('@kvmlab/kvm-mmu-pml');
      return { module: m, scenarios: m.scenarios, plugins: [plugin('@kvmlab/kvm-mmu-pml', 'kvm-mmu-pml', ['x86_64'], () => m.kvmMmuPml())] };
    },
  },
  {
    package: '@kvmlab/nvmx-cr3', about: 'nested VMX CR3 on HLT (x86_64)', scenarios: ['nvmx-hlt-cr3'], plugins: ['nvmx-cr3'],
    load: async () => {
      const m = await import('@kvmlab/nvmx-cr3');
      return { module: m, scenarios: m.scenarios, plugins: [plugin('@kvmlab/nvmx-cr3', 'nvmx-cr3', ['x86_64'], () => m.nvmxCr3())] };
    },
  },
  {
    package: '@kvmlab/x86-compose', about: 'kvm-mmu-pml and nvmx-cr3 composed (x86_64)', scenarios: ['nested-muen-migration'], plugins: [],
    load: async () => {
      const m = await import('@kvmlab/x86-compose');
      return { module: m, scenarios: m.scenarios, plugins: [] };
    },
  },
  {
    // Also what `conform` runs; it brings koffi, a native FFI module.
    package: '@kvmlab/linux-kvm', about: 'the Linux KVM ABI: conformance against /dev/kvm (kvmlab conform)', scenarios: [], plugins: [],
    load: async () => {
      const m = await import('@kvmlab/linux-kvm');
      return { module: m, scenarios: m.scenarios, plugins: [] };
    },
  },
];
