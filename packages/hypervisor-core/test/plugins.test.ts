import { describe, expect, it } from 'vitest';
import { KVM_CAP_EXIT_HYPERCALL, KVM_CAP_NR_MEMSLOTS, KVM_CAP_USER_MEMORY } from '../src/constants.js';
import { CompositionError, KvmError } from '../src/errors.js';
import { createHypervisor } from '../src/hypervisor.js';
import { definePlugin } from '../src/plugin/define-plugin.js';
import type { CompositionErrorCode } from '../src/errors.js';
import type { Plugin } from '../src/plugin/types.js';

const noop = (name: string, extra: Partial<Plugin> = {}): Plugin => definePlugin({ name, setup: () => {}, ...extra });

function compositionError(f: () => unknown): { code: CompositionErrorCode; plugin: string } | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CompositionError) return { code: e.code, plugin: e.plugin };
    throw e;
  }
  return undefined;
}

describe('plugin composition', () => {
  it('sets plugins up after the ones they require, otherwise in the order given', () => {
    const order: string[] = [];
    const p = (name: string, requires: string[] = []) => definePlugin({ name, requires, setup: () => void order.push(name) });
    const hv = createHypervisor({ arch: 'x86_64', plugins: [p('c', ['b']), p('a'), p('b', ['a']), p('d')] });
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect(hv.plugins).toEqual(['a', 'b', 'c', 'd']);
  });

  it('names the culprit: missing requirement, wrong arch, duplicate plugin, cycle', () => {
    expect(compositionError(() => createHypervisor({ arch: 'arm64', plugins: [noop('ptp', { requires: ['psci'] })] })))
      .toEqual({ code: 'MISSING_REQUIREMENT', plugin: 'ptp' });
    expect(compositionError(() => createHypervisor({ arch: 'arm64', plugins: [noop('x86-only', { arch: 'x86_64' })] })))
      .toEqual({ code: 'WRONG_ARCH', plugin: 'x86-only' });
    expect(compositionError(() => createHypervisor({ arch: 'arm64', plugins: [noop('a'), noop('a')] })))
      .toEqual({ code: 'DUPLICATE_PLUGIN', plugin: 'a' });
    const cyc = compositionError(() =>
      createHypervisor({ arch: 'arm64', plugins: [noop('a', { requires: ['b'] }), noop('b', { requires: ['c'] }), noop('c', { requires: ['a'] })] }),
    );
    expect(cyc?.code).toBe('DEPENDENCY_CYCLE');
  });

  it('a capability, hypercall or SMCCC function registered twice is an error naming the second plugin', () => {
    const cap = (name: string) => definePlugin({ name, setup: (ctx) => ctx.capability(KVM_CAP_EXIT_HYPERCALL, { check: () => 1 }) });
    expect(compositionError(() => createHypervisor({ arch: 'x86_64', plugins: [cap('one'), cap('two')] })))
      .toEqual({ code: 'DUPLICATE_CAPABILITY', plugin: 'two' });
    const coreCap = definePlugin({ name: 'greedy', setup: (ctx) => ctx.capability(KVM_CAP_USER_MEMORY, { check: () => 2 }) });
    expect(compositionError(() => createHypervisor({ arch: 'x86_64', plugins: [coreCap] })))
      .toEqual({ code: 'DUPLICATE_CAPABILITY', plugin: 'greedy' });
    const hc = (name: string) => definePlugin({ name, setup: (ctx) => ctx.hypercall(9, () => 0n) });
    expect(compositionError(() => createHypervisor({ arch: 'x86_64', plugins: [hc('h1'), hc('h2')] })))
      .toEqual({ code: 'DUPLICATE_HYPERCALL', plugin: 'h2' });
    const fid = (name: string) => definePlugin({ name, setup: (ctx) => ctx.smccc(0x86000001, () => [0n]) });
    expect(compositionError(() => createHypervisor({ arch: 'arm64', plugins: [fid('f1'), fid('f2')] })))
      .toEqual({ code: 'DUPLICATE_HYPERCALL', plugin: 'f2' });
  });

  it('an arch-specific extension point used on the other arch is a WRONG_ARCH error', () => {
    const p = definePlugin({ name: 'smccc-on-x86', setup: (ctx) => ctx.smccc(0x80000000, () => [0n]) });
    expect(compositionError(() => createHypervisor({ arch: 'x86_64', plugins: [p] })))
      .toEqual({ code: 'WRONG_ARCH', plugin: 'smccc-on-x86' });
  });

  it('definePlugin rejects malformed plugins where they are written', () => {
    expect(() => definePlugin({ name: 'Bad Name', setup: () => {} })).toThrow(CompositionError);
    expect(() => definePlugin({ name: 'self', requires: ['self'], setup: () => {} })).toThrow(CompositionError);
  });

  it('decorations reach only plugins that require their owner', () => {
    const provider = definePlugin({ name: 'registry', setup: (ctx) => ctx.decorate('services', new Map([['ptp', 1]])) });
    let seen: Map<string, number> | undefined;
    const consumer = definePlugin({ name: 'user', requires: ['registry'], setup: (ctx) => (seen = ctx.dependency('services')) });
    createHypervisor({ arch: 'arm64', plugins: [consumer, provider] });
    expect(seen?.get('ptp')).toBe(1);
    const sneaky = definePlugin({ name: 'sneaky', setup: (ctx) => void ctx.dependency('services') });
    expect(compositionError(() => createHypervisor({ arch: 'arm64', plugins: [provider, sneaky] })))
      .toEqual({ code: 'MISSING_REQUIREMENT', plugin: 'sneaky' });
  });
});

describe('capabilities', () => {
  it('answer for the core and for installed plugins only; unknown is 0', () => {
    const plain = createHypervisor({ arch: 'x86_64' });
    expect(plain.checkExtension(KVM_CAP_USER_MEMORY)).toBe(1);
    expect(plain.checkExtension(KVM_CAP_NR_MEMSLOTS)).toBe(509);
    expect(plain.checkExtension(KVM_CAP_EXIT_HYPERCALL)).toBe(0);
    expect(plain.checkExtension(123456)).toBe(0);
    const withCap = createHypervisor({
      arch: 'x86_64',
      plugins: [definePlugin({ name: 'c', setup: (ctx) => ctx.capability(KVM_CAP_EXIT_HYPERCALL, { check: (vm) => (vm ? 2 : 1) }) })],
    });
    expect(withCap.checkExtension(KVM_CAP_EXIT_HYPERCALL)).toBe(1);
    expect(withCap.createVm().checkExtension(KVM_CAP_EXIT_HYPERCALL)).toBe(2);
  });

  it('enabling an unknown, unsupported or non-enableable cap is EINVAL', () => {
    const hv = createHypervisor({
      arch: 'x86_64',
      plugins: [definePlugin({ name: 'c', setup: (ctx) => ctx.capability(KVM_CAP_EXIT_HYPERCALL, { check: () => 1 }) })],
    });
    const vm = hv.createVm();
    for (const cap of [99999, KVM_CAP_USER_MEMORY, KVM_CAP_EXIT_HYPERCALL]) {
      expect(() => vm.enableCap(cap, [1])).toThrowError(KvmError);
    }
  });

  it('per-VM memslot limit follows the VM option (later kernels: 32764)', () => {
    const vm = createHypervisor({ arch: 'x86_64' }).createVm({ maxUserSlots: 32764 });
    expect(vm.checkExtension(KVM_CAP_NR_MEMSLOTS)).toBe(32764);
    vm.setUserMemoryRegion({ slot: 30000, flags: 0, guestPhysAddr: 0n, memorySize: 4096n });
  });
});
