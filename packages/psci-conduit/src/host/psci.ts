/**
 * KVM's PSCI/SMCCC firmware answers (arch/arm64/kvm/psci.c, arch/arm64/kvm/hypercalls.c):
 * PSCI_VERSION and PSCI_FEATURES per the VM's PSCI version, SMCCC_VERSION (always 1.1) and
 * SMCCC_ARCH_FEATURES, which answers only the CPU workarounds and PV time — never a vendor id.
 */
import { u32, u64 } from '@kvmlab/hypervisor-core';
import {
  ARM_SMCCC_ARCH_WORKAROUND_1,
  ARM_SMCCC_ARCH_WORKAROUND_2,
  ARM_SMCCC_ARCH_WORKAROUND_3,
  ARM_SMCCC_VERSION_1_1,
  ARM_SMCCC_VERSION_FUNC_ID,
  KVM_ARM_PSCI_0_1,
  KVM_ARM_PSCI_1_0,
  PSCI_0_2_FN_PSCI_VERSION,
  PSCI_1_0_FN_PSCI_FEATURES,
  PSCI_RET_NOT_SUPPORTED,
  PSCI_RET_SUCCESS,
  SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED,
  SMCCC_RET_NOT_SUPPORTED,
  SMCCC_RET_SUCCESS,
} from '../constants.js';

const ret = (v: number | bigint): bigint[] => [u64(BigInt(v)), 0n, 0n, 0n];

/** models kvm_psci_version() + the PSCI_VERSION case of kvm_psci_0_2_call(): 0.1 has no PSCI_VERSION. */
export function psciVersionCall(vmPsciVersion: number): bigint[] {
  return vmPsciVersion === KVM_ARM_PSCI_0_1 ? ret(PSCI_RET_NOT_SUPPORTED) : ret(vmPsciVersion);
}

/**
 * models the PSCI_FEATURES case of kvm_psci_1_x_call() (arch/arm64/kvm/psci.c): only in PSCI
 * ≥ 1.0; the calls KVM implements (reduced here to PSCI_VERSION, PSCI_FEATURES and
 * SMCCC_VERSION, which is what guests probe) answer 0, everything else NOT_SUPPORTED.
 */
export function psciFeaturesCall(vmPsciVersion: number, x1: bigint): bigint[] {
  if (vmPsciVersion < KVM_ARM_PSCI_1_0) return ret(PSCI_RET_NOT_SUPPORTED);
  const feature = Number(u32(x1));
  switch (feature) {
    case PSCI_0_2_FN_PSCI_VERSION:
    case PSCI_1_0_FN_PSCI_FEATURES:
    case ARM_SMCCC_VERSION_FUNC_ID:
      return ret(PSCI_RET_SUCCESS);
    default:
      return ret(PSCI_RET_NOT_SUPPORTED);
  }
}

/** The SMCCC_VERSION case of kvm_smccc_call_handler(): KVM always reports 1.1. */
export function smcccVersionCall(): bigint[] {
  return ret(ARM_SMCCC_VERSION_1_1);
}

/**
 * models the ARCH_FEATURES case of kvm_smccc_call_handler(): the workarounds (answered as on a
 * host whose CPUs need WA1 and WA3 and are unaffected by WA2) and nothing else; PV time is not
 * installed here, and vendor ids are not discovered this way.
 */
export function smcccArchFeaturesCall(x1: bigint): bigint[] {
  switch (Number(u32(x1))) {
    case ARM_SMCCC_ARCH_WORKAROUND_1:
    case ARM_SMCCC_ARCH_WORKAROUND_3:
      return ret(SMCCC_RET_SUCCESS);
    case ARM_SMCCC_ARCH_WORKAROUND_2:
      return ret(SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED);
    default:
      return ret(SMCCC_RET_NOT_SUPPORTED);
  }
}

