/** PageMap is a Map of page numbers: the same answers as one, whatever the gfns (directory or far). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PageMap } from '../src/vm/page-map.js';

const gfn = fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 2 ** 31 - 2, max: 2 ** 52 }));
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), gfn, value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), gfn }),
);

describe('PageMap', () => {
  it('agrees with a Map under any sets and deletes; iterates gfns ascending', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.array(gfn, { maxLength: 10 }), (ops, probes) => {
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
});
