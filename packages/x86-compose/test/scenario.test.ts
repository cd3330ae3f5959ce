/**
 * The scenario as the CLI and the report see it: two variant axes, every cell runnable by name or
 * by per-axis variants, figures measured (they differ where the mechanisms differ), verdicts, and
 * byte-identical JSON for the whole matrix from one seed.
 */
import { resolveScenarioOptions, selectVariants, variantCells } from '@kvmlab/hypervisor-core';
import { describe, expect, it } from 'vitest';
import { MIGRATION_AXES, nestedMuenMigration, scenarios } from '../src/index.js';

const options = resolveScenarioOptions(nestedMuenMigration, {});
const runCell = (variant: string, seed = 1) => nestedMuenMigration.run({ variant, arch: 'x86_64', seed, options });
const fig = (r: ReturnType<typeof runCell>, label: string) => r.figures.find((f) => f.label === label)?.value;

describe('nested-muen-migration', () => {
  it('declares kvm-mmu-pml × nvmx-cr3 and lists every cell, the all-merged one by default', () => {
    expect(nestedMuenMigration.variantAxes).toEqual({ 'kvm-mmu-pml': ['pre-fix', 'merged'], 'nvmx-cr3': ['pre-fix', 'rfc-muen', 'merged'] });
    expect(nestedMuenMigration.variants).toEqual([
      'kvm-mmu-pml=pre-fix,nvmx-cr3=pre-fix', 'kvm-mmu-pml=pre-fix,nvmx-cr3=rfc-muen', 'kvm-mmu-pml=pre-fix,nvmx-cr3=merged',
      'kvm-mmu-pml=merged,nvmx-cr3=pre-fix', 'kvm-mmu-pml=merged,nvmx-cr3=rfc-muen', 'kvm-mmu-pml=merged,nvmx-cr3=merged',
    ]);
    expect(nestedMuenMigration.defaultVariant).toBe('kvm-mmu-pml=merged,nvmx-cr3=merged');
    expect(selectVariants(nestedMuenMigration, 'nvmx-cr3=pre-fix')).toEqual(['kvm-mmu-pml=merged,nvmx-cr3=pre-fix']);
    expect(scenarios).toContain(nestedMuenMigration);
    for (const label of nestedMuenMigration.matrixFigures!) expect(fig(runCell(nestedMuenMigration.defaultVariant), label)).toBeDefined();
  });

  it('runs the cell its variant names, and reports it per axis', () => {
    const r = runCell('kvm-mmu-pml=pre-fix,nvmx-cr3=rfc-muen');
    expect(r.variants).toEqual({ 'kvm-mmu-pml': 'pre-fix', 'nvmx-cr3': 'rfc-muen' });
    expect(r.variant).toBe('kvm-mmu-pml=pre-fix,nvmx-cr3=rfc-muen');
    expect(r.headline.value).toBeGreaterThan(0); // pages lost: the PML axis is pre-fix
    expect(fig(r, 'CR3 corruptions (source)')).toBe(0);
    // the per-axis input wins over the name (the CLI passes both; they agree there)
    const viaAxes = nestedMuenMigration.run({ variant: 'ignored', variants: { 'kvm-mmu-pml': 'merged', 'nvmx-cr3': 'pre-fix' }, arch: 'x86_64', seed: 1, options });
    expect(viaAxes.variant).toBe('kvm-mmu-pml=merged,nvmx-cr3=pre-fix');
    expect(viaAxes.headline.value).toBe(0);
    expect(fig(viaAxes, 'CR3 corruptions (source)')).toBeGreaterThan(0);
  });

  it('verdicts: bug-reproduced in every cell with a pre-fix axis, ok where both are fixed', () => {
    for (const cell of variantCells(MIGRATION_AXES)) {
      const r = runCell(Object.entries(cell).map(([a, v]) => `${a}=${v}`).join(','));
      const fixed = cell['kvm-mmu-pml'] === 'merged' && cell['nvmx-cr3'] !== 'pre-fix';
      expect(r.verdict).toBe(fixed ? 'ok' : 'bug-reproduced');
      expect(r.summary.startsWith('clean migration')).toBe(fixed);
    }
  });

  it('an unknown cell is a RangeError naming it', () => {
    expect(() => runCell('kvm-mmu-pml=rfc')).toThrow(/kvm-mmu-pml has no variant "rfc"/);
  });

  it('the same seed gives byte-identical JSON for the whole matrix; another seed does not', () => {
    const matrix = (seed: number) => JSON.stringify(nestedMuenMigration.variants.map((v) => runCell(v, seed)));
    const a = matrix(7);
    expect(matrix(7)).toBe(a);
    expect(matrix(8)).not.toBe(a);
  });

  it('the options change what is measured: more vCPUs, more subjects whose frames run on the destination', () => {
    const one = nestedMuenMigration.run({ variant: nestedMuenMigration.defaultVariant, arch: 'x86_64', seed: 1, options: resolveScenarioOptions(nestedMuenMigration, { vcpus: 1 }) });
    const three = nestedMuenMigration.run({ variant: nestedMuenMigration.defaultVariant, arch: 'x86_64', seed: 1, options: resolveScenarioOptions(nestedMuenMigration, { vcpus: 3 }) });
    expect((one.details['savedVcpus'] as unknown[]).length).toBe(1);
    expect((three.details['savedVcpus'] as unknown[]).length).toBe(3);
    expect(Number(fig(three, 'pages compared'))).toBeGreaterThan(Number(fig(one, 'pages compared')));
  });
});
