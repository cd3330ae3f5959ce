/** The random ABI steps, as fast-check arbitraries, shared by both arches. */
import { fc } from '@fast-check/vitest';
import { KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KVM_CAP_EXIT_HYPERCALL } from '@kvmlab/hypervisor-core';

const MiB = 1n << 20n;
export const gpa = fc.oneof(
  fc.integer({ min: 0, max: 63 }).map((i) => BigInt(i) * MiB),
  fc.bigInt({ min: 0n, max: 64n * MiB }),
  fc.constantFrom((1n << 64n) - 4096n, 1n << 52n),
);
const size = fc.oneof(fc.integer({ min: 0, max: 8 }).map((i) => BigInt(i) * MiB), fc.bigInt({ min: 0n, max: 8n * MiB }));
const slot = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(508, 509, 0xffff, 1 << 16, (2 << 16) | 1));
const u64 = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(0n, 1n, 2n, 3n, (1n << 64n) - 1n, 1n << 63n));

export const memorySteps = [
  fc.record({ k: fc.constant('region' as const), slot, flags: fc.integer({ min: 0, max: 7 }), gpa, size }),
  fc.record({ k: fc.constant('get' as const), slot }),
  fc.record({ k: fc.constant('clear' as const), slot, first: fc.oneof(fc.integer({ min: 0, max: 40 }).map((i) => i * 64), fc.nat(3000)), num: fc.nat(3000), len: fc.nat(400) }),
  fc.record({ k: fc.constant('cap' as const), cap: fc.constantFrom(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, 198, KVM_CAP_EXIT_HYPERCALL, 3, 9999), arg: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant('write' as const), gpa, len: fc.integer({ min: 1, max: 9000 }) }),
  fc.record({ k: fc.constant('time' as const), ns: fc.bigInt({ min: 0n, max: 50_000_000n }) }),
];

export const x86Steps = [
  fc.record({ k: fc.constant('vmcall' as const), nr: fc.oneof(fc.integer({ min: 0, max: 16 }).map(BigInt), u64), args: fc.array(u64, { maxLength: 4 }), cpl: fc.constantFrom(0, 0, 0, 3), longMode: fc.boolean() }),
  fc.record({ k: fc.constant('wrmsr' as const), msr: fc.oneof(fc.constantFrom(0x11, 0x12, 0x4b564d00, 0x4b564d01, 0x3a, 0x480), fc.nat()), value: u64 }),
  fc.record({ k: fc.constant('rdmsr' as const), msr: fc.oneof(fc.constantFrom(0x4b564d00, 0x4b564d01, 0x3a), fc.nat()) }),
  fc.record({ k: fc.constant('cpuid' as const), leaf: fc.oneof(fc.constantFrom(0, 1, 0x40000000, 0x40000001), fc.nat()) }),
  fc.record({
    k: fc.constant('vmx' as const),
    insn: fc.constantFrom('vmxon', 'vmxoff', 'vmptrld', 'vmptrst', 'vmclear', 'vmread', 'vmwrite', 'vmlaunch', 'vmresume', 'invept', 'invvpid'),
    operand: fc.oneof(gpa, fc.constantFrom(0x6802n, 0x4826n, 0x482en, 0x4002n, 0x401en, 0x201an, 0x2803n, 0x4400n), fc.integer({ min: 0, max: 4 }).map(BigInt)),
    value: u64,
  }),
  // what an L1 does before VMXON (CR0/CR4 fixed bits, CR4.VMXE, IA32_FEATURE_CONTROL), at a random region
  fc.record({ k: fc.constant('vmx-prepare' as const), region: gpa }),
  // the selftest library's VMCLEAR + VMPTRLD + full vmcs12 set-up, then VMLAUNCH of L2 code at a random RIP
  fc.record({ k: fc.constant('vmx-launch' as const), vmcs: gpa, rip: gpa, code: fc.uint8Array({ maxLength: 32 }), timer: fc.bigInt({ min: 0n, max: 50_000n }) }),
  fc.record({ k: fc.constant('mov-cr' as const), cr: fc.constantFrom(0 as const, 4 as const), value: u64 }),
  // KVM_GET_NESTED_STATE, then KVM_SET_NESTED_STATE of it with `flips` random byte changes
  fc.record({ k: fc.constant('nested-state' as const), flips: fc.array(fc.record({ at: fc.nat(8320 - 1), value: fc.nat(255) }), { maxLength: 3 }), shrink: fc.nat(9000) }),
];

export const arm64Steps = [
  fc.record({
    k: fc.constant('smccc' as const),
    conduit: fc.constantFrom('hvc' as const, 'smc' as const),
    imm: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })),
    fid: fc.oneof(fc.constantFrom(0x80000000n, 0x80000001n, 0x84000000n, 0x8400000an, 0x8600ff01n, 0x86000000n, 0x86000001n, 0xc4000001n), u64),
    args: fc.array(u64, { maxLength: 6 }),
  }),
  fc.record({ k: fc.constant('fwreg' as const), value: u64 }),
];

/** Addresses inside the 16 MiB that the nested-VMX sequences give L1 (mostly page-aligned), and sometimes anywhere. */
const l1Gpa = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 4095 }).map((p) => BigInt(p) << 12n) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 16n * MiB - 1n }) },
  { weight: 1, arbitrary: gpa },
);

/** Steps of an L1 hypervisor: VMX preparation, VMCS set-up and launch of random L2 code, single VMX instructions, nested state. */
export const nestedSteps = [
  fc.record({ k: fc.constant('vmx-prepare' as const), region: l1Gpa }),
  fc.record({ k: fc.constant('vmx-launch' as const), vmcs: l1Gpa, rip: l1Gpa, code: fc.uint8Array({ maxLength: 32 }), timer: fc.bigInt({ min: 0n, max: 50_000n }) }),
  fc.record({
    k: fc.constant('vmx' as const),
    insn: fc.constantFrom('vmxon', 'vmxoff', 'vmptrld', 'vmptrst', 'vmclear', 'vmread', 'vmwrite', 'vmlaunch', 'vmresume', 'invept', 'invvpid'),
    operand: fc.oneof(l1Gpa, fc.constantFrom(0x6802n, 0x4826n, 0x482en, 0x4002n, 0x401en, 0x201an, 0x2803n, 0x4400n, 0x681en)),
    value: u64,
  }),
  fc.record({ k: fc.constant('nested-state' as const), flips: fc.array(fc.record({ at: fc.nat(8320 - 1), value: fc.nat(255) }), { maxLength: 3 }), shrink: fc.nat(9000) }),
  fc.record({ k: fc.constant('write' as const), gpa: l1Gpa, len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ k: fc.constant('time' as const), ns: fc.bigInt({ min: 0n, max: 5_000_000n }) }),
];
