// The default MMU for an L2 access when no EPT MMU plugin is installed (issue 22, mutation
// testing): each L2 page is translated on its own through L1's EPT12 (FNAME(walk_addr_generic)
// with PTTYPE_EPT, arch/x86/kvm/paging_tmpl.h, 5.4), so an access that crosses an L2 page edge
// lands on two unrelated L1 pages; a load needs only read permission, a store needs write; a
// page EPT12 does not allow ends the access with an EPT violation (exit 48) for L1 naming the
// L2 address of that page (nested_ept_inject_page_fault(), arch/x86/kvm/vmx/nested.c).
import { describe, expect, it } from 'vitest';
import { leBytes } from '../src/bigint.js';
import * as program from '../src/x86/guest/program.js';
import { vmlaunch, vmreadz } from '../src/x86/guest/vmx.js';
import * as F from '../src/x86/vmcs-fields.js';
import * as C from '../src/x86/vmx-constants.js';
import { l1WithVmcs, L2_CODE, rig } from './nested/rig.js';

/** L2 data pages (64 GiB up) and the L1 pages EPT12 maps them to: deliberately not contiguous. */
const L2 = 0x10_0000_0000n;
const RW0 = 0x50_0000n; // L2 page 0, read/write
const RW1 = 0x58_0000n; // L2 page 1, read/write
const RO2 = 0x5c_0000n; // L2 page 2, read only
// L2 page 3: not present.
const WB = 6n << 3n; // EPT memory type write-back (bits 5:3)

/** EPT12 (4 levels, 4 KiB leaves) for the data pages above; returns EPTP12 (WB, walk length 4, A/D). */
function ept12(r: ReturnType<typeof rig>): bigint {
  const base = 0x70_0000n;
  const pml4 = base, pdpt = base + 0x1000n, pd = base + 0x2000n, pt = base + 0x3000n;
  const w = (at: bigint, v: bigint) => r.vm.memory.write(at, leBytes(8, v));
  w(pml4, pdpt | 7n);
  w(pdpt + 64n * 8n, pd | 7n); // L2 64 GiB
  w(pd, pt | 7n);
  w(pt + 0n * 8n, RW0 | 7n | WB);
  w(pt + 1n * 8n, RW1 | 7n | WB);
  w(pt + 2n * 8n, RO2 | 1n | WB); // read only: no write, no execute
  return pml4 | 0x5en;
}

/** Runs `body` as L2 on EPT12 until its first exit to L1; returns the exit reason. */
function runL2(r: ReturnType<typeof rig>, body: () => Generator<ReturnType<typeof program.vmcall>, void, bigint>): number {
  r.nested.loadProgram(r.vm, L2_CODE, body);
  l1WithVmcs(r.vcpu, { guestRip: L2_CODE, eptp: ept12(r) });
  vmlaunch(r.vcpu);
  return Number(vmreadz(r.vcpu, F.VM_EXIT_REASON));
}

describe('L2 accesses through EPT12 in the default MMU', () => {
  it('a store across an L2 page edge is split at the edge onto the two L1 pages EPT12 names', () => {
    const r = rig();
    const reason = runL2(r, function* () {
      yield* program.store64(L2 + 0xffcn, 0x1122_3344_5566_7788n);
      yield program.vmcall();
    });
    expect(reason).toBe(C.EXIT_REASON_VMCALL);
    expect([...r.vm.memory.read(RW0 + 0xffcn, 4)]).toEqual([0x88, 0x77, 0x66, 0x55]);
    expect([...r.vm.memory.read(RW1, 4)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    // Nothing went to the L1 page after RW0, nor before RW1, nor to the L2 addresses as L1 addresses.
    expect([...r.vm.memory.read(RW0 + 0x1000n, 4)]).toEqual([0, 0, 0, 0]);
    expect([...r.vm.memory.read(RW1 - 4n, 4)]).toEqual([0, 0, 0, 0]);
    expect([...r.vm.memory.read(RW0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('a load across an L2 page edge reads both L1 pages from the right offsets; a read-only page can be loaded', () => {
    const r = rig();
    r.vm.memory.write(RW0 + 0xffan, new Uint8Array([0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5]));
    r.vm.memory.write(RW1, new Uint8Array([0xb0, 0xb1]));
    r.vm.memory.write(RO2 + 0x10n, leBytes(8, 0xcafe_f00dn));
    const reason = runL2(r, function* () {
      const across = yield* program.load64(L2 + 0xffan); // 6 bytes of page 0, 2 of page 1
      const ro = yield* program.load64(L2 + 0x2010n);
      yield* program.store64(L2 + 0x100n, across);
      yield* program.store64(L2 + 0x108n, ro);
      yield program.vmcall();
    });
    expect(reason).toBe(C.EXIT_REASON_VMCALL);
    expect(r.vm.memory.readU64(RW0 + 0x100n)).toBe(0xb1b0_a5a4_a3a2_a1a0n);
    expect(r.vm.memory.readU64(RW0 + 0x108n)).toBe(0xcafe_f00dn);
  });

  it('a store reaching a read-only L2 page is an EPT violation at that page (write access, read allowed); the page is untouched', () => {
    const r = rig();
    r.vm.memory.write(RO2, new Uint8Array([9, 9, 9, 9]));
    const reason = runL2(r, function* () {
      yield* program.store64(L2 + 0x1ffcn, 0x1122_3344_5566_7788n);
      yield program.vmcall();
    });
    expect(reason).toBe(C.EXIT_REASON_EPT_VIOLATION);
    expect(vmreadz(r.vcpu, F.GUEST_PHYSICAL_ADDRESS)).toBe(L2 + 0x2000n);
    expect(vmreadz(r.vcpu, F.EXIT_QUALIFICATION) & 0x3fn).toBe(2n | (1n << 3n)); // data write; EPT12 allowed read
    expect([...r.vm.memory.read(RO2, 4)]).toEqual([9, 9, 9, 9]);
  });

  it('a load reaching a page EPT12 does not map is an EPT violation at that page (read access, nothing allowed)', () => {
    const r = rig();
    const reason = runL2(r, function* () {
      yield* program.load64(L2 + 0x2ffcn);
      yield program.vmcall();
    });
    expect(reason).toBe(C.EXIT_REASON_EPT_VIOLATION);
    expect(vmreadz(r.vcpu, F.GUEST_PHYSICAL_ADDRESS)).toBe(L2 + 0x3000n);
    expect(vmreadz(r.vcpu, F.EXIT_QUALIFICATION) & 0x3fn).toBe(1n); // data read; EPT12 allowed nothing
  });
});
