import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../src/bytes.js';

describe('bytesEqual (no Buffer: runs in a browser)', () => {
  it('equal, unequal in the last byte, different lengths, unaligned views', () => {
    const a = new Uint8Array(4096).fill(7);
    const b = a.slice();
    expect(bytesEqual(a, b)).toBe(true);
    b[4095] = 8;
    expect(bytesEqual(a, b)).toBe(false);
    expect(bytesEqual(a, a.subarray(0, 4092))).toBe(false);
    const back = new Uint8Array(4101).fill(7);
    expect(bytesEqual(back.subarray(1, 4097), a)).toBe(true); // byte path
    back[4096] = 0;
    expect(bytesEqual(back.subarray(1, 4097), a)).toBe(false);
  });

  test.prop([fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), fc.nat(3)], { numRuns: 200, seed: 42 })('agrees with an element-wise comparison', (x, y, off) => {
    const padded = new Uint8Array(x.length + off);
    padded.set(x, off);
    const view = padded.subarray(off);
    expect(bytesEqual(view, y)).toBe(x.length === y.length && x.every((v, i) => v === y[i]));
    expect(bytesEqual(view, x)).toBe(true);
  });
});
