/** The package's constants against their headers (values checked by hand against Linux 5.3). */
import { describe, expect, it } from 'vitest';
import * as c from '../src/index.js';
import { NESTED_ALLOWED_CPU_BASED, NESTED_ALLOWED_PIN_BASED } from '../src/host/vmx-caps.js';

describe('constants', () => {
  it('VMX values (asm/vmx.h, uapi/asm/vmx.h, vmx/vmcs12.h)', () => {
    expect(c.VMCS12_REVISION).toBe(0x11e57ed0);
    expect(c.VM_EXIT_ACK_INTR_ON_EXIT).toBe(0x8000);
    expect(c.VM_EXIT_HOST_ADDR_SPACE_SIZE).toBe(0x200);
    expect(c.VMX_EXIT_REASONS_FAILED_VMENTRY).toBe(0x80000000);
    expect(c.ENTRY_FAIL_DEFAULT).toBe(0);
    expect([c.VMXERR_VMCLEAR_INVALID_ADDRESS, c.VMXERR_VMCLEAR_VMXON_POINTER, c.VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT, c.VMXERR_VMXON_IN_VMX_ROOT_OPERATION]).toEqual([2, 3, 13, 15]);
    expect(c.VMX_EPTP_MT_WB).toBe(6n);
    expect(c.VMX_EPTP_PWL_4).toBe(0x18n);
    expect(c.VMX_EPT_IDENTITY_PAGETABLE_ADDR).toBe(0xfffbc000n);
  });

  it('kvm_host.h / kvm.h values', () => {
    expect([c.VCPU_REGS_RSP, c.VCPU_REGS_RIP, c.VCPU_EXREG_PDPTR, c.VCPU_EXREG_CR3, c.VCPU_EXREG_RFLAGS, c.VCPU_EXREG_SEGMENTS]).toEqual([4, 16, 17, 18, 19, 20]);
    expect(c.KVM_MMU_NUM_PREV_ROOTS).toBe(3);
    expect([c.KVM_MP_STATE_RUNNABLE, c.KVM_MP_STATE_HALTED]).toEqual([0, 3]);
  });

  it('processor flags and CPUID', () => {
    expect([c.X86_EFLAGS_CF, c.X86_EFLAGS_FIXED, c.X86_EFLAGS_ZF, c.X86_EFLAGS_IF]).toEqual([1n, 2n, 0x40n, 0x200n]);
    expect(c.X86_CR0_PG).toBe(0x80000000n);
    expect(c.CPUID_1_ECX_VMX).toBe(0x20);
  });

  it('controls L1 may use include the preemption timer and HLT exiting', () => {
    expect(NESTED_ALLOWED_PIN_BASED & 0x41n).toBe(0x41n);
    expect(NESTED_ALLOWED_CPU_BASED & 0x80n).toBe(0x80n);
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
