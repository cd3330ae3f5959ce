/**
 * A small ScenarioDef for tests: it runs a real (core-only) hypervisor in virtual time — a
 * guest vCPU writes pages and the host harvests the dirty log — so its figures, series and
 * trace come from a running model, and the variant only changes how many pages the "buggy"
 * variant forgets to harvest (a stand-in for a feature package's mechanism).
 */
import { createHypervisor, KVM_MEM_LOG_DIRTY_PAGES, variantCellName, variantCellNames, type ScenarioDef, type ScenarioResult } from '@kvmlab/hypervisor-core';

export const fakeScenario: ScenarioDef = {
  name: 'fake-dirty',
  description: 'test scenario: a guest writes pages, the host harvests the dirty log',
  arches: ['x86_64'],
  variants: ['pre-fix', 'merged'],
  defaultVariant: 'merged',
  package: '@kvmlab/cli-test',
  options: {
    durationS: { type: 'number', default: 2, min: 0.001, max: 60, unit: 's', description: 'virtual time to run' },
    pages: { type: 'number', default: 8, min: 1, max: 64, integer: true, description: 'pages in the slot' },
    verbose: { type: 'boolean', default: false, description: 'add a log to details' },
    pattern: { type: 'enum', default: 'seq', values: ['seq', 'random'], description: 'which page each write hits' },
  },
  run(input): ScenarioResult {
    const hv = createHypervisor({ arch: 'x86_64', seed: input.seed });
    hv.trace.enabled = input.trace === true;
    const vm = hv.createVm();
    const pages = Number(input.options.pages);
    vm.setUserMemoryRegion({ slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0x100000n, memorySize: BigInt(pages * 4096) });
    const vcpu = vm.createVcpu(0);
    const endNs = BigInt(Math.round(Number(input.options.durationS) * 1e9));
    const stepNs = 100_000_000n;
    const x: number[] = [];
    const written: number[] = [];
    const harvested: number[] = [];
    let lost = 0;
    let i = 0;
    for (let t = 0n; t < endNs; t += stepNs) {
      hv.sim.schedule(t, () => {
        const start = hv.sim.now;
        const n = hv.sim.rng.int(1, 3);
        const touched = new Set<number>();
        for (let k = 0; k < n; k++) {
          const p = input.options.pattern === 'seq' ? (i++ % pages) : hv.sim.rng.int(0, pages - 1);
          touched.add(p);
          vcpu.write(0x100000n + BigInt(p * 4096), new Uint8Array([k + 1]));
        }
        hv.trace.slice(vcpu.track, 'guest run', start, 1000n);
        const bits = vm.getDirtyLog(0);
        let got = 0;
        for (const b of bits) for (let v = b; v !== 0; v &= v - 1) got++;
        if (input.variant === 'pre-fix' && got > 1) {
          got -= 1; // stand-in for a mechanism that drops one page per harvest
          lost++;
        }
        hv.trace.counter(vcpu.track, 'dirty pages', hv.sim.now, got);
        x.push(Number(hv.sim.now) / 1e9);
        written.push(touched.size);
        harvested.push(got);
      });
    }
    hv.sim.run();
    input.onProgress?.(1);
    return {
      scenario: 'fake-dirty',
      variant: input.variant,
      arch: input.arch,
      seed: input.seed,
      verdict: lost > 0 ? 'bug-reproduced' : 'ok',
      summary: `${lost} harvest(s) missed a page`,
      headline: { label: 'pages lost', value: lost },
      figures: [
        { label: 'harvests', value: x.length },
        { label: 'pages written', value: written.reduce((a, b) => a + b, 0), unit: 'pages' },
      ],
      series: [
        {
          name: 'dirty',
          title: 'Dirty pages per harvest',
          xLabel: 'virtual time (s)',
          yLabel: 'pages',
          x,
          y: { written, harvested },
          caption: 'Pages the guest wrote and pages the dirty log reported, per harvest.',
          kind: 'line',
        },
      ],
      details: input.options.verbose === true ? { log: ['started', 'done'] } : {},
      ...(input.trace === true ? { trace: hv.trace.events } : {}),
    };
  },
};

/** A scenario whose run throws (a failed run, exit status 1). */
export const brokenScenario: ScenarioDef = {
  name: 'broken',
  description: 'test scenario that throws',
  arches: ['arm64'],
  variants: ['merged'],
  defaultVariant: 'merged',
  package: '@kvmlab/cli-test',
  options: {},
  run() {
    throw new Error('model exploded');
  },
};

/** The two axes of fakeMatrixScenario, named like the real x86 pair so `--kernel` can map them. */
export const FAKE_AXES = { 'kvm-mmu-pml': ['pre-fix', 'merged'], 'nvmx-cr3': ['pre-fix', 'rfc-muen', 'merged'] } as const;

/** Harvests out of which one sees a stale "CR3", per nvmx-cr3 variant (0: none). */
export const STALE_EVERY: Readonly<Record<string, number>> = { 'pre-fix': 2, 'rfc-muen': 5, merged: 0 };

/**
 * A two-axis stand-in for a scenario composing two plugins: axis kvm-mmu-pml is fake-dirty's
 * variant (pre-fix drops pages), axis nvmx-cr3 how many harvests see a stale "CR3". Every cell
 * has different figures, so a test notices when the wrong cell ran. It needs input.variants (the
 * runner must pass them) and refuses a variant name that does not match them.
 */
export const fakeMatrixScenario: ScenarioDef = {
  name: 'fake-matrix',
  description: 'test scenario with two variant axes',
  arches: ['x86_64'],
  variantAxes: FAKE_AXES,
  variants: variantCellNames(FAKE_AXES),
  defaultVariant: 'kvm-mmu-pml=merged,nvmx-cr3=merged',
  matrixFigures: ['stale CR3', 'harvests'],
  package: '@kvmlab/cli-test',
  options: fakeScenario.options,
  run(input): ScenarioResult {
    const v = input.variants;
    if (v === undefined) throw new Error('fake-matrix ran without input.variants');
    if (variantCellName(FAKE_AXES, v) !== input.variant) throw new Error(`variant ${input.variant} does not match variants ${JSON.stringify(v)}`);
    const base = fakeScenario.run({ ...input, variant: v['kvm-mmu-pml']! });
    const harvests = Number(base.figures.find((f) => f.label === 'harvests')!.value);
    const every = STALE_EVERY[v['nvmx-cr3']!]!;
    const stale = every === 0 ? 0 : Math.floor(harvests / every);
    const lost = Number(base.headline.value);
    return {
      ...base,
      scenario: 'fake-matrix',
      variant: input.variant,
      variants: { ...v },
      verdict: lost > 0 || stale > 0 ? 'bug-reproduced' : 'ok',
      summary: `${lost} harvest(s) missed a page; ${stale} saw a stale CR3`,
      figures: [...base.figures, { label: 'stale CR3', value: stale }],
    };
  },
};
