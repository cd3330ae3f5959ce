// @kvmlab/psci-conduit: "psci: Export psci_ops.conduit" and "psci: Add hvc call service for
// ptp_kvm" — KVM's SMCCC/PSCI handler and vendor-hyp service registry (host), and the guest's
// PSCI conduit discovery, SMCCC invoke and hypervisor-service discovery.
import type { ScenarioDef } from '@kvmlab/hypervisor-core';

export * from './constants.js';
// host (KVM)
export {
  psciConduit,
  PSCI_CONDUIT_PLUGIN,
  ARM_SMCCC_VENDOR_HYP_UID_KVM_6_16_RC,
  type PsciConduitHost,
  type PsciConduitOptions,
} from './host/plugin.js';
export { ARM_HOST_PROFILES, armHostProfileFor, type ArmHostProfile, type ArmHostProfileName } from './host/host-profile.js';
export * from './host/smccc-filter.js';
export { VENDOR_HYP_REGISTRY, uuidToWords, type VendorHypRegistry, type VendorHypService } from './host/vendor-hyp.js';
export { psciFeaturesCall, psciVersionCall, smcccArchFeaturesCall, smcccVersionCall } from './host/psci.js';
// guest (Linux)
export { GuestFirmware, type GuestConduit, type GuestFirmwareStats } from './guest/firmware.js';
export { psciAcpiInit, psciDtInit, type DtPsciNode, type GuestPsci, type GuestPsciOptions } from './guest/psci-init.js';
export { hypServicesFrom, kvmHypUidMatchesV513, kvmInitHypServices, smcccHypervisorHasUuid, type HypDiscoveryKernel, type HypServices } from './guest/hyp-services.js';

/** Scenarios this package provides (the CLI registers every one). */
export const scenarios: readonly ScenarioDef[] = [];
