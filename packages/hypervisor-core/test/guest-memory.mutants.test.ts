// Guest memory as the VMM sees it, against a flat reference (issue 22, mutation testing): any
// access of any length at any GPA, across page and slot boundaries, reads what was written;
// a byte outside every slot fails the whole access with EFAULT and changes nothing; untouched
// pages read as zeros and cost nothing (sparse backing, like MAP_NORESERVE anonymous memory).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../src/vm/guest-memory.js';
import { Memslots } from '../src/vm/memslots.js';
import { PAGE_BYTES, SparsePages } from '../src/vm/sparse-pages.js';
import { errnoArgumentOf, outcomeOf } from './helpers.js';
import { KvmError } from '../src/errors.js';

/** Slots 0 [0, 3 pages) and 1 [3, 5) adjacent, a hole [5, 6), slot 2 [6, 8). */
const LAYOUT: [number, number, number][] = [[0, 0, 3], [1, 3, 2], [2, 6, 2]];
const END = 8 * PAGE_BYTES;
const mapped = (a: number) => a >= 0 && a < END && !(a >= 5 * PAGE_BYTES && a < 6 * PAGE_BYTES);

function setup() {
  const slots = new Memslots();
  for (const [id, gfn, n] of LAYOUT) {
    slots.commit(slots.plan({ slot: id, flags: 0, guestPhysAddr: BigInt(gfn * PAGE_BYTES), memorySize: BigInt(n * PAGE_BYTES) }));
  }
  return { mem: new GuestMemory(slots), ref: new Uint8Array(END), slots };
}

const errno = outcomeOf;
const rangeMapped = (gpa: number, len: number) => {
  for (let a = gpa; a < gpa + len; a++) if (!mapped(a)) return false;
  return true;
};
/** Byte equality without the cost of a deep-equality diff on 20 KiB arrays. */
const same = (a: unknown, b: Uint8Array): boolean => a instanceof Uint8Array && Buffer.compare(a, b) === 0;
const le64 = (b: Uint8Array, at: number) => {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]!);
  return v;
};

type Op =
  | { k: 'write'; gpa: number; bytes: number[] }
  | { k: 'fill'; gpa: number; len: number; value: number }
  | { k: 'read'; gpa: number; len: number }
  | { k: 'w64'; gpa: number; value: bigint }
  | { k: 'r64'; gpa: number };

// Addresses cluster at page and slot edges, where the splitting logic lives.
const edge = fc.oneof(
  fc.integer({ min: 0, max: 8 }).chain((p) => fc.integer({ min: -9, max: 9 }).map((d) => p * PAGE_BYTES + d)),
  fc.integer({ min: -16, max: END + 16 }),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('write' as const), gpa: edge, bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }) }),
  fc.record({ k: fc.constant('fill' as const), gpa: edge, len: fc.integer({ min: 0, max: 2 * PAGE_BYTES + 3 }), value: fc.integer({ min: -128, max: 255 }) /* a byte, signed or not: anything else is EINVAL */ }),
  fc.record({ k: fc.constant('read' as const), gpa: edge, len: fc.integer({ min: 0, max: 2 * PAGE_BYTES + 3 }) }),
  fc.record({ k: fc.constant('w64' as const), gpa: edge, value: fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }) }),
  fc.record({ k: fc.constant('r64' as const), gpa: edge }),
);

describe('GuestMemory against a flat reference', () => {
  it('every access reads what was written, or fails with EFAULT changing nothing', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
        const { mem, ref } = setup();
        for (const o of ops) {
          const len = o.k === 'write' ? o.bytes.length : o.k === 'fill' || o.k === 'read' ? o.len : 8;
          const ok = o.gpa >= 0 && rangeMapped(o.gpa, len);
          const before = ok ? undefined : mem.read(0n, 5 * PAGE_BYTES);
          let got: unknown;
          const e = errno(() => {
            const gpa = BigInt(o.gpa);
            if (o.k === 'write') mem.write(gpa, Uint8Array.from(o.bytes));
            else if (o.k === 'fill') mem.fill(gpa, o.len, o.value);
            else if (o.k === 'read') got = mem.read(gpa, o.len);
            else if (o.k === 'w64') mem.writeU64(gpa, o.value);
            else got = mem.readU64(gpa);
          });
          expect(e, JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).toBe(ok ? 'ok' : 'EFAULT');
          // (A zero-length range has no byte to check; isMapped is not asked about it.)
          if (len > 0) expect(mem.isMapped(BigInt(o.gpa), len)).toBe(ok);
          if (!ok) {
            expect(same(mem.read(0n, 5 * PAGE_BYTES), before!)).toBe(true);
            continue;
          }
          if (len === 0) continue;
          if (o.k === 'write') ref.set(o.bytes, o.gpa);
          else if (o.k === 'fill') ref.fill(o.value & 0xff, o.gpa, o.gpa + o.len);
          else if (o.k === 'w64') for (let i = 0; i < 8; i++) ref[o.gpa + i] = Number((BigInt.asUintN(64, o.value) >> BigInt(8 * i)) & 0xffn);
          else if (o.k === 'read') expect(same(got, ref.subarray(o.gpa, o.gpa + o.len)), `read ${o.gpa} +${o.len}`).toBe(true);
          else expect(got).toBe(le64(ref, o.gpa));
        }
        expect(same(mem.read(0n, 5 * PAGE_BYTES), ref.subarray(0, 5 * PAGE_BYTES))).toBe(true);
        expect(same(mem.read(6n * BigInt(PAGE_BYTES), 2 * PAGE_BYTES), ref.subarray(6 * PAGE_BYTES))).toBe(true);
      }),
      { numRuns: 40, seed: 22 },
    );
  });

  it('bad lengths are EINVAL, negative GPAs EFAULT', () => {
    const { mem } = setup();
    for (const len of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '8' as unknown as number]) {
      expect(errno(() => mem.fill(0n, len, 1)), `fill ${String(len)}`).toBe('EINVAL');
      expect(errno(() => mem.read(0n, len)), `read ${String(len)}`).toBe('EINVAL');
    }
    expect(errno(() => mem.read(-1n, 1))).toBe('EFAULT');
    expect(errno(() => mem.readU64(-8n))).toBe('EFAULT');
    expect(errno(() => mem.writeU64(-8n, 1n))).toBe('EFAULT');
    expect(mem.isMapped(-1n)).toBe(false);
    expect(mem.isMapped(0n, -1)).toBe(false);
    expect(mem.isMapped(0n, 1.5)).toBe(false);
  });

  it('every refusal names the argument at fault and, in its message, the value', () => {
    const { mem } = setup();
    const message = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        return e instanceof KvmError ? e.message : `not a KvmError: ${String(e)}`;
      }
      return 'returned';
    };
    const notBig = 0x10 as unknown as bigint;
    expect(errnoArgumentOf(() => mem.read(0n, -3))).toBe('EINVAL length');
    expect(message(() => mem.read(0n, -3))).toContain('-3');
    // A GPA that is not a bigint is EINVAL on every path (the in-page shortcuts included), even
    // for an empty access.
    for (const f of [() => mem.read(notBig, 1), () => mem.read(notBig, 0), () => mem.write(notBig, new Uint8Array(1)), () => mem.fill(notBig, 1, 0), () => mem.readU64(notBig), () => mem.writeU64(notBig, 1n)]) {
      expect(errnoArgumentOf(f)).toBe('EINVAL gpa');
      expect(message(f)).toContain('16');
    }
    expect(mem.isMapped(notBig)).toBe(false);
    expect(mem.isMapped(notBig, 8)).toBe(false);
    // A negative GPA is EFAULT even when no byte is accessed.
    expect(errnoArgumentOf(() => mem.read(-4096n, 0))).toBe('EFAULT gpa');
    expect(message(() => mem.read(-4096n, 0))).toContain('-4096');
    // An unbacked byte: EFAULT naming the first unbacked address.
    expect(errnoArgumentOf(() => mem.read(5n * 4096n - 1n, 2))).toBe('EFAULT gpa');
    expect(message(() => mem.read(5n * 4096n - 1n, 2))).toContain('0x5000');
    expect(errnoArgumentOf(() => mem.write(0n, [1, 2] as unknown as Uint8Array))).toBe('EFAULT bytes');
    expect(errnoArgumentOf(() => mem.fill(0n, 1, 0x100))).toBe('EINVAL value');
    expect(message(() => mem.fill(0n, 1, 0x100))).toContain('fill value 256');
    expect(errnoArgumentOf(() => mem.writeU64(0n, 1 as unknown as bigint))).toBe('EINVAL value');
    expect(message(() => mem.writeU64(0n, 7 as unknown as bigint))).toContain('7');
    expect(errnoArgumentOf(() => mem.writeU64(0xffcn, 1 as unknown as bigint))).toBe('EINVAL value'); // across a page too
    expect([...mem.read(0n, 16)]).toEqual(new Array(16).fill(0)); // no refusal wrote anything
  });

  it('an empty read is valid: no bytes, no error, anywhere a GPA can be', () => {
    const { mem } = setup();
    expect(mem.read(0n, 0)).toEqual(new Uint8Array(0));
    expect(mem.read(5n * 4096n, 0)).toEqual(new Uint8Array(0)); // the hole: no byte is outside a slot
  });

  it('8-byte accesses and peekPage in a slot that does not start at GPA 0 use offsets inside that slot', () => {
    const { mem } = setup();
    mem.writeU64(0x3008n, 0x0102_0304_0506_0708n); // slot 1 starts at 0x3000
    expect(mem.readU64(0x3008n)).toBe(0x0102_0304_0506_0708n);
    expect([...mem.read(0x3008n, 2)]).toEqual([8, 7]);
    expect(mem.peekPage(3n)?.[8]).toBe(8);
    expect(mem.peekPage(4n)).toBeUndefined(); // slot 1's second page was never written
    mem.write(0x6010n, new Uint8Array([0x5a])); // slot 2 starts at 0x6000
    expect(mem.peekPage(6n)?.[0x10]).toBe(0x5a);
    expect(mem.readU64(0x6010n)).toBe(0x5an);
  });

  it('a read too large for one host buffer is ENOMEM, after the range was found mapped', () => {
    const slots = new Memslots();
    slots.commit(slots.plan({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 1n << 34n })); // 16 GiB, sparse
    const mem = new GuestMemory(slots);
    expect(errnoArgumentOf(() => mem.read(0n, 2 ** 33))).toBe('ENOMEM length'); // beyond V8's typed-array limit
    expect(errno(() => mem.read(1n << 33n, 2 ** 34))).toBe('EFAULT'); // runs past the slot: EFAULT comes first
    expect(mem.residentPages).toBe(0);
  });

  it('the in-page 8-byte path and the split path agree at the page edge (0xff8 in, 0xff9 across)', () => {
    const { mem } = setup();
    mem.writeU64(0xff8n, 0x1122_3344_5566_7788n);
    mem.writeU64(0x1ff9n, 0x99aa_bbcc_ddee_ff00n);
    expect(mem.read(0xff8n, 8)).toEqual(Uint8Array.from([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]));
    expect(mem.readU64(0x1ff9n)).toBe(0x99aa_bbcc_ddee_ff00n);
    expect(mem.readU64(0x1ff8n)).toBe(0xaabb_ccdd_eeff_0000n);
    // Across the boundary of slots 0 and 1.
    mem.writeU64(0x2ffcn, (1n << 64n) - 1n);
    expect(mem.read(0x2ffcn, 8)).toEqual(new Uint8Array(8).fill(0xff));
    expect(mem.readU64(0x4000n + 0xff8n)).toBe(0n); // untouched page of slot 1
  });
});

describe('sparse backing', () => {
  it('reads, zero fills and 8-byte reads of untouched pages allocate nothing; writes allocate their pages only', () => {
    const { mem, slots } = setup();
    mem.read(0n, 5 * PAGE_BYTES);
    mem.fill(0n, 3 * PAGE_BYTES, 0);
    mem.readU64(0x1000n);
    expect(mem.residentPages).toBe(0);
    expect(mem.peekPage(1n)).toBeUndefined();
    mem.write(0x1ffen, new Uint8Array([1, 2, 3, 4])); // pages 1 and 2
    mem.writeU64(0x6008n, 5n); // slot 2, page 0
    expect(mem.residentPages).toBe(3);
    expect(slots.get(0, 0)!.backing.residentIndices()).toEqual([1, 2]);
    expect(mem.peekPage(2n)?.[1]).toBe(4);
    expect(mem.peekPage(5n)).toBeUndefined(); // the hole
    mem.fill(0x1000n, 10, 0); // zeros into a resident page do write
    expect(mem.read(0x1ffen, 2)).toEqual(new Uint8Array([1, 2]));
    mem.fill(0x1ffen, 1, 0);
    expect(mem.read(0x1ffen, 2)).toEqual(new Uint8Array([0, 2]));
    mem.fill(0x4000n, 4, 0xab);
    expect(mem.read(0x4000n, 4)).toEqual(new Uint8Array(4).fill(0xab));
    // A value no byte holds is refused, the page untouched; -1 is the byte 0xff.
    expect(errno(() => mem.fill(0x4000n, 4, 0x1ab))).toBe('EINVAL');
    expect(mem.read(0x4000n, 4)).toEqual(new Uint8Array(4).fill(0xab));
    mem.fill(0x4000n, 1, -1);
    expect(mem.read(0x4000n, 2)).toEqual(new Uint8Array([0xff, 0xab]));
  });

  it('pages carved from shared blocks never alias: 130 pages each keep their own bytes', () => {
    const sp = new SparsePages();
    const order = Array.from({ length: 130 }, (_, i) => (i * 37) % 130);
    for (const i of order) sp.write(i * PAGE_BYTES + 7, Uint8Array.from([i & 0xff, (i >> 8) + 1]), 0, 2);
    expect(sp.residentPages).toBe(130);
    expect(sp.residentIndices()).toEqual(Array.from({ length: 130 }, (_, i) => i));
    const out = new Uint8Array(2);
    for (let i = 0; i < 130; i++) {
      sp.read(i * PAGE_BYTES + 7, out, 0, 2);
      expect([...out], `page ${i}`).toEqual([i & 0xff, (i >> 8) + 1]);
      expect(sp.peek(i)![6]).toBe(0);
      expect(sp.page(i)).toHaveLength(PAGE_BYTES);
    }
  });

  it('read and write honour the buffer offsets, across pages', () => {
    const sp = new SparsePages();
    const src = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
    sp.write(PAGE_BYTES - 3, src, 5, 10); // bytes 6..15 over the edge of pages 0 and 1
    const out = new Uint8Array(14).fill(0xee);
    sp.read(PAGE_BYTES - 5, out, 2, 12);
    expect([...out]).toEqual([0xee, 0xee, 0, 0, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  });
});
