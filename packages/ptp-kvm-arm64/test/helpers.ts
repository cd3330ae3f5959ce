import { isKvmError } from '@kvmlab/hypervisor-core';
import { createHypervisor, type HostOptions, type Latency } from '@kvmlab/hypervisor-core';
import { psciConduit, psciDtInit } from '@kvmlab/psci-conduit';
import { ptpKvmArm64, type PtpKvmArm64Variant } from '../src/index.js';

export const ALL_ONES = 0xffff_ffff_ffff_ffffn;

export interface MkOptions {
  readonly variant?: PtpKvmArm64Variant;
  readonly ptp?: boolean;
  readonly host?: HostOptions;
  readonly latency?: { readonly entry: Latency; readonly exit: Latency };
}

export function mk(o: MkOptions = {}) {
  const plugins = [psciConduit(o.latency ? { latency: o.latency } : {})];
  if (o.ptp ?? true) plugins.push(ptpKvmArm64({ variant: o.variant ?? 'merged' }));
  const hv = createHypervisor({ arch: 'arm64', seed: 3, plugins, host: o.host });
  const vm = hv.createVm();
  const vcpu = vm.createVcpu(0);
  return { hv, vm, vcpu };
}

export const bootGuest = (vcpu: ReturnType<typeof mk>['vcpu']) => psciDtInit(vcpu, [{ compatible: ['arm,psci-1.0'], method: 'hvc' }]);

/** Spec case 4's host: realtime 1700000000123456789 ns, counter 0x123456789AB, voffset 0x10000000. */
export const CASE4_HOST: HostOptions = { realtimeStartNs: 1_700_000_000_123_456_789n, counterStart: 0x123_4567_89abn };

/** The errno a call fails with ('ok' if it returns, the error's text for anything not a KvmError). */
export const errno = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isKvmError(e) ? e.errno : String(e);
  }
};
