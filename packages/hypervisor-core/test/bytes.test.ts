import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { bytesEqual, bytesEqualPortable, isZeroBytes, isZeroPortable } from '../src/bytes.js';

// Under Node, bytesEqual and isZeroBytes use Buffer.compare; the portable versions are what a
// browser runs. Both are checked, and checked to agree.
const IMPLS = [
  { name: 'native (Node)', equal: bytesEqual, zero: isZeroBytes },
  { name: 'portable (browser)', equal: bytesEqualPortable, zero: isZeroPortable },
] as const;

describe.each(IMPLS)('bytesEqual / isZeroBytes: $name', ({ equal, zero }) => {
  it('equal, unequal in the last byte, different lengths, unaligned views', () => {
    const a = new Uint8Array(4096).fill(7);
    const b = a.slice();
    expect(equal(a, b)).toBe(true);
    b[4095] = 8;
    expect(equal(a, b)).toBe(false);
    expect(equal(a, a.subarray(0, 4092))).toBe(false);
    const back = new Uint8Array(4101).fill(7);
    expect(equal(back.subarray(1, 4097), a)).toBe(true); // byte path
    back[4096] = 0;
    expect(equal(back.subarray(1, 4097), a)).toBe(false);
  });

  it('zero: empty, a page, a non-zero last byte, longer than a page, an unaligned view', () => {
    expect(zero(new Uint8Array(0))).toBe(true);
    const p = new Uint8Array(3 * 4096 + 5);
    expect(zero(p)).toBe(true);
    p[p.length - 1] = 1; // past the first page's worth: the native path compares in page slices
    expect(zero(p)).toBe(false);
    expect(zero(p.subarray(0, p.length - 1))).toBe(true);
    expect(zero(p.subarray(3, p.length))).toBe(false);
    const q = new Uint8Array(4096);
    q[0] = 0x80; // -0 as a double: a non-zero byte pattern a float comparison would miss
    expect(zero(q)).toBe(false);
  });

  test.prop([fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), fc.nat(3)], { numRuns: 200, seed: 42 })('agrees with an element-wise comparison', (x, y, off) => {
    const padded = new Uint8Array(x.length + off);
    padded.set(x, off);
    const view = padded.subarray(off);
    expect(equal(view, y)).toBe(x.length === y.length && x.every((v, i) => v === y[i]));
    expect(equal(view, x)).toBe(true);
    expect(zero(view)).toBe(x.every((v) => v === 0));
  });
});

test.prop([fc.uint8Array({ minLength: 0, maxLength: 9000 }).map((a) => (a.length > 0 && a[0]! % 2 === 0 ? new Uint8Array(a.length) : a)), fc.uint8Array({ maxLength: 9000 })], { numRuns: 100, seed: 7 })(
  'the native and portable paths give the same answers',
  (a, b) => {
    expect(bytesEqual(a, b)).toBe(bytesEqualPortable(a, b));
    expect(bytesEqual(a, a.slice())).toBe(true);
    expect(isZeroBytes(a)).toBe(isZeroPortable(a));
  },
);
