import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import * as abi from '../src/ffi/kvm-abi.js';
import { decodeSregs, encodeSregs, KVM_REGS_FIELDS, KVM_SREGS_SEGMENTS, type KvmSregs } from '../src/ffi/vcpu.js';

const RUNS = process.env['KVMLAB_SOAK'] ? 2000 : 100;

describe('KVM ABI constants (include/uapi/linux/kvm.h)', () => {
  it('ioctl request numbers are the kernel\'s', () => {
    // Values as strace prints them on x86_64.
    expect(abi.KVM_GET_API_VERSION).toBe(0xae00n);
    expect(abi.KVM_CREATE_VM).toBe(0xae01n);
    expect(abi.KVM_CHECK_EXTENSION).toBe(0xae03n);
    expect(abi.KVM_GET_VCPU_MMAP_SIZE).toBe(0xae04n);
    expect(abi.KVM_CREATE_VCPU).toBe(0xae41n);
    expect(abi.KVM_GET_DIRTY_LOG).toBe(0x4010ae42n);
    expect(abi.KVM_SET_USER_MEMORY_REGION).toBe(0x4020ae46n);
    expect(abi.KVM_ENABLE_CAP).toBe(0x4068aea3n);
    expect(abi.KVM_CLEAR_DIRTY_LOG).toBe(0xc018aec0n);
    expect(abi.KVM_RUN).toBe(0xae80n);
    expect(abi.KVM_GET_REGS).toBe(0x8090ae81n);
    expect(abi.KVM_SET_REGS).toBe(0x4090ae82n);
    expect(abi.KVM_GET_SREGS).toBe(0x8138ae83n);
    expect(abi.KVM_SET_SREGS).toBe(0x4138ae84n);
  });

  it('struct sizes and offsets add up from their fields', () => {
    expect(abi.SIZEOF_KVM_USERSPACE_MEMORY_REGION).toBe(4 + 4 + 8 + 8 + 8);
    expect(abi.SIZEOF_KVM_DIRTY_LOG).toBe(4 + 4 + 8);
    expect(abi.SIZEOF_KVM_CLEAR_DIRTY_LOG).toBe(4 + 4 + 8 + 8);
    expect(abi.SIZEOF_KVM_ENABLE_CAP).toBe(4 + 4 + 4 * 8 + 64);
    expect(abi.SIZEOF_KVM_REGS).toBe(KVM_REGS_FIELDS.length * 8);
    expect(abi.SIZEOF_KVM_SREGS).toBe(KVM_SREGS_SEGMENTS.length * 24 + 2 * 16 + 7 * 8 + 4 * 8);
    expect(abi.KVM_RUN_EXIT_REASON_OFFSET).toBe(8);
    expect(abi.KVM_RUN_EXIT_UNION_OFFSET).toBe(32);
  });

  it('exit reasons and mmap/open flags', () => {
    expect([abi.KVM_EXIT_IO, abi.KVM_EXIT_HLT, abi.KVM_EXIT_MMIO, abi.KVM_EXIT_SHUTDOWN, abi.KVM_EXIT_FAIL_ENTRY, abi.KVM_EXIT_INTERNAL_ERROR]).toEqual([2, 5, 6, 8, 9, 17]);
    expect([abi.PROT_READ, abi.PROT_WRITE, abi.MAP_SHARED, abi.MAP_PRIVATE, abi.MAP_ANONYMOUS, abi.MAP_NORESERVE]).toEqual([1, 2, 1, 2, 0x20, 0x4000]);
    expect([abi.O_RDWR, abi.O_CLOEXEC]).toEqual([2, 0x80000]);
  });
});

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const u8 = fc.integer({ min: 0, max: 255 });
const segment = fc.record({
  base: u64,
  limit: fc.integer({ min: 0, max: 0xffff_ffff }),
  selector: fc.integer({ min: 0, max: 0xffff }),
  type: u8, present: u8, dpl: u8, db: u8, s: u8, l: u8, g: u8, avl: u8, unusable: u8,
});
const dtable = fc.record({ base: u64, limit: fc.integer({ min: 0, max: 0xffff }) });
const sregs: fc.Arbitrary<KvmSregs> = fc.record({
  cs: segment, ds: segment, es: segment, fs: segment, gs: segment, ss: segment, tr: segment, ldt: segment,
  gdt: dtable, idt: dtable,
  cr0: u64, cr2: u64, cr3: u64, cr4: u64, cr8: u64, efer: u64, apicBase: u64,
  interruptBitmap: fc.array(u64, { minLength: 4, maxLength: 4 }),
});

test.prop([sregs], { numRuns: RUNS })('struct kvm_sregs decodes to exactly what was encoded', (s) => {
  const buf = encodeSregs(s);
  expect(buf.length).toBe(abi.SIZEOF_KVM_SREGS);
  expect(decodeSregs(buf)).toEqual(s);
});
