/**
 * The plugins' host services (what a VMM calls beside the ioctls of core) given junk arguments
 * (issue 22): each call returns, or throws a typed error (KvmError, CompositionError,
 * SimulationError) and leaves the hypervisor as it was. Never a TypeError or RangeError.
 */
import { describe, expect } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { CompositionError, createHypervisor, KvmError, SimulationError, type Hypervisor } from '@kvmlab/hypervisor-core';
import { psciConduit, VENDOR_HYP_REGISTRY, type PsciConduitHost } from '@kvmlab/psci-conduit';
import { ptpKvmArm64 } from '@kvmlab/ptp-kvm-arm64';
import { ptpKvmX86, ptpKvmX86Host } from '@kvmlab/ptp-kvm-x86';
import { hypervisorState } from './state.js';

const SOAK = process.env.KVMLAB_SOAK ? 100 : 1;
const junk = fc.oneof(
  fc.constantFrom<unknown>(undefined, null, Number.NaN, -1, 1.5, 2 ** 53, 'abc', '', {}, [], [1n], 1n << 64n, -1n, true),
  fc.bigInt({ min: -(1n << 64n), max: 1n << 65n }), fc.integer(), fc.array(fc.record({ index: fc.integer(), data: fc.bigInt() }), { maxLength: 3 }),
  fc.record({ clock: fc.oneof(fc.bigInt(), fc.integer()), flags: fc.oneof(fc.integer(), fc.constant(undefined)), realtime: fc.bigInt() }),
);

function typedOrReturns(hv: Hypervisor, call: () => unknown): void {
  const before = hypervisorState(hv);
  try {
    call();
  } catch (e) {
    const typed = e instanceof KvmError || e instanceof CompositionError || e instanceof SimulationError;
    expect(typed, `raw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`).toBe(true);
    expect(hypervisorState(hv)).toBe(before);
  }
}

describe('host services with junk arguments', () => {
  fcTest.prop([fc.constantFrom('setTscKhz', 'getTscKhz', 'setMsrs', 'getMsrs', 'setClock', 'getClock', 'kvmclockCtrl', 'requestClockUpdate'), junk], { numRuns: 300 * SOAK })(
    'ptp-kvm-x86: every host call returns or fails typed, state unchanged on failure',
    (method, arg) => {
      const hv = createHypervisor({ arch: 'x86_64', plugins: [ptpKvmX86()] });
      const vm = hv.createVm();
      const vcpu = vm.createVcpu(0);
      const host = ptpKvmX86Host(hv) as unknown as Record<string, (...a: unknown[]) => unknown>;
      const target = ['setClock', 'getClock'].includes(method) ? vm : vcpu;
      typedOrReturns(hv, () => host[method]!.call(host, target, arg));
    },
  );
  fcTest.prop([junk, junk], { numRuns: 200 * SOAK })(
    'psci-conduit: setVmAttr returns or fails typed, state unchanged on failure',
    (group, attr) => {
      const hv = createHypervisor({ arch: 'arm64', kernel: '6.8', plugins: [psciConduit(), ptpKvmArm64()] });
      const vm = hv.createVm();
      vm.createVcpu(0);
      const host = hv.decoration<PsciConduitHost>(VENDOR_HYP_REGISTRY)!;
      typedOrReturns(hv, () => host.setVmAttr(vm, { group, attr, filter: attr } as never));
    },
  );
});
