// The dirty bitmap in KVM's layout (issue 22, mutation testing) against a reference set of
// pages: one bit per page, ALIGN(npages, 64) / 8 bytes, page i at byte i >> 3 bit i & 7
// (set_bit_le, kvm_dirty_bitmap_bytes() of virt/kvm/kvm_main.c, 5.4); bitmap_set() over any
// range (clamped to the slot), GET's xchg-and-clear, CLEAR's fetch_andnot per lane; the count of
// set bits always exact.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bitmapPages, DirtyBitmap, popcount32 } from '../src/vm/dirty-bitmap.js';

/** The KVM-layout bytes of a set of pages. */
function layout(npages: number, pages: Iterable<number>): Uint8Array {
  const out = new Uint8Array(DirtyBitmap.byteLength(npages));
  for (const p of pages) out[p >> 3]! |= 1 << (p & 7);
  return out;
}

function check(bm: DirtyBitmap, ref: Set<number>): void {
  expect([...bm.bytes]).toEqual([...layout(bm.npages, ref)]);
  expect(bm.dirtyCount).toBe(ref.size);
}

describe('DirtyBitmap', () => {
  it('is ALIGN(npages, 64) / 8 bytes; set() reports whether the bit was clear and counts each page once', () => {
    expect([1, 64, 65, 130].map(DirtyBitmap.byteLength)).toEqual([8, 8, 16, 24]);
    const bm = new DirtyBitmap(130);
    expect(bm.laneCount).toBe(6);
    expect(bm.set(0)).toBe(true);
    expect(bm.set(0)).toBe(false);
    expect(bm.set(33)).toBe(true);
    expect(bm.set(129)).toBe(true);
    expect(bm.test(33)).toBe(true);
    expect(bm.test(32)).toBe(false);
    check(bm, new Set([0, 33, 129]));
    expect(bm.lane(1)).toBe(2); // page 33 is bit 1 of lane 1
    expect(bm.lane(4)).toBe(2); // page 129 is bit 1 of lane 4
  });

  const ranges: [number, number[], number, number][] = [
    // npages, pages set before, first, count
    [130, [], 0, 130],
    [130, [], 5, 3], // inside one lane
    [130, [], 30, 5], // across a lane edge
    [130, [], 3, 100], // partial, whole lanes, partial
    [130, [40, 70, 71], 3, 100], // whole lanes that already had bits
    [130, [0, 127], 32, 64], // exactly two whole lanes
    [130, [], 64, 32], // one whole lane
    [130, [], 120, 100], // runs past the end: clamped
    [130, [], -10, 15], // starts before 0: clamped
    [130, [7], 50, 0], // empty
    [130, [7], 200, 5], // beyond the end
    [130, [7], 129, 1], // the last page
    [70, [], 0, 70], // INITIALLY_SET of a slot that is not a whole number of lanes
  ];
  it.each(ranges)('setRange on %d pages (set before: %j) from %d, %d pages', (npages, before, first, count) => {
    const bm = new DirtyBitmap(npages);
    const ref = new Set<number>();
    for (const p of before) {
      bm.set(p);
      ref.add(p);
    }
    bm.setRange(first, count);
    for (let p = Math.max(0, first); p < Math.min(first + count, npages); p++) ref.add(p);
    check(bm, ref);
  });

  it('setRange agrees with the reference for any range and any bits set before', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.array(fc.nat(199)), fc.integer({ min: -40, max: 240 }), fc.nat(240), (npages, pre, first, count) => {
        const bm = new DirtyBitmap(npages);
        const ref = new Set<number>();
        for (const p of pre.filter((x) => x < npages)) {
          bm.set(p);
          ref.add(p);
        }
        bm.setRange(first, count);
        for (let p = Math.max(0, first); p < Math.min(first + count, npages); p++) ref.add(p);
        check(bm, ref);
      }),
      { numRuns: 200 },
    );
  });

  it('INITIALLY_SET marks every page of the slot and nothing after it', () => {
    const bm = new DirtyBitmap(100, true);
    check(bm, new Set(Array.from({ length: 100 }, (_, i) => i)));
  });

  it('harvest returns the bits and clears them; snapshot only copies; both fill a caller buffer, clean or not', () => {
    const bm = new DirtyBitmap(128);
    const buf = new Uint8Array(20).fill(0xaa);
    expect(bm.snapshot(buf)).toBe(buf);
    expect([...buf]).toEqual([...new Uint8Array(16), 0xaa, 0xaa, 0xaa, 0xaa]); // only the bitmap's bytes
    buf.fill(0xaa);
    expect(bm.harvest(buf)).toBe(buf);
    expect([...buf.subarray(0, 16)]).toEqual([...new Uint8Array(16)]);
    expect([...bm.harvest()]).toEqual([...new Uint8Array(16)]);
    bm.set(9);
    bm.set(100);
    expect(bitmapPages(bm.snapshot())).toEqual([9, 100]);
    expect(bm.dirtyCount).toBe(2);
    const out = new Uint8Array(16).fill(0xff);
    expect(bitmapPages(bm.harvest(out))).toEqual([9, 100]);
    expect(bm.dirtyCount).toBe(0);
    check(bm, new Set());
  });

  it('clearLane clears only the bits of the mask that were set and returns exactly those', () => {
    const bm = new DirtyBitmap(128);
    for (const p of [32, 33, 40, 63]) bm.set(p);
    expect(bm.clearLane(1, (1 << 1) | (1 << 2) | (1 << 31))).toBe(((1 << 1) | (1 << 31)) >>> 0); // pages 33 and 63 were set, 34 not
    check(bm, new Set([32, 40]));
    expect(bm.clearLane(1, 0)).toBe(0);
    expect(bm.clearLane(0, 0xffff_ffff)).toBe(0);
    check(bm, new Set([32, 40]));
  });

  it('popcount32 counts the bits of any 32-bit value', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (x) => {
      expect(popcount32(x)).toBe(x.toString(2).split('').filter((c) => c === '1').length);
    }));
  });

  it('bitmapPages lists the set pages in order', () => {
    expect(bitmapPages(new Uint8Array([0b1000_0001, 0, 0b10]))).toEqual([0, 7, 17]);
    expect(bitmapPages(new Uint8Array(3))).toEqual([]);
  });
});
