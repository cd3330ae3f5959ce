import { format } from 'prettier';
import { describe, expect, it } from 'vitest';
import { BLOCK_END, BLOCK_START, renderSeriesHistory } from '../changelog/series-history.js';
import { upsertSeriesHistory } from '../changelog/update-changelog.js';
import type { PackageSeriesMeta } from '../metadata/package-meta.js';
import { parsePackageMeta } from '../metadata/package-meta.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { changelogCommand } from '../commands/changelog-command.js';
import { makeWorkspace } from './workspace-fixture.js';

function metaOf(doc: unknown): PackageSeriesMeta {
  const p = parsePackageMeta(doc);
  if (!p.ok) throw new Error(p.errors.join('; '));
  return p.meta;
}

// What `changeset version` (@changesets/apply-release-plan 2.31, prependFile) does to an
// existing CHANGELOG.md that starts with a "# name" title: the new release goes right
// after the first line.
function changesetVersion(file: string, release: string): string {
  const i = file.indexOf('\n');
  return file.slice(0, i) + `\n\n${release.trim()}\n` + file.slice(i + 1);
}

const RELEASE_020 = '## 0.2.0\n\n### Minor Changes\n\n- 31e4912: the PTP service\n';
const RELEASE_030 = '## 0.3.0\n\n### Minor Changes\n\n- abc1234: the crosststamp\n';

describe('series history in CHANGELOG.md', () => {
  it('ptp-kvm-arm64: v1 → v2 → v3 → v4 items, oldest step first, and the patches it models', (t) => {
    const w = makeWorkspace(t);
    const block = renderSeriesHistory(metaOf(w.meta('ptp-kvm-arm64')));
    expect(block).toContain('Versions: v1 → v2 → v3 → v4.');
    const steps = ['#### v1 → v2', '#### v2 → v3', '#### v3 → v4', '#### Patches in v4'].map((h) => block.indexOf(h));
    expect(steps.every((p, i) => p > 0 && (i === 0 || p > (steps[i - 1] ?? 0)))).toBe(true);
    expect(block).toContain('- split ktime and counter into two 32-bit block respectively to avoid Y2038-safe issue.');
    expect(block).toMatch(/- kvm: arm64: Add capability check extension for ptp_kvm \(Jianyong Wu\): modelled by `src\/[^`]+`/);
    expect(block).toContain('- psci: Export psci_ops.conduit symbol as modules will use it. (Jianyong Wu): not modelled in this package');
    expect(block.startsWith(BLOCK_START) && block.trimEnd().endsWith(BLOCK_END)).toBe(true);
  });

  it('a patch another package models sends the reader there', (t) => {
    const w = makeWorkspace(t);
    expect(changelogCommand(w.root, false, { out: () => undefined, err: () => undefined, cwd: w.root })).toBe(0);
    const text = readFileSync(join(w.root, 'packages/ptp-kvm-arm64/CHANGELOG.md'), 'utf8');
    expect(text).toContain('- psci: Export psci_ops.conduit symbol as modules will use it. (Jianyong Wu): modelled in `@kvmlab/psci-conduit`');
    expect(text).toMatch(/- psci: Add hvc call service for ptp_kvm\. \(Jianyong Wu\): modelled by `src\/host\/ptp-service\.ts`/);
  });

  it('nvmx-cr3 tells both series, each a first posting', (t) => {
    const block = renderSeriesHistory(metaOf(makeWorkspace(t).meta('nvmx-cr3')));
    expect(block.match(/is the first posting/g)).toHaveLength(2);
    expect(block).toContain('### \\[RFC PATCH 0/1\\] KVM: VMX: Always sync CR3 to VMCS in nested_vmx_load_cr3');
  });

  it('a missing CHANGELOG.md is created with the package title', () => {
    expect(upsertSeriesHistory(undefined, 'BLOCK\n', '@kvmlab/x')).toBe('# @kvmlab/x\n\nBLOCK\n');
  });

  it('after `changeset version` puts a release above the block, a refresh moves the block back on top and keeps the releases byte for byte', (t) => {
    const block = renderSeriesHistory(metaOf(makeWorkspace(t).meta('kvm-mmu-pml')));
    const v1 = upsertSeriesHistory(`# @kvmlab/kvm-mmu-pml\n\n${RELEASE_020}`, block, '@kvmlab/kvm-mmu-pml');
    expect(v1).toBe(`# @kvmlab/kvm-mmu-pml\n\n${block}\n${RELEASE_020}`);
    const bumped = changesetVersion(v1, RELEASE_030);
    expect(bumped.indexOf('## 0.3.0')).toBeLessThan(bumped.indexOf('## Series history'));
    const refreshed = upsertSeriesHistory(bumped, block, '@kvmlab/kvm-mmu-pml');
    expect(refreshed).toBe(`# @kvmlab/kvm-mmu-pml\n\n${block}\n${RELEASE_030}\n${RELEASE_020}`);
    expect(upsertSeriesHistory(refreshed, block, '@kvmlab/kvm-mmu-pml')).toBe(refreshed);
  });

  it('a changed series.json replaces the old block instead of adding a second one', () => {
    const once = upsertSeriesHistory('# p\n', `${BLOCK_START}\nold\n${BLOCK_END}\n`, 'p');
    const twice = upsertSeriesHistory(once, `${BLOCK_START}\nnew\n${BLOCK_END}\n`, 'p');
    expect(twice).toBe(`# p\n\n${BLOCK_START}\nnew\n${BLOCK_END}\n`);
  });

  it('every package block is already prettier-formatted (changesets formats CHANGELOG.md with prettier)', async (t) => {
    const w = makeWorkspace(t);
    for (const pkg of ['psci-conduit', 'ptp-kvm-core', 'ptp-kvm-arm64', 'ptp-kvm-x86', 'kvm-mmu-pml', 'nvmx-cr3']) {
      const text = upsertSeriesHistory(undefined, renderSeriesHistory(metaOf(w.meta(pkg))), `@kvmlab/${pkg}`);
      expect(await format(text, { parser: 'markdown' })).toBe(text);
    }
  });
});
