/**
 * A vmcs12 as KVM holds it: 4 KiB of bytes in struct vmcs12's layout (vmx->nested.cached_vmcs12
 * for the current VMCS, L1's memory for the others). KVM reads and writes it as ordinary memory;
 * L1 reaches it only through VMREAD/VMWRITE (vmcs12_read_any/vmcs12_write_any, vmx/vmcs12.h).
 */
import {
  VMCS12_FIELDS,
  VMCS12_OFFSET_ABORT,
  VMCS12_OFFSET_LAUNCH_STATE,
  VMCS12_OFFSET_REVISION,
  VMCS12_SIZE,
  VMCS_HDR_SHADOW_VMCS,
  type Vmcs12Field,
} from './vmcs12-layout.js';

/** VMCS12_FIELDS as a dense table (encodings are 15-bit): KVM's own accesses are the hot path. */
const FIELD_BY_ENCODING: readonly (Vmcs12Field | undefined)[] = (() => {
  const t = new Array<Vmcs12Field | undefined>(0x8000);
  for (const [enc, f] of VMCS12_FIELDS) t[enc] = f;
  return t;
})();

export class Vmcs12 {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  /** A zeroed vmcs12, or one over a copy of `bytes` (at least VMCS12_SIZE of them). */
  constructor(bytes?: Uint8Array) {
    this.bytes = new Uint8Array(VMCS12_SIZE);
    if (bytes !== undefined) this.bytes.set(bytes.subarray(0, VMCS12_SIZE));
    this.view = new DataView(this.bytes.buffer);
  }

  /** vmcs12_read_any(): the field, zero-extended. */
  readField(f: Vmcs12Field): bigint {
    switch (f.size) {
      case 2:
        return BigInt(this.view.getUint16(f.offset, true));
      case 4:
        return BigInt(this.view.getUint32(f.offset, true));
      default:
        return this.view.getBigUint64(f.offset, true);
    }
  }

  /** vmcs12_write_any(): the low bits of `value` that fit the field. */
  writeField(f: Vmcs12Field, value: bigint): void {
    switch (f.size) {
      case 2:
        this.view.setUint16(f.offset, Number(value & 0xffffn), true);
        break;
      case 4:
        this.view.setUint32(f.offset, Number(value & 0xffff_ffffn), true);
        break;
      default:
        this.view.setBigUint64(f.offset, BigInt.asUintN(64, value), true);
    }
  }

  private field(encoding: number): Vmcs12Field {
    const f = FIELD_BY_ENCODING[encoding];
    if (f === undefined) throw new RangeError(`0x${encoding.toString(16)} is not a vmcs12 field`);
    return f;
  }

  /** KVM's own access to a member (`vmcs12->guest_cr3`), by the member's encoding. */
  get(encoding: number): bigint {
    return this.readField(this.field(encoding));
  }

  set(encoding: number, value: bigint): void {
    this.writeField(this.field(encoding), value);
  }

  /** Whether any of `bits` is set in the field (nested_cpu_has() and friends). */
  has(encoding: number, bits: number): boolean {
    return (this.get(encoding) & BigInt(bits >>> 0)) !== 0n;
  }

  /** hdr.revision_id (31 bits). */
  get revision(): number {
    return this.view.getUint32(VMCS12_OFFSET_REVISION, true) & ~VMCS_HDR_SHADOW_VMCS;
  }

  /** hdr.shadow_vmcs. */
  get shadowVmcs(): boolean {
    return (this.view.getUint32(VMCS12_OFFSET_REVISION, true) & VMCS_HDR_SHADOW_VMCS) !== 0;
  }

  /** launch_state: 0 after VMCLEAR, 1 once a VMLAUNCH has completed. */
  get launchState(): number {
    return this.view.getUint32(VMCS12_OFFSET_LAUNCH_STATE, true);
  }

  set launchState(v: number) {
    this.view.setUint32(VMCS12_OFFSET_LAUNCH_STATE, v >>> 0, true);
  }

  get abort(): number {
    return this.view.getUint32(VMCS12_OFFSET_ABORT, true);
  }

  /** A byte-for-byte copy. */
  clone(): Vmcs12 {
    return new Vmcs12(this.bytes);
  }
}
