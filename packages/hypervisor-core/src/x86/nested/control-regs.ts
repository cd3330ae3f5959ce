/**
 * KVM's writes of a guest's control registers into the loaded VMCS (vmx_set_cr0(), vmx_set_cr4(),
 * vmx_set_efer(), vmx_set_rflags() in arch/x86/kvm/vmx/vmx.c of v5.4): vcpu->arch takes the value
 * the guest sees, GUEST_CRx what the processor runs with (KVM's always-on bits added), and the
 * read shadow what a MOV from CRx returns. With unrestricted guest, the always-on CR0 bits are WP
 * and NE only; without, PE and PG too (KVM_VM_CR0_ALWAYS_ON, vmx.c).
 */
import * as F from '../vmcs-fields.js';
import { EFER_LMA, X86_CR0_NE, X86_CR0_PE, X86_CR0_PG, X86_CR0_TS, X86_CR0_WP, X86_CR4_PAE, X86_CR4_VMXE } from '../x86-regs.js';
import type { NestedVcpuState } from './shapes.js';

/** KVM_POSSIBLE_CR4_GUEST_BITS | PGE with EPT (kvm_cache_regs.h, set_cr4_guest_host_mask()). */
const CR4_GUEST_OWNED = (1n << 1n) | (1n << 3n) | (1n << 8n) | (1n << 9n) | (1n << 10n) | (1n << 7n);

export function cr0AlwaysOn(nv: NestedVcpuState): bigint {
  return nv.engine.params.unrestrictedGuest ? X86_CR0_WP | X86_CR0_NE : X86_CR0_WP | X86_CR0_NE | X86_CR0_PE | X86_CR0_PG;
}

function cr4AlwaysOn(nv: NestedVcpuState): bigint {
  return nv.engine.params.unrestrictedGuest ? X86_CR4_VMXE : X86_CR4_VMXE | X86_CR4_PAE;
}

/** CR0 bits the guest owns (vcpu->arch.cr0_guest_owned_bits): TS, minus what L1 intercepts for L2. */
export const cr0GuestOwnedBits = (l1Mask: bigint): bigint => X86_CR0_TS & ~l1Mask;
/** CR4 bits the guest owns, minus what L1 intercepts for L2. */
export const cr4GuestOwnedBits = (l1Mask: bigint): bigint => CR4_GUEST_OWNED & ~l1Mask;

/** models vmx_set_cr0(): arch.cr0, CR0_READ_SHADOW and GUEST_CR0 of the loaded VMCS. */
export function vmxSetCr0(nv: NestedVcpuState, cr0: bigint): void {
  nv.loaded.vmwrite(F.CR0_READ_SHADOW, cr0);
  nv.loaded.vmwrite(F.GUEST_CR0, cr0 | cr0AlwaysOn(nv));
  nv.vcpu.x86.cr0 = cr0;
}

/** models vmx_set_cr4(): arch.cr4, CR4_READ_SHADOW and GUEST_CR4 of the loaded VMCS. */
export function vmxSetCr4(nv: NestedVcpuState, cr4: bigint): void {
  nv.loaded.vmwrite(F.CR4_READ_SHADOW, cr4);
  nv.loaded.vmwrite(F.GUEST_CR4, cr4 | cr4AlwaysOn(nv));
  nv.vcpu.x86.cr4 = cr4;
}

/** models vmx_set_efer(): arch.efer; long mode follows EFER.LMA. */
export function vmxSetEfer(nv: NestedVcpuState, efer: bigint): void {
  nv.vcpu.x86.efer = efer;
  nv.vcpu.x86.longMode = (efer & EFER_LMA) !== 0n;
}

/** models vmx_set_rflags(). */
export function vmxSetRflags(nv: NestedVcpuState, rflags: bigint): void {
  nv.loaded.vmwrite(F.GUEST_RFLAGS, rflags);
  nv.vcpu.x86.rflags = rflags;
}
