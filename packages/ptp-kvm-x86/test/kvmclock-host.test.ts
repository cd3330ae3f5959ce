import { describe, expect, it } from 'vitest';
import { decodePvclock, MSR_KVM_SYSTEM_TIME_NEW, PVCLOCK_TSC_STABLE_BIT, ptpKvmX86Host } from '../src/index.js';
import { PVTI_GPA, RAM_SIZE, x86Rig } from './helpers.js';

describe('kvmclock on the host (MSR_KVM_SYSTEM_TIME_NEW, kvm_guest_time_update)', () => {
  const readPv = (v: { vm: { memory: { read(g: bigint, n: number): Uint8Array } } }) => decodePvclock(v.vm.memory.read(PVTI_GPA, 32));

  it('KVM_FEATURE_CLOCKSOURCE, _CLOCKSOURCE2 and _CLOCKSOURCE_STABLE_BIT are advertised only with the plugin', () => {
    expect(x86Rig().vcpu.cpuid(0x40000001)[0]).toBe((1n << 0n) | (1n << 3n) | (1n << 24n));
    expect(x86Rig({ noPlugin: true }).vcpu.cpuid(0x40000001)[0]).toBe(0n);
  });

  it('registering writes the area: even version, TSC timestamp, system time near 0, scale, TSC_STABLE', () => {
    const { hv, vcpu } = x86Rig();
    hv.sim.runFor(5_000n);
    expect(vcpu.wrmsr(MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA | 1n)).toBe(true);
    expect(vcpu.rdmsr(MSR_KVM_SYSTEM_TIME_NEW)).toBe(PVTI_GPA | 1n);
    const p = readPv(vcpu);
    expect(p.version).toBe(2);
    expect(p.flags).toBe(PVCLOCK_TSC_STABLE_BIT);
    expect(p.tscShift).toBe(-1);
    expect(p.tscToSystemMul).toBe(3435973836n);
    // the master clock is taken at the first entry (here the WRMSR's, t = 5 µs), not at VM
    // creation: TSC 5 µs × 2.5 GHz, kvmclock 5 µs after the VM was created
    expect(p.tscTimestamp).toBe(12_500n);
    expect(p.systemTime).toBe(4_999n); // CLOCK_MONOTONIC_RAW's mult/shift rounds 5 µs down by 1 ns
  });

  it('each update goes odd then even: the version grows by 2 per update', () => {
    const { hv, vcpu } = x86Rig();
    vcpu.wrmsr(MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA | 1n);
    const h = ptpKvmX86Host(hv);
    h.requestClockUpdate(vcpu);
    h.requestClockUpdate(vcpu);
    expect(readPv(vcpu).version).toBe(6);
    expect(h.kvmclock(vcpu).updates).toBe(3);
  });

  it('the other vCPUs follow 100 ms later (kvmclock_update_fn)', () => {
    const { hv, vcpu } = x86Rig();
    vcpu.wrmsr(MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA | 1n);
    hv.sim.runFor(99_999_999n);
    expect(readPv(vcpu).version).toBe(2);
    hv.sim.runFor(1n);
    expect(readPv(vcpu).version).toBe(4);
  });

  it('a master clock update re-anchors tsc_timestamp and system_time to a new host snapshot', () => {
    const { hv, vcpu } = x86Rig();
    vcpu.wrmsr(MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA | 1n);
    hv.sim.runFor(1_000_000_000n);
    ptpKvmX86Host(hv).updateMasterclock(vcpu.vm);
    const p = readPv(vcpu);
    expect(p.tscTimestamp).toBe(2_500_000_000n);
    expect(p.systemTime).toBe(hv.host.monotonicRaw()); // kvmclock base = host raw clock, offset from VM creation (t = 0)
  });

  it('without a TSC host clocksource there is no master clock: no TSC_STABLE flag', () => {
    const { vcpu } = x86Rig({ host: { clocksource: 'hpet' } });
    vcpu.wrmsr(MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA | 1n);
    expect(readPv(vcpu).flags & PVCLOCK_TSC_STABLE_BIT).toBe(0);
  });

  it('the deprecated MSR on vCPU 0 rules the master clock out', () => {
    const { vcpu, hv } = x86Rig();
    vcpu.wrmsr(0x12, PVTI_GPA | 1n);
    expect(ptpKvmX86Host(hv).vmClock(vcpu.vm).useMasterClock).toBe(false);
    expect(readPv(vcpu).flags).toBe(0);
  });

  it('an unbacked area or a cleared enable bit leaves kvmclock disabled; nothing is written', () => {
    const { hv, vcpu } = x86Rig();
    expect(vcpu.wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (RAM_SIZE + 0x1000n) | 1n)).toBe(true);
    expect(ptpKvmX86Host(hv).kvmclock(vcpu).pvTimeEnabled).toBe(false);
    expect(vcpu.wrmsr(MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA)).toBe(true);
    expect(ptpKvmX86Host(hv).kvmclock(vcpu).pvTimeEnabled).toBe(false);
    expect(readPv(vcpu).version).toBe(0);
  });

  it('periodic sync (kvmclock_sync_fn) rewrites every vCPU each period when enabled', () => {
    const { hv, vcpu } = x86Rig({ plugin: { periodicSync: { periodNs: 1_000_000n } } });
    vcpu.wrmsr(MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA | 1n);
    hv.sim.runFor(10_000_000n);
    expect(readPv(vcpu).version).toBe(2 + 2 * 10);
  });

  it('an odd junk version left in the area before registration is stepped past (ends even: 127 → 128 → 129 → 130)', () => {
    const { vcpu } = x86Rig();
    vcpu.vm.memory.write(PVTI_GPA, new Uint8Array([127, 0, 0, 0]));
    vcpu.wrmsr(MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA | 1n);
    expect(readPv(vcpu).version).toBe(130);
  });

  it('a PVCLOCK_GUEST_STOPPED the guest has not cleared survives an update', () => {
    const { hv, vcpu } = x86Rig();
    vcpu.wrmsr(MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA | 1n);
    vcpu.vm.memory.write(PVTI_GPA + 29n, new Uint8Array([PVCLOCK_TSC_STABLE_BIT | 2]));
    ptpKvmX86Host(hv).requestClockUpdate(vcpu);
    expect(readPv(vcpu).flags).toBe(3);
  });
});

describe('virtual time stays finite without periodic sync', () => {
  it('hv.sim.run() ends: only the one-shot kvmclock_update_fn 100 ms after registration is queued', () => {
    const { hv, vcpu } = x86Rig();
    vcpu.wrmsr(MSR_KVM_SYSTEM_TIME_NEW, PVTI_GPA | 1n);
    expect(hv.sim.run(1000)).toBe(1);
    expect(hv.sim.now).toBe(100_000_000n);
    expect(hv.sim.pending).toBe(0);
  });
});
