/**
 * Feature-package figures: kvm-mmu-pml (tracked stores vs raw, PML flush, 16 GiB nested
 * migration), the linux-kvm race against /dev/kvm, and how fast scenarios run in virtual time.
 */
import { resolveScenarioOptions, type ScenarioDef } from '@kvmlab/hypervisor-core';
import { benchNestedMigration, benchTasks } from '@kvmlab/kvm-mmu-pml/bench';
import { runDirtyLogBench } from '@kvmlab/linux-kvm/bench';
import { nvmxHltCr3 } from '@kvmlab/nvmx-cr3';
import { ptpSyncScenario } from '@kvmlab/ptp-kvm-arm64';
import { x86PtpSyncScenario } from '@kvmlab/ptp-kvm-x86';
import { nestedMuenMigration } from '@kvmlab/x86-compose';
import { meanMs, type Figure, type Suite } from '../harness.js';
import { pairedRatio, verdictOf } from '../paired.js';
import { repeated, verdictOfRepeated } from '../repeated.js';

/** Issue 23's targets for the tracked stores, as ratios to the raw store (median of pairs). */
const STORE_TARGETS: Readonly<Record<string, number>> = { 'L1 tracked store (PML)': 5, 'L2 tracked store (write-protect fault)': 30 };

/** A tracked store's target and verdict (per-op ratio = pair ratio ÷ ops ratio), or just "noisy" for a store without one. */
function verdictFor(name: string, r: { median: number; min: number; max: number }, opsRatio: number): Pick<Figure, 'target' | 'verdict' | 'met'> {
  const max = STORE_TARGETS[name];
  if (max === undefined) return r.max / r.min > 1.5 ? { verdict: 'noisy' } : {};
  const verdict = verdictOf(r, (x) => x / opsRatio <= max);
  return { target: `≤ ${max}× raw (median of pairs)`, verdict, met: verdict === 'met' };
}

export const pmlSuite: Suite = {
  name: 'kvm-mmu-pml',
  async run() {
    const tasks = benchTasks();
    const raw = tasks.find((t) => t.name === 'raw store')!;
    const out: Figure[] = [];
    for (const t of tasks) {
      if (t === raw) continue;
      if (t.opsPerCall <= 1) {
        const ms = await meanMs(t.name, t.fn, t.beforeEach ? { beforeEach: t.beforeEach } : {});
        out.push({ suite: 'kvm-mmu-pml', id: t.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase(), description: t.description, value: ms * 1000, unit: 'µs per flush' });
        continue;
      }
      // Interleaved with the raw store it is compared with (paired.ts): per-op times, the median ratio and its spread.
      const r = await pairedRatio(t.name, raw.fn, t.fn, { ...(raw.beforeEach ? { beforeEachA: raw.beforeEach } : {}), ...(t.beforeEach ? { beforeEachB: t.beforeEach } : {}) });
      const perOp = (ms: number, ops: number): number => (ms * 1e6) / ops;
      out.push({
        suite: 'kvm-mmu-pml',
        id: t.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase(),
        description: t.description,
        value: 1e9 / perOp(r.bMs, t.opsPerCall),
        unit: 'stores/s',
        baseline: { description: 'raw 8-byte Uint8Array.set', value: 1e9 / perOp(r.aMs, raw.opsPerCall), unit: 'stores/s' },
        ratio: (r.ratio.median * raw.opsPerCall) / t.opsPerCall,
        spread: { min: (r.ratio.min * raw.opsPerCall) / t.opsPerCall, max: (r.ratio.max * raw.opsPerCall) / t.opsPerCall, reps: r.reps },
        ...verdictFor(t.name, r.ratio, t.opsPerCall / raw.opsPerCall),
      });
    }
    const mig = benchNestedMigration(16, 'merged');
    out.push({
      suite: 'kvm-mmu-pml',
      id: 'nested-migration-16g',
      description: `nested-migration of a 16 GiB L1 (merged): ${mig.rounds} rounds, ${mig.pagesLost} pages lost`,
      value: mig.wallMs / 1000,
      unit: 's wall',
      target: '< 5 s',
      met: mig.wallMs < 5000,
    });
    return out;
  },
};

export const linuxKvmSuite: Suite = {
  name: 'linux-kvm',
  async run() {
    const r = runDirtyLogBench({ iterations: 11 });
    return r.rows.map((row): Figure => ({
      suite: 'linux-kvm',
      id: `race-${row.work}`,
      description: `${row.title} — model vs the running kernel${r.kernelSkipped ? ` (kernel skipped: ${r.kernelSkipped})` : ''}`,
      value: row.modelMs,
      unit: 'ms',
      ...(row.kernelMs !== null ? { baseline: { description: `kernel ${r.uname ?? ''}`.trim(), value: row.kernelMs, unit: 'ms' }, ratio: row.ratio ?? undefined } : {}),
      ...(row.maxRatio !== null ? { target: row.maxRatio === 1 ? 'faster than the kernel' : `≤ ${row.maxRatio}× kernel` } : {}),
      ...(row.met !== null ? { met: row.met } : {}),
    }));
  },
};

/**
 * Wall time of a scenario run (repeated `reps` times: median, min–max, verdict against the
 * target). A repeated figure first runs once untimed, as matrixFigure does: the first run in a
 * process pays the JIT (x86 ptp-sync: ~0.4 s against ~0.15 s warm), so with it among the
 * repetitions max/min was always past the noise bound and the verdict "noisy" on any machine.
 * That cold run's time is quoted in the description.
 */
function scenarioFigure(def: ScenarioDef, arch: 'arm64' | 'x86_64', options: Record<string, number>, label: string, target?: { s: number; text: string }, reps = 1): Figure {
  const opts = resolveScenarioOptions(def, options);
  const walls: number[] = [];
  let r: ReturnType<ScenarioDef['run']> | undefined;
  let coldS: number | undefined;
  if (reps > 1) {
    const a = performance.now();
    def.run({ variant: def.defaultVariant, arch, seed: 1, options: opts });
    coldS = (performance.now() - a) / 1000;
  }
  for (let i = 0; i < reps; i++) {
    const a = performance.now();
    r = def.run({ variant: def.defaultVariant, arch, seed: 1, options: opts });
    walls.push((performance.now() - a) / 1000);
  }
  const rep = repeated(walls);
  const verdict = target !== undefined && reps > 1 ? verdictOfRepeated(rep, (s) => s <= target.s) : undefined;
  return {
    suite: 'scenarios',
    id: `${def.name}-${arch}-${label}`,
    description: `${def.name} (${arch}, ${label}${reps > 1 ? `, ${reps} runs after a warm-up run of ${coldS!.toFixed(3)} s` : ''}): ${r!.headline.label} = ${r!.headline.value}${r!.headline.unit ?? ''}`,
    value: rep.median,
    unit: 's wall',
    ...(reps > 1 ? { spread: { min: rep.min, max: rep.max, reps } } : {}),
    ...(target ? { target: target.text, met: verdict !== undefined ? verdict === 'met' : rep.median < target.s } : {}),
    ...(verdict !== undefined ? { verdict } : {}),
  };
}

/**
 * The whole kvm-mmu-pml × nvmx-cr3 matrix of nested-muen-migration at its default size (2 × 3
 * cells, each a source run, a pre-copy, a restore and a destination run), against one cell.
 */
function matrixFigure(): Figure {
  const def = nestedMuenMigration;
  const options = resolveScenarioOptions(def, {});
  const runCell = (variant: string) => def.run({ variant, arch: 'x86_64', seed: 1, options });
  runCell(def.defaultVariant); // warm the JIT once, as the CLI's second cell would be
  const c = performance.now();
  runCell(def.defaultVariant);
  const oneMs = performance.now() - c;
  const a = performance.now();
  const verdicts = def.variants.map((v) => runCell(v).verdict);
  const s = (performance.now() - a) / 1000;
  return {
    suite: 'scenarios',
    id: 'nested-muen-migration-matrix',
    description: `nested-muen-migration, all ${verdicts.length} cells (${verdicts.filter((v) => v === 'ok').length} ok)`,
    value: s,
    unit: 's wall',
    baseline: { description: 'one cell (all merged)', value: oneMs / 1000, unit: 's wall' },
    ratio: (s * 1000) / oneMs,
    target: '≤ 3 s',
    met: s <= 3,
  };
}

export const scenarioSuite: Suite = {
  name: 'scenarios',
  async run() {
    return [
      matrixFigure(),
      // issue 23: one hour of ptp-sync in ≤ 0.5 s on both arches (the ptp engineer's paths; measured here)
      scenarioFigure(ptpSyncScenario, 'arm64', { durationS: 3600 }, '1 h virtual', { s: 0.5, text: '≤ 0.5 s (median)' }, 3),
      scenarioFigure(x86PtpSyncScenario(), 'x86_64', { durationS: 3600 }, '1 h virtual', { s: 0.5, text: '≤ 0.5 s (median)' }, 3),
      scenarioFigure(nvmxHltCr3, 'x86_64', {}, 'default'),
    ];
  },
};
