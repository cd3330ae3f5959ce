// The files `npm run mutate` mutates (issue 22): every file of hypervisor-core/src/vm,
// psci-conduit/src/host and ptp-kvm-core/src/ptp, and hypervisor-core's nested VM-entry code
// (the VMLAUNCH/VMRESUME path and its consistency checks). Paths are relative to the repo root.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const DIRS = ['packages/hypervisor-core/src/vm', 'packages/psci-conduit/src/host', 'packages/ptp-kvm-core/src/ptp'];
const NESTED_ENTRY = ['packages/hypervisor-core/src/x86/nested/vmenter.ts', 'packages/hypervisor-core/src/x86/nested/checks.ts'];

/** Source files only: no tests, no declaration files, no barrels that only re-export. */
export function targetFiles(root) {
  const inDirs = DIRS.flatMap((d) =>
    readdirSync(join(root, d))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts') && f !== 'index.ts')
      .map((f) => `${d}/${f}`),
  );
  return [...inDirs, ...NESTED_ENTRY].sort();
}

/**
 * Targets that hold only types (interfaces erased at run time): they have no mutants, and no test
 * imports them at run time (see stryker.config.mjs). They are measured to show "no mutants".
 */
export const TYPE_ONLY = new Set(['packages/ptp-kvm-core/src/ptp/clock-info.ts']);

/** Report and incremental-file name for one target: its path with '/' replaced. */
export const slug = (file) => file.replace(/^packages\//, '').replace(/\.ts$/, '').replaceAll('/', '__');

const HC = 'packages/hypervisor-core/test';
const NESTED_ENTRY_TESTS = [`${HC}/nested/vmentry-checks.mutants.test.ts`, `${HC}/nested/vmcs02.mutants.test.ts`, `${HC}/nested/round-trip.test.ts`];

/**
 * `npm run mutate -- --focused`: for each target, the test files written for it (unit tests of
 * that code). Fewer tests can only kill fewer mutants, so a focused score is a lower bound of
 * the full one; it makes a run affordable on a loaded 2-core machine.
 */
export const FOCUSED_TESTS = {
  'packages/hypervisor-core/src/vm/block-pool.ts': [`${HC}/block-pool.test.ts`],
  'packages/hypervisor-core/src/vm/dirty-bitmap.ts': [`${HC}/dirty-bitmap.mutants.test.ts`, `${HC}/dirty-bitmap-range.test.ts`, `${HC}/dirty-log.test.ts`, `${HC}/vm.mutants.test.ts`],
  'packages/ptp-kvm-core/src/ptp/clock-info.ts': ['packages/ptp-kvm-core/test/ptp-clock.mutants.test.ts'],
  'packages/hypervisor-core/src/vm/guest-memory.ts': [`${HC}/guest-memory*.test.ts`, `${HC}/mmu.mutants.test.ts`],
  'packages/hypervisor-core/src/vm/memslots.ts': [`${HC}/memslots*.test.ts`, `${HC}/vm.mutants.test.ts`, `${HC}/dirty-log.test.ts`],
  'packages/hypervisor-core/src/vm/mmu.ts': [`${HC}/mmu.mutants.test.ts`, `${HC}/mmu-l2.mutants.test.ts`, `${HC}/dirty-log.test.ts`, `${HC}/vcpu.test.ts`],
  'packages/hypervisor-core/src/vm/sparse-pages.ts': [`${HC}/guest-memory*.test.ts`, `${HC}/mmu.mutants.test.ts`],
  'packages/hypervisor-core/src/vm/vm.ts': [`${HC}/vm.mutants.test.ts`, `${HC}/vm-args.mutants.test.ts`, `${HC}/dirty-log.test.ts`, `${HC}/memslots.test.ts`, `${HC}/vcpu.test.ts`],
  'packages/hypervisor-core/src/x86/nested/checks.ts': NESTED_ENTRY_TESTS,
  // KVM_SET_NESTED_STATE enters non-root mode too (nested_vmx_enter_non_root_mode(from_vmentry = false)).
  'packages/hypervisor-core/src/x86/nested/vmenter.ts': [...NESTED_ENTRY_TESTS, `${HC}/nested/nested-state.test.ts`, `${HC}/nested/vmenter.mutants.test.ts`],
};
/** Targets without an entry use their own package's tests. */
export const focusedTests = (file) => FOCUSED_TESTS[file] ?? [`${file.split('/src/')[0]}/test/**/*.test.ts`];
