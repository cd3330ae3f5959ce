/**
 * struct vmcs12: L1's VMCS as KVM caches it (vmx->nested.cached_vmcs12). KVM reads and writes
 * it as ordinary memory; only L1's VMREAD/VMWRITE (emulated) are counted here.
 */
import { vmcsFieldWidth } from '@kvmlab/hypervisor-core';

export class Vmcs12 {
  /** The L1 physical address L1 passed to VMPTRLD. */
  readonly ptr: bigint;
  /** launch_state: false after VMCLEAR, true after the first completed VMLAUNCH. */
  launched = false;
  l1Vmreads = 0;
  l1Vmwrites = 0;
  private readonly fields = new Map<number, bigint>();

  constructor(ptr: bigint) {
    this.ptr = ptr;
  }

  get(encoding: number): bigint {
    return this.fields.get(encoding) ?? 0n;
  }

  set(encoding: number, value: bigint): void {
    this.fields.set(encoding, BigInt.asUintN(vmcsFieldWidth(encoding), value));
  }

  has(encoding: number, bits: number): boolean {
    return (this.get(encoding) & BigInt(bits)) !== 0n;
  }
}
