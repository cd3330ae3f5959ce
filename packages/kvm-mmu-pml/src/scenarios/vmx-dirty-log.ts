/**
 * Scenario `vmx-dirty-log`: the kernel selftest on the model. Pre-fix (5.3) fails where the
 * real kernel failed — sync 5, page 0 reported clean and page 2 dirty — because the PML log
 * holds the L2 GPA 0xc0002000; merged (5.4) passes all seven syncs.
 */
import type { ScenarioDef, ScenarioResult } from '@kvmlab/hypervisor-core';
import { GUEST_TEST_MEM, TEST_MEM_PAGES } from '../constants.js';
import type { Variant } from '../host/spte.js';
import { runVmxDirtyLogTest } from './selftest.js';
import { SELFTEST_FILE, TEST_ASSERT_EXIT_STATUS, testAssertionFailure } from './selftest-assert.js';
import { vmxDirtyLogRandomize } from './vmx-dirty-log-randomize.js';

export const SELFTEST_SYNCS = 7;

export const vmxDirtyLogScenario: ScenarioDef = {
  name: 'vmx-dirty-log',
  description: 'selftests/kvm/x86_64/vmx_dirty_log_test.c: dirty logging of L2 writes through aliased EPT12 mappings',
  arches: ['x86_64'],
  variants: ['pre-fix', 'merged'],
  defaultVariant: 'merged',
  package: '@kvmlab/kvm-mmu-pml',
  randomize: vmxDirtyLogRandomize,
  options: {
    enablePml: { type: 'boolean', default: true, description: 'kvm_intel.enable_pml in L0 (off: dirty logging by write protection)' },
    eptAd: { type: 'boolean', default: true, description: 'kvm_intel.ept_ad in L0 (also offers EPT A/D to L1, so EPTP12 bit 6)' },
  },
  run(input): ScenarioResult {
    const variant = input.variant as Variant;
    const r = runVmxDirtyLogTest({
      variant,
      enablePml: input.options.enablePml === true,
      eptAd: input.options.eptAd === true,
      seed: input.seed,
      trace: input.trace === true,
    });
    const passed = r.syncs.filter((s) => s.passed).length;
    const failed = r.syncs.find((s) => !s.passed);
    const ok = failed === undefined && r.done && passed === SELFTEST_SYNCS;
    const summary = ok
      ? `all ${SELFTEST_SYNCS} syncs pass; the test reaches GUEST_DONE`
      : failed !== undefined
        ? `fails at sync ${failed.sync}: "${failed.failure}" (dirty pages reported: {${failed.dirtyPages.join(', ')}})`
        : `stopped after ${r.syncs.length} syncs without GUEST_DONE`;
    return {
      scenario: 'vmx-dirty-log',
      variant,
      arch: 'x86_64',
      seed: input.seed,
      verdict: ok ? 'pass' : failed !== undefined ? 'bug-reproduced' : 'fail',
      summary,
      headline: { label: 'syncs passed', value: `${passed} / ${SELFTEST_SYNCS}` },
      figures: [
        { label: 'syncs passed', value: passed },
        { label: 'failing sync', value: failed?.sync ?? '-' },
        { label: 'EPT-violation exits (48)', value: r.eptViolations },
        { label: 'PML entries logged', value: r.pmlEntriesLogged },
      ],
      series: [
        {
          name: 'selftest-bits',
          title: 'Dirty bits reported at each sync',
          xLabel: 'sync',
          yLabel: 'bit set (1) or clear (0)',
          x: r.syncs.map((s) => s.sync),
          y: {
            'page 0 expected': r.syncs.map((s) => (s.expectDirty ? 1 : 0)),
            'page 0 reported': r.syncs.map((s) => (s.dirtyPages.includes(0) ? 1 : 0)),
            'page 2 reported': r.syncs.map((s) => (s.dirtyPages.includes(2) ? 1 : 0)),
          },
          caption: 'Expected vs reported dirty bits of slot 1 at every GUEST_SYNC; the L2 writes land on L1 page 0 only.',
          kind: 'bar',
        },
      ],
      details: {
        syncs: r.syncs.map((s) => ({
          sync: s.sync,
          where: s.where,
          expected: s.expectDirty ? 'page 0 dirty' : 'page 0 clean',
          reported: `{${s.dirtyPages.join(', ')}}`,
          page0: s.qwords[0],
          result: s.passed ? 'pass' : `FAIL: ${s.failure}`,
          l2Stores: [...s.l2Stores],
          pmlEntries: [...s.pmlEntries],
          spteKinds: [...s.spteKinds],
        })),
        done: r.done,
        // What the real test writes to stderr when its TEST_ASSERT fails (lib/assert.c), and its
        // exit status; nothing and 0 when it passes.
        ...(failed?.assertion !== undefined
          ? {
              output: testAssertionFailure(failed.assertion),
              assertion: { file: SELFTEST_FILE, line: failed.assertion.line, expr: failed.assertion.expr, message: failed.assertion.message },
            }
          : {}),
        exitStatus: ok ? 0 : failed?.assertion !== undefined ? TEST_ASSERT_EXIT_STATUS : 1,
        exits: r.exits,
        // Sync × page of slot 1: the dirty bit the test's checks require and the one
        // KVM_GET_DIRTY_LOG reported (1 set, 0 clear), and the page of the first failed check.
        bits: {
          pageGpas: Array.from({ length: TEST_MEM_PAGES }, (_, p) => `0x${(GUEST_TEST_MEM + BigInt(p) * 4096n).toString(16)}`),
          syncsPlanned: SELFTEST_SYNCS,
          syncs: r.syncs.map((s) => ({
            sync: s.sync,
            expected: s.expectedDirty.map((d) => (d ? 1 : 0)),
            reported: Array.from({ length: TEST_MEM_PAGES }, (_, p) => (s.dirtyPages.includes(p) ? 1 : 0)),
            failedPage: s.failedPage ?? null,
            message: s.failure ?? null,
          })),
        },
      },
      ...(r.trace !== undefined ? { trace: r.trace } : {}),
    };
  },
};
