/**
 * createHypervisor(): composes the core with plugins. Plugins are ordered by `requires` and
 * set up once, in that order, against a context that records what they register; every
 * composition mistake is a CompositionError before any VM exists.
 */
import { coreCapabilities } from './core-capabilities.js';
import { CompositionError } from './errors.js';
import { HostClock, type HostOptions } from './host/host-clock.js';
import { kernelLimits, type KernelEraName, type KernelLimits } from './kernel-era.js';
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
  /** Which kernel's limits to follow (memslots, vCPU counts, address spaces); default '5.4'. */
  readonly kernel?: KernelEraName | KernelLimits;
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
  readonly trace = new Tracer();
  /** What the plugins registered (read-only use outside the core). */
  readonly registry = new Registry();
  /** Installed plugins, in setup order. */
  readonly plugins: readonly string[];
  readonly vms: Vm[] = [];
  private readonly pluginMap = new Map<string, Plugin>();
  private nested: NestedVmxEngine | undefined;

  constructor(opts: HypervisorOptions) {
    if (opts.arch !== 'arm64' && opts.arch !== 'x86_64') {
      throw new CompositionError('WRONG_ARCH', 'hypervisor-core', `unknown arch "${String(opts.arch)}"`);
    }
    this.arch = opts.arch;
    this.seed = opts.seed ?? 0;
    this.kernel = kernelLimits(opts.kernel);
    this.sim = new Simulation(this.seed);
    this.host = new HostClock(this.sim, HOST_DEFAULTS[this.arch], opts.host);
    for (const [cap, def] of coreCapabilities(this.arch, this.kernel)) this.registry.addCapability('hypervisor-core', cap, def);
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
