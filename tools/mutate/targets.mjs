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

/** Report and incremental-file name for one target: its path with '/' replaced. */
export const slug = (file) => file.replace(/^packages\//, '').replace(/\.ts$/, '').replaceAll('/', '__');
