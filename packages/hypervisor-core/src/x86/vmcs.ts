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

export interface VmcsCounts {
  vmreads: number;
  vmwrites: number;
}

/** Encodings are 15-bit: one slot per encoding keeps the hot path free of hashing. */
const ENCODINGS = 0x8000;

export class Vmcs {
  /** A label for traces: "vmcs01", "vmcs02", … */
  readonly name: string;
  readonly counts: VmcsCounts = { vmreads: 0, vmwrites: 0 };
  private readonly values: (bigint | undefined)[] = new Array<bigint | undefined>(ENCODINGS);
  private readonly reads = new Uint32Array(ENCODINGS);
  private readonly writes = new Uint32Array(ENCODINGS);
  /** Launch state (SDM §24.11.3): VMCLEAR makes it "clear", VMLAUNCH "launched". */
  launched = false;

  constructor(name: string) {
    this.name = name;
  }

  private check(encoding: number): void {
    if (!isValidVmcsEncoding(encoding)) throw new RangeError(`invalid VMCS field encoding 0x${encoding.toString(16)}`);
  }

  private get(encoding: number): bigint {
    if (isHighAccess(encoding)) return (this.values[encoding - 1] ?? 0n) >> 32n;
    return this.values[encoding] ?? 0n;
  }

  private set(encoding: number, value: bigint): void {
    if (isHighAccess(encoding)) {
      const low = (this.values[encoding - 1] ?? 0n) & 0xffff_ffffn;
      this.values[encoding - 1] = (BigInt.asUintN(32, value) << 32n) | low;
      return;
    }
    this.values[encoding] = BigInt.asUintN(vmcsFieldWidth(encoding), value);
  }

  /** VMREAD (counted). Unwritten fields read 0. */
  vmread(encoding: number): bigint {
    this.check(encoding);
    this.counts.vmreads++;
    this.reads[encoding]!++;
    return this.get(encoding);
  }

  /** VMWRITE (counted), masked to the field's width. */
  vmwrite(encoding: number, value: bigint): void {
    this.check(encoding);
    this.counts.vmwrites++;
    this.writes[encoding]!++;
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

  /** Reads without counting (the processor loading state at VM entry; reports and tests). */
  peek(encoding: number): bigint {
    return this.get(encoding);
  }

  /** Per-field counts, e.g. of GUEST_CR3. */
  countsOf(encoding: number): Readonly<VmcsCounts> {
    if (!isValidVmcsEncoding(encoding)) return { vmreads: 0, vmwrites: 0 };
    return { vmreads: this.reads[encoding]!, vmwrites: this.writes[encoding]! };
  }

  resetCounts(): void {
    this.counts.vmreads = 0;
    this.counts.vmwrites = 0;
    this.reads.fill(0);
    this.writes.fill(0);
  }

  /** VMCLEAR: launch state clear (field data stays, as on hardware it is flushed to memory). */
  clear(): void {
    this.launched = false;
  }

  /** The encodings that hold a value. */
  writtenFields(): number[] {
    const out: number[] = [];
    this.values.forEach((v, i) => void (v !== undefined && out.push(i)));
    return out;
  }
}
