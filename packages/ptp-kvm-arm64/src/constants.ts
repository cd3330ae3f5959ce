/** ptp_kvm on arm64: ABI values (include/linux/arm-smccc.h, include/uapi/linux/kvm.h). */
import { ARM_SMCCC_FAST_CALL, ARM_SMCCC_KVM_FUNC_PTP, ARM_SMCCC_OWNER_VENDOR_HYP, ARM_SMCCC_SMC_32, armSmcccCallVal } from '@kvmlab/psci-conduit';

export { ARM_SMCCC_KVM_FUNC_PTP, KVM_REG_ARM_VENDOR_HYP_BIT_PTP } from '@kvmlab/psci-conduit';

/** ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID = CALL_VAL(FAST, SMC_32, VENDOR_HYP, KVM_FUNC_PTP) = 0x86000001 (arm-smccc.h). */
export const ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID = armSmcccCallVal(
  ARM_SMCCC_FAST_CALL,
  ARM_SMCCC_SMC_32,
  ARM_SMCCC_OWNER_VENDOR_HYP,
  ARM_SMCCC_KVM_FUNC_PTP,
); // arm-smccc.h

export const KVM_PTP_VIRT_COUNTER = 0; // include/linux/arm-smccc.h
export const KVM_PTP_PHYS_COUNTER = 1; // include/linux/arm-smccc.h

/** KVM_CAP_PTP_KVM (include/uapi/linux/kvm.h); the v17 posting proposed 193. */
export const KVM_CAP_PTP_KVM = 198; // include/uapi/linux/kvm.h

/** Which version of the series the plugin and the guest driver follow. */
export type PtpKvmArm64Variant = 'merged' | 'rfc-v4';
export const PTP_KVM_ARM64_VARIANTS: readonly PtpKvmArm64Variant[] = ['rfc-v4', 'merged'];
