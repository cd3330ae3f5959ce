import { EXIT_REASON_EPT_VIOLATION, EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_PML_FULL, PML_ENTITY_NUM, VMX_EPT_IPAT_BIT, VMX_EPT_MT_WB } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import * as C from '../src/constants.js';
import { UCALL_STRUCT_BYTES } from '../src/guest/ucall.js';
import { PML_INDEX_RESET } from '../src/host/pml.js';
import { RAM_MT_MASK } from '../src/host/set-spte.js';
import { isMmioSpte, spteKindName, spteKinds } from '../src/host/spte.js';

describe('constants (spec nvmx-pml.md §1)', () => {
  it('SPTE bits of 5.3 and 5.4', () => {
    expect(C.PT_WRITABLE_SHIFT).toBe(1n);
    expect(C.PT_WRITABLE_MASK).toBe(2n);
    expect([C.SPTE_HOST_WRITEABLE, C.SPTE_MMU_WRITEABLE]).toEqual([1n << 10n, 1n << 11n]);
    expect(C.K53_SPTE_SPECIAL_MASK).toBe(1n << 62n);
    expect(C.SPTE_SPECIAL_MASK).toBe(3n << 52n);
    expect([C.SPTE_AD_ENABLED_MASK, C.SPTE_AD_DISABLED_MASK, C.SPTE_AD_WRPROT_ONLY_MASK, C.SPTE_MMIO_MASK]).toEqual([0n, 1n << 52n, 2n << 52n, 3n << 52n]);
    expect([C.K53_PT64_SECOND_AVAIL_BITS_SHIFT, C.K54_PT64_SECOND_AVAIL_BITS_SHIFT]).toEqual([52n, 54n]);
    expect(C.VMX_EPT_MISCONFIG_WX_VALUE).toBe(6n);
  });

  it('the memory type of RAM SPTEs: write-back (6) in bits 5:3, IPAT (bit 6)', () => {
    expect([VMX_EPT_MT_WB, VMX_EPT_IPAT_BIT]).toEqual([6n, 1n << 6n]);
    expect(RAM_MT_MASK).toBe(0x70n);
  });

  it('PML and exit reasons', () => {
    expect(PML_ENTITY_NUM).toBe(512);
    expect(PML_INDEX_RESET).toBe(511);
    expect([EXIT_REASON_EPT_VIOLATION, EXIT_REASON_PML_FULL, C.EXIT_REASON_IO_INSTRUCTION]).toEqual([48, 62, 30]);
    expect(C.EXIT_REASON_IO_INSTRUCTION).toBe(EXIT_REASON_IO_INSTRUCTION); // re-exported from hypervisor-core
  });

  it('the selftest and QEMU values', () => {
    expect([C.TEST_MEM_SLOT_INDEX, C.TEST_MEM_PAGES]).toEqual([1, 3]);
    expect([C.GUEST_TEST_MEM, C.NESTED_TEST_MEM1, C.NESTED_TEST_MEM2]).toEqual([0xc0000000n, 0xc0001000n, 0xc0002000n]);
    expect(C.KVM_EPT_PAGE_TABLE_MIN_PADDR).toBe(0x1c0000n);
    expect(C.UCALL_PIO_PORT).toBe(0x1000);
    expect([C.UCALL_NONE, C.UCALL_SYNC, C.UCALL_ABORT, C.UCALL_DONE]).toEqual([0, 1, 2, 3]);
    // struct ucall { u64 cmd; u64 args[UCALL_MAX_ARGS]; } (selftests/kvm/include/kvm_util.h, 5.4)
    expect(C.UCALL_MAX_ARGS).toBe(6);
    expect(UCALL_STRUCT_BYTES).toBe(56);
    expect(C.QEMU_DEFAULT_DOWNTIME_MS).toBe(300);
    expect(C.VMX_EPT_AD_BIT).toBe(1n << 21n);
  });

  it('MMIO SPTEs carry the misconfiguration value and the MMIO kind', () => {
    const k54 = spteKinds('merged');
    const k53 = spteKinds('pre-fix');
    expect(isMmioSpte(k54, 6n | C.SPTE_MMIO_MASK)).toBe(true);
    expect(isMmioSpte(k54, 7n | C.SPTE_MMIO_MASK)).toBe(false);
    expect(isMmioSpte(k53, 6n | C.K53_SPTE_SPECIAL_MASK)).toBe(true);
    expect(spteKindName(k54, 7n | C.SPTE_AD_WRPROT_ONLY_MASK)).toBe('AD_WRPROT_ONLY');
    expect(spteKindName(k53, 7n | C.K53_SPTE_SPECIAL_MASK)).toBe('AD_DISABLED');
  });
});
