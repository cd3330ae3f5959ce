/**
 * Host side of kvmclock: the per-vCPU pvclock_vcpu_time_info KVM keeps in guest memory at the
 * address the guest wrote to MSR_KVM_SYSTEM_TIME(_NEW), the VM-wide master clock, and the
 * update protocol (version odd while KVM writes, even when done).
 */
import { u64, type HostClock, type Vcpu, type Vm } from '@kvmlab/hypervisor-core';
import { encodePvclock, encodePvclockInto, type PvclockVcpuTimeInfo } from '../abi/pvclock-abi.js';
import {
  KVM_MSR_ENABLED,
  NSEC_PER_SEC,
  PVCLOCK_GUEST_STOPPED,
  PVCLOCK_OFFSETS,
  PVCLOCK_TSC_STABLE_BIT,
  PVCLOCK_VCPU_TIME_INFO_SIZE,
} from '../constants.js';
import { kvmGetTimeScale, type TimeScale } from './time-scale.js';
import type { VcpuTscState } from './tsc.js';

/** kvm->arch state kvmclock uses. */
export interface KvmclockVmState {
  /** kvm->arch.kvmclock_offset: makes the guest's kvmclock start near 0. */
  kvmclockOffset: bigint;
  useMasterClock: boolean;
  masterKernelNs: bigint;
  masterCycleNow: bigint;
  /** vCPU 0 registered with the deprecated MSR (disables the master clock). */
  bootVcpuRunsOldKvmclock: boolean;
  /** kvm->arch.wall_clock: the last MSR_KVM_WALL_CLOCK(_NEW) value (a GPA). */
  wallClock: bigint;
}

/** The vcpu->requests bits kvmclock uses, serviced in this order by vcpu_enter_guest(). */
export type KvmclockRequest = 'masterclock' | 'global-clock' | 'clock';

/** vcpu->arch state kvmclock uses. */
export interface KvmclockVcpuState extends VcpuTscState {
  /** vcpu->arch.time: the last MSR_KVM_SYSTEM_TIME(_NEW) value. */
  systemTimeMsr: bigint;
  pvTimeEnabled: boolean;
  /** vcpu->hw_tsc_khz and the scale computed for it (cached as KVM does). */
  hwTscKhz: bigint;
  scale: TimeScale;
  /** The last values written (vcpu->hv_clock), for the VMM and tests. */
  lastTscTimestamp: bigint;
  lastSystemTime: bigint;
  /** How often KVM rewrote this vCPU's pvclock area. */
  updates: number;
  /** 6.18's vcpu->arch.pv_time.active: the enable bit was set (backed or not). */
  pvTimeActive: boolean;
  /** vcpu->arch.pvclock_set_guest_stopped_request (KVM_KVMCLOCK_CTRL). */
  pvclockSetGuestStoppedRequest: boolean;
  /** vcpu->requests: pending until the next entry (KVM_RUN, or the re-entry after an exit). */
  readonly requests: Set<KvmclockRequest>;
  /** kvm_synchronize_tsc() at creation: this_tsc_nsec (kvmclock base ns) and this_tsc_write (guest TSC). */
  thisTscNsec: bigint;
  thisTscWrite: bigint;
}

export function newVcpuState(hostKhz: bigint): KvmclockVcpuState {
  return {
    virtualTscKhz: hostKhz,
    tscAlwaysCatchup: false,
    systemTimeMsr: 0n,
    pvTimeEnabled: false,
    hwTscKhz: 0n,
    scale: { shift: 0, mul: 0n },
    lastTscTimestamp: 0n,
    lastSystemTime: 0n,
    updates: 0,
    pvTimeActive: false,
    pvclockSetGuestStoppedRequest: false,
    requests: new Set(),
    tscCatchup: false,
    thisTscNsec: 0n,
    thisTscWrite: 0n,
  };
}

/** Host kHz as the kernel calibrated it (tsc_khz). */
export const hostTscKhz = (host: HostClock): bigint => host.counterHz / 1000n;

/** Host CLOCK_MONOTONIC_RAW-based boot time, with the counter it came from (one instant). */
export function kvmclockBaseAndCycles(host: HostClock): { ns: bigint; cycles: bigint } {
  const s = host.ktimeGetSnapshot();
  return { ns: s.raw, cycles: s.cycles };
}

/**
 * models pvclock_update_vm_gtod_copy() (arch/x86/kvm/x86.c, 5.4 and 6.18 alike): snapshot the
 * master clock and decide whether to use it: host clocksource TSC-based, vCPUs matched
 * (`nr_vcpus_matched_tsc + 1 == online_vcpus`, false while the VM has no vCPU; vCPUs created
 * together are taken as matched) and the boot vCPU not on the deprecated MSR. Backwards-TSC
 * detection is not modelled.
 */
export function pvclockUpdateVmGtodCopy(host: HostClock, ka: KvmclockVmState, onlineVcpus: number): void {
  const hostTscClocksource = host.clocksource.vdsoClockMode === 'tsc';
  const b = kvmclockBaseAndCycles(host);
  ka.masterKernelNs = b.ns;
  ka.masterCycleNow = b.cycles;
  ka.useMasterClock = hostTscClocksource && onlineVcpus > 0 && !ka.bootVcpuRunsOldKvmclock;
}

/**
 * kvm_arch_init_vm() (arch/x86/kvm/x86.c): kvmclock_offset = -get_kvmclock_base_ns(), then
 * pvclock_update_vm_gtod_copy() with no vCPU online, so the master clock is off until the
 * first vCPU's KVM_REQ_MASTERCLOCK_UPDATE is serviced at its first entry (KVM_RUN).
 */
export function newVmState(host: HostClock): KvmclockVmState {
  const ka: KvmclockVmState = { kvmclockOffset: 0n, useMasterClock: false, masterKernelNs: 0n, masterCycleNow: 0n, bootVcpuRunsOldKvmclock: false, wallClock: 0n };
  ka.kvmclockOffset = -kvmclockBaseAndCycles(host).ns;
  pvclockUpdateVmGtodCopy(host, ka, 0);
  return ka;
}

/**
 * models kvm_setup_pvclock_page() (arch/x86/kvm/x86.c, 5.4; kvm_setup_guest_pvclock() in 6.18
 * writes `(version + 1) | 1` then +1, the same values): read the guest's version (made even
 * first if it is odd: junk before the first write), write it +1 (odd), write the whole area
 * (keeping a PVCLOCK_GUEST_STOPPED the guest has not yet seen), then version +1 again (even).
 */
function kvmSetupPvclockPage(vm: Vm, gpa: bigint, info: Omit<PvclockVcpuTimeInfo, 'version'>): boolean {
  // Fast path (same memory, same dirty page): an area inside one page is one slot, so its 32
  // bytes read and write whole or not at all; and a host update is one event of the model, so
  // the odd version between the kernel's three writes is never seen by a guest. The bytes are
  // read and rewritten in place in the slot's page, as kvm_write_guest_cached() does through
  // the cached host mapping: guest memory and the dirty bit end exactly as after
  // kvm_read_guest() + kvm_write_guest() of the final bytes (no slot: the read fails).
  if ((gpa & 0xfffn) + BigInt(PVCLOCK_VCPU_TIME_INFO_SIZE) <= 0x1000n && gpa >= 0n) {
    const gfn = gpa >> 12n;
    const slot = vm.memslots.findByGfn(gfn);
    if (slot === undefined) return false; // kvm_read_guest_cached failed: no update
    const page = slot.backing.page(Number(gfn) - slot.baseGfnNumber);
    const o = Number(gpa & 0xfffn);
    const version = (page[o]! | (page[o + 1]! << 8) | (page[o + 2]! << 16) | (page[o + 3]! << 24)) >>> 0;
    const start = (version & 1) === 1 ? version + 1 : version;
    const even = (start + 2) >>> 0;
    const guestFlags = page[o + PVCLOCK_OFFSETS.flags]!;
    encodePvclockInto(new DataView(page.buffer, page.byteOffset + o, PVCLOCK_VCPU_TIME_INFO_SIZE), {
      version: even,
      tscTimestamp: info.tscTimestamp,
      systemTime: info.systemTime,
      tscToSystemMul: info.tscToSystemMul,
      tscShift: info.tscShift,
      flags: info.flags | (guestFlags & PVCLOCK_GUEST_STOPPED),
    });
    vm.markPageDirty(gfn);
    return true;
  }
  let head: Uint8Array;
  let guestFlags: number;
  try {
    head = vm.kvmReadGuest(gpa + BigInt(PVCLOCK_OFFSETS.version), 4);
    guestFlags = vm.kvmReadGuest(gpa + BigInt(PVCLOCK_OFFSETS.flags), 1)[0]!;
  } catch {
    return false; // kvm_read_guest_cached failed: no update
  }
  const version = (head[0]! | (head[1]! << 8) | (head[2]! << 16) | (head[3]! << 24)) >>> 0;
  // An odd version here is junk from before the first registration: step past it first.
  const start = (version & 1) === 1 ? version + 1 : version;
  const odd = (start + 1) >>> 0;
  const even = (odd + 1) >>> 0;
  const versionBytes = (v: number): Uint8Array => new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
  vm.kvmWriteGuest(gpa, versionBytes(odd));
  vm.kvmWriteGuest(gpa, encodePvclock({ ...info, flags: info.flags | (guestFlags & PVCLOCK_GUEST_STOPPED), version: odd }));
  vm.kvmWriteGuest(gpa, versionBytes(even));
  return true;
}

/**
 * models kvm_guest_time_update() (arch/x86/kvm/x86.c), the handler of KVM_REQ_CLOCK_UPDATE:
 * the TSC and kernel time pair (the master clock's, or read now), the guest TSC through
 * kvm_read_l1_tsc(), TSC catch-up (the guest TSC pushed up to compute_guest_tsc() at the
 * virtual rate), the scale for the host rate (the guest rate with TSC scaling), a pending
 * KVM_KVMCLOCK_CTRL's PVCLOCK_GUEST_STOPPED, then the pvclock page.
 */
export function kvmGuestTimeUpdate(vcpu: Vcpu, st: KvmclockVcpuState, ka: KvmclockVmState, host: HostClock, hasTscControl: boolean): boolean {
  let hostTsc: bigint;
  let kernelNs: bigint;
  if (ka.useMasterClock) {
    hostTsc = ka.masterCycleNow;
    kernelNs = ka.masterKernelNs;
  } else {
    const b = kvmclockBaseAndCycles(host);
    hostTsc = b.cycles;
    kernelNs = b.ns;
  }
  let tscTimestamp = vcpu.l1Tsc(hostTsc);
  if (st.tscCatchup) {
    // compute_guest_tsc(): this_tsc_write + (kernel_ns - this_tsc_nsec) at virtual_tsc_khz.
    const tsc = u64(st.thisTscWrite + ((kernelNs - st.thisTscNsec) * st.virtualTscKhz) / 1_000_000n);
    if (tsc > tscTimestamp) {
      vcpu.x86.tscOffset = u64(vcpu.x86.tscOffset + tsc - tscTimestamp); // adjust_tsc_offset_guest()
      tscTimestamp = tsc;
    }
  }
  let tgtTscKhz = hostTscKhz(host);
  if (hasTscControl) {
    // kvm_scale_tsc(tgt_tsc_khz, ratio): the guest TSC rate the ratio gives, at least 1.
    tgtTscKhz = (tgtTscKhz * vcpu.x86.tscScalingRatio) >> 48n;
    if (tgtTscKhz === 0n) tgtTscKhz = 1n;
  }
  if (st.hwTscKhz !== tgtTscKhz) {
    st.scale = kvmGetTimeScale(NSEC_PER_SEC, tgtTscKhz * 1000n);
    st.hwTscKhz = tgtTscKhz;
  }
  const systemTime = u64(kernelNs + ka.kvmclockOffset);
  st.lastTscTimestamp = tscTimestamp;
  st.lastSystemTime = systemTime;
  let flags = ka.useMasterClock ? PVCLOCK_TSC_STABLE_BIT : 0;
  if (st.pvclockSetGuestStoppedRequest) {
    flags |= PVCLOCK_GUEST_STOPPED;
    st.pvclockSetGuestStoppedRequest = false;
  }
  if (!st.pvTimeEnabled) return false;
  const ok = kvmSetupPvclockPage(vcpu.vm, st.systemTimeMsr & ~BigInt(KVM_MSR_ENABLED), {
    tscTimestamp,
    systemTime,
    tscToSystemMul: st.scale.mul,
    tscShift: st.scale.shift,
    flags,
  });
  if (ok) st.updates++;
  return ok;
}
