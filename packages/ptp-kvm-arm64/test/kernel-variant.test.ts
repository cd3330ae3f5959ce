/** ptp-kvm-arm64 exists from Linux 5.13 (core's release timeline): an older kernel has no PTP service unless a variant is given to try it. */
import { CompositionError, createHypervisor } from '@kvmlab/hypervisor-core';
import { KVM_CAP_PTP_KVM } from '../src/index.js';
import { psciConduit } from '@kvmlab/psci-conduit';
import { describe, expect, it } from 'vitest';
import { ptpKvmArm64 } from '../src/host/plugin.js';

const build = (kernel: string, variant?: 'merged' | 'rfc-v4') =>
  createHypervisor({ arch: 'arm64', kernel, plugins: [psciConduit(), ptpKvmArm64(variant !== undefined ? { variant } : {})] });

describe('ptp-kvm-arm64 on a kernel', () => {
  it('5.13 has it (merged); KVM_CAP_PTP_KVM answers 1', () => {
    const hv = build('5.13');
    expect(hv.variantChoices.find((c) => c.series === 'ptp-kvm-arm64')).toMatchObject({ variant: 'merged', explicit: false });
    expect(hv.checkExtension(KVM_CAP_PTP_KVM)).toBe(1);
  });

  it('5.12 has not: KERNEL_LACKS_FEATURE naming the release; the RFC can still be tried on it, explicitly', () => {
    expect(() => build('5.12')).toThrow(CompositionError);
    expect(() => build('5.12')).toThrow(/Linux 5\.12 has no ptp-kvm-arm64 \(added in 5\.13\)/);
    const rfc = build('5.4', 'rfc-v4');
    expect(rfc.variantChoices.find((c) => c.series === 'ptp-kvm-arm64')).toMatchObject({ variant: 'rfc-v4', kernelVariant: undefined, explicit: true });
  });
});
