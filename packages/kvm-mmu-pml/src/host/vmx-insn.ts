/**
 * L1's VMX instructions and L2's VMCALL reach L0 as exits (core's `vcpu.exit`). The exit's
 * `data` (16 bytes) carries the outcome back as registers would: byte 0 = VMsucceed (0),
 * VMfailInvalid (1) or VMfailValid (2); byte 1 = the VM-instruction error; bytes 8..15 = the
 * value VMREAD returns (little-endian). Nothing a guest passes throws.
 */
import {
  EXIT_REASON_INVEPT,
  EXIT_REASON_VMCALL,
  EXIT_REASON_VMLAUNCH,
  EXIT_REASON_VMREAD,
  EXIT_REASON_VMRESUME,
  EXIT_REASON_VMWRITE,
  isValidVmcsEncoding,
  VMXERR_UNSUPPORTED_VMCS_COMPONENT,
  writeLe,
  type ExitInfo,
  type Vcpu,
} from '@kvmlab/hypervisor-core';
import { VMX_STATUS_FAIL_INVALID, VMX_STATUS_FAIL_VALID, VMX_STATUS_SUCCEED } from '../constants.js';
import { vmxHandleExit } from './exits.js';
import { KvmMmuPml } from './kvm-mmu.js';
import { nestedVmxRun, nestedVmxVmexit, type VmxStatus } from './nested.js';

/** The exit names the guest helpers use (see guest/vmx.ts). */
export const VMX_INSN_EXITS = {
  vmwrite: EXIT_REASON_VMWRITE,
  vmread: EXIT_REASON_VMREAD,
  vmlaunch: EXIT_REASON_VMLAUNCH,
  vmresume: EXIT_REASON_VMRESUME,
  invept: EXIT_REASON_INVEPT,
  vmcall: EXIT_REASON_VMCALL,
} as const;

export type VmxInsnExit = keyof typeof VMX_INSN_EXITS;

function report(exit: ExitInfo, st: VmxStatus, value?: bigint): void {
  const d = exit.data;
  if (!(d instanceof Uint8Array) || d.length < 16) return;
  d[0] = st.ok ? VMX_STATUS_SUCCEED : st.error === undefined ? VMX_STATUS_FAIL_INVALID : VMX_STATUS_FAIL_VALID;
  d[1] = st.ok ? 0 : (st.error ?? 0);
  if (value !== undefined) writeLe(d, 8, 8, value);
}

const asField = (x: unknown): number | undefined => (typeof x === 'number' && isValidVmcsEncoding(x) ? x : undefined);
const asU64 = (x: unknown): bigint => (typeof x === 'bigint' ? BigInt.asUintN(64, x) : 0n);

/** Handles one VMX-instruction exit; false if it is not ours (e.g. a VMCALL from L1). */
export function handleVmxInsnExit(vcpu: Vcpu, name: VmxInsnExit, exit: ExitInfo): boolean {
  const m = vcpu.vm.mmu;
  if (!(m instanceof KvmMmuPml)) return false;
  const v = m.vcpuVmx(vcpu);
  // A VMCALL in L1 is a KVM hypercall (core's vcpu.vmcall); only L2's is reflected to L1.
  if (name === 'vmcall' && !vcpu.x86.guestMode) return false;
  vmxHandleExit(m, v, VMX_INSN_EXITS[name], undefined, false);
  if (vcpu.x86.guestMode && name !== 'vmcall') {
    // VMX instructions in L2 are reflected to L1 (nested_vmx_exit_reflected).
    nestedVmxVmexit(m, v, VMX_INSN_EXITS[name]);
    return true;
  }
  switch (name) {
    case 'vmcall':
      nestedVmxVmexit(m, v, EXIT_REASON_VMCALL);
      return true;
    case 'vmwrite': {
      // handle_vmwrite(): into the cached vmcs12
      const f = asField(exit.field);
      if (f === undefined) report(exit, { ok: false, error: VMXERR_UNSUPPORTED_VMCS_COMPONENT });
      else {
        v.vmcs12.cpuWrite(f, asU64(exit.value));
        report(exit, { ok: true });
      }
      return true;
    }
    case 'vmread': {
      const f = asField(exit.field);
      if (f === undefined) report(exit, { ok: false, error: VMXERR_UNSUPPORTED_VMCS_COMPONENT });
      else report(exit, { ok: true }, v.vmcs12.peek(f));
      return true;
    }
    case 'vmlaunch':
    case 'vmresume':
      report(exit, nestedVmxRun(m, v, name === 'vmlaunch'));
      return true;
    case 'invept':
      // handle_invept(): the model drops the shadow of every EPT12 (it does not write-track EPT12)
      m.zapShadowEpt();
      report(exit, { ok: true });
      return true;
  }
}
