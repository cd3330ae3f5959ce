import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The vitest projects whose tests count against mutants (issue 22). Every project config merges
// vitest.shared.ts, which adds tools/mutate/fixed-seed.mjs when KVMLAB_MUTATE is set.
// KVMLAB_MUTATE_PROJECTS (set by `npm run mutate -- --own-tests`) narrows them to the mutated
// file's own package: fewer tests can only kill fewer mutants, so that score is a lower bound.
const ALL = ['hypervisor-core', 'psci-conduit', 'ptp-kvm-core', 'nvmx-cr3', 'kvm-mmu-pml'];
const chosen = process.env.KVMLAB_MUTATE_PROJECTS?.split(',').filter((p) => ALL.includes(p));

export default defineConfig({
  test: {
    projects: (chosen !== undefined && chosen.length > 0 ? chosen : ALL).map(
      (p) => fileURLToPath(new URL(`../../packages/${p}/vitest.config.ts`, import.meta.url)),
    ),
  },
});
