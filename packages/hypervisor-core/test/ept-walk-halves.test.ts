import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { createHypervisor } from '../src/index.js';
import { makeEptp, walkEpt } from '../src/x86/ept.js';
import { EptWalkHalves, walkEptHalves } from '../src/x86/ept-walk-halves.js';
import { l1TableEntries, l1TableMemory } from '../src/x86/nested/ept12-walk.js';

/** A VM whose first MiB holds EPT tables; pages 1..4 are the table pages the entries point at. */
function tablesVm(entries: readonly (readonly [bigint, bigint])[]) {
  const vm = createHypervisor({ arch: 'x86_64', seed: 1 }).createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 1n << 20n });
  for (const [pa, v] of entries) vm.memory.writeU64(pa, v);
  return vm;
}

const dump = (vm: ReturnType<typeof tablesVm>): bigint[] => Array.from({ length: 5 * 512 }, (_, i) => vm.memory.readU64(BigInt(i) * 8n));

/** One level's entry: random flags (R/W/X, large page, A, D, high bits) and an address that is a table page, another page, or outside the slot. */
const entryArb = fc.record({
  flags: fc.bigInt({ min: 0n, max: 0x3ffn }),
  high: fc.constantFrom(0n, 1n << 63n, 1n << 52n),
  target: fc.oneof(fc.integer({ min: 1, max: 4 }).map((p) => BigInt(p) << 12n), fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }).map((a) => a & ~0xfffn)),
});

describe('walkEptHalves: the walk in doubles and halves', () => {
  test.prop([
    fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 511 }), entryArb), { minLength: 1, maxLength: 24 }),
    fc.array(fc.tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 8 }),
    fc.boolean(),
    fc.integer({ min: 1, max: 4 }),
  ])('reads, writes and concludes exactly as walkEpt on random tables', (placed, walks, ad, rootPage) => {
    const entries = placed.map(([page, idx, e]) => [BigInt(page) * 0x1000n + BigInt(idx) * 8n, e.high | e.target | e.flags] as const);
    // Steer some walks through the placed entries: their indexes become the address's index bits.
    const steered = walks.map(([gpa, w, f], k) => {
      const at = entries[k % entries.length]!;
      const idx = (at[0] & 0xfffn) >> 3n;
      const level = BigInt(k % 4);
      return [(gpa & ~(0x1ffn << (12n + 9n * level))) | (idx << (12n + 9n * level)), w, f] as const;
    });
    const slow = tablesVm(entries);
    const fast = tablesVm(entries);
    const markedSlow: bigint[] = [];
    const markedFast: number[] = [];
    const memSlow = l1TableMemory(slow, (g) => void markedSlow.push(g));
    const memFast = l1TableEntries(fast, (g) => void markedFast.push(g));
    const eptp = makeEptp(BigInt(rootPage) << 12n, ad);
    const out = new EptWalkHalves();
    for (const [gpa, write, fetch] of [...walks, ...steered]) {
      const want = walkEpt(memSlow, eptp, gpa, { write, fetch });
      expect(walkEptHalves(memFast, eptp, gpa, write, fetch, out).toResult()).toEqual(want);
    }
    expect(markedFast.map(BigInt)).toEqual(markedSlow);
    expect(dump(fast)).toEqual(dump(slow));
  });

  it('a 2 MiB leaf translates the low 21 bits and sets A then D, as SDM §28.2.4 says', () => {
    const rwx = 7n;
    const vm = tablesVm([
      [0x1000n, 0x2000n | rwx],
      [0x2000n, 0x3000n | rwx],
      [0x3000n + 8n, 0x4000_0000n | rwx | (1n << 7n)], // PDE 1: 2 MiB page at 1 GiB
    ]);
    const marked: number[] = [];
    const out = new EptWalkHalves();
    const eptp = makeEptp(0x1000n, true);
    walkEptHalves(l1TableEntries(vm, (g) => void marked.push(g)), eptp, 0x20_1234n + 0x5_0000n, true, false, out);
    expect({ ok: out.ok, level: out.level, pa: out.pa, setDirty: out.setDirty, path: out.path.slice(0, out.pathLength) })
      .toEqual({ ok: true, level: 2, pa: 0x4000_0000 + 0x1234 + 0x5_0000, setDirty: true, path: [0x1000, 0x2000, 0x3008] });
    expect(vm.memory.readU64(0x3008n) & 0x300n).toBe(0x300n);
    expect(vm.memory.readU64(0x1000n) & 0x100n).toBe(0x100n);
    expect(marked).toEqual([1, 2, 3]); // each table page written once, marked dirty, in walk order
  });

  it('bits above 47 of the input address index nothing', () => {
    const vm = tablesVm([[0x1000n, 0x2000n | 7n], [0x2000n, 0x4000_0000n | 7n | (1n << 7n)]]);
    const out = new EptWalkHalves();
    walkEptHalves(l1TableEntries(vm), makeEptp(0x1000n, false), (1n << 63n) | (1n << 50n) | 0x123n, false, false, out);
    expect([out.ok, out.level, out.pa]).toEqual([true, 3, 0x4000_0123]);
  });

  it('tables above 4 GiB and permissions each level takes away: the same outcome as walkEpt', () => {
    const vm = tablesVm([[0x1000n, 0x1_0000_2000n | 7n]]);
    vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x1_0000_0000n, memorySize: 1n << 20n });
    vm.memory.writeU64(0x1_0000_2000n, 0x3000n | 5n); // PDPTE: R-X (no W)
    vm.memory.writeU64(0x3000n, 0x4000n | 3n); // PDE: RW- (no X)
    vm.memory.writeU64(0x4000n, 0x8_0000n | 7n); // PTE
    const mem = l1TableMemory(vm);
    const entries = l1TableEntries(vm);
    const out = new EptWalkHalves();
    const eptp = makeEptp(0x1000n, true);
    const cases = [[false, false], [true, false], [false, true]] as const;
    const got = cases.map(([w, f]) => walkEptHalves(entries, eptp, 0x123n, w, f, out).toResult());
    expect(got.map((r) => (r.ok ? `ok ${r.pa}` : `${r.reason} ${r.level} ${r.rwx}`))).toEqual(['ok 524579', 'permission 1 1', 'permission 1 1']);
    expect(got).toEqual(cases.map(([w, f]) => walkEpt(mem, eptp, 0x123n, { write: w, fetch: f })));
    expect(got[0]!.ok && got[0]!.path).toEqual([0x1000n, 0x1_0000_2000n, 0x3000n, 0x4000n]);
  });
});
