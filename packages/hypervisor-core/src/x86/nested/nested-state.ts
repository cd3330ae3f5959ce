/**
 * KVM_GET_NESTED_STATE / KVM_SET_NESTED_STATE with the real struct kvm_nested_state
 * (arch/x86/include/uapi/asm/kvm.h; vmx_get_nested_state(), vmx_set_nested_state() in
 * arch/x86/kvm/vmx/nested.c and the ioctl checks in arch/x86/kvm/x86.c of v5.4).
 *
 * In guest mode KVM syncs vmcs02 into vmcs12 before it copies the state out, so a saved state
 * carries whatever vmcs02 holds — a stale GUEST_CR3 included. A refused SET leaves the vCPU as it
 * was (KVM itself has already left nested mode for some of the refusals; the model checks first).
 */
import { readLe, writeLe } from '../../bigint.js';
import { KvmError } from '../../errors.js';
import { GUEST_CR3 } from '../vmcs-fields.js';
import { nestedCr3Valid, nestedVmxCheckControls, nestedVmxCheckGuestState, nestedVmxCheckHostState, pageAddressValid } from './checks.js';
import {
  KVM_NESTED_STATE_HEADER_SIZE, KVM_NESTED_STATE_MAX_SIZE, KVM_NESTED_STATE_OFFSET_FLAGS, KVM_NESTED_STATE_OFFSET_FORMAT,
  KVM_NESTED_STATE_OFFSET_SIZE, KVM_NESTED_STATE_OFFSET_SMM_FLAGS, KVM_NESTED_STATE_OFFSET_VMCS12_PA,
  KVM_NESTED_STATE_OFFSET_VMXON_PA, KVM_STATE_NESTED_EVMCS, KVM_STATE_NESTED_FORMAT_VMX, KVM_STATE_NESTED_GUEST_MODE,
  KVM_STATE_NESTED_RUN_PENDING, KVM_STATE_NESTED_SMM_GUEST_MODE, KVM_STATE_NESTED_SMM_VMXON, KVM_STATE_NESTED_VMX_VMCS_SIZE,
} from './kvm-constants.js';
import type { NestedVcpuState } from './shapes.js';
import { hasShadowVmcs12 } from './shadow-vmcs12.js';
import { getVmcs12 } from './state.js';
import { enterVmxOperation, freeNested, setCurrentVmptr } from './vmx-insn.js';
import { nestedVmxEnterNonRootMode } from './vmenter.js';
import { syncVmcs02ToVmcs12, syncVmcs02ToVmcs12Rare, nestedVmxVmexit } from './vmexit.js';
import { VMCS12_MEMBER_OFFSETS, VMCS12_REVISION } from './vmcs12-layout.js';
import { Vmcs12 } from './vmcs12.js';

const NONE = 0xffff_ffff_ffff_ffffn;
/** sizeof(struct vmcs12): the packed struct ends with guest_pml_index (u16) — SET copies this much. */
export const SIZEOF_VMCS12 = VMCS12_MEMBER_OFFSETS.get('guest_pml_index')! + 2;
const DATA_OFFSET = KVM_NESTED_STATE_HEADER_SIZE;
const SHADOW_OFFSET = KVM_NESTED_STATE_HEADER_SIZE + KVM_STATE_NESTED_VMX_VMCS_SIZE;

/** vmx_get_nested_state(NULL, …): what KVM_CHECK_EXTENSION(KVM_CAP_NESTED_STATE) answers. */
export const nestedStateMaxSize = (): number => KVM_NESTED_STATE_MAX_SIZE;

/** The header and the sizes vmx_get_nested_state() computes before copying anything. */
function stateHeader(nv: NestedVcpuState): { flags: number; size: number; vmxonPa: bigint; vmcs12Pa: bigint } {
  let flags = 0;
  let size = KVM_NESTED_STATE_HEADER_SIZE;
  let vmxonPa = NONE;
  let vmcs12Pa = NONE;
  if (nv.vmxon) {
    vmxonPa = nv.vmxonPtr;
    vmcs12Pa = nv.currentVmptr === -1n ? NONE : nv.currentVmptr;
    if (nv.currentVmptr !== -1n) {
      size += KVM_STATE_NESTED_VMX_VMCS_SIZE;
      if (nv.vcpu.x86.guestMode && hasShadowVmcs12(getVmcs12(nv))) size += KVM_STATE_NESTED_VMX_VMCS_SIZE;
    }
    if (nv.vcpu.x86.guestMode) {
      flags |= KVM_STATE_NESTED_GUEST_MODE;
      if (nv.nestedRunPending) flags |= KVM_STATE_NESTED_RUN_PENDING;
    }
  }
  return { flags, size, vmxonPa, vmcs12Pa };
}

/**
 * KVM_GET_NESTED_STATE into `buf` (struct kvm_nested_state as bytes; its `size` field says how big
 * the buffer is). Without `buf`, a buffer of KVM_CAP_NESTED_STATE bytes. Too small: the needed size
 * is written into `size` and the call fails with E2BIG, as the ioctl does.
 */
export function vmxGetNestedState(nv: NestedVcpuState, buf?: Uint8Array): Uint8Array {
  const out = buf ?? new Uint8Array(KVM_NESTED_STATE_MAX_SIZE);
  if (buf === undefined) writeLe(out, KVM_NESTED_STATE_OFFSET_SIZE, 4, BigInt(out.length));
  if (out.length < KVM_NESTED_STATE_HEADER_SIZE) throw new KvmError('EFAULT', `struct kvm_nested_state needs ${KVM_NESTED_STATE_HEADER_SIZE} bytes, the buffer has ${out.length}`, 'buf');
  const userSize = Number(readLe(out, KVM_NESTED_STATE_OFFSET_SIZE, 4));
  const h = stateHeader(nv);
  if (userSize < h.size) {
    writeLe(out, KVM_NESTED_STATE_OFFSET_SIZE, 4, BigInt(h.size)); // put_user(r, &size), then -E2BIG
    throw new KvmError('E2BIG', `KVM_GET_NESTED_STATE needs ${h.size} bytes, size says ${userSize}`, 'size');
  }
  if (out.length < h.size) throw new KvmError('EFAULT', `size says ${userSize} bytes but the buffer has ${out.length}`, 'buf');
  out.fill(0, 0, KVM_NESTED_STATE_HEADER_SIZE);
  writeLe(out, KVM_NESTED_STATE_OFFSET_FLAGS, 2, BigInt(h.flags));
  writeLe(out, KVM_NESTED_STATE_OFFSET_FORMAT, 2, BigInt(KVM_STATE_NESTED_FORMAT_VMX));
  writeLe(out, KVM_NESTED_STATE_OFFSET_SIZE, 4, BigInt(h.size));
  writeLe(out, KVM_NESTED_STATE_OFFSET_VMXON_PA, 8, h.vmxonPa);
  writeLe(out, KVM_NESTED_STATE_OFFSET_VMCS12_PA, 8, h.vmcs12Pa);
  if (!nv.vmxon || nv.currentVmptr === -1n) return out;
  const v12 = getVmcs12(nv);
  if (nv.vcpu.x86.guestMode) {
    // When L2 runs, the authoritative vmcs12 state is in vmcs02.
    syncVmcs02ToVmcs12(nv, v12);
    syncVmcs02ToVmcs12Rare(nv, v12);
  }
  out.set(v12.bytes, DATA_OFFSET);
  if (h.size > SHADOW_OFFSET && nv.cachedShadowVmcs12 !== null) out.set(nv.cachedShadowVmcs12.bytes, SHADOW_OFFSET);
  return out;
}

interface ParsedState {
  readonly flags: number;
  readonly size: number;
  readonly vmxonPa: bigint;
  readonly vmcs12Pa: bigint;
  readonly vmcs12: Vmcs12 | null;
  readonly shadow: Vmcs12 | null;
}

const invalid = (why: string, argument = 'buf'): KvmError => new KvmError('EINVAL', `KVM_SET_NESTED_STATE: ${why}`, argument);

/** vmcs12 as vmx_set_nested_state() reads it: sizeof(struct vmcs12) bytes into a zeroed cache. */
function readVmcs12(buf: Uint8Array, offset: number): Vmcs12 {
  if (buf.length < offset + SIZEOF_VMCS12) throw new KvmError('EFAULT', `the buffer ends before the vmcs12 at ${offset}`, 'buf');
  return new Vmcs12(buf.subarray(offset, offset + SIZEOF_VMCS12));
}

/** Every check of the ioctl and of vmx_set_nested_state(), in the kernel's order, with nothing changed yet. */
function parseAndCheck(nv: NestedVcpuState, buf: Uint8Array): ParsedState {
  if (!(buf instanceof Uint8Array) || buf.length < KVM_NESTED_STATE_HEADER_SIZE) throw new KvmError('EFAULT', 'struct kvm_nested_state header cannot be read', 'buf');
  const flags = Number(readLe(buf, KVM_NESTED_STATE_OFFSET_FLAGS, 2));
  const format = Number(readLe(buf, KVM_NESTED_STATE_OFFSET_FORMAT, 2));
  const size = Number(readLe(buf, KVM_NESTED_STATE_OFFSET_SIZE, 4));
  const vmxonPa = readLe(buf, KVM_NESTED_STATE_OFFSET_VMXON_PA, 8);
  const vmcs12Pa = readLe(buf, KVM_NESTED_STATE_OFFSET_VMCS12_PA, 8);
  const smmFlags = Number(readLe(buf, KVM_NESTED_STATE_OFFSET_SMM_FLAGS, 2));
  if (size < KVM_NESTED_STATE_HEADER_SIZE) throw invalid(`size ${size} is smaller than the header`, 'size');
  if ((flags & ~(KVM_STATE_NESTED_RUN_PENDING | KVM_STATE_NESTED_GUEST_MODE | KVM_STATE_NESTED_EVMCS)) !== 0) throw invalid(`unknown flags 0x${flags.toString(16)}`, 'flags');
  if ((flags & KVM_STATE_NESTED_RUN_PENDING) !== 0 && (flags & KVM_STATE_NESTED_GUEST_MODE) === 0) throw invalid('RUN_PENDING without GUEST_MODE', 'flags');
  if (format !== KVM_STATE_NESTED_FORMAT_VMX) throw invalid(`format ${format} is not VMX`, 'format');
  if (vmxonPa === NONE) {
    if (smmFlags !== 0 || vmcs12Pa !== NONE || (flags & ~KVM_STATE_NESTED_EVMCS) !== 0) throw invalid('state outside VMX operation must be empty');
  } else if (!pageAddressValid(vmxonPa)) {
    throw invalid(`vmxon_pa 0x${vmxonPa.toString(16)} is not a valid page address`, 'vmxon_pa');
  }
  if ((smmFlags & KVM_STATE_NESTED_SMM_GUEST_MODE) !== 0 && (flags & KVM_STATE_NESTED_GUEST_MODE) !== 0) throw invalid('SMM guest mode and guest mode');
  if ((smmFlags & ~(KVM_STATE_NESTED_SMM_GUEST_MODE | KVM_STATE_NESTED_SMM_VMXON)) !== 0) throw invalid('unknown SMM flags');
  if (smmFlags !== 0) throw invalid('SMM flags outside SMM'); // the model's vCPUs are never in SMM
  if ((flags & KVM_STATE_NESTED_EVMCS) !== 0) throw invalid('enlightened VMCS is not enabled');
  if (vmxonPa === NONE || size < KVM_NESTED_STATE_HEADER_SIZE + SIZEOF_VMCS12) return { flags, size, vmxonPa, vmcs12Pa, vmcs12: null, shadow: null };
  if (vmcs12Pa === NONE || vmcs12Pa === vmxonPa || !pageAddressValid(vmcs12Pa)) throw invalid(`vmcs12_pa 0x${vmcs12Pa.toString(16)} is not usable`, 'vmcs12_pa');
  const vmcs12 = readVmcs12(buf, DATA_OFFSET);
  if (vmcs12.revision !== VMCS12_REVISION) throw invalid(`vmcs12 revision 0x${vmcs12.revision.toString(16)}`);
  if ((flags & KVM_STATE_NESTED_GUEST_MODE) === 0) return { flags, size, vmxonPa, vmcs12Pa, vmcs12, shadow: null };
  let shadow: Vmcs12 | null = null;
  if (hasShadowVmcs12(vmcs12)) {
    if (size < SHADOW_OFFSET + SIZEOF_VMCS12) throw invalid('guest mode with a shadow VMCS needs the shadow vmcs12');
    shadow = readVmcs12(buf, SHADOW_OFFSET);
    if (shadow.revision !== VMCS12_REVISION || !shadow.shadowVmcs) throw invalid('the shadow vmcs12 is not a shadow VMCS');
  }
  const pending = nv.nestedRunPending;
  nv.nestedRunPending = (flags & KVM_STATE_NESTED_RUN_PENDING) !== 0; // the guest-state EFER check depends on it
  const bad = !nestedVmxCheckControls(nv, vmcs12) || !nestedVmxCheckHostState(nv, vmcs12) || nestedVmxCheckGuestState(nv, vmcs12) !== null;
  nv.nestedRunPending = pending;
  if (bad) throw invalid('vmcs12 fails the VM-entry checks');
  if (!nestedCr3Valid(vmcs12.get(GUEST_CR3))) throw invalid('vmcs12 GUEST_CR3 is not valid'); // prepare_vmcs02() would fail
  return { flags, size, vmxonPa, vmcs12Pa, vmcs12, shadow };
}

/** models vmx_leave_nested(): forcibly out of L2 and out of VMX operation. */
export function vmxLeaveNested(nv: NestedVcpuState): void {
  if (nv.vcpu.x86.guestMode) {
    nv.nestedRunPending = false;
    nestedVmxVmexit(nv, -1, 0, 0n);
  }
  freeNested(nv);
}

/** KVM_SET_NESTED_STATE from `buf` (struct kvm_nested_state as bytes). */
export function vmxSetNestedState(nv: NestedVcpuState, buf: Uint8Array): void {
  const s = parseAndCheck(nv, buf);
  vmxLeaveNested(nv);
  if (s.vmxonPa === NONE) return;
  nv.vmxonPtr = s.vmxonPa;
  enterVmxOperation(nv);
  if (s.vmcs12 === null) return; // empty "VMXON" state
  setCurrentVmptr(nv, s.vmcs12Pa, s.vmcs12);
  if ((s.flags & KVM_STATE_NESTED_GUEST_MODE) === 0) return;
  nv.nestedRunPending = (s.flags & KVM_STATE_NESTED_RUN_PENDING) !== 0;
  nv.cachedShadowVmcs12 = s.shadow;
  nv.dirtyVmcs12 = true;
  nestedVmxEnterNonRootMode(nv, false);
}
