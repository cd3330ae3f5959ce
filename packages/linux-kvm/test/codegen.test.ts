import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { generateGuestCode, MODE_LIMIT, OP_HLT, type GuestMode, type GuestWrite } from '../src/guest/codegen.js';
import { findFreeGpa } from '../src/guest/run-guest.js';

const RUNS = process.env['KVMLAB_SOAK'] ? 1000 : 60;

/**
 * A reference interpreter for the five instruction forms the generator may emit, so the code
 * is checked by executing it, not by re-deriving the encoder.
 */
function execute(mode: GuestMode, code: Uint8Array): { stores: Map<bigint, number>; halted: boolean } {
  const stores = new Map<bigint, number>();
  let ip = 0;
  let ds = 0;
  const u16 = (o: number): number => code[o]! | (code[o + 1]! << 8);
  const u32 = (o: number): number => (u16(o) | (u16(o + 2) << 16)) >>> 0;
  while (ip < code.length) {
    const op = code[ip]!;
    if (op === OP_HLT) return { stores, halted: ip === code.length - 1 };
    if (mode === 'flat32' && op === 0xc7 && code[ip + 1] === 0x05) {
      const a = BigInt(u32(ip + 2));
      for (let i = 0; i < 4; i++) stores.set(a + BigInt(i), code[ip + 6 + i]!);
      ip += 10;
    } else if (mode === 'flat32' && op === 0xc6 && code[ip + 1] === 0x05) {
      stores.set(BigInt(u32(ip + 2)), code[ip + 6]!);
      ip += 7;
    } else if (mode === 'real16' && op === 0xb8 && code[ip + 3] === 0x8e && code[ip + 4] === 0xd8) {
      ds = u16(ip + 1);
      ip += 5;
    } else if (mode === 'real16' && op === 0xc6 && code[ip + 1] === 0x06) {
      stores.set(BigInt(ds * 16 + u16(ip + 2)), code[ip + 4]!);
      ip += 5;
    } else {
      throw new Error(`unexpected byte 0x${op.toString(16)} at ${ip}`);
    }
  }
  return { stores, halted: false };
}

function expected(writes: readonly GuestWrite[]): Map<bigint, number> {
  const m = new Map<bigint, number>();
  for (const w of writes) w.bytes.forEach((b, i) => m.set(w.gpa + BigInt(i), b));
  return m;
}

const writesIn = (limit: bigint): fc.Arbitrary<GuestWrite[]> =>
  fc.array(
    fc.record({
      gpa: fc.bigInt({ min: 0n, max: limit - 16n }),
      bytes: fc.uint8Array({ minLength: 0, maxLength: 15 }),
    }),
    { maxLength: 12 },
  );

describe('guest code generator', () => {
  it('flat32: one dword store, one byte store, then HLT, byte for byte', () => {
    const code = generateGuestCode('flat32', [{ gpa: 0x1234_5678n, bytes: Uint8Array.of(1, 2, 3, 4, 5) }]);
    expect([...code]).toEqual([0xc7, 0x05, 0x78, 0x56, 0x34, 0x12, 1, 2, 3, 4, 0xc6, 0x05, 0x7c, 0x56, 0x34, 0x12, 5, 0xf4]);
  });

  it('real16: loads DS with the 64 KiB window, then a byte store', () => {
    const code = generateGuestCode('real16', [{ gpa: 0x2_3456n, bytes: Uint8Array.of(0xab) }]);
    expect([...code]).toEqual([0xb8, 0x00, 0x20, 0x8e, 0xd8, 0xc6, 0x06, 0x56, 0x34, 0xab, 0xf4]);
  });

  it('refuses addresses the mode cannot reach', () => {
    expect(() => generateGuestCode('flat32', [{ gpa: 1n << 32n, bytes: Uint8Array.of(1) }])).toThrow(RangeError);
    expect(() => generateGuestCode('real16', [{ gpa: MODE_LIMIT.real16, bytes: Uint8Array.of(1) }])).toThrow(RangeError);
    expect([...generateGuestCode('flat32', [])]).toEqual([0xf4]);
  });

  test.prop([writesIn(MODE_LIMIT.flat32)], { numRuns: RUNS })('flat32 code stores exactly the requested bytes, then halts', (writes) => {
    const r = execute('flat32', generateGuestCode('flat32', writes));
    expect(r.halted).toBe(true);
    expect(r.stores).toEqual(expected(writes));
  });

  test.prop([writesIn(MODE_LIMIT.real16)], { numRuns: RUNS })('real16 code stores exactly the requested bytes, then halts', (writes) => {
    const r = execute('real16', generateGuestCode('real16', writes));
    expect(r.halted).toBe(true);
    expect(r.stores).toEqual(expected(writes));
  });

  test.prop(
    [fc.array(fc.record({ gpa: fc.bigInt({ min: 0n, max: 1n << 30n }), size: fc.bigInt({ min: 1n, max: 1n << 24n }) }), { maxLength: 8 }), fc.bigInt({ min: 1n, max: 1n << 20n })],
    { numRuns: RUNS },
  )('findFreeGpa returns a page-aligned gap that overlaps no slot', (occupied, size) => {
    const slots = occupied.map((o) => ({ gpa: o.gpa & ~0xfffn, size: o.size }));
    const gpa = findFreeGpa(slots, size, 0x1000n, 1n << 32n);
    expect(gpa).toBeDefined();
    expect(gpa! & 0xfffn).toBe(0n);
    for (const s of slots) expect(gpa! + size <= s.gpa || gpa! >= s.gpa + s.size).toBe(true);
  });
});
