/**
 * The release timeline: per release, the capability answers and KVM_ENABLE_CAP checks that
 * differ, the limits, and the variant each series' plugin runs — chosen by the kernel, or given
 * explicitly and then reported as a mismatch; a feature the kernel lacks is a composition error.
 */
import { describe, expect, it } from 'vitest';
import { KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KVM_CAP_MAX_VCPU_ID, KVM_CAP_NR_MEMSLOTS, KVM_MEM_LOG_DIRTY_PAGES } from '../src/constants.js';
import { CompositionError } from '../src/errors.js';
import { createHypervisor } from '../src/hypervisor.js';
import { changeVerdict, KERNEL_RELEASES, MODELLED_CHANGES, releaseOf } from '../src/kernel-releases.js';
import { parseKernelVersion } from '../src/kernel-version.js';
import { definePlugin } from '../src/plugin/define-plugin.js';
import { errnoOf } from './helpers.js';

/** A stand-in for a series' plugin: it asks the kernel for its variant the way the real ones do. */
const seriesPlugin = (name: string, variant?: string) => {
  const seen: string[] = [];
  const plugin = definePlugin({ name, arch: 'x86_64', setup(ctx) { seen.push(ctx.chooseVariant(variant, 'merged')); } });
  return { plugin, seen };
};

/** [release, PROTECT2 answer, memslots, INITIALLY_SET accepted]. */
const PER_RELEASE: readonly (readonly [string, number, number, boolean])[] = [
  ['5.3', 1, 509, false], ['5.4', 1, 509, false], ['5.5', 1, 509, false], ['5.7', 3, 509, true], ['5.13', 3, 32764, true], ['6.18', 3, 32764, true],
];

describe('the release timeline', () => {
  it('lists the releases oldest first, each with its changes', () => {
    expect(KERNEL_RELEASES.map((r) => r.release)).toEqual(PER_RELEASE.map((r) => r[0]));
    for (const r of KERNEL_RELEASES) expect(r.changes.length).toBeGreaterThan(10);
  });

  describe.each(PER_RELEASE)('Linux %s', (release, protect2, memslots, initiallySet) => {
    const hv = createHypervisor({ arch: 'x86_64', kernel: release });

    it(`KVM_CHECK_EXTENSION(MANUAL_DIRTY_LOG_PROTECT2) = ${protect2}, NR_MEMSLOTS = ${memslots}`, () => {
      expect(hv.kernelInfo.release.release).toBe(release);
      expect(hv.checkExtension(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)).toBe(protect2);
      expect(hv.checkExtension(KVM_CAP_NR_MEMSLOTS)).toBe(memslots);
    });

    it(`KVM_ENABLE_CAP(PROTECT2, 3): ${initiallySet ? 'accepted, every page starts dirty' : 'EINVAL (INITIALLY_SET does not exist yet)'}; 1 always; 2 never`, () => {
      const vm = hv.createVm();
      expect(errnoOf(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [2n]))).toBe('EINVAL'); // INITIALLY_SET without ENABLE
      expect(errnoOf(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [3n]))).toBe(initiallySet ? undefined : 'EINVAL');
      if (!initiallySet) expect(errnoOf(() => vm.enableCap(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, [1n]))).toBeUndefined();
      vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0n, memorySize: 8n * 4096n });
      const first = vm.getDirtyLog(0)[0];
      expect(first).toBe(initiallySet ? 0xff : 0); // INITIALLY_SET: all 8 pages dirty from the start
    });
  });

  it('5.4 answers KVM_CAP_MAX_VCPU_ID with KVM_MAX_VCPU_ID (1023), as x86.c does', () => {
    expect(createHypervisor({ arch: 'x86_64', kernel: '5.4' }).checkExtension(KVM_CAP_MAX_VCPU_ID)).toBe(1023);
    expect(createHypervisor({ arch: 'x86_64', kernel: '6.18' }).checkExtension(KVM_CAP_MAX_VCPU_ID)).toBe(4096);
  });

  it('a version maps to the latest release at or before it; older than 5.3 is EINVAL', () => {
    expect(releaseOf(parseKernelVersion('5.6.19')).release).toBe('5.5');
    expect(releaseOf(parseKernelVersion('5.12')).release).toBe('5.7');
    expect(releaseOf(parseKernelVersion('6.1.0-18-amd64')).release).toBe('5.13');
    expect(errnoOf(() => createHypervisor({ arch: 'x86_64', kernel: '4.19' }))).toBe('EINVAL');
    expect(errnoOf(() => createHypervisor({ arch: 'x86_64', kernel: 'five' }))).toBe('EINVAL');
  });

  it('explicit limits take the answers of the release they are named after (a machine\'s 6.18 limits answer PROTECT2 with 3)', () => {
    const six = createHypervisor({ arch: 'x86_64', kernel: { ...KERNEL_RELEASES.at(-1)!.limits, name: '6.18 (6.18.44-fc)', nrVcpus: 64, addressSpaces: 1 } });
    expect(six.checkExtension(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)).toBe(3);
    expect(six.kernelInfo).toMatchObject({ version: null, release: { release: '6.18' } });
    const custom = createHypervisor({ arch: 'x86_64', kernel: { ...KERNEL_RELEASES.at(-1)!.limits, name: 'my board' } });
    expect(custom.checkExtension(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)).toBe(1);
    expect(createHypervisor({ arch: 'x86_64', kernel: { ...KERNEL_RELEASES[0]!.limits, name: '5.6 custom' } }).kernelInfo.release.release).toBe('5.5');
  });

  it('no kernel given: 5.4 limits and answers, plugins keep their own default', () => {
    const p = seriesPlugin('nvmx-cr3');
    const hv = createHypervisor({ arch: 'x86_64', plugins: [p.plugin] });
    expect(hv.kernelInfo.version).toBeNull();
    expect(hv.checkExtension(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)).toBe(1);
    expect(p.seen).toEqual(['merged']);
    expect(hv.variantChoices).toEqual([{ series: 'nvmx-cr3', variant: 'merged', kernelVariant: undefined, explicit: false, mismatch: false }]);
  });
});

describe('variants from the kernel', () => {
  it.each([
    ['5.3', 'pre-fix', 'pre-fix'], ['5.3.16', 'pre-fix', 'merged'], ['5.4', 'merged', 'pre-fix'], ['5.4.2', 'merged', 'pre-fix'],
    ['5.4.3', 'merged', 'merged'], ['5.5-rc1', 'merged', 'merged'], ['6.18', 'merged', 'merged'],
  ])('Linux %s runs kvm-mmu-pml %s and nvmx-cr3 %s', (kernel, pml, cr3) => {
    const a = seriesPlugin('kvm-mmu-pml');
    const b = seriesPlugin('nvmx-cr3');
    createHypervisor({ arch: 'x86_64', kernel, plugins: [a.plugin, b.plugin] });
    expect([a.seen[0], b.seen[0]]).toEqual([pml, cr3]);
  });

  it('backports a vendor kernel carries change the variant', () => {
    const b = seriesPlugin('nvmx-cr3');
    const hv = createHypervisor({ arch: 'x86_64', kernel: '5.4.0-150-generic', backports: ['04f11ef45810'], plugins: [b.plugin] });
    expect(b.seen).toEqual(['merged']);
    expect(hv.kernelInfo.backports).toEqual(['04f11ef45810']);
  });

  it('an explicit variant wins and is reported as a mismatch when the kernel runs another', () => {
    const b = seriesPlugin('nvmx-cr3', 'rfc-muen');
    const hv = createHypervisor({ arch: 'x86_64', kernel: '5.4', plugins: [b.plugin] });
    expect(b.seen).toEqual(['rfc-muen']);
    expect(hv.variantChoices).toEqual([{ series: 'nvmx-cr3', variant: 'rfc-muen', kernelVariant: 'pre-fix', explicit: true, mismatch: true }]);
    const same = createHypervisor({ arch: 'x86_64', kernel: '5.5', plugins: [seriesPlugin('nvmx-cr3', 'merged').plugin] });
    expect(same.variantChoices[0]!.mismatch).toBe(false);
  });

  it('a feature the kernel lacks is KERNEL_LACKS_FEATURE, unless a variant is given to try it', () => {
    const arm = (variant?: string) => definePlugin({ name: 'ptp-kvm-arm64', arch: 'arm64', setup(ctx) { ctx.chooseVariant(variant, 'merged'); } });
    let err: unknown;
    try {
      createHypervisor({ arch: 'arm64', kernel: '5.12', plugins: [arm()] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CompositionError);
    expect((err as CompositionError).code).toBe('KERNEL_LACKS_FEATURE');
    expect((err as Error).message).toMatch(/Linux 5\.12 has no ptp-kvm-arm64 \(added in 5\.13\)/);
    const tried = createHypervisor({ arch: 'arm64', kernel: '5.12', plugins: [arm('merged')] });
    expect(tried.variantChoices[0]).toMatchObject({ variant: 'merged', kernelVariant: undefined, explicit: true, mismatch: false });
    expect(createHypervisor({ arch: 'arm64', kernel: '5.13', plugins: [arm()] }).variantChoices[0]!.variant).toBe('merged');
  });

  it('every modelled fix has a before and an after, and its stable levels are below its mainline', () => {
    for (const c of MODELLED_CHANGES.filter((x) => x.kind === 'fix')) {
      expect(c.before).toBeDefined();
      for (const branch of Object.keys(c.stable)) expect(changeVerdict(c, parseKernelVersion(`${branch}.0`)).status).toBe('vulnerable');
      expect(changeVerdict(c, parseKernelVersion(c.mainline)).status).toBe('not-affected');
    }
  });
});
