/**
 * kvmclock as the VMM sees it (arch/x86/kvm/x86.c): KVM_GET_CLOCK / KVM_SET_CLOCK on the VM,
 * KVM_KVMCLOCK_CTRL on a vCPU, and the struct pvclock_wall_clock KVM writes when the guest
 * (or the VMM) sets MSR_KVM_WALL_CLOCK(_NEW). Each function names the release it follows.
 */
import { KvmError, u64, writeLe, type HostClock, type Vm } from '@kvmlab/hypervisor-core';
import { NSEC_PER_SEC } from '../constants.js';
import {
  KVM_CLOCK_HOST_TSC,
  KVM_CLOCK_REALTIME,
  KVM_CLOCK_TSC_STABLE,
  KVM_CLOCK_VALID_FLAGS,
  PVCLOCK_WALL_CLOCK_OFFSETS as WC,
  PVCLOCK_WALL_CLOCK_SIZE,
  type KvmClockData,
  type KvmclockEra,
} from './kvmclock-abi.js';
import { hostTscKhz, kvmclockBaseAndCycles, pvclockUpdateVmGtodCopy, type KvmclockVcpuState, type KvmclockVmState } from './kvmclock.js';
import { kvmGetTimeScale } from './time-scale.js';

/** __pvclock_read_cycles() of the master clock at `hostTsc`, at the host TSC rate. */
function masterClockAt(host: HostClock, ka: KvmclockVmState, hostTsc: bigint): bigint {
  const s = kvmGetTimeScale(NSEC_PER_SEC, hostTscKhz(host) * 1000n);
  let delta = u64(hostTsc - ka.masterCycleNow);
  delta = s.shift < 0 ? delta >> BigInt(-s.shift) : u64(delta << BigInt(s.shift));
  return u64(ka.masterKernelNs + ka.kvmclockOffset + ((delta * s.mul) >> 32n));
}

/**
 * models __get_kvmclock() (6.18) / get_kvmclock_ns() (5.4): with the master clock, the
 * master snapshot advanced to the host TSC now; without it, the kvmclock base now.
 */
export function getKvmclock(host: HostClock, ka: KvmclockVmState, era: KvmclockEra): KvmClockData {
  if (!ka.useMasterClock) {
    return { clock: u64(kvmclockBaseAndCycles(host).ns + ka.kvmclockOffset), flags: 0, realtime: 0n, hostTsc: 0n };
  }
  const s = host.ktimeGetSnapshot();
  const clock = masterClockAt(host, ka, s.cycles);
  if (era === '5.4') return { clock, flags: KVM_CLOCK_TSC_STABLE, realtime: 0n, hostTsc: 0n };
  // kvm_get_walltime_and_clockread() succeeds: the master clock implies a TSC-based host.
  return { clock, flags: KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC, realtime: s.real, hostTsc: s.cycles };
}

/**
 * models KVM_SET_CLOCK: kvm_vm_ioctl_set_clock() (6.18) — flags outside
 * KVM_CLOCK_VALID_FLAGS → EINVAL (GET's flags may be passed back), a new master clock
 * snapshot, `clock` advanced by the realtime elapsed since `realtime` with KVM_CLOCK_REALTIME
 * (never backwards), kvmclock_offset = clock − the base the master clock (or now) gives; or the
 * KVM_SET_CLOCK case of kvm_arch_vm_ioctl() (5.4) — any flag → EINVAL, offset += clock − now.
 * Either way every vCPU gets KVM_REQ_CLOCK_UPDATE. Nothing changes on EINVAL.
 */
export function setKvmclock(host: HostClock, vm: Vm, ka: KvmclockVmState, vcpus: (v: Vm['vcpus'][number]) => KvmclockVcpuState, data: KvmClockData, era: KvmclockEra): void {
  const bad = era === '5.4' ? data.flags !== 0 : (data.flags & ~KVM_CLOCK_VALID_FLAGS) !== 0;
  if (bad) throw new KvmError('EINVAL', `KVM_SET_CLOCK flags 0x${data.flags.toString(16)} are not accepted (${era})`, 'flags');
  pvclockUpdateVmGtodCopy(host, ka, vm.vcpus.length);
  if (era === '5.4') {
    ka.kvmclockOffset += data.clock - getKvmclock(host, ka, era).clock;
  } else {
    let clock = data.clock;
    if ((data.flags & KVM_CLOCK_REALTIME) !== 0) {
      const nowReal = host.realtime();
      if (nowReal > data.realtime) clock += nowReal - data.realtime;
    }
    const nowRawNs = ka.useMasterClock ? ka.masterKernelNs : kvmclockBaseAndCycles(host).ns;
    ka.kvmclockOffset = clock - nowRawNs;
  }
  for (const v of vm.vcpus) vcpus(v).requests.add('clock');
}

/**
 * models kvm_set_guest_paused() (KVM_KVMCLOCK_CTRL): EINVAL unless kvmclock is on (5.4:
 * pv_time_enabled, the area backed; 6.18: pv_time.active, the enable bit set); otherwise
 * PVCLOCK_GUEST_STOPPED goes into the area at the next update, which KVM_REQ_CLOCK_UPDATE
 * makes happen at the next entry.
 */
export function kvmSetGuestPaused(st: KvmclockVcpuState, era: KvmclockEra): void {
  const on = era === '5.4' ? st.pvTimeEnabled : st.pvTimeActive;
  if (!on) throw new KvmError('EINVAL', 'KVM_KVMCLOCK_CTRL before the guest enabled kvmclock', 'vcpu');
  st.pvclockSetGuestStoppedRequest = true;
  st.requests.add('clock');
}

/**
 * The guest's wall-clock epoch: CLOCK_REALTIME minus kvmclock, now. 6.18's
 * kvm_get_wall_clock_epoch() computes it from one (realtime, TSC) reading and the master
 * clock; 5.4's getboottime64() − kvmclock_offset is the same instant's difference.
 */
export function wallClockEpochNs(host: HostClock, ka: KvmclockVmState, era: KvmclockEra): bigint {
  if (ka.useMasterClock && era !== '5.4') {
    const s = host.ktimeGetSnapshot();
    return s.real - masterClockAt(host, ka, s.cycles);
  }
  const s = host.ktimeGetSnapshot();
  return s.real - (s.raw + ka.kvmclockOffset);
}

/**
 * models kvm_write_wall_clock() (arch/x86/kvm/x86.c, 5.4; 6.18 the same with sec_hi_ofs 0):
 * a GPA of 0 or an unreadable one writes nothing; else version (odd junk stepped past) + 1,
 * then {version, sec (u32), nsec} of the epoch, then version + 1: even, 2 on a zeroed area.
 */
export function kvmWriteWallClock(vm: Vm, host: HostClock, ka: KvmclockVmState, gpa: bigint, era: KvmclockEra): void {
  if (gpa === 0n) return;
  let head: Uint8Array;
  try {
    head = vm.kvmReadGuest(gpa, 4);
  } catch {
    return;
  }
  let version = (head[0]! | (head[1]! << 8) | (head[2]! << 16) | (head[3]! << 24)) >>> 0;
  if ((version & 1) === 1) version++;
  version = (version + 1) >>> 0;
  const v = new Uint8Array(4);
  writeLe(v, 0, 4, BigInt(version));
  try {
    vm.kvmWriteGuest(gpa, v);
  } catch {
    return;
  }
  const epoch = wallClockEpochNs(host, ka, era);
  let sec = epoch / NSEC_PER_SEC;
  let nsec = epoch % NSEC_PER_SEC;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NSEC_PER_SEC;
  }
  const wc = new Uint8Array(PVCLOCK_WALL_CLOCK_SIZE);
  writeLe(wc, WC.version, 4, BigInt(version));
  writeLe(wc, WC.sec, 4, BigInt.asUintN(32, sec)); // overflow in 2106 guest time
  writeLe(wc, WC.nsec, 4, nsec);
  try {
    vm.kvmWriteGuest(gpa, wc);
    writeLe(v, 0, 4, BigInt((version + 1) >>> 0));
    vm.kvmWriteGuest(gpa, v);
  } catch {
    // kvm_write_guest() failures past the first are ignored, as in the kernel
  }
}
