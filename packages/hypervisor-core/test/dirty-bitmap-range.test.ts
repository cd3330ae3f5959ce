/**
 * DirtyBitmap copies and clears only the lanes a bit was set in since the last clear (issue 23's
 * speed-up). These tests hold it to a plain one-byte-per-page model: any mix of set, setRange,
 * clearLane, snapshot and harvest, with and without a caller's buffer, gives exactly the bytes
 * a whole-bitmap copy and clear would.
 */
import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { DirtyBitmap } from '../src/vm/dirty-bitmap.js';

/** The KVM layout of a set of pages, computed the slow way. */
function layout(npages: number, bits: readonly boolean[]): Uint8Array {
  const out = new Uint8Array(DirtyBitmap.byteLength(npages));
  bits.forEach((b, i) => {
    if (b) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

type Op =
  | { readonly k: 'set'; readonly p: number }
  | { readonly k: 'range'; readonly first: number; readonly count: number }
  | { readonly k: 'clear'; readonly lane: number; readonly mask: number }
  | { readonly k: 'snapshot'; readonly into: boolean }
  | { readonly k: 'harvest'; readonly into: boolean };

const NPAGES = 300; // not a multiple of 32 or 64: the last lane is partial

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('set' as const), p: fc.nat(NPAGES - 1) }),
  fc.record({ k: fc.constant('range' as const), first: fc.nat(NPAGES), count: fc.nat(NPAGES) }),
  fc.record({ k: fc.constant('clear' as const), lane: fc.nat(Math.ceil(NPAGES / 32) - 1), mask: fc.integer({ min: 0, max: 0xffff_ffff }) }),
  fc.record({ k: fc.constant('snapshot' as const), into: fc.boolean() }),
  fc.record({ k: fc.constant('harvest' as const), into: fc.boolean() }),
);

describe('DirtyBitmap: lane-range copy and clear', () => {
  fcTest.prop([fc.array(op, { maxLength: 40 })], { seed: 23, numRuns: 400 })('matches a whole-bitmap model', (ops) => {
    const bm = new DirtyBitmap(NPAGES);
    const ref: boolean[] = Array.from({ length: NPAGES }, () => false);
    // A caller's buffer full of junk: everything a GET returns in it must be overwritten.
    const junk = (): Uint8Array => new Uint8Array(DirtyBitmap.byteLength(NPAGES) + 8).fill(0xa5);
    for (const o of ops) {
      if (o.k === 'set') {
        expect(bm.set(o.p)).toBe(!ref[o.p]);
        ref[o.p] = true;
      } else if (o.k === 'range') {
        bm.setRange(o.first, o.count);
        for (let p = o.first; p < Math.min(o.first + o.count, NPAGES); p++) ref[p] = true;
      } else if (o.k === 'clear') {
        let was = 0;
        for (let b = 0; b < 32; b++) {
          const p = o.lane * 32 + b;
          if (p < NPAGES && ref[p] && ((o.mask >>> b) & 1) !== 0) {
            was |= 1 << b;
            ref[p] = false;
          }
        }
        expect(bm.clearLane(o.lane, o.mask)).toBe(was >>> 0);
      } else {
        const into = o.into ? junk() : undefined;
        const got = o.k === 'snapshot' ? bm.snapshot(into) : bm.harvest(into);
        const want = layout(NPAGES, ref);
        expect(got.subarray(0, want.length)).toEqual(want);
        if (into !== undefined) {
          expect(got).toBe(into);
          expect([...into.subarray(want.length)]).toEqual(Array(8).fill(0xa5)); // past byteLength: untouched
        } else {
          expect(got.length).toBe(want.length);
        }
        if (o.k === 'harvest') ref.fill(false);
      }
      expect(bm.bytes).toEqual(layout(NPAGES, ref));
      expect(bm.dirtyCount).toBe(ref.filter(Boolean).length);
    }
  });

  it('a harvest after bits far apart clears both ends and nothing is left behind', () => {
    const bm = new DirtyBitmap(1 << 20);
    bm.set(5);
    bm.set((1 << 20) - 1);
    const snap = bm.harvest();
    expect(snap[0]).toBe(1 << 5);
    expect(snap[snap.length - 1]).toBe(0x80);
    expect(bm.bytes.every((b) => b === 0)).toBe(true);
    // A later bit alone: the copy holds it and nothing from before.
    bm.set(40);
    const again = bm.harvest(new Uint8Array(bm.bytes.length).fill(0xff));
    expect(again.reduce((n, b) => n + (b === 0 ? 0 : 1), 0)).toBe(1);
    expect(again[5]).toBe(1);
  });
});
