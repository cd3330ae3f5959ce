import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EptBuilder,
  makeEptp,
  VMX_EPT_ACCESS_BIT,
  VMX_EPT_DIRTY_BIT,
  VMX_EPTP_AD_ENABLE_BIT,
  walkEpt,
  type EptMemory,
} from '../src/x86/ept.js';
import { isValidVmcsEncoding, Vmcs, vmcsFieldWidth } from '../src/x86/vmcs.js';
import * as C from '../src/x86/vmx-constants.js';

describe('VMX constants (arch/x86/include/asm/vmx.h, uapi/asm/vmx.h)', () => {
  it('field encodings, controls and exit reasons are Intel’s', () => {
    expect([C.GUEST_CR3, C.GUEST_ACTIVITY_STATE, C.VMX_PREEMPTION_TIMER_VALUE, C.GUEST_PML_INDEX, C.PML_ADDRESS, C.EPT_POINTER, C.GUEST_PHYSICAL_ADDRESS])
      .toEqual([0x6802, 0x4826, 0x482e, 0x0812, 0x200e, 0x201a, 0x2400]);
    expect([C.CPU_BASED_HLT_EXITING, C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, C.SECONDARY_EXEC_ENABLE_EPT, C.SECONDARY_EXEC_ENABLE_PML])
      .toEqual([0x80, 0x80000000, 0x2, 0x20000]);
    expect([C.PIN_BASED_EXT_INTR_MASK, C.PIN_BASED_VMX_PREEMPTION_TIMER, C.VMX_MISC_ACTIVITY_HLT]).toEqual([0x1, 0x40, 0x40]);
    expect([C.EXIT_REASON_EXTERNAL_INTERRUPT, C.EXIT_REASON_HLT, C.EXIT_REASON_VMCALL, C.EXIT_REASON_EPT_VIOLATION, C.EXIT_REASON_PREEMPTION_TIMER, C.EXIT_REASON_PML_FULL])
      .toEqual([1, 12, 18, 48, 52, 62]);
    expect([C.GUEST_ACTIVITY_ACTIVE, C.GUEST_ACTIVITY_HLT, C.GUEST_ACTIVITY_SHUTDOWN, C.GUEST_ACTIVITY_WAIT_SIPI]).toEqual([0, 1, 2, 3]);
    expect(C.PML_ENTITY_NUM).toBe(512);
    expect(C.VMX_MISC_EMULATED_PREEMPTION_TIMER_RATE).toBe(5);
  });
});

describe('Vmcs field store', () => {
  it('widths come from encoding bits 14:13, and values are masked to them', () => {
    expect(vmcsFieldWidth(C.GUEST_PML_INDEX)).toBe(16);
    expect(vmcsFieldWidth(C.GUEST_ACTIVITY_STATE)).toBe(32);
    expect(vmcsFieldWidth(C.EPT_POINTER)).toBe(64);
    expect(vmcsFieldWidth(C.GUEST_CR3)).toBe(64);
    const v = new Vmcs('vmcs02');
    v.vmwrite(C.GUEST_PML_INDEX, 0x1_ffffn);
    expect(v.peek(C.GUEST_PML_INDEX)).toBe(0xffffn);
    v.vmwrite(C.GUEST_ACTIVITY_STATE, -1n);
    expect(v.peek(C.GUEST_ACTIVITY_STATE)).toBe(0xffff_ffffn);
  });

  it('counts every VMREAD and VMWRITE, per field; peek does not count', () => {
    const v = new Vmcs('vmcs02');
    v.vmwrite(C.GUEST_CR3, 0xa000n);
    v.vmread(C.GUEST_CR3);
    v.vmread(C.GUEST_RIP);
    v.peek(C.GUEST_CR3);
    expect(v.counts).toEqual({ vmreads: 2, vmwrites: 1 });
    expect(v.countsOf(C.GUEST_CR3)).toEqual({ vmreads: 1, vmwrites: 1 });
    v.resetCounts();
    expect(v.counts).toEqual({ vmreads: 0, vmwrites: 0 });
  });

  it('cpuWrite (a store by the processor, e.g. the PML index) is masked and not counted', () => {
    const v = new Vmcs('vmcs01');
    v.cpuWrite(C.GUEST_PML_INDEX, 0x1_0000n + 510n);
    expect(v.peek(C.GUEST_PML_INDEX)).toBe(510n);
    expect(v.counts).toEqual({ vmreads: 0, vmwrites: 0 });
    expect(v.countsOf(C.GUEST_PML_INDEX)).toEqual({ vmreads: 0, vmwrites: 0 });
    expect(() => v.cpuWrite(0x1002, 0n)).toThrow(RangeError);
  });

  it('a well-formed encoding the kernel has no field for is stored and counted like the others, _HIGH included', () => {
    const names = new Set(Object.values(C).filter((v): v is number => typeof v === 'number'));
    let unknown = 0x2000; // 64-bit full-access encodings: find one enum vmcs_field lacks
    while (names.has(unknown) || !isValidVmcsEncoding(unknown)) unknown += 2;
    const v = new Vmcs('x');
    v.vmwrite(unknown, 0x1111_2222_3333_4444n);
    v.vmwrite(unknown + 1, 0xaaaa_bbbbn);
    v.vmwrite(C.GUEST_CR3, 0xa000n);
    expect(v.vmread(unknown)).toBe(0xaaaa_bbbb_3333_4444n);
    expect(v.peek(unknown + 1)).toBe(0xaaaa_bbbbn);
    expect(v.countsOf(unknown)).toEqual({ vmreads: 1, vmwrites: 1 });
    expect(v.countsOf(unknown + 1)).toEqual({ vmreads: 0, vmwrites: 1 });
    expect(v.writtenFields()).toEqual([unknown, C.GUEST_CR3].sort((a, b) => a - b));
    v.resetCounts();
    expect(v.countsOf(unknown)).toEqual({ vmreads: 0, vmwrites: 0 });
    expect(v.counts).toEqual({ vmreads: 0, vmwrites: 0 });
    expect(v.peek(unknown)).toBe(0xaaaa_bbbb_3333_4444n); // counts go, values stay
  });

  it('rejects encodings with reserved bits', () => {
    expect(isValidVmcsEncoding(0x1000)).toBe(false);
    expect(isValidVmcsEncoding(0x8000)).toBe(false);
    expect(() => new Vmcs('x').vmread(0x1002)).toThrow(RangeError);
  });
});

/** Physical memory for EPT tests: a map of 8-byte words, plus a bump page allocator. */
function memory(): EptMemory & { alloc(): bigint; words: Map<bigint, bigint> } {
  const words = new Map<bigint, bigint>();
  let next = 0x10_0000n;
  return {
    words,
    readU64: (pa) => words.get(pa) ?? 0n,
    writeU64: (pa, v) => void words.set(pa, v),
    alloc: () => ((next += 0x1000n), next),
  };
}

describe('EPT walker', () => {
  it('translates through 4 levels of real 8-byte entries', () => {
    const m = memory();
    const b = new EptBuilder(m, () => m.alloc());
    b.map4k(0xc000_1000n, 0xc000_0000n);
    const r = walkEpt(m, b.eptp(false), 0xc000_1234n);
    expect(r.ok && r.pa).toBe(0xc000_0234n);
    expect(r.ok && r.level).toBe(1);
  });

  it('EPTP bit 6 enables A/D: A on every level used, D on the leaf of a write (only once)', () => {
    const m = memory();
    const b = new EptBuilder(m, () => m.alloc());
    const leafAddr = b.map4k(0x1000n, 0x5000n);
    const eptp = b.eptp(true);
    expect(eptp & VMX_EPTP_AD_ENABLE_BIT).toBe(VMX_EPTP_AD_ENABLE_BIT);
    const rd = walkEpt(m, eptp, 0x1000n);
    expect(rd.ok && rd.setDirty).toBe(false);
    expect(m.readU64(leafAddr) & VMX_EPT_ACCESS_BIT).toBe(VMX_EPT_ACCESS_BIT);
    expect(m.readU64(leafAddr) & VMX_EPT_DIRTY_BIT).toBe(0n);
    const wr = walkEpt(m, eptp, 0x1008n, { write: true });
    expect(wr.ok && wr.setDirty).toBe(true);
    expect(m.readU64(leafAddr) & VMX_EPT_DIRTY_BIT).toBe(VMX_EPT_DIRTY_BIT);
    const again = walkEpt(m, eptp, 0x1010n, { write: true });
    expect(again.ok && again.setDirty).toBe(false);
    expect(m.readU64(b.pml4) & VMX_EPT_ACCESS_BIT).toBe(VMX_EPT_ACCESS_BIT);
  });

  it('without A/D the walk writes nothing', () => {
    const m = memory();
    const b = new EptBuilder(m, () => m.alloc());
    b.map4k(0x1000n, 0x5000n);
    const before = new Map(m.words);
    walkEpt(m, b.eptp(false), 0x1000n, { write: true });
    expect(m.words).toEqual(before);
  });

  it('not-present and permission violations say at which level', () => {
    const m = memory();
    const b = new EptBuilder(m, () => m.alloc());
    b.map4k(0x1000n, 0x5000n, 1n); // read-only
    expect(walkEpt(m, b.eptp(true), 0x2000n)).toMatchObject({ ok: false, reason: 'not-present', level: 1 });
    expect(walkEpt(m, b.eptp(true), 1n << 40n)).toMatchObject({ ok: false, reason: 'not-present', level: 4 });
    expect(walkEpt(m, b.eptp(true), 0x1000n, { write: true })).toMatchObject({ ok: false, reason: 'permission', level: 1 });
  });

  it('a 2 MiB large page at level 2 maps the whole range', () => {
    const m = memory();
    const pml4 = m.alloc();
    const pdpt = m.alloc();
    const pd = m.alloc();
    m.writeU64(pml4, pdpt | 7n);
    m.writeU64(pdpt, pd | 7n);
    m.writeU64(pd + 8n, 0x4000_0000n | 7n | (1n << 7n));
    const r = walkEpt(m, makeEptp(pml4, false), 0x20_1234n + 0x1_0000n);
    expect(r.ok && r.level).toBe(2);
    expect(r.ok && r.pa).toBe(0x4000_0000n + 0x1234n + 0x1_0000n);
  });
});

describe('Vmcs field slots (the processor hot-path access)', () => {
  it('peekAt / cpuWriteAt read and write the same value peek / cpuWrite do, uncounted; only full fields with a slot have one', () => {
    const V = Vmcs;
    const PML = C.GUEST_PML_INDEX;
    const CR3 = C.GUEST_CR3;
    const vmcs = new V('vmcs02');
    const slot = V.fieldSlot(PML);
    expect(vmcs.peekAt(slot)).toBe(0n);
    vmcs.vmwrite(PML, 511n);
    expect(vmcs.peekAt(slot)).toBe(511n);
    vmcs.cpuWriteAt(slot, 0xffffn);
    expect(vmcs.peek(PML)).toBe(0xffffn);
    expect(vmcs.countsOf(PML)).toEqual({ vmreads: 0, vmwrites: 1 });
    expect(V.fieldSlot(CR3)).not.toBe(slot);
    vmcs.cpuWriteAt(V.fieldSlot(CR3), 0x1000n);
    expect(vmcs.peek(PML)).toBe(0xffffn);
    expect(() => V.fieldSlot(0x2001)).toThrow(RangeError); // a _HIGH access
    expect(() => V.fieldSlot(0x1000)).toThrow(RangeError); // bit 12 set: no encoding
    expect(() => V.fieldSlot(0x0c3e)).toThrow(RangeError); // well-formed, no kernel field
  });

  it('peekNumberAt is Number(peek) of the field after any mix of stores; cpuWriteNumberAt stores the bigint', () => {
    const PML = C.GUEST_PML_INDEX; // 16 bits
    const ACT = C.GUEST_ACTIVITY_STATE; // 32 bits
    type Op = { k: 'vmwrite' | 'cpuWrite' | 'cpuWriteAt' | 'cpuWriteNumberAt' | 'peekNumberAt'; f: 0 | 1; v: number };
    const op = fc.record({
      k: fc.constantFrom<Op['k']>('vmwrite', 'cpuWrite', 'cpuWriteAt', 'cpuWriteNumberAt', 'peekNumberAt'),
      f: fc.constantFrom<0 | 1>(0, 1),
      v: fc.integer({ min: 0, max: 0xffff }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const vmcs = new Vmcs('vmcs02');
        const enc = [PML, ACT] as const;
        const slot = [Vmcs.numberFieldSlot(PML), Vmcs.numberFieldSlot(ACT)] as const;
        for (const o of ops) {
          const e = enc[o.f];
          const s = slot[o.f];
          if (o.k === 'vmwrite') vmcs.vmwrite(e, BigInt(o.v));
          else if (o.k === 'cpuWrite') vmcs.cpuWrite(e, BigInt(o.v));
          else if (o.k === 'cpuWriteAt') vmcs.cpuWriteAt(s, BigInt(o.v));
          else if (o.k === 'cpuWriteNumberAt') vmcs.cpuWriteNumberAt(s, BigInt(o.v), o.v);
          for (const f of [0, 1] as const) {
            expect(vmcs.peekNumberAt(slot[f])).toBe(Number(vmcs.peek(enc[f])));
            expect(vmcs.peekAt(slot[f])).toBe(vmcs.peek(enc[f]));
          }
        }
      }),
      { numRuns: 200 },
    );
    // a double does not hold every 64-bit value: such a field has no number slot
    expect(() => Vmcs.numberFieldSlot(C.GUEST_CR3)).toThrow(RangeError);
    expect(() => Vmcs.numberFieldSlot(C.EPT_POINTER)).toThrow(RangeError);
    expect(Vmcs.numberFieldSlot(PML)).toBe(Vmcs.fieldSlot(PML));
  });

  it('cpuWriteExactNumberAt stores a value every read then sees, as cpuWriteAt of its bigint would (64-bit fields, _HIGH accesses too)', () => {
    // A reference map of each field's bigint against the VMCS, under any mix of stores and reads.
    const RIP = C.GUEST_RIP; // natural width
    const EPTP = C.EPT_POINTER; // 64 bits, with a _HIGH access at EPTP + 1
    type Op = { k: 'vmwrite' | 'vmwriteHigh' | 'cpuWriteAt' | 'exact' | 'read'; f: 0 | 1; v: number; first: number };
    const op = fc.record({
      k: fc.constantFrom<Op['k']>('vmwrite', 'vmwriteHigh', 'cpuWriteAt', 'exact', 'read'),
      f: fc.constantFrom<0 | 1>(0, 1),
      // which kind of read checks the stored value first (the first read of a number-only value makes its bigint)
      first: fc.integer({ min: 0, max: 3 }),
      v: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constant(Number.MAX_SAFE_INTEGER)),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const vmcs = new Vmcs('vmcs02');
        const enc = [RIP, EPTP] as const;
        const slot = [Vmcs.fieldSlot(RIP), Vmcs.fieldSlot(EPTP)] as const;
        const ref = [0n, 0n];
        const stored = new Set<number>();
        for (const o of ops) {
          const v = BigInt(o.v);
          if (o.k === 'vmwrite') {
            vmcs.vmwrite(enc[o.f], v);
            ref[o.f] = v;
          } else if (o.k === 'vmwriteHigh') {
            vmcs.vmwrite(C.EPT_POINTER_HIGH, v);
            ref[1] = ((v & 0xffff_ffffn) << 32n) | (ref[1]! & 0xffff_ffffn);
          } else if (o.k === 'cpuWriteAt') {
            vmcs.cpuWriteAt(slot[o.f], v);
            ref[o.f] = v;
          } else if (o.k === 'exact') {
            vmcs.cpuWriteExactNumberAt(slot[o.f], o.v);
            ref[o.f] = v;
          }
          if (o.k !== 'read') stored.add(o.k === 'vmwriteHigh' ? EPTP : enc[o.f]);
          // every field stored to is listed as written, as after cpuWriteAt (checked before any read)
          expect(vmcs.writtenFields()).toEqual([...stored].sort((a, b) => a - b));
          const reads = [
            () => expect(vmcs.peek(C.EPT_POINTER_HIGH)).toBe(ref[1]! >> 32n),
            () => expect([vmcs.peek(RIP), vmcs.peek(EPTP)]).toEqual(ref),
            () => expect([vmcs.peekAt(slot[0]), vmcs.peekAt(slot[1])]).toEqual(ref),
            () => expect([vmcs.vmread(RIP), vmcs.peekNumberAt(slot[1])]).toEqual([ref[0], Number(ref[1])]),
          ];
          for (let i = 0; i < reads.length; i++) reads[(o.first + i) % reads.length]!();
        }
      }),
      { numRuns: 300 },
    );
  });
});
