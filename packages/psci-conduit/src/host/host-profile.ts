/**
 * The arm64 KVM host a psci-conduit plugin answers as: the behaviour that changed between the
 * host the RFC v4 was posted against, the 5.13 merge of ptp_kvm, the 5.19 firmware bitmaps and
 * the 6.4 SMCCC rework. Chosen from the hypervisor's kernel (core's ARM64_HOST_CHANGES), or given.
 */
import { arm64HostHas, atLeastRelease, type HypervisorKernel } from '@kvmlab/hypervisor-core';

/**
 * - 'rfc-v4-base': Will Deacon's kvm/hvc branch on 5.3 that RFC v4 names as its base
 *   (virt/kvm/arm/psci.c kvm_hvc_call_handler(): `u32 val[4]`, CALL_UID, FEATURES = BIT(0));
 * - 'v5.13': ptp_kvm merged (arch/arm64/kvm/hypercalls.c: FEATURES = BIT(0) | BIT(PTP), u64 val[4]);
 * - 'v5.19': KVM_REG_ARM_VENDOR_HYP_BMAP gates UID, FEATURES and PTP (kvm_hvc_call_allowed());
 * - 'v6.4': SMC #0 handled like HVC, the userspace SMCCC filter (kvm_smccc_get_action()).
 */
export type ArmHostProfileName = 'rfc-v4-base' | 'v5.13' | 'v5.19' | 'v6.4';

export interface ArmHostProfile {
  readonly name: ArmHostProfileName;
  /** KVM_FEATURES x0: BIT(0) only, the compiled-in constant, or the VM's vendor_hyp_bmap. */
  readonly features: 'func-feat-only' | 'constant' | 'bitmap';
  /** KVM_REG_ARM_VENDOR_HYP_BMAP exists (and gates the vendor calls). */
  readonly bitmapRegister: boolean;
  /** handle_smc(): every SMC gets x0 = ~0, or SMC #0 goes to the SMCCC handler. */
  readonly smc: 'refuse' | 'imm0-like-hvc';
  /** Width of the values kvm_hvc_call_handler() passes to smccc_set_retval(): u32 val[4] zero-extends -1 to 0xffffffff. */
  readonly returnWidth: 32 | 64;
  /** KVM_ARM_VM_SMCCC_CTRL / KVM_ARM_VM_SMCCC_FILTER. */
  readonly smcccFilter: boolean;
}

export const ARM_HOST_PROFILES: Readonly<Record<ArmHostProfileName, ArmHostProfile>> = {
  // RFC v4 3/5 hunk context (virt/kvm/arm/psci.c of the kvm/hvc base): "u32 val[4] = {};", "val[0] = BIT(ARM_SMCCC_KVM_FUNC_FEATURES);".
  'rfc-v4-base': { name: 'rfc-v4-base', features: 'func-feat-only', bitmapRegister: false, smc: 'refuse', returnWidth: 32, smcccFilter: false },
  // 3bf725699bf6 era hypercalls.c: "val[0] = BIT(ARM_SMCCC_KVM_FUNC_FEATURES); val[0] |= BIT(ARM_SMCCC_KVM_FUNC_PTP);".
  'v5.13': { name: 'v5.13', features: 'constant', bitmapRegister: false, smc: 'refuse', returnWidth: 64, smcccFilter: false },
  // 05714cab7d63, b22216e1a617: the bitmap registers and kvm_hvc_call_allowed().
  'v5.19': { name: 'v5.19', features: 'bitmap', bitmapRegister: true, smc: 'refuse', returnWidth: 64, smcccFilter: false },
  // c2d2e9b3d8ce (SMCs from EL1), 821d935c87bc (userspace SMCCC filtering).
  'v6.4': { name: 'v6.4', features: 'bitmap', bitmapRegister: true, smc: 'imm0-like-hvc', returnWidth: 64, smcccFilter: true },
};

/**
 * The profile for a kernel: before 5.13 the RFC v4 base (the only pre-5.13 host a PTP service
 * ran on; mainline 5.5–5.12, with `long val` and, from 5.10, the UID, is not modelled apart),
 * then each release where the behaviour changed. No kernel version: today's ('v6.4').
 */
export function armHostProfileFor(kernel: HypervisorKernel): ArmHostProfile {
  // Stryker disable next-line ConditionalExpression: arm64HostHas() already answers true for a null version (today's kernel), so without this line the next one returns the same profile; the check stays to narrow kernel.version for atLeastRelease() below.
  if (kernel.version === null) return ARM_HOST_PROFILES['v6.4'];
  if (arm64HostHas(kernel, 'smcFromEl1')) return ARM_HOST_PROFILES['v6.4'];
  if (arm64HostHas(kernel, 'firmwareBitmap')) return ARM_HOST_PROFILES['v5.19'];
  return atLeastRelease(kernel.version, '5.13') ? ARM_HOST_PROFILES['v5.13'] : ARM_HOST_PROFILES['rfc-v4-base'];
}
