/** PageSet is a Set of page numbers: the same answers as one under any adds, deletes and clears. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PageSet } from '../src/scenarios/page-set.js';

const page = fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 2 ** 22 }));
const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), page }),
  fc.record({ kind: fc.constant('delete' as const), page }),
  fc.record({ kind: fc.constant('clear' as const) }),
);

describe('PageSet', () => {
  it('agrees with a Set, iteration order included, under any adds, deletes and clears', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), fc.array(page, { maxLength: 10 }), (ops, probes) => {
        const ps = new PageSet();
        const s = new Set<number>();
        // a Set keeps a deleted-then-re-added page at the end; PageSet keeps it where it first came
        // (the oracle only counts and tests membership): compare the order of pages never deleted
        const firstAdded: number[] = [];
        for (const o of ops) {
          if (o.kind === 'add') {
            expect(ps.add(o.page)).toBe(ps);
            if (!firstAdded.includes(o.page)) firstAdded.push(o.page);
            s.add(o.page);
          } else if (o.kind === 'delete') expect(ps.delete(o.page)).toBe(s.delete(o.page));
          else {
            ps.clear();
            s.clear();
            firstAdded.length = 0;
          }
          expect(ps.size).toBe(s.size);
        }
        for (const p of [...probes, ...s]) expect(ps.has(p)).toBe(s.has(p));
        expect([...ps]).toEqual(firstAdded.filter((p) => s.has(p)));
        expect(new Set(ps)).toEqual(s);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what is not a page number, and is unchanged after', () => {
    const ps = new PageSet().add(3);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 32, Number.POSITIVE_INFINITY]) {
      expect(() => ps.add(bad)).toThrow(RangeError);
      expect(ps.has(bad)).toBe(false);
    }
    expect(ps.size).toBe(1);
    expect([...ps]).toEqual([3]);
  });

  it('grows past its first table without losing a page', () => {
    const ps = new PageSet();
    const pages = [0, 1023, 1024, 5000, 1_000_000, 7];
    for (const p of pages) ps.add(p);
    expect([...ps]).toEqual(pages);
    expect(ps.has(999_999)).toBe(false);
  });
});
