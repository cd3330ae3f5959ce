// The default write-protect MMU (issue 22, mutation testing): a guest store to a clean page of
// a logging slot takes one write-protection fault and marks the page; stores outside every slot
// or into a read-only slot are MMIO exits carrying exactly the bytes of that page; loads from a
// read-only slot read memory. Rules: fast_page_fault() / kvm_vcpu_mark_page_dirty() of
// arch/x86/kvm/mmu.c and virt/kvm/kvm_main.c (5.4); KVM_MEM_READONLY (Documentation/virt/kvm/api.txt).
import { describe, expect, it } from 'vitest';
import { KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from '../src/constants.js';
import type { WriteProtectMmu } from '../src/vm/mmu.js';
import type { Vm } from '../src/vm/vm.js';
import { x86Vm } from './helpers.js';

const PAGE = 4096n;
const PAGE_BYTES = 4096;
const BASE = 0x10_0000n; // slot 1: 4 logged pages; slot 2 right after: 2 read-only pages; then nothing

function setup() {
  const vm = x86Vm();
  vm.setUserMemoryRegion({ slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: BASE, memorySize: 4n * PAGE });
  vm.setUserMemoryRegion({ slot: 2, flags: KVM_MEM_READONLY, guestPhysAddr: BASE + 4n * PAGE, memorySize: 2n * PAGE });
  vm.setUserMemoryRegion({ slot: 3, flags: 0, guestPhysAddr: 0x40_0000n, memorySize: 2n * PAGE });
  const vcpu = vm.createVcpu(0);
  const exits: { gpa: bigint; write: boolean; data: number[] }[] = [];
  vm.onMmio = (_v, e) => {
    exits.push({ gpa: e.gpa!, write: e.isWrite!, data: [...e.data!] });
    if (!e.isWrite) e.data!.fill(0xab);
  };
  return { vm, vcpu, exits, mmu: vm.mmu as WriteProtectMmu };
}
const dirtyPages = (vm: Vm, slot: number) => {
  const bm = vm.getDirtyLog(slot);
  const out: number[] = [];
  bm.forEach((b, i) => {
    for (let k = 0; k < 8; k++) if ((b >> k) & 1) out.push(i * 8 + k);
  });
  return out;
};

describe('write-protection tracking', () => {
  it('one fault per clean page; a second store to a dirty page takes none', () => {
    const { vm, vcpu, mmu } = setup();
    expect(mmu.name).toBe('write-protect');
    vcpu.write(BASE + 8n, new Uint8Array([1, 2]));
    vcpu.write(BASE + 16n, new Uint8Array([3]));
    expect(mmu.stats.writeProtectFaults).toBe(1);
    vcpu.write(BASE + PAGE - 1n, new Uint8Array([4, 5])); // pages 0 and 1
    expect(mmu.stats.writeProtectFaults).toBe(2);
    expect(dirtyPages(vm, 1)).toEqual([0, 1]);
    // GET_DIRTY_LOG re-protected them: the next store faults again.
    vcpu.write(BASE + 8n, new Uint8Array([6]));
    expect(mmu.stats.writeProtectFaults).toBe(3);
    expect(vm.memory.read(BASE + 8n, 2)).toEqual(new Uint8Array([6, 2]));
    expect(vm.memory.read(BASE + PAGE - 1n, 2)).toEqual(new Uint8Array([4, 5]));
  });

  it('a slot without logging takes no faults and has no bitmap', () => {
    const { vm, vcpu, mmu } = setup();
    vcpu.write(0x40_0000n + PAGE - 4n, new Uint8Array(8).fill(9));
    expect(mmu.stats.writeProtectFaults).toBe(0);
    expect(vm.memory.read(0x40_0000n + PAGE - 4n, 8)).toEqual(new Uint8Array(8).fill(9));
  });

  it('a store spanning four pages writes each byte where it belongs', () => {
    const { vm, vcpu } = setup();
    const bytes = Uint8Array.from({ length: Number(2n * PAGE) + 2 }, (_, i) => (i * 7) & 0xff);
    vcpu.write(BASE + PAGE - 1n, bytes);
    expect(vm.memory.read(BASE + PAGE - 1n, bytes.length)).toEqual(bytes);
    expect(dirtyPages(vm, 1)).toEqual([0, 1, 2, 3]);
    expect(vcpu.read(BASE + PAGE - 1n, bytes.length)).toEqual(bytes);
  });

  it('a load at an offset inside a page reads from that offset', () => {
    const { vm, vcpu } = setup();
    vm.memory.write(0x40_0000n + 0x7fen, new Uint8Array([0x31, 0x32, 0x33, 0x34]));
    expect(vcpu.read(0x40_0000n + 0x7ffn, 2)).toEqual(new Uint8Array([0x32, 0x33]));
    vm.memory.write(BASE + 4n * PAGE + 0x123n, new Uint8Array([0x41, 0x42])); // the read-only slot
    expect(vcpu.read(BASE + 4n * PAGE + 0x123n, 2)).toEqual(new Uint8Array([0x41, 0x42]));
  });
});

describe('MMIO exits', () => {
  it('a store into a read-only slot exits with its bytes and leaves memory alone; a load reads memory', () => {
    const { vm, vcpu, exits } = setup();
    vm.memory.write(BASE + 4n * PAGE, new Uint8Array([0x11, 0x22]));
    vcpu.write(BASE + 4n * PAGE, new Uint8Array([1, 2]));
    expect(exits).toEqual([{ gpa: BASE + 4n * PAGE, write: true, data: [1, 2] }]);
    expect(vm.memory.read(BASE + 4n * PAGE, 2)).toEqual(new Uint8Array([0x11, 0x22]));
    expect(vcpu.read(BASE + 4n * PAGE, 2)).toEqual(new Uint8Array([0x11, 0x22]));
    expect(exits).toHaveLength(1);
    expect(vm.stats.mmioExits).toBe(1);
  });

  it('a store from the last logged page into the read-only slot splits at the page edge', () => {
    const { vm, vcpu, exits } = setup();
    vcpu.write(BASE + 4n * PAGE - 2n, new Uint8Array([1, 2, 3, 4]));
    expect(vm.memory.read(BASE + 4n * PAGE - 2n, 2)).toEqual(new Uint8Array([1, 2]));
    expect(exits).toEqual([{ gpa: BASE + 4n * PAGE, write: true, data: [3, 4] }]);
    expect(dirtyPages(vm, 1)).toEqual([3]);
  });

  it('loads and stores beyond every slot exit per page; the VMM fills what a load returns', () => {
    const { vcpu, exits } = setup();
    const hole = BASE + 6n * PAGE;
    vcpu.write(hole + PAGE - 1n, new Uint8Array([7, 8]));
    expect(exits).toEqual([
      { gpa: hole + PAGE - 1n, write: true, data: [7] },
      { gpa: hole + PAGE, write: true, data: [8] },
    ]);
    exits.length = 0;
    expect(vcpu.read(BASE + 6n * PAGE - 1n, 3)).toEqual(new Uint8Array([0, 0xab, 0xab])); // last RO byte, then the hole
    expect(exits).toEqual([{ gpa: hole, write: false, data: [0, 0] }]);
  });

  it('a store above 2^53 (no slot can be there) is an MMIO exit at the exact address', () => {
    const { vcpu, exits } = setup();
    const gpa = (1n << 53n) + 0xffen;
    vcpu.write(gpa, new Uint8Array([1, 2, 3]));
    expect(exits).toEqual([
      { gpa, write: true, data: [1, 2] },
      { gpa: gpa + 2n, write: true, data: [3] },
    ]);
  });

  it('above 2^53 an odd GPA, which a double cannot hold, still splits at its own page edge', () => {
    const { vcpu, exits } = setup();
    const gpa = (1n << 53n) + 0xfffn; // as a double it would round to the next page
    vcpu.write(gpa, new Uint8Array(PAGE_BYTES + 2).fill(5));
    expect(exits.map((e) => [e.gpa, e.data.length])).toEqual([
      [gpa, 1],
      [gpa + 1n, PAGE_BYTES],
      [gpa + 1n + PAGE, 1],
    ]);
  });
});
