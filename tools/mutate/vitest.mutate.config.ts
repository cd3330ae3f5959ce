// @ts-nocheck
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The vitest projects whose tests count against mutants (issue 22). Every project config merges
// vitest.shared.ts, which adds tools/mutate/fixed-seed.ts when KVMLAB_MUTATE is set.
export default defineConfig({
  test: {
    projects: ['hypervisor-core', 'psci-conduit', 'ptp-kvm-core', 'nvmx-cr3', 'kvm-mmu-pml'].map(
      (p) => fileURLToPath(new URL(`../../packages/${p}/vitest.config.ts`, import.meta.url)),
    ),
  },
});
