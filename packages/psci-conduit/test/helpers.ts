import { isKvmError } from '@kvmlab/hypervisor-core';
import { createHypervisor, definePlugin, type Plugin } from '@kvmlab/hypervisor-core';
import { psciConduit, VENDOR_HYP_REGISTRY, type PsciConduitOptions, type VendorHypRegistry } from '../src/index.js';

/** A stand-in vendor service on bit 1 / 0x86000001 that answers x0 = 0x1234. */
export const fakePtp = (): Plugin =>
  definePlugin({
    name: 'fake-ptp',
    arch: 'arm64',
    requires: ['psci-conduit'],
    setup(ctx) {
      ctx.dependency<VendorHypRegistry>(VENDOR_HYP_REGISTRY).register(ctx.plugin, {
        bit: 1,
        functionId: 0x86000001,
        name: 'ptp',
        handler: () => [0x1234n, 0n, 0n, 0n],
      });
    },
  });

export function mk(opts: PsciConduitOptions = {}, extra: readonly Plugin[] = [fakePtp()]) {
  const hv = createHypervisor({ arch: 'arm64', seed: 1, plugins: [psciConduit(opts), ...extra] });
  const vm = hv.createVm();
  const vcpu = vm.createVcpu(0);
  return { hv, vm, vcpu };
}

export const ALL_ONES = 0xffff_ffff_ffff_ffffn;

/** The errno a call fails with ('ok' if it returns, the error's text for anything not a KvmError). */
export const errno = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isKvmError(e) ? e.errno : String(e);
  }
};
