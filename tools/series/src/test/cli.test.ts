import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli-main.js';
import { SEED, tempDir } from './helpers.js';
import { makeWorkspace } from './workspace-fixture.js';

function io(cwd: string): { out: string[]; err: string[]; io: { out: (s: string) => void; err: (s: string) => void; cwd: string } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s) => out.push(s), err: (s) => err.push(s), cwd } };
}

describe('kvmlab-series command line', () => {
  it.each([
    [[], 'kvmlab-series: missing command (import, check, sync or changelog)', 'Usage: kvmlab-series [options] [command]'],
    [['frobnicate'], "kvmlab-series: unknown command 'frobnicate'", 'Usage: kvmlab-series [options] [command]'],
    [['check', '--frob'], "kvmlab-series: unknown option '--frob'", 'Usage: kvmlab-series check [options]'],
    [['import'], "kvmlab-series: missing required argument 'mbox'", 'Usage: kvmlab-series import [options] <mbox>'],
    [['import', 'a', 'b'], 'kvmlab-series: too many arguments for \'import\'. Expected 1 argument but got 2.', 'Usage: kvmlab-series import [options] <mbox>'],
  ])('usage error %j exits 2 with one line and the usage', async (argv, line, usage) => {
    const c = io(process.cwd());
    expect(await main(argv, c.io)).toBe(2);
    expect(c.err).toEqual([line, usage]);
    expect(c.out).toEqual([]);
  });

  it('import writes one series.json per series, each a valid package metadata file with empty models', async (t) => {
    const dir = tempDir(t);
    const c = io(dir);
    expect(await main(['import', SEED, '--out', 'out'], c.io)).toBe(0);
    const slugs = readdirSync(join(dir, 'out')).sort();
    expect(slugs).toEqual([
      'enable-ptp-kvm-for-arm64-v4',
      'kvm-mmu-fix-nested-guest-live-migration-with-pml-v1',
      'kvm-nvmx-bug-fix-for-consuming-stale-vmcs02-guest-cr3-v1',
      'kvm-vmx-always-sync-cr3-to-vmcs-in-nested-vmx-load-cr3-v1',
    ]);
    const doc = JSON.parse(readFileSync(join(dir, 'out', slugs[0] ?? '', 'series.json'), 'utf8')) as {
      series: { diffstat: { files: number } }[];
      models: object;
    };
    expect(doc.series[0]?.diffstat.files).toBe(13);
    expect(doc.models).toEqual({});
    expect(c.out.at(-1)).toMatch(/^imported 4 series from /);
    expect(c.err).toEqual([expect.stringContaining('announces 6 patch(es)')]);
  });

  it('import of a file that is not an mbox exits 1 with file:1: error', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'notes.txt'), 'hello\n');
    const c = io(dir);
    expect(await main(['import', 'notes.txt', '--out', 'o'], c.io)).toBe(1);
    expect(c.err[0]).toMatch(/^notes\.txt:1: error: not an mbox/);
  });

  it('check --root/--mbox passes on the fixture (exit 0) and fails after drift (exit 1)', async (t) => {
    const w = makeWorkspace(t);
    const ok = io(w.root);
    expect(await main(['check', '--root', w.root, '--mbox', w.mbox], ok.io)).toBe(0);
    expect(ok.out.at(-1)).toBe('check: 0 error(s), 1 warning(s); 6 package(s), 4 series, 11/11 patches modelled');
    const doc = w.meta('nvmx-cr3') as { series: { version: number }[] };
    if (doc.series[0]) doc.series[0].version = 2;
    w.writeMeta('nvmx-cr3', doc);
    const bad = io(w.root);
    expect(await main(['check', '--root', w.root, '--mbox', w.mbox], bad.io)).toBe(1);
    expect(bad.err).toContain('error: packages/nvmx-cr3/series.json: series[0].version is 2, the cover letter says 1');
  });

  it('sync follows a newer posting of the same series (by title) when the stored Message-Id is gone', async (t) => {
    const w = makeWorkspace(t);
    const before = w.meta('ptp-kvm-core') as { series: { messageId: string; version: number }[] };
    const old = { ...before, series: before.series.map((s) => ({ ...s, messageId: '<v3@example.org>', version: 3 })) };
    w.writeMeta('ptp-kvm-core', old);
    const c = io(w.root);
    expect(await main(['sync', '--root', w.root, '--mbox', w.mbox], c.io)).toBe(0);
    expect(c.out).toContain('packages/ptp-kvm-core/series.json: "Enable ptp_kvm for arm64" now follows v4 (<20190926114212.5322-1-jianyong.wu@arm.com>)');
    expect(w.meta('ptp-kvm-core')).toEqual(before);
  });

  it('sync brings a drifted record back and keeps models; changelog writes, then --check passes', async (t) => {
    const w = makeWorkspace(t);
    const before = w.meta('ptp-kvm-x86') as { series: { title: string }[]; models: object };
    const drifted = { ...before, series: before.series.map((s) => ({ ...s, title: 'stale' })) };
    w.writeMeta('ptp-kvm-x86', drifted);
    const c = io(w.root);
    expect(await main(['sync', '--root', w.root, '--mbox', w.mbox], c.io)).toBe(0);
    expect(w.meta('ptp-kvm-x86')).toEqual(before);
    expect(c.out).toContain('packages/ptp-kvm-x86/series.json: updated');
    const stale = io(w.root);
    expect(await main(['changelog', '--root', w.root, '--check'], stale.io)).toBe(1);
    expect(existsSync(join(w.root, 'packages/ptp-kvm-x86/CHANGELOG.md'))).toBe(false);
    expect(await main(['changelog', '--root', w.root], io(w.root).io)).toBe(0);
    const fresh = io(w.root);
    expect(await main(['changelog', '--root', w.root, '--check'], fresh.io)).toBe(0);
    expect(fresh.out).toHaveLength(6);
    expect(readFileSync(join(w.root, 'packages/ptp-kvm-x86/CHANGELOG.md'), 'utf8')).toMatch(/^# @kvmlab\/ptp-kvm-x86\n\n<!-- kvmlab-series:start/);
  });
});
