/**
 * What a VMM saves of a stopped x86 vCPU and restores on the destination (QEMU's
 * kvm_arch_get_registers / kvm_arch_put_registers for what the model has): the general-purpose
 * registers (KVM_GET_REGS; in guest mode they are L2's — VMX does not switch them), L1's control
 * registers, KVM_GET_NESTED_STATE, KVM_GET_MP_STATE and the interrupts pending in the local APIC
 * (KVM_GET_LAPIC's IRR). Restore order: L1's control registers, then the nested state, then
 * mp_state (sync_vmcs02_to_vmcs12 derives the activity state from it), registers, interrupts.
 */
import { GUEST_CR3, HOST_CR3, KVM_NESTED_STATE_HEADER_SIZE, KVM_STATE_NESTED_GUEST_MODE, readLe, type Vcpu, Vmcs12 } from '@kvmlab/hypervisor-core';

export interface VcpuSnapshot {
  readonly id: number;
  readonly regs: { readonly rax: bigint; readonly rbx: bigint; readonly rcx: bigint; readonly rdx: bigint; readonly rsi: bigint; readonly rdi: bigint };
  /** L1's CR3: vcpu->arch.cr3 in L1; in guest mode what the nested exit will load (vmcs12.HOST_CR3). */
  readonly l1Cr3: bigint;
  readonly cr0: bigint;
  readonly cr4: bigint;
  readonly nestedState: Uint8Array;
  readonly mpState: number;
  readonly pendingIrqs: readonly number[];
}

/** The vmcs12 a guest-mode nested state carries (the current VMCS), or null. */
export function vmcs12OfState(state: Uint8Array): Vmcs12 | null {
  const flags = Number(readLe(state, 0, 2));
  if ((flags & KVM_STATE_NESTED_GUEST_MODE) === 0) return null;
  return new Vmcs12(state.slice(KVM_NESTED_STATE_HEADER_SIZE, KVM_NESTED_STATE_HEADER_SIZE + 4096));
}

export function saveVcpu(vcpu: Vcpu): VcpuSnapshot {
  const engine = vcpu.vm.hv.nestedVmx!;
  const nestedState = vcpu.getNestedState();
  const v12 = vmcs12OfState(nestedState);
  const x = vcpu.x86;
  return {
    id: vcpu.id, regs: { ...x.regs }, l1Cr3: v12 !== null ? v12.get(HOST_CR3) : x.cr3, cr0: x.cr0, cr4: x.cr4, nestedState,
    mpState: vcpu.getMpState(), pendingIrqs: [...engine.state(vcpu).pendingIrqs],
  };
}

export function restoreVcpu(vcpu: Vcpu, s: VcpuSnapshot): void {
  const engine = vcpu.vm.hv.nestedVmx!;
  engine.setSregs(vcpu, { cr3: s.l1Cr3, cr0: s.cr0, cr4: s.cr4 });
  vcpu.setNestedState(s.nestedState);
  vcpu.setMpState(s.mpState);
  Object.assign(vcpu.x86.regs, s.regs);
  for (const v of s.pendingIrqs) engine.raiseInterrupt(vcpu, v, vcpu.vm.hv.sim.now);
}

/** The saved vmcs12.GUEST_CR3 of a guest-mode state (what the destination's L2 and L1 will see), or null in L1. */
export const savedGuestCr3 = (s: VcpuSnapshot): bigint | null => vmcs12OfState(s.nestedState)?.get(GUEST_CR3) ?? null;
