/**
 * A hardware VMCS (L0's vmcs01 or vmcs02) as a field store keyed by the real encodings, with
 * every VMREAD and VMWRITE counted (the "Skip GUEST_CR3 VMREAD+VMWRITE" patch is judged by these
 * counts). Values are masked to the width the encoding declares (SDM vol. 3 §24.11.2: bits 14:13
 * = 16-bit, 64-bit, 32-bit, natural width); an odd encoding of a 64-bit field is its `_HIGH`
 * access and reaches the upper 32 bits.
 */
import { VMCS_FIELD_NAMES } from './vmcs-field-names.js';

export type VmcsWidth = 16 | 32 | 64;

/** Width of an access, as vmcs_field_width() (arch/x86/kvm/vmx/vmcs.h): `_HIGH` accesses are 32-bit. */
export function vmcsFieldWidth(encoding: number): VmcsWidth {
  if ((encoding & 1) !== 0) return 32;
  switch ((encoding >> 13) & 3) {
    case 0:
      return 16;
    case 2:
      return 32;
    default:
      return 64;
  }
}

/** A `_HIGH` access: access-type bit 0 set on a 64-bit field (SDM §24.11.2). */
export const isHighAccess = (encoding: number): boolean => (encoding & 1) !== 0 && ((encoding >> 13) & 3) === 1;

/** A valid encoding: bits 31:15 and bit 12 are zero, and only 64-bit fields have a high access (SDM §24.11.2). */
export function isValidVmcsEncoding(encoding: number): boolean {
  if (!Number.isInteger(encoding) || encoding < 0 || encoding > 0x7fff || (encoding & 0x1000) !== 0) return false;
  return (encoding & 1) === 0 || isHighAccess(encoding);
}

/** The kernel's name of an encoding, or its hex. */
export function vmcsFieldName(encoding: number): string {
  return VMCS_FIELD_NAMES.get(encoding) ?? `0x${encoding.toString(16).padStart(4, '0')}`;
}

/** The largest value of a field of each width. */
const WIDTH_MAX: Readonly<Record<VmcsWidth, bigint>> = { 16: 0xffffn, 32: 0xffff_ffffn, 64: (1n << 64n) - 1n };

export interface VmcsCounts {
  vmreads: number;
  vmwrites: number;
}

/**
 * Dense slots for the encodings of enum vmcs_field (a `_HIGH` access has its own counter slot but
 * shares its field's value slot), computed once: the hot path indexes arrays instead of hashing,
 * and a VMCS costs a few KiB. Other valid encodings — no kernel field, but well-formed — fall back
 * to maps.
 */
const COUNT_SLOT = new Int16Array(0x8000).fill(-1);
const VALUE_SLOT = new Int16Array(0x8000).fill(-1);
const SLOT_ENCODING: number[] = [];
let valueSlots = 0;
for (const enc of [...VMCS_FIELD_NAMES.keys()].sort((a, b) => a - b)) {
  COUNT_SLOT[enc] = SLOT_ENCODING.push(enc) - 1;
  const base = isHighAccess(enc) ? enc - 1 : enc;
  if (VALUE_SLOT[base]! < 0) VALUE_SLOT[base] = valueSlots++;
  if (isHighAccess(enc)) VALUE_SLOT[enc] = VALUE_SLOT[base]!;
}

export class Vmcs {
  /** A label for traces: "vmcs01", "vmcs02", … */
  readonly name: string;
  readonly counts: VmcsCounts = { vmreads: 0, vmwrites: 0 };
  /**
   * A slot's value; null when only `numbers` holds it (cpuWriteExactNumberAt: the bigint is made
   * at the first read, so a processor store that nothing reads costs no bigint).
   */
  private readonly values: (bigint | null | undefined)[] = new Array<bigint | null | undefined>(valueSlots);
  /**
   * Number(value) of a slot, once peekNumberAt, cpuWriteNumberAt or cpuWriteExactNumberAt knew
   * it; NaN when not known (every other store sets NaN): a logged store reads the PML index
   * without converting a bigint.
   */
  private readonly numbers = new Float64Array(valueSlots).fill(NaN);
  private readonly reads = new Uint32Array(SLOT_ENCODING.length);
  private readonly writes = new Uint32Array(SLOT_ENCODING.length);
  private readonly otherValues = new Map<number, bigint>();
  private readonly otherCounts = new Map<number, VmcsCounts>();
  /** Launch state (SDM §24.11.3): VMCLEAR makes it "clear", VMLAUNCH "launched". */
  launched = false;

  constructor(name: string) {
    this.name = name;
  }

  private check(encoding: number): void {
    if (!isValidVmcsEncoding(encoding)) throw new RangeError(`invalid VMCS field encoding 0x${encoding.toString(16)}`);
  }

  /** The stored value of the full field `base` (an even encoding). */
  private load(base: number): bigint {
    const slot = VALUE_SLOT[base]!;
    return slot >= 0 ? this.peekAt(slot) : (this.otherValues.get(base) ?? 0n);
  }

  private store(base: number, value: bigint): void {
    const slot = VALUE_SLOT[base]!;
    if (slot >= 0) {
      this.values[slot] = value;
      this.numbers[slot] = NaN;
    } else this.otherValues.set(base, value);
  }

  private get(encoding: number): bigint {
    if (isHighAccess(encoding)) return this.load(encoding - 1) >> 32n;
    return this.load(encoding);
  }

  private set(encoding: number, value: bigint): void {
    if (isHighAccess(encoding)) {
      this.store(encoding - 1, (BigInt.asUintN(32, value) << 32n) | (this.load(encoding - 1) & 0xffff_ffffn));
      return;
    }
    const width = vmcsFieldWidth(encoding);
    // A value already in range is stored as is (no new bigint on the processor's per-instruction RIP store).
    this.store(encoding, value >= 0n && value <= WIDTH_MAX[width] ? value : BigInt.asUintN(width, value));
  }

  private otherCountsOf(encoding: number): VmcsCounts {
    let c = this.otherCounts.get(encoding);
    if (c === undefined) this.otherCounts.set(encoding, (c = { vmreads: 0, vmwrites: 0 }));
    return c;
  }

  /** VMREAD (counted). Unwritten fields read 0. */
  vmread(encoding: number): bigint {
    this.check(encoding);
    this.counts.vmreads++;
    const slot = COUNT_SLOT[encoding]!;
    if (slot >= 0) this.reads[slot]!++;
    else this.otherCountsOf(encoding).vmreads++;
    return this.get(encoding);
  }

  /** VMWRITE (counted), masked to the field's width. */
  vmwrite(encoding: number, value: bigint): void {
    this.check(encoding);
    this.counts.vmwrites++;
    const slot = COUNT_SLOT[encoding]!;
    if (slot >= 0) this.writes[slot]!++;
    else this.otherCountsOf(encoding).vmwrites++;
    this.set(encoding, value);
  }

  /**
   * A store the processor itself makes while it runs the guest (e.g. the PML index it
   * decrements, SDM §28.2.6, or the guest state saved at a VM exit): not a VMWRITE, so not
   * counted. Masked like vmwrite.
   */
  cpuWrite(encoding: number, value: bigint): void {
    this.check(encoding);
    this.set(encoding, value);
  }

  /**
   * The processor's own access to one field on a hot path (the PML index it reads and
   * decrements on every logged store): `fieldSlot` once, then `peekAt` / `cpuWriteAt` skip the
   * encoding checks. Same values as peek / cpuWrite of that field.
   */
  static fieldSlot(encoding: number): number {
    const slot = VALUE_SLOT[encoding] ?? -1;
    if (!isValidVmcsEncoding(encoding) || isHighAccess(encoding) || slot < 0) throw new RangeError(`no value slot for VMCS field ${vmcsFieldName(encoding)}`);
    return slot;
  }

  peekAt(slot: number): bigint {
    const v = this.values[slot];
    if (v !== null) return v ?? 0n;
    // a number-only value (cpuWriteExactNumberAt): its bigint, made once
    const b = BigInt(this.numbers[slot]!);
    this.values[slot] = b;
    return b;
  }

  /** cpuWrite of the field in `slot`; `value` must be in the field's range (no masking here). */
  cpuWriteAt(slot: number, value: bigint): void {
    this.values[slot] = value;
    this.numbers[slot] = NaN;
  }

  /**
   * fieldSlot of a field at most 32 bits wide, whose value a double holds exactly: for
   * peekNumberAt / cpuWriteNumberAt, the processor's per-store PML index.
   */
  static numberFieldSlot(encoding: number): number {
    const slot = Vmcs.fieldSlot(encoding);
    if (vmcsFieldWidth(encoding) === 64) throw new RangeError(`VMCS field ${vmcsFieldName(encoding)} is 64 bits wide: a double does not hold it exactly`);
    return slot;
  }

  /** peekAt as a number (numberFieldSlot slots only): converted once per store, not per read. */
  peekNumberAt(slot: number): number {
    const n = this.numbers[slot]!;
    if (n === n) return n; // not NaN: known
    const v = Number(this.peekAt(slot));
    this.numbers[slot] = v;
    return v;
  }

  /** cpuWriteAt of `value` whose Number is `n` (the caller has both; numberFieldSlot slots only). */
  cpuWriteNumberAt(slot: number, value: bigint, n: number): void {
    this.values[slot] = value;
    this.numbers[slot] = n;
  }

  /**
   * cpuWriteAt of the integer `n` (0 ≤ n < 2^53, so exact in a double, and in range for any
   * field of fieldSlot), with no bigint made until the field is read: the RIP the processor
   * stores after every instruction of L2, which only an exit or a VMREAD reads.
   */
  cpuWriteExactNumberAt(slot: number, n: number): void {
    this.values[slot] = null;
    this.numbers[slot] = n;
  }

  /** Reads without counting (the processor loading state at VM entry; reports and tests). */
  peek(encoding: number): bigint {
    return this.get(encoding);
  }

  /** Per-field counts, e.g. of GUEST_CR3. */
  countsOf(encoding: number): Readonly<VmcsCounts> {
    if (!isValidVmcsEncoding(encoding)) return { vmreads: 0, vmwrites: 0 };
    const slot = COUNT_SLOT[encoding]!;
    if (slot < 0) return { ...(this.otherCounts.get(encoding) ?? { vmreads: 0, vmwrites: 0 }) };
    return { vmreads: this.reads[slot]!, vmwrites: this.writes[slot]! };
  }

  resetCounts(): void {
    this.counts.vmreads = 0;
    this.counts.vmwrites = 0;
    this.reads.fill(0);
    this.writes.fill(0);
    this.otherCounts.clear();
  }

  /** VMCLEAR: launch state clear (field data stays, as on hardware it is flushed to memory). */
  clear(): void {
    this.launched = false;
  }

  /** The encodings that hold a value. */
  writtenFields(): number[] {
    const out = [...this.otherValues.keys()];
    for (const enc of SLOT_ENCODING) if (!isHighAccess(enc) && this.values[VALUE_SLOT[enc]!] !== undefined) out.push(enc);
    return out.sort((a, b) => a - b);
  }
}
