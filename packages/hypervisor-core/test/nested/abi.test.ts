import { describe, expect, it } from 'vitest';
import * as F from '../../src/x86/vmcs-fields.js';
import * as C from '../../src/x86/vmx-constants.js';
import { isHighAccess, vmcsFieldWidth } from '../../src/x86/vmcs.js';
import * as K from '../../src/x86/nested/kvm-constants.js';
import {
  VMCS12_FIELDS, VMCS12_MAX_FIELD_INDEX, VMCS12_MEMBER_OFFSETS, VMCS12_REVISION, VMCS12_SIZE, vmcs12Field,
} from '../../src/x86/nested/vmcs12-layout.js';
import { SIZEOF_VMCS12 } from '../../src/x86/nested/nested-state.js';

/** enum vmcs_field of arch/x86/include/asm/vmx.h (v5.4), every member: name=encoding. */
const VMX_H_FIELDS = [
  'VIRTUAL_PROCESSOR_ID=0x0000 POSTED_INTR_NV=0x0002 GUEST_ES_SELECTOR=0x0800 GUEST_CS_SELECTOR=0x0802 GUEST_SS_SELECTOR=0x0804',
  'GUEST_DS_SELECTOR=0x0806 GUEST_FS_SELECTOR=0x0808 GUEST_GS_SELECTOR=0x080a GUEST_LDTR_SELECTOR=0x080c GUEST_TR_SELECTOR=0x080e',
  'GUEST_INTR_STATUS=0x0810 GUEST_PML_INDEX=0x0812 HOST_ES_SELECTOR=0x0c00 HOST_CS_SELECTOR=0x0c02 HOST_SS_SELECTOR=0x0c04',
  'HOST_DS_SELECTOR=0x0c06 HOST_FS_SELECTOR=0x0c08 HOST_GS_SELECTOR=0x0c0a HOST_TR_SELECTOR=0x0c0c IO_BITMAP_A=0x2000',
  'IO_BITMAP_A_HIGH=0x2001 IO_BITMAP_B=0x2002 IO_BITMAP_B_HIGH=0x2003 MSR_BITMAP=0x2004 MSR_BITMAP_HIGH=0x2005',
  'VM_EXIT_MSR_STORE_ADDR=0x2006 VM_EXIT_MSR_STORE_ADDR_HIGH=0x2007 VM_EXIT_MSR_LOAD_ADDR=0x2008 VM_EXIT_MSR_LOAD_ADDR_HIGH=0x2009 VM_ENTRY_MSR_LOAD_ADDR=0x200a',
  'VM_ENTRY_MSR_LOAD_ADDR_HIGH=0x200b PML_ADDRESS=0x200e PML_ADDRESS_HIGH=0x200f TSC_OFFSET=0x2010 TSC_OFFSET_HIGH=0x2011',
  'VIRTUAL_APIC_PAGE_ADDR=0x2012 VIRTUAL_APIC_PAGE_ADDR_HIGH=0x2013 APIC_ACCESS_ADDR=0x2014 APIC_ACCESS_ADDR_HIGH=0x2015 POSTED_INTR_DESC_ADDR=0x2016',
  'POSTED_INTR_DESC_ADDR_HIGH=0x2017 VM_FUNCTION_CONTROL=0x2018 VM_FUNCTION_CONTROL_HIGH=0x2019 EPT_POINTER=0x201a EPT_POINTER_HIGH=0x201b',
  'EOI_EXIT_BITMAP0=0x201c EOI_EXIT_BITMAP0_HIGH=0x201d EOI_EXIT_BITMAP1=0x201e EOI_EXIT_BITMAP1_HIGH=0x201f EOI_EXIT_BITMAP2=0x2020',
  'EOI_EXIT_BITMAP2_HIGH=0x2021 EOI_EXIT_BITMAP3=0x2022 EOI_EXIT_BITMAP3_HIGH=0x2023 EPTP_LIST_ADDRESS=0x2024 EPTP_LIST_ADDRESS_HIGH=0x2025',
  'VMREAD_BITMAP=0x2026 VMREAD_BITMAP_HIGH=0x2027 VMWRITE_BITMAP=0x2028 VMWRITE_BITMAP_HIGH=0x2029 XSS_EXIT_BITMAP=0x202C',
  'XSS_EXIT_BITMAP_HIGH=0x202D ENCLS_EXITING_BITMAP=0x202E ENCLS_EXITING_BITMAP_HIGH=0x202F TSC_MULTIPLIER=0x2032 TSC_MULTIPLIER_HIGH=0x2033',
  'GUEST_PHYSICAL_ADDRESS=0x2400 GUEST_PHYSICAL_ADDRESS_HIGH=0x2401 VMCS_LINK_POINTER=0x2800 VMCS_LINK_POINTER_HIGH=0x2801 GUEST_IA32_DEBUGCTL=0x2802',
  'GUEST_IA32_DEBUGCTL_HIGH=0x2803 GUEST_IA32_PAT=0x2804 GUEST_IA32_PAT_HIGH=0x2805 GUEST_IA32_EFER=0x2806 GUEST_IA32_EFER_HIGH=0x2807',
  'GUEST_IA32_PERF_GLOBAL_CTRL=0x2808 GUEST_IA32_PERF_GLOBAL_CTRL_HIGH=0x2809 GUEST_PDPTR0=0x280a GUEST_PDPTR0_HIGH=0x280b GUEST_PDPTR1=0x280c',
  'GUEST_PDPTR1_HIGH=0x280d GUEST_PDPTR2=0x280e GUEST_PDPTR2_HIGH=0x280f GUEST_PDPTR3=0x2810 GUEST_PDPTR3_HIGH=0x2811',
  'GUEST_BNDCFGS=0x2812 GUEST_BNDCFGS_HIGH=0x2813 GUEST_IA32_RTIT_CTL=0x2814 GUEST_IA32_RTIT_CTL_HIGH=0x2815 HOST_IA32_PAT=0x2c00',
  'HOST_IA32_PAT_HIGH=0x2c01 HOST_IA32_EFER=0x2c02 HOST_IA32_EFER_HIGH=0x2c03 HOST_IA32_PERF_GLOBAL_CTRL=0x2c04 HOST_IA32_PERF_GLOBAL_CTRL_HIGH=0x2c05',
  'PIN_BASED_VM_EXEC_CONTROL=0x4000 CPU_BASED_VM_EXEC_CONTROL=0x4002 EXCEPTION_BITMAP=0x4004 PAGE_FAULT_ERROR_CODE_MASK=0x4006 PAGE_FAULT_ERROR_CODE_MATCH=0x4008',
  'CR3_TARGET_COUNT=0x400a VM_EXIT_CONTROLS=0x400c VM_EXIT_MSR_STORE_COUNT=0x400e VM_EXIT_MSR_LOAD_COUNT=0x4010 VM_ENTRY_CONTROLS=0x4012',
  'VM_ENTRY_MSR_LOAD_COUNT=0x4014 VM_ENTRY_INTR_INFO_FIELD=0x4016 VM_ENTRY_EXCEPTION_ERROR_CODE=0x4018 VM_ENTRY_INSTRUCTION_LEN=0x401a TPR_THRESHOLD=0x401c',
  'SECONDARY_VM_EXEC_CONTROL=0x401e PLE_GAP=0x4020 PLE_WINDOW=0x4022 VM_INSTRUCTION_ERROR=0x4400 VM_EXIT_REASON=0x4402',
  'VM_EXIT_INTR_INFO=0x4404 VM_EXIT_INTR_ERROR_CODE=0x4406 IDT_VECTORING_INFO_FIELD=0x4408 IDT_VECTORING_ERROR_CODE=0x440a VM_EXIT_INSTRUCTION_LEN=0x440c',
  'VMX_INSTRUCTION_INFO=0x440e GUEST_ES_LIMIT=0x4800 GUEST_CS_LIMIT=0x4802 GUEST_SS_LIMIT=0x4804 GUEST_DS_LIMIT=0x4806',
  'GUEST_FS_LIMIT=0x4808 GUEST_GS_LIMIT=0x480a GUEST_LDTR_LIMIT=0x480c GUEST_TR_LIMIT=0x480e GUEST_GDTR_LIMIT=0x4810',
  'GUEST_IDTR_LIMIT=0x4812 GUEST_ES_AR_BYTES=0x4814 GUEST_CS_AR_BYTES=0x4816 GUEST_SS_AR_BYTES=0x4818 GUEST_DS_AR_BYTES=0x481a',
  'GUEST_FS_AR_BYTES=0x481c GUEST_GS_AR_BYTES=0x481e GUEST_LDTR_AR_BYTES=0x4820 GUEST_TR_AR_BYTES=0x4822 GUEST_INTERRUPTIBILITY_INFO=0x4824',
  'GUEST_ACTIVITY_STATE=0x4826 GUEST_SYSENTER_CS=0x482A VMX_PREEMPTION_TIMER_VALUE=0x482E HOST_IA32_SYSENTER_CS=0x4c00 CR0_GUEST_HOST_MASK=0x6000',
  'CR4_GUEST_HOST_MASK=0x6002 CR0_READ_SHADOW=0x6004 CR4_READ_SHADOW=0x6006 CR3_TARGET_VALUE0=0x6008 CR3_TARGET_VALUE1=0x600a',
  'CR3_TARGET_VALUE2=0x600c CR3_TARGET_VALUE3=0x600e EXIT_QUALIFICATION=0x6400 GUEST_LINEAR_ADDRESS=0x640a GUEST_CR0=0x6800',
  'GUEST_CR3=0x6802 GUEST_CR4=0x6804 GUEST_ES_BASE=0x6806 GUEST_CS_BASE=0x6808 GUEST_SS_BASE=0x680a',
  'GUEST_DS_BASE=0x680c GUEST_FS_BASE=0x680e GUEST_GS_BASE=0x6810 GUEST_LDTR_BASE=0x6812 GUEST_TR_BASE=0x6814',
  'GUEST_GDTR_BASE=0x6816 GUEST_IDTR_BASE=0x6818 GUEST_DR7=0x681a GUEST_RSP=0x681c GUEST_RIP=0x681e',
  'GUEST_RFLAGS=0x6820 GUEST_PENDING_DBG_EXCEPTIONS=0x6822 GUEST_SYSENTER_ESP=0x6824 GUEST_SYSENTER_EIP=0x6826 HOST_CR0=0x6c00',
  'HOST_CR3=0x6c02 HOST_CR4=0x6c04 HOST_FS_BASE=0x6c06 HOST_GS_BASE=0x6c08 HOST_TR_BASE=0x6c0a',
  'HOST_GDTR_BASE=0x6c0c HOST_IDTR_BASE=0x6c0e HOST_IA32_SYSENTER_ESP=0x6c10 HOST_IA32_SYSENTER_EIP=0x6c12 HOST_RSP=0x6c14',
  'HOST_RIP=0x6c16',
].flatMap((l) => l.split(' ')).map((p) => {
  const [name, hex] = p.split('=') as [string, string];
  return { name, encoding: Number(hex) };
});

/** The CHECK_OFFSET() list of arch/x86/kvm/vmx/vmcs12.h (v5.4): member:offset. */
const VMCS12_H_OFFSETS = [
  'hdr:0 abort:4 launch_state:8 io_bitmap_a:40 io_bitmap_b:48 msr_bitmap:56',
  'vm_exit_msr_store_addr:64 vm_exit_msr_load_addr:72 vm_entry_msr_load_addr:80 tsc_offset:88 virtual_apic_page_addr:96 apic_access_addr:104',
  'posted_intr_desc_addr:112 ept_pointer:120 eoi_exit_bitmap0:128 eoi_exit_bitmap1:136 eoi_exit_bitmap2:144 eoi_exit_bitmap3:152',
  'xss_exit_bitmap:160 guest_physical_address:168 vmcs_link_pointer:176 guest_ia32_debugctl:184 guest_ia32_pat:192 guest_ia32_efer:200',
  'guest_ia32_perf_global_ctrl:208 guest_pdptr0:216 guest_pdptr1:224 guest_pdptr2:232 guest_pdptr3:240 guest_bndcfgs:248',
  'host_ia32_pat:256 host_ia32_efer:264 host_ia32_perf_global_ctrl:272 vmread_bitmap:280 vmwrite_bitmap:288 vm_function_control:296',
  'eptp_list_address:304 pml_address:312 cr0_guest_host_mask:344 cr4_guest_host_mask:352 cr0_read_shadow:360 cr4_read_shadow:368',
  'cr3_target_value0:376 cr3_target_value1:384 cr3_target_value2:392 cr3_target_value3:400 exit_qualification:408 guest_linear_address:416',
  'guest_cr0:424 guest_cr3:432 guest_cr4:440 guest_es_base:448 guest_cs_base:456 guest_ss_base:464',
  'guest_ds_base:472 guest_fs_base:480 guest_gs_base:488 guest_ldtr_base:496 guest_tr_base:504 guest_gdtr_base:512',
  'guest_idtr_base:520 guest_dr7:528 guest_rsp:536 guest_rip:544 guest_rflags:552 guest_pending_dbg_exceptions:560',
  'guest_sysenter_esp:568 guest_sysenter_eip:576 host_cr0:584 host_cr3:592 host_cr4:600 host_fs_base:608',
  'host_gs_base:616 host_tr_base:624 host_gdtr_base:632 host_idtr_base:640 host_ia32_sysenter_esp:648 host_ia32_sysenter_eip:656',
  'host_rsp:664 host_rip:672 pin_based_vm_exec_control:744 cpu_based_vm_exec_control:748 exception_bitmap:752 page_fault_error_code_mask:756',
  'page_fault_error_code_match:760 cr3_target_count:764 vm_exit_controls:768 vm_exit_msr_store_count:772 vm_exit_msr_load_count:776 vm_entry_controls:780',
  'vm_entry_msr_load_count:784 vm_entry_intr_info_field:788 vm_entry_exception_error_code:792 vm_entry_instruction_len:796 tpr_threshold:800 secondary_vm_exec_control:804',
  'vm_instruction_error:808 vm_exit_reason:812 vm_exit_intr_info:816 vm_exit_intr_error_code:820 idt_vectoring_info_field:824 idt_vectoring_error_code:828',
  'vm_exit_instruction_len:832 vmx_instruction_info:836 guest_es_limit:840 guest_cs_limit:844 guest_ss_limit:848 guest_ds_limit:852',
  'guest_fs_limit:856 guest_gs_limit:860 guest_ldtr_limit:864 guest_tr_limit:868 guest_gdtr_limit:872 guest_idtr_limit:876',
  'guest_es_ar_bytes:880 guest_cs_ar_bytes:884 guest_ss_ar_bytes:888 guest_ds_ar_bytes:892 guest_fs_ar_bytes:896 guest_gs_ar_bytes:900',
  'guest_ldtr_ar_bytes:904 guest_tr_ar_bytes:908 guest_interruptibility_info:912 guest_activity_state:916 guest_sysenter_cs:920 host_ia32_sysenter_cs:924',
  'vmx_preemption_timer_value:928 virtual_processor_id:960 posted_intr_nv:962 guest_es_selector:964 guest_cs_selector:966 guest_ss_selector:968',
  'guest_ds_selector:970 guest_fs_selector:972 guest_gs_selector:974 guest_ldtr_selector:976 guest_tr_selector:978 guest_intr_status:980',
  'host_es_selector:982 host_cs_selector:984 host_ss_selector:986 host_ds_selector:988 host_fs_selector:990 host_gs_selector:992',
  'host_tr_selector:994 guest_pml_index:996',
].flatMap((l) => l.split(' ')).map((p) => {
  const [member, off] = p.split(':') as [string, string];
  return { member, offset: Number(off) };
});

/** Encodings of enum vmcs_field that vmcs12.c has no entry for (VMREAD/VMWRITE of them: error 12). */
const NOT_IN_VMCS12 = ['ENCLS_EXITING_BITMAP', 'ENCLS_EXITING_BITMAP_HIGH', 'TSC_MULTIPLIER', 'TSC_MULTIPLIER_HIGH',
  'GUEST_IA32_RTIT_CTL', 'GUEST_IA32_RTIT_CTL_HIGH', 'PLE_GAP', 'PLE_WINDOW'];

describe('VMCS field encodings (asm/vmx.h enum vmcs_field, v5.4)', () => {
  it('every member of the enum exists with its encoding, and nothing else', () => {
    expect(VMX_H_FIELDS).toHaveLength(186);
    const exported = Object.entries(F).filter(([, v]) => typeof v === 'number');
    expect(Object.fromEntries(exported)).toEqual(Object.fromEntries(VMX_H_FIELDS.map((f) => [f.name, f.encoding])));
  });

  it('each _HIGH is its 64-bit field + 1 (access type bit 0), and reads as 32 bits', () => {
    const highs = VMX_H_FIELDS.filter((f) => f.name.endsWith('_HIGH'));
    expect(highs.length).toBeGreaterThan(30);
    for (const h of highs) {
      const full = (F as Record<string, number>)[h.name.slice(0, -'_HIGH'.length)];
      expect(full, h.name).toBe(h.encoding - 1);
      expect(vmcsFieldWidth(full!)).toBe(64);
      expect(isHighAccess(h.encoding)).toBe(true);
      expect(vmcsFieldWidth(h.encoding)).toBe(32);
    }
    expect(isHighAccess(F.GUEST_CR3)).toBe(false); // natural width: no high half
    expect(isHighAccess(F.GUEST_PML_INDEX)).toBe(false);
  });
});

describe('struct vmcs12 (arch/x86/kvm/vmx/vmcs12.h, v5.4)', () => {
  it('every CHECK_OFFSET() of the kernel holds in the layout', () => {
    expect(VMCS12_H_OFFSETS).toHaveLength(146);
    const layout = Object.fromEntries(VMCS12_H_OFFSETS.map((o) => [o.member, VMCS12_MEMBER_OFFSETS.get(o.member)]));
    expect(layout).toEqual(Object.fromEntries(VMCS12_H_OFFSETS.map((o) => [o.member, o.offset])));
    expect(VMCS12_MEMBER_OFFSETS.size).toBe(146);
  });

  it('sizes, revision and the VMCS_ENUM index', () => {
    expect(VMCS12_SIZE).toBe(0x1000); // KVM_STATE_NESTED_VMX_VMCS_SIZE
    expect(K.KVM_STATE_NESTED_VMX_VMCS_SIZE).toBe(VMCS12_SIZE);
    expect(VMCS12_REVISION).toBe(0x11e57ed0);
    expect(VMCS12_MAX_FIELD_INDEX).toBe(0x17);
    expect(SIZEOF_VMCS12).toBe(998); // guest_pml_index (996) is the packed struct's last member
  });

  it('the field table is vmcs12.c: every enum member but the ones KVM does not expose, _HIGH halves included', () => {
    const expected = VMX_H_FIELDS.filter((f) => !NOT_IN_VMCS12.includes(f.name)).map((f) => f.encoding).sort((a, b) => a - b);
    expect([...VMCS12_FIELDS.keys()].sort((a, b) => a - b)).toEqual(expected);
    for (const n of NOT_IN_VMCS12) expect(vmcs12Field(BigInt((F as Record<string, number>)[n]!))).toBeUndefined();
  });

  it('a field lives at its member; a _HIGH half 4 bytes further, 4 bytes wide', () => {
    const cr3 = vmcs12Field(BigInt(F.GUEST_CR3))!;
    expect([cr3.offset, cr3.size]).toEqual([432, 8]);
    const ept = vmcs12Field(BigInt(F.EPT_POINTER))!;
    const eptHigh = vmcs12Field(BigInt(F.EPT_POINTER_HIGH))!;
    expect([ept.offset, ept.size, eptHigh.offset, eptHigh.size]).toEqual([120, 8, 124, 4]);
    expect([vmcs12Field(BigInt(F.GUEST_PML_INDEX))!.offset, vmcs12Field(BigInt(F.GUEST_PML_INDEX))!.size]).toEqual([996, 2]);
    expect(vmcs12Field(BigInt(F.VMX_PREEMPTION_TIMER_VALUE))!.offset).toBe(928);
    expect(vmcs12Field(BigInt(F.PIN_BASED_VM_EXEC_CONTROL))!.offset).toBe(744);
    // reserved encodings are not fields
    expect(vmcs12Field(0x1000n)).toBeUndefined();
    expect(vmcs12Field(0x1_0000_6802n)).toBeUndefined();
  });
});

describe('VMX controls, exit reasons and errors (asm/vmx.h, uapi/asm/vmx.h, v5.4)', () => {
  it('the 2019 names, and today’s as aliases of the same bits', () => {
    expect(C.CPU_BASED_VIRTUAL_INTR_PENDING).toBe(0x4);
    expect(C.CPU_BASED_INTR_WINDOW_EXITING).toBe(C.CPU_BASED_VIRTUAL_INTR_PENDING);
    expect(C.CPU_BASED_USE_TSC_OFFSETING).toBe(0x8);
    expect(C.CPU_BASED_VIRTUAL_NMI_PENDING).toBe(0x400000);
    expect(C.EXIT_REASON_PENDING_INTERRUPT).toBe(7);
    expect(C.EXIT_REASON_INTERRUPT_WINDOW).toBe(7);
    expect([C.CPU_BASED_HLT_EXITING, C.CPU_BASED_CR3_LOAD_EXITING, C.CPU_BASED_CR3_STORE_EXITING, C.CPU_BASED_UNCOND_IO_EXITING,
      C.CPU_BASED_USE_IO_BITMAPS, C.CPU_BASED_USE_MSR_BITMAPS, C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS])
      .toEqual([0x80, 0x8000, 0x10000, 0x1000000, 0x2000000, 0x10000000, 0x80000000]);
    expect([C.SECONDARY_EXEC_ENABLE_EPT, C.SECONDARY_EXEC_ENABLE_VPID, C.SECONDARY_EXEC_UNRESTRICTED_GUEST,
      C.SECONDARY_EXEC_SHADOW_VMCS, C.SECONDARY_EXEC_ENABLE_PML]).toEqual([0x2, 0x20, 0x80, 0x4000, 0x20000]);
    expect([C.PIN_BASED_EXT_INTR_MASK, C.PIN_BASED_NMI_EXITING, C.PIN_BASED_VIRTUAL_NMIS, C.PIN_BASED_VMX_PREEMPTION_TIMER])
      .toEqual([0x1, 0x8, 0x20, 0x40]);
    expect([C.VM_EXIT_HOST_ADDR_SPACE_SIZE, C.VM_EXIT_ACK_INTR_ON_EXIT, C.VM_EXIT_SAVE_VMX_PREEMPTION_TIMER, C.VM_ENTRY_IA32E_MODE])
      .toEqual([0x200, 0x8000, 0x400000, 0x200]);
    expect([C.PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR, C.CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR, C.VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR,
      C.VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR]).toEqual([0x16, 0x0401e172, 0x00036dff, 0x000011ff]);
  });

  it('exit reasons and VM-instruction error numbers', () => {
    expect([C.EXIT_REASON_IO_INSTRUCTION, C.EXIT_REASON_INVALID_STATE, C.EXIT_REASON_MSR_LOAD_FAIL, C.EXIT_REASON_INVEPT,
      C.EXIT_REASON_INVVPID, C.EXIT_REASON_VMON, C.EXIT_REASON_VMOFF]).toEqual([30, 33, 34, 50, 53, 27, 26]);
    expect(C.VMX_EXIT_REASONS_FAILED_VMENTRY).toBe(0x80000000);
    expect([C.VMXERR_VMCLEAR_INVALID_ADDRESS, C.VMXERR_VMCLEAR_VMXON_POINTER, C.VMXERR_VMLAUNCH_NONCLEAR_VMCS,
      C.VMXERR_VMRESUME_NONLAUNCHED_VMCS, C.VMXERR_ENTRY_INVALID_CONTROL_FIELD, C.VMXERR_ENTRY_INVALID_HOST_STATE_FIELD,
      C.VMXERR_VMPTRLD_INVALID_ADDRESS, C.VMXERR_VMPTRLD_VMXON_POINTER, C.VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID,
      C.VMXERR_UNSUPPORTED_VMCS_COMPONENT, C.VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT, C.VMXERR_VMXON_IN_VMX_ROOT_OPERATION,
      C.VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID]).toEqual([2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 15, 28]);
    expect(C.EXIT_REASON_NAMES.get(52)).toBe('PREEMPTION_TIMER');
  });

  it('VMX MSR indices and IA32_FEATURE_CONTROL (asm/msr-index.h)', () => {
    expect([C.MSR_IA32_FEATURE_CONTROL, C.MSR_IA32_VMX_BASIC, C.MSR_IA32_VMX_MISC, C.MSR_IA32_VMX_PROCBASED_CTLS2,
      C.MSR_IA32_VMX_EPT_VPID_CAP, C.MSR_IA32_VMX_TRUE_PINBASED_CTLS, C.MSR_IA32_VMX_TRUE_ENTRY_CTLS, C.MSR_IA32_VMX_VMFUNC])
      .toEqual([0x3a, 0x480, 0x485, 0x48b, 0x48c, 0x48d, 0x490, 0x491]);
    expect([C.FEATURE_CONTROL_LOCKED, C.FEATURE_CONTROL_VMXON_ENABLED_OUTSIDE_SMX]).toEqual([1n, 4n]);
    expect(C.MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS).toBe(1 << 29);
  });
});

describe('kvm_nested_state and friends (uapi/asm/kvm.h, uapi/linux/kvm.h, asm/kvm_host.h of v5.4)', () => {
  it('ABI values', () => {
    expect(K.KVM_CAP_NESTED_STATE).toBe(157);
    expect([K.KVM_STATE_NESTED_GUEST_MODE, K.KVM_STATE_NESTED_RUN_PENDING, K.KVM_STATE_NESTED_EVMCS]).toEqual([1, 2, 4]);
    expect([K.KVM_STATE_NESTED_SMM_GUEST_MODE, K.KVM_STATE_NESTED_SMM_VMXON, K.KVM_STATE_NESTED_FORMAT_VMX]).toEqual([1, 2, 0]);
    expect(K.KVM_NESTED_STATE_HEADER_SIZE).toBe(128);
    expect(K.KVM_NESTED_STATE_MAX_SIZE).toBe(128 + 2 * 4096);
    expect([K.KVM_NESTED_STATE_OFFSET_FLAGS, K.KVM_NESTED_STATE_OFFSET_FORMAT, K.KVM_NESTED_STATE_OFFSET_SIZE,
      K.KVM_NESTED_STATE_OFFSET_VMXON_PA, K.KVM_NESTED_STATE_OFFSET_VMCS12_PA, K.KVM_NESTED_STATE_OFFSET_SMM_FLAGS])
      .toEqual([0, 2, 4, 8, 16, 24]);
    expect([K.VCPU_REGS_RIP, K.VCPU_EXREG_PDPTR, K.VCPU_EXREG_CR3, K.KVM_MMU_NUM_PREV_ROOTS]).toEqual([16, 17, 18, 3]);
  });
});
