/** PageMap is a Map of page numbers: the same answers as one, whatever the gfns (directory or far). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PageMap, PROMOTE_AT } from '../src/vm/page-map.js';

const gfn = fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 2 ** 31 - 2, max: 2 ** 52 }));
// gfns packed into three 2 MiB regions, so that regions fill past PROMOTE_AT and get their leaf
const clustered = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 511 })).map(([r, o]) => r * 512 + o);
const opOf = (gfn: fc.Arbitrary<number>) => fc.oneof(
  fc.record({ kind: fc.constant('set' as const), gfn, value: fc.integer({ min: -1, max: 600 }) }),
  fc.record({ kind: fc.constant('delete' as const), gfn }),
);
const op = fc.oneof(opOf(gfn), opOf(clustered), opOf(clustered));

describe('PageMap', () => {
  it('agrees with a Map under any sets and deletes; iterates gfns ascending', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.array(gfn, { maxLength: 10 }), (ops, probes) => {
        const lm = new PageMap<number>();
        const m = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            expect(lm.set(o.gfn, o.value)).toBe(lm);
            m.set(o.gfn, o.value);
          } else expect(lm.delete(o.gfn)).toBe(m.delete(o.gfn));
          expect(lm.size).toBe(m.size);
        }
        for (const g of [...probes, ...m.keys()]) {
          expect(lm.get(g)).toBe(m.get(g));
          expect(lm.has(g)).toBe(m.has(g));
        }
        const sorted = [...m].sort((a, b) => a[0] - b[0]);
        expect([...lm.entries()]).toEqual(sorted);
        expect([...lm.keys()]).toEqual(sorted.map(([k]) => k));
        expect([...lm.values()]).toEqual(sorted.map(([, v]) => v));
        expect(lm.keyArray()).toEqual(sorted.map(([k]) => k));
        lm.clear();
        expect(lm.size).toBe(0);
        expect(lm.keyArray()).toEqual([]);
        for (const g of [...probes, ...m.keys()]) expect(lm.get(g)).toBeUndefined();
        // usable again after clear()
        if (sorted.length > 0) {
          lm.set(sorted[0]![0], 7);
          expect(lm.get(sorted[0]![0])).toBe(7);
          expect(lm.size).toBe(1);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keeps a region in a short list until PROMOTE_AT entries, then in a leaf; the order of keys holds across both', () => {
    const m = new PageMap<string>();
    const region = 5 * 512;
    // list neighbours on both sides of the region, and one above the directory's range (the far Map)
    m.set(region - 1, 'below').set(region + 512, 'above').set(2 ** 40, 'far');
    for (let i = 0; i < PROMOTE_AT - 1; i++) m.set(region + 511 - i * 3, `v${i}`);
    expect(m.denseRegions).toBe(0);
    m.set(region + 511 - 3, 'again'); // an update is not a new entry: still no leaf
    expect(m.denseRegions).toBe(0);
    m.set(region, 'last');
    expect(m.denseRegions).toBe(1);
    expect(m.size).toBe(PROMOTE_AT + 3);
    expect(m.get(region + 511)).toBe('v0');
    expect(m.get(region + 511 - 3)).toBe('again');
    expect(m.get(region)).toBe('last');
    const keys = m.keyArray();
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
    expect(keys[0]).toBe(region - 1);
    expect(keys[1]).toBe(region);
    expect(keys.slice(-2)).toEqual([region + 512, 2 ** 40]);
    // deleting below the threshold does not take the leaf back; list entries still go
    expect(m.delete(region)).toBe(true);
    expect(m.delete(region)).toBe(false);
    expect(m.delete(region - 1)).toBe(true);
    expect(m.get(region - 1)).toBeUndefined();
    expect(m.denseRegions).toBe(1);
    m.clear();
    expect(m.denseRegions).toBe(0);
  });

  it('spends no leaf on pages a few MiB apart (a sparse 1 TiB guest)', () => {
    const m = new PageMap<number>();
    for (let i = 0; i < 4096; i++) m.set(i * 1024, i);
    expect(m.denseRegions).toBe(0);
    expect(m.size).toBe(4096);
    expect(m.get(1024 * 4095)).toBe(4095);
    expect(m.keyArray()).toEqual(Array.from({ length: 4096 }, (_, i) => i * 1024));
  });
});
