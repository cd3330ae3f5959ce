/**
 * The host plugin `ptpKvmX86()`: kvmclock (CPUID feature bits, the MSRs, pvclock updates) and
 * KVM_HC_CLOCK_PAIRING. x86 KVM has no KVM_CAP_PTP_KVM, so this plugin answers no capability
 * and KVM_CHECK_EXTENSION(198) stays 0 (spec §8).
 */
import {
  CompositionError,
  definePlugin,
  KVM_CPUID_FEATURES,
  KVM_HC_CLOCK_PAIRING,
  KvmError,
  readLe,
  writeLe,
  type Hypervisor,
  type Plugin,
  type Vcpu,
  type Vm,
} from '@kvmlab/hypervisor-core';
import {
  KVM_FEATURE_CLOCKSOURCE,
  KVM_FEATURE_CLOCKSOURCE2,
  KVM_FEATURE_CLOCKSOURCE_STABLE_BIT,
  KVMCLOCK_SYNC_PERIOD_NS,
  KVMCLOCK_UPDATE_DELAY_NS,
} from '../constants.js';
import { kvmPvClockPairing } from './clock-pairing.js';
import {
  hostTscKhz,
  kvmGuestTimeUpdate,
  newVcpuState,
  newVmState,
  pvclockUpdateVmGtodCopy,
  type KvmclockVcpuState,
  type KvmclockVmState,
} from './kvmclock.js';
import { kvmSetSystemTimeMsr, ownsKvmclockMsr } from './msr.js';
import { kvmSetTscKhz } from './tsc.js';

export const PTP_KVM_X86_PLUGIN = 'ptp-kvm-x86';
const HOST_KEY = 'ptp-kvm-x86:host';

export interface PtpKvmX86Options {
  /** kvm_has_tsc_control: TSC scaling hardware (default true). */
  readonly tscScaling?: boolean;
  /** The host kernel is CONFIG_X86_64, so KVM_HC_CLOCK_PAIRING exists (default true). */
  readonly hostX86_64?: boolean;
  /** The 2022 tsc_always_catchup check in kvm_pv_clock_pairing (default true, mainline). */
  readonly checkTscAlwaysCatchup?: boolean;
  /**
   * kvmclock_periodic_sync: rewrite every vCPU's kvmclock each `periodNs` (kernel default on,
   * 300 s). Off by default here, so that `hv.sim.run()` ends; `masterclock` also takes a new
   * master clock snapshot each period (as a host clock event would).
   */
  readonly periodicSync?: { readonly periodNs?: bigint; readonly masterclock?: boolean };
}

export interface PtpKvmX86Stats {
  clockPairingCalls: number;
  pvclockUpdates: number;
  masterclockUpdates: number;
}

/** What the VMM (and tests) can do with the host side; get it with `ptpKvmX86Host(hv)`. */
export interface PtpKvmX86Host {
  /** KVM_SET_TSC_KHZ (0 = the host rate); EINVAL like the ioctl. */
  setTscKhz(vcpu: Vcpu, khz: bigint | number): void;
  /** KVM_GET_TSC_KHZ. */
  getTscKhz(vcpu: Vcpu): bigint;
  kvmclock(vcpu: Vcpu): Readonly<KvmclockVcpuState>;
  vmClock(vm: Vm): Readonly<KvmclockVmState>;
  /** KVM_REQ_CLOCK_UPDATE, serviced now (KVM kicks the vCPU out and updates before re-entry). */
  requestClockUpdate(vcpu: Vcpu): boolean;
  /** kvm_gen_update_masterclock(): a new master clock snapshot, then every vCPU's kvmclock. */
  updateMasterclock(vm: Vm): void;
  readonly stats: Readonly<PtpKvmX86Stats>;
}

/** The host API of an installed ptpKvmX86() plugin. */
export function ptpKvmX86Host(hv: Hypervisor): PtpKvmX86Host {
  const h = hv.decoration<PtpKvmX86Host>(HOST_KEY);
  if (h === undefined) throw new CompositionError('MISSING_REQUIREMENT', PTP_KVM_X86_PLUGIN, 'the ptpKvmX86() plugin is not installed');
  return h;
}

export function ptpKvmX86(opts: PtpKvmX86Options = {}): Plugin {
  const hasTscControl = opts.tscScaling ?? true;
  const checkTscAlwaysCatchup = opts.checkTscAlwaysCatchup ?? true;
  return definePlugin({
    name: PTP_KVM_X86_PLUGIN,
    arch: 'x86_64',
    setup(ctx) {
      const host = ctx.host;
      const vms = new WeakMap<Vm, KvmclockVmState>();
      const vcpus = new WeakMap<Vcpu, KvmclockVcpuState>();
      const stats: PtpKvmX86Stats = { clockPairingCalls: 0, pvclockUpdates: 0, masterclockUpdates: 0 };
      const vmOf = (vm: Vm): KvmclockVmState => vms.get(vm) ?? vms.set(vm, newVmState(host)).get(vm)!;
      const vcpuOf = (v: Vcpu): KvmclockVcpuState => vcpus.get(v) ?? vcpus.set(v, newVcpuState(hostTscKhz(host))).get(v)!;
      const timeUpdate = (v: Vcpu): boolean => {
        const ok = kvmGuestTimeUpdate(v, vcpuOf(v), vmOf(v.vm), host, hasTscControl);
        if (ok) stats.pvclockUpdates++;
        return ok;
      };
      const updateAll = (vm: Vm, except?: Vcpu): void => {
        for (const v of vm.vcpus) if (v !== except) timeUpdate(v);
      };
      // kvm_gen_update_masterclock(); KVM_REQ_CLOCK_UPDATE is one request bit per vCPU, so
      // a vCPU that will be updated anyway (`except`) is not updated twice.
      const updateMasterclock = (vm: Vm, except?: Vcpu): void => {
        pvclockUpdateVmGtodCopy(host, vmOf(vm));
        stats.masterclockUpdates++;
        updateAll(vm, except);
      };

      ctx.onVmCreate((vm) => void vmOf(vm));
      ctx.onVcpuCreate((v) => {
        vcpuOf(v);
        const sync = opts.periodicSync;
        // kvm_arch_vcpu_postcreate(): the first vCPU starts the VM's kvmclock_sync_work.
        if (sync === undefined || v.vm.vcpus.length !== 1) return;
        const period = sync.periodNs ?? KVMCLOCK_SYNC_PERIOD_NS;
        if (period <= 0n) throw new RangeError(`periodicSync.periodNs must be positive, got ${period}`);
        const tick = (): void => {
          if (sync.masterclock === true) updateMasterclock(v.vm);
          else updateAll(v.vm);
          ctx.sim.after(period, tick, 'kvmclock_sync_fn');
        };
        ctx.sim.after(period, tick, 'kvmclock_sync_fn');
      });

      // KVM_GET_SUPPORTED_CPUID: kvmclock's feature bits in KVM_CPUID_FEATURES.EAX.
      ctx.onExit('cpuid', (_v, e) => {
        if (e.leaf !== KVM_CPUID_FEATURES || e.data === undefined) return false;
        const bits = (1n << BigInt(KVM_FEATURE_CLOCKSOURCE)) | (1n << BigInt(KVM_FEATURE_CLOCKSOURCE2)) | (1n << BigInt(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT));
        writeLe(e.data, 0, 4, readLe(e.data, 0, 4) | bits);
        return false;
      });
      ctx.onExit('wrmsr', (v, e) => {
        if (e.msr === undefined || !ownsKvmclockMsr(e.msr) || e.data === undefined) return false;
        const r = kvmSetSystemTimeMsr(v, vcpuOf(v), vmOf(v.vm), e.msr, readLe(e.data, 0, 8));
        if (r.masterclockUpdate) updateMasterclock(v.vm, v);
        // KVM_REQ_GLOBAL_CLOCK_UPDATE -> kvm_gen_kvmclock_update(): this vCPU now, all later.
        timeUpdate(v);
        ctx.sim.after(KVMCLOCK_UPDATE_DELAY_NS, () => updateAll(v.vm), 'kvmclock_update_fn');
        return true;
      });
      ctx.onExit('rdmsr', (v, e) => {
        if (e.msr === undefined || !ownsKvmclockMsr(e.msr) || e.data === undefined) return false;
        writeLe(e.data, 0, 8, vcpuOf(v).systemTimeMsr);
        return true;
      });

      // ____kvm_emulate_hypercall(): KVM_HC_CLOCK_PAIRING exists only on CONFIG_X86_64 hosts.
      if (opts.hostX86_64 ?? true) {
        ctx.hypercall(KVM_HC_CLOCK_PAIRING, (v, a) => {
          stats.clockPairingCalls++;
          const st = vcpuOf(v);
          const ret = kvmPvClockPairing(v, st, a.a0, a.a1, { checkTscAlwaysCatchup });
          // vcpu_enter_guest(): a vCPU in always-catch-up mode gets KVM_REQ_CLOCK_UPDATE on
          // every entry, so its pvclock version changes across every exit.
          if (st.tscAlwaysCatchup) timeUpdate(v);
          return ret;
        });
      }

      const api: PtpKvmX86Host = {
        setTscKhz: (v, khz) => {
          if (typeof khz === 'number' && !Number.isSafeInteger(khz)) throw new KvmError('EINVAL', `TSC rate ${khz} kHz is not an integer`, 'khz');
          kvmSetTscKhz(v, vcpuOf(v), BigInt(khz), hostTscKhz(host), hasTscControl);
        },
        getTscKhz: (v) => vcpuOf(v).virtualTscKhz,
        kvmclock: (v) => vcpuOf(v),
        vmClock: (vm) => vmOf(vm),
        requestClockUpdate: timeUpdate,
        updateMasterclock: (vm) => updateMasterclock(vm),
        stats,
      };
      ctx.decorate(HOST_KEY, api);
    },
  });
}
