/**
 * Vendor hypervisor service discovery (drivers/firmware/smccc/kvm_guest.c and smccc.c): compare
 * the CALL_UID reply with the KVM UUID, then read the KVM_FEATURES words into a 128-bit map.
 */
import { u32 } from '@kvmlab/hypervisor-core';
import {
  ARM_SMCCC_KVM_NUM_FUNCS,
  ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID,
  ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID,
  ARM_SMCCC_VENDOR_HYP_UID_KVM,
  ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_0,
  ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_1,
  ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_2,
  ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_3,
  SMCCC_RET_NOT_SUPPORTED_U64,
} from '../constants.js';
import type { GuestFirmware } from './firmware.js';

/** The guest's __kvm_arm_hyp_services bitmap. */
export interface HypServices {
  /** 128-bit map: bit k of word i is service 32·i + k. */
  readonly bitmap: bigint;
  /** models kvm_arm_hyp_service_available(): false for id ≥ 128. */
  available(id: number): boolean;
}

const NUM = BigInt(ARM_SMCCC_KVM_NUM_FUNCS);

export function hypServicesFrom(bitmap: bigint): HypServices {
  return {
    bitmap,
    available: (id) => Number.isInteger(id) && id >= 0 && BigInt(id) < NUM && ((bitmap >> BigInt(id)) & 1n) === 1n,
  };
}

/** The UUID as 16 bytes (uuid_t order). */
function uuidBytes(uuid: string): number[] {
  const hex = uuid.replace(/-/g, '');
  return Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

/**
 * models arm_smccc_hypervisor_has_uuid() (drivers/firmware/smccc/smccc.c): CALL_UID; -1 in a0
 * means no; else the bytes of (u32)a0..a3, little-endian, must equal the UUID's 16 bytes.
 * `hvcOnly` is the function as 6.16 released it (13423063c7cb: "if (arm_smccc_1_1_get_conduit()
 * != SMCCC_CONDUIT_HVC) return false;" then arm_smccc_1_1_hvc()); without it, the later
 * "firmware: smccc: support both conduits for getting hyp UUID" (posted 2025-05-21), which calls
 * arm_smccc_1_1_invoke() and so also works over SMC.
 */
export function smcccHypervisorHasUuid(fw: GuestFirmware, uuid: string = ARM_SMCCC_VENDOR_HYP_UID_KVM, opts: { readonly hvcOnly?: boolean } = {}): boolean {
  if (opts.hvcOnly === true && fw.smccc11GetConduit() !== 'hvc') return false;
  const r = fw.smccc11Invoke([BigInt(ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID)]);
  if (r[0] === SMCCC_RET_NOT_SUPPORTED_U64) return false;
  const want = uuidBytes(uuid);
  for (let i = 0; i < 16; i++) {
    const byte = Number((u32(r[i >> 2]!) >> BigInt(8 * (i & 3))) & 0xffn);
    if (byte !== want[i]) return false;
  }
  return true;
}

/**
 * The UID check of kvm_init_hyp_services() before v6.16 (v5.13–v6.15,
 * drivers/firmware/smccc/kvm_guest.c): only on the HVC conduit, and a0..a3 compared with the
 * four REG words.
 */
export function kvmHypUidMatchesV513(fw: GuestFirmware): boolean {
  if (fw.smccc11GetConduit() !== 'hvc') return false;
  const r = fw.smccc11Invoke([BigInt(ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID)]);
  const want = [ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_0, ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_1, ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_2, ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_3];
  return want.every((w, i) => r[i] === BigInt(w));
}

/**
 * Which kernel's hypervisor-service discovery the guest runs: 'v5.13' (to 6.15: HVC only, words
 * compared), 'v6.16' (as released: arm_smccc_hypervisor_has_uuid(), still HVC only, bytes
 * compared), 'both-conduits' (the later smccc.c change: any conduit; the default, today's code).
 */
export type HypDiscoveryKernel = 'v5.13' | 'v6.16' | 'both-conduits';

/**
 * models kvm_init_hyp_services() (drivers/firmware/smccc/kvm_guest.c). The KVM_FEATURES reply
 * is not checked for -1: a denied call leaves 0xFFFFFFFF in the low word, which reads as
 * "services 0–31 available" (spec case 20).
 */
export function kvmInitHypServices(fw: GuestFirmware | undefined, log: string[], kernel: HypDiscoveryKernel = 'both-conduits'): HypServices {
  if (fw === undefined) return hypServicesFrom(0n);
  const isKvm = kernel === 'v5.13' ? kvmHypUidMatchesV513(fw) : smcccHypervisorHasUuid(fw, ARM_SMCCC_VENDOR_HYP_UID_KVM, { hvcOnly: kernel === 'v6.16' });
  if (!isKvm) return hypServicesFrom(0n);
  const r = fw.smccc11Invoke([BigInt(ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID)]);
  const w = r.map(u32);
  const bitmap = w[0]! | (w[1]! << 32n) | (w[2]! << 64n) | (w[3]! << 96n);
  const h = (v: bigint): string => `0x${v.toString(16).padStart(8, '0')}`;
  log.push(`smccc: KVM: hypervisor services detected (${h(w[3]!)} ${h(w[2]!)} ${h(w[1]!)} ${h(w[0]!)})`);
  return hypServicesFrom(bitmap);
}
