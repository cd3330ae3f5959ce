/**
 * readLe/writeLe move 64-bit values as two 32-bit numbers (issue 23): byte for byte what the
 * plain byte-at-a-time loops give, including offsets at or past either end of the array.
 */
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { leBytes, readLe, u64Halves, writeLe } from '../src/bigint.js';

function readRef(bytes: Uint8Array, offset: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i] ?? 0);
  return v;
}
function writeRef(bytes: Uint8Array, offset: number, size: number, value: bigint): void {
  let v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    bytes[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

const size = fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const);

test.prop([fc.uint8Array({ maxLength: 20 }), fc.integer({ min: -3, max: 22 }), size])('readLe equals the byte loop at every offset', (b, off, n) => {
  expect(readLe(b, off, n)).toBe(readRef(b, off, n));
});

test.prop([fc.uint8Array({ maxLength: 20 }), fc.integer({ min: -3, max: 22 }), size, fc.bigInt({ min: -(1n << 70n), max: 1n << 70n })])(
  'writeLe stores what the byte loop stores (values wrap to the size)',
  (b, off, n, v) => {
    const a = b.slice();
    const r = b.slice();
    writeLe(a, off, n, v);
    writeRef(r, off, n, v);
    expect([...a]).toEqual([...r]);
  },
);

test('a 64-bit value with both halves set round-trips', () => {
  expect([...leBytes(8, 0x8000_0001_ffff_fffen)]).toEqual([0xfe, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x80]);
  expect(readLe(leBytes(8, 0xfedc_ba98_7654_3210n), 0, 8)).toBe(0xfedc_ba98_7654_3210n);
});

test.prop([fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }))])(
  'u64Halves gives the two little-endian halves of leBytes(8, v): the low 64 bits, two\'s complement',
  (v) => {
    const out = new Uint32Array(2).fill(0xaaaa_aaaa);
    u64Halves(v, out);
    const b = leBytes(8, v);
    const dv = new DataView(b.buffer);
    expect([out[0], out[1]]).toEqual([dv.getUint32(0, true), dv.getUint32(4, true)]);
    expect((BigInt(out[1]!) << 32n) | BigInt(out[0]!)).toBe(BigInt.asUintN(64, v));
  },
);
