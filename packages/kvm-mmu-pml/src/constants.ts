/**
 * The SPTE bits and kinds of the x86 MMU (arch/x86/kvm/mmu.c, mmu.h, asm/kvm_host.h) in the two
 * kernels this package models: Linux 5.3 ("k53", pre-fix) and 5.4 ("k54", merged), and the
 * constants of the selftest x86_64/vmx_dirty_log_test.c. VMX values (PML, exit reasons, EPT
 * bits) come from hypervisor-core.
 */

// --- SPTE permission and software bits (EPT-format SPTEs) ---
export const PT_WRITABLE_SHIFT = 1n; // arch/x86/kvm/mmu.h
export const PT_WRITABLE_MASK = 1n << PT_WRITABLE_SHIFT; // arch/x86/kvm/mmu.h (= EPT W)
export const PT_FIRST_AVAIL_BITS_SHIFT = 10n; // arch/x86/kvm/mmu.c
export const SPTE_HOST_WRITEABLE = 1n << PT_FIRST_AVAIL_BITS_SHIFT; // arch/x86/kvm/mmu.c
export const SPTE_MMU_WRITEABLE = 1n << (PT_FIRST_AVAIL_BITS_SHIFT + 1n); // arch/x86/kvm/mmu.c
/** EPT misconfiguration value cached in MMIO SPTEs: W|X without R (asm/vmx.h). */
export const VMX_EPT_MISCONFIG_WX_VALUE = 6n; // asm/vmx.h

// --- k53: one bit for "A/D disabled" and for "MMIO" (asm/kvm_host.h, v5.3) ---
export const K53_SPTE_SPECIAL_MASK = 1n << 62n; // arch/x86/include/asm/kvm_host.h (v5.3)
export const K53_PT64_SECOND_AVAIL_BITS_SHIFT = 52n; // arch/x86/kvm/mmu.c (v5.3)

// --- k54: two bits 53:52 name the SPTE kind (mmu.c, v5.4, "assign two bits to track SPTE kinds") ---
export const SPTE_SPECIAL_MASK = 3n << 52n; // arch/x86/kvm/mmu.c (v5.4)
export const SPTE_AD_ENABLED_MASK = 0n << 52n; // arch/x86/kvm/mmu.c (v5.4)
export const SPTE_AD_DISABLED_MASK = 1n << 52n; // arch/x86/kvm/mmu.c (v5.4)
export const SPTE_AD_WRPROT_ONLY_MASK = 2n << 52n; // arch/x86/kvm/mmu.c (v5.4)
export const SPTE_MMIO_MASK = 3n << 52n; // arch/x86/kvm/mmu.c (v5.4)
export const K54_PT64_SECOND_AVAIL_BITS_SHIFT = 54n; // arch/x86/kvm/mmu.c (v5.4)

/** Bits 51:12 of an SPTE: the host page frame (PT64_BASE_ADDR_MASK, mmu.c). */
export const PT64_BASE_ADDR_MASK = ((1n << 52n) - 1n) & ~0xfffn; // arch/x86/kvm/mmu.c

/** IA32_VMX_EPT_VPID_CAP bit 21: EPT accessed/dirty flags supported (asm/vmx.h VMX_EPT_AD_BIT). */
export const VMX_EPT_AD_BIT = 1n << 21n; // arch/x86/include/asm/vmx.h

// --- the selftest (tools/testing/selftests/kvm/x86_64/vmx_dirty_log_test.c) ---
export const TEST_MEM_SLOT_INDEX = 1; // vmx_dirty_log_test.c
export const TEST_MEM_PAGES = 3; // vmx_dirty_log_test.c
export const GUEST_TEST_MEM = 0xc0000000n; // vmx_dirty_log_test.c (L1 GVA = GPA)
export const NESTED_TEST_MEM1 = 0xc0001000n; // vmx_dirty_log_test.c (L2 GPA)
export const NESTED_TEST_MEM2 = 0xc0002000n; // vmx_dirty_log_test.c (L2 GPA)
/** Page tables and EPT tables of the selftest library start here (lib/x86_64/vmx.c). */
export const KVM_EPT_PAGE_TABLE_MIN_PADDR = 0x1c0000n; // selftests/kvm/include/x86_64/vmx.h
/** The port ucall uses on x86_64. */
export const UCALL_PIO_PORT = 0x1000; // selftests/kvm/lib/x86_64/ucall.c (5.4)
/** UCALL_MAX_ARGS: struct ucall has cmd and 6 arguments (selftests/kvm/include/kvm_util.h, 5.4). */
export const UCALL_MAX_ARGS = 6; // kvm_util.h
/** enum ucall_cmd (selftests/kvm/include/kvm_util.h). */
export const UCALL_NONE = 0; // kvm_util.h
export const UCALL_SYNC = 1; // kvm_util.h
export const UCALL_ABORT = 2; // kvm_util.h
export const UCALL_DONE = 3; // kvm_util.h

/** QEMU's default downtime limit for live migration (migration/migration.c, 300 ms). */
export const QEMU_DEFAULT_DOWNTIME_MS = 300; // qemu migration/migration.c DEFAULT_MIGRATE_SET_DOWNTIME

/** Exit reason of an IN/OUT instruction (uapi/asm/vmx.h; hypervisor-core's, re-exported under this package's earlier name). */
export { EXIT_REASON_IO_INSTRUCTION } from '@kvmlab/hypervisor-core';
