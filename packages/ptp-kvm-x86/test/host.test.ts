import { CompositionError, createHypervisor, isKvmError, KVM_CAP_EXIT_HYPERCALL, mulU64U64Shr, readLe, definePlugin } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import {
  decodeClockPairing,
  KVM_HC_CLOCK_PAIRING,
  ptpKvmX86,
  ptpKvmX86Host,
} from '../src/index.js';
import { CLOCK_PAIR_GPA, neg, RAM_SIZE, REAL_NS, x86Rig } from './helpers.js';

const pair = (gpa: bigint, type = 0n) => [gpa, type];

describe('KVM_HC_CLOCK_PAIRING on the host (kvm_pv_clock_pairing)', () => {
  it('case 21: nr=9 with a1 (clock_type) = 1 → RAX = -95 (-KVM_EOPNOTSUPP)', () => {
    const { vcpu } = x86Rig();
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(CLOCK_PAIR_GPA, 1n))).toBe(neg(95));
  });

  it('case 22: nr=9 from CPL 3 → RAX = -1 (-KVM_EPERM), nothing written', () => {
    const { vcpu } = x86Rig();
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(CLOCK_PAIR_GPA), { cpl: 3 })).toBe(neg(1));
    expect(vcpu.vm.memory.read(CLOCK_PAIR_GPA, 64).every((b) => b === 0)).toBe(true);
  });

  it('case 23 (host): host clocksource hpet → RAX = -95', () => {
    const { vcpu } = x86Rig({ host: { clocksource: 'hpet' } });
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(CLOCK_PAIR_GPA))).toBe(neg(95));
  });

  it('a host on kvm-clock itself (vclock mode pvclock, not TSC) → -95 too', () => {
    const { vcpu } = x86Rig({ host: { clocksource: 'kvm-clock' } });
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(CLOCK_PAIR_GPA))).toBe(neg(95));
  });

  it('case 24 (host): a0 = unmapped GPA → RAX = -14 (-KVM_EFAULT)', () => {
    const { vcpu } = x86Rig();
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(RAM_SIZE + 0x1000n))).toBe(neg(14));
  });

  it('case 24: a struct that starts mapped and runs off the end of RAM → -14, and no byte is written', () => {
    const { vcpu } = x86Rig();
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(RAM_SIZE - 32n))).toBe(neg(14));
    expect(vcpu.vm.memory.read(RAM_SIZE - 32n, 32).every((b) => b === 0)).toBe(true);
  });

  it('case 25: success writes the 64-byte struct {sec, nsec, tsc = offset + scaled host TSC, flags 0, pad 0} and RAX = 0', () => {
    const counterStart = 0x1234_5678_9abcn;
    const { hv, vcpu } = x86Rig({ host: { counterStart } });
    ptpKvmX86Host(hv).setTscKhz(vcpu, 1_000_000); // 1 GHz guest on a 2.5 GHz host: ratio 0.4 × 2^48
    vcpu.x86.tscOffset = -0x1000n;
    vcpu.vm.memory.write(CLOCK_PAIR_GPA, new Uint8Array(64).fill(0xee)); // the host must overwrite all 64 bytes
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(CLOCK_PAIR_GPA))).toBe(0n);
    const b = vcpu.vm.memory.read(CLOCK_PAIR_GPA, 64);
    const ratio = (1n << 48n) * 1_000_000n / 2_500_000n;
    expect(vcpu.x86.tscScalingRatio).toBe(ratio);
    expect(readLe(b, 0, 8)).toBe(1_700_000_000n); // sec
    expect(readLe(b, 8, 8)).toBe(123_456_789n); // nsec
    expect(readLe(b, 16, 8)).toBe(BigInt.asUintN(64, -0x1000n + mulU64U64Shr(counterStart, ratio, 48n))); // tsc
    expect(readLe(b, 24, 4)).toBe(0n); // flags
    for (let i = 0; i < 9; i++) expect(readLe(b, 28 + 4 * i, 4)).toBe(0n); // pad[9]
    expect(decodeClockPairing(b)).toEqual({ sec: 1_700_000_000n, nsec: 123_456_789n, tsc: readLe(b, 16, 8), flags: 0 });
  });

  it('case 25: the time is the host CLOCK_REALTIME and TSC of one instant (later calls advance both)', () => {
    const { hv, vcpu } = x86Rig();
    hv.sim.runFor(1_000_000n); // 1 ms
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(CLOCK_PAIR_GPA))).toBe(0n);
    const p = decodeClockPairing(vcpu.vm.memory.read(CLOCK_PAIR_GPA, 64));
    const snap = hv.host.ktimeGetSnapshot(); // same virtual instant
    expect(p.sec * 1_000_000_000n + p.nsec).toBe(snap.real);
    expect(snap.real - REAL_NS).toBeGreaterThan(999_990n); // 1 ms later, up to the host's mult rounding
    expect(p.tsc).toBe(2_500_000n); // 2.5 GHz × 1 ms, ratio 1, offset 0
  });

  it('no alignment check: an odd address across a page boundary is written whole', () => {
    const { vcpu } = x86Rig();
    const gpa = 0x3000n - 13n;
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(gpa))).toBe(0n);
    expect(decodeClockPairing(vcpu.vm.memory.read(gpa, 64)).sec).toBe(1_700_000_000n);
  });

  it('the write may span two memslots', () => {
    const hv = createHypervisor({ arch: 'x86_64', plugins: [ptpKvmX86()], host: { realtimeStartNs: REAL_NS } });
    const vm = hv.createVm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 0x1000n });
    vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x1000n, memorySize: 0x1000n });
    const v = vm.createVcpu(0);
    expect(v.vmcall(KVM_HC_CLOCK_PAIRING, pair(0x1000n - 20n))).toBe(0n);
    expect(decodeClockPairing(vm.memory.read(0x1000n - 20n, 64)).nsec).toBe(123_456_789n);
  });

  it('kvm_write_guest marks the written pages dirty (the write spans two pages)', () => {
    const hv = createHypervisor({ arch: 'x86_64', plugins: [ptpKvmX86()] });
    const vm = hv.createVm();
    vm.setUserMemoryRegion({ slot: 0, flags: 1, guestPhysAddr: 0n, memorySize: 0x10000n });
    const v = vm.createVcpu(0);
    vm.getDirtyLog(0);
    expect(v.vmcall(KVM_HC_CLOCK_PAIRING, pair(0x3000n - 8n))).toBe(0n);
    expect(Array.from(vm.getDirtyLog(0).subarray(0, 1))).toEqual([0b0000_1100]);
  });

  it('case 26: a vCPU in TSC catch-up mode (rate above the host, no scaling hardware) → -95', () => {
    const { hv, vcpu } = x86Rig({ plugin: { tscScaling: false } });
    ptpKvmX86Host(hv).setTscKhz(vcpu, 3_000_000);
    expect(ptpKvmX86Host(hv).kvmclock(vcpu).tscAlwaysCatchup).toBe(true);
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(CLOCK_PAIR_GPA))).toBe(neg(95));
  });

  it('case 26, older host (no catch-up check): the call succeeds', () => {
    const { hv, vcpu } = x86Rig({ plugin: { tscScaling: false, checkTscAlwaysCatchup: false } });
    ptpKvmX86Host(hv).setTscKhz(vcpu, 3_000_000);
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(CLOCK_PAIR_GPA))).toBe(0n);
  });

  it('case 27: 32-bit guest: a0 masked to 32 bits, RAX = (u32)ret (0xFFFFFFA1 for -95)', () => {
    const { vcpu } = x86Rig();
    vcpu.x86.longMode = false;
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(0xdead_0000_0000_0000n | CLOCK_PAIR_GPA))).toBe(0n);
    expect(decodeClockPairing(vcpu.vm.memory.read(CLOCK_PAIR_GPA, 64)).sec).toBe(1_700_000_000n);
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(CLOCK_PAIR_GPA, 1n))).toBe(0xffff_ffa1n);
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(CLOCK_PAIR_GPA, 0x1_0000_0000n))).toBe(0n); // a1 masked to 0
  });

  it('case 28: a host without CONFIG_X86_64 has no handler → RAX = -1000 (-KVM_ENOSYS)', () => {
    const { vcpu } = x86Rig({ plugin: { hostX86_64: false } });
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(CLOCK_PAIR_GPA))).toBe(neg(1000));
  });

  it('without the plugin, nr 9 is unknown → -KVM_ENOSYS', () => {
    const { vcpu } = x86Rig({ noPlugin: true });
    expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(CLOCK_PAIR_GPA))).toBe(neg(1000));
  });

  describe('error order (spec §4): the first failing check decides', () => {
    it('clock_type ≠ 0 wins over catch-up, a non-TSC clocksource and an unmapped GPA', () => {
      const { hv, vcpu } = x86Rig({ plugin: { tscScaling: false }, host: { clocksource: 'hpet' } });
      ptpKvmX86Host(hv).setTscKhz(vcpu, 3_000_000);
      expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(RAM_SIZE * 4n, 7n))).toBe(neg(95));
    });
    it('catch-up wins over an unmapped GPA (-95, not -14)', () => {
      const { hv, vcpu } = x86Rig({ plugin: { tscScaling: false } });
      ptpKvmX86Host(hv).setTscKhz(vcpu, 3_000_000);
      expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(RAM_SIZE * 4n))).toBe(neg(95));
    });
    it('a non-TSC clocksource wins over an unmapped GPA (-95, not -14)', () => {
      const { vcpu } = x86Rig({ host: { clocksource: 'hpet' } });
      expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(RAM_SIZE * 4n))).toBe(neg(95));
    });
    it('CPL 3 wins over everything (-1), the handler is not even reached', () => {
      const { hv, vcpu } = x86Rig();
      expect(vcpu.vmcall(KVM_HC_CLOCK_PAIRING, pair(RAM_SIZE * 4n, 1n), { cpl: 3 })).toBe(neg(1));
      expect(ptpKvmX86Host(hv).stats.clockPairingCalls).toBe(0);
    });
  });
});

describe('capability and composition', () => {
  it('case 36 (x86): KVM_CHECK_EXTENSION(KVM_CAP_PTP_KVM = 198) → 0, with the plugin installed', () => {
    const { hv, vcpu } = x86Rig();
    expect(hv.checkExtension(198)).toBe(0);
    expect(vcpu.vm.checkExtension(198)).toBe(0);
  });
  it('an arm64 hypervisor refuses ptpKvmX86() with a WRONG_ARCH CompositionError naming the plugin', () => {
    let err: unknown;
    try {
      createHypervisor({ arch: 'arm64', plugins: [ptpKvmX86()] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CompositionError);
    expect(err).toMatchObject({ code: 'WRONG_ARCH', plugin: 'ptp-kvm-x86' });
    expect(String((err as Error).message)).toMatch(/x86_64/);
  });
  it('ptpKvmX86Host() on a hypervisor without the plugin is a clear error', () => {
    expect(() => ptpKvmX86Host(createHypervisor({ arch: 'x86_64' }))).toThrow(/not installed/);
  });
  it('composes with another x86 plugin that owns other hypercalls and caps', () => {
    const other = definePlugin({ name: 'other', arch: 'x86_64', setup: (ctx) => ctx.capability(KVM_CAP_EXIT_HYPERCALL, { check: () => 1 }) });
    const hv = createHypervisor({ arch: 'x86_64', plugins: [ptpKvmX86(), other] });
    expect(hv.plugins).toEqual(['ptp-kvm-x86', 'other']);
  });
});

describe('KVM_SET_TSC_KHZ (kvm_set_tsc_khz)', () => {
  it('a rate within ±250 ppm of the host needs no scaling; 0 means the host rate', () => {
    const { hv, vcpu } = x86Rig();
    const h = ptpKvmX86Host(hv);
    h.setTscKhz(vcpu, 2_500_600); // +240 ppm
    expect(vcpu.x86.tscScalingRatio).toBe(1n << 48n);
    h.setTscKhz(vcpu, 0);
    expect(h.getTscKhz(vcpu)).toBe(2_500_000n);
  });
  it('a slower rate without scaling hardware fails EINVAL; KVM_GET_TSC_KHZ then returns the refused rate (virtual_tsc_khz is set first)', () => {
    const { hv, vcpu } = x86Rig({ plugin: { tscScaling: false } });
    const h = ptpKvmX86Host(hv);
    let err: unknown;
    try {
      h.setTscKhz(vcpu, 1_000_000);
    } catch (e) {
      err = e;
    }
    expect(isKvmError(err, 'EINVAL')).toBe(true);
    expect(h.getTscKhz(vcpu)).toBe(1_000_000n);
    expect(h.kvmclock(vcpu).tscAlwaysCatchup).toBe(false);
    expect(vcpu.x86.tscScalingRatio).toBe(1n << 48n);
  });
  it('an out-of-range rate fails EINVAL', () => {
    const { hv, vcpu } = x86Rig();
    expect(() => ptpKvmX86Host(hv).setTscKhz(vcpu, 0x7fff_ffff)).toThrow(/EINVAL/);
    expect(() => ptpKvmX86Host(hv).setTscKhz(vcpu, -1)).toThrow(/EINVAL/);
    expect(() => ptpKvmX86Host(hv).setTscKhz(vcpu, 1.5)).toThrow(/EINVAL/);
    expect(() => ptpKvmX86Host(hv).setTscKhz(vcpu, Number.NaN)).toThrow(/EINVAL/);
    expect(vcpu.x86.tscScalingRatio).toBe(1n << 48n);
  });
  it('the guest TSC runs at the requested rate (RDTSC through kvm_read_l1_tsc)', () => {
    const { hv, vcpu } = x86Rig();
    ptpKvmX86Host(hv).setTscKhz(vcpu, 1_000_000);
    hv.sim.runFor(1_000_000_000n);
    const t = vcpu.rdtsc();
    expect(t >= 999_999_990n && t <= 1_000_000_000n).toBe(true);
  });
});
