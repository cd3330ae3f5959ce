/**
 * A guest page reads back exactly what a plain 4 KiB array would hold, whatever mix of
 * writes, fills and reads it sees, compact or promoted to a frame.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuestPage, MAX_WORDS, PAGE_BYTES, type FrameSource } from '../src/vm/guest-page.js';

const frames = (): FrameSource & { taken: number } => {
  const s = {
    taken: 0,
    newFrame(): Uint8Array {
      s.taken++;
      return new Uint8Array(PAGE_BYTES);
    },
  };
  return s;
};

type Op =
  | { kind: 'write'; at: number; bytes: Uint8Array; srcPad: number }
  | { kind: 'halves'; at: number; lo: number; hi: number }
  | { kind: 'fill'; at: number; n: number; value: number }
  | { kind: 'read'; at: number; n: number }
  | { kind: 'u64'; at: number }
  | { kind: 'bytes' };

const within = (len: number) => fc.integer({ min: 0, max: PAGE_BYTES - len });
// Mostly small, word-aligned stores (what the workloads do), sometimes anything.
const writeOp = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 511 }), fc.uint8Array({ minLength: 8, maxLength: 8 })).map(([w, bytes]) => ({ kind: 'write' as const, at: w * 8, bytes, srcPad: 0 })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 80 }).chain((n) => fc.record({ kind: fc.constant('write' as const), at: within(n), bytes: fc.uint8Array({ minLength: n, maxLength: n }), srcPad: fc.integer({ min: 0, max: 3 }) })) },
);
const halvesOp = fc.record({ kind: fc.constant('halves' as const), at: fc.integer({ min: 0, max: 511 }).map((w) => w * 8), lo: fc.nat({ max: 0xffff_ffff }), hi: fc.nat({ max: 0xffff_ffff }) });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: writeOp },
  { weight: 3, arbitrary: halvesOp },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }).chain((n) => fc.record({ kind: fc.constant('fill' as const), at: within(n), n: fc.constant(n), value: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })) })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 64 }).chain((n) => fc.record({ kind: fc.constant('read' as const), at: within(n), n: fc.constant(n) })) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('u64' as const), at: within(8) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'bytes' as const }) },
);

const u64Of = (a: Uint8Array, o: number): bigint => {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(a[o + i]!);
  return v;
};

describe('GuestPage', () => {
  it('behaves as a plain 4 KiB array under any sequence of writes, fills and reads', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const model = new Uint8Array(PAGE_BYTES);
        const page = new GuestPage(frames());
        for (const o of ops) {
          if (o.kind === 'write') {
            const src = new Uint8Array(o.bytes.length + 2 * o.srcPad).fill(0xee);
            src.set(o.bytes, o.srcPad);
            page.write(src, o.srcPad, o.at, o.bytes.length);
            model.set(o.bytes, o.at);
          } else if (o.kind === 'halves') {
            page.writeHalves(o.at, o.lo, o.hi);
            new DataView(model.buffer).setUint32(o.at, o.lo, true);
            new DataView(model.buffer).setUint32(o.at + 4, o.hi, true);
          } else if (o.kind === 'fill') {
            page.fill(o.at, o.n, o.value);
            model.fill(o.value, o.at, o.at + o.n);
          } else if (o.kind === 'read') {
            const out = new Uint8Array(o.n + 4).fill(0xcc);
            page.read(o.at, out, 2, o.n);
            expect([...out.subarray(2, 2 + o.n)]).toEqual([...model.subarray(o.at, o.at + o.n)]);
            expect([out[0], out[1], out[o.n + 2], out[o.n + 3]]).toEqual([0xcc, 0xcc, 0xcc, 0xcc]);
          } else if (o.kind === 'u64') {
            expect(page.readU64(o.at)).toBe(u64Of(model, o.at));
          } else {
            expect([...page.bytes()]).toEqual([...model]);
          }
        }
        expect([...page.toBytes()]).toEqual([...model]);
        const scratch = new Uint8Array(PAGE_BYTES).fill(0x5a);
        expect([...page.view(scratch)]).toEqual([...model]);
        expect(page.isZero()).toBe(model.every((b) => b === 0));
        // the non-zero 32-bit halves (little-endian), ascending: what a destination keeps
        const pairs = new Uint32Array(4 * MAX_WORDS);
        const n = page.nonZeroHalves(pairs);
        if (!page.compact) expect(n).toBe(-1);
        else {
          const dv = new DataView(model.buffer);
          const want: number[] = [];
          for (let i = 0; i < PAGE_BYTES / 4; i++) if (dv.getUint32(4 * i, true) !== 0) want.push(i, dv.getUint32(4 * i, true));
          expect([...pairs.subarray(0, n)]).toEqual(want);
          if (want.length > 2) expect(page.nonZeroHalves(new Uint32Array(want.length - 2))).toBe(-1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stays compact (no frame) for up to MAX_WORDS written words, and becomes a frame at the next new word', () => {
    const src = frames();
    const page = new GuestPage(src);
    const word = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    for (let k = 0; k < MAX_WORDS; k++) page.write(word, 0, k * 16, 8);
    for (let k = 0; k < MAX_WORDS; k++) page.write(word, 0, k * 16, 8); // rewrites: no new word
    expect(page.compact).toBe(true);
    expect(src.taken).toBe(0);
    page.write(word, 0, 8, 8);
    expect(page.compact).toBe(false);
    expect(src.taken).toBe(1);
    expect(page.readU64(8)).toBe(0x0807_0605_0403_0201n);
    expect(page.readU64(16 * (MAX_WORDS - 1))).toBe(0x0807_0605_0403_0201n);
    expect(page.readU64(16 * MAX_WORDS)).toBe(0n);
  });

  it('writeHalves is write() of the same 8 bytes: the same words, and a frame at the same store', () => {
    fc.assert(
      fc.property(fc.array(halvesOp, { maxLength: 3 * MAX_WORDS }), (ops) => {
        const a = frames();
        const b = frames();
        const byHalves = new GuestPage(a);
        const byBytes = new GuestPage(b);
        for (const o of ops) {
          byHalves.writeHalves(o.at, o.lo, o.hi);
          const bytes = new Uint8Array(8);
          new DataView(bytes.buffer).setUint32(0, o.lo, true);
          new DataView(bytes.buffer).setUint32(4, o.hi, true);
          byBytes.write(bytes, 0, o.at, 8);
          expect(byHalves.compact).toBe(byBytes.compact);
          expect(a.taken).toBe(b.taken);
        }
        expect([...byHalves.toBytes()]).toEqual([...byBytes.toBytes()]);
      }),
      { numRuns: 200 },
    );
  });

  it.each([[4], [-8], [4096], [4095], [8.5], [Number.NaN]])('writeHalves at %s is a RangeError and writes nothing', (at) => {
    const page = new GuestPage(frames());
    page.writeHalves(0, 1, 2);
    expect(() => page.writeHalves(at, 0xdead, 0xbeef)).toThrow(RangeError);
    expect(page.readU64(0)).toBe(0x2_0000_0001n);
    expect(page.isZero()).toBe(false);
    expect([...page.toBytes()].filter((x) => x !== 0)).toEqual([1, 2]);
  });

  it('a store across two words lists both; zeros into a compact page take no frame', () => {
    const src = frames();
    const page = new GuestPage(src);
    page.write(Uint8Array.from([0xaa, 0xbb]), 0, 7, 2);
    expect(page.readU64(0)).toBe(0xaa00_0000_0000_0000n);
    expect(page.readU64(8)).toBe(0xbbn);
    page.fill(0, 4096, 0);
    expect(page.isZero()).toBe(true);
    expect(src.taken).toBe(0);
    page.fill(100, 17, 1); // more than a few bytes of a non-zero value: a frame
    expect(src.taken).toBe(1);
    expect(page.readU64(96)).toBe(0x0101_0101_0000_0000n);
  });

  it('view() of a frame is the frame itself; of a compact page, the scratch page zeroed and laid out', () => {
    const page = new GuestPage(frames());
    page.write(Uint8Array.from([9]), 0, 4095, 1);
    const scratch = new Uint8Array(PAGE_BYTES).fill(7);
    const v = page.view(scratch);
    expect(v).toBe(scratch);
    expect(v[4095]).toBe(9);
    expect(v.filter((b) => b !== 0)).toHaveLength(1);
    const f = page.bytes();
    expect(page.view(scratch)).toBe(f);
    expect(page.toBytes()).toBe(f);
  });
});
