/**
 * ptpKvmArm64(): the PTP vendor service (feature bit 1, function 0x86000001) registered into
 * psci-conduit's vendor-hyp registry, and KVM_CAP_PTP_KVM ("kvm: arm64: Add capability check
 * extension for ptp_kvm"), answered 1 on /dev/kvm and on every VM fd.
 */
import { checkPluginOptions, definePlugin, type Plugin } from '@kvmlab/hypervisor-core';
import { PSCI_CONDUIT_PLUGIN, VENDOR_HYP_REGISTRY, type VendorHypRegistry } from '@kvmlab/psci-conduit';
import {
  ARM_SMCCC_KVM_FUNC_PTP,
  ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID,
  KVM_CAP_PTP_KVM,
  type PtpKvmArm64Variant,
} from '../constants.js';
import { kvmPtpGetTime } from './ptp-service.js';

export const PTP_KVM_ARM64_PLUGIN = 'ptp-kvm-arm64';

export interface PtpKvmArm64Options {
  readonly variant?: PtpKvmArm64Variant;
}

export function ptpKvmArm64(opts: PtpKvmArm64Options = {}): Plugin {
  checkPluginOptions(PTP_KVM_ARM64_PLUGIN, opts, { variant: { oneOf: ['merged', 'rfc-v4'] } });
  const explicit = opts.variant;
  if (explicit !== undefined && explicit !== 'merged' && explicit !== 'rfc-v4') throw new RangeError(`unknown ptp-kvm-arm64 variant "${String(explicit)}"`);
  return definePlugin({
    name: PTP_KVM_ARM64_PLUGIN,
    arch: 'arm64',
    requires: [PSCI_CONDUIT_PLUGIN],
    setup(ctx) {
      // The kernel's variant when createHypervisor was given a kernel (5.13+ runs 'merged'; older: none).
      const variant = ctx.chooseVariant(explicit, 'merged') as PtpKvmArm64Variant;
      const registry = ctx.dependency<VendorHypRegistry>(VENDOR_HYP_REGISTRY);
      registry.register(ctx.plugin, {
        bit: ARM_SMCCC_KVM_FUNC_PTP,
        functionId: ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID,
        name: 'ptp',
        handler: (vcpu, x) => kvmPtpGetTime(ctx.host, vcpu, x, variant),
      });
      // models the KVM_CAP_PTP_KVM case of kvm_vm_ioctl_check_extension() (arch/arm64/kvm/arm.c).
      ctx.capability(KVM_CAP_PTP_KVM, { check: () => 1 });
    },
  });
}
