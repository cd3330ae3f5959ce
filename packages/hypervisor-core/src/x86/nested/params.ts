/**
 * L0's kvm_intel module parameters that nested VMX depends on, with the 5.4 defaults and the
 * dependencies hardware_setup() enforces (arch/x86/kvm/vmx/vmx.c of v5.4), and the host CPU the
 * model stands for. Plugins fix the parameters they model (kvm-mmu-pml: ept_ad and pml; nvmx-cr3:
 * ept and unrestricted_guest); composition refuses two plugins fixing one parameter differently.
 */

export interface KvmIntelParams {
  /** kvm_intel.ept (enable_ept). Off: L0 shadow-pages L1 and the CR3 bug cannot happen. */
  readonly ept: boolean;
  /** kvm_intel.unrestricted_guest; needs EPT. */
  readonly unrestrictedGuest: boolean;
  /** kvm_intel.eptad (enable_ept_ad_bits); needs EPT. Also decides whether L1 is offered EPT A/D and PML. */
  readonly eptAd: boolean;
  /** kvm_intel.pml (enable_pml); needs EPT, EPT A/D and a PML log (the plugin that models it). */
  readonly pml: boolean;
  /** kvm_intel.vpid (enable_vpid). */
  readonly vpid: boolean;
}

export type KvmIntelParamName = keyof KvmIntelParams;

/** The 5.4 module defaults (all on). */
export const KVM_INTEL_DEFAULTS: KvmIntelParams = { ept: true, unrestrictedGuest: true, eptAd: true, pml: true, vpid: true };

export const KVM_INTEL_PARAM_NAMES: readonly KvmIntelParamName[] = ['ept', 'unrestrictedGuest', 'eptAd', 'pml', 'vpid'];

/**
 * models the parameter fix-ups of hardware_setup() (vmx.c): A/D bits and unrestricted guest
 * need EPT; PML needs EPT, A/D bits and a CPU with PML (`cpuHasPml`: in the model, a plugin that
 * provides the PML log).
 */
export function hardwareSetup(p: KvmIntelParams, cpuHasPml: boolean): KvmIntelParams {
  const ept = p.ept;
  const eptAd = p.eptAd && ept;
  return {
    ept,
    eptAd,
    unrestrictedGuest: p.unrestrictedGuest && ept,
    pml: p.pml && ept && eptAd && cpuHasPml,
    vpid: p.vpid,
  };
}

/**
 * The host CPU's VMX capabilities the model assumes (what nested_vmx_setup_ctls_msrs() reads with
 * rdmsr before masking): a Skylake-class part with EPT (4-level, WB and UC, 2M/1G, A/D, INVEPT,
 * execute-only), VPID, PML, unrestricted guest, the preemption timer and VMCS shadowing, but no
 * APIC virtualization (no APICv, no FlexPriority) and no VM functions. CR4_FIXED1 is the value
 * such a part reports (VME…OSXMMEXCPT, VMXE, SMXE, FSGSBASE, PCIDE, OSXSAVE, SMEP, SMAP).
 */
export const MODEL_HOST_CPU = {
  cr0Fixed1: 0xffff_ffffn,
  cr4Fixed1: 0x0037_67ffn,
  /** IA32_VMX_MISC bit 5 (store EFER.LMA into the IA-32e guest control on exit). */
  miscSaveEferLma: true,
  /** IA32_VMX_BASIC bit 54 (INS/OUTS exit information). */
  basicInout: true,
  apicv: false,
  flexpriority: false,
} as const;
