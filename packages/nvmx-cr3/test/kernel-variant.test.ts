/** nvmx-cr3 takes its variant from createHypervisor's kernel unless one is given (core's release timeline). */
import { createHypervisor } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { nvmxCr3, NVMX_SERVICE, type NvmxService } from '../src/host/plugin.js';

const variantOn = (kernel: string | undefined, explicit?: 'pre-fix' | 'rfc-muen' | 'merged', backports?: string[]) => {
  const hv = createHypervisor({ arch: 'x86_64', ...(kernel !== undefined ? { kernel } : {}), ...(backports ? { backports } : {}), plugins: [nvmxCr3(explicit !== undefined ? { variant: explicit } : {})] });
  return { variant: hv.decoration<NvmxService>(NVMX_SERVICE)!.config.variant, choice: hv.variantChoices[0]! };
};

describe('nvmx-cr3 on a kernel', () => {
  it.each([['5.3', 'pre-fix'], ['5.3.16', 'merged'], ['5.4', 'pre-fix'], ['5.4.3', 'merged'], ['5.5', 'merged']] as const)('Linux %s runs %s', (kernel, variant) => {
    expect(variantOn(kernel).variant).toBe(variant);
  });

  it('no kernel: merged, as before; an explicit variant wins and is reported', () => {
    expect(variantOn(undefined).variant).toBe('merged');
    expect(variantOn('5.4', 'rfc-muen')).toMatchObject({ variant: 'rfc-muen', choice: { kernelVariant: 'pre-fix', mismatch: true } });
    expect(variantOn('5.4.0-150-generic', undefined, ['04f11ef45810']).variant).toBe('merged');
  });
});
