/**
 * SMCCC, PSCI and KVM firmware-register values. Each is the kernel's; the comment names the
 * header (include/linux/arm-smccc.h, include/uapi/linux/psci.h, include/kvm/arm_psci.h,
 * arch/arm64/include/uapi/asm/kvm.h, include/acpi/actbl.h, arch/arm64/include/asm/acpi.h).
 */

// --- ARM_SMCCC_CALL_VAL fields (include/linux/arm-smccc.h) ---
export const ARM_SMCCC_STD_CALL = 0; // arm-smccc.h
export const ARM_SMCCC_FAST_CALL = 1; // arm-smccc.h
export const ARM_SMCCC_TYPE_SHIFT = 31; // arm-smccc.h
export const ARM_SMCCC_SMC_32 = 0; // arm-smccc.h
export const ARM_SMCCC_SMC_64 = 1; // arm-smccc.h
export const ARM_SMCCC_CALL_CONV_SHIFT = 30; // arm-smccc.h
export const ARM_SMCCC_OWNER_MASK = 0x3f; // arm-smccc.h
export const ARM_SMCCC_OWNER_SHIFT = 24; // arm-smccc.h
export const ARM_SMCCC_FUNC_MASK = 0xffff; // arm-smccc.h
export const ARM_SMCCC_OWNER_ARCH = 0; // arm-smccc.h
export const ARM_SMCCC_OWNER_STANDARD = 4; // arm-smccc.h
export const ARM_SMCCC_OWNER_STANDARD_HYP = 5; // arm-smccc.h
export const ARM_SMCCC_OWNER_VENDOR_HYP = 6; // arm-smccc.h

/** models ARM_SMCCC_CALL_VAL(type, calling_convention, owner, func_num) (include/linux/arm-smccc.h). */
export const armSmcccCallVal = (type: number, cc: number, owner: number, fn: number): number =>
  ((type << ARM_SMCCC_TYPE_SHIFT) |
    (cc << ARM_SMCCC_CALL_CONV_SHIFT) |
    ((owner & ARM_SMCCC_OWNER_MASK) << ARM_SMCCC_OWNER_SHIFT) |
    (fn & ARM_SMCCC_FUNC_MASK)) >>> 0;

export const ARM_SMCCC_VERSION_1_0 = 0x10000; // arm-smccc.h
export const ARM_SMCCC_VERSION_1_1 = 0x10001; // arm-smccc.h
export const ARM_SMCCC_VERSION_1_2 = 0x10002; // arm-smccc.h
export const ARM_SMCCC_VERSION_1_3 = 0x10003; // arm-smccc.h

export const ARM_SMCCC_VERSION_FUNC_ID = 0x80000000; // arm-smccc.h
export const ARM_SMCCC_ARCH_FEATURES_FUNC_ID = 0x80000001; // arm-smccc.h
export const ARM_SMCCC_ARCH_WORKAROUND_1 = 0x80008000; // arm-smccc.h
export const ARM_SMCCC_ARCH_WORKAROUND_2 = 0x80007fff; // arm-smccc.h
export const ARM_SMCCC_ARCH_WORKAROUND_3 = 0x80003fff; // arm-smccc.h
/** ARM_SMCCC_HV_PV_TIME_FEATURES (include/linux/arm-smccc.h). */
export const ARM_SMCCC_HV_PV_TIME_FEATURES = 0xc5000020; // arm-smccc.h

export const ARM_SMCCC_FUNC_QUERY_CALL_UID = 0xff01; // arm-smccc.h
export const ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID = 0x8600ff01; // arm-smccc.h
export const ARM_SMCCC_KVM_FUNC_FEATURES = 0; // arm-smccc.h
export const ARM_SMCCC_KVM_FUNC_PTP = 1; // arm-smccc.h
export const ARM_SMCCC_KVM_FUNC_FEATURES_2 = 127; // arm-smccc.h
export const ARM_SMCCC_KVM_NUM_FUNCS = 128; // arm-smccc.h
export const ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID = 0x86000000; // arm-smccc.h

/** The KVM vendor-hypervisor UID words x0..x3 (ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_0..3, arm-smccc.h). */
export const ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_0 = 0xb66fb428; // arm-smccc.h
export const ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_1 = 0xe911c52e; // arm-smccc.h
export const ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_2 = 0x564bcaa9; // arm-smccc.h
export const ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_3 = 0x743a004d; // arm-smccc.h
/** ARM_SMCCC_VENDOR_HYP_UID_KVM as a UUID string (28b46fb6-2ec5-11e9-a9ca-4b564d003a74). */
export const ARM_SMCCC_VENDOR_HYP_UID_KVM = '28b46fb6-2ec5-11e9-a9ca-4b564d003a74'; // arm-smccc.h

// --- return values (include/linux/arm-smccc.h) ---
export const SMCCC_RET_SUCCESS = 0; // arm-smccc.h
export const SMCCC_RET_NOT_SUPPORTED = -1; // arm-smccc.h
export const SMCCC_RET_NOT_REQUIRED = -2; // arm-smccc.h
export const SMCCC_RET_INVALID_PARAMETER = -3; // arm-smccc.h
/** SMCCC_RET_NOT_SUPPORTED as a 64-bit x0. */
export const SMCCC_RET_NOT_SUPPORTED_U64 = 0xffff_ffff_ffff_ffffn;
/** SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED (include/linux/arm-smccc.h). */
export const SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED = 1; // arm-smccc.h

/** enum arm_smccc_conduit (include/linux/arm-smccc.h). */
export const SMCCC_CONDUIT_NONE = 0; // arm-smccc.h
export const SMCCC_CONDUIT_SMC = 1; // arm-smccc.h
export const SMCCC_CONDUIT_HVC = 2; // arm-smccc.h

// --- PSCI (include/uapi/linux/psci.h) ---
export const PSCI_0_2_FN_BASE = 0x84000000; // psci.h
export const PSCI_0_2_FN_PSCI_VERSION = 0x84000000; // psci.h
export const PSCI_1_0_FN_PSCI_FEATURES = 0x8400000a; // psci.h
export const PSCI_RET_SUCCESS = 0; // psci.h
export const PSCI_RET_NOT_SUPPORTED = -1; // psci.h
export const PSCI_VERSION_MAJOR_SHIFT = 16; // psci.h
export const PSCI_VERSION_MINOR_MASK = 0xffff; // psci.h
/** PSCI_VERSION(major, minor) (include/uapi/linux/psci.h). */
export const psciVersion = (major: number, minor: number): number => ((major << PSCI_VERSION_MAJOR_SHIFT) | minor) >>> 0;

// --- KVM's PSCI versions (include/kvm/arm_psci.h) ---
export const KVM_ARM_PSCI_0_1 = psciVersion(0, 1); // arm_psci.h
export const KVM_ARM_PSCI_0_2 = psciVersion(0, 2); // arm_psci.h
export const KVM_ARM_PSCI_1_0 = psciVersion(1, 0); // arm_psci.h
export const KVM_ARM_PSCI_1_1 = psciVersion(1, 1); // arm_psci.h

// --- firmware pseudo-registers (arch/arm64/include/uapi/asm/kvm.h) ---
export const KVM_REG_ARM64 = 0x6000000000000000n; // include/uapi/linux/kvm.h
export const KVM_REG_SIZE_U64 = 0x0030000000000000n; // include/uapi/linux/kvm.h
export const KVM_REG_ARM_FW = 0x0014n << 16n; // arm64 uapi kvm.h
export const KVM_REG_ARM_FW_FEAT_BMAP = 0x0016n << 16n; // arm64 uapi kvm.h
export const KVM_REG_ARM_PSCI_VERSION = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW | 0n; // arm64 uapi kvm.h
export const KVM_REG_ARM_VENDOR_HYP_BMAP = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW_FEAT_BMAP | 2n; // arm64 uapi kvm.h
export const KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT = 0; // arm64 uapi kvm.h
export const KVM_REG_ARM_VENDOR_HYP_BIT_PTP = 1; // arm64 uapi kvm.h

// --- ACPI FADT arm_boot_flags (include/acpi/actbl.h) ---
export const ACPI_FADT_PSCI_COMPLIANT = 1 << 0; // actbl.h
export const ACPI_FADT_PSCI_USE_HVC = 1 << 1; // actbl.h
