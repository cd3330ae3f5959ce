/**
 * A leaf keeps its 64-bit value as two 32-bit halves: every way of changing it must leave the
 * halves equal to the value, and the number-only kind tests must agree with the bigint ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Memslot } from '@kvmlab/hypervisor-core';
import { LeafMap } from '../src/host/leaf-map.js';
import { Spte, type SpteTable } from '../src/host/mmu-pages.js';
import { leafAdEnabled, leafAdNeedWriteProtect, spteAdEnabled, spteAdNeedWriteProtect, spteKinds, VARIANTS } from '../src/host/spte.js';

const table: SpteTable = { root: 0n, kind: 'tdp', adDisabled: false, eptp12: undefined, entries: new LeafMap<Spte>() };
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
