/**
 * ABI scripts: the KVM_CHECK_EXTENSION answers hypervisor-core gives, and the memslot matrix
 * of KVM_SET_USER_MEMORY_REGION (kvm_vm_ioctl_set_memory_region / __kvm_set_memory_region).
 */
import {
  KVM_CAP_CHECK_EXTENSION_VM,
  KVM_CAP_DESTROY_MEMORY_REGION_WORKS,
  KVM_CAP_ENABLE_CAP,
  KVM_CAP_ENABLE_CAP_VM,
  KVM_CAP_EXIT_HYPERCALL,
  KVM_CAP_JOIN_MEMORY_REGIONS_WORKS,
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT,
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
  KVM_CAP_MAX_VCPU_ID,
  KVM_CAP_MAX_VCPUS,
  KVM_CAP_MULTI_ADDRESS_SPACE,
  KVM_CAP_NR_MEMSLOTS,
  KVM_CAP_NR_VCPUS,
  KVM_CAP_ONE_REG,
  KVM_CAP_READONLY_MEM,
  KVM_CAP_SYNC_MMU,
  KVM_CAP_USER_MEMORY,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
} from '@kvmlab/hypervisor-core';
import type { Script, Step } from './script.js';

const CAPS: readonly (readonly [string, number, string?])[] = [
  ['KVM_CAP_USER_MEMORY', KVM_CAP_USER_MEMORY],
  ['KVM_CAP_NR_VCPUS', KVM_CAP_NR_VCPUS],
  ['KVM_CAP_NR_MEMSLOTS', KVM_CAP_NR_MEMSLOTS],
  ['KVM_CAP_SYNC_MMU', KVM_CAP_SYNC_MMU],
  ['KVM_CAP_DESTROY_MEMORY_REGION_WORKS', KVM_CAP_DESTROY_MEMORY_REGION_WORKS],
  ['KVM_CAP_JOIN_MEMORY_REGIONS_WORKS', KVM_CAP_JOIN_MEMORY_REGIONS_WORKS],
  ['KVM_CAP_ENABLE_CAP', KVM_CAP_ENABLE_CAP],
  ['KVM_CAP_MAX_VCPUS', KVM_CAP_MAX_VCPUS],
  ['KVM_CAP_ONE_REG', KVM_CAP_ONE_REG, 'x86 answers 1 since KVM_GET/SET_ONE_REG gained x86 registers (after 5.4); the model implements ONE_REG on arm64 only'],
  ['KVM_CAP_READONLY_MEM', KVM_CAP_READONLY_MEM],
  ['KVM_CAP_ENABLE_CAP_VM', KVM_CAP_ENABLE_CAP_VM],
  ['KVM_CAP_CHECK_EXTENSION_VM', KVM_CAP_CHECK_EXTENSION_VM],
  ['KVM_CAP_MULTI_ADDRESS_SPACE', KVM_CAP_MULTI_ADDRESS_SPACE],
  ['KVM_CAP_MAX_VCPU_ID', KVM_CAP_MAX_VCPU_ID],
  ['KVM_CAP_MANUAL_DIRTY_LOG_PROTECT', KVM_CAP_MANUAL_DIRTY_LOG_PROTECT],
  ['KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2', KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2],
  ['KVM_CAP_EXIT_HYPERCALL', KVM_CAP_EXIT_HYPERCALL, 'added in 5.14 (a mask of hypercalls that exit to userspace); absent in 5.4, not modelled'],
];

export const capsScript: Script = {
  name: 'caps',
  title: 'KVM_CHECK_EXTENSION on /dev/kvm and on the VM fd',
  steps: (['system', 'vm'] as const).flatMap((on) =>
    CAPS.map(([name, cap, era]): Step => ({ op: 'checkExtension', on, cap, name, ...(era !== undefined ? { era } : {}) })),
  ),
};

const MiB = 0x10_0000;
const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
const slot = (id: number, gpa: number | bigint, size: number | bigint, flags = 0, era?: string): Step => ({
  op: 'setMemslot',
  slot: id,
  flags,
  gpa: hex(gpa),
  size: hex(size),
  ...(era !== undefined ? { era } : {}),
});

export const memslotScript: Script = {
  name: 'memslots',
  title: 'KVM_SET_USER_MEMORY_REGION: alignment, overlap, delete, slot ids, flags, resize, move',
  steps: [
    slot(0, 0, MiB),
    slot(1, MiB, 0x1800), // size not page aligned
    slot(1, MiB + 0x800, MiB), // GPA not page aligned
    slot(1, 0x8_0000, MiB), // overlaps slot 0
    slot(1, MiB, MiB), // adjacent: fine
    slot(2, 4 * MiB, 0), // delete a slot that does not exist
    slot(2, 4 * MiB, MiB, 0x80), // unknown flag
    slot(2, 4 * MiB, MiB, 1 << 2), // KVM_MEM_GUEST_MEMFD in later kernels: refused on a default VM
    slot(508, 0x1000_0000, MiB), // last user slot id in 5.4
    slot(509, 0x1010_0000, MiB), // KVM_USER_MEM_SLOTS in 5.4: refused there, fine in 6.x
    slot(32763, 0x1020_0000, MiB), // last user slot id in 6.x
    slot(32764, 0x1030_0000, MiB), // KVM_USER_MEM_SLOTS in 6.x: refused by both
    slot(0xffff, 0x1040_0000, MiB),
    slot((1 << 16) | 3, 0x1050_0000, MiB), // address space 1 (SMM): exists only with CONFIG_KVM_SMM
    slot(0, 0, MiB, KVM_MEM_LOG_DIRTY_PAGES), // flags-only change: start logging
    slot(0, 0, MiB, KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY), // READONLY cannot change on a live slot
    slot(0, 0, 2 * MiB), // resize
    slot(0, 0, MiB, 0), // flags-only: stop logging
    slot(1, 2 * MiB, MiB), // move
    slot(1, 0x8_0000, MiB), // move onto slot 0
    slot(1, 2 * MiB, MiB), // same again: no change
    slot(1, 2 * MiB, 0), // delete
    slot(1, 2 * MiB, 0), // delete again
    slot(3, 0x10_0000_0000n, 0x10_0000_0000n, KVM_MEM_LOG_DIRTY_PAGES), // 64 GiB at 64 GiB, logging
    slot(4, 0xffff_ffff_ffff_f000n, 0x2000), // GPA + size wraps around
    slot(5, 0x100_0000_0000n, 1n << 43n), // 2^31 pages > KVM_MEM_MAX_NR_PAGES
    slot(6, 0x20_0000, MiB, KVM_MEM_READONLY), // a read-only slot
    slot(6, 0x20_0000, MiB, KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES), // ... that logs
    { op: 'getDirtyLog', slot: 6 },
    { op: 'createVcpu', id: 0 },
    { op: 'createVcpu', id: 0 }, // twice
    { op: 'createVcpu', id: 287 }, // last id in 5.4
    { op: 'createVcpu', id: 288 }, // KVM_MAX_VCPU_ID in 5.4, fine in 6.x
    { op: 'createVcpu', id: 4096 }, // KVM_MAX_VCPU_IDS in 6.x
    slot(7, (1n << 52n) - 0x1000n, 0x1000), // ends exactly at 2^52
    slot(8, 1n << 52n, 0x1000), // beyond kvm_mmu_max_gfn() (6.x with shadow paging): refused there
    slot(7, 1n << 52n, 0x1000), // moved beyond it
  ],
};
