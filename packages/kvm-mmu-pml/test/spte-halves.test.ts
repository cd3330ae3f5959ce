/**
 * A leaf keeps its 64-bit value as two 32-bit halves: every way of changing it must leave the
 * halves equal to the value, and the number-only kind tests must agree with the bigint ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PageMap, type Memslot } from '@kvmlab/hypervisor-core';
import { Spte, type SpteTable } from '../src/host/mmu-pages.js';
import { leafAdEnabled, leafAdNeedWriteProtect, spteAdEnabled, spteAdNeedWriteProtect, spteKinds, VARIANTS } from '../src/host/spte.js';

const table: SpteTable = { root: 0n, kind: 'tdp', adDisabled: false, eptp12: undefined, entries: new PageMap<Spte>() };
const leaf = (v: bigint): Spte => new Spte(v, table, 0, 0, {} as Memslot, 0);
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const low = fc.integer({ min: 0, max: 0xffff_ffff });

describe('Spte halves', () => {
  it('value, setLowBits and clearLowBits act as 64-bit arithmetic on the value', () => {
    fc.assert(
      fc.property(u64, low, low, u64, (v, set, clear, next) => {
        const s = leaf(v);
        expect(s.value).toBe(v);
        expect(s.lo).toBe(Number(v & 0xffff_ffffn));
        expect(s.hi).toBe(Number(v >> 32n));
        s.setLowBits(set);
        expect(s.value).toBe(v | BigInt(set));
        const before = s.value;
        const changed = s.clearLowBits(clear);
        expect(s.value).toBe(before & ~BigInt(clear));
        expect(changed).toBe((before & BigInt(clear)) !== 0n);
        s.value = next;
        expect(s.value).toBe(next);
        expect(s.hi * 2 ** 32 + s.lo).toBe(Number(next));
      }),
    );
  });

  it('the kind tests on the high half agree with the bigint ones, in both kernels', () => {
    const kindBits = fc.constantFrom(0n, 1n << 52n, 2n << 52n, 3n << 52n, 1n << 62n, (1n << 62n) | (3n << 52n));
    fc.assert(
      fc.property(u64, kindBits, fc.constantFrom(...VARIANTS), (v, kind, variant) => {
        const k = spteKinds(variant);
        const x = (v & ~((1n << 62n) | (3n << 52n))) | kind;
        expect(leafAdEnabled(k, leaf(x))).toBe(spteAdEnabled(k, x));
        expect(leafAdNeedWriteProtect(k, leaf(x))).toBe(spteAdNeedWriteProtect(k, x));
      }),
    );
  });
});

describe('PML log entries written and read as 32-bit halves', () => {
  it('logGfn / loggedGfn round-trip every gfn a u64 GPA can hold, and the u64 entry is the GPA', async () => {
    const { createHypervisor } = await import('@kvmlab/hypervisor-core');
    const { kvmMmuOf, kvmMmuPml } = await import('../src/host/plugin.js');
    const vm = createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml({ variant: 'merged' })] }).createVm();
    const v = kvmMmuOf(vm).vcpuVmx(vm.createVcpu(0));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 511 }), fc.oneof(fc.integer({ min: 0, max: 2 ** 20 }), fc.integer({ min: 0, max: 2 ** 52 - 1 })), (idx, gfn) => {
        v.logGfn(idx, gfn);
        expect(v.pmlBuffer[idx]).toBe(BigInt(gfn) << 12n);
        expect(v.loggedGfn(idx)).toBe(gfn);
      }),
    );
    v.pmlBuffer[3] = (1n << 64n) - 1n; // a full u64 (bits 11:0 are not the gfn's)
    expect(v.loggedGfn(3)).toBe(Number(((1n << 64n) - 1n) >> 12n));
  });
});

describe('set_spte builds the leaf in halves', () => {
  it('the value is the bigint formula of set_spte() for any gfn, table kind and access (v5.3 and v5.4 kinds)', async () => {
    const { createHypervisor, VMX_EPT_EXECUTABLE_MASK, VMX_EPT_READABLE_MASK } = await import('@kvmlab/hypervisor-core');
    const { kvmMmuOf, kvmMmuPml } = await import('../src/host/plugin.js');
    const { HOST_PFN_BASE, RAM_MT_MASK, setSpte } = await import('../src/host/set-spte.js');
    const { PageMap } = await import('@kvmlab/hypervisor-core');
    const { PT_WRITABLE_MASK, SPTE_HOST_WRITEABLE, SPTE_MMU_WRITEABLE } = await import('../src/constants.js');
    const { spteShadowAccessedMask, spteShadowDirtyMask } = await import('../src/host/spte.js');
    for (const variant of VARIANTS) {
      const vm = createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml({ variant })] }).createVm();
      vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 1n << 40n });
      const m = kvmMmuOf(vm);
      const v = m.vcpuVmx(vm.createVcpu(0));
      const slot = vm.memslots.get(0, 0)!;
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 28 - 1 }), fc.boolean(), fc.boolean(), fc.boolean(), (gfn, adDisabled, writable, executable) => {
          const table = { root: 0n, kind: 'tdp' as const, adDisabled, eptp12: undefined, entries: new PageMap<Spte>() };
          const k = m.cfg.kinds;
          let want = adDisabled ? k.adDisabled : 0n;
          want |= spteShadowAccessedMask(k, want, m.cfg.shadowAccessedMask);
          want |= VMX_EPT_READABLE_MASK | (executable ? VMX_EPT_EXECUTABLE_MASK : 0n) | RAM_MT_MASK | SPTE_HOST_WRITEABLE;
          want |= (HOST_PFN_BASE + BigInt(gfn)) << 12n;
          if (writable) {
            want |= PT_WRITABLE_MASK | SPTE_MMU_WRITEABLE;
            want |= spteShadowDirtyMask(k, want, m.cfg.shadowDirtyMask);
          }
          expect(setSpte(m, v, { table, inGfn: gfn, gfn, slot, writable, executable }).value).toBe(want);
        }),
        { numRuns: 200 },
      );
    }
  });
});
