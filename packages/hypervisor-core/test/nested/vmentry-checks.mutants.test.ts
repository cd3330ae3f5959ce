// Nested VM-entry failure paths, one check at a time (issue 22: mutation testing found them
// untested). Each case is L1 changing one thing in an otherwise valid vmcs12 and then VMLAUNCH:
// controls fail the instruction with VM-instruction error 7, host state with 8, guest state fails
// the entry itself (exit reason 33 | bit 31, qualification 0, or 4 for the VMCS link pointer).
// Rules: nested_vmx_check_controls(), nested_vmx_check_host_state(),
// nested_vmx_check_guest_state() and nested_vmx_run() of arch/x86/kvm/vmx/nested.c (v5.4), and the
// SDM vol. 3 §26.2–26.3. Each failing case has a passing neighbour, so a check that became
// stricter than the kernel's is caught as well as one that became laxer.
import { describe, expect, it } from 'vitest';
import { leBytes } from '../../src/bigint.js';
import type { Vcpu } from '../../src/vcpu/vcpu.js';
import type { VmcsSetup } from '../../src/x86/guest/vmx-lib.js';
import { vmclear, vmInstructionError, vmlaunch, vmptrld, vmreadz, vmresume, vmwrite } from '../../src/x86/guest/vmx.js';
import { VMX_EPTP_AD_ENABLE_BIT, VMX_EPTP_MT_WB, VMX_EPTP_PWL_4 } from '../../src/x86/ept.js';
import { MAXPHYADDR } from '../../src/x86/nested/kvm-constants.js';
import { VMCS12_REVISION } from '../../src/x86/nested/vmcs12-layout.js';
import * as F from '../../src/x86/vmcs-fields.js';
import * as C from '../../src/x86/vmx-constants.js';
import { l1WithVmcs, L2_CODE, l2Code, rig, type RigOptions } from './rig.js';

const EPT_ROOT = 0x0050_0000n;
const EPTP = EPT_ROOT | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4;
const TOP = 1n << BigInt(MAXPHYADDR);
const PAGE_A = 0x0060_0000n;
const PAGE_B = 0x0060_1000n;

type Write = readonly [field: number, value: bigint];

/** The outcome of VMLAUNCH of the rig's valid vmcs12 after `writes`, as a short string. */
function launch(writes: readonly Write[] = [], setup: Partial<VmcsSetup> = {}, o: RigOptions & { before?: (v: Vcpu) => void } = {}): string {
  const r = rig(o);
  l2Code(r.vcpu, [{ op: 'vmcall' }]);
  l1WithVmcs(r.vcpu, { guestRip: L2_CODE, ...setup });
  for (const [f, v] of writes) expect(vmwrite(r.vcpu, f, v).status, `VMWRITE 0x${f.toString(16)}`).toBe('ok');
  o.before?.(r.vcpu);
  return outcome(r.vcpu, vmlaunch(r.vcpu));
}

function outcome(vcpu: Vcpu, out: ReturnType<typeof vmlaunch>): string {
  if (out.status === 'fail-valid') return `error ${vmInstructionError(vcpu)}`;
  if (out.status !== 'ok') return out.status;
  if (out.hung) return 'entered';
  const reason = Number(vmreadz(vcpu, F.VM_EXIT_REASON));
  if ((reason & C.VMX_EXIT_REASONS_FAILED_VMENTRY) !== 0) return `failed entry ${reason & 0xffff}/${vmreadz(vcpu, F.EXIT_QUALIFICATION)}`;
  return 'entered';
}

const CONTROLS = 'error 7';
const HOST = 'error 8';
const GUEST = 'failed entry 33/0';
const LINK = 'failed entry 33/4';

/** Read the current value of a field through a fresh rig (the rig's defaults). */
function defaults(): { pin: bigint; exec: bigint; exit: bigint; entry: bigint; cr0: bigint; cr4: bigint; efer: bigint } {
  const r = rig();
  l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
  return {
    pin: vmreadz(r.vcpu, F.PIN_BASED_VM_EXEC_CONTROL),
    exec: vmreadz(r.vcpu, F.CPU_BASED_VM_EXEC_CONTROL),
    exit: vmreadz(r.vcpu, F.VM_EXIT_CONTROLS),
    entry: vmreadz(r.vcpu, F.VM_ENTRY_CONTROLS),
    cr0: vmreadz(r.vcpu, F.GUEST_CR0),
    cr4: vmreadz(r.vcpu, F.GUEST_CR4),
    efer: r.vcpu.x86.efer,
  };
}
const D = defaults();
const b = (x: number): bigint => BigInt(x >>> 0);

describe('the rig itself', () => {
  it('enters with its defaults, with EPT and with every offered feature used validly', () => {
    expect(launch()).toBe('entered');
    expect(launch([], { eptp: EPTP })).toBe('entered');
    expect(D.efer & C.EFER_LMA).toBe(C.EFER_LMA); // L1 is in IA-32e mode
  });
});

describe('execution controls (nested_check_vm_execution_controls) → error 7', () => {
  it('pin-based: every allowed-0 bit set and no bit beyond allowed-1', () => {
    expect(launch([[F.PIN_BASED_VM_EXEC_CONTROL, D.pin | b(C.PIN_BASED_NMI_EXITING)]])).toBe('entered');
    expect(launch([[F.PIN_BASED_VM_EXEC_CONTROL, D.pin | b(C.PIN_BASED_POSTED_INTR)]])).toBe(CONTROLS); // no APICv offered
    expect(launch([[F.PIN_BASED_VM_EXEC_CONTROL, D.pin & ~b(C.PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR)]])).toBe(CONTROLS);
  });

  it('processor-based: allowed-0 bits must be set', () => {
    expect(launch([[F.CPU_BASED_VM_EXEC_CONTROL, b(C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)]])).toBe(CONTROLS);
  });

  it('secondary controls are checked only with ACTIVATE_SECONDARY_CONTROLS', () => {
    const bad = b(C.SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES); // no FlexPriority offered
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, bad]])).toBe(CONTROLS);
    expect(launch([[F.CPU_BASED_VM_EXEC_CONTROL, D.exec & ~b(C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)], [F.SECONDARY_VM_EXEC_CONTROL, bad]])).toBe('entered');
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, b(C.SECONDARY_EXEC_WBINVD_EXITING)]])).toBe('entered');
  });

  it('CR3-target count above IA32_VMX_MISC[24:16] (0 in KVM)', () => {
    expect(launch([[F.CR3_TARGET_COUNT, 1n]])).toBe(CONTROLS);
    expect(launch([[F.CR3_TARGET_COUNT, 0n]])).toBe('entered');
  });

  it('I/O bitmaps A and B: page aligned and below MAXPHYADDR when USE_IO_BITMAPS', () => {
    const exec = D.exec | b(C.CPU_BASED_USE_IO_BITMAPS);
    expect(launch([[F.CPU_BASED_VM_EXEC_CONTROL, exec], [F.IO_BITMAP_A, PAGE_A], [F.IO_BITMAP_B, PAGE_B]])).toBe('entered');
    expect(launch([[F.CPU_BASED_VM_EXEC_CONTROL, exec], [F.IO_BITMAP_A, PAGE_A + 8n], [F.IO_BITMAP_B, PAGE_B]])).toBe(CONTROLS);
    expect(launch([[F.CPU_BASED_VM_EXEC_CONTROL, exec], [F.IO_BITMAP_A, PAGE_A], [F.IO_BITMAP_B, PAGE_B + 0x800n]])).toBe(CONTROLS);
    expect(launch([[F.CPU_BASED_VM_EXEC_CONTROL, exec], [F.IO_BITMAP_A, TOP], [F.IO_BITMAP_B, PAGE_B]])).toBe(CONTROLS);
    expect(launch([[F.CPU_BASED_VM_EXEC_CONTROL, exec], [F.IO_BITMAP_A, PAGE_A], [F.IO_BITMAP_B, TOP - 0x1000n]])).toBe('entered');
    // Without the control the addresses are not looked at.
    expect(launch([[F.IO_BITMAP_A, 1n], [F.IO_BITMAP_B, 1n]])).toBe('entered');
  });

  it('MSR bitmap: page aligned when USE_MSR_BITMAPS', () => {
    const exec = D.exec | b(C.CPU_BASED_USE_MSR_BITMAPS);
    expect(launch([[F.CPU_BASED_VM_EXEC_CONTROL, exec], [F.MSR_BITMAP, PAGE_A]])).toBe('entered');
    expect(launch([[F.CPU_BASED_VM_EXEC_CONTROL, exec], [F.MSR_BITMAP, PAGE_A + 4n]])).toBe(CONTROLS);
    expect(launch([[F.MSR_BITMAP, PAGE_A + 4n]])).toBe('entered');
  });

  it('virtual-APIC page: page aligned when TPR_SHADOW', () => {
    const exec = D.exec | b(C.CPU_BASED_TPR_SHADOW);
    expect(launch([[F.CPU_BASED_VM_EXEC_CONTROL, exec], [F.VIRTUAL_APIC_PAGE_ADDR, PAGE_A]])).toBe('entered');
    expect(launch([[F.CPU_BASED_VM_EXEC_CONTROL, exec], [F.VIRTUAL_APIC_PAGE_ADDR, PAGE_A | 0x10n]])).toBe(CONTROLS);
    expect(launch([[F.VIRTUAL_APIC_PAGE_ADDR, PAGE_A | 0x10n]])).toBe('entered');
  });

  it('virtualize x2APIC mode needs TPR_SHADOW (nested_vmx_check_apicv_controls)', () => {
    const x2 = b(C.SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE);
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, x2]])).toBe(CONTROLS);
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, x2], [F.CPU_BASED_VM_EXEC_CONTROL, D.exec | b(C.CPU_BASED_TPR_SHADOW)], [F.VIRTUAL_APIC_PAGE_ADDR, PAGE_A]])).toBe('entered');
  });

  it('virtual NMIs need NMI exiting; NMI-window exiting needs virtual NMIs (nested_vmx_check_nmi_controls)', () => {
    const nmi = b(C.PIN_BASED_NMI_EXITING);
    const vnmi = b(C.PIN_BASED_VIRTUAL_NMIS);
    const window = D.exec | b(C.CPU_BASED_VIRTUAL_NMI_PENDING);
    expect(launch([[F.PIN_BASED_VM_EXEC_CONTROL, D.pin | vnmi]])).toBe(CONTROLS);
    expect(launch([[F.PIN_BASED_VM_EXEC_CONTROL, D.pin | nmi | vnmi]])).toBe('entered');
    expect(launch([[F.PIN_BASED_VM_EXEC_CONTROL, D.pin | nmi], [F.CPU_BASED_VM_EXEC_CONTROL, window]])).toBe(CONTROLS);
    expect(launch([[F.PIN_BASED_VM_EXEC_CONTROL, D.pin | nmi | vnmi], [F.CPU_BASED_VM_EXEC_CONTROL, window]])).toBe('entered');
  });

  it('PML needs EPT and a page-aligned PML address', () => {
    const pml = b(C.SECONDARY_EXEC_ENABLE_PML);
    const ept = b(C.SECONDARY_EXEC_ENABLE_EPT);
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, ept | pml], [F.PML_ADDRESS, PAGE_A]], { eptp: EPTP })).toBe('entered');
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, ept | pml], [F.PML_ADDRESS, PAGE_A + 8n]], { eptp: EPTP })).toBe(CONTROLS);
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, pml], [F.PML_ADDRESS, PAGE_A]])).toBe(CONTROLS);
  });

  it('unrestricted guest needs EPT', () => {
    const ug = b(C.SECONDARY_EXEC_UNRESTRICTED_GUEST);
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, ug]])).toBe(CONTROLS);
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, ug | b(C.SECONDARY_EXEC_ENABLE_EPT)]], { eptp: EPTP })).toBe('entered');
  });

  it('VMCS shadowing needs page-aligned VMREAD and VMWRITE bitmaps', () => {
    const sh = b(C.SECONDARY_EXEC_SHADOW_VMCS);
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, sh], [F.VMREAD_BITMAP, PAGE_A], [F.VMWRITE_BITMAP, PAGE_B]])).toBe('entered');
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, sh], [F.VMREAD_BITMAP, PAGE_A + 1n], [F.VMWRITE_BITMAP, PAGE_B]])).toBe(CONTROLS);
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, sh], [F.VMREAD_BITMAP, PAGE_A], [F.VMWRITE_BITMAP, TOP]])).toBe(CONTROLS);
  });

  it('VPID enabled with VPID 0 is invalid; any other VPID is fine', () => {
    const vpid = b(C.SECONDARY_EXEC_ENABLE_VPID);
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, vpid], [F.VIRTUAL_PROCESSOR_ID, 0n]])).toBe(CONTROLS);
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, vpid], [F.VIRTUAL_PROCESSOR_ID, 1n]])).toBe('entered');
    expect(launch([[F.VIRTUAL_PROCESSOR_ID, 0n]])).toBe('entered');
  });

  it('saving the preemption timer on exit needs the timer itself', () => {
    const save = D.exit | b(C.VM_EXIT_SAVE_VMX_PREEMPTION_TIMER);
    expect(launch([[F.VM_EXIT_CONTROLS, save]])).toBe(CONTROLS);
    expect(launch([[F.VM_EXIT_CONTROLS, save], [F.PIN_BASED_VM_EXEC_CONTROL, D.pin | b(C.PIN_BASED_VMX_PREEMPTION_TIMER)], [F.VMX_PREEMPTION_TIMER_VALUE, 1000n]])).toBe('entered');
  });
});

describe('EPTP (valid_ept_address)', () => {
  const ept = (eptp: bigint, o: RigOptions = {}) => launch([[F.EPT_POINTER, eptp]], { eptp: EPTP }, o);
  it('write-back, 4 levels, no reserved bits: valid; A/D only when offered', () => {
    expect(ept(EPTP)).toBe('entered');
    expect(ept(EPTP | VMX_EPTP_AD_ENABLE_BIT)).toBe('entered');
    expect(ept(EPTP | VMX_EPTP_AD_ENABLE_BIT, { params: { eptAd: false, pml: false } })).toBe(CONTROLS);
    expect(ept(EPTP, { params: { eptAd: false, pml: false } })).toBe('entered');
  });
  it('memory type UC is not offered by the model CPU; other types are reserved', () => {
    for (const mt of [0n, 1n, 2n, 3n, 4n, 5n, 7n]) expect(ept((EPTP & ~7n) | mt), `memory type ${mt}`).toBe(CONTROLS);
  });
  it('page-walk length other than 4 levels, bits 11:7 or bits above MAXPHYADDR are invalid', () => {
    expect(ept((EPTP & ~(7n << 3n)) | (2n << 3n))).toBe(CONTROLS);
    expect(ept((EPTP & ~(7n << 3n)) | (4n << 3n))).toBe(CONTROLS);
    for (const bit of [7n, 9n, 11n]) expect(ept(EPTP | (1n << bit)), `bit ${bit}`).toBe(CONTROLS);
    expect(ept(EPTP | TOP)).toBe(CONTROLS);
    expect(ept(EPTP | (TOP >> 1n))).toBe('entered');
  });
});

describe('exit and entry controls (nested_check_vm_exit_controls, nested_check_vm_entry_controls) → error 7', () => {
  it('allowed-0 bits of the exit and entry controls', () => {
    expect(launch([[F.VM_EXIT_CONTROLS, b(C.VM_EXIT_HOST_ADDR_SPACE_SIZE)]])).toBe(CONTROLS);
    expect(launch([[F.VM_ENTRY_CONTROLS, b(C.VM_ENTRY_IA32E_MODE)]])).toBe(CONTROLS);
  });

  it.each([
    ['VM-exit MSR-store', F.VM_EXIT_MSR_STORE_COUNT, F.VM_EXIT_MSR_STORE_ADDR],
    ['VM-exit MSR-load', F.VM_EXIT_MSR_LOAD_COUNT, F.VM_EXIT_MSR_LOAD_ADDR],
    ['VM-entry MSR-load', F.VM_ENTRY_MSR_LOAD_COUNT, F.VM_ENTRY_MSR_LOAD_ADDR],
  ])('%s list: 16-byte aligned and wholly below MAXPHYADDR (nested_vmx_check_msr_switch)', (_n, count, addr) => {
    expect(launch([[count, 0n], [addr, 3n]])).toBe('entered'); // an empty list's address is not checked
    expect(launch([[count, 1n], [addr, PAGE_A + 8n]])).toBe(CONTROLS);
    expect(launch([[count, 1n], [addr, TOP - 16n]]).startsWith('error')).toBe(false);
    expect(launch([[count, 2n], [addr, TOP - 16n]])).toBe(CONTROLS);
  });
});

describe('VM-entry event injection (SDM §26.2.1.3) → error 7', () => {
  const inject = (info: number, extra: readonly Write[] = [], setup: Partial<VmcsSetup> = {}) =>
    launch([[F.VM_ENTRY_INTR_INFO_FIELD, b(info | C.INTR_INFO_VALID_MASK)], ...extra], setup);
  const code = C.INTR_INFO_DELIVER_CODE_MASK;

  it('the field is ignored when not valid', () => {
    expect(launch([[F.VM_ENTRY_INTR_INFO_FIELD, b(C.INTR_TYPE_RESERVED | 0x7fff_f000)]])).toBe('entered');
  });
  it('the reserved type is invalid; "other event" needs MTF offered and vector 0', () => {
    expect(inject(C.INTR_TYPE_RESERVED | 3)).toBe(CONTROLS);
    expect(inject(C.INTR_TYPE_OTHER_EVENT | 1)).toBe(CONTROLS);
    expect(inject(C.INTR_TYPE_OTHER_EVENT | 0)).toBe('entered');
  });
  it('an NMI is vector 2; a hardware exception is a vector ≤ 31', () => {
    expect(inject(C.INTR_TYPE_NMI_INTR | 3)).toBe(CONTROLS);
    expect(inject(C.INTR_TYPE_NMI_INTR | 2)).toBe('entered');
    expect(inject(C.INTR_TYPE_HARD_EXCEPTION | 32)).toBe(CONTROLS);
    expect(inject(C.INTR_TYPE_HARD_EXCEPTION | 31)).toBe('entered');
  });
  it('in protected mode the exceptions with an error code must deliver one, the others must not', () => {
    for (const v of [8, 10, 11, 12, 13, 14, 17]) {
      expect(inject(C.INTR_TYPE_HARD_EXCEPTION | v), `vector ${v} without code`).toBe(CONTROLS);
      expect(inject(C.INTR_TYPE_HARD_EXCEPTION | code | v), `vector ${v} with code`).toBe('entered');
    }
    for (const v of [0, 6, 9, 15, 16, 18]) {
      expect(inject(C.INTR_TYPE_HARD_EXCEPTION | code | v), `vector ${v} with code`).toBe(CONTROLS);
      expect(inject(C.INTR_TYPE_HARD_EXCEPTION | v), `vector ${v} without code`).toBe('entered');
    }
    // Only hardware exceptions deliver an error code.
    expect(inject(C.INTR_TYPE_NMI_INTR | code | 2)).toBe(CONTROLS);
    expect(inject(C.INTR_TYPE_EXT_INTR | code | 13)).toBe(CONTROLS);
  });
  it('an unrestricted guest in real mode gets no error code', () => {
    const ug = b(C.SECONDARY_EXEC_UNRESTRICTED_GUEST | C.SECONDARY_EXEC_ENABLE_EPT);
    const realMode: Write[] = [[F.SECONDARY_VM_EXEC_CONTROL, ug], [F.GUEST_CR0, D.cr0 & ~(C.X86_CR0_PE | C.X86_CR0_PG)], [F.VM_ENTRY_CONTROLS, D.entry & ~b(C.VM_ENTRY_IA32E_MODE)]];
    expect(inject(C.INTR_TYPE_HARD_EXCEPTION | code | 13, realMode, { eptp: EPTP })).toBe(CONTROLS);
    expect(inject(C.INTR_TYPE_HARD_EXCEPTION | 13, realMode, { eptp: EPTP })).not.toBe(CONTROLS);
    // Protected mode under unrestricted guest still needs it.
    expect(inject(C.INTR_TYPE_HARD_EXCEPTION | 13, [[F.SECONDARY_VM_EXEC_CONTROL, ug]], { eptp: EPTP })).toBe(CONTROLS);
  });
  it('the error code has 16 bits; bits 30:12 of the field are reserved', () => {
    const gp = C.INTR_TYPE_HARD_EXCEPTION | code | 13;
    expect(inject(gp, [[F.VM_ENTRY_EXCEPTION_ERROR_CODE, 0xffffn]])).toBe('entered');
    expect(inject(gp, [[F.VM_ENTRY_EXCEPTION_ERROR_CODE, 0x1_0000n]])).toBe(CONTROLS);
    expect(inject(gp | (1 << 12))).toBe(CONTROLS);
    expect(inject(gp | (1 << 30))).toBe(CONTROLS);
  });
  it.each([
    ['software interrupt', C.INTR_TYPE_SOFT_INTR | 0x80],
    ['software exception', C.INTR_TYPE_SOFT_EXCEPTION | 3],
    ['privileged software exception', C.INTR_TYPE_PRIV_SW_EXCEPTION | 1],
  ])('a %s needs an instruction length of 1..15', (_n, info) => {
    expect(inject(info, [[F.VM_ENTRY_INSTRUCTION_LEN, 0n]])).toBe(CONTROLS);
    expect(inject(info, [[F.VM_ENTRY_INSTRUCTION_LEN, 16n]])).toBe(CONTROLS);
    expect(inject(info, [[F.VM_ENTRY_INSTRUCTION_LEN, 1n]])).toBe('entered');
    expect(inject(info, [[F.VM_ENTRY_INSTRUCTION_LEN, 15n]])).toBe('entered');
  });
  it('other types do not look at the instruction length', () => {
    expect(inject(C.INTR_TYPE_EXT_INTR | 0x20, [[F.VM_ENTRY_INSTRUCTION_LEN, 0n]])).toBe('entered');
    expect(inject(C.INTR_TYPE_HARD_EXCEPTION | 6, [[F.VM_ENTRY_INSTRUCTION_LEN, 16n]])).toBe('entered');
  });
});

describe('host state (nested_vmx_check_host_state) → error 8', () => {
  it('HOST_CR0 / HOST_CR4 within the VMX fixed bits, HOST_CR3 below MAXPHYADDR', () => {
    const r = defaults();
    expect(launch([[F.HOST_CR0, r.cr0 & ~C.X86_CR0_NE]])).toBe(HOST);
    expect(launch([[F.HOST_CR0, r.cr0 & ~C.X86_CR0_PG]])).toBe(HOST);
    expect(launch([[F.HOST_CR4, r.cr4 | (1n << 11n)]])).toBe(HOST); // UMIP: not in CR4_FIXED1
    expect(launch([[F.HOST_CR4, r.cr4 & ~C.X86_CR4_VMXE]])).toBe(HOST);
    expect(launch([[F.HOST_CR3, TOP]])).toBe(HOST);
  });

  it('SYSENTER ESP/EIP, the segment and table bases and RIP must be canonical', () => {
    const nonCanonical = 1n << 47n;
    const canonicalHigh = 0xffff_8000_0000_0000n;
    for (const f of [F.HOST_IA32_SYSENTER_ESP, F.HOST_IA32_SYSENTER_EIP, F.HOST_FS_BASE, F.HOST_GS_BASE, F.HOST_GDTR_BASE, F.HOST_IDTR_BASE, F.HOST_TR_BASE, F.HOST_RIP]) {
      expect(launch([[f, nonCanonical]]), `0x${f.toString(16)} non-canonical`).toBe(HOST);
      if (f !== F.HOST_RIP && f !== F.HOST_GDTR_BASE && f !== F.HOST_IDTR_BASE && f !== F.HOST_TR_BASE) {
        expect(launch([[f, canonicalHigh]]), `0x${f.toString(16)} canonical`).toBe('entered');
      }
    }
  });

  it('HOST_IA32_PAT with VM_EXIT_LOAD_IA32_PAT: each entry a valid memory type (0, 1, 4, 5, 6, 7)', () => {
    const exit = D.exit | b(C.VM_EXIT_LOAD_IA32_PAT);
    expect(launch([[F.VM_EXIT_CONTROLS, exit], [F.HOST_IA32_PAT, 0x0007_0406_0007_0406n]])).toBe('entered');
    expect(launch([[F.VM_EXIT_CONTROLS, exit], [F.HOST_IA32_PAT, 0x0706_0504_0100_0100n]])).toBe('entered');
    for (const t of [2n, 3n, 8n]) expect(launch([[F.VM_EXIT_CONTROLS, exit], [F.HOST_IA32_PAT, t << 40n]]), `type ${t}`).toBe(HOST);
    expect(launch([[F.HOST_IA32_PAT, 2n]])).toBe('entered');
  });

  it('an IA-32e L1 needs the host address-space size control and HOST_CR4.PAE', () => {
    expect(launch([[F.VM_EXIT_CONTROLS, D.exit & ~b(C.VM_EXIT_HOST_ADDR_SPACE_SIZE)]])).toBe(HOST);
    expect(launch([[F.HOST_CR4, defaults().cr4 & ~C.X86_CR4_PAE]])).toBe(HOST);
    expect(launch([[F.HOST_RIP, 0x1_0000_0000n]])).toBe('entered');
  });

  it('an L1 outside IA-32e mode may not set host address-space size, IA-32e guest, CR4.PCIDE or RIP[63:32]', () => {
    const legacy = { before: (v: Vcpu) => void (v.x86.efer &= ~(C.EFER_LMA | C.EFER_LME)) };
    const noAs = D.exit & ~b(C.VM_EXIT_HOST_ADDR_SPACE_SIZE);
    const noIa32e = D.entry & ~b(C.VM_ENTRY_IA32E_MODE);
    expect(launch([], {}, legacy)).toBe(HOST);
    expect(launch([[F.VM_EXIT_CONTROLS, noAs]], {}, legacy)).toBe(HOST);
    expect(launch([[F.VM_EXIT_CONTROLS, noAs], [F.VM_ENTRY_CONTROLS, noIa32e]], {}, legacy)).not.toBe(HOST);
    expect(launch([[F.VM_EXIT_CONTROLS, noAs], [F.VM_ENTRY_CONTROLS, noIa32e], [F.HOST_CR4, defaults().cr4 | C.X86_CR4_PCIDE]], {}, legacy)).toBe(HOST);
    expect(launch([[F.VM_EXIT_CONTROLS, noAs], [F.VM_ENTRY_CONTROLS, noIa32e], [F.HOST_RIP, 0x1_0000_0000n]], {}, legacy)).toBe(HOST);
    expect(launch([[F.VM_EXIT_CONTROLS, noAs], [F.VM_ENTRY_CONTROLS, noIa32e], [F.HOST_SS_SELECTOR, 0n]], {}, legacy)).toBe(HOST);
  });

  it('selectors: RPL and TI clear; CS and TR not null; SS may be null in IA-32e mode', () => {
    for (const f of [F.HOST_CS_SELECTOR, F.HOST_SS_SELECTOR, F.HOST_DS_SELECTOR, F.HOST_ES_SELECTOR, F.HOST_FS_SELECTOR, F.HOST_GS_SELECTOR, F.HOST_TR_SELECTOR]) {
      expect(launch([[f, 0x10n | 3n]]), `0x${f.toString(16)} RPL 3`).toBe(HOST);
      expect(launch([[f, 0x10n | 4n]]), `0x${f.toString(16)} TI`).toBe(HOST);
    }
    expect(launch([[F.HOST_CS_SELECTOR, 0n]])).toBe(HOST);
    expect(launch([[F.HOST_TR_SELECTOR, 0n]])).toBe(HOST);
    expect(launch([[F.HOST_SS_SELECTOR, 0n]])).toBe('entered');
    expect(launch([[F.HOST_DS_SELECTOR, 0n], [F.HOST_ES_SELECTOR, 0n]])).toBe('entered');
  });

  it('HOST_IA32_EFER with VM_EXIT_LOAD_IA32_EFER: known bits, LMA and LME both equal to host address-space size', () => {
    const exit = D.exit | b(C.VM_EXIT_LOAD_IA32_EFER);
    const lm = C.EFER_LMA | C.EFER_LME;
    expect(launch([[F.VM_EXIT_CONTROLS, exit], [F.HOST_IA32_EFER, lm]])).toBe('entered');
    expect(launch([[F.VM_EXIT_CONTROLS, exit], [F.HOST_IA32_EFER, lm | 1n | (1n << 11n)]])).toBe('entered'); // SCE, NXE
    expect(launch([[F.VM_EXIT_CONTROLS, exit], [F.HOST_IA32_EFER, C.EFER_LME]])).toBe(HOST);
    expect(launch([[F.VM_EXIT_CONTROLS, exit], [F.HOST_IA32_EFER, C.EFER_LMA]])).toBe(HOST);
    expect(launch([[F.VM_EXIT_CONTROLS, exit], [F.HOST_IA32_EFER, lm | 2n]])).toBe(HOST);
    expect(launch([[F.HOST_IA32_EFER, 0n]])).toBe('entered');
  });
});

describe('guest state (nested_vmx_check_guest_state) → a failed entry', () => {
  it('GUEST_CR0 / GUEST_CR4 within the fixed bits; unrestricted guest frees CR0.PE and CR0.PG', () => {
    expect(launch([[F.GUEST_CR0, D.cr0 & ~C.X86_CR0_NE]])).toBe(GUEST);
    expect(launch([[F.GUEST_CR0, D.cr0 & ~C.X86_CR0_PG]])).toBe(GUEST);
    expect(launch([[F.GUEST_CR4, D.cr4 & ~C.X86_CR4_VMXE]])).toBe(GUEST);
    expect(launch([[F.GUEST_CR4, D.cr4 | (1n << 11n)]])).toBe(GUEST);
    const ug = b(C.SECONDARY_EXEC_UNRESTRICTED_GUEST | C.SECONDARY_EXEC_ENABLE_EPT);
    const real: Write[] = [[F.SECONDARY_VM_EXEC_CONTROL, ug], [F.VM_ENTRY_CONTROLS, D.entry & ~b(C.VM_ENTRY_IA32E_MODE)], [F.GUEST_CR0, D.cr0 & ~(C.X86_CR0_PE | C.X86_CR0_PG)]];
    expect(launch(real, { eptp: EPTP })).toBe('entered');
    expect(launch([...real, [F.GUEST_CR0, D.cr0 & ~(C.X86_CR0_PE | C.X86_CR0_PG | C.X86_CR0_NE)]], { eptp: EPTP })).toBe(GUEST);
    // Offered unrestricted guest that vmcs12 does not use frees nothing.
    expect(launch([[F.GUEST_CR0, D.cr0 & ~C.X86_CR0_PG]], { eptp: EPTP })).toBe(GUEST);
  });

  it('GUEST_IA32_PAT with VM_ENTRY_LOAD_IA32_PAT must be valid', () => {
    const entry = D.entry | b(C.VM_ENTRY_LOAD_IA32_PAT);
    expect(launch([[F.VM_ENTRY_CONTROLS, entry], [F.GUEST_IA32_PAT, 0x0007_0406_0007_0406n]])).toBe('entered');
    expect(launch([[F.VM_ENTRY_CONTROLS, entry], [F.GUEST_IA32_PAT, 0x0007_0406_0007_0402n]])).toBe(GUEST);
    expect(launch([[F.GUEST_IA32_PAT, 2n]])).toBe('entered');
  });

  it('GUEST_IA32_EFER with VM_ENTRY_LOAD_IA32_EFER: known bits, LMA = IA-32e guest, LME = it too when paging', () => {
    const entry = D.entry | b(C.VM_ENTRY_LOAD_IA32_EFER);
    const lm = C.EFER_LMA | C.EFER_LME;
    expect(launch([[F.VM_ENTRY_CONTROLS, entry], [F.GUEST_IA32_EFER, lm]])).toBe('entered');
    expect(launch([[F.VM_ENTRY_CONTROLS, entry], [F.GUEST_IA32_EFER, C.EFER_LME]])).toBe(GUEST);
    expect(launch([[F.VM_ENTRY_CONTROLS, entry], [F.GUEST_IA32_EFER, C.EFER_LMA]])).toBe(GUEST);
    expect(launch([[F.VM_ENTRY_CONTROLS, entry], [F.GUEST_IA32_EFER, lm | 2n]])).toBe(GUEST);
    const legacyEntry = entry & ~b(C.VM_ENTRY_IA32E_MODE);
    expect(launch([[F.VM_ENTRY_CONTROLS, legacyEntry], [F.GUEST_IA32_EFER, lm]])).toBe(GUEST);
    expect(launch([[F.GUEST_IA32_EFER, 2n]])).toBe('entered');
    // Without paging, LME may differ from the IA-32e control (unrestricted guest, real mode).
    const ug = b(C.SECONDARY_EXEC_UNRESTRICTED_GUEST | C.SECONDARY_EXEC_ENABLE_EPT);
    expect(launch([[F.SECONDARY_VM_EXEC_CONTROL, ug], [F.VM_ENTRY_CONTROLS, legacyEntry], [F.GUEST_CR0, D.cr0 & ~(C.X86_CR0_PE | C.X86_CR0_PG)], [F.GUEST_IA32_EFER, C.EFER_LME]], { eptp: EPTP })).toBe('entered');
  });

  it('activity state: active and HLT only', () => {
    expect(launch([[F.GUEST_ACTIVITY_STATE, 0n]])).toBe('entered');
    expect(launch([[F.GUEST_ACTIVITY_STATE, BigInt(C.GUEST_ACTIVITY_HLT)], [F.CPU_BASED_VM_EXEC_CONTROL, D.exec | b(C.CPU_BASED_VIRTUAL_INTR_PENDING)], [F.GUEST_RFLAGS, 0x202n]])).toBe('entered');
    expect(launch([[F.GUEST_ACTIVITY_STATE, 2n]])).toBe(GUEST);
    expect(launch([[F.GUEST_ACTIVITY_STATE, 3n]])).toBe(GUEST);
  });

  it('VMCS link pointer: -1, or a mapped page holding a VMCS12 of the right revision and shadow kind', () => {
    const r = (page: bigint, hdr: bigint | undefined, extra: readonly Write[] = []) =>
      launch([[F.VMCS_LINK_POINTER, page], ...extra], {}, { before: (v) => void (hdr !== undefined && v.write(page, leBytes(4, hdr))) });
    const sh = b(C.SECONDARY_EXEC_SHADOW_VMCS);
    const bitmaps: Write[] = [[F.SECONDARY_VM_EXEC_CONTROL, sh], [F.VMREAD_BITMAP, PAGE_A], [F.VMWRITE_BITMAP, PAGE_B]];
    expect(r(0x0070_0000n, BigInt(VMCS12_REVISION))).toBe('entered');
    expect(r(0x0070_0008n, BigInt(VMCS12_REVISION))).toBe(LINK);
    expect(r(0x0070_0000n, BigInt(VMCS12_REVISION + 1))).toBe(LINK);
    expect(r(0x4000_0000n, undefined)).toBe(LINK); // beyond the 16 MiB of RAM
    expect(r(TOP, undefined)).toBe(LINK);
    expect(r(0x0070_0000n, BigInt(VMCS12_REVISION) | 0x8000_0000n)).toBe(LINK);
    expect(r(0x0070_0000n, BigInt(VMCS12_REVISION) | 0x8000_0000n, bitmaps)).toBe('entered');
    expect(r(0x0070_0000n, BigInt(VMCS12_REVISION), bitmaps)).toBe(LINK);
  });
});

describe('nested_vmx_run() before and after the checks', () => {
  it('VMLAUNCH with no current VMCS is VMfailInvalid', () => {
    const r = rig();
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    expect(vmclear(r.vcpu, 0x0002_0000n).status).toBe('ok');
    expect(vmlaunch(r.vcpu).status).toBe('fail-invalid');
    expect(vmresume(r.vcpu).status).toBe('fail-invalid');
  });

  it('VMLAUNCH of a launched VMCS is error 4, VMRESUME of a clear one error 5; neither enters', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }, { op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    expect(outcome(r.vcpu, vmresume(r.vcpu))).toBe(`error ${C.VMXERR_VMRESUME_NONLAUNCHED_VMCS}`);
    expect(outcome(r.vcpu, vmlaunch(r.vcpu))).toBe('entered');
    expect(outcome(r.vcpu, vmlaunch(r.vcpu))).toBe(`error ${C.VMXERR_VMLAUNCH_NONCLEAR_VMCS}`);
    expect(r.nested.state(r.vcpu).stats.nestedEntries).toBe(1);
  });

  it('a shadow VMCS made current cannot be launched: VMfailInvalid', () => {
    const r = rig();
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    const shadow = 0x0070_0000n;
    r.vcpu.write(shadow, leBytes(4, BigInt(VMCS12_REVISION) | 0x8000_0000n));
    expect(vmclear(r.vcpu, shadow).status).toBe('ok');
    expect(vmptrld(r.vcpu, shadow).status).toBe('ok');
    expect(vmlaunch(r.vcpu).status).toBe('fail-invalid');
  });

  it('a failed entry loads the host state, leaves guest mode and the TSC offset as they were, and does not launch', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, primary: C.CPU_BASED_USE_TSC_OFFSETING });
    const list = 0x8_0000n;
    r.vcpu.write(list, new Uint8Array([...leBytes(4, 0x0bad_0000n), ...leBytes(4, 0n), ...leBytes(8, 1n)]));
    vmwrite(r.vcpu, F.VM_ENTRY_MSR_LOAD_ADDR, list);
    vmwrite(r.vcpu, F.VM_ENTRY_MSR_LOAD_COUNT, 1n);
    vmwrite(r.vcpu, F.TSC_OFFSET, 1_000_000n);
    vmwrite(r.vcpu, F.HOST_RIP, 0x1234n);
    const tsc = r.vcpu.x86.tscOffset;
    expect(outcome(r.vcpu, vmlaunch(r.vcpu))).toBe(`failed entry ${C.EXIT_REASON_MSR_LOAD_FAIL}/1`);
    const nv = r.nested.state(r.vcpu);
    expect(r.vcpu.x86.guestMode).toBe(false);
    expect(r.vcpu.x86.tscOffset).toBe(tsc);
    expect(r.vcpu.x86.rip).toBe(0x1234n);
    expect(nv.loaded).toBe(nv.vmcs01);
    expect(nv.nestedRunPending).toBe(false);
    // Still clear: VMRESUME is the wrong instruction, VMLAUNCH the right one once the list is fixed.
    expect(outcome(r.vcpu, vmresume(r.vcpu))).toBe(`error ${C.VMXERR_VMRESUME_NONLAUNCHED_VMCS}`);
    vmwrite(r.vcpu, F.VM_ENTRY_MSR_LOAD_COUNT, 0n);
    expect(outcome(r.vcpu, vmlaunch(r.vcpu))).toBe('entered');
  });

  it('a guest-state failure does not touch the TSC offset either; a successful entry adds TSC_OFFSET for L2', () => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'hlt' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE, primary: C.CPU_BASED_USE_TSC_OFFSETING, activity: 2 });
    vmwrite(r.vcpu, F.TSC_OFFSET, 5000n);
    const tsc = r.vcpu.x86.tscOffset;
    expect(outcome(r.vcpu, vmlaunch(r.vcpu))).toBe(GUEST);
    expect(r.vcpu.x86.tscOffset).toBe(tsc);
  });
});

describe('the HLT squash of nested_vmx_run(): a halted L2 with nothing to wake it', () => {
  const hlt = BigInt(C.GUEST_ACTIVITY_HLT);
  const run = (writes: readonly Write[]) => {
    const r = rig();
    l2Code(r.vcpu, [{ op: 'vmcall' }]);
    l1WithVmcs(r.vcpu, { guestRip: L2_CODE });
    for (const [f, v] of writes) vmwrite(r.vcpu, f, v);
    const out = vmlaunch(r.vcpu);
    return { out, halted: r.vcpu.x86.mpState === C.KVM_MP_STATE_HALTED, guestMode: r.vcpu.x86.guestMode };
  };
  it('HLT with nothing pending halts the vCPU in guest mode', () => {
    const s = run([[F.GUEST_ACTIVITY_STATE, hlt]]);
    expect(s.out.hung).toBe(true);
    expect(s.halted).toBe(true);
    expect(s.guestMode).toBe(true);
  });
  it('an interrupt window with RFLAGS.IF, an NMI window or an injected event is a wake-up: no squash', () => {
    const win = D.exec | b(C.CPU_BASED_VIRTUAL_INTR_PENDING);
    expect(run([[F.GUEST_ACTIVITY_STATE, hlt], [F.CPU_BASED_VM_EXEC_CONTROL, win], [F.GUEST_RFLAGS, 0x202n]]).out.hung).toBe(false);
    expect(run([[F.GUEST_ACTIVITY_STATE, hlt], [F.CPU_BASED_VM_EXEC_CONTROL, win], [F.GUEST_RFLAGS, 0x2n]]).out.hung).toBe(true);
    const nmi: Write[] = [[F.PIN_BASED_VM_EXEC_CONTROL, D.pin | b(C.PIN_BASED_NMI_EXITING | C.PIN_BASED_VIRTUAL_NMIS)], [F.CPU_BASED_VM_EXEC_CONTROL, D.exec | b(C.CPU_BASED_VIRTUAL_NMI_PENDING)]];
    expect(run([[F.GUEST_ACTIVITY_STATE, hlt], ...nmi]).out.hung).toBe(false);
    expect(run([[F.GUEST_ACTIVITY_STATE, hlt], [F.VM_ENTRY_INTR_INFO_FIELD, b(C.INTR_INFO_VALID_MASK | C.INTR_TYPE_EXT_INTR | 0x20)]]).out.hung).toBe(false);
    expect(run([]).out.hung).toBe(false);
  });
});
