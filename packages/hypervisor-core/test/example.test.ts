import { describe, expect, expectTypeOf, it } from 'vitest';
import { KVM_CAP_EXIT_HYPERCALL, KVM_HC_MAP_GPA_RANGE } from '../src/constants.js';
import { createHypervisor, type Hypervisor } from '../src/hypervisor.js';
import { definePlugin } from '../src/plugin/define-plugin.js';
import type { Plugin, PluginContext } from '../src/plugin/types.js';
import { KVM_EXIT_HYPERCALL_VALID_MASK, mapGpaRange } from '../examples/map-gpa-range.js';

describe('the README example plugin (KVM_HC_MAP_GPA_RANGE)', () => {
  it('is -KVM_ENOSYS until the VMM enables KVM_CAP_EXIT_HYPERCALL, then reaches the VMM', () => {
    const seen: bigint[] = [];
    const hv = createHypervisor({ arch: 'x86_64', plugins: [mapGpaRange((_v, r) => (seen.push(r.npages), 0n))] });
    expect(hv.checkExtension(KVM_CAP_EXIT_HYPERCALL)).toBe(1 << 12);
    const vm = hv.createVm();
    const v = vm.createVcpu(0);
    expect(v.vmcall(KVM_HC_MAP_GPA_RANGE, [0x1000n, 2n])).toBe((1n << 64n) - 1000n);
    vm.enableCap(KVM_CAP_EXIT_HYPERCALL, [KVM_EXIT_HYPERCALL_VALID_MASK]);
    expect(v.vmcall(KVM_HC_MAP_GPA_RANGE, [0x1000n, 2n])).toBe(0n);
    expect(v.vmcall(KVM_HC_MAP_GPA_RANGE, [0x1000n, 0n])).toBe((1n << 64n) - 22n);
    expect(seen).toEqual([2n]);
    expect(() => vm.enableCap(KVM_CAP_EXIT_HYPERCALL, [1n])).toThrowError(/EINVAL/);
  });

  it('refuses arm64', () => {
    expect(() => createHypervisor({ arch: 'arm64', plugins: [mapGpaRange(() => 0n)] })).toThrowError(/WRONG_ARCH/);
  });
});

describe('public API types', () => {
  it('createHypervisor and definePlugin are typed as the design says', () => {
    expectTypeOf(createHypervisor).parameter(0).toHaveProperty('arch').toEqualTypeOf<'arm64' | 'x86_64'>();
    expectTypeOf(createHypervisor).returns.toEqualTypeOf<Hypervisor>();
    const p = definePlugin({ name: 'typed', setup: (ctx) => expectTypeOf(ctx).toEqualTypeOf<PluginContext>() });
    expectTypeOf(p).toMatchTypeOf<Plugin>();
    expectTypeOf<Hypervisor['checkExtension']>().returns.toEqualTypeOf<number>();
    expectTypeOf<ReturnType<Hypervisor['createVm']>['getDirtyLog']>().returns.toEqualTypeOf<Uint8Array>();
  });
});
