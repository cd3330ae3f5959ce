/**
 * struct vmcs12: the layout KVM gives L1's VMCS region (arch/x86/kvm/vmx/vmcs12.h of v5.3/v5.4)
 * and the field table that maps a VMREAD/VMWRITE encoding to a place in it (vmcs12.c). The
 * layout is ABI: it is what KVM_GET_NESTED_STATE copies out and what a VMCLEAR flushes into
 * guest memory, so the offsets here are checked against the kernel's CHECK_OFFSET list in tests.
 *
 * Every member after launch_state is a field of the table, named as the encoding in lower case
 * (vmcs12.c pairs each encoding with the member of the same name); 64-bit members also answer
 * their `_HIGH` encoding, 4 bytes further on (FIELD64).
 */
import * as FIELDS from '../vmcs-fields.js';

/** KVM_STATE_NESTED_VMX_VMCS_SIZE (arch/x86/include/uapi/asm/kvm.h): bytes of a vmcs12 region. */
export const VMCS12_SIZE = 0x1000; // uapi/asm/kvm.h
/** The revision id in MSR_IA32_VMX_BASIC that VMXON and VMPTRLD check (vmx/vmcs12.h). */
export const VMCS12_REVISION = 0x11e57ed0; // vmx/vmcs12.h
/** The highest index of any vmcs12 field encoding; MSR_IA32_VMX_VMCS_ENUM reports it << 1 (vmx/vmcs12.h). */
export const VMCS12_MAX_FIELD_INDEX = 0x17; // vmx/vmcs12.h
/** Offsets of the header words (struct vmcs_hdr, abort, launch_state; vmx/vmcs12.h). */
export const VMCS12_OFFSET_REVISION = 0;
export const VMCS12_OFFSET_ABORT = 4;
export const VMCS12_OFFSET_LAUNCH_STATE = 8;
/** Bit 31 of the first word: the region is a shadow VMCS (struct vmcs_hdr.shadow_vmcs). */
export const VMCS_HDR_SHADOW_VMCS = 0x8000_0000;

const U64 = [
  'io_bitmap_a', 'io_bitmap_b', 'msr_bitmap', 'vm_exit_msr_store_addr', 'vm_exit_msr_load_addr', 'vm_entry_msr_load_addr',
  'tsc_offset', 'virtual_apic_page_addr', 'apic_access_addr', 'posted_intr_desc_addr', 'ept_pointer', 'eoi_exit_bitmap0',
  'eoi_exit_bitmap1', 'eoi_exit_bitmap2', 'eoi_exit_bitmap3', 'xss_exit_bitmap', 'guest_physical_address',
  'vmcs_link_pointer', 'guest_ia32_debugctl', 'guest_ia32_pat', 'guest_ia32_efer', 'guest_ia32_perf_global_ctrl',
  'guest_pdptr0', 'guest_pdptr1', 'guest_pdptr2', 'guest_pdptr3', 'guest_bndcfgs', 'host_ia32_pat', 'host_ia32_efer',
  'host_ia32_perf_global_ctrl', 'vmread_bitmap', 'vmwrite_bitmap', 'vm_function_control', 'eptp_list_address', 'pml_address',
] as const;
const NATURAL = [
  'cr0_guest_host_mask', 'cr4_guest_host_mask', 'cr0_read_shadow', 'cr4_read_shadow', 'cr3_target_value0',
  'cr3_target_value1', 'cr3_target_value2', 'cr3_target_value3', 'exit_qualification', 'guest_linear_address', 'guest_cr0',
  'guest_cr3', 'guest_cr4', 'guest_es_base', 'guest_cs_base', 'guest_ss_base', 'guest_ds_base', 'guest_fs_base',
  'guest_gs_base', 'guest_ldtr_base', 'guest_tr_base', 'guest_gdtr_base', 'guest_idtr_base', 'guest_dr7', 'guest_rsp',
  'guest_rip', 'guest_rflags', 'guest_pending_dbg_exceptions', 'guest_sysenter_esp', 'guest_sysenter_eip', 'host_cr0',
  'host_cr3', 'host_cr4', 'host_fs_base', 'host_gs_base', 'host_tr_base', 'host_gdtr_base', 'host_idtr_base',
  'host_ia32_sysenter_esp', 'host_ia32_sysenter_eip', 'host_rsp', 'host_rip',
] as const;
const U32 = [
  'pin_based_vm_exec_control', 'cpu_based_vm_exec_control', 'exception_bitmap', 'page_fault_error_code_mask',
  'page_fault_error_code_match', 'cr3_target_count', 'vm_exit_controls', 'vm_exit_msr_store_count', 'vm_exit_msr_load_count',
  'vm_entry_controls', 'vm_entry_msr_load_count', 'vm_entry_intr_info_field', 'vm_entry_exception_error_code',
  'vm_entry_instruction_len', 'tpr_threshold', 'secondary_vm_exec_control', 'vm_instruction_error', 'vm_exit_reason',
  'vm_exit_intr_info', 'vm_exit_intr_error_code', 'idt_vectoring_info_field', 'idt_vectoring_error_code',
  'vm_exit_instruction_len', 'vmx_instruction_info', 'guest_es_limit', 'guest_cs_limit', 'guest_ss_limit', 'guest_ds_limit',
  'guest_fs_limit', 'guest_gs_limit', 'guest_ldtr_limit', 'guest_tr_limit', 'guest_gdtr_limit', 'guest_idtr_limit',
  'guest_es_ar_bytes', 'guest_cs_ar_bytes', 'guest_ss_ar_bytes', 'guest_ds_ar_bytes', 'guest_fs_ar_bytes',
  'guest_gs_ar_bytes', 'guest_ldtr_ar_bytes', 'guest_tr_ar_bytes', 'guest_interruptibility_info', 'guest_activity_state',
  'guest_sysenter_cs', 'host_ia32_sysenter_cs', 'vmx_preemption_timer_value',
] as const;
const U16 = [
  'virtual_processor_id', 'posted_intr_nv', 'guest_es_selector', 'guest_cs_selector', 'guest_ss_selector',
  'guest_ds_selector', 'guest_fs_selector', 'guest_gs_selector', 'guest_ldtr_selector', 'guest_tr_selector',
  'guest_intr_status', 'host_es_selector', 'host_cs_selector', 'host_ss_selector', 'host_ds_selector', 'host_fs_selector',
  'host_gs_selector', 'host_tr_selector', 'guest_pml_index',
] as const;

/** The groups in struct order, each followed by its padding array (padding64[3], paddingl[8], padding32[7]). */
const GROUPS: readonly { readonly members: readonly string[]; readonly size: 2 | 4 | 8; readonly pad: number }[] = [
  { members: U64, size: 8, pad: 3 },
  { members: NATURAL, size: 8, pad: 8 },
  { members: U32, size: 4, pad: 7 },
  { members: U16, size: 2, pad: 0 },
];
/** hdr, abort, launch_state and padding[7]: where the u64 group starts. */
const FIRST_FIELD_OFFSET = 40;

export interface Vmcs12Field {
  /** The kernel's name of the encoding (e.g. GUEST_CR3, EPT_POINTER_HIGH). */
  readonly name: string;
  readonly encoding: number;
  /** Byte offset in struct vmcs12. */
  readonly offset: number;
  /** Bytes vmcs12_read_any()/vmcs12_write_any() access: 2, 4 or 8 (a `_HIGH` access is 4). */
  readonly size: 2 | 4 | 8;
}

/** Member name → byte offset in struct vmcs12. */
export const VMCS12_MEMBER_OFFSETS: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>([['hdr', 0], ['abort', 4], ['launch_state', 8]]);
  let off = FIRST_FIELD_OFFSET;
  for (const g of GROUPS) {
    for (const name of g.members) {
      m.set(name, off);
      off += g.size;
    }
    off += g.pad * g.size;
  }
  return m;
})();

const encodingOf = (name: string): number => {
  const enc = (FIELDS as Readonly<Record<string, number>>)[name];
  if (enc === undefined) throw new Error(`vmcs12 layout: no encoding named ${name}`);
  return enc;
};

/** vmcs_field_to_offset_table: encoding → field (vmx/vmcs12.c). */
export const VMCS12_FIELDS: ReadonlyMap<number, Vmcs12Field> = (() => {
  const m = new Map<number, Vmcs12Field>();
  for (const g of GROUPS) {
    for (const member of g.members) {
      const name = member.toUpperCase();
      const encoding = encodingOf(name);
      const offset = VMCS12_MEMBER_OFFSETS.get(member)!;
      m.set(encoding, { name, encoding, offset, size: g.size });
      if (g.members === U64) m.set(encoding + 1, { name: `${name}_HIGH`, encoding: encoding + 1, offset: offset + 4, size: 4 });
    }
  }
  return m;
})();

/** models vmcs_field_to_offset() (vmx/vmcs12.h): the field, or undefined (-ENOENT) for any other value. */
export function vmcs12Field(field: bigint): Vmcs12Field | undefined {
  if (field < 0n || field >> 15n !== 0n) return undefined;
  return VMCS12_FIELDS.get(Number(field));
}
