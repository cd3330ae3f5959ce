/**
 * createHypervisor(): composes the core with plugins. Plugins are ordered by `requires` and
 * set up once, in that order, against a context that records what they register; every
 * composition mistake is a CompositionError before any VM exists.
 */
import { installArmTimer } from './arm64/arch-timer.js';
import { checkHypervisorOptions } from './config-schema.js';
import { coreCapabilities } from './core-capabilities.js';
import { CompositionError } from './errors.js';
import { HostClock, type HostOptions } from './host/host-clock.js';
import { KERNEL_ERAS, type KernelEraName, type KernelLimits } from './kernel-era.js';
import { KERNEL_RELEASES, MODELLED_CHANGES, changeVerdict, releaseOf, type HypervisorKernel, type VariantChoice } from './kernel-releases.js';
import { atLeastRelease, parseKernelVersion } from './kernel-version.js';
import { orderPlugins } from './plugin/compose.js';
import { Registry } from './plugin/registry.js';
import type { Arch, Plugin, PluginContext } from './plugin/types.js';
import { Simulation } from './sim/simulation.js';
import { Tracer } from './trace.js';
import { Vm, type VmOptions } from './vm/vm.js';
import { NestedVmxEngine } from './x86/nested/engine.js';
import type { NestedVmxApi } from './x86/nested/shapes.js';

export interface HypervisorOptions {
  readonly arch: Arch;
  /** Seed of the one PRNG (default 0). */
  readonly seed?: number;
  readonly plugins?: readonly Plugin[];
  readonly host?: HostOptions;
  /**
   * The kernel to be: a version string ('5.3', '5.4.3', '5.5-rc1', '5.4.0-150-generic', or the era
   * names '5.4' / '6.18') sets the limits and capability answers from the release timeline and
   * gives every plugin that models a series the variant that kernel runs, unless the plugin was
   * given one explicitly. Explicit limits set only the limits. Default: 5.4's limits and answers,
   * each plugin its own default variant (merged). Explicit limits set the limits, and the
   * capability answers of the timeline release their `name` starts with ('6.18 (this machine)':
   * a machine's limits with today's answers), else 5.4's.
   */
  readonly kernel?: KernelEraName | string | KernelLimits;
  /** Upstream commits the kernel carries beyond its version (a vendor kernel's backports). */
  readonly backports?: readonly string[];
}

function resolveKernel(k: HypervisorOptions['kernel'], backports: readonly string[]): HypervisorKernel & { readonly limits: KernelLimits } {
  const r54 = KERNEL_RELEASES.find((r) => r.release === '5.4')!;
  if (k === undefined) return { version: null, release: r54, backports, limits: KERNEL_ERAS['5.4'] };
  if (typeof k !== 'string') {
    // Explicit limits (a machine's, say): the capability answers of the release their name starts with.
    const m = /^v?(\d{1,2}\.\d{1,3})\b/.exec(k.name);
    const named = m !== null && atLeastRelease(parseKernelVersion(m[1]!), KERNEL_RELEASES[0]!.release) ? releaseOf(parseKernelVersion(m[1]!)) : undefined;
    return { version: null, release: named ?? r54, backports, limits: k };
  }
  const version = parseKernelVersion(k);
  const release = releaseOf(version);
  return { version, release, backports, limits: release.limits };
}

const HOST_DEFAULTS: Record<Arch, { clocksource: string; counterHz: bigint }> = {
  // Arm servers commonly run the generic timer at 25 MHz (CNTFRQ_EL0); Armv8.6 fixes it at 1 GHz.
  arm64: { clocksource: 'arch_sys_counter', counterHz: 25_000_000n },
  x86_64: { clocksource: 'tsc', counterHz: 2_500_000_000n },
};

export class Hypervisor {
  readonly arch: Arch;
  readonly seed: number;
  readonly sim: Simulation;
  readonly host: HostClock;
  /** The kernel era's limits this hypervisor follows. */
  readonly kernel: KernelLimits;
  /** The kernel this hypervisor is (its version, timeline release and backports). */
  readonly kernelInfo: HypervisorKernel;
  /** Which variant each series' plugin runs, and whether that is the kernel's. */
  readonly variantChoices: VariantChoice[] = [];
  readonly trace = new Tracer();
  /** What the plugins registered (read-only use outside the core). */
  readonly registry = new Registry();
  /** Installed plugins, in setup order. */
  readonly plugins: readonly string[];
  readonly vms: Vm[] = [];
  private readonly pluginMap = new Map<string, Plugin>();
  private nested: NestedVmxEngine | undefined;

  constructor(opts: HypervisorOptions) {
    checkHypervisorOptions(opts);
    this.arch = opts.arch;
    this.seed = opts.seed ?? 0;
    const kernel = resolveKernel(opts.kernel, opts.backports ?? []);
    this.kernel = kernel.limits;
    this.kernelInfo = { version: kernel.version, release: kernel.release, backports: kernel.backports };
    this.sim = new Simulation(this.seed);
    this.host = new HostClock(this.sim, HOST_DEFAULTS[this.arch], opts.host);
    for (const [cap, def] of coreCapabilities(this.arch, this.kernel, kernel.release)) this.registry.addCapability('hypervisor-core', cap, def);
    if (this.arch === 'arm64') {
      installArmTimer(
        this.kernelInfo,
        (id, get, set) => this.registry.addOneReg('hypervisor-core', id, { get, set }),
        (cap) => this.registry.addCapability('hypervisor-core', cap, { check: () => 1 }),
      );
    }
    const ordered = orderPlugins(opts.plugins ?? [], this.arch);
    for (const p of ordered) this.pluginMap.set(p.name, p);
    for (const p of ordered) p.setup(this.contextFor(p));
    this.plugins = ordered.map((p) => p.name);
    const reg = this.registry;
    this.nested?.finalize(reg, (owner) => ({
      onExit: (reason, h) => reg.addExitHandler(owner, reason, h),
      onVcpuCreate: (fn) => reg.vcpuCreateHooks.push({ owner, value: fn }),
    }));
  }

  /** The nested-VMX engine's API, if a plugin enabled it (x86). */
  get nestedVmx(): NestedVmxApi | undefined {
    return this.nested?.api;
  }

  /** KVM_CHECK_EXTENSION on /dev/kvm. */
  checkExtension(cap: number): number {
    const def = this.registry.capabilities.get(cap);
    return def === undefined ? 0 : def.value.check(undefined);
  }

  /** Whether a plugin of that name is installed. */
  hasPlugin(name: string): boolean {
    return this.plugins.includes(name);
  }

  /** KVM_CREATE_VM. */
  createVm(opts: VmOptions = {}): Vm {
    const vm = new Vm(this, this.vms.length, opts);
    this.vms.push(vm);
    for (const h of this.registry.vmCreateHooks) h.value(vm);
    return vm;
  }

  /**
   * The variant a series' plugin runs on this kernel: `explicit` if given (recorded as a mismatch
   * when the kernel runs another), else the kernel's (when a kernel version was given), else
   * `fallback`. A feature the kernel does not have is a CompositionError unless explicit.
   */
  chooseVariant(series: string, explicit: string | undefined, fallback: string): string {
    const change = MODELLED_CHANGES.find((c) => c.series === series);
    const v = this.kernelInfo.version;
    const verdict = change !== undefined && v !== null ? changeVerdict(change, v, this.kernelInfo.backports) : undefined;
    if (verdict !== undefined && verdict.status === 'absent' && explicit === undefined) {
      throw new CompositionError('KERNEL_LACKS_FEATURE', series, `Linux ${v!.text} has no ${series} (${verdict.reason}); pass a variant to try it anyway`);
    }
    const kernelVariant = verdict?.variant;
    const variant = explicit ?? kernelVariant ?? fallback;
    this.variantChoices.push({ series, variant, kernelVariant, explicit: explicit !== undefined, mismatch: explicit !== undefined && kernelVariant !== undefined && explicit !== kernelVariant });
    return variant;
  }

  /** A service a plugin decorated (e.g. the vendor-hyp service registry). */
  decoration<T>(key: string): T | undefined {
    return this.registry.decorations.get(key)?.value as T | undefined;
  }

  private contextFor(p: Plugin): PluginContext {
    const reg = this.registry;
    const name = p.name;
    const needArch = (arch: Arch, what: string): void => {
      if (this.arch !== arch) throw new CompositionError('WRONG_ARCH', name, `${what} exists only on ${arch}`);
    };
    const reachable = new Set<string>();
    const walk = (n: string): void => {
      for (const r of this.pluginMap.get(n)?.requires ?? []) {
        if (!reachable.has(r)) {
          reachable.add(r);
          walk(r);
        }
      }
    };
    walk(name);
    return {
      arch: this.arch,
      plugin: name,
      kernel: this.kernelInfo,
      chooseVariant: (explicit, fallback) => this.chooseVariant(name, explicit, fallback),
      sim: this.sim,
      host: this.host,
      trace: this.trace,
      capability: (cap, def) => reg.addCapability(name, cap, def),
      smccc: (fid, h) => {
        needArch('arm64', 'SMCCC');
        reg.addSmccc(name, fid, h);
      },
      armTrapPolicy: (policy) => {
        needArch('arm64', 'the HVC/SMC trap policy');
        reg.setArmTrapPolicy(name, policy);
      },
      hypercall: (nr, h) => {
        needArch('x86_64', 'KVM hypercalls (VMCALL)');
        reg.addHypercall(name, nr, h);
      },
      oneReg: (id, def) => reg.addOneReg(name, id, def),
      onExit: (reason, h) => reg.addExitHandler(name, reason, h),
      onVmCreate: (fn) => reg.vmCreateHooks.push({ owner: name, value: fn }),
      onVcpuCreate: (fn) => reg.vcpuCreateHooks.push({ owner: name, value: fn }),
      setMmu: (f) => reg.setMmu(name, f),
      nestedVmx: (c = {}) => {
        needArch('x86_64', 'nested VMX');
        this.nested ??= new NestedVmxEngine(this.sim);
        this.nested.contribute(name, c);
        return this.nested.api;
      },
      decorate: (key, value) => reg.decorate(name, key, value),
      dependency: <T>(key: string): T => {
        const d = reg.decorations.get(key);
        if (d === undefined || !reachable.has(d.owner)) {
          throw new CompositionError('MISSING_REQUIREMENT', name, `needs "${key}" from a plugin it requires${d ? ` (it is decorated by "${d.owner}", which is not required)` : ''}`);
        }
        return d.value as T;
      },
    };
  }

}

export function createHypervisor(opts: HypervisorOptions): Hypervisor {
  return new Hypervisor(opts);
}
