/**
 * The constants this package exports (re-exported from hypervisor-core since the engine moved
 * there), each against the header it comes from — values checked by hand against Linux 5.4
 * (arch/x86/include/asm/vmx.h, uapi/asm/vmx.h, kvm/vmx/vmcs12.h, asm/kvm_host.h,
 * uapi/linux/kvm.h, uapi/asm/processor-flags.h, asm/cpufeatures.h, asm/msr-index.h).
 */
import {
  MSR_IA32_VMX_MISC, MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
  MSR_IA32_VMX_TRUE_PROCBASED_CTLS, VMX_MISC_ACTIVITY_HLT,
} from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import * as c from '../src/index.js';
import { makeNested } from './harness.js';

describe('constants', () => {
  it('VMX values (asm/vmx.h, uapi/asm/vmx.h, vmx/vmcs12.h)', () => {
    expect(c.VMCS12_REVISION).toBe(0x11e57ed0); // vmcs12.h:199
    expect(c.VM_EXIT_ACK_INTR_ON_EXIT).toBe(0x8000); // asm/vmx.h:85
    expect(c.VM_EXIT_HOST_ADDR_SPACE_SIZE).toBe(0x200); // asm/vmx.h:83
    expect(c.VMX_EXIT_REASONS_FAILED_VMENTRY).toBe(0x80000000); // uapi/asm/vmx.h:29
    expect(c.ENTRY_FAIL_DEFAULT).toBe(0); // asm/vmx.h:513
    // enum vm_instruction_error_number (asm/vmx.h:541-553)
    expect([c.VMXERR_VMCLEAR_INVALID_ADDRESS, c.VMXERR_VMCLEAR_VMXON_POINTER, c.VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT, c.VMXERR_VMXON_IN_VMX_ROOT_OPERATION]).toEqual([2, 3, 13, 15]);
    expect(c.VMX_EPTP_MT_WB).toBe(6n); // asm/vmx.h:485
    expect(c.VMX_EPTP_PWL_4).toBe(0x18n); // asm/vmx.h:481
    expect(c.VMX_EPT_IDENTITY_PAGETABLE_ADDR).toBe(0xfffbc000n); // asm/vmx.h:502
  });

  it('kvm_host.h / kvm.h values', () => {
    // enum kvm_reg: RSP = 4, RIP = 16, NR_VCPU_REGS = 17 on x86_64, then the EXREGs (kvm_host.h:144-166)
    expect([c.VCPU_REGS_RSP, c.VCPU_REGS_RIP, c.VCPU_EXREG_PDPTR, c.VCPU_EXREG_CR3, c.VCPU_EXREG_RFLAGS, c.VCPU_EXREG_SEGMENTS]).toEqual([4, 16, 17, 18, 19, 20]);
    expect(c.KVM_MMU_NUM_PREV_ROOTS).toBe(3); // kvm_host.h:372
    expect([c.KVM_MP_STATE_RUNNABLE, c.KVM_MP_STATE_HALTED]).toEqual([0, 3]); // uapi/linux/kvm.h:529,532
  });

  it('processor flags and CPUID', () => {
    expect([c.X86_EFLAGS_CF, c.X86_EFLAGS_FIXED, c.X86_EFLAGS_ZF, c.X86_EFLAGS_IF]).toEqual([1n, 2n, 0x40n, 0x200n]);
    expect(c.X86_CR0_PG).toBe(0x80000000n);
    expect(c.CPUID_1_ECX_VMX).toBe(0x20); // X86_FEATURE_VMX = 4*32+5
    expect(c.MAXPHYADDR).toBe(46); // the model CPU's CPUID 0x80000008 EAX[7:0], not a header value
  });

  it('the VMX capability MSRs L1 reads let it use the preemption timer and turn HLT exiting off (Muen relies on both)', () => {
    const { vcpu } = makeNested('merged');
    const pin = vcpu.rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS) ?? 0n;
    const proc = vcpu.rdmsr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) ?? 0n;
    // allowed-1 (high half): PIN_BASED_EXT_INTR_MASK | PIN_BASED_VMX_PREEMPTION_TIMER, CPU_BASED_HLT_EXITING
    expect((pin >> 32n) & 0x41n).toBe(0x41n);
    expect((proc >> 32n) & 0x80n).toBe(0x80n);
    // default1 (low half) does not force HLT exiting: L1 may leave it off
    expect(proc & 0x80n).toBe(0n);
    // nested_vmx_setup_ctls_msrs() (nested.c:5978): HLT is the only inactive state, and "VMWRITE to any field"
    const misc = vcpu.rdmsr(MSR_IA32_VMX_MISC) ?? 0n;
    expect(misc & BigInt(VMX_MISC_ACTIVITY_HLT)).toBe(0x40n);
    expect(misc & 0x1c0n).toBe(0x40n); // no shutdown / wait-for-SIPI
    expect(misc & BigInt(MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS)).toBe(1n << 29n);
    expect(misc & 0x1fn).toBe(5n); // VMX_MISC_EMULATED_PREEMPTION_TIMER_RATE
  });

  it('emulated preemption timer: (value << 5) * 1e6 / virtual_tsc_khz ns', () => {
    expect(c.preemptionTimeoutNs(78125n, 2_500_000n)).toBe(1_000_000n);
    expect(c.preemptionTimeoutNs(1n, 1_000_000n)).toBe(32n);
  });
});

describe('L2 instruction set (real encodings)', () => {
  it('assembles and decodes HLT, VMCALL, MOV RAX/CR3, the work NOP and JMP rel32', () => {
    const b = c.assemble([{ op: 'hlt' }, { op: 'vmcall' }, { op: 'mov-cr3', value: 0x10ff9000n }, { op: 'work', ns: 1234 }, { op: 'jmp-start' }]);
    expect([...b.slice(0, 4)]).toEqual([0xf4, 0x0f, 0x01, 0xc1]);
    expect([...b.slice(4, 6)]).toEqual([...c.OPC_MOV_RAX_IMM64]);
    expect([...b.slice(14, 17)]).toEqual([0x0f, 0x22, 0xd8]);
    const pad = (o: number): Uint8Array => Uint8Array.from({ length: c.L2_MAX_INSN_LEN }, (_, i) => b[o + i] ?? 0);
    expect(c.decodeL2(pad(0))).toEqual({ op: 'hlt', len: 1 });
    expect(c.decodeL2(pad(1))).toEqual({ op: 'vmcall', len: 3 });
    expect(c.decodeL2(pad(4))).toEqual({ op: 'mov-rax-imm', len: 10, imm: 0x10ff9000n });
    expect(c.decodeL2(pad(14))).toEqual({ op: 'mov-cr3-rax', len: 3 });
    expect(c.decodeL2(pad(17))).toEqual({ op: 'work', len: 7, ns: 1234n });
    expect(c.decodeL2(pad(24))).toEqual({ op: 'jmp', len: 5, rel: -29n });
    expect(c.decodeL2(Uint8Array.of(0x90)).op).toBe('invalid');
  });

  it("Muen's Ada-style hex", () => {
    expect(c.ada(0x183d000n, 16)).toBe('16#000000000183d000#');
    expect(c.ada(52n, 4)).toBe('16#0034#');
  });
});
