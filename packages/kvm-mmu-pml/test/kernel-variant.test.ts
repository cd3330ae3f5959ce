/** kvm-mmu-pml takes its variant from createHypervisor's kernel unless one is given (core's release timeline). */
import { createHypervisor } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { kvmMmuOf, kvmMmuPml } from '../src/host/plugin.js';

const variantOn = (kernel: string | undefined, explicit?: 'pre-fix' | 'merged') => {
  const hv = createHypervisor({ arch: 'x86_64', ...(kernel !== undefined ? { kernel } : {}), plugins: [kvmMmuPml(explicit !== undefined ? { variant: explicit } : {})] });
  return { variant: kvmMmuOf(hv.createVm()).cfg.variant, choice: hv.variantChoices[0]! };
};

describe('kvm-mmu-pml on a kernel', () => {
  it.each([['5.3', 'pre-fix'], ['5.3.18', 'pre-fix'], ['5.4', 'merged'], ['6.18', 'merged']] as const)('Linux %s runs %s', (kernel, variant) => {
    expect(variantOn(kernel).variant).toBe(variant);
  });

  it('no kernel: merged; an explicit pre-fix on 5.4 is a reported mismatch; a bad explicit variant fails at once', () => {
    expect(variantOn(undefined).variant).toBe('merged');
    expect(variantOn('5.4', 'pre-fix')).toMatchObject({ variant: 'pre-fix', choice: { kernelVariant: 'merged', explicit: true, mismatch: true } });
    expect(() => kvmMmuPml({ variant: 'rfc' as never })).toThrow(/unknown variant "rfc"/);
  });
});
