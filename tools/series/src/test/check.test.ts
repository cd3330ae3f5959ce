import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWorkspace } from '../check/check.js';
import { makeWorkspace } from './workspace-fixture.js';

type Doc = { series: Record<string, unknown>[]; models: Record<string, unknown> };

describe('kvmlab-series check', () => {
  it("passes on a copy of the repo's metadata with every module present: 4 series, 11 patches all modelled", async (t) => {
    const w = makeWorkspace(t);
    const r = await checkWorkspace({ root: w.root, mboxPath: w.mbox });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([expect.stringContaining('announces 6 patch(es) (0/6)')]);
    expect([r.packagesChecked, r.seriesCount, r.claims.length]).toEqual([6, 4, 11]);
    expect(r.claims.every((c) => c.modules.length > 0)).toBe(true);
    const reorganize = r.claims.find((c) => c.patch.startsWith('ptp: Reorganize'));
    expect([...new Set(reorganize?.modules.map((m) => m.split('/')[0]))]).toEqual(['ptp-kvm-core', 'ptp-kvm-x86']);
  });

  it('fails when a stored diffstat total drifts, naming the field and both values', async (t) => {
    const w = makeWorkspace(t);
    const doc = w.meta('ptp-kvm-arm64') as Doc;
    (doc.series[0]?.['diffstat'] as Record<string, number>)['insertions'] = 260;
    w.writeMeta('ptp-kvm-arm64', doc);
    const r = await checkWorkspace({ root: w.root, mboxPath: w.mbox });
    expect(r.errors).toEqual(['packages/ptp-kvm-arm64/series.json: series[0].diffstat.insertions is 260, the cover letter says 262']);
  });

  it('fails when a stored change-log item or patch title drifts', async (t) => {
    const w = makeWorkspace(t);
    const doc = w.meta('nvmx-cr3') as Doc;
    const patches = doc.series[1]?.['patches'] as { title: string }[];
    if (patches[0]) patches[0].title = 'KVM: nVMX: something else';
    w.writeMeta('nvmx-cr3', doc);
    const r = await checkWorkspace({ root: w.root, mboxPath: w.mbox });
    expect(r.errors).toContain(
      'packages/nvmx-cr3/series.json: series[1].patches[0].title is "KVM: nVMX: something else", the cover letter says "KVM: nVMX: Always write vmcs02.GUEST_CR3 during nested VM-Enter"',
    );
  });

  it('fails when a patch is claimed by no module, and when a models title matches no patch (with a hint)', async (t) => {
    const w = makeWorkspace(t);
    const doc = w.meta('kvm-mmu-pml') as Doc;
    const title = 'KVM: x86: assign two bits to track SPTE kinds';
    doc.models[`${title}.`] = doc.models[title];
    delete doc.models[title];
    w.writeMeta('kvm-mmu-pml', doc);
    const r = await checkWorkspace({ root: w.root, mboxPath: w.mbox });
    expect(r.errors).toEqual([
      `packages/kvm-mmu-pml/series.json: models names a patch that is not in this package's series: "${title}." (did you mean "${title}"?)`,
      `patch "${title}" of "KVM: MMU: fix nested guest live migration with PML" is modelled by no existing package module`,
    ]);
  });

  it('reports a module file that does not exist, clearly', async (t) => {
    const w = makeWorkspace(t);
    const doc = w.meta('psci-conduit') as Doc;
    const [title] = Object.keys(doc.models);
    if (title === undefined) throw new Error('psci-conduit models nothing');
    doc.models[title] = 'src/not-written-yet.ts';
    w.writeMeta('psci-conduit', doc);
    const r = await checkWorkspace({ root: w.root, mboxPath: w.mbox });
    expect(r.errors).toContain(`packages/psci-conduit/series.json: missing file packages/psci-conduit/src/not-written-yet.ts (models ${JSON.stringify(title)})`);
  });

  it('fails when a module claims a kernel file the series does not touch', async (t) => {
    const w = makeWorkspace(t);
    const doc = w.meta('ptp-kvm-x86') as Doc;
    const [title] = Object.keys(doc.models);
    if (title === undefined) throw new Error('ptp-kvm-x86 models nothing');
    doc.models[title] = { file: 'src/index.ts', kernel: ['arch/x86/kvm/x86.c'] };
    writeFileSync(join(w.root, 'packages/ptp-kvm-x86/src/index.ts'), '');
    w.writeMeta('ptp-kvm-x86', doc);
    const r = await checkWorkspace({ root: w.root, mboxPath: w.mbox });
    expect(r.errors).toEqual([
      'packages/ptp-kvm-x86/series.json: src/index.ts claims kernel file arch/x86/kvm/x86.c, which the diffstat of "Enable ptp_kvm for arm64" does not name',
    ]);
  });

  it('fails when a feature package has no series.json, and when a series is then claimed by no package', async (t) => {
    const w = makeWorkspace(t);
    rmSync(join(w.root, 'packages/kvm-mmu-pml/series.json'));
    const r = await checkWorkspace({ root: w.root, mboxPath: w.mbox });
    expect(r.errors).toEqual([
      'packages/kvm-mmu-pml/series.json: missing (every feature package names the series it models)',
      'series "[PATCH 0/3] KVM: MMU: fix nested guest live migration with PML" (seed.mbox:254) is claimed by no package',
    ]);
  });

  it('names a series.json that points at a posting the mbox does not hold, hinting at sync for a newer version', async (t) => {
    const w = makeWorkspace(t);
    const doc = w.meta('ptp-kvm-core') as Doc;
    if (doc.series[0]) doc.series[0]['messageId'] = '<20190917112430.45680-1-jianyong.wu@arm.com>';
    w.writeMeta('ptp-kvm-core', doc);
    const r = await checkWorkspace({ root: w.root, mboxPath: w.mbox });
    expect(r.errors[0]).toBe(
      'packages/ptp-kvm-core/series.json: series[0] <20190917112430.45680-1-jianyong.wu@arm.com> is not a cover letter in seed.mbox (the mbox has v4 of "Enable ptp_kvm for arm64": run `kvmlab-series sync`)',
    );
  });

  it('reports invalid JSON and a malformed models map without crashing', async (t) => {
    const w = makeWorkspace(t);
    writeFileSync(join(w.root, 'packages/nvmx-cr3/series.json'), '{ "series": [');
    const doc = w.meta('kvm-mmu-pml') as Doc;
    doc.models['KVM: x86: assign two bits to track SPTE kinds'] = 42;
    w.writeMeta('kvm-mmu-pml', doc);
    const r = await checkWorkspace({ root: w.root, mboxPath: w.mbox });
    expect(r.errors).toContainEqual(expect.stringMatching(/^packages\/nvmx-cr3\/series\.json: not valid JSON: /));
    expect(r.errors).toContain(
      'packages/kvm-mmu-pml/series.json: models["KVM: x86: assign two bits to track SPTE kinds"] must be a file path or {"file": path, "kernel": [paths]}',
    );
  });

  it('turns errors in the mbox into check errors with file:line', async (t) => {
    const w = makeWorkspace(t);
    writeFileSync(w.mbox, 'not a mailbox\n');
    const r = await checkWorkspace({ root: w.root, mboxPath: w.mbox });
    expect(r.errors[0]).toMatch(/^seed\.mbox:1: not an mbox/);
    expect(r.seriesCount).toBe(0);
  });
});
