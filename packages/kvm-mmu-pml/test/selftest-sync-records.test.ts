/**
 * What vmx_dirty_log_test's syncs record of the mechanism (for the playground's step-through):
 * the L2 stores, the GPAs PML logged, and the kinds of the SPTEs that map slot 1.
 */
import { describe, expect, it } from 'vitest';
import { runVmxDirtyLogTest } from '../src/scenarios/selftest.js';

describe('vmx_dirty_log_test sync records', () => {
  it('pre-fix: the failing sync 5 follows an L2 store to 0xc0002000 that PML logged as that L2 GPA, through AD_ENABLED shadow SPTEs', () => {
    const r = runVmxDirtyLogTest({ variant: 'pre-fix' });
    const s5 = r.syncs[4]!;
    expect(s5.passed).toBe(false);
    expect(s5.l2Stores).toContain('0xc0002000');
    expect(s5.pmlEntries).toEqual(['0xc0002000']); // an L2 GPA, taken by KVM for an L1 gfn
    expect(s5.spteKinds).toEqual(['shadow-ept 0xc0001→0xc0000: AD_ENABLED', 'shadow-ept 0xc0002→0xc0000: AD_ENABLED']);
    expect(r.syncs[0]!.l2Stores).toEqual([]); // sync 1 is L1's
  });

  it('merged: the same stores, no PML entry (write protection instead), AD_WRPROT_ONLY shadow SPTEs', () => {
    const r = runVmxDirtyLogTest({ variant: 'merged' });
    expect(r.syncs).toHaveLength(7);
    expect(r.syncs[4]!.l2Stores).toContain('0xc0002000');
    expect(r.syncs.flatMap((s) => s.pmlEntries)).toEqual([]);
    expect(r.syncs[4]!.spteKinds).toEqual(['shadow-ept 0xc0001→0xc0000: AD_WRPROT_ONLY', 'shadow-ept 0xc0002→0xc0000: AD_WRPROT_ONLY']);
  });
});
