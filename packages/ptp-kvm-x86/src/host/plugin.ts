/**
 * The host plugin `ptpKvmX86()`: kvmclock (CPUID feature bits, the MSRs, pvclock updates) and
 * KVM_HC_CLOCK_PAIRING. x86 KVM has no KVM_CAP_PTP_KVM, so this plugin answers no capability
 * and KVM_CHECK_EXTENSION(198) stays 0 (spec §8).
 */
import {
  CompositionError,
  assertReg32,
  assertReg64,
  assertStruct,
  assertU32,
  checkPluginOptions,
  definePlugin,
  KVM_CPUID_FEATURES,
  KVM_HC_CLOCK_PAIRING,
  KvmError,
  readLe,
  show,
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
  KVM_CAP_ADJUST_CLOCK,
  KVM_CAP_GET_TSC_KHZ,
  KVM_CAP_KVMCLOCK_CTRL,
  KVM_CAP_TSC_CONTROL,
  KVM_CLOCK_TSC_STABLE,
  KVM_CLOCK_VALID_FLAGS,
  MSR_IA32_TSC,
  type KvmClockData,
  type KvmclockEra,
  type KvmMsrEntry,
} from './kvmclock-abi.js';
import { getKvmclock, kvmSetGuestPaused, kvmWriteWallClock, setKvmclock } from './kvmclock-ctl.js';
import {
  hostTscKhz,
  kvmclockBaseAndCycles,
  kvmGuestTimeUpdate,
  newVcpuState,
  newVmState,
  pvclockUpdateVmGtodCopy,
  type KvmclockVcpuState,
  type KvmclockVmState,
} from './kvmclock.js';
import { isWallClockMsr, kvmclockMsrValue, kvmWriteSystemTime, ownsKvmclockMsr } from './msr.js';
import { kvmSetTscKhzIoctl } from './tsc.js';

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
   * Which arch/x86/kvm/x86.c the VMM-facing kvmclock paths follow where releases differ
   * (KVM_SET_TSC_KHZ limits, KVM_GET/SET_CLOCK flags, KVM_KVMCLOCK_CTRL on an unbacked area):
   * '6.18' (default, mainline) or '5.4'.
   */
  readonly kernel?: KvmclockEra;
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
  /**
   * KVM_SET_TSC_KHZ: the ioctl's unsigned long (truncated to u32, 0 = the host rate); EINVAL
   * like the ioctl (a JS number that is not an integer is EINVAL too).
   */
  setTscKhz(vcpu: Vcpu, khz: bigint | number): void;
  /** KVM_GET_TSC_KHZ (vcpu->arch.virtual_tsc_khz). */
  getTscKhz(vcpu: Vcpu): bigint;
  /**
   * KVM_RUN: vcpu_enter_guest() services the pending clock requests (master clock, global
   * clock update, clock update) before entering; `guest` then runs (its WRMSRs exit and
   * re-enter inside KVM); after the exit a vCPU in always-catch-up mode asks for a clock update
   * at its next entry.
   */
  run(vcpu: Vcpu, guest?: () => void): void;
  /** KVM_SET_MSRS (host-initiated) of kvmclock MSRs: the number set, stopping at the first it does not own. */
  setMsrs(vcpu: Vcpu, entries: readonly KvmMsrEntry[]): number;
  /** KVM_GET_MSRS of kvmclock MSRs and MSR_IA32_TSC: the values read, stopping at the first it does not own. */
  getMsrs(vcpu: Vcpu, indices: readonly number[]): KvmMsrEntry[];
  /** KVM_GET_CLOCK. */
  getClock(vm: Vm): KvmClockData;
  /** KVM_SET_CLOCK; EINVAL (state unchanged) for flags the era refuses. */
  setClock(vm: Vm, data: KvmClockData): void;
  /** KVM_KVMCLOCK_CTRL; EINVAL before kvmclock is enabled. */
  kvmclockCtrl(vcpu: Vcpu): void;
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
  checkPluginOptions(PTP_KVM_X86_PLUGIN, opts, {
    tscScaling: 'boolean', hostX86_64: 'boolean', checkTscAlwaysCatchup: 'boolean', kernel: { oneOf: ['5.4', '6.18'] }, periodicSync: 'object',
  });
  const hasTscControl = opts.tscScaling ?? true;
  const checkTscAlwaysCatchup = opts.checkTscAlwaysCatchup ?? true;
  const era: KvmclockEra = opts.kernel ?? '6.18';
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
        const st = vcpuOf(v);
        const ok = kvmGuestTimeUpdate(v, st, vmOf(v.vm), host, hasTscControl);
        if (ok) {
          stats.pvclockUpdates++;
          // trace_kvm_pvclock_update(vcpu_id, &hv_clock) (arch/x86/kvm/trace.h), after the area is written.
          if (ctx.trace.enabled) {
            const gpa = st.systemTimeMsr & ~1n;
            const pv = v.vm.kvmReadGuest(gpa, 32);
            ctx.trace.tracepoint(v.track, 'kvm_pvclock_update', ctx.sim.now, {
              vcpu_id: v.id,
              version: (pv[0]! | (pv[1]! << 8) | (pv[2]! << 16) | (pv[3]! << 24)) >>> 0,
              tsc_timestamp: `0x${st.lastTscTimestamp.toString(16)}`,
              system_time: `0x${st.lastSystemTime.toString(16)}`,
              tsc_to_system_mul: `0x${st.scale.mul.toString(16)}`,
              tsc_shift: st.scale.shift,
              flags: pv[29]!,
            });
          }
        }
        return ok;
      };
      const updateAll = (vm: Vm, except?: Vcpu): void => {
        for (const v of vm.vcpus) if (v !== except) timeUpdate(v);
      };
      // kvm_gen_update_masterclock(): a new snapshot, then KVM_REQ_CLOCK_UPDATE on every vCPU
      // (serviced here at once, as each kicked vCPU would; `except` is updated by its caller).
      const updateMasterclock = (vm: Vm, except?: Vcpu): void => {
        pvclockUpdateVmGtodCopy(host, vmOf(vm), vm.vcpus.length);
        stats.masterclockUpdates++;
        updateAll(vm, except);
      };
      // The clock requests at the top of vcpu_enter_guest() (arch/x86/kvm/x86.c), in its order.
      const serviceRequests = (v: Vcpu): void => {
        const req = vcpuOf(v).requests;
        if (req.delete('masterclock')) updateMasterclock(v.vm, v);
        if (req.delete('global-clock')) {
          // kvm_gen_kvmclock_update(): this vCPU now, every vCPU after KVMCLOCK_UPDATE_DELAY.
          req.add('clock');
          ctx.sim.after(KVMCLOCK_UPDATE_DELAY_NS, () => updateAll(v.vm), 'kvmclock_update_fn');
        }
        if (req.delete('clock')) timeUpdate(v);
      };

      // kvm_vm_ioctl_check_extension() (arch/x86/kvm/x86.c): ADJUST_CLOCK answers the flags
      // KVM_GET_CLOCK can report (5.4: KVM_CLOCK_TSC_STABLE; 5.16+: KVM_CLOCK_VALID_FLAGS).
      ctx.capability(KVM_CAP_ADJUST_CLOCK, { check: () => (era === '5.4' ? KVM_CLOCK_TSC_STABLE : KVM_CLOCK_VALID_FLAGS) });
      ctx.capability(KVM_CAP_TSC_CONTROL, { check: () => (hasTscControl ? 1 : 0) });
      ctx.capability(KVM_CAP_GET_TSC_KHZ, { check: () => 1 });
      ctx.capability(KVM_CAP_KVMCLOCK_CTRL, { check: () => 1 });

      ctx.onVmCreate((vm) => void vmOf(vm));
      ctx.onVcpuCreate((v) => {
        const st = vcpuOf(v);
        // kvm_synchronize_tsc() at creation: the TSC generation kvm_track_tsc_matching() asks
        // KVM_REQ_MASTERCLOCK_UPDATE for when the host clocksource is TSC-based.
        st.thisTscNsec = kvmclockBaseAndCycles(host).ns;
        st.thisTscWrite = v.rdtsc();
        if (host.clocksource.vdsoClockMode === 'tsc') st.requests.add('masterclock');
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
      // kvm_set_msr_common() for a kvmclock MSR, from a guest WRMSR or KVM_SET_MSRS.
      const setMsr = (v: Vcpu, msr: number, data: bigint, hostInitiated: boolean): void => {
        if (isWallClockMsr(msr)) {
          vmOf(v.vm).wallClock = data;
          kvmWriteWallClock(v.vm, host, vmOf(v.vm), data, era);
        } else {
          kvmWriteSystemTime(v, vcpuOf(v), vmOf(v.vm), msr, data, hostInitiated);
        }
      };
      ctx.onExit('wrmsr', (v, e) => {
        if (e.msr === undefined || !ownsKvmclockMsr(e.msr) || e.data === undefined) return false;
        const data = readLe(e.data, 0, 8);
        // (core's wrmsr has already traced kvm_msr, as handle_wrmsr() does: arch/x86/kvm/trace.h)
        setMsr(v, e.msr, data, false);
        // The exit is handled in KVM; the re-entry services the requests it made.
        if (vcpuOf(v).tscAlwaysCatchup) vcpuOf(v).requests.add('clock');
        serviceRequests(v);
        return true;
      });
      ctx.onExit('rdmsr', (v, e) => {
        if (e.msr === undefined || !ownsKvmclockMsr(e.msr) || e.data === undefined) return false;
        writeLe(e.data, 0, 8, kvmclockMsrValue(vcpuOf(v), vmOf(v.vm), e.msr));
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
          if (typeof khz !== 'number' && typeof khz !== 'bigint') throw new KvmError('EINVAL', `TSC rate ${show(khz)} is not a number of kHz`, 'khz');
          if (typeof khz === 'number' && !Number.isSafeInteger(khz)) throw new KvmError('EINVAL', `TSC rate ${khz} kHz is not an integer`, 'khz');
          kvmSetTscKhzIoctl(v, vcpuOf(v), BigInt(khz), hostTscKhz(host), hasTscControl, era);
        },
        getTscKhz: (v) => vcpuOf(v).virtualTscKhz,
        run: (v, guest) => {
          serviceRequests(v);
          guest?.();
          // After the exit: if (vcpu->arch.tsc_always_catchup) kvm_make_request(KVM_REQ_CLOCK_UPDATE).
          if (vcpuOf(v).tscAlwaysCatchup) vcpuOf(v).requests.add('clock');
        },
        setMsrs: (v, entries) => {
          // struct kvm_msrs: an array of struct kvm_msr_entry { __u32 index; __u64 data; }.
          if (!Array.isArray(entries)) throw new KvmError('EFAULT', `KVM_SET_MSRS entries ${show(entries)} are not an array`, 'entries');
          for (const e of entries as readonly KvmMsrEntry[]) {
            assertStruct(e, 'struct kvm_msr_entry', 'entries');
            assertReg32(e.index, 'MSR index', 'entries');
            assertReg64(e.value, 'MSR value', 'entries');
          }
          let n = 0;
          for (const e of entries) {
            if (!ownsKvmclockMsr(e.index)) break;
            setMsr(v, e.index, BigInt.asUintN(64, e.value), true);
            n++;
          }
          return n;
        },
        getMsrs: (v, indices) => {
          if (!Array.isArray(indices)) throw new KvmError('EFAULT', `KVM_GET_MSRS indices ${show(indices)} are not an array`, 'indices');
          for (const i of indices) assertReg32(i, 'MSR index', 'indices');
          const out: KvmMsrEntry[] = [];
          for (const index of indices) {
            if (index === MSR_IA32_TSC) out.push({ index, value: v.rdtsc() });
            else if (ownsKvmclockMsr(index)) out.push({ index, value: kvmclockMsrValue(vcpuOf(v), vmOf(v.vm), index) });
            else break;
          }
          return out;
        },
        getClock: (vm) => getKvmclock(host, vmOf(vm), era),
        setClock: (vm, data) => {
          // struct kvm_clock_data: __u64 clock; __u32 flags; __u64 realtime, host_tsc (6.0+).
          assertStruct(data, 'struct kvm_clock_data', 'data');
          assertReg64(data.clock, 'kvm_clock_data.clock', 'clock');
          assertU32(data.flags, 'kvm_clock_data.flags', 'flags');
          if (data.realtime !== undefined) assertReg64(data.realtime, 'kvm_clock_data.realtime', 'realtime');
          if (data.hostTsc !== undefined) assertReg64(data.hostTsc, 'kvm_clock_data.host_tsc', 'hostTsc');
          return setKvmclock(host, vm, vmOf(vm), vcpuOf, data, era);
        },
        kvmclockCtrl: (v) => kvmSetGuestPaused(vcpuOf(v), era),
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
