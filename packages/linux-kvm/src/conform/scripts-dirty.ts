/**
 * ABI scripts for dirty logging with a guest writing page patterns: KVM_GET_DIRTY_LOG with
 * automatic re-protection, manual protection with KVM_CLEAR_DIRTY_LOG (every EINVAL rule of
 * kvm_clear_dirty_log_protect), KVM_DIRTY_LOG_INITIALLY_SET, re-dirtying, logging off and on.
 */
import {
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT,
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
  KVM_MEM_LOG_DIRTY_PAGES as LOG,
  KVM_MEM_READONLY,
} from '@kvmlab/hypervisor-core';
import type { Script, Step } from './script.js';

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
const BASE = 0x10_0000; // slot 0: 1024 pages at 1 MiB
const BASE2 = 0x80_0000; // slot 1: 1000 pages at 8 MiB (not a multiple of 64)
const slot = (id: number, gpa: number, pages: number, flags: number): Step => ({
  op: 'setMemslot', slot: id, flags, gpa: hex(gpa), size: hex(pages * 4096),
});
const write = (base: number, list: string, value: number, offset = 0): Step => ({
  op: 'guestWrite', pages: { base: hex(base), list, value, offset },
});
const get = (s = 0): Step => ({ op: 'getDirtyLog', slot: s });
const clear = (s: number, firstPage: number, numPages: number, bits: string | null): Step => ({
  op: 'clearDirtyLog', slot: s, firstPage, numPages, bits,
});
const read = (gpa: number, length: number): Step => ({ op: 'readMemory', gpa: hex(gpa), length });

export const getDirtyLogScript: Script = {
  name: 'dirty-get',
  title: 'KVM_GET_DIRTY_LOG without manual protect: harvest, re-protect, re-dirty',
  steps: [
    slot(0, BASE, 1024, LOG),
    slot(2, 0x60_0000, 16, 0), // not logging
    get(),
    write(BASE, '0,1,5,63,64,100-103,1023', 0xaa, 7),
    get(),
    get(), // harvested: now clean
    write(BASE, '5,6', 0x55),
    write(BASE, '5', 0x56, 4095), // same page again
    get(),
    read(BASE + 5 * 4096, 8),
    read(BASE + 5 * 4096 + 4088, 8),
    write(0x60_0000, '0-3', 1),
    get(2), // slot without logging: ENOENT
    get(3), // no such slot: ENOENT
    get(600), // slot id ≥ KVM_USER_MEM_SLOTS in 5.4 only
    get(0xffff), // beyond every era's slot ids
    get((1 << 16) | 0), // address space 1
    { op: 'guestWrite', writes: [{ gpa: hex(BASE + 0x1234), hex: '0102030405060708090a' }] }, // crosses nothing
    { op: 'guestWrite', writes: [{ gpa: hex(BASE + 0x2ffc), hex: '1112131415161718' }] }, // straddles pages 2 and 3
    get(),
    read(BASE + 0x2ffc, 8),
  ],
};

export const clearDirtyLogScript: Script = {
  name: 'dirty-clear',
  title: 'Manual protect + KVM_CLEAR_DIRTY_LOG: valid ranges and every EINVAL rule',
  steps: [
    { op: 'enableCap', cap: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, args: [4] }, // unknown bit
    { op: 'enableCap', cap: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, args: [2] }, // INITIALLY_SET without ENABLE
    { op: 'enableCap', cap: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, args: [1], flags: 1 }, // flags must be 0
    { op: 'enableCap', cap: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT, args: [1] }, // the withdrawn v1
    { op: 'enableCap', cap: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, args: [1] },
    slot(0, BASE, 1024, LOG),
    slot(1, BASE2, 1000, LOG),
    slot(2, 0x60_0000, 16, 0),
    write(BASE, '0-9,64,65,200,1023', 0x11),
    get(),
    get(), // manual protect: GET does not clear
    clear(0, 0, 64, '0-4'),
    get(),
    write(BASE, '0,5', 0x22), // page 0 re-dirtied after the clear, page 5 still dirty
    get(),
    clear(0, 64, 64, '0,1,2'), // page 66 was clean: nothing to clear there
    get(),
    clear(0, 0, 1024, '0-1023'),
    get(),
    write(BASE, '1000', 0x33),
    clear(0, 1, 64, '0'), // first_page not a multiple of 64
    clear(0, 1088, 0, ''), // first_page > npages
    clear(0, 960, 128, '0'), // num_pages > npages - first_page
    clear(0, 0, 100, '0'), // not a multiple of 64 and short of the end
    clear(0, 0, 63, '0'),
    clear(0, 1024, 0, ''), // first_page == npages, nothing: fine
    clear(0, 960, 64, '40'), // ends exactly at the slot's end
    get(),
    write(BASE2, '0,959,960,999', 0x44),
    get(1),
    clear(1, 960, 40, '0-39'), // short of 64 but reaches the end of a 1000-page slot
    clear(1, 960, 39, '0'), // short of 64 and of the end
    get(1),
    clear(0, 0, 64, null), // NULL bitmap: EFAULT
    clear(0, 0, 0, null), // NULL bitmap, nothing to copy
    clear(2, 0, 16, '0'), // slot without logging: ENOENT
    clear(3, 0, 64, '0'), // no such slot: ENOENT
    clear(0xffff, 0, 64, '0'), // slot id out of range
    clear((1 << 16) | 0, 0, 64, '0'), // address space 1
    clear(600, 0, 64, '0'), // slot id ≥ KVM_USER_MEM_SLOTS in 5.4 only
  ],
};

export const initiallySetScript: Script = {
  name: 'dirty-initially-set',
  title: 'KVM_DIRTY_LOG_INITIALLY_SET: every page starts dirty, CLEAR re-protects',
  steps: [
    { op: 'enableCap', cap: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, args: [3] },
    slot(0, BASE, 256, LOG),
    get(),
    write(BASE, '3', 0x01),
    get(),
    clear(0, 0, 128, '0-127'),
    get(),
    write(BASE, '3,4,200', 0x02),
    get(),
    clear(0, 0, 256, '0-255'),
    get(),
    slot(0, BASE, 256, 0), // logging off ...
    get(),
    slot(0, BASE, 256, LOG), // ... and on again: a new bitmap, all set
    get(),
    slot(1, BASE2, 64, 0),
    slot(1, BASE2, 64, LOG), // logging turned on for an existing slot
    get(1),
  ],
};

export const loggingToggleScript: Script = {
  name: 'dirty-toggle',
  title: 'Dirty logging turned off and on, a logging slot moved, writes to a read-only slot',
  steps: [
    slot(0, BASE, 512, LOG),
    write(BASE, '1,2,3', 0x10),
    slot(0, BASE, 512, 0),
    get(),
    write(BASE, '4', 0x11),
    slot(0, BASE, 512, LOG),
    get(), // dirt from before (and while off) is gone
    write(BASE, '7', 0x12),
    slot(0, 0x40_0000, 512, LOG), // move: the bitmap goes with the slot
    get(),
    write(0x40_0000, '8', 0x13),
    get(),
    read(0x40_0000 + 7 * 4096, 1),
    slot(1, 0x30_0000, 16, KVM_MEM_READONLY | LOG),
    { op: 'guestWrite', writes: [{ gpa: hex(0x30_0000), hex: 'ff' }] }, // read-only: an MMIO exit
    get(1),
    read(0x30_0000, 1),
  ],
};
