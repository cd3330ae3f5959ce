import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CoverLetter } from '../cover/cover-letter.js';
import { readSeries, type SeriesFile } from '../read-series.js';
import { SEED } from './helpers.js';

let file: SeriesFile;
const byTitle = (prefix: string): CoverLetter => {
  const c = file.covers.find((x) => x.title.startsWith(prefix));
  if (c === undefined) throw new Error(`no series ${prefix}`);
  return c;
};

beforeAll(async () => {
  file = await readSeries(readFileSync(SEED, 'utf8'));
});

describe('the seed (kvm-patchwork-2019-09-26.txt)', () => {
  it('holds exactly four cover letters, in file order, and no patch mails', () => {
    expect(file.covers.map((c) => c.title)).toEqual([
      'Enable ptp_kvm for arm64',
      'KVM: VMX: Always sync CR3 to VMCS in nested_vmx_load_cr3',
      'KVM: MMU: fix nested guest live migration with PML',
      'KVM: nVMX: Bug fix for consuming stale vmcs02.GUEST_CR3',
    ]);
    expect(file.patches).toEqual([]);
  });

  it('gives each series its tags, version, n/m, author, date and Message-Id', () => {
    const rows = file.covers.map((c) => [c.tags.join(' '), c.version, c.index, c.total, c.author.name, c.author.address, c.date, c.messageId]);
    expect(rows).toEqual([
      ['RFC PATCH', 4, 0, 6, 'Jianyong Wu', 'jianyong.wu@arm.com', '2019-09-26T11:42:07.000Z', '<20190926114212.5322-1-jianyong.wu@arm.com>'],
      ['RFC PATCH', 1, 0, 1, 'Reto Buerki', 'reet@codelabs.ch', '2019-09-26T14:05:40.000Z', '<20190926140541.15453-1-reet@codelabs.ch>'],
      ['PATCH', 1, 0, 3, 'Paolo Bonzini', 'pbonzini@redhat.com', '2019-09-26T17:18:23.000Z', '<1569518306-46567-1-git-send-email-pbonzini@redhat.com>'],
      ['PATCH', 1, 0, 2, 'Sean Christopherson', 'sean.j.christopherson@intel.com', '2019-09-26T21:43:00.000Z', '<20190926214302.21990-1-sean.j.christopherson@intel.com>'],
    ]);
    expect(file.covers.map((c) => c.rfc)).toEqual([true, true, false, false]);
    expect(file.covers.map((c) => c.patchworkId)).toEqual([11162615, 11162821, 11163049, 11163383]);
    expect(byTitle('Enable').dateHeader).toBe('Thu, 26 Sep 2019 19:42:07 +0800');
  });

  it('lists the patches of each series with their authors', () => {
    expect(file.covers.map((c) => c.patches.length)).toEqual([5, 1, 3, 2]);
    expect(byTitle('Enable').patches.map((p) => p.title)).toEqual([
      'psci: Export psci_ops.conduit symbol as modules will use it.',
      'ptp: Reorganize ptp_kvm modules to make it arch-independent.',
      'psci: Add hvc call service for ptp_kvm.',
      'ptp: arm64: Enable ptp_kvm for arm64',
      'kvm: arm64: Add capability check extension for ptp_kvm',
    ]);
    expect(new Set(byTitle('Enable').patches.map((p) => p.author))).toEqual(new Set(['Jianyong Wu']));
    expect(byTitle('KVM: nVMX').patches).toEqual([
      { author: 'Sean Christopherson', title: 'KVM: nVMX: Always write vmcs02.GUEST_CR3 during nested VM-Enter' },
      { author: 'Sean Christopherson', title: 'KVM: VMX: Skip GUEST_CR3 VMREAD+VMWRITE if the VMCS is up-to-date' },
    ]);
  });

  it('reads the diffstat totals: ptp 13 files +262 -61, Muen 1 +2 -0, PML 9 +424 -21, nVMX 2 +18 -5', () => {
    expect(file.covers.map((c) => [c.diffstat?.files, c.diffstat?.insertions, c.diffstat?.deletions])).toEqual([
      [13, 262, 61],
      [1, 2, 0],
      [9, 424, 21],
      [2, 18, 5],
    ]);
    for (const c of file.covers) {
      const sum = c.diffstat?.entries.reduce((s, e) => s + e.changes, 0);
      expect(sum).toBe((c.diffstat?.insertions ?? 0) + (c.diffstat?.deletions ?? 0));
    }
  });

  it('reads renames and created files from the diffstat summary', () => {
    const d = byTitle('Enable').diffstat;
    expect(d?.renames).toEqual([{ from: 'drivers/ptp/ptp_kvm.c', to: 'drivers/ptp/kvm_ptp.c', similarity: 63 }]);
    expect(d?.created).toEqual(['drivers/ptp/ptp_kvm_arm64.c', 'drivers/ptp/ptp_kvm_x86.c', 'include/asm-generic/ptp_kvm.h']);
    expect(byTitle('KVM: MMU').diffstat?.created).toEqual(['tools/testing/selftests/kvm/x86_64/vmx_dirty_log_test.c']);
    expect(byTitle('KVM: MMU').diffstat?.entries[3]).toEqual({
      path: '.../selftests/kvm/include/x86_64/processor.h',
      changes: 3,
      binary: false,
    });
  });

  it('reads the ptp change log v1 → v2 → v3 → v4, joining items that wrap onto unindented lines', () => {
    const h = byTitle('Enable').history;
    expect(h.map((s) => [s.from, s.to, s.items.length])).toEqual([
      [3, 4, 7],
      [2, 3, 2],
      [1, 2, 5],
    ]);
    expect(h[0]?.items[3]).toBe(
      'use ktime_get_snapshot instead of getnstimeofday and get_current_counterval to return time and counter value.',
    );
    expect(h[2]?.items[0]).toBe('move arch-specific code from arch/ to driver/ptp/');
    for (const c of file.covers.slice(1)) expect(c.history).toEqual([]);
  });

  it('unfolds the folded Subject of the Muen RFC', () => {
    expect(byTitle('KVM: VMX').subject).toBe('[RFC PATCH 0/1] KVM: VMX: Always sync CR3 to VMCS in nested_vmx_load_cr3');
  });

  it('decodes the RFC 2047 UTF-8 name in the nVMX series recipients', () => {
    const c = byTitle('KVM: nVMX');
    expect(c.to).toContainEqual({ name: 'Radim Krčmář', address: 'rkrcmar@redhat.com' });
    expect(c.cc.map((m) => m.address)).toContain('reet@codelabs.ch');
    expect(c.cc).toHaveLength(8);
  });

  it('keeps the body and reports only that ptp announces 0/6 but lists 5 patches', () => {
    expect(byTitle('KVM: VMX').body).toContain('ERROR CR3 of subject 1 changed: 16#0000000010ff9000# exit 16#0034#');
    expect(byTitle('KVM: nVMX').body.trimEnd().endsWith('2 files changed, 18 insertions(+), 5 deletions(-)')).toBe(true);
    expect(file.diagnostics).toEqual([
      {
        severity: 'warning',
        line: 49,
        message: `"Enable ptp_kvm for arm64": the subject announces 6 patch(es) (0/6) but the cover letter's shortlog lists 5`,
      },
    ]);
  });
});
