// Where things are in the kvmlab monorepo: the repo root, the feature packages, the seed.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The packages that model a series (DESIGN.md, "Layout"); each must carry a series.json.
 * hypervisor-core, linux-kvm and cli model no patch of the seed.
 */
export const FEATURE_PACKAGES: readonly string[] = [
  'psci-conduit',
  'ptp-kvm-core',
  'ptp-kvm-arm64',
  'ptp-kvm-x86',
  'kvm-mmu-pml',
  'nvmx-cr3',
];

/** The seed, relative to the repo root. */
export const DEFAULT_MBOX = '../shared/seeds/kvm-patchwork-2019-09-26.txt';

export const SERIES_FILE = 'series.json';

/** Walks up from `start` to the folder whose package.json declares workspaces. */
export function findRepoRoot(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        const parsed: unknown = JSON.parse(readFileSync(pj, 'utf8'));
        if (typeof parsed === 'object' && parsed !== null && 'workspaces' in parsed) return dir;
      } catch {
        // not a usable package.json; keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Package folder names under <root>/packages, sorted. */
export function listPackages(root: string): string[] {
  const dir = join(root, 'packages');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'package.json')))
    .map((d) => d.name)
    .sort();
}
