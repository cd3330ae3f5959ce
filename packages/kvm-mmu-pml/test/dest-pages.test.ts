import { fc, test } from '@fast-check/vitest';
import { createHypervisor, PageMap, SparsePages } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { kvmMmuPml } from '../src/host/plugin.js';
import { Spte, type SpteTable } from '../src/host/mmu-pages.js';
import { DestPages } from '../src/scenarios/dest-pages.js';

const page = (words: Record<number, number>): Uint8Array => {
  const p = new Uint8Array(4096);
  const w = new Uint32Array(p.buffer);
  for (const [i, v] of Object.entries(words)) w[Number(i)] = v;
  return p;
};

describe('DestPages: what a pre-copy destination holds, compared page by page', () => {
  // A source memory's page (compact while it holds few words) and the same bytes as one array
  // give the same destination, and each compares equal to either form.
  const u64s = fc.array(fc.tuple(fc.integer({ min: 0, max: 511 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), { maxLength: 40 });
  test.prop([u64s, u64s, fc.boolean()], { numRuns: 200, seed: 7 })(
    'a source page sent compact or whole is the same page at the destination, and equals only its own bytes',
    (writes, other, promote) => {
      const mem = new SparsePages();
      const b = new Uint8Array(8);
      const put = (sp: SparsePages, idx: number, [k, v]: [number, bigint]): void => {
        new DataView(b.buffer).setBigUint64(0, v, true);
        sp.write(idx * 4096 + k * 8, b, 0, 8);
      };
      for (const w of writes) put(mem, 0, w);
      for (const w of other) put(mem, 1, w);
      if (promote) mem.page(1); // page 1 as a frame, page 0 compact (or not, past 32 words)
      const p0 = mem.pageAt(0);
      const p1 = mem.pageAt(1);
      const bytes0 = mem.peek(0) ?? new Uint8Array(4096);
      const bytes1 = mem.peek(1) ?? new Uint8Array(4096);
      const viaPage = new DestPages();
      const viaBytes = new DestPages();
      if (p0 !== undefined) expect(viaPage.receive(0, p0)).toBe(viaBytes.receive(0, bytes0));
      expect([...(viaPage.get(0) ?? new Uint8Array(4096))]).toEqual([...bytes0]);
      expect(viaPage.has(0)).toBe(viaBytes.has(0));
      expect(viaPage.equals(0, p0)).toBe(true);
      expect(viaBytes.equals(0, p0)).toBe(true);
      const same = bytes0.every((x, i) => x === bytes1[i]);
      expect(viaPage.equals(0, p1)).toBe(same);
      expect(viaBytes.equals(0, p1)).toBe(same);
      expect(viaPage.equals(0, bytes1)).toBe(same);
    },
  );

  it('a sparse page equals exactly its source, not a source with one more or one changed word', () => {
    const d = new DestPages();
    const src = page({ 3: 0xdead, 900: 1 });
    expect(d.receive(10, src)).toBe(true);
    expect(d.equals(10, src)).toBe(true);
    expect(d.equals(10, page({ 3: 0xdead, 900: 2 }))).toBe(false);
    expect(d.equals(10, page({ 3: 0xdead, 900: 1, 1023: 5 }))).toBe(false);
    expect(d.equals(10, page({ 3: 0xdead }))).toBe(false);
    expect(d.equals(10, undefined)).toBe(false);
    // equals() lays the frame out in a scratch page: it must be clean again for the next page
    expect(d.receive(11, page({ 7: 9 }))).toBe(true);
    expect(d.equals(11, page({ 7: 9 }))).toBe(true);
    expect(d.equals(11, page({ 7: 9, 3: 0xdead }))).toBe(false);
  });

  it('a dense page is kept whole; a zero page is dropped and equals zeros or no page', () => {
    const d = new DestPages();
    const dense = page(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [i * 20, i + 1])));
    expect(d.receive(1, dense)).toBe(true);
    expect(d.equals(1, dense)).toBe(true);
    expect(d.equals(1, page({}))).toBe(false);
    expect(d.equals(1, undefined)).toBe(false);
    expect(d.receive(1, page({}))).toBe(false);
    expect(d.has(1)).toBe(false);
    expect(d.equals(1, undefined)).toBe(true);
    expect(d.equals(1, page({}))).toBe(true);
    expect(d.equals(2, page({ 5: 1 }))).toBe(false); // never sent, but the source has data
  });

  test.prop([fc.dictionary(fc.integer({ min: 0, max: 1023 }).map(String), fc.integer({ min: 0, max: 0xffff_ffff }), { maxKeys: 60 }), fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 1, max: 0xffff_ffff })], { numRuns: 150, seed: 23 })(
    'equals(receive(p)) holds, and flipping any word breaks it (sparse and dense pages alike)',
    (words, at, delta) => {
      const d = new DestPages();
      const p = page(Object.fromEntries(Object.entries(words).map(([k, v]) => [Number(k), v])));
      d.receive(0, p);
      expect(d.equals(0, p)).toBe(true);
      expect([...d.get(0) ?? new Uint8Array(4096)]).toEqual([...p]);
      const q = p.slice();
      const w = new Uint32Array(q.buffer);
      w[at] = (w[at]! ^ delta) >>> 0;
      expect(d.equals(0, q)).toBe(false);
    },
  );
});

describe('Spte: the low-32-bit mirror the access fast path reads', () => {
  const hv = createHypervisor({ arch: 'x86_64', plugins: [kvmMmuPml({ variant: 'merged' })] });
  const vm = hv.createVm();
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 1n << 20n });
  const slot = vm.memslots.get(0, 0)!;
  const table: SpteTable = { root: 0x1000n, kind: 'tdp', adDisabled: false, eptp12: undefined, entries: new PageMap<Spte>() };
  test.prop([fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })], { numRuns: 200, seed: 5 })(
    'lo is bits 31:0 of value after construction and after every change (|=, &=, =)',
    (a, b) => {
      const s = new Spte(a, table, 1, 1, slot, 1);
      expect(s.lo).toBe(Number(a & 0xffff_ffffn));
      s.value |= b;
      expect(s.lo).toBe(Number((a | b) & 0xffff_ffffn));
      s.value &= ~b;
      expect(s.lo).toBe(Number((a & ~b) & 0xffff_ffffn));
      s.value = b;
      expect(s.value).toBe(b);
      expect(s.lo).toBe(Number(b & 0xffff_ffffn));
    },
  );
});
