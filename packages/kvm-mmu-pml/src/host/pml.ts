/**
 * KVM's side of PML: draining the per-vCPU log into the dirty bitmaps
 * (arch/x86/kvm/vmx/vmx.c). The hardware side is in cpu.ts.
 */
import { GUEST_PML_INDEX, PML_ENTITY_NUM } from '@kvmlab/hypervisor-core';
import type { KvmMmuState } from './shapes.js';
import type { VcpuVmx } from './vcpu-vmx.js';

/** KVM's initial and reset PML index: the log fills from entry 511 down (vmx.c). */
export const PML_INDEX_RESET = PML_ENTITY_NUM - 1;

// models vmx_flush_pml_buffer() (vmx.c): every logged GPA is taken as an L1 gfn and marked
export function vmxFlushPmlBuffer(m: KvmMmuState, v: VcpuVmx): void {
  const vmcs = v.current;
  const idx = Number(vmcs.vmread(GUEST_PML_INDEX));
  if (idx === PML_INDEX_RESET) return;
  v.exits.pmlFlushes++;
  // An index of 0xFFFF (or anything ≥ 512) means the log is full.
  const start = idx >= PML_ENTITY_NUM ? 0 : idx + 1;
  if (m.observers.pmlFlush !== undefined) m.observers.pmlFlush(v.vcpu, Array.from(v.pmlBuffer.subarray(start)));
  for (let i = start; i < PML_ENTITY_NUM; i++) {
    v.exits.pmlGfnsFlushed++;
    m.markPageDirty(v.loggedGfn(i));
  }
  vmcs.vmwrite(GUEST_PML_INDEX, BigInt(PML_INDEX_RESET));
}
