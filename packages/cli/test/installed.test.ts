/**
 * Hosting what is installed (host/installed.ts): a feature package that is not there is noted
 * with what it would add, not an error; the metadata the CLI keeps about each package (its
 * scenarios and plugins) matches what the package really exports.
 */
import { describe, expect, it } from 'vitest';
import { ScenarioCatalog } from '../src/catalog.js';
import { FEATURE_PACKAGES, type FeaturePackage } from '../src/host/feature-packages.js';
import { loadInstalled, missingNote } from '../src/host/installed.js';
import { runCli } from '../src/program.js';
import { PKG_DIR } from './helpers.js';

/** A stand-in for a package that is not installed: what Node throws for a missing package. */
const absent = (p: FeaturePackage): FeaturePackage => ({
  ...p,
  load: () => Promise.reject(Object.assign(new Error(`Cannot find package '${p.package}' imported from /x/dist/host/feature-packages.js`), { code: 'ERR_MODULE_NOT_FOUND' })),
});

describe('feature package metadata', () => {
  it('each package\'s listed scenarios and plugins are what it exports', async () => {
    for (const p of FEATURE_PACKAGES) {
      const loaded = await p.load();
      expect([...new Set(loaded.scenarios.map((s) => s.name))].sort(), p.package).toEqual([...p.scenarios].sort());
      expect(loaded.plugins.map((f) => f.name), p.package).toEqual(p.plugins);
      for (const f of loaded.plugins) expect(f.create().name).toBe(f.name);
    }
  });
});

describe('only what is installed', () => {
  const onlyArm = FEATURE_PACKAGES.map((p) => (['@kvmlab/psci-conduit', '@kvmlab/ptp-kvm-core', '@kvmlab/ptp-kvm-arm64'].includes(p.package) ? p : absent(p)));

  it('loadInstalled: the arm64 packages only; the rest noted as not installed', async () => {
    const inst = await loadInstalled({ cwd: PKG_DIR, useConfig: false, packages: onlyArm });
    expect(inst.packages).toEqual(['@kvmlab/psci-conduit', '@kvmlab/ptp-kvm-core', '@kvmlab/ptp-kvm-arm64']);
    expect(inst.scenarios.map((s) => `${s.name}/${s.arches.join()}`)).toEqual(['ptp-sync/arm64']);
    expect(inst.plugins.map((p) => p.name)).toEqual(['psci-conduit', 'ptp-kvm-arm64']);
    expect(inst.missing.every((m) => m.error === undefined)).toBe(true);
    expect(missingNote(inst)).toMatch(/^Not installed: @kvmlab\/ptp-kvm-x86 \(scenario ptp-sync, plugin ptp-kvm-x86\), @kvmlab\/kvm-mmu-pml \(scenario vmx-dirty-log, scenario nested-migration, plugin kvm-mmu-pml\)/);
  });

  it('a package that is installed but fails to load is reported with its error, not as missing', async () => {
    const broken = FEATURE_PACKAGES.map((p) => (p.package === '@kvmlab/nvmx-cr3' ? { ...p, load: () => Promise.reject(new Error('SyntaxError in dist')) } : p));
    const inst = await loadInstalled({ cwd: PKG_DIR, useConfig: false, packages: broken });
    expect(missingNote(inst)).toBe('@kvmlab/nvmx-cr3 is installed but did not load: SyntaxError in dist');
  });

  it('the CLI over that install: list says what to add, run names the package a scenario needs, caps refuses a missing plugin', async () => {
    const installed = await loadInstalled({ cwd: PKG_DIR, useConfig: false, packages: onlyArm });
    const call = async (args: string[]): Promise<{ status: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const status = await runCli(args, { installed, catalog: new ScenarioCatalog(installed.scenarios), io: { out: (s) => void (out += s), err: (s) => void (err += s), cwd: PKG_DIR } });
      return { status, out, err };
    };
    const list = await call(['list']);
    expect(list.status).toBe(0);
    expect(list.out).toMatch(/^ptp-sync — /);
    expect(list.out).not.toMatch(/nvmx-hlt-cr3 —/);
    expect(list.out).toMatch(/Not installed: @kvmlab\/ptp-kvm-x86/);
    const run = await call(['run', 'nvmx-hlt-cr3']);
    expect(run.status).toBe(2);
    expect(run.err).toMatch(/^kvmlab: scenario nvmx-hlt-cr3 is not installed: it comes with @kvmlab\/nvmx-cr3\n/);
    const x86 = await call(['run', 'ptp-sync', '--arch', 'x86_64']);
    expect(x86.status).toBe(2);
    expect(x86.err).toMatch(/does not run on arch "x86_64" \(it runs on arm64\); @kvmlab\/ptp-kvm-x86 would add it/);
    const caps = await call(['caps', '--arch', 'x86_64', '--plugins', 'nvmx-cr3']);
    expect(caps.status).toBe(2);
    expect(caps.err).toMatch(/^kvmlab: plugin "nvmx-cr3" is not installed: it comes with @kvmlab\/nvmx-cr3\n/);
    const conform = await call(['conform']);
    expect(conform.status).toBe(2);
    expect(conform.err).toMatch(/^kvmlab: conform needs @kvmlab\/linux-kvm and @kvmlab\/ptp-kvm-x86, which are not installed/);
  });
});
