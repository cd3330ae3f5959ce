/**
 * Runs generated guest code on a real VM: the code goes into a memslot of its own (created
 * for the run at free guest-physical space, deleted after), a vCPU is put in the mode and
 * KVM_RUN is called until HLT.
 */
import { KVM_EXIT_HLT } from '../ffi/kvm-abi.js';
import type { KvmVm } from '../ffi/kvm.js';
import type { KvmVcpu } from '../ffi/vcpu.js';
import { KVM_REGS_FIELDS, type KvmRegs } from '../ffi/vcpu.js';
import { generateGuestCode, type GuestMode, type GuestWrite } from './codegen.js';
import { X86_RFLAGS_FIXED, sregsFor } from './cpu-mode.js';

/** Where existing memslots are, so the code slot can avoid them. */
export interface OccupiedRange {
  readonly gpa: bigint;
  readonly size: bigint;
}

/** The outcome of one guest run. */
export interface GuestRunResult {
  readonly exitReason: number;
  readonly halted: boolean;
  readonly codeBytes: number;
}

/** The lowest page-aligned gap of `size` bytes in [from, limit) that misses every range. */
export function findFreeGpa(occupied: readonly OccupiedRange[], size: bigint, from: bigint, limit: bigint): bigint | undefined {
  const sorted = [...occupied].sort((a, b) => (a.gpa < b.gpa ? -1 : a.gpa > b.gpa ? 1 : 0));
  let cand = from;
  for (const r of sorted) {
    if (r.gpa + r.size <= cand) continue;
    if (r.gpa >= cand + size) break;
    cand = (r.gpa + r.size + 0xfffn) & ~0xfffn;
  }
  return cand + size <= limit ? cand : undefined;
}

/**
 * Stores `writes` from inside the guest. `codeSlot` is a user slot id the caller does not use;
 * `occupied` lists the slots in use. The code is placed where neither a slot nor a write is.
 */
export function runGuestWrites(
  vm: KvmVm,
  vcpu: KvmVcpu,
  mode: GuestMode,
  writes: readonly GuestWrite[],
  codeSlot: number,
  occupied: readonly OccupiedRange[],
): GuestRunResult {
  // Keep the code clear of the slots and of the addresses it stores to (else it would patch itself).
  const targets = writes.map((w) => ({ gpa: w.gpa & ~0xfffn, size: ((w.gpa + BigInt(w.bytes.length) + 0xfffn) & ~0xfffn) - (w.gpa & ~0xfffn) }));
  return runGuestCode(vm, vcpu, mode, generateGuestCode(mode, writes), codeSlot, [...occupied, ...targets]);
}

/**
 * Runs `code` once (one KVM_RUN) from a memslot of its own placed at free guest-physical
 * space clear of `avoid`, the vCPU put in `mode` first; the slot is deleted afterwards.
 */
export function runGuestCode(vm: KvmVm, vcpu: KvmVcpu, mode: GuestMode, code: Uint8Array, codeSlot: number, avoid: readonly OccupiedRange[]): GuestRunResult {
  const size = BigInt(Math.ceil(code.length / 4096) * 4096);
  const limit = mode === 'real16' ? 0x10_0000n : 1n << 32n;
  const gpa = findFreeGpa(avoid, size, mode === 'real16' ? 0x1000n : 0x10_0000n, limit);
  if (gpa === undefined) throw new RangeError(`no free guest-physical space for ${size} bytes of guest code`);
  const mem = vm.mapAnonymous(size);
  try {
    mem.write(0, code);
    vm.setUserMemoryRegion({ slot: codeSlot, flags: 0, guestPhysAddr: gpa, memorySize: size, userspaceAddr: mem.addr });
    try {
      const { sregs, rip } = sregsFor(mode, vcpu.getSregs(), gpa);
      vcpu.setSregs(sregs);
      const regs = Object.fromEntries(KVM_REGS_FIELDS.map((n) => [n, 0n])) as KvmRegs;
      vcpu.setRegs({ ...regs, rip, rflags: X86_RFLAGS_FIXED });
      const exit = vcpu.runOnce();
      return { exitReason: exit.reason, halted: exit.reason === KVM_EXIT_HLT, codeBytes: code.length };
    } finally {
      vm.setUserMemoryRegion({ slot: codeSlot, flags: 0, guestPhysAddr: gpa, memorySize: 0n, userspaceAddr: mem.addr });
    }
  } finally {
    vm.unmap(mem);
  }
}
