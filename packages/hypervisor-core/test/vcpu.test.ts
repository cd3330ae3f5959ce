import { describe, expect, it } from 'vitest';
import { KVM_EINVAL, KVM_ENOSYS, KVM_EPERM } from '../src/constants.js';
import { KvmError } from '../src/errors.js';
import { createHypervisor } from '../src/hypervisor.js';
import { definePlugin } from '../src/plugin/define-plugin.js';
import type { HypercallArgs } from '../src/plugin/types.js';

const ALL_ONES = (1n << 64n) - 1n;
const neg = (v: number) => (1n << 64n) - BigInt(v);

describe('x86 VMCALL (____kvm_emulate_hypercall)', () => {
  let seen: HypercallArgs | undefined;
  const echo = definePlugin({
    name: 'echo',
    arch: 'x86_64',
    setup: (ctx) => ctx.hypercall(10, (_v, a) => ((seen = a), a.a0 + a.a1)),
  });
  const vcpu = () => createHypervisor({ arch: 'x86_64', plugins: [echo] }).createVm().createVcpu(0);

  it('nr in RAX, args in RBX, RCX, RDX, RSI; the result in RAX; RIP skips the 3-byte VMCALL', () => {
    const v = vcpu();
    expect(v.vmcall(10n, [40n, 2n, 7n, 9n])).toBe(42n);
    expect(seen).toMatchObject({ nr: 10n, a0: 40n, a1: 2n, a2: 7n, a3: 9n, longMode: true });
    expect(v.x86.regs.rax).toBe(42n);
    expect(v.x86.rip).toBe(3n);
    expect(v.stats.hypercalls).toBe(1);
  });

  it('an unknown nr returns -KVM_ENOSYS as a 64-bit value', () => {
    expect(vcpu().vmcall(4242n)).toBe(neg(KVM_ENOSYS));
  });

  it('CPL ≠ 0 returns -KVM_EPERM without calling the handler', () => {
    seen = undefined;
    expect(vcpu().vmcall(10n, [1n], { cpl: 3 })).toBe(neg(KVM_EPERM));
    expect(seen).toBeUndefined();
  });

  it('outside 64-bit mode, nr, args and the result are 32-bit', () => {
    const v = vcpu();
    expect(v.vmcall(0x1_0000_000an, [0xffff_ffff_0000_0001n, 0x1_0000_0002n], { longMode: false })).toBe(3n);
    expect(seen).toMatchObject({ nr: 10n, a0: 1n, a1: 2n, longMode: false });
    expect(v.vmcall(4242n, [], { longMode: false })).toBe(BigInt.asUintN(32, -1000n));
    expect(v.vmcall(4242n, [], { longMode: false })).not.toBe(neg(KVM_ENOSYS));
  });

  it('negative handler results reach RAX as two’s complement', () => {
    const p = definePlugin({ name: 'einval', setup: (ctx) => ctx.hypercall(12, () => -BigInt(KVM_EINVAL)) });
    const v = createHypervisor({ arch: 'x86_64', plugins: [p] }).createVm().createVcpu(0);
    expect(v.vmcall(12n)).toBe(neg(22));
  });

  it('HVC on an x86 vCPU is a usage error, not a guest-visible one', () => {
    expect(() => vcpu().hvc([0n])).toThrow(KvmError);
  });
});

describe('arm64 HVC/SMC dispatch', () => {
  const fid = 0x8600_0001;
  const svc = definePlugin({
    name: 'svc',
    arch: 'arm64',
    setup: (ctx) => ctx.smccc(fid, (_v, x, conduit) => [x[1]! + 1n, conduit === 'hvc' ? 1n : 2n]),
  });

  it('dispatches on the u32 function id in x0 and writes x0..x3 (missing = 0)', () => {
    const v = createHypervisor({ arch: 'arm64', plugins: [svc] }).createVm().createVcpu(0);
    v.x[3] = 99n;
    expect(v.hvc([BigInt(fid) | (0xabcn << 32n), 41n])).toEqual([42n, 1n, 0n, 0n]);
    expect(v.smc([BigInt(fid), 1n])).toEqual([2n, 2n, 0n, 0n]);
    expect(v.stats.exits).toEqual({ hvc: 1, smc: 1 });
  });

  it('an unknown function returns SMCCC NOT_SUPPORTED (-1) as a 64-bit all-ones x0', () => {
    const v = createHypervisor({ arch: 'arm64' }).createVm().createVcpu(0);
    expect(v.hvc([0xc400_0001n])).toEqual([ALL_ONES, 0n, 0n, 0n]);
  });

  it('a trap policy can refuse a conduit/immediate before dispatch', () => {
    const policy = definePlugin({ name: 'policy', setup: (ctx) => ctx.armTrapPolicy((c, imm) => (c === 'smc' && imm !== 0 ? 'not-supported' : 'dispatch')) });
    const v = createHypervisor({ arch: 'arm64', plugins: [svc, policy] }).createVm().createVcpu(0);
    expect(v.smc([BigInt(fid), 1n], 1)[0]).toBe(ALL_ONES);
    expect(v.smc([BigInt(fid), 1n], 0)[0]).toBe(2n);
    expect(v.hvc([BigInt(fid), 1n], 0x1234)[0]).toBe(2n);
  });

  it("handle_smc()'s refusal writes only x0 (vcpu_set_reg(vcpu, 0, ~0UL)); a DENY writes x0..x3 like smccc_set_retval()", () => {
    const policy = definePlugin({
      name: 'policy',
      setup: (ctx) => ctx.armTrapPolicy((c, _imm, _v, f) => (c === 'smc' ? 'not-supported' : f === fid ? 'deny' : { regs: [7n, 8n] })),
    });
    const v = createHypervisor({ arch: 'arm64', plugins: [svc, policy] }).createVm().createVcpu(0);
    expect(v.smc([BigInt(fid), 11n, 12n, 13n])).toEqual([ALL_ONES, 11n, 12n, 13n]);
    expect(v.hvc([BigInt(fid), 11n, 12n, 13n])).toEqual([ALL_ONES, 0n, 0n, 0n]);
    expect(v.hvc([0x8400_0000n, 11n, 12n, 13n])).toEqual([7n, 8n, 0n, 0n]);
    expect(v.stats.exits).toEqual({ smc: 1, hvc: 2 });
  });

  it('the guest virtual counter starts at 0 (CNTVOFF = count at vCPU creation)', () => {
    const hv = createHypervisor({ arch: 'arm64', host: { counterHz: 25_000_000n, counterStart: 1_000_000n } });
    hv.sim.runUntil(1_000_000n);
    const v = hv.createVm().createVcpu(0);
    expect(v.readCounter('virt')).toBe(0n);
    hv.sim.runFor(1_000_000_000n);
    expect(v.readCounter('virt')).toBe(25_000_000n);
    expect(v.readCounter('phys')).toBe(1_000_000n + 25_025_000n);
  });
});

describe('guest memory accesses', () => {
  it('an access outside every slot is an MMIO exit the VMM sees; reads of it are zeros unless handled', () => {
    const vm = createHypervisor({ arch: 'x86_64' }).createVm();
    const v = vm.createVcpu(0);
    const exits: bigint[] = [];
    vm.onMmio = (_v, e) => {
      exits.push(e.gpa!);
      if (!e.isWrite) e.data!.fill(0x5a);
    };
    v.write(0xfee0_0000n, new Uint8Array([1]));
    expect([...v.read(0xfee0_0010n, 2)]).toEqual([0x5a, 0x5a]);
    expect(exits).toEqual([0xfee0_0000n, 0xfee0_0010n]);
    expect(v.stats.exits.mmio).toBe(2);
  });

  it('writes to a read-only slot exit; reads see memory', () => {
    const vm = createHypervisor({ arch: 'x86_64' }).createVm();
    vm.setUserMemoryRegion({ slot: 0, flags: 2, guestPhysAddr: 0n, memorySize: 4096n });
    vm.memory.write(0n, new Uint8Array([7]));
    const v = vm.createVcpu(0);
    v.write(0n, new Uint8Array([9]));
    expect(v.read(0n, 1)[0]).toBe(7);
    expect(vm.stats.mmioExits).toBe(1);
  });

  it('a vCPU id may not repeat; ids past KVM_MAX_VCPU_ID are EINVAL', () => {
    const vm = createHypervisor({ arch: 'x86_64' }).createVm();
    vm.createVcpu(0);
    expect(() => vm.createVcpu(0)).toThrowError(/EEXIST/);
    expect(() => vm.createVcpu(100000)).toThrowError(/EINVAL/);
  });

  it('the guest TSC is the host TSC scaled (48 fractional bits) plus the offset', () => {
    const hv = createHypervisor({ arch: 'x86_64', host: { counterHz: 2_000_000_000n } });
    const v = hv.createVm().createVcpu(0);
    v.x86.tscOffset = 100n;
    v.x86.tscScalingRatio = 1n << 47n; // 0.5
    hv.sim.runUntil(1_000n);
    expect(v.rdtsc()).toBe(100n + 1_000n);
  });
});
