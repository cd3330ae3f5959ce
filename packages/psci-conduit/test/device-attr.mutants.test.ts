// KVM_SET_DEVICE_ATTR on an arm64 VM fd (kvm_vm_set_attr(), 6.4, e0fc6b21616d) with the SMCCC
// filter (kvm_smccc_set_filter(), arch/arm64/kvm/hypercalls.c) at its edges, and the steal-time
// part of the latency option (issue 22, mutation testing). struct kvm_device_attr is
// { __u32 flags, group; __u64 attr, addr }, struct kvm_smccc_filter { __u32 base, nr_functions;
// __u8 action, pad[15] }: a field out of its C type is EINVAL naming it, no struct is EFAULT.
import { createHypervisor, isKvmError } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { KVM_ARM_VM_SMCCC_CTRL, KVM_ARM_VM_SMCCC_FILTER, psciConduit, VENDOR_HYP_REGISTRY, type PsciConduitHost, type PsciConduitOptions } from '../src/index.js';
import { fakePtp } from './helpers.js';

function mk(opts: PsciConduitOptions = {}, kernel?: string) {
  const hv = createHypervisor({ arch: 'arm64', seed: 1, ...(kernel !== undefined ? { kernel } : {}), plugins: [psciConduit(opts), fakePtp()] });
  const vm = hv.createVm();
  return { hv, vm, vcpu: vm.createVcpu(0), host: hv.decoration<PsciConduitHost>(VENDOR_HYP_REGISTRY)! };
}

/** `errno argument: message` of the KvmError `f` throws, 'ok' if it returns. */
const refusal = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isKvmError(e) ? `${e.errno} ${e.argument}: ${e.message}` : `not a KvmError: ${String(e)}`;
  }
};

const FILTER = { group: KVM_ARM_VM_SMCCC_CTRL, attr: KVM_ARM_VM_SMCCC_FILTER };
const PSCI_BASE = 0x8400_0000;

describe('KVM_SET_DEVICE_ATTR (KVM_ARM_VM_SMCCC_CTRL / KVM_ARM_VM_SMCCC_FILTER)', () => {
  it('each field out of its C type is refused naming the argument and the field', () => {
    const { host, vm } = mk();
    const good = { base: PSCI_BASE, nrFunctions: 1, action: 1 };
    const cases: [unknown, string, string][] = [
      [null, 'EFAULT attr', 'struct kvm_device_attr'],
      [{ ...FILTER, group: -1 }, 'EINVAL group', 'kvm_device_attr.group'],
      [{ ...FILTER, attr: 1n << 64n }, 'EINVAL attr', 'kvm_device_attr.attr'],
      [{ ...FILTER, attr: -1 }, 'EINVAL attr', 'kvm_device_attr.attr'],
      [{ ...FILTER, attr: 0.5 }, 'EINVAL attr', 'kvm_device_attr.attr'],
      [{ ...FILTER, filter: null }, 'EFAULT addr', 'struct kvm_smccc_filter'],
      [{ ...FILTER, filter: { ...good, base: -1 } }, 'EINVAL base', 'kvm_smccc_filter.base'],
      [{ ...FILTER, filter: { ...good, nrFunctions: 2 ** 32 } }, 'EINVAL nrFunctions', 'kvm_smccc_filter.nr_functions'],
      [{ ...FILTER, filter: { ...good, action: 0x100 } }, 'EINVAL action', 'kvm_smccc_filter.action'],
      [{ ...FILTER, filter: { ...good, pad: 'zeros' } }, 'EINVAL pad', 'kvm_smccc_filter.pad'],
      [{ ...FILTER, filter: { ...good, pad: new Array(16).fill(0) } }, 'EINVAL pad', 'pad is not 15 bytes'],
      [{ ...FILTER, filter: { ...good, pad: [0x100] } }, 'EINVAL pad', 'pad'],
      [{ ...FILTER, filter: { ...good, pad: [-1] } }, 'EINVAL pad', 'pad'],
      [{ ...FILTER, filter: { ...good, pad: [0.5] } }, 'EINVAL pad', 'pad'],
      [{ ...FILTER, filter: { ...good, pad: ['0'] } }, 'EINVAL pad', 'pad'],
      [{ group: KVM_ARM_VM_SMCCC_CTRL, attr: 7 }, 'ENXIO attr', `no VM attribute ${KVM_ARM_VM_SMCCC_CTRL}/7`],
      [{ group: 9, attr: KVM_ARM_VM_SMCCC_FILTER }, 'ENXIO attr', `no VM attribute 9/${KVM_ARM_VM_SMCCC_FILTER}`],
      [{ ...FILTER }, 'EFAULT addr', 'no struct kvm_smccc_filter at addr'],
    ];
    for (const [attr, errno, text] of cases) {
      const r = refusal(() => host.setVmAttr(vm, attr as never));
      expect(r.startsWith(`${errno}: `), `${JSON.stringify(attr, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))} → ${r}`).toBe(true);
      expect(r).toContain(text);
    }
  });

  it('a zero pad of up to 15 bytes, or none, is taken; the filter then denies its range', () => {
    for (const pad of [undefined, [], new Array(15).fill(0), [0]]) {
      const { host, vm, vcpu } = mk();
      expect(refusal(() => host.setVmAttr(vm, { ...FILTER, filter: { base: PSCI_BASE, nrFunctions: 1, action: 1, ...(pad !== undefined ? { pad } : {}) } })), `pad ${JSON.stringify(pad)}`).toBe('ok');
      expect(vcpu.hvc([BigInt(PSCI_BASE)])[0]).toBe((1n << 64n) - 1n); // PSCI_VERSION denied: NOT_SUPPORTED
    }
  });

  it('before 6.4 an arm64 VM fd has no device attributes: EINVAL naming the ioctl, once the struct is well formed', () => {
    const { host, vm } = mk({}, '6.3');
    expect(refusal(() => host.setVmAttr(vm, { ...FILTER, filter: { base: PSCI_BASE, nrFunctions: 1, action: 1 } }))).toContain('EINVAL ioctl: ');
    expect(refusal(() => host.setVmAttr(vm, { ...FILTER, filter: { base: PSCI_BASE, nrFunctions: 1, action: 1 } }))).toContain('added in 6.4');
    expect(refusal(() => host.setVmAttr(vm, { ...FILTER, group: -1 }))).toContain('EINVAL group');
  });
});

describe('latency: steal time after a trapped call', () => {
  const fixed = (ns: number) => ({ kind: 'fixed' as const, ns });
  it('with probability 1 every call also takes the steal duration; with 0 never, and no random draw is spent', () => {
    const always = mk({ latency: { entry: fixed(700), exit: fixed(300), steal: { probability: 1, duration: fixed(5000) } } });
    let t0 = always.hv.sim.now;
    always.vcpu.hvc([0x8000_0000n]);
    expect(always.hv.sim.now - t0).toBe(6000n);
    const never = mk({ latency: { entry: fixed(700), exit: fixed(300), steal: { probability: 0, duration: fixed(5000) } } });
    const plain = mk({ latency: { entry: fixed(700), exit: fixed(300) } });
    t0 = never.hv.sim.now;
    never.vcpu.hvc([0x8000_0000n]);
    plain.vcpu.hvc([0x8000_0000n]);
    expect(never.hv.sim.now - t0).toBe(1000n);
    expect(never.hv.sim.rng.next()).toBe(plain.hv.sim.rng.next()); // the same random stream: nothing drawn for probability 0
  });

  it('with a probability between, a call is stolen exactly when the draw falls below it', () => {
    const p = 0.5;
    const a = mk({ latency: { entry: fixed(0), exit: fixed(0), steal: { probability: p, duration: fixed(1000) } } });
    const ref = mk({ latency: { entry: fixed(0), exit: fixed(0) } }); // same seed: the draws a's calls will see
    let stolen = 0;
    for (let i = 0; i < 40; i++) {
      const t0 = a.hv.sim.now;
      a.vcpu.hvc([0x8000_0000n]);
      const expectSteal = ref.hv.sim.rng.next() < p;
      expect(a.hv.sim.now - t0, `call ${i}`).toBe(expectSteal ? 1000n : 0n);
      if (expectSteal) stolen++;
    }
    expect(stolen).toBeGreaterThan(0);
    expect(stolen).toBeLessThan(40);
  });
});
